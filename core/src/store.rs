//! The device store: every record an Automerge document in one SQLite file (WAL), with a
//! materialized row per record for queries, written in the same transaction as its bytes.
//!
//! A document is kept as a compacted snapshot plus the incremental changes appended since;
//! past [`COMPACT_AFTER`] changes the snapshot is rewritten. Attachments live beside the
//! database, one file per SHA-256.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use automerge::ChangeHash;
use chrono::{DateTime, NaiveDate, Utc};
use gridwork_schema::{
    AttachmentRef, Hlc, HlcClock, Record, RecordKind, Validate, ValidationContext,
    ValidationErrors,
    territory::Territory,
    wire::{Materialized, StoreRow},
};
use hashlink::LruCache;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;
use uuid::Uuid;

use crate::doc::{self, Author, Conflict, DocError, FieldPath, HistoryEntry, RecordDoc};
use crate::summary::{self, Summary};

mod checkpointer;
use checkpointer::Checkpointer;

/// How many incremental changes a document collects before its snapshot is rewritten.
pub const COMPACT_AFTER: i64 = 32;

/// The file name of the database inside a device folder.
pub const DB_FILE: &str = "gridwork.db";

/// Documents kept in memory, least recently used dropped first.
const CACHE_CAP: usize = 512;

/// A document kept in memory between calls.
struct Cached {
    doc: RecordDoc,
    /// The record as this version reads it, and its JSON, as of `doc`'s heads: known after
    /// a save on this device, so the next edit of the record neither hydrates the document
    /// nor parses it again. `None` after a merge or a settled conflict.
    typed: Option<(Record, Value)>,
}

impl Cached {
    fn untyped(doc: RecordDoc) -> Self {
        Cached { doc, typed: None }
    }
}

/// What went wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file system failed.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// A document operation failed.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// The record breaks a validation rule; nothing was stored.
    #[error("invalid record: {0}")]
    Invalid(ValidationErrors),
    /// No record has this id.
    #[error("no record with id {0}")]
    NotFound(String),
    /// The folder holds no device store yet.
    #[error("no device store in {0}: run `gridwork --data {0} init` first")]
    NotInitialised(String),
    /// A stored record could not be read as a record of this version.
    #[error("record {0} cannot be read by this app version")]
    Unreadable(String),
    /// An edit changed something it may not (the id, the kind).
    #[error("an edit may not change a record's {0}")]
    Immutable(&'static str),
    /// An attachment's bytes do not match its hash.
    #[error("attachment {0} does not match its SHA-256")]
    AttachmentMismatch(String),
    /// A change file is not in the expected format.
    #[error("not a Gridwork change file: {0}")]
    BadChangeFile(String),
}

/// Result alias for the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// This device's identity: its id and the Automerge actor its edits are made as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// Device id (UUID v7), registered with the server at login.
    pub device_id: Uuid,
    /// Automerge actor id (16 random bytes): unique per device install, never shared.
    pub actor: [u8; 16],
}

/// Options for opening a store.
///
/// This is the seam for encryption at rest: a `key` would be applied (`PRAGMA key`, with
/// rusqlite's `bundled-sqlcipher` feature) right after the connection opens, in
/// [`open_connection`], before any other statement.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Reserved for SQLCipher; must be `None` in this build.
    pub key: Option<String>,
}

/// Filters for [`Store::list`]. Empty fields match everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ListFilter {
    /// Record kind (`case`, `patrol`, …).
    pub kind: Option<String>,
    /// Status name.
    pub status: Option<String>,
    /// Exact grid code.
    pub grid: Option<String>,
    /// Any territory code: the record's path must lie inside it.
    pub within: Option<String>,
    /// Text to find in titles, descriptions, places and names.
    pub text: Option<String>,
    /// Created on or after this date.
    pub from: Option<NaiveDate>,
    /// Created on or before this date.
    pub to: Option<NaiveDate>,
    /// Only records with open conflicts.
    pub conflicted: bool,
    /// At most this many (default 200).
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// A row of a list: the summary plus bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordRow {
    /// The materialized summary.
    #[serde(flatten)]
    pub summary: Summary,
    /// Time of the latest change (ms).
    pub updated_ms: i64,
    /// How many fields have unsettled conflicts.
    pub conflicts: u32,
    /// Whether there are changes the server has not acknowledged.
    pub pending: bool,
    /// Why the server refused the last push of this record, if it did.
    pub refused: Option<Refusal>,
}

/// A server's refusal of a record's changes, kept until the record is edited again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Machine-readable reason (`out_of_scope`, `not_permitted`, `invalid`, `corrupt`).
    pub code: String,
    /// The server's explanation.
    pub message: String,
}

/// What merging changes into a record did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeOutcome {
    /// The record id.
    pub id: String,
    /// How many operations were new.
    pub new_ops: usize,
    /// Whether the document still lacks changes that others depend on (ask for a snapshot).
    pub incomplete: bool,
}

/// A record's changes waiting to be pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDoc {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// Automerge changes the server has not acknowledged.
    pub changes: Vec<u8>,
    /// The document's heads when these were taken (what the server will have after).
    pub heads: Vec<String>,
}

/// The file format of `export-changes` / `import-changes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeFile {
    /// Always `gridwork-changes`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The exporting device.
    pub device: Uuid,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// One entry per record.
    pub docs: Vec<ChangeFileDoc>,
}

/// One record in a change file: its whole document (so the receiver needs nothing else).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeFileDoc {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// The saved Automerge document, base64.
    pub data: String,
}

/// The local store of one device.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
    identity: DeviceIdentity,
    cache: LruCache<String, Cached>,
    clock: Box<dyn Fn() -> DateTime<Utc> + Send>,
    territory: Option<&'static Territory>,
    /// Copies the write-ahead log into the database (see `store/checkpointer.rs`); `None`
    /// only when its thread could not start, and SQLite's own checkpoints run instead.
    checkpointer: Option<Checkpointer>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// The district's calendar date at `t` (China Standard Time, UTC+8).
pub fn district_date(t: DateTime<Utc>) -> NaiveDate {
    const CST: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
        Some(offset) => offset,
        None => panic!("UTC+8 is a valid offset"),
    };
    t.with_timezone(&CST).date_naive()
}

/// Opens the SQLite connection of a store; the one place where encryption would be keyed.
pub fn open_connection(path: &Path, options: &StoreOptions) -> Result<Connection> {
    let conn = Connection::open(path)?;
    if options.key.is_some() {
        // Keying needs SQLCipher (rusqlite `bundled-sqlcipher`); refuse rather than store
        // personal data unencrypted while the caller believes it is encrypted.
        return Err(StoreError::Sqlite(rusqlite::Error::InvalidParameterName(
            "encryption key given, but this build has no SQLCipher".into(),
        )));
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", CACHE_KIB)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    add_contains_function(&conn)?;
    Ok(conn)
}

/// `contains(haystack, needle)`: whether `needle` occurs in `haystack`, byte for byte.
///
/// The text filter scans every row's search text when the word is rare, and `LIKE '%w%'`
/// compares from each position in turn; this searches with `memchr`'s SIMD finder, built
/// once per statement (SQLite keeps it as the constant argument's auxiliary data). No
/// pattern characters either: `%` and `_` are literal.
fn add_contains_function(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    use rusqlite::types::ValueRef;
    fn bytes(v: ValueRef<'_>) -> Option<&[u8]> {
        match v {
            ValueRef::Text(b) | ValueRef::Blob(b) => Some(b),
            _ => None,
        }
    }
    conn.create_scalar_function(
        "contains",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let finder = ctx.get_or_create_aux(
                1,
                |v| -> std::result::Result<_, std::convert::Infallible> {
                    Ok(bytes(v).map(|n| memchr::memmem::Finder::new(n).into_owned()))
                },
            )?;
            Ok(match (finder.as_ref(), bytes(ctx.get_raw(0))) {
                (Some(f), Some(hay)) => Some(f.find(hay).is_some()),
                _ => None,
            })
        },
    )
}

