//! Supervisors' figures: a known data set built through the store, every figure checked.

use chrono::{NaiveDate, TimeZone, Utc};
use gridwork_core::doc::Author;
use gridwork_core::report::facts::{day_start_ms, local_date_ms};
use gridwork_core::report::{
    self, AgeBand, Facts, LevelBucket, Period, RecordQuery, Report, ReportError, ReportExport,
    ReportParams,
};
use gridwork_core::store::{DB_FILE, Store, StoreError};
use gridwork_schema::territory::Territory;
use gridwork_schema::*;

fn t() -> &'static Territory {
    Territory::chengyang()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 10:00 China Standard Time on `d`, as HLC milliseconds.
fn ms(d: &str) -> i64 {
    day_start_ms(day(d)) + 10 * 3600 * 1000
}

fn utc(d: &str) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms(d)).unwrap()
}

/// The places of the data set: two streets, three communities, three grids.
struct Places {
    a: String,
    b: String,
    a1: TerritoryPath,
    a1g2: TerritoryPath,
    a2: TerritoryPath,
    b1: TerritoryPath,
}

fn places() -> Places {
    let streets: Vec<_> = t().streets().collect();
    let (a, b) = (&streets[0].code, &streets[1].code);
    let comms_a: Vec<_> = t().communities_of(a).collect();
    let comm_b = t().communities_of(b).next().unwrap();
    let grid = |c: &str, n: usize| {
        let g = t().grids_of(c).nth(n).unwrap();
        t().path_of(&g.code).unwrap()
    };
    Places {
        a: a.clone(),
        b: b.clone(),
        a1: grid(&comms_a[0].code, 0),
        a1g2: grid(&comms_a[0].code, 1),
        a2: grid(&comms_a[1].code, 0),
        b1: grid(&comm_b.code, 0),
    }
}

fn author() -> Author {
    Author {
        user: "sup".into(),
        name: "督导".into(),
        device: "dev".into(),
    }
}

fn party() -> Party {
    Party {
        name: "王秀英".into(),
        phone: "13812345678".into(),
        ..Party::default()
    }
}

fn ev(d: &str, role: Role, kind: CaseEventKind) -> CaseEvent {
    CaseEvent {
        id: uuid::Uuid::now_v7().to_string(),
        at: Hlc::new(ms(d), 0, "dev1"),
        by: UserRef::new("u1", "刘网格"),
        role,
        kind,
        note: String::new(),
    }
}

fn raised(d: &str) -> CaseEvent {
    ev(d, Role::GridWorker, CaseEventKind::Raised)
}

fn resolved(d: &str, at: Level) -> CaseEvent {
    let role = match at {
        Level::Community => Role::GridWorker,
        Level::Street => Role::StreetOfficer,
        Level::District => Role::Leader,
    };
    ev(d, role, CaseEventKind::Resolved { at })
}

fn case(path: &TerritoryPath, category: Category, persons: u32, events: Vec<CaseEvent>) -> Record {
    let created = events.first().map_or(0, |e| e.at.millis);
    Record::Case(Case {
        id: RecordId::new_v7(),
        territory: path.clone(),
        created_by: UserRef::new("u1", "刘网格"),
        created_at: Utc.timestamp_millis_opt(created).unwrap(),
        kind: CaseKind::Dispute,
        category,
        title: "纠纷".into(),
        parties: vec![party()],
        persons_involved: persons,
        events,
        ..Case::default()
    })
}

fn patrol(path: &TerritoryPath, kind: PatrolKind, d: &str) -> Record {
    Record::Patrol(Patrol {
        id: RecordId::new_v7(),
        territory: path.clone(),
        created_by: UserRef::new("u1", "刘网格"),
        created_at: utc(d),
        kind,
        theme: (kind == PatrolKind::Special).then(|| "安全生产".into()),
        worker: UserRef::new("u1", "刘网格"),
        started_at: utc(d),
        ..Patrol::default()
    })
}

fn mediation(
    path: &TerritoryPath,
    body: Level,
    outcome: Option<MediationOutcome>,
    handoff: Option<Channel>,
    d: &str,
    backlog: bool,
) -> Record {
    let territory = match body {
        Level::Street => TerritoryPath {
            street: path.street.clone(),
            ..TerritoryPath::default()
        },
        _ => path.clone(),
    };
    Record::Mediation(Mediation {
        id: RecordId::new_v7(),
        territory,
        created_by: UserRef::new("m1", "陈调解"),
        created_at: utc(d),
        body_level: body,
        mediator: UserRef::new("m1", "陈调解"),
        parties: vec![party()],
        sessions: vec![MediationSession {
            id: "s1".into(),
            date: day(d),
            ..MediationSession::default()
        }],
        outcome,
        agreement: if outcome == Some(MediationOutcome::Agreed) {
            "双方和解。".into()
        } else {
            String::new()
        },
        handoff,
        backlog_petition: backlog,
        ..Mediation::default()
    })
}

