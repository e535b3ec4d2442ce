//! The HTTP API (axum): login, push, pull, docs, attachments, health and the OpenAPI
//! description generated from these handlers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gridwork_schema::frame;
use gridwork_schema::wire::{
    self, DocOutcome, DocsRequest, DocsResponse, ErrorBody, LoginRequest, LoginResponse,
    MIN_PROTOCOL_VERSION, Materialized, NEXT_PAGE_HEADER, NextPage, PROTOCOL_VERSION, PullItem,
    PullRequest, PullResponse, PushRequest, PushResponse, UploadStatus, UserInfo,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::auth::{AuthUser, new_token, verify_password};
use crate::config::Limits;
use crate::error::ApiError;
use crate::policy::{decider, read_filter};
use crate::storage::{AttachmentState, PageLimits, Storage, StoredDoc, UserRecord};

/// What every handler shares: the storage and the limits. Nothing about sync lives here.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The storage.
    pub store: Arc<dyn Storage>,
    /// Request limits.
    pub limits: Limits,
    /// The server id (fixed for the life of the database).
    pub server_id: String,
}

/// Longest record, device or login id accepted.
const MAX_ID_LEN: usize = 200;

/// A dummy Argon2 hash, verified against for unknown logins so that they take as long as
/// known ones.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::auth::hash_password("no such user").unwrap_or_default());

/// The router with all endpoints and layers.
pub fn router(state: AppState) -> Router {
    let json_limit = DefaultBodyLimit::max(state.limits.max_body_bytes);
    let chunk_limit = DefaultBodyLimit::max(state.limits.max_chunk_bytes);
    Router::new()
        .route("/v1/login", post(login))
        .route("/v1/push", post(push))
        .route("/v1/pull", post(pull))
        .route("/v1/docs", post(docs))
        .route("/v1/report", get(crate::report_api::report))
        .route("/v1/report/records", post(crate::report_api::records))
        .layer(json_limit)
        .route(
            "/v1/attachments/{sha256}",
            get(attachment_get)
                .head(attachment_head)
                .put(attachment_put)
                .layer(chunk_limit),
        )
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        // Attachments (photos, already compressed; ranged reads) go out as they are.
        .layer(CompressionLayer::new().compress_when(
            DefaultPredicate::new().and(NotForContentType::new("application/octet-stream")),
        ))
        .layer(RequestDecompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI description of the API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Gridwork sync server",
        description = "网格通 sync protocol v1: see docs/sync-protocol.md"
    ),
    paths(
        login,
        push,
        pull,
        docs,
        attachment_head,
        attachment_put,
        attachment_get,
        healthz,
        crate::report_api::report,
        crate::report_api::records
    ),
    components(schemas(
        wire::Bytes,
        LoginRequest,
        LoginResponse,
        UserInfo,
        PushRequest,
        wire::DocPush,
        PushResponse,
        wire::DocResult,
        DocOutcome,
        wire::RefusalCode,
        PullRequest,
        PullResponse,
        PullItem,
        Materialized,
        DocsRequest,
        DocsResponse,
        UploadStatus,
        ErrorBody,
        crate::report_api::RecordsBehind,
        crate::report::RecordRef
    )),
    modifiers(&BearerAuth, &FrameBodies)
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Protocol 2's binary bodies: push takes a frame, pull and docs answer one when asked
/// (`Accept`). The derive describes the JSON forms; this adds the frame beside them.
#[derive(Debug)]
struct FrameBodies;

impl utoipa::Modify for FrameBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        use utoipa::openapi::{ContentBuilder, RefOr};
        let frame_body = || {
            ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                        .description(Some(
                            "The JSON message with its byte fields left empty, followed by \
                             those bytes raw: \"GWF1\" | u32 LE header length | header JSON | \
                             per byte field, in message order: u32 LE length | bytes.",
                        )),
                ))
                .build()
        };
        for (path, request, response) in [
            ("/v1/push", true, false),
            ("/v1/pull", false, true),
            ("/v1/docs", false, true),
        ] {
            let Some(op) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|p| p.post.as_mut())
            else {
                continue;
            };
            if request && let Some(body) = op.request_body.as_mut() {
                body.content
                    .insert(frame::FRAME_CONTENT_TYPE.into(), frame_body());
            }
            if response && let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
                ok.content
                    .insert(frame::FRAME_CONTENT_TYPE.into(), frame_body());
            }
        }
    }
}

