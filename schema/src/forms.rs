//! What the app's create forms for mediations, reception sessions and petitions collect, and
//! the records they make. The UI validates the record a form would make with the same
//! functions the device uses to build it, so the messages as you type are the schema's own.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::api::{RecordRow, path_of_code};
use crate::case::Level;
use crate::ids::RecordId;
use crate::mediation::Mediation;
use crate::party::Party;
use crate::people::UserRef;
use crate::petition::{Petition, PetitionChannel};
use crate::reception::{ReceptionLevel, ReceptionSession};
use crate::territory::{TerritoryPath, demo};

/// A staff member named in a form: a demo account by display name, else the name itself
/// (as the CLI's `--mediator NAME` does).
pub fn staff_ref(name: &str) -> UserRef {
    let name = name.trim();
    match demo::ACCOUNTS.iter().find(|a| a.display_name == name) {
        Some(a) => UserRef::new(a.login, a.display_name),
        None => UserRef::new(name, name),
    }
}

/// `name`, or `me` when it is blank or my own name.
fn named_or_me(name: &str, me: &UserRef) -> UserRef {
    let name = name.trim();
    if name.is_empty() || name == me.name {
        me.clone()
    } else {
        staff_ref(name)
    }
}

/// A new mediation, as the form collects it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewMediation {
    /// The case it mediates (the device then takes the territory and parties from it).
    pub case: Option<RecordId>,
    /// Level of the mediation body.
    pub body_level: Level,
    /// A territory code under which the body sits (grid, community or street).
    pub territory: String,
    /// The mediator's name (blank: me).
    pub mediator: String,
    /// The community legal worker's name (optional).
    pub legal_worker: String,
    /// The parties.
    pub parties: Vec<Party>,
    /// Whether this works on a backlog petition case (信访积案).
    pub backlog_petition: bool,
}

impl NewMediation {
    /// Where a body of `level` under `code` sits.
    pub fn body_territory(level: Level, code: &str) -> TerritoryPath {
        let p = path_of_code(code);
        match level {
            Level::Community => TerritoryPath {
                grid: String::new(),
                ..p
            },
            Level::Street => TerritoryPath {
                street: p.street,
                ..TerritoryPath::default()
            },
            Level::District => TerritoryPath::default(),
        }
    }

    /// The mediation this form makes, created by `me`.
    pub fn to_mediation(&self, id: RecordId, me: &UserRef, now: DateTime<Utc>) -> Mediation {
        Mediation {
            id,
            territory: Self::body_territory(self.body_level, &self.territory),
            created_by: me.clone(),
            created_at: now,
            case: self.case,
            body_level: self.body_level,
            mediator: named_or_me(&self.mediator, me),
            legal_worker: Some(self.legal_worker.trim())
                .filter(|n| !n.is_empty())
                .map(staff_ref),
            parties: self.parties.clone(),
            backlog_petition: self.backlog_petition,
            ..Mediation::default()
        }
    }
}

/// A new reception session, as the form collects it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewReception {
    /// The leader sitting (blank: me).
    pub leader: String,
    /// District or street.
    pub level: ReceptionLevel,
    /// The street's code (street sessions).
    pub street: String,
    /// The reception site.
    pub site: String,
    /// The day.
    pub date: NaiveDate,
    /// Whether the public picked the leader by name plate (点名接访).
    pub named_by_public: bool,
}

impl NewReception {
    /// The session this form makes, created by `me`.
    pub fn to_reception(&self, id: RecordId, me: &UserRef, now: DateTime<Utc>) -> ReceptionSession {
        let street = self.street.trim();
        let territory = if street.is_empty() {
            TerritoryPath::default()
        } else {
            TerritoryPath {
                street: street.get(..9).unwrap_or(street).to_owned(),
                ..TerritoryPath::default()
            }
        };
        ReceptionSession {
            id,
            territory,
            created_by: me.clone(),
            created_at: now,
            leader: named_or_me(&self.leader, me),
            level: self.level,
            site: self.site.trim().to_owned(),
            date: self.date,
            named_by_public: self.named_by_public,
            visits: Vec::new(),
        }
    }
}

/// A new petition, as the form collects it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewPetition {
    /// Online, letter, visit or the citizens' app.
    pub channel: PetitionChannel,
    /// Date received.
    pub received_on: NaiveDate,
    /// A first letter or visit (初信初访): tracked with the 1-2-3-4 steps.
    pub first: bool,
    /// The petitioners.
    pub petitioners: Vec<Party>,
    /// How many people petitioned.
    pub persons: u32,
    /// Short subject.
    pub subject: String,
    /// Narrative.
    pub description: String,
    /// Territory code of the matter (grid, community or street; blank: the district).
    pub territory: String,
    /// The case opened for it.
    pub case: Option<RecordId>,
}

impl NewPetition {
    /// The petition this form makes, created by `me` (a first petition gets its ten steps).
    pub fn to_petition(&self, id: RecordId, me: &UserRef, now: DateTime<Utc>) -> Petition {
        Petition {
            id,
            territory: path_of_code(self.territory.trim()),
            created_by: me.clone(),
            created_at: now,
            channel: self.channel,
            received_on: self.received_on,
            first: self.first,
            petitioners: self.petitioners.clone(),
            persons: self.persons,
            subject: self.subject.trim().to_owned(),
            description: self.description.clone(),
            case: self.case,
            steps: if self.first {
                Petition::standard_steps(self.received_on)
            } else {
                Vec::new()
            },
        }
    }
}

/// One reception session in a leader's schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceptionItem {
    /// The list row (sync state).
    pub row: RecordRow,
    /// The day.
    pub date: NaiveDate,
    /// The leader sitting.
    pub leader: UserRef,
    /// District or street.
    pub level: ReceptionLevel,
    /// The site.
    pub site: String,
    /// Picked by the public by name plate (点名接访).
    pub named_by_public: bool,
    /// Cases received (起).
    pub cases: usize,
    /// Person-visits (人次).
    pub person_visits: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Rule, Validate, ValidationContext};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn forms_make_valid_records_and_name_staff() {
        let me = UserRef::new("mediator", "王芳");
        let now = Utc::now();
        let ctx = ValidationContext::new(d("2022-10-15"));
        let m = NewMediation {
            territory: "370214001001001".into(),
            legal_worker: "李娜".into(),
            parties: vec![Party {
                name: "甲".into(),
                ..Party::default()
            }],
            ..NewMediation::default()
        }
        .to_mediation(RecordId::new_v7(), &me, now);
        assert_eq!(m.territory.community, "370214001001");
        assert!(m.territory.grid.is_empty());
        assert_eq!(m.mediator, me);
        assert_eq!(m.legal_worker, Some(UserRef::new("legal", "李娜")));
        m.validate(&ctx).unwrap();

        let r = NewReception {
            level: ReceptionLevel::Street,
            street: "370214001".into(),
            site: "城阳街道信访接待室".into(),
            date: d("2022-10-20"),
            ..NewReception::default()
        }
        .to_reception(RecordId::new_v7(), &me, now);
        r.validate(&ctx).unwrap();

        let p = NewPetition {
            first: true,
            received_on: d("2022-10-01"),
            persons: 0,
            subject: "x".into(),
            petitioners: vec![Party {
                name: "乙".into(),
                ..Party::default()
            }],
            ..NewPetition::default()
        }
        .to_petition(RecordId::new_v7(), &me, now);
        assert_eq!(p.steps.len(), 10);
        let errors = p.validate(&ctx).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.field == "persons" && e.rule == Rule::PersonsZero)
        );
    }
}
