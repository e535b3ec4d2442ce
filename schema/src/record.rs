//! The record kinds and what they share.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::Case;
use crate::ids::RecordId;
use crate::label::labeled_enum;
use crate::mediation::Mediation;
use crate::patrol::Patrol;
use crate::people::UserRef;
use crate::petition::Petition;
use crate::reception::ReceptionSession;
use crate::territory::TerritoryPath;

/// Version of the record layout; stored with each document so newer code can migrate
/// older records and older code can tell it is reading something newer.
pub const SCHEMA_VERSION: u32 = 1;

labeled_enum! {
    /// The kinds of record a device keeps, one Automerge document each.
    pub enum RecordKind {
        /// A patrol or screening.
        Patrol => "排查", "patrol",
        /// A petition hazard or dispute.
        Case => "事项", "case",
        /// A people's mediation.
        Mediation => "人民调解", "mediation",
        /// A public reception session.
        Reception => "公开接访", "reception session",
        /// A petition.
        Petition => "信访", "petition",
        /// An unfinished form.
        Draft => "草稿", "draft",
    }
}

impl RecordKind {
    /// Object keys whose string values are narrative text, wherever they occur in a record
    /// of this kind (top level or inside nested objects and lists).
    ///
    /// `core` stores these as Automerge Text, so two people editing different sentences of
    /// the same description both keep their edits; other strings are registers (last writer
    /// wins).
    pub fn text_fields(self) -> &'static [&'static str] {
        match self {
            // `note` of the patrol; `text` of each finding.
            Self::Patrol => &["note", "text"],
            // `description`; `note` of each event.
            Self::Case => &["description", "note"],
            // `agreement`; `notes` of each session.
            Self::Mediation => &["agreement", "notes"],
            // `summary` of each visit.
            Self::Reception => &["summary"],
            Self::Petition => &["description"],
            // A draft's data is opaque until it becomes a record.
            Self::Draft => &[],
        }
    }
}

/// Any record, tagged by kind: `{"type": "case", "id": …, …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A patrol.
    Patrol(Patrol),
    /// A case.
    Case(Case),
    /// A mediation.
    Mediation(Mediation),
    /// A reception session.
    Reception(ReceptionSession),
    /// A petition.
    Petition(Petition),
    /// A draft.
    Draft(Draft),
}

/// Dispatches a field access to whichever record struct is inside.
macro_rules! each_record {
    ($self:expr, $r:ident => $e:expr) => {
        match $self {
            Record::Patrol($r) => $e,
            Record::Case($r) => $e,
            Record::Mediation($r) => $e,
            Record::Reception($r) => $e,
            Record::Petition($r) => $e,
            Record::Draft($r) => $e,
        }
    };
}

impl Record {
    /// Parses a record from JSON text, as `serde_json::from_str::<Record>` does, in about
    /// two thirds of the time: serde's internally tagged enums buffer the whole object
    /// before they look at the tag, so this reads the tag first (a pass that allocates
    /// nothing) and then the struct of that kind directly.
    pub fn from_json(text: &str) -> serde_json::Result<Record> {
        /// Only the tag; every other field is skipped.
        #[derive(Deserialize)]
        struct Tag {
            #[serde(rename = "type")]
            kind: RecordKind,
        }
        let tag: Tag = match serde_json::from_str(text) {
            Ok(t) => t,
            // Let the tagged path word the error (a missing or unknown tag, bad JSON).
            Err(_) => return serde_json::from_str(text),
        };
        // `RecordKind`'s names are the tags (the round-trip tests hold them equal).
        Ok(match tag.kind {
            RecordKind::Patrol => Record::Patrol(serde_json::from_str(text)?),
            RecordKind::Case => Record::Case(serde_json::from_str(text)?),
            RecordKind::Mediation => Record::Mediation(serde_json::from_str(text)?),
            RecordKind::Reception => Record::Reception(serde_json::from_str(text)?),
            RecordKind::Petition => Record::Petition(serde_json::from_str(text)?),
            RecordKind::Draft => Record::Draft(serde_json::from_str(text)?),
        })
    }

    /// Which kind of record this is.
    pub fn kind(&self) -> RecordKind {
        match self {
            Self::Patrol(_) => RecordKind::Patrol,
            Self::Case(_) => RecordKind::Case,
            Self::Mediation(_) => RecordKind::Mediation,
            Self::Reception(_) => RecordKind::Reception,
            Self::Petition(_) => RecordKind::Petition,
            Self::Draft(_) => RecordKind::Draft,
        }
    }

    /// The record's id.
    pub fn id(&self) -> RecordId {
        each_record!(self, r => r.id)
    }

    /// Where the record hangs in the territory (for scope checks).
    pub fn territory(&self) -> &TerritoryPath {
        each_record!(self, r => &r.territory)
    }

    /// Who created it.
    pub fn created_by(&self) -> &UserRef {
        each_record!(self, r => &r.created_by)
    }

    /// When it was created (device time).
    pub fn created_at(&self) -> DateTime<Utc> {
        each_record!(self, r => r.created_at)
    }
}

/// A position from the device's GPS.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude in degrees (WGS 84), −90…90.
    pub lat: f64,
    /// Longitude in degrees (WGS 84), −180…180.
    pub lon: f64,
    /// Horizontal accuracy radius in metres, if the device reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
}

/// A photo or document, stored by content hash beside the records (never inside them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentRef {
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
    /// MIME type, e.g. `image/jpeg`.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Original file name, for display.
    pub name: String,
}

/// An unfinished form, synced like any record so work survives a lost device.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    /// Record id.
    pub id: RecordId,
    /// Where it will belong.
    pub territory: TerritoryPath,
    /// Who is writing it.
    pub created_by: UserRef,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// Which form it is (usually a [`RecordKind`] name such as `"case"`).
    pub form: String,
    /// The form's fields so far.
    pub data: serde_json::Value,
}