fn reception(street: &str, leader: (&str, &str), d: &str, persons: &[u32]) -> Record {
    let level = if street.is_empty() {
        ReceptionLevel::District
    } else {
        ReceptionLevel::Street
    };
    Record::Reception(ReceptionSession {
        id: RecordId::new_v7(),
        territory: TerritoryPath {
            street: street.into(),
            ..TerritoryPath::default()
        },
        created_by: UserRef::new("u9", "办公室"),
        created_at: utc(d),
        leader: UserRef::new(leader.0, leader.1),
        level,
        site: "接访大厅".into(),
        date: day(d),
        named_by_public: street.is_empty(),
        visits: persons
            .iter()
            .enumerate()
            .map(|(i, &p)| Visit {
                id: format!("v{i}"),
                persons: p,
                ..Visit::default()
            })
            .collect(),
    })
}

fn petition(
    path: &TerritoryPath,
    channel: PetitionChannel,
    d: &str,
    first: bool,
    persons: u32,
    done: &[(StepMethod, u8, &str)],
) -> Record {
    let mut steps = if first {
        Petition::standard_steps(day(d))
    } else {
        Vec::new()
    };
    for (m, seq, on) in done {
        let s = steps
            .iter_mut()
            .find(|s| s.method == *m && s.seq == *seq)
            .unwrap();
        s.done_on = Some(day(on));
    }
    Record::Petition(Petition {
        id: RecordId::new_v7(),
        territory: path.clone(),
        created_by: UserRef::new("u9", "办公室"),
        created_at: utc(d),
        channel,
        received_on: day(d),
        first,
        petitioners: vec![party()],
        persons,
        subject: "工资".into(),
        steps,
        ..Petition::default()
    })
}

/// The data set; the comments give each record's part in the November 2026 figures.
struct Data {
    p: Places,
    records: Vec<Record>,
    c4: String,
    c9: String,
    p1: String,
    p3: String,
    p4: String,
}

