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
//! - [`Report::to_json`], [`Report::to_xlsx`], [`Report::to_csv_dir`] write it out; the
//!   tables behind the XLSX and CSV come from [`Report::sheets`].

mod compute;
pub mod db;
mod export;
pub mod facts;
pub mod model;
mod sheets;

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use gridwork_schema::territory::{DISTRICT_CODE, Territory};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use compute::{compute, matches};
pub use db::{from_store, records_behind};
pub use facts::Facts;
pub use model::*;
pub use sheets::{Cell, Column, Sheet};

/// What went wrong making a report.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The period is not `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
    #[error("invalid period {0:?}: expected YYYY-MM, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")]
    BadPeriod(String),
    /// The scope is no unit of the territory.
    #[error("unknown territory code {0:?}")]
    UnknownScope(String),
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

/// The dates a report covers: a month or a range of days, both ends included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// As written (`2026-11`, `2026-11-01..2026-11-15`).
    pub label: String,
}

impl Period {
    /// A calendar month.
    pub fn month(year: i32, month: u32) -> Result<Self, ReportError> {
        let label = format!("{year:04}-{month:02}");
        let bad = || ReportError::BadPeriod(label.clone());
        let from = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        let to = next.and_then(|d| d.pred_opt()).ok_or_else(bad)?;
        Ok(Self { from, to, label })
    }

    /// The days `from` to `to`.
    pub fn range(from: NaiveDate, to: NaiveDate) -> Result<Self, ReportError> {
        let label = if from == to {
            from.to_string()
        } else {
            format!("{from}..{to}")
        };
        if to < from {
            return Err(ReportError::BadPeriod(label));
        }
        Ok(Self { from, to, label })
    }
}

impl FromStr for Period {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ReportError::BadPeriod(s.to_owned());
        let day = |t: &str| NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| bad());
        if let Some((a, b)) = s.split_once("..") {
            return Self::range(day(a)?, day(b)?);
        }
        if let Ok(d) = day(s) {
            return Self::range(d, d);
        }
        let first = NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
            .map_err(|_| bad())?;
        Self::month(first.year(), first.month())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportParams {
    /// The period.
    pub period: Period,
    /// Territory code: district (default), street, community, grid or zone (`Z01`…).
    pub scope: String,
    /// Today (China Standard Time); ages and overdue steps are measured at the period's end
    /// or today, whichever is earlier. `None`: the period's end (the store fills in its
    /// clock's date).
    pub today: Option<NaiveDate>,
}

impl ReportParams {
    /// The whole district for `period`.
    pub fn new(period: Period) -> Self {
        Self {
            period,
            scope: DISTRICT_CODE.to_owned(),
            today: None,
        }
    }

    /// Narrows the scope to a territory code.
    pub fn within(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Sets today.
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// The report's dates.
    pub fn window(&self) -> Window {
        let to = self.period.to;
        Window {
            from: self.period.from,
            to,
            as_of: self.today.map_or(to, |t| t.min(to)),
        }
    }

    /// Fails unless the scope is a unit of `territory`.
    pub fn check_scope(&self, territory: &Territory) -> Result<(), ReportError> {
        if territory.contains(&self.scope) {
            Ok(())
        } else {
            Err(ReportError::UnknownScope(self.scope.clone()))
        }
    }
}
