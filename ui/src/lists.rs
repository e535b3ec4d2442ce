//! Search and lists, conflicts, history, and a generic record view.

use gridwork_schema::api::{ApiRequest, ApiResponse, ConflictView, RecordFilter};
use gridwork_schema::{Lang, Record, RecordId};
use leptos::prelude::*;
use serde_json::Value;

use crate::ctx::{Screen, use_ctx};
use crate::widgets::label as lbl;
use crate::widgets::{field_label, kind_label, load, local_time, row_list, status_label};

const KINDS: [&str; 5] = ["case", "patrol", "mediation", "reception", "petition"];
const STATUSES: [&str; 9] = [
    "open",
    "in_mediation",
    "resolved",
    "handed_off",
    "ongoing",
    "finished",
    "done",
    "held",
    "scheduled",
];

/// Search with filters: text, kind, status, grid, dates.
#[component]
pub fn Search() -> impl IntoView {
    let ctx = use_ctx();
    let filter = RwSignal::new(RecordFilter::default());
    let rows = RwSignal::new(None);
    Effect::new(move |_| {
        ctx.version.get();
        let f = filter.get();
        ctx.call(ApiRequest::ListRecords { filter: f }, move |r| {
            if let ApiResponse::Records(list) = r {
                rows.set(Some(list));
            }
        });
    });
    let set = move |f: fn(&mut RecordFilter, Option<String>)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            let v = Some(v).filter(|s| !s.trim().is_empty());
            filter.update(|x| f(x, v));
        }
    };
    let option = move |value: &'static str, label: Box<dyn Fn() -> String + Send + Sync>| {
        view! { <option value=value>{label}</option> }
    };
    view! {
        <div class="stack">
            <section class="card form filters">
                <input type="search" id="search-text"
                    placeholder=move || ctx.t("搜索标题、描述、地点、姓名", "Search titles, places, names")
                    on:input=set(|f, v| f.text = v) />
                <div class="two">
                    <select id="filter-kind" aria-label=move || ctx.t("类型", "Kind") on:change=set(|f, v| f.kind = v)>
                        <option value="">{ctx.tr("全部类型", "All kinds")}</option>
                        {KINDS.iter().map(|k| option(k, Box::new(move || kind_label(k, ctx.lang.get())))).collect_view()}
                    </select>
                    <select id="filter-status" aria-label=move || ctx.t("状态", "Status") on:change=set(|f, v| f.status = v)>
                        <option value="">{ctx.tr("全部状态", "All statuses")}</option>
                        {STATUSES.iter().map(|s| {
                            let kind = if ["ongoing", "finished", "done", "held", "scheduled"].contains(s) { "" } else { "case" };
                            option(s, Box::new(move || status_label(kind, s, ctx.lang.get())))
                        }).collect_view()}
                    </select>
                </div>
                <input type="text" id="filter-grid" inputmode="numeric"
                    placeholder=move || ctx.t("网格编码（可选）", "Grid code (optional)")
                    on:input=set(|f, v| f.grid = v) />
                <div class="two">
                    <label class="inline">{ctx.tr("起", "From")}
                        <input type="date" id="filter-from" on:change=set(|f, v| f.from = v.and_then(|d| d.parse().ok())) />
                    </label>
                    <label class="inline">{ctx.tr("止", "To")}
                        <input type="date" id="filter-to" on:change=set(|f, v| f.to = v.and_then(|d| d.parse().ok())) />
                    </label>
                </div>
            </section>
            <section class="card" id="search-results">
                <h2>{ctx.tr("结果", "Results")}<span class="count">{move || rows.with(|r| r.as_ref().map(|r: &Vec<_>| r.len().to_string()).unwrap_or_default())}</span></h2>
                {move || match rows.get() {
                    Some(r) => row_list(r, "没有符合条件的记录", "No matching records"),
                    None => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
                }}
            </section>
        </div>
    }
}

