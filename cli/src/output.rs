//! Printing: human text (labels in the output language) or JSON (`--json`).

use anyhow::Result;
use chrono::{DateTime, Local, TimeZone as _, Utc};
use gridwork_core::doc::{Conflict, HistoryEntry};
use gridwork_core::store::{RecordRow, Refusal};
use gridwork_core::summary::Summary;
use gridwork_schema::{
    CaseEvent, CaseState, CaseStatus, Label, MediationOutcome, Record, RecordKind,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ctx::{lang, tr};

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)?
    }};
}
pub(crate) use out;

/// The snake_case serde name of a unit enum value.
pub fn snake<T: Serialize + ?Sized>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn from_snake<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(Value::String(s.to_owned())).ok()
}

fn label<T: Label>(v: &T) -> &'static str {
    v.label(lang())
}

/// The label of a record kind name (the name itself for kinds of newer versions).
pub fn kind_label(kind: &str) -> String {
    from_snake::<RecordKind>(kind).map_or_else(|| kind.to_owned(), |k| label(&k).to_owned())
}

/// The label of a status name of a record kind.
pub fn status_label(kind: &str, status: &str) -> String {
    if kind == "case"
        && let Some(s) = from_snake::<CaseStatus>(status)
    {
        return label(&s).to_owned();
    }
    if kind == "mediation"
        && let Some(o) = from_snake::<MediationOutcome>(status)
    {
        return label(&o).to_owned();
    }
    let (zh, en) = match status {
        "ongoing" => ("进行中", "ongoing"),
        "finished" => ("已完成", "finished"),
        "held" => ("已接访", "held"),
        "open" => ("办理中", "open"),
        "done" => ("已办结", "done"),
        "draft" => ("草稿", "draft"),
        "unknown" => ("未知", "unknown"),
        other => (other, other),
    };
    tr(zh, en)
}

/// A time in milliseconds, in local time.
pub fn time_ms(ms: i64) -> String {
    Local.timestamp_millis_opt(ms).single().map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

fn time(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Prints a value as pretty JSON.
pub fn json<T: Serialize + ?Sized>(v: &T) -> Result<()> {
    out!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn flags(row: &RecordRow) -> String {
    let mut f = Vec::new();
    if row.conflicts > 0 {
        f.push(tr(
            &format!("{}处冲突", row.conflicts),
            &format!("{} conflict(s)", row.conflicts),
        ));
    }
    if row.pending {
        f.push(tr("待同步", "pending"));
    }
    if row.refused.is_some() {
        f.push(tr("被拒绝", "refused"));
    }
    if f.is_empty() {
        String::new()
    } else {
        format!("  [{}]", f.join(", "))
    }
}

fn row_line(row: &RecordRow) -> String {
    let s = &row.summary;
    let level = s
        .level
        .map(|l| format!(" · {}", label(&l)))
        .unwrap_or_default();
    format!(
        "{}  {}  {}{}  {}  {}{}",
        s.id,
        kind_label(&s.kind),
        status_label(&s.kind, &s.status),
        level,
        s.territory.leaf(),
        s.title,
        flags(row)
    )
}

/// Prints the row of a record just written.
pub fn saved(row: &RecordRow, as_json: bool) -> Result<()> {
    if as_json {
        return json(row);
    }
    out!("{} {}", tr("已保存", "saved"), row_line(row));
    Ok(())
}

/// Prints a list of rows.
pub fn rows(rows: &[RecordRow], as_json: bool) -> Result<()> {
    if as_json {
        return json(rows);
    }
    for r in rows {
        out!("{}", row_line(r));
    }
    out!(
        "{}",
        tr(
            &format!("共 {} 条", rows.len()),
            &format!("{} record(s)", rows.len())
        )
    );
    Ok(())
}

/// What `show --json` prints.
#[derive(Debug, Serialize)]
pub struct Shown {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// The materialized row, as stored.
    pub summary: Summary,
    /// For cases: status, level and the rest, derived from the events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<CaseState>,
    /// The record as stored, including fields this version does not know.
    pub record: Value,
    /// Unsettled conflicts.
    pub conflicts: Vec<Conflict>,
    /// Time of the latest change (ms).
    pub updated_ms: i64,
    /// Whether there are changes not yet acknowledged by the server.
    pub pending: bool,
    /// Why the server refused the last push, if it did.
    pub refused: Option<Refusal>,
}

/// Prints a record.
pub fn show(s: &Shown, record: Option<&Record>, as_json: bool) -> Result<()> {
    if as_json {
        return json(s);
    }
    let sum = &s.summary;
    out!("{}  {}", kind_label(&s.kind), s.id);
    out!("  {}: {}", tr("标题", "title"), sum.title);
    out!(
        "  {}: {}",
        tr("状态", "status"),
        status_label(&sum.kind, &sum.status)
    );
    out!("  {}: {}", tr("辖区", "territory"), sum.territory.leaf());
    if let Some(t) = &sum.created_at {
        out!(
            "  {}: {} ({})",
            tr("创建", "created"),
            time(t),
            sum.created_by
        );
    }
    out!(
        "  {}: {}",
        tr("最后修改", "last change"),
        time_ms(s.updated_ms)
    );
    if let Some(state) = &s.state {
        print_case_state(state)?;
    }
    if let Some(Record::Case(c)) = record {
        print_events(&c.events)?;
    }
    if s.pending {
        out!("  {}", tr("有未同步的修改", "has changes not yet synced"));
    }
    if let Some(r) = &s.refused {
        out!(
            "  {}: {} ({})",
            tr("服务器拒绝", "refused by the server"),
            r.message,
            r.code
        );
    }
    if s.conflicts.is_empty() {
        out!("  {}", tr("无冲突", "no conflicts"));
    } else {
        out!("{}:", tr("冲突", "conflicts"));
        for c in &s.conflicts {
            print_conflict(c)?;
        }
    }
    out!("{}:", tr("记录", "record"));
    out!("{}", serde_json::to_string_pretty(&s.record)?);
    Ok(())
}

fn print_case_state(state: &CaseState) -> Result<()> {
    out!("  {}: {}", tr("当前级别", "level"), label(&state.level));
    if let Some(at) = state.resolved_at {
        out!("  {}: {}", tr("化解级别", "resolved at"), label(&at));
    }
    if let Some(ch) = state.handed_off {
        out!("  {}: {}", tr("移交渠道", "handed to"), label(&ch));
    }
    if state.alerted || state.whistle {
        out!(
            "  {}: {} / {}",
            tr("网格预警 / 街道吹哨", "grid alert / whistle"),
            yes_no(state.alerted),
            yes_no(state.whistle)
        );
    }
    for d in &state.departments {
        out!(
            "  {}: {} — {}",
            tr("部门报到", "department reported"),
            d.department,
            d.took_on.join("; ")
        );
    }
    if let Some(l) = &state.leader {
        out!("  {}: {l}", tr("领导联包", "leader"));
    }
    if let Some(m) = &state.mediation {
        out!("  {}: {m}", tr("人民调解", "mediation"));
    }
    if state.follow_up_visits > 0 || state.reopened_count > 0 {
        out!(
            "  {}: {} / {}",
            tr("回访 / 重新办理", "follow-ups / reopened"),
            state.follow_up_visits,
            state.reopened_count
        );
    }
    Ok(())
}

fn yes_no(b: bool) -> String {
    if b { tr("是", "yes") } else { tr("否", "no") }
}

fn print_events(events: &[CaseEvent]) -> Result<()> {
    let mut sorted: Vec<&CaseEvent> = events.iter().collect();
    sorted.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)));
    out!("{} ({}):", tr("事件", "events"), sorted.len());
    for e in sorted {
        let detail = match serde_json::to_value(&e.kind) {
            Ok(Value::Object(m)) => m
                .iter()
                .filter(|(k, _)| k.as_str() != "type")
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        };
        let note = if e.note.is_empty() {
            String::new()
        } else {
            format!(" — {}", e.note)
        };
        let detail = if detail.is_empty() {
            detail
        } else {
            format!(" {detail}")
        };
        out!(
            "  {}  {}{}  {}（{}）{note}",
            time_ms(e.at.millis),
            label(&e.kind),
            detail,
            e.by.name,
            label(&e.role),
        );
    }
    Ok(())
}