fn data() -> Data {
    use CaseEventKind as K;
    use Category as C;
    let p = places();
    let mut r = Vec::new();
    // C1: found 11-02, resolved at community 11-04.
    r.push(case(
        &p.a1,
        C::Neighbourhood,
        2,
        vec![
            raised("2026-11-02"),
            resolved("2026-11-04", Level::Community),
        ],
    ));
    // C2: escalated to street, sent back, resolved at community.
    r.push(case(
        &p.a1g2,
        C::LabourWages,
        60,
        vec![
            raised("2026-11-03"),
            ev(
                "2026-11-05",
                Role::StreetOfficer,
                K::Escalated { to: Level::Street },
            ),
            ev(
                "2026-11-08",
                Role::StreetOfficer,
                K::SentBack {
                    to: Level::Community,
                },
            ),
            resolved("2026-11-10", Level::Community),
        ],
    ));
    // C3: resolved at community, then reopened: open at the end, community level, 24 days.
    r.push(case(
        &p.a2,
        C::PropertyManagement,
        120,
        vec![
            raised("2026-11-06"),
            resolved("2026-11-07", Level::Community),
            ev("2026-11-12", Role::GridWorker, K::Reopened),
        ],
    ));
    // C4: whistle, two departments (one twice), a leader; resolved at street.
    let c4 = case(
        &p.b1,
        C::DemolitionRelocation,
        600,
        vec![
            raised("2026-11-01"),
            ev("2026-11-01", Role::GridWorker, K::Alerted),
            ev("2026-11-02", Role::StreetOfficer, K::WhistleBlown),
            ev(
                "2026-11-03",
                Role::Department,
                K::DepartmentReported {
                    department: "城管局".into(),
                    took_on: "拆除".into(),
                },
            ),
            ev(
                "2026-11-04",
                Role::Department,
                K::DepartmentReported {
                    department: "住建局".into(),
                    took_on: "安置".into(),
                },
            ),
            ev(
                "2026-11-04",
                Role::Leader,
                K::LeaderAssigned {
                    leader: "李书记".into(),
                },
            ),
            ev(
                "2026-11-05",
                Role::Department,
                K::DepartmentReported {
                    department: "城管局".into(),
                    took_on: "复查".into(),
                },
            ),
            resolved("2026-11-15", Level::Street),
        ],
    );
    let c4_id = c4.id().to_string();
    r.push(c4);
    // C5: found in July, escalated to district, still open: >90 days.
    r.push(case(
        &p.b1,
        C::LandHousing,
        10,
        vec![
            raised("2026-07-01"),
            ev(
                "2026-07-10",
                Role::StreetOfficer,
                K::Escalated {
                    to: Level::District,
                },
            ),
        ],
    ));
    // C6: found in October, resolved at district in November.
    r.push(case(
        &p.a1,
        C::Environment,
        30,
        vec![
            raised("2026-10-20"),
            ev(
                "2026-10-25",
                Role::StreetOfficer,
                K::Escalated {
                    to: Level::District,
                },
            ),
            resolved("2026-11-18", Level::District),
        ],
    ));
    // C7: found and resolved in September: in no November figure.
    r.push(case(
        &p.a1,
        C::Traffic,
        2,
        vec![
            raised("2026-09-01"),
            resolved("2026-09-05", Level::Community),
        ],
    ));
    // C8: found in December: in no November figure.
    r.push(case(&p.a1, C::Traffic, 2, vec![raised("2026-12-02")]));
    // C9: whistle, then mediation: open (in mediation) at street level, 10 days.
    let c9 = case(
        &p.a2,
        C::ConsumerContract,
        5,
        vec![
            raised("2026-11-20"),
            ev("2026-11-21", Role::StreetOfficer, K::WhistleBlown),
            ev(
                "2026-11-22",
                Role::GridWorker,
                K::ReferredToMediation { mediation: None },
            ),
        ],
    );
    let c9_id = c9.id().to_string();
    r.push(c9);
    // C10: handed off to litigation.
    r.push(case(
        &p.b1,
        C::FamilyMarriage,
        2,
        vec![
            raised("2026-11-09"),
            ev(
                "2026-11-11",
                Role::LegalWorker,
                K::HandedOff {
                    channel: Channel::Litigation,
                },
            ),
        ],
    ));
    // C11: resolved in October, reopened and resolved at street in November.
    r.push(case(
        &p.a1,
        C::Other,
        3,
        vec![
            raised("2026-10-01"),
            resolved("2026-10-05", Level::Community),
            ev("2026-11-03", Role::GridWorker, K::Reopened),
            resolved("2026-11-06", Level::Street),
        ],
    ));

    // Mediations.
    use MediationOutcome as O;
    r.push(mediation(
        &p.a1,
        Level::Community,
        Some(O::Agreed),
        None,
        "2026-11-05",
        false,
    ));
    r.push(mediation(
        &p.a2,
        Level::Street,
        Some(O::Failed),
        Some(Channel::Litigation),
        "2026-11-10",
        false,
    ));
    r.push(mediation(
        &p.b1,
        Level::Community,
        Some(O::Partial),
        Some(Channel::Arbitration),
        "2026-11-12",
        true,
    ));
    r.push(mediation(
        &p.a1,
        Level::Community,
        None,
        None,
        "2026-11-25",
        false,
    ));
    r.push(mediation(
        &p.a1,
        Level::Community,
        Some(O::Agreed),
        None,
        "2026-10-15",
        false,
    ));

    // Reception sessions.
    r.push(reception("", ("l1", "王区长"), "2026-11-05", &[1, 3]));
    r.push(reception(&p.a, ("l2", "赵书记"), "2026-11-12", &[1, 1, 2]));
    r.push(reception(&p.a, ("l2", "赵书记"), "2026-11-19", &[5]));
    r.push(reception(&p.b, ("l3", "孙主任"), "2026-11-26", &[]));
    r.push(reception(&p.b, ("l3", "孙主任"), "2026-10-30", &[2]));

    // Petitions.
    use PetitionChannel as P;
    use StepMethod as M;
    let p1 = petition(
        &p.a1,
        P::Online,
        "2026-11-03",
        true,
        1,
        &[
            (M::SpeedUp, 1, "2026-11-04"),
            (M::Interview, 1, "2026-11-09"),
        ],
    );
    let p3 = petition(&p.b1, P::Visit, "2026-11-20", true, 1, &[]);
    let p4 = petition(&p.b1, P::App, "2026-10-01", true, 1, &[]);
    let (p1_id, p3_id, p4_id) = (
        p1.id().to_string(),
        p3.id().to_string(),
        p4.id().to_string(),
    );
    r.push(p1);
    r.push(petition(&p.a2, P::Letter, "2026-11-15", false, 3, &[]));
    r.push(p3);
    r.push(p4);
    r.push(petition(&p.a1, P::Online, "2026-11-25", false, 2, &[]));
    let all_done: Vec<_> = Petition::standard_steps(day("2026-09-01"))
        .iter()
        .map(|s| (s.method, s.seq, "2026-10-31"))
        .collect();
    r.push(petition(&p.a1, P::Visit, "2026-09-01", true, 1, &all_done));

    // Patrols.
    use PatrolKind as T;
    r.push(patrol(&p.a1, T::Routine, "2026-11-02"));
    r.push(patrol(&p.a1, T::Key, "2026-11-03"));
    r.push(patrol(&p.a1, T::Routine, "2026-11-20"));
    r.push(patrol(&p.a1g2, T::Special, "2026-11-05"));
    r.push(patrol(&p.b1, T::Routine, "2026-10-28"));
    r.push(patrol(&p.b1, T::Routine, "2026-12-01"));

    // A draft has no facts.
    r.push(Record::Draft(Draft {
        id: RecordId::new_v7(),
        territory: p.a1.clone(),
        created_by: UserRef::new("u1", "刘网格"),
        created_at: utc("2026-11-10"),
        form: "case".into(),
        data: serde_json::json!({"title": "半截"}),
    }));
    Data {
        p,
        records: r,
        c4: c4_id,
        c9: c9_id,
        p1: p1_id,
        p3: p3_id,
        p4: p4_id,
    }
}

fn store_with(data: &Data) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::init(dir.path()).unwrap();
    store.set_clock(|| Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).unwrap());
    for r in &data.records {
        store
            .create(r, &author())
            .unwrap_or_else(|e| panic!("{:?}: {e}", r.kind()));
    }
    (dir, store)
}

fn november() -> ReportParams {
    ReportParams::new("2026-11".parse().unwrap())
}