/// SQLite's page cache, in KiB (`PRAGMA cache_size` takes it negative). SQLite's default,
/// 2 MiB, holds a few thousand records' index pages: a first pull of a whole district then
/// spends as much time re-reading pages from the OS as writing them.
const CACHE_KIB: i64 = -32 * 1024;

/// The schema's version, in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 2;

/// Creates the tables, and brings a store written by an earlier version up to date.
fn ensure_schema(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA_SQL)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    // Version 1: a record's row no longer keeps the record's JSON (every save wrote it, and
    // only a rebuild of the report facts read it; that reads the documents now), nor an
    // index on `updated_ms` alone (`records_recent` begins with it). Both were derived data.
    let has_value: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('records') WHERE name = 'value'",
        [],
        |r| r.get(0),
    )?;
    if has_value {
        tx.execute_batch("ALTER TABLE records DROP COLUMN value")?;
    }
    tx.execute_batch("DROP INDEX IF EXISTS records_updated")?;
    // Version 2: `records_recent` (ascending) replaces `records_search` (descending).
    tx.execute_batch("DROP INDEX IF EXISTS records_search")?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

const SCHEMA_SQL: &str = r"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    tail INTEGER NOT NULL DEFAULT 0,
    synced_heads TEXT NOT NULL DEFAULT '[]',
    pending INTEGER NOT NULL DEFAULT 0,
    refused_code TEXT,
    refused_message TEXT
);
CREATE TABLE IF NOT EXISTS doc_changes (
    doc_id TEXT NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (doc_id, n)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY REFERENCES docs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    grid TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    level TEXT,
    resolved_at TEXT,
    created_at TEXT,
    created_day TEXT,
    created_by TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    conflicts INTEGER NOT NULL DEFAULT 0,
    search TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    sha256 TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_grid ON records(grid, updated_ms DESC);
CREATE INDEX IF NOT EXISTS records_status ON records(status, updated_ms DESC);
CREATE INDEX IF NOT EXISTS records_kind ON records(kind, updated_ms DESC);
CREATE INDEX IF NOT EXISTS records_path ON records(street, community, grid);
-- Sync asks for pending and refused records on every run: keep those lookups off a scan.
CREATE INDEX IF NOT EXISTS docs_pending ON docs(id) WHERE pending = 1 AND refused_code IS NULL;
CREATE INDEX IF NOT EXISTS docs_refused ON docs(id) WHERE refused_code IS NOT NULL;
-- Covers the text search's scan, so it does not read the wide rows; and, read backwards, the
-- newest-first order of unfiltered lists. Ascending, because records are saved in time order:
-- each save appends at the index's end, which SQLite packs full, where inserts at the start
-- of a descending index left its pages half empty and a scan reading twice the pages.
CREATE INDEX IF NOT EXISTS records_recent ON records(updated_ms, id, search);
CREATE INDEX IF NOT EXISTS records_conflicts ON records(conflicts) WHERE conflicts > 0;
-- Report facts (see `report::db`), clustered by `until`, the last day a record counts
-- ('9999-12-31' while open), so a report reads one range; `day` is the first.
CREATE TABLE IF NOT EXISTS record_facts (
    until TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE REFERENCES docs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    grid TEXT NOT NULL,
    day TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (until, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_facts_path ON record_facts(street, community, grid);
";

/// The indexes a first pull builds after its rows (see [`Store::defer_indexes_if_empty`]): all
/// of `records`' and `record_facts`' secondary indexes but `records_conflicts`, which holds
/// only the few rows with conflicts: kept, it costs the pull next to nothing, where building
/// it reads the whole table.
const DEFERRED_INDEXES: [&str; 6] = [
    "records_grid",
    "records_status",
    "records_kind",
    "records_path",
    "records_recent",
    "record_facts_path",
];

fn to_hex_heads(heads: &[ChangeHash]) -> String {
    serde_json::to_string(&doc::format_heads(heads)).unwrap_or_else(|_| "[]".into())
}

fn from_hex_heads(s: &str) -> Result<Vec<ChangeHash>> {
    let v: Vec<String> = serde_json::from_str(s).map_err(|e| DocError::BadHash(e.to_string()))?;
    Ok(doc::parse_heads(&v)?)
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Doc(DocError::Corrupt(e.to_string()))
}

impl Store {
    /// Creates a device store in `dir` (or opens the one there): its own device id and actor.
    pub fn init(dir: &Path) -> Result<Self> {
        Self::init_with(dir, &StoreOptions::default())
    }

    /// [`Store::init`] with options.
    pub fn init_with(dir: &Path, options: &StoreOptions) -> Result<Self> {
        fs::create_dir_all(dir.join("attachments"))?;
        let conn = open_connection(&dir.join(DB_FILE), options)?;
        ensure_schema(&conn)?;
        let existing: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'identity'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if existing.is_none() {
            let identity = DeviceIdentity {
                device_id: Uuid::now_v7(),
                actor: *Uuid::new_v4().as_bytes(),
            };
            let json = serde_json::to_string(&identity).map_err(json_err)?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('identity', ?1)",
                [json],
            )?;
        }
        drop(conn);
        Self::open_with(dir, options)
    }

    /// Opens the device store in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with(dir, &StoreOptions::default())
    }

    /// [`Store::open`] with options.
    pub fn open_with(dir: &Path, options: &StoreOptions) -> Result<Self> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Err(StoreError::NotInitialised(dir.display().to_string()));
        }
        let conn = open_connection(&path, options)?;
        ensure_schema(&conn)?;
        let identity: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'identity'", [], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| StoreError::NotInitialised(dir.display().to_string()))?;
        let identity = serde_json::from_str(&identity).map_err(json_err)?;
        let checkpointer = match Checkpointer::start(&conn, &dir.join(DB_FILE), options) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "no checkpoint thread: saves checkpoint themselves");
                None
            }
        };
        Ok(Store {
            conn,
            dir: dir.to_path_buf(),
            identity,
            cache: LruCache::new(CACHE_CAP),
            clock: Box::new(Utc::now),
            territory: Some(Territory::chengyang()),
            checkpointer,
        })
    }

    /// This device's identity.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    /// The device folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Replaces the clock (tests and simulations choose their dates).
    pub fn set_clock(&mut self, clock: impl Fn() -> DateTime<Utc> + Send + 'static) {
        self.clock = Box::new(clock);
    }

    /// Checks grid codes against `territory` (default: Chengyang's), or only their form.
    pub fn set_territory(&mut self, territory: Option<&'static Territory>) {
        self.territory = territory;
    }

    /// The current time by the store's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Today's date in the district (China Standard Time, UTC+8, no daylight saving): what
    /// "not in the future" checks and date defaults mean to the people using the app.
    pub fn today(&self) -> NaiveDate {
        district_date(self.now())
    }

    /// The SQLite connection, for modules that keep their own tables in the store (reports).
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Reads a device setting.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Writes a device setting (`None` removes it).
    pub fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => self
                .conn
                .execute("DELETE FROM meta WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    /// The next stamp of this device's hybrid logical clock (persisted).
    pub fn next_hlc(&mut self) -> Result<Hlc> {
        let node = hex::encode(&self.identity.actor[..8]);
        let mut clock = match self.meta("hlc")? {
            Some(s) => s
                .parse()
                .map_or_else(|_| HlcClock::new(node.clone()), HlcClock::resume),
            None => HlcClock::new(node),
        };
        let hlc = clock.tick(self.now().timestamp_millis());
        self.set_meta("hlc", Some(&hlc.to_string()))?;
        Ok(hlc)
    }

    /// After a commit that wrote `records` records: the checkpoint thread copies the log
    /// once enough has been written.
    fn committed(&self, records: usize) {
        if let Some(c) = &self.checkpointer {
            c.committed(records);
        }
    }

    fn validate(&self, record: &Record) -> Result<()> {
        let today = self.today();
        let known = |code: &str| self.territory.is_none_or(|t| t.contains(code));
        let ctx = ValidationContext::new(today).with_known_grid(&known);
        record.validate(&ctx).map_err(StoreError::Invalid)
    }

    /// Stores a new record after validating it. Returns its summary.
    pub fn create(&mut self, record: &Record, author: &Author) -> Result<Summary> {
        self.validate(record)?;
        let id = record.id().to_string();
        let value = serde_json::to_value(record).map_err(json_err)?;
        let at_ms = self.now().timestamp_millis();
        let mut d = RecordDoc::create(
            &self.identity.actor,
            &value,
            record.kind().text_fields(),
            author,
            at_ms,
        )?;
        // The document saved whole, uncompressed: about a seventh of the cost of encoding its
        // one change (5 against 37 µs for a case), and half the cost to load again (the
        // compaction after `COMPACT_AFTER` edits writes it compressed).
        let snapshot = d.save_uncompressed();
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let tx = self.conn.transaction()?;
        // The primary key says whether the id is taken: no lookup before the insert.
        tx.prepare_cached("INSERT INTO docs (id, kind, snapshot, pending) VALUES (?1, ?2, ?3, 1)")?
            .execute(params![id, kind, snapshot])
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => {
                    StoreError::Immutable("id (it is taken)")
                }
                _ => StoreError::Sqlite(e),
            })?;
        let input = RowInput {
            record: Some(record),
            value: &value,
            conflicts: Some(0),
            changed_ms: at_ms,
        };
        let s = write_row(&tx, &id, &input)?;
        tx.commit()?;
        self.committed(1);
        self.cache.insert(
            id,
            Cached {
                doc: d,
                typed: Some((record.clone(), value)),
            },
        );
        Ok(s)
    }

    /// Reads a record, changes it with `edit`, validates, and stores the difference.
    ///
    /// Fields this version does not know are untouched; if `edit` fails or the result is
    /// invalid, nothing changes.
    pub fn update<E>(
        &mut self,
        id: &str,
        author: &Author,
        edit: impl FnOnce(&mut Record) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<Summary, E>> {
        let Cached { mut doc, typed } = self.take_doc(id)?;
        // The cached document must match the database: it goes back only if the write landed.
        let (summary, record, value) = match self.update_doc(id, &mut doc, typed, author, edit)? {
            Ok(saved) => saved,
            Err(e) => return Ok(Err(e)),
        };
        self.cache.insert(
            id.to_owned(),
            Cached {
                doc,
                typed: Some((record, value)),
            },
        );
        Ok(Ok(summary))
    }

    /// The edit, and on success the summary with the record and its JSON as saved.
    fn update_doc<E>(
        &mut self,
        id: &str,
        d: &mut RecordDoc,
        typed: Option<(Record, Value)>,
        author: &Author,
        edit: impl FnOnce(&mut Record) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<(Summary, Record, Value), E>> {
        let (mut record, old) = match typed {
            Some(t) => t,
            None => {
                let record: Record = serde_json::from_value(d.to_value())
                    .map_err(|_| StoreError::Unreadable(id.to_owned()))?;
                let old = serde_json::to_value(&record).map_err(json_err)?;
                (record, old)
            }
        };
        if let Err(e) = edit(&mut record) {
            return Ok(Err(e));
        }
        if record.id().to_string() != id {
            return Err(StoreError::Immutable("id"));
        }
        let new = serde_json::to_value(&record).map_err(json_err)?;
        if old.get("type") != new.get("type") {
            return Err(StoreError::Immutable("kind"));
        }
        self.validate(&record)?;
        let before = d.heads();
        let at_ms = self.now().timestamp_millis();
        let changed = d.update(&old, &new, record.kind().text_fields(), author, at_ms)?;
        if changed.is_none() {
            return Ok(Ok((summary::summarize_record(&record), record, new)));
        }
        let bytes = d.changes_after(&before);
        let tx = self.conn.transaction()?;
        append_changes(&tx, id, &bytes, d, Origin::Local)?;
        // A local edit adds no conflicts; it may settle some, so count again only if any.
        let had: u32 = tx
            .prepare_cached("SELECT conflicts FROM records WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let conflicts = (had > 0).then(|| u32::try_from(d.conflicts().len()).unwrap_or(u32::MAX));
        let input = RowInput {
            record: Some(&record),
            value: &new,
            conflicts,
            changed_ms: at_ms,
        };
        let s = write_row(&tx, id, &input)?;
        tx.commit()?;
        self.committed(1);
        Ok(Ok((s, record, new)))
    }

    /// Sets one field to `value`, settling any conflict on it (an ordinary edit).
    pub fn set_field(
        &mut self,
        id: &str,
        path: &FieldPath,
        value: &Value,
        author: &Author,
    ) -> Result<Summary> {
        let mut d = self.take_doc(id)?.doc;
        let result = self.set_field_doc(id, &mut d, path, value, author);
        if result.is_ok() {
            self.cache.insert(id.to_owned(), Cached::untyped(d));
        }
        result
    }

    fn set_field_doc(
        &mut self,
        id: &str,
        d: &mut RecordDoc,
        path: &FieldPath,
        value: &Value,
        author: &Author,
    ) -> Result<Summary> {
        let kind = summary::kind_of(&d.to_value());
        let text_keys = kind.map_or(&[][..], RecordKind::text_fields);
        let before = d.heads();
        let mut probe = d.clone();
        probe.set_field(
            path,
            value,
            text_keys,
            author,
            self.now().timestamp_millis(),
        )?;
        // The settled record must still be a valid record.
        let settled = probe.to_value();
        let record = summary::parse_record(&settled);
        if let Some(record) = &record {
            self.validate(record)?;
        } else if kind.is_some() {
            return Err(StoreError::Unreadable(id.to_owned()));
        }
        *d = probe;
        let at_ms = d.last_change_ms();
        let bytes = d.changes_after(&before);
        let tx = self.conn.transaction()?;
        append_changes(&tx, id, &bytes, d, Origin::Local)?;
        let input = RowInput::from_doc(d, &settled, record.as_ref(), at_ms);
        let s = write_row(&tx, id, &input)?;
        tx.commit()?;
        self.committed(1);
        Ok(s)
    }

    /// A record, typed.
    pub fn get(&mut self, id: &str) -> Result<Record> {
        if let Some(Cached {
            typed: Some((record, _)),
            ..
        }) = self.cache.get(id)
        {
            return Ok(record.clone());
        }
        let v = self.get_value(id)?;
        summary::parse_record(&v).ok_or_else(|| StoreError::Unreadable(id.to_owned()))
    }

    /// A record as JSON, including fields this version does not know.
    pub fn get_value(&mut self, id: &str) -> Result<Value> {
        self.with_doc(id, |d| Ok(d.to_value()))
    }

    /// A record's row (summary, pending, refusal, conflicts).
    pub fn row(&self, id: &str) -> Result<RecordRow> {
        let sql = format!("{ROW_SELECT} WHERE r.id = ?1");
        self.conn
            .query_row(&sql, [id], read_row)
            .optional()?
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))?
    }

    /// Records matching `filter`, most recently changed first.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<RecordRow>> {
        let mut clauses = Vec::<String>::new();
        let mut args = Vec::<rusqlite::types::Value>::new();
        let mut arg = |clause: &str, v: String, args: &mut Vec<rusqlite::types::Value>| {
            args.push(rusqlite::types::Value::Text(v));
            clauses.push(clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(k) = &filter.kind {
            arg("r.kind = ?", k.clone(), &mut args);
        }
        if let Some(s) = &filter.status {
            arg("r.status = ?", s.clone(), &mut args);
        }
        if let Some(g) = &filter.grid {
            arg("r.grid = ?", g.clone(), &mut args);
        }
        if let Some(w) = &filter.within {
            match w.len() {
                n if n <= 6 => {}
                n if n <= 9 => arg("r.street = ?", w.clone(), &mut args),
                n if n <= 12 => arg("r.community = ?", w.clone(), &mut args),
                _ => arg("r.grid = ?", w.clone(), &mut args),
            }
        }
        if let Some(t) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            // The search text is stored lower-cased (`summary::summarize`).
            arg("contains(r.search, ?)", t.to_lowercase(), &mut args);
        }
        if let Some(f) = filter.from {
            arg("r.created_day >= ?", f.to_string(), &mut args);
        }
        if let Some(t) = filter.to {
            arg("r.created_day <= ?", t.to_string(), &mut args);
        }
        if filter.conflicted {
            clauses.push("r.conflicts > 0".into());
        }
        let where_ = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "{ROW_SELECT}{where_} ORDER BY r.updated_ms DESC, r.id DESC LIMIT {} OFFSET {}",
            filter.limit.unwrap_or(200),
            filter.offset.unwrap_or(0)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), read_row)?;
        rows.map(|r| r?).collect()
    }

    /// The unsettled conflicts of one record.
    pub fn conflicts(&mut self, id: &str) -> Result<Vec<Conflict>> {
        self.with_doc(id, |d| Ok(d.conflicts()))
    }

    /// Every record with unsettled conflicts, with its conflicts.
    pub fn all_conflicts(&mut self) -> Result<Vec<(RecordRow, Vec<Conflict>)>> {
        let rows = self.list(&ListFilter {
            conflicted: true,
            limit: Some(10_000),
            ..ListFilter::default()
        })?;
        rows.into_iter()
            .map(|row| {
                let c = self.conflicts(&row.summary.id)?;
                Ok((row, c))
            })
            .collect()
    }

    /// Every change to a record, oldest first.
    pub fn history(&mut self, id: &str) -> Result<Vec<HistoryEntry>> {
        self.with_doc(id, |d| Ok(d.history()))
    }

    /// A record as it was at `at` (JSON; `null` if it did not exist yet).
    pub fn as_of(&mut self, id: &str, at: DateTime<Utc>) -> Result<Value> {
        self.with_doc(id, |d| Ok(d.as_of(at.timestamp_millis())?))
    }

    /// Merges Automerge bytes from elsewhere (sync or a change file) into a record, creating
    /// it if this device has not seen it. Corrupt bytes change nothing.
    ///
    /// `server_has_all` says the bytes came from the server: if this device had nothing
    /// unpushed, the server now has everything it has.
    pub fn merge(
        &mut self,
        id: &str,
        kind: &str,
        bytes: &[u8],
        from_server: bool,
    ) -> Result<MergeOutcome> {
        let item = MergeItem {
            id,
            kind,
            bytes,
            materialized: None,
        };
        let mut out = self.merge_many(&[item], from_server)?;
        out.pop().ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    /// [`Store::merge`] for many records at once (a pull page), in one transaction: all of
    /// them are merged, or (on any error) none. The clock observes the newest stamp once.
    ///
    /// Documents merged here are not kept in memory (a bulk pull would only push out the
    /// ones being edited); documents that were cached stay cached, up to date.
    pub fn merge_many(
        &mut self,
        items: &[MergeItem<'_>],
        from_server: bool,
    ) -> Result<Vec<MergeOutcome>> {
        // Every item's bytes are checked as it is merged; an error anywhere rolls the whole
        // page back.
        let mut touched: HashMap<String, (RecordDoc, bool)> = HashMap::new();
        for item in items {
            if let Some(c) = self.cache.remove(item.id) {
                touched.insert(item.id.to_owned(), (c.doc, true));
            }
        }
        let result = merge_batch(
            &mut self.conn,
            &self.identity.actor,
            items,
            from_server,
            &mut touched,
        );
        // On an error nothing was written: the touched documents (changed in memory) go.
        if result.is_ok() {
            self.committed(items.len());
            for (id, (d, was_cached)) in touched {
                if was_cached {
                    self.cache.insert(id, Cached::untyped(d));
                }
            }
        }
        result
    }

    /// Before a first pull into a store that holds no record: drops the secondary indexes of
    /// the rows and facts, so that [`Store::build_indexes`] builds each once, sorted, instead
    /// of every page of the pull rewriting a page of each index per record. Lists still work
    /// meanwhile (by scanning). Any open of the store builds missing indexes too, so a pull
    /// cut short leaves nothing lacking for long.
    pub fn defer_indexes_if_empty(&mut self) -> Result<()> {
        let empty: bool =
            self.conn
                .query_row("SELECT NOT EXISTS (SELECT 1 FROM docs)", [], |r| r.get(0))?;
        if empty {
            let tx = self.conn.transaction()?;
            for name in DEFERRED_INDEXES {
                tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
            }
            tx.commit()?;
        }
        Ok(())
    }

    /// Builds the indexes [`Store::defer_indexes_if_empty`] dropped (nothing when none is
    /// missing).
    pub fn build_indexes(&mut self) -> Result<()> {
        let present: usize = self.conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN
             (SELECT value FROM json_each(?1))",
            [serde_json::to_string(&DEFERRED_INDEXES).map_err(json_err)?],
            |r| r.get(0),
        )?;
        if present < DEFERRED_INDEXES.len() {
            // The schema's statements create only what is missing.
            self.conn.execute_batch(SCHEMA_SQL)?;
        }
        Ok(())
    }

    /// Records with changes the server has not acknowledged (refused ones are left out until
    /// they are edited again), at most `limit`.
    pub fn pending(&mut self, limit: usize) -> Result<Vec<PendingDoc>> {
        let ids: Vec<(String, String, String)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, kind, synced_heads FROM docs
                 WHERE pending = 1 AND refused_code IS NULL ORDER BY id LIMIT ?1",
            )?;
            let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for (id, kind, synced) in ids {
            let synced = synced_heads_of(&self.conn, &id, &synced)?;
            let (changes, heads) = self.with_doc(&id, |d| {
                let heads = doc::format_heads(&d.heads());
                Ok((d.changes_after(&synced), heads))
            })?;
            out.push(PendingDoc {
                id,
                kind,
                changes,
                heads,
            });
        }
        Ok(out)
    }

    /// How many records have unpushed changes.
    pub fn pending_count(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM docs WHERE pending = 1 AND refused_code IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// The server accepted the changes up to `heads_sent`.
    pub fn mark_pushed(&mut self, id: &str, heads_sent: &[String]) -> Result<()> {
        let sent = doc::parse_heads(heads_sent)?;
        let now = self.with_doc(id, |d| Ok(d.heads()))?;
        let still_pending = {
            let mut a = sent.clone();
            let mut b = now;
            a.sort();
            b.sort();
            a != b
        };
        self.conn.execute(
            "UPDATE docs SET synced_heads = ?2, pending = ?3, refused_code = NULL, refused_message = NULL WHERE id = ?1",
            params![id, to_hex_heads(&sent), still_pending],
        )?;
        Ok(())
    }

    /// The server refused the record's changes: keep them, mark the record, and say why.
    pub fn mark_refused(&mut self, id: &str, refusal: &Refusal) -> Result<()> {
        self.conn.execute(
            "UPDATE docs SET refused_code = ?2, refused_message = ?3 WHERE id = ?1",
            params![id, refusal.code, refusal.message],
        )?;
        Ok(())
    }

    /// Records the server refused, with the reason.
    pub fn refused(&self) -> Result<Vec<(String, Refusal)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, refused_code, refused_message FROM docs WHERE refused_code IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Refusal {
                    code: r.get(1)?,
                    message: r.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// All records' ids, for whole-store walks (simulations, exports).
    pub fn ids(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM docs ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The heads of a record's document (hex, sorted).
    pub fn heads(&mut self, id: &str) -> Result<Vec<String>> {
        self.with_doc(id, |d| {
            let mut h = doc::format_heads(&d.heads());
            h.sort();
            Ok(h)
        })
    }

    /// The changes of a record that someone holding `heads` lacks.
    pub fn changes_since(&mut self, id: &str, heads: &[String]) -> Result<Vec<u8>> {
        let heads = doc::parse_heads(heads)?;
        self.with_doc(id, |d| Ok(d.changes_after(&heads)))
    }

    /// The whole saved document of a record.
    pub fn saved_doc(&mut self, id: &str) -> Result<Vec<u8>> {
        self.with_doc(id, |d| Ok(d.save()))
    }

    /// Writes every record to a change file (whole documents: the receiver needs nothing
    /// else to merge them).
    pub fn export_changes(&mut self) -> Result<ChangeFile> {
        use base64::Engine as _;
        let mut docs = Vec::new();
        for id in self.ids()? {
            let kind: String =
                self.conn
                    .query_row("SELECT kind FROM docs WHERE id = ?1", [&id], |r| r.get(0))?;
            let bytes = self.saved_doc(&id)?;
            docs.push(ChangeFileDoc {
                id,
                kind,
                data: base64::engine::general_purpose::STANDARD.encode(bytes),
            });
        }
        Ok(ChangeFile {
            format: "gridwork-changes".into(),
            version: 1,
            device: self.identity.device_id,
            created_at: self.now(),
            docs,
        })
    }

    /// Merges a change file, exactly as sync would. Every document is checked before any
    /// is merged, so a damaged file changes nothing.
    pub fn import_changes(&mut self, file: &ChangeFile) -> Result<Vec<MergeOutcome>> {
        use base64::Engine as _;
        if file.format != "gridwork-changes" || file.version != 1 {
            return Err(StoreError::BadChangeFile(format!(
                "format {:?} version {}",
                file.format, file.version
            )));
        }
        let mut decoded = Vec::with_capacity(file.docs.len());
        for (i, d) in file.docs.iter().enumerate() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&d.data)
                .map_err(|e| StoreError::BadChangeFile(format!("docs[{i}].data: {e}")))?;
            doc::check_bytes(&bytes)
                .map_err(|e| StoreError::BadChangeFile(format!("docs[{i}].data: {e}")))?;
            Uuid::parse_str(&d.id)
                .map_err(|_| StoreError::BadChangeFile(format!("docs[{i}].id is not a UUID")))?;
            decoded.push((d, bytes));
        }
        decoded
            .into_iter()
            .map(|(d, bytes)| self.merge(&d.id, &d.kind, &bytes, false))
            .collect()
    }

    /// Stores an attachment by content hash (once, however often it is added).
    pub fn put_attachment(
        &self,
        bytes: &[u8],
        media_type: &str,
        name: &str,
    ) -> Result<AttachmentRef> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.attachment_path(&sha);
        if !path.exists() {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            let tmp = path.with_extension("part");
            fs::write(&tmp, bytes)?;
            fs::rename(&tmp, &path)?;
        }
        self.conn.execute(
            "INSERT OR IGNORE INTO attachments (sha256, media_type, size) VALUES (?1, ?2, ?3)",
            params![sha, media_type, bytes.len() as i64],
        )?;
        Ok(AttachmentRef {
            sha256: sha,
            media_type: media_type.to_owned(),
            size: bytes.len() as u64,
            name: name.to_owned(),
        })
    }

    /// Attachments added on this device that the server does not hold yet.
    pub fn unuploaded_attachments(&self) -> Result<Vec<AttachmentRef>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sha256, media_type, size FROM attachments WHERE uploaded = 0 ORDER BY sha256",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(AttachmentRef {
                sha256: r.get(0)?,
                media_type: r.get(1)?,
                size: r.get::<_, i64>(2)?.try_into().unwrap_or_default(),
                name: String::new(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The server holds the attachment now.
    pub fn mark_attachment_uploaded(&self, sha256: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE attachments SET uploaded = 1 WHERE sha256 = ?1",
            [sha256],
        )?;
        Ok(())
    }

    /// Stores attachment bytes fetched from the server, after checking them against `sha256`.
    pub fn put_fetched_attachment(
        &self,
        sha256: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<()> {
        if hex::encode(Sha256::digest(bytes)) != sha256 {
            return Err(StoreError::AttachmentMismatch(sha256.to_owned()));
        }
        self.put_attachment(bytes, media_type, "")?;
        self.mark_attachment_uploaded(sha256)
    }

    /// Where an attachment's bytes live (whether or not they are here yet).
    pub fn attachment_path(&self, sha256: &str) -> PathBuf {
        let shard = sha256.get(..2).unwrap_or("xx");
        self.dir.join("attachments").join(shard).join(sha256)
    }

    /// Reads an attachment and checks it against its hash.
    pub fn read_attachment(&self, sha256: &str) -> Result<Vec<u8>> {
        let bytes = fs::read(self.attachment_path(sha256))?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(StoreError::AttachmentMismatch(sha256.to_owned()));
        }
        Ok(bytes)
    }

    /// Removes every record and setting but the device identity (sign-out).
    pub fn wipe(&mut self) -> Result<()> {
        self.cache.clear();
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM records; DELETE FROM doc_changes; DELETE FROM docs; DELETE FROM attachments;
             DELETE FROM meta WHERE key <> 'identity';",
        )?;
        tx.commit()?;
        let att = self.dir.join("attachments");
        if att.exists() {
            fs::remove_dir_all(&att)?;
            fs::create_dir_all(&att)?;
        }
        Ok(())
    }

    fn load_doc(&self, id: &str) -> Result<RecordDoc> {
        load_doc_from(&self.conn, id, &self.identity.actor)
    }

    /// Takes a document out of the cache (or loads it); callers put it back on success.
    fn take_doc(&mut self, id: &str) -> Result<Cached> {
        match self.cache.remove(id) {
            Some(c) => Ok(c),
            None => Ok(Cached::untyped(self.load_doc(id)?)),
        }
    }

    /// Runs `f` on a document without changing it (reads that need the document itself).
    fn with_doc<T>(&mut self, id: &str, f: impl FnOnce(&mut RecordDoc) -> Result<T>) -> Result<T> {
        if let Some(c) = self.cache.get_mut(id) {
            return f(&mut c.doc);
        }
        let mut d = self.load_doc(id)?;
        let out = f(&mut d);
        self.cache.insert(id.to_owned(), Cached::untyped(d));
        out
    }
}

