//! PostgreSQL storage (tokio-postgres with a deadpool pool): any number of server processes
//! may share one database.
//!
//! Pushes serialize per document with transaction-level advisory locks (taken in key order,
//! so batches never deadlock) and take their sequence numbers under the row lock of
//! `meta.head` as the last step before commit. Pulls read in one `REPEATABLE READ` snapshot,
//! so a page and the head it reports agree.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::TryStreamExt;
use gridwork_schema::wire::{DocPush, DocResult};
use sha2::Digest;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use super::{
    AttachmentState, Authenticated, BoxFut, Decider, DeviceRecord, Dialect, LogEntry, LogState,
    NewUser, Page, PageBuilder, PageLimits, ScopeFilter, Storage, StoredDoc, UnitRow, UserRecord,
    filter_clause, join_principals, new_server_id, now_ms, parse_role, role_name, run_decisions,
    split_decisions, to_i64, to_u64,
};
use crate::config::redact_url;
use crate::error::{AttachmentError, StoreError};
use crate::report::{
    FACTS_VERSION_KEY, FILL_BATCH, FactsRow, FactsScan, FactsSink, decode, facts_version,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    id INT PRIMARY KEY CHECK (id = 1),
    head BIGINT NOT NULL,
    floor BIGINT NOT NULL,
    server_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    department TEXT,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    app_version TEXT NOT NULL,
    token_sha256 BYTEA NOT NULL UNIQUE,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    registered_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
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
    bytes BYTEA NOT NULL,
    last_seq BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    materialized TEXT
);
-- A database from before documents kept their materialized value: added empty; those
-- documents are pulled without it until they next change.
ALTER TABLE docs ADD COLUMN IF NOT EXISTS materialized TEXT;
CREATE INDEX IF NOT EXISTS docs_last_seq ON docs(last_seq);
CREATE INDEX IF NOT EXISTS docs_street ON docs(street, last_seq);
CREATE INDEX IF NOT EXISTS docs_community ON docs(community, last_seq);
CREATE INDEX IF NOT EXISTS docs_grid ON docs(grid, last_seq);
CREATE TABLE IF NOT EXISTS log (
    seq BIGINT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    grid TEXT NOT NULL,
    path TEXT NOT NULL,
    principals TEXT NOT NULL,
    bytes BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS log_street ON log(street, seq);
CREATE INDEX IF NOT EXISTS log_community ON log(community, seq);
CREATE INDEX IF NOT EXISTS log_grid ON log(grid, seq);
CREATE TABLE IF NOT EXISTS attachments (
    sha256 TEXT PRIMARY KEY,
    length BIGINT NOT NULL,
    received BIGINT NOT NULL,
    complete BOOLEAN NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS attachment_chunks (
    sha256 TEXT NOT NULL,
    \"offset\" BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (sha256, \"offset\")
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
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
CREATE OR REPLACE FUNCTION gridwork_lock_docs(keys BIGINT[]) RETURNS VOID AS $$
DECLARE k BIGINT;
BEGIN
    FOREACH k IN ARRAY keys LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
END
$$ LANGUAGE plpgsql;
";

/// The advisory lock (two-int form, a key space apart from the documents') held while
/// creating the tables, so that several processes starting at once do not race.
const INIT_LOCK: (i32, i32) = (0x6777, 1);

/// The advisory lock held while filling in report facts, so that one process does it.
const FILL_LOCK: (i32, i32) = (0x6777, 2);

/// The PostgreSQL storage.
#[derive(Clone)]
pub struct PgStorage {
    pool: Pool,
    url: String,
}

impl fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStorage")
            .field("url", &redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

fn pool_err(e: impl fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

/// The advisory lock key of a document.
fn doc_lock_key(id: &str) -> i64 {
    let h = sha2::Sha256::digest(id.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    i64::from_be_bytes(b)
}

/// Locks the documents `ids` for the rest of `tx` and reads their stored bytes (the ids
/// that have none are left out). The locks are taken in key order, so that two
/// transactions locking overlapping sets cannot deadlock.
async fn lock_and_read(
    tx: &deadpool_postgres::Transaction<'_>,
    ids: &[String],
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let keys: Vec<i64> = ids
        .iter()
        .map(|id| doc_lock_key(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    tx.execute(
        &tx.prepare_cached("SELECT gridwork_lock_docs($1)").await?,
        &[&keys],
    )
    .await?;
    let rows = tx
        .query(
            &tx.prepare_cached("SELECT id, bytes FROM docs WHERE id = ANY($1)")
                .await?,
            &[&ids],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()?)
}

type Params = Vec<Box<dyn ToSql + Sync + Send>>;

fn param_refs(p: &Params) -> impl ExactSizeIterator<Item = &(dyn ToSql + Sync)> {
    p.iter().map(|b| b.as_ref() as &(dyn ToSql + Sync))
}

fn user_from_row(r: &Row) -> Result<(UserRecord, String), StoreError> {
    let role: String = r.try_get("role")?;
    Ok((
        UserRecord {
            id: r.try_get("id")?,
            login: r.try_get("login")?,
            name: r.try_get("name")?,
            role: parse_role(&role)?,
            scope: r.try_get("scope")?,
            department: r.try_get("department")?,
            disabled: r.try_get("disabled")?,
        },
        r.try_get("password_hash")?,
    ))
}

const USER_COLS: &str = "u.id, u.login, u.name, u.role, u.scope, u.department, u.disabled, \
                         u.password_hash";

fn doc_from_row(r: &Row) -> Result<StoredDoc, StoreError> {
    Ok(StoredDoc {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        bytes: r.try_get(2)?,
        last_seq: to_u64(r.try_get(3)?),
        materialized: r.try_get(4)?,
    })
}

fn att_from_row(sha256: &str, r: &Row) -> Result<AttachmentState, StoreError> {
    Ok(AttachmentState {
        sha256: sha256.to_owned(),
        length: to_u64(r.try_get(0)?),
        received: to_u64(r.try_get(1)?),
        complete: r.try_get(2)?,
    })
}

impl PgStorage {
    /// Connects to `url` and creates the tables if needed.
    pub async fn open(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let cfg: tokio_postgres::Config = url
            .parse()
            .map_err(|_| StoreError::Invalid("not a valid PostgreSQL URL".into()))?;
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(pool_size.max(2))
            .build()
            .map_err(pool_err)?;
        let s = Self {
            pool,
            url: url.to_owned(),
        };
        s.init().await?;
        Ok(s)
    }

    async fn init(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&INIT_LOCK.0, &INIT_LOCK.1],
        )
        .await?;
        tx.batch_execute(SCHEMA).await?;
        tx.execute(
            "INSERT INTO meta (id, head, floor, server_id, created_ms)
             VALUES (1, 0, 0, $1, $2) ON CONFLICT (id) DO NOTHING",
            &[&new_server_id(), &now_ms()],
        )
        .await?;
        tx.commit().await?;
        self.fill_facts().await
    }

    /// Makes sure every document has report facts of this version (see the SQLite
    /// storage's `fill_facts`): batches of documents, each under the documents' push locks
    /// in its own transaction, while one process holds the fill lock.
    async fn fill_facts(&self) -> Result<(), StoreError> {
        let version = facts_version();
        let mut holder = self.client().await?;
        let lock = holder.transaction().await?;
        lock.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&FILL_LOCK.0, &FILL_LOCK.1],
        )
        .await?;
        let stored: Option<String> = lock
            .query_opt(
                "SELECT value FROM settings WHERE key = $1",
                &[&FACTS_VERSION_KEY],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if stored.as_deref() == Some(version.as_str()) {
            lock.commit().await?;
            return Ok(());
        }
        let mut c = self.client().await?;
        if stored.is_some() {
            c.execute("DELETE FROM report_facts", &[]).await?;
        }
        let (mut after, mut filled) = (String::new(), 0usize);
        loop {
            let tx = c.transaction().await?;
            let ids: Vec<String> = tx
                .query(
                    "SELECT d.id FROM docs d
                     WHERE d.id > $1
                       AND NOT EXISTS (SELECT 1 FROM report_facts f WHERE f.id = d.id)
                     ORDER BY d.id LIMIT $2",
                    &[&after, &to_i64(FILL_BATCH as u64)],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let Some(last) = ids.last() else {
                tx.commit().await?;
                break;
            };
            after.clone_from(last);
            let docs = lock_and_read(&tx, &ids).await?;
            let rows = tokio::task::spawn_blocking(move || {
                docs.iter()
                    .filter_map(|(id, b)| crate::report::facts_of_bytes(id, b))
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
            filled += rows.len();
            upsert_facts(&tx, &rows.iter().collect::<Vec<_>>()).await?;
            tx.commit().await?;
        }
        lock.execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&FACTS_VERSION_KEY, &version],
        )
        .await?;
        lock.commit().await?;
        if filled > 0 {
            tracing::info!(records = filled, "report facts filled in");
        }
        Ok(())
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }

    async fn state_of(tx: &deadpool_postgres::Transaction<'_>) -> Result<LogState, StoreError> {
        let r = tx
            .query_one("SELECT head, floor FROM meta WHERE id = 1", &[])
            .await?;
        Ok(LogState {
            head: to_u64(r.try_get(0)?),
            floor: to_u64(r.try_get(1)?),
        })
    }

    async fn push_impl(
        &self,
        docs: Vec<DocPush>,
        decide: Decider,
    ) -> Result<Vec<DocResult>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let ids: Vec<String> = docs
            .iter()
            .map(|d| d.id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let stored: HashMap<String, Vec<u8>> =
            lock_and_read(&tx, &ids).await?.into_iter().collect();
        let (results, writes) = tokio::task::spawn_blocking(move || {
            split_decisions(run_decisions(&docs, stored, &decide))
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        if writes.is_empty() {
            tx.commit().await?;
            return Ok(results);
        }

        // The documents' rows (the last write of each id wins).
        let mut last_of: HashMap<&str, usize> = HashMap::new();
        for (i, w) in writes.iter().enumerate() {
            last_of.insert(&w.row.id, i);
        }
        let mut order: Vec<usize> = last_of.values().copied().collect();
        order.sort_unstable();
        let col = |f: &dyn Fn(&super::DocWrite) -> String| -> Vec<String> {
            order.iter().map(|&i| f(&writes[i])).collect()
        };
        let d_ids = col(&|w| w.row.id.clone());
        let d_kinds = col(&|w| w.row.kind.clone());
        let d_streets = col(&|w| w.row.street.clone());
        let d_comms = col(&|w| w.row.community.clone());
        let d_grids = col(&|w| w.row.grid.clone());
        let d_paths = col(&|w| w.row.path.clone());
        let d_status = col(&|w| w.row.status.clone());
        let d_princ = col(&|w| join_principals(&w.row.principals));
        let (with, without): (Vec<&super::DocWrite>, Vec<&super::DocWrite>) = order
            .iter()
            .map(|&i| &writes[i])
            .partition(|w| w.facts.is_some());
        upsert_facts(
            &tx,
            &with
                .iter()
                .filter_map(|w| w.facts.as_ref())
                .collect::<Vec<_>>(),
        )
        .await?;
        if !without.is_empty() {
            let gone: Vec<&str> = without.iter().map(|w| w.row.id.as_str()).collect();
            tx.execute(
                &tx.prepare_cached("DELETE FROM report_facts WHERE id = ANY($1)")
                    .await?,
                &[&gone],
            )
            .await?;
        }

        // Last step: take the sequence numbers under the head row's lock, write the rows and
        // the log, commit.
        let n = to_i64(writes.len() as u64);
        let new_head: i64 = tx
            .query_one(
                &tx.prepare_cached("UPDATE meta SET head = head + $1 WHERE id = 1 RETURNING head")
                    .await?,
                &[&n],
            )
            .await?
            .try_get(0)?;
        let first = new_head - n + 1;
        let seqs: Vec<i64> = (0..n).map(|i| first + i).collect();
        // The documents' rows, written under the head's lock with their sequence numbers:
        // a row written first and numbered later would be written twice, every index too.
        let last_seqs: Vec<i64> = order.iter().map(|&i| seqs[i]).collect();
        let d_bytes: Vec<&[u8]> = order.iter().map(|&i| writes[i].bytes.as_slice()).collect();
        let d_mat: Vec<Option<&str>> = order
            .iter()
            .map(|&i| writes[i].materialized.as_deref())
            .collect();
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO docs (id, kind, street, community, grid, path, status, principals,
                               bytes, last_seq, updated_ms, materialized)
             SELECT t.id, t.kind, t.street, t.community, t.grid, t.path, t.status,
                    t.principals, t.bytes, t.last_seq, $10, t.materialized
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::text[], $9::bytea[], $11::bigint[],
                         $12::text[])
                  AS t(id, kind, street, community, grid, path, status, principals, bytes,
                       last_seq, materialized)
             ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, street = EXCLUDED.street,
                community = EXCLUDED.community, grid = EXCLUDED.grid, path = EXCLUDED.path,
                status = EXCLUDED.status, principals = EXCLUDED.principals,
                bytes = EXCLUDED.bytes, last_seq = EXCLUDED.last_seq,
                updated_ms = EXCLUDED.updated_ms, materialized = EXCLUDED.materialized",
            )
            .await?,
            &[
                &d_ids,
                &d_kinds,
                &d_streets,
                &d_comms,
                &d_grids,
                &d_paths,
                &d_status,
                &d_princ,
                &d_bytes,
                &now_ms(),
                &last_seqs,
                &d_mat,
            ],
        )
        .await?;
        let all = |f: &dyn Fn(&super::DocWrite) -> String| -> Vec<String> {
            writes.iter().map(f).collect()
        };
        let l_ids = all(&|w| w.row.id.clone());
        let l_kinds = all(&|w| w.row.kind.clone());
        let l_streets = all(&|w| w.row.street.clone());
        let l_comms = all(&|w| w.row.community.clone());
        let l_grids = all(&|w| w.row.grid.clone());
        let l_paths = all(&|w| w.row.path.clone());
        let l_princ = all(&|w| join_principals(&w.row.principals));
        let l_bytes: Vec<&[u8]> = writes.iter().map(|w| w.changes.as_slice()).collect();
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO log (seq, doc_id, kind, street, community, grid, path, principals,
                              bytes)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],
                                  $5::text[], $6::text[], $7::text[], $8::text[],
                                  $9::bytea[])",
            )
            .await?,
            &[
                &seqs, &l_ids, &l_kinds, &l_streets, &l_comms, &l_grids, &l_paths, &l_princ,
                &l_bytes,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(results)
    }

    async fn pull_log_impl(
        &self,
        after: u64,
        filter: ScopeFilter,
        limits: PageLimits,
    ) -> Result<Option<Page<LogEntry>>, StoreError> {
        // One statement is one snapshot: the head, the floor and the page are read together
        // in a single round trip (no BEGIN / COMMIT), which is most of a pull with nothing
        // new, the common case when many devices reconnect at once.
        let client = self.client().await?;
        let (clause, fparams) = filter_clause(&filter, 3, Dialect::Postgres);
        let sql = format!(
            "SELECT m.head, m.floor, l.seq, l.doc_id, l.kind, l.bytes
             FROM meta m LEFT JOIN LATERAL (
                SELECT seq, doc_id, kind, bytes FROM log
                WHERE seq > $1 AND seq <= m.head AND $1 >= m.floor AND {clause}
                ORDER BY seq LIMIT $2
             ) l ON TRUE
             WHERE m.id = 1"
        );
        let mut p: Params = vec![
            Box::new(to_i64(after)),
            Box::new(to_i64(limits.items as u64 + 1)),
        ];
        p.extend(
            fparams
                .into_iter()
                .map(|s| Box::new(s) as Box<dyn ToSql + Sync + Send>),
        );
        let stmt = client.prepare_cached(&sql).await?;
        let mut rows = Box::pin(client.query_raw(&stmt, param_refs(&p)).await?);
        let mut page = PageBuilder::new(limits);
        let mut state = None;
        while let Some(r) = rows.try_next().await? {
            let st = *state.get_or_insert(LogState {
                head: to_u64(r.try_get(0)?),
                floor: to_u64(r.try_get(1)?),
            });
            if after < st.floor {
                return Ok(None);
            }
            let Some(seq) = r.try_get::<_, Option<i64>>(2)? else {
                break;
            };
            let seq = to_u64(seq);
            let entry = LogEntry {
                seq,
                doc_id: r.try_get(3)?,
                kind: r.try_get(4)?,
                bytes: r.try_get(5)?,
            };
            if !page.offer(seq, entry.bytes.len(), entry) {
                break;
            }
        }
        let st = state.ok_or_else(|| StoreError::Damaged("the meta row is missing".into()))?;
        Ok(Some(page.finish(st.head)))
    }

    async fn pull_docs_impl(
        &self,
        after: u64,
        filter: ScopeFilter,
        limits: PageLimits,
    ) -> Result<Page<StoredDoc>, StoreError> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let head = Self::state_of(&tx).await?.head;
        let (clause, fparams) = filter_clause(&filter, 3, Dialect::Postgres);
        let sql = format!(
            "SELECT id, kind, bytes, last_seq, materialized FROM docs
             WHERE last_seq > $1 AND {clause} ORDER BY last_seq LIMIT $2"
        );
        let mut p: Params = vec![
            Box::new(to_i64(after)),
            Box::new(to_i64(limits.items as u64 + 1)),
        ];
        p.extend(
            fparams
                .into_iter()
                .map(|s| Box::new(s) as Box<dyn ToSql + Sync + Send>),
        );
        let stmt = tx.prepare_cached(&sql).await?;
        let mut rows = Box::pin(tx.query_raw(&stmt, param_refs(&p)).await?);
        let mut page = PageBuilder::new(limits);
        while let Some(r) = rows.try_next().await? {
            let doc = doc_from_row(&r)?;
            if !page.offer(doc.last_seq, doc.size(), doc) {
                break;
            }
        }
        drop(rows);
        tx.commit().await?;
        Ok(page.finish(head))
    }

    async fn append_impl(
        &self,
        sha256: String,
        length: u64,
        offset: u64,
        chunk: Vec<u8>,
    ) -> Result<AttachmentState, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO attachments (sha256, length, received, complete, created_ms)
             VALUES ($1, $2, 0, FALSE, $3) ON CONFLICT (sha256) DO NOTHING",
            &[&sha256, &to_i64(length), &now_ms()],
        )
        .await?;
        let row = tx
            .query_one(
                "SELECT length, received, complete FROM attachments
                 WHERE sha256 = $1 FOR UPDATE",
                &[&sha256],
            )
            .await?;
        let mut st = att_from_row(&sha256, &row)?;
        if st.complete {
            tx.commit().await?;
            return Ok(st);
        }
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
                "INSERT INTO attachment_chunks (sha256, \"offset\", bytes) VALUES ($1, $2, $3)",
                &[&sha256, &to_i64(offset), &chunk],
            )
            .await?;
        }
        st.received = end;
        if end == length {
            let mut h = sha2::Sha256::new();
            {
                let stmt = tx
                    .prepare_cached(
                        "SELECT bytes FROM attachment_chunks WHERE sha256 = $1
                         ORDER BY \"offset\"",
                    )
                    .await?;
                let mut rows = Box::pin(tx.query_raw(&stmt, [&sha256]).await?);
                while let Some(r) = rows.try_next().await? {
                    let b: &[u8] = r.try_get(0)?;
                    h.update(b);
                }
            }
            if hex::encode(h.finalize()) != sha256 {
                tx.execute(
                    "DELETE FROM attachment_chunks WHERE sha256 = $1",
                    &[&sha256],
                )
                .await?;
                tx.execute("DELETE FROM attachments WHERE sha256 = $1", &[&sha256])
                    .await?;
                tx.commit().await?;
                return Err(AttachmentError::HashMismatch.into());
            }
            st.complete = true;
        }
        tx.execute(
            "UPDATE attachments SET received = $2, complete = $3 WHERE sha256 = $1",
            &[&sha256, &to_i64(st.received), &st.complete],
        )
        .await?;
        tx.commit().await?;
        Ok(st)
    }
}

