//! The supervisors' report on the server (issue #6): the figures of `gridwork_core::report`,
//! computed from facts rows that the storage keeps beside each document.
//!
//! - [`FactsRow`] is one record's facts as stored in `report_facts`: written in the same
//!   transaction as the document on every push, and filled in at open for documents
//!   written before the table existed (or by another facts version, see [`FACTS_VERSION`]).
//! - [`build`] and [`records_behind`] stream the facts in scope from the storage into
//!   `compute` / `matches` on a blocking thread; nothing holds a whole scope in memory.
//! - [`may_report`] and [`scope_allowed`] say who may see which scope's figures.

use std::sync::Arc;

use chrono::NaiveDate;
use gridwork_core::doc::RecordDoc;
use gridwork_core::report::facts::{Detail, Facts, local_date};
use gridwork_core::report::{RecordQuery, Report, ReportParams, compute, matches};
use gridwork_core::summary::parse_record;
use gridwork_schema::territory::{DISTRICT_CODE, Territory};
use gridwork_schema::{Role, TerritoryPath};
use serde::Serialize;
use serde_json::Value;

use crate::error::StoreError;
use crate::storage::{Storage, UserRecord};

/// Version of the server's facts table layout. The stored marker (see [`facts_version`])
/// also holds the core's facts version; a database whose marker differs has its facts
/// rebuilt from the documents at open.
pub const FACTS_VERSION: &str = "server-1";

/// The marker actually stored: the core's facts version and the server's layout version.
pub fn facts_version() -> String {
    format!(
        "{}/{FACTS_VERSION}",
        gridwork_core::report::db::FACTS_VERSION
    )
}

/// The `settings` key of the facts version marker.
pub const FACTS_VERSION_KEY: &str = "report_facts_version";

/// How many documents a fill-in batch loads at once.
pub const FILL_BATCH: usize = 200;

pub use gridwork_core::report::db::FactsRow;

/// The facts row of a document's value; `None` for drafts and records this version cannot
/// read (they count in no figure).
pub fn facts_of_value(id: &str, value: &Value) -> Option<FactsRow> {
    let record = parse_record(value)?;
    Facts::from_record(&record).map(|f| FactsRow::of(id, &f))
}

/// The facts row of a stored document's bytes; `None` if it has none (or does not load: such
/// a document cannot count in any figure either).
pub fn facts_of_bytes(id: &str, bytes: &[u8]) -> Option<FactsRow> {
    match RecordDoc::load(bytes, &[0; 16]) {
        Ok(doc) => facts_of_value(id, &doc.to_value()),
        Err(e) => {
            tracing::warn!(doc = %id, error = %e, "stored document does not load: no report facts");
            None
        }
    }
}

/// Reads a stored facts row back.
pub fn decode(
    id: String,
    kind: &str,
    territory: TerritoryPath,
    data: &str,
) -> Result<Facts, StoreError> {
    let detail = match kind {
        "case" => serde_json::from_str(data).map(Detail::Case),
        "patrol" => serde_json::from_str(data).map(Detail::Patrol),
        "mediation" => serde_json::from_str(data).map(Detail::Mediation),
        "reception" => serde_json::from_str(data).map(Detail::Reception),
        "petition" => serde_json::from_str(data).map(Detail::Petition),
        _ => {
            return Err(StoreError::Damaged(format!(
                "report facts of record {id} have the unknown kind {kind:?}"
            )));
        }
    }
    .map_err(|_| StoreError::Damaged(format!("report facts of record {id} cannot be read")))?;
    Ok(Facts {
        id,
        territory,
        detail,
    })
}

/// Which facts rows a report reads: those that can count in `[from, to]`, within a
/// street, community or grid when `within` is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsScan {
    /// Street (9 digits), community (12) or grid (15) code; `None`: the whole district.
    pub within: Option<String>,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
}

impl FactsScan {
    /// The scan for a report on `scope` over `[from, to]`: a zone reads its street (the
    /// computation keeps the zone's records), the district everything.
    pub fn new(scope: &str, from: NaiveDate, to: NaiveDate, territory: &Territory) -> Self {
        let within = if scope == DISTRICT_CODE {
            None
        } else if scope.starts_with('Z') {
            territory.get(scope).and_then(|u| u.parent.clone())
        } else {
            Some(scope.to_owned())
        };
        Self {
            within: within.filter(|c| matches!(c.len(), 9 | 12 | 15)),
            from,
            to,
        }
    }

    /// The indexed column `within` compares to.
    pub fn column(&self) -> Option<(&'static str, &str)> {
        let c = self.within.as_deref()?;
        Some(match c.len() {
            9 => ("street", c),
            12 => ("community", c),
            _ => ("grid", c),
        })
    }
}

/// Where the storage sends the facts it reads (bounded: the reader waits for the report).
pub type FactsSink = tokio::sync::mpsc::Sender<Facts>;

/// Facts in flight between the storage and the computation.
const CHANNEL: usize = 1024;