/// One record's bytes for [`Store::merge_many`].
#[derive(Debug, Clone, Copy)]
pub struct MergeItem<'a> {
    /// Record id.
    pub id: &'a str,
    /// Record kind.
    pub kind: &'a str,
    /// Automerge bytes (changes or a saved document).
    pub bytes: &'a [u8],
    /// With a whole document from the server: its value and what its row needs, read by the
    /// server when it stored it. A record new to this device is then stored without loading
    /// its document here.
    pub materialized: Option<&'a Materialized>,
}

fn doc_exists_in(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM docs WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A document with no changes yet, to merge changes into.
fn empty_doc(actor: &[u8; 16]) -> Result<RecordDoc> {
    Ok(RecordDoc::create(
        actor,
        &Value::Object(Default::default()),
        &[],
        &Author::default(),
        0,
    )?)
}

pub(crate) fn load_doc_from(conn: &Connection, id: &str, actor: &[u8]) -> Result<RecordDoc> {
    let (mut bytes, tail): (Vec<u8>, i64) = conn
        .prepare_cached("SELECT snapshot, tail FROM docs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
    if tail == 0 {
        return Ok(RecordDoc::load(&bytes, actor)?);
    }
    // One load of snapshot and tail together applies the tail's changes as one batch,
    // several times cheaper than merging them chunk by chunk.
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY n")?;
    let mut chunks = Vec::new();
    for c in stmt.query_map([id], |r| r.get::<_, Vec<u8>>(0))? {
        let c = c?;
        doc::check_bytes(&c)?;
        chunks.push(c);
    }
    let first = bytes.len();
    for c in &chunks {
        bytes.extend_from_slice(c);
    }
    match RecordDoc::load(&bytes, actor) {
        Ok(d) => Ok(d),
        // A tail that does not load in one piece (a snapshot that is itself only changes
        // still waiting for their dependencies): merge chunk by chunk.
        Err(_) => {
            let mut d = RecordDoc::load(&bytes[..first], actor)?;
            for c in &chunks {
                d.merge_bytes(c)?;
            }
            Ok(d)
        }
    }
}

/// Moves the device's clock past `remote` (so its next stamps sort after what it has seen).
fn observe_hlc(conn: &Connection, actor: &[u8; 16], remote: &Hlc) -> Result<()> {
    let node = hex::encode(&actor[..8]);
    let stored: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'hlc'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let mut clock = match stored {
        Some(s) => s
            .parse()
            .map_or_else(|_| HlcClock::new(node.clone()), HlcClock::resume),
        None => HlcClock::new(node),
    };
    clock.observe(remote);
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('hlc', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute([clock.last().to_string()])?;
    Ok(())
}

/// The work of [`Store::merge_many`], in one transaction. `touched` holds the documents
/// taken out of the cache and receives every document merged.
fn merge_batch(
    conn: &mut Connection,
    actor: &[u8; 16],
    items: &[MergeItem<'_>],
    from_server: bool,
    touched: &mut HashMap<String, (RecordDoc, bool)>,
) -> Result<Vec<MergeOutcome>> {
    let tx = conn.transaction()?;
    let mut outcomes = Vec::with_capacity(items.len());
    let mut newest: Option<Hlc> = None;
    for item in items {
        let mut existing = None;
        if let Some(m) = item.materialized
            && from_server
            && !touched.contains_key(item.id)
        {
            match store_materialized(&tx, item, m, &mut newest)? {
                Stored::New(outcome) => {
                    outcomes.push(outcome);
                    continue;
                }
                Stored::Exists => existing = Some(true),
                Stored::Unusable => {}
            }
        }
        let existing = match existing {
            Some(e) => e,
            None => doc_exists_in(&tx, item.id)?,
        };
        let (mut d, was_cached, loaded) = match touched.remove(item.id) {
            Some((d, cached)) => (d, cached, false),
            None if existing => (load_doc_from(&tx, item.id, actor)?, false, false),
            // A record new to this device (every record of a cold pull): the bytes are the
            // whole document, read and checked in one pass.
            None => match RecordDoc::load_strict(item.bytes, actor) {
                Ok(d) => (d, false, true),
                // Changes waiting for others: merged below, kept until those arrive.
                Err(DocError::MissingDeps) => (empty_doc(actor)?, false, false),
                Err(e) => return Err(e.into()),
            },
        };
        let outcome = merge_one(
            &tx,
            item,
            &mut d,
            existing,
            loaded,
            from_server,
            &mut newest,
        )?;
        outcomes.push(outcome);
        touched.insert(item.id.to_owned(), (d, was_cached));
    }
    if let Some(remote) = &newest {
        observe_hlc(&tx, actor, remote)?;
    }
    tx.commit()?;
    Ok(outcomes)
}

/// What [`store_materialized`] did with an item.
enum Stored {
    /// Stored as a record new to this device.
    New(MergeOutcome),
    /// Nothing: the device holds the record already.
    Exists,
    /// Nothing: the item has neither a row in this version's layout nor a value.
    Unusable,
}

/// Stores a record new to this device from the server's whole document and what the server
/// read from it, without loading the document: the bytes go in as the snapshot (their headers
/// and checksums checked; the contents are read when the record is first opened), the row
/// and facts as the server worked them out, else from the value. What the server holds is
/// then exactly the snapshot.
fn store_materialized(
    tx: &Transaction<'_>,
    item: &MergeItem<'_>,
    m: &Materialized,
    newest: &mut Option<Hlc>,
) -> Result<Stored> {
    let row = m.row.as_ref().filter(|r| r.layout == summary::ROW_LAYOUT);
    if row.is_none() && m.value.is_none() {
        return Ok(Stored::Unusable);
    }
    doc::check_chunks(item.bytes)?;
    // The insert is the lookup: a first pull (every record new) makes no other.
    let inserted = tx
        .prepare_cached(
            "INSERT INTO docs (id, kind, snapshot, pending, synced_heads) VALUES (?1, ?2, ?3, 0, ?4)
             ON CONFLICT(id) DO NOTHING",
        )?
        .execute(params![item.id, item.kind, item.bytes, SNAPSHOT_HEADS])?;
    if inserted == 0 {
        return Ok(Stored::Exists);
    }
    let stamp = match (row, &m.value) {
        (Some(row), _) => {
            insert_sent_row(tx, item.id, row, m)?;
            row.newest.clone()
        }
        (None, Some(raw)) => {
            let raw = raw.get();
            // Straight from the text to the record (a record this version understands); the
            // generic value only for one it does not.
            let (record, value) = match Record::from_json(raw) {
                Ok(r) => (Some(r), Value::Null),
                Err(_) => (None, serde_json::from_str(raw).map_err(json_err)?),
            };
            let input = RowInput {
                record: record.as_ref(),
                value: &value,
                conflicts: Some(m.conflicts),
                changed_ms: m.changed_ms,
            };
            write_row(tx, item.id, &input)?;
            summary::newest_event(record.as_ref(), &value)
        }
        (None, None) => unreachable!("checked above"),
    };
    if let Some(h) = stamp
        && newest.as_ref().is_none_or(|n| h > *n)
    {
        *newest = Some(h);
    }
    Ok(Stored::New(MergeOutcome {
        id: item.id.to_owned(),
        // Something new arrived; how many operations is only known by loading it.
        new_ops: 1,
        incomplete: false,
    }))
}

/// The columns of a row read from a summary's JSON, borrowing its text.
#[derive(Deserialize)]
struct SummaryColumns<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    territory: PathColumns<'a>,
    #[serde(borrow)]
    title: Cow<'a, str>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resolved_at: Option<Cow<'a, str>>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(borrow)]
    created_by: Cow<'a, str>,
    #[serde(borrow)]
    search: Cow<'a, str>,
}

#[derive(Deserialize)]
struct PathColumns<'a> {
    #[serde(borrow, default)]
    street: Cow<'a, str>,
    #[serde(borrow, default)]
    community: Cow<'a, str>,
    #[serde(borrow, default)]
    grid: Cow<'a, str>,
}

/// Inserts the row and facts of a record new to this device as the server sent them: the
/// columns [`write_row`] would have written from the record.
fn insert_sent_row(tx: &Transaction<'_>, id: &str, row: &StoreRow, m: &Materialized) -> Result<()> {
    let text = row.summary.get();
    let s: SummaryColumns<'_> = serde_json::from_str(text).map_err(json_err)?;
    let columns = RowColumns {
        kind: &s.kind,
        territory: [
            &s.territory.street,
            &s.territory.community,
            &s.territory.grid,
        ],
        title: &s.title,
        status: &s.status,
        level: s.level.as_deref(),
        resolved_at: s.resolved_at.as_deref(),
        created_at: s.created_at,
        created_by: &s.created_by,
        search: &s.search,
    };
    upsert_row(tx, id, &columns, m.changed_ms, Some(m.conflicts), text)?;
    if let Some(f) = &row.facts {
        crate::report::db::insert_facts_columns(
            tx,
            [
                id,
                &s.kind,
                &s.territory.street,
                &s.territory.community,
                &s.territory.grid,
                &f.day,
                &f.until,
                f.data.get(),
            ],
        )?;
    }
    Ok(())
}

/// `synced_heads` of a record stored by [`store_materialized`]: the heads of its snapshot,
/// worked out (by loading the snapshot) only when a change first needs them.
const SNAPSHOT_HEADS: &str = "snapshot";

/// The heads the server is known to hold for `id`, from the stored `synced_heads`.
fn synced_heads_of(conn: &Connection, id: &str, stored: &str) -> Result<Vec<ChangeHash>> {
    if stored != SNAPSHOT_HEADS {
        return from_hex_heads(stored);
    }
    let snapshot: Vec<u8> = conn
        .prepare_cached("SELECT snapshot FROM docs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    Ok(RecordDoc::load(&snapshot, &[0; 16])?.heads())
}

/// `loaded` says `d` was just loaded from `item`'s bytes: they are all in it already.
fn merge_one(
    tx: &Transaction<'_>,
    item: &MergeItem<'_>,
    d: &mut RecordDoc,
    existing: bool,
    loaded: bool,
    from_server: bool,
    newest: &mut Option<Hlc>,
) -> Result<MergeOutcome> {
    let id = item.id;
    let bytes_in = item.bytes;
    let (before, new_ops) = if loaded {
        (Vec::new(), d.op_count())
    } else {
        let before = d.heads();
        (before, d.merge_bytes(bytes_in)?)
    };
    let incomplete = !d.automerge().get_missing_deps(&[]).is_empty();
    let (pending, synced): (bool, Vec<ChangeHash>) = if existing {
        let (pending, synced): (bool, String) = tx
            .prepare_cached("SELECT pending, synced_heads FROM docs WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        (pending, synced_heads_of(tx, id, &synced)?)
    } else {
        (false, Vec::new())
    };
    let outcome = MergeOutcome {
        id: id.to_owned(),
        new_ops,
        incomplete,
    };
    if new_ops == 0 && existing && !incomplete {
        return Ok(outcome);
    }
    let value = d.to_value();
    let new_heads = d.heads();
    let metas = d.automerge().get_changes_meta(&before);
    let changed_ms = metas.iter().map(|m| m.timestamp).max().unwrap_or(0);
    // One author's changes are totally ordered, so a record only ever written by one actor
    // has no conflicts: no need to walk it for them (most records of a cold pull).
    let one_actor = before.is_empty() && metas.iter().all(|m| m.actor == metas[0].actor);
    let record = summary::parse_record(&value);
    if let Some(h) = summary::newest_event(record.as_ref(), &value)
        && newest.as_ref().is_none_or(|n| h > *n)
    {
        *newest = Some(h);
    }
    // What the server holds: everything we had if nothing was pending, plus what it sent.
    let (synced_heads, pending) = if from_server && !pending {
        (new_heads, false)
    } else {
        (synced, true)
    };
    if existing {
        let bytes = d.changes_after(&before);
        append_changes(tx, id, &bytes, d, Origin::Remote)?;
        if incomplete {
            // Changes waiting for their dependencies are not part of the document yet;
            // keep the raw bytes so they survive until the dependencies arrive.
            append_changes(tx, id, bytes_in, d, Origin::Remote)?;
        }
        tx.prepare_cached("UPDATE docs SET pending = ?2, synced_heads = ?3 WHERE id = ?1")?
            .execute(params![id, pending, to_hex_heads(&synced_heads)])?;
    } else {
        // The bytes as received (checked above) hold exactly this document, including
        // changes still waiting for dependencies, which a fresh save would drop; and
        // re-encoding them would cost more than the merge.
        tx.prepare_cached(
            "INSERT INTO docs (id, kind, snapshot, pending, synced_heads)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            id,
            item.kind,
            bytes_in,
            pending,
            to_hex_heads(&synced_heads)
        ])?;
    }
    let input = if one_actor {
        RowInput {
            record: record.as_ref(),
            value: &value,
            conflicts: Some(0),
            changed_ms,
        }
    } else {
        RowInput::from_doc(d, &value, record.as_ref(), changed_ms)
    };
    write_row(tx, id, &input)?;
    Ok(outcome)
}

/// Who wrote the changes [`append_changes`] stores.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// This device: the record is pending again and any refusal is cleared (same statement).
    Local,
    /// Elsewhere: the caller sets `pending` and `synced_heads` itself.
    Remote,
}

fn append_changes(
    tx: &Transaction<'_>,
    id: &str,
    bytes: &[u8],
    d: &mut RecordDoc,
    origin: Origin,
) -> Result<()> {
    let local = origin == Origin::Local;
    if bytes.is_empty() {
        if local {
            tx.prepare_cached(
                "UPDATE docs SET pending = 1, refused_code = NULL, refused_message = NULL
                 WHERE id = ?1",
            )?
            .execute([id])?;
        }
        return Ok(());
    }
    let tail: i64 = tx
        .prepare_cached("SELECT tail FROM docs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    // A snapshot holds only applied changes: while some wait for dependencies, keep the tail.
    let waiting = !d.automerge().get_missing_deps(&[]).is_empty();
    if tail + 1 >= COMPACT_AFTER && !waiting {
        // The snapshot is replaced: heads that were "the snapshot's" are written out first.
        let synced: String = tx
            .prepare_cached("SELECT synced_heads FROM docs WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        if synced == SNAPSHOT_HEADS {
            let heads = synced_heads_of(tx, id, &synced)?;
            tx.prepare_cached("UPDATE docs SET synced_heads = ?2 WHERE id = ?1")?
                .execute(params![id, to_hex_heads(&heads)])?;
        }
        tx.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?
            .execute([id])?;
        let sql = if local {
            "UPDATE docs SET snapshot = ?2, tail = 0, pending = 1, refused_code = NULL,
                 refused_message = NULL WHERE id = ?1"
        } else {
            "UPDATE docs SET snapshot = ?2, tail = 0 WHERE id = ?1"
        };
        tx.prepare_cached(sql)?.execute(params![id, d.save()])?;
    } else {
        tx.prepare_cached("INSERT INTO doc_changes (doc_id, n, bytes) VALUES (?1, ?2, ?3)")?
            .execute(params![id, tail + 1, bytes])?;
        let sql = if local {
            "UPDATE docs SET tail = ?2, pending = 1, refused_code = NULL, refused_message = NULL
             WHERE id = ?1"
        } else {
            "UPDATE docs SET tail = ?2 WHERE id = ?1"
        };
        tx.prepare_cached(sql)?.execute(params![id, tail + 1])?;
    }
    Ok(())
}

/// What a record's row is written from. Callers pass what they already know, so a save
/// does not re-read the document it just wrote.
struct RowInput<'a> {
    /// The record, when this version understands it.
    record: Option<&'a Record>,
    /// The document's value (read when this version does not understand the record).
    value: &'a Value,
    /// Unsettled conflicts; `None` keeps the stored count (a local edit adds none).
    conflicts: Option<u32>,
    /// The newest time among the changes being written; the row keeps the newest ever seen.
    changed_ms: i64,
}

impl<'a> RowInput<'a> {
    /// Everything read afresh from the document (after a merge from elsewhere).
    fn from_doc(
        d: &mut RecordDoc,
        value: &'a Value,
        record: Option<&'a Record>,
        changed_ms: i64,
    ) -> Self {
        RowInput {
            record,
            value,
            conflicts: Some(u32::try_from(d.conflicts().len()).unwrap_or(u32::MAX)),
            changed_ms,
        }
    }
}

/// A record's columns in `records`, borrowed from a summary.
struct RowColumns<'a> {
    kind: &'a str,
    /// Street, community, grid.
    territory: [&'a str; 3],
    title: &'a str,
    status: &'a str,
    level: Option<&'a str>,
    resolved_at: Option<&'a str>,
    created_at: Option<DateTime<Utc>>,
    created_by: &'a str,
    search: &'a str,
}

/// Writes a record's row: `summary` is its summary's JSON; `conflicts` `None` keeps the
/// stored count; the row keeps the newest `changed_ms` it has seen.
fn upsert_row(
    tx: &Transaction<'_>,
    id: &str,
    c: &RowColumns<'_>,
    changed_ms: i64,
    conflicts: Option<u32>,
    summary: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO records (id, kind, street, community, grid, title, status, level, resolved_at,
             created_at, created_day, created_by, updated_ms, conflicts, search, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, COALESCE(?14, 0), ?15, ?16)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, street = excluded.street,
             community = excluded.community, grid = excluded.grid, title = excluded.title,
             status = excluded.status, level = excluded.level, resolved_at = excluded.resolved_at,
             created_at = excluded.created_at, created_day = excluded.created_day,
             created_by = excluded.created_by,
             updated_ms = max(records.updated_ms, excluded.updated_ms),
             conflicts = COALESCE(?14, records.conflicts), search = excluded.search,
             summary = excluded.summary",
    )?
    .execute(params![
        id,
        c.kind,
        c.territory[0],
        c.territory[1],
        c.territory[2],
        c.title,
        c.status,
        c.level,
        c.resolved_at,
        c.created_at.map(|t| t.to_rfc3339()),
        c.created_at.map(|t| t.date_naive().to_string()),
        c.created_by,
        changed_ms,
        conflicts,
        c.search,
        summary,
    ])?;
    Ok(())
}

