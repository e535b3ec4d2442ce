//! Shared pieces of the app's end-to-end tests: a real sync server with demo accounts,
//! WebDriver sessions (the Tauri window through tauri-driver + WebKitWebDriver, headless
//! Chromium through chromedriver), and small UI helpers that fail with a clear message.
//!
//! These tests need a display (`cargo xtask test` runs them under `xvfb-run`) and the
//! WebDriver servers of the APP apt group; when something is missing they fail, never skip.

#![allow(dead_code, clippy::print_stdout)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use gridwork_schema::territory::{Territory, demo};
use gridwork_sync_server::storage::{NewUser, UnitRow};
use gridwork_sync_server::{Config, Server, ServerHandle};
use serde_json::{Value, json};

/// How long to wait for something to appear.
pub const WAIT: Duration = Duration::from_secs(30);

/// The workspace root, from `CARGO_MANIFEST_DIR` as cargo sets it when it runs the test (the
/// compile-time value may name another clone that shares the build cache).
pub fn workspace() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Where screenshots go: `$GRIDWORK_SCREENSHOTS`, else `<workspace>/screenshots`.
pub fn screenshots() -> PathBuf {
    let dir = std::env::var_os("GRIDWORK_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// Fails unless `ui/dist` holds the real UI (not the build script's placeholder).
pub fn check_dist() -> PathBuf {
    let dist = workspace().join("ui/dist");
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap_or_default();
    assert!(
        dist.join("gridwork_ui_bg.wasm").exists() && !index.contains("gridwork-ui-placeholder"),
        "ui/dist holds no built UI: run `cargo xtask build-ui` (cargo xtask test does)"
    );
    dist
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn unit_rows(t: &Territory) -> Vec<UnitRow> {
    t.units()
        .map(|u| UnitRow {
            code: u.code.clone(),
            level: u.level.as_str().to_owned(),
            name: u.name.clone(),
            parent: u.parent.clone(),
            zone: u.zone.clone(),
        })
        .collect()
}

/// Starts a sync server on `addr` (port 0: any) over the SQLite data in `dir`.
pub async fn start_server(dir: &Path, addr: SocketAddr) -> ServerHandle {
    let mut config = Config::sqlite_in(dir);
    config.listen = addr;
    Server::start(config).await.expect("sync server starts")
}

/// Starts a fresh sync server with Chengyang's territory and every demo account.
pub async fn seeded_server(dir: &Path) -> ServerHandle {
    let server = start_server(dir, SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let store = server.store();
    store
        .import_units(unit_rows(Territory::chengyang()))
        .await
        .expect("territory imported");
    for a in demo::ACCOUNTS {
        store
            .add_user(NewUser {
                login: a.login.into(),
                name: a.display_name.into(),
                role: serde_json::from_value(Value::String(a.role.into())).expect("role"),
                scope: a.scope.into(),
                department: a.department.map(str::to_owned),
                password_hash: gridwork_sync_server::auth::hash_password(demo::PASSWORD)
                    .expect("hash"),
            })
            .await
            .expect("demo user added");
    }
    server
}

fn on_path(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(bin))
            .find(|p| p.exists())
    })
}

/// A WebDriver server process and a session with it; both end when this is dropped.
pub struct Driver {
    /// The session.
    pub client: Client,
    child: Child,
    /// `tauri`/`webkit` or `chromium`, for screenshot names.
    pub engine: &'static str,
}

impl Driver {
    /// Ends the session and stops the WebDriver server (SIGTERM, so tauri-driver also stops
    /// WebKitWebDriver and the app).
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        terminate(&mut self.child);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

fn terminate(child: &mut Child) {
    if child.try_wait().ok().flatten().is_none() {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

async fn connect(port: u16, caps: Value, child: &mut Child) -> Client {
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!("capabilities are an object"),
    };
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        match attempt {
            Ok(c) => return c,
            Err(e) => {
                if let Some(status) = child.try_wait().ok().flatten() {
                    panic!("the WebDriver server exited ({status}) before a session started: {e}");
                }
                assert!(
                    Instant::now() < deadline,
                    "no WebDriver session at {url} after 30 s: {e}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// The `tauri-driver` binary: `$GRIDWORK_TAURI_DRIVER`, `PATH`, or xtask's tools folder.
fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("GRIDWORK_TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    on_path("tauri-driver")
        .or_else(|| Some(target.join("tools/bin/tauri-driver")).filter(|p| p.exists()))
        .expect(
            "tauri-driver not found: run the app tests with `cargo xtask test`, which installs it",
        )
}

/// Starts the app binary in a real window through tauri-driver and WebKitWebDriver.
pub async fn tauri_session(app: &Path, env: &[(&str, &Path)], server: &str) -> Driver {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: the app's end-to-end tests need an X display (cargo xtask test runs them \
         under xvfb-run)"
    );
    let port = free_port();
    let native = free_port();
    let mut cmd = Command::new(tauri_driver());
    cmd.args([
        "--port",
        &port.to_string(),
        "--native-port",
        &native.to_string(),
    ])
    .env("GRIDWORK_SERVER", server)
    .env("GRIDWORK_LOG", "warn")
    .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("tauri-driver starts");
    let caps = json!({
        "browserName": "wry",
        "tauri:options": { "application": app },
    });
    let client = connect(port, caps, &mut child).await;
    Driver {
        client,
        child,
        engine: "tauri",
    }
}

/// Starts headless Chromium at `width`×`height` through chromedriver.
pub async fn chromium_session(profile: &Path, width: u32, height: u32) -> Driver {
    let port = free_port();
    let mut child =
        Command::new(on_path("chromedriver").expect("chromedriver on PATH (APP apt group)"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": on_path("chromium").expect("chromium on PATH (APP apt group)"),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--force-device-scale-factor=1",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={width},{height}"),
            ],
            // Desktop Chromium keeps windows at least 500 px wide: emulate the phone's viewport.
            "mobileEmulation": {
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": true },
            },
        },
    });
    let client = connect(port, caps, &mut child).await;
    Driver {
        client,
        child,
        engine: "chromium",
    }
}

/// UI helpers over a session.
pub struct Ui<'a> {
    /// The session.
    pub c: &'a Client,
    /// Screenshot name prefix (engine).
    pub engine: &'static str,
}

impl<'a> Ui<'a> {
    /// Helpers over `d`.
    pub fn new(d: &'a Driver) -> Self {
        Self {
            c: &d.client,
            engine: d.engine,
        }
    }

    /// Waits for an element.
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                self.failed().await;
                panic!("[{}] no element `{css}` after {WAIT:?}: {e}", self.engine)
            }
        }
    }

    /// Saves `<engine>-FAILED.png` and the page's text, for the failure report.
    pub async fn failed(&self) {
        if let Ok(png) = self.c.screenshot().await {
            let path = screenshots().join(format!("{}-FAILED.png", self.engine));
            let _ = std::fs::write(&path, png);
            println!("failure screenshot: {}", path.display());
        }
        if let Ok(v) = self
            .c
            .execute("return document.body.innerText;", Vec::new())
            .await
        {
            println!("page text at failure:\n{}", v.as_str().unwrap_or_default());
        }
    }

    /// Whether an element exists now.
    pub async fn exists(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    /// Scrolls an element to the middle of the screen and clicks it.
    /// Scrolls an element to the middle of the screen and clicks it (again, if the screen
    /// was re-rendered between finding and clicking).
    pub async fn click(&self, css: &str) {
        let mut tries = 0;
        loop {
            let el = self.wait(css).await;
            let _ = self
                .c
                .execute(
                    "arguments[0].scrollIntoView({block: 'center'});",
                    vec![serde_json::to_value(&el).expect("element as JSON")],
                )
                .await;
            match el.click().await {
                Ok(()) => return,
                Err(e) if tries < 10 => {
                    tries += 1;
                    println!("[{}] retrying click on `{css}`: {e}", self.engine);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("[{}] cannot click `{css}`: {e}", self.engine),
            }
        }
    }

    /// Replaces an input's text, as typing would (the input event fires).
    pub async fn fill(&self, css: &str, text: &str) {
        let mut tries = 0;
        loop {
            let el = self.wait(css).await;
            let done = self
                .c
                .execute(
                    "const el = arguments[0];
                     const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
                     Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, arguments[1]);
                     el.dispatchEvent(new Event('input', { bubbles: true }));
                     el.dispatchEvent(new Event('change', { bubbles: true }));",
                    vec![serde_json::to_value(&el).expect("element"), json!(text)],
                )
                .await;
            match done {
                Ok(_) => return,
                Err(e) if tries < 10 => {
                    tries += 1;
                    println!("[{}] retrying fill of `{css}`: {e}", self.engine);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("[{}] cannot fill `{css}`: {e}", self.engine),
            }
        }
    }

    /// Types into an input with real key events.
    pub async fn type_keys(&self, css: &str, text: &str) {
        let el = self.wait(css).await;
        el.clear().await.ok();
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("[{}] cannot type into `{css}`: {e}", self.engine));
    }

    /// The text of an element as shown (`innerText`; WebKitWebDriver's own element text
    /// misses text in clipped boxes).
    pub async fn text(&self, css: &str) -> String {
        let el = self.wait(css).await;
        self.inner_text(&el).await
    }

    async fn inner_text(&self, el: &fantoccini::elements::Element) -> String {
        self.c
            .execute(
                "return arguments[0].innerText;",
                vec![serde_json::to_value(el).expect("element")],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Waits until the element's text contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.c.find(Locator::Css(css)).await {
                last = self.inner_text(&el).await;
                if last.contains(needle) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.failed().await;
        panic!(
            "[{}] `{css}` never contained {needle:?} within {WAIT:?}; last text: {last:?}",
            self.engine
        );
    }

    /// Waits until an attribute of the element equals `value`.
    pub async fn wait_attr(&self, css: &str, attr: &str, value: &str) {
        let deadline = Instant::now() + WAIT;
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(el) = self.c.find(Locator::Css(css)).await {
                last = el.attr(attr).await.ok().flatten();
                if last.as_deref() == Some(value) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.failed().await;
        panic!(
            "[{}] `{css}`[{attr}] never became {value:?} within {WAIT:?}; last: {last:?}",
            self.engine
        );
    }

    /// Waits until no element matches.
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if !self.exists(css).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("[{}] `{css}` still there after {WAIT:?}", self.engine);
    }

    /// Runs a script and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.c
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("[{}] script failed: {e}", self.engine))
    }

    /// Hides the toast (so screenshots show the screen) and scrolls to the top.
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(350)).await;
        let _ = self
            .c
            .execute(
                "const t = document.getElementById('toast'); if (t) t.click(); window.scrollTo(0, 0);",
                Vec::new(),
            )
            .await;
        // WebKit may miss the last repaint in a screenshot without a pause.
        tokio::time::sleep(Duration::from_millis(350)).await;
    }

    /// Saves a screenshot as `<engine>-<name>.png`.
    pub async fn shot(&self, name: &str) {
        self.settle().await;
        let png = self
            .c
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("[{}] screenshot {name} failed: {e}", self.engine));
        assert!(
            png.len() > 1000,
            "[{}] screenshot {name} is empty",
            self.engine
        );
        let path = screenshots().join(format!("{}-{name}.png", self.engine));
        std::fs::write(&path, png).expect("screenshot written");
        println!("screenshot {}", path.display());
    }

    /// Attaches a small PNG to the patrol's photo input, as picking a file would.
    pub async fn pick_photo(&self) {
        self.wait("#photo-input").await;
        self.js(
            "const b64 = 'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR4nGM4YaNBEmIY1TCqYfhqAAAeBCwQMwPSngAAAABJRU5ErkJggg==';
             const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
             const dt = new DataTransfer();
             dt.items.add(new File([bytes], 'finding.png', { type: 'image/png' }));
             const input = document.getElementById('photo-input');
             input.files = dt.files;
             input.dispatchEvent(new Event('change', { bubbles: true }));
             return true;",
        )
        .await;
    }

    /// Presses "sync now" and waits until that sync has finished (the button is disabled
    /// while it runs).
    pub async fn sync_now(&self) {
        self.wait("#sync-now:not([disabled])").await;
        self.click("#sync-now").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.wait("#sync-now:not([disabled])").await;
    }

    /// The current screen's title.
    pub async fn title(&self) -> String {
        self.text("#screen-title").await
    }

    /// Opens a tab of the bottom bar and waits for its title.
    pub async fn tab(&self, name: &str, title: &str) {
        self.click(&format!("#tab-{name}")).await;
        self.wait_text("#screen-title", title).await;
    }
}

