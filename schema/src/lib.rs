//! Gridwork's domain model: territory, people, records, validation and wire types.
//!
//! No IO lives here: this crate compiles to wasm32 for the UI as well as to native code.
//! The main types are re-exported at the crate root.

pub mod api;
pub mod case;
pub mod forms;
pub mod frame;
pub mod hlc;
pub mod ids;
pub mod label;
pub mod mediation;
pub mod party;
pub mod patrol;
pub mod people;
pub mod petition;
pub mod reception;
pub mod record;
pub mod report;
pub mod territory;
pub mod validate;
pub mod wire;

#[cfg(test)]
mod tests;

pub use case::{
    Case, CaseAction, CaseEvent, CaseEventKind, CaseKind, CaseState, CaseStatus, Category, Channel,
    DepartmentState, Level, PersonsBand, RiskLevel,
};
pub use hlc::{Hlc, HlcClock};
pub use ids::RecordId;
pub use label::{Label, Lang};
pub use mediation::{Mediation, MediationOutcome, MediationSession};
pub use party::Party;
pub use patrol::{ChecklistItem, Finding, Patrol, PatrolKind};
pub use people::{Role, User, UserRef};
pub use petition::{FirstPetitionStep, Petition, PetitionChannel, StepMethod};
pub use reception::{ReceptionLevel, ReceptionSession, Visit};
pub use record::{AttachmentRef, Draft, GeoPoint, Record, RecordKind, SCHEMA_VERSION};
pub use territory::TerritoryPath;
pub use validate::{Rule, Validate, ValidationContext, ValidationError, ValidationErrors};
