//! Gridwork's sync against its field — pouchdb-server with PouchDB clients, and automerge-repo
//! (a Node `Repo` with the WebSocket server adapter and filesystem storage) — on the same
//! workloads, the same machine, in one run. See docs/benchmarks.md.
//!
//! Every server runs on 127.0.0.1 behind a byte-counting TCP proxy of this harness; set-up
//! traffic goes to the server directly, measured traffic through the proxy. Peak memory (VmHWM,
//! reset before each workload) and CPU seconds are the server process's, from /proc. Each
//! workload ends with a correctness check; a wrong answer is reported as a failure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::store::Store;
use gridwork_schema::territory::Territory;
use gridwork_schema::wire::{DocPush, PROTOCOL_VERSION, PushRequest};
use gridwork_schema::*;
use gridwork_sync_server::storage::NewUser;
use gridwork_sync_server::{DatabaseConfig, auth, open_storage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, Counter, ProcStats, ServerProc};

/// The workload sizes.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub devices: usize,
    pub per_device: usize,
    pub wave: usize,
    pub cold: usize,
    pub concurrent: usize,
    pub storm: usize,
    /// How long a peer may take for one workload before it is reported as timed out.
    pub peer_timeout: Duration,
    /// How long automerge-repo's cold pull, warm re-pull and storm may run: after it, no
    /// further document (or wave of clients) is started, and the row reports the part that
    /// finished. At full size its cold pull alone would take over an hour.
    /// `GRIDWORK_PEERS_BUDGET_S` sets another.
    pub peer_budget: Duration,
}

impl Sizes {
    pub const QUICK: Sizes = Sizes {
        devices: 50,
        per_device: 10,
        wave: 50,
        cold: 2_000,
        concurrent: 200,
        storm: 200,
        peer_timeout: Duration::from_secs(120),
        peer_budget: Duration::from_secs(120),
    };
    pub const FULL: Sizes = Sizes {
        devices: 500,
        per_device: 50,
        wave: 50,
        cold: 100_000,
        concurrent: 1_000,
        storm: 5_000,
        peer_timeout: Duration::from_secs(3_600),
        peer_budget: Duration::from_secs(600),
    };
}

/// One workload's figures for one system.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub secs: f64,
    pub records: usize,
    pub up: u64,
    pub down: u64,
    pub peak_mib: f64,
    pub cpu: f64,
    pub disk: u64,
    /// `None` when correct; otherwise what was wrong.
    pub wrong: Option<String>,
    pub note: String,
    /// When the peer's time budget ran out first: how much it finished, of how much
    /// (documents, or clients for the storm). The figures are over the part it finished.
    pub partial: Option<(usize, usize)>,
    /// When the peer failed part-way: how far it had got. Its time to finish is at least
    /// `after`, which bounds Gridwork's lead from below even without a finish.
    pub unfinished: Option<Unfinished>,
}

/// A workload that failed before it finished.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unfinished {
    /// Seconds from the start of its clock to the failure.
    pub after: f64,
    /// Units (devices, documents) confirmed done by then, of how many.
    pub done: usize,
    pub of: usize,
}

impl Figures {
    fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.records as f64 / self.secs
        } else {
            0.0
        }
    }
    fn bytes(&self) -> u64 {
        self.up + self.down
    }
    /// Marks the figures as over the part finished within the budget, and says so.
    fn set_partial(&mut self, done: usize, of: usize, budget_s: u64) {
        self.partial = Some((done, of));
        let sep = if self.note.is_empty() { "" } else { "; " };
        self.note = format!(
            "{}{sep}its {budget_s} s budget ran out: {done} of {of} done, figures over those",
            self.note
        );
    }
}

pub const WORKLOADS: [&str; 5] = [
    "burst",
    "cold pull",
    "warm re-pull",
    "concurrent edits",
    "storm",
];

/// Results: system name → workload → figures.
#[derive(Debug, Default)]
pub struct Report {
    pub systems: Vec<(String, BTreeMap<&'static str, Figures>)>,
}

impl Report {
    pub fn all_correct(&self) -> bool {
        self.failures().is_empty()
    }

    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (sys, w) in &self.systems {
            for name in WORKLOADS {
                match w.get(name) {
                    None => out.push(format!("{sys}: {name}: did not run")),
                    Some(f) => {
                        if let Some(e) = &f.wrong {
                            out.push(format!("{sys}: {name}: {e}"));
                        }
                    }
                }
            }
        }
        out
    }

    /// The figures of one workload on one system.
    pub fn get(&self, sys: &str, w: &str) -> Option<&Figures> {
        self.systems
            .iter()
            .find(|(s, _)| s == sys)
            .and_then(|(_, m)| m.get(w))
    }

    /// Adds one system's figures and prints the table so far, so that a long full run that is
    /// stopped part-way still leaves the systems it finished on the screen.
    fn add(&mut self, sys: &str, figures: BTreeMap<&'static str, Figures>) {
        self.systems.push((sys.to_owned(), figures));
        println!("\nSo far:\n{}", self.table());
    }

    /// The table: one row per workload and system, with each peer's ratio to Gridwork (SQLite).
    pub fn table(&self) -> String {
        let mut t = String::new();
        t.push_str(
            "| workload | system | wall s | records/s | wire KiB ↑/↓ | server peak MiB | server CPU s | disk MiB | correct | Gridwork's lead (speed · bytes) |\n",
        );
        t.push_str("|---|---|--:|--:|--:|--:|--:|--:|---|---|\n");
        for w in WORKLOADS {
            let base = self.get(GRIDWORK_SQLITE, w);
            for (sys, m) in &self.systems {
                let Some(f) = m.get(w) else { continue };
                let rate = if f.records > 0 {
                    format!("{:.0}", f.rate())
                } else {
                    "–".into()
                };
                let lead = match (base, f.unfinished) {
                    _ if sys == GRIDWORK_SQLITE => "1 (baseline)".into(),
                    // Not finished after `after` seconds: slower than a baseline that finished
                    // sooner, by at least this much.
                    // What it had sent by then is the least it would have sent.
                    (Some(b), Some(u)) if b.secs > 0.0 => {
                        let bytes = if f.bytes() > 0 && b.bytes() > 0 {
                            format!("≥ {:.2}×", f.bytes() as f64 / b.bytes() as f64)
                        } else {
                            "–".into()
                        };
                        format!("≥ {} · {bytes}", ratio(u.after / b.secs))
                    }
                    (Some(b), _) if b.secs > 0.0 && f.secs > 0.0 => {
                        let by_rate = f.records > 0 && b.records > 0;
                        let speed = if by_rate {
                            b.rate() / f.rate()
                        } else {
                            f.secs / b.secs
                        };
                        // A peer's time and bytes over part of the work are less than over
                        // all of it: those leads are at least this. A rate is not bounded.
                        let cut = if f.partial.is_some() { "≥ " } else { "" };
                        let bytes = if b.bytes() > 0 {
                            format!("{cut}{:.2}×", f.bytes() as f64 / b.bytes() as f64)
                        } else {
                            "–".into()
                        };
                        let at_least = if by_rate { "" } else { cut };
                        format!("{at_least}{} · {bytes}", ratio(speed))
                    }
                    _ => "–".into(),
                };
                let correct = match &f.wrong {
                    None if f.note.is_empty() => "yes".to_owned(),
                    None => format!("yes ({})", f.note),
                    Some(e) => format!("**NO**: {e}"),
                };
                let _ = writeln!(
                    t,
                    "| {w} | {sys} | {:.2} | {rate} | {:.0} / {:.0} | {:.0} | {:.1} | {:.1} | {correct} | {lead} |",
                    f.secs,
                    f.up as f64 / 1024.0,
                    f.down as f64 / 1024.0,
                    f.peak_mib,
                    f.cpu,
                    f.disk as f64 / 1_048_576.0,
                );
            }
        }
        t
    }

