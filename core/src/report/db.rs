//! The `record_facts` table of the device store (its DDL is in the store's schema): one row
//! of [`Facts`] per record, written by the store in the same transaction as the record's row,
//! and read by the report with one range of its primary key: a report on `[from, to]` reads
//! `until >= from AND day <= to` (open records have `until` = 9999-12-31), plus the path for
//! narrower scopes.

use chrono::NaiveDate;
use gridwork_schema::Record;
use gridwork_schema::territory::{DISTRICT_CODE, Territory};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::facts::{Detail, Facts};
use super::{ReportError, ReportParams, compute, matches};
use crate::store::Store;
use crate::summary;
use gridwork_schema::report::{RecordQuery, Report};

/// Version of the facts encoding; a store whose facts were written by another version has
/// them rebuilt from its records on the next report.
pub const FACTS_VERSION: &str = "1";

const META_KEY: &str = "report_facts_version";

/// The `until` of a record still open: after every period.
pub const OPEN_UNTIL: &str = "9999-12-31";

/// One record's facts as stored, on a device (`record_facts`) and on the server
/// (`report_facts`) alike. Personal-data free, like [`Facts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsRow {
    /// Record id.
    pub id: String,
    /// Record kind (`case`, `patrol`, …): which struct `data` holds.
    pub kind: String,
    /// Street code or empty.
    pub street: String,
    /// Community code or empty.
    pub community: String,
    /// Grid code or empty.
    pub grid: String,
    /// First day the record counts (`YYYY-MM-DD`).
    pub day: String,
    /// Last day anything about it happens; [`OPEN_UNTIL`] while open.
    pub until: String,
    /// The kind's facts as JSON (untagged: `kind` says which).
    pub data: String,
}

impl FactsRow {
    /// The columns as stored: id, kind, street, community, grid, day, until, data.
    pub fn columns(&self) -> [&str; 8] {
        [
            &self.id,
            &self.kind,
            &self.street,
            &self.community,
            &self.grid,
            &self.day,
            &self.until,
            &self.data,
        ]
    }

    /// The stored row of `facts`, under the id `id`.
    pub fn of(id: &str, facts: &Facts) -> Self {
        let data = match &facts.detail {
            Detail::Case(x) => serde_json::to_string(x),
            Detail::Patrol(x) => serde_json::to_string(x),
            Detail::Mediation(x) => serde_json::to_string(x),
            Detail::Reception(x) => serde_json::to_string(x),
            Detail::Petition(x) => serde_json::to_string(x),
        }
        // Facts are plain structs of strings, numbers and dates: serializing cannot fail.
        .unwrap_or_default();
        Self {
            id: id.to_owned(),
            kind: summary::snake(&facts.kind()),
            street: facts.territory.street.clone(),
            community: facts.territory.community.clone(),
            grid: facts.territory.grid.clone(),
            day: facts.day().to_string(),
            until: facts
                .until()
                .map_or_else(|| OPEN_UNTIL.to_owned(), |d| d.to_string()),
            data,
        }
    }
}

/// Writes (or removes) the facts row of record `id` from its document value. Drafts and
/// records this version cannot read have no facts.
pub fn write_facts(conn: &Connection, id: &str, value: &Value) -> rusqlite::Result<()> {
    write_record_facts(conn, id, summary::parse_record(value).as_ref())
}

/// [`write_facts`] for a record already parsed (`None`: one this version cannot read).
pub fn write_record_facts(
    conn: &Connection,
    id: &str,
    record: Option<&Record>,
) -> rusqlite::Result<()> {
    match record.and_then(Facts::from_record) {
        Some(mut f) => {
            id.clone_into(&mut f.id);
            insert_facts(conn, &f)
        }
        None => conn
            .prepare_cached("DELETE FROM record_facts WHERE id = ?1")?
            .execute([id])
            .map(drop),
    }
}

/// Inserts or replaces one facts row (bulk loaders and benchmarks use this directly).
pub fn insert_facts(conn: &Connection, f: &Facts) -> rusqlite::Result<()> {
    insert_facts_row(conn, &FactsRow::of(&f.id, f))
}

/// Inserts or replaces one facts row as stored.
pub fn insert_facts_row(conn: &Connection, f: &FactsRow) -> rusqlite::Result<()> {
    insert_facts_columns(conn, f.columns())
}

/// Inserts or replaces one facts row from its columns, in [`FactsRow::columns`]' order.
pub fn insert_facts_columns(conn: &Connection, columns: [&str; 8]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO record_facts (id, kind, street, community, grid, day, until, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET until = excluded.until, kind = excluded.kind,
             street = excluded.street, community = excluded.community, grid = excluded.grid,
             day = excluded.day, data = excluded.data",
    )?
    .execute(rusqlite::params_from_iter(columns))?;
    Ok(())
}

/// Marks the facts of `conn` as written by this version (for bulk loaders that fill the
/// table themselves).
pub fn mark_current(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [META_KEY, FACTS_VERSION],
    )?;
    Ok(())
}

