//! Pieces shared by the screens: sync bar, toast, record rows, formatting.

use gridwork_schema::api::{ApiRequest, ApiResponse, FieldError, RecordRow};
use gridwork_schema::{
    CaseStatus, Label, Lang, MediationOutcome, PatrolKind, RecordId, RecordKind,
};
use leptos::prelude::*;

use crate::ctx::{Screen, use_ctx};

/// The sync bar: online or offline, pending changes, last sync, progress, refusals, and
/// "sync now".
#[component]
pub fn SyncBar() -> impl IntoView {
    let ctx = use_ctx();
    let busy = RwSignal::new(false);
    let sync_now = move |_| {
        busy.set(true);
        ctx.call_then(ApiRequest::SyncNow, move |r| {
            busy.set(false);
            match r {
                Ok(_) => {
                    ctx.info("同步完成", "Synced");
                    ctx.changed();
                }
                Err(e) => {
                    ctx.error(&e);
                    ctx.refresh_status();
                }
            }
        });
    };
    let state = move || {
        ctx.status.with(|s| {
            let Some(s) = s else {
                return ("unknown", String::new());
            };
            let lang = ctx.lang.get();
            let en = lang == Lang::En;
            if s.syncing || busy.get() {
                let p = s.progress.clone().unwrap_or_default();
                let text = if en {
                    format!("Syncing… {} sent, {} received", p.pushed, p.pulled)
                } else {
                    format!("正在同步… 已发送{}条，已接收{}条", p.pushed, p.pulled)
                };
                return ("syncing", text);
            }
            let mut parts = Vec::new();
            let (class, word) = match s.online {
                Some(true) => ("online", if en { "Online" } else { "在线" }),
                Some(false) => ("offline", if en { "Offline" } else { "离线" }),
                None => ("unknown", if en { "Not synced yet" } else { "尚未同步" }),
            };
            parts.push(word.to_owned());
            parts.push(if en {
                format!("{} pending", s.pending)
            } else {
                format!("待同步 {}", s.pending)
            });
            if let Some(last) = &s.last_sync {
                let when = short_time_rfc3339(last);
                parts.push(if en {
                    format!("last {when}")
                } else {
                    format!("上次 {when}")
                });
            }
            (class, parts.join(" · "))
        })
    };
    let refused = move || {
        ctx.status
            .with(|s| s.as_ref().map(|s| s.refused.clone()).unwrap_or_default())
    };
    let conflicts = move || ctx.status.with(|s| s.as_ref().map_or(0, |s| s.conflicts));
    view! {
        <section class="syncbar" id="syncbar">
            <div class="syncline">
                <span class=move || format!("dot {}", state().0) aria-hidden="true"></span>
                <span class="synctext" id="sync-state" data-state=move || state().0>{move || state().1}</span>
                <button id="sync-now" class="small" disabled=move || busy.get() on:click=sync_now>
                    {ctx.tr("立即同步", "Sync now")}
                </button>
            </div>
            <Show when=move || { conflicts() > 0 }>
                <button class="banner warn" id="conflict-banner" on:click=move |_| ctx.go_tab(Screen::Conflicts)>
                    {move || if ctx.lang.get() == Lang::En {
                        format!("{} record(s) with conflicting edits — settle them", conflicts())
                    } else {
                        format!("{}条记录存在编辑冲突，请处理", conflicts())
                    }}
                </button>
            </Show>
            {move || refused().into_iter().map(|r| {
                let id: Option<RecordId> = r.id.parse().ok();
                let reason = r.refusal.reason(ctx.lang.get());
                view! {
                    <button class="banner error refused" on:click=move |_| if let Some(id) = id { ctx.go(Screen::Record(id)) }>
                        {move || ctx.t("服务器拒收：", "Refused by the server: ")}
                        <b>{r.title.clone()}</b>
                        {format!(" — {reason}")}
                    </button>
                }
            }).collect_view()}
            <Show when=move || ctx.status.with(|s| s.as_ref().is_some_and(|s| s.last_error.is_some() && s.online == Some(true)))>
                <div class="banner error">{move || ctx.status.with(|s| s.as_ref().and_then(|s| s.last_error.as_ref()).map(|m| ctx.msg(m)).unwrap_or_default())}</div>
            </Show>
        </section>
    }
}

/// The toast: the latest message, for four seconds.
#[component]
pub fn Toast() -> impl IntoView {
    let ctx = use_ctx();
    Effect::new(move |_| {
        if ctx.toast.get().is_some() {
            set_timeout(
                move || ctx.toast.set(None),
                std::time::Duration::from_secs(4),
            );
        }
    });
    view! {
        <Show when=move || ctx.toast.with(Option::is_some)>
            <div
                id="toast"
                role="status"
                class=move || if ctx.toast.with(|t| t.as_ref().is_some_and(|t| t.0)) { "toast error" } else { "toast" }
                on:click=move |_| ctx.toast.set(None)
            >
                {move || ctx.toast.with(|t| t.as_ref().map(|t| ctx.msg(&t.1)).unwrap_or_default())}
            </div>
        </Show>
    }
}

