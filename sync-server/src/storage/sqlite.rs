//! SQLite storage: one file in WAL mode. Writes go through one connection (SQLite has one
//! writer anyway), reads through a small pool; all of it on blocking threads.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use gridwork_schema::wire::{DocPush, DocResult};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use sha2::Digest;

use super::{
    AttachmentState, Authenticated, BoxFut, Decider, DeviceRecord, Dialect, DocWrite, LogEntry,
    LogState, NewUser, Page, PageBuilder, PageLimits, ScopeFilter, Storage, StoredDoc, UnitRow,
    UserRecord, filter_clause, join_principals, new_server_id, now_ms, parse_role, role_name,
    run_decisions, split_decisions, to_i64, to_u64,
};
use crate::error::{AttachmentError, StoreError};
use crate::report::{
    FACTS_VERSION_KEY, FILL_BATCH, FactsRow, FactsScan, FactsSink, decode, facts_version,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    head INTEGER NOT NULL,
    floor INTEGER NOT NULL,
    server_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    department TEXT,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    app_version TEXT NOT NULL,
    token_sha256 BLOB NOT NULL UNIQUE,
    revoked INTEGER NOT NULL DEFAULT 0,
    registered_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS territory (
    code TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT,
    zone TEXT
);
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    grid TEXT NOT NULL,
    path TEXT NOT NULL,
    status TEXT NOT NULL,
    principals TEXT NOT NULL,
    bytes BLOB NOT NULL,
    last_seq INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    materialized TEXT
);
CREATE INDEX IF NOT EXISTS docs_last_seq ON docs(last_seq);
CREATE INDEX IF NOT EXISTS docs_street ON docs(street, last_seq);
CREATE INDEX IF NOT EXISTS docs_community ON docs(community, last_seq);
CREATE INDEX IF NOT EXISTS docs_grid ON docs(grid, last_seq);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    grid TEXT NOT NULL,
    path TEXT NOT NULL,
    principals TEXT NOT NULL,
    bytes BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS log_street ON log(street, seq);
CREATE INDEX IF NOT EXISTS log_community ON log(community, seq);
CREATE INDEX IF NOT EXISTS log_grid ON log(grid, seq);
CREATE TABLE IF NOT EXISTS attachments (
    sha256 TEXT PRIMARY KEY,
    length INTEGER NOT NULL,
    received INTEGER NOT NULL,
    complete INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS attachment_chunks (
    sha256 TEXT NOT NULL,
    offset INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (sha256, offset)
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Report facts (see `crate::report`): one row per record that counts in any figure.
CREATE TABLE IF NOT EXISTS report_facts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    grid TEXT NOT NULL,
    day TEXT NOT NULL,
    until TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS report_facts_until ON report_facts(until);
CREATE INDEX IF NOT EXISTS report_facts_street ON report_facts(street, until);
CREATE INDEX IF NOT EXISTS report_facts_community ON report_facts(community, until);
CREATE INDEX IF NOT EXISTS report_facts_grid ON report_facts(grid, until);
";

/// Most idle reader connections kept open.
const MAX_IDLE_READERS: usize = 8;

/// The SQLite storage.
#[derive(Clone)]
pub struct SqliteStorage {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn task_err(e: tokio::task::JoinError) -> StoreError {
    StoreError::Task(e.to_string())
}

impl SqliteStorage {
    /// Opens (creating and initializing if needed) the database file.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path))
            .await
            .map_err(task_err)?
    }

    fn open_blocking(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let conn = connect(path)?;
        conn.execute_batch(SCHEMA)?;
        // A database from before documents kept their materialized value: the column is
        // added empty, and those documents are pulled without it until they next change.
        let has_materialized: bool = conn.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('docs') WHERE name = 'materialized'",
            [],
            |r| r.get(0),
        )?;
        if !has_materialized {
            conn.execute_batch("ALTER TABLE docs ADD COLUMN materialized TEXT")?;
        }
        conn.execute(
            "INSERT OR IGNORE INTO meta (id, head, floor, server_id, created_ms)
             VALUES (1, 0, 0, ?1, ?2)",
            params![new_server_id(), now_ms()],
        )?;
        let mut conn = conn;
        fill_facts(&mut conn)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(conn),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(task_err)?
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => connect(&inner.path)?,
            };
            let out = f(&mut conn);
            let mut readers = inner.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if readers.len() < MAX_IDLE_READERS {
                readers.push(conn);
            }
            out
        })
        .await
        .map_err(task_err)?
    }
}

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(UserRecord, String, String)> {
    Ok((
        UserRecord {
            id: row.get(0)?,
            login: row.get(1)?,
            name: row.get(2)?,
            role: gridwork_schema::Role::Admin, // replaced by the caller from column 3
            scope: row.get(4)?,
            department: row.get(5)?,
            disabled: row.get(6)?,
        },
        row.get(3)?,
        row.get(7)?,
    ))
}

