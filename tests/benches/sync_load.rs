//! A sync load run on loopback against a real `gridwork-server` process (SQLite, and
//! PostgreSQL when `GRIDWORK_TEST_DATABASE_URL` is set), printing figures next to the goals:
//!
//! 1. offline burst: N devices × M new records pushed, 50 devices at a time;
//! 2. a supervisor's cold pull of every record (wire only, and into a real device store);
//! 3. a warm re-pull with nothing new;
//! 4. a reconnect storm: many devices with nothing new pull at once;
//! 5. bytes on the wire vs. the records' zstd-compressed JSON; server peak memory and CPU.
//!
//! `cargo xtask bench` runs it (it sets `GRIDWORK_SERVER_BIN`); `--quick` (or
//! `GRIDWORK_BENCH_QUICK=1`) uses small sizes.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_schema::frame;
use gridwork_schema::territory::Territory;
use gridwork_schema::wire::{
    DocPush, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse,
};
use gridwork_schema::*;
use gridwork_sync_server::storage::{NewUser, Storage};
use gridwork_sync_server::{DatabaseConfig, auth, open_storage};

struct Sizes {
    devices: usize,
    per_device: usize,
    cold: usize,
    storm: usize,
}

struct ServerProc {
    child: Child,
    url: String,
}

impl ServerProc {
    fn start(bin: &Path, data: &Path, database: Option<&str>) -> ServerProc {
        let mut cmd = Command::new(bin);
        cmd.arg("--data").arg(data);
        if let Some(db) = database {
            cmd.arg("--database").arg(db);
        }
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap();
        let mut url = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(u) = line.split("listening on ").nth(1) {
                url = u.trim().to_owned();
                break;
            }
        }
        assert!(!url.is_empty(), "the server did not say where it listens");
        ServerProc { child, url }
    }

    fn proc_field(&self, file: &str, key: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/{file}", self.child.id())).ok()?;
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }

    /// Peak resident memory in MiB.
    fn peak_mib(&self) -> f64 {
        self.proc_field("status", "VmHWM:").unwrap_or(0) as f64 / 1024.0
    }

    /// User + system CPU seconds.
    fn cpu_secs(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        ticks as f64 / 100.0
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SENTENCES: [&str; 16] = [
    "楼上住户卫生间漏水，楼下住户要求赔偿。",
    "双方多次争吵，网格员已上门了解情况。",
    "小区物业费上涨，部分业主拒绝缴纳。",
    "工地夜间施工噪音扰民，居民多次投诉。",
    "宅基地边界不清，两户村民发生争执。",
    "装修公司拖欠工人工资三个月。",
    "租户提前退租，房东拒绝退还押金。",
    "邻居在公共楼道堆放杂物，存在消防隐患。",
    "养犬未拴绳，咬伤路过的老人。",
    "停车位被长期占用，业主之间矛盾激化。",
    "征地补偿款分配不均，村民意见较大。",
    "婚姻家庭矛盾，双方就抚养费未达成一致。",
    "餐馆油烟直排，影响楼上住户生活。",
    "快递驿站占道经营，行人通行不便。",
    "交通事故赔偿未落实，当事人情绪激动。",
    "已联系社区法律工作者提供咨询。",
];
const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: [&str; 12] = [
    "秀英", "建国", "桂兰", "志强", "丽", "伟", "芳", "军", "敏", "静", "磊", "洋",
];

/// A splitmix step: varied but reproducible bench data.
fn mix(n: usize, salt: u64) -> usize {
    let mut z = (n as u64)
        .wrapping_add(salt.wrapping_mul(0x0123_4567))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as usize
}

/// A case as grid workers record them: varied text, two parties, one event.
fn case_record(grid: &TerritoryPath, n: usize) -> Record {
    let pick = |salt: u64, len: usize| mix(n, salt) % len;
    let by = UserRef::new(format!("u{}", n % 997), format!("网格员{}", n % 997));
    let description: String = (0..2 + pick(1, 3))
        .map(|i| SENTENCES[pick(10 + i as u64, SENTENCES.len())])
        .collect();
    let name = |salt: u64| {
        format!(
            "{}{}",
            SURNAMES[pick(salt, SURNAMES.len())],
            GIVEN[pick(salt + 1, GIVEN.len())]
        )
    };
    let phone = |salt: u64| format!("13{:09}", mix(n, salt) % 1_000_000_000);
    Record::Case(Case {
        id: RecordId::new_v7(),
        territory: grid.clone(),
        created_by: by.clone(),
        created_at: Utc::now(),
        kind: CaseKind::Dispute,
        category: Category::Neighbourhood,
        title: SENTENCES[pick(2, 15)]
            .trim_end_matches('。')
            .chars()
            .take(12)
            .collect(),
        description,
        parties: vec![
            Party {
                name: name(3),
                phone: phone(4),
                ..Party::default()
            },
            Party {
                name: name(5),
                phone: phone(6),
                ..Party::default()
            },
        ],
        persons_involved: 2 + u32::try_from(pick(7, 40)).unwrap_or(0),
        risk: [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High][pick(8, 3)],
        events: vec![CaseEvent {
            id: uuid::Uuid::now_v7().to_string(),
            at: Hlc::new(Utc::now().timestamp_millis(), 0, "bench"),
            by,
            role: Role::GridWorker,
            kind: CaseEventKind::Raised,
            note: SENTENCES[pick(9, SENTENCES.len())].into(),
        }],
        ..Case::default()
    })
}

/// A record's changes as a device pushes them: made with the device's one actor id (a
/// device edits every record as the same actor, `Store::identity().actor`).
fn doc_bytes(record: &Record, actor: &[u8; 16]) -> Vec<u8> {
    let value = serde_json::to_value(record).unwrap();
    let mut doc = RecordDoc::create(
        actor,
        &value,
        record.kind().text_fields(),
        &Author {
            user: "bench".into(),
            name: "bench".into(),
            device: "bench".into(),
        },
        Utc::now().timestamp_millis(),
    )
    .unwrap();
    // What a device pushes for a record it made offline: its changes, not a saved document.
    doc.changes_after(&[])
}

struct Counter {
    up: AtomicU64,
    down: AtomicU64,
}

/// Sends a body as the device's client does (zstd both ways, frames accepted, bytes counted
/// as on the wire); returns the plain answer and whether it is a frame.
async fn send(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    plain: &[u8],
    content_type: &str,
    count: &Counter,
) -> (Vec<u8>, bool) {
    let body = zstd::encode_all(plain, 3).unwrap();
    count.up.fetch_add(body.len() as u64, Ordering::Relaxed);
    let resp = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", content_type)
        .header(
            "accept",
            "application/vnd.gridwork.frame, application/json;q=0.9",
        )
        .header("content-encoding", "zstd")
        .header("accept-encoding", "zstd")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let compressed = resp
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "zstd");
    let framed = resp.headers().get("content-type").is_some_and(|v| {
        v.as_bytes()
            .starts_with(frame::FRAME_CONTENT_TYPE.as_bytes())
    });
    let bytes = resp.bytes().await.expect("body");
    assert!(
        status.is_success(),
        "{url}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    count.down.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let plain = if compressed {
        zstd::decode_all(&bytes[..]).unwrap()
    } else {
        bytes.to_vec()
    };
    (plain, framed)
}

