//! Server configuration: where the data lives, where to listen, and the request limits.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The SQLite file's name inside the data directory.
pub const SQLITE_FILE: &str = "gridwork-server.sqlite3";

/// The default listening address (loopback: put a TLS reverse proxy in front for the field).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Which database holds the server's state.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    /// One SQLite file (the default: nothing to install).
    Sqlite(PathBuf),
    /// A PostgreSQL database, shared by any number of server processes.
    Postgres(String),
}

impl DatabaseConfig {
    /// PostgreSQL when a `postgres://` (or `postgresql://`) URL is given, else the SQLite file
    /// in `data_dir`.
    pub fn choose(data_dir: &Path, url: Option<&str>) -> Self {
        match url {
            Some(u) if !u.trim().is_empty() => Self::Postgres(u.trim().to_owned()),
            _ => Self::Sqlite(data_dir.join(SQLITE_FILE)),
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// Hides the password of a PostgreSQL URL.
impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
        }
    }
}

/// A database URL with any password replaced by `***`, for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    match rest.split_once('@') {
        Some((cred, host)) => {
            let user = cred.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// Request limits: each is answered with a clear 4xx (mostly 413) when exceeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON request body after decompression (bytes).
    pub max_body_bytes: usize,
    /// Most documents in one push or docs request.
    pub max_batch_docs: usize,
    /// Most items in one pull page (a device may ask for fewer).
    pub max_pull_items: u32,
    /// Pull pages stop growing past this many payload bytes (at least one item is sent).
    pub max_pull_bytes: usize,
    /// Largest attachment (bytes).
    pub max_attachment_bytes: u64,
    /// Largest attachment chunk in one PUT (bytes).
    pub max_chunk_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 32 << 20,
            max_batch_docs: 1000,
            max_pull_items: 2000,
            max_pull_bytes: 8 << 20,
            max_attachment_bytes: 64 << 20,
            max_chunk_bytes: 8 << 20,
        }
    }
}

/// Everything [`crate::Server::start`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (the SQLite file lives here).
    pub data_dir: PathBuf,
    /// The database.
    pub database: DatabaseConfig,
    /// Where to listen; port 0 picks a free port (see [`crate::ServerHandle::local_addr`]).
    pub listen: SocketAddr,
    /// Request limits.
    pub limits: Limits,
    /// PostgreSQL connections per server process.
    pub pg_pool_size: usize,
}

impl Config {
    /// SQLite in `data_dir`, listening on 127.0.0.1 with a free port: what tests want.
    pub fn sqlite_in(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            database: DatabaseConfig::choose(&data_dir, None),
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            limits: Limits::default(),
            pg_pool_size: 16,
        }
    }

    /// PostgreSQL at `url`, listening on 127.0.0.1 with a free port.
    pub fn postgres(url: impl Into<String>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            database: DatabaseConfig::Postgres(url.into()),
            ..Self::sqlite_in(data_dir)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://gw:secret@127.0.0.1:5432/db"),
            "postgres://gw:***@127.0.0.1:5432/db"
        );
        let d = DatabaseConfig::Postgres("postgres://gw:secret@h/db".into());
        assert!(!format!("{d:?}").contains("secret"));
    }
}
