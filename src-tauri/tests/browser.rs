//! The same UI in headless Chromium (the engine of Android's WebView) at 360×740, through the
//! plain-browser transport (`serve_ui`: `ui/dist` and `POST /api`): a smoke test of every
//! screen in Chinese and in English, with screenshots, validation as you type, a draft that
//! survives leaving the form, and a check that English screens show no untranslated labels.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use common::{
    Ui, assert_translated, assert_translated as assert_translated_names, check_dist,
    chromium_session, free_port, overdue_petition, seeded_server, select, sign_in, sign_out,
};
use gridwork_core::app::{App, AppConfig};
use gridwork_schema::Lang;

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
        assert_translated_names(&ui, "petition-new").await;
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
        assert_translated_names(&ui, "petition-detail").await;
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
        assert_translated_names(&ui, "mediation-new").await;
    }
    ui.click("#mediation-submit").await;
    ui.wait("#mediation-head").await;
    ui.click("#mediation-open-case").await;
    ui.wait("#case-open-mediation").await;
    ui.tab("home", t("网格通", "Gridwork")).await;
    ui.wait("#home-mediations .row[data-kind=mediation]").await;
    ui.shot(&format!("{l}-home-mediator")).await;
    if en {
        assert_translated_names(&ui, "home-mediator").await;
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
        assert_translated_names(&ui, "mediation").await;
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
        assert_translated_names(&ui, "reception-new").await;
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
        assert_translated_names(&ui, "reception-session").await;
    }
    ui.click("#back").await;
    ui.wait("#reception-upcoming .reception-row").await;
    ui.shot(&format!("{l}-reception")).await;
    if en {
        assert_translated_names(&ui, "reception").await;
    }
    ui.tab("home", t("网格通", "Gridwork")).await;
    ui.wait("#home-receptions .row[data-kind=reception]").await;
    ui.shot(&format!("{l}-home-leader")).await;
    if en {
        assert_translated_names(&ui, "home-leader").await;
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
