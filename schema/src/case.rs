//! Cases (信访隐患 / 矛盾纠纷) and their event log.
//!
//! Status, current level and resolution level are never stored: they are derived from the
//! events, ordered by HLC then event id, so every device derives the same state from the same
//! set of events, whatever order they arrived in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::hlc::Hlc;
use crate::ids::RecordId;
use crate::label::{Label, labeled_enum};
use crate::party::Party;
use crate::people::{Role, UserRef};
use crate::record::GeoPoint;
use crate::territory::TerritoryPath;

labeled_enum! {
    /// What sort of issue a case is.
    #[derive(Default)]
    pub enum CaseKind {
        /// A dispute between residents (or with an organisation).
        #[default]
        Dispute => "矛盾纠纷", "dispute",
        /// A hazard that may turn into petitions.
        Hazard => "信访隐患", "petition hazard",
    }
}

labeled_enum! {
    /// Subject category, as used in the district's statistics. Unknown categories from newer
    /// app versions read as `Other`.
    #[derive(Default)]
    pub enum Category {
        /// Between neighbours.
        Neighbourhood => "邻里纠纷", "neighbourhood",
        /// Marriage and family.
        FamilyMarriage => "婚姻家庭纠纷", "family and marriage",
        /// Land and housing (incl. homestead).
        LandHousing => "土地房屋纠纷", "land and housing",
        /// Land requisition, demolition and relocation.
        DemolitionRelocation => "征地拆迁纠纷", "demolition and relocation",
        /// Labour relations and unpaid wages.
        LabourWages => "劳资纠纷", "labour and wages",
        /// Residential property management.
        PropertyManagement => "物业纠纷", "property management",
        /// Pollution and the environment.
        Environment => "环境污染纠纷", "environment",
        /// Traffic accidents.
        Traffic => "交通事故纠纷", "traffic",
        /// Consumer and contract disputes.
        ConsumerContract => "消费合同纠纷", "consumer and contract",
        /// Anything else.
        #[default]
        #[serde(other)]
        Other => "其他", "other",
    }
}

labeled_enum! {
    /// Assessed risk of escalation.
    #[derive(Default)]
    pub enum RiskLevel {
        /// Low risk.
        #[default]
        Low => "低风险", "low risk",
        /// Medium risk.
        Medium => "中风险", "medium risk",
        /// High risk.
        High => "高风险", "high risk",
    }
}

labeled_enum! {
    /// Where a case is handled: "small matters stay in the community, big ones in the street,
    /// hard ones in the district". Ordered from lowest to highest.
    #[derive(Default)]
    pub enum Level {
        /// Community (社区), the grassroots level.
        #[default]
        Community => "社区", "community",
        /// Street (街道).
        Street => "街道", "street",
        /// District (区).
        District => "区", "district",
    }
}

labeled_enum! {
    /// Channels linked to mediation, for matters mediation could not settle.
    pub enum Channel {
        /// Petition (信访).
        Petition => "信访", "petition",
        /// Administrative ruling.
        AdministrativeRuling => "行政裁决", "administrative ruling",
        /// Arbitration.
        Arbitration => "仲裁", "arbitration",
        /// Litigation in court.
        Litigation => "诉讼", "litigation",
    }
}

labeled_enum! {
    /// Size band of the number of people involved, as the district reports it.
    pub enum PersonsBand {
        /// Fewer than 50.
        Under50 => "50人以下", "under 50",
        /// 50 to 99.
        From50To100 => "50–100人", "50–100",
        /// 100 to 500.
        From100To500 => "100–500人", "100–500",
        /// More than 500.
        Over500 => "500人以上", "over 500",
    }
}

impl PersonsBand {
    /// The band of `persons`: `<50`, `50..100`, `100..=500`, `>500`.
    pub fn of(persons: u32) -> Self {
        match persons {
            0..50 => Self::Under50,
            50..100 => Self::From50To100,
            100..=500 => Self::From100To500,
            _ => Self::Over500,
        }
    }
}

