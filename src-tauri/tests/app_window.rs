//! End to end, in the real app window (Tauri + WebKitGTK under Xvfb, driven through
//! tauri-driver and WebKitWebDriver), against a real sync server:
//!
//! a grid worker signs in; records a patrol with a finding, a location and a photo while the
//! server is down; raises a case from the finding; the server comes back and the app syncs; a
//! street officer's device sees the case and escalates it; the app shows the escalation after
//! its next sync; both edit the case title offline, and the conflict shows on the conflicts
//! screen and is settled there.
//!
//! And every screen of every role in the app window, in Chinese and in English, with
//! screenshots (`tauri-{zh,en}-…`) and a check that English screens show no stray Chinese.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{
    Driver, Ui, assert_translated, check_dist, overdue_petition, seeded_server, select, sign_in,
    sign_out, start_server, tauri_session,
};
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

/// One app window at a time: two WebKit windows at once would only slow each other down.
static WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts the app in a 360×740 window on the device folder `dir`, with fresh WebKit caches
/// (so no earlier build's UI files are served from a cache).
async fn app_window(dir: &Path, server: &str) -> Driver {
    let app_bin = Path::new(env!("CARGO_BIN_EXE_gridwork-app"));
    let xdg = dir.join("xdg");
    let data = dir.join("app");
    let env = [
        ("GRIDWORK_DATA", data.as_path()),
        ("XDG_DATA_HOME", &xdg.join("data")),
        ("XDG_CACHE_HOME", &xdg.join("cache")),
    ];
    let driver = tauri_session(app_bin, &env, server).await;
    let _ = driver.client.set_window_size(360, 740).await;
    driver
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_worker_offline_patrol_case_escalation_and_conflict_in_the_app_window() {
    check_dist();
    let _window = WINDOW.lock().await;
    let tmp = tempfile::tempdir().expect("temp dir");
    let server_dir = tmp.path().join("server");
    let server = seeded_server(&server_dir).await;
    let addr = server.local_addr();
    let url = server.url();

    let driver = app_window(tmp.path(), &url).await;
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
    ui.shot("zh-first-run").await;
    ui.type_keys("#login-user", "grid").await;
    ui.type_keys("#login-password", "gridwork").await;
    ui.click("#login-submit").await;
    ui.wait_text("#home-who", "张伟").await;
    ui.wait_attr("#sync-state", "data-state", "online").await;

    // The server goes down; the patrol is recorded offline.
    server.shutdown().await;
    ui.click("#start-patrol").await;
    ui.wait("#grid-choices .choice.selected").await;
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
    ui.shot("zh-conflict-title").await;

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

    driver.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.shutdown().await;
}

/// Screenshots the screen as `tauri-{zh,en}-<screen>`; fails on stray Chinese in English.
async fn look(ui: &Ui<'_>, en: bool, screen: &str) {
    // Not mid-sync: the sync bar's progress would stand in for its usual state.
    if ui.exists("#sync-now").await {
        ui.wait("#sync-now:not([disabled])").await;
    }
    ui.shot(&format!("{}-{screen}", if en { "en" } else { "zh" }))
        .await;
    if en {
        assert_translated(ui, screen).await;
    }
}

/// The grid worker's screens: login, home, an overdue petition, a new petition, a new case
/// (with validation errors) referred to mediation, its history, a patrol, search, conflicts
/// and settings.
async fn grid_worker_screens(ui: &Ui<'_>, en: bool, server: &str) {
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let check = |screen: &'static str| look(ui, en, screen);

    ui.wait("#login-user").await;
    if en {
        ui.click("#lang-en").await;
        ui.wait_text("#login-submit", "Sign in").await;
    }
    ui.fill("#login-server", "").await;
    ui.click("#login-submit").await;
    ui.wait_text(".login .field-error", t("为必填项", "is required"))
        .await;
    check("login").await;
    sign_in(ui, server, "grid", "张伟").await;
    ui.wait("#home-petitions .row").await;
    check("home").await;

    // The overdue first petition seeded on the device.
    ui.click("#home-petitions .row").await;
    ui.wait("#petition-steps .step.overdue").await;
    check("petition").await;
    ui.click("#back").await;

    // A new petition: 0 persons refused as you type; a step marked done.
    ui.click("#new-petition").await;
    ui.wait_text("#screen-title", t("登记信访", "New petition"))
        .await;
    ui.fill(
        "#petition-subject",
        t("小区停车收费争议", "Parking fees in the estate"),
    )
    .await;
    ui.fill(".party-name", t("刘洋", "Liu Yang")).await;
    ui.fill("#petition-persons", "0").await;
    ui.wait_text(
        "p.field-error[data-field=persons]",
        t("人数至少为1", "must count at least one person"),
    )
    .await;
    ui.click("#channel-letter").await;
    // The date spelled out, as WebKit's date input reads MM/DD/YYYY in every language.
    ui.wait_text(".date-hint", t("星期", " 20")).await;
    check("petition-new").await;
    ui.fill("#petition-persons", "2").await;
    ui.wait_gone("p.field-error").await;
    ui.click("#petition-submit").await;
    ui.wait("#petition-steps .step").await;
    ui.click("#petition-steps .step[data-step=speed_up-1] .step-done")
        .await;
    ui.fill(
        ".step-note-input",
        t("当日登记并交办", "Registered and assigned the same day"),
    )
    .await;
    ui.click(".step-save").await;
    ui.wait("#petition-steps .step[data-step=speed_up-1] .badge.st-done")
        .await;
    check("petition-detail").await;

    // A new case: validation as you type, then saved, alerted and referred to mediation.
    ui.tab("home", t("网格通", "Gridwork")).await;
    ui.click("#new-case").await;
    ui.wait_text("#screen-title", t("登记事项", "New case"))
        .await;
    ui.fill("#case-title", "x").await;
    ui.fill("#case-title", "").await;
    ui.wait_text("p.field-error", t("为必填项", "is required"))
        .await;
    ui.fill(".party-phone", "12345").await;
    ui.wait_text(
        "p.field-error[data-field='parties[0].phone']",
        t(
            "不是有效的手机或固定电话号码",
            "is not a valid mobile or landline number",
        ),
    )
    .await;
    check("case-new-invalid").await;
    ui.fill("#case-title", t("邻里噪音纠纷", "Noise between neighbours"))
        .await;
    ui.fill(".party-name", t("王秀英", "Wang Xiuying")).await;
    ui.fill(".party-phone", "13812345678").await;
    ui.fill(
        "#case-description",
        t(
            "楼上夜间装修，楼下要求停工。",
            "Renovation upstairs at night; the neighbour downstairs wants it stopped.",
        ),
    )
    .await;
    ui.wait_gone("p.field-error").await;
    ui.click("#case-submit").await;
    ui.wait("#case-actions").await;
    ui.click("#action-alert").await;
    ui.wait("#case-timeline li[data-event=alerted]").await;
    ui.click("#action-mediation").await;
    ui.wait("#case-mediation").await;
    check("case").await;
    ui.click("#open-history").await;
    ui.wait("#history-changes li").await;
    check("history").await;

    // A patrol: a special screening needs a theme.
    ui.tab("patrol", t("开始排查", "Start a patrol")).await;
    ui.click("#kind-special").await;
    ui.click("#patrol-begin").await;
    ui.wait_text(
        "p.field-error",
        t("专项排查须填写主题", "A special screening needs a theme"),
    )
    .await;
    check("patrol-start").await;
    ui.fill("#patrol-theme", t("燃气安全", "Gas safety")).await;
    ui.click("#patrol-begin").await;
    ui.click("#patrol-checklist input[type=checkbox]").await;
    ui.fill(
        "#finding-text",
        t("2号楼燃气管道老化", "Old gas pipes in building 2"),
    )
    .await;
    ui.click("#add-finding").await;
    ui.wait("#patrol-findings button[data-action=raise-case]")
        .await;
    ui.pick_photo().await;
    ui.wait("#patrol-photos .photo img").await;
    check("patrol").await;

    ui.tab("search", t("查询", "Search")).await;
    ui.wait("#search-results .row[data-kind=case]").await;
    check("search").await;
    ui.tab("conflicts", t("编辑冲突", "Conflicts")).await;
    ui.wait("#no-conflicts").await;
    check("conflicts").await;
    ui.tab("settings", t("设置", "Settings")).await;
    ui.wait_text("#settings-role", t("网格员", "Grid worker"))
        .await;
    check("settings").await;
    if !en {
        // The switch in settings changes the language at once, and back.
        ui.click("#lang-en").await;
        ui.wait_text("#screen-title", "Settings").await;
        ui.click("#lang-zh").await;
        ui.wait_text("#screen-title", "设置").await;
    }
    sign_out(ui, t("设置", "Settings")).await;
}

/// The mediator takes on the case the grid worker referred: the mediation form linked to it,
/// the mediator's home, a session, and the outcome with a hand-off.
async fn mediator_screens(ui: &Ui<'_>, en: bool, server: &str) {
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let check = |screen: &'static str| look(ui, en, screen);
    sign_in(ui, server, "mediator", "王芳").await;
    ui.click("#home-cases .row[data-kind=case]").await;
    ui.click("#case-new-mediation").await;
    ui.wait_text(
        "#mediation-case",
        t("邻里噪音纠纷", "Noise between neighbours"),
    )
    .await;
    ui.fill("#mediation-legal", "李娜").await;
    check("mediation-new").await;
    ui.click("#mediation-submit").await;
    ui.wait("#mediation-head").await;
    ui.tab("home", t("网格通", "Gridwork")).await;
    ui.wait("#home-mediations .row[data-kind=mediation]").await;
    check("home-mediator").await;
    ui.click("#home-mediations .row[data-kind=mediation]").await;
    ui.wait("#session-form").await;
    ui.fill(
        "#session-attendees",
        t("王秀英，李建国", "Wang Xiuying, Li Jianguo"),
    )
    .await;
    ui.fill(
        "#session-notes",
        t(
            "双方同意晚十点后保持安静。",
            "Both agree to keep quiet after 10 pm.",
        ),
    )
    .await;
    ui.click("#session-add").await;
    ui.wait("#mediation-sessions .session").await;
    ui.click("#outcome-agreed").await;
    ui.wait_text(
        "p.field-error[data-field=agreement]",
        t("为必填项", "is required"),
    )
    .await;
    ui.click("#outcome-partial").await;
    ui.fill(
        "#mediation-agreement-input",
        t("晚十点后不再装修。", "No renovation work after 10 pm."),
    )
    .await;
    select(ui, "#mediation-handoff-select", "litigation").await;
    ui.click("#outcome-save").await;
    ui.wait_text("#mediation-handoff", t("诉讼", "Litigation"))
        .await;
    check("mediation").await;
    sign_out(ui, t("设置", "Settings")).await;
}

/// A leader schedules a reception session, logs a visit, and sees the schedule and home.
async fn leader_screens(ui: &Ui<'_>, en: bool, server: &str) {
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let check = |screen: &'static str| look(ui, en, screen);
    sign_in(ui, server, "leader", "赵刚").await;
    ui.click("#open-receptions").await;
    ui.click("#reception-new").await;
    ui.wait("#reception-street option").await;
    ui.fill("#reception-site", "x").await;
    ui.fill("#reception-site", "").await;
    ui.wait_text(
        "p.field-error[data-field=site]",
        t("为必填项", "is required"),
    )
    .await;
    check("reception-new").await;
    ui.fill(
        "#reception-site",
        t("城阳街道信访接待室", "Chengyang street reception room"),
    )
    .await;
    ui.click("#reception-named").await;
    ui.click("#reception-submit").await;
    ui.wait("#visit-form").await;
    ui.fill("#visit-persons", "0").await;
    ui.wait_text(
        "p.field-error[data-field='visit.persons']",
        t("人数至少为1", "must count at least one person"),
    )
    .await;
    ui.fill("#visit-persons", "3").await;
    ui.fill(
        "#visit-summary",
        t("楼上夜间装修", "Renovation upstairs at night"),
    )
    .await;
    // The visit concerns the grid worker's case: linked through the picker.
    ui.wait("#visit-case option[value]:not([value=''])").await;
    ui.js(
        "const s = document.getElementById('visit-case'); s.value = s.options[1].value;
           s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
    )
    .await;
    ui.click("#visit-add").await;
    ui.wait_text(
        "#reception-counts",
        t("1起，3人次", "1 case(s), 3 person-visit(s)"),
    )
    .await;
    ui.wait("#reception-visits .visit-case").await;
    check("reception-session").await;
    ui.click("#reception-visits .visit-case").await;
    ui.wait_text("#case-title", t("邻里噪音纠纷", "Noise between neighbours"))
        .await;
    ui.click("#back").await;
    ui.wait("#visit-form").await;
    ui.click("#back").await;
    ui.wait("#reception-upcoming .reception-row").await;
    check("reception").await;
    ui.tab("home", t("网格通", "Gridwork")).await;
    ui.wait("#home-receptions .row[data-kind=reception]").await;
    check("home-leader").await;
    sign_out(ui, t("设置", "Settings")).await;
}

/// The supervisor's screens: home (the place for the supervisors' screens).
async fn supervisor_screens(ui: &Ui<'_>, en: bool, server: &str) {
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    sign_in(ui, server, "supervisor", "孙丽").await;
    look(ui, en, "home-supervisor").await;
    // The dashboard over what the other roles synced: the district, a street, and the
    // records behind a figure.
    ui.click("#open-dashboard").await;
    ui.wait_text("#screen-title", t("统计分析", "Dashboard"))
        .await;
    ui.wait("#grassroots-share").await;
    ui.wait("#chart-trend polyline").await;
    look(ui, en, "dashboard").await;
    ui.click("#table-areas .drill[data-code='370214001']").await;
    ui.wait_text("#report-crumbs", "城阳街道").await;
    look(ui, en, "dashboard-street").await;
    ui.click("#fig-found").await;
    ui.wait_text("#screen-title", t("统计明细", "Records behind a figure"))
        .await;
    ui.wait("#report-records .row").await;
    look(ui, en, "dashboard-records").await;
    ui.click("#back").await;
    ui.click("#back").await;
    sign_out(ui, t("设置", "Settings")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_of_every_role_in_the_app_window_in_both_languages() {
    check_dist();
    let _window = WINDOW.lock().await;
    let tmp = tempfile::tempdir().expect("temp dir");
    for en in [false, true] {
        let l = if en { "en" } else { "zh" };
        // A server and a device per language, so English screens show no Chinese data.
        let dir = tmp.path().join(l);
        let server = seeded_server(&dir.join("server")).await;
        let url = server.url();
        {
            let device = App::open(&dir.join("app"), AppConfig::default()).expect("device");
            overdue_petition(&device, en);
        }
        let driver = app_window(&dir, &url).await;
        let ui = Ui::new(&driver);
        grid_worker_screens(&ui, en, &url).await;
        mediator_screens(&ui, en, &url).await;
        leader_screens(&ui, en, &url).await;
        supervisor_screens(&ui, en, &url).await;
        driver.close().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.shutdown().await;
    }
}