    /// The goals, each with its verdict (figures only: nothing here fails the run).
    pub fn goals(&self) -> String {
        let mut t = String::new();
        let g = |w: &str| self.get(GRIDWORK_SQLITE, w);
        let mut line = |text: String, ok: Option<bool>| {
            let v = match ok {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "n/a",
            };
            let _ = writeln!(t, "- {text}: {v}");
        };
        // A peer's figure counts only if its answer was right: a run that failed or crashed
        // has no speed to compare (its goal is "n/a", and the failure is listed below).
        let peer_ok = |peer: &str, w: &str| self.get(peer, w).filter(|f| f.wrong.is_none());
        let speedup = |w: &str, peer: &str| -> Option<f64> {
            let (b, p) = (g(w)?, peer_ok(peer, w)?);
            (p.rate() > 0.0).then(|| b.rate() / p.rate())
        };
        // The peer's wall time over part of the work is a lower bound of its time over all
        // of it: enough to say Gridwork was faster, not that it was slower.
        // So is the time at which a peer that failed part-way had not finished yet.
        let unfinished = |w: &str, peer: &str| self.get(peer, w).and_then(|p| p.unfinished);
        let faster = |w: &str, peer: &str| -> Option<f64> {
            let b = g(w).filter(|b| b.secs > 0.0)?;
            match (peer_ok(peer, w), unfinished(w, peer)) {
                (Some(p), _) => Some(p.secs / b.secs),
                (None, Some(u)) => Some(u.after / b.secs),
                (None, None) => None,
            }
        };
        let partial = |w: &str, peer: &str| peer_ok(peer, w).and_then(|p| p.partial);
        let over = |w: &str, peer: &str| match (partial(w, peer), unfinished(w, peer)) {
            (Some((done, of)), _) => {
                format!(", {peer} over the first {done} of {of} in its budget")
            }
            (None, Some(u)) => format!(
                ", {peer} failed unfinished after {:.1} s with {} of {} done",
                u.after, u.done, u.of
            ),
            (None, None) => String::new(),
        };
        let s = speedup("cold pull", POUCH);
        line(
            format!(
                "cold pull ≥ 10× pouchdb-server's records/s (measured {})",
                opt_ratio(s)
            ),
            s.map(|x| x >= 10.0),
        );
        let s = speedup("cold pull", AUTOMERGE);
        line(
            format!(
                "cold pull ≥ 300× automerge-repo's records/s (measured {}{})",
                opt_ratio(s),
                over("cold pull", AUTOMERGE)
            ),
            s.map(|x| x >= 300.0),
        );
        for w in ["burst", "storm"] {
            for peer in [POUCH, AUTOMERGE] {
                let s = faster(w, peer);
                let cut = partial(w, peer).is_some() || unfinished(w, peer).is_some();
                line(
                    format!(
                        "{w} faster than {peer} (measured {}{}{})",
                        if cut { "≥ " } else { "" },
                        opt_ratio(s),
                        over(w, peer)
                    ),
                    s.and_then(|x| (x > 1.0 || !cut).then_some(x > 1.0)),
                );
            }
        }
        for w in WORKLOADS {
            for peer in [POUCH, AUTOMERGE] {
                let Some(b) = g(w) else { continue };
                let (p, cut) = match (peer_ok(peer, w), self.get(peer, w)) {
                    (Some(p), _) => (p, partial(w, peer).is_some()),
                    // Failed part-way, it had sent this much: the least it would have sent.
                    (None, Some(p)) if p.unfinished.is_some() && p.bytes() > 0 => (p, true),
                    _ => continue,
                };
                let (b, p) = (b.bytes(), p.bytes());
                line(
                    format!(
                        "{w}: bytes on the wire ≤ {peer}'s ({:.0} KiB vs {}{:.0} KiB{})",
                        b as f64 / 1024.0,
                        if cut { "≥ " } else { "" },
                        p as f64 / 1024.0,
                        over(w, peer)
                    ),
                    (b <= p || !cut).then_some(b <= p),
                );
            }
        }
        t
    }
}

fn ratio(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

fn opt_ratio(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), ratio)
}

pub const GRIDWORK_SQLITE: &str = "Gridwork (SQLite)";
pub const GRIDWORK_PG: &str = "Gridwork (PostgreSQL)";
pub const POUCH: &str = "pouchdb-server";
pub const AUTOMERGE: &str = "automerge-repo";

// ---------------------------------------------------------------------------------------------
// Canonical JSON and the digest the Node side computes the same way.

fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                canonical(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

fn canon(v: &Value) -> String {
    let mut s = String::new();
    canonical(v, &mut s);
    s
}

/// SHA-256 over the records' canonical JSON, sorted bytewise, joined by "\n".
fn digest<'a>(values: impl IntoIterator<Item = &'a Value>) -> (usize, String) {
    let mut lines: Vec<String> = values.into_iter().map(canon).collect();
    lines.sort();
    let mut h = Sha256::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            h.update(b"\n");
        }
        h.update(l.as_bytes());
    }
    let hex = h.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    (lines.len(), hex)
}

// ---------------------------------------------------------------------------------------------
// The byte-counting proxy.

struct Proxy {
    url_host: String,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy on 127.0.0.1 forwarding to `upstream` (host:port), counting both directions.
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicU64::new(0));
        let (u, d) = (up.clone(), down.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let upstream = upstream.clone();
                let (u, d) = (u.clone(), d.clone());
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let a = tokio::spawn(pipe(cr, sw, u));
                    let b = tokio::spawn(pipe(sr, cw, d));
                    let _ = tokio::join!(a, b);
                });
            }
        });
        Proxy {
            url_host: addr.to_string(),
            up,
            down,
            task,
        }
    }

    fn counts(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::Relaxed),
            self.down.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    count: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                count.fetch_add(n as u64, Ordering::Relaxed);
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