/// Streams the facts of `scan` from `store` into `consume`, run on a blocking thread.
async fn with_facts<T: Send + 'static>(
    store: &Arc<dyn Storage>,
    scan: FactsScan,
    consume: impl FnOnce(&mut dyn Iterator<Item = Facts>) -> T + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Facts>(CHANNEL);
    let consumer = tokio::task::spawn_blocking(move || {
        let mut it = std::iter::from_fn(|| rx.blocking_recv());
        consume(&mut it)
    });
    // The storage stops when it fails or the consumer is gone; either way the channel
    // closes and the consumer ends.
    let produced = store.scan_facts(scan, tx).await;
    let out = consumer
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
    produced?;
    Ok(out)
}

/// Today in China Standard Time.
pub fn today() -> NaiveDate {
    local_date(chrono::Utc::now())
}

/// The report for `params` over the server's facts ("today" defaults to the server's date).
/// The scope must be a unit of `territory` (see [`ReportParams::check_scope`]).
pub async fn build(
    store: &Arc<dyn Storage>,
    params: &ReportParams,
    territory: &'static Territory,
) -> Result<Report, StoreError> {
    let mut params = params.clone();
    if params.today.is_none() {
        params.today = Some(today());
    }
    let w = params.window();
    let scan = FactsScan::new(&params.scope, w.from, w.to, territory);
    with_facts(store, scan, move |facts| compute(facts, &params, territory)).await
}

/// A record behind a figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecordRef {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// Street code.
    pub street: String,
    /// Community code.
    pub community: String,
    /// Grid code.
    pub grid: String,
    /// First day it counts (found, started, held, received).
    pub day: NaiveDate,
}

/// The records behind a figure (its [`RecordQuery`]), sorted by id.
pub async fn records_behind(
    store: &Arc<dyn Storage>,
    query: &RecordQuery,
    territory: &'static Territory,
) -> Result<Vec<RecordRef>, StoreError> {
    let scan = FactsScan::new(&query.within, query.from, query.to, territory);
    let q = query.clone();
    let mut out = with_facts(store, scan, move |facts| {
        facts
            .filter(|f| matches(&q, f, territory))
            .map(|f| RecordRef {
                kind: match serde_json::to_value(f.kind()) {
                    Ok(Value::String(s)) => s,
                    _ => String::new(),
                },
                day: f.day(),
                id: f.id,
                street: f.territory.street,
                community: f.territory.community,
                grid: f.territory.grid,
            })
            .collect::<Vec<_>>()
    })
    .await?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Roles that may read reports: supervisors and administrators, leaders and street officers
/// (each within their own scope).
pub fn may_report(role: Role) -> bool {
    matches!(
        role,
        Role::Supervisor | Role::Admin | Role::Leader | Role::StreetOfficer
    )
}

/// Whether `user` may see the figures of `scope` (a unit of `territory`): their own scope
/// or a unit inside it; a zone counts as inside when its street is.
pub fn scope_allowed(user: &UserRecord, scope: &str, territory: &Territory) -> bool {
    let own = user.scope.as_str();
    if own == DISTRICT_CODE {
        return true;
    }
    if scope.starts_with('Z') {
        return territory
            .get(scope)
            .and_then(|u| u.parent.as_deref())
            .is_some_and(|street| street.starts_with(own));
    }
    scope.starts_with(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, scope: &str) -> UserRecord {
        UserRecord {
            id: "u".into(),
            login: "u".into(),
            name: "u".into(),
            role,
            scope: scope.into(),
            department: None,
            disabled: false,
        }
    }

    #[test]
    fn scopes() {
        let t = Territory::chengyang();
        let street = user(Role::StreetOfficer, "370214001");
        assert!(scope_allowed(&street, "370214001", t));
        assert!(scope_allowed(&street, "370214001001", t));
        assert!(!scope_allowed(&street, "370214002", t));
        assert!(!scope_allowed(&street, "370214", t));
        let zone_of_street1 = t
            .units()
            .find(|u| u.code.starts_with('Z') && u.parent.as_deref() == Some("370214001"))
            .map(|u| u.code.clone())
            .unwrap();
        assert!(scope_allowed(&street, &zone_of_street1, t));
        let sup = user(Role::Supervisor, DISTRICT_CODE);
        assert!(scope_allowed(&sup, "370214008", t));
        assert!(may_report(Role::Leader));
        assert!(!may_report(Role::GridWorker));
        assert!(!may_report(Role::Department));
    }

    #[test]
    fn scans_use_the_narrowest_column() {
        let t = Territory::chengyang();
        let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(FactsScan::new(DISTRICT_CODE, d, d, t).column(), None);
        assert_eq!(
            FactsScan::new("370214001001", d, d, t).column(),
            Some(("community", "370214001001"))
        );
        let z = FactsScan::new("Z01", d, d, t);
        assert_eq!(z.column().map(|c| c.0), Some("street"));
    }
}