fn print_conflict(c: &Conflict) -> Result<()> {
    out!("  {} {}:", tr("字段", "field"), c.path);
    for (i, v) in c.values.iter().enumerate() {
        let mark = if i == 0 {
            tr("（当前显示）", " (shown now)")
        } else {
            String::new()
        };
        out!(
            "    {}  — {} ({}) {}{mark}",
            v.value,
            v.by.name,
            v.by.user,
            time_ms(v.at_ms)
        );
    }
    Ok(())
}

/// Prints every open conflict.
pub fn conflicts(all: &[(RecordRow, Vec<Conflict>)], as_json: bool) -> Result<()> {
    if as_json {
        #[derive(Serialize)]
        struct Entry<'a> {
            id: &'a str,
            kind: &'a str,
            title: &'a str,
            conflicts: &'a [Conflict],
        }
        let entries: Vec<Entry<'_>> = all
            .iter()
            .map(|(row, c)| Entry {
                id: &row.summary.id,
                kind: &row.summary.kind,
                title: &row.summary.title,
                conflicts: c,
            })
            .collect();
        return json(&entries);
    }
    if all.is_empty() {
        out!("{}", tr("没有未解决的冲突", "no open conflicts"));
        return Ok(());
    }
    for (row, cs) in all {
        out!(
            "{}  {}  {}",
            row.summary.id,
            kind_label(&row.summary.kind),
            row.summary.title
        );
        for c in cs {
            print_conflict(c)?;
        }
    }
    Ok(())
}

/// Prints a record's history.
pub fn history(entries: &[HistoryEntry], as_json: bool) -> Result<()> {
    if as_json {
        return json(entries);
    }
    for e in entries {
        let short = e.change.get(..12).unwrap_or(&e.change);
        out!(
            "{}  {} ({})  {}  {}",
            time_ms(e.at_ms),
            e.by.name,
            e.by.user,
            e.what.join(", "),
            short
        );
    }
    out!(
        "{}",
        tr(
            &format!("共 {} 次修改", entries.len()),
            &format!("{} change(s)", entries.len())
        )
    );
    Ok(())
}
