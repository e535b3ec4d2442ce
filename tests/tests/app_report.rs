//! The dashboard's commands (`ApiRequest::Report`, `ApiRequest::ReportRecords`) on a device
//! signed in to a real server, over a known data set in the device's own store: exact
//! figures, the records behind them, drill-down scopes, and clear errors in both languages.

use chrono::{NaiveDate, TimeZone, Utc};
use gridwork_core::app::{App, AppConfig};
use gridwork_core::doc::Author;
use gridwork_core::report::facts::day_start_ms;
use gridwork_schema::api::{ApiError, ApiRequest, ApiResponse, ErrorCode};
use gridwork_schema::report::{AgeBand, Measure, RecordQuery, Report};
use gridwork_schema::territory::{Territory, demo};
use gridwork_schema::*;
use gridwork_sync_server::storage::{NewUser, UnitRow};
use gridwork_sync_server::{Config, Server, ServerHandle};

fn t() -> &'static Territory {
    Territory::chengyang()
}

async fn server(dir: &std::path::Path) -> ServerHandle {
    let mut config = Config::sqlite_in(dir);
    config.listen = ([127, 0, 0, 1], 0).into();
    let s = Server::start(config).await.expect("server");
    let units = t()
        .units()
        .map(|u| UnitRow {
            code: u.code.clone(),
            level: u.level.as_str().to_owned(),
            name: u.name.clone(),
            parent: u.parent.clone(),
            zone: u.zone.clone(),
        })
        .collect();
    s.store().import_units(units).await.expect("units");
    for a in demo::ACCOUNTS
        .iter()
        .filter(|a| ["supervisor", "street", "grid"].contains(&a.login))
    {
        s.store()
            .add_user(NewUser {
                login: a.login.into(),
                name: a.display_name.into(),
                role: serde_json::from_value(serde_json::json!(a.role)).expect("role"),
                scope: a.scope.into(),
                department: None,
                password_hash: gridwork_sync_server::auth::hash_password(demo::PASSWORD)
                    .expect("hash"),
            })
            .await
            .expect("user");
    }
    s
}

/// 10:00 China Standard Time on `d`, as milliseconds.
fn ms(d: &str) -> i64 {
    day_start_ms(d.parse::<NaiveDate>().unwrap()) + 10 * 3600 * 1000
}

fn utc(d: &str) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms(d)).unwrap()
}

fn grid_path(community: &str) -> TerritoryPath {
    let g = t().grids_of(community).next().unwrap();
    t().path_of(&g.code).unwrap()
}

fn event(d: &str, role: Role, kind: CaseEventKind) -> CaseEvent {
    CaseEvent {
        id: uuid::Uuid::now_v7().to_string(),
        at: Hlc::new(ms(d), 0, "dev1"),
        by: UserRef::new("u1", "刘网格"),
        role,
        kind,
        note: String::new(),
    }
}

fn case(path: &TerritoryPath, found: &str, resolved: Option<(&str, Level)>) -> Record {
    let mut events = vec![event(found, Role::GridWorker, CaseEventKind::Raised)];
    if let Some((d, at)) = resolved {
        let role = match at {
            Level::Community => Role::GridWorker,
            Level::Street => Role::StreetOfficer,
            Level::District => Role::Leader,
        };
        events.push(event(d, role, CaseEventKind::Resolved { at }));
    }
    Record::Case(Case {
        id: RecordId::new_v7(),
        territory: path.clone(),
        created_by: UserRef::new("u1", "刘网格"),
        created_at: utc(found),
        kind: CaseKind::Dispute,
        category: Category::Neighbourhood,
        title: format!("邻里纠纷 {found}"),
        parties: vec![Party {
            name: "王秀英".into(),
            ..Party::default()
        }],
        persons_involved: 2,
        events,
        ..Case::default()
    })
}

/// The data set: street A (two communities) and street B, November 2026.
struct Data {
    street_a: String,
    street_b: String,
    resolved: Vec<String>,
    found_in_a: Vec<String>,
}