/// A push as the device's client sends it to a protocol 2 server: a frame.
async fn push(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &PushRequest,
    count: &Counter,
) -> PushResponse {
    let plain = frame::encode(body.clone());
    let (answer, _) = send(http, url, token, &plain, frame::FRAME_CONTENT_TYPE, count).await;
    serde_json::from_slice(&answer).expect("json")
}

/// A pull page (a frame, as the server answers the device's client).
async fn pull(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &PullRequest,
    count: &Counter,
) -> PullResponse {
    let plain = serde_json::to_vec(body).unwrap();
    let (answer, framed) = send(http, url, token, &plain, "application/json", count).await;
    if framed {
        frame::decode(&answer).expect("frame")
    } else {
        serde_json::from_slice(&answer).expect("json")
    }
}

async fn register(storage: &dyn Storage, user_id: &str, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let (token, hash) = auth::new_token();
        let device = uuid::Uuid::now_v7().to_string();
        assert!(
            storage
                .register_device(&device, user_id, &format!("bench-{i}"), "bench", hash)
                .await
                .unwrap()
        );
        tokens.push(token);
    }
    tokens
}

async fn pull_all(http: &reqwest::Client, url: &str, token: &str, count: &Counter) -> (usize, u64) {
    let mut cursor = None;
    let mut snapshot = false;
    let mut items = 0;
    loop {
        let req = PullRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            cursor,
            snapshot,
            limit: Some(1000),
        };
        let page = pull(http, &format!("{url}/v1/pull"), token, &req, count).await;
        items += page.items.len();
        cursor = Some(page.cursor);
        snapshot = page.snapshot && page.more;
        if !page.more {
            return (items, page.cursor);
        }
    }
}