/// Every query behind a figure lists exactly as many records as the figure counts.
fn check_drill_down(store: &Store, report: &Report) {
    let mut checks: Vec<(u64, &RecordQuery)> = vec![
        (report.overview.found.n, &report.overview.found.query),
        (report.overview.resolved.n, &report.overview.resolved.query),
        (
            report.overview.handed_off.n,
            &report.overview.handed_off.query,
        ),
        (report.overview.open.n, &report.overview.open.query),
        (report.overview.reopened.n, &report.overview.reopened.query),
        (report.whistle.cases.n, &report.whistle.cases.query),
        (report.mediation.total.n, &report.mediation.total.query),
        (
            report.reception.sessions.n,
            &report.reception.sessions.query,
        ),
        (
            report.first_petitions.received.n,
            &report.first_petitions.received.query,
        ),
        (
            report.first_petitions.overdue.n,
            &report.first_petitions.overdue.query,
        ),
        (report.patrols.total.n, &report.patrols.total.query),
    ];
    checks.extend(report.levels.iter().map(|r| (r.resolved, &r.query)));
    checks.extend(report.areas.iter().map(|r| (r.found, &r.query)));
    checks.extend(report.categories.iter().map(|r| (r.found, &r.query)));
    checks.extend(report.persons.iter().map(|r| (r.found, &r.query)));
    checks.extend(report.open_cases.iter().map(|r| (r.total, &r.query)));
    checks.extend(report.whistle.rows.iter().map(|r| (1, &r.query)));
    checks.extend(report.mediation.rows.iter().map(|r| (r.count, &r.query)));
    checks.extend(report.reception.rows.iter().map(|r| (r.sessions, &r.query)));
    checks.extend(report.petitions.iter().map(|r| (r.petitions, &r.query)));
    checks.extend(
        report
            .first_petitions
            .by_method
            .iter()
            .map(|r| (r.petitions, &r.query)),
    );
    checks.extend(report.first_petitions.rows.iter().map(|r| (1, &r.query)));
    checks.extend(report.patrols.by_kind.iter().map(|r| (r.count, &r.query)));
    checks.extend(report.patrols.per_grid.iter().map(|r| (r.total, &r.query)));
    for (n, q) in checks {
        let ids = store.report_records(q).unwrap();
        assert_eq!(ids.len() as u64, n, "records behind {q:?}");
    }
}