labeled_enum! {
    /// The kind of a case event without its data: what permissions are granted on.
    pub enum CaseAction {
        /// See [`CaseEventKind::Raised`].
        Raise => "登记", "raise",
        /// See [`CaseEventKind::Alerted`].
        Alert => "网格预警", "grid alert",
        /// See [`CaseEventKind::Escalated`].
        Escalate => "上报", "escalate",
        /// See [`CaseEventKind::SentBack`].
        SendBack => "退回", "send back",
        /// See [`CaseEventKind::WhistleBlown`].
        BlowWhistle => "街道吹哨", "blow the whistle",
        /// See [`CaseEventKind::DepartmentReported`].
        ReportIn => "部门报到", "department reports in",
        /// See [`CaseEventKind::LeaderAssigned`].
        AssignLeader => "领导联包", "leader takes on",
        /// See [`CaseEventKind::ReferredToMediation`].
        ReferToMediation => "转人民调解", "refer to mediation",
        /// See [`CaseEventKind::Resolved`].
        Resolve => "化解", "resolve",
        /// See [`CaseEventKind::HandedOff`].
        HandOff => "移交", "hand off",
        /// See [`CaseEventKind::FollowUpVisit`].
        FollowUpVisit => "回访", "follow-up visit",
        /// See [`CaseEventKind::Reopened`].
        Reopen => "重新办理", "reopen",
        /// See [`CaseEventKind::Unknown`].
        Unknown => "未知事件", "unknown event",
    }
}

labeled_enum! {
    /// Derived status of a case.
    #[derive(Default)]
    pub enum CaseStatus {
        /// Being handled.
        #[default]
        Open => "处理中", "open",
        /// Referred to mediation and not yet closed.
        InMediation => "调解中", "in mediation",
        /// Resolved (at the level in [`CaseState::resolved_at`]).
        Resolved => "已化解", "resolved",
        /// Handed to petition, ruling, arbitration or litigation.
        HandedOff => "已移交", "handed off",
    }
}

impl CaseStatus {
    /// Whether the case is closed (resolved or handed off) until reopened.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Resolved | Self::HandedOff)
    }
}

/// One entry of a case's append-only event log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseEvent {
    /// UUID (string), unique within the case; breaks ties between equal HLC stamps.
    pub id: String,
    /// When, on the hybrid logical clock.
    pub at: Hlc,
    /// Who recorded it.
    pub by: UserRef,
    /// The role they acted in (checked against [`Role::may_take`]).
    pub role: Role,
    /// What happened.
    pub kind: CaseEventKind,
    /// Free narrative (stored as Automerge text).
    #[serde(default)]
    pub note: String,
}

/// What happened to a case. Serialized with a `"type"` tag, e.g.
/// `{"type": "escalated", "to": "street"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseEventKind {
    /// The issue was found and registered.
    Raised,
    /// The grid raised an alert to the street (网格预警).
    Alerted,
    /// Handed up to a higher level.
    Escalated {
        /// The level it now sits at.
        to: Level,
    },
    /// Returned to a lower level.
    SentBack {
        /// The level it now sits at.
        to: Level,
    },
    /// The street blew the whistle, calling departments in (街道吹哨).
    WhistleBlown,
    /// A department reported in and took on part of the case (部门报到).
    DepartmentReported {
        /// Which department.
        department: String,
        /// What it took on.
        took_on: String,
    },
    /// A leader took the case under contract (领导联包).
    LeaderAssigned {
        /// The leader's name.
        leader: String,
    },
    /// Referred to people's mediation.
    ReferredToMediation {
        /// The mediation record, once one exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mediation: Option<RecordId>,
    },
    /// Resolved, at a level.
    Resolved {
        /// The level that resolved it (the grassroots share counts community and street).
        at: Level,
    },
    /// Handed to a linked channel.
    HandedOff {
        /// Which channel.
        channel: Channel,
    },
    /// A follow-up visit to the parties after handling.
    FollowUpVisit,
    /// A closed case flared up again.
    Reopened,
    /// An event type from a newer app version; derivation ignores it.
    #[serde(other)]
    Unknown,
}

