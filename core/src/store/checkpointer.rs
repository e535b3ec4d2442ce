//! Copying the write-ahead log into the database file on a thread of its own.
//!
//! SQLite runs a checkpoint on the writing connection whenever a commit leaves the log past
//! `wal_autocheckpoint` pages: every few dozen saves, one save also copies the log into the
//! database file and syncs it (on a phone's flash, a sync can take tens of milliseconds), and
//! a first pull, which commits pages of 2,000 records each past that mark, spends a third of
//! its time so. While the store is open a [`Checkpointer`] runs instead: the store's
//! connection does no checkpoints; a commit wakes this thread (a pull's page at once, saves
//! once in [`WAKE_RECORDS`] records), which copies the log with a connection of its own
//! (`PRAGMA wal_checkpoint(PASSIVE)`: it never blocks the writer).
//!
//! SQLite starts the log over only at a write transaction that began when the database file
//! held the whole log, which a writer that begins its next page at once never sees. So once
//! the log has grown past [`RESTART_AFTER_FRAMES`], the writer waits, after a commit, for a
//! checkpoint of everything: its next transaction then starts the log over. That wait is for
//! one page's copy, once in several pages, and keeps the log's file under about 40 MiB. A
//! writer that gets a whole copy ahead of the thread also waits, for the thread to start the
//! next one: otherwise, with the thread starved of CPU, the length it last reported falls
//! behind and the log grows unchecked.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::{Result, StoreOptions, open_connection};

/// Records written between wake-ups: a save writes about 20 pages, so this many saves make
/// about SQLite's own `wal_autocheckpoint` (1,000 pages).
pub(super) const WAKE_RECORDS: usize = 48;

/// The log's length, in pages, past which the writer waits for the log to be copied whole.
const RESTART_AFTER_FRAMES: i64 = 8192;

/// How long the thread waits for a wake-up before it copies the log anyway: the saves since
/// the last wake-up, and writes that announce nothing (settings, report tables), are copied
/// so while the device is idle.
const IDLE: Duration = Duration::from_secs(1);

/// What the thread is asked to do.
enum Ask {
    /// Copy what has been committed.
    Copy,
    /// Copy what has been committed, then say so.
    CopyAndTell(Sender<()>),
}

/// A thread that checkpoints the store's log when woken; stopped (and joined) on drop.
pub(super) struct Checkpointer {
    asks: Option<SyncSender<Ask>>,
    /// The log's length in pages at the last checkpoint.
    log_frames: Arc<AtomicI64>,
    restart_after: i64,
    /// Records written since the last wake-up.
    unannounced: AtomicUsize,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread and turns the automatic checkpoints of `conn` off.
    pub(super) fn start(conn: &Connection, path: &Path, options: &StoreOptions) -> Result<Self> {
        Self::start_with(conn, path, options, RESTART_AFTER_FRAMES)
    }