#[test]
fn every_figure_of_a_known_data_set() {
    let data = data();
    let (_dir, store) = store_with(&data);
    let p = &data.p;
    let r = store.report(&november()).unwrap();

    let w = r.meta.window;
    assert_eq!(
        (w.from, w.to, w.as_of),
        (day("2026-11-01"), day("2026-11-30"), day("2026-11-30"))
    );
    assert_eq!(r.meta.scope_name, "城阳区");

    // Overview.
    let o = &r.overview;
    assert_eq!(
        (
            o.found.n,
            o.resolved.n,
            o.handed_off.n,
            o.open.n,
            o.in_mediation,
            o.reopened.n
        ),
        (6, 5, 1, 3, 1, 2)
    );
    assert_eq!(o.grassroots_share, Some(0.8));
    assert_eq!(o.meets_target, Some(false));

    // Levels: C1, C2 community; C4, C11 street; C6 district.
    let levels: Vec<_> = r
        .levels
        .iter()
        .map(|l| (l.bucket, l.resolved, l.share))
        .collect();
    assert_eq!(
        levels,
        [
            (LevelBucket::Community, 2, Some(0.4)),
            (LevelBucket::Street, 2, Some(0.4)),
            (LevelBucket::District, 1, Some(0.2)),
            (LevelBucket::Grassroots, 4, Some(0.8)),
            (LevelBucket::Total, 5, Some(1.0)),
        ]
    );

    // Streets and communities.
    let area = |code: &str| {
        let a = r.areas.iter().find(|a| a.code == code).unwrap();
        (
            a.found,
            a.resolved,
            a.grassroots,
            a.grassroots_share,
            a.open,
            a.petitions,
        )
    };
    assert_eq!(area(&p.a), (4, 4, 3, Some(0.75), 2, 3));
    assert_eq!(area(&p.b), (2, 1, 1, Some(1.0), 1, 1));
    assert_eq!(area(&p.a1.community), (2, 4, 3, Some(0.75), 0, 2));
    assert_eq!(area(&p.a2.community), (2, 0, 0, None, 2, 1));
    assert_eq!(area(&p.b1.community), (2, 1, 1, Some(1.0), 1, 1));
    assert_eq!(
        r.areas.len(),
        t().streets().count() + t().communities().count()
    );

    // Categories and persons bands.
    let cat = |c: Category| {
        let x = r.categories.iter().find(|x| x.key == c).unwrap();
        (x.found, x.resolved, x.open)
    };
    assert_eq!(cat(Category::Neighbourhood), (1, 1, 0));
    assert_eq!(cat(Category::LabourWages), (1, 1, 0));
    assert_eq!(cat(Category::PropertyManagement), (1, 0, 1));
    assert_eq!(cat(Category::DemolitionRelocation), (1, 1, 0));
    assert_eq!(cat(Category::LandHousing), (0, 0, 1));
    assert_eq!(cat(Category::Environment), (0, 1, 0));
    assert_eq!(cat(Category::ConsumerContract), (1, 0, 1));
    assert_eq!(cat(Category::FamilyMarriage), (1, 0, 0));
    assert_eq!(cat(Category::Other), (0, 1, 0));
    assert_eq!(cat(Category::Traffic), (0, 0, 0));
    let band: Vec<_> = r
        .persons
        .iter()
        .map(|x| (x.key, x.found, x.resolved, x.open))
        .collect();
    assert_eq!(
        band,
        [
            (PersonsBand::Under50, 3, 3, 2),
            (PersonsBand::From50To100, 1, 1, 0),
            (PersonsBand::From100To500, 1, 0, 1),
            (PersonsBand::Over500, 1, 1, 0),
        ]
    );

    // Open cases by age and level: C3 (24 days, community), C9 (10 days, street), C5 (152
    // days, district).
    let open: Vec<_> = r
        .open_cases
        .iter()
        .map(|x| (x.age, x.community, x.street, x.district, x.total))
        .collect();
    assert_eq!(
        open,
        [
            (AgeBand::UpTo7, 0, 0, 0, 0),
            (AgeBand::UpTo30, 1, 1, 0, 2),
            (AgeBand::UpTo90, 0, 0, 0, 0),
            (AgeBand::Over90, 0, 0, 1, 1),
        ]
    );

    // Whistle cases.
    let wh = &r.whistle;
    assert_eq!(
        (wh.cases.n, wh.resolved, wh.open, wh.departments_reported),
        (2, 1, 1, 2)
    );
    let c4 = &wh.rows[0];
    assert_eq!(c4.case_id, data.c4);
    assert_eq!(c4.whistle_on, day("2026-11-02"));
    assert_eq!((c4.status, c4.level), (CaseStatus::Resolved, Level::Street));
    assert_eq!(c4.leader.as_deref(), Some("李书记"));
    let depts: Vec<_> = c4
        .departments
        .iter()
        .map(|d| (d.department.as_str(), d.reported_on, d.parts))
        .collect();
    assert_eq!(
        depts,
        [
            ("城管局", day("2026-11-03"), 2),
            ("住建局", day("2026-11-04"), 1)
        ]
    );
    let c9 = &wh.rows[1];
    assert_eq!(c9.case_id, data.c9);
    assert_eq!(
        (c9.status, c9.level),
        (CaseStatus::InMediation, Level::Street)
    );
    assert!(c9.departments.is_empty() && c9.leader.is_none());

    // Mediations: M1–M4 in November.
    let m = &r.mediation;
    assert_eq!((m.total.n, m.concluded, m.handoffs), (4, 3, 2));
    assert_eq!(m.success_rate, Some(0.3333));
    let rows: Vec<_> = m
        .rows
        .iter()
        .map(|x| (x.item.as_str(), x.count, x.share))
        .collect();
    assert_eq!(
        rows,
        [
            ("调解成功", 1, Some(0.25)),
            ("部分达成", 1, Some(0.25)),
            ("调解不成", 1, Some(0.25)),
            ("进行中", 1, Some(0.25)),
            ("信访", 0, Some(0.0)),
            ("行政裁决", 0, Some(0.0)),
            ("仲裁", 1, Some(0.5)),
            ("诉讼", 1, Some(0.5)),
            ("社区", 3, Some(0.75)),
            ("街道", 1, Some(0.25)),
            ("区", 0, Some(0.0)),
            ("信访积案", 1, Some(0.25)),
            ("合计", 4, Some(1.0)),
        ]
    );

    // Reception: R1–R4 held in November (R4 with no visits).
    let rc = &r.reception;
    assert_eq!(
        (
            rc.sessions.n,
            rc.cases,
            rc.person_visits,
            rc.named_by_public
        ),
        (4, 6, 13, 1)
    );
    let rows: Vec<_> = rc
        .rows
        .iter()
        .map(|x| {
            (
                x.key.as_str(),
                x.name.as_str(),
                x.sessions,
                x.cases,
                x.person_visits,
            )
        })
        .collect();
    let street_name = |c: &str| t().get(c).unwrap().name.as_str();
    assert_eq!(
        rows,
        [
            ("district", "区级", 1, 2, 4),
            ("street", "街道", 3, 4, 9),
            ("l2", "赵书记", 2, 4, 9),
            ("l1", "王区长", 1, 2, 4),
            ("l3", "孙主任", 1, 0, 0),
            ("", "区级（集中接访）", 1, 2, 4),
            (p.a.as_str(), street_name(&p.a), 2, 4, 9),
            (p.b.as_str(), street_name(&p.b), 1, 0, 0),
            ("2026-11", "2026-11", 4, 6, 13),
            ("", "合计", 4, 6, 13),
        ]
    );

    // Petitions by channel: P1, P5 online; P2 letter; P3 visit; P4 (October) not counted.
    let ch: Vec<_> = r
        .petitions
        .iter()
        .map(|x| (x.channel, x.petitions, x.persons, x.first))
        .collect();
    assert_eq!(
        ch,
        [
            (Some(PetitionChannel::Online), 2, 3, 1),
            (Some(PetitionChannel::Letter), 1, 3, 0),
            (Some(PetitionChannel::Visit), 1, 1, 1),
            (Some(PetitionChannel::App), 0, 0, 0),
            (None, 4, 7, 2),
        ]
    );

    // First petitions: P1 (2 steps, 13 days), P3 (2 steps, 7 days), P4 (9 steps, 57 days).
    let fp = &r.first_petitions;
    assert_eq!((fp.received.n, fp.in_progress, fp.overdue.n), (2, 3, 3));
    let by_method: Vec<_> = fp
        .by_method
        .iter()
        .map(|x| (x.method, x.steps, x.petitions))
        .collect();
    assert_eq!(
        by_method,
        [
            (StepMethod::SpeedUp, 2, 2),
            (StepMethod::Interview, 4, 3),
            (StepMethod::Supervision, 4, 2),
            (StepMethod::Concentration, 3, 1),
        ]
    );
    let rows: Vec<_> = fp
        .rows
        .iter()
        .map(|x| (x.petition_id.as_str(), x.overdue.len(), x.days_overdue))
        .collect();
    assert_eq!(
        rows,
        [
            (data.p4.as_str(), 9, 57),
            (data.p1.as_str(), 2, 13),
            (data.p3.as_str(), 2, 7)
        ]
    );
    let p1_steps: Vec<_> = fp.rows[1]
        .overdue
        .iter()
        .map(|s| (s.method, s.seq, s.due))
        .collect();
    assert_eq!(
        p1_steps,
        [
            (StepMethod::Interview, 2, day("2026-11-17")),
            (StepMethod::Supervision, 1, day("2026-11-23")),
        ]
    );

    // Patrol coverage.
    let pt = &r.patrols;
    assert_eq!(pt.total.n, 4);
    let kinds: Vec<_> = pt
        .by_kind
        .iter()
        .map(|k| (k.kind, k.count, k.grids))
        .collect();
    assert_eq!(
        kinds,
        [
            (PatrolKind::Routine, 2, 1),
            (PatrolKind::Key, 1, 1),
            (PatrolKind::Special, 1, 1)
        ]
    );
    assert_eq!((pt.grids, pt.covered), (4947, 2));
    let grids: Vec<_> = pt
        .per_grid
        .iter()
        .map(|g| (g.unit.code.as_str(), g.routine, g.key, g.special, g.total))
        .collect();
    assert_eq!(
        grids,
        [
            (p.a1.grid.as_str(), 2, 1, 0, 3),
            (p.a1g2.grid.as_str(), 0, 0, 1, 1)
        ]
    );
    assert_eq!(pt.uncovered.len(), 4945);
    assert!(!pt.uncovered.iter().any(|u| u.code == p.a1.grid));
    assert!(pt.uncovered.iter().any(|u| u.code == p.b1.grid));

    // Zero-petition communities: all but A1, A2 and B1.
    let z = &r.zero_petition;
    let communities = t().communities().count() as u64;
    assert_eq!((z.communities, z.zero), (communities, communities - 3));
    for c in [&p.a1.community, &p.a2.community, &p.b1.community] {
        assert!(!z.rows.iter().any(|u| u.code == *c));
    }

    check_drill_down(&store, &r);
    let found = store.report_records(&r.overview.open.query).unwrap();
    assert!(found.contains(&data.c9));
}

