//! What the sync benchmarks share (`sync_load` and `peers`): a `gridwork-server` process with
//! its figures from /proc, case records shaped like the grid workers', the wire-level client
//! (zstd both ways, bytes counted), device registration straight in storage, and PostgreSQL.

#![allow(dead_code)]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::sync::client;
use gridwork_schema::frame;
use gridwork_schema::wire::{
    DocPush, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse,
};
use gridwork_schema::*;
use gridwork_sync_server::auth;
use gridwork_sync_server::storage::Storage;

/// Peak memory and CPU of a process, read from /proc.
pub struct ProcStats(pub u32);

impl ProcStats {
    fn field(&self, file: &str, key: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/{file}", self.0)).ok()?;
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }

    /// Peak resident memory in MiB (since the start, or since [`ProcStats::reset_peak`]).
    pub fn peak_mib(&self) -> f64 {
        self.field("status", "VmHWM:").unwrap_or(0) as f64 / 1024.0
    }

    /// Starts the peak over from the current resident size (Linux `clear_refs` 5).
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.0), "5");
    }

    /// User + system CPU seconds.
    pub fn cpu_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0)).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        ticks as f64 / 100.0
    }
}

/// A `gridwork-server` process on 127.0.0.1, port chosen by the system.
pub struct ServerProc {
    pub child: Child,
    pub url: String,
}

