//! The storage interface and its two implementations: SQLite (default) and PostgreSQL.
//!
//! Both keep the same tables: `meta` (log head, compaction floor, server id), `users`,
//! `devices`, `territory`, `docs` (each record's whole document and materialized row), `log`
//! (the server-ordered change log, with the scope columns of the record at the time), and
//! `attachments` / `attachment_chunks`. Nothing about sync lives in process memory.
//!
//! The ordering rule the protocol rests on: a push takes its sequence numbers under a row
//! lock on the head counter as the last step before commit, so log entries become visible in
//! sequence order and a pull's cursor never skips one.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use gridwork_schema::Role;
use gridwork_schema::wire::{DocOutcome, DocPush, DocResult, RefusalCode};

use crate::config::DatabaseConfig;
use crate::error::StoreError;

pub mod postgres;
pub mod sqlite;

/// A boxed future, so that [`Storage`] can be used as `Arc<dyn Storage>`.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A staff account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Account id (UUID v7), what records name.
    pub id: String,
    /// Login name.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Territory scope code.
    pub scope: String,
    /// Department of a department liaison.
    pub department: Option<String>,
    /// Disabled accounts cannot log in, and their devices' tokens stop working.
    pub disabled: bool,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name (unique).
    pub login: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Territory scope code.
    pub scope: String,
    /// Department of a department liaison.
    pub department: Option<String>,
    /// Argon2 PHC string.
    pub password_hash: String,
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The device's own id.
    pub id: String,
    /// Its user's login.
    pub user_login: String,
    /// A human name.
    pub name: String,
    /// App version at its last login.
    pub app_version: String,
    /// Revoked devices' tokens stop working.
    pub revoked: bool,
    /// Last login (Unix ms).
    pub registered_ms: i64,
    /// Last request, to the minute (Unix ms).
    pub last_seen_ms: i64,
}

/// Who a valid bearer token belongs to.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user (enabled).
    pub user: UserRecord,
    /// The device (not revoked).
    pub device_id: String,
    /// When the device was last seen (Unix ms).
    pub last_seen_ms: i64,
}

/// A territory unit as stored by `registry import`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    /// Code.
    pub code: String,
    /// Level (`district`, `street`, `zone`, `community`, `grid`).
    pub level: String,
    /// Chinese name.
    pub name: String,
    /// Parent code.
    pub parent: Option<String>,
    /// Zone code.
    pub zone: Option<String>,
}

/// A record's materialized row on the server: what scope filtering reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocRow {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// Street code or empty.
    pub street: String,
    /// Community code or empty.
    pub community: String,
    /// Grid code or empty.
    pub grid: String,
    /// The deepest code of the path (the district code for district-level records).
    pub path: String,
    /// Derived status.
    pub status: String,
    /// Extra principals who may see it (`dept:<name>`, `user:<id>`).
    pub principals: Vec<String>,
}

/// What a push does to one stored document.
#[derive(Debug, Clone)]
pub struct DocWrite {
    /// The new materialized row.
    pub row: DocRow,
    /// The whole merged document.
    pub bytes: Vec<u8>,
    /// The newly merged changes, appended to the log.
    pub changes: Vec<u8>,
    /// The document as read (`schema::wire::Materialized` as JSON), handed on with it whole.
    pub materialized: Option<String>,
    /// The record's report facts (`None`: it has none, e.g. a draft; any old row goes).
    pub facts: Option<crate::report::FactsRow>,
}

/// The verdict on one pushed document, reached after merging.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Nothing changes; the device is told why.
    Refused {
        /// Why.
        code: RefusalCode,
        /// Chinese message.
        message_zh: String,
        /// English message.
        message_en: String,
    },
    /// Nothing new merged (a re-push): nothing is written.
    Unchanged {
        /// The server's heads.
        heads: Vec<String>,
    },
    /// Store the document and append its new changes to the log.
    Write {
        /// What to store.
        write: DocWrite,
        /// The heads after the merge.
        heads: Vec<String>,
    },
}

/// Decides one pushed document given the stored bytes (if any). CPU work: storage runs it
/// off the async threads, inside the push's transaction.
pub type Decider = Arc<dyn Fn(&DocPush, Option<&[u8]>) -> Decision + Send + Sync>;

