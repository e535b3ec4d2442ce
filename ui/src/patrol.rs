//! Patrols: start, checklist, findings, location, photos, finish; raise a case in one tap.

use base64::Engine as _;
use gridwork_schema::api::{ApiRequest, ApiResponse, GridView, checklist_template};
use gridwork_schema::{GeoPoint, Label, Lang, Patrol, PatrolKind, Record, RecordId};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::ctx::{Ctx, Screen, use_ctx};
use crate::widgets::label as lbl;
use crate::widgets::{load, local_time};

/// A grid picker: a search box and the matching grids of the user's scope.
#[component]
pub fn GridPicker(selected: RwSignal<String>) -> impl IntoView {
    let ctx = use_ctx();
    let query = RwSignal::new(String::new());
    let grids: RwSignal<Vec<GridView>> = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        let q = query.get();
        ctx.call(ApiRequest::Grids { query: q }, move |r| {
            if let ApiResponse::Grids(g) = r {
                if selected.with_untracked(String::is_empty)
                    && let Some(first) = g.first()
                {
                    selected.set(first.code.clone());
                }
                grids.set(g);
            }
        });
    });
    view! {
        <div class="grid-picker">
            <Show when=move || grids.with(|g| g.len() > 1) || !query.with(String::is_empty)>
                <input type="search" id="grid-search"
                    placeholder=move || ctx.t("搜索网格名称或编码", "Search grid name or code")
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev)) />
            </Show>
            <div class="choices" id="grid-choices">
                {move || grids.get().into_iter().map(|g| {
                    let code = g.code.clone();
                    let code2 = g.code.clone();
                    view! {
                        <button type="button" class="choice" data-code=g.code.clone()
                            class:selected=move || selected.with(|s| *s == code)
                            on:click=move |_| selected.set(code2.clone())>
                            <b>{g.name.clone()}</b>
                            <span class="small-text">{format!("{} · {}", g.community, g.code)}</span>
                        </button>
                    }
                }).collect_view()}
            </div>
        </div>
    }
}

