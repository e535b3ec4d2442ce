//! The UI for a plain browser: serves `ui/dist` and `POST /api`, the same commands the Tauri
//! app's `api` command takes. A development and test tool (`gridwork-ui-server`); it listens
//! on loopback addresses by default and has no authentication of its own.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gridwork_core::app::App;
use gridwork_schema::api::{ApiError, ApiRequest, ErrorCode};

/// Largest request body (photos travel base64 inside `add_photo`).
pub const BODY_LIMIT: usize = 48 * 1024 * 1024;

#[derive(Clone)]
struct Ui {
    app: Arc<App>,
    dist: Arc<PathBuf>,
}

/// The routes: `POST /api` and the files of `dist` (`index.html` for `/`).
pub fn router(app: Arc<App>, dist: PathBuf) -> Router {
    Router::new()
        .route("/api", post(api))
        .fallback(get(file))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(Ui {
            app,
            dist: Arc::new(dist),
        })
}

/// Serves until the task is dropped; returns the bound address through `bound`.
pub async fn serve(
    app: Arc<App>,
    dist: PathBuf,
    listen: SocketAddr,
    bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    bound(listener.local_addr()?);
    axum::serve(listener, router(app, dist)).await
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Invalid | ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::NotLoggedIn | ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::NotPermitted => StatusCode::FORBIDDEN,
        ErrorCode::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::UpdateRequired => StatusCode::UPGRADE_REQUIRED,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn api(State(ui): State<Ui>, body: axum::body::Bytes) -> Response {
    let request: ApiRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            let e = ApiError::new(
                ErrorCode::BadRequest,
                "请求格式不正确",
                "The request is not a valid command",
            );
            return (StatusCode::BAD_REQUEST, Json(e)).into_response();
        }
    };
    match ui.app.handle(request).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => (status_of(e.code), Json(e)).into_response(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

async fn file(State(ui): State<Ui>, uri: Uri) -> Response {
    let rel = uri.path().trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let rel = Path::new(rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = ui.dist.join(rel);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type(&path)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_statuses() {
        assert_eq!(content_type(Path::new("a/x.wasm")), "application/wasm");
        assert_eq!(status_of(ErrorCode::Invalid), StatusCode::BAD_REQUEST);
        assert_eq!(
            status_of(ErrorCode::Unreachable),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