const USER_COLS: &str = "id, login, name, role, scope, department, disabled, password_hash";

fn finish_user(
    (mut u, role, hash): (UserRecord, String, String),
) -> Result<(UserRecord, String), StoreError> {
    u.role = parse_role(&role)?;
    Ok((u, hash))
}

fn log_state(conn: &Connection) -> Result<LogState, StoreError> {
    Ok(
        conn.query_row("SELECT head, floor FROM meta WHERE id = 1", [], |r| {
            Ok(LogState {
                head: to_u64(r.get(0)?),
                floor: to_u64(r.get(1)?),
            })
        })?,
    )
}

fn attachment_state(
    conn: &Connection,
    sha256: &str,
) -> Result<Option<AttachmentState>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT length, received, complete FROM attachments WHERE sha256 = ?1",
            [sha256],
            |r| {
                Ok(AttachmentState {
                    sha256: sha256.to_owned(),
                    length: to_u64(r.get(0)?),
                    received: to_u64(r.get(1)?),
                    complete: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Hashes the held chunks of an attachment, in order.
fn hash_chunks(conn: &Connection, sha256: &str) -> Result<String, StoreError> {
    let mut stmt =
        conn.prepare("SELECT bytes FROM attachment_chunks WHERE sha256 = ?1 ORDER BY offset")?;
    let mut rows = stmt.query([sha256])?;
    let mut h = sha2::Sha256::new();
    while let Some(row) = rows.next()? {
        let chunk: Vec<u8> = row.get(0)?;
        h.update(&chunk);
    }
    Ok(hex::encode(h.finalize()))
}

/// Writes (or, for `None`, removes) the report facts of document `id`.
fn write_facts(conn: &Connection, id: &str, facts: Option<&FactsRow>) -> Result<(), StoreError> {
    match facts {
        Some(f) => {
            conn.prepare_cached(
                "INSERT INTO report_facts (id, kind, street, community, grid, day, until, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, street = excluded.street,
                    community = excluded.community, grid = excluded.grid, day = excluded.day,
                    until = excluded.until, data = excluded.data",
            )?
            .execute(params_from_iter(f.columns()))?;
        }
        None => {
            conn.prepare_cached("DELETE FROM report_facts WHERE id = ?1")?
                .execute([id])?;
        }
    }
    Ok(())
}

/// Makes sure every document has report facts of this version: documents written before
/// the table existed get theirs, a marker of another version rebuilds all. Batches of
/// documents, each in its own write transaction, so pushes interleave and memory stays flat;
/// an interrupted fill resumes where it stopped.
fn fill_facts(conn: &mut Connection) -> Result<(), StoreError> {
    let version = facts_version();
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [FACTS_VERSION_KEY],
            |r| r.get(0),
        )
        .optional()?;
    if stored.as_deref() == Some(version.as_str()) {
        return Ok(());
    }
    if stored.is_some() {
        conn.execute("DELETE FROM report_facts", [])?;
    }
    let (mut after, mut filled) = (String::new(), 0u64);
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let batch: Vec<(String, Vec<u8>)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT d.id, d.bytes FROM docs d
                 WHERE d.id > ?1 AND NOT EXISTS (SELECT 1 FROM report_facts f WHERE f.id = d.id)
                 ORDER BY d.id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, to_i64(FILL_BATCH as u64)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let Some((last, _)) = batch.last() else {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [FACTS_VERSION_KEY, version.as_str()],
            )?;
            tx.commit()?;
            break;
        };
        after.clone_from(last);
        for (id, bytes) in &batch {
            if let Some(f) = crate::report::facts_of_bytes(id, bytes) {
                write_facts(&tx, id, Some(&f))?;
                filled += 1;
            }
        }
        tx.commit()?;
    }
    if filled > 0 {
        tracing::info!(records = filled, "report facts filled in");
    }
    Ok(())
}

