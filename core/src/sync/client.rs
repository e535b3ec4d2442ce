//! The HTTP edge of sync: sends what the [`SyncMachine`] asks for, with retries and backoff.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gridwork_schema::frame;
use gridwork_schema::wire::{
    DocsResponse, ErrorBody, LoginRequest, LoginResponse, NEXT_PAGE_HEADER, NextPage,
    PROTOCOL_VERSION, PullResponse, PushResponse, UploadStatus, UserInfo,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::machine::{Request, Response, SyncMachine, SyncReport};
use crate::store::{Refusal, Store, StoreError};

/// What went wrong while syncing.
#[derive(Debug, Error)]
pub enum SyncError {
    /// The device is not signed in.
    #[error("not signed in: log in to a server first")]
    NotLoggedIn,
    /// The server refused the credentials or the token (revoked device, disabled user).
    #[error("the server refused the sign-in: {0}")]
    Unauthorized(String),
    /// The server no longer serves this app version.
    #[error("this app version is too old for the server: please update ({0})")]
    UpdateRequired(String),
    /// The server answered with an error.
    #[error("the server answered {status}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's error code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached (after retries).
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    /// The server's answer was not what the protocol says.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Whether trying again later may help (as opposed to needing a person).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable(_))
            || matches!(self, Self::Server { status, .. } if *status >= 500 || *status == 429)
    }
}

/// The device's sign-in with a server, kept in the store.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Server base URL, e.g. `http://127.0.0.1:8787`.
    pub server: String,
    /// Bearer token bound to this device.
    pub token: String,
    /// Who is signed in.
    pub user: UserInfo,
    /// The server's id.
    pub server_id: String,
    /// The protocol version the server spoke at login (0: signed in before it was kept).
    #[serde(default)]
    pub protocol: u32,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("user", &self.user)
            .field("server_id", &self.server_id)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

const SESSION_KEY: &str = "session";
const ZSTD_LEVEL: i32 = 3;
const LAST_SYNC_KEY: &str = "sync.last";

/// How a push frame is compressed on its way up.
///
/// Brotli at quality 10 packs a batch of Automerge changes about a fifth smaller than zstd
/// at level 3 (the changes' binary columns suit its context modelling), for more CPU: tens
/// of milliseconds for a typical batch, spent on the device, where a slow uplink costs
/// more. Big bodies (bulk pushes) fall back to quality 5, several times faster for about a
/// tenth more bytes. The server only decompresses, whatever the quality.
pub fn compress_upload(plain: &[u8]) -> Vec<u8> {
    const SMALL: usize = 256 * 1024;
    let quality = if plain.len() <= SMALL { 10 } else { 5 };
    let mut out = Vec::with_capacity(plain.len() / 4);
    let mut reader = brotli::CompressorReader::new(plain, 4096, quality, 22);
    // Reading from a slice cannot fail.
    let _ = std::io::Read::read_to_end(&mut reader, &mut out);
    out
}

/// The `Content-Encoding` of [`compress_upload`]'s output.
pub const UPLOAD_ENCODING: &str = "br";

/// The session stored on this device, if signed in.
pub fn session(store: &Store) -> Result<Option<Session>, StoreError> {
    Ok(store
        .meta(SESSION_KEY)?
        .and_then(|s| serde_json::from_str(&s).ok()))
}

/// How a sync session went, as the app's sync bar shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// `push`, `pull`, `docs` or `attachments`.
    pub phase: String,
    /// Records pushed and accepted so far.
    pub pushed: usize,
    /// Records that received changes so far.
    pub pulled: usize,
    /// Bytes sent so far.
    pub bytes_up: u64,
    /// Bytes received so far.
    pub bytes_down: u64,
}

/// What the device knows of its sync state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Device id.
    pub device_id: String,
    /// Signed-in user, if any.
    pub user: Option<UserInfo>,
    /// Server URL, if signed in.
    pub server: Option<String>,
    /// Records with unpushed changes.
    pub pending: u64,
    /// When the last sync finished (RFC 3339), if ever.
    pub last_sync: Option<String>,
    /// Records the server refused, with why.
    pub refused: Vec<(String, Refusal)>,
}

/// The device's sync status.
pub fn status(store: &Store) -> Result<DeviceStatus, StoreError> {
    let s = session(store)?;
    Ok(DeviceStatus {
        device_id: store.identity().device_id.to_string(),
        user: s.as_ref().map(|s| s.user.clone()),
        server: s.map(|s| s.server),
        pending: store.pending_count()?,
        last_sync: store.meta(LAST_SYNC_KEY)?,
        refused: store.refused()?,
    })
}