/// Measures one workload on a server: bytes through the proxy, the server's peak memory (reset
/// at the start) and CPU seconds.
struct Meter {
    up: u64,
    down: u64,
    cpu: f64,
}

impl Meter {
    fn start(proxy: &Proxy, server: &ProcStats) -> Meter {
        server.reset_peak();
        let (up, down) = proxy.counts();
        Meter {
            up,
            down,
            cpu: server.cpu_secs(),
        }
    }

    /// Bytes through the proxy since the start, up and down: for a workload that failed
    /// part-way, the least it would have sent had it finished.
    fn sent(&self, proxy: &Proxy) -> (u64, u64) {
        let (up, down) = proxy.counts();
        (up - self.up, down - self.down)
    }

    fn finish(self, proxy: &Proxy, server: &ProcStats, secs: f64, records: usize) -> Figures {
        let (up, down) = proxy.counts();
        Figures {
            secs,
            records,
            up: up - self.up,
            down: down - self.down,
            peak_mib: server.peak_mib(),
            cpu: server.cpu_secs() - self.cpu,
            ..Figures::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The data: the same records for every system.

struct Data {
    /// The burst: each device's new records.
    devices: Vec<Vec<Record>>,
    /// More records, so that the cold pull has `cold` in all.
    top_up: Vec<Record>,
    /// Each record as JSON (what the peers store), by id.
    json: BTreeMap<String, Value>,
}

impl Data {
    fn make(sizes: &Sizes, grids: &[TerritoryPath]) -> Data {
        let devices: Vec<Vec<Record>> = (0..sizes.devices)
            .map(|d| {
                (0..sizes.per_device)
                    .map(|i| common::case_record(&grids[d % grids.len()], d * sizes.per_device + i))
                    .collect()
            })
            .collect();
        let burst = sizes.devices * sizes.per_device;
        let top_up = (burst..sizes.cold.max(burst))
            .map(|n| common::case_record(&grids[n % grids.len()], n))
            .collect();
        let mut data = Data {
            devices,
            top_up,
            json: BTreeMap::new(),
        };
        let all: Vec<(String, Value)> = data
            .all()
            .map(|r| (r.id().to_string(), serde_json::to_value(r).unwrap()))
            .collect();
        data.json.extend(all);
        data
    }

    fn all(&self) -> impl Iterator<Item = &Record> {
        self.devices.iter().flatten().chain(self.top_up.iter())
    }

    fn burst_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.devices.iter().flatten().map(|r| r.id().to_string())
    }

    /// A record's JSON, as the peers store it.
    fn json_of(&self, r: &Record) -> &Value {
        &self.json[&r.id().to_string()]
    }

    fn digest_of(&self, ids: impl Iterator<Item = String>) -> (usize, String) {
        let values: Vec<&Value> = ids.map(|id| &self.json[&id]).collect();
        digest(values)
    }
}

// ---------------------------------------------------------------------------------------------
// Gridwork

fn author(user: &str) -> Author {
    Author {
        user: user.into(),
        name: user.into(),
        device: "bench".into(),
    }
}

/// The same edits the peers make: in the first half both devices set the title; in the second
/// half A sets the title and B the number of persons involved.
fn edit(record: &mut Record, who: &str, i: usize, half: usize) {
    if let Record::Case(c) = record {
        if i < half || who == "A" {
            c.title = format!("{who} 改 {i}");
        } else {
            c.persons_involved = 999;
        }
    }
}

async fn gridwork(
    name: &str,
    bin: &Path,
    database: Option<&str>,
    sizes: &Sizes,
    data: &Data,
) -> BTreeMap<&'static str, Figures> {
    let mut out = BTreeMap::new();
    let dir = tempfile::tempdir().unwrap();
    let db_config = match database {
        Some(url) => DatabaseConfig::Postgres(url.to_owned()),
        None => DatabaseConfig::choose(dir.path(), None),
    };
    let server = ServerProc::start(bin, dir.path(), database);
    let stats = server.stats();
    let storage = open_storage(&db_config, 4).await.expect("open storage");
    let password = "bench-password";
    let sup = storage
        .add_user(NewUser {
            login: "bench-sup".into(),
            name: "督导".into(),
            role: Role::Supervisor,
            scope: "370214".into(),
            department: None,
            password_hash: auth::hash_password(password).unwrap(),
        })
        .await
        .unwrap();
    let direct = server.url.clone();
    let proxy = Proxy::start(direct.trim_start_matches("http://").to_owned()).await;
    let url = format!("http://{}", proxy.url_host);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let disk = || async {
        match database {
            Some(u) => common::pg_size(u).await,
            None => common::walk_size(dir.path()),
        }
    };
    let quiet = Counter::default();

    // 1. Offline burst: each device pushes its records' changes (the wire client, as the
    // device's sync machine sends them), 50 devices at a time. Each body is compressed up
    // front, as a device does on its own CPU before it reconnects.
    let tokens = common::register(storage.as_ref(), &sup.id, data.devices.len()).await;
    let bodies: Vec<(String, common::Upload)> = tokens
        .into_iter()
        .zip(&data.devices)
        .map(|(token, records)| {
            let actor = common::new_actor();
            let docs = records
                .iter()
                .map(|r| DocPush {
                    id: r.id().to_string(),
                    kind: "case".into(),
                    changes: common::doc_bytes(r, &actor).into(),
                })
                .collect();
            let push = PushRequest {
                protocol: PROTOCOL_VERSION,
                schema_version: SCHEMA_VERSION,
                docs,
            };
            (token, common::Upload::push(&push))
        })
        .collect();
    let count = Arc::new(Counter::default());
    let meter = Meter::start(&proxy, &stats);
    let t = Instant::now();
    let mut refused = 0usize;
    let mut bodies = bodies.into_iter();
    loop {
        let wave: Vec<_> = bodies.by_ref().take(sizes.wave).collect();
        if wave.is_empty() {
            break;
        }
        let tasks: Vec<_> = wave
            .into_iter()
            .map(|(token, body)| {
                let (http, url, count) = (http.clone(), format!("{url}/v1/push"), count.clone());
                tokio::spawn(async move {
                    let r = common::push_prepared(&http, &url, &token, &body, &count).await;
                    r.results
                        .iter()
                        .filter(|x| !matches!(x.outcome, wire::DocOutcome::Accepted { .. }))
                        .count()
                })
            })
            .collect();
        for task in tasks {
            refused += task.await.unwrap();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let burst_n = sizes.devices * sizes.per_device;
    let mut f = meter.finish(&proxy, &stats, secs, burst_n);
    f.disk = disk().await;
    // Check: a fresh pull (direct) holds exactly the burst's records.
    let check = common::register(storage.as_ref(), &sup.id, 1)
        .await
        .remove(0);
    let (items, _) = common::pull_items(&http, &direct, &check, &quiet).await;
    let got: Vec<Value> = items
        .iter()
        .map(|i| {
            RecordDoc::load(i.data.as_slice(), b"check")
                .map(|d| d.to_value())
                .unwrap_or(Value::Null)
        })
        .collect();
    let want = data.digest_of(data.burst_ids());
    let have = gw_digest(&got);
    if refused > 0 {
        f.wrong = Some(format!("{refused} records refused"));
    } else if have != want {
        f.wrong = Some(format!(
            "{} records on the server, {} sent, or contents differ",
            have.0, want.0
        ));
    }
    out.insert("burst", f);

    // Top up to the cold-pull size (set-up, direct).
    let bulk = common::register(storage.as_ref(), &sup.id, 1)
        .await
        .remove(0);
    common::push_records(&http, &direct, &bulk, &data.top_up, &quiet).await;

    // 2. Cold pull into a real device store (core's Store and sync, SQLite on the device), then
    // a warm re-pull with nothing new.
    let device_dir = tempfile::tempdir().unwrap();
    let store = std::sync::Mutex::new(Store::init(device_dir.path()).unwrap());
    gridwork_core::sync::login(&store, &url, "bench-sup", password)
        .await
        .expect("login");
    let meter = Meter::start(&proxy, &stats);
    let t = Instant::now();
    let report = gridwork_core::sync::sync_now(&store, &mut |_| {})
        .await
        .expect("sync");
    let secs = t.elapsed().as_secs_f64();
    let mut f = meter.finish(&proxy, &stats, secs, report.items);
    f.disk = disk().await;
    let want = data.digest_of(data.json.keys().cloned());
    let have = {
        let mut s = store.lock().unwrap();
        let ids = s.ids().unwrap();
        let values: Vec<Value> = ids.iter().map(|id| s.get_value(id).unwrap()).collect();
        gw_digest(&values)
    };
    if have != want {
        f.wrong = Some(format!(
            "{} records on the device, {} on the server, or contents differ",
            have.0, want.0
        ));
    }
    // For reference (not in the comparison): the same pull at the wire alone, no device store.
    let wire_token = common::register(storage.as_ref(), &sup.id, 1)
        .await
        .remove(0);
    let t = Instant::now();
    let (n, _) = common::pull_all(&http, &url, &wire_token, &quiet).await;
    f.note = format!(
        "wire alone, no device store: {:.0} rec/s",
        n as f64 / t.elapsed().as_secs_f64()
    );
    out.insert("cold pull", f);
    let meter = Meter::start(&proxy, &stats);
    let t = Instant::now();
    let report = gridwork_core::sync::sync_now(&store, &mut |_| {})
        .await
        .expect("sync");
    let secs = t.elapsed().as_secs_f64();
    let mut f = meter.finish(&proxy, &stats, secs, 0);
    f.disk = disk().await;
    if report.items != 0 {
        f.wrong = Some(format!("{} items on a warm re-pull", report.items));
    }
    out.insert("warm re-pull", f);

    // 3. Concurrent edits: two devices of one grid worker hold the same records, edit them
    // offline, then sync (A, B, A again). The records are in a grid of their own, so the two
    // devices hold exactly them.
    let territory = Territory::chengyang();
    let grid = territory.grids().last().unwrap();
    let grid_path = territory.path_of(&grid.code).unwrap();
    storage
        .add_user(NewUser {
            login: "bench-grid".into(),
            name: "网格员".into(),
            role: Role::GridWorker,
            scope: grid.code.clone(),
            department: None,
            password_hash: auth::hash_password(password).unwrap(),
        })
        .await
        .unwrap();
    let records: Vec<Record> = (0..sizes.concurrent)
        .map(|i| common::case_record(&grid_path, 10_000_000 + i))
        .collect();
    let ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
    common::push_records(&http, &direct, &bulk, &records, &quiet).await;
    let half = ids.len() / 2;
    let mut devices = Vec::new();
    let mut dirs = Vec::new();
    for who in ["A", "B"] {
        let d = tempfile::tempdir().unwrap();
        let s = std::sync::Mutex::new(Store::init(d.path()).unwrap());
        gridwork_core::sync::login(&s, &url, "bench-grid", password)
            .await
            .expect("login");
        gridwork_core::sync::sync_now(&s, &mut |_| {})
            .await
            .expect("sync");
        {
            let mut st = s.lock().unwrap();
            for (i, id) in ids.iter().enumerate() {
                st.update(id, &author(who), |r| {
                    edit(r, who, i, half);
                    Ok::<(), ()>(())
                })
                .unwrap()
                .unwrap();
            }
        }
        devices.push(s);
        dirs.push(d);
    }
    let meter = Meter::start(&proxy, &stats);
    let t = Instant::now();
    for s in [&devices[0], &devices[1], &devices[0]] {
        gridwork_core::sync::sync_now(s, &mut |_| {})
            .await
            .expect("sync");
    }
    let secs = t.elapsed().as_secs_f64();
    let mut f = meter.finish(&proxy, &stats, secs, 2 * ids.len());
    f.disk = disk().await;
    let (mut agree, mut kept) = (0, 0);
    {
        let mut a = devices[0].lock().unwrap();
        let mut b = devices[1].lock().unwrap();
        for (i, id) in ids.iter().enumerate() {
            let (x, y) = (a.get_value(id).unwrap(), b.get_value(id).unwrap());
            if canon(&x) == canon(&y) {
                agree += 1;
            }
            if i >= half
                && x["title"] == json!(format!("A 改 {i}"))
                && x["persons_involved"] == json!(999)
            {
                kept += 1;
            }
        }
    }
    concurrent_verdict(&mut f, agree, ids.len(), kept, ids.len() - half);
    out.insert("concurrent edits", f);

    // 4. Reconnect storm: devices whose cursor is at the head pull (nothing new), 100 at a time.
    gridwork_core::sync::sync_now(&store, &mut |_| {})
        .await
        .expect("sync");
    let head: u64 = store
        .lock()
        .unwrap()
        .meta("sync.cursor")
        .unwrap()
        .and_then(|c| c.parse().ok())
        .expect("a cursor");
    let storm_tokens = common::register(storage.as_ref(), &sup.id, sizes.storm).await;
    let count = Arc::new(Counter::default());
    let meter = Meter::start(&proxy, &stats);
    let t = Instant::now();
    let mut wrong = 0usize;
    let mut tokens = storm_tokens.into_iter();
    loop {
        let wave: Vec<_> = tokens.by_ref().take(100).collect();
        if wave.is_empty() {
            break;
        }
        let tasks: Vec<_> = wave
            .into_iter()
            .map(|token| {
                let (http, url, count) = (http.clone(), format!("{url}/v1/pull"), count.clone());
                tokio::spawn(async move {
                    common::pull_at_head(&http, &url, &token, head, &count).await
                })
            })
            .collect();
        for task in tasks {
            wrong += usize::from(!task.await.unwrap());
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let mut f = meter.finish(&proxy, &stats, secs, 0);
    f.disk = disk().await;
    if wrong > 0 {
        f.wrong = Some(format!("{wrong} devices were sent something"));
    }
    out.insert("storm", f);
    drop(server);
    println!("  {name}: done");
    out
}

/// The digest of Gridwork documents' values, as records (what the peers store).
fn gw_digest(values: &[Value]) -> (usize, String) {
    // A document's value is the record's JSON; parse and re-serialize through the record type
    // so that the comparison is with the JSON the peers were given.
    let records: Vec<Value> = values
        .iter()
        .map(|v| {
            serde_json::from_value::<Record>(v.clone())
                .ok()
                .and_then(|r| serde_json::to_value(r).ok())
                .unwrap_or(Value::Null)
        })
        .collect();
    digest(&records)
}

fn concurrent_verdict(f: &mut Figures, agree: usize, n: usize, kept: usize, different: usize) {
    if agree != n {
        f.wrong = Some(format!(
            "the two devices differ on {} of {n} records",
            n - agree
        ));
    }
    f.note = format!("both edits kept on {kept}/{different} different-field records");
}

// ---------------------------------------------------------------------------------------------
// The peers (Node)

/// Where the peers are installed: `GRIDWORK_PEERS_DIR`, or ~/.cache/gridwork/peers.
pub fn peers_dir() -> PathBuf {
    if let Ok(d) = std::env::var("GRIDWORK_PEERS_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/gridwork/peers")
}

/// `bench/peers` of the clone cargo runs us in (`CARGO_MANIFEST_DIR` at run time: the build
/// cache may be shared with another clone).
fn repo_peers() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../bench/peers")
}

/// Installs the peers from the npm registry (`npm install` from bench/peers' lock file) into
/// [`peers_dir`], unless the same lock file is installed there already. Copies the scripts.
pub fn install_peers() -> Result<PathBuf, String> {
    let src = repo_peers();
    let dst = peers_dir();
    std::fs::create_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
    let lock = std::fs::read(src.join("package-lock.json"))
        .map_err(|e| format!("bench/peers/package-lock.json: {e}"))?;
    let installed = std::fs::read(dst.join(".installed-lock")).unwrap_or_default();
    if installed != lock || !dst.join("node_modules").exists() {
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(src.join(f), dst.join(f)).map_err(|e| format!("copy {f}: {e}"))?;
        }
        eprintln!("installing the peers (npm install) into {}…", dst.display());
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dst)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| {
                format!("cannot run npm ({e}): the peers need Node.js 20 and npm (apt-get install nodejs npm)")
            })?;
        if !status.success() {
            return Err(format!(
                "`npm install` in {} failed ({status}): the peers come from the npm registry",
                dst.display()
            ));
        }
        std::fs::write(dst.join(".installed-lock"), &lock).map_err(|e| e.to_string())?;
    }
    std::fs::copy(src.join("peers.mjs"), dst.join("peers.mjs"))
        .map_err(|e| format!("copy peers.mjs: {e}"))?;
    Ok(dst)
}

/// The last `n` lines of a process's output, in order, on one line (for a table cell).
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// A step of `peers.mjs` that failed: what it said, and how far it had got when it says so.
#[derive(Debug)]
struct StepError {
    message: String,
    unfinished: Option<Unfinished>,
}

impl From<StepError> for String {
    fn from(e: StepError) -> String {
        e.message
    }
}

struct Node {
    dir: PathBuf,
    work: PathBuf,
    n: usize,
}

impl Node {
    /// Runs `node peers.mjs <cmd> <args>` and returns its JSON answer.
    fn run(&mut self, cmd: &str, args: &Value) -> Result<Value, StepError> {
        self.n += 1;
        let file = self.work.join(format!("args-{}.json", self.n));
        std::fs::write(&file, serde_json::to_vec(args).unwrap()).unwrap();
        let out = Command::new("node")
            .arg("--max-old-space-size=8192")
            .arg(self.dir.join("peers.mjs"))
            .arg(cmd)
            .arg(&file)
            .current_dir(&self.work)
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| StepError {
                message: format!("node: {e}"),
                unfinished: None,
            })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or_default();
        let v: Value = serde_json::from_str(last).unwrap_or(Value::Null);
        if !out.status.success() || v.get("error").is_some() || v.is_null() {
            let err = String::from_utf8_lossy(&out.stderr);
            let u = &v["unfinished"];
            let count = |k: &str| usize::try_from(u[k].as_u64().unwrap_or(0)).unwrap_or(0);
            return Err(StepError {
                message: format!("{cmd} failed: {} {}", v["error"], last_lines(&err, 8)),
                unfinished: u["after"].as_f64().map(|after| Unfinished {
                    after,
                    done: count("done"),
                    of: count("of"),
                }),
            });
        }
        Ok(v)
    }