impl ServerProc {
    pub fn start(bin: &Path, data: &Path, database: Option<&str>) -> ServerProc {
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

    pub fn stats(&self) -> ProcStats {
        ProcStats(self.child.id())
    }

    /// Peak resident memory in MiB.
    pub fn peak_mib(&self) -> f64 {
        self.stats().peak_mib()
    }

    /// User + system CPU seconds.
    pub fn cpu_secs(&self) -> f64 {
        self.stats().cpu_secs()
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
pub fn mix(n: usize, salt: u64) -> usize {
    let mut z = (n as u64)
        .wrapping_add(salt.wrapping_mul(0x0123_4567))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as usize
}

/// A case as grid workers record them: varied text, two parties, one event.
pub fn case_record(grid: &TerritoryPath, n: usize) -> Record {
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

/// A fresh actor id: one per simulated device.
pub fn new_actor() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

/// A record as the Automerge document a device makes for it offline, with the device's one
/// actor id (a device edits every record as the same actor, `Store::identity().actor`).
pub fn record_doc(record: &Record, actor: &[u8; 16]) -> RecordDoc {
    let value = serde_json::to_value(record).unwrap();
    RecordDoc::create(
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
    .unwrap()
}

/// What a device pushes for a record it made offline: its changes, not a saved document.
pub fn doc_bytes(record: &Record, actor: &[u8; 16]) -> Vec<u8> {
    record_doc(record, actor).changes_after(&[])
}

/// Bytes sent and received, as on the wire.
#[derive(Default)]
pub struct Counter {
    pub up: AtomicU64,
    pub down: AtomicU64,
}

/// A request body ready to go, compressed as the device's client compresses it.
pub struct Upload {
    pub body: Vec<u8>,
    pub encoding: &'static str,
    pub content_type: &'static str,
}

impl Upload {
    /// A push: a frame, compressed for the uplink ([`client::compress_upload`]). A device
    /// prepares it on its own CPU before it connects, so a load run makes it up front.
    pub fn push(body: &PushRequest) -> Upload {
        Upload {
            body: client::compress_upload(&frame::encode(body.clone())),
            encoding: client::UPLOAD_ENCODING,
            content_type: frame::FRAME_CONTENT_TYPE,
        }
    }

    /// A small JSON body (a pull request), zstd.
    pub fn json(plain: &[u8]) -> Upload {
        Upload {
            body: zstd::encode_all(plain, 3).unwrap(),
            encoding: "zstd",
            content_type: "application/json",
        }
    }
}

/// Sends a body as the device's client does (frames accepted, zstd answers, bytes counted
/// as on the wire); returns the plain answer and whether it is a frame.
pub async fn send(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    upload: &Upload,
    count: &Counter,
) -> (Vec<u8>, bool) {
    count
        .up
        .fetch_add(upload.body.len() as u64, Ordering::Relaxed);
    let resp = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", upload.content_type)
        .header(
            "accept",
            "application/vnd.gridwork.frame, application/json;q=0.9",
        )
        .header("content-encoding", upload.encoding)
        .header("accept-encoding", "zstd")
        .body(upload.body.clone())
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
pub async fn push(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &PushRequest,
    count: &Counter,
) -> PushResponse {
    push_prepared(http, url, token, &Upload::push(body), count).await
}

/// Sends a push made up front by [`Upload::push`].
pub async fn push_prepared(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    upload: &Upload,
    count: &Counter,
) -> PushResponse {
    let (answer, _) = send(http, url, token, upload, count).await;
    serde_json::from_slice(&answer).expect("json")
}

/// Pushes `records` as one device holding them would (one actor id), 500 to a request: the
/// benches' set-up traffic.
pub async fn push_records(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    records: &[Record],
    count: &Counter,
) {
    let actor = new_actor();
    for chunk in records.chunks(500) {
        let docs = chunk
            .iter()
            .map(|r| DocPush {
                id: r.id().to_string(),
                kind: "case".into(),
                changes: doc_bytes(r, &actor).into(),
            })
            .collect();
        let body = PushRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            docs,
        };
        push(http, &format!("{url}/v1/push"), token, &body, count).await;
    }
}

/// A pull page (a frame, as the server answers the device's client).
pub async fn pull(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &PullRequest,
    count: &Counter,
) -> PullResponse {
    let plain = serde_json::to_vec(body).unwrap();
    let (answer, framed) = send(http, url, token, &Upload::json(&plain), count).await;
    if framed {
        frame::decode(&answer).expect("frame")
    } else {
        serde_json::from_slice(&answer).expect("json")
    }
}

/// A reconnect with nothing new, as a device makes it: one pull with the cursor at `head`.
/// Whether it brought nothing, as it should.
pub async fn pull_at_head(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    head: u64,
    count: &Counter,
) -> bool {
    let req = PullRequest {
        protocol: PROTOCOL_VERSION,
        schema_version: SCHEMA_VERSION,
        cursor: Some(head),
        snapshot: false,
        limit: Some(1000),
        row_layout: gridwork_core::summary::ROW_LAYOUT,
    };
    let page = pull(http, url, token, &req, count).await;
    page.items.is_empty() && !page.more
}

/// Runs `work` on every item, `n` at a time: as one finishes, the next starts (devices on
/// the line, not waves).
pub async fn at_a_time<T, F, Fut>(n: usize, items: Vec<T>, work: F)
where
    T: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let line = std::sync::Arc::new(tokio::sync::Semaphore::new(n));
    let mut tasks = Vec::with_capacity(items.len());
    for item in items {
        let line = line.clone();
        let job = work(item);
        tasks.push(tokio::spawn(async move {
            let _on_line = line.acquire().await.expect("semaphore open");
            job.await;
        }));
    }
    for t in tasks {
        t.await.expect("a task panicked");
    }
}

/// Registers `n` devices of `user_id` straight in storage; their tokens.
pub async fn register(storage: &dyn Storage, user_id: &str, n: usize) -> Vec<String> {
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

/// Pulls everything from no cursor, page by page; every item, and the final cursor.
pub async fn pull_items(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    count: &Counter,
) -> (Vec<wire::PullItem>, u64) {
    let mut cursor = None;
    let mut snapshot = false;
    let mut items = Vec::new();
    loop {
        let req = PullRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            cursor,
            snapshot,
            limit: Some(1000),
            row_layout: gridwork_core::summary::ROW_LAYOUT,
        };
        let page = pull(http, &format!("{url}/v1/pull"), token, &req, count).await;
        items.extend(page.items);
        cursor = Some(page.cursor);
        snapshot = page.snapshot && page.more;
        if !page.more {
            return (items, page.cursor);
        }
    }
}

/// [`pull_items`], counting only.
pub async fn pull_all(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    count: &Counter,
) -> (usize, u64) {
    let (items, cursor) = pull_items(http, url, token, count).await;
    (items.len(), cursor)
}

/// Bytes in the files under `p`.
pub fn walk_size(p: &Path) -> u64 {
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

/// A fresh PostgreSQL database on `GRIDWORK_TEST_DATABASE_URL`: (its URL, the admin URL, its
/// name), or `None` when the variable is not set or the server cannot be reached.
pub async fn fresh_pg() -> Option<(String, String, String)> {
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

/// Drops a database made by [`fresh_pg`].
pub async fn drop_pg(admin: &str, name: &str) {
    if let Ok((client, conn)) = tokio_postgres::connect(admin, tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

/// The `gridwork-server` binary: `GRIDWORK_SERVER_BIN`, or beside this executable's target
/// dir (target/<profile>/gridwork-server).
pub fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("GRIDWORK_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir.join("gridwork-server")
}

/// The size of the PostgreSQL database at `url` (0 if it cannot be read).
pub async fn pg_size(url: &str) -> u64 {
    let Ok((client, conn)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await else {
        return 0;
    };
    tokio::spawn(conn);
    client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await
        .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
        .unwrap_or(0)
}
