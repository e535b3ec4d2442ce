//! `gridwork-ui-server`: the app's UI and commands for a plain browser (development, tests,
//! and machines without a display). A device like the app itself, with its own data folder.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use gridwork_core::app::App;

/// Serves ui/dist and `POST /api` (the app's commands) for a browser.
#[derive(Debug, Parser)]
#[command(name = "gridwork-ui-server", version)]
struct Args {
    /// The device folder (created if missing).
    #[arg(long, env = "GRIDWORK_DATA", value_name = "DIR")]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: SocketAddr,
    /// The built UI.
    #[arg(long, default_value = "ui/dist")]
    dist: PathBuf,
    /// The server the first-run screen offers.
    #[arg(long, env = "GRIDWORK_SERVER")]
    server: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GRIDWORK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
    let args = Args::parse();
    let mut config = gridwork_app_lib::config_from_env();
    if let Some(s) = args.server {
        config.default_server = s;
    }
    let app = Arc::new(
        App::open(&args.data, config)
            .with_context(|| format!("opening the device folder {}", args.data.display()))?,
    );
    tokio::spawn(app.clone().run_sync_loop());
    gridwork_app_lib::serve_ui::serve(app, args.dist, args.listen, |addr| {
        println!("serving the UI at http://{addr}");
    })
    .await?;
    Ok(())
}
