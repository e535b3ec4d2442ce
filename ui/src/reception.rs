//! Public reception (公开接访): the leaders' schedule, a new session, and a session with the
//! visits it received (点名接访 when the public picked the leader by name plate).

use gridwork_schema::api::{
    ApiRequest, ApiResponse, FieldError, GridView, NewReception, ReceptionItem, RecordFilter,
};
use gridwork_schema::{Lang, ReceptionLevel, ReceptionSession, Record, RecordId, Role, Visit};
use leptos::prelude::*;

use crate::ctx::{Screen, use_ctx};
use crate::drafts::{self, Drafted, errors_of, key, probe, today, under};
use crate::widgets::label as lbl;
use crate::widgets::{self, load};

const FORM: &str = "reception";

/// Whether a role schedules and logs reception sessions.
pub fn may_create(role: Option<Role>) -> bool {
    matches!(
        role,
        Some(Role::Leader | Role::StreetOfficer | Role::Supervisor | Role::Admin)
    )
}

fn check(f: &NewReception) -> Vec<FieldError> {
    let (id, me, now) = probe();
    errors_of(&f.to_reception(id, &me, now))
        .into_iter()
        .map(|mut e| {
            if e.field.starts_with("territory") {
                e.field = "street".into();
            }
            e
        })
        .collect()
}

fn item(r: ReceptionItem) -> impl IntoView {
    let ctx = use_ctx();
    let id: Option<RecordId> = r.row.id.parse().ok();
    let level = r.level;
    let (cases, visits) = (r.cases, r.person_visits);
    view! {
        <li>
            <button class="row reception-row" data-id=r.row.id.clone() on:click=move |_| if let Some(id) = id { ctx.go(Screen::Reception(id)) }>
                <span class="row-title">{format!("{} · {}", r.date, r.leader.name)}</span>
                <span class="small-text">{r.site.clone()}</span>
                <span class="row-meta">
                    <span class="badge level">{move || lbl(&level, ctx.lang.get())}</span>
                    {r.named_by_public.then(|| view! { <span class="badge">{ctx.tr("点名接访", "Picked by name")}</span> })}
                    <span class="badge">{move || if ctx.lang.get() == Lang::En { format!("{cases} case(s) · {visits} person-visit(s)") } else { format!("{cases}起 · {visits}人次") }}</span>
                    {r.row.pending.then(|| view! { <span class="badge pending">{ctx.tr("待同步", "pending")}</span> })}
                </span>
            </button>
        </li>
    }
}