/// The raw body, with the size limit answered as a JSON 413.
pub(crate) struct Body(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge("the request body exceeds the size limit".into())
                } else {
                    ApiError::bad_request("bad_body", "the request body could not be read")
                }
            })
    }
}

/// Parses a JSON body; a body from a too-old protocol gets 426 even when its shape differs.
/// Error texts give the place and kind of the problem, never the offending value.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    #[derive(Deserialize)]
    struct Version {
        protocol: Option<u32>,
    }
    serde_json::from_slice(body).map_err(|e| {
        if let Ok(Version { protocol: Some(p) }) = serde_json::from_slice(body)
            && p < MIN_PROTOCOL_VERSION
        {
            return ApiError::UpdateRequired(p);
        }
        let what = match e.classify() {
            serde_json::error::Category::Syntax => "the body is not valid JSON".to_owned(),
            serde_json::error::Category::Eof => "the JSON body ends too early".to_owned(),
            serde_json::error::Category::Io => "the body could not be read".to_owned(),
            serde_json::error::Category::Data => {
                let msg = e.to_string();
                if msg.starts_with("missing field") {
                    msg.split(" at line").next().unwrap_or_default().to_owned()
                } else {
                    "a field has the wrong type or value".to_owned()
                }
            }
        };
        ApiError::bad_request(
            "malformed_json",
            format!("{what} (line {}, column {})", e.line(), e.column()),
        )
    })
}

/// Whether a header (`Content-Type` of a request, `Accept` of the answer wanted) names the
/// binary frame of protocol 2.
fn names_frame(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            t.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(frame::FRAME_CONTENT_TYPE))
        })
}

/// Parses a frame body: its JSON part as [`parse_body`] does (426 for a too-old protocol
/// included), then its raw byte fields.
fn parse_frame<T: frame::Framed>(body: &[u8]) -> Result<T, ApiError> {
    let bad = |e: frame::FrameError| ApiError::bad_request("malformed_frame", e.to_string());
    let (json, bytes) = frame::split(body).map_err(bad)?;
    let message: T = parse_body(json)?;
    frame::join(message, bytes).map_err(bad)
}

/// An answer as a frame when the device asked for one, else as JSON.
fn answer<T: frame::Framed>(framed: bool, message: T) -> Response {
    if framed {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(frame::FRAME_CONTENT_TYPE),
        );
        (h, frame::encode(message)).into_response()
    } else {
        Json(message).into_response()
    }
}

fn check_protocol(p: u32) -> Result<(), ApiError> {
    if p < MIN_PROTOCOL_VERSION {
        return Err(ApiError::UpdateRequired(p));
    }
    Ok(())
}

fn check_id(what: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "bad_id",
            format!("{what} must be 1 to {MAX_ID_LEN} printable characters"),
        ));
    }
    Ok(())
}

fn user_info(u: &UserRecord) -> UserInfo {
    UserInfo {
        id: u.id.clone(),
        login: u.login.clone(),
        name: u.name.clone(),
        role: u.role,
        scope: u.scope.clone(),
        department: u.department.clone(),
    }
}

/// Signs a user in from a device and registers the device.
#[utoipa::path(
    post, path = "/v1/login", tag = "sync",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong user or password, disabled user, revoked device", body = ErrorBody),
        (status = 426, description = "Protocol too old: update the app", body = ErrorBody)
    )
)]
async fn login(
    State(st): State<AppState>,
    Body(body): Body,
) -> Result<Json<LoginResponse>, ApiError> {
    let req: LoginRequest = parse_body(&body)?;
    check_protocol(req.protocol)?;
    check_id("user", &req.user)?;
    check_id("device_id", &req.device_id)?;
    let found = st.store.user_by_login(&req.user).await?;
    let password = req.password.clone();
    let hash = found
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |(_, h)| h.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match found {
        Some((u, _)) if ok && !u.disabled => u,
        _ => {
            tracing::info!(login = %req.user, "login refused");
            return Err(ApiError::Unauthorized(
                "wrong user or password, or the account is disabled",
            ));
        }
    };
    let (token, hash) = new_token();
    let name: String = req.device_name.chars().take(MAX_ID_LEN).collect();
    let version: String = req.app_version.chars().take(64).collect();
    if !st
        .store
        .register_device(&req.device_id, &user.id, &name, &version, hash)
        .await?
    {
        tracing::info!(device = %req.device_id, "login from a revoked device refused");
        return Err(ApiError::Unauthorized("this device has been revoked"));
    }
    tracing::info!(user = %user.id, device = %req.device_id, "device logged in");
    Ok(Json(LoginResponse {
        token,
        user: user_info(&user),
        server_id: st.server_id.clone(),
        protocol: PROTOCOL_VERSION,
    }))
}

