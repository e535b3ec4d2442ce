//! Petitions (信访): the registration form, and a petition with the 1-2-3-4 steps of a first
//! petition (due dates, overdue marks, marking a step done).

use gridwork_schema::api::{ApiRequest, ApiResponse, FieldError, NewPetition};
use gridwork_schema::{
    CaseAction, FirstPetitionStep, Lang, Party, Petition, PetitionChannel, Record, RecordId, Role,
    StepMethod,
};
use leptos::prelude::*;

use crate::ctx::{Screen, use_ctx};
use crate::drafts::{self, Drafted, errors_of, key, probe, today};
use crate::patrol::GridPicker;
use crate::widgets::label as lbl;
use crate::widgets::{self, load};

const FORM: &str = "petition";

/// Whether a role registers petitions (those who raise cases, and leaders at reception).
pub fn may_create(role: Option<Role>) -> bool {
    role.is_some_and(|r| r == Role::Leader || r.may_take(CaseAction::Raise, Default::default()))
}

fn check(f: &NewPetition) -> Vec<FieldError> {
    let (id, me, now) = probe();
    errors_of(&f.to_petition(id, &me, now))
        .into_iter()
        .map(|mut e| {
            if e.field.starts_with("territory") {
                e.field = "grid".into();
            }
            e
        })
        .collect()
}

/// Register a petition.
#[component]
pub fn PetitionNew() -> impl IntoView {
    let ctx = use_ctx();
    let d = Drafted::new(
        FORM,
        NewPetition {
            received_on: today(),
            first: true,
            persons: 1,
            petitioners: vec![Party::default()],
            ..NewPetition::default()
        },
        |_| true,
    );
    let grid = RwSignal::new(String::new());
    Effect::new(move |_| {
        let g = grid.get();
        if d.form.with_untracked(|f| f.territory != g) && !g.is_empty() {
            d.edit("grid", move |f| f.territory = g);
        }
    });
    let errors = d.errors(check);
    let submit = move |_| {
        if !d.ready(check) {
            return;
        }
        let new = d.form.get_untracked();
        ctx.call(ApiRequest::CreatePetition(new), move |r| {
            if let ApiResponse::Created { id } = r {
                d.submitted();
                ctx.info("信访已登记", "Petition registered");
                ctx.changed();
                ctx.replace(Screen::Petition(id));
            }
        });
    };
    view! {
        <div class="stack">
            {drafts::restored_banner(d.restored)}
            <section class="card form">
                <h2>{ctx.tr("信访渠道", "Channel")}</h2>
                <div class="segmented two-by-two" role="group">
                    {PetitionChannel::ALL.iter().map(|c| { let c = *c; view! {
                        <button type="button" class="seg" id=format!("channel-{}", key(c)) class:selected=move || d.form.with(|f| f.channel == c)
                            on:click=move |_| d.edit("channel", move |f| f.channel = c)>{move || lbl(&c, ctx.lang.get())}</button>
                    }}).collect_view()}
                </div>
                <label for="petition-subject">{ctx.tr("事由", "Subject")}</label>
                <input id="petition-subject" type="text" prop:value=move || d.form.with(|f| f.subject.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); d.edit("subject", move |f| f.subject = v); } />
                {widgets::field_errors(errors, "subject")}
                <label for="petition-received">{ctx.tr("收到日期", "Received on")}</label>
                <input id="petition-received" type="date" prop:value=move || d.form.with(|f| f.received_on.to_string())
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { d.edit("received_on", move |f| f.received_on = v); } } />
                {widgets::date_hint(move || d.form.with(|f| f.received_on))}
                {widgets::field_errors(errors, "received_on")}
                <label class="check">
                    <input type="checkbox" id="petition-first" prop:checked=move || d.form.with(|f| f.first)
                        on:change=move |ev| { let v = event_target_checked(&ev); d.edit("first", move |f| f.first = v); } />
                    {ctx.tr("初信初访（按“1-2-3-4”工作法跟踪）", "First petition (tracked with the 1-2-3-4 steps)")}
                </label>
                <label for="petition-description">{ctx.tr("情况描述", "Description")}</label>
                <textarea id="petition-description" rows="3" prop:value=move || d.form.with(|f| f.description.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); d.edit("description", move |f| f.description = v); }></textarea>
                {widgets::field_errors(errors, "description")}
            </section>
            <section class="card form">
                <h2>{ctx.tr("信访人", "Petitioners")}</h2>
                {drafts::parties_editor(d, "petitioners", |f| &f.petitioners, |f| &mut f.petitioners, errors)}
                <label for="petition-persons">{ctx.tr("信访人数", "Number of petitioners")}</label>
                <input id="petition-persons" type="number" inputmode="numeric" min="1"
                    prop:value=move || d.form.with(|f| f.persons.to_string())
                    on:input=move |ev| { let v = event_target_value(&ev).trim().parse().unwrap_or(0); d.edit("persons", move |f| f.persons = v); } />
                {widgets::field_errors(errors, "persons")}
            </section>
            <section class="card form">
                <h2>{ctx.tr("所在网格", "Grid")}</h2>
                <GridPicker selected=grid />
                {widgets::field_errors(errors, "grid")}
            </section>
            <button id="petition-submit" class="primary" on:click=submit>{ctx.tr("登记信访", "Register petition")}</button>
            {drafts::draft_hint()}
        </div>
    }
}

