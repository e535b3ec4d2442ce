//! The app's command API (`core::app::App`, what the Tauri `api` command and
//! `gridwork-ui-server` call) against a real sync server: sign-in, patrol, one-tap case,
//! role permissions, drafts, offline state and sync.

use std::net::SocketAddr;

use gridwork_core::app::{App, AppConfig};
use gridwork_schema::api::{
    ApiRequest, ApiResponse, ErrorCode, NewCase, RecordFilter, checklist_template,
};
use gridwork_schema::territory::{Territory, demo};
use gridwork_schema::{CaseEventKind, Level, PatrolKind, Record, RecordId};
use gridwork_sync_server::storage::{NewUser, UnitRow};
use gridwork_sync_server::{Config, Server, ServerHandle};
use serde_json::json;

async fn server(dir: &std::path::Path, addr: SocketAddr, seed: bool) -> ServerHandle {
    let mut config = Config::sqlite_in(dir);
    config.listen = addr;
    let s = Server::start(config).await.expect("server");
    if seed {
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
        for a in demo::ACCOUNTS
            .iter()
            .filter(|a| ["grid", "street"].contains(&a.login))
        {
            s.store()
                .add_user(NewUser {
                    login: a.login.into(),
                    name: a.display_name.into(),
                    role: serde_json::from_value(json!(a.role)).expect("role"),
                    scope: a.scope.into(),
                    department: None,
                    password_hash: gridwork_sync_server::auth::hash_password(demo::PASSWORD)
                        .expect("hash"),
                })
                .await
                .expect("user");
        }
    }
    s
}

async fn ok(app: &App, request: ApiRequest) -> ApiResponse {
    let op = request.op();
    app.handle(request)
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"))
}

async fn login(app: &App, url: &str, user: &str) {
    ok(
        app,
        ApiRequest::Login {
            server: url.into(),
            user: user.into(),
            password: demo::PASSWORD.into(),
        },
    )
    .await;
}