impl CaseEventKind {
    /// The action this event records, for permission checks.
    pub fn action(&self) -> CaseAction {
        match self {
            Self::Raised => CaseAction::Raise,
            Self::Alerted => CaseAction::Alert,
            Self::Escalated { .. } => CaseAction::Escalate,
            Self::SentBack { .. } => CaseAction::SendBack,
            Self::WhistleBlown => CaseAction::BlowWhistle,
            Self::DepartmentReported { .. } => CaseAction::ReportIn,
            Self::LeaderAssigned { .. } => CaseAction::AssignLeader,
            Self::ReferredToMediation { .. } => CaseAction::ReferToMediation,
            Self::Resolved { .. } => CaseAction::Resolve,
            Self::HandedOff { .. } => CaseAction::HandOff,
            Self::FollowUpVisit => CaseAction::FollowUpVisit,
            Self::Reopened => CaseAction::Reopen,
            Self::Unknown => CaseAction::Unknown,
        }
    }

    /// The level the event names, if any (`Escalated.to`, `SentBack.to`, `Resolved.at`).
    pub fn named_level(&self) -> Option<Level> {
        match self {
            Self::Escalated { to } | Self::SentBack { to } => Some(*to),
            Self::Resolved { at } => Some(*at),
            _ => None,
        }
    }
}

impl Label for CaseEventKind {
    fn zh(&self) -> &'static str {
        self.action().zh()
    }
    fn en(&self) -> &'static str {
        self.action().en()
    }
}

/// A department that reported in, as derived from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentState {
    /// The department.
    pub department: String,
    /// What it took on, one entry per report, in log order.
    pub took_on: Vec<String>,
    /// Its first report.
    pub reported_at: Hlc,
}

/// Everything derived from a case's events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseState {
    /// Current status.
    pub status: CaseStatus,
    /// The level currently handling the case.
    pub level: Level,
    /// The level it was resolved at, while resolved.
    pub resolved_at: Option<Level>,
    /// Whether the grid raised an alert.
    pub alerted: bool,
    /// Whether the street blew the whistle.
    pub whistle: bool,
    /// Departments that reported in, in order of first report.
    pub departments: Vec<DepartmentState>,
    /// The leader who took the case on (the latest, if several).
    pub leader: Option<String>,
    /// Whether an open case is with mediation.
    pub in_mediation: bool,
    /// The mediation record it was referred to (the latest named).
    pub mediation: Option<RecordId>,
    /// The channel it was handed to, while handed off.
    pub handed_off: Option<Channel>,
    /// How often it was reopened.
    pub reopened_count: u32,
    /// How many follow-up visits were made.
    pub follow_up_visits: u32,
    /// The first event's stamp (for "open cases by age").
    pub first_event_at: Option<Hlc>,
    /// The last event's stamp.
    pub last_event_at: Option<Hlc>,
}

