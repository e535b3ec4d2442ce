//! The figures, computed from facts (sans-IO), and the drill-down filter with the same rules.

use std::collections::{BTreeMap, HashMap, HashSet};

use gridwork_schema::territory::{DISTRICT_CODE, Territory, Unit, UnitLevel};
use gridwork_schema::{
    CaseStatus, Category, Channel, Label, Level, MediationOutcome, PatrolKind, PersonsBand,
    PetitionChannel, ReceptionLevel, RecordKind, StepMethod, TerritoryPath,
};

use super::ReportParams;
use super::facts::{
    CaseFacts, CaseStep, Detail, Facts, MediationFacts, PatrolFacts, PetitionFacts, ReceptionFacts,
    day_end_ms, day_start_ms, days_between, local_date_ms,
};
use gridwork_schema::report::*;

/// What a case's facts say about one window.
#[derive(Debug, Clone, Copy)]
struct CaseEval<'a> {
    /// Found in the period.
    found: bool,
    /// State at the end of the period (`None`: found after it).
    end: Option<&'a CaseStep>,
    /// Resolved in the period and still resolved at its end.
    resolved: bool,
    /// Handed off in the period and still handed off at its end.
    handed_off: bool,
    /// Open or in mediation at the end.
    open: bool,
    /// Went from closed to open in the period.
    reopened: bool,
    /// Age band at the as-of date, if open.
    age: Option<AgeBand>,
    /// Whistle case active in the period.
    whistle: bool,
}

fn eval_case<'a>(c: &'a CaseFacts, w: &Window) -> CaseEval<'a> {
    let start = day_start_ms(w.from);
    let end_ms = day_end_ms(w.to);
    let found = (w.from..=w.to).contains(&c.found_on);
    let upto = &c.timeline[..c.timeline.partition_point(|s| s.ms < end_ms)];
    let Some(last) = upto.last() else {
        return CaseEval {
            found,
            end: None,
            resolved: false,
            handed_off: false,
            open: false,
            reopened: false,
            age: None,
            whistle: false,
        };
    };
    // Start of the final run of steps with the end status: when the case became so.
    let since = upto
        .iter()
        .rposition(|s| s.status != last.status)
        .map_or(upto[0].ms, |i| upto[i + 1].ms);
    let resolved = last.status == CaseStatus::Resolved && since >= start;
    let handed_off = last.status == CaseStatus::HandedOff && since >= start;
    let open = !last.status.is_closed();
    let reopened = upto
        .windows(2)
        .any(|p| p[0].status.is_closed() && !p[1].status.is_closed() && p[1].ms >= start);
    let whistle = c
        .whistle_ms
        .is_some_and(|ms| ms < end_ms && (ms >= start || open || resolved || handed_off));
    CaseEval {
        found,
        end: Some(last),
        resolved,
        handed_off,
        open,
        reopened,
        age: open.then(|| AgeBand::of(days_between(c.found_on, w.as_of))),
        whistle,
    }
}

fn held(r: &ReceptionFacts, w: &Window) -> bool {
    r.on >= w.from && r.on <= w.as_of
}

fn in_period(day: chrono::NaiveDate, w: &Window) -> bool {
    day >= w.from && day <= w.to
}

/// Steps of a first petition overdue at the as-of date (empty unless it was received by then).
fn overdue_steps<'a>(
    p: &'a PetitionFacts,
    w: &Window,
) -> impl Iterator<Item = &'a super::facts::StepFacts> + use<'a> {
    let as_of = w.as_of;
    let counts = p.first && p.on <= as_of;
    p.steps
        .iter()
        .filter(move |s| counts && s.is_overdue(as_of))
}

/// Whether a record at `path` lies in the scope `scope` (district, street, community, grid
/// code or zone code).
pub(crate) fn in_scope(path: &TerritoryPath, scope: &str, territory: &Territory) -> bool {
    if scope == DISTRICT_CODE {
        return true;
    }
    if scope.starts_with('Z') {
        let zone_of = |code: &str| territory.get(code).and_then(|u| u.zone.as_deref());
        return zone_of(&path.community) == Some(scope) || zone_of(&path.grid) == Some(scope);
    }
    path.is_within(scope)
}

