//! The same UI in headless Chromium (the engine of Android's WebView) at 360×740, through the
//! plain-browser transport (`serve_ui`: `ui/dist` and `POST /api`): a smoke test of every
//! screen in Chinese and in English, with screenshots, validation as you type, a draft that
//! survives leaving the form, and a check that English screens show no untranslated labels.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use common::{
    Ui, assert_translated, check_dist, chromium_session, free_port, overdue_petition,
    seeded_server, select, sign_in, sign_out,
};
use gridwork_core::app::{App, AppConfig};
use gridwork_core::doc::Author;
use gridwork_schema::{Lang, Party, Record, RecordId, UserRef};

async fn smoke(lang: Lang, url: &str, server: &str, profile: PathBuf) {
    let en = lang == Lang::En;
    let l = if en { "en" } else { "zh" };
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let driver = chromium_session(&profile, 360, 740).await;
    let ui = Ui::new(&driver);
    driver.client.goto(url).await.expect("UI loads");
    ui.wait("#login-user").await;
    if en {
        ui.click("#lang-en").await;
        ui.wait_text("#login-submit", "Sign in").await;
    }
    // Required fields are checked before anything is sent.
    ui.fill("#login-server", "").await;
    ui.click("#login-submit").await;
    ui.wait_text(".login .field-error", t("为必填项", "is required"))
        .await;
    ui.shot(&format!("{l}-login")).await;
    ui.fill("#login-server", server).await;
    ui.type_keys("#login-user", "grid").await;
    ui.type_keys("#login-password", "gridwork").await;
    ui.click("#login-submit").await;
    ui.wait_text("#home-who", "张伟").await;
    ui.wait_attr("#sync-state", "data-state", "online").await;
    ui.shot(&format!("{l}-home")).await;
    if en {
        assert_translated(&ui, "home").await;
    }

    // The overdue first petition stands out on the home screen and in its steps.
    ui.click("#home-petitions .row").await;
    ui.wait("#petition-steps .step.overdue").await;
    ui.shot(&format!("{l}-petition")).await;
    if en {
        assert_translated(&ui, "petition").await;
    }
    ui.click("#back").await;

    // A new case: validation as you type, and a draft that survives leaving the form.
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
    ui.shot(&format!("{l}-case-new-invalid")).await;
    if en {
        assert_translated(&ui, "case-new").await;
    }
    let title = t("楼上漏水纠纷", "Leak from the flat upstairs");
    ui.fill("#case-title", title).await;
    ui.fill(".party-name", t("王秀英", "Wang Xiuying")).await;
    ui.fill(".party-phone", "13812345678").await;
    ui.fill(
        "#case-description",
        t(
            "楼上漏水，楼下要求赔偿。",
            "Water leaks through the ceiling; the neighbour downstairs wants repairs paid.",
        ),
    )
    .await;
    ui.wait_gone("p.field-error").await;
    tokio::time::sleep(std::time::Duration::from_millis(900)).await; // the draft saves
    ui.click("#back").await;
    ui.click("#new-case").await;
    ui.wait("#draft-restored").await;
    let kept = ui
        .wait("#case-title")
        .await
        .prop("value")
        .await
        .ok()
        .flatten();
    assert_eq!(
        kept.as_deref(),
        Some(title),
        "the draft kept what was typed"
    );
    ui.shot(&format!("{l}-case-new-draft")).await;
    ui.click("#case-submit").await;
    ui.wait_text("#case-title", title).await;
    ui.click("#action-alert").await;
    ui.wait("#case-timeline li[data-event=alerted]").await;
    assert!(
        !ui.exists("#action-whistle").await,
        "a grid worker may not blow the whistle"
    );
    assert!(ui.exists("#action-resolve-community").await);
    assert!(!ui.exists("#action-resolve-street").await);
    ui.shot(&format!("{l}-case")).await;
    if en {
        assert_translated(&ui, "case").await;
    }
    ui.click("#open-history").await;
    ui.wait("#history-changes li").await;
    ui.shot(&format!("{l}-history")).await;

    // A patrol: a special screening needs a theme.
    ui.tab("patrol", t("开始排查", "Start a patrol")).await;
    ui.click("#kind-special").await;
    ui.click("#patrol-begin").await;
    ui.wait_text(
        "p.field-error",
        t("专项排查须填写主题", "A special screening needs a theme"),
    )
    .await;
    ui.shot(&format!("{l}-patrol-start")).await;
    if en {
        assert_translated(&ui, "patrol-start").await;
    }
    ui.fill("#patrol-theme", t("燃气安全", "Gas safety")).await;
    ui.click("#patrol-begin").await;
    ui.wait("#patrol-checklist input[type=checkbox]").await;
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
    ui.shot(&format!("{l}-patrol")).await;
    if en {
        assert_translated(&ui, "patrol").await;
    }

    ui.tab("search", t("查询", "Search")).await;
    ui.wait("#search-results .row[data-kind=case]").await;
    ui.shot(&format!("{l}-search")).await;
    ui.fill("#search-text", if en { "gas" } else { "燃气" })
        .await;
    ui.wait_text("#search-results", t("专项排查", "Special screening"))
        .await;

    ui.tab("conflicts", t("编辑冲突", "Conflicts")).await;
    ui.wait("#no-conflicts").await;
    ui.shot(&format!("{l}-conflicts")).await;

    ui.tab("settings", t("设置", "Settings")).await;
    ui.wait_text("#settings-role", t("网格员", "Grid worker"))
        .await;
    ui.shot(&format!("{l}-settings")).await;
    if en {
        assert_translated(&ui, "settings").await;
    }
    // Signing out asks once more, then removes the local data.
    ui.click("#sign-out").await;
    ui.wait_text("#sign-out", t("确认", "Confirm")).await;
    ui.click("#sign-out").await;
    ui.wait("#login-user").await;
    driver.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_in_headless_chromium_at_360_px_in_both_languages() {
    let dist = check_dist();
    let tmp = tempfile::tempdir().expect("temp dir");
    for lang in [Lang::ZhCn, Lang::En] {
        // A server per language, so the English run shows no Chinese data from the first.
        let server = seeded_server(&tmp.path().join(format!("server-{}", lang.code()))).await;
        let server_url = server.url();
        let dir = tmp.path().join(format!("device-{}", lang.code()));
        let config = AppConfig {
            default_server: server_url.clone(),
            ..AppConfig::default()
        };
        let app = Arc::new(App::open(&dir, config).expect("device store"));
        overdue_petition(&app, lang == Lang::En);
        tokio::spawn(app.clone().run_sync_loop());
        let port = free_port();
        let listen = SocketAddr::from(([127, 0, 0, 1], port));
        let serving = tokio::spawn(gridwork_app_lib::serve_ui::serve(
            app,
            dist.clone(),
            listen,
            |_| {},
        ));
        let profile = tmp.path().join(format!("chromium-{}", lang.code()));
        smoke(lang, &format!("http://{listen}/"), &server_url, profile).await;
        serving.abort();
        server.shutdown().await;
    }
}

async fn new_screens(lang: Lang, url: &str, server: &str, profile: PathBuf) {
    let en = lang == Lang::En;
    let l = if en { "en" } else { "zh" };
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let driver = chromium_session(&profile, 360, 740).await;
    let ui = Ui::new(&driver);
    driver.client.goto(url).await.expect("UI loads");
    ui.wait("#login-user").await;
    if en {
        ui.click("#lang-en").await;
        ui.wait_text("#login-submit", "Sign in").await;
    }
    let settings = t("设置", "Settings");

    // Grid worker: a first petition (0 persons refused as you type), one step marked done.
    sign_in(&ui, server, "grid", "张伟").await;
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
    ui.shot(&format!("{l}-petition-new")).await;
    if en {
        assert_translated(&ui, "petition-new").await;
    }
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
    ui.shot(&format!("{l}-petition-detail")).await;
    if en {
        assert_translated(&ui, "petition-detail").await;
    }

    // A case referred to mediation goes on to the mediation form, linked to it.
    ui.tab("home", t("网格通", "Gridwork")).await;
    ui.click("#new-case").await;
    ui.fill("#case-title", t("邻里噪音纠纷", "Noise between neighbours"))
        .await;
    ui.fill(".party-name", t("王秀英", "Wang Xiuying")).await;
    ui.fill(".party-phone", "13812345678").await;
    ui.click("#case-submit").await;
    ui.wait("#case-actions").await;
    ui.click("#action-mediation").await;
    ui.wait("#case-mediation").await;
    sign_out(&ui, settings).await;

    // The mediator takes the referred case on: the mediation form is linked to it.
    sign_in(&ui, server, "mediator", "王芳").await;
    ui.click("#home-cases .row[data-kind=case]").await;
    ui.click("#case-new-mediation").await;
    ui.wait_text(
        "#mediation-case",
        t("邻里噪音纠纷", "Noise between neighbours"),
    )
    .await;
    ui.fill("#mediation-legal", "李娜").await;
    ui.shot(&format!("{l}-mediation-new")).await;
    if en {
        assert_translated(&ui, "mediation-new").await;
    }
    ui.click("#mediation-submit").await;
    ui.wait("#mediation-head").await;
    ui.click("#mediation-open-case").await;
    ui.wait("#case-open-mediation").await;
    ui.tab("home", t("网格通", "Gridwork")).await;
    ui.wait("#home-mediations .row[data-kind=mediation]").await;
    ui.shot(&format!("{l}-home-mediator")).await;
    if en {
        assert_translated(&ui, "home-mediator").await;
    }
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
    // Agreed needs the agreement text: the schema's message shows before saving.
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
    select(&ui, "#mediation-handoff-select", "litigation").await;
    ui.click("#outcome-save").await;
    ui.wait_text("#mediation-handoff", t("诉讼", "Litigation"))
        .await;
    ui.shot(&format!("{l}-mediation")).await;
    if en {
        assert_translated(&ui, "mediation").await;
    }
    sign_out(&ui, settings).await;

    // A leader schedules a reception session and logs its visits (0 persons refused).
    sign_in(&ui, server, "leader", "赵刚").await;
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
    ui.shot(&format!("{l}-reception-new")).await;
    if en {
        assert_translated(&ui, "reception-new").await;
    }
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
        t("拆迁补偿", "Compensation for demolition"),
    )
    .await;
    ui.click("#visit-add").await;
    ui.wait_text(
        "#reception-counts",
        t("1起，3人次", "1 case(s), 3 person-visit(s)"),
    )
    .await;
    ui.shot(&format!("{l}-reception-session")).await;
    if en {
        assert_translated(&ui, "reception-session").await;
    }
    ui.click("#back").await;
    ui.wait("#reception-upcoming .reception-row").await;
    ui.shot(&format!("{l}-reception")).await;
    if en {
        assert_translated(&ui, "reception").await;
    }
    ui.tab("home", t("网格通", "Gridwork")).await;
    ui.wait("#home-receptions .row[data-kind=reception]").await;
    ui.shot(&format!("{l}-home-leader")).await;
    if en {
        assert_translated(&ui, "home-leader").await;
    }
    sign_out(&ui, settings).await;
    driver.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mediation_reception_and_petition_screens_in_both_languages() {
    let dist = check_dist();
    let tmp = tempfile::tempdir().expect("temp dir");
    for lang in [Lang::ZhCn, Lang::En] {
        let server = seeded_server(&tmp.path().join(format!("server-{}", lang.code()))).await;
        let server_url = server.url();
        let config = AppConfig {
            default_server: server_url.clone(),
            ..AppConfig::default()
        };
        let dir = tmp.path().join(format!("device-{}", lang.code()));
        let app = Arc::new(App::open(&dir, config).expect("device store"));
        tokio::spawn(app.clone().run_sync_loop());
        let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let serving = tokio::spawn(gridwork_app_lib::serve_ui::serve(
            app,
            dist.clone(),
            listen,
            |_| {},
        ));
        let profile = tmp.path().join(format!("chromium-new-{}", lang.code()));
        new_screens(lang, &format!("http://{listen}/"), &server_url, profile).await;
        serving.abort();
        server.shutdown().await;
    }
}

/// Saves a screenshot with `css` scrolled to the top of the screen (for the parts of a long
/// screen below the first screenful).
async fn shot_at(ui: &Ui<'_>, name: &str, css: &str) {
    ui.js(&format!(
        "document.querySelector(\"{css}\").scrollIntoView({{block: 'start'}}); window.scrollBy(0, -60); return true;"
    ))
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let png = ui.c.screenshot().await.expect("screenshot");
    let path = common::screenshots().join(format!("{}-{name}.png", ui.engine));
    std::fs::write(&path, png).expect("screenshot written");
}

/// The dashboard's data set, in this month (today): street 370214001 resolves everything
/// at the grassroots (3 of 3); the district as a whole does 3 of 4 (75 %, below the target).
fn dashboard_data(app: &App, en: bool) {
    use gridwork_schema::territory::Territory;
    use gridwork_schema::{
        Case, CaseEvent, CaseEventKind, CaseKind, Category, Hlc, Level, Patrol, PatrolKind,
        ReceptionLevel, ReceptionSession, Role, TerritoryPath, Visit,
    };
    let t = Territory::chengyang();
    let grid_of = |community: &str| {
        let g = t.grids_of(community).next().expect("a grid");
        t.path_of(&g.code).expect("its path")
    };
    let street_1 = "370214001";
    let street_2 = t.streets().nth(1).expect("a second street").code.clone();
    let xzz = grid_of("370214001001");
    let other = grid_of(&t.communities_of(street_1).nth(1).expect("community").code);
    let far = grid_of(&t.communities_of(&street_2).next().expect("community").code);
    let mut store = app.store().lock().expect("store");
    let now = store.now();
    let ms = now.timestamp_millis();
    let pick = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let event = |n: u32, role: Role, kind: CaseEventKind| CaseEvent {
        id: uuid_like(n),
        at: Hlc::new(ms - 60_000 + i64::from(n), 0, "seed"),
        by: UserRef::new("u1", pick("刘网格", "Liu Wang")),
        role,
        kind,
        note: String::new(),
    };
    let case = |n: u32, path: &TerritoryPath, title: &'static str, done: Option<Level>| {
        let mut events = vec![event(n * 2, Role::GridWorker, CaseEventKind::Raised)];
        if let Some(at) = done {
            let role = match at {
                Level::Community => Role::GridWorker,
                Level::Street => Role::StreetOfficer,
                Level::District => Role::Leader,
            };
            events.push(event(n * 2 + 1, role, CaseEventKind::Resolved { at }));
        }
        Record::Case(Case {
            id: RecordId::new_v7(),
            territory: path.clone(),
            created_by: UserRef::new("u1", pick("刘网格", "Liu Wang")),
            created_at: now,
            kind: CaseKind::Dispute,
            category: Category::Neighbourhood,
            title: title.into(),
            parties: vec![Party {
                name: pick("王秀英", "Wang Xiuying").into(),
                ..Party::default()
            }],
            persons_involved: 2,
            events,
            ..Case::default()
        })
    };
    // Two cases of the month before, for the trend chart.
    let last_month = {
        use chrono::Datelike as _;
        let first = now.date_naive().with_day(1).expect("first of the month");
        let d = first - chrono::Days::new(20);
        d.and_hms_opt(2, 0, 0).expect("10:00 CST").and_utc()
    };
    let earlier = |n: u32, path: &TerritoryPath, title: &'static str, at: Level| {
        let mut r = case(n, path, title, Some(at));
        if let Record::Case(c) = &mut r {
            c.created_at = last_month;
            for (i, e) in c.events.iter_mut().enumerate() {
                e.at = Hlc::new(
                    last_month.timestamp_millis() + i as i64 * 3_600_000,
                    0,
                    "seed",
                );
            }
        }
        r
    };
    let records = vec![
        earlier(
            6,
            &xzz,
            pick("邻里噪音", "Noisy neighbours"),
            Level::Community,
        ),
        earlier(
            7,
            &other,
            pick("围墙纠纷", "Garden wall dispute"),
            Level::Street,
        ),
        case(
            1,
            &xzz,
            pick("楼上漏水纠纷", "Leak from the flat upstairs"),
            Some(Level::Community),
        ),
        case(
            2,
            &xzz,
            pick("停车位纠纷", "Parking space dispute"),
            Some(Level::Street),
        ),
        case(
            3,
            &other,
            pick("噪音扰民", "Noise at night"),
            Some(Level::Community),
        ),
        case(
            4,
            &far,
            pick("宅基地纠纷", "Homestead boundary"),
            Some(Level::District),
        ),
        case(5, &far, pick("物业费纠纷", "Property fee dispute"), None),
        Record::Reception(ReceptionSession {
            id: RecordId::new_v7(),
            territory: TerritoryPath {
                street: street_1.into(),
                ..TerritoryPath::default()
            },
            created_by: UserRef::new("u9", "seed"),
            created_at: now,
            leader: UserRef::new("L1", pick("赵刚", "Zhao Gang")),
            level: ReceptionLevel::Street,
            site: pick("接访大厅", "Reception hall").into(),
            date: now.date_naive(),
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
        }),
        Record::Patrol(Patrol {
            id: RecordId::new_v7(),
            territory: xzz.clone(),
            created_by: UserRef::new("u1", pick("刘网格", "Liu Wang")),
            created_at: now,
            kind: PatrolKind::Routine,
            worker: UserRef::new("u1", pick("刘网格", "Liu Wang")),
            started_at: now,
            ..Patrol::default()
        }),
    ];
    let author = Author {
        user: "seed".into(),
        name: "seed".into(),
        device: "seed".into(),
    };
    for r in records {
        store.create(&r, &author).expect("record stored");
    }
}