impl CaseState {
    /// Folds the events in (HLC, id) order into a state.
    ///
    /// Exact duplicates count once, and any remaining ties are broken by the events' full
    /// contents, so the result depends only on the set of events, never on their order.
    ///
    /// Rules: escalation only raises the level and sent-back only lowers it; the whistle
    /// lifts the case to at least street level; escalation ends a pending mediation.
    /// Resolution and hand-off close the case (resolution also sets the level to where it was
    /// resolved) and stay closed until `Reopened`, which clears `resolved_at` and
    /// `handed_off`. A closed case keeps its level (escalations and send-backs concurrent
    /// with the closing are ignored); whistle, departments, leader and counters still count.
    pub fn derive(events: &[CaseEvent]) -> Self {
        let mut sorted: Vec<&CaseEvent> = events.iter().collect();
        sorted.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)).then_with(|| a.cmp(b)));
        sorted.dedup();

        let mut s = Self::default();
        for e in sorted {
            s.first_event_at.get_or_insert_with(|| e.at.clone());
            s.last_event_at = Some(e.at.clone());
            let closed = s.status.is_closed();
            match &e.kind {
                CaseEventKind::Raised | CaseEventKind::Unknown => {}
                CaseEventKind::Alerted => s.alerted = true,
                CaseEventKind::Escalated { to } if !closed => {
                    s.level = s.level.max(*to);
                    s.in_mediation = false;
                }
                CaseEventKind::SentBack { to } if !closed => s.level = s.level.min(*to),
                CaseEventKind::Escalated { .. } | CaseEventKind::SentBack { .. } => {}
                CaseEventKind::WhistleBlown => {
                    s.whistle = true;
                    if !closed {
                        s.level = s.level.max(Level::Street);
                    }
                }
                CaseEventKind::DepartmentReported {
                    department,
                    took_on,
                } => match s
                    .departments
                    .iter_mut()
                    .find(|d| &d.department == department)
                {
                    Some(d) => d.took_on.push(took_on.clone()),
                    None => s.departments.push(DepartmentState {
                        department: department.clone(),
                        took_on: vec![took_on.clone()],
                        reported_at: e.at.clone(),
                    }),
                },
                CaseEventKind::LeaderAssigned { leader } => s.leader = Some(leader.clone()),
                CaseEventKind::ReferredToMediation { mediation } => {
                    if mediation.is_some() {
                        s.mediation = *mediation;
                    }
                    if !closed {
                        s.in_mediation = true;
                    }
                }
                CaseEventKind::Resolved { at } => {
                    s.status = CaseStatus::Resolved;
                    s.resolved_at = Some(*at);
                    s.level = *at;
                    s.handed_off = None;
                    s.in_mediation = false;
                }
                CaseEventKind::HandedOff { channel } => {
                    s.status = CaseStatus::HandedOff;
                    s.handed_off = Some(*channel);
                    s.resolved_at = None;
                    s.in_mediation = false;
                }
                CaseEventKind::FollowUpVisit => s.follow_up_visits += 1,
                CaseEventKind::Reopened => {
                    s.reopened_count += 1;
                    s.status = CaseStatus::Open;
                    s.resolved_at = None;
                    s.handed_off = None;
                }
            }
            if !s.status.is_closed() {
                s.status = if s.in_mediation {
                    CaseStatus::InMediation
                } else {
                    CaseStatus::Open
                };
            }
        }
        s
    }

    /// Whether the case was resolved at the grassroots (community or street), the district's
    /// headline "over 90%" figure.
    pub fn resolved_at_grassroots(&self) -> bool {
        matches!(self.resolved_at, Some(Level::Community | Level::Street))
    }
}

/// A petition hazard or dispute (信访隐患 / 矛盾纠纷).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Case {
    /// Record id.
    pub id: RecordId,
    /// Where it is (street at least).
    pub territory: TerritoryPath,
    /// Who registered it.
    pub created_by: UserRef,
    /// When it was registered (device time; ordering uses event HLCs).
    pub created_at: DateTime<Utc>,
    /// Dispute or hazard.
    pub kind: CaseKind,
    /// Subject category.
    pub category: Category,
    /// Short title.
    pub title: String,
    /// Narrative description (Automerge text).
    pub description: String,
    /// Residents involved; a dispute needs at least one.
    pub parties: Vec<Party>,
    /// How many people are involved (see [`PersonsBand`]).
    pub persons_involved: u32,
    /// Assessed risk.
    pub risk: RiskLevel,
    /// Where it happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    /// The patrol that found it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_patrol: Option<RecordId>,
    /// The append-only event log.
    pub events: Vec<CaseEvent>,
}

impl Case {
    /// The state derived from the event log.
    pub fn state(&self) -> CaseState {
        CaseState::derive(&self.events)
    }

