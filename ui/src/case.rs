//! Cases: the registration form (validated as you type, kept as a draft) and the case with its
//! timeline and the actions the user's role may take.

use chrono::{DateTime, NaiveDate};
use gridwork_schema::api::{ApiRequest, ApiResponse, FieldError, NewCase, field_errors};
use gridwork_schema::{
    Case, CaseAction, CaseEvent, CaseEventKind, CaseKind, CaseState, Category, Channel, Hlc, Label,
    Lang, Level, Party, Record, RecordId, RiskLevel, Role, UserRef, Validate, ValidationContext,
};
use leptos::prelude::*;

use crate::ctx::{Screen, use_ctx};
use crate::patrol::GridPicker;
use crate::widgets::label as lbl;
use crate::widgets::{self, load, local_time, now_ms};

const FORM: &str = "case";

/// Today's date on this device.
fn today() -> NaiveDate {
    widgets::local_date(now_ms()).parse().unwrap_or_default()
}

/// The schema's validation of the case the form would make.
fn check(form: &NewCase, role: Role) -> Vec<FieldError> {
    let now = now_ms();
    let id = RecordId::from_parts(u64::try_from(now).unwrap_or_default(), [7; 10]);
    let me = UserRef::new("me", "me");
    let event = CaseEvent {
        id: id.to_string(),
        at: Hlc::new(now, 0, "ui"),
        by: me.clone(),
        role,
        kind: CaseEventKind::Raised,
        note: String::new(),
    };
    let at = DateTime::from_timestamp_millis(now).unwrap_or_default();
    let case: Case = form.to_case(id, me, at, event);
    match case.validate(&ValidationContext::new(today())) {
        Ok(()) => Vec::new(),
        Err(e) => field_errors(&e)
            .into_iter()
            .map(|mut f| {
                if f.field.starts_with("territory") {
                    f.field = "grid".into();
                }
                f
            })
            .collect(),
    }
}