fn row(name: &str, value: String, goal: &str, ok: Option<bool>) {
    let verdict = match ok {
        Some(true) => "ok",
        Some(false) => "MISSED",
        None => "",
    };
    println!("  {name:<46} {value:>16}   {goal:<18} {verdict}");
}

async fn run(label: &str, bin: &Path, database: Option<String>, sizes: &Sizes) {
    let dir = tempfile::tempdir().unwrap();
    let db_config = match &database {
        Some(url) => DatabaseConfig::Postgres(url.clone()),
        None => DatabaseConfig::choose(dir.path(), None),
    };
    let server = ServerProc::start(bin, dir.path(), database.as_deref());
    let storage = open_storage(&db_config, 4)
        .await
        .expect("open storage for set-up");
    let sup = storage
        .add_user(NewUser {
            login: "bench-sup".into(),
            name: "督导".into(),
            role: Role::Supervisor,
            scope: "370214".into(),
            department: None,
            password_hash: auth::hash_password("bench-password").unwrap(),
        })
        .await
        .unwrap();
    let territory = Territory::chengyang();
    let grids: Vec<TerritoryPath> = territory
        .grids()
        .take(sizes.devices.max(1))
        .map(|g| territory.path_of(&g.code).unwrap())
        .collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let url = server.url.clone();
    println!("\n{label}: {}", url);

    // 1. Offline burst.
    let tokens = register(storage.as_ref(), &sup.id, sizes.devices).await;
    let mut bodies: Vec<(String, PushRequest)> = Vec::with_capacity(sizes.devices);
    // The yardstick: each device's records as one JSON array, zstd-compressed (level 3), as a
    // compressed JSON protocol would send the same batch.
    let mut zjson = 0f64;
    for (d, token) in tokens.iter().enumerate() {
        let grid = &grids[d % grids.len()];
        let records: Vec<Record> = (0..sizes.per_device)
            .map(|i| case_record(grid, d * sizes.per_device + i))
            .collect();
        let json = serde_json::to_vec(&records).unwrap();
        zjson += zstd::encode_all(&json[..], 3).unwrap().len() as f64;
        let actor = *uuid::Uuid::new_v4().as_bytes();
        let docs = records
            .iter()
            .map(|r| DocPush {
                id: r.id().to_string(),
                kind: "case".into(),
                changes: doc_bytes(r, &actor).into(),
            })
            .collect();
        bodies.push((
            token.clone(),
            PushRequest {
                protocol: PROTOCOL_VERSION,
                schema_version: SCHEMA_VERSION,
                docs,
            },
        ));
    }
    let burst_count = Arc::new(Counter {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    });
    let cpu0 = server.cpu_secs();
    let t = Instant::now();
    let mut bodies = bodies.into_iter();
    loop {
        let wave: Vec<_> = bodies.by_ref().take(50).collect();
        if wave.is_empty() {
            break;
        }
        let mut tasks = Vec::new();
        for (token, body) in wave {
            let http = http.clone();
            let url = format!("{url}/v1/push");
            let count = burst_count.clone();
            tasks.push(tokio::spawn(async move {
                let r = push(&http, &url, &token, &body, &count).await;
                assert!(
                    r.results
                        .iter()
                        .all(|x| matches!(x.outcome, wire::DocOutcome::Accepted { .. })),
                    "every record accepted"
                );
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    let burst = t.elapsed();
    let burst_cpu = server.cpu_secs() - cpu0;
    let burst_records = sizes.devices * sizes.per_device;
    row(
        &format!(
            "burst: {} devices × {} records",
            sizes.devices, sizes.per_device
        ),
        format!("{:.2} s", burst.as_secs_f64()),
        "< 5 s",
        Some(burst < Duration::from_secs(5)),
    );
    row(
        "  records/s",
        format!("{:.0}", burst_records as f64 / burst.as_secs_f64()),
        "",
        None,
    );
    // CPU time is steadier than wall time on a machine shared with other work.
    row("  server CPU", format!("{burst_cpu:.2} s"), "", None);
    let up = burst_count.up.load(Ordering::Relaxed) as f64;
    row(
        "  bytes up vs. the batches as zstd JSON",
        format!("{:.2}×", up / zjson),
        "≤ 1.5×",
        Some(up / zjson <= 1.5),
    );

    // Top up to the cold-pull size with bulk pushes.
    let mut have = burst_records;
    let bulk_token = register(storage.as_ref(), &sup.id, 1).await.remove(0);
    let quiet = Counter {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    };
    let bulk_actor = *uuid::Uuid::new_v4().as_bytes();
    while have < sizes.cold {
        let n = (sizes.cold - have).min(500);
        let docs = (0..n)
            .map(|i| {
                let r = case_record(&grids[(have + i) % grids.len()], have + i);
                DocPush {
                    id: r.id().to_string(),
                    kind: "case".into(),
                    changes: doc_bytes(&r, &bulk_actor).into(),
                }
            })
            .collect();
        let _ = push(
            &http,
            &format!("{url}/v1/push"),
            &bulk_token,
            &PushRequest {
                protocol: PROTOCOL_VERSION,
                schema_version: SCHEMA_VERSION,
                docs,
            },
            &quiet,
        )
        .await;
        have += n;
    }

    // 2. Cold pull (wire).
    let sup_token = register(storage.as_ref(), &sup.id, 1).await.remove(0);
    let pull_count = Counter {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    };
    let t = Instant::now();
    let (items, _cursor) = pull_all(&http, &url, &sup_token, &pull_count).await;
    let cold = t.elapsed();
    assert_eq!(items, have, "every record pulled once");
    let rate = items as f64 / cold.as_secs_f64();
    row(
        &format!("cold pull of {items} records (wire)"),
        format!("{rate:.0} rec/s"),
        "≥ 25,000 rec/s",
        Some(rate >= 25_000.0),
    );
    row("  time", format!("{:.2} s", cold.as_secs_f64()), "", None);
    row(
        "  bytes down per record",
        format!(
            "{:.0} B",
            pull_count.down.load(Ordering::Relaxed) as f64 / items as f64
        ),
        "",
        None,
    );

    // `GRIDWORK_BENCH_SERVER_ONLY=1` leaves out the device-store steps (2b and 3), which take
    // most of a full run's time, while iterating on the server.
    if !std::env::var("GRIDWORK_BENCH_SERVER_ONLY").is_ok_and(|v| v == "1") {
        // 2b. Cold pull into a real device store (SQLite on the device, every record merged).
        let device_dir = tempfile::tempdir().unwrap();
        let store =
            std::sync::Mutex::new(gridwork_core::store::Store::init(device_dir.path()).unwrap());
        gridwork_core::sync::login(&store, &url, "bench-sup", "bench-password")
            .await
            .expect("login");
        let t = Instant::now();
        let report = gridwork_core::sync::sync_now(&store, &mut |_| {})
            .await
            .expect("sync");
        let device_cold = t.elapsed();
        row(
            &format!("cold pull into a device store ({} records)", report.items),
            format!(
                "{:.0} rec/s",
                report.items as f64 / device_cold.as_secs_f64()
            ),
            "",
            None,
        );

        // 3. Warm re-pull with nothing new (the device's real sync: push nothing, one pull page).
        let t = Instant::now();
        let report = gridwork_core::sync::sync_now(&store, &mut |_| {})
            .await
            .expect("sync");
        let warm = t.elapsed();
        assert_eq!(report.items, 0);
        row(
            "warm re-pull, nothing new",
            format!("{:.1} ms", warm.as_secs_f64() * 1000.0),
            "< 50 ms",
            Some(warm < Duration::from_millis(50)),
        );
    }
    // 4. Reconnect storm.
    let storm_tokens = register(storage.as_ref(), &sup.id, sizes.storm).await;
    let (_, head) = pull_all(&http, &url, &sup_token, &pull_count).await;
    let storm_count = Arc::new(Counter {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    });
    let storm_cpu0 = server.cpu_secs();
    let t = Instant::now();
    let mut tokens = storm_tokens.into_iter();
    loop {
        let wave: Vec<_> = tokens.by_ref().take(100).collect();
        if wave.is_empty() {
            break;
        }
        let mut tasks = Vec::new();
        for token in wave {
            let http = http.clone();
            let url = format!("{url}/v1/pull");
            let count = storm_count.clone();
            tasks.push(tokio::spawn(async move {
                let req = PullRequest {
                    protocol: PROTOCOL_VERSION,
                    schema_version: SCHEMA_VERSION,
                    cursor: Some(head),
                    snapshot: false,
                    limit: Some(1000),
                };
                let page = pull(&http, &url, &token, &req, &count).await;
                assert!(page.items.is_empty() && !page.more);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    let storm = t.elapsed();
    row(
        &format!("reconnect storm: {} devices, nothing new", sizes.storm),
        format!("{:.2} s", storm.as_secs_f64()),
        "< 2 s",
        Some(storm < Duration::from_secs(2)),
    );
    row(
        "  server CPU",
        format!("{:.2} s", server.cpu_secs() - storm_cpu0),
        "",
        None,
    );

    row(
        "server peak memory",
        format!("{:.0} MiB", server.peak_mib()),
        "",
        None,
    );
    row(
        "server CPU during the run",
        format!("{:.1} s", server.cpu_secs() - cpu0),
        "",
        None,
    );
    let disk: u64 = walk_size(dir.path());
    row(
        "server disk at the end (SQLite file / data dir)",
        format!("{:.1} MiB", disk as f64 / 1_048_576.0),
        "",
        None,
    );
    drop(server);
    if let Some(url) = database {
        drop(url);
    }
}

fn walk_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let m = e.metadata().ok();
                    match m {
                        Some(m) if m.is_dir() => walk_size(&e.path()),
                        Some(m) => m.len(),
                        None => 0,
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn fresh_pg() -> Option<(String, String, String)> {
    let admin = std::env::var("GRIDWORK_TEST_DATABASE_URL").ok()?;
    let name = format!("gw_bench_{}", uuid::Uuid::now_v7().simple());
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .ok()?;
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .ok()?;
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(b, _)| b)
        .to_owned();
    Some((format!("{base}/{name}"), admin, name))
}

fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("GRIDWORK_SERVER_BIN") {
        return PathBuf::from(p);
    }
    // Beside this bench's own target dir: target/<profile>/gridwork-server.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir.join("gridwork-server")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this as a smoke test of
    // the harness with tiny sizes (no figure there means anything).
    let smoke = !args.iter().any(|a| a == "--bench");
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var("GRIDWORK_BENCH_QUICK").is_ok_and(|v| v == "1");
    let sizes = if smoke {
        Sizes {
            devices: 6,
            per_device: 5,
            cold: 100,
            storm: 20,
        }
    } else if quick {
        Sizes {
            devices: 50,
            per_device: 20,
            cold: 3_000,
            storm: 300,
        }
    } else {
        Sizes {
            devices: 500,
            per_device: 50,
            cold: 100_000,
            storm: 5_000,
        }
    };
    let bin = server_bin();
    if !bin.exists() {
        eprintln!(
            "sync_load: no server binary at {} — build it first (`cargo build --release -p gridwork-sync-server`) or set GRIDWORK_SERVER_BIN; `cargo xtask bench` does both",
            bin.display()
        );
        std::process::exit(1);
    }
    let mode = if smoke {
        " (smoke test: tiny sizes, figures mean nothing)"
    } else if quick {
        " (quick)"
    } else {
        ""
    };
    println!("sync load{mode} — figure, then the goal");
    run("SQLite", &bin, None, &sizes).await;
    if let Some((url, admin, name)) = fresh_pg().await {
        run("PostgreSQL", &bin, Some(url), &sizes).await;
        if let Ok((client, conn)) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await {
            tokio::spawn(conn);
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    } else {
        println!(
            "\nPostgreSQL: skipped (GRIDWORK_TEST_DATABASE_URL not set; `cargo xtask bench` sets it)"
        );
    }
}