    fn write(&self, name: &str, v: &Value) -> PathBuf {
        let p = self.work.join(name);
        std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        p
    }
}

fn secs(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn failed(e: impl Into<String>) -> Figures {
    Figures {
        wrong: Some(e.into()),
        ..Figures::default()
    }
}

async fn pouchdb(node: &mut Node, sizes: &Sizes, data: &Data) -> BTreeMap<&'static str, Figures> {
    let mut out = BTreeMap::new();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Kill(
        Command::new("node")
            .arg(
                node.dir
                    .join("node_modules/pouchdb-server/bin/pouchdb-server"),
            )
            .args(["--port", &port.to_string(), "--dir", "."])
            .args(["--config", "./config.json", "--no-stdout-logs"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pouchdb-server"),
    );
    wait_port(port);
    let stats = ProcStats(server.0.id());
    let direct = format!("http://127.0.0.1:{port}");
    let proxy = Proxy::start(format!("127.0.0.1:{port}")).await;
    let url = format!("http://{}", proxy.url_host);
    let http = reqwest::Client::new();
    let db = "cases";
    http.put(format!("{direct}/{db}")).send().await.unwrap();
    let disk = || common::walk_size(dir.path());

    // The same set-up the Node side is given: file paths and sizes.
    let devices = node.write(
        "devices.json",
        &json!(
            data.devices
                .iter()
                .map(|d| d.iter().map(|r| data.json_of(r)).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        ),
    );
    let base = json!({"url": url, "direct": direct, "db": db, "wave": sizes.wave});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };

    // 1. Burst.
    let meter = Meter::start(&proxy, &stats);
    let r = node.run("pouch-burst", &with(json!({"records": devices})));
    let burst_n = sizes.devices * sizes.per_device;
    let f = match r {
        Ok(v) => {
            let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), burst_n);
            f.disk = disk();
            let have = pouch_digest(&http, &direct, db).await;
            if have != data.digest_of(data.burst_ids()) {
                f.wrong = Some(format!(
                    "{} records on the server, or contents differ",
                    have.0
                ));
            }
            f
        }
        Err(e) => failed(e),
    };
    out.insert("burst", f);

    // Top up (set-up, direct): _bulk_docs, 1,000 at a time.
    for chunk in data.top_up.chunks(1000) {
        let docs: Vec<Value> = chunk
            .iter()
            .map(|r| {
                let id = r.id().to_string();
                let mut v = data.json[&id].clone();
                v["_id"] = json!(id);
                v
            })
            .collect();
        let resp = http
            .post(format!("{direct}/{db}/_bulk_docs"))
            .json(&json!({ "docs": docs }))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "_bulk_docs: {}", resp.status());
    }

    // 2. Cold pull into a fresh device (LevelDB on disk), then a warm re-pull.
    let path = node.work.join("pouch-device");
    let args = with(json!({"path": path}));
    let meter = Meter::start(&proxy, &stats);
    let f = match node.run("pouch-pull", &args) {
        Ok(v) => {
            let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), data.json.len());
            f.disk = disk();
            cold_verdict(&mut f, &v, data.digest_of(data.json.keys().cloned()));
            f
        }
        Err(e) => failed(e),
    };
    out.insert("cold pull", f);
    let meter = Meter::start(&proxy, &stats);
    let f = match node.run("pouch-warm", &args) {
        Ok(v) => {
            let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), 0);
            f.disk = disk();
            if v["written"].as_u64() != Some(0) {
                f.wrong = Some(format!("{} documents on a warm re-pull", v["written"]));
            }
            f
        }
        Err(e) => failed(e),
    };
    out.insert("warm re-pull", f);

    // 3. Concurrent edits on the first records.
    let ids: Vec<String> = data.json.keys().take(sizes.concurrent).cloned().collect();
    let meter = Meter::start(&proxy, &stats);
    let f = match node.run("pouch-concurrent", &with(json!({"ids": ids}))) {
        Ok(v) => {
            let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), 2 * ids.len());
            f.disk = disk();
            concurrent_verdict(
                &mut f,
                v["agree"].as_u64().unwrap_or(0) as usize,
                ids.len(),
                v["both_kept"].as_u64().unwrap_or(0) as usize,
                v["different_fields"].as_u64().unwrap_or(0) as usize,
            );
            let _ = write!(f.note, "; {} extra sync rounds", v["rounds"]);
            f
        }
        Err(e) => failed(e),
    };
    out.insert("concurrent edits", f);

    // 4. Storm: devices whose checkpoint is at the head reconnect (pull).
    let info: Value = http
        .get(format!("{direct}/{db}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let since = info["update_seq"].clone();
    let meter = Meter::start(&proxy, &stats);
    let args = with(json!({"clients": sizes.storm, "wave": 100, "since": since}));
    let f = match node.run("pouch-storm", &args) {
        Ok(v) => {
            let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), 0);
            f.disk = disk();
            if v["written"].as_u64() != Some(0) {
                f.wrong = Some(format!(
                    "{} documents sent to devices with nothing new",
                    v["written"]
                ));
            }
            f
        }
        Err(e) => failed(e),
    };
    out.insert("storm", f);
    drop(server);
    println!("  {POUCH}: done");
    out
}