#[test]
fn store_facts_match_the_pure_computation_over_every_record() {
    let data = data();
    let (_dir, store) = store_with(&data);
    let all: Vec<Facts> = data.records.iter().filter_map(Facts::from_record).collect();
    for period in ["2026-11", "2026-10", "2026-07-01..2026-12-31", "2026-11-10"] {
        for scope in [
            "370214",
            data.p.a.as_str(),
            data.p.a1.community.as_str(),
            "Z01",
        ] {
            let params = ReportParams::new(period.parse().unwrap())
                .within(scope)
                .today(day("2026-12-05"));
            let from_store = store.report(&params).unwrap();
            let pure = report::compute(all.clone(), &params, t());
            assert_eq!(from_store, pure, "{period} {scope}");
        }
    }
}

#[test]
fn a_narrower_scope_and_an_earlier_today() {
    let data = data();
    let (_dir, store) = store_with(&data);
    let p = &data.p;
    let r = store.report(&november().within(&p.a)).unwrap();
    assert_eq!(
        (r.overview.found.n, r.overview.resolved.n, r.overview.open.n),
        (4, 4, 2)
    );
    // Street A's sessions only: the district session has no street.
    assert_eq!((r.reception.sessions.n, r.reception.person_visits), (2, 9));
    assert_eq!(r.areas[0].code, p.a);
    assert_eq!(r.areas.len(), 1 + t().communities_of(&p.a).count());
    assert_eq!(
        r.patrols.grids,
        t().grids().filter(|g| g.code.starts_with(&p.a)).count() as u64
    );
    assert_eq!(
        r.zero_petition.zero,
        t().communities_of(&p.a).count() as u64 - 2
    );
    check_drill_down(&store, &r);

    // Today 11-20: sessions after it are not held yet; ages and steps measured at 11-20.
    let r = store.report(&november().today(day("2026-11-20"))).unwrap();
    assert_eq!(r.meta.window.as_of, day("2026-11-20"));
    assert_eq!(r.reception.sessions.n, 3);
    let rows: Vec<_> = r
        .first_petitions
        .rows
        .iter()
        .map(|x| (x.petition_id.as_str(), x.overdue.len(), x.days_overdue))
        .collect();
    assert_eq!(rows, [(data.p4.as_str(), 8, 47), (data.p1.as_str(), 1, 3)]);
    assert!(!rows.iter().any(|(id, ..)| *id == data.p3));
    let open: Vec<_> = r.open_cases.iter().map(|x| x.total).collect();
    assert_eq!(open, [1, 1, 0, 1]);
    check_drill_down(&store, &r);
}