/// How often and how patiently to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// The first pause; doubled each time.
    pub base: Duration,
    /// The longest pause.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

/// An HTTP client for one server.
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    retry: RetryPolicy,
    frames: bool,
    /// Set when the server answered 415 to a brotli body (a server from before it took
    /// them): later pushes go zstd.
    no_brotli: Arc<AtomicBool>,
}

impl SyncClient {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8787`).
    pub fn new(base: &str) -> Result<Self, SyncError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        Ok(SyncClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: None,
            retry: RetryPolicy::default(),
            frames: false,
            no_brotli: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Pushes binary frames ([`gridwork_schema::frame`]) to a server of protocol 2 or later;
    /// answers come as frames from any server that has them, whatever this says.
    pub fn with_frames(mut self, server_protocol: u32) -> Self {
        self.frames = server_protocol >= 2;
        self
    }

    /// Uses `token` for every call.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Uses another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// POSTs a JSON body and decodes the answer (JSON, or a frame); returns it with bytes
    /// sent and received. `hint` as for [`SyncClient::post_raw`].
    async fn post<B: Serialize, T: DeserializeOwned + Framed>(
        &self,
        path: &str,
        body: &B,
        hint: Option<NextPageHint>,
    ) -> Result<(T, u64, u64), SyncError> {
        let json = serde_json::to_vec(body).map_err(|e| SyncError::Protocol(e.to_string()))?;
        self.post_raw(path, &json, "application/json", hint).await
    }

    /// POSTs a body of `content_type`, compressed, and decodes the answer. Push frames go
    /// as [`compress_upload`] makes them, other bodies (small) zstd-compressed. `hint` gets
    /// what the answer's headers say of the next pull page, as soon as they arrive.
    async fn post_raw<T: DeserializeOwned + Framed>(
        &self,
        path: &str,
        plain: &[u8],
        content_type: &'static str,
        mut hint: Option<NextPageHint>,
    ) -> Result<(T, u64, u64), SyncError> {
        let upload =
            content_type == frame::FRAME_CONTENT_TYPE && !self.no_brotli.load(Ordering::Relaxed);
        let (body, encoding) = if upload {
            (compress_upload(plain), UPLOAD_ENCODING)
        } else {
            // Record batches are repetitive, and field networks are slow.
            let z = zstd::encode_all(plain, ZSTD_LEVEL)
                .map_err(|e| SyncError::Protocol(e.to_string()))?;
            (z, "zstd")
        };
        let up = body.len() as u64;
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .header(reqwest::header::ACCEPT, ACCEPT)
                .header(reqwest::header::CONTENT_ENCODING, encoding)
                .header(reqwest::header::ACCEPT_ENCODING, "zstd")
                .body(body.clone());
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            let result = match req.send().await {
                Ok(resp) => {
                    if resp.status().is_success()
                        && let Some(next) = next_page_of(&resp)
                        && let Some(h) = hint.take()
                    {
                        // The receiver may have stopped waiting; nothing to tell then.
                        let _ = h.send(next);
                    }
                    read_answer::<T>(resp).await
                }
                Err(e) => Err(SyncError::Unreachable(e.without_url().to_string())),
            };
            match result {
                Ok((value, down)) => return Ok((value, up, down)),
                Err(SyncError::Server { status: 415, .. }) if upload => {
                    tracing::info!(%path, "the server takes no brotli bodies: sending zstd");
                    self.no_brotli.store(true, Ordering::Relaxed);
                    return Box::pin(self.post_raw(path, plain, content_type, hint)).await;
                }
                Err(e) if e.is_transient() && attempt < self.retry.attempts => {
                    let pause = self
                        .retry
                        .base
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(self.retry.cap);
                    tracing::info!(%path, attempt, ?pause, error = %e, "retrying");
                    tokio::time::sleep(pause).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends one request of the sync machine.
    pub async fn send(&self, request: &Request) -> Result<(Response, u64, u64), SyncError> {
        self.send_hinting(request, None).await
    }

    /// [`SyncClient::send`]; for a pull, `hint` gets what the page's headers say of the next
    /// page as soon as they arrive (nothing when they say nothing: an older server).
    async fn send_hinting(
        &self,
        request: &Request,
        hint: Option<NextPageHint>,
    ) -> Result<(Response, u64, u64), SyncError> {
        Ok(match request {
            Request::Push(r) if self.frames => {
                let body = frame::encode(r.clone());
                let (v, up, down) = self
                    .post_raw::<PushResponse>("/v1/push", &body, frame::FRAME_CONTENT_TYPE, None)
                    .await?;
                (Response::Push(v), up, down)
            }
            Request::Push(r) => {
                let (v, up, down) = self.post::<_, PushResponse>("/v1/push", r, None).await?;
                (Response::Push(v), up, down)
            }
            Request::Pull(r) => {
                let (v, up, down) = self.post::<_, PullResponse>("/v1/pull", r, hint).await?;
                (Response::Pull(v), up, down)
            }
            Request::Docs(r) => {
                let (v, up, down) = self.post::<_, DocsResponse>("/v1/docs", r, None).await?;
                (Response::Docs(v), up, down)
            }
        })
    }

    /// Uploads an attachment, resuming where the server's copy ends. Returns bytes sent.
    pub async fn upload_attachment(
        &self,
        sha256: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<u64, SyncError> {
        const CHUNK: usize = 256 * 1024;
        let url = format!("{}/v1/attachments/{}", self.base, sha256);
        let token = self.token.clone().ok_or(SyncError::NotLoggedIn)?;
        let head = self
            .http
            .head(&url)
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.without_url().to_string()))?;
        let mut offset: u64 = match head.status().as_u16() {
            200..=299 => head
                .headers()
                .get("upload-offset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            401 => return Err(SyncError::Unauthorized("token refused".into())),
            _ => 0,
        };
        let total = bytes.len() as u64;
        let mut sent = 0;
        while offset < total || total == 0 {
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let end = (start + CHUNK).min(bytes.len());
            let resp = self
                .http
                .put(format!("{url}?offset={offset}&length={total}"))
                .bearer_auth(&token)
                .header(reqwest::header::CONTENT_TYPE, media_type)
                .body(bytes[start..end].to_vec())
                .send()
                .await
                .map_err(|e| SyncError::Unreachable(e.without_url().to_string()))?;
            let (status, _): (UploadStatus, u64) = read_answer(resp).await?;
            sent += (end - start) as u64;
            if status.complete || total == 0 {
                break;
            }
            if status.offset <= offset {
                return Err(SyncError::Protocol(format!(
                    "attachment upload made no progress at offset {offset}"
                )));
            }
            offset = status.offset;
        }
        Ok(sent)
    }

    /// Downloads an attachment.
    pub async fn download_attachment(&self, sha256: &str) -> Result<Vec<u8>, SyncError> {
        let token = self.token.clone().ok_or(SyncError::NotLoggedIn)?;
        let resp = self
            .http
            .get(format!("{}/v1/attachments/{}", self.base, sha256))
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(error_of(resp).await);
        }
        resp.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| SyncError::Unreachable(e.without_url().to_string()))
    }
}

async fn error_of(resp: reqwest::Response) -> SyncError {
    let status = resp.status().as_u16();
    let body: Option<ErrorBody> = resp.json().await.ok();
    let (code, message) = body.map_or_else(
        || ("unknown".to_owned(), format!("HTTP {status}")),
        |b| (b.code, b.message),
    );
    match status {
        401 | 403 => SyncError::Unauthorized(message),
        426 => SyncError::UpdateRequired(message),
        _ => SyncError::Server {
            status,
            code,
            message,
        },
    }
}

/// An answer: pull pages and documents may come back as frames, the rest as JSON.
trait Framed: Sized {
    fn from_frame(body: &[u8]) -> Result<Self, frame::FrameError>;
}

macro_rules! framed {
    ($($t:ty),*) => {$(
        impl Framed for $t {
            fn from_frame(body: &[u8]) -> Result<Self, frame::FrameError> {
                frame::decode(body)
            }
        }
    )*};
}
framed!(PullResponse, DocsResponse);

/// Where [`SyncClient::post_raw`] tells what a pull page's headers say of the next page.
type NextPageHint = tokio::sync::oneshot::Sender<NextPage>;

/// What `resp`'s [`NEXT_PAGE_HEADER`] says of the next pull page, if it says anything valid.
fn next_page_of(resp: &reqwest::Response) -> Option<NextPage> {
    resp.headers()
        .get(NEXT_PAGE_HEADER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The `Accept` of every sync call: a frame where the server has one, else JSON.
const ACCEPT: &str = "application/vnd.gridwork.frame, application/json;q=0.9";

/// Answers that are never frames.
macro_rules! json_only {
    ($($t:ty),*) => {$(
        impl Framed for $t {
            fn from_frame(_: &[u8]) -> Result<Self, frame::FrameError> {
                Err(frame::FrameError::NotAFrame)
            }
        }
    )*};
}
json_only!(LoginResponse, PushResponse, UploadStatus);

async fn read_answer<T: DeserializeOwned + Framed>(
    resp: reqwest::Response,
) -> Result<(T, u64), SyncError> {
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    let framed = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(frame::FRAME_CONTENT_TYPE));
    let zstd_body = resp
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"zstd"));
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| SyncError::Unreachable(e.without_url().to_string()))?;
    let wire = bytes.len() as u64;
    let plain = if zstd_body {
        std::borrow::Cow::Owned(
            zstd::decode_all(&bytes[..]).map_err(|e| SyncError::Protocol(e.to_string()))?,
        )
    } else {
        std::borrow::Cow::Borrowed(&bytes[..])
    };
    let value = if framed {
        T::from_frame(&plain).map_err(|e| SyncError::Protocol(e.to_string()))?
    } else {
        serde_json::from_slice(&plain).map_err(|e| SyncError::Protocol(e.to_string()))?
    };
    Ok((value, wire))
}

/// Signs in to `server` as `user`, registering this device; the session is kept in the store.
///
/// Signing in as another user or to another server starts the pull over, so the device
/// receives exactly what the new scope may see.
pub async fn login(
    store: &Mutex<Store>,
    server: &str,
    user: &str,
    password: &str,
) -> Result<Session, SyncError> {
    let device_id = lock(store).identity().device_id.to_string();
    let client = SyncClient::new(server)?.with_retry(RetryPolicy {
        attempts: 2,
        ..RetryPolicy::default()
    });
    let req = LoginRequest {
        user: user.to_owned(),
        password: password.to_owned(),
        device_id,
        device_name: device_name(),
        protocol: PROTOCOL_VERSION,
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let (resp, _, _): (LoginResponse, _, _) = client.post("/v1/login", &req, None).await?;
    let session = Session {
        server: client.base.clone(),
        token: resp.token,
        user: resp.user,
        server_id: resp.server_id,
        protocol: resp.protocol,
    };
    let s = lock(store);
    let previous = session_of(&s)?;
    let same_scope = previous.as_ref().is_some_and(|p| {
        p.server_id == session.server_id
            && p.user.id == session.user.id
            && p.user.scope == session.user.scope
    });
    if !same_scope {
        s.set_meta("sync.cursor", None)?;
        s.set_meta("sync.snapshot", None)?;
    }
    let json = serde_json::to_string(&session).map_err(|e| SyncError::Protocol(e.to_string()))?;
    s.set_meta(SESSION_KEY, Some(&json))?;
    Ok(session)
}

fn session_of(store: &Store) -> Result<Option<Session>, SyncError> {
    Ok(session(store)?)
}

fn device_name() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "gridwork-device".into())
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    // A panic elsewhere while holding the lock leaves the store itself consistent (every
    // write is one SQLite transaction), so keep going with it.
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one sync session: push everything pending, pull until nothing more, fetch whole what
/// came in incomplete, upload attachments. The store is locked only between network calls.
pub async fn sync_now(
    store: &Mutex<Store>,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<SyncReport, SyncError> {
    let session = session_of(&lock(store))?.ok_or(SyncError::NotLoggedIn)?;
    let client = SyncClient::new(&session.server)?
        .with_token(&session.token)
        .with_frames(session.protocol);
    sync_with(store, &client, progress).await
}

/// [`sync_now`] with a given client (tests use it to set retries).
pub async fn sync_with(
    store: &Mutex<Store>,
    client: &SyncClient,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<SyncReport, SyncError> {
    let mut machine = SyncMachine::new();
    // The next pull pages, asked for while this one is applied, so that the server's work,
    // the network and the decoding overlap the device's.
    let mut ahead: Option<Ahead> = None;
    loop {
        let next = machine.next_request(&mut *lock(store))?;
        let Some(request) = next else { break };
        let phase = match &request {
            Request::Push(_) => "push",
            Request::Pull(_) => "pull",
            Request::Docs(_) => "docs",
        };
        let early = match ahead.as_mut() {
            Some(a) => a.answer(&request).await,
            None => None,
        };
        let (response, up, down) = match early {
            Some(answer) => answer?,
            None => {
                // Whatever was asked ahead is not what the machine wants: stop it first.
                drop(ahead.take());
                let answer = client.send(&request).await?;
                ahead = SyncMachine::next_pull(&answer.0).map(|next| Ahead::start(client, next));
                answer
            }
        };
        machine.count_bytes(up, down);
        machine.handle(&mut *lock(store), response)?;
        let r = machine.report();
        progress(&Progress {
            phase: phase.into(),
            pushed: r.pushed,
            pulled: r.pulled,
            bytes_up: r.bytes_up,
            bytes_down: r.bytes_down,
        });
    }
    let pending = lock(store).unuploaded_attachments()?;
    for a in pending {
        let bytes = {
            let s = lock(store);
            match s.read_attachment(&a.sha256) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(sha256 = %a.sha256, error = %e, "attachment unreadable, not uploaded");
                    continue;
                }
            }
        };
        let sent = client
            .upload_attachment(&a.sha256, &bytes, &a.media_type)
            .await?;
        lock(store).mark_attachment_uploaded(&a.sha256)?;
        machine.count_bytes(sent, 0);
        machine.count_attachment();
        let r = machine.report();
        progress(&Progress {
            phase: "attachments".into(),
            pushed: r.pushed,
            pulled: r.pulled,
            bytes_up: r.bytes_up,
            bytes_down: r.bytes_down,
        });
    }
    let s = lock(store);
    let now = s.now().to_rfc3339();
    s.set_meta(LAST_SYNC_KEY, Some(&now))?;
    Ok(machine.report().clone())
}

/// How many pull pages may wait, answered, beside the one the device applies (one more is
/// being asked for meanwhile). With one, the device and the server each work on a page of
/// their own instead of taking turns; more only hold more pages in memory.
const PAGES_AHEAD: usize = 1;

type Answer = Result<(Response, u64, u64), SyncError>;

/// Pull pages asked for ahead of their turn: each as soon as the headers of the one before it
/// name it ([`NEXT_PAGE_HEADER`]), so that the server builds it while the device still reads
/// and decodes that one; from an older server, once the one before it is decoded. Dropped
/// (the machine asked for something else, or applying a page failed), it stops.
struct Ahead {
    answers: tokio::sync::mpsc::Receiver<(Request, Pending)>,
    task: tokio::task::JoinHandle<()>,
}

/// A page asked for ahead: its answer, or the task still reading it.
enum Pending {
    Reading(Reading),
    Ready(Answer),
}

/// A task reading and decoding an answer; stopped when dropped unfinished.
struct Reading(tokio::task::JoinHandle<Answer>);

impl Reading {
    async fn finish(mut self) -> Answer {
        (&mut self.0)
            .await
            .unwrap_or_else(|e| Err(SyncError::Protocol(format!("reading a pull page: {e}"))))
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Ahead {
    fn start(client: &SyncClient, first: Request) -> Ahead {
        let (tx, answers) = tokio::sync::mpsc::channel(PAGES_AHEAD);
        let client = client.clone();
        let task = tokio::spawn(async move {
            let mut next = Some(first);
            while let Some(request) = next.take() {
                let (hint, hinted) = tokio::sync::oneshot::channel();
                let reading = Reading(tokio::spawn({
                    let client = client.clone();
                    let request = request.clone();
                    async move { client.send_hinting(&request, Some(hint)).await }
                }));
                let pending = match hinted.await {
                    Ok(page) => {
                        next = SyncMachine::pull_after(page);
                        Pending::Reading(reading)
                    }
                    // No header (an older server), or the call failed before one came.
                    Err(_) => {
                        let answer = reading.finish().await;
                        next = match &answer {
                            Ok((response, _, _)) => SyncMachine::next_pull(response),
                            Err(_) => None,
                        };
                        Pending::Ready(answer)
                    }
                };
                if tx.send((request, pending)).await.is_err() {
                    break;
                }
            }
        });
        Ahead { answers, task }
    }

    /// The answer to `request`, if it is the next one asked for ahead.
    async fn answer(&mut self, request: &Request) -> Option<Answer> {
        let (sent, pending) = self.answers.recv().await?;
        if sent != *request {
            return None;
        }
        Some(match pending {
            Pending::Ready(answer) => answer,
            Pending::Reading(reading) => reading.finish().await,
        })
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Fetches an attachment this device lacks from the server, checks and stores it.
pub async fn fetch_attachment(
    store: &Mutex<Store>,
    sha256: &str,
    media_type: &str,
) -> Result<(), SyncError> {
    let session = session_of(&lock(store))?.ok_or(SyncError::NotLoggedIn)?;
    let client = SyncClient::new(&session.server)?.with_token(&session.token);
    let bytes = client.download_attachment(sha256).await?;
    lock(store).put_fetched_attachment(sha256, &bytes, media_type)?;
    Ok(())
}