/// Data shown on screen that is Chinese in every language (names of people and places),
/// and the language switch, which names each language in itself.
const DATA: [&str; 5] = ["张伟", "小寨子社区", "网格", "城阳", "中文"];

/// Chinese that is data, not UI text, in every language: the territory's unit names (streets,
/// communities, grids), the demo staff's names and [`DATA`]. Longest first, so a grid's name
/// goes before its community's.
fn data_names() -> Vec<String> {
    let mut names: Vec<String> = Territory::chengyang()
        .units()
        .map(|u| u.name.clone())
        .collect();
    names.extend(demo::ACCOUNTS.iter().map(|a| a.display_name.to_owned()));
    names.extend(DATA.iter().map(|d| (*d).to_owned()));
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names
}

/// Fails if the page shows Chinese outside the known data (territory names, demo staff): an
/// untranslated label on an English screen.
pub async fn assert_translated(ui: &Ui<'_>, screen: &str) {
    let text = ui.js("return document.body.innerText;").await;
    let mut text = text.as_str().unwrap_or_default().to_owned();
    // Decorative marks hidden from screen readers (the 网 logo) are no labels.
    let hidden = ui
        .js("return [...document.querySelectorAll('[aria-hidden=true]')].map(e => e.innerText);")
        .await;
    for h in hidden
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h.as_str())
    {
        text = text.replacen(h, "", 1);
    }
    for d in data_names() {
        if text.contains(&d) {
            text = text.replace(&d, "");
        }
    }
    let stray: String = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c) || ('\u{3000}'..='\u{303f}').contains(c))
        .collect();
    if !stray.is_empty() {
        ui.failed().await;
    }
    assert!(
        stray.is_empty(),
        "[{}/{screen}] untranslated text on an English screen: {stray:?}\n{text}",
        ui.engine
    );
}