/// The leaders' reception schedule: upcoming and past sessions, by leader and level.
#[component]
pub fn ReceptionList() -> impl IntoView {
    let ctx = use_ctx();
    let data = load(
        || ApiRequest::Receptions,
        |r| match r {
            ApiResponse::Receptions(l) => Some(l),
            _ => None,
        },
    );
    let leader = RwSignal::new(String::new());
    let level = RwSignal::new(None::<ReceptionLevel>);
    let leaders = move || {
        let mut names: Vec<String> =
            data.with(|d| d.iter().flatten().map(|r| r.leader.name.clone()).collect());
        names.sort();
        names.dedup();
        names
    };
    let pick = move |upcoming: bool| {
        let today = today();
        let mut list: Vec<ReceptionItem> = data.with(|d| {
            d.iter()
                .flatten()
                .filter(|r| (r.date >= today) == upcoming)
                .filter(|r| leader.with(|l| l.is_empty() || *l == r.leader.name))
                .filter(|r| level.get().is_none_or(|l| l == r.level))
                .cloned()
                .collect()
        });
        if upcoming {
            list.reverse();
        }
        list
    };
    let section = move |id: &'static str, zh: &'static str, en: &'static str, upcoming: bool| {
        view! {
            <section class="card" id=id>
                <h2>{ctx.tr(zh, en)}<span class="count">{move || pick(upcoming).len()}</span></h2>
                {move || {
                    let list = pick(upcoming);
                    if list.is_empty() {
                        view! { <p class="empty">{ctx.tr("没有接访安排", "No sessions")}</p> }.into_any()
                    } else {
                        view! { <ul class="rows">{list.into_iter().map(item).collect_view()}</ul> }.into_any()
                    }
                }}
            </section>
        }
    };
    view! {
        <div class="stack">
            <Show when=move || may_create(ctx.role())>
                <button class="primary" id="reception-new" on:click=move |_| ctx.go(Screen::ReceptionNew)>{ctx.tr("＋ 安排接访", "＋ New session")}</button>
            </Show>
            <section class="card form filters">
                <div class="two">
                    <select id="reception-leader" aria-label=move || ctx.t("领导", "Leader") on:change=move |ev| leader.set(event_target_value(&ev))>
                        <option value="">{ctx.tr("全部领导", "All leaders")}</option>
                        {move || leaders().into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                    </select>
                    <select id="reception-level" aria-label=move || ctx.t("级别", "Level") on:change=move |ev| level.set(drafts::from_key(&event_target_value(&ev)))>
                        <option value="">{ctx.tr("全部级别", "All levels")}</option>
                        {ReceptionLevel::ALL.iter().map(|l| { let l = *l; view! { <option value=key(l)>{move || lbl(&l, ctx.lang.get())}</option> } }).collect_view()}
                    </select>
                </div>
            </section>
            {section("reception-upcoming", "今日及以后", "Today and upcoming", true)}
            {section("reception-past", "已接访", "Past", false)}
        </div>
    }
}

/// Schedule or log a reception session.
#[component]
pub fn ReceptionNew() -> impl IntoView {
    let ctx = use_ctx();
    let user = ctx
        .status
        .with_untracked(|s| s.as_ref().and_then(|s| s.user.clone()));
    let street = user
        .as_ref()
        .and_then(|u| u.scope.get(..9).map(str::to_owned))
        .unwrap_or_default();
    let mine = user
        .as_ref()
        .filter(|u| u.role == Role::Leader)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let d = Drafted::new(
        FORM,
        NewReception {
            leader: mine,
            level: ReceptionLevel::Street,
            street,
            date: today(),
            ..NewReception::default()
        },
        |_| true,
    );
    let streets = RwSignal::new(Vec::<GridView>::new());
    ctx.call(ApiRequest::Streets, move |r| {
        if let ApiResponse::Grids(s) = r {
            if d.form.with_untracked(|f| f.street.is_empty())
                && let Some(first) = s.first()
            {
                let code = first.code.clone();
                d.form.update(|f| f.street = code);
            }
            streets.set(s);
        }
    });
    let errors = d.errors(check);
    let submit = move |_| {
        if !d.ready(check) {
            return;
        }
        let mut new = d.form.get_untracked();
        if new.level == ReceptionLevel::District {
            new.street.clear();
        }
        ctx.call(ApiRequest::CreateReception(new), move |r| {
            if let ApiResponse::Created { id } = r {
                d.submitted();
                ctx.info("接访已安排", "Session saved");
                ctx.changed();
                ctx.replace(Screen::Reception(id));
            }
        });
    };
    view! {
        <div class="stack">
            {drafts::restored_banner(d.restored)}
            <section class="card form">
                <h2>{ctx.tr("接访级别", "Level")}</h2>
                <div class="segmented" role="group">
                    {ReceptionLevel::ALL.iter().map(|l| { let l = *l; view! {
                        <button type="button" class="seg" id=format!("level-{}", key(l)) class:selected=move || d.form.with(|f| f.level == l)
                            on:click=move |_| d.edit("level", move |f| f.level = l)>{move || lbl(&l, ctx.lang.get())}</button>
                    }}).collect_view()}
                </div>
                <Show when=move || d.form.with(|f| f.level == ReceptionLevel::Street)>
                    <label for="reception-street">{ctx.tr("街道", "Street")}</label>
                    <select id="reception-street" on:change=move |ev| { let v = event_target_value(&ev); d.edit("street", move |f| f.street = v); }>
                        {move || streets.get().into_iter().map(|s| { let code = s.code.clone(); view! {
                            <option value=s.code.clone() selected=move || d.form.with(|f| f.street == code)>{s.name.clone()}</option>
                        }}).collect_view()}
                    </select>
                    {widgets::field_errors(errors, "street")}
                </Show>
                <label for="reception-leader-name">{ctx.tr("接访领导", "Leader")}</label>
                <input id="reception-leader-name" type="text" prop:value=move || d.form.with(|f| f.leader.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); d.edit("leader", move |f| f.leader = v); } />
                <p class="hint">{ctx.tr("留空则为本人", "Leave empty for yourself")}</p>
                {widgets::field_errors(errors, "leader")}
                <label for="reception-site">{ctx.tr("接访地点", "Reception site")}</label>
                <input id="reception-site" type="text" prop:value=move || d.form.with(|f| f.site.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); d.edit("site", move |f| f.site = v); } />
                {widgets::field_errors(errors, "site")}
                <label for="reception-date">{ctx.tr("日期", "Date")}</label>
                <input id="reception-date" type="date" prop:value=move || d.form.with(|f| f.date.to_string())
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { d.edit("date", move |f| f.date = v); } } />
                {widgets::date_hint(move || d.form.with(|f| f.date))}
                {widgets::field_errors(errors, "date")}
                <label class="check">
                    <input type="checkbox" id="reception-named" prop:checked=move || d.form.with(|f| f.named_by_public)
                        on:change=move |ev| { let v = event_target_checked(&ev); d.edit("named_by_public", move |f| f.named_by_public = v); } />
                    {ctx.tr("群众点名接访（挂牌接访）", "The public picked this leader by name plate")}
                </label>
            </section>
            <button id="reception-submit" class="primary" on:click=submit>{ctx.tr("保存接访安排", "Save session")}</button>
            {drafts::draft_hint()}
        </div>
    }
}