/// Start a patrol: kind, grid, theme.
#[component]
pub fn PatrolStart() -> impl IntoView {
    let ctx = use_ctx();
    let kind = RwSignal::new(PatrolKind::Routine);
    let grid = RwSignal::new(String::new());
    let theme = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let theme_missing =
        move || kind.get() == PatrolKind::Special && theme.with(|t| t.trim().is_empty());
    let start = move |_| {
        tried.set(true);
        if theme_missing() || grid.with(String::is_empty) {
            return;
        }
        busy.set(true);
        let request = ApiRequest::CreatePatrol {
            kind: kind.get(),
            grid: grid.get(),
            theme: Some(theme.get()).filter(|_| kind.get() == PatrolKind::Special),
        };
        ctx.call_then(request, move |r| {
            busy.set(false);
            match r {
                Ok(ApiResponse::Created { id }) => {
                    ctx.changed();
                    ctx.replace(Screen::Patrol(id));
                }
                Ok(_) => {}
                Err(e) => ctx.error(&e),
            }
        });
    };
    let ongoing = load(
        || ApiRequest::ListRecords {
            filter: gridwork_schema::api::RecordFilter {
                kind: Some("patrol".into()),
                status: Some("ongoing".into()),
                ..Default::default()
            },
        },
        |r| match r {
            ApiResponse::Records(rows) => Some(rows),
            _ => None,
        },
    );
    view! {
        <div class="stack">
            <Show when=move || ongoing.with(|o| o.as_ref().is_some_and(|o| !o.is_empty()))>
                <section class="card">
                    <h2>{ctx.tr("进行中的排查", "Patrols in progress")}</h2>
                    {move || crate::widgets::row_list(ongoing.get().unwrap_or_default(), "", "")}
                </section>
            </Show>
            <section class="card form">
                <h2>{ctx.tr("排查类型", "Kind of patrol")}</h2>
                <div class="segmented three" role="group">
                    {PatrolKind::ALL.iter().map(|k| {
                        let k = *k;
                        view! {
                            <button type="button" class="seg" id=format!("kind-{}", serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
                                class:selected=move || kind.get() == k
                                on:click=move |_| kind.set(k)>
                                {move || lbl(&k, ctx.lang.get())}
                            </button>
                        }
                    }).collect_view()}
                </div>
                <Show when=move || kind.get() == PatrolKind::Special>
                    <label for="patrol-theme">{ctx.tr("专项主题", "Campaign theme")}</label>
                    <input id="patrol-theme" type="text" prop:value=move || theme.get()
                        placeholder=move || ctx.t("如：燃气安全", "e.g. gas safety")
                        on:input=move |ev| theme.set(event_target_value(&ev)) />
                    <Show when=move || tried.get() && theme_missing()>
                        <p class="field-error">{ctx.tr("专项排查须填写主题", "A special screening needs a theme")}</p>
                    </Show>
                </Show>
                <h2>{ctx.tr("网格", "Grid")}</h2>
                <GridPicker selected=grid />
                <button id="patrol-begin" class="primary" disabled=move || busy.get() on:click=start>
                    {ctx.tr("开始排查", "Start patrol")}
                </button>
            </section>
        </div>
    }
}

/// A patrol: checklist, findings, location, photos, finish.
#[component]
pub fn PatrolView(id: RecordId) -> impl IntoView {
    let ctx = use_ctx();
    let data = load(
        move || ApiRequest::GetRecord { id },
        |r| match r {
            ApiResponse::Record(v) => Some(v),
            _ => None,
        },
    );
    let patrol = move || {
        data.with(|d| match d.as_ref().and_then(|d| d.record.clone()) {
            Some(Record::Patrol(p)) => Some(p),
            _ => None,
        })
    };
    // What is being typed lives outside the part rebuilt after each change.
    let typing = Typing {
        finding: RwSignal::new(String::new()),
        lat: RwSignal::new(String::new()),
        lon: RwSignal::new(String::new()),
    };
    view! {
        <div class="stack">
            {move || match patrol() {
                None => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
                Some(p) => patrol_body(id, p, typing).into_any(),
            }}
        </div>
    }
}

/// The patrol screen's inputs, kept across reloads.
#[derive(Clone, Copy)]
struct Typing {
    finding: RwSignal<String>,
    lat: RwSignal<String>,
    lon: RwSignal<String>,
}

/// Sends an edit and reloads. Takes the context explicitly: event handlers and tasks run
/// outside the component tree, where `use_ctx` finds nothing.
fn act(ctx: Ctx, request: ApiRequest, zh: &'static str, en: &'static str) {
    ctx.call(request, move |_| {
        if !zh.is_empty() {
            ctx.info(zh, en);
        }
        ctx.changed();
    });
}

fn patrol_body(id: RecordId, p: Patrol, typing: Typing) -> impl IntoView {
    let ctx = use_ctx();
    let finished = p.ended_at.is_some();
    let Typing { finding, lat, lon } = typing;
    let finding_tried = RwSignal::new(false);
    if let Some(l) = p.location
        && lat.with_untracked(String::is_empty)
        && lon.with_untracked(String::is_empty)
    {
        lat.set(l.lat.to_string());
        lon.set(l.lon.to_string());
    }
    let geo_msg = RwSignal::new(None::<(&'static str, &'static str)>);
    // The grid's name, when the territory knows it (the code until then).
    let grid_name = RwSignal::new(p.territory.grid.clone());
    let code = p.territory.grid.clone();
    ctx.call_then(
        ApiRequest::Grids {
            query: code.clone(),
        },
        move |r| {
            if let Ok(ApiResponse::Grids(g)) = r
                && let Some(g) = g.into_iter().find(|g| g.code == code)
            {
                grid_name.set(g.name);
            }
        },
    );
    let templates = checklist_template(p.kind);
    let item_label = move |id: &str, stored: &str| {
        templates
            .iter()
            .find(|t| t.0 == id)
            .map(|t| {
                if ctx.lang.get() == Lang::En {
                    t.2.to_owned()
                } else {
                    t.1.to_owned()
                }
            })
            .unwrap_or_else(|| stored.to_owned())
    };
    let add_finding = move |_| {
        finding_tried.set(true);
        let text = finding.get();
        if text.trim().is_empty() {
            return;
        }
        finding.set(String::new());
        finding_tried.set(false);
        act(
            ctx,
            ApiRequest::AddFinding { id, text },
            "已添加发现",
            "Finding added",
        );
    };
    let save_location = move |_| {
        let (Ok(la), Ok(lo)) = (
            lat.get().trim().parse::<f64>(),
            lon.get().trim().parse::<f64>(),
        ) else {
            geo_msg.set(Some((
                "请输入数字形式的经纬度",
                "Enter latitude and longitude as numbers",
            )));
            return;
        };
        geo_msg.set(None);
        act(
            ctx,
            ApiRequest::SetLocation {
                id,
                location: Some(GeoPoint {
                    lat: la,
                    lon: lo,
                    accuracy_m: None,
                }),
            },
            "位置已保存",
            "Location saved",
        );
    };
    let use_device = move |_| {
        geo_msg.set(Some(("正在获取定位…", "Getting the position…")));
        locate(move |r| match r {
            Some(g) => {
                lat.set(format!("{:.6}", g.lat));
                lon.set(format!("{:.6}", g.lon));
                geo_msg.set(None);
                act(
                    ctx,
                    ApiRequest::SetLocation {
                        id,
                        location: Some(g),
                    },
                    "位置已保存",
                    "Location saved",
                );
            }
            None => geo_msg.set(Some((
                "本设备无法定位，请手动填写或跳过",
                "No position from this device: type it or skip",
            ))),
        });
    };
    let on_photo = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(files) = input.files() else { return };
        let mut list = Vec::new();
        for i in 0..files.length() {
            if let Some(f) = files.get(i) {
                list.push(f);
            }
        }
        input.set_value("");
        spawn_local(async move {
            for f in list {
                let Ok(buf) = wasm_bindgen_futures::JsFuture::from(f.array_buffer()).await else {
                    continue;
                };
                let bytes = js_sys::Uint8Array::new(&buf).to_vec();
                let media_type = Some(f.type_())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "application/octet-stream".into());
                let request = ApiRequest::AddPhoto {
                    id,
                    name: f.name(),
                    media_type,
                    data: base64::engine::general_purpose::STANDARD.encode(bytes),
                };
                act(ctx, request, "照片已保存", "Photo saved");
            }
        });
    };
    let title = format!("{} · {}", p.kind.zh(), p.territory.grid);
    let kind = p.kind;
    let theme = p.theme.clone();
    let started = p.started_at.timestamp_millis();
    let ended = p.ended_at.map(|t| t.timestamp_millis());
    let checklist = p.checklist.clone();
    let findings = p.findings.clone();
    let photos = p.photos.clone();
    let location = p.location;
    let _ = title;
    view! {
        <section class="card" id="patrol-head">
            <h2>
                {move || lbl(&kind, ctx.lang.get())}
                {theme.map(|t| format!(" · {t}"))}
                <span class=if finished { "badge st-finished" } else { "badge st-ongoing" }>
                    {move || if finished { ctx.t("已完成", "Finished") } else { ctx.t("进行中", "Ongoing") }}
                </span>
            </h2>
            <p class="small-text">
                {move || ctx.t("网格 ", "Grid ")}{move || grid_name.get()}" · "
                {move || ctx.t("开始 ", "started ")}{local_time(started)}
                {ended.map(|e| format!(" · {}", local_time(e)))}
            </p>
        </section>
        <section class="card" id="patrol-checklist">
            <h2>{ctx.tr("检查清单", "Checklist")}</h2>
            <ul class="checklist">
                {checklist.into_iter().map(|c| {
                    let item = c.id.clone();
                    let done = c.done;
                    let label_id = c.id.clone();
                    let stored = c.label.clone();
                    view! {
                        <li>
                            <label class="check">
                                <input type="checkbox" data-item=c.id.clone() prop:checked=done disabled=finished
                                    on:change=move |ev| act(ctx, ApiRequest::SetChecklistItem { id, item: item.clone(), done: event_target_checked(&ev) }, "", "") />
                                <span>{move || item_label(&label_id, &stored)}</span>
                            </label>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
        <section class="card" id="patrol-findings">
            <h2>{ctx.tr("发现的问题", "Findings")}</h2>
            <ul class="findings">
                {findings.into_iter().map(|f| {
                    let fid = f.id.clone();
                    let case = f.case_id;
                    view! {
                        <li class="finding">
                            <p>{f.text.clone()}</p>
                            {match case {
                                Some(case) => view! {
                                    <button class="small" data-action="open-case" on:click=move |_| ctx.go(Screen::Case(case))>
                                        {ctx.tr("查看事项 ›", "Open case ›")}
                                    </button>
                                }.into_any(),
                                None => view! {
                                    <button class="small primary" data-action="raise-case" on:click=move |_| {
                                        ctx.call(ApiRequest::RaiseCaseFromFinding { patrol: id, finding: fid.clone() }, move |r| {
                                            if let ApiResponse::Created { id } = r {
                                                ctx.info("已登记为事项", "Case registered");
                                                ctx.changed();
                                                ctx.go(Screen::Case(id));
                                            }
                                        });
                                    }>
                                        {ctx.tr("登记为事项", "Raise a case")}
                                    </button>
                                }.into_any(),
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <Show when=move || !finished>
                <label for="finding-text">{ctx.tr("新的发现", "New finding")}</label>
                <textarea id="finding-text" rows="3"
                    placeholder=move || ctx.t("如：3号楼楼道堆放杂物，堵塞消防通道", "e.g. junk blocking the fire exit in building 3")
                    prop:value=move || finding.get()
                    on:input=move |ev| finding.set(event_target_value(&ev))></textarea>
                <Show when=move || finding_tried.get() && finding.with(|f| f.trim().is_empty())>
                    <p class="field-error">{ctx.tr("请填写发现的内容", "Describe what you found")}</p>
                </Show>
                <button id="add-finding" class="secondary" on:click=add_finding>{ctx.tr("添加发现", "Add finding")}</button>
            </Show>
        </section>
        <section class="card" id="patrol-location">
            <h2>{ctx.tr("位置", "Location")}</h2>
            <p class="small-text" id="location-value">
                {move || match location {
                    Some(l) => format!("{:.5}, {:.5}", l.lat, l.lon),
                    None => ctx.t("未记录（可跳过）", "Not recorded (optional)").to_owned(),
                }}
            </p>
            <Show when=move || !finished>
                <button class="secondary" id="use-device-location" on:click=use_device>{ctx.tr("使用本机定位", "Use device position")}</button>
                <div class="two">
                    <div>
                        <label for="lat">{ctx.tr("纬度", "Latitude")}</label>
                        <input id="lat" type="text" inputmode="decimal" prop:value=move || lat.get() on:input=move |ev| lat.set(event_target_value(&ev)) />
                    </div>
                    <div>
                        <label for="lon">{ctx.tr("经度", "Longitude")}</label>
                        <input id="lon" type="text" inputmode="decimal" prop:value=move || lon.get() on:input=move |ev| lon.set(event_target_value(&ev)) />
                    </div>
                </div>
                <button class="secondary" id="save-location" on:click=save_location>{ctx.tr("保存位置", "Save location")}</button>
                {move || geo_msg.get().map(|(zh, en)| view! { <p class="hint">{ctx.t(zh, en)}</p> })}
            </Show>
        </section>
        <section class="card" id="patrol-photos">
            <h2>{ctx.tr("照片", "Photos")}<span class="count">{photos.len()}</span></h2>
            <div class="photos">
                {photos.into_iter().map(|a| view! { <Photo sha256=a.sha256.clone() media_type=a.media_type.clone() name=a.name.clone() /> }).collect_view()}
            </div>
            <Show when=move || !finished>
                <label class="button secondary file" for="photo-input">{ctx.tr("拍照或选择照片", "Take or choose a photo")}</label>
                <input id="photo-input" class="visually-hidden" type="file" accept="image/*" capture="environment" multiple on:change=on_photo />
            </Show>
        </section>
        <Show when=move || !finished>
            <button id="finish-patrol" class="primary" on:click=move |_| act(ctx, ApiRequest::FinishPatrol { id }, "排查已完成", "Patrol finished")>
                {ctx.tr("结束排查", "Finish patrol")}
            </button>
        </Show>
        <button class="link" on:click=move |_| ctx.go(Screen::History(id))>{ctx.tr("修改历史 ›", "History ›")}</button>
    }
}

/// A photo, loaded from the device (or the server, if this device lacks it).
#[component]
pub fn Photo(sha256: String, media_type: String, name: String) -> impl IntoView {
    let ctx = use_ctx();
    let src = RwSignal::new(None::<String>);
    let failed = RwSignal::new(false);
    ctx.call_then(
        ApiRequest::GetPhoto { sha256, media_type },
        move |r| match r {
            Ok(ApiResponse::Photo(p)) => {
                src.set(Some(format!("data:{};base64,{}", p.media_type, p.data)))
            }
            _ => failed.set(true),
        },
    );
    view! {
        <figure class="photo">
            {move || match src.get() {
                Some(s) => view! { <img src=s alt=name.clone() /> }.into_any(),
                None => view! { <div class="photo-missing">{move || if failed.get() { ctx.t("照片暂不可用", "Photo not available") } else { "…" }}</div> }.into_any(),
            }}
        </figure>
    }
}

/// Asks the platform for the device's position; `None` when it has none or refuses.
fn locate(done: impl FnOnce(Option<GeoPoint>) + 'static) {
    use wasm_bindgen::closure::Closure;
    let Some(geo) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
        done(None);
        return;
    };
    let done = std::rc::Rc::new(std::cell::RefCell::new(Some(done)));
    let d1 = done.clone();
    let ok = Closure::once_into_js(move |pos: web_sys::Position| {
        let c = pos.coords();
        if let Some(f) = d1.borrow_mut().take() {
            f(Some(GeoPoint {
                lat: c.latitude(),
                lon: c.longitude(),
                accuracy_m: Some(c.accuracy()),
            }));
        }
    });
    let d2 = done.clone();
    let err = Closure::once_into_js(move |_e: wasm_bindgen::JsValue| {
        if let Some(f) = d2.borrow_mut().take() {
            f(None);
        }
    });
    if geo
        .get_current_position_with_error_callback(ok.unchecked_ref(), Some(err.unchecked_ref()))
        .is_err()
        && let Some(f) = done.borrow_mut().take()
    {
        f(None);
    }
}
