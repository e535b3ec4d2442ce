//! What the cross-crate tests share: servers on 127.0.0.1 port 0 over SQLite or a fresh
//! PostgreSQL database, accounts, devices (real stores in temp folders) and record builders.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use chrono::Utc;
use gridwork_core::doc::Author;
use gridwork_core::store::Store;
use gridwork_core::sync::{self, RetryPolicy, SyncClient, SyncError, SyncReport};
use gridwork_schema::territory::Territory;
use gridwork_schema::*;
use gridwork_sync_server::storage::{NewUser, Storage, UnitRow};
use gridwork_sync_server::{Config, Server, ServerHandle, auth};

/// Which database a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PASSWORD: &str = "secret-pw";

/// A fresh PostgreSQL database for one test, dropped by [`PgDb::drop_db`].
pub struct PgDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

pub fn pg_admin_url() -> String {
    std::env::var("GRIDWORK_TEST_DATABASE_URL").expect(
        "GRIDWORK_TEST_DATABASE_URL is not set: run the tests with `cargo xtask test`, \
         which starts PostgreSQL and sets it",
    )
}

impl PgDb {
    pub async fn create() -> PgDb {
        let admin_url = pg_admin_url();
        let name = format!("gw_t_{}", uuid::Uuid::now_v7().simple());
        let (client, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test PostgreSQL");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a test database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        PgDb {
            admin_url,
            name,
            url,
        }
    }

    pub async fn drop_db(self) {
        if let Ok((client, conn)) =
            tokio_postgres::connect(&self.admin_url, tokio_postgres::NoTls).await
        {
            tokio::spawn(conn);
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .await;
        }
    }
}

/// A running server with its storage and temp folder.
pub struct TestServer {
    pub handle: ServerHandle,
    pub dir: tempfile::TempDir,
    pub pg: Option<PgDb>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// [`TestServer::start`] with its configuration changed by `f` first.
    pub async fn start_with(backend: Backend, f: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let (mut config, pg) = match backend {
            Backend::Sqlite => (Config::sqlite_in(dir.path()), None),
            Backend::Postgres => {
                let db = PgDb::create().await;
                (Config::postgres(db.url.clone(), dir.path()), Some(db))
            }
        };
        f(&mut config);
        let handle = Server::start(config).await.expect("server starts");
        let server = TestServer { handle, dir, pg };
        server.seed().await;
        server
    }

    /// A second server process on the same PostgreSQL database.
    pub async fn replica(&self) -> ServerHandle {
        let pg = self.pg.as_ref().expect("replicas need PostgreSQL");
        Server::start(Config::postgres(pg.url.clone(), self.dir.path()))
            .await
            .expect("replica starts")
    }

    pub fn url(&self) -> String {
        self.handle.url()
    }

    pub fn storage(&self) -> Arc<dyn Storage> {
        self.handle.store()
    }

    async fn seed(&self) {
        let t = Territory::chengyang();
        let rows = t
            .units()
            .map(|u| UnitRow {
                code: u.code.clone(),
                level: u.level.as_str().to_owned(),
                name: u.name.clone(),
                parent: u.parent.clone(),
                zone: u.zone.clone(),
            })
            .collect();
        self.storage().import_units(rows).await.unwrap();
        let hash = auth::hash_password(PASSWORD).unwrap();
        for (login, role, scope, dept) in accounts() {
            self.storage()
                .add_user(NewUser {
                    login: login.into(),
                    name: format!("{login}-名"),
                    role,
                    scope,
                    department: dept.map(str::to_owned),
                    password_hash: hash.clone(),
                })
                .await
                .unwrap();
        }
    }

    pub async fn stop(self) {
        self.handle.shutdown().await;
        if let Some(pg) = self.pg {
            pg.drop_db().await;
        }
    }
}

/// The grid every grid worker here works in, and a second grid in the same community.
pub fn grid_a() -> TerritoryPath {
    let t = Territory::chengyang();
    let g = t.grids().next().unwrap();
    t.path_of(&g.code).unwrap()
}

pub fn grid_b() -> TerritoryPath {
    let t = Territory::chengyang();
    let g = t.grids().nth(1).unwrap();
    t.path_of(&g.code).unwrap()
}

/// A grid in another street altogether.
pub fn grid_far() -> TerritoryPath {
    let t = Territory::chengyang();
    let g = t.grids().last().unwrap();
    t.path_of(&g.code).unwrap()
}