    fn start_with(
        conn: &Connection,
        path: &Path,
        options: &StoreOptions,
        restart_after: i64,
    ) -> Result<Self> {
        let own = open_connection(path, options)?;
        // One wake-up waiting is enough: a checkpoint copies everything committed before it.
        let (asks, asked) = mpsc::sync_channel::<Ask>(1);
        let log_frames = Arc::new(AtomicI64::new(0));
        let frames = Arc::clone(&log_frames);
        let thread = std::thread::Builder::new()
            .name("gridwork-checkpoint".into())
            .spawn(move || {
                loop {
                    let ask = match asked.recv_timeout(IDLE) {
                        Ok(ask) => ask,
                        Err(RecvTimeoutError::Timeout) => Ask::Copy,
                        Err(RecvTimeoutError::Disconnected) => break,
                    };
                    let done = own.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                    });
                    match done {
                        Ok((log, copied)) => {
                            frames.store(log, Ordering::Relaxed);
                            tracing::trace!(log, copied, "checkpoint");
                        }
                        // The store's own connection checkpoints again once this one stops.
                        Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
                    }
                    if let Ask::CopyAndTell(done) = ask {
                        // The writer may have stopped waiting; nothing to tell then.
                        let _ = done.send(());
                    }
                }
            })?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(Checkpointer {
            asks: Some(asks),
            log_frames,
            restart_after,
            unannounced: AtomicUsize::new(0),
            thread: Some(thread),
        })
    }

    /// After a commit of the store's connection that wrote `records` records: once enough
    /// have been written since the last wake-up, asks for a checkpoint of everything committed
    /// so far, and waits for it when the log has grown long.
    pub(super) fn committed(&self, records: usize) {
        let Some(asks) = &self.asks else { return };
        let written = self.unannounced.fetch_add(records, Ordering::Relaxed) + records;
        if written < WAKE_RECORDS {
            return;
        }
        self.unannounced.store(0, Ordering::Relaxed);
        if self.log_frames.load(Ordering::Relaxed) >= self.restart_after {
            let (tell, told) = mpsc::channel();
            if asks.send(Ask::CopyAndTell(tell)).is_ok() && told.recv().is_ok() {
                // The next checkpoint reports the log started over.
                self.log_frames.store(0, Ordering::Relaxed);
                return;
            }
        } else {
            match asks.try_send(Ask::Copy) {
                Ok(()) => return,
                // A wake-up is still waiting: the thread is a whole copy behind (starved of
                // CPU, say). The writer waits until it takes that one, so the length it
                // reports, which decides when the log starts over, stays close to the log.
                Err(TrySendError::Full(ask)) => {
                    if asks.send(ask).is_ok() {
                        return;
                    }
                }
                Err(TrySendError::Disconnected(_)) => {}
            }
        }
        tracing::warn!("the checkpoint thread has stopped");
    }

    fn join(&mut self) {
        drop(self.asks.take());
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::warn!("the checkpoint thread panicked");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits `n` transactions of 64 KiB each, calling `after` after each; the longest the
    /// log's file got.
    fn write(conn: &Connection, path: &Path, n: usize, after: impl Fn()) -> u64 {
        let wal = path.with_extension("db-wal");
        let mut longest = 0;
        for _ in 0..n {
            conn.execute("INSERT INTO t (b) VALUES (zeroblob(65536))", [])
                .unwrap();
            after();
            longest = longest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        longest
    }

    /// The rows of `t`, read by a connection that did none of the writing.
    fn rows(path: &Path) -> usize {
        let other = Connection::open(path).unwrap();
        other
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    fn open(dir: &Path) -> (Connection, std::path::PathBuf) {
        let path = dir.join("t.db");
        let conn = open_connection(&path, &StoreOptions::default()).unwrap();
        conn.execute_batch("CREATE TABLE t (i INTEGER PRIMARY KEY, b BLOB)")
            .unwrap();
        (conn, path)
    }

    #[test]
    fn the_thread_copies_the_log_and_the_log_starts_over() {
        const TX: usize = 400; // 25 MiB
        // 16 transactions' worth of frames, so the log must start over about every 16.
        let limit = 16 * 17;
        let dir = tempfile::tempdir().unwrap();
        // Without checkpoints at all, the log holds every transaction.
        let (conn, path) = open(dir.path());
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        let unbounded = write(&conn, &path, TX, || {});
        assert!(unbounded > 20 << 20, "{unbounded}");
        drop(conn);

        let dir = tempfile::tempdir().unwrap();
        let (conn, path) = open(dir.path());
        let c = Checkpointer::start_with(&conn, &path, &StoreOptions::default(), limit).unwrap();
        let auto: i64 = conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(auto, 0, "the writer's own checkpoints are off");
        let longest = write(&conn, &path, TX, || c.committed(WAKE_RECORDS));
        // The log is checked after commits, against the length the last checkpoint saw, so
        // it overshoots the limit by what was committed meanwhile; it must start over all
        // the same, well before it holds everything.
        assert!(
            longest < unbounded / 4,
            "the log grew to {longest} bytes (without checkpoints: {unbounded})"
        );
        drop(c);
        // Every row is there, read by a connection that did none of the writing.
        drop(conn);
        assert_eq!(rows(&path), TX);
    }

    #[test]
    fn saves_wake_the_thread_once_in_so_many_records() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, path) = open(dir.path());
        let c = Checkpointer::start_with(&conn, &path, &StoreOptions::default(), 16 * 17).unwrap();
        let wakes = |n: usize| {
            let before = c.unannounced.load(Ordering::Relaxed);
            for _ in 0..n {
                c.committed(1);
            }
            (before, c.unannounced.load(Ordering::Relaxed))
        };
        assert_eq!(
            wakes(WAKE_RECORDS - 1),
            (0, WAKE_RECORDS - 1),
            "no wake-up yet"
        );
        assert_eq!(wakes(1), (WAKE_RECORDS - 1, 0), "the next record wakes it");
        // Saves of 64 KiB each, each announced as one record: the log is copied and starts
        // over all the same.
        let longest = write(&conn, &path, 25 * WAKE_RECORDS, || c.committed(1));
        assert!(longest < 40 << 20, "the log grew to {longest} bytes");
        drop(c);
        drop(conn);
        assert_eq!(rows(&path), 25 * WAKE_RECORDS);
    }

    #[test]
    fn writes_nobody_announces_are_copied_too() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, path) = open(dir.path());
        let _c = Checkpointer::start(&conn, &path, &StoreOptions::default()).unwrap();
        let first = write(&conn, &path, 50, || {});
        std::thread::sleep(IDLE * 2);
        // Copied whole while idle, the log starts over at the next write and is reused.
        let second = write(&conn, &path, 50, || {});
        // Without that, the second 50 would double it.
        assert!(
            second < first * 3 / 2,
            "{first} then {second}: not copied while idle"
        );
    }

    #[test]
    fn a_store_dropped_mid_pull_stops_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, path) = open(dir.path());
        let c = Checkpointer::start(&conn, &path, &StoreOptions::default()).unwrap();
        write(&conn, &path, 10, || c.committed(WAKE_RECORDS));
        let frames = Arc::clone(&c.log_frames);
        assert_eq!(Arc::strong_count(&frames), 3, "the thread holds one");
        drop(c);
        assert_eq!(Arc::strong_count(&frames), 1, "the thread has ended");
        drop(conn);
        assert_eq!(rows(&path), 10);
    }
}
