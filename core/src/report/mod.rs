//! Supervisors' figures (issue #6): computed once, here, for the device and the server.
//!
//! - [`Facts::from_record`] reduces a record to the compact, personal-data-free facts the
//!   figures need; the device store keeps them in `record_facts` ([`db`]), written in the
//!   same transaction as the record.
//! - [`compute`] (sans-IO) turns facts into a [`Report`] for a territory and period; every
//!   definition is in its doc comment. [`matches`] applies a figure's [`RecordQuery`] with the
//!   same rules, for the list behind a figure.
//! - [`Store::report`](crate::store::Store::report) / [`from_store`] read the facts with an
//!   indexed query and stream them into [`compute`].
//! - [`ReportExport`] writes a [`Report`] out as JSON, XLSX or CSV; the tables behind the
//!   XLSX and CSV come from [`Report::sheets`].
//!
//! The report's data types, [`Period`] and [`ReportParams`] live in [`gridwork_schema::report`]
//! (the UI shows reports too) and are re-exported here.

mod compute;
pub mod db;
mod export;
pub mod facts;

use thiserror::Error;

pub use compute::{compute, matches};
pub use db::{from_store, records_behind};
pub use export::ReportExport;
pub use facts::Facts;
/// The report's data types, kept reachable under their former path.
pub use gridwork_schema::report as model;
pub use gridwork_schema::report::*;

/// What went wrong making a report.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The period is not `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
    #[error("invalid period {0:?}: expected YYYY-MM, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")]
    BadPeriod(String),
    /// The scope is no unit of the territory.
    #[error("unknown territory code {0:?}")]
    UnknownScope(String),
    /// No figure group has this key.
    #[error("unknown sheet {key:?}: expected one of {known}")]
    UnknownSheet {
        /// The key asked for.
        key: String,
        /// The keys there are, comma-separated.
        known: String,
    },
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The stored facts of a record could not be read.
    #[error("the report facts of record {0} cannot be read")]
    Corrupt(String),
    /// The workbook could not be written.
    #[error("could not write the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// A CSV file could not be written.
    #[error("could not write CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The file system failed.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ParamError> for ReportError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::BadPeriod(p) => Self::BadPeriod(p),
            ParamError::UnknownScope(s) => Self::UnknownScope(s),
        }
    }
}