    /// The size band of `persons_involved`.
    pub fn persons_band(&self) -> PersonsBand {
        PersonsBand::of(self.persons_involved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ms: i64, id: &str, kind: CaseEventKind) -> CaseEvent {
        CaseEvent {
            id: id.into(),
            at: Hlc::new(ms, 0, "d"),
            by: UserRef::new("u", "n"),
            role: Role::Supervisor,
            kind,
            note: String::new(),
        }
    }

    #[test]
    fn whistle_chain_then_resolution_at_street() {
        let events = vec![
            ev(1, "a", CaseEventKind::Raised),
            ev(2, "b", CaseEventKind::Alerted),
            ev(3, "c", CaseEventKind::WhistleBlown),
            ev(
                4,
                "d",
                CaseEventKind::DepartmentReported {
                    department: "城管局".into(),
                    took_on: "拆除违建".into(),
                },
            ),
            ev(
                5,
                "e",
                CaseEventKind::DepartmentReported {
                    department: "城管局".into(),
                    took_on: "复查".into(),
                },
            ),
            ev(
                6,
                "f",
                CaseEventKind::LeaderAssigned {
                    leader: "李".into(),
                },
            ),
            ev(7, "g", CaseEventKind::Resolved { at: Level::Street }),
        ];
        let s = CaseState::derive(&events);
        assert_eq!(s.status, CaseStatus::Resolved);
        assert_eq!(s.level, Level::Street);
        assert_eq!(s.resolved_at, Some(Level::Street));
        assert!(s.whistle && s.alerted);
        assert_eq!(s.departments.len(), 1);
        assert_eq!(s.departments[0].took_on, ["拆除违建", "复查"]);
        assert_eq!(s.leader.as_deref(), Some("李"));
        assert!(s.resolved_at_grassroots());
        assert_eq!(s.first_event_at, Some(Hlc::new(1, 0, "d")));
        assert_eq!(s.last_event_at, Some(Hlc::new(7, 0, "d")));
    }

    #[test]
    fn mediation_escalation_send_back_reopen() {
        let mut events = vec![
            ev(1, "a", CaseEventKind::Raised),
            ev(
                2,
                "b",
                CaseEventKind::ReferredToMediation { mediation: None },
            ),
        ];
        assert_eq!(CaseState::derive(&events).status, CaseStatus::InMediation);
        events.push(ev(
            3,
            "c",
            CaseEventKind::Escalated {
                to: Level::District,
            },
        ));
        let s = CaseState::derive(&events);
        assert_eq!((s.status, s.level), (CaseStatus::Open, Level::District));
        events.push(ev(4, "d", CaseEventKind::SentBack { to: Level::Street }));
        events.push(ev(
            5,
            "e",
            CaseEventKind::HandedOff {
                channel: Channel::Litigation,
            },
        ));
        let s = CaseState::derive(&events);
        assert_eq!(s.status, CaseStatus::HandedOff);
        assert_eq!(s.level, Level::Street);
        assert_eq!(s.handed_off, Some(Channel::Litigation));
        events.push(ev(6, "f", CaseEventKind::Reopened));
        let s = CaseState::derive(&events);
        assert_eq!(s.status, CaseStatus::Open);
        assert_eq!(
            (s.handed_off, s.resolved_at, s.reopened_count),
            (None, None, 1)
        );
        events.push(ev(
            7,
            "g",
            CaseEventKind::Resolved {
                at: Level::Community,
            },
        ));
        events.push(ev(8, "h", CaseEventKind::FollowUpVisit));
        let s = CaseState::derive(&events);
        assert_eq!(s.status, CaseStatus::Resolved);
        assert_eq!(s.resolved_at, Some(Level::Community));
        assert_eq!(s.follow_up_visits, 1);
    }

    #[test]
    fn unknown_event_types_are_read_and_ignored() {
        let json = r#"{"id":"x","at":"0000000000005-000000-d","by":{"id":"u","name":"n"},
            "role":"supervisor","kind":{"type":"teleported","where":"moon"}}"#;
        let e: CaseEvent = serde_json::from_str(json).unwrap();
        assert_eq!(e.kind, CaseEventKind::Unknown);
        assert_eq!(CaseState::derive(&[e]).status, CaseStatus::Open);
        let c: Category = serde_json::from_str("\"space_debris\"").unwrap();
        assert_eq!(c, Category::Other);
    }

    #[test]
    fn persons_bands() {
        assert_eq!(PersonsBand::of(49), PersonsBand::Under50);
        assert_eq!(PersonsBand::of(50), PersonsBand::From50To100);
        assert_eq!(PersonsBand::of(100), PersonsBand::From100To500);
        assert_eq!(PersonsBand::of(500), PersonsBand::From100To500);
        assert_eq!(PersonsBand::of(501), PersonsBand::Over500);
    }
}
