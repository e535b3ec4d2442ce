//! The supervisors' dashboard (issue #6): a month's figures for a scope, charts drawn as
//! inline SVG, tables under them, drill-down street → community, and the records behind
//! every figure.
//!
//! The report is computed on the device from its own store (`ApiRequest::Report`), so the
//! dashboard works offline. Charts scale to the card's width; tables scroll inside their
//! card, never the page.

use std::cell::RefCell;

use chrono::{Datelike, NaiveDate};
use gridwork_schema::api::{ApiRequest, ApiResponse};
use gridwork_schema::report::{
    AgeBand, AreaRow, Group, LevelBucket, Measure, MediationFigures, RecordQuery, Report,
};
use gridwork_schema::territory::UnitLevel;
use gridwork_schema::{Label, Lang, Level, ReceptionLevel, RecordKind, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ctx::{Screen, use_ctx};
use crate::widgets::{capitalize, label as lbl, row_list};

/// How many months the trend chart shows.
const TREND_MONTHS: u32 = 6;
/// How many rows a long list (grids with no patrol, zero-petition communities) shows.
const LONG_LIST: usize = 20;

/// Whether a role sees the dashboard.
pub fn sees_reports(role: Option<Role>) -> bool {
    matches!(
        role,
        Some(Role::Supervisor | Role::Leader | Role::StreetOfficer | Role::Admin)
    )
}

/// A step of the drill-down below the user's own scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crumb {
    /// Territory code.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// A figure whose records are listed: the query and what to call it.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The records behind it.
    pub query: RecordQuery,
    /// Its name (zh).
    pub zh: String,
    /// Its name (en).
    pub en: String,
}

thread_local! {
    /// The chosen month, kept while moving between dashboard screens.
    static PERIOD: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The current month, `YYYY-MM`, by the device clock.
fn this_month() -> String {
    crate::widgets::local_date(crate::widgets::now_ms())[..7].to_owned()
}

fn first_of(month: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()
}

/// The month `n` months before `month`.
fn months_back(month: NaiveDate, n: u32) -> NaiveDate {
    month
        .checked_sub_months(chrono::Months::new(n))
        .unwrap_or(month)
}

fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_name(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("{}年{}月", d.year(), d.month()),
        Lang::En => format!("{} {}", MONTHS_EN[d.month0() as usize], d.year()),
    }
}

fn month_short(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("{}月", d.month()),
        Lang::En => MONTHS_EN[d.month0() as usize].to_owned(),
    }
}

fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| format!("{:.1}%", p * 100.0))
}

