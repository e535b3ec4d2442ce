//! The materialized row of a record: what lists, filters, scope checks and reports read,
//! derived from the document's value. The device store and the server compute it the same way.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use gridwork_schema::wire::{StoreFacts, StoreRow};
use gridwork_schema::{
    CaseEvent, CaseState, Hlc, Label, Level, Record, RecordKind, TerritoryPath,
    territory::DISTRICT_CODE,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::report::db::FactsRow;

/// A row's status as of `today`. A reception session dated after today reads `scheduled`
/// rather than `held`: derived when read, because a status stored when the session was
/// written would go stale as the days pass. (The session's date leads its title.)
pub fn status_on(kind: &str, title: &str, status: &str, today: NaiveDate) -> String {
    let future = kind == "reception"
        && title
            .get(..10)
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .is_some_and(|d| d > today);
    if future && status == "held" {
        "scheduled".to_owned()
    } else {
        status.to_owned()
    }
}

/// A record's materialized row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Record id.
    pub id: String,
    /// Record kind (`case`, `patrol`, …) as stored; a kind from a newer app version is kept
    /// as its name.
    pub kind: String,
    /// Territory path.
    pub territory: TerritoryPath,
    /// A one-line title for lists.
    pub title: String,
    /// Status, as the snake_case name of the kind's status (`open`, `resolved`, `finished`…).
    pub status: String,
    /// The level currently handling a case.
    pub level: Option<Level>,
    /// The level a resolved case was resolved at.
    pub resolved_at: Option<Level>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// The staff member who created it.
    pub created_by: String,
    /// Principals besides the territory who may see it: `dept:<name>`, `user:<id>`.
    pub principals: Vec<String>,
    /// Lower-cased text to search in (titles, descriptions, places, party names).
    ///
    /// It holds residents' personal data, so it stays on the device and in its database;
    /// never log it.
    pub search: String,
    /// Whether this version understood the record (false for unknown kinds or shapes).
    pub understood: bool,
}

impl Summary {
    /// The leaf territory code of the record (grid, else community, else street, else district).
    pub fn scope_code(&self) -> &str {
        self.territory.leaf()
    }
}

/// A unit enum's serialized (snake_case) name; empty for anything else.
pub(crate) fn snake<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Parses a document value as a typed record, if this version understands it.
pub fn parse_record(value: &Value) -> Option<Record> {
    Record::deserialize(value).ok()
}

/// The layout of the rows [`store_row`] makes, which a device asks for in its pulls
/// (`PullRequest::row_layout`). Bump it whenever [`Summary`]'s JSON, the facts' encoding
/// ([`crate::report::db::FACTS_VERSION`]) or what a device's store reads from a row changes:
/// a device then gets the values of records and works its rows out itself until the server's
/// rows are in its layout again.
pub const ROW_LAYOUT: u32 = 1;

/// What a device's store writes for a record new to it, worked out by whoever reads the
/// document (the server, as it stores it) so that the device only inserts it.
pub fn store_row(
    summary: &Summary,
    facts: Option<&FactsRow>,
    newest: Option<Hlc>,
) -> Option<StoreRow> {
    let facts = match facts {
        Some(f) => Some(StoreFacts {
            day: f.day.clone(),
            until: f.until.clone(),
            data: RawValue::from_string(f.data.clone()).ok()?,
        }),
        None => None,
    };
    Some(StoreRow {
        layout: ROW_LAYOUT,
        summary: serde_json::value::to_raw_value(summary).ok()?,
        facts,
        newest,
    })
}

/// The newest stamp among a record's events (of the kinds this version knows, only a case
/// has events), which a device's clock moves past when the record arrives.
pub fn newest_event(record: Option<&Record>, value: &Value) -> Option<Hlc> {
    match record {
        Some(Record::Case(c)) => c.events.iter().map(|e| &e.at).max().cloned(),
        Some(_) => None,
        None => value
            .get("events")?
            .as_array()?
            .iter()
            .filter_map(|e| Hlc::deserialize(e.get("at")?).ok())
            .max(),
    }
}

/// Computes the materialized row of a record value.
pub fn summarize(value: &Value) -> Summary {
    match parse_record(value) {
        Some(record) => summarize_record(&record),
        None => summarize_unknown(value),
    }
}