/// Register a case.
#[component]
pub fn CaseNew() -> impl IntoView {
    let ctx = use_ctx();
    let form = RwSignal::new(NewCase {
        persons_involved: 1,
        parties: vec![Party::default()],
        ..NewCase::default()
    });
    let grid = RwSignal::new(String::new());
    let draft_id = RwSignal::new(None::<RecordId>);
    let restored = RwSignal::new(false);
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let tried = RwSignal::new(false);
    let edits = RwSignal::new(0u32);
    let role = ctx.role().unwrap_or(Role::GridWorker);

    ctx.call(ApiRequest::GetDraft { form: FORM.into() }, move |r| {
        if let ApiResponse::Draft(Some(d)) = r {
            if let Ok(f) = serde_json::from_value::<NewCase>(d.data.clone()) {
                grid.set(f.grid.clone());
                form.set(f);
                restored.set(true);
            }
            draft_id.set(Some(d.id));
        }
    });

    let save_draft = move || {
        let data = serde_json::to_value(form.get_untracked()).unwrap_or_default();
        ctx.call_then(
            ApiRequest::SaveDraft {
                id: draft_id.get_untracked(),
                form: FORM.into(),
                data,
            },
            move |r| {
                if let Ok(ApiResponse::Created { id }) = r {
                    draft_id.set(Some(id));
                }
            },
        );
    };
    // Every edit is saved as a draft shortly after typing stops.
    let edit = move |field: &'static str, f: Box<dyn FnOnce(&mut NewCase)>| {
        form.update(|c| f(c));
        touched.update(|t| {
            if !t.contains(&field) {
                t.push(field)
            }
        });
        edits.update(|n| *n += 1);
        let n = edits.get_untracked();
        set_timeout(
            move || {
                if edits.get_untracked() == n {
                    save_draft();
                }
            },
            std::time::Duration::from_millis(600),
        );
    };
    Effect::new(move |_| {
        let g = grid.get();
        if form.with_untracked(|f| f.grid != g) {
            edit("grid", Box::new(move |f| f.grid = g));
        }
    });
    let errors = Signal::derive(move || {
        let all = check(&form.get(), role);
        if tried.get() {
            return all;
        }
        let t = touched.get();
        all.into_iter()
            .filter(|e| {
                t.iter().any(|f| {
                    e.field == *f
                        || e.field.starts_with(&format!("{f}."))
                        || e.field.starts_with(&format!("{f}["))
                })
            })
            .collect()
    });
    let submit = move |_| {
        tried.set(true);
        if !check(&form.get_untracked(), role).is_empty() {
            ctx.info("请按提示修改后再提交", "Fix the marked fields first");
            return;
        }
        let new = form.get_untracked();
        edits.update(|n| *n += 1); // no draft save after this
        ctx.call(ApiRequest::CreateCase(new), move |r| {
            if let ApiResponse::Created { id } = r {
                if let Some(d) = draft_id.get_untracked() {
                    ctx.call(ApiRequest::ClearDraft { id: d }, |_| {});
                }
                ctx.info("事项已登记", "Case registered");
                ctx.changed();
                ctx.replace(Screen::Case(id));
            }
        });
    };
    let text_input = move |field: &'static str,
                           zh: &'static str,
                           en: &'static str,
                           get: fn(&NewCase) -> String,
                           set: fn(&mut NewCase, String)| {
        view! {
            <label for=format!("case-{field}")>{ctx.tr(zh, en)}</label>
            <input id=format!("case-{field}") type="text"
                prop:value=move || form.with(get)
                on:input=move |ev| { let v = event_target_value(&ev); edit(field, Box::new(move |f| set(f, v))); } />
            {widgets::field_errors(errors, field)}
        }
    };
    view! {
        <div class="stack">
            <Show when=move || restored.get()>
                <p class="banner info" id="draft-restored">{ctx.tr("已恢复上次未提交的草稿", "Your unfinished draft was restored")}</p>
            </Show>
            <section class="card form">
                <h2>{ctx.tr("类型", "Kind")}</h2>
                <div class="segmented" role="group">
                    {CaseKind::ALL.iter().map(|k| { let k = *k; view! {
                        <button type="button" class="seg" class:selected=move || form.with(|f| f.kind == k)
                            on:click=move |_| edit("kind", Box::new(move |f| f.kind = k))>{move || lbl(&k, ctx.lang.get())}</button>
                    }}).collect_view()}
                </div>
                {text_input("title", "标题", "Title", |f| f.title.clone(), |f, v| f.title = v)}
                <label for="case-category">{ctx.tr("类别", "Category")}</label>
                <select id="case-category" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Ok(c) = serde_json::from_value::<Category>(serde_json::Value::String(v)) { edit("category", Box::new(move |f| f.category = c)); }
                }>
                    {Category::ALL.iter().map(|c| { let c = *c; let key = serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(); view! {
                        <option value=key selected=move || form.with(|f| f.category == c)>{move || lbl(&c, ctx.lang.get())}</option>
                    }}).collect_view()}
                </select>
                <h2>{ctx.tr("风险等级", "Risk")}</h2>
                <div class="segmented three" role="group">
                    {RiskLevel::ALL.iter().map(|r| { let r = *r; view! {
                        <button type="button" class="seg" class:selected=move || form.with(|f| f.risk == r)
                            on:click=move |_| edit("risk", Box::new(move |f| f.risk = r))>{move || lbl(&r, ctx.lang.get())}</button>
                    }}).collect_view()}
                </div>
                <label for="case-description">{ctx.tr("情况描述", "Description")}</label>
                <textarea id="case-description" rows="4"
                    prop:value=move || form.with(|f| f.description.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); edit("description", Box::new(move |f| f.description = v)); }></textarea>
                {widgets::field_errors(errors, "description")}
            </section>
            <section class="card form">
                <h2>{ctx.tr("当事人", "Parties")}</h2>
                <Show when=move || form.with(|f| f.kind == CaseKind::Hazard)>
                    <p class="hint">{ctx.tr("信访隐患可不填当事人", "A petition hazard may have no parties")}</p>
                </Show>
                {move || (0..form.with(|f| f.parties.len())).map(|i| {
                    let party = move |g: fn(&Party) -> String| move || form.with(|f| f.parties.get(i).map(g).unwrap_or_default());
                    let set = move |field: &'static str, s: fn(&mut Party, String)| move |ev: leptos::ev::Event| {
                        let v = event_target_value(&ev);
                        edit(field, Box::new(move |f| if let Some(p) = f.parties.get_mut(i) { s(p, v) }));
                    };
                    view! {
                        <fieldset class="party">
                            <legend>{move || format!("{} {}", ctx.t("当事人", "Party"), i + 1)}</legend>
                            <label>{ctx.tr("姓名", "Name")}</label>
                            <input type="text" class="party-name" prop:value=party(|p| p.name.clone()) on:input=set("parties", |p, v| p.name = v) />
                            <label>{ctx.tr("电话", "Phone")}</label>
                            <input type="tel" inputmode="tel" class="party-phone" prop:value=party(|p| p.phone.clone()) on:input=set("parties", |p, v| p.phone = v) />
                            <label>{ctx.tr("身份证号（可选）", "ID number (optional)")}</label>
                            <input type="text" class="party-id" prop:value=party(|p| p.id_number.clone()) on:input=set("parties", |p, v| p.id_number = v) />
                            <button type="button" class="link danger-text" on:click=move |_| edit("parties", Box::new(move |f| { if i < f.parties.len() { f.parties.remove(i); } }))>
                                {ctx.tr("移除此当事人", "Remove this party")}
                            </button>
                        </fieldset>
                    }
                }).collect_view()}
                {widgets::field_errors(errors, "parties")}
                <button type="button" class="secondary" id="add-party" on:click=move |_| edit("parties", Box::new(|f| f.parties.push(Party::default())))>
                    {ctx.tr("＋ 添加当事人", "＋ Add party")}
                </button>
                <label for="case-persons">{ctx.tr("涉及人数", "People involved")}</label>
                <input id="case-persons" type="number" inputmode="numeric" min="1"
                    prop:value=move || form.with(|f| f.persons_involved.to_string())
                    on:input=move |ev| { let v = event_target_value(&ev).trim().parse().unwrap_or(0); edit("persons_involved", Box::new(move |f| f.persons_involved = v)); } />
                {widgets::field_errors(errors, "persons_involved")}
            </section>
            <section class="card form">
                <h2>{ctx.tr("所在网格", "Grid")}</h2>
                <GridPicker selected=grid />
                {widgets::field_errors(errors, "grid")}
            </section>
            <button id="case-submit" class="primary" on:click=submit>{ctx.tr("提交登记", "Register case")}</button>
            <p class="hint center">{ctx.tr("填写内容会自动保存为草稿，关闭应用也不会丢失。", "What you type is kept as a draft, even if the app closes.")}</p>
        </div>
    }
}

