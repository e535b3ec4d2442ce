//! Starting and stopping a server: what the binary and the tests both use.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{AppState, router};
use crate::config::Config;
use crate::error::Error;
use crate::storage::{Storage, open_storage};

/// Starts servers.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Opens (initializing if needed) the configured storage and serves on `config.listen`.
    pub async fn start(config: Config) -> Result<ServerHandle, Error> {
        let store = open_storage(&config.database, config.pg_pool_size).await?;
        Self::start_with(store, config).await
    }

    /// Serves an already opened storage.
    pub async fn start_with(
        store: Arc<dyn Storage>,
        config: Config,
    ) -> Result<ServerHandle, Error> {
        let server_id = store.server_id().await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let app = router(AppState {
            store: store.clone(),
            limits: config.limits.clone(),
            server_id,
        });
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        tracing::info!(addr = %local_addr, database = ?config.database, "serving");
        Ok(ServerHandle {
            local_addr,
            store,
            shutdown: Some(tx),
            task,
        })
    }
}

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    store: Arc<dyn Storage>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl ServerHandle {
    /// The address it listens on (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDR`, for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The storage it serves.
    pub fn store(&self) -> Arc<dyn Storage> {
        self.store.clone()
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Stops at once, cutting connections in flight (as a crash would).
    pub fn abort(self) {
        self.task.abort();
    }

    /// Serves until the server stops by itself (an error) or `stop` resolves.
    pub async fn run_until(mut self, stop: impl Future<Output = ()>) -> Result<(), Error> {
        tokio::select! {
            res = &mut self.task => {
                return match res {
                    Ok(r) => r.map_err(Error::Io),
                    Err(e) => Err(Error::Config(format!("server task failed: {e}"))),
                };
            }
            () = stop => {}
        }
        tracing::info!("shutting down");
        self.shutdown().await;
        Ok(())
    }
}
