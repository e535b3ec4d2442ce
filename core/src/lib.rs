//! Gridwork's local-first core: records as Automerge documents, the SQLite store, and sync.

pub mod app;
pub mod doc;
pub mod report;
pub mod store;
pub mod summary;
pub mod sync;