/// A JSON value as short text.
fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// Every unsettled conflict: both values side by side, who and when; pick one or type another.
#[component]
pub fn Conflicts() -> impl IntoView {
    let ctx = use_ctx();
    let data = load(
        || ApiRequest::Conflicts,
        |r| match r {
            ApiResponse::Conflicts(c) => Some(c),
            _ => None,
        },
    );
    view! {
        <div class="stack">
            <p class="hint">{ctx.tr(
                "多人离线修改同一内容时会产生冲突。请选择保留的内容，或输入新的内容。",
                "When people edit the same thing offline, their edits conflict. Pick the value to keep, or type another.",
            )}</p>
            {move || match data.get() {
                None => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="empty" id="no-conflicts">{ctx.tr("没有需要处理的冲突", "No conflicts to settle")}</p> }.into_any(),
                Some(list) => list.into_iter().map(conflict_card).collect_view().into_any(),
            }}
        </div>
    }
}

fn conflict_card(c: ConflictView) -> impl IntoView {
    let ctx = use_ctx();
    let id: Option<RecordId> = c.id.parse().ok();
    let typed = RwSignal::new(String::new());
    let field = c.field.clone();
    let settle = move |value: Value| {
        let Some(id) = id else { return };
        let field = field.clone();
        ctx.call(
            ApiRequest::ResolveConflict { id, field, value },
            move |_| {
                ctx.info("冲突已处理", "Conflict settled");
                ctx.changed();
            },
        );
    };
    let settle2 = settle.clone();
    let field_name = c.field.clone();
    let kind = c.kind.clone();
    view! {
        <section class="card conflict" data-field=c.field.clone() data-id=c.id.clone()>
            <h2>
                <span>{c.title.clone()}</span>
                <span class="badge">{move || kind_label(&kind, ctx.lang.get())}</span>
            </h2>
            <p class="small-text">{move || ctx.t("冲突字段：", "Field: ")}<b>{move || field_label(&field_name, ctx.lang.get())}</b></p>
            <div class="side-by-side">
                {c.values.into_iter().enumerate().map(|(i, v)| {
                    let value = v.value.clone();
                    let settle = settle.clone();
                    view! {
                        <div class="choice-card">
                            <p class="value">{show_value(&v.value)}</p>
                            <p class="small-text">{v.by.name.clone()}<br />{local_time(v.at_ms)}</p>
                            <button class="primary small" data-choice=i.to_string() on:click=move |_| settle(value.clone())>
                                {ctx.tr("采用此值", "Keep this")}
                            </button>
                        </div>
                    }
                }).collect_view()}
            </div>
            <label>{ctx.tr("或输入新的内容", "Or type another value")}</label>
            <div class="row-input">
                <input type="text" class="conflict-typed" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                <button class="secondary" on:click=move |_| {
                    let t = typed.get();
                    if !t.trim().is_empty() { settle2(Value::String(t.trim().to_owned())); }
                }>{ctx.tr("保存", "Save")}</button>
            </div>
            {id.map(|id| view! { <button class="link" on:click=move |_| ctx.go(Screen::History(id))>{ctx.tr("查看修改历史 ›", "See history ›")}</button> })}
        </section>
    }
}