/// Inserts or replaces report facts rows.
async fn upsert_facts(
    tx: &deadpool_postgres::Transaction<'_>,
    rows: &[&FactsRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&FactsRow) -> &str| -> Vec<&str> { rows.iter().map(|r| f(r)).collect() };
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO report_facts (id, kind, street, community, grid, day, until, data)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[])
         ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, street = EXCLUDED.street,
            community = EXCLUDED.community, grid = EXCLUDED.grid, day = EXCLUDED.day,
            until = EXCLUDED.until, data = EXCLUDED.data",
        )
        .await?,
        &[
            &col(|r| &r.id),
            &col(|r| &r.kind),
            &col(|r| &r.street),
            &col(|r| &r.community),
            &col(|r| &r.grid),
            &col(|r| &r.day),
            &col(|r| &r.until),
            &col(|r| &r.data),
        ],
    )
    .await?;
    Ok(())
}

impl PgStorage {
    async fn scan_facts_impl(&self, scan: FactsScan, sink: FactsSink) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let mut sql = String::from(
            "SELECT id, kind, street, community, grid, data FROM report_facts
             WHERE until >= $1 AND day <= $2",
        );
        let mut p: Params = vec![
            Box::new(scan.from.to_string()),
            Box::new(scan.to.to_string()),
        ];
        if let Some((column, code)) = scan.column() {
            sql.push_str(&format!(" AND {column} = $3"));
            p.push(Box::new(code.to_owned()));
        }
        let stmt = tx.prepare_cached(&sql).await?;
        let mut rows = Box::pin(tx.query_raw(&stmt, param_refs(&p)).await?);
        while let Some(r) = rows.try_next().await? {
            let territory = gridwork_schema::TerritoryPath {
                street: r.try_get(2)?,
                community: r.try_get(3)?,
                grid: r.try_get(4)?,
            };
            let kind: &str = r.try_get(1)?;
            let data: &str = r.try_get(5)?;
            let facts = decode(r.try_get(0)?, kind, territory, data)?;
            if sink.send(facts).await.is_err() {
                break;
            }
        }
        drop(rows);
        tx.commit().await?;
        Ok(())
    }
}

