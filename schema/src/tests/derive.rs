//! Case derivation depends on the set of events only, never on their order.

use proptest::prelude::*;
use proptest::sample::select;

use crate::*;

fn level() -> impl Strategy<Value = Level> {
    select(Level::ALL.to_vec())
}

fn kind() -> impl Strategy<Value = CaseEventKind> {
    prop_oneof![
        Just(CaseEventKind::Raised),
        Just(CaseEventKind::Alerted),
        level().prop_map(|to| CaseEventKind::Escalated { to }),
        level().prop_map(|to| CaseEventKind::SentBack { to }),
        Just(CaseEventKind::WhistleBlown),
        (
            select(vec!["住建局", "城管局", "公安分局"]),
            select(vec!["", "勘查", "执法"])
        )
            .prop_map(|(d, t)| CaseEventKind::DepartmentReported {
                department: d.into(),
                took_on: t.into(),
            }),
        select(vec!["赵", "钱"]).prop_map(|l| CaseEventKind::LeaderAssigned { leader: l.into() }),
        proptest::option::of(0u8..3).prop_map(|m| CaseEventKind::ReferredToMediation {
            mediation: m.map(|n| RecordId::from_parts(1, [n; 10])),
        }),
        level().prop_map(|at| CaseEventKind::Resolved { at }),
        select(Channel::ALL.to_vec()).prop_map(|channel| CaseEventKind::HandedOff { channel }),
        Just(CaseEventKind::FollowUpVisit),
        Just(CaseEventKind::Reopened),
        Just(CaseEventKind::Unknown),
    ]
}

fn event() -> impl Strategy<Value = CaseEvent> {
    // Small ranges make equal stamps and equal ids common, so tie-breaking is exercised.
    (
        0i64..12,
        0u32..3,
        select(vec!["a", "b"]),
        0u8..12,
        select(Role::ALL.to_vec()),
        kind(),
    )
        .prop_map(|(ms, counter, node, n, role, kind)| CaseEvent {
            id: format!("00000000-0000-7000-8000-0000000000{n:02}"),
            at: Hlc::new(ms, counter, node),
            by: UserRef::new("u", "n"),
            role,
            kind,
            note: String::new(),
        })
}

/// Events plus some exact duplicates (the same change arriving twice), and a shuffle of them.
fn events_and_shuffle() -> impl Strategy<Value = (Vec<CaseEvent>, Vec<CaseEvent>)> {
    (proptest::collection::vec(event(), 0..40), 0usize..5).prop_flat_map(|(mut events, dups)| {
        let extra: Vec<CaseEvent> = events.iter().take(dups).cloned().collect();
        events.extend(extra);
        (Just(events.clone()), Just(events).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn derive_is_order_independent((events, shuffled) in events_and_shuffle()) {
        let a = CaseState::derive(&events);
        let b = CaseState::derive(&shuffled);
        prop_assert_eq!(&a, &b);
        let mut reversed = events.clone();
        reversed.reverse();
        prop_assert_eq!(&a, &CaseState::derive(&reversed));
    }

    #[test]
    fn derived_state_is_consistent((events, _) in events_and_shuffle()) {
        let s = CaseState::derive(&events);
        prop_assert_eq!(s.resolved_at.is_some(), s.status == CaseStatus::Resolved);
        prop_assert_eq!(s.handed_off.is_some(), s.status == CaseStatus::HandedOff);
        prop_assert_eq!(s.in_mediation, s.status == CaseStatus::InMediation);
        if let Some(at) = s.resolved_at {
            prop_assert_eq!(s.level, at);
        }
        prop_assert_eq!(s.last_event_at.clone(), events.iter().map(|e| e.at.clone()).max());
        prop_assert_eq!(s.first_event_at.clone(), events.iter().map(|e| e.at.clone()).min());
    }
}

#[test]
fn reopening_a_resolved_case_clears_its_resolution_level() {
    let e = |ms, n: u8, kind| CaseEvent {
        id: format!("00000000-0000-7000-8000-0000000000{n:02}"),
        at: Hlc::new(ms, 0, "a"),
        by: UserRef::new("u", "n"),
        role: Role::Supervisor,
        kind,
        note: String::new(),
    };
    let mut events = vec![
        e(3, 3, CaseEventKind::Reopened),
        e(1, 1, CaseEventKind::Raised),
        e(
            2,
            2,
            CaseEventKind::Resolved {
                at: Level::Community,
            },
        ),
    ];
    let s = CaseState::derive(&events);
    assert_eq!(s.status, CaseStatus::Open);
    assert_eq!(s.resolved_at, None);
    assert_eq!(s.reopened_count, 1);
    events.push(e(4, 4, CaseEventKind::Escalated { to: Level::Street }));
    events.push(e(5, 5, CaseEventKind::Resolved { at: Level::Street }));
    let s = CaseState::derive(&events);
    assert_eq!(
        (s.status, s.resolved_at),
        (CaseStatus::Resolved, Some(Level::Street))
    );
    // Same stamp, different ids: the id decides, wherever the events sit in the list.
    let tie = vec![
        e(9, 20, CaseEventKind::Reopened),
        e(
            9,
            10,
            CaseEventKind::Resolved {
                at: Level::District,
            },
        ),
    ];
    let s = CaseState::derive(&tie);
    assert_eq!(s.status, CaseStatus::Open, "id …10 sorts before …20");
}