/// Test accounts: login, role, scope, department.
pub fn accounts() -> Vec<(&'static str, Role, String, Option<&'static str>)> {
    let a = grid_a();
    vec![
        ("grid1", Role::GridWorker, a.grid.clone(), None),
        ("grid2", Role::GridWorker, a.grid.clone(), None),
        ("gridb", Role::GridWorker, grid_b().grid, None),
        ("legal", Role::LegalWorker, a.community.clone(), None),
        ("mediator", Role::Mediator, a.community.clone(), None),
        ("street", Role::StreetOfficer, a.street.clone(), None),
        (
            "dept",
            Role::Department,
            "370214".into(),
            Some("区住房和城乡建设局"),
        ),
        ("leader", Role::Leader, "370214".into(), None),
        ("sup", Role::Supervisor, "370214".into(), None),
        ("admin", Role::Admin, "370214".into(), None),
    ]
}

/// A device: a real store in a temp folder.
pub struct Device {
    pub dir: tempfile::TempDir,
    pub store: Mutex<Store>,
}

impl Device {
    pub fn new() -> Device {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(dir.path()).unwrap();
        Device {
            dir,
            store: Mutex::new(store),
        }
    }

    pub async fn login(&self, server: &str, user: &str) -> sync::Session {
        sync::login(&self.store, server, user, PASSWORD)
            .await
            .expect("login")
    }

    pub fn session(&self) -> sync::Session {
        sync::session(&self.store.lock().unwrap())
            .unwrap()
            .expect("logged in")
    }

    /// Switches this device to another server URL (a replica) keeping its session.
    pub fn point_at(&self, url: &str) {
        let store = self.store.lock().unwrap();
        let mut s = sync::session(&store).unwrap().expect("logged in");
        s.server = url.to_owned();
        let json = serde_json::to_string(&s).unwrap();
        store.set_meta("session", Some(&json)).unwrap();
    }

    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        sync::sync_now(&self.store, &mut |_| {}).await
    }

    pub async fn sync_with_retries(&self, attempts: u32) -> Result<SyncReport, SyncError> {
        let s = self.session();
        let client = SyncClient::new(&s.server)?
            .with_token(&s.token)
            .with_retry(RetryPolicy {
                attempts,
                base: std::time::Duration::from_millis(20),
                cap: std::time::Duration::from_millis(100),
            });
        sync::sync_with(&self.store, &client, &mut |_| {}).await
    }

    pub fn author(&self) -> Author {
        let s = self.session();
        Author {
            user: s.user.id.clone(),
            name: s.user.name.clone(),
            device: self.store.lock().unwrap().identity().device_id.to_string(),
        }
    }

    pub fn user_ref(&self) -> UserRef {
        let s = self.session();
        UserRef::new(s.user.id, s.user.name)
    }

    pub fn role(&self) -> Role {
        self.session().user.role
    }

    pub fn event(&self, kind: CaseEventKind, note: &str) -> CaseEvent {
        let at = self.store.lock().unwrap().next_hlc().unwrap();
        CaseEvent {
            id: uuid::Uuid::now_v7().to_string(),
            at,
            by: self.user_ref(),
            role: self.role(),
            kind,
            note: note.into(),
        }
    }

    /// Creates a case in `path` with a three-sentence description.
    pub fn new_case(&self, path: TerritoryPath, title: &str) -> String {
        let raised = self.event(CaseEventKind::Raised, "");
        let case = Case {
            id: RecordId::new_v7(),
            territory: path,
            created_by: self.user_ref(),
            created_at: Utc::now(),
            kind: CaseKind::Dispute,
            category: Category::Neighbourhood,
            title: title.into(),
            description: "楼上漏水。楼下要求赔偿。双方争执不下。".into(),
            parties: vec![Party {
                name: "王秀英".into(),
                phone: "13812345678".into(),
                ..Party::default()
            }],
            persons_involved: 2,
            events: vec![raised],
            ..Case::default()
        };
        let id = case.id.to_string();
        let author = self.author();
        self.store
            .lock()
            .unwrap()
            .create(&Record::Case(case), &author)
            .expect("create case");
        id
    }

    /// Edits a case.
    pub fn edit_case(&self, id: &str, f: impl FnOnce(&mut Case)) {
        let author = self.author();
        self.store
            .lock()
            .unwrap()
            .update(id, &author, |r| {
                let Record::Case(c) = r else {
                    panic!("not a case")
                };
                f(c);
                Ok::<_, ()>(())
            })
            .expect("store")
            .expect("edit");
    }

    pub fn case(&self, id: &str) -> Case {
        match self.store.lock().unwrap().get(id).expect("record") {
            Record::Case(c) => c,
            other => panic!("not a case: {:?}", other.kind()),
        }
    }

    pub fn has(&self, id: &str) -> bool {
        self.store.lock().unwrap().row(id).is_ok()
    }

    pub fn heads(&self, id: &str) -> Vec<String> {
        self.store.lock().unwrap().heads(id).unwrap()
    }

    pub fn value(&self, id: &str) -> serde_json::Value {
        self.store.lock().unwrap().get_value(id).unwrap()
    }

    pub fn ids(&self) -> Vec<String> {
        self.store.lock().unwrap().ids().unwrap()
    }
}