/// Signs in on the login screen and waits for the home screen and a first sync.
pub async fn sign_in(ui: &Ui<'_>, server: &str, user: &str, name: &str) {
    ui.wait("#login-user").await;
    ui.fill("#login-server", server).await;
    ui.type_keys("#login-user", user).await;
    ui.type_keys("#login-password", "gridwork").await;
    ui.click("#login-submit").await;
    ui.wait_text("#home-who", name).await;
    ui.wait_attr("#sync-state", "data-state", "online").await;
    // Pull what others pushed, and let the screens reload.
    ui.sync_now().await;
}

/// Syncs, then signs out through the settings screen (titled `settings`).
pub async fn sign_out(ui: &Ui<'_>, settings: &str) {
    ui.sync_now().await;
    ui.tab("settings", settings).await;
    ui.click("#sign-out").await;
    ui.wait_text(
        "#sign-out",
        if settings == "Settings" {
            "Confirm"
        } else {
            "确认"
        },
    )
    .await;
    ui.click("#sign-out").await;
    ui.wait("#login-user").await;
}

/// Selects an option of a `<select>` by value, as picking it would.
pub async fn select(ui: &Ui<'_>, css: &str, value: &str) {
    ui.wait(css).await;
    ui.js(&format!(
        "const s = document.querySelector({css:?}); s.value = {value:?};
         s.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;"
    ))
    .await;
}

/// Stores, on the device in `app`, a first petition received 20 days ago with no step done:
/// overdue. English data when `en`.
pub fn overdue_petition(app: &gridwork_core::app::App, en: bool) {
    use gridwork_schema::{Party, Petition, PetitionChannel, Record, RecordId, UserRef};
    let mut store = app.store().lock().expect("store");
    let received = store.now().date_naive() - chrono::Days::new(20);
    let by = UserRef::new("seed", "seed");
    let petition = Petition {
        id: RecordId::new_v7(),
        territory: gridwork_schema::api::path_of_code("370214001001001"),
        created_by: by.clone(),
        created_at: store.now(),
        channel: PetitionChannel::Visit,
        received_on: received,
        first: true,
        petitioners: vec![Party {
            name: if en { "Li Ming" } else { "李明" }.into(),
            ..Party::default()
        }],
        persons: 1,
        subject: if en {
            "Unpaid wages at a building site"
        } else {
            "工地拖欠工资"
        }
        .into(),
        steps: Petition::standard_steps(received),
        ..Petition::default()
    };
    let author = gridwork_core::doc::Author {
        user: by.id,
        name: by.name,
        device: "seed".into(),
    };
    store
        .create(&Record::Petition(petition), &author)
        .expect("petition stored");
}