fn unit_in_scope(unit: &Unit, scope: &str) -> bool {
    if scope.starts_with('Z') {
        unit.zone.as_deref() == Some(scope)
    } else {
        unit.code.starts_with(scope)
    }
}

/// Whether `facts` is one of the records behind `query`, with exactly the rules the figures
/// are computed by.
pub fn matches(query: &RecordQuery, facts: &Facts, territory: &Territory) -> bool {
    let q = query;
    if facts.kind() != q.kind || !in_scope(&facts.territory, &q.within, territory) {
        return false;
    }
    if q.id.as_ref().is_some_and(|id| *id != facts.id) {
        return false;
    }
    let w = Window {
        from: q.from,
        to: q.to,
        as_of: q.as_of,
    };
    match &facts.detail {
        Detail::Case(c) => {
            let e = eval_case(c, &w);
            let by_level = |l: Option<Level>| q.level.is_none() || q.level == l;
            let base = q.category.is_none_or(|k| k == c.category)
                && q.persons.is_none_or(|b| b == PersonsBand::of(c.persons));
            base && match q.measure {
                Measure::Found => e.found,
                Measure::Resolved => {
                    let at = e.end.and_then(|s| s.resolved_at);
                    e.resolved
                        && by_level(at)
                        && (!q.grassroots || matches!(at, Some(Level::Community | Level::Street)))
                }
                Measure::HandedOff => e.handed_off,
                Measure::Open => {
                    e.open
                        && by_level(e.end.map(|s| s.level))
                        && (q.age.is_none() || q.age == e.age)
                }
                Measure::Reopened => e.reopened,
                Measure::Whistle => e.whistle,
                _ => false,
            }
        }
        Detail::Mediation(m) => {
            q.measure == Measure::Mediated
                && in_period(m.on, &w)
                && q.outcome.is_none_or(|o| o == MediationState::of(m.outcome))
                && q.handoff.is_none_or(|h| Some(h) == m.handoff)
                && q.body_level.is_none_or(|l| l == m.body_level)
                && (!q.backlog || m.backlog)
        }
        Detail::Reception(r) => {
            q.measure == Measure::Held
                && held(r, &w)
                && q.reception_level.is_none_or(|l| l == r.level)
                && q.leader.as_ref().is_none_or(|l| *l == r.leader_id)
                && q.month.as_ref().is_none_or(|m| *m == month_of(r.on))
                && q.district_centre
                    .is_none_or(|d| d == facts.territory.street.is_empty())
        }
        Detail::Petition(p) => match q.measure {
            Measure::Received => {
                in_period(p.on, &w)
                    && q.channel.is_none_or(|c| c == p.channel)
                    && (!q.first || p.first)
            }
            Measure::Overdue => {
                overdue_steps(p, &w).any(|s| q.method.is_none_or(|m| m == s.method))
            }
            _ => false,
        },
        Detail::Patrol(p) => {
            q.measure == Measure::Patrolled
                && in_period(p.on, &w)
                && q.patrol_kind.is_none_or(|k| k == p.kind)
        }
    }
}