fn summarize_unknown(value: &Value) -> Summary {
    let territory = value
        .get("territory")
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default();
    let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default();
    Summary {
        id: text("id").to_owned(),
        kind: text("type").to_owned(),
        territory,
        title: text("title").to_owned(),
        status: "unknown".into(),
        level: None,
        resolved_at: None,
        created_at: value
            .get("created_at")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        created_by: value
            .pointer("/created_by/id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        principals: Vec::new(),
        search: text("title").to_lowercase(),
        understood: false,
    }
}

/// Computes the materialized row of a typed record.
pub fn summarize_record(record: &Record) -> Summary {
    let mut principals = BTreeSet::new();
    let mut search = Vec::<&str>::new();
    let mut level = None;
    let mut resolved_at = None;
    let (title, status) = match record {
        Record::Case(c) => {
            let state = CaseState::derive(&c.events);
            level = Some(state.level);
            resolved_at = state.resolved_at;
            for d in &state.departments {
                principals.insert(format!("dept:{}", d.department));
            }
            search.extend([c.title.as_str(), c.description.as_str()]);
            search.extend(c.parties.iter().map(|p| p.name.as_str()));
            (c.title.clone(), snake(&state.status))
        }
        Record::Patrol(p) => {
            search.extend(p.places.iter().map(String::as_str));
            search.extend(p.findings.iter().map(|f| f.text.as_str()));
            search.push(p.note.as_str());
            let mut title = format!("{} {}", p.kind.zh(), p.started_at.format("%Y-%m-%d"));
            if let Some(theme) = &p.theme {
                title = format!("{title} {theme}");
            }
            let status = if p.ended_at.is_some() {
                "finished"
            } else {
                "ongoing"
            };
            (title, status.to_owned())
        }
        Record::Mediation(m) => {
            principals.insert(format!("user:{}", m.mediator.id));
            if let Some(l) = &m.legal_worker {
                principals.insert(format!("user:{}", l.id));
            }
            search.push(m.agreement.as_str());
            search.extend(m.parties.iter().map(|p| p.name.as_str()));
            let status = m
                .outcome
                .as_ref()
                .map_or_else(|| "ongoing".to_owned(), snake);
            (format!("人民调解 {}", m.mediator.name), status)
        }
        Record::Reception(r) => {
            principals.insert(format!("user:{}", r.leader.id));
            search.push(r.site.as_str());
            search.extend(r.visits.iter().map(|v| v.summary.as_str()));
            let title = format!("{} {} {}", r.date.format("%Y-%m-%d"), r.leader.name, r.site);
            (title, "held".to_owned())
        }
        Record::Petition(p) => {
            search.extend([p.subject.as_str(), p.description.as_str()]);
            search.extend(p.petitioners.iter().map(|p| p.name.as_str()));
            let done = !p.steps.is_empty() && p.steps.iter().all(|s| s.done_on.is_some());
            let status = if done { "done" } else { "open" };
            (p.subject.clone(), status.to_owned())
        }
        Record::Draft(d) => (format!("草稿 {}", d.form), "draft".to_owned()),
    };
    let created_by = record.created_by();
    search.push(created_by.name.as_str());
    Summary {
        id: record.id().to_string(),
        kind: snake(&record.kind()),
        territory: record.territory().clone(),
        title,
        status,
        level,
        resolved_at,
        created_at: Some(record.created_at()),
        created_by: created_by.id.clone(),
        principals: principals.into_iter().collect(),
        search: search
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
        understood: true,
    }
}

/// The record kind named in a document value, if this version knows it.
pub fn kind_of(value: &Value) -> Option<RecordKind> {
    value
        .get("type")
        .and_then(|t| serde_json::from_value(t.clone()).ok())
}

/// The case events in `new` whose ids are not in `old`: what a push added.
pub fn new_case_events(old: &Value, new: &Value) -> Vec<CaseEvent> {
    let ids = |v: &Value| -> BTreeSet<String> {
        v.get("events")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.get("id").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let old_ids = ids(old);
    new.get("events")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|e| {
                    e.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|id| !old_ids.contains(id))
                })
                .filter_map(|e| serde_json::from_value(e.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a record at `path` lies inside the scope code `scope` (the district code covers
/// everything, including district-level records with an empty path).
pub fn within_scope(path: &TerritoryPath, scope: &str) -> bool {
    scope == DISTRICT_CODE || path.is_within(scope)
}