/// A petition: its facts and, for a first petition, the 1-2-3-4 steps.
#[component]
pub fn PetitionView(id: RecordId) -> impl IntoView {
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
                Some(Record::Petition(p)) => petition_body(p).into_any(),
                _ => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
            }}
            <button class="link" on:click=move |_| ctx.go(Screen::History(id))>{ctx.tr("修改历史 ›", "History ›")}</button>
        </div>
    }
}

fn petition_body(p: Petition) -> impl IntoView {
    let ctx = use_ctx();
    let channel = p.channel;
    let names: Vec<String> = p.petitioners.iter().map(|x| x.name.clone()).collect();
    let overdue = p.is_overdue(today());
    view! {
        <section class="card" id="petition-head">
            <h2 class="title-line"><span>{p.subject.clone()}</span></h2>
            <div class="badges">
                <span class="badge">{move || lbl(&channel, ctx.lang.get())}</span>
                {p.first.then(|| view! { <span class="badge">{ctx.tr("初信初访", "First petition")}</span> })}
                {overdue.then(|| view! { <span class="badge error">{ctx.tr("有逾期步骤", "Steps overdue")}</span> })}
            </div>
            <dl class="facts">
                <dt>{ctx.tr("收到日期", "Received on")}</dt><dd>{p.received_on.to_string()}</dd>
                <dt>{ctx.tr("信访人", "Petitioners")}</dt><dd>{move || names.join(if ctx.lang.get() == Lang::En { ", " } else { "、" })}</dd>
                <dt>{ctx.tr("人数", "Persons")}</dt><dd>{p.persons}</dd>
            </dl>
            {(!p.description.is_empty()).then(|| view! { <p class="description">{p.description.clone()}</p> })}
            {p.case.map(|c| view! { <button class="link" on:click=move |_| ctx.go(Screen::Case(c))>{ctx.tr("对应事项 ›", "The case ›")}</button> })}
        </section>
        {(!p.steps.is_empty()).then(|| steps(p.clone()))}
    }
}