async fn pouch_digest(http: &reqwest::Client, direct: &str, db: &str) -> (usize, String) {
    let all: Value = http
        .get(format!("{direct}/{db}/_all_docs?include_docs=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let docs: Vec<Value> = all["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    let mut d = r["doc"].clone();
                    if let Some(m) = d.as_object_mut() {
                        m.remove("_id");
                        m.remove("_rev");
                    }
                    d
                })
                .collect()
        })
        .unwrap_or_default();
    digest(&docs)
}

/// Checks a cold pull's answer (`count`, `digest`) against the records in `want`: every
/// record, or those a peer pulled within its budget.
fn cold_verdict(f: &mut Figures, v: &Value, want: (usize, String)) {
    let have = (
        usize::try_from(v["count"].as_u64().unwrap_or(0)).unwrap_or(0),
        v["digest"].as_str().unwrap_or_default().to_owned(),
    );
    if have != want {
        f.wrong = Some(format!(
            "{} records on the device, {} on the server, or contents differ",
            have.0, want.0
        ));
    }
}

/// Whether a peer's command stopped at its budget, and how far it got (`done` of `of`, or
/// for the cold pull `count` of `total`).
fn partial_of(v: &Value, total: usize) -> Option<(usize, usize)> {
    let n = |k: &str| v[k].as_u64().and_then(|x| usize::try_from(x).ok());
    (v["partial"].as_bool() == Some(true)).then(|| {
        (
            n("done").or(n("count")).unwrap_or(0),
            n("of").unwrap_or(total),
        )
    })
}