#[test]
fn edits_move_the_figures_and_a_visit_with_zero_persons_is_refused() {
    let data = data();
    let (_dir, mut store) = store_with(&data);
    let before = store.report(&november()).unwrap();

    // Zero persons: refused by validation, nothing stored, figures unchanged.
    let bad = reception(&data.p.a, ("l2", "赵书记"), "2026-11-20", &[0]);
    let err = store.create(&bad, &author()).unwrap_err();
    let StoreError::Invalid(errors) = err else {
        panic!("expected a validation error, got {err}")
    };
    assert!(
        errors.has("visits[0].persons", Rule::PersonsZero),
        "{errors}"
    );
    assert_eq!(store.report(&november()).unwrap(), before);

    // Reopen C4 in November (after its resolution): no longer resolved, open again.
    store
        .update(&data.c4, &author(), |r| {
            if let Record::Case(c) = r {
                c.events.push(ev(
                    "2026-11-28",
                    Role::StreetOfficer,
                    CaseEventKind::Reopened,
                ));
            }
            Ok::<_, ()>(())
        })
        .unwrap()
        .unwrap();
    let r = store.report(&november()).unwrap();
    assert_eq!(
        (
            r.overview.resolved.n,
            r.overview.open.n,
            r.overview.reopened.n
        ),
        (4, 4, 3)
    );
    assert_eq!(r.overview.grassroots_share, Some(0.75));
    // A reopened case is found where it was first found: the found count does not change.
    assert_eq!(r.overview.found.n, 6);
    // …and a later report on October still sees October as it was.
    let oct = store
        .report(&ReportParams::new("2026-10".parse().unwrap()))
        .unwrap();
    assert_eq!((oct.overview.found.n, oct.overview.resolved.n), (2, 1));
    check_drill_down(&store, &r);
}

#[test]
fn facts_are_rebuilt_for_a_store_that_had_none() {
    let data = data();
    let (dir, store) = store_with(&data);
    let before = store.report(&november()).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "DELETE FROM record_facts; DELETE FROM meta WHERE key = 'report_facts_version';",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(dir.path()).unwrap();
    store.set_clock(|| Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).unwrap());
    assert_eq!(store.report(&november()).unwrap().overview, before.overview);
    assert_eq!(store.report(&november()).unwrap().whistle, before.whistle);
}

#[test]
fn a_store_of_the_earlier_schema_is_brought_up_to_date_with_nothing_lost() {
    let data = data();
    let (dir, mut store) = store_with(&data);
    let before = store.report(&november()).unwrap();
    let ids = store.ids().unwrap();
    let records: Vec<_> = ids.iter().map(|id| store.get(id).unwrap()).collect();
    drop(store);
    // What version 0 wrote: each row with the record's JSON, an index on `updated_ms`, the
    // descending search index of version 1, and (in a store from before the report) no facts.
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "ALTER TABLE records ADD COLUMN value TEXT NOT NULL DEFAULT '{}';
         CREATE INDEX records_updated ON records(updated_ms DESC);
         DROP INDEX records_recent;
         CREATE INDEX records_search ON records(updated_ms DESC, id, search);
         PRAGMA user_version = 0;
         DELETE FROM record_facts; DELETE FROM meta WHERE key = 'report_facts_version';",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(dir.path()).unwrap();
    store.set_clock(|| Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let (columns, index, version): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM pragma_table_info('records') WHERE name = 'value'),
                    (SELECT count(*) FROM sqlite_master
                     WHERE name IN ('records_updated', 'records_search')),
                    (SELECT user_version FROM pragma_user_version)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (columns, index),
        (0, 0),
        "the derived column and the indexes replaced are gone"
    );
    assert!(version >= 2);
    let recent: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'records_recent'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !recent.contains("DESC"),
        "the search index is rebuilt ascending: {recent}"
    );
    let after: Vec<_> = ids.iter().map(|id| store.get(id).unwrap()).collect();
    assert_eq!(after, records, "every record as it was");
    // The facts come back from the documents alone.
    let report = store.report(&november()).unwrap();
    assert_eq!(report.overview, before.overview);
    assert_eq!(report.whistle, before.whistle);
    assert_eq!(report.reception, before.reception);
    // And the store takes new records as before.
    let extra = data.records[0].clone();
    let Record::Case(mut c) = extra else {
        panic!("the data set starts with a case")
    };
    c.id = RecordId::new_v7();
    store.create(&Record::Case(c), &author()).unwrap();
    drop(store);
    // Opening again changes nothing more.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.ids().unwrap().len(), ids.len() + 1);
}