/// Merges documents' changes; each document is accepted or refused on its own.
#[utoipa::path(
    post, path = "/v1/push", tag = "sync",
    request_body = PushRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Per-document results", body = PushResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 413, description = "Body or batch too large", body = ErrorBody),
        (status = 426, description = "Protocol too old", body = ErrorBody)
    )
)]
async fn push(
    State(st): State<AppState>,
    AuthUser(auth): AuthUser,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<PushResponse>, ApiError> {
    let req: PushRequest = if names_frame(&headers, header::CONTENT_TYPE) {
        parse_frame(&body)?
    } else {
        parse_body(&body)?
    };
    drop(body);
    check_protocol(req.protocol)?;
    if req.docs.len() > st.limits.max_batch_docs {
        return Err(ApiError::TooLarge(format!(
            "a push of {} documents exceeds the limit of {} per request",
            req.docs.len(),
            st.limits.max_batch_docs
        )));
    }
    for d in &req.docs {
        check_id("document id", &d.id)?;
    }
    let n = req.docs.len();
    let results = st.store.push(req.docs, decider(auth.user.clone())).await?;
    let refused = results
        .iter()
        .filter(|r| matches!(r.outcome, DocOutcome::Refused { .. }))
        .count();
    tracing::info!(
        user = %auth.user.id,
        device = %auth.device_id,
        docs = n,
        refused,
        "push"
    );
    Ok(Json(PushResponse { results }))
}

/// Returns what changed after the cursor in the user's scope, one page at a time.
#[utoipa::path(
    post, path = "/v1/pull", tag = "sync",
    request_body = PullRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of changes or snapshots", body = PullResponse,
            headers(("gridwork-next-page" = String,
                description = "What the page says of the next one, before it is read: `end`, `<cursor>` or `<cursor> snapshot`"))),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 426, description = "Protocol too old", body = ErrorBody)
    )
)]
async fn pull(
    State(st): State<AppState>,
    AuthUser(auth): AuthUser,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let req: PullRequest = parse_body(&body)?;
    let framed = names_frame(&headers, header::ACCEPT);
    check_protocol(req.protocol)?;
    let limits = PageLimits {
        items: req
            .limit
            .unwrap_or(st.limits.max_pull_items)
            .clamp(1, st.limits.max_pull_items) as usize,
        bytes: st.limits.max_pull_bytes,
    };
    let filter = read_filter(&auth.user);
    // The log read reports the head it saw (a page's cursor never falls below the cursor it
    // was asked for unless that lies past the head), so the common pull costs one read.
    let log_page = match req.cursor {
        Some(c) if !req.snapshot => st.store.pull_log(c, &filter, limits).await?,
        _ => None,
    };
    if let (Some(c), Some(page)) = (req.cursor, log_page)
        && page.cursor >= c
    {
        let mut items: Vec<PullItem> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for e in page.items {
            match index.get(&e.doc_id) {
                Some(&i) => items[i].data.0.extend_from_slice(&e.bytes),
                None => {
                    index.insert(e.doc_id.clone(), items.len());
                    items.push(PullItem {
                        id: e.doc_id,
                        kind: e.kind,
                        data: e.bytes.into(),
                        snapshot: false,
                        materialized: None,
                    });
                }
            }
        }
        return Ok(pull_answer(
            framed,
            PullResponse {
                items,
                cursor: page.cursor,
                more: page.more,
                snapshot: false,
                server_id: st.server_id.clone(),
            },
        ));
    }
    // No cursor, a snapshot pass going on, or a cursor behind the compaction floor: whole
    // documents changed after the cursor. A cursor past the head comes from another (or a
    // restored) server: start over.
    let head = st.store.log_state().await?.head;
    let cursor = req.cursor.filter(|&c| c <= head);
    let page = st
        .store
        .pull_docs(cursor.unwrap_or(0), &filter, limits)
        .await?;
    Ok(pull_answer(
        framed,
        PullResponse {
            items: page
                .items
                .into_iter()
                .map(|d| whole_item(d, req.row_layout))
                .collect(),
            cursor: page.cursor,
            more: page.more,
            snapshot: true,
            server_id: st.server_id.clone(),
        },
    ))
}