fn pick(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::ZhCn => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// The dashboard for the user's scope narrowed by `trail`.
#[component]
pub fn Dashboard(trail: Vec<Crumb>) -> impl IntoView {
    let ctx = use_ctx();
    let start = PERIOD
        .with(|p| p.borrow().clone())
        .unwrap_or_else(this_month);
    let period = RwSignal::new(start);
    let scope = trail.last().map(|c| c.code.clone());
    let data: RwSignal<Option<Report>> = RwSignal::new(None);
    let trend: RwSignal<Vec<(NaiveDate, Report)>> = RwSignal::new(Vec::new());
    let scope2 = scope.clone();
    Effect::new(move |_| {
        ctx.version.get();
        let p = period.get();
        PERIOD.with(|s| *s.borrow_mut() = Some(p.clone()));
        let scope = scope2.clone();
        data.set(None);
        ctx.call(
            ApiRequest::Report {
                period: p.clone(),
                scope: scope.clone(),
            },
            move |r| {
                if let ApiResponse::Report(r) = r {
                    data.set(Some(r));
                }
            },
        );
        // The trend: one report per month, oldest first; errors leave a gap.
        let Some(end) = first_of(&p) else { return };
        spawn_local(async move {
            let mut out = Vec::new();
            for i in (0..TREND_MONTHS).rev() {
                let m = months_back(end, i);
                let req = ApiRequest::Report {
                    period: month_key(m),
                    scope: scope.clone(),
                };
                if let Ok(ApiResponse::Report(r)) = crate::transport::call(&req).await {
                    out.push((m, r));
                }
            }
            trend.set(out);
        });
    });

    let crumbs = trail.clone();
    let root = move || {
        ctx.status
            .with(|s| s.as_ref().map(|s| s.scope_name.clone()).unwrap_or_default())
    };
    let depth = trail.len();
    let breadcrumbs = move || {
        let mut items = vec![
            view! {
                <button class="crumb" data-depth="0" disabled=depth == 0
                    on:click=move |_| for _ in 0..depth { ctx.back() }>{root}</button>
            }
            .into_any(),
        ];
        for (i, c) in crumbs.iter().enumerate() {
            let up = depth - (i + 1);
            items.push(view! { <span class="crumb-sep" aria-hidden="true">"›"</span> }.into_any());
            items.push(
                view! {
                    <button class="crumb" data-depth=(i + 1).to_string() disabled=up == 0
                        on:click=move |_| for _ in 0..up { ctx.back() }>{c.name.clone()}</button>
                }
                .into_any(),
            );
        }
        items
    };

    let months = move || {
        let now = first_of(&this_month()).unwrap_or_default();
        let lang = ctx.lang.get();
        (0..24)
            .map(|i| {
                let m = months_back(now, i);
                let key = month_key(m);
                let selected = key == period.get_untracked();
                view! { <option value=key.clone() selected=selected>{month_name(m, lang)}</option> }
            })
            .collect_view()
    };
    let step = move |delta: i32| {
        if let Some(m) = first_of(&period.get_untracked()) {
            let next = if delta < 0 {
                months_back(m, 1)
            } else {
                m.checked_add_months(chrono::Months::new(1)).unwrap_or(m)
            };
            if month_key(next) <= this_month() {
                period.set(month_key(next));
            }
        }
    };

    view! {
        <div class="stack dashboard" id="dashboard">
            <section class="card report-head">
                <nav class="crumbs" id="report-crumbs" aria-label=move || ctx.t("统计范围", "Scope")>
                    {breadcrumbs}
                </nav>
                <div class="period-picker">
                    <button class="small" id="period-prev" aria-label=move || ctx.t("上个月", "Previous month")
                        on:click=move |_| step(-1)>"‹"</button>
                    <select id="report-period" aria-label=move || ctx.t("统计月份", "Month")
                        prop:value=move || period.get()
                        on:change=move |ev| period.set(event_target_value(&ev))>
                        {months}
                    </select>
                    <button class="small" id="period-next" aria-label=move || ctx.t("下个月", "Next month")
                        disabled=move || { period.get() >= this_month() }
                        on:click=move |_| step(1)>"›"</button>
                </div>
            </section>
            {move || match data.get() {
                None => view! { <p class="empty card">{ctx.tr("正在统计…", "Computing…")}</p> }.into_any(),
                Some(r) => {
                    view! {
                        {headline(&r)}
                        {levels(&r)}
                        {move || trend_card(&trend.get())}
                        {areas(&r)}
                        {open_cases(&r)}
                        {petitions(&r)}
                        {reception(&r)}
                        {mediation(&r.mediation)}
                        {patrols(&r)}
                        {zero_petition(&r)}
                    }
                    .into_any()
                }
            }}
        </div>
    }
}

/// A figure's name in both languages, prefixed with the scope's name.
fn figure(r: &Report, query: RecordQuery, zh: &str, en: &str) -> Figure {
    Figure {
        query,
        zh: format!("{} · {zh}", r.meta.scope_name),
        en: format!("{} · {en}", r.meta.scope_name),
    }
}

/// A number that opens the records behind it.
fn figure_link(n: String, fig: Figure, id: Option<String>) -> AnyView {
    let ctx = use_ctx();
    view! {
        <button class="fig-link" id=id on:click=move |_| ctx.go(Screen::ReportRecords(fig.clone()))>
            {n}
        </button>
    }
    .into_any()
}

fn headline(r: &Report) -> impl IntoView {
    let ctx = use_ctx();
    let lang = ctx.lang.get();
    let o = &r.overview;
    let (mark, class, word) = match o.meets_target {
        Some(true) => ("✓", "pass", pick(lang, "达标", "Target met")),
        Some(false) => ("✗", "fail", pick(lang, "未达标", "Below target")),
        // No share to judge: the verdict says why, a mark would only repeat the dash.
        None => (
            "",
            "none",
            pick(lang, "本期无化解事项", "Nothing resolved in this period"),
        ),
    };
    let tiles = [
        (&o.found, "新发现", "Found", "fig-found"),
        (&o.resolved, "已化解", "Resolved", "fig-resolved"),
        (&o.handed_off, "已移交", "Handed off", "fig-handed-off"),
        (&o.open, "未结", "Open", "fig-open"),
        (&r.whistle.cases, "吹哨报到", "Whistle cases", "fig-whistle"),
        (
            &r.first_petitions.overdue,
            "逾期初信初访",
            "Overdue first petitions",
            "fig-overdue",
        ),
    ];
    view! {
        <section class="card" id="report-headline">
            <h2>{pick(lang, "基层化解率", "Resolved at the grassroots")}</h2>
            <div class=format!("headline {class}") id="grassroots" data-pass=class>
                <span class="big-figure" id="grassroots-share">{pct(o.grassroots_share)}</span>
                <span class="mark" aria-hidden="true">{mark}</span>
                <span class="verdict">{word}</span>
            </div>
            <p class="small-text">{match lang {
                Lang::ZhCn => format!("目标：{}%以上化解在社区和街道（小事不出社区、大事不出街道）", (o.target * 100.0).round()),
                Lang::En => format!("Target: over {}% resolved in the community or street", (o.target * 100.0).round()),
            }}</p>
            <div class="tiles">
                {tiles.into_iter().map(|(c, zh, en, id)| {
                    let fig = figure(r, c.query.clone(), zh, en);
                    view! {
                        <div class="tile">
                            {figure_link(c.n.to_string(), fig, Some(id.to_owned()))}
                            <span class="tile-label">{pick(lang, zh, en)}</span>
                        </div>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}

/// One row of a bar chart: a label and one value per series.
#[derive(Debug, Clone)]
struct Bars {
    label: String,
    values: Vec<f64>,
    text: String,
}

/// A horizontal bar chart as inline SVG: the label above each bar, the value after it.
/// `stacked`: the series add up in one bar; otherwise one thin bar per series.
fn bar_chart(rows: &[Bars], legend: &[String], stacked: bool, id: &str) -> AnyView {
    const W: f64 = 320.0;
    const TEXT_W: f64 = 64.0;
    let series = rows.first().map_or(1, |r| r.values.len()).max(1);
    let bar_h = if stacked || series == 1 { 12.0 } else { 8.0 };
    let bars_h = if stacked {
        bar_h
    } else {
        bar_h * series as f64 + 2.0 * (series as f64 - 1.0)
    };
    let row_h = 16.0 + bars_h + 10.0;
    let legend_h = if legend.len() > 1 { 20.0 } else { 0.0 };
    let max = rows
        .iter()
        .map(|r| {
            if stacked {
                r.values.iter().sum::<f64>()
            } else {
                r.values.iter().copied().fold(0.0, f64::max)
            }
        })
        .fold(0.0, f64::max);
    if max <= 0.0 {
        // Nothing to draw: say so instead of a column of empty bars.
        let lang = use_ctx().lang.get();
        return view! {
            <p class="empty chart-empty" id=id.to_owned()>{pick(lang, "本期无数据", "Nothing in this period")}</p>
        }
        .into_any();
    }
    let scale = (W - TEXT_W) / max;
    let height = legend_h + row_h * rows.len() as f64 + 2.0;
    let legend_view = (legend.len() > 1).then(|| {
        legend
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let x = i as f64 * 100.0;
                view! {
                    <rect x=format!("{x}") y="4" width="10" height="10" rx="2" class=format!("s{i}") />
                    <text x=format!("{}", x + 14.0) y="13" class="legend">{name.clone()}</text>
                }
            })
            .collect_view()
    });
    let body = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let y0 = legend_h + i as f64 * row_h;
            let mut x = 0.0;
            let mut end = 0.0_f64;
            let rects = r
                .values
                .iter()
                .enumerate()
                .map(|(s, v)| {
                    let w = (v * scale).max(if *v > 0.0 { 2.0 } else { 0.0 });
                    let (rx, ry) = if stacked {
                        let at = x;
                        x += w;
                        (at, y0 + 16.0)
                    } else {
                        (0.0, y0 + 16.0 + s as f64 * (bar_h + 2.0))
                    };
                    end = end.max(rx + w);
                    view! {
                        <rect x=format!("{rx:.1}") y=format!("{ry:.1}") width=format!("{w:.1}")
                            height=format!("{bar_h}") rx="2" class=format!("s{s}") />
                    }
                })
                .collect_view();
            let ty = y0 + 16.0 + bars_h / 2.0 + 4.0;
            view! {
                <text x="0" y=format!("{:.1}", y0 + 12.0) class="bar-label">{r.label.clone()}</text>
                {rects}
                <text x=format!("{:.1}", end + 4.0) y=format!("{ty:.1}") class="bar-value">{r.text.clone()}</text>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" id=id.to_owned() viewBox=format!("0 0 {W} {height:.0}") role="img"
            preserveAspectRatio="xMinYMin meet">
            {legend_view}
            {body}
        </svg>
    }
    .into_any()
}

/// One cell of a figures table.
enum Td {
    Text(String),
    Num(String),
    Link(String, Figure),
    Drill(String, Crumb),
}

/// A table that scrolls sideways inside its card.
fn table(id: &str, head: Vec<String>, rows: Vec<Vec<Td>>) -> AnyView {
    let ctx = use_ctx();
    view! {
        <div class="table-wrap">
            <table class="figures" id=id.to_owned()>
                <thead><tr>{head.into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}</tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| view! {
                        <tr>
                            {row.into_iter().map(|c| match c {
                                Td::Text(t) => view! { <td>{t}</td> }.into_any(),
                                Td::Num(t) => view! { <td class="num">{t}</td> }.into_any(),
                                Td::Link(t, fig) => view! { <td class="num">{figure_link(t, fig, None)}</td> }.into_any(),
                                Td::Drill(t, crumb) => {
                                    let code = crumb.code.clone();
                                    view! {
                                        <td>
                                            <button class="drill" data-code=code on:click=move |_| {
                                                let mut trail = match ctx.screen.get_untracked() {
                                                    Screen::Report(t) => t,
                                                    _ => Vec::new(),
                                                };
                                                trail.push(crumb.clone());
                                                ctx.go(Screen::Report(trail));
                                            }>{t}" ›"</button>
                                        </td>
                                    }
                                    .into_any()
                                }
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn card(id: &'static str, title: String, body: impl IntoView + 'static) -> AnyView {
    view! {
        <section class="card" id=id>
            <h2>{title}</h2>
            {body}
        </section>
    }
    .into_any()
}

fn levels(r: &Report) -> AnyView {
    let lang = use_ctx().lang.get();
    let chart: Vec<Bars> = r
        .levels
        .iter()
        .filter(|l| {
            matches!(
                l.bucket,
                LevelBucket::Community | LevelBucket::Street | LevelBucket::District
            )
        })
        .map(|l| Bars {
            label: lbl(&l.bucket, lang),
            values: vec![l.share.unwrap_or(0.0) * 100.0],
            text: format!("{} · {}", pct(l.share), l.resolved),
        })
        .collect();
    let rows = r
        .levels
        .iter()
        .map(|l| {
            let name = lbl(&l.bucket, lang);
            let fig = figure(
                r,
                l.query.clone(),
                &format!("{} · 已化解", l.bucket.zh()),
                &format!("resolved · {}", l.bucket.en()),
            );
            vec![
                Td::Text(name),
                Td::Link(l.resolved.to_string(), fig),
                Td::Num(pct(l.share)),
            ]
        })
        .collect();
    card(
        "report-levels",
        pick(lang, "化解层级", "Level of resolution"),
        view! {
            {bar_chart(&chart, &[], false, "chart-levels")}
            {table("table-levels", vec![pick(lang, "层级", "Level"), pick(lang, "化解件数", "Resolved"), pick(lang, "占比", "Share")], rows)}
        },
    )
}

fn trend_card(months: &[(NaiveDate, Report)]) -> AnyView {
    let lang = use_ctx().lang.get();
    const W: f64 = 320.0;
    const H: f64 = 160.0;
    const LEFT: f64 = 34.0;
    const TOP: f64 = 14.0;
    const BOTTOM: f64 = 24.0;
    let plot_h = H - TOP - BOTTOM;
    let n = months.len().max(1);
    let step = (W - LEFT - 34.0) / (n.saturating_sub(1).max(1)) as f64;
    let x = |i: usize| LEFT + 14.0 + i as f64 * step;
    let y = |p: f64| TOP + plot_h * (1.0 - p);
    let grid = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|p| {
            view! {
                <line x1=format!("{LEFT}") x2=format!("{W}") y1=format!("{:.1}", y(p)) y2=format!("{:.1}", y(p)) class="grid" />
                <text x=format!("{}", LEFT - 4.0) y=format!("{:.1}", y(p) + 4.0) class="axis" text-anchor="end">{format!("{:.0}%", p * 100.0)}</text>
            }
        })
        .collect_view();
    let target = months.first().map_or(0.9, |(_, r)| r.overview.target);
    let points: Vec<(usize, f64)> = months
        .iter()
        .enumerate()
        .filter_map(|(i, (_, r))| r.overview.grassroots_share.map(|s| (i, s)))
        .collect();
    let line = points
        .iter()
        .map(|(i, s)| format!("{:.1},{:.1}", x(*i), y(*s)))
        .collect::<Vec<_>>()
        .join(" ");
    let dots = points
        .iter()
        .map(|(i, s)| {
            view! {
                <circle cx=format!("{:.1}", x(*i)) cy=format!("{:.1}", y(*s)) r="3.5" class="dot-line" />
                <text x=format!("{:.1}", x(*i)) y=format!("{:.1}", y(*s) - 7.0) class="point" text-anchor="middle">{format!("{:.0}%", s * 100.0)}</text>
            }
        })
        .collect_view();
    let labels = months
        .iter()
        .enumerate()
        .map(|(i, (m, _))| {
            view! { <text x=format!("{:.1}", x(i)) y=format!("{}", H - 6.0) class="axis" text-anchor="middle">{month_short(*m, lang)}</text> }
        })
        .collect_view();
    let rows = months
        .iter()
        .map(|(m, r)| {
            let o = &r.overview;
            let name = month_name(*m, lang);
            vec![
                Td::Text(name.clone()),
                Td::Link(
                    o.found.n.to_string(),
                    Figure {
                        query: o.found.query.clone(),
                        zh: format!(
                            "{} · {} · 新发现",
                            r.meta.scope_name,
                            month_name(*m, Lang::ZhCn)
                        ),
                        en: format!(
                            "{} · {} · found",
                            r.meta.scope_name,
                            month_name(*m, Lang::En)
                        ),
                    },
                ),
                Td::Link(
                    o.resolved.n.to_string(),
                    Figure {
                        query: o.resolved.query.clone(),
                        zh: format!(
                            "{} · {} · 已化解",
                            r.meta.scope_name,
                            month_name(*m, Lang::ZhCn)
                        ),
                        en: format!(
                            "{} · {} · resolved",
                            r.meta.scope_name,
                            month_name(*m, Lang::En)
                        ),
                    },
                ),
                Td::Num(pct(o.grassroots_share)),
            ]
        })
        .collect();
    let body = if months.is_empty() {
        view! { <p class="empty">{pick(lang, "正在统计…", "Computing…")}</p> }.into_any()
    } else {
        view! {
            <svg class="chart" id="chart-trend" viewBox=format!("0 0 {W} {H}") role="img" preserveAspectRatio="xMinYMin meet">
                {grid}
                <line x1=format!("{LEFT}") x2=format!("{W}") y1=format!("{:.1}", y(target)) y2=format!("{:.1}", y(target)) class="target" />
                <text x=format!("{}", LEFT + 4.0) y=format!("{:.1}", y(target) - 4.0) class="axis target-label">
                    {match lang { Lang::ZhCn => format!("目标 {:.0}%", target * 100.0), Lang::En => format!("target {:.0}%", target * 100.0) }}
                </text>
                <polyline points=line class="trend" />
                {dots}
                {labels}
            </svg>
            <p class="small-text">{pick(lang, "当月没有化解事项时不画点。", "A month with nothing resolved has no point.")}</p>
            {table(
                "table-trend",
                vec![pick(lang, "月份", "Month"), pick(lang, "新发现", "Found"), pick(lang, "已化解", "Resolved"), pick(lang, "基层化解率", "Grassroots share")],
                rows,
            )}
        }
        .into_any()
    };
    card(
        "report-trend",
        pick(lang, "近6个月基层化解率", "Grassroots share, last 6 months"),
        body,
    )
}

/// The units one level below the report's scope: streets of the district, communities of a
/// street.
fn children(r: &Report) -> Vec<&AreaRow> {
    let scope = &r.meta.scope;
    let want = if r
        .areas
        .iter()
        .any(|a| a.unit_level == UnitLevel::Street && a.code != *scope)
    {
        UnitLevel::Street
    } else {
        UnitLevel::Community
    };
    r.areas
        .iter()
        .filter(|a| a.unit_level == want && a.code != *scope)
        .collect()
}

fn areas(r: &Report) -> AnyView {
    let lang = use_ctx().lang.get();
    let units = children(r);
    if units.is_empty() {
        return ().into_any();
    }
    let streets = units[0].unit_level == UnitLevel::Street;
    let w = r.meta.window;
    let chart: Vec<Bars> = units
        .iter()
        .map(|a| Bars {
            label: a.name.clone(),
            values: vec![a.found as f64, a.resolved as f64],
            text: format!("{} / {}", a.found, a.resolved),
        })
        .collect();
    let rows = units
        .iter()
        .map(|a| {
            let fig = |measure: Measure, kind: RecordKind, zh: &str, en: &str| Figure {
                query: if kind == RecordKind::Case {
                    RecordQuery {
                        measure,
                        ..a.query.clone()
                    }
                } else {
                    RecordQuery::new(kind, &a.code, measure, &w)
                },
                zh: format!("{} · {zh}", a.name),
                en: format!("{} · {en}", a.name),
            };
            vec![
                Td::Drill(
                    a.name.clone(),
                    Crumb {
                        code: a.code.clone(),
                        name: a.name.clone(),
                    },
                ),
                Td::Link(
                    a.found.to_string(),
                    fig(Measure::Found, RecordKind::Case, "新发现", "found"),
                ),
                Td::Link(
                    a.resolved.to_string(),
                    fig(Measure::Resolved, RecordKind::Case, "已化解", "resolved"),
                ),
                Td::Num(pct(a.grassroots_share)),
                Td::Link(
                    a.open.to_string(),
                    fig(Measure::Open, RecordKind::Case, "未结", "open"),
                ),
                Td::Link(
                    a.petitions.to_string(),
                    fig(
                        Measure::Received,
                        RecordKind::Petition,
                        "收到信访",
                        "petitions",
                    ),
                ),
            ]
        })
        .collect();
    let (zh, en) = if streets {
        ("各街道事项", "Cases by street")
    } else {
        ("各社区事项", "Cases by community")
    };
    card(
        "report-areas",
        pick(lang, zh, en),
        view! {
            <p class="hint">{pick(lang, "点街道或社区名称查看下一级", "Tap a name to see the level below")}</p>
            {bar_chart(&chart, &[pick(lang, "新发现", "found"), pick(lang, "已化解", "resolved")], false, "chart-areas")}
            {table(
                "table-areas",
                vec![
                    pick(lang, if streets { "街道" } else { "社区" }, if streets { "Street" } else { "Community" }),
                    pick(lang, "新发现", "Found"),
                    pick(lang, "已化解", "Resolved"),
                    pick(lang, "基层化解率", "Grassroots share"),
                    pick(lang, "未结", "Open"),
                    pick(lang, "信访", "Petitions"),
                ],
                rows,
            )}
        },
    )
}

fn open_cases(r: &Report) -> AnyView {
    let lang = use_ctx().lang.get();
    let chart: Vec<Bars> = r
        .open_cases
        .iter()
        .map(|o| Bars {
            label: lbl(&o.age, lang),
            values: vec![o.community as f64, o.street as f64, o.district as f64],
            text: o.total.to_string(),
        })
        .collect();
    let at = |o: &gridwork_schema::report::OpenRow, level: Option<Level>| {
        let age: AgeBand = o.age;
        let (lzh, len) = level.map_or(("合计", "all levels"), |l| (l.zh(), l.en()));
        figure(
            r,
            RecordQuery {
                level,
                ..o.query.clone()
            },
            &format!("未结 · {} · {lzh}", age.zh()),
            &format!("open · {} · {len}", age.en()),
        )
    };
    let rows = r
        .open_cases
        .iter()
        .map(|o| {
            vec![
                Td::Text(lbl(&o.age, lang)),
                Td::Link(o.community.to_string(), at(o, Some(Level::Community))),
                Td::Link(o.street.to_string(), at(o, Some(Level::Street))),
                Td::Link(o.district.to_string(), at(o, Some(Level::District))),
                Td::Link(o.total.to_string(), at(o, None)),
            ]
        })
        .collect();
    let levels = [Level::Community, Level::Street, Level::District].map(|l| lbl(&l, lang));
    card(
        "report-open",
        pick(
            lang,
            "未结事项（按时长和层级）",
            "Open cases by age and level",
        ),
        view! {
            {bar_chart(&chart, &levels, true, "chart-open")}
            {table(
                "table-open",
                vec![
                    pick(lang, "已开时长", "Age"),
                    levels[0].clone(),
                    levels[1].clone(),
                    levels[2].clone(),
                    pick(lang, "合计", "Total"),
                ],
                rows,
            )}
        },
    )
}

fn petitions(r: &Report) -> AnyView {
    let lang = use_ctx().lang.get();
    let name = |c: &Option<gridwork_schema::PetitionChannel>| {
        c.map_or_else(|| pick(lang, "合计", "Total"), |c| lbl(&c, lang))
    };
    let chart: Vec<Bars> = r
        .petitions
        .iter()
        .filter(|p| p.channel.is_some())
        .map(|p| Bars {
            label: name(&p.channel),
            values: vec![p.petitions as f64],
            text: p.petitions.to_string(),
        })
        .collect();
    let rows = r
        .petitions
        .iter()
        .map(|p| {
            let (zh, en) = p
                .channel
                .map_or(("合计", "all channels"), |c| (c.zh(), c.en()));
            vec![
                Td::Text(name(&p.channel)),
                Td::Link(
                    p.petitions.to_string(),
                    figure(
                        r,
                        p.query.clone(),
                        &format!("信访 · {zh}"),
                        &format!("petitions · {en}"),
                    ),
                ),
                Td::Num(p.persons.to_string()),
                Td::Link(
                    p.first.to_string(),
                    figure(
                        r,
                        RecordQuery {
                            first: true,
                            ..p.query.clone()
                        },
                        &format!("初信初访 · {zh}"),
                        &format!("first petitions · {en}"),
                    ),
                ),
            ]
        })
        .collect();
    card(
        "report-petitions",
        pick(lang, "信访渠道", "Petitions by channel"),
        view! {
            {bar_chart(&chart, &[], false, "chart-petitions")}
            {table(
                "table-petitions",
                vec![pick(lang, "渠道", "Channel"), pick(lang, "件数", "Petitions"), pick(lang, "人数", "Persons"), pick(lang, "初信初访", "First petitions")],
                rows,
            )}
        },
    )
}

fn reception(r: &Report) -> AnyView {
    let lang = use_ctx().lang.get();
    let rec = &r.reception;
    let level_name = |key: &str| {
        serde_json::from_value::<ReceptionLevel>(serde_json::Value::String(key.to_owned()))
            .map_or_else(|_| key.to_owned(), |l| lbl(&l, lang))
    };
    let by_level: Vec<Bars> = rec
        .rows
        .iter()
        .filter(|x| x.group == Group::Level)
        .map(|x| Bars {
            label: level_name(&x.key),
            values: vec![x.sessions as f64, x.cases as f64, x.person_visits as f64],
            text: format!("{} / {} / {}", x.sessions, x.cases, x.person_visits),
        })
        .collect();
    let rows = rec
        .rows
        .iter()
        .filter(|x| {
            matches!(
                x.group,
                Group::Level | Group::Leader | Group::Street | Group::Total
            )
        })
        .map(|x| {
            let name = match x.group {
                Group::Level => level_name(&x.key),
                Group::Total => pick(lang, "合计", "Total"),
                Group::Street if x.key.is_empty() => {
                    pick(lang, "区级（集中接访）", "District centre")
                }
                _ => x.name.clone(),
            };
            vec![
                Td::Text(name.clone()),
                Td::Link(
                    x.sessions.to_string(),
                    figure(
                        r,
                        x.query.clone(),
                        &format!("公开接访 · {}", x.name),
                        &format!("reception · {name}"),
                    ),
                ),
                Td::Num(x.cases.to_string()),
                Td::Num(x.person_visits.to_string()),
                Td::Text(capitalize(&lbl(&x.group, lang))),
            ]
        })
        .collect();
    let series = [
        pick(lang, "场次", "sessions"),
        pick(lang, "起", "cases"),
        pick(lang, "人次", "visits"),
    ];
    card(
        "report-reception",
        pick(lang, "公开接访", "Public reception"),
        view! {
            <div class="tiles">
                <div class="tile">{figure_link(rec.sessions.n.to_string(), figure(r, rec.sessions.query.clone(), "接访场次", "reception sessions"), Some("fig-sessions".into()))}<span class="tile-label">{pick(lang, "接访场次", "Sessions")}</span></div>
                <div class="tile"><span class="tile-figure">{rec.cases.to_string()}</span><span class="tile-label">{pick(lang, "接访件数（起）", "Cases received")}</span></div>
                <div class="tile"><span class="tile-figure">{rec.person_visits.to_string()}</span><span class="tile-label">{pick(lang, "接访人次", "Person-visits")}</span></div>
            </div>
            {bar_chart(&by_level, &series, false, "chart-reception")}
            {table(
                "table-reception",
                vec![pick(lang, "项目", "Item"), pick(lang, "场次", "Sessions"), pick(lang, "起", "Cases"), pick(lang, "人次", "Person-visits"), pick(lang, "分组", "Group")],
                rows,
            )}
        },
    )
}

fn mediation(m: &MediationFigures) -> AnyView {
    let lang = use_ctx().lang.get();
    let item = |x: &gridwork_schema::report::MediationRow| {
        if lang == Lang::En {
            capitalize(&x.item_en)
        } else {
            x.item.clone()
        }
    };
    let chart: Vec<Bars> = m
        .rows
        .iter()
        .filter(|x| x.group == Group::Outcome)
        .map(|x| Bars {
            label: item(x),
            values: vec![x.share.unwrap_or(0.0) * 100.0],
            text: format!("{} · {}", pct(x.share), x.count),
        })
        .collect();
    let rows = m
        .rows
        .iter()
        .map(|x| {
            vec![
                Td::Text(item(x)),
                Td::Link(
                    x.count.to_string(),
                    Figure {
                        query: x.query.clone(),
                        zh: format!("人民调解 · {}", x.item),
                        en: format!("mediation · {}", x.item_en),
                    },
                ),
                Td::Num(pct(x.share)),
                Td::Text(capitalize(&lbl(&x.group, lang))),
            ]
        })
        .collect();
    card(
        "report-mediation",
        pick(lang, "人民调解结果", "Mediation outcomes"),
        view! {
            <p class="small-text">{match lang {
                Lang::ZhCn => format!("本期调解 {} 件，调解成功率 {}", m.total.n, pct(m.success_rate)),
                Lang::En => format!("{} mediations in the period; success rate {}", m.total.n, pct(m.success_rate)),
            }}</p>
            {bar_chart(&chart, &[], false, "chart-mediation")}
            {table(
                "table-mediation",
                vec![pick(lang, "项目", "Item"), pick(lang, "件数", "Count"), pick(lang, "占比", "Share"), pick(lang, "分组", "Group")],
                rows,
            )}
        },
    )
}

fn more(lang: Lang, shown: usize, all: usize) -> Option<String> {
    (all > shown).then(|| match lang {
        Lang::ZhCn => format!("另有 {} 个未列出（完整名单见导出报表）", all - shown),
        Lang::En => format!("{} more not listed (see the exported report)", all - shown),
    })
}

fn patrols(r: &Report) -> AnyView {
    let lang = use_ctx().lang.get();
    let p = &r.patrols;
    let chart: Vec<Bars> = p
        .by_kind
        .iter()
        .map(|k| Bars {
            label: lbl(&k.kind, lang),
            values: vec![k.count as f64],
            text: k.count.to_string(),
        })
        .collect();
    let rows = p
        .by_kind
        .iter()
        .map(|k| {
            vec![
                Td::Text(lbl(&k.kind, lang)),
                Td::Link(
                    k.count.to_string(),
                    figure(r, k.query.clone(), k.kind.zh(), k.kind.en()),
                ),
                Td::Num(k.grids.to_string()),
            ]
        })
        .collect();
    let uncovered = p
        .uncovered
        .iter()
        .take(LONG_LIST)
        .map(|u| {
            vec![
                Td::Text(u.name.clone()),
                Td::Text(u.community_name.clone()),
                Td::Text(u.code.clone()),
            ]
        })
        .collect();
    card(
        "report-patrols",
        pick(lang, "排查覆盖", "Patrol coverage"),
        view! {
            <div class="tiles">
                <div class="tile">{figure_link(p.total.n.to_string(), figure(r, p.total.query.clone(), "排查", "patrols"), Some("fig-patrols".into()))}<span class="tile-label">{pick(lang, "排查次数", "Patrols")}</span></div>
                <div class="tile"><span class="tile-figure" id="coverage">{pct(p.coverage)}</span><span class="tile-label">{match lang {
                    Lang::ZhCn => format!("网格覆盖（{}/{}）", p.covered, p.grids),
                    Lang::En => format!("grids covered ({}/{})", p.covered, p.grids),
                }}</span></div>
                <div class="tile"><span class="tile-figure">{(p.grids - p.covered).to_string()}</span><span class="tile-label">{pick(lang, "未排查网格", "Grids not patrolled")}</span></div>
            </div>
            {bar_chart(&chart, &[], false, "chart-patrols")}
            {table("table-patrols", vec![pick(lang, "排查类型", "Kind"), pick(lang, "次数", "Patrols"), pick(lang, "覆盖网格", "Grids")], rows)}
            <h3>{pick(lang, "本期未排查的网格", "Grids with no patrol in the period")}</h3>
            {table("table-uncovered", vec![pick(lang, "网格", "Grid"), pick(lang, "社区", "Community"), pick(lang, "编码", "Code")], uncovered)}
            {more(lang, LONG_LIST.min(p.uncovered.len()), p.uncovered.len()).map(|t| view! { <p class="small-text">{t}</p> })}
        },
    )
}

fn zero_petition(r: &Report) -> AnyView {
    let lang = use_ctx().lang.get();
    let z = &r.zero_petition;
    let rows = z
        .rows
        .iter()
        .take(LONG_LIST)
        .map(|u| vec![Td::Text(u.name.clone()), Td::Text(u.street_name.clone())])
        .collect();
    card(
        "report-zero",
        pick(lang, "零上访社区", "Zero-petition communities"),
        view! {
            <div class="tiles">
                <div class="tile"><span class="tile-figure" id="zero-count">{format!("{}/{}", z.zero, z.communities)}</span><span class="tile-label">{pick(lang, "零上访社区", "communities with no petition")}</span></div>
                <div class="tile"><span class="tile-figure">{pct(z.share)}</span><span class="tile-label">{pick(lang, "占比", "share")}</span></div>
            </div>
            {table("table-zero", vec![pick(lang, "社区", "Community"), pick(lang, "街道", "Street")], rows)}
            {more(lang, LONG_LIST.min(z.rows.len()), z.rows.len()).map(|t| view! { <p class="small-text">{t}</p> })}
        },
    )
}

/// The records behind a figure; each opens its record.
#[component]
pub fn FigureRecords(figure: Figure) -> impl IntoView {
    let ctx = use_ctx();
    let rows = RwSignal::new(None);
    let query = figure.query.clone();
    Effect::new(move |_| {
        ctx.version.get();
        ctx.call(
            ApiRequest::ReportRecords {
                query: query.clone(),
            },
            move |r| {
                if let ApiResponse::Records(list) = r {
                    rows.set(Some(list));
                }
            },
        );
    });
    let q = figure.query.clone();
    let period = move || {
        let (from, to) = (q.from, q.to);
        match ctx.lang.get() {
            Lang::ZhCn => format!("统计期间 {from} 至 {to}"),
            Lang::En => format!("From {from} to {to}"),
        }
    };
    view! {
        <div class="stack">
            <section class="card" id="report-records">
                <h2>
                    <span id="figure-name">{move || if ctx.lang.get() == Lang::En { figure.en.clone() } else { figure.zh.clone() }}</span>
                    <span class="count" id="figure-count">{move || rows.with(|r| r.as_ref().map(|r: &Vec<_>| r.len().to_string()).unwrap_or_default())}</span>
                </h2>
                <p class="small-text">{period}</p>
                {move || match rows.get() {
                    Some(r) => row_list(r, "没有记录", "No records"),
                    None => view! { <p class="empty">{ctx.tr("正在加载…", "Loading…")}</p> }.into_any(),
                }}
            </section>
        </div>
    }
}
