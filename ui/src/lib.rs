//! The Gridwork user interface, in Leptos (client-side rendered, built to wasm).
//!
//! Chinese by default, English by a switch in settings. Phone first (360 px wide, touch
//! targets of at least 44 px), fine on a desktop too. The UI talks to the device only through
//! [`transport::call`] with the command types of `gridwork_schema::api`.

mod case;
mod ctx;
mod drafts;
mod home;
mod lists;
mod mediation;
mod patrol;
mod petition;
mod reception;
mod report;
mod settings;
mod transport;
mod widgets;

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::ctx::{Ctx, Screen};
use crate::widgets::SyncBar;

/// Starts the UI (called by the wasm module's start function).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    ctx.refresh_status();
    set_interval(
        move || ctx.refresh_status(),
        std::time::Duration::from_millis(1500),
    );
    // Memos: the status refreshes every 1.5 s, but the screens must only be rebuilt when
    // signing in or out (rebuilding would drop what is being typed).
    let signed_in = Memo::new(move |_| {
        ctx.status
            .with(|s| s.as_ref().is_some_and(|s| s.user.is_some()))
    });
    let loaded = Memo::new(move |_| ctx.status.with(Option::is_some));
    view! {
        <div class="app" lang=move || ctx.lang.get().code()>
            {move || {
                if !loaded.get() {
                    view! { <div class="loading">{ctx.tr("正在打开…", "Opening…")}</div> }.into_any()
                } else if !signed_in.get() {
                    view! { <settings::Login /> }.into_any()
                } else {
                    view! { <Shell /> }.into_any()
                }
            }}
            <widgets::Toast />
        </div>
    }
}

/// The signed-in frame: title bar, sync bar, the current screen, tab bar.
#[component]
fn Shell() -> impl IntoView {
    let ctx = ctx::use_ctx();
    let title = move || ctx.screen.with(|s| s.title(ctx.lang.get()));
    let tab = move |screen: Screen, icon: &'static str, zh: &'static str, en: &'static str| {
        let id = format!("tab-{}", screen.tab_name());
        let target = screen.clone();
        let active = move || ctx.screen.with(|s| s.tab_name() == target.tab_name());
        view! {
            <button
                id=id
                class="tab"
                class:active=active
                on:click=move |_| ctx.go_tab(screen.clone())
            >
                <span class="tab-icon" aria-hidden="true">{icon}</span>
                <span class="tab-label">{move || ctx.t(zh, en)}</span>
            </button>
        }
    };
    view! {
        <header class="topbar">
            <Show when=move || ctx.can_go_back()>
                <button id="back" class="back" on:click=move |_| ctx.back()>
                    {move || ctx.t("‹ 返回", "‹ Back")}
                </button>
            </Show>
            <h1 id="screen-title">{title}</h1>
        </header>
        <SyncBar />
        <main class="content" id="content">
            {move || match ctx.screen.get() {
                Screen::Home => view! { <home::Home /> }.into_any(),
                Screen::PatrolStart => view! { <patrol::PatrolStart /> }.into_any(),
                Screen::Patrol(id) => view! { <patrol::PatrolView id=id /> }.into_any(),
                Screen::CaseNew => view! { <case::CaseNew /> }.into_any(),
                Screen::Case(id) => view! { <case::CaseView id=id /> }.into_any(),
                Screen::Record(id) => view! { <lists::RecordDetail id=id /> }.into_any(),
                Screen::Conflicts => view! { <lists::Conflicts /> }.into_any(),
                Screen::History(id) => view! { <lists::History id=id /> }.into_any(),
                Screen::Search => view! { <lists::Search /> }.into_any(),
                Screen::Settings => view! { <settings::Settings /> }.into_any(),
                Screen::MediationNew(case) => view! { <mediation::MediationNew case=case /> }.into_any(),
                Screen::Mediation(id) => view! { <mediation::MediationView id=id /> }.into_any(),
                Screen::Receptions => view! { <reception::ReceptionList /> }.into_any(),
                Screen::ReceptionNew => view! { <reception::ReceptionNew /> }.into_any(),
                Screen::Reception(id) => view! { <reception::ReceptionView id=id /> }.into_any(),
                Screen::PetitionNew => view! { <petition::PetitionNew /> }.into_any(),
                Screen::Petition(id) => view! { <petition::PetitionView id=id /> }.into_any(),
                Screen::Report(trail) => view! { <report::Dashboard trail=trail /> }.into_any(),
                Screen::ReportRecords(figure) => view! { <report::FigureRecords figure=figure /> }.into_any(),
            }}
        </main>
        <nav class="tabs">
            {tab(Screen::Home, "⌂", "首页", "Home")}
            {tab(Screen::PatrolStart, "◎", "排查", "Patrol")}
            {tab(Screen::Search, "☰", "查询", "Search")}
            {tab(Screen::Conflicts, "⇄", "冲突", "Conflicts")}
            {tab(Screen::Settings, "⚙", "设置", "Settings")}
        </nav>
    }
}
