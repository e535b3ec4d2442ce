//! The app's commands for mediations, reception sessions and petitions, and the role-specific
//! home sections, against real device stores syncing through a real server: create each kind,
//! add sessions, visits and steps, record outcomes, and the refusals with the schema's message.

use chrono::{Days, Utc};
use gridwork_core::app::{App, AppConfig};
use gridwork_schema::api::{
    ApiError, ApiRequest, ApiResponse, DashboardView, ErrorCode, NewCase, NewMediation,
    NewPetition, NewReception, RecordFilter,
};
use gridwork_schema::territory::{Territory, demo};
use gridwork_schema::{
    CaseEventKind, CaseKind, Channel, Level, MediationOutcome, Party, PetitionChannel,
    ReceptionLevel, Record, RecordId, StepMethod,
};
use gridwork_sync_server::storage::{NewUser, UnitRow};
use gridwork_sync_server::{Config, Server, ServerHandle};
use serde_json::json;

async fn server(dir: &std::path::Path) -> ServerHandle {
    let mut config = Config::sqlite_in(dir);
    config.listen = ([127, 0, 0, 1], 0).into();
    let s = Server::start(config).await.expect("server");
    let units = Territory::chengyang()
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
    for a in demo::ACCOUNTS {
        s.store()
            .add_user(NewUser {
                login: a.login.into(),
                name: a.display_name.into(),
                role: serde_json::from_value(json!(a.role)).expect("role"),
                scope: a.scope.into(),
                department: a.department.map(str::to_owned),
                password_hash: gridwork_sync_server::auth::hash_password(demo::PASSWORD)
                    .expect("hash"),
            })
            .await
            .expect("user");
    }
    s
}

async fn ok(app: &App, request: ApiRequest) -> ApiResponse {
    let op = request.op();
    app.handle(request)
        .await
        .unwrap_or_else(|e| panic!("{op}: {e} {:?}", e.fields))
}

async fn refused(app: &App, request: ApiRequest) -> ApiError {
    let op = request.op();
    match app.handle(request).await {
        Ok(r) => panic!("{op} should have been refused, got {r:?}"),
        Err(e) => e,
    }
}

async fn device(dir: &std::path::Path, url: &str, user: &str) -> App {
    let app = App::open(dir, AppConfig::default()).expect("device");
    ok(
        &app,
        ApiRequest::Login {
            server: url.into(),
            user: user.into(),
            password: demo::PASSWORD.into(),
        },
    )
    .await;
    app
}

fn created(r: ApiResponse) -> RecordId {
    match r {
        ApiResponse::Created { id } => id,
        other => panic!("created expected, got {other:?}"),
    }
}

async fn record(app: &App, id: RecordId) -> Record {
    match ok(app, ApiRequest::GetRecord { id }).await {
        ApiResponse::Record(v) => v.record.expect("a readable record"),
        other => panic!("record expected, got {other:?}"),
    }
}

async fn dashboard(app: &App) -> DashboardView {
    match ok(app, ApiRequest::Dashboard).await {
        ApiResponse::Dashboard(d) => d,
        other => panic!("dashboard expected, got {other:?}"),
    }
}

fn has(rows: &[gridwork_schema::api::RecordRow], id: RecordId) -> bool {
    rows.iter().any(|r| r.id == id.to_string())
}

/// The one broken rule of a refusal: (field, zh message).
fn rule(e: &ApiError) -> (String, String) {
    assert_eq!(e.code, ErrorCode::Invalid, "{e}");
    let f = e.fields.first().expect("a field error");
    (f.field.clone(), f.message.zh.clone())
}