/// Makes sure every record has facts of this version: after an upgrade from a store
/// without the table, fills in the missing rows; after a change of encoding, rebuilds all.
pub fn ensure_facts(conn: &Connection) -> rusqlite::Result<()> {
    let version: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| {
            r.get(0)
        })
        .optional()?;
    if version.as_deref() == Some(FACTS_VERSION) {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    if version.is_some() {
        tx.execute("DELETE FROM record_facts", [])?;
    }
    let ids: Vec<String> = tx
        .prepare(
            "SELECT r.id FROM records r
             WHERE NOT EXISTS (SELECT 1 FROM record_facts f WHERE f.id = r.id)",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        // Read only: no change is made, so no actor of this device is needed.
        match crate::store::load_doc_from(&tx, &id, &[0; 16]) {
            Ok(d) => write_facts(&tx, &id, &d.to_value())?,
            // A document that does not load cannot be a readable record: it has no facts.
            Err(e) => {
                tracing::warn!(record = %id, error = %e, "no report facts: the document does not load")
            }
        }
    }
    mark_current(&tx)?;
    tx.commit()
}

/// Streams the facts that can count in a report on `[from, to]` within `scope` to `f`.
fn with_facts<T>(
    conn: &Connection,
    scope: &str,
    from: NaiveDate,
    to: NaiveDate,
    f: impl FnOnce(&mut dyn Iterator<Item = Facts>) -> T,
) -> Result<T, ReportError> {
    ensure_facts(conn)?;
    // A street holds an eighth of the district: scanning the `until` range and filtering is
    // cheaper than the path index (`+` keeps SQLite off it); a community or grid is narrow
    // enough for the index.
    let column = match scope.len() {
        _ if scope == DISTRICT_CODE || scope.starts_with('Z') => None,
        9 => Some("+street"),
        12 => Some("community"),
        _ => Some("grid"),
    };
    let mut sql = String::from(
        "SELECT id, street, community, grid, kind, data FROM record_facts
         WHERE until >= ?1 AND day <= ?2",
    );
    if let Some(c) = column {
        sql.push_str(&format!(" AND {c} = ?3"));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let (from, to) = (from.to_string(), to.to_string());
    let mut rows = match column {
        Some(_) => stmt.query(params![from, to, scope])?,
        None => stmt.query(params![from, to])?,
    };
    let mut failure: Option<ReportError> = None;
    let mut iter = std::iter::from_fn(|| match read_row(rows.next()) {
        Ok(next) => next,
        Err(e) => {
            failure = Some(e);
            None
        }
    });
    let out = f(&mut iter);
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn read_row(
    row: rusqlite::Result<Option<&rusqlite::Row<'_>>>,
) -> Result<Option<Facts>, ReportError> {
    let Some(row) = row? else { return Ok(None) };
    let id: String = row.get(0)?;
    let corrupt = || ReportError::Corrupt(id.clone());
    let kind = row.get_ref(4)?.as_str().map_err(|_| corrupt())?;
    let text = row.get_ref(5)?.as_str().map_err(|_| corrupt())?;
    // The kind column says which struct `data` holds (decoding without a tag is faster).
    let detail = match kind {
        "case" => serde_json::from_str(text).map(Detail::Case),
        "patrol" => serde_json::from_str(text).map(Detail::Patrol),
        "mediation" => serde_json::from_str(text).map(Detail::Mediation),
        "reception" => serde_json::from_str(text).map(Detail::Reception),
        "petition" => serde_json::from_str(text).map(Detail::Petition),
        _ => return Err(corrupt()),
    }
    .map_err(|_| corrupt())?;
    Ok(Some(Facts {
        id,
        territory: gridwork_schema::TerritoryPath {
            street: row.get(1)?,
            community: row.get(2)?,
            grid: row.get(3)?,
        },
        detail,
    }))
}

/// The report of a device store, computed from its facts table.
pub fn from_store(
    store: &Store,
    params: &ReportParams,
    territory: &Territory,
) -> Result<Report, ReportError> {
    params.check_scope(territory)?;
    let mut params = params.clone();
    if params.today.is_none() {
        params.today = Some(super::facts::local_date(store.now()));
    }
    let w = params.window();
    with_facts(store.conn(), &params.scope, w.from, w.to, |facts| {
        compute(facts, &params, territory)
    })
}

/// The ids of the records behind a figure (its [`RecordQuery`]), sorted.
pub fn records_behind(
    store: &Store,
    query: &RecordQuery,
    territory: &Territory,
) -> Result<Vec<String>, ReportError> {
    let mut ids = with_facts(store.conn(), &query.within, query.from, query.to, |facts| {
        facts
            .filter(|f| matches(query, f, territory))
            .map(|f| f.id)
            .collect::<Vec<_>>()
    })?;
    ids.sort();
    Ok(ids)
}

impl Store {
    /// The supervisor's report over this device's records (Chengyang's territory); "today"
    /// defaults to the store's clock.
    pub fn report(&self, params: &ReportParams) -> Result<Report, ReportError> {
        from_store(self, params, Territory::chengyang())
    }

    /// The ids of the records behind a figure of [`Store::report`].
    pub fn report_records(&self, query: &RecordQuery) -> Result<Vec<String>, ReportError> {
        records_behind(self, query, Territory::chengyang())
    }
}