/// One possible action on a case: the event, its button id and its label.
struct Offer {
    kind: CaseEventKind,
    id: String,
    zh: String,
    en: String,
}

fn offers(
    role: Role,
    state: &CaseState,
    department: &str,
    leader: &str,
    channel: Channel,
) -> Vec<Offer> {
    let open = !state.status.is_closed();
    let mut out = Vec::new();
    let mut add = |kind: CaseEventKind, id: &str, zh: String, en: String| {
        let action = kind.action();
        let level = kind.named_level().unwrap_or(state.level);
        if role.may_take(action, level) {
            out.push(Offer {
                kind,
                id: id.to_owned(),
                zh,
                en,
            });
        }
    };
    let a = |x: CaseAction| (x.zh().to_owned(), capitalize(x.en()));
    if open {
        if !state.alerted {
            let (zh, en) = a(CaseAction::Alert);
            add(CaseEventKind::Alerted, "action-alert", zh, en);
        }
        for to in [Level::Street, Level::District] {
            if state.level < to {
                add(
                    CaseEventKind::Escalated { to },
                    &format!("action-escalate-{}", key(to)),
                    format!("上报至{}", to.zh()),
                    format!("Escalate to {}", to.en()),
                );
            }
        }
        for to in [Level::Community, Level::Street] {
            if state.level > to {
                add(
                    CaseEventKind::SentBack { to },
                    &format!("action-send-back-{}", key(to)),
                    format!("退回{}", to.zh()),
                    format!("Send back to {}", to.en()),
                );
            }
        }
        if !state.whistle {
            let (zh, en) = a(CaseAction::BlowWhistle);
            add(CaseEventKind::WhistleBlown, "action-whistle", zh, en);
        }
        if !department.is_empty() {
            let (zh, en) = a(CaseAction::ReportIn);
            add(
                CaseEventKind::DepartmentReported {
                    department: department.to_owned(),
                    took_on: String::new(),
                },
                "action-report-in",
                zh,
                en,
            );
        }
        if !leader.is_empty() {
            let (zh, en) = a(CaseAction::AssignLeader);
            add(
                CaseEventKind::LeaderAssigned {
                    leader: leader.to_owned(),
                },
                "action-assign-leader",
                zh,
                en,
            );
        }
        if !state.in_mediation {
            let (zh, en) = a(CaseAction::ReferToMediation);
            add(
                CaseEventKind::ReferredToMediation { mediation: None },
                "action-mediation",
                zh,
                en,
            );
        }
        // Resolved where it is handled now, or above (a case sent up is not settled below).
        for at in Level::ALL.iter().filter(|l| **l >= state.level) {
            add(
                CaseEventKind::Resolved { at: *at },
                &format!("action-resolve-{}", key(*at)),
                format!("在{}化解", at.zh()),
                format!("Resolve at {} level", at.en()),
            );
        }
        add(
            CaseEventKind::HandedOff { channel },
            "action-hand-off",
            format!("移交{}", channel.zh()),
            format!("Hand off to {}", channel.en()),
        );
    } else {
        let (zh, en) = a(CaseAction::Reopen);
        add(CaseEventKind::Reopened, "action-reopen", zh, en);
    }
    let (zh, en) = a(CaseAction::FollowUpVisit);
    add(CaseEventKind::FollowUpVisit, "action-follow-up", zh, en);
    out
}