/// A list of record rows; a tap opens the record.
pub fn row_list(rows: Vec<RecordRow>, empty_zh: &'static str, empty_en: &'static str) -> AnyView {
    let ctx = use_ctx();
    if rows.is_empty() {
        return view! { <p class="empty">{ctx.tr(empty_zh, empty_en)}</p> }.into_any();
    }
    view! {
        <ul class="rows">
            {rows.into_iter().map(|r| {
                let id: Option<RecordId> = r.id.parse().ok();
                let kind = r.kind.clone();
                let open = move |_| {
                    if let Some(id) = id {
                        ctx.go(screen_for(&kind, id));
                    }
                };
                let title = r.clone();
                let meta = r.clone();
                view! {
                    <li>
                        <button class="row" data-kind=r.kind.clone() data-id=r.id.clone() on:click=open>
                            <span class="row-title">{move || display_title(&title, ctx.lang.get())}</span>
                            <span class="row-meta">
                                <span class=format!("badge st-{}", r.status)>{move || status_label(&meta.kind, &meta.status, ctx.lang.get())}</span>
                                {r.level.map(|l| view! { <span class="badge level">{move || label(&l, ctx.lang.get())}</span> })}
                                {(r.conflicts > 0).then(|| view! { <span class="badge warn">{ctx.tr("有冲突", "conflict")}</span> })}
                                {r.pending.then(|| view! { <span class="badge pending">{ctx.tr("待同步", "pending")}</span> })}
                                {r.refused.is_some().then(|| view! { <span class="badge error">{ctx.tr("被拒收", "refused")}</span> })}
                                <span class="age">{move || r.created_at.map(|t| age(t.timestamp_millis(), ctx.lang.get())).unwrap_or_default()}</span>
                            </span>
                        </button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The screen that shows a record of `kind`.
pub fn screen_for(kind: &str, id: RecordId) -> Screen {
    match kind {
        "case" => Screen::Case(id),
        "patrol" => Screen::Patrol(id),
        "mediation" => Screen::Mediation(id),
        "reception" => Screen::Reception(id),
        "petition" => Screen::Petition(id),
        _ => Screen::Record(id),
    }
}

/// A row's title in `lang` (titles built from labels are stored in Chinese).
pub fn display_title(r: &RecordRow, lang: Lang) -> String {
    if lang == Lang::ZhCn {
        return r.title.clone();
    }
    for k in PatrolKind::ALL {
        if let Some(rest) = r.title.strip_prefix(k.zh()) {
            return format!("{}{rest}", capitalize(k.en()));
        }
    }
    for k in [RecordKind::Mediation, RecordKind::Draft] {
        if let Some(rest) = r.title.strip_prefix(k.zh()) {
            return format!("{}{rest}", capitalize(k.en()));
        }
    }
    r.title.clone()
}

/// A label in `lang`; English labels start with a capital when they stand alone.
pub fn label(l: &impl Label, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => l.zh().to_owned(),
        Lang::En => capitalize(l.en()),
    }
}

/// `s` with its first letter upper-case.
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The label of a status name of a record kind.
pub fn status_label(kind: &str, status: &str, lang: Lang) -> String {
    let json = serde_json::Value::String(status.to_owned());
    if kind == "case"
        && let Ok(s) = serde_json::from_value::<CaseStatus>(json.clone())
    {
        return label(&s, lang);
    }
    if kind == "mediation"
        && let Ok(s) = serde_json::from_value::<MediationOutcome>(json)
    {
        return label(&s, lang);
    }
    let (zh, en) = match status {
        "ongoing" => ("进行中", "ongoing"),
        "finished" => ("已完成", "finished"),
        "held" => ("已举行", "held"),
        "open" => ("办理中", "open"),
        "done" => ("已办结", "done"),
        "draft" => ("草稿", "draft"),
        "scheduled" => ("待接访", "scheduled"),
        _ => return status.to_owned(),
    };
    match lang {
        Lang::ZhCn => zh.into(),
        Lang::En => capitalize(en),
    }
}

/// The label of a record kind name.
pub fn kind_label(kind: &str, lang: Lang) -> String {
    serde_json::from_value::<RecordKind>(serde_json::Value::String(kind.to_owned()))
        .map(|k| k.label(lang).to_owned())
        .unwrap_or_else(|_| kind.to_owned())
}

/// The label of a field path (`title`, `parties[0].phone`), for errors and conflicts.
pub fn field_label(field: &str, lang: Lang) -> String {
    let (head, index) = match field.split_once('[') {
        Some((h, rest)) => (
            h,
            rest.split(']').next().and_then(|n| n.parse::<usize>().ok()),
        ),
        None => (field, None),
    };
    let leaf = field.rsplit('.').next().unwrap_or(field);
    let name = |k: &str| -> Option<(&'static str, &'static str)> {
        Some(match k {
            "title" => ("标题", "Title"),
            "description" => ("情况描述", "Description"),
            "parties" => ("当事人", "Party"),
            "name" => ("姓名", "name"),
            "phone" => ("电话", "phone"),
            "id_number" => ("身份证号", "ID number"),
            "address" => ("地址", "address"),
            "persons_involved" => ("涉及人数", "People involved"),
            "risk" => ("风险等级", "Risk"),
            "category" => ("类别", "Category"),
            "kind" => ("类型", "Kind"),
            "territory" | "grid" => ("网格", "Grid"),
            "theme" => ("专项主题", "Theme"),
            "findings" => ("发现", "Finding"),
            "text" => ("内容", "text"),
            "location" => ("位置", "Location"),
            "lat" => ("纬度", "latitude"),
            "lon" => ("经度", "longitude"),
            "note" => ("备注", "Note"),
            "events" => ("事件", "Event"),
            "server" => ("服务器地址", "Server address"),
            "user" => ("用户名", "User name"),
            "created_at" => ("登记时间", "Created at"),
            "created_by" => ("登记人", "Created by"),
            "from_patrol" => ("来源排查", "From patrol"),
            "started_at" => ("开始时间", "Started at"),
            "ended_at" => ("结束时间", "Ended at"),
            "worker" => ("排查人", "Patrolled by"),
            "places" => ("走访地点", "Places"),
            "checklist" => ("检查清单", "Checklist"),
            "photos" => ("照片", "Photos"),
            "case_id" | "case" => ("对应事项", "Case"),
            "channel" => ("渠道", "Channel"),
            "received_on" => ("收到日期", "Received on"),
            "first" => ("初信初访", "First petition"),
            "petitioners" => ("信访人", "Petitioners"),
            "persons" => ("人数", "Persons"),
            "subject" => ("事由", "Subject"),
            "steps" => ("工作步骤", "Steps"),
            "mediator" => ("调解员", "Mediator"),
            "legal_worker" => ("法律工作者", "Legal worker"),
            "body_level" => ("调解组织层级", "Mediation body"),
            "sessions" | "session" => ("调解记录", "Session"),
            "attendees" => ("参加人员", "attendees"),
            "date" => ("日期", "date"),
            "place" => ("地点", "place"),
            "notes" => ("记录", "minutes"),
            "outcome" => ("调解结果", "Outcome"),
            "agreement" => ("调解协议", "Agreement"),
            "handoff" => ("移交渠道", "Hand-off"),
            "backlog_petition" => ("信访积案", "Backlog petition"),
            "leader" => ("接访领导", "Leader"),
            "level" => ("级别", "Level"),
            "site" => ("接访地点", "Site"),
            "street" => ("街道", "Street"),
            "named_by_public" => ("点名接访", "Picked by name"),
            "visits" | "visit" => ("来访", "Visit"),
            "summary" => ("反映事项", "summary"),
            "done_on" => ("完成日期", "Done on"),
            "follow_up" => ("回访日期", "Follow-up"),
            _ => return None,
        })
    };
    let pick = |p: (&'static str, &'static str)| match lang {
        Lang::ZhCn => p.0,
        Lang::En => p.1,
    };
    let Some(top) = name(head.split('.').next().unwrap_or(head)) else {
        return field.to_owned();
    };
    let mut out = pick(top).to_owned();
    if let Some(i) = index {
        out = format!("{out} {}", i + 1);
    }
    if leaf != head
        && let Some(l) = name(leaf)
    {
        out = match lang {
            Lang::ZhCn => format!("{out}{}", pick(l)),
            Lang::En => format!("{out} {}", pick(l)),
        };
    }
    out
}

/// The errors of one field, shown under its input.
pub fn field_errors(errors: Signal<Vec<FieldError>>, field: &'static str) -> impl IntoView {
    let ctx = use_ctx();
    move || {
        errors.with(|es| {
            es.iter()
                .filter(|e| {
                    e.field == field
                        || e.field.starts_with(&format!("{field}."))
                        || e.field.starts_with(&format!("{field}["))
                })
                .map(|e| {
                    let text = if e.field == field {
                        ctx.msg(&e.message)
                    } else {
                        let lang = ctx.lang.get();
                        format!("{} {}", field_label(&e.field, lang), ctx.msg(&e.message))
                    };
                    view! { <p class="field-error" data-field=e.field.clone()>{text}</p> }
                })
                .collect_view()
        })
    }
}

/// Milliseconds since the epoch now, by the device clock.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// `YYYY-MM-DD HH:MM` in local time.
pub fn local_time(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// `YYYY-MM-DD` in local time.
pub fn local_date(ms: i64) -> String {
    local_time(ms)[..10].to_owned()
}

/// A short local time for an RFC 3339 stamp (`HH:MM` today, else `MM-DD HH:MM`).
pub fn short_time_rfc3339(s: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) else {
        return s.to_owned();
    };
    let full = local_time(t.timestamp_millis());
    if full[..10] == local_date(now_ms()) {
        full[11..].to_owned()
    } else {
        full[5..].to_owned()
    }
}

/// How long ago, in days or hours.
pub fn age(ms: i64, lang: Lang) -> String {
    let hours = (now_ms() - ms).max(0) / 3_600_000;
    match (lang, hours) {
        (Lang::ZhCn, h) if h < 1 => "刚刚".into(),
        (Lang::ZhCn, h) if h < 24 => format!("{h}小时前"),
        (Lang::ZhCn, h) => format!("{}天", h / 24),
        (Lang::En, h) if h < 1 => "just now".into(),
        (Lang::En, h) if h < 24 => format!("{h} h ago"),
        (Lang::En, h) => format!("{} d", h / 24),
    }
}

/// Loads something whenever the screen must reload (after every change).
///
/// A request that fails, or gets no answer within [`LOAD_RETRY_AFTER`], is sent again while
/// the screen is open and no newer load has started (at most [`LOAD_TRIES`] times in all):
/// one lost or refused call must not leave a screen at "Loading…" for good. The first
/// failure is shown.
pub fn load<T: Send + Sync + 'static>(
    request: impl Fn() -> ApiRequest + 'static,
    pick: impl Fn(ApiResponse) -> Option<T> + Copy + 'static,
) -> RwSignal<Option<T>> {
    let ctx = use_ctx();
    let out = RwSignal::new(None);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        ctx.version.get();
        let g = generation
            .try_update_value(|g| {
                *g += 1;
                *g
            })
            .unwrap_or_default();
        fetch(ctx, request(), pick, out, (generation, g), 1);
    });
    out
}

/// How long [`load`] waits for an answer before it asks again.
pub const LOAD_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(8);
/// How many times [`load`] sends one request at most.
pub const LOAD_TRIES: u32 = 4;

fn fetch<T: Send + Sync + 'static>(
    ctx: crate::ctx::Ctx,
    request: ApiRequest,
    pick: impl Fn(ApiResponse) -> Option<T> + Copy + 'static,
    out: RwSignal<Option<T>>,
    (generation, g): (StoredValue<u64>, u64),
    attempt: u32,
) {
    // Still wanted: the screen is open and no newer load has started.
    let wanted = move || generation.try_get_value() == Some(g);
    let answered = std::rc::Rc::new(std::cell::Cell::new(false));
    let again = request.clone();
    let got = answered.clone();
    ctx.call_then(request.clone(), move |r| {
        got.set(true);
        match r {
            Ok(r) => {
                if let Some(v) = pick(r) {
                    out.try_set(Some(v));
                }
            }
            Err(e) if wanted() => {
                if attempt == 1 {
                    ctx.error(&e);
                }
                if attempt < LOAD_TRIES {
                    set_timeout(
                        move || fetch(ctx, again, pick, out, (generation, g), attempt + 1),
                        std::time::Duration::from_secs(2),
                    );
                }
            }
            Err(_) => {}
        }
    });
    set_timeout(
        move || {
            if !answered.get() && wanted() && attempt < LOAD_TRIES {
                fetch(ctx, request, pick, out, (generation, g), attempt + 1);
            }
        },
        LOAD_RETRY_AFTER,
    );
}

/// A date spelled out in the UI's language (`2026年12月2日 星期三`, `Wed 2 Dec 2026`), under a
/// date input: WebKitGTK shows date inputs as MM/DD/YYYY whatever the language, which a
/// reader of Chinese dates takes for DD/MM.
pub fn date_hint(date: impl Fn() -> chrono::NaiveDate + Send + Sync + 'static) -> impl IntoView {
    use chrono::Datelike;
    let ctx = use_ctx();
    view! {
        <p class="hint date-hint">{move || {
            let d = date();
            match ctx.lang.get() {
                Lang::ZhCn => {
                    const DAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
                    let day = DAYS[d.weekday().num_days_from_monday() as usize];
                    format!("{}年{}月{}日 星期{day}", d.year(), d.month(), d.day())
                }
                Lang::En => d.format("%a %-d %b %Y").to_string(),
            }
        }}</p>
    }
}