fn write_row(tx: &Transaction<'_>, id: &str, input: &RowInput<'_>) -> Result<Summary> {
    let s = match input.record {
        Some(r) => summary::summarize_record(r),
        None => summary::summarize(input.value),
    };
    let level = s.level.and_then(|l| serde_json::to_value(l).ok());
    let resolved = s.resolved_at.and_then(|l| serde_json::to_value(l).ok());
    let columns = RowColumns {
        kind: &s.kind,
        territory: [
            &s.territory.street,
            &s.territory.community,
            &s.territory.grid,
        ],
        title: &s.title,
        status: &s.status,
        level: level.as_ref().and_then(Value::as_str),
        resolved_at: resolved.as_ref().and_then(Value::as_str),
        created_at: s.created_at,
        created_by: &s.created_by,
        search: &s.search,
    };
    let summary = serde_json::to_string(&s).map_err(json_err)?;
    upsert_row(
        tx,
        id,
        &columns,
        input.changed_ms,
        input.conflicts,
        &summary,
    )?;
    match input.record {
        Some(r) => crate::report::db::write_record_facts(tx, id, Some(r))?,
        None => crate::report::db::write_facts(tx, id, input.value)?,
    }
    Ok(s)
}

const ROW_SELECT: &str =
    "SELECT r.summary, r.updated_ms, r.conflicts, d.pending, d.refused_code, d.refused_message
    FROM records r JOIN docs d ON d.id = r.id";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<RecordRow>> {
    let summary: String = r.get(0)?;
    let code: Option<String> = r.get(4)?;
    let message: Option<String> = r.get(5)?;
    let row = serde_json::from_str(&summary)
        .map_err(json_err)
        .map(|summary| RecordRow {
            summary,
            updated_ms: r.get(1).unwrap_or_default(),
            conflicts: r.get(2).unwrap_or_default(),
            pending: r.get(3).unwrap_or_default(),
            refused: code.map(|code| Refusal {
                code,
                message: message.unwrap_or_default(),
            }),
        });
    Ok(row)
}