fn seed(app: &App) -> Data {
    let streets: Vec<_> = t().streets().collect();
    let (a, b) = (streets[0].code.clone(), streets[1].code.clone());
    let comms_a: Vec<_> = t().communities_of(&a).collect();
    let comm_b = t().communities_of(&b).next().unwrap();
    let (a1, a2, b1) = (
        grid_path(&comms_a[0].code),
        grid_path(&comms_a[1].code),
        grid_path(&comm_b.code),
    );
    let c1 = case(&a1, "2026-11-02", Some(("2026-11-05", Level::Community)));
    let c2 = case(&a1, "2026-11-03", Some(("2026-11-10", Level::Street)));
    let c3 = case(&a2, "2026-11-04", Some(("2026-11-12", Level::District)));
    let c4 = case(&b1, "2026-11-06", None);
    let c5 = case(&a2, "2026-10-15", None);
    let petition = Record::Petition(Petition {
        id: RecordId::new_v7(),
        territory: b1.clone(),
        created_by: UserRef::new("u9", "信访办"),
        created_at: utc("2026-11-08"),
        channel: PetitionChannel::Visit,
        received_on: "2026-11-08".parse().unwrap(),
        first: true,
        petitioners: vec![Party {
            name: "李明".into(),
            ..Party::default()
        }],
        persons: 1,
        subject: "工地拖欠工资".into(),
        steps: Petition::standard_steps("2026-11-08".parse().unwrap()),
        ..Petition::default()
    });
    let reception = Record::Reception(ReceptionSession {
        id: RecordId::new_v7(),
        territory: TerritoryPath {
            street: a.clone(),
            ..TerritoryPath::default()
        },
        created_by: UserRef::new("u9", "办公室"),
        created_at: utc("2026-11-11"),
        leader: UserRef::new("L1", "赵刚"),
        level: ReceptionLevel::Street,
        site: "接访大厅".into(),
        date: "2026-11-11".parse().unwrap(),
        visits: [2, 1]
            .iter()
            .enumerate()
            .map(|(i, &persons)| Visit {
                id: format!("v{i}"),
                persons,
                ..Visit::default()
            })
            .collect(),
        ..ReceptionSession::default()
    });
    let patrol = Record::Patrol(Patrol {
        id: RecordId::new_v7(),
        territory: a1.clone(),
        created_by: UserRef::new("u1", "刘网格"),
        created_at: utc("2026-11-09"),
        kind: PatrolKind::Routine,
        worker: UserRef::new("u1", "刘网格"),
        started_at: utc("2026-11-09"),
        ..Patrol::default()
    });
    let ids = |rs: &[&Record]| rs.iter().map(|r| r.id().to_string()).collect::<Vec<_>>();
    let data = Data {
        street_a: a,
        street_b: b,
        resolved: ids(&[&c1, &c2, &c3]),
        found_in_a: ids(&[&c1, &c2, &c3]),
    };
    let author = Author {
        user: "seed".into(),
        name: "seed".into(),
        device: "seed".into(),
    };
    let mut store = app.store().lock().unwrap();
    // "Today" is 20 November 2026 (China Standard Time): ages are measured then.
    store.set_clock(|| Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap());
    for r in [c1, c2, c3, c4, c5, petition, reception, patrol] {
        store.create(&r, &author).expect("record stored");
    }
    data
}

async fn report(app: &App, period: &str, scope: Option<&str>) -> Result<Report, ApiError> {
    app.handle(ApiRequest::Report {
        period: period.into(),
        scope: scope.map(Into::into),
    })
    .await
    .map(|r| match r {
        ApiResponse::Report(r) => r,
        other => panic!("report expected, got {other:?}"),
    })
}

