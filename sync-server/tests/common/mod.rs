//! Shared test harness: a real server on 127.0.0.1 port 0 over SQLite or a fresh PostgreSQL
//! database, HTTP clients, and simulated devices holding real Automerge documents.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use gridwork_core::doc::{Author, RecordDoc, format_heads};
use gridwork_schema::wire::{
    self, Bytes, DocOutcome, DocPush, DocResult, DocsRequest, DocsResponse, LoginRequest,
    LoginResponse, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse,
    RefusalCode,
};
use gridwork_schema::{RecordKind, Role, SCHEMA_VERSION};
use gridwork_sync_server::storage::{NewUser, UserRecord};
use gridwork_sync_server::{Config, Server, ServerHandle, Storage, auth};
use serde_json::{Value, json};

pub const PASSWORD: &str = "gridwork";
pub const DISTRICT: &str = "370214";
pub const STREET1: &str = "370214001";
pub const STREET2: &str = "370214002";
pub const COMM1: &str = "370214001001";
pub const GRID1: &str = "370214001001001";
pub const GRID2: &str = "370214001001002";
pub const COMM2: &str = "370214002001";
pub const GRID3: &str = "370214002001001";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body on both backends.
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    };
}

/// The test PostgreSQL URL; fails (never skips) when it is not set.
pub fn pg_base_url() -> String {
    match std::env::var("GRIDWORK_TEST_DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => u,
        _ => panic!(
            "GRIDWORK_TEST_DATABASE_URL is not set: the PostgreSQL tests need a real database. \
             Run them with `cargo xtask test`, which starts PostgreSQL and sets it \
             (e.g. postgres://gridwork:gridwork@127.0.0.1:5432/gridwork_test)."
        ),
    }
}

/// A fresh PostgreSQL database for one test, dropped afterwards.
#[derive(Debug)]
pub struct PgDb {
    pub url: String,
    name: String,
    admin_url: String,
}

impl PgDb {
    pub async fn create() -> Self {
        let admin_url = pg_base_url();
        let name = format!("gw_t_{}", uuid::Uuid::now_v7().simple());
        let (client, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .expect("connect to GRIDWORK_TEST_DATABASE_URL");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a test database (the role needs CREATEDB)");
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("the URL names a database");
        let url = format!("{base}/{name}");
        Self {
            url,
            name,
            admin_url,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A running server with its data.
pub struct Harness {
    pub server: ServerHandle,
    pub store: Arc<dyn Storage>,
    pub config: Config,
    pub dir: tempfile::TempDir,
    pub pg: Option<PgDb>,
}

impl Harness {
    pub async fn start(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDb::create().await),
        };
        let config = match &pg {
            None => Config::sqlite_in(dir.path()),
            Some(db) => Config::postgres(db.url.clone(), dir.path()),
        };
        Self::start_config(config, dir, pg).await
    }

    pub async fn start_config(config: Config, dir: tempfile::TempDir, pg: Option<PgDb>) -> Self {
        let server = Server::start(config.clone()).await.expect("server starts");
        let store = server.store();
        Self {
            server,
            store,
            config,
            dir,
            pg,
        }
    }

    /// Another server process (instance) on the same database.
    pub async fn second_instance(&self) -> ServerHandle {
        Server::start(self.config.clone())
            .await
            .expect("second server starts")
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub async fn add_user(
        &self,
        login: &str,
        role: Role,
        scope: &str,
        department: Option<&str>,
    ) -> UserRecord {
        add_user(self.store.as_ref(), login, role, scope, department).await
    }
}

pub async fn add_user(
    store: &dyn Storage,
    login: &str,
    role: Role,
    scope: &str,
    department: Option<&str>,
) -> UserRecord {
    store
        .add_user(NewUser {
            login: login.into(),
            name: format!("{login}-姓名"),
            role,
            scope: scope.into(),
            department: department.map(str::to_owned),
            password_hash: auth::hash_password(PASSWORD).expect("hash"),
        })
        .await
        .expect("add user")
}

/// An HTTP client of the sync API.
#[derive(Debug, Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token: String::new(),
        }
    }