fn uuid_like(n: u32) -> String {
    format!("00000000-0000-7000-8000-{n:012}")
}

async fn dashboard(lang: Lang, url: &str, server: &str, profile: PathBuf) {
    let en = lang == Lang::En;
    let l = if en { "en" } else { "zh" };
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let driver = chromium_session(&profile, 360, 740).await;
    let ui = Ui::new(&driver);
    driver.client.goto(url).await.expect("UI loads");
    ui.wait("#login-user").await;
    if en {
        ui.click("#lang-en").await;
        ui.wait_text("#login-submit", "Sign in").await;
    }
    ui.fill("#login-server", server).await;
    ui.type_keys("#login-user", "supervisor").await;
    ui.type_keys("#login-password", "gridwork").await;
    ui.click("#login-submit").await;
    ui.wait_text("#home-who", "孙丽").await;

    // The district: 3 of 4 resolved at the grassroots, below the 90 % target.
    ui.click("#open-dashboard").await;
    ui.wait_text("#screen-title", t("统计分析", "Dashboard"))
        .await;
    ui.wait_text("#grassroots-share", "75.0%").await;
    ui.wait_attr("#grassroots", "data-pass", "fail").await;
    ui.wait_text("#fig-found", "5").await;
    ui.wait_text("#report-crumbs", "城阳区").await;
    ui.wait_text("#fig-sessions", "1").await;
    ui.wait("#chart-trend polyline").await;
    ui.shot(&format!("{l}-dashboard")).await;
    for part in [
        "report-levels",
        "report-trend",
        "report-areas",
        "report-open",
        "report-petitions",
        "report-reception",
        "report-mediation",
        "report-patrols",
        "report-zero",
    ] {
        shot_at(&ui, &format!("{l}-dashboard-{part}"), &format!("#{part}")).await;
    }
    let wide = ui
        .js("return document.documentElement.scrollWidth <= window.innerWidth;")
        .await;
    assert_eq!(
        wide,
        serde_json::json!(true),
        "the page never scrolls sideways"
    );
    if en {
        assert_translated(&ui, "dashboard").await;
    }

    // Drill down to the street: all three resolved at the grassroots, the target met.
    ui.click("#table-areas .drill[data-code='370214001']").await;
    ui.wait_text("#report-crumbs", "城阳街道").await;
    ui.wait_text("#grassroots-share", "100.0%").await;
    ui.wait_attr("#grassroots", "data-pass", "pass").await;
    ui.wait_text("#table-areas", "小寨子社区").await;
    ui.shot(&format!("{l}-dashboard-street")).await;
    if en {
        assert_translated(&ui, "dashboard-street").await;
    }

    // The records behind a figure: the street's three cases found, each opens.
    ui.click("#fig-found").await;
    ui.wait_text("#screen-title", t("统计明细", "Records behind a figure"))
        .await;
    ui.wait_text("#figure-count", "3").await;
    let rows = ui
        .js("return document.querySelectorAll('#report-records .row').length;")
        .await;
    assert_eq!(rows, serde_json::json!(3));
    ui.wait_text(
        "#report-records",
        t("楼上漏水纠纷", "Leak from the flat upstairs"),
    )
    .await;
    ui.shot(&format!("{l}-dashboard-records")).await;
    if en {
        assert_translated(&ui, "dashboard-records").await;
    }
    ui.click("#report-records .row[data-kind=case]").await;
    ui.wait("#case-timeline").await;
    ui.click("#back").await;
    ui.wait("#report-records").await;
    // Back up to the district through the breadcrumbs.
    ui.click("#back").await;
    ui.click("#report-crumbs .crumb[data-depth='0']").await;
    ui.wait_text("#grassroots-share", "75.0%").await;
    driver.close().await;

    // A desktop window: the same screen, wider.
    if !en {
        let desk = chromium_session(&profile.with_extension("desk"), 1024, 900).await;
        let dui = Ui::new(&desk);
        desk.client.goto(url).await.expect("UI loads");
        dui.click("#open-dashboard").await;
        dui.wait_text("#grassroots-share", "75.0%").await;
        dui.wait("#chart-trend polyline").await;
        dui.shot(&format!("{l}-dashboard-desktop")).await;
        desk.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisors_dashboard_drills_down_and_lists_the_records_behind_a_figure() {
    let dist = check_dist();
    let tmp = tempfile::tempdir().expect("temp dir");
    for lang in [Lang::ZhCn, Lang::En] {
        let server = seeded_server(&tmp.path().join(format!("server-{}", lang.code()))).await;
        let server_url = server.url();
        let config = AppConfig {
            default_server: server_url.clone(),
            ..AppConfig::default()
        };
        let dir = tmp.path().join(format!("device-{}", lang.code()));
        let app = Arc::new(App::open(&dir, config).expect("device store"));
        dashboard_data(&app, lang == Lang::En);
        // No background sync: the dashboard reads the device's own store, and works offline.
        let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let serving = tokio::spawn(gridwork_app_lib::serve_ui::serve(
            app,
            dist.clone(),
            listen,
            |_| {},
        ));
        let profile = tmp.path().join(format!("chromium-dash-{}", lang.code()));
        dashboard(lang, &format!("http://{listen}/"), &server_url, profile).await;
        serving.abort();
        server.shutdown().await;
    }
}