/// What a user may read: records under a territory code, and records naming a principal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeFilter {
    /// Territory code whose records are visible (`None`: none by territory).
    pub territory: Option<String>,
    /// Principals (`dept:<name>`, `user:<id>`) whose records are visible.
    pub principals: Vec<String>,
}

/// One log entry.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// Sequence number.
    pub seq: u64,
    /// Record id.
    pub doc_id: String,
    /// Record kind.
    pub kind: String,
    /// Change bytes.
    pub bytes: Vec<u8>,
}

/// One whole document.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// The whole document.
    pub bytes: Vec<u8>,
    /// The last log sequence number that changed it.
    pub last_seq: u64,
    /// The document as read when it was stored (JSON), if it was stored by a server that
    /// keeps it.
    pub materialized: Option<String>,
}

impl StoredDoc {
    /// What it adds to a page's size: its bytes and its materialized value.
    pub fn size(&self) -> usize {
        self.bytes.len() + self.materialized.as_ref().map_or(0, String::len)
    }
}

/// A page of log entries or documents, read in one consistent snapshot.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in sequence order.
    pub items: Vec<T>,
    /// The cursor that covers this page.
    pub cursor: u64,
    /// Whether more items wait after `cursor`.
    pub more: bool,
}

/// Head and compaction floor of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogState {
    /// The last sequence number handed out.
    pub head: u64,
    /// Log entries at or below this were dropped by compaction.
    pub floor: u64,
}

/// How much of an attachment the server holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentState {
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Declared total length.
    pub length: u64,
    /// Bytes held.
    pub received: u64,
    /// Verified and readable.
    pub complete: bool,
}

/// How a page read is bounded.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Most items.
    pub items: usize,
    /// Stop adding items past this many payload bytes (at least one item is returned).
    pub bytes: usize,
}

/// The server's state, in SQLite or PostgreSQL.
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// The server's id (random, made at `init`; renewed by `restore`).
    fn server_id(&self) -> BoxFut<'_, String>;

    /// Adds an account.
    fn add_user(&self, user: NewUser) -> BoxFut<'_, UserRecord>;
    /// An account and its password hash, by login.
    fn user_by_login(&self, login: &str) -> BoxFut<'_, Option<(UserRecord, String)>>;
    /// Disables (or re-enables) an account; false if there is none.
    fn set_user_disabled(&self, login: &str, disabled: bool) -> BoxFut<'_, bool>;
    /// Every account.
    fn list_users(&self) -> BoxFut<'_, Vec<UserRecord>>;

    /// Registers (or re-registers) a device for a user with a new token hash; false (and
    /// nothing changed) when the device was revoked, which is for good.
    fn register_device(
        &self,
        device_id: &str,
        user_id: &str,
        name: &str,
        app_version: &str,
        token_sha256: [u8; 32],
    ) -> BoxFut<'_, bool>;
    /// The enabled user and unrevoked device a token hash belongs to.
    fn authenticate(&self, token_sha256: [u8; 32]) -> BoxFut<'_, Option<Authenticated>>;
    /// Records that a device was seen now.
    fn touch_device(&self, device_id: &str, now_ms: i64) -> BoxFut<'_, ()>;
    /// Every device.
    fn list_devices(&self) -> BoxFut<'_, Vec<DeviceRecord>>;
    /// Revokes a device; false if there is none.
    fn revoke_device(&self, device_id: &str) -> BoxFut<'_, bool>;

    /// Adds or replaces territory units; returns how many.
    fn import_units(&self, units: Vec<UnitRow>) -> BoxFut<'_, usize>;
    /// Whether the unit exists, or the registry is empty (`None`).
    fn unit_exists(&self, code: &str) -> BoxFut<'_, Option<bool>>;

    /// Applies a push batch in one transaction: loads each document, lets `decide` merge and
    /// check it, stores the accepted ones and appends their new changes to the log.
    fn push(&self, docs: Vec<DocPush>, decide: Decider) -> BoxFut<'_, Vec<DocResult>>;
    /// Log entries after `after` visible through `filter`, in sequence order; `None` when
    /// `after` lies behind the compaction floor (checked in the same snapshot as the read).
    fn pull_log(
        &self,
        after: u64,
        filter: &ScopeFilter,
        limits: PageLimits,
    ) -> BoxFut<'_, Option<Page<LogEntry>>>;
    /// Whole documents whose last change is after `after`, visible through `filter`, in
    /// order of their last change.
    fn pull_docs(
        &self,
        after: u64,
        filter: &ScopeFilter,
        limits: PageLimits,
    ) -> BoxFut<'_, Page<StoredDoc>>;
    /// Whole documents by id, visible through `filter`.
    fn get_docs(&self, ids: Vec<String>, filter: &ScopeFilter) -> BoxFut<'_, Vec<StoredDoc>>;
    /// Head and floor of the log.
    fn log_state(&self) -> BoxFut<'_, LogState>;
    /// Drops log entries at or below `floor` (capped at the head); returns the new state.
    fn compact(&self, floor: u64) -> BoxFut<'_, LogState>;

    /// How much of an attachment is held.
    fn attachment_state(&self, sha256: &str) -> BoxFut<'_, Option<AttachmentState>>;
    /// Appends a chunk at `offset`; verifies the hash when the length is reached.
    fn attachment_append(
        &self,
        sha256: &str,
        length: u64,
        offset: u64,
        chunk: Vec<u8>,
    ) -> BoxFut<'_, AttachmentState>;
    /// Reads `start..end` of a complete attachment.
    fn attachment_read(&self, sha256: &str, start: u64, end: u64) -> BoxFut<'_, Vec<u8>>;

    /// Copies the database to a file (SQLite only).
    fn backup(&self, to: &std::path::Path) -> BoxFut<'_, ()>;

    /// Sends the report facts of `scan` to `sink`, read in one snapshot; stops early (with
    /// success) when the receiver is gone.
    fn scan_facts(
        &self,
        scan: crate::report::FactsScan,
        sink: crate::report::FactsSink,
    ) -> BoxFut<'_, ()>;
}

