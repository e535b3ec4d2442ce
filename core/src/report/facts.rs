//! The compact per-record facts a report is computed from, derived by a pure function.
//!
//! Facts hold no personal data: no party or petitioner names, phones, ID numbers, addresses,
//! titles or narrative text. Staff names that the figures group by (reception leaders, case
//! leaders) and department names are kept.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use gridwork_schema::{
    Case, CaseEvent, CaseEventKind, CaseState, CaseStatus, Category, Channel, Level, Mediation,
    MediationOutcome, Patrol, PatrolKind, Petition, PetitionChannel, ReceptionLevel,
    ReceptionSession, Record, RecordKind, StepMethod, TerritoryPath,
};
use serde::{Deserialize, Serialize};

/// Offset of China Standard Time from UTC, in seconds (no daylight saving).
pub const CST_OFFSET_SECS: i64 = 8 * 3600;

/// The calendar day (China Standard Time) of a Unix millisecond stamp.
pub fn local_date_ms(ms: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(ms.saturating_add(CST_OFFSET_SECS * 1000))
        .map_or(NaiveDate::MIN, |t| t.date_naive())
}

/// The calendar day (China Standard Time) of an instant.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    local_date_ms(t.timestamp_millis())
}

/// Unix milliseconds of midnight (China Standard Time) starting `day`.
pub fn day_start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(i64::MIN, |t| t.and_utc().timestamp_millis())
        - CST_OFFSET_SECS * 1000
}

/// The facts of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Record id.
    pub id: String,
    /// Where the record hangs.
    pub territory: TerritoryPath,
    /// Kind-specific facts.
    pub detail: Detail,
}

/// Kind-specific facts (serialized compactly, tagged by `k`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Detail {
    /// A case.
    Case(CaseFacts),
    /// A patrol.
    Patrol(PatrolFacts),
    /// A mediation.
    Mediation(MediationFacts),
    /// A reception session.
    Reception(ReceptionFacts),
    /// A petition.
    Petition(PetitionFacts),
}

/// The state of a case after a change of status, level, resolution level or channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStep {
    /// HLC milliseconds of the event that made the change.
    pub ms: i64,
    /// Status after it.
    pub status: CaseStatus,
    /// Level handling the case after it.
    pub level: Level,
    /// Resolution level, while resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Level>,
    /// Channel, while handed off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_off: Option<Channel>,
}

/// A department that reported in on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentFacts {
    /// Department name.
    pub name: String,
    /// HLC milliseconds of each report, in log order (one per part taken on).
    pub reports: Vec<i64>,
}

/// Facts of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// Day found: the first event's HLC day, or the creation day if there are no events.
    pub found_on: NaiveDate,
    /// Subject category.
    pub category: Category,
    /// People involved.
    pub persons: u32,
    /// Every change of state, oldest first; the first entry is the state after the first
    /// event (or the initial state at creation).
    pub timeline: Vec<CaseStep>,
    /// HLC milliseconds of the first whistle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whistle_ms: Option<i64>,
    /// Departments that reported in, in order of first report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<DepartmentFacts>,
    /// Leader assignments (HLC milliseconds, leader name), in log order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaders: Vec<(i64, String)>,
    /// HLC milliseconds of the last event.
    pub last_ms: i64,
}

/// Facts of a patrol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolFacts {
    /// Day it started.
    pub on: NaiveDate,
    /// Routine, key or special.
    pub kind: PatrolKind,
}

/// Facts of a mediation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediationFacts {
    /// Day of the first session, or the creation day if none is recorded.
    pub on: NaiveDate,
    /// Level of the mediation body.
    pub body_level: Level,
    /// How it ended, if it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<MediationOutcome>,
    /// Where the rest was handed on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Channel>,
    /// Whether it works on a backlog petition case.
    #[serde(default)]
    pub backlog: bool,
}

/// Facts of a reception session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceptionFacts {
    /// The day.
    pub on: NaiveDate,
    /// District or street leaders.
    pub level: ReceptionLevel,
    /// Leader account id.
    pub leader_id: String,
    /// Leader display name (staff).
    pub leader_name: String,
    /// Whether the public picked the leader by name plate.
    #[serde(default)]
    pub named_by_public: bool,
    /// Cases received (起).
    pub cases: u64,
    /// Person-visits (人次).
    pub person_visits: u64,
}

/// One 1-2-3-4 step of a first petition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFacts {
    /// Which method.
    pub method: StepMethod,
    /// Which step of it.
    pub seq: u8,
    /// Due date.
    pub due: NaiveDate,
    /// Day done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_on: Option<NaiveDate>,
}

impl StepFacts {
    /// Overdue as of the end of `as_of`: due before it and not done by then.
    pub fn is_overdue(&self, as_of: NaiveDate) -> bool {
        self.due < as_of && self.done_on.is_none_or(|d| d > as_of)
    }
}

/// Facts of a petition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PetitionFacts {
    /// Day received.
    pub on: NaiveDate,
    /// How it came in.
    pub channel: PetitionChannel,
    /// A first petition (初信初访).
    #[serde(default)]
    pub first: bool,
    /// How many people petitioned.
    pub persons: u32,
    /// The 1-2-3-4 steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepFacts>,
}

impl Facts {
    /// The facts of a record; `None` for drafts.
    pub fn from_record(record: &Record) -> Option<Self> {
        let detail = match record {
            Record::Case(c) => Detail::Case(case_facts(c)),
            Record::Patrol(p) => Detail::Patrol(patrol_facts(p)),
            Record::Mediation(m) => Detail::Mediation(mediation_facts(m)),
            Record::Reception(r) => Detail::Reception(reception_facts(r)),
            Record::Petition(p) => Detail::Petition(petition_facts(p)),
            Record::Draft(_) => return None,
        };
        Some(Self {
            id: record.id().to_string(),
            territory: record.territory().clone(),
            detail,
        })
    }

