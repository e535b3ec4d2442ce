//! People's mediation: the create form (often from a case referred to mediation), and the
//! mediation with its sessions, outcome, agreement text and hand-off.

use gridwork_schema::api::{ApiRequest, ApiResponse, FieldError, NewMediation};
use gridwork_schema::{
    Channel, Lang, Level, Mediation, MediationOutcome, MediationSession, Party, Record, RecordId,
    Role,
};
use leptos::prelude::*;

use crate::ctx::{Screen, use_ctx};
use crate::drafts::{self, Drafted, errors_of, from_key, key, probe, today, under};
use crate::widgets::label as lbl;
use crate::widgets::{self, load};

const FORM: &str = "mediation";

fn check(f: &NewMediation) -> Vec<FieldError> {
    let (id, me, now) = probe();
    errors_of(&f.to_mediation(id, &me, now))
        .into_iter()
        .map(|mut e| {
            if e.field.starts_with("territory") {
                e.field = "body_level".into();
            }
            e
        })
        .collect()
}

/// Whether a role starts mediations: mediators and legal workers (a grid worker refers the
/// case; the mediation body registers the mediation).
pub fn may_create(role: Option<Role>) -> bool {
    matches!(
        role,
        Some(Role::Mediator | Role::LegalWorker | Role::Supervisor | Role::Admin)
    )
}

/// Start a mediation, linked to `case` when it comes from one.
#[component]
pub fn MediationNew(case: Option<RecordId>) -> impl IntoView {
    let ctx = use_ctx();
    let user = ctx
        .status
        .with_untracked(|s| s.as_ref().and_then(|s| s.user.clone()));
    let scope = user.as_ref().map(|u| u.scope.clone()).unwrap_or_default();
    let mine = user
        .as_ref()
        .filter(|u| u.role == Role::Mediator)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let d = Drafted::new(
        FORM,
        NewMediation {
            case,
            territory: scope,
            mediator: mine,
            parties: if case.is_some() {
                Vec::new()
            } else {
                vec![Party::default()]
            },
            ..NewMediation::default()
        },
        move |f: &NewMediation| f.case == case,
    );
    let case_title = RwSignal::new(String::new());
    if let Some(cid) = case {
        ctx.call(ApiRequest::GetRecord { id: cid }, move |r| {
            if let ApiResponse::Record(v) = r
                && let Some(Record::Case(c)) = v.record
            {
                case_title.set(c.title.clone());
                if !d.restored.get_untracked() {
                    d.form.update(|f| {
                        f.territory = c.territory.leaf().to_owned();
                        if f.parties.is_empty() {
                            f.parties = c.parties.clone();
                        }
                    });
                }
            }
        });
    }
    let errors = d.errors(check);
    let submit = move |_| {
        if !d.ready(check) {
            return;
        }
        let new = d.form.get_untracked();
        ctx.call(ApiRequest::CreateMediation(new), move |r| {
            if let ApiResponse::Created { id } = r {
                d.submitted();
                ctx.info("调解已登记", "Mediation registered");
                ctx.changed();
                ctx.replace(Screen::Mediation(id));
            }
        });
    };
    let text = move |id: &'static str,
                     field: &'static str,
                     zh: &'static str,
                     en: &'static str,
                     get: fn(&NewMediation) -> String,
                     set: fn(&mut NewMediation, String)| {
        view! {
            <label for=id>{ctx.tr(zh, en)}</label>
            <input id=id type="text" prop:value=move || d.form.with(get)
                on:input=move |ev| { let v = event_target_value(&ev); d.edit(field, move |f| set(f, v)); } />
            {widgets::field_errors(errors, field)}
        }
    };
    view! {
        <div class="stack">
            {drafts::restored_banner(d.restored)}
            {case.map(|_| view! {
                <p class="banner info" id="mediation-case">{move || format!("{}{}", ctx.t("调解事项：", "For the case: "), case_title.get())}</p>
            })}
            <section class="card form">
                <h2>{ctx.tr("调解组织层级", "Mediation body")}</h2>
                <div class="segmented three" role="group">
                    {Level::ALL.iter().map(|l| { let l = *l; view! {
                        <button type="button" class="seg" id=format!("body-{}", key(l)) class:selected=move || d.form.with(|f| f.body_level == l)
                            on:click=move |_| d.edit("body_level", move |f| f.body_level = l)>{move || lbl(&l, ctx.lang.get())}</button>
                    }}).collect_view()}
                </div>
                {widgets::field_errors(errors, "body_level")}
                {text("mediation-mediator", "mediator", "调解员", "Mediator", |f| f.mediator.clone(), |f, v| f.mediator = v)}
                <p class="hint">{ctx.tr("留空则由本人担任", "Leave empty if you mediate yourself")}</p>
                {text("mediation-legal", "legal_worker", "法律工作者（可选）", "Legal worker (optional)", |f| f.legal_worker.clone(), |f, v| f.legal_worker = v)}
                <label class="check">
                    <input type="checkbox" id="mediation-backlog" prop:checked=move || d.form.with(|f| f.backlog_petition)
                        on:change=move |ev| { let v = event_target_checked(&ev); d.edit("backlog_petition", move |f| f.backlog_petition = v); } />
                    {ctx.tr("信访积案化解", "Backlog petition case")}
                </label>
            </section>
            <section class="card form">
                <h2>{ctx.tr("当事人", "Parties")}</h2>
                {drafts::parties_editor(d, "parties", |f| &f.parties, |f| &mut f.parties, errors)}
            </section>
            <button id="mediation-submit" class="primary" on:click=submit>{ctx.tr("登记调解", "Register mediation")}</button>
            {drafts::draft_hint()}
        </div>
    }
}

