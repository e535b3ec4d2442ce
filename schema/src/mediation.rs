//! People's mediation (人民调解), the main line of diversified dispute resolution.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::case::{Channel, Level};
use crate::ids::RecordId;
use crate::label::labeled_enum;
use crate::party::Party;
use crate::people::UserRef;
use crate::territory::TerritoryPath;

labeled_enum! {
    /// How a mediation ended.
    pub enum MediationOutcome {
        /// Agreement reached.
        Agreed => "调解成功", "agreement reached",
        /// Partly agreed; the rest may be handed off.
        Partial => "部分达成", "partly agreed",
        /// No agreement; may be handed off.
        Failed => "调解不成", "failed",
    }
}

impl MediationOutcome {
    /// Whether the remaining matter may go to a linked channel (only when not fully agreed).
    pub fn may_hand_off(self) -> bool {
        !matches!(self, Self::Agreed)
    }
}

/// A mediation by a community, street or district mediation body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Mediation {
    /// Record id.
    pub id: RecordId,
    /// Where the mediation body sits (down to the level of `body_level`).
    pub territory: TerritoryPath,
    /// Who created the record.
    pub created_by: UserRef,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// The case it mediates, if it came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<RecordId>,
    /// Level of the mediation body (three-level coverage).
    pub body_level: Level,
    /// The mediator in charge.
    pub mediator: UserRef,
    /// The community legal worker involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_worker: Option<UserRef>,
    /// The parties; at least one.
    pub parties: Vec<Party>,
    /// Sessions held.
    pub sessions: Vec<MediationSession>,
    /// How it ended, once it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<MediationOutcome>,
    /// Agreement text (Automerge text); required when agreed.
    pub agreement: String,
    /// Where a partial or failed mediation was handed on; never for an agreed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Channel>,
    /// Date of the follow-up visit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<NaiveDate>,
    /// Whether this works on a backlog petition case (信访积案).
    pub backlog_petition: bool,
}

/// One mediation session.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MediationSession {
    /// Stable id within the mediation.
    pub id: String,
    /// When it was held.
    pub date: NaiveDate,
    /// Where.
    pub place: String,
    /// Who attended (names).
    pub attendees: Vec<String>,
    /// Minutes (Automerge text).
    pub notes: String,
}