/// An automerge-repo sync server (`peers.mjs am-serve`): a Node process with a Repo, the
/// WebSocket server adapter and filesystem storage in `dir`.
struct AmServer {
    child: Kill,
    port: u16,
    stdin: Option<std::process::ChildStdin>,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    /// Its standard error.
    log: PathBuf,
}

impl AmServer {
    fn start(node: &Node, dir: &Path) -> AmServer {
        use std::io::BufRead;
        let args = node.write("am-serve.json", &json!({ "dir": dir }));
        // Kept beside the installed peers (outside the run's temp dir), so that a crash can be
        // read after the run.
        let log = node.dir.join("am-serve.log");
        let err = std::fs::File::create(&log).expect("the automerge-repo server's log");
        let mut child = Command::new("node")
            .arg("--max-old-space-size=8192")
            .arg(node.dir.join("peers.mjs"))
            .arg("am-serve")
            .arg(args)
            .current_dir(&node.work)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .expect("start the automerge-repo server");
        let stdin = child.stdin.take();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the automerge-repo server said {line:?}"));
        AmServer {
            child: Kill(child),
            port,
            stdin,
            stdout,
            log,
        }
    }

    /// A workload's error, with the server's exit and last words if it has died.
    fn explain(&mut self, e: impl Into<String>) -> String {
        let e = e.into();
        match self.child.0.try_wait() {
            Ok(Some(status)) => {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                format!(
                    "{e} — the automerge-repo server had exited ({status}): {} (log: {})",
                    last_lines(&log, 6),
                    self.log.display()
                )
            }
            _ => e,
        }
    }

    fn stats(&self) -> ProcStats {
        ProcStats(self.child.0.id())
    }

    /// The figures of a step that failed. When it said how far it had got, the row says so
    /// and keeps that as a bound of the time it would have taken (see [`Unfinished`]).
    fn failed_part_way(&mut self, e: StepError, units: &str) -> Figures {
        let unfinished = e.unfinished;
        let mut f = failed(self.explain(e));
        if let (Some(u), Some(wrong)) = (unfinished, f.wrong.as_mut()) {
            let _ = write!(
                wrong,
                " (unfinished after {:.1} s of its clock: {} of {} {units})",
                u.after, u.done, u.of
            );
        }
        f.unfinished = unfinished;
        f
    }