/// Opens (and initializes, idempotently) the configured storage.
pub async fn open_storage(
    db: &DatabaseConfig,
    pg_pool_size: usize,
) -> Result<Arc<dyn Storage>, StoreError> {
    Ok(match db {
        DatabaseConfig::Sqlite(path) => Arc::new(sqlite::SqliteStorage::open(path).await?),
        DatabaseConfig::Postgres(url) => {
            Arc::new(postgres::PgStorage::open(url, pg_pool_size).await?)
        }
    })
}

/// One pushed document's verdict: its result, and what to write when it was accepted with
/// something new.
#[derive(Debug)]
pub(crate) struct Decided {
    pub(crate) result: DocResult,
    pub(crate) write: Option<DocWrite>,
}

/// Runs `decide` over a batch in order, threading each document's bytes through repeats of
/// its id. Returns one verdict per document, in order.
pub(crate) fn run_decisions(
    docs: &[DocPush],
    mut stored: HashMap<String, Vec<u8>>,
    decide: &Decider,
) -> Vec<Decided> {
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        let (outcome, write) = match decide(d, stored.get(&d.id).map(Vec::as_slice)) {
            Decision::Refused {
                code,
                message_zh,
                message_en,
            } => (
                DocOutcome::Refused {
                    code,
                    message_zh,
                    message_en,
                },
                None,
            ),
            Decision::Unchanged { heads } => (DocOutcome::Accepted { heads }, None),
            Decision::Write { write, heads } => {
                stored.insert(d.id.clone(), write.bytes.clone());
                (DocOutcome::Accepted { heads }, Some(write))
            }
        };
        out.push(Decided {
            result: DocResult {
                id: d.id.clone(),
                outcome,
            },
            write,
        });
    }
    out
}

/// Splits verdicts into the per-document results and the writes, both in order.
pub(crate) fn split_decisions(decided: Vec<Decided>) -> (Vec<DocResult>, Vec<DocWrite>) {
    let mut results = Vec::with_capacity(decided.len());
    let mut writes = Vec::new();
    for d in decided {
        results.push(d.result);
        writes.extend(d.write);
    }
    (results, writes)
}

/// Principals as stored: `|a|b|` so that `|a|` finds one exactly.
pub(crate) fn join_principals(p: &[String]) -> String {
    let mut s = String::from("|");
    for x in p {
        s.push_str(&x.replace('|', "/"));
        s.push('|');
    }
    s
}

