//! End to end, in the real app window (Tauri + WebKitGTK under Xvfb, driven through
//! tauri-driver and WebKitWebDriver), against a real sync server:
//!
//! a grid worker signs in; records a patrol with a finding, a location and a photo while the
//! server is down; raises a case from the finding; the server comes back and the app syncs; a
//! street officer's device sees the case and escalates it; the app shows the escalation after
//! its next sync; both edit the case title offline, and the conflict shows on the conflicts
//! screen and is settled there. Screenshots of every screen, in Chinese and English.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Ui, check_dist, seeded_server, start_server, tauri_session};
use gridwork_core::app::{App, AppConfig};
use gridwork_schema::api::{ApiRequest, ApiResponse, RecordFilter};
use gridwork_schema::{CaseEventKind, Level, Record};
use serde_json::json;

const FINDING: &str = "3号楼楼道堆放杂物，堵塞消防通道";

async fn call(app: &App, request: ApiRequest) -> ApiResponse {
    let op = request.op();
    app.handle(request)
        .await
        .unwrap_or_else(|e| panic!("second device: {op} failed: {e}"))
}

/// The street officer's device (the core's command API, as the app uses it).
async fn second_device(dir: &Path, server: &str) -> App {
    let app = App::open(dir, AppConfig::default()).expect("device store");
    call(
        &app,
        ApiRequest::Login {
            server: server.into(),
            user: "street".into(),
            password: gridwork_schema::territory::demo::PASSWORD.into(),
        },
    )
    .await;
    app
}