    pub async fn login_raw(&self, user: &str, password: &str, device: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/login", self.base))
            .json(&LoginRequest {
                user: user.into(),
                password: password.into(),
                device_id: device.into(),
                device_name: "test phone".into(),
                protocol: PROTOCOL_VERSION,
                app_version: "0.1.0".into(),
            })
            .send()
            .await
            .expect("login request")
    }

    pub async fn login(base: &str, user: &str, device: &str) -> (Self, LoginResponse) {
        let mut api = Self::new(base);
        let resp = api.login_raw(user, PASSWORD, device).await;
        assert_eq!(resp.status(), 200, "login {user}");
        let body: LoginResponse = resp.json().await.expect("login body");
        api.token = body.token.clone();
        (api, body)
    }

    /// The same token against another server instance.
    pub fn at(&self, base: &str) -> Self {
        Self {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn push_raw(&self, docs: Vec<DocPush>) -> reqwest::Response {
        let body = serde_json::to_vec(&PushRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            docs,
        })
        .expect("json");
        self.post_raw("/v1/push", body).await
    }

    pub async fn push(&self, docs: Vec<DocPush>) -> Vec<DocResult> {
        let resp = self.push_raw(docs).await;
        assert_eq!(resp.status(), 200, "push");
        resp.json::<PushResponse>()
            .await
            .expect("push body")
            .results
    }

    pub async fn pull_page(&self, cursor: Option<u64>, snapshot: bool, limit: u32) -> PullResponse {
        self.pull_page_with(cursor, snapshot, limit, 0).await
    }

    /// [`Api::pull_page`] asking for whole documents' rows in `row_layout` (0: none).
    pub async fn pull_page_with(
        &self,
        cursor: Option<u64>,
        snapshot: bool,
        limit: u32,
        row_layout: u32,
    ) -> PullResponse {
        let body = serde_json::to_vec(&PullRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            cursor,
            snapshot,
            limit: Some(limit),
            row_layout,
        })
        .expect("json");
        let resp = self.post_raw("/v1/pull", body).await;
        assert_eq!(resp.status(), 200, "pull");
        let next: Option<wire::NextPage> = resp
            .headers()
            .get(wire::NEXT_PAGE_HEADER)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let page: PullResponse = resp.json().await.expect("pull body");
        assert_eq!(
            next,
            Some(wire::NextPage::of(&page)),
            "the next-page header says what the page says"
        );
        page
    }

    pub async fn docs(&self, ids: Vec<String>) -> DocsResponse {
        let body = serde_json::to_vec(&DocsRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            ids,
        })
        .expect("json");
        let resp = self.post_raw("/v1/docs", body).await;
        assert_eq!(resp.status(), 200, "docs");
        resp.json().await.expect("docs body")
    }
}

/// What a device knows of one record.
pub struct Held {
    pub doc: RecordDoc,
    /// Heads the server acknowledged.
    pub synced: Vec<automerge::ChangeHash>,
    /// The last refusal, if the server refused the record's changes.
    pub refused: Option<RefusalCode>,
}

/// A simulated device: real Automerge documents, a cursor, push and pull as the protocol
/// says (the real client lives in core::sync).
pub struct Device {
    pub api: Api,
    pub user: LoginResponse,
    pub docs: BTreeMap<String, Held>,
    pub cursor: Option<u64>,
    pub server_id: String,
    actor: [u8; 16],
    clock: i64,
}

pub fn text_keys(kind: &str) -> &'static [&'static str] {
    serde_json::from_value::<RecordKind>(Value::String(kind.to_owned()))
        .unwrap_or(RecordKind::Case)
        .text_fields()
}

impl Device {
    pub async fn login(base: &str, user: &str, device: &str) -> Self {
        let (api, info) = Api::login(base, user, device).await;
        let mut actor = [0u8; 16];
        let h = <sha2::Sha256 as sha2::Digest>::digest(device.as_bytes());
        actor.copy_from_slice(&h[..16]);
        Self {
            api,
            server_id: info.server_id.clone(),
            user: info,
            docs: BTreeMap::new(),
            cursor: None,
            actor,
            clock: 1_700_000_000_000,
        }
    }

    fn author(&self) -> Author {
        Author {
            user: self.user.user.id.clone(),
            name: self.user.user.name.clone(),
            device: "test".into(),
        }
    }