/// Each id's stored bytes and `last_seq`, `None` for a document that does not exist.
type StoredRows = HashMap<String, Option<(Vec<u8>, i64)>>;

/// The stored bytes and `last_seq` of the documents `ids`.
fn load_stored(conn: &Connection, ids: &[String]) -> Result<StoredRows, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT bytes, last_seq FROM docs WHERE id = ?1")?;
    let mut out = HashMap::with_capacity(ids.len());
    for id in ids {
        let row = stmt
            .query_row([id], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))
            .optional()?;
        out.insert(id.clone(), row);
    }
    Ok(out)
}

/// Splits what [`load_stored`] read into each id's version (its `last_seq`, `None` when it
/// does not exist: every write gives a document a new, higher one) and the bytes.
fn split_stored(read: StoredRows) -> (HashMap<String, Option<i64>>, HashMap<String, Vec<u8>>) {
    let mut seen = HashMap::with_capacity(read.len());
    let mut bytes = HashMap::with_capacity(read.len());
    for (id, row) in read {
        match row {
            Some((b, seq)) => {
                seen.insert(id.clone(), Some(seq));
                bytes.insert(id, b);
            }
            None => {
                seen.insert(id, None);
            }
        }
    }
    (seen, bytes)
}

/// Stores the accepted documents and appends their changes to the log, taking the sequence
/// numbers last, just before the caller commits.
fn write_decided(tx: &Connection, writes: &[DocWrite]) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Ok(());
    }
    let head = log_state(tx)?.head;
    let now = now_ms();
    let mut log_stmt = tx.prepare_cached(
        "INSERT INTO log (seq, doc_id, kind, street, community, grid, path,
                          principals, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut doc_stmt = tx.prepare_cached(
        "INSERT INTO docs (id, kind, street, community, grid, path, status,
                           principals, bytes, last_seq, updated_ms, materialized)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind,
            street = excluded.street, community = excluded.community,
            grid = excluded.grid, path = excluded.path, status = excluded.status,
            principals = excluded.principals, bytes = excluded.bytes,
            last_seq = excluded.last_seq, updated_ms = excluded.updated_ms,
            materialized = excluded.materialized",
    )?;
    for (i, w) in writes.iter().enumerate() {
        let seq = to_i64(head) + 1 + to_i64(i as u64);
        let r = &w.row;
        let principals = join_principals(&r.principals);
        log_stmt.execute(params![
            seq,
            r.id,
            r.kind,
            r.street,
            r.community,
            r.grid,
            r.path,
            principals,
            w.changes
        ])?;
        doc_stmt.execute(params![
            r.id,
            r.kind,
            r.street,
            r.community,
            r.grid,
            r.path,
            r.status,
            principals,
            w.bytes,
            seq,
            now,
            w.materialized
        ])?;
        write_facts(tx, &r.id, w.facts.as_ref())?;
    }
    tx.execute(
        "UPDATE meta SET head = head + ?1 WHERE id = 1",
        [to_i64(writes.len() as u64)],
    )?;
    Ok(())
}