fn party(name: &str) -> Party {
    Party {
        name: name.into(),
        phone: "13812345678".into(),
        ..Party::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mediation_reception_and_petition_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = server(&tmp.path().join("srv")).await;
    let url = srv.url();
    let today = Utc::now().date_naive();
    let grid = device(&tmp.path().join("grid"), &url, "grid").await;

    // A dispute referred to mediation, and the mediation created for it.
    let case = created(
        ok(
            &grid,
            ApiRequest::CreateCase(NewCase {
                kind: CaseKind::Dispute,
                title: "楼上漏水纠纷".into(),
                parties: vec![party("王秀英")],
                persons_involved: 2,
                grid: "370214001001001".into(),
                ..NewCase::default()
            }),
        )
        .await,
    );
    ok(
        &grid,
        ApiRequest::AddCaseEvent {
            id: case,
            kind: CaseEventKind::ReferredToMediation { mediation: None },
            note: String::new(),
        },
    )
    .await;
    let mediation_for_case = NewMediation {
        case: Some(case),
        body_level: Level::Community,
        mediator: "王芳".into(),
        parties: vec![party("李建国")],
        ..NewMediation::default()
    };
    // A grid worker refers; the community's mediation body registers the mediation (a grid
    // worker's record at community level would be refused by the server: it says so now).
    let e = refused(
        &grid,
        ApiRequest::CreateMediation(mediation_for_case.clone()),
    )
    .await;
    assert_eq!(e.code, ErrorCode::NotPermitted);
    ok(&grid, ApiRequest::SyncNow).await;
    let mediator = device(&tmp.path().join("mediator"), &url, "mediator").await;
    ok(&mediator, ApiRequest::SyncNow).await;
    let med = created(ok(&mediator, ApiRequest::CreateMediation(mediation_for_case)).await);
    let Record::Mediation(m) = record(&mediator, med).await else {
        panic!("a mediation")
    };
    assert_eq!(m.case, Some(case), "linked to the case");
    assert_eq!(m.mediator.name, "王芳");
    assert_eq!(m.mediator, m.created_by, "the mediator named themself");
    assert_eq!(m.territory.community, "370214001001");
    assert!(m.territory.grid.is_empty(), "a community body");
    let names: Vec<&str> = m.parties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["王秀英", "李建国"], "the case's parties first");
    let Record::Case(c) = record(&mediator, case).await else {
        panic!("a case")
    };
    assert_eq!(
        c.state().mediation,
        Some(med),
        "the case's referral names the mediation"
    );

    // A mediation needs a party.
    let e = refused(
        &mediator,
        ApiRequest::CreateMediation(NewMediation {
            territory: "370214001001001".into(),
            ..NewMediation::default()
        }),
    )
    .await;
    assert_eq!(rule(&e), ("parties".into(), "至少需要一名当事人".into()));

    // It is on the mediator's home screen while it runs.
    assert!(has(&dashboard(&mediator).await.my_mediations, med));
    ok(
        &mediator,
        ApiRequest::AddMediationSession {
            id: med,
            date: today,
            place: "社区调解室".into(),
            attendees: vec!["王秀英".into(), " ".into(), "李建国".into()],
            notes: "双方同意再谈一次。".into(),
        },
    )
    .await;
    let e = refused(
        &mediator,
        ApiRequest::AddMediationSession {
            id: med,
            date: today + Days::new(2),
            place: String::new(),
            attendees: Vec::new(),
            notes: String::new(),
        },
    )
    .await;
    assert_eq!(rule(&e), ("sessions[1].date".into(), "不能晚于今天".into()));
    let Record::Mediation(m) = record(&mediator, med).await else {
        panic!("a mediation")
    };
    assert_eq!(m.sessions.len(), 1, "the refused session was not kept");
    assert_eq!(m.sessions[0].attendees, ["王秀英", "李建国"]);

    // Outcome: agreed needs the agreement text and forbids a hand-off.
    let outcome = |outcome, agreement: &str, handoff| ApiRequest::SetMediationOutcome {
        id: med,
        outcome,
        agreement: agreement.into(),
        handoff,
    };
    let e = refused(&mediator, outcome(MediationOutcome::Agreed, "", None)).await;
    assert_eq!(rule(&e), ("agreement".into(), "为必填项".into()));
    let e = refused(
        &mediator,
        outcome(
            MediationOutcome::Agreed,
            "赔偿3000元",
            Some(Channel::Litigation),
        ),
    )
    .await;
    assert_eq!(
        rule(&e),
        ("handoff".into(), "调解成功的不能移交其他渠道".into())
    );
    ok(
        &mediator,
        outcome(
            MediationOutcome::Partial,
            "维修费各半",
            Some(Channel::Arbitration),
        ),
    )
    .await;
    let Record::Mediation(m) = record(&mediator, med).await else {
        panic!("a mediation")
    };
    assert_eq!(m.outcome, Some(MediationOutcome::Partial));
    assert_eq!(m.handoff, Some(Channel::Arbitration));
    assert_eq!(m.agreement, "维修费各半");
    assert!(
        !has(&dashboard(&mediator).await.my_mediations, med),
        "an ended mediation leaves the list"
    );

    // Reception: a leader's schedule, a session with visits; a visit of nobody is refused.
    let leader = device(&tmp.path().join("leader"), &url, "leader").await;
    let ahead = created(
        ok(
            &leader,
            ApiRequest::CreateReception(NewReception {
                level: ReceptionLevel::District,
                site: "区信访接待中心".into(),
                date: today + Days::new(3),
                ..NewReception::default()
            }),
        )
        .await,
    );
    let held = created(
        ok(
            &leader,
            ApiRequest::CreateReception(NewReception {
                level: ReceptionLevel::Street,
                street: "370214001".into(),
                site: "城阳街道接访室".into(),
                date: today,
                named_by_public: true,
                ..NewReception::default()
            }),
        )
        .await,
    );
    let e = refused(
        &leader,
        ApiRequest::CreateReception(NewReception {
            level: ReceptionLevel::Street,
            date: today,
            ..NewReception::default()
        }),
    )
    .await;
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert!(fields.contains(&"site") && fields.contains(&"territory.street"));
    let e = refused(
        &leader,
        ApiRequest::AddVisit {
            id: held,
            persons: 0,
            summary: "拆迁补偿".into(),
            case: None,
        },
    )
    .await;
    assert_eq!(rule(&e), ("visits[0].persons".into(), "人数至少为1".into()));
    assert_eq!(e.fields[0].message.en, "must count at least one person");
    ok(
        &leader,
        ApiRequest::AddVisit {
            id: held,
            persons: 3,
            summary: "拆迁补偿".into(),
            case: Some(case),
        },
    )
    .await;
    let e = refused(
        &leader,
        ApiRequest::AddVisit {
            id: ahead,
            persons: 1,
            summary: String::new(),
            case: None,
        },
    )
    .await;
    assert_eq!(rule(&e), ("date".into(), "不能晚于今天".into()));
    let ApiResponse::Receptions(list) = ok(&leader, ApiRequest::Receptions).await else {
        panic!("receptions")
    };
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].row.id, ahead.to_string(), "latest date first");
    assert_eq!(
        list[0].row.status, "scheduled",
        "a session after today is not held yet"
    );
    assert_eq!(list[1].row.status, "held");
    let s = &list[1];
    assert_eq!((s.cases, s.person_visits), (1, 3));
    assert!(s.named_by_public);
    assert_eq!(s.leader.name, "赵刚");
    let home = dashboard(&leader).await;
    assert!(has(&home.my_receptions, ahead) && has(&home.my_receptions, held));
    let scheduled = ok(
        &leader,
        ApiRequest::ListRecords {
            filter: RecordFilter {
                kind: Some("reception".into()),
                status: Some("scheduled".into()),
                ..RecordFilter::default()
            },
        },
    )
    .await;
    let ApiResponse::Records(scheduled) = scheduled else {
        panic!("records")
    };
    assert!(
        has(&scheduled, ahead) && !has(&scheduled, held),
        "{scheduled:?}"
    );

    // Leader takes the case under contract: it shows among my cases.
    ok(&leader, ApiRequest::SyncNow).await;
    ok(
        &leader,
        ApiRequest::AddCaseEvent {
            id: case,
            kind: CaseEventKind::LeaderAssigned {
                leader: "赵刚".into(),
            },
            note: String::new(),
        },
    )
    .await;
    assert!(has(&dashboard(&leader).await.my_cases, case));
    let ApiResponse::Grids(streets) = ok(&leader, ApiRequest::Streets).await else {
        panic!("streets")
    };
    assert_eq!(streets.len(), 8, "a district leader picks any street");

    // Street officer: an escalated case is on the street's list.
    let street = device(&tmp.path().join("street"), &url, "street").await;
    ok(&street, ApiRequest::SyncNow).await;
    ok(
        &street,
        ApiRequest::AddCaseEvent {
            id: case,
            kind: CaseEventKind::WhistleBlown,
            note: String::new(),
        },
    )
    .await;
    assert!(has(&dashboard(&street).await.escalated_cases, case));

    // Petitions: a first petition gets its 1-2-3-4 steps; marking one done.
    let received = today - Days::new(20);
    let new_petition = NewPetition {
        channel: PetitionChannel::Letter,
        received_on: received,
        first: true,
        petitioners: vec![party("李明")],
        persons: 1,
        subject: "工地拖欠工资".into(),
        territory: "370214001001001".into(),
        ..NewPetition::default()
    };
    let e = refused(
        &grid,
        ApiRequest::CreatePetition(NewPetition {
            persons: 0,
            ..new_petition.clone()
        }),
    )
    .await;
    assert_eq!(rule(&e), ("persons".into(), "人数至少为1".into()));
    let pet = created(ok(&grid, ApiRequest::CreatePetition(new_petition)).await);
    assert!(has(&dashboard(&grid).await.overdue_petitions, pet));
    ok(
        &grid,
        ApiRequest::MarkPetitionStep {
            id: pet,
            method: StepMethod::SpeedUp,
            seq: 1,
            done_on: received + Days::new(1),
            note: "当日登记交办".into(),
        },
    )
    .await;
    let e = refused(
        &grid,
        ApiRequest::MarkPetitionStep {
            id: pet,
            method: StepMethod::Interview,
            seq: 3,
            done_on: today,
            note: String::new(),
        },
    )
    .await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = refused(
        &grid,
        ApiRequest::MarkPetitionStep {
            id: pet,
            method: StepMethod::Interview,
            seq: 1,
            done_on: received - Days::new(1),
            note: String::new(),
        },
    )
    .await;
    assert_eq!(rule(&e).0, "steps[1].done_on");
    let Record::Petition(p) = record(&grid, pet).await else {
        panic!("a petition")
    };
    assert_eq!(p.steps.len(), 10);
    assert_eq!(p.steps[0].done_on, Some(received + Days::new(1)));
    assert_eq!(p.steps[0].note, "当日登记交办");
    assert!(p.steps[1].done_on.is_none(), "the refused step stays open");
    assert_eq!(p.overdue_steps(today).len(), 2, "the interviews are late");

    // Everything reaches the server.
    for app in [&grid, &mediator, &leader, &street] {
        let ApiResponse::Synced(s) = ok(app, ApiRequest::SyncNow).await else {
            panic!("synced")
        };
        assert_eq!(s.refused, 0);
    }
    srv.shutdown().await;
}