async fn records(app: &App, query: &RecordQuery) -> Vec<String> {
    match app
        .handle(ApiRequest::ReportRecords {
            query: query.clone(),
        })
        .await
        .expect("records behind a figure")
    {
        ApiResponse::Records(rows) => {
            let mut ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
            ids.sort();
            ids
        }
        other => panic!("records expected, got {other:?}"),
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn signed_in(dir: &std::path::Path, url: &str, user: &str) -> App {
    let app = App::open(dir, AppConfig::default()).unwrap();
    app.handle(ApiRequest::Login {
        server: url.into(),
        user: user.into(),
        password: demo::PASSWORD.into(),
    })
    .await
    .expect("login");
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_figures_of_a_known_data_set_and_the_records_behind_them() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = server(&tmp.path().join("srv")).await;
    let url = srv.url();

    // Not signed in: no report.
    let fresh = App::open(&tmp.path().join("fresh"), AppConfig::default()).unwrap();
    let err = report(&fresh, "2026-11", None).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotLoggedIn);

    let app = signed_in(&tmp.path().join("sup"), &url, "supervisor").await;
    let data = seed(&app);
    // Works offline: the server goes away, the device still reports on what it holds.
    srv.shutdown().await;

    let r = report(&app, "2026-11", None)
        .await
        .expect("district report");
    assert_eq!(r.meta.scope, "370214");
    assert_eq!(r.meta.scope_name, "城阳区");
    assert_eq!(
        (r.meta.window.from, r.meta.window.to, r.meta.window.as_of),
        (
            "2026-11-01".parse().unwrap(),
            "2026-11-30".parse().unwrap(),
            "2026-11-20".parse().unwrap()
        )
    );
    let o = &r.overview;
    assert_eq!(
        (o.found.n, o.resolved.n, o.open.n, o.handed_off.n),
        (4, 3, 2, 0)
    );
    assert_eq!(o.grassroots_share, Some(0.6667));
    assert_eq!(o.meets_target, Some(false));
    // Open cases by age at 20 November: found 6 Nov (14 days), found 15 Oct (36 days).
    let band = |b: AgeBand| r.open_cases.iter().find(|o| o.age == b).unwrap();
    assert_eq!(
        (band(AgeBand::UpTo30).total, band(AgeBand::UpTo90).total),
        (1, 1)
    );
    assert_eq!(band(AgeBand::UpTo90).community, 1);
    let street_a = r.areas.iter().find(|a| a.code == data.street_a).unwrap();
    assert_eq!(
        (
            street_a.found,
            street_a.resolved,
            street_a.grassroots,
            street_a.open
        ),
        (3, 3, 2, 1)
    );
    let street_b = r.areas.iter().find(|a| a.code == data.street_b).unwrap();
    assert_eq!(
        (street_b.found, street_b.open, street_b.petitions),
        (1, 1, 1)
    );
    assert_eq!(
        (
            r.reception.sessions.n,
            r.reception.cases,
            r.reception.person_visits
        ),
        (1, 2, 3)
    );
    assert_eq!(
        r.petitions.last().map(|p| (p.petitions, p.first)),
        Some((1, 1))
    );
    assert_eq!((r.patrols.total.n, r.patrols.covered), (1, 1));
    let communities = t()
        .units()
        .filter(|u| u.level == territory::UnitLevel::Community)
        .count() as u64;
    assert_eq!(
        (r.zero_petition.communities, r.zero_petition.zero),
        (communities, communities - 1)
    );

    // The records behind a figure are exactly those it counts.
    assert_eq!(
        records(&app, &o.resolved.query).await,
        sorted(data.resolved.clone())
    );
    assert_eq!(
        records(&app, &street_a.query).await,
        sorted(data.found_in_a.clone())
    );
    let open_a = RecordQuery {
        measure: Measure::Open,
        ..street_a.query.clone()
    };
    assert_eq!(records(&app, &open_a).await.len(), 1);
    assert_eq!(records(&app, &r.reception.sessions.query).await.len(), 1);

    // Drill down: the street, then one of its communities.
    let ra = report(&app, "2026-11", Some(&data.street_a))
        .await
        .expect("street report");
    assert_eq!(ra.meta.scope, data.street_a);
    assert_eq!((ra.overview.found.n, ra.overview.resolved.n), (3, 3));
    assert_eq!(ra.overview.grassroots_share, Some(0.6667));
    let first_community = t().communities_of(&data.street_a).next().unwrap();
    let rc = report(&app, "2026-11", Some(&first_community.code))
        .await
        .expect("community report");
    assert_eq!(
        (
            rc.overview.found.n,
            rc.overview.grassroots_share,
            rc.overview.meets_target
        ),
        (2, Some(1.0), Some(true))
    );
    // A month with nothing resolved has no share, and says so rather than failing.
    let oct = report(&app, "2026-10", None).await.expect("october");
    assert_eq!(
        (
            oct.overview.found.n,
            oct.overview.grassroots_share,
            oct.overview.meets_target
        ),
        (1, None, None)
    );

    // Bad input: clear errors in both languages, naming what was wrong.
    let err = report(&app, "2026-13", None).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    assert!(
        err.message.zh.contains("2026-13") && err.message.zh.contains("统计期间"),
        "{}",
        err.message.zh
    );
    assert!(
        err.message.en.contains("2026-13") && err.message.en.contains("period"),
        "{}",
        err.message.en
    );
    let err = report(&app, "2026-11", Some("999")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    assert!(err.message.zh.contains("统计范围") && err.message.en.contains("scope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_street_officer_reports_on_their_street_only() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = server(&tmp.path().join("srv")).await;
    let app = signed_in(&tmp.path().join("street"), &srv.url(), "street").await;
    let data = seed(&app);
    srv.shutdown().await;
    // The default scope is the user's own.
    let r = report(&app, "2026-11", None).await.expect("street report");
    assert_eq!(r.meta.scope, "370214001");
    assert_eq!(r.meta.scope, data.street_a, "the first street is 370214001");
    assert_eq!(r.overview.found.n, 3);
    // The district, another street: outside the officer's territory.
    for scope in ["370214", data.street_b.as_str()] {
        let err = report(&app, "2026-11", Some(scope)).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotPermitted, "{scope}");
        assert!(err.message.en.contains("outside your territory"));
    }
    let mut outside = r.overview.found.query.clone();
    outside.within = data.street_b.clone();
    let err = app
        .handle(ApiRequest::ReportRecords { query: outside })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotPermitted);
}