/// A mediation: parties, sessions, outcome.
#[component]
pub fn MediationView(id: RecordId) -> impl IntoView {
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
                Some(Record::Mediation(m)) => mediation_body(m).into_any(),
                _ => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
            }}
        </div>
    }
}

fn status_badge(m: &Mediation) -> impl IntoView + use<> {
    let ctx = use_ctx();
    let outcome = m.outcome;
    let class = outcome.map_or("badge st-ongoing".to_owned(), |o| {
        format!("badge st-{}", key(o))
    });
    view! {
        <span class=class id="mediation-status">{move || match outcome {
            Some(o) => lbl(&o, ctx.lang.get()),
            None => ctx.t("调解中", "In progress").to_owned(),
        }}</span>
    }
}

fn mediation_body(m: Mediation) -> impl IntoView {
    let ctx = use_ctx();
    let id = m.id;
    let level = m.body_level;
    let case = m.case;
    let parties: Vec<String> = m.parties.iter().map(|p| p.name.clone()).collect();
    let sessions = m.sessions.clone();
    let handoff = m.handoff;
    view! {
        <section class="card" id="mediation-head">
            <h2 class="title-line"><span>{format!("{} {}", ctx.t("人民调解", "Mediation"), m.mediator.name)}</span></h2>
            <div class="badges">
                {status_badge(&m)}
                <span class="badge level">{move || lbl(&level, ctx.lang.get())}</span>
                {m.backlog_petition.then(|| view! { <span class="badge">{ctx.tr("信访积案", "Backlog petition")}</span> })}
            </div>
            <dl class="facts">
                <dt>{ctx.tr("调解员", "Mediator")}</dt><dd>{m.mediator.name.clone()}</dd>
                {m.legal_worker.clone().map(|l| view! { <dt>{ctx.tr("法律工作者", "Legal worker")}</dt><dd>{l.name}</dd> })}
                <dt>{ctx.tr("当事人", "Parties")}</dt><dd>{move || parties.join(if ctx.lang.get() == Lang::En { ", " } else { "、" })}</dd>
                {handoff.map(|ch| view! { <dt>{ctx.tr("移交渠道", "Handed to")}</dt><dd id="mediation-handoff">{move || lbl(&ch, ctx.lang.get())}</dd> })}
            </dl>
            {(!m.agreement.is_empty()).then(|| view! {
                <h3>{ctx.tr("调解协议", "Agreement")}</h3>
                <p class="description" id="mediation-agreement">{m.agreement.clone()}</p>
            })}
            {case.map(|c| view! {
                <button class="link" id="mediation-open-case" on:click=move |_| ctx.go(Screen::Case(c))>{ctx.tr("调解的事项 ›", "The case ›")}</button>
            })}
        </section>
        <section class="card" id="mediation-sessions">
            <h2>{ctx.tr("调解过程", "Sessions")}<span class="count">{sessions.len()}</span></h2>
            {if sessions.is_empty() {
                view! { <p class="empty">{ctx.tr("还没有调解记录", "No sessions yet")}</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline">
                        {sessions.into_iter().map(|s| view! {
                            <li class="session">
                                <div class="tl-head"><b>{s.date.to_string()}</b>{(!s.place.is_empty()).then(|| format!(" · {}", s.place))}</div>
                                <div class="tl-meta">{move || format!("{}{}", ctx.t("参加：", "Attended: "), s.attendees.join(if ctx.lang.get() == Lang::En { ", " } else { "、" }))}</div>
                                {(!s.notes.is_empty()).then(|| view! { <p class="tl-note">{s.notes.clone()}</p> })}
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
        {session_form(m.clone())}
        {outcome_form(m)}
        <button class="link" on:click=move |_| ctx.go(Screen::History(id))>{ctx.tr("修改历史 ›", "History ›")}</button>
    }
}

/// Names typed with commas or enumeration marks.
fn names(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；'])
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

fn session_form(m: Mediation) -> impl IntoView {
    let ctx = use_ctx();
    let id = m.id;
    let n = m.sessions.len();
    let date = RwSignal::new(today().to_string());
    let place = RwSignal::new(String::new());
    let attendees = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let session = move || MediationSession {
        id: "new".into(),
        date: date.get().parse().unwrap_or_default(),
        place: place.get(),
        attendees: names(&attendees.get()),
        notes: notes.get(),
    };
    let base = m.clone();
    let errors = Signal::derive(move || {
        let mut probe = base.clone();
        probe.sessions.push(session());
        let prefix = format!("sessions[{n}]");
        let mut out: Vec<FieldError> = errors_of(&probe)
            .into_iter()
            .filter(|e| under(e, &prefix))
            .map(|mut e| {
                e.field = e.field.replacen(&prefix, "session", 1);
                e
            })
            .collect();
        if date.get().parse::<chrono::NaiveDate>().is_err() {
            out.push(FieldError {
                field: "session.date".into(),
                message: gridwork_schema::api::Message::new("为必填项", "is required"),
            });
        }
        out
    });
    let add = move |_| {
        if !errors.get_untracked().is_empty() {
            ctx.info("请按提示修改后再提交", "Fix the marked fields first");
            return;
        }
        let s = session();
        ctx.call(
            ApiRequest::AddMediationSession {
                id,
                date: s.date,
                place: s.place,
                attendees: s.attendees,
                notes: s.notes,
            },
            move |_| {
                place.set(String::new());
                attendees.set(String::new());
                notes.set(String::new());
                ctx.info("已记录", "Recorded");
                ctx.changed();
            },
        );
    };
    view! {
        <section class="card form" id="session-form">
            <h2>{ctx.tr("记录一次调解", "Log a session")}</h2>
            <div class="two">
                <label>{ctx.tr("日期", "Date")}
                    <input type="date" id="session-date" prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev)) />
                </label>
                <label>{ctx.tr("地点", "Place")}
                    <input type="text" id="session-place" prop:value=move || place.get() on:input=move |ev| place.set(event_target_value(&ev)) />
                </label>
            </div>
            {widgets::field_errors(errors, "session.date")}
            <label for="session-attendees">{ctx.tr("参加人员（用逗号分隔）", "Attendees (separate with commas)")}</label>
            <input type="text" id="session-attendees" prop:value=move || attendees.get() on:input=move |ev| attendees.set(event_target_value(&ev)) />
            {widgets::field_errors(errors, "session.attendees")}
            <label for="session-notes">{ctx.tr("调解记录", "Minutes")}</label>
            <textarea id="session-notes" rows="3" prop:value=move || notes.get() on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
            {widgets::field_errors(errors, "session.notes")}
            <button class="primary" id="session-add" on:click=add>{ctx.tr("保存调解记录", "Save session")}</button>
        </section>
    }
}

fn outcome_form(m: Mediation) -> impl IntoView {
    let ctx = use_ctx();
    let id = m.id;
    let outcome = RwSignal::new(m.outcome);
    let agreement = RwSignal::new(m.agreement.clone());
    let handoff = RwSignal::new(m.handoff);
    let touched = RwSignal::new(false);
    let base = m;
    let errors = Signal::derive(move || {
        let mut probe = base.clone();
        probe.outcome = outcome.get();
        probe.agreement = agreement.get();
        probe.handoff = handoff.get();
        let mut out: Vec<FieldError> = errors_of(&probe)
            .into_iter()
            .filter(|e| e.field == "agreement" || e.field == "handoff")
            .collect();
        if outcome.get().is_none() {
            out.push(FieldError {
                field: "outcome".into(),
                message: gridwork_schema::api::Message::new("为必填项", "is required"),
            });
        }
        if touched.get() { out } else { Vec::new() }
    });
    let save = move |_| {
        touched.set(true);
        let Some(o) = outcome.get_untracked() else {
            return;
        };
        if !errors.get_untracked().is_empty() {
            ctx.info("请按提示修改后再提交", "Fix the marked fields first");
            return;
        }
        ctx.call(
            ApiRequest::SetMediationOutcome {
                id,
                outcome: o,
                agreement: agreement.get_untracked(),
                handoff: handoff.get_untracked().filter(|_| o.may_hand_off()),
            },
            move |_| {
                ctx.info("已保存", "Saved");
                ctx.changed();
            },
        );
    };
    view! {
        <section class="card form" id="outcome-form">
            <h2>{ctx.tr("调解结果", "Outcome")}</h2>
            <div class="segmented three" role="group">
                {MediationOutcome::ALL.iter().map(|o| { let o = *o; view! {
                    <button type="button" class="seg" id=format!("outcome-{}", key(o)) class:selected=move || outcome.get() == Some(o)
                        on:click=move |_| { outcome.set(Some(o)); if !o.may_hand_off() { handoff.set(None); } touched.set(true); }>{move || lbl(&o, ctx.lang.get())}</button>
                }}).collect_view()}
            </div>
            {widgets::field_errors(errors, "outcome")}
            <label for="mediation-agreement-input">{ctx.tr("调解协议内容", "Agreement text")}</label>
            <textarea id="mediation-agreement-input" rows="4" prop:value=move || agreement.get()
                on:input=move |ev| { agreement.set(event_target_value(&ev)); touched.set(true); }></textarea>
            {widgets::field_errors(errors, "agreement")}
            <Show when=move || outcome.get().is_some_and(MediationOutcome::may_hand_off)>
                <label for="mediation-handoff-select">{ctx.tr("未化解部分移交", "Hand the rest on to")}</label>
                <select id="mediation-handoff-select" on:change=move |ev| { handoff.set(from_key::<Channel>(&event_target_value(&ev))); touched.set(true); }>
                    <option value="" selected=move || handoff.get().is_none()>{ctx.tr("暂不移交", "Not handed on")}</option>
                    {Channel::ALL.iter().map(|c| { let c = *c; view! {
                        <option value=key(c) selected=move || handoff.get() == Some(c)>{move || lbl(&c, ctx.lang.get())}</option>
                    }}).collect_view()}
                </select>
            </Show>
            {widgets::field_errors(errors, "handoff")}
            <button class="primary" id="outcome-save" on:click=save>{ctx.tr("保存结果", "Save outcome")}</button>
        </section>
    }
}
