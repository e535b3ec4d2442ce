//! Public reception sessions (公开接访): leaders receiving the public at a site.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::RecordId;
use crate::label::labeled_enum;
use crate::people::UserRef;
use crate::territory::TerritoryPath;

labeled_enum! {
    /// Which level's leaders sit.
    #[derive(Default)]
    pub enum ReceptionLevel {
        /// District leaders.
        District => "区级", "district",
        /// Street leaders.
        #[default]
        Street => "街道", "street",
    }
}

/// One sitting of one leader at a reception site.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReceptionSession {
    /// Record id.
    pub id: RecordId,
    /// The street (empty for district sessions held centrally).
    pub territory: TerritoryPath,
    /// Who created the record.
    pub created_by: UserRef,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// The leader sitting.
    pub leader: UserRef,
    /// District or street.
    pub level: ReceptionLevel,
    /// The reception site.
    pub site: String,
    /// The day.
    pub date: NaiveDate,
    /// Whether the public picked this leader by name plate (点名接访) rather than a schedule.
    pub named_by_public: bool,
    /// The visits received.
    pub visits: Vec<Visit>,
}

impl ReceptionSession {
    /// Cases received (起): one per visit.
    pub fn cases(&self) -> usize {
        self.visits.len()
    }

    /// Person-visits (人次): everyone who came, summed over visits.
    pub fn person_visits(&self) -> u64 {
        self.visits.iter().map(|v| u64::from(v.persons)).sum()
    }
}

/// One matter brought to a reception session, by one or more people.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Visit {
    /// Stable id within the session.
    pub id: String,
    /// How many people came about it (at least one).
    pub persons: u32,
    /// What they raised (Automerge text).
    pub summary: String,
    /// The case opened or linked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<RecordId>,
}