/// The 1-2-3-4 steps of a first petition, with due dates; overdue steps stand out, and an
/// open step can be marked done (date and note).
pub fn steps(p: Petition) -> impl IntoView {
    let ctx = use_ctx();
    let today = today();
    let open = RwSignal::new(None::<(StepMethod, u8)>);
    let whole = p.clone();
    view! {
        <section class="card" id="petition-steps">
            <h2>{ctx.tr("初信初访“1-2-3-4”工作法", "First petition: the 1-2-3-4 steps")}</h2>
            <ul class="rows">
                {p.steps.into_iter().map(|s| {
                    let overdue = s.is_overdue(today);
                    let done = s.done_on;
                    let note = s.note.clone();
                    let this = (s.method, s.seq);
                    let step_key = format!("{}-{}", key(s.method), s.seq);
                    let whole = whole.clone();
                    view! {
                        <li class="step" class:overdue=overdue data-step=step_key.clone()>
                            <b>{move || format!("{} {}", lbl(&s.method, ctx.lang.get()), s.seq)}</b>
                            <span class="small-text">{move || format!("{} {}", ctx.t("截止", "due"), s.due)}</span>
                            {match done {
                                Some(d) => view! { <span class="badge st-done">{move || format!("{} {d}", ctx.t("已完成", "Done"))}</span> }.into_any(),
                                None if overdue => view! { <span class="badge error">{ctx.tr("已逾期", "Overdue")}</span> }.into_any(),
                                None => view! { <span class="badge">{ctx.tr("待办", "To do")}</span> }.into_any(),
                            }}
                            {(!note.is_empty()).then(|| view! { <span class="step-note small-text">{note.clone()}</span> })}
                            {done.is_none().then(|| view! {
                                <Show when=move || open.get() != Some(this) fallback=move || step_form(whole.clone(), s.clone(), open)>
                                    <button class="small step-done" on:click=move |_| open.set(Some(this))>{ctx.tr("标记完成", "Mark done")}</button>
                                </Show>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

fn step_form(
    p: Petition,
    s: FirstPetitionStep,
    open: RwSignal<Option<(StepMethod, u8)>>,
) -> impl IntoView {
    let ctx = use_ctx();
    let id = p.id;
    let date = RwSignal::new(today().to_string());
    let note = RwSignal::new(String::new());
    let index = p
        .steps
        .iter()
        .position(|x| x.method == s.method && x.seq == s.seq)
        .unwrap_or_default();
    // The schema's check of the petition with this step done.
    let error = Signal::derive(move || {
        let Ok(day) = date.get().parse::<chrono::NaiveDate>() else {
            let rule = gridwork_schema::Rule::Required;
            return vec![FieldError {
                field: "done_on".into(),
                message: gridwork_schema::api::Message::new(
                    rule.message(Lang::ZhCn),
                    rule.message(Lang::En),
                ),
            }];
        };
        let mut probe = p.clone();
        if let Some(step) = probe.steps.get_mut(index) {
            step.done_on = Some(day);
            step.note = note.get();
        }
        let prefix = format!("steps[{index}].");
        errors_of(&probe)
            .into_iter()
            .filter_map(|mut e| {
                let rest = e.field.strip_prefix(&prefix)?.to_owned();
                e.field = rest;
                Some(e)
            })
            .collect::<Vec<_>>()
    });
    let save = move |_| {
        let Ok(done_on) = date.get_untracked().parse() else {
            return;
        };
        if !error.get_untracked().is_empty() {
            return;
        }
        ctx.call(
            ApiRequest::MarkPetitionStep {
                id,
                method: s.method,
                seq: s.seq,
                done_on,
                note: note.get_untracked(),
            },
            move |_| {
                open.set(None);
                ctx.info("已记录", "Recorded");
                ctx.changed();
            },
        );
    };
    view! {
        <div class="form step-form">
            <label>{ctx.tr("完成日期", "Done on")}
                <input type="date" class="step-date" prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev)) />
            </label>
            {widgets::field_errors(error, "done_on")}
            {widgets::field_errors(error, "note")}
            <label>{ctx.tr("办理情况（可选）", "What was done (optional)")}
                <input type="text" class="step-note-input" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev)) />
            </label>
            <div class="two">
                <button class="secondary" on:click=move |_| open.set(None)>{ctx.tr("取消", "Cancel")}</button>
                <button class="primary step-save" on:click=save>{ctx.tr("保存", "Save")}</button>
            </div>
        </div>
    }
}