/// A record's changes, and the record as of a chosen date.
#[component]
pub fn History(id: RecordId) -> impl IntoView {
    let ctx = use_ctx();
    let date = RwSignal::new(String::new());
    let data = RwSignal::new(None);
    Effect::new(move |_| {
        ctx.version.get();
        let at = date
            .get()
            .parse::<chrono::NaiveDate>()
            .ok()
            .and_then(|d| d.and_hms_opt(23, 59, 59).map(|t| t.and_utc()));
        ctx.call(ApiRequest::History { id, at }, move |r| {
            if let ApiResponse::History(h) = r {
                data.set(Some(h));
            }
        });
    });
    view! {
        <div class="stack">
            <section class="card" id="history-changes">
                <h2>{ctx.tr("修改记录", "Changes")}</h2>
                {move || data.with(|d| d.as_ref().map(|h| view! {
                    <ol class="timeline">
                        {h.entries.iter().enumerate().rev().map(|(i, e)| {
                            let what: Vec<String> = e.what.iter().filter(|w| *w != "id" && *w != "type").cloned().collect();
                            let changed = move || {
                                if i == 0 {
                                    return ctx.t("创建记录", "Created").to_owned();
                                }
                                let sep = if ctx.lang.get() == Lang::En { ", " } else { "、" };
                                what.iter().map(|w| field_label(w, ctx.lang.get())).collect::<Vec<_>>().join(sep)
                            };
                            view! {
                                <li>
                                    <div class="tl-head"><b>{e.by.name.clone()}</b>{format!(" · {}", local_time(e.at_ms))}</div>
                                    <div class="tl-meta">{changed}</div>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }))}
            </section>
            <section class="card form" id="history-asof">
                <h2>{ctx.tr("查看某日的记录", "The record as of a date")}</h2>
                <input type="date" id="history-date" on:change=move |ev| date.set(event_target_value(&ev)) />
                {move || data.with(|d| d.as_ref().and_then(|h| h.as_of.clone()).map(|v| match v {
                    Value::Object(map) => view! {
                        <dl class="facts" id="asof-values">
                            {map.into_iter().filter(|(k, _)| !["id", "type", "created_by", "territory", "events", "checklist"].contains(&k.as_str())).map(|(k, v)| {
                                let k2 = k.clone();
                                view! { <dt>{move || field_label(&k2, ctx.lang.get())}</dt><dd>{summarize(&v)}</dd> }
                            }).collect_view()}
                        </dl>
                    }.into_any(),
                    _ => view! { <p class="empty">{ctx.tr("该日期时记录尚不存在", "The record did not exist yet on that date")}</p> }.into_any(),
                }))}
            </section>
        </div>
    }
}

fn summarize(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.len()),
        Value::Object(_) => "{…}".into(),
        other => show_value(other),
    }
}

/// Any record this version has no dedicated screen for: its fields, sync state and history.
#[component]
pub fn RecordDetail(id: RecordId) -> impl IntoView {
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
            {move || data.get().map(|v| {
                let value = v.record.as_ref().and_then(|r| serde_json::to_value(r).ok()).unwrap_or(Value::Null);
                let row = v.row.clone();
                let kind = row.kind.clone();
                view! {
                    <section class="card">
                        <h2>{row.title.clone()}<span class="badge">{move || kind_label(&kind, ctx.lang.get())}</span></h2>
                        {row.refused.clone().map(|r| view! { <p class="banner error">{move || r.reason(ctx.lang.get())}</p> })}
                        <dl class="facts">
                            {value.as_object().cloned().unwrap_or_default().into_iter()
                                .filter(|(k, _)| !["id", "type", "created_by", "territory", "steps"].contains(&k.as_str()))
                                .map(|(k, v)| { let k2 = k.clone(); view! { <dt>{move || field_label(&k2, ctx.lang.get())}</dt><dd>{move || show_field(&k, &v, ctx.lang.get())}</dd> } })
                                .collect_view()}
                        </dl>
                    </section>
                    {match v.record.clone() {
                        Some(Record::Petition(p)) if !p.steps.is_empty() => Some(crate::petition::steps(p)),
                        _ => None,
                    }}
                    <button class="link" on:click=move |_| ctx.go(Screen::History(id))>{ctx.tr("修改历史 ›", "History ›")}</button>
                }
            })}
        </div>
    }
}

/// A record field's value for people: labels for known enums, local times, yes/no, names.
fn show_field(key: &str, v: &Value, lang: Lang) -> String {
    let en = lang == Lang::En;
    if key == "channel"
        && let Ok(c) = serde_json::from_value::<gridwork_schema::PetitionChannel>(v.clone())
    {
        return lbl(&c, lang);
    }
    match v {
        Value::Bool(b) => match (b, en) {
            (true, false) => "是".into(),
            (false, false) => "否".into(),
            (true, true) => "Yes".into(),
            (false, true) => "No".into(),
        },
        Value::String(t) if t.is_empty() => "—".into(),
        Value::String(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(time) => local_time(time.timestamp_millis()),
            Err(_) => t.clone(),
        },
        Value::Array(items) => {
            let names: Vec<&str> = items
                .iter()
                .filter_map(|i| i.get("name").and_then(Value::as_str))
                .collect();
            if !names.is_empty() && names.len() == items.len() {
                names.join(if en { ", " } else { "、" })
            } else if en {
                format!("{} item(s)", items.len())
            } else {
                format!("{}项", items.len())
            }
        }
        other => summarize(other),
    }
}