    /// Creates a record locally.
    pub fn create(&mut self, value: Value) -> String {
        self.clock += 1000;
        let id = value["id"].as_str().expect("id").to_owned();
        let kind = value["type"].as_str().unwrap_or("case").to_owned();
        let doc = RecordDoc::create(
            &self.actor,
            &value,
            text_keys(&kind),
            &self.author(),
            self.clock,
        )
        .expect("create");
        self.docs.insert(
            id.clone(),
            Held {
                doc,
                synced: Vec::new(),
                refused: None,
            },
        );
        id
    }

    /// Edits a record locally.
    pub fn edit(&mut self, id: &str, f: impl FnOnce(&mut Value)) {
        self.clock += 1000;
        let author = self.author();
        let held = self.docs.get_mut(id).expect("held");
        let old = held.doc.to_value();
        let mut new = old.clone();
        f(&mut new);
        let kind = old["type"].as_str().unwrap_or("case").to_owned();
        held.doc
            .update(&old, &new, text_keys(&kind), &author, self.clock)
            .expect("update");
    }

    pub fn value(&self, id: &str) -> Value {
        self.docs[id].doc.to_value()
    }

    /// What push would send now: the unacknowledged changes of each record.
    pub fn outgoing(&mut self) -> Vec<DocPush> {
        let mut out = Vec::new();
        for (id, held) in &mut self.docs {
            let heads = held.doc.heads();
            if heads == held.synced {
                continue;
            }
            let changes = held.doc.changes_after(&held.synced.clone());
            if changes.is_empty() {
                continue;
            }
            let kind = held.doc.to_value()["type"]
                .as_str()
                .unwrap_or("case")
                .to_owned();
            out.push(DocPush {
                id: id.clone(),
                kind,
                changes: Bytes(changes),
            });
        }
        out
    }

    /// Pushes; returns the refusals by id.
    pub async fn push(&mut self) -> BTreeMap<String, RefusalCode> {
        let docs = self.outgoing();
        if docs.is_empty() {
            return BTreeMap::new();
        }
        let sent: BTreeMap<String, Vec<automerge::ChangeHash>> = docs
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    self.docs.get_mut(&d.id).expect("held").doc.heads(),
                )
            })
            .collect();
        let results = self.api.push(docs).await;
        let mut refused = BTreeMap::new();
        for r in results {
            let held = self.docs.get_mut(&r.id).expect("held");
            match r.outcome {
                DocOutcome::Accepted { .. } => {
                    held.synced = sent[&r.id].clone();
                    held.refused = None;
                }
                DocOutcome::Refused { code, .. } => {
                    held.refused = Some(code);
                    refused.insert(r.id, code);
                }
            }
        }
        refused
    }

    /// Applies one pulled item.
    pub fn apply(&mut self, id: &str, data: &[u8]) {
        match self.docs.get_mut(id) {
            Some(held) => {
                held.doc.merge_bytes(data).expect("merge pulled data");
            }
            None => {
                let mut doc = RecordDoc::load(&[], &self.actor).expect("empty doc");
                doc.merge_bytes(data).expect("merge pulled data");
                let synced = doc.heads();
                self.docs.insert(
                    id.to_owned(),
                    Held {
                        doc,
                        synced,
                        refused: None,
                    },
                );
            }
        }
    }

    /// Pulls until nothing more waits; returns (items, snapshot items) received.
    pub async fn pull(&mut self, limit: u32) -> (usize, usize) {
        let (mut n, mut snaps) = (0, 0);
        let mut snapshot = false;
        loop {
            let page = self.api.pull_page(self.cursor, snapshot, limit).await;
            if page.server_id != self.server_id {
                self.server_id = page.server_id.clone();
            }
            for item in &page.items {
                self.apply(&item.id, item.data.as_slice());
                n += 1;
                if item.snapshot {
                    snaps += 1;
                }
            }
            self.cursor = Some(page.cursor);
            snapshot = page.snapshot && page.more;
            if !page.more {
                break;
            }
        }
        self.repair().await;
        (n, snaps)
    }

    /// Asks for whole documents where pulled changes lacked their dependencies.
    async fn repair(&mut self) {
        let broken: Vec<String> = self
            .docs
            .iter()
            .filter(|(id, h)| {
                h.doc.to_value().get("id").and_then(Value::as_str) != Some(id.as_str())
            })
            .map(|(id, _)| id.clone())
            .collect();
        if broken.is_empty() {
            return;
        }
        let resp = self.api.docs(broken).await;
        for item in resp.items {
            self.apply(&item.id, item.data.as_slice());
        }
    }

    /// Heads of a record (hex), for comparing devices.
    pub fn heads(&mut self, id: &str) -> Vec<String> {
        format_heads(&self.docs.get_mut(id).expect("held").doc.heads())
    }
}

