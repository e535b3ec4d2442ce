//! Home: who and where I am, what to start, my open work.

use gridwork_schema::api::{ApiRequest, ApiResponse, DashboardView};
use gridwork_schema::{CaseAction, Role};
use leptos::prelude::*;

use crate::ctx::{Screen, use_ctx};
use crate::widgets::label as lbl;
use crate::widgets::{load, row_list};

/// Whether a role patrols (grid workers, and street officers on concentrated screening days).
pub fn patrols(role: Option<Role>) -> bool {
    matches!(
        role,
        Some(Role::GridWorker | Role::StreetOfficer | Role::Supervisor | Role::Admin)
    )
}

/// Whether a role works with the leaders' reception schedule.
pub fn receives(role: Option<Role>) -> bool {
    crate::reception::may_create(role)
}

/// Whether the role is one of `roles` (supervisors and administrators see every section).
fn sees(role: Option<Role>, roles: &[Role]) -> bool {
    role.is_some_and(|r| roles.contains(&r) || matches!(r, Role::Supervisor | Role::Admin))
}

/// The home screen for the signed-in role.
#[component]
pub fn Home() -> impl IntoView {
    let ctx = use_ctx();
    let data = load(
        || ApiRequest::Dashboard,
        |r| match r {
            ApiResponse::Dashboard(d) => Some(d),
            _ => None,
        },
    );
    let who = move || {
        ctx.status.with(|s| {
            s.as_ref()
                .and_then(|s| {
                    s.user.as_ref().map(|u| {
                        (
                            u.name.clone(),
                            lbl(&u.role, ctx.lang.get()).to_owned(),
                            s.scope_name.clone(),
                        )
                    })
                })
                .unwrap_or_default()
        })
    };
    let can_raise = move || {
        ctx.role()
            .is_some_and(|r| r.may_take(CaseAction::Raise, Default::default()))
    };
    let section = move |zh: &'static str,
                        en: &'static str,
                        id: &'static str,
                        pick: fn(&DashboardView) -> Vec<gridwork_schema::api::RecordRow>,
                        ezh: &'static str,
                        een: &'static str| {
        view! {
            <section class="card" id=id>
                <h2>
                    {ctx.tr(zh, en)}
                    <span class="count">{move || data.with(|d| d.as_ref().map(|d| pick(d).len().to_string()).unwrap_or_default())}</span>
                </h2>
                {move || data.with(|d| match d {
                    Some(d) => row_list(pick(d), ezh, een),
                    None => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
                })}
            </section>
        }
    };
    view! {
        <div class="stack">
            <section class="hello">
                <div class="who" id="home-who">
                    <b>{move || who().0}</b>
                    <span class="badge role">{move || who().1}</span>
                </div>
                <div class="where">{move || who().2}</div>
            </section>
            <div class="actions-grid">
                <Show when=move || patrols(ctx.role())>
                    <button id="start-patrol" class="big primary" on:click=move |_| ctx.go(Screen::PatrolStart)>
                        <span class="big-icon" aria-hidden="true">"◎"</span>
                        {ctx.tr("开始排查", "Start patrol")}
                    </button>
                </Show>
                <Show when=can_raise>
                    <button id="new-case" class="big" on:click=move |_| ctx.go(Screen::CaseNew)>
                        <span class="big-icon" aria-hidden="true">"＋"</span>
                        {ctx.tr("登记事项", "New case")}
                    </button>
                </Show>
                <Show when=move || crate::mediation::may_create(ctx.role())>
                    <button id="new-mediation" class="big" on:click=move |_| ctx.go(Screen::MediationNew(None))>
                        <span class="big-icon" aria-hidden="true">"⚖"</span>
                        {ctx.tr("登记调解", "New mediation")}
                    </button>
                </Show>
                <Show when=move || crate::petition::may_create(ctx.role())>
                    <button id="new-petition" class="big" on:click=move |_| ctx.go(Screen::PetitionNew)>
                        <span class="big-icon" aria-hidden="true">"✉"</span>
                        {ctx.tr("登记信访", "New petition")}
                    </button>
                </Show>
                <Show when=move || receives(ctx.role())>
                    <button id="open-receptions" class="big" on:click=move |_| ctx.go(Screen::Receptions)>
                        <span class="big-icon" aria-hidden="true">"☷"</span>
                        {ctx.tr("公开接访", "Public reception")}
                    </button>
                </Show>
                <Show when=move || crate::report::sees_reports(ctx.role())>
                    <button id="open-dashboard" class="big" on:click=move |_| ctx.go(Screen::Report(Vec::new()))>
                        <span class="big-icon" aria-hidden="true">"▤"</span>
                        {ctx.tr("统计分析", "Dashboard")}
                    </button>
                </Show>
                <button id="open-search" class="big" on:click=move |_| ctx.go_tab(Screen::Search)>
                    <span class="big-icon" aria-hidden="true">"☰"</span>
                    {ctx.tr("查询记录", "Find records")}
                </button>
            </div>
            <Show when=move || sees(ctx.role(), &[Role::Mediator, Role::LegalWorker])>
                {section("我的调解（进行中）", "My open mediations", "home-mediations", |d| d.my_mediations.clone(), "没有进行中的调解", "No open mediations")}
            </Show>
            <Show when=move || sees(ctx.role(), &[Role::Leader])>
                {section("我的接访安排", "My upcoming reception sessions", "home-receptions", |d| d.my_receptions.clone(), "近期没有接访安排", "No sessions ahead")}
                {section("我联包的事项", "Cases assigned to me", "home-my-cases", |d| d.my_cases.clone(), "没有联包事项", "No cases assigned to you")}
            </Show>
            <Show when=move || sees(ctx.role(), &[Role::StreetOfficer])>
                {section("街道上报和吹哨事项", "Escalated and whistle cases", "home-escalated", |d| d.escalated_cases.clone(), "没有上报事项", "No escalated cases")}
            </Show>
            <Show when=move || sees(ctx.role(), &[Role::Department])>
                {section("待本部门报到的事项", "Cases to report in on", "home-report-in", |d| d.report_in_cases.clone(), "没有待报到事项", "Nothing to report in on")}
            </Show>
            <Show when=move || patrols(ctx.role())>
                {section("今日排查", "Today's patrols", "home-patrols", |d| d.patrols.clone(), "今天还没有排查", "No patrols today")}
            </Show>
            {section("待办事项（按受理时间）", "Open cases (oldest first)", "home-cases", |d| d.open_cases.clone(), "没有待办事项", "No open cases")}
            {section("逾期的初信初访", "Overdue first petitions", "home-petitions", |d| d.overdue_petitions.clone(), "没有逾期", "Nothing overdue")}
        </div>
    }
}