/// A pull page, with [`NEXT_PAGE_HEADER`] saying what its body says of the next page, so that
/// a device asks for that while it still reads this one.
fn pull_answer(framed: bool, page: PullResponse) -> Response {
    let next = NextPage::of(&page).to_string();
    let mut response = answer(framed, page);
    if let Ok(v) = HeaderValue::from_str(&next) {
        response.headers_mut().insert(NEXT_PAGE_HEADER, v);
    }
    response
}

/// A stored document as a pull item, with what was read from it when it was stored: the
/// device's row when it is in the layout the device asked for (`row_layout`, 0 for none),
/// else the value.
fn whole_item(d: StoredDoc, row_layout: u32) -> PullItem {
    // Written by this server from the document in the same transaction; one that does not
    // parse (never expected) only costs the device a load of the document.
    let materialized = d
        .materialized
        .and_then(|m| serde_json::from_str::<Materialized>(&m).ok())
        .map(|mut m| {
            if row_layout != 0 && m.row.as_ref().is_some_and(|r| r.layout == row_layout) {
                m.value = None;
            } else {
                m.row = None;
            }
            m
        });
    PullItem {
        id: d.id,
        kind: d.kind,
        data: d.bytes.into(),
        snapshot: true,
        materialized,
    }
}

/// Whole documents by id (those in the user's scope).
#[utoipa::path(
    post, path = "/v1/docs", tag = "sync",
    request_body = DocsRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The documents found in scope", body = DocsResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 413, description = "Too many ids", body = ErrorBody)
    )
)]
async fn docs(
    State(st): State<AppState>,
    AuthUser(auth): AuthUser,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let req: DocsRequest = parse_body(&body)?;
    check_protocol(req.protocol)?;
    if req.ids.len() > st.limits.max_batch_docs {
        return Err(ApiError::TooLarge(format!(
            "{} ids exceed the limit of {} per request",
            req.ids.len(),
            st.limits.max_batch_docs
        )));
    }
    let found = st
        .store
        .get_docs(req.ids.clone(), &read_filter(&auth.user))
        .await?;
    let missing = req
        .ids
        .into_iter()
        .filter(|id| !found.iter().any(|d| &d.id == id))
        .collect();
    Ok(answer(
        names_frame(&headers, header::ACCEPT),
        DocsResponse {
            items: found.into_iter().map(|d| whole_item(d, 0)).collect(),
            missing,
        },
    ))
}

fn check_sha(sha256: &str) -> Result<(), ApiError> {
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ApiError::bad_request(
            "bad_hash",
            "an attachment is named by its SHA-256: 64 lowercase hex digits",
        ));
    }
    Ok(())
}

fn upload_headers(s: &AttachmentState) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("upload-offset", HeaderValue::from(s.received));
    h.insert("upload-length", HeaderValue::from(s.length));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h
}

fn upload_status(s: &AttachmentState) -> UploadStatus {
    UploadStatus {
        sha256: s.sha256.clone(),
        offset: s.received,
        length: s.length,
        complete: s.complete,
    }
}

/// How much of an attachment the server holds (`Upload-Offset`, `Upload-Length`).
#[utoipa::path(
    head, path = "/v1/attachments/{sha256}", tag = "attachments",
    params(("sha256" = String, Path, description = "SHA-256 of the content, lowercase hex")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Held so far: see the Upload-Offset header"),
        (status = 404, description = "Nothing held")
    )
)]
async fn attachment_head(
    State(st): State<AppState>,
    _auth: AuthUser,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    check_sha(&sha256)?;
    let s = st
        .store
        .attachment_state(&sha256)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("attachment {sha256}")))?;
    Ok((StatusCode::OK, upload_headers(&s)).into_response())
}

/// Where a chunk goes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct PutQuery {
    /// Where the chunk starts: the `Upload-Offset` the server reported.
    offset: u64,
    /// The attachment's total length.
    length: u64,
}

