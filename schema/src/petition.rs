//! Petitions (信访) and the "1-2-3-4" method for first petitions (初信初访).

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::RecordId;
use crate::label::labeled_enum;
use crate::party::Party;
use crate::people::UserRef;
use crate::territory::TerritoryPath;

labeled_enum! {
    /// How a petition came in.
    #[derive(Default)]
    pub enum PetitionChannel {
        /// Online (网上).
        Online => "网上", "online",
        /// By letter (信上).
        Letter => "信上", "letter",
        /// In person (访上).
        #[default]
        Visit => "访上", "visit",
        /// Through the citizens' app (爱城阳APP).
        App => "爱城阳APP", "Ai Chengyang app",
    }
}

labeled_enum! {
    /// The four methods of the 1-2-3-4 approach; the number is how many steps each has.
    #[derive(Default)]
    pub enum StepMethod {
        /// One speed-up: register and assign at once (一提速).
        #[default]
        SpeedUp => "一提速", "speed up",
        /// Two interviews with the petitioner (两约谈).
        Interview => "两约谈", "interview",
        /// Three supervisions of the handling unit (三督促).
        Supervision => "三督促", "supervision",
        /// Four concentrations of effort (四集中).
        Concentration => "四集中", "concentration",
    }
}

impl StepMethod {
    /// How many steps the method has (1, 2, 3, 4).
    pub fn steps(self) -> u8 {
        match self {
            Self::SpeedUp => 1,
            Self::Interview => 2,
            Self::Supervision => 3,
            Self::Concentration => 4,
        }
    }
}

/// The standard schedule: (method, seq, days after receipt).
///
/// The 60-day frame follows the petition regulations' handling limit (受理后60日内办结); the
/// 15-day mark is the acceptance limit. Speed-up within 3 days; interviews at one and two
/// weeks; supervisions at 20, 30 and 45 days; concentrations every ten days from day 30 up
/// to the deadline.
pub const STANDARD_SCHEDULE: [(StepMethod, u8, u64); 10] = [
    (StepMethod::SpeedUp, 1, 3),
    (StepMethod::Interview, 1, 7),
    (StepMethod::Interview, 2, 14),
    (StepMethod::Supervision, 1, 20),
    (StepMethod::Supervision, 2, 30),
    (StepMethod::Supervision, 3, 45),
    (StepMethod::Concentration, 1, 30),
    (StepMethod::Concentration, 2, 40),
    (StepMethod::Concentration, 3, 50),
    (StepMethod::Concentration, 4, 60),
];

/// One tracked step of the 1-2-3-4 method.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FirstPetitionStep {
    /// Which method.
    pub method: StepMethod,
    /// Which step of it, from 1 to `method.steps()`.
    pub seq: u8,
    /// Due date.
    pub due: NaiveDate,
    /// When it was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_on: Option<NaiveDate>,
    /// What was done (optional).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl FirstPetitionStep {
    /// Not done and past its due date (due today is not yet overdue).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.done_on.is_none() && self.due < today
    }
}

/// A petition received through any channel.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Petition {
    /// Record id.
    pub id: RecordId,
    /// Where the matter is.
    pub territory: TerritoryPath,
    /// Who registered it.
    pub created_by: UserRef,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// How it came in.
    pub channel: PetitionChannel,
    /// Date received.
    pub received_on: NaiveDate,
    /// A first letter or visit (初信初访), tracked with the 1-2-3-4 steps.
    pub first: bool,
    /// The petitioners; at least one.
    pub petitioners: Vec<Party>,
    /// How many people petitioned (at least one).
    pub persons: u32,
    /// Short subject.
    pub subject: String,
    /// Narrative (Automerge text).
    pub description: String,
    /// The case opened for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<RecordId>,
    /// The 1-2-3-4 steps (see [`Petition::standard_steps`]).
    pub steps: Vec<FirstPetitionStep>,
}

impl Petition {
    /// The ten steps (1 + 2 + 3 + 4) for a first petition received on `received_on`, due per
    /// [`STANDARD_SCHEDULE`].
    pub fn standard_steps(received_on: NaiveDate) -> Vec<FirstPetitionStep> {
        STANDARD_SCHEDULE
            .iter()
            .map(|&(method, seq, days)| FirstPetitionStep {
                method,
                seq,
                due: received_on
                    .checked_add_days(Days::new(days))
                    .unwrap_or(NaiveDate::MAX),
                done_on: None,
                note: String::new(),
            })
            .collect()
    }

    /// Steps not done by their due date.
    pub fn overdue_steps(&self, today: NaiveDate) -> Vec<&FirstPetitionStep> {
        self.steps.iter().filter(|s| s.is_overdue(today)).collect()
    }

    /// Whether any step is overdue: such first petitions stand out on the dashboard.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.steps.iter().any(|s| s.is_overdue(today))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn standard_steps_are_one_two_three_four() {
        let steps = Petition::standard_steps(d("2022-10-01"));
        assert_eq!(steps.len(), 10);
        for m in StepMethod::ALL {
            let seqs: Vec<u8> = steps
                .iter()
                .filter(|s| s.method == *m)
                .map(|s| s.seq)
                .collect();
            assert_eq!(seqs, (1..=m.steps()).collect::<Vec<_>>());
        }
        assert_eq!(steps[0].due, d("2022-10-04"));
        assert_eq!(steps[9].due, d("2022-11-30"));
        assert!(steps.iter().all(|s| s.done_on.is_none()));
    }

    #[test]
    fn overdue_is_derived_from_due_and_done() {
        let mut p = Petition {
            received_on: d("2022-10-01"),
            first: true,
            ..Default::default()
        };
        p.steps = Petition::standard_steps(p.received_on);
        assert!(!p.is_overdue(d("2022-10-04")), "due today is not overdue");
        assert!(p.is_overdue(d("2022-10-05")));
        p.steps[0].done_on = Some(d("2022-10-03"));
        assert!(!p.is_overdue(d("2022-10-05")));
        let late = p.overdue_steps(d("2022-10-16"));
        assert_eq!(late.len(), 2);
        assert!(late.iter().all(|s| s.method == StepMethod::Interview));
        assert_eq!(p.overdue_steps(d("2023-01-01")).len(), 9);
    }
}