    /// The server's own view of the documents `ids` (a file of record id → URL): count, digest.
    fn check(&mut self, ids: &Path) -> (usize, String) {
        use std::io::{BufRead, Write};
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "check {}", ids.display()).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        (
            usize::try_from(v["count"].as_u64().unwrap_or(0)).unwrap_or(0),
            v["digest"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Closes stdin: the server flushes its storage and exits.
    fn stop(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Writes `records` straight into the storage `store` of a stopped automerge-repo server
/// (set-up, not measured); each record's document URL goes to `ids_out`, by record id.
fn am_seed<'a>(
    node: &mut Node,
    store: &Path,
    name: &str,
    records: impl Iterator<Item = &'a Record>,
    data: &Data,
    ids_out: &Path,
) -> Result<Value, String> {
    let values: Vec<&Value> = records.map(|r| data.json_of(r)).collect();
    let file = node.write(&format!("{name}.json"), &json!(values));
    node.run(
        "am-seed",
        &json!({"dir": store, "records": file, "ids_out": ids_out}),
    )
    .map_err(String::from)
}

async fn automerge(node: &mut Node, sizes: &Sizes, data: &Data) -> BTreeMap<&'static str, Figures> {
    let mut out = BTreeMap::new();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("server");
    // The top-up to the cold-pull size (set-up): written straight into the server's storage
    // before it starts (a restart of the server has been seen to lose documents, see
    // docs/benchmarks.md), the way the Gridwork servers' top-up is a bulk push.
    let top_ids = node.work.join("am-top-ids.json");
    // `GRIDWORK_PEERS_AM_WORKLOADS=storm,...` runs only those of its workloads after the
    // burst (which the storm's documents come from): all of them take about an hour.
    let only = std::env::var("GRIDWORK_PEERS_AM_WORKLOADS").unwrap_or_default();
    let wants = |w: &str| only.is_empty() || only.split(',').any(|x| x.trim() == w);
    if wants("cold pull") || wants("concurrent edits") {
        am_seed(node, &store, "top-up", data.top_up.iter(), data, &top_ids)
            .expect("seed the automerge-repo server's storage");
    } else {
        std::fs::write(&top_ids, b"{}").unwrap();
    }
    let mut server = AmServer::start(node, &store);
    let mut proxy = Proxy::start(format!("127.0.0.1:{}", server.port)).await;
    let timeout_ms = u64::try_from(sizes.peer_timeout.as_millis()).unwrap_or(u64::MAX);
    let budget_s = std::env::var("GRIDWORK_PEERS_BUDGET_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(sizes.peer_budget.as_secs());
    let disk = || common::walk_size(&store);
    let devices = node.write(
        "devices.json",
        &json!(
            data.devices
                .iter()
                .map(|d| d.iter().map(|r| data.json_of(r)).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        ),
    );
    let burst_ids = node.work.join("am-burst-ids.json");
    let all_ids = node.work.join("am-all-ids.json");
    let base = |proxy: &Proxy| {
        json!({
            "url": format!("ws://{}", proxy.url_host),
            // Set-up reads the documents' files there instead of fetching them.
            "storage": store,
            "wave": sizes.wave,
            "timeout_ms": timeout_ms,
            "budget_ms": budget_s * 1000,
            "concurrency": 16,
        })
    };
    let with = |b: Value, extra: Value| {
        let mut b = b;
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };

    // 1. Burst: each device a Repo creating its records; done when the server has them all.
    let stats = server.stats();
    let meter = Meter::start(&proxy, &stats);
    let args = with(
        base(&proxy),
        json!({"records": devices, "ids_out": burst_ids}),
    );
    let burst_n = sizes.devices * sizes.per_device;
    let burst_ok = match node.run("am-burst", &args) {
        Ok(v) => {
            let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), burst_n);
            f.disk = disk();
            let have = server.check(&burst_ids);
            if have != data.digest_of(data.burst_ids()) {
                f.wrong = Some(format!(
                    "{} records on the server, or contents differ",
                    have.0
                ));
            }
            out.insert("burst", f);
            true
        }
        Err(e) => {
            let sent = meter.sent(&proxy);
            let mut f = server.failed_part_way(e, "devices confirmed");
            (f.up, f.down) = sent;
            out.insert("burst", f);
            false
        }
    };
    // The later workloads need the burst's documents. When the burst failed (at full size
    // the server has been seen to exit under it), they are written into the storage the way
    // the top-up was, and a fresh server serves them: the burst's row keeps its failure, and
    // the other workloads are still measured. The rows after it say so.
    let seeded = !burst_ok;
    if seeded {
        server.stop();
        drop(proxy);
        let burst = data.devices.iter().flatten();
        if let Err(e) = am_seed(node, &store, "burst-seed", burst, data, &burst_ids) {
            for w in ["cold pull", "warm re-pull", "concurrent edits", "storm"] {
                out.insert(
                    w,
                    failed(format!(
                        "skipped: seeding the burst's documents failed: {e}"
                    )),
                );
            }
            return out;
        }
        server = AmServer::start(node, &store);
        proxy = Proxy::start(format!("127.0.0.1:{}", server.port)).await;
    }
    let stats = server.stats();
    let after_seed = |f: &mut Figures| {
        if seeded {
            let sep = if f.note.is_empty() { "" } else { "; " };
            f.note = format!(
                "the burst's documents seeded into storage after the burst failed{sep}{}",
                f.note
            );
        }
    };

    let mut ids: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(&burst_ids).unwrap()).unwrap();
    let more: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(&top_ids).unwrap()).unwrap();
    ids.extend(more);
    std::fs::write(&all_ids, serde_json::to_vec(&ids).unwrap()).unwrap();

    // The storm's devices' documents as the server holds them now, right after the burst
    // (set-up). The storm reads them again, as the other workloads edit some, but after those
    // a document has been seen to have no changes left in the server's storage
    // (docs/benchmarks.md): its device then holds it as read here.
    let storm_setup = wants("storm").then(|| {
        let by_device: Vec<Vec<Value>> = data
            .devices
            .iter()
            .map(|d| d.iter().map(|r| ids[&r.id().to_string()].clone()).collect())
            .collect();
        let devices = node.write("am-storm-devices.json", &json!(by_device));
        let binaries = node.work.join("am-storm-binaries.json");
        let args = json!({"storage": store, "devices": devices, "out": binaries});
        node.run("am-export", &args)
            .map(|_| (devices, binaries))
            .map_err(|e| format!("the storm's set-up: {}", String::from(e)))
    });