/// A v7 record id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The territory path of a grid.
pub fn path_of(code: &str) -> Value {
    let street = code.get(..9).unwrap_or_default();
    let community = code.get(..12).unwrap_or_default();
    let grid = code.get(..15).unwrap_or_default();
    json!({"street": street, "community": community, "grid": grid})
}

/// A case event as JSON.
pub fn event(id: &str, ms: i64, by: &UserRecord, kind: Value) -> Value {
    let role = serde_json::to_value(by.role).expect("role");
    json!({
        "id": id,
        "at": format!("{ms:013}-000000-dev"),
        "by": {"id": by.id, "name": by.name},
        "role": role,
        "kind": kind,
        "note": "",
    })
}

/// A case record as JSON (a dispute with one party).
pub fn case(id: &str, code: &str, by: &UserRecord, events: Vec<Value>) -> Value {
    json!({
        "type": "case",
        "id": id,
        "territory": path_of(code),
        "created_by": {"id": by.id, "name": by.name},
        "created_at": "2024-05-01T08:00:00Z",
        "kind": "dispute",
        "category": "neighbourhood",
        "title": "楼上噪音扰民",
        "description": "楼上装修噪音大。双方多次争吵。",
        "parties": [{"name": "王某某", "phone": "13800000000", "id_number": "", "address": ""}],
        "persons_involved": 2,
        "risk": "low",
        "events": events,
    })
}

/// A mediation record run by `mediator`.
pub fn mediation(id: &str, code: &str, by: &UserRecord, mediator: &UserRecord) -> Value {
    json!({
        "type": "mediation",
        "id": id,
        "territory": path_of(code),
        "created_by": {"id": by.id, "name": by.name},
        "created_at": "2024-05-02T08:00:00Z",
        "body_level": "community",
        "mediator": {"id": mediator.id, "name": mediator.name},
        "parties": [],
        "sessions": [],
        "agreement": "",
        "backlog_petition": false,
    })
}

/// A whole saved document for a record value, made outside any device.
pub fn doc_bytes(value: &Value, by: &UserRecord) -> Vec<u8> {
    doc_bytes_as(value, by, [9; 16])
}

/// A whole saved document for a record value, made by the Automerge actor `actor`.
pub fn doc_bytes_as(value: &Value, by: &UserRecord, actor: [u8; 16]) -> Vec<u8> {
    let author = Author {
        user: by.id.clone(),
        name: by.name.clone(),
        device: "fixture".into(),
    };
    let kind = value["type"].as_str().unwrap_or("case").to_owned();
    RecordDoc::create(&actor, value, text_keys(&kind), &author, 1)
        .expect("create")
        .save()
}

/// Pushes whole documents as `api` and asserts that all were accepted.
pub async fn seed(api: &Api, values: &[(&Value, &UserRecord)]) {
    let docs = values
        .iter()
        .map(|(v, by)| DocPush {
            id: v["id"].as_str().expect("id").to_owned(),
            kind: v["type"].as_str().expect("type").to_owned(),
            changes: Bytes(doc_bytes(v, by)),
        })
        .collect();
    for r in api.push(docs).await {
        assert!(
            matches!(r.outcome, DocOutcome::Accepted { .. }),
            "seed {} refused: {:?}",
            r.id,
            r.outcome
        );
    }
}

/// The ids a fresh device of `user` pulls.
pub async fn pulled_ids(base: &str, user: &str) -> std::collections::BTreeSet<String> {
    let mut d = Device::login(base, user, &format!("probe-{user}-{}", new_id())).await;
    d.pull(100).await;
    d.docs.keys().cloned().collect()
}