impl Storage for PgStorage {
    fn server_id(&self) -> BoxFut<'_, String> {
        Box::pin(async move {
            let c = self.client().await?;
            let r = c
                .query_one("SELECT server_id FROM meta WHERE id = 1", &[])
                .await?;
            Ok(r.try_get(0)?)
        })
    }

    fn add_user(&self, user: NewUser) -> BoxFut<'_, UserRecord> {
        Box::pin(async move {
            let c = self.client().await?;
            let id = uuid::Uuid::now_v7().to_string();
            let res = c
                .execute(
                    "INSERT INTO users (id, login, name, role, scope, department, password_hash,
                                        disabled, created_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8)",
                    &[
                        &id,
                        &user.login,
                        &user.name,
                        &role_name(user.role),
                        &user.scope,
                        &user.department,
                        &user.password_hash,
                        &now_ms(),
                    ],
                )
                .await;
            if let Err(e) = &res
                && e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
            {
                return Err(StoreError::Conflict(format!("login {:?}", user.login)));
            }
            res?;
            Ok(UserRecord {
                id,
                login: user.login,
                name: user.name,
                role: user.role,
                scope: user.scope,
                department: user.department,
                disabled: false,
            })
        })
    }

    fn user_by_login(&self, login: &str) -> BoxFut<'_, Option<(UserRecord, String)>> {
        let login = login.to_owned();
        Box::pin(async move {
            let c = self.client().await?;
            let row = c
                .query_opt(
                    &format!("SELECT {USER_COLS} FROM users u WHERE u.login = $1"),
                    &[&login],
                )
                .await?;
            row.as_ref().map(user_from_row).transpose()
        })
    }

    fn set_user_disabled(&self, login: &str, disabled: bool) -> BoxFut<'_, bool> {
        let login = login.to_owned();
        Box::pin(async move {
            let c = self.client().await?;
            Ok(c.execute(
                "UPDATE users SET disabled = $2 WHERE login = $1",
                &[&login, &disabled],
            )
            .await?
                > 0)
        })
    }

    fn list_users(&self) -> BoxFut<'_, Vec<UserRecord>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(
                &format!("SELECT {USER_COLS} FROM users u ORDER BY u.login"),
                &[],
            )
            .await?
            .iter()
            .map(|r| Ok(user_from_row(r)?.0))
            .collect()
        })
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
        Box::pin(async move {
            let c = self.client().await?;
            let changed = c
                .execute(
                    "INSERT INTO devices (id, user_id, name, app_version, token_sha256, revoked,
                                      registered_ms, last_seen_ms)
                 VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6)
                 ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id,
                    name = EXCLUDED.name, app_version = EXCLUDED.app_version,
                    token_sha256 = EXCLUDED.token_sha256,
                    registered_ms = EXCLUDED.registered_ms,
                    last_seen_ms = EXCLUDED.last_seen_ms
                 WHERE NOT devices.revoked",
                    &[
                        &device_id,
                        &user_id,
                        &name,
                        &app_version,
                        &&token_sha256[..],
                        &now_ms(),
                    ],
                )
                .await?;
            Ok(changed > 0)
        })
    }

    fn authenticate(&self, token_sha256: [u8; 32]) -> BoxFut<'_, Option<Authenticated>> {
        Box::pin(async move {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(&format!(
                    "SELECT {USER_COLS}, d.id AS device_id, d.last_seen_ms
                     FROM devices d JOIN users u ON u.id = d.user_id
                     WHERE d.token_sha256 = $1 AND NOT d.revoked AND NOT u.disabled"
                ))
                .await?;
            let Some(r) = c.query_opt(&stmt, &[&&token_sha256[..]]).await? else {
                return Ok(None);
            };
            Ok(Some(Authenticated {
                user: user_from_row(&r)?.0,
                device_id: r.try_get("device_id")?,
                last_seen_ms: r.try_get("last_seen_ms")?,
            }))
        })
    }

    fn touch_device(&self, device_id: &str, now_ms: i64) -> BoxFut<'_, ()> {
        let device_id = device_id.to_owned();
        Box::pin(async move {
            let c = self.client().await?;
            c.execute(
                "UPDATE devices SET last_seen_ms = $2 WHERE id = $1",
                &[&device_id, &now_ms],
            )
            .await?;
            Ok(())
        })
    }

    fn list_devices(&self) -> BoxFut<'_, Vec<DeviceRecord>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(
                "SELECT d.id, u.login, d.name, d.app_version, d.revoked, d.registered_ms,
                        d.last_seen_ms
                 FROM devices d JOIN users u ON u.id = d.user_id ORDER BY u.login, d.id",
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(DeviceRecord {
                    id: r.try_get(0)?,
                    user_login: r.try_get(1)?,
                    name: r.try_get(2)?,
                    app_version: r.try_get(3)?,
                    revoked: r.try_get(4)?,
                    registered_ms: r.try_get(5)?,
                    last_seen_ms: r.try_get(6)?,
                })
            })
            .collect()
        })
    }

    fn revoke_device(&self, device_id: &str) -> BoxFut<'_, bool> {
        let device_id = device_id.to_owned();
        Box::pin(async move {
            let c = self.client().await?;
            Ok(c.execute(
                "UPDATE devices SET revoked = TRUE WHERE id = $1",
                &[&device_id],
            )
            .await?
                > 0)
        })
    }

    fn import_units(&self, units: Vec<UnitRow>) -> BoxFut<'_, usize> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            for chunk in units.chunks(1000) {
                let codes: Vec<&str> = chunk.iter().map(|u| u.code.as_str()).collect();
                let levels: Vec<&str> = chunk.iter().map(|u| u.level.as_str()).collect();
                let names: Vec<&str> = chunk.iter().map(|u| u.name.as_str()).collect();
                let parents: Vec<Option<&str>> =
                    chunk.iter().map(|u| u.parent.as_deref()).collect();
                let zones: Vec<Option<&str>> = chunk.iter().map(|u| u.zone.as_deref()).collect();
                tx.execute(
                    "INSERT INTO territory (code, level, name, parent, zone)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                                          $5::text[])
                     ON CONFLICT (code) DO UPDATE SET level = EXCLUDED.level,
                        name = EXCLUDED.name, parent = EXCLUDED.parent, zone = EXCLUDED.zone",
                    &[&codes, &levels, &names, &parents, &zones],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(units.len())
        })
    }

    fn unit_exists(&self, code: &str) -> BoxFut<'_, Option<bool>> {
        let code = code.to_owned();
        Box::pin(async move {
            let c = self.client().await?;
            let r = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM territory),
                            EXISTS (SELECT 1 FROM territory WHERE code = $1)",
                    &[&code],
                )
                .await?;
            let any: bool = r.try_get(0)?;
            Ok(any.then_some(r.try_get(1)?))
        })
    }

    fn push(&self, docs: Vec<DocPush>, decide: Decider) -> BoxFut<'_, Vec<DocResult>> {
        Box::pin(self.push_impl(docs, decide))
    }

    fn pull_log(
        &self,
        after: u64,
        filter: &ScopeFilter,
        limits: PageLimits,
    ) -> BoxFut<'_, Option<Page<LogEntry>>> {
        Box::pin(self.pull_log_impl(after, filter.clone(), limits))
    }

    fn pull_docs(
        &self,
        after: u64,
        filter: &ScopeFilter,
        limits: PageLimits,
    ) -> BoxFut<'_, Page<StoredDoc>> {
        Box::pin(self.pull_docs_impl(after, filter.clone(), limits))
    }

    fn get_docs(&self, ids: Vec<String>, filter: &ScopeFilter) -> BoxFut<'_, Vec<StoredDoc>> {
        let filter = filter.clone();
        Box::pin(async move {
            let c = self.client().await?;
            let (clause, fparams) = filter_clause(&filter, 2, Dialect::Postgres);
            let sql = format!(
                "SELECT id, kind, bytes, last_seq, materialized FROM docs WHERE id = ANY($1) AND {clause}"
            );
            let mut p: Params = vec![Box::new(ids)];
            p.extend(
                fparams
                    .into_iter()
                    .map(|s| Box::new(s) as Box<dyn ToSql + Sync + Send>),
            );
            let refs: Vec<&(dyn ToSql + Sync)> = param_refs(&p).collect();
            c.query(&sql, &refs)
                .await?
                .iter()
                .map(doc_from_row)
                .collect()
        })
    }

    fn log_state(&self) -> BoxFut<'_, LogState> {
        Box::pin(async move {
            let c = self.client().await?;
            let r = c
                .query_one("SELECT head, floor FROM meta WHERE id = 1", &[])
                .await?;
            Ok(LogState {
                head: to_u64(r.try_get(0)?),
                floor: to_u64(r.try_get(1)?),
            })
        })
    }

    fn compact(&self, floor: u64) -> BoxFut<'_, LogState> {
        Box::pin(async move {
            let c = self.client().await?;
            // Raise the floor first (a short lock on the head row); pulls behind it get
            // snapshots from then on, so the entries can be deleted at leisure.
            let r = c
                .query_one(
                    "UPDATE meta SET floor = GREATEST(floor, LEAST($1, head)) WHERE id = 1
                     RETURNING head, floor",
                    &[&to_i64(floor)],
                )
                .await?;
            let st = LogState {
                head: to_u64(r.try_get(0)?),
                floor: to_u64(r.try_get(1)?),
            };
            c.execute("DELETE FROM log WHERE seq <= $1", &[&to_i64(st.floor)])
                .await?;
            Ok(st)
        })
    }

    fn attachment_state(&self, sha256: &str) -> BoxFut<'_, Option<AttachmentState>> {
        let sha256 = sha256.to_owned();
        Box::pin(async move {
            let c = self.client().await?;
            let row = c
                .query_opt(
                    "SELECT length, received, complete FROM attachments WHERE sha256 = $1",
                    &[&sha256],
                )
                .await?;
            row.map(|r| att_from_row(&sha256, &r)).transpose()
        })
    }

    fn attachment_append(
        &self,
        sha256: &str,
        length: u64,
        offset: u64,
        chunk: Vec<u8>,
    ) -> BoxFut<'_, AttachmentState> {
        Box::pin(self.append_impl(sha256.to_owned(), length, offset, chunk))
    }

    fn attachment_read(&self, sha256: &str, start: u64, end: u64) -> BoxFut<'_, Vec<u8>> {
        let sha256 = sha256.to_owned();
        Box::pin(async move {
            let c = self.client().await?;
            let rows = c
                .query(
                    "SELECT \"offset\", bytes FROM attachment_chunks
                     WHERE sha256 = $1 AND \"offset\" < $3
                       AND \"offset\" + length(bytes) > $2
                     ORDER BY \"offset\"",
                    &[&sha256, &to_i64(start), &to_i64(end)],
                )
                .await?;
            let mut out = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
            for r in rows {
                let off = to_u64(r.try_get(0)?);
                let bytes: &[u8] = r.try_get(1)?;
                out.extend_from_slice(super::sqlite::slice_of(bytes, off, start, end));
            }
            Ok(out)
        })
    }

    fn backup(&self, _to: &Path) -> BoxFut<'_, ()> {
        Box::pin(async {
            Err(StoreError::Unsupported(
                "backup and restore are for the SQLite database; for PostgreSQL use pg_dump \
                 and pg_restore on the whole database"
                    .into(),
            ))
        })
    }

    fn scan_facts(&self, scan: FactsScan, sink: FactsSink) -> BoxFut<'_, ()> {
        Box::pin(self.scan_facts_impl(scan, sink))
    }
}