    if wants("cold pull") {
        // 2. Cold pull, then a warm re-pull from the same client storage.
        let client = node.work.join("am-device");
        // The documents the client pulled (all, unless its budget ran out): the warm re-pull
        // syncs these again.
        let pulled = node.work.join("am-pulled-ids.json");
        let args = with(
            base(&proxy),
            json!({"ids": all_ids, "dir": client, "pulled_out": pulled}),
        );
        let meter = Meter::start(&proxy, &stats);
        let cold_ok = match node.run("am-pull", &args).map_err(|e| server.explain(e)) {
            Ok(v) => {
                let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), data.json.len());
                f.disk = disk();
                let got: serde_json::Map<String, Value> = std::fs::read(&pulled)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or_default();
                let part = partial_of(&v, data.json.len());
                let want = if part.is_some() {
                    data.digest_of(got.keys().cloned())
                } else {
                    data.digest_of(data.json.keys().cloned())
                };
                cold_verdict(&mut f, &v, want);
                if v["retries"].as_u64().unwrap_or(0) > 0 {
                    f.note = format!("{} finds asked again after \"unavailable\"", v["retries"]);
                }
                if let Some((done, of)) = part {
                    f.records = done;
                    f.set_partial(done, of, budget_s);
                }
                let ok = f.wrong.is_none();
                after_seed(&mut f);
                out.insert("cold pull", f);
                ok
            }
            Err(e) => {
                out.insert("cold pull", failed(e));
                false
            }
        };
        let mut f = if cold_ok {
            let meter = Meter::start(&proxy, &stats);
            let args = with(args, json!({"ids": pulled}));
            match node.run("am-warm", &args).map_err(|e| server.explain(e)) {
                Ok(v) => {
                    let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), 0);
                    f.disk = disk();
                    if let Some((done, of)) = partial_of(&v, 0) {
                        f.set_partial(done, of, budget_s);
                    }
                    if v["written"].as_u64() != Some(0) {
                        f.wrong = Some(format!(
                            "{} documents changed on a warm re-pull",
                            v["written"]
                        ));
                    }
                    f
                }
                Err(e) => failed(e),
            }
        } else {
            failed("skipped: the cold pull did not complete")
        };
        after_seed(&mut f);
        out.insert("warm re-pull", f);
    }

    if wants("concurrent edits") {
        // 3. Concurrent edits on the same records as the other peers.
        let urls: Vec<Value> = data
            .json
            .keys()
            .take(sizes.concurrent)
            .map(|id| ids[id].clone())
            .collect();
        let args = with(base(&proxy), json!({"ids": urls}));
        let meter = Meter::start(&proxy, &stats);
        let mut f = match node
            .run("am-concurrent", &args)
            .map_err(|e| server.explain(e))
        {
            Ok(v) => {
                let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), 2 * urls.len());
                f.disk = disk();
                concurrent_verdict(
                    &mut f,
                    usize::try_from(v["agree"].as_u64().unwrap_or(0)).unwrap_or(0),
                    urls.len(),
                    usize::try_from(v["both_kept"].as_u64().unwrap_or(0)).unwrap_or(0),
                    usize::try_from(v["different_fields"].as_u64().unwrap_or(0)).unwrap_or(0),
                );
                f
            }
            Err(e) => failed(e),
        };
        after_seed(&mut f);
        out.insert("concurrent edits", f);
    }

    if let Some(setup) = storm_setup {
        // 4. Storm: devices holding their own burst records, in sync, reconnect.
        let mut f = match setup {
            Err(e) => failed(e),
            Ok((devices, binaries)) => {
                let args = with(
                    base(&proxy),
                    json!({
                        "devices": devices,
                        "binaries": binaries,
                        "clients": sizes.storm,
                        "wave": 100,
                    }),
                );
                let meter = Meter::start(&proxy, &stats);
                match node.run("am-storm", &args) {
                    Ok(v) => {
                        let mut f = meter.finish(&proxy, &stats, secs(&v, "secs"), 0);
                        f.disk = disk();
                        f.note = format!("{} documents per device", sizes.per_device);
                        let lost = v["lost"].as_u64().unwrap_or(0);
                        if lost > 0 {
                            let _ = write!(
                                f.note,
                                "; {lost} lost from the server's storage since the burst, sent again by their devices"
                            );
                        }
                        if let Some((done, of)) = partial_of(&v, sizes.storm) {
                            f.set_partial(done, of, budget_s);
                        }
                        f
                    }
                    Err(e) => {
                        let sent = meter.sent(&proxy);
                        let mut f = server.failed_part_way(e, "clients done");
                        (f.up, f.down) = sent;
                        f
                    }
                }
            }
        };
        after_seed(&mut f);
        out.insert("storm", f);
    }
    server.stop();
    drop(proxy);
    println!("  {AUTOMERGE}: done");
    out
}

/// Runs every system on every workload and returns the figures.
pub async fn run(sizes: Sizes) -> Result<Report, String> {
    let bin = common::server_bin();
    if !bin.exists() {
        return Err(format!(
            "no server binary at {} — build it first (`cargo build --release -p gridwork-sync-server`) or set GRIDWORK_SERVER_BIN; `cargo xtask bench --peers` does both",
            bin.display()
        ));
    }
    let dir = install_peers()?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut node = Node {
        dir,
        work: work.path().to_owned(),
        n: 0,
    };
    let territory = Territory::chengyang();
    let grids: Vec<TerritoryPath> = territory
        .grids()
        .take(sizes.devices.clamp(1, 500))
        .map(|g| territory.path_of(&g.code).unwrap())
        .collect();
    let data = Data::make(&sizes, &grids);
    let mut report = Report::default();

    // `GRIDWORK_PEERS_ONLY=gridwork,pouchdb,automerge` (any of them) runs only those.
    let only = std::env::var("GRIDWORK_PEERS_ONLY").unwrap_or_default();
    let wanted = |s: &str| only.is_empty() || only.split(',').any(|o| o.trim() == s);
    if wanted("gridwork") {
        let r = gridwork(GRIDWORK_SQLITE, &bin, None, &sizes, &data).await;
        report.add(GRIDWORK_SQLITE, r);
        if let Some((url, admin, name)) = common::fresh_pg().await {
            let r = gridwork(GRIDWORK_PG, &bin, Some(&url), &sizes, &data).await;
            common::drop_pg(&admin, &name).await;
            report.add(GRIDWORK_PG, r);
        } else {
            println!("  {GRIDWORK_PG}: skipped (GRIDWORK_TEST_DATABASE_URL not set)");
        }
    }
    if wanted("pouchdb") {
        let r = pouchdb(&mut node, &sizes, &data).await;
        report.add(POUCH, r);
    }
    if wanted("automerge") {
        let r = automerge(&mut node, &sizes, &data).await;
        report.add(AUTOMERGE, r);
    }
    Ok(report)
}