    /// The record kind.
    pub fn kind(&self) -> RecordKind {
        match self.detail {
            Detail::Case(_) => RecordKind::Case,
            Detail::Patrol(_) => RecordKind::Patrol,
            Detail::Mediation(_) => RecordKind::Mediation,
            Detail::Reception(_) => RecordKind::Reception,
            Detail::Petition(_) => RecordKind::Petition,
        }
    }

    /// The first day the record counts in any figure (found, started, held, received).
    pub fn day(&self) -> NaiveDate {
        match &self.detail {
            Detail::Case(c) => c.found_on,
            Detail::Patrol(p) => p.on,
            Detail::Mediation(m) => m.on,
            Detail::Reception(r) => r.on,
            Detail::Petition(p) => p.on,
        }
    }

    /// The last day anything about the record happens, or `None` while it is still open (an
    /// open case, a first petition with steps not done). A record whose `until` is before a
    /// period's start cannot change any figure of that period.
    pub fn until(&self) -> Option<NaiveDate> {
        match &self.detail {
            Detail::Case(c) => {
                let closed = c.timeline.last().is_some_and(|s| s.status.is_closed());
                closed.then(|| local_date_ms(c.last_ms).max(c.found_on))
            }
            Detail::Petition(p) => {
                if p.steps.iter().any(|s| s.done_on.is_none()) {
                    return None;
                }
                let last_done = p.steps.iter().filter_map(|s| s.done_on).max();
                Some(last_done.map_or(p.on, |d| d.max(p.on)))
            }
            _ => Some(self.day()),
        }
    }
}

fn case_facts(c: &Case) -> CaseFacts {
    let mut sorted: Vec<&CaseEvent> = c.events.iter().collect();
    sorted.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)).then_with(|| a.cmp(b)));
    sorted.dedup();
    let sorted: Vec<CaseEvent> = sorted.into_iter().cloned().collect();

    let created_ms = c.created_at.timestamp_millis();
    let mut timeline = Vec::<CaseStep>::new();
    // Derive over each prefix of the ordered log: the same fold `CaseState::derive` makes,
    // observed after every event.
    for i in 0..sorted.len() {
        let s = CaseState::derive(&sorted[..=i]);
        let step = CaseStep {
            ms: sorted[i].at.millis,
            status: s.status,
            level: s.level,
            resolved_at: s.resolved_at,
            handed_off: s.handed_off,
        };
        let changed = timeline.last().is_none_or(|p| {
            (p.status, p.level, p.resolved_at, p.handed_off)
                != (step.status, step.level, step.resolved_at, step.handed_off)
        });
        if changed {
            timeline.push(step);
        }
    }
    if timeline.is_empty() {
        let s = CaseState::default();
        timeline.push(CaseStep {
            ms: created_ms,
            status: s.status,
            level: s.level,
            resolved_at: None,
            handed_off: None,
        });
    }

    let mut whistle_ms = None;
    let mut departments = Vec::<DepartmentFacts>::new();
    let mut leaders = Vec::new();
    for e in &sorted {
        match &e.kind {
            CaseEventKind::WhistleBlown => {
                whistle_ms.get_or_insert(e.at.millis);
            }
            CaseEventKind::DepartmentReported { department, .. } => {
                match departments.iter_mut().find(|d| &d.name == department) {
                    Some(d) => d.reports.push(e.at.millis),
                    None => departments.push(DepartmentFacts {
                        name: department.clone(),
                        reports: vec![e.at.millis],
                    }),
                }
            }
            CaseEventKind::LeaderAssigned { leader } => leaders.push((e.at.millis, leader.clone())),
            _ => {}
        }
    }
    let first_ms = sorted.first().map_or(created_ms, |e| e.at.millis);
    CaseFacts {
        found_on: local_date_ms(first_ms),
        category: c.category,
        persons: c.persons_involved,
        timeline,
        whistle_ms,
        departments,
        leaders,
        last_ms: sorted.last().map_or(created_ms, |e| e.at.millis),
    }
}

fn patrol_facts(p: &Patrol) -> PatrolFacts {
    PatrolFacts {
        on: local_date(p.started_at),
        kind: p.kind,
    }
}

fn mediation_facts(m: &Mediation) -> MediationFacts {
    MediationFacts {
        on: m
            .sessions
            .iter()
            .map(|s| s.date)
            .min()
            .unwrap_or_else(|| local_date(m.created_at)),
        body_level: m.body_level,
        outcome: m.outcome,
        handoff: m.handoff,
        backlog: m.backlog_petition,
    }
}

fn reception_facts(r: &ReceptionSession) -> ReceptionFacts {
    ReceptionFacts {
        on: r.date,
        level: r.level,
        leader_id: r.leader.id.clone(),
        leader_name: r.leader.name.clone(),
        named_by_public: r.named_by_public,
        cases: r.cases() as u64,
        person_visits: r.person_visits(),
    }
}

fn petition_facts(p: &Petition) -> PetitionFacts {
    PetitionFacts {
        on: p.received_on,
        channel: p.channel,
        first: p.first,
        persons: p.persons,
        steps: p
            .steps
            .iter()
            .map(|s| StepFacts {
                method: s.method,
                seq: s.seq,
                due: s.due,
                done_on: s.done_on,
            })
            .collect(),
    }
}

/// Days from `from` to `to` (0 if `to` is earlier).
pub(crate) fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days().max(0)).unwrap_or(u32::MAX)
}

/// The first millisecond after the day `day` (CST).
pub(crate) fn day_end_ms(day: NaiveDate) -> i64 {
    day_start_ms(day) + Duration::days(1).num_milliseconds()
}
