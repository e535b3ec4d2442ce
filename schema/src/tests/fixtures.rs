//! Valid sample records, one per kind, that tests mutate into invalid ones.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::*;

pub(super) const ID_NUMBER: &str = "11010519491231002X";

pub(super) fn today() -> NaiveDate {
    day("2022-10-15")
}

pub(super) fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub(super) fn time(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 10, 14, h, 0, 0).unwrap()
}

pub(super) fn id(n: u8) -> RecordId {
    RecordId::from_parts(1_665_800_000_000 + u64::from(n), [n; 10])
}

pub(super) fn grid() -> TerritoryPath {
    TerritoryPath {
        street: "370214001".into(),
        community: "370214001001".into(),
        grid: "370214001001001".into(),
    }
}

pub(super) fn worker() -> UserRef {
    UserRef::new("u-grid-1", "刘网格")
}

pub(super) fn party(name: &str) -> Party {
    Party {
        name: name.into(),
        phone: "13812345678".into(),
        id_number: ID_NUMBER.into(),
        address: "城阳区正阳路1号".into(),
        role_in_case: Some("申请人".into()),
    }
}

pub(super) fn sha() -> String {
    "ab".repeat(32)
}

pub(super) fn patrol() -> Patrol {
    Patrol {
        id: id(1),
        territory: grid(),
        created_by: worker(),
        created_at: time(8),
        kind: PatrolKind::Special,
        theme: Some("燃气安全".into()),
        worker: worker(),
        started_at: time(8),
        ended_at: Some(time(10)),
        places: vec!["小寨子社区3号楼".into(), "农贸市场".into()],
        checklist: vec![
            ChecklistItem {
                id: "c1".into(),
                label: "消防通道".into(),
                done: true,
            },
            ChecklistItem {
                id: "c2".into(),
                label: "燃气管道".into(),
                done: false,
            },
        ],
        findings: vec![Finding {
            id: "f1".into(),
            text: "3号楼邻里因漏水争执".into(),
            case_id: Some(id(2)),
        }],
        location: Some(GeoPoint {
            lat: 36.307,
            lon: 120.396,
            accuracy_m: Some(8.5),
        }),
        photos: vec![AttachmentRef {
            sha256: sha(),
            media_type: "image/jpeg".into(),
            size: 123_456,
            name: "楼道.jpg".into(),
        }],
        note: "巡查顺利。".into(),
    }
}

pub(super) fn event(ms: i64, n: u8, role: Role, kind: CaseEventKind) -> CaseEvent {
    CaseEvent {
        id: format!("0183d7c0-0000-7000-8000-0000000000{n:02}"),
        at: Hlc::new(1_665_800_000_000 + ms, 0, "dev-1"),
        by: worker(),
        role,
        kind,
        note: "已处理".into(),
    }
}

pub(super) fn case() -> Case {
    Case {
        id: id(2),
        territory: grid(),
        created_by: worker(),
        created_at: time(9),
        kind: CaseKind::Dispute,
        category: Category::Neighbourhood,
        title: "楼上漏水纠纷".into(),
        description: "楼上住户卫生间漏水，楼下住户要求赔偿。".into(),
        parties: vec![party("王秀英"), party("李建国")],
        persons_involved: 2,
        risk: RiskLevel::Medium,
        location: Some(GeoPoint {
            lat: 36.3,
            lon: 120.4,
            accuracy_m: None,
        }),
        from_patrol: Some(id(1)),
        events: vec![
            event(1, 1, Role::GridWorker, CaseEventKind::Raised),
            event(2, 2, Role::GridWorker, CaseEventKind::Alerted),
            event(3, 3, Role::StreetOfficer, CaseEventKind::WhistleBlown),
            event(
                4,
                4,
                Role::Department,
                CaseEventKind::DepartmentReported {
                    department: "住建局".into(),
                    took_on: "查明漏水原因".into(),
                },
            ),
            event(
                5,
                5,
                Role::Leader,
                CaseEventKind::LeaderAssigned {
                    leader: "赵书记".into(),
                },
            ),
            event(
                6,
                6,
                Role::GridWorker,
                CaseEventKind::ReferredToMediation {
                    mediation: Some(id(3)),
                },
            ),
            event(
                7,
                7,
                Role::Mediator,
                CaseEventKind::Resolved { at: Level::Street },
            ),
            event(8, 8, Role::GridWorker, CaseEventKind::FollowUpVisit),
        ],
    }
}

pub(super) fn mediation() -> Mediation {
    Mediation {
        id: id(3),
        territory: grid(),
        created_by: UserRef::new("u-med-1", "陈调解"),
        created_at: time(11),
        case: Some(id(2)),
        body_level: Level::Community,
        mediator: UserRef::new("u-med-1", "陈调解"),
        legal_worker: Some(UserRef::new("u-law-1", "孙律师")),
        parties: vec![party("王秀英"), party("李建国")],
        sessions: vec![MediationSession {
            id: "s1".into(),
            date: day("2022-10-14"),
            place: "社区调解室".into(),
            attendees: vec!["王秀英".into(), "李建国".into()],
            notes: "双方同意共同维修。".into(),
        }],
        outcome: Some(MediationOutcome::Partial),
        agreement: "楼上负责维修，赔偿另议。".into(),
        handoff: Some(Channel::Litigation),
        follow_up: Some(day("2022-10-30")),
        backlog_petition: false,
    }
}

pub(super) fn reception() -> ReceptionSession {
    ReceptionSession {
        id: id(4),
        territory: TerritoryPath {
            street: "370214001".into(),
            ..Default::default()
        },
        created_by: UserRef::new("u-st-1", "周干部"),
        created_at: time(9),
        leader: UserRef::new("u-lead-1", "赵书记"),
        level: ReceptionLevel::Street,
        site: "城阳街道接访大厅".into(),
        date: day("2022-10-14"),
        named_by_public: true,
        visits: vec![
            Visit {
                id: "v1".into(),
                persons: 1,
                summary: "咨询拆迁补偿".into(),
                case: None,
            },
            Visit {
                id: "v2".into(),
                persons: 3,
                summary: "反映物业问题".into(),
                case: Some(id(2)),
            },
        ],
    }
}

pub(super) fn petition() -> Petition {
    let received_on = day("2022-10-01");
    let mut steps = Petition::standard_steps(received_on);
    steps[0].done_on = Some(day("2022-10-02"));
    Petition {
        id: id(5),
        territory: grid(),
        created_by: UserRef::new("u-st-1", "周干部"),
        created_at: time(9),
        channel: PetitionChannel::App,
        received_on,
        first: true,
        petitioners: vec![party("王秀英")],
        persons: 1,
        subject: "小区噪音扰民".into(),
        description: "夜间施工噪音。".into(),
        case: Some(id(2)),
        steps,
    }
}

pub(super) fn draft() -> Draft {
    Draft {
        id: id(6),
        territory: grid(),
        created_by: worker(),
        created_at: time(12),
        form: "case".into(),
        data: serde_json::json!({"title": "未完成", "persons_involved": 3}),
    }
}

pub(super) fn all_records() -> Vec<Record> {
    vec![
        Record::Patrol(patrol()),
        Record::Case(case()),
        Record::Mediation(mediation()),
        Record::Reception(reception()),
        Record::Petition(petition()),
        Record::Draft(draft()),
    ]
}
