//! Staff, their roles, and what each role may do to a case.
//!
//! Residents are not users: they appear only as [`crate::Party`] inside records.

use serde::{Deserialize, Serialize};

use crate::case::{CaseAction, Level};
use crate::label::labeled_enum;
use crate::territory::TerritoryPath;

labeled_enum! {
    /// What a staff member does; decides which case actions they may record.
    pub enum Role {
        /// Patrols one grid; first to find and try to resolve issues.
        GridWorker => "网格员", "grid worker",
        /// One per community; logs mediations and gives legal advice.
        LegalWorker => "社区法律工作者", "community legal worker",
        /// Runs mediation sessions.
        Mediator => "人民调解员", "people's mediator",
        /// Street office cadre: concentrated screening, whistle blowing.
        StreetOfficer => "街道干部", "street officer",
        /// Liaison of a functional department that reports in when the street whistles.
        Department => "部门", "department liaison",
        /// Takes cases under contract and holds public reception.
        Leader => "领导干部", "leader",
        /// Reviews and reports at a street or district office.
        Supervisor => "督导", "supervisor",
        /// Manages accounts and the territory.
        Admin => "管理员", "administrator",
    }
}

impl Role {
    /// Whether this role may record `action` on a case.
    ///
    /// `level` is the level the action names (`Escalated.to`, `SentBack.to`,
    /// `Resolved.at`); for actions that name none, pass the case's current level (it is
    /// ignored by the table below). The table is deliberately small and explicit:
    ///
    /// | role | may |
    /// | --- | --- |
    /// | grid worker | raise, alert, refer to mediation, follow-up visit, reopen, resolve at community |
    /// | legal worker | refer to mediation, hand off, follow-up visit, resolve at community |
    /// | mediator | refer to mediation, hand off, follow-up visit, resolve at any level (three-level bodies) |
    /// | street officer | raise, alert, escalate, send back, blow whistle, hand off, follow-up visit, reopen, resolve at street |
    /// | department | report in, follow-up visit |
    /// | leader | assign leader, send back, reopen, resolve at district |
    /// | supervisor, admin | everything |
    pub fn may_take(self, action: CaseAction, level: Level) -> bool {
        use CaseAction as A;
        match self {
            Self::Supervisor | Self::Admin => true,
            Self::GridWorker => match action {
                A::Raise | A::Alert | A::ReferToMediation | A::FollowUpVisit | A::Reopen => true,
                A::Resolve => level == Level::Community,
                _ => false,
            },
            Self::LegalWorker => match action {
                A::ReferToMediation | A::HandOff | A::FollowUpVisit => true,
                A::Resolve => level == Level::Community,
                _ => false,
            },
            Self::Mediator => matches!(
                action,
                A::ReferToMediation | A::HandOff | A::FollowUpVisit | A::Resolve
            ),
            Self::StreetOfficer => match action {
                A::Raise
                | A::Alert
                | A::Escalate
                | A::SendBack
                | A::BlowWhistle
                | A::HandOff
                | A::FollowUpVisit
                | A::Reopen => true,
                A::Resolve => level == Level::Street,
                _ => false,
            },
            Self::Department => matches!(action, A::ReportIn | A::FollowUpVisit),
            Self::Leader => match action {
                A::AssignLeader | A::SendBack | A::Reopen => true,
                A::Resolve => level == Level::District,
                _ => false,
            },
        }
    }
}

/// A staff member as named inside a record (never a resident).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UserRef {
    /// Account id.
    pub id: String,
    /// Display name at the time of writing, so old records stay readable.
    pub name: String,
}

impl UserRef {
    /// A reference from id and name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// A staff account, bound to the territory unit it may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Account id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What they do.
    pub role: Role,
    /// Territory code (district, street, community or grid) they may see and write.
    pub scope: String,
    /// The department a department liaison represents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

impl User {
    /// How records name this user.
    pub fn to_ref(&self) -> UserRef {
        UserRef::new(self.id.clone(), self.name.clone())
    }

    /// Whether a record at `path` lies inside this user's scope.
    pub fn may_see(&self, path: &TerritoryPath) -> bool {
        path.is_within(&self.scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Label;

    #[test]
    fn role_serde_names_and_labels() {
        let names: Vec<String> = Role::ALL
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"grid_worker\"",
                "\"legal_worker\"",
                "\"mediator\"",
                "\"street_officer\"",
                "\"department\"",
                "\"leader\"",
                "\"supervisor\"",
                "\"admin\""
            ]
        );
        assert_eq!(Role::GridWorker.zh(), "网格员");
        assert_eq!(Role::Mediator.en(), "people's mediator");
    }

    #[test]
    fn capability_table() {
        use CaseAction as A;
        use Level as L;
        assert!(Role::GridWorker.may_take(A::Resolve, L::Community));
        assert!(!Role::GridWorker.may_take(A::Resolve, L::Street));
        assert!(!Role::GridWorker.may_take(A::BlowWhistle, L::Community));
        assert!(Role::StreetOfficer.may_take(A::BlowWhistle, L::Street));
        assert!(Role::StreetOfficer.may_take(A::Resolve, L::Street));
        assert!(!Role::StreetOfficer.may_take(A::Resolve, L::District));
        assert!(Role::Department.may_take(A::ReportIn, L::Street));
        assert!(!Role::Department.may_take(A::Resolve, L::Street));
        assert!(Role::Leader.may_take(A::AssignLeader, L::District));
        assert!(Role::Leader.may_take(A::Resolve, L::District));
        assert!(!Role::Leader.may_take(A::Raise, L::District));
        assert!(Role::LegalWorker.may_take(A::HandOff, L::Community));
        for a in CaseAction::ALL {
            for l in Level::ALL {
                assert!(Role::Supervisor.may_take(*a, *l));
                assert!(Role::Admin.may_take(*a, *l));
            }
        }
    }

    #[test]
    fn user_scope_is_a_prefix_check() {
        let u = User {
            id: "u1".into(),
            name: "张三".into(),
            role: Role::GridWorker,
            scope: "370214001001".into(),
            department: None,
        };
        let inside = TerritoryPath {
            street: "370214001".into(),
            community: "370214001001".into(),
            grid: "370214001001003".into(),
        };
        let outside = TerritoryPath {
            street: "370214002".into(),
            community: "370214002001".into(),
            grid: String::new(),
        };
        assert!(u.may_see(&inside));
        assert!(!u.may_see(&outside));
        assert_eq!(u.to_ref(), UserRef::new("u1", "张三"));
    }
}