fn created(r: ApiResponse) -> RecordId {
    match r {
        ApiResponse::Created { id } => id,
        other => panic!("created expected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_work_offline_and_sync_when_the_server_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = server(&tmp.path().join("srv"), ([127, 0, 0, 1], 0).into(), true).await;
    let (addr, url) = (srv.local_addr(), srv.url());
    let app = App::open(&tmp.path().join("dev"), AppConfig::default()).unwrap();

    // Before sign-in: no user, commands that need one say so.
    let err = app
        .handle(ApiRequest::CreatePatrol {
            kind: PatrolKind::Routine,
            grid: "370214001001001".into(),
            theme: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotLoggedIn);
    let wrong = app
        .handle(ApiRequest::Login {
            server: url.clone(),
            user: "grid".into(),
            password: "nope-nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Unauthorized);
    assert!(!wrong.message.en.contains("nope"), "no secrets in errors");
    login(&app, &url, "grid").await;
    let ApiResponse::Grids(grids) = ok(
        &app,
        ApiRequest::Grids {
            query: String::new(),
        },
    )
    .await
    else {
        panic!("grids")
    };
    assert_eq!(grids.len(), 1, "a grid worker picks from their own grid");

    // The server goes away; the work goes on.
    srv.shutdown().await;
    let patrol = created(
        ok(
            &app,
            ApiRequest::CreatePatrol {
                kind: PatrolKind::Key,
                grid: grids[0].code.clone(),
                theme: None,
            },
        )
        .await,
    );
    let item = checklist_template(PatrolKind::Key)[0].0;
    ok(
        &app,
        ApiRequest::SetChecklistItem {
            id: patrol,
            item: item.into(),
            done: true,
        },
    )
    .await;
    ok(
        &app,
        ApiRequest::AddFinding {
            id: patrol,
            text: "楼道堆物".into(),
        },
    )
    .await;
    let bad = app
        .handle(ApiRequest::AddFinding {
            id: patrol,
            text: "  ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::Invalid);
    assert_eq!(bad.fields[0].field, "findings[1].text");
    ok(
        &app,
        ApiRequest::AddPhoto {
            id: patrol,
            name: "p.jpg".into(),
            media_type: "image/jpeg".into(),
            data: "/9j/4AAQSkZJRg==".into(),
        },
    )
    .await;
    let ApiResponse::Record(view) = ok(&app, ApiRequest::GetRecord { id: patrol }).await else {
        panic!("record")
    };
    let Some(Record::Patrol(p)) = view.record else {
        panic!("patrol")
    };
    assert!(p.checklist[0].done && p.photos.len() == 1 && view.row.pending);
    let case = created(
        ok(
            &app,
            ApiRequest::RaiseCaseFromFinding {
                patrol,
                finding: p.findings[0].id.clone(),
            },
        )
        .await,
    );
    // One tap twice is still one case.
    let again = created(
        ok(
            &app,
            ApiRequest::RaiseCaseFromFinding {
                patrol,
                finding: p.findings[0].id.clone(),
            },
        )
        .await,
    );
    assert_eq!(case, again);
    // A grid worker may not blow the whistle; the refusal names role and action.
    let denied = app
        .handle(ApiRequest::AddCaseEvent {
            id: case,
            kind: CaseEventKind::WhistleBlown,
            note: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code, ErrorCode::NotPermitted);
    assert!(
        denied.message.zh.contains("网格员"),
        "{}",
        denied.message.zh
    );
    // An invalid new case lists every broken field, in both languages.
    let invalid = app
        .handle(ApiRequest::CreateCase(NewCase {
            grid: grids[0].code.clone(),
            ..NewCase::default()
        }))
        .await
        .unwrap_err();
    let fields: Vec<&str> = invalid.fields.iter().map(|f| f.field.as_str()).collect();
    assert!(
        fields.contains(&"title") && fields.contains(&"parties"),
        "{fields:?}"
    );
    assert!(
        invalid
            .fields
            .iter()
            .all(|f| !f.message.zh.is_empty() && !f.message.en.is_empty())
    );

    // Drafts: saved, found again, cleared.
    let draft = created(
        ok(
            &app,
            ApiRequest::SaveDraft {
                id: None,
                form: "case".into(),
                data: json!({"title": "半"}),
            },
        )
        .await,
    );
    ok(
        &app,
        ApiRequest::SaveDraft {
            id: Some(draft),
            form: "case".into(),
            data: json!({"title": "半句话"}),
        },
    )
    .await;
    let ApiResponse::Draft(Some(d)) = ok(
        &app,
        ApiRequest::GetDraft {
            form: "case".into(),
        },
    )
    .await
    else {
        panic!("draft")
    };
    assert_eq!((d.id, d.data["title"].as_str()), (draft, Some("半句话")));
    ok(&app, ApiRequest::ClearDraft { id: draft }).await;
    assert_eq!(
        ok(
            &app,
            ApiRequest::GetDraft {
                form: "case".into()
            }
        )
        .await,
        ApiResponse::Draft(None)
    );

    // Offline: sync fails as unreachable, the status says so, nothing is lost.
    let down = app.handle(ApiRequest::SyncNow).await.unwrap_err();
    assert_eq!(down.code, ErrorCode::Unreachable);
    let ApiResponse::Status(st) = ok(&app, ApiRequest::Status).await else {
        panic!("status")
    };
    assert_eq!(st.online, Some(false));
    assert!(st.pending >= 2, "patrol and case wait: {}", st.pending);
    assert_eq!(st.scope_name, "小寨子社区第1网格");

    // Back online: sync, and another device sees and escalates the case.
    let srv = server(&tmp.path().join("srv"), addr, false).await;
    ok(&app, ApiRequest::SyncNow).await;
    let ApiResponse::Status(st) = ok(&app, ApiRequest::Status).await else {
        panic!("status")
    };
    assert_eq!((st.online, st.pending), (Some(true), 0));
    let street = App::open(&tmp.path().join("street"), AppConfig::default()).unwrap();
    login(&street, &url, "street").await;
    ok(&street, ApiRequest::SyncNow).await;
    ok(
        &street,
        ApiRequest::AddCaseEvent {
            id: case,
            kind: CaseEventKind::Escalated { to: Level::Street },
            note: String::new(),
        },
    )
    .await;
    ok(&street, ApiRequest::SyncNow).await;
    ok(&app, ApiRequest::SyncNow).await;
    let ApiResponse::Records(rows) = ok(
        &app,
        ApiRequest::ListRecords {
            filter: RecordFilter {
                kind: Some("case".into()),
                ..RecordFilter::default()
            },
        },
    )
    .await
    else {
        panic!("rows")
    };
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].level, Some(Level::Street));
    let ApiResponse::Records(all) = ok(
        &app,
        ApiRequest::ListRecords {
            filter: RecordFilter::default(),
        },
    )
    .await
    else {
        panic!("rows")
    };
    assert!(
        all.iter().all(|r| r.kind != "draft"),
        "drafts stay out of lists"
    );

    // Sign-out removes the local data.
    ok(&app, ApiRequest::Logout).await;
    let ApiResponse::Status(st) = ok(&app, ApiRequest::Status).await else {
        panic!("status")
    };
    assert!(st.user.is_none());
    let ApiResponse::Records(none) = ok(
        &app,
        ApiRequest::ListRecords {
            filter: RecordFilter::default(),
        },
    )
    .await
    else {
        panic!("rows")
    };
    assert!(none.is_empty());
    srv.shutdown().await;
}