#[test]
fn periods_and_scopes_are_checked() {
    let p: Period = "2026-02".parse().unwrap();
    assert_eq!((p.from, p.to), (day("2026-02-01"), day("2026-02-28")));
    let p: Period = "2026-12".parse().unwrap();
    assert_eq!(p.to, day("2026-12-31"));
    let p: Period = "2026-11-01..2026-11-15".parse().unwrap();
    assert_eq!(
        (p.from, p.to, p.label.as_str()),
        (
            day("2026-11-01"),
            day("2026-11-15"),
            "2026-11-01..2026-11-15"
        )
    );
    for bad in ["2026-13", "2026-11-15..2026-11-01", "November", ""] {
        assert!(
            matches!(
                bad.parse::<Period>().map_err(ReportError::from),
                Err(ReportError::BadPeriod(_))
            ),
            "{bad}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path()).unwrap();
    let err = store.report(&november().within("999")).unwrap_err();
    assert!(matches!(err, ReportError::UnknownScope(_)));
    // An empty store: zeros and no shares, not errors.
    let r = store.report(&november()).unwrap();
    assert_eq!((r.overview.found.n, r.overview.grassroots_share), (0, None));
    assert_eq!(r.patrols.covered, 0);
    assert_eq!(local_date_ms(ms("2026-11-30")), day("2026-11-30"));
}

#[test]
fn xlsx_csv_and_json_carry_the_figures() {
    use calamine::{Data as X, Reader, open_workbook_auto};
    let data = data();
    let (dir, store) = store_with(&data);
    let r = store.report(&november()).unwrap();

    let path = dir.path().join("report.xlsx");
    r.to_xlsx(&path).unwrap();
    let mut wb = open_workbook_auto(&path).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "总览",
            "化解层级",
            "街道社区",
            "类别",
            "涉及人数",
            "未结案件",
            "吹哨报到",
            "人民调解",
            "公开接访",
            "信访渠道",
            "初信初访",
            "排查覆盖",
            "零上访社区"
        ]
    );
    let overview = wb.worksheet_range("总览").unwrap();
    let value = |label: &str| {
        overview
            .rows()
            .find(|row| row[0] == X::String(label.into()))
            .map(|row| row[1].clone())
            .unwrap_or_else(|| panic!("no row {label}"))
    };
    assert_eq!(overview.get((0, 0)), Some(&X::String("指标".into())));
    assert_eq!(value("新发现事项（件）"), X::Float(6.0));
    assert_eq!(value("已化解（件）"), X::Float(5.0));
    assert_eq!(value("未结（件）"), X::Float(3.0));
    assert_eq!(value("基层化解率"), X::Float(0.8));
    assert_eq!(value("目标"), X::Float(0.9));
    assert_eq!(value("是否达标"), X::String("否".into()));
    assert_eq!(value("接访人次"), X::Float(13.0));
    match value("截至日期") {
        X::DateTime(d) => {
            let serial = (day("2026-11-30") - day("1899-12-30")).num_days() as f64;
            assert_eq!(d.as_f64(), serial);
        }
        other => panic!("as-of date is not a date: {other:?}"),
    }
    let levels = wb.worksheet_range("化解层级").unwrap();
    assert_eq!(
        levels.get((4, 0)),
        Some(&X::String("基层化解（社区+街道）".into()))
    );
    assert_eq!(levels.get((4, 1)), Some(&X::Float(4.0)));
    assert_eq!(levels.get((4, 2)), Some(&X::Float(0.8)));
    let whistle = wb.worksheet_range("吹哨报到").unwrap();
    let depts: Vec<_> = whistle
        .rows()
        .skip(1)
        .map(|row| row[8].to_string())
        .collect();
    assert_eq!(depts, ["城管局", "住建局", "尚无部门报到"]);
    let reception = wb.worksheet_range("公开接访").unwrap();
    let total = reception.rows().next_back().unwrap();
    assert_eq!(total[1], X::String("合计".into()));
    assert_eq!(
        (&total[2], &total[3], &total[4]),
        (&X::Float(4.0), &X::Float(6.0), &X::Float(13.0))
    );
    let patrols = wb.worksheet_range("排查覆盖").unwrap();
    assert_eq!(patrols.height(), 1 + 4947);

    // The bytes an HTTP response would carry.
    let bytes = r.to_xlsx_bytes(Lang::ZhCn).unwrap();
    assert!(bytes.starts_with(b"PK"));

    // CSV: one file per sheet, BOM, Chinese headers.
    let files = r.to_csv_dir(&dir.path().join("csv")).unwrap();
    assert_eq!(files.len(), 13);
    let overview = std::fs::read(&files[0]).unwrap();
    assert!(overview.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(overview[3..].to_vec()).unwrap();
    assert!(text.starts_with("指标,数值\n"), "{text}");
    assert!(
        text.contains("新发现事项（件）,6\n") && text.contains("基层化解率,80.0%\n"),
        "{text}"
    );
    assert!(files[6].ends_with("07_whistle.csv"));

    // JSON round-trips, and holds no resident's personal data.
    let json = r.to_json();
    let back = serde_json::from_str::<Report>(&json).unwrap();
    let (a, b) = (
        serde_json::to_value(&r).unwrap(),
        serde_json::to_value(&back).unwrap(),
    );
    for (k, v) in a.as_object().unwrap() {
        assert_eq!(Some(v), b.get(k), "{k}");
    }
    assert_eq!(back, r);
    assert!(!json.contains("王秀英") && !json.contains("13812345678"));
    assert_eq!(
        serde_json::to_value(&r.overview.open.query).unwrap()["measure"],
        serde_json::json!("open")
    );
}