fn month_of(day: chrono::NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

#[derive(Debug, Default, Clone, Copy)]
struct CaseCounts {
    found: u64,
    resolved: u64,
    grassroots: u64,
    open: u64,
    petitions: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct ReceptionAcc {
    sessions: u64,
    cases: u64,
    person_visits: u64,
}

impl ReceptionAcc {
    fn add(&mut self, r: &ReceptionFacts) {
        self.sessions += 1;
        self.cases += r.cases;
        self.person_visits += r.person_visits;
    }
}

#[derive(Debug, Default)]
struct Acc<'t> {
    found: u64,
    resolved: u64,
    handed_off: u64,
    open: u64,
    in_mediation: u64,
    reopened: u64,
    by_level: [u64; 3],
    areas: HashMap<String, CaseCounts>,
    categories: HashMap<Category, [u64; 3]>,
    persons: HashMap<PersonsBand, [u64; 3]>,
    open_by_age: HashMap<AgeBand, [u64; 3]>,
    whistle: Vec<WhistleRow>,
    mediations: Vec<MediationFacts>,
    reception: ReceptionAcc,
    named_by_public: u64,
    rec_level: BTreeMap<ReceptionLevel, ReceptionAcc>,
    rec_leader: BTreeMap<String, (String, ReceptionAcc)>,
    rec_street: BTreeMap<String, ReceptionAcc>,
    rec_month: BTreeMap<String, ReceptionAcc>,
    petitions: HashMap<PetitionChannel, [u64; 3]>,
    first_received: u64,
    first_in_progress: u64,
    overdue_by_method: HashMap<StepMethod, (u64, u64)>,
    overdue: Vec<OverdueRow>,
    patrols: HashMap<String, [u64; 3]>,
    patrols_by_kind: HashMap<PatrolKind, u64>,
    patrols_total: u64,
    petition_communities: HashSet<String>,
    /// Names for the rows (set by [`compute`]).
    names: Option<&'t Territory>,
}

fn level_index(l: Level) -> usize {
    match l {
        Level::Community => 0,
        Level::Street => 1,
        Level::District => 2,
    }
}

fn name_of(territory: &Territory, code: &str) -> String {
    territory
        .get(code)
        .map(|u| u.name.clone())
        .unwrap_or_default()
}

impl<'t> Acc<'t> {
    fn area(&mut self, code: &str) -> Option<&mut CaseCounts> {
        (!code.is_empty()).then(|| self.areas.entry(code.to_owned()).or_default())
    }

    fn case(&mut self, f: &Facts, c: &CaseFacts, w: &Window, q: &dyn Fn(Measure) -> RecordQuery) {
        let e = eval_case(c, w);
        let Some(end) = e.end else { return };
        let grassroots = matches!(end.resolved_at, Some(Level::Community | Level::Street));
        let cols = [e.found, e.resolved, e.open].map(u64::from);
        for code in [&f.territory.street, &f.territory.community] {
            if let Some(a) = self.area(code) {
                a.found += cols[0];
                a.resolved += cols[1];
                a.open += cols[2];
                a.grassroots += u64::from(e.resolved && grassroots);
            }
        }
        let add = |t: &mut [u64; 3]| {
            for (x, y) in t.iter_mut().zip(cols) {
                *x += y;
            }
        };
        add(self.categories.entry(c.category).or_default());
        add(self.persons.entry(PersonsBand::of(c.persons)).or_default());
        self.found += cols[0];
        self.reopened += u64::from(e.reopened);
        if e.resolved {
            self.resolved += 1;
            if let Some(l) = end.resolved_at {
                self.by_level[level_index(l)] += 1;
            }
        }
        self.handed_off += u64::from(e.handed_off);
        if e.open {
            self.open += 1;
            self.in_mediation += u64::from(end.status == CaseStatus::InMediation);
            if let Some(age) = e.age {
                self.open_by_age.entry(age).or_default()[level_index(end.level)] += 1;
            }
        }
        if e.whistle {
            self.whistle_row(f, c, end, w, q);
        }
    }

    fn whistle_row(
        &mut self,
        f: &Facts,
        c: &CaseFacts,
        end: &CaseStep,
        w: &Window,
        q: &dyn Fn(Measure) -> RecordQuery,
    ) {
        let name = |code: &str| self.names.map(|t| name_of(t, code)).unwrap_or_default();
        let end_ms = day_end_ms(w.to);
        let departments = c
            .departments
            .iter()
            .filter_map(|d| {
                let parts = d.reports.iter().filter(|&&ms| ms < end_ms).count() as u64;
                let first = d.reports.iter().copied().min()?;
                (parts > 0).then(|| DepartmentRow {
                    department: d.name.clone(),
                    reported_on: local_date_ms(first),
                    parts,
                })
            })
            .collect();
        let leader = c
            .leaders
            .iter()
            .rev()
            .find(|(ms, _)| *ms < end_ms)
            .map(|(_, n)| n.clone());
        let mut query = q(Measure::Whistle);
        query.id = Some(f.id.clone());
        self.whistle.push(WhistleRow {
            case_id: f.id.clone(),
            street_name: name(&f.territory.street),
            community_name: name(&f.territory.community),
            category: c.category,
            whistle_on: local_date_ms(c.whistle_ms.unwrap_or_default()),
            status: end.status,
            level: end.level,
            leader,
            departments,
            query,
        });
    }

    fn petition(
        &mut self,
        f: &Facts,
        p: &PetitionFacts,
        w: &Window,
        q: &dyn Fn(Measure) -> RecordQuery,
    ) {
        if in_period(p.on, w) {
            let row = self.petitions.entry(p.channel).or_default();
            row[0] += 1;
            row[1] += u64::from(p.persons);
            row[2] += u64::from(p.first);
            self.first_received += u64::from(p.first);
            if let Some(a) = self.area(&f.territory.street) {
                a.petitions += 1;
            }
            if !f.territory.community.is_empty() {
                if let Some(a) = self.area(&f.territory.community) {
                    a.petitions += 1;
                }
                self.petition_communities
                    .insert(f.territory.community.clone());
            }
        }
        if p.first
            && p.on <= w.as_of
            && p.steps
                .iter()
                .any(|s| s.done_on.is_none_or(|d| d > w.as_of))
        {
            self.first_in_progress += 1;
        }
        let mut overdue: Vec<_> = overdue_steps(p, w)
            .map(|s| OverdueStep {
                method: s.method,
                seq: s.seq,
                due: s.due,
            })
            .collect();
        if overdue.is_empty() {
            return;
        }
        overdue.sort_by_key(|s| (s.method, s.seq));
        let mut methods = HashSet::new();
        for s in &overdue {
            let e = self.overdue_by_method.entry(s.method).or_default();
            e.0 += 1;
            if methods.insert(s.method) {
                e.1 += 1;
            }
        }
        let name = |code: &str| self.names.map(|t| name_of(t, code)).unwrap_or_default();
        let earliest = overdue.iter().map(|s| s.due).min().unwrap_or(w.as_of);
        let mut query = q(Measure::Overdue);
        query.id = Some(f.id.clone());
        self.overdue.push(OverdueRow {
            petition_id: f.id.clone(),
            street_name: name(&f.territory.street),
            community_name: name(&f.territory.community),
            channel: p.channel,
            received_on: p.on,
            overdue,
            days_overdue: days_between(earliest, w.as_of),
            query,
        });
    }

    fn reception(&mut self, f: &Facts, r: &ReceptionFacts, w: &Window) {
        if !held(r, w) {
            return;
        }
        self.reception.add(r);
        self.named_by_public += u64::from(r.named_by_public);
        self.rec_level.entry(r.level).or_default().add(r);
        self.rec_leader
            .entry(r.leader_id.clone())
            .or_insert_with(|| (r.leader_name.clone(), ReceptionAcc::default()))
            .1
            .add(r);
        self.rec_street
            .entry(f.territory.street.clone())
            .or_default()
            .add(r);
        self.rec_month.entry(month_of(r.on)).or_default().add(r);
    }

    fn patrol(&mut self, f: &Facts, p: &PatrolFacts, w: &Window) {
        if !in_period(p.on, w) {
            return;
        }
        self.patrols_total += 1;
        *self.patrols_by_kind.entry(p.kind).or_default() += 1;
        let i = match p.kind {
            PatrolKind::Routine => 0,
            PatrolKind::Key => 1,
            PatrolKind::Special => 2,
        };
        if !f.territory.grid.is_empty() {
            self.patrols.entry(f.territory.grid.clone()).or_default()[i] += 1;
        }
    }
}

/// Computes the report from the facts of (at least) every record that can count in it.
///
/// Facts outside the scope or with no bearing on the window are skipped, so passing every
/// record's facts gives the same report as passing the store's pre-filtered ones.
///
/// Definitions (days are China Standard Time; "the end" is the end of the period's last day):
/// - a case is *found* on the day of its first event (HLC), or its creation day if it has
///   none; *found in the period* if that day lies in the period;
/// - its state at any moment is [`gridwork_schema::CaseState::derive`] over the events
///   stamped before it;
/// - *resolved in the period*: resolved at the end, and the resolution (the latest change
///   into "resolved") happened in the period; its level is the resolution level then. A case
///   resolved and then reopened is not resolved; one re-resolved after reopening counts at
///   its latest resolution;
/// - *handed off in the period*: likewise for hand-off;
/// - *open*: found by the end and open or in mediation at the end; its age is the days from
///   the found day to the as-of date, its level the level handling it at the end;
/// - *reopened in the period*: went from closed to open in the period (counted once);
/// - *grassroots share*: resolved in the period at community or street level / all resolved
///   in the period, against [`GRASSROOTS_TARGET`];
/// - *whistle case*: whistle blown by the end, and blown in the period or open at the end or
///   closed in the period; departments and their parts as reported by the end;
/// - a *mediation* counts in the period of its first session (creation day if none); its
///   outcome and hand-off are the current ones;
/// - a *reception session* is held if its day lies between the period's start and the as-of
///   date; cases 起 are its visits, person-visits 人次 the persons summed over them;
/// - a *petition* is received in the period if `received_on` is; a first petition's step is
///   *overdue* at the as-of date if due before it and not done by it (first petitions
///   received by the as-of date, whatever the period they came in);
/// - a *patrol* counts on its start day, for its grid; a grid is *covered* with one or more;
/// - a *zero-petition community* is a community in scope with no petition received in the
///   period at its path (its own or one of its grids).
pub fn compute(
    facts: impl IntoIterator<Item = Facts>,
    params: &ReportParams,
    territory: &Territory,
) -> Report {
    let w = params.window();
    let scope = params.scope.as_str();
    let mut acc = Acc {
        names: Some(territory),
        ..Acc::default()
    };
    for f in facts {
        if !in_scope(&f.territory, scope, territory)
            || f.day() > w.to
            || f.until().is_some_and(|u| u < w.from)
        {
            continue;
        }
        let q = |kind: RecordKind| move |m: Measure| RecordQuery::new(kind, scope, m, &w);
        match &f.detail {
            Detail::Case(c) => acc.case(&f, c, &w, &q(RecordKind::Case)),
            Detail::Petition(p) => acc.petition(&f, p, &w, &q(RecordKind::Petition)),
            Detail::Reception(r) => acc.reception(&f, r, &w),
            Detail::Patrol(p) => acc.patrol(&f, p, &w),
            Detail::Mediation(m) => {
                if in_period(m.on, &w) {
                    acc.mediations.push(m.clone());
                }
            }
        }
    }
    assemble(acc, params, &w, territory)
}

fn assemble(mut acc: Acc<'_>, params: &ReportParams, w: &Window, t: &Territory) -> Report {
    let scope = params.scope.as_str();
    let q = |kind: RecordKind, m: Measure| RecordQuery::new(kind, scope, m, w);
    let count = |n: u64, kind: RecordKind, m: Measure| Count {
        n,
        query: q(kind, m),
    };
    let case_q = |m: Measure| q(RecordKind::Case, m);

    let grassroots = acc.by_level[0] + acc.by_level[1];
    let grassroots_share = share(grassroots, acc.resolved);
    let overview = Overview {
        found: count(acc.found, RecordKind::Case, Measure::Found),
        resolved: count(acc.resolved, RecordKind::Case, Measure::Resolved),
        handed_off: count(acc.handed_off, RecordKind::Case, Measure::HandedOff),
        open: count(acc.open, RecordKind::Case, Measure::Open),
        in_mediation: acc.in_mediation,
        reopened: count(acc.reopened, RecordKind::Case, Measure::Reopened),
        grassroots_share,
        target: GRASSROOTS_TARGET,
        meets_target: (acc.resolved > 0)
            .then(|| grassroots * 100 >= GRASSROOTS_TARGET_PERCENT * acc.resolved),
    };

    let levels = LevelBucket::ALL
        .iter()
        .map(|&bucket| {
            let mut query = case_q(Measure::Resolved);
            let n = match bucket {
                LevelBucket::Community | LevelBucket::Street | LevelBucket::District => {
                    let l = match bucket {
                        LevelBucket::Community => Level::Community,
                        LevelBucket::Street => Level::Street,
                        _ => Level::District,
                    };
                    query.level = Some(l);
                    acc.by_level[level_index(l)]
                }
                LevelBucket::Grassroots => {
                    query.grassroots = true;
                    grassroots
                }
                LevelBucket::Total => acc.resolved,
            };
            LevelRow {
                bucket,
                resolved: n,
                share: share(n, acc.resolved),
                query,
            }
        })
        .collect();

    let mut areas = Vec::new();
    for street in t.streets().filter(|u| unit_in_scope(u, scope)) {
        areas.push(area_row(&acc, street, "", w));
    }
    for street in t.streets() {
        for c in t
            .communities_of(&street.code)
            .filter(|u| unit_in_scope(u, scope))
        {
            areas.push(area_row(&acc, c, &street.name, w));
        }
    }

    let breakdown = |k: [u64; 3]| (k[0], k[1], k[2]);
    let categories = Category::ALL
        .iter()
        .map(|&key| {
            let (found, resolved, open) =
                breakdown(acc.categories.get(&key).copied().unwrap_or_default());
            let mut query = case_q(Measure::Found);
            query.category = Some(key);
            BreakdownRow {
                key,
                found,
                resolved,
                open,
                query,
            }
        })
        .collect();
    let persons = PersonsBand::ALL
        .iter()
        .map(|&key| {
            let (found, resolved, open) =
                breakdown(acc.persons.get(&key).copied().unwrap_or_default());
            let mut query = case_q(Measure::Found);
            query.persons = Some(key);
            BreakdownRow {
                key,
                found,
                resolved,
                open,
                query,
            }
        })
        .collect();
    let open_cases = AgeBand::ALL
        .iter()
        .map(|&age| {
            let [community, street, district] =
                acc.open_by_age.get(&age).copied().unwrap_or_default();
            let mut query = case_q(Measure::Open);
            query.age = Some(age);
            OpenRow {
                age,
                community,
                street,
                district,
                total: community + street + district,
                query,
            }
        })
        .collect();

    acc.whistle
        .sort_by(|a, b| (a.whistle_on, &a.case_id).cmp(&(b.whistle_on, &b.case_id)));
    let whistle = WhistleFigures {
        cases: count(acc.whistle.len() as u64, RecordKind::Case, Measure::Whistle),
        resolved: acc
            .whistle
            .iter()
            .filter(|r| r.status == CaseStatus::Resolved)
            .count() as u64,
        open: acc.whistle.iter().filter(|r| !r.status.is_closed()).count() as u64,
        departments_reported: acc.whistle.iter().map(|r| r.departments.len() as u64).sum(),
        rows: std::mem::take(&mut acc.whistle),
    };

    let mediation = mediation_figures(&acc.mediations, &|m| q(RecordKind::Mediation, m));
    let reception = reception_figures(&acc, t, &|m| q(RecordKind::Reception, m));

    let mut petitions: Vec<ChannelRow> = PetitionChannel::ALL
        .iter()
        .map(|&c| {
            let [n, persons, first] = acc.petitions.get(&c).copied().unwrap_or_default();
            let mut query = q(RecordKind::Petition, Measure::Received);
            query.channel = Some(c);
            ChannelRow {
                channel: Some(c),
                petitions: n,
                persons,
                first,
                query,
            }
        })
        .collect();
    let total = ChannelRow {
        channel: None,
        petitions: petitions.iter().map(|r| r.petitions).sum(),
        persons: petitions.iter().map(|r| r.persons).sum(),
        first: petitions.iter().map(|r| r.first).sum(),
        query: q(RecordKind::Petition, Measure::Received),
    };
    petitions.push(total);

    acc.overdue.sort_by(|a, b| {
        (b.days_overdue, a.received_on, &a.petition_id).cmp(&(
            a.days_overdue,
            b.received_on,
            &b.petition_id,
        ))
    });
    let mut received_q = q(RecordKind::Petition, Measure::Received);
    received_q.first = true;
    let first_petitions = FirstPetitionFigures {
        received: Count {
            n: acc.first_received,
            query: received_q,
        },
        in_progress: acc.first_in_progress,
        overdue: count(
            acc.overdue.len() as u64,
            RecordKind::Petition,
            Measure::Overdue,
        ),
        by_method: StepMethod::ALL
            .iter()
            .map(|&method| {
                let (steps, petitions) = acc
                    .overdue_by_method
                    .get(&method)
                    .copied()
                    .unwrap_or_default();
                let mut query = q(RecordKind::Petition, Measure::Overdue);
                query.method = Some(method);
                MethodRow {
                    method,
                    steps,
                    petitions,
                    query,
                }
            })
            .collect(),
        rows: std::mem::take(&mut acc.overdue),
    };

    let patrols = patrol_figures(&acc, t, scope, &|m| q(RecordKind::Patrol, m));

    let communities: Vec<&Unit> = t
        .communities()
        .filter(|u| unit_in_scope(u, scope))
        .collect();
    let rows: Vec<UnitRow> = communities
        .iter()
        .filter(|u| !acc.petition_communities.contains(&u.code))
        .map(|u| unit_row(t, u))
        .collect();
    let zero_petition = ZeroPetitionFigures {
        communities: communities.len() as u64,
        zero: rows.len() as u64,
        share: share(rows.len() as u64, communities.len() as u64),
        rows,
    };

    Report {
        meta: ReportMeta {
            scope: scope.to_owned(),
            scope_name: name_of(t, scope),
            period: params.period.label.clone(),
            window: *w,
        },
        overview,
        levels,
        areas,
        categories,
        persons,
        open_cases,
        whistle,
        mediation,
        reception,
        petitions,
        first_petitions,
        patrols,
        zero_petition,
    }
}

fn area_row(acc: &Acc<'_>, unit: &Unit, street_name: &str, w: &Window) -> AreaRow {
    let c = acc.areas.get(&unit.code).copied().unwrap_or_default();
    AreaRow {
        unit_level: unit.level,
        code: unit.code.clone(),
        name: unit.name.clone(),
        street_name: street_name.to_owned(),
        found: c.found,
        resolved: c.resolved,
        grassroots: c.grassroots,
        grassroots_share: share(c.grassroots, c.resolved),
        open: c.open,
        petitions: c.petitions,
        query: RecordQuery::new(RecordKind::Case, &unit.code, Measure::Found, w),
    }
}

fn unit_row(t: &Territory, u: &Unit) -> UnitRow {
    let parent = |u: &Unit| u.parent.as_deref().and_then(|p| t.get(p));
    let (community, street) = match u.level {
        UnitLevel::Grid => {
            let c = parent(u);
            (c, c.and_then(parent))
        }
        UnitLevel::Community => (None, parent(u)),
        _ => (None, None),
    };
    UnitRow {
        code: u.code.clone(),
        name: u.name.clone(),
        community_name: community.map(|c| c.name.clone()).unwrap_or_default(),
        street_name: street.map(|s| s.name.clone()).unwrap_or_default(),
    }
}

fn mediation_figures(
    ms: &[MediationFacts],
    q: &dyn Fn(Measure) -> RecordQuery,
) -> MediationFigures {
    let total = ms.len() as u64;
    let concluded = ms.iter().filter(|m| m.outcome.is_some()).count() as u64;
    let agreed = ms
        .iter()
        .filter(|m| m.outcome == Some(MediationOutcome::Agreed))
        .count() as u64;
    let handoffs = ms.iter().filter(|m| m.handoff.is_some()).count() as u64;
    let mut rows = Vec::new();
    let mut row = |group: Group, zh: &str, en: &str, count: u64, base: u64, query: RecordQuery| {
        rows.push(MediationRow {
            group,
            item: zh.to_owned(),
            item_en: en.to_owned(),
            count,
            share: share(count, base),
            query,
        });
    };
    for &o in MediationState::ALL {
        let n = ms
            .iter()
            .filter(|m| MediationState::of(m.outcome) == o)
            .count() as u64;
        let mut query = q(Measure::Mediated);
        query.outcome = Some(o);
        row(Group::Outcome, o.zh(), o.en(), n, total, query);
    }
    for &c in Channel::ALL {
        let n = ms.iter().filter(|m| m.handoff == Some(c)).count() as u64;
        let mut query = q(Measure::Mediated);
        query.handoff = Some(c);
        row(Group::Handoff, c.zh(), c.en(), n, handoffs, query);
    }
    for &l in Level::ALL {
        let n = ms.iter().filter(|m| m.body_level == l).count() as u64;
        let mut query = q(Measure::Mediated);
        query.body_level = Some(l);
        row(Group::BodyLevel, l.zh(), l.en(), n, total, query);
    }
    let backlog = ms.iter().filter(|m| m.backlog).count() as u64;
    let mut query = q(Measure::Mediated);
    query.backlog = true;
    row(
        Group::Backlog,
        "信访积案",
        "backlog petition cases",
        backlog,
        total,
        query,
    );
    row(
        Group::Total,
        "合计",
        "total",
        total,
        total,
        q(Measure::Mediated),
    );
    MediationFigures {
        total: Count {
            n: total,
            query: q(Measure::Mediated),
        },
        concluded,
        success_rate: share(agreed, concluded),
        handoffs,
        rows,
    }
}

fn reception_figures(
    acc: &Acc<'_>,
    t: &Territory,
    q: &dyn Fn(Measure) -> RecordQuery,
) -> ReceptionFigures {
    let mut rows = Vec::new();
    let mut push =
        |group: Group, key: String, name: String, a: ReceptionAcc, query: RecordQuery| {
            rows.push(ReceptionRow {
                group,
                key,
                name,
                sessions: a.sessions,
                cases: a.cases,
                person_visits: a.person_visits,
                query,
            });
        };
    for &l in ReceptionLevel::ALL {
        let mut query = q(Measure::Held);
        query.reception_level = Some(l);
        let key = match l {
            ReceptionLevel::District => "district",
            ReceptionLevel::Street => "street",
        };
        push(
            Group::Level,
            key.into(),
            l.zh().into(),
            acc.rec_level.get(&l).copied().unwrap_or_default(),
            query,
        );
    }
    let mut leaders: Vec<_> = acc.rec_leader.iter().collect();
    leaders.sort_by(|a, b| b.1.1.sessions.cmp(&a.1.1.sessions).then(a.0.cmp(b.0)));
    for (id, (name, a)) in leaders {
        let mut query = q(Measure::Held);
        query.leader = Some(id.clone());
        push(Group::Leader, id.clone(), name.clone(), *a, query);
    }
    for (street, a) in &acc.rec_street {
        let mut query = q(Measure::Held);
        let name = if street.is_empty() {
            query.district_centre = Some(true);
            "区级（集中接访）".to_owned()
        } else {
            query.within = street.clone();
            name_of(t, street)
        };
        push(Group::Street, street.clone(), name, *a, query);
    }
    for (month, a) in &acc.rec_month {
        let mut query = q(Measure::Held);
        query.month = Some(month.clone());
        push(Group::Month, month.clone(), month.clone(), *a, query);
    }
    push(
        Group::Total,
        String::new(),
        "合计".into(),
        acc.reception,
        q(Measure::Held),
    );
    ReceptionFigures {
        sessions: Count {
            n: acc.reception.sessions,
            query: q(Measure::Held),
        },
        cases: acc.reception.cases,
        person_visits: acc.reception.person_visits,
        named_by_public: acc.named_by_public,
        rows,
    }
}

fn patrol_figures(
    acc: &Acc<'_>,
    t: &Territory,
    scope: &str,
    q: &dyn Fn(Measure) -> RecordQuery,
) -> PatrolFigures {
    let mut per_grid = Vec::new();
    let mut uncovered = Vec::new();
    let mut grids = 0;
    let mut kind_grids = [0u64; 3];
    for g in t.grids().filter(|u| unit_in_scope(u, scope)) {
        grids += 1;
        match acc.patrols.get(&g.code) {
            Some(&[routine, key, special]) => {
                for (n, k) in [routine, key, special].iter().zip(kind_grids.iter_mut()) {
                    *k += u64::from(*n > 0);
                }
                let mut query = q(Measure::Patrolled);
                query.within = g.code.clone();
                per_grid.push(GridRow {
                    unit: unit_row(t, g),
                    routine,
                    key,
                    special,
                    total: routine + key + special,
                    query,
                });
            }
            None => uncovered.push(unit_row(t, g)),
        }
    }
    let covered = per_grid.len() as u64;
    PatrolFigures {
        total: Count {
            n: acc.patrols_total,
            query: q(Measure::Patrolled),
        },
        by_kind: PatrolKind::ALL
            .iter()
            .zip(kind_grids)
            .map(|(&kind, grids)| {
                let mut query = q(Measure::Patrolled);
                query.patrol_kind = Some(kind);
                PatrolKindRow {
                    kind,
                    count: acc.patrols_by_kind.get(&kind).copied().unwrap_or_default(),
                    grids,
                    query,
                }
            })
            .collect(),
        grids,
        covered,
        coverage: share(covered, grids),
        per_grid,
        uncovered,
    }
}