impl Storage for SqliteStorage {
    fn server_id(&self) -> BoxFut<'_, String> {
        Box::pin(self.read(|c| {
            Ok(c.query_row("SELECT server_id FROM meta WHERE id = 1", [], |r| r.get(0))?)
        }))
    }

    fn add_user(&self, user: NewUser) -> BoxFut<'_, UserRecord> {
        Box::pin(self.write(move |c| {
            let id = uuid::Uuid::now_v7().to_string();
            let res = c.execute(
                "INSERT INTO users (id, login, name, role, scope, department, password_hash,
                                    disabled, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
                params![
                    id,
                    user.login,
                    user.name,
                    role_name(user.role),
                    user.scope,
                    user.department,
                    user.password_hash,
                    now_ms()
                ],
            );
            match res {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    return Err(StoreError::Conflict(format!("login {:?}", user.login)));
                }
                other => other?,
            };
            Ok(UserRecord {
                id,
                login: user.login,
                name: user.name,
                role: user.role,
                scope: user.scope,
                department: user.department,
                disabled: false,
            })
        }))
    }

    fn user_by_login(&self, login: &str) -> BoxFut<'_, Option<(UserRecord, String)>> {
        let login = login.to_owned();
        Box::pin(self.read(move |c| {
            let row = c
                .query_row(
                    &format!("SELECT {USER_COLS} FROM users WHERE login = ?1"),
                    [login],
                    user_from_row,
                )
                .optional()?;
            row.map(finish_user).transpose()
        }))
    }

    fn set_user_disabled(&self, login: &str, disabled: bool) -> BoxFut<'_, bool> {
        let login = login.to_owned();
        Box::pin(self.write(move |c| {
            Ok(c.execute(
                "UPDATE users SET disabled = ?2 WHERE login = ?1",
                params![login, disabled],
            )? > 0)
        }))
    }

    fn list_users(&self) -> BoxFut<'_, Vec<UserRecord>> {
        Box::pin(self.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY login"))?;
            let rows = stmt.query_map([], user_from_row)?;
            rows.map(|r| Ok(finish_user(r?)?.0)).collect()
        }))
    }

    fn register_device(
        &self,
        device_id: &str,
        user_id: &str,
        name: &str,
        app_version: &str,
        token_sha256: [u8; 32],
    ) -> BoxFut<'_, bool> {
        let (device_id, user_id, name, app_version) = (
            device_id.to_owned(),
            user_id.to_owned(),
            name.to_owned(),
            app_version.to_owned(),
        );
        Box::pin(self.write(move |c| {
            let now = now_ms();
            let changed = c.execute(
                "INSERT INTO devices (id, user_id, name, app_version, token_sha256, revoked,
                                      registered_ms, last_seen_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)
                 ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id,
                    name = excluded.name, app_version = excluded.app_version,
                    token_sha256 = excluded.token_sha256, registered_ms = excluded.registered_ms,
                    last_seen_ms = excluded.last_seen_ms
                 WHERE devices.revoked = 0",
                params![
                    device_id,
                    user_id,
                    name,
                    app_version,
                    &token_sha256[..],
                    now
                ],
            )?;
            Ok(changed > 0)
        }))
    }

    fn authenticate(&self, token_sha256: [u8; 32]) -> BoxFut<'_, Option<Authenticated>> {
        Box::pin(self.read(move |c| {
            let row = c
                .query_row(
                    "SELECT u.id, u.login, u.name, u.role, u.scope, u.department, u.disabled,
                            u.password_hash, d.id, d.last_seen_ms
                     FROM devices d JOIN users u ON u.id = d.user_id
                     WHERE d.token_sha256 = ?1 AND d.revoked = 0 AND u.disabled = 0",
                    [&token_sha256[..]],
                    |r| Ok((user_from_row(r)?, r.get::<_, String>(8)?, r.get(9)?)),
                )
                .optional()?;
            match row {
                None => Ok(None),
                Some((u, device_id, last_seen_ms)) => Ok(Some(Authenticated {
                    user: finish_user(u)?.0,
                    device_id,
                    last_seen_ms,
                })),
            }
        }))
    }

    fn touch_device(&self, device_id: &str, now_ms: i64) -> BoxFut<'_, ()> {
        let device_id = device_id.to_owned();
        Box::pin(self.write(move |c| {
            c.execute(
                "UPDATE devices SET last_seen_ms = ?2 WHERE id = ?1",
                params![device_id, now_ms],
            )?;
            Ok(())
        }))
    }

    fn list_devices(&self) -> BoxFut<'_, Vec<DeviceRecord>> {
        Box::pin(self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT d.id, u.login, d.name, d.app_version, d.revoked, d.registered_ms,
                        d.last_seen_ms
                 FROM devices d JOIN users u ON u.id = d.user_id ORDER BY u.login, d.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(DeviceRecord {
                    id: r.get(0)?,
                    user_login: r.get(1)?,
                    name: r.get(2)?,
                    app_version: r.get(3)?,
                    revoked: r.get(4)?,
                    registered_ms: r.get(5)?,
                    last_seen_ms: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        }))
    }

    fn revoke_device(&self, device_id: &str) -> BoxFut<'_, bool> {
        let device_id = device_id.to_owned();
        Box::pin(self.write(move |c| {
            Ok(c.execute("UPDATE devices SET revoked = 1 WHERE id = ?1", [device_id])? > 0)
        }))
    }

    fn import_units(&self, units: Vec<UnitRow>) -> BoxFut<'_, usize> {
        Box::pin(self.write(move |c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare(
                    "INSERT INTO territory (code, level, name, parent, zone)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (code) DO UPDATE SET level = excluded.level,
                        name = excluded.name, parent = excluded.parent, zone = excluded.zone",
                )?;
                for u in &units {
                    stmt.execute(params![u.code, u.level, u.name, u.parent, u.zone])?;
                }
            }
            tx.commit()?;
            Ok(units.len())
        }))
    }

    fn unit_exists(&self, code: &str) -> BoxFut<'_, Option<bool>> {
        let code = code.to_owned();
        Box::pin(self.read(move |c| {
            let any: bool =
                c.query_row("SELECT EXISTS (SELECT 1 FROM territory)", [], |r| r.get(0))?;
            if !any {
                return Ok(None);
            }
            let found: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM territory WHERE code = ?1)",
                [code],
                |r| r.get(0),
            )?;
            Ok(Some(found))
        }))
    }

    fn push(&self, docs: Vec<DocPush>, decide: Decider) -> BoxFut<'_, Vec<DocResult>> {
        Box::pin(async move {
            // Merging and checking is nearly all of a push's work, and SQLite has one writer:
            // decide on a snapshot read, off the writer (pushes decide in parallel), then
            // under the writer redo only the documents another push changed meanwhile.
            let ids: Vec<String> = docs
                .iter()
                .map(|d| d.id.clone())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let read = self.read(move |c| load_stored(c, &ids)).await?;
            let (seen, bytes) = split_stored(read);
            let (docs, decided) = tokio::task::spawn_blocking(move || {
                let decided = run_decisions(&docs, bytes, &decide);
                (docs, (decided, decide))
            })
            .await
            .map_err(task_err)?;
            self.write(move |c| {
                let (mut verdicts, decide) = decided;
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let ids: Vec<String> = seen.keys().cloned().collect();
                let (now_seen, now_bytes) = split_stored(load_stored(&tx, &ids)?);
                let changed: HashSet<&String> =
                    ids.iter().filter(|id| now_seen[*id] != seen[*id]).collect();
                if !changed.is_empty() {
                    let (at, again): (Vec<usize>, Vec<DocPush>) = docs
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| changed.contains(&d.id))
                        .map(|(i, d)| (i, d.clone()))
                        .unzip();
                    let redone = run_decisions(&again, now_bytes, &decide);
                    for (i, v) in at.into_iter().zip(redone) {
                        verdicts[i] = v;
                    }
                }
                let (results, writes) = split_decisions(verdicts);
                write_decided(&tx, &writes)?;
                tx.commit()?;
                Ok(results)
            })
            .await
        })
    }

    fn pull_log(
        &self,
        after: u64,
        filter: &ScopeFilter,
        limits: PageLimits,
    ) -> BoxFut<'_, Option<Page<LogEntry>>> {
        let filter = filter.clone();
        Box::pin(self.read(move |c| {
            let tx = c.transaction()?;
            let LogState { head, floor } = log_state(&tx)?;
            if after < floor {
                return Ok(None);
            }
            let (clause, fparams) = filter_clause(&filter, 4, Dialect::Sqlite);
            let sql = format!(
                "SELECT seq, doc_id, kind, bytes FROM log
                 WHERE seq > ?1 AND seq <= ?2 AND {clause} ORDER BY seq LIMIT ?3"
            );
            let mut stmt = tx.prepare(&sql)?;
            let mut p: Vec<rusqlite::types::Value> = vec![
                to_i64(after).into(),
                to_i64(head).into(),
                to_i64(limits.items as u64 + 1).into(),
            ];
            p.extend(fparams.into_iter().map(Into::into));
            let mut rows = stmt.query(params_from_iter(p))?;
            let mut page = PageBuilder::new(limits);
            while let Some(r) = rows.next()? {
                let seq = to_u64(r.get(0)?);
                let bytes: Vec<u8> = r.get(3)?;
                let entry = LogEntry {
                    seq,
                    doc_id: r.get(1)?,
                    kind: r.get(2)?,
                    bytes,
                };
                if !page.offer(seq, entry.bytes.len(), entry) {
                    break;
                }
            }
            Ok(Some(page.finish(head)))
        }))
    }

    fn pull_docs(
        &self,
        after: u64,
        filter: &ScopeFilter,
        limits: PageLimits,
    ) -> BoxFut<'_, Page<StoredDoc>> {
        let filter = filter.clone();
        Box::pin(self.read(move |c| {
            let tx = c.transaction()?;
            let head = log_state(&tx)?.head;
            let (clause, fparams) = filter_clause(&filter, 3, Dialect::Sqlite);
            let sql = format!(
                "SELECT id, kind, bytes, last_seq, materialized FROM docs
                 WHERE last_seq > ?1 AND {clause} ORDER BY last_seq LIMIT ?2"
            );
            let mut stmt = tx.prepare(&sql)?;
            let mut p: Vec<rusqlite::types::Value> =
                vec![to_i64(after).into(), to_i64(limits.items as u64 + 1).into()];
            p.extend(fparams.into_iter().map(Into::into));
            let mut rows = stmt.query(params_from_iter(p))?;
            let mut page = PageBuilder::new(limits);
            while let Some(r) = rows.next()? {
                let doc = StoredDoc {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    bytes: r.get(2)?,
                    last_seq: to_u64(r.get(3)?),
                    materialized: r.get(4)?,
                };
                if !page.offer(doc.last_seq, doc.size(), doc) {
                    break;
                }
            }
            Ok(page.finish(head))
        }))
    }

    fn get_docs(&self, ids: Vec<String>, filter: &ScopeFilter) -> BoxFut<'_, Vec<StoredDoc>> {
        let filter = filter.clone();
        Box::pin(self.read(move |c| {
            let (clause, fparams) = filter_clause(&filter, 2, Dialect::Sqlite);
            let sql =
                format!(
                "SELECT id, kind, bytes, last_seq, materialized FROM docs WHERE id = ?1 AND {clause}"
            );
            let mut stmt = c.prepare(&sql)?;
            let mut out = Vec::new();
            for id in ids {
                let mut p: Vec<rusqlite::types::Value> = vec![id.into()];
                p.extend(fparams.iter().cloned().map(Into::into));
                let doc = stmt
                    .query_row(params_from_iter(p), |r| {
                        Ok(StoredDoc {
                            id: r.get(0)?,
                            kind: r.get(1)?,
                            bytes: r.get(2)?,
                            last_seq: to_u64(r.get(3)?),
                            materialized: r.get(4)?,
                        })
                    })
                    .optional()?;
                out.extend(doc);
            }
            Ok(out)
        }))
    }

    fn log_state(&self) -> BoxFut<'_, LogState> {
        Box::pin(self.read(|c| log_state(c)))
    }

    fn compact(&self, floor: u64) -> BoxFut<'_, LogState> {
        Box::pin(self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let st = log_state(&tx)?;
            let floor = floor.min(st.head).max(st.floor);
            tx.execute("DELETE FROM log WHERE seq <= ?1", [to_i64(floor)])?;
            tx.execute("UPDATE meta SET floor = ?1 WHERE id = 1", [to_i64(floor)])?;
            tx.commit()?;
            Ok(LogState {
                head: st.head,
                floor,
            })
        }))
    }

    fn attachment_state(&self, sha256: &str) -> BoxFut<'_, Option<AttachmentState>> {
        let sha256 = sha256.to_owned();
        Box::pin(self.read(move |c| attachment_state(c, &sha256)))
    }

    fn attachment_append(
        &self,
        sha256: &str,
        length: u64,
        offset: u64,
        chunk: Vec<u8>,
    ) -> BoxFut<'_, AttachmentState> {
        let sha256 = sha256.to_owned();
        Box::pin(self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut st = match attachment_state(&tx, &sha256)? {
                Some(st) if st.complete => return Ok(st),
                Some(st) => st,
                None => {
                    tx.execute(
                        "INSERT INTO attachments (sha256, length, received, complete, created_ms)
                         VALUES (?1, ?2, 0, 0, ?3)",
                        params![sha256, to_i64(length), now_ms()],
                    )?;
                    AttachmentState {
                        sha256: sha256.clone(),
                        length,
                        received: 0,
                        complete: false,
                    }
                }
            };
            if st.length != length {
                return Err(AttachmentError::LengthMismatch {
                    given: length,
                    length: st.length,
                }
                .into());
            }
            if offset != st.received {
                return Err(AttachmentError::OffsetMismatch {
                    offset,
                    held: st.received,
                }
                .into());
            }
            let end = offset + chunk.len() as u64;
            if end > length {
                return Err(AttachmentError::PastEnd { length }.into());
            }
            if !chunk.is_empty() {
                tx.execute(
                    "INSERT INTO attachment_chunks (sha256, offset, bytes) VALUES (?1, ?2, ?3)",
                    params![sha256, to_i64(offset), chunk],
                )?;
            }
            st.received = end;
            if end == length {
                if hash_chunks(&tx, &sha256)? != sha256 {
                    tx.execute("DELETE FROM attachment_chunks WHERE sha256 = ?1", [&sha256])?;
                    tx.execute("DELETE FROM attachments WHERE sha256 = ?1", [&sha256])?;
                    tx.commit()?;
                    return Err(AttachmentError::HashMismatch.into());
                }
                st.complete = true;
            }
            tx.execute(
                "UPDATE attachments SET received = ?2, complete = ?3 WHERE sha256 = ?1",
                params![sha256, to_i64(st.received), st.complete],
            )?;
            tx.commit()?;
            Ok(st)
        }))
    }

    fn attachment_read(&self, sha256: &str, start: u64, end: u64) -> BoxFut<'_, Vec<u8>> {
        let sha256 = sha256.to_owned();
        Box::pin(self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT offset, bytes FROM attachment_chunks
                 WHERE sha256 = ?1 AND offset < ?3 AND offset + length(bytes) > ?2
                 ORDER BY offset",
            )?;
            let mut rows = stmt.query(params![sha256, to_i64(start), to_i64(end)])?;
            let mut out = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
            while let Some(r) = rows.next()? {
                let off = to_u64(r.get(0)?);
                let bytes: Vec<u8> = r.get(1)?;
                out.extend_from_slice(slice_of(&bytes, off, start, end));
            }
            Ok(out)
        }))
    }

    fn backup(&self, to: &Path) -> BoxFut<'_, ()> {
        let to = to.to_owned();
        Box::pin(self.read(move |c| {
            c.backup(rusqlite::MAIN_DB, &to, None)?;
            Ok(())
        }))
    }

    fn scan_facts(&self, scan: FactsScan, sink: FactsSink) -> BoxFut<'_, ()> {
        Box::pin(self.read(move |c| {
            let tx = c.transaction()?;
            let mut sql = String::from(
                "SELECT id, kind, street, community, grid, data FROM report_facts
                 WHERE until >= ?1 AND day <= ?2",
            );
            let mut p: Vec<rusqlite::types::Value> =
                vec![scan.from.to_string().into(), scan.to.to_string().into()];
            if let Some((column, code)) = scan.column() {
                sql.push_str(&format!(" AND {column} = ?3"));
                p.push(code.to_owned().into());
            }
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(p))?;
            while let Some(r) = rows.next()? {
                let territory = gridwork_schema::TerritoryPath {
                    street: r.get(2)?,
                    community: r.get(3)?,
                    grid: r.get(4)?,
                };
                let kind = r.get_ref(1)?.as_str().unwrap_or_default();
                let data = r.get_ref(5)?.as_str().unwrap_or_default();
                let facts = decode(r.get(0)?, kind, territory, data)?;
                if sink.blocking_send(facts).is_err() {
                    break;
                }
            }
            Ok(())
        }))
    }
}