/// A reception session and its visits.
#[component]
pub fn ReceptionView(id: RecordId) -> impl IntoView {
    let ctx = use_ctx();
    let data = load(
        move || ApiRequest::GetRecord { id },
        |r| match r {
            ApiResponse::Record(v) => Some(v),
            _ => None,
        },
    );
    view! {
        <div class="stack">
            {move || match data.get().and_then(|v| v.record) {
                Some(Record::Reception(s)) => reception_body(s).into_any(),
                _ => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
            }}
        </div>
    }
}

fn reception_body(s: ReceptionSession) -> impl IntoView {
    let ctx = use_ctx();
    let id = s.id;
    let level = s.level;
    let (cases, persons) = (s.cases(), s.person_visits());
    let visits = s.visits.clone();
    view! {
        <section class="card" id="reception-head">
            <h2 class="title-line"><span>{format!("{} · {}", s.date, s.leader.name)}</span></h2>
            <div class="badges">
                <span class="badge level">{move || lbl(&level, ctx.lang.get())}</span>
                {s.named_by_public.then(|| view! { <span class="badge">{ctx.tr("点名接访", "Picked by name")}</span> })}
            </div>
            <dl class="facts">
                <dt>{ctx.tr("接访地点", "Site")}</dt><dd>{s.site.clone()}</dd>
                <dt>{ctx.tr("接待", "Received")}</dt>
                <dd id="reception-counts">{move || if ctx.lang.get() == Lang::En { format!("{cases} case(s), {persons} person-visit(s)") } else { format!("{cases}起，{persons}人次") }}</dd>
            </dl>
        </section>
        <section class="card" id="reception-visits">
            <h2>{ctx.tr("来访登记", "Visits")}<span class="count">{visits.len()}</span></h2>
            {if visits.is_empty() {
                view! { <p class="empty">{ctx.tr("还没有来访", "No visits yet")}</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {visits.into_iter().map(|v| view! {
                            <li class="visit">
                                <b>{move || if ctx.lang.get() == Lang::En { format!("{} person(s)", v.persons) } else { format!("{}人", v.persons) }}</b>
                                {(!v.summary.is_empty()).then(|| format!(" · {}", v.summary))}
                                {v.case.map(|c| view! {
                                    <button class="link visit-case" on:click=move |_| ctx.go(Screen::Case(c))>{ctx.tr("关联事项 ›", "Linked case ›")}</button>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        {visit_form(s)}
        <button class="link" on:click=move |_| ctx.go(Screen::History(id))>{ctx.tr("修改历史 ›", "History ›")}</button>
    }
}

fn visit_form(s: ReceptionSession) -> impl IntoView {
    let ctx = use_ctx();
    let id = s.id;
    let n = s.visits.len();
    let persons = RwSignal::new("1".to_owned());
    let summary = RwSignal::new(String::new());
    // The case the visit concerns, if any: picked from the cases on this device.
    let case = RwSignal::new(String::new());
    let cases = load(
        || ApiRequest::ListRecords {
            filter: RecordFilter {
                kind: Some("case".into()),
                limit: Some(50),
                ..RecordFilter::default()
            },
        },
        |r| match r {
            ApiResponse::Records(rows) => Some(rows),
            _ => None,
        },
    );
    let visit = move || Visit {
        id: "new".into(),
        persons: persons.get().trim().parse().unwrap_or(0),
        summary: summary.get(),
        case: case.get().parse().ok(),
    };
    let errors = Signal::derive(move || {
        let mut probe = s.clone();
        probe.visits.push(visit());
        let prefix = format!("visits[{n}]");
        errors_of(&probe)
            .into_iter()
            .filter(|e| under(e, &prefix) || e.field == "date")
            .map(|mut e| {
                e.field = e.field.replacen(&prefix, "visit", 1);
                if e.field == "date" {
                    e.field = "visit.date".into();
                }
                e
            })
            .collect::<Vec<_>>()
    });
    let add = move |_| {
        if !errors.get_untracked().is_empty() {
            ctx.info("请按提示修改后再提交", "Fix the marked fields first");
            return;
        }
        let v = visit();
        ctx.call(
            ApiRequest::AddVisit {
                id,
                persons: v.persons,
                summary: v.summary,
                case: v.case,
            },
            move |_| {
                persons.set("1".into());
                summary.set(String::new());
                case.set(String::new());
                ctx.info("已记录", "Recorded");
                ctx.changed();
            },
        );
    };
    view! {
        <section class="card form" id="visit-form">
            <h2>{ctx.tr("登记来访", "Log a visit")}</h2>
            <label for="visit-persons">{ctx.tr("来访人数", "People who came")}</label>
            <input id="visit-persons" type="number" inputmode="numeric" min="1" prop:value=move || persons.get()
                on:input=move |ev| persons.set(event_target_value(&ev)) />
            {widgets::field_errors(errors, "visit.persons")}
            <label for="visit-summary">{ctx.tr("反映事项", "What they raised")}</label>
            <textarea id="visit-summary" rows="3" prop:value=move || summary.get() on:input=move |ev| summary.set(event_target_value(&ev))></textarea>
            {widgets::field_errors(errors, "visit.summary")}
            <label for="visit-case">{ctx.tr("关联事项（可选）", "Linked case (optional)")}</label>
            <select id="visit-case" prop:value=move || case.get() on:change=move |ev| case.set(event_target_value(&ev))>
                <option value="">{ctx.tr("不关联", "None")}</option>
                {move || cases.get().unwrap_or_default().into_iter().map(|r| view! {
                    <option value=r.id.clone() selected=r.id == case.get_untracked()>{r.title}</option>
                }).collect_view()}
            </select>
            {widgets::field_errors(errors, "visit.date")}
            <button class="primary" id="visit-add" on:click=add>{ctx.tr("保存来访", "Save visit")}</button>
        </section>
    }
}