/// Appends a chunk to an attachment; the last chunk completes and verifies it.
#[utoipa::path(
    put, path = "/v1/attachments/{sha256}", tag = "attachments",
    params(
        ("sha256" = String, Path, description = "SHA-256 of the content, lowercase hex"),
        PutQuery
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Chunk held (or the attachment was already complete)", body = UploadStatus),
        (status = 409, description = "Wrong offset: resume at Upload-Offset", body = ErrorBody),
        (status = 413, description = "Attachment or chunk too large", body = ErrorBody),
        (status = 422, description = "Content does not match its SHA-256", body = ErrorBody)
    )
)]
async fn attachment_put(
    State(st): State<AppState>,
    _auth: AuthUser,
    Path(sha256): Path<String>,
    query: Result<Query<PutQuery>, axum::extract::rejection::QueryRejection>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    check_sha(&sha256)?;
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            "bad_query",
            "give ?offset=N&length=TOTAL (non-negative integers)",
        )
    })?;
    if q.length > st.limits.max_attachment_bytes {
        return Err(ApiError::TooLarge(format!(
            "attachment of {} bytes exceeds the limit of {} bytes",
            q.length, st.limits.max_attachment_bytes
        )));
    }
    let s = st
        .store
        .attachment_append(&sha256, q.length, q.offset, body.to_vec())
        .await?;
    Ok((StatusCode::OK, upload_headers(&s), Json(upload_status(&s))).into_response())
}

/// Parses a single `bytes=` range against a length: `None` for the whole content.
fn parse_range(h: &str, len: u64) -> Result<Option<(u64, u64)>, ApiError> {
    let bad = || ApiError::RangeNotSatisfiable(len);
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or_else(bad)?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| bad())?;
        (len.saturating_sub(n), len)
    } else {
        let start: u64 = a.parse().map_err(|_| bad())?;
        let end = if b.is_empty() {
            len
        } else {
            b.parse::<u64>()
                .map_err(|_| bad())?
                .saturating_add(1)
                .min(len)
        };
        (start, end)
    };
    if start >= end || start >= len {
        return Err(bad());
    }
    Ok(Some((start, end)))
}

/// Downloads a complete attachment, whole or a `Range` of it.
#[utoipa::path(
    get, path = "/v1/attachments/{sha256}", tag = "attachments",
    params(("sha256" = String, Path, description = "SHA-256 of the content, lowercase hex")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The content", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", content_type = "application/octet-stream"),
        (status = 404, description = "No complete attachment by that hash", body = ErrorBody),
        (status = 416, description = "Range outside the content", body = ErrorBody)
    )
)]
async fn attachment_get(
    State(st): State<AppState>,
    _auth: AuthUser,
    Path(sha256): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_sha(&sha256)?;
    let s = st
        .store
        .attachment_state(&sha256)
        .await?
        .filter(|s| s.complete)
        .ok_or_else(|| ApiError::NotFound(format!("attachment {sha256}")))?;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(h) => parse_range(h, s.length)?,
        None => None,
    };
    let (start, end) = range.unwrap_or((0, s.length));
    let data = st.store.attachment_read(&sha256, start, end).await?;
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if range.is_some() {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{}", end - 1, s.length)) {
            h.insert(header::CONTENT_RANGE, v);
        }
        return Ok((StatusCode::PARTIAL_CONTENT, h, data).into_response());
    }
    Ok((StatusCode::OK, h, data).into_response())
}

/// Liveness and database reachability.
#[utoipa::path(
    get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, description = "Serving and the database answers"),
        (status = 500, description = "The database does not answer", body = ErrorBody)
    )
)]
async fn healthz(State(st): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let s = st.store.log_state().await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "protocol": PROTOCOL_VERSION,
        "min_protocol": MIN_PROTOCOL_VERSION,
        "head": s.head,
    })))
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), Some((90, 100)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 100)));
        assert_eq!(parse_range("bytes=0-999", 100).unwrap(), Some((0, 100)));
        assert!(parse_range("bytes=100-", 100).is_err());
        assert_eq!(parse_range("items=1-2", 100).unwrap(), None);
    }

    #[test]
    fn malformed_json_messages_name_no_values() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct T {
            n: u32,
        }
        let e = parse_body::<T>(r#"{"n": "张三 13800000000"}"#.as_bytes()).unwrap_err();
        assert!(!e.to_string().contains("张三"), "{e}");
        let e = parse_body::<T>(b"{").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e = parse_body::<PushRequest>(br#"{"protocol": 0}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::UPGRADE_REQUIRED);
    }

    #[test]
    fn openapi_lists_the_endpoints() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for p in [
            "/v1/login",
            "/v1/push",
            "/v1/pull",
            "/v1/docs",
            "/v1/attachments/{sha256}",
            "/v1/report",
            "/v1/report/records",
        ] {
            assert!(doc["paths"].get(p).is_some(), "{p} missing");
        }
    }
}
