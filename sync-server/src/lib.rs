//! The Gridwork sync server: reconciles devices' Automerge records over HTTP.
//!
//! The server holds each record as an Automerge document plus a server-ordered change log
//! (see `docs/sync-protocol.md`). It never decides a field: it merges, checks scope and role,
//! and hands the merged changes on. All sync state lives in the storage (one SQLite file, or
//! PostgreSQL shared by several stateless server processes).
//!
//! ```no_run
//! # async fn demo() -> Result<(), gridwork_sync_server::Error> {
//! use gridwork_sync_server::{Config, Server};
//! let server = Server::start(Config::sqlite_in("./data")).await?;
//! println!("listening on {}", server.local_addr());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod policy;
pub mod report;
pub mod report_api;
pub mod server;
pub mod storage;

pub use config::{Config, DatabaseConfig, Limits};
pub use error::{ApiError, Error};
pub use server::{Server, ServerHandle};
pub use storage::{Storage, open_storage};