fn key<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn capitalize(s: &str) -> String {
    widgets::capitalize(s)
}

/// A case: details, timeline, actions.
#[component]
pub fn CaseView(id: RecordId) -> impl IntoView {
    let ctx = use_ctx();
    let data = load(
        move || ApiRequest::GetRecord { id },
        |r| match r {
            ApiResponse::Record(v) => Some(v),
            _ => None,
        },
    );
    // What is being typed lives outside the part rebuilt after each change.
    let note = RwSignal::new(String::new());
    let took_on = RwSignal::new(String::new());
    view! {
        <div class="stack">
            {move || {
                let view = data.get();
                match view.as_ref().and_then(|v| v.record.clone()) {
                    Some(Record::Case(c)) => {
                        let row = view.map(|v| v.row);
                        case_body(c, row.map_or(0, |r| r.conflicts), note, took_on).into_any()
                    }
                    _ => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
                }
            }}
        </div>
    }
}

fn case_body(
    c: Case,
    conflicts: u32,
    note: RwSignal<String>,
    took_on: RwSignal<String>,
) -> impl IntoView {
    let ctx = use_ctx();
    let id = c.id;
    let state = c.state();
    let channel = RwSignal::new(Channel::Petition);
    let editing = RwSignal::new(false);
    let new_title = RwSignal::new(c.title.clone());
    let user = ctx
        .status
        .with_untracked(|s| s.as_ref().and_then(|s| s.user.clone()));
    let role = user.as_ref().map(|u| u.role);
    let department = user
        .as_ref()
        .and_then(|u| u.department.clone())
        .unwrap_or_default();
    let leader_name = if role == Some(Role::Leader)
        || role == Some(Role::Supervisor)
        || role == Some(Role::Admin)
    {
        user.as_ref().map(|u| u.name.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    let mut events = c.events.clone();
    events.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)));
    let status = state.status;
    let level = state.level;
    let in_mediation = state.in_mediation && !state.status.is_closed();
    let linked_mediation = state.mediation;
    let state2 = state.clone();
    let take = move |kind: CaseEventKind| {
        let kind = match kind {
            CaseEventKind::DepartmentReported { department, .. } => {
                let t = took_on.get_untracked();
                if t.trim().is_empty() {
                    ctx.info(
                        "请填写本部门承担的工作",
                        "Say what your department takes on",
                    );
                    return;
                }
                CaseEventKind::DepartmentReported {
                    department,
                    took_on: t,
                }
            }
            CaseEventKind::HandedOff { .. } => CaseEventKind::HandedOff {
                channel: channel.get_untracked(),
            },
            other => other,
        };
        let request = ApiRequest::AddCaseEvent {
            id,
            kind,
            note: note.get_untracked(),
        };
        ctx.call(request, move |_| {
            note.set(String::new());
            took_on.set(String::new());
            ctx.info("已记录", "Recorded");
            ctx.changed();
        });
    };
    let save_title = move |_| {
        let value = serde_json::Value::String(new_title.get_untracked().trim().to_owned());
        ctx.call(
            ApiRequest::SetField {
                id,
                field: "title".into(),
                value,
            },
            move |_| {
                editing.set(false);
                ctx.info("已保存", "Saved");
                ctx.changed();
            },
        );
    };
    let parties = c.parties.clone();
    let from_patrol = c.from_patrol;
    let kind = c.kind;
    let category = c.category;
    let risk = c.risk;
    let title = c.title.clone();
    let description = c.description.clone();
    let persons = c.persons_involved;
    view! {
        <section class="card" id="case-head">
            <Show when=move || !editing.get() fallback=move || view! {
                <div class="form">
                    <label for="edit-title-input">{ctx.tr("标题", "Title")}</label>
                    <input id="edit-title-input" type="text" prop:value=move || new_title.get() on:input=move |ev| new_title.set(event_target_value(&ev)) />
                    <div class="two">
                        <button class="secondary" on:click=move |_| editing.set(false)>{ctx.tr("取消", "Cancel")}</button>
                        <button class="primary" id="save-title" on:click=save_title>{ctx.tr("保存", "Save")}</button>
                    </div>
                </div>
            }>
                <h2 id="case-title" class="title-line">
                    <span>{title.clone()}</span>
                    <button class="small" id="edit-title" on:click=move |_| editing.set(true)>{ctx.tr("修改", "Edit")}</button>
                </h2>
            </Show>
            <div class="badges">
                <span class=format!("badge st-{}", key(status)) id="case-status">{move || lbl(&status, ctx.lang.get())}</span>
                <span class="badge level" id="case-level">{move || lbl(&level, ctx.lang.get())}</span>
                <span class="badge">{move || lbl(&kind, ctx.lang.get())}</span>
                <span class="badge">{move || lbl(&category, ctx.lang.get())}</span>
                <span class=format!("badge risk-{}", key(risk))>{move || lbl(&risk, ctx.lang.get())}</span>
            </div>
            {(conflicts > 0).then(|| view! {
                <button class="banner warn" on:click=move |_| ctx.go(Screen::Conflicts)>{ctx.tr("此事项有编辑冲突，点此处理 ›", "This case has conflicting edits — settle them ›")}</button>
            })}
            {(!description.is_empty()).then(|| view! { <p class="description">{description.clone()}</p> })}
            <dl class="facts">
                <dt>{ctx.tr("涉及人数", "People involved")}</dt><dd>{persons}</dd>
                {state2.resolved_at.map(|l| view! { <dt>{ctx.tr("化解层级", "Resolved at")}</dt><dd>{move || lbl(&l, ctx.lang.get())}</dd> })}
                {state2.handed_off.map(|ch| view! { <dt>{ctx.tr("移交渠道", "Handed to")}</dt><dd>{move || lbl(&ch, ctx.lang.get())}</dd> })}
                {state2.leader.clone().map(|l| view! { <dt>{ctx.tr("包案领导", "Leader")}</dt><dd>{l}</dd> })}
                {(!state2.departments.is_empty()).then(|| view! {
                    <dt>{ctx.tr("报到部门", "Departments")}</dt>
                    <dd>{state2.departments.iter().map(|d| format!("{}（{}）", d.department, d.took_on.join("；"))).collect::<Vec<_>>().join("，")}</dd>
                })}
            </dl>
            {(!parties.is_empty()).then(|| view! {
                <h3>{ctx.tr("当事人", "Parties")}</h3>
                <ul class="plain">
                    {parties.iter().map(|p| view! { <li>{p.name.clone()}{(!p.phone.is_empty()).then(|| format!(" · {}", p.phone))}</li> }).collect_view()}
                </ul>
            })}
            {from_patrol.map(|p| view! {
                <button class="link" on:click=move |_| ctx.go(Screen::Patrol(p))>{ctx.tr("来自排查记录 ›", "From a patrol ›")}</button>
            })}
        </section>
        <section class="card" id="case-actions">
            <h2>{ctx.tr("办理", "Actions")}</h2>
            {move || {
                let list = role.map(|r| offers(r, &state, &department, &leader_name, channel.get())).unwrap_or_default();
                if list.is_empty() {
                    return view! { <p class="empty">{ctx.tr("您的角色对此事项暂无可办理的操作", "Your role has no action to take on this case now")}</p> }.into_any();
                }
                let needs_took_on = list.iter().any(|o| matches!(o.kind, CaseEventKind::DepartmentReported { .. }));
                let can_hand_off = list.iter().any(|o| matches!(o.kind, CaseEventKind::HandedOff { .. }));
                view! {
                    <div class="form">
                        <label for="action-note">{ctx.tr("办理说明（可选）", "Note (optional)")}</label>
                        <textarea id="action-note" rows="2" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                        {needs_took_on.then(|| view! {
                            <label for="took-on">{ctx.tr("本部门承担的工作", "What your department takes on")}</label>
                            <input id="took-on" type="text" prop:value=move || took_on.get() on:input=move |ev| took_on.set(event_target_value(&ev)) />
                        })}
                        {can_hand_off.then(|| view! {
                            <label for="hand-off-channel">{ctx.tr("移交渠道", "Hand-off channel")}</label>
                            <select id="hand-off-channel" on:change=move |ev| {
                                if let Ok(c) = serde_json::from_value::<Channel>(serde_json::Value::String(event_target_value(&ev))) { channel.set(c); }
                            }>
                                {Channel::ALL.iter().map(|c| { let c = *c; view! { <option value=key(c) selected=move || channel.get() == c>{move || lbl(&c, ctx.lang.get())}</option> } }).collect_view()}
                            </select>
                        })}
                    </div>
                    <div class="action-list">
                        {list.into_iter().map(|o| {
                            let kind = o.kind.clone();
                            let (zh, en) = (o.zh.clone(), o.en.clone());
                            view! {
                                <button class="action" id=o.id on:click=move |_| take(kind.clone())>
                                    {move || if ctx.lang.get() == Lang::En { en.clone() } else { zh.clone() }}
                                </button>
                            }
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
        </section>
        {(in_mediation || linked_mediation.is_some()).then(|| view! {
            <section class="card" id="case-mediation">
                <h2>{ctx.tr("人民调解", "Mediation")}</h2>
                {match linked_mediation {
                    Some(m) => view! {
                        <button class="secondary" id="case-open-mediation" on:click=move |_| ctx.go(Screen::Mediation(m))>{ctx.tr("查看调解 ›", "Open the mediation ›")}</button>
                    }.into_any(),
                    None if crate::mediation::may_create(role) => view! {
                        <p class="hint">{ctx.tr("已转人民调解，可接着登记调解。", "Referred to mediation: register the mediation next.")}</p>
                        <button class="primary" id="case-new-mediation" on:click=move |_| ctx.go(Screen::MediationNew(Some(id)))>{ctx.tr("＋ 登记调解", "＋ Register the mediation")}</button>
                    }.into_any(),
                    None => view! { <p class="hint">{ctx.tr("已转人民调解", "Referred to mediation")}</p> }.into_any(),
                }}
            </section>
        })}
        <section class="card" id="case-timeline">
            <h2>{ctx.tr("办理经过", "Timeline")}</h2>
            <ol class="timeline">
                {events.into_iter().map(|e| {
                    let detail = event_detail(&e.kind);
                    let event_key = key_of_event(&e.kind);
                    view! {
                        <li data-event=event_key>
                            <div class="tl-head">
                                <b>{move || lbl(&e.kind, ctx.lang.get())}</b>
                                {move || detail.as_ref().map(|d| d(ctx.lang.get()))}
                            </div>
                            <div class="tl-meta">
                                {format!("{} · ", e.by.name)}{move || lbl(&e.role, ctx.lang.get())}{format!(" · {}", local_time(e.at.millis))}
                            </div>
                            {(!e.note.is_empty()).then(|| view! { <p class="tl-note">{e.note.clone()}</p> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
        <button class="link" id="open-history" on:click=move |_| ctx.go(Screen::History(id))>{ctx.tr("修改历史 ›", "History ›")}</button>
    }
}

fn key_of_event(k: &CaseEventKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str().map(str::to_owned)))
        .unwrap_or_default()
}

type Detail = Box<dyn Fn(Lang) -> String + Send + Sync>;

fn event_detail(k: &CaseEventKind) -> Option<Detail> {
    Some(match k.clone() {
        CaseEventKind::Escalated { to } | CaseEventKind::SentBack { to } => {
            Box::new(move |l| format!(" → {}", to.label(l)))
        }
        CaseEventKind::Resolved { at } => Box::new(move |l| format!(" · {}", at.label(l))),
        CaseEventKind::HandedOff { channel } => {
            Box::new(move |l| format!(" → {}", channel.label(l)))
        }
        CaseEventKind::DepartmentReported {
            department,
            took_on,
        } => Box::new(move |_| format!(" · {department}：{took_on}")),
        CaseEventKind::LeaderAssigned { leader } => Box::new(move |_| format!(" · {leader}")),
        _ => return None,
    })
}
