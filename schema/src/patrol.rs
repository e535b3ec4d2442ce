//! Patrols and screenings (排查).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::RecordId;
use crate::label::labeled_enum;
use crate::people::UserRef;
use crate::record::{AttachmentRef, GeoPoint};
use crate::territory::TerritoryPath;

labeled_enum! {
    /// The three kinds of screening.
    #[derive(Default)]
    pub enum PatrolKind {
        /// Regular rounds of the grid.
        #[default]
        Routine => "定期排查", "routine screening",
        /// Focused on known risks and people.
        Key => "重点排查", "key screening",
        /// A campaign on one theme (see [`Patrol::theme`]).
        Special => "专项排查", "special screening",
    }
}

/// A patrol of one grid by one worker.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Patrol {
    /// Record id.
    pub id: RecordId,
    /// The grid patrolled (grid code required).
    pub territory: TerritoryPath,
    /// Who created the record.
    pub created_by: UserRef,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// Routine, key or special.
    pub kind: PatrolKind,
    /// The campaign theme; required for special screenings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// The worker who walked it.
    pub worker: UserRef,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time, once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Places visited.
    pub places: Vec<String>,
    /// Checklist for the patrol kind.
    pub checklist: Vec<ChecklistItem>,
    /// What was found.
    pub findings: Vec<Finding>,
    /// Where the patrol was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    /// Photos.
    pub photos: Vec<AttachmentRef>,
    /// Narrative note (Automerge text).
    pub note: String,
}

/// One checklist line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChecklistItem {
    /// Stable id within the patrol, so concurrent ticks merge per item.
    pub id: String,
    /// What to check.
    pub label: String,
    /// Whether it was checked.
    pub done: bool,
}

/// Something found on a patrol.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Finding {
    /// Stable id within the patrol.
    pub id: String,
    /// What was found (Automerge text).
    pub text: String,
    /// The case registered for it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<RecordId>,
}
