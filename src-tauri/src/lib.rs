//! The Gridwork app shell (desktop and mobile): one Tauri command, `api`, that hands every
//! request of `gridwork_schema::api` to [`gridwork_core::app::App`].
//!
//! The device folder is `$GRIDWORK_DATA` when set (tests, `cargo xtask run`), else the
//! platform's app data folder. `$GRIDWORK_SERVER` is the server the first-run screen offers.
//! [`serve_ui`] serves the same UI and commands over HTTP, for a plain browser.

pub mod serve_ui;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gridwork_core::app::{App, AppConfig};
use gridwork_schema::api::{ApiError, ApiRequest, ApiResponse};
use tauri::Manager as _;

/// A fingerprint of the embedded `ui/dist` (FNV-1a of its files), logged at start.
pub const UI_FINGERPRINT: &str = env!("GRIDWORK_UI_FINGERPRINT");

/// The app's configuration from the environment (`GRIDWORK_SERVER`,
/// `GRIDWORK_SYNC_INTERVAL_SECS`).
pub fn config_from_env() -> AppConfig {
    let mut config = AppConfig::default();
    if let Some(server) = std::env::var("GRIDWORK_SERVER")
        .ok()
        .filter(|s| !s.is_empty())
    {
        config.default_server = server;
    }
    if let Some(secs) = std::env::var("GRIDWORK_SYNC_INTERVAL_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.interval = Duration::from_secs(secs);
    }
    config
}

/// Every UI request, on both desktop and mobile.
#[tauri::command]
async fn api(
    app: tauri::State<'_, Arc<App>>,
    request: ApiRequest,
) -> Result<ApiResponse, ApiError> {
    app.handle(request).await
}

/// Starts the app.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GRIDWORK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
    tracing::info!(ui = UI_FINGERPRINT, "starting");
    tauri::Builder::default()
        .setup(|app| {
            let dir = match std::env::var_os("GRIDWORK_DATA").filter(|d| !d.is_empty()) {
                Some(d) => PathBuf::from(d),
                None => app.path().app_data_dir()?,
            };
            let core = Arc::new(App::open(&dir, config_from_env())?);
            tauri::async_runtime::spawn(core.clone().run_sync_loop());
            app.manage(core);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![api])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "the app failed");
            std::process::exit(1);
        });
}