async fn the_case(app: &App) -> (gridwork_schema::RecordId, gridwork_schema::Case) {
    let ApiResponse::Records(rows) = call(
        app,
        ApiRequest::ListRecords {
            filter: RecordFilter {
                kind: Some("case".into()),
                ..RecordFilter::default()
            },
        },
    )
    .await
    else {
        panic!("records expected")
    };
    assert_eq!(rows.len(), 1, "the second device sees exactly the one case");
    let id = rows[0].id.parse().expect("case id");
    let ApiResponse::Record(view) = call(app, ApiRequest::GetRecord { id }).await else {
        panic!("record expected")
    };
    match view.record {
        Some(Record::Case(c)) => (id, c),
        other => panic!("a case expected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_worker_offline_patrol_case_escalation_and_conflict_in_the_app_window() {
    check_dist();
    let tmp = tempfile::tempdir().expect("temp dir");
    let server_dir = tmp.path().join("server");
    let app_dir = tmp.path().join("app");
    let server = seeded_server(&server_dir).await;
    let addr = server.local_addr();
    let url = server.url();

    let app_bin = Path::new(env!("CARGO_BIN_EXE_gridwork-app"));
    // Fresh WebKit caches too, so no earlier build's UI files are served from a cache.
    let xdg = tmp.path().join("xdg");
    let env = [
        ("GRIDWORK_DATA", app_dir.as_path()),
        ("XDG_DATA_HOME", &xdg.join("data")),
        ("XDG_CACHE_HOME", &xdg.join("cache")),
    ];
    let driver = tauri_session(app_bin, &env, &url).await;
    let _ = driver.client.set_window_size(360, 740).await;
    let ui = Ui::new(&driver);

    // First run: the server address is offered; sign in.
    ui.wait("#login-user").await;
    let offered = ui
        .wait("#login-server")
        .await
        .prop("value")
        .await
        .ok()
        .flatten();
    assert_eq!(
        offered.as_deref(),
        Some(url.as_str()),
        "first run offers GRIDWORK_SERVER"
    );
    ui.shot("zh-login").await;
    ui.type_keys("#login-user", "grid").await;
    ui.type_keys("#login-password", "gridwork").await;
    ui.click("#login-submit").await;
    ui.wait_text("#home-who", "张伟").await;
    ui.wait_attr("#sync-state", "data-state", "online").await;
    ui.shot("zh-home").await;

    // The server goes down; the patrol is recorded offline.
    server.shutdown().await;
    ui.click("#start-patrol").await;
    ui.wait("#grid-choices .choice.selected").await;
    ui.shot("zh-patrol-start").await;
    ui.click("#patrol-begin").await;
    ui.wait("#patrol-checklist input[type=checkbox]").await;
    ui.click("#patrol-checklist input[data-item=safety]").await;
    ui.fill("#finding-text", FINDING).await;
    ui.click("#add-finding").await;
    ui.wait_text("#patrol-findings", FINDING).await;
    ui.fill("#lat", "36.30612").await;
    ui.fill("#lon", "120.37241").await;
    ui.click("#save-location").await;
    ui.wait_text("#location-value", "36.30612").await;
    ui.pick_photo().await;
    ui.wait("#patrol-photos .photo img").await;
    // The save woke the background sync, which found no server.
    ui.wait_attr("#sync-state", "data-state", "offline").await;
    ui.shot("zh-patrol-offline").await;

    // One tap raises a case from the finding.
    ui.click("#patrol-findings button[data-action=raise-case]")
        .await;
    ui.wait_text("#case-title", "3号楼楼道堆放杂物").await;
    ui.wait_text("#case-timeline", "登记").await;
    ui.shot("zh-case-offline").await;
    let pending = ui.text("#sync-state").await;
    assert!(
        !pending.contains("待同步 0"),
        "changes wait for the server: {pending}"
    );

    // The server is back: sync now.
    let server = start_server(&server_dir, addr).await;
    ui.sync_now().await;
    ui.wait_attr("#sync-state", "data-state", "online").await;
    ui.wait_text("#sync-state", "待同步 0").await;

    // A street officer's device sees the case, with the photo's patrol, and escalates it.
    let street = second_device(&tmp.path().join("street"), &url).await;
    call(&street, ApiRequest::SyncNow).await;
    let (case_id, case) = the_case(&street).await;
    assert!(case.description.contains(FINDING));
    let patrol = case.from_patrol.expect("the case names its patrol");
    let ApiResponse::Record(pv) = call(&street, ApiRequest::GetRecord { id: patrol }).await else {
        panic!("patrol expected")
    };
    let Some(Record::Patrol(p)) = pv.record else {
        panic!("a patrol")
    };
    assert_eq!(
        p.photos.len(),
        1,
        "the photo reached the server with its patrol"
    );
    assert!(p.location.is_some());
    let ApiResponse::Photo(photo) = call(
        &street,
        ApiRequest::GetPhoto {
            sha256: p.photos[0].sha256.clone(),
            media_type: p.photos[0].media_type.clone(),
        },
    )
    .await
    else {
        panic!("photo expected")
    };
    assert!(!photo.data.is_empty(), "the photo's bytes were uploaded");
    call(
        &street,
        ApiRequest::AddCaseEvent {
            id: case_id,
            kind: CaseEventKind::Escalated { to: Level::Street },
            note: "需街道协调物业".into(),
        },
    )
    .await;
    call(&street, ApiRequest::SyncNow).await;

    // The app shows the escalation after its next sync.
    ui.sync_now().await;
    ui.wait_text("#case-level", "街道").await;
    ui.wait("#case-timeline li[data-event=escalated]").await;
    ui.wait_text("#case-timeline", "需街道协调物业").await;
    ui.shot("zh-case-escalated").await;

    // A conflict on purpose: both change the title while neither has the other's edit.
    call(
        &street,
        ApiRequest::SetField {
            id: case_id,
            field: "title".into(),
            value: json!("街道：消防通道堵塞"),
        },
    )
    .await;
    ui.click("#edit-title").await;
    ui.fill("#edit-title-input", "网格员：楼道杂物堵塞").await;
    ui.click("#save-title").await;
    ui.wait_text("#case-title", "网格员：楼道杂物堵塞").await;
    ui.sync_now().await;
    ui.wait_text("#sync-state", "待同步 0").await;
    call(&street, ApiRequest::SyncNow).await;
    ui.sync_now().await;
    ui.click("#conflict-banner").await;
    ui.wait_text("#screen-title", "编辑冲突").await;
    ui.wait(".conflict[data-field=title]").await;
    let card = ui.text(".conflict[data-field=title]").await;
    assert!(
        card.contains("街道：消防通道堵塞") && card.contains("网格员：楼道杂物堵塞"),
        "{card}"
    );
    assert!(
        card.contains("刘强") && card.contains("张伟"),
        "who made each edit: {card}"
    );
    ui.shot("zh-conflicts").await;

    // Settled on the conflicts screen: keep the street officer's title.
    let keep = ui
        .js(
            "const cards = [...document.querySelectorAll('.conflict[data-field=title] .choice-card')];
             const i = cards.findIndex(c => c.textContent.includes('街道：消防通道堵塞'));
             cards[i].querySelector('button').click();
             return i;",
        )
        .await;
    assert!(
        keep.as_i64().is_some_and(|i| i >= 0),
        "a card with the street's value: {keep}"
    );
    ui.wait("#no-conflicts").await;
    ui.sync_now().await;
    ui.wait_text("#sync-state", "待同步 0").await;
    call(&street, ApiRequest::SyncNow).await;
    let (_, settled) = the_case(&street).await;
    assert_eq!(settled.title, "街道：消防通道堵塞");
    let ApiResponse::Conflicts(left) = call(&street, ApiRequest::Conflicts).await else {
        panic!("conflicts expected")
    };
    assert!(
        left.is_empty(),
        "the settlement reached the other device: {left:?}"
    );

    // The other screens, in Chinese, then everything again in English.
    ui.click("#tab-search").await;
    ui.wait("#search-results .row").await;
    ui.shot("zh-search").await;
    ui.click("#search-results .row[data-kind=case]").await;
    ui.click("#open-history").await;
    ui.wait("#history-changes li").await;
    ui.shot("zh-history").await;
    ui.tab("settings", "设置").await;
    ui.shot("zh-settings").await;
    ui.click("#lang-en").await;
    ui.wait_text("#screen-title", "Settings").await;
    ui.shot("en-settings").await;
    ui.tab("home", "Gridwork").await;
    ui.wait_text("#home-cases", "Open cases").await;
    ui.shot("en-home").await;
    ui.click("#home-patrols .row").await;
    ui.wait_text("#patrol-checklist", "Checklist").await;
    ui.shot("en-patrol").await;
    ui.tab("search", "Search").await;
    ui.click("#search-results .row[data-kind=case]").await;
    ui.wait_text("#case-timeline", "Timeline").await;
    ui.shot("en-case").await;
    ui.click("#open-history").await;
    ui.wait("#history-changes li").await;
    ui.shot("en-history").await;
    ui.tab("conflicts", "Conflicts").await;
    ui.wait("#no-conflicts").await;
    ui.shot("en-conflicts").await;
    ui.tab("search", "Search").await;
    ui.shot("en-search").await;

    driver.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.shutdown().await;
}