/// A principal as searched for in the stored column.
pub(crate) fn principal_needle(p: &str) -> String {
    format!("|{}|", p.replace('|', "/"))
}

/// Which column a territory scope code compares against: equality on the level's column
/// (indexed), or a prefix on `path` for codes of no standard length.
pub(crate) enum TerritoryMatch<'a> {
    /// Every record.
    All,
    /// `column = code`.
    Column(&'static str, &'a str),
    /// `path` starts with the code.
    Prefix(&'a str),
}

pub(crate) fn territory_match(code: &str) -> TerritoryMatch<'_> {
    if code == gridwork_schema::territory::DISTRICT_CODE {
        return TerritoryMatch::All;
    }
    match code.len() {
        9 => TerritoryMatch::Column("street", code),
        12 => TerritoryMatch::Column("community", code),
        15 => TerritoryMatch::Column("grid", code),
        _ => TerritoryMatch::Prefix(code),
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A fresh random server id.
pub(crate) fn new_server_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Converts a stored non-negative integer.
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Converts to a stored integer.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Parses a stored role name.
pub(crate) fn parse_role(s: &str) -> Result<Role, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Damaged(format!("unknown role {s:?}")))
}

/// A role's stored name.
pub(crate) fn role_name(r: Role) -> String {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// SQL dialect details that differ between SQLite and PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The `WHERE` fragment for a scope filter, with its parameters (numbered from `first`).
pub(crate) fn filter_clause(
    filter: &ScopeFilter,
    first: usize,
    dialect: Dialect,
) -> (String, Vec<String>) {
    let ph = |n: usize| match dialect {
        Dialect::Sqlite => format!("?{n}"),
        Dialect::Postgres => format!("${n}"),
    };
    let mut parts = Vec::new();
    let mut params = Vec::new();
    if let Some(code) = &filter.territory {
        match territory_match(code) {
            TerritoryMatch::All => parts.push("1 = 1".to_owned()),
            TerritoryMatch::Column(col, c) => {
                params.push(c.to_owned());
                parts.push(format!("{col} = {}", ph(first + params.len() - 1)));
            }
            TerritoryMatch::Prefix(c) => {
                params.push(c.to_owned());
                let p = ph(first + params.len() - 1);
                parts.push(match dialect {
                    Dialect::Sqlite => format!("substr(path, 1, length({p})) = {p}"),
                    Dialect::Postgres => format!("left(path, length({p})) = {p}"),
                });
            }
        }
    }
    for pr in &filter.principals {
        params.push(principal_needle(pr));
        let p = ph(first + params.len() - 1);
        parts.push(match dialect {
            Dialect::Sqlite => format!("instr(principals, {p}) > 0"),
            Dialect::Postgres => format!("strpos(principals, {p}) > 0"),
        });
    }
    if parts.is_empty() {
        return ("1 = 0".to_owned(), params);
    }
    (format!("({})", parts.join(" OR ")), params)
}

/// Collects a page: stops at the item limit, or once the byte budget would be exceeded
/// (always taking at least one item).
pub(crate) struct PageBuilder<T> {
    items: Vec<T>,
    bytes: usize,
    limits: PageLimits,
    last: u64,
    more: bool,
}

impl<T> PageBuilder<T> {
    pub(crate) fn new(limits: PageLimits) -> Self {
        Self {
            items: Vec::new(),
            bytes: 0,
            limits,
            last: 0,
            more: false,
        }
    }

    /// Offers the next row; false when the page is full (and more is waiting).
    pub(crate) fn offer(&mut self, seq: u64, size: usize, item: T) -> bool {
        let full = self.items.len() >= self.limits.items.max(1)
            || (!self.items.is_empty() && self.bytes.saturating_add(size) > self.limits.bytes);
        if full {
            self.more = true;
            return false;
        }
        self.items.push(item);
        self.bytes += size;
        self.last = seq;
        true
    }

    /// The page. `head` was read in the same snapshot as the rows: when nothing more is
    /// waiting, the page covers everything up to it.
    pub(crate) fn finish(self, head: u64) -> Page<T> {
        Page {
            cursor: if self.more { self.last } else { head },
            more: self.more,
            items: self.items,
        }
    }
}