/// The part of a chunk at `off` that falls in `start..end`.
pub(crate) fn slice_of(bytes: &[u8], off: u64, start: u64, end: u64) -> &[u8] {
    let from = usize::try_from(start.saturating_sub(off)).unwrap_or(usize::MAX);
    let to = usize::try_from(end.saturating_sub(off)).unwrap_or(usize::MAX);
    let to = to.min(bytes.len());
    bytes.get(from.min(to)..to).unwrap_or_default()
}

/// Replaces the database file at `db` with the backup at `from`, giving it a new server id so
/// that devices start their cursors over. The server must be stopped.
pub fn restore(db: &Path, from: &Path) -> Result<(), StoreError> {
    if !from.exists() {
        return Err(StoreError::NotFound(format!("backup {}", from.display())));
    }
    {
        let check = Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        check
            .query_row("SELECT server_id FROM meta WHERE id = 1", [], |r| {
                r.get::<_, String>(0)
            })
            .map_err(|_| StoreError::Invalid("not a gridwork-server backup".into()))?;
    }
    if let Some(dir) = db.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut conn = connect(db)?;
    conn.restore(
        rusqlite::MAIN_DB,
        from,
        None::<fn(rusqlite::backup::Progress)>,
    )?;
    conn.execute(
        "UPDATE meta SET server_id = ?1 WHERE id = 1",
        [new_server_id()],
    )?;
    Ok(())
}
