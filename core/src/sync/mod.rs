//! Sync with the server: a state machine without IO ([`machine`]) and its HTTP edge
//! ([`client`]). See `docs/sync-protocol.md`.

pub mod client;
pub mod machine;

pub use client::{
    DeviceStatus, Progress, RetryPolicy, Session, SyncClient, SyncError, fetch_attachment, login,
    session, status, sync_now, sync_with,
};
pub use machine::{LocalDocs, Request, Response, SyncMachine, SyncReport};
