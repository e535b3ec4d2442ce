//! The supervisors' report as data (issue #6): every figure group with the record query
//! behind each figure, the period and scope it covers, and the same figures as tables.
//!
//! Pure data (serde, chrono, schema types), so the UI can show a report it receives. The
//! figures are computed in `gridwork_core::report` (from per-record facts) and written out
//! there (JSON, XLSX, CSV); this module holds what both sides share.

mod model;
mod sheets;

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::territory::{DISTRICT_CODE, Territory};

pub use model::*;
pub use sheets::{Cell, Column, Sheet};

/// A period or scope that cannot be reported on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamError {
    /// The period is not `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
    #[error("invalid period {0:?}: expected YYYY-MM, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")]
    BadPeriod(String),
    /// The scope is no unit of the territory.
    #[error("unknown territory code {0:?}")]
    UnknownScope(String),
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
    pub fn month(year: i32, month: u32) -> Result<Self, ParamError> {
        let label = format!("{year:04}-{month:02}");
        let bad = || ParamError::BadPeriod(label.clone());
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
    pub fn range(from: NaiveDate, to: NaiveDate) -> Result<Self, ParamError> {
        let label = if from == to {
            from.to_string()
        } else {
            format!("{from}..{to}")
        };
        if to < from {
            return Err(ParamError::BadPeriod(label));
        }
        Ok(Self { from, to, label })
    }
}

impl FromStr for Period {
    type Err = ParamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParamError::BadPeriod(s.to_owned());
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
    pub fn check_scope(&self, territory: &Territory) -> Result<(), ParamError> {
        if territory.contains(&self.scope) {
            Ok(())
        } else {
            Err(ParamError::UnknownScope(self.scope.clone()))
        }
    }
}
