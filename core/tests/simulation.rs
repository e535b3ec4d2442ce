//! A seeded multi-device simulation, in the manner of zed's randomized collaboration tests.
//!
//! Several devices (each a real store in its own folder) make random offline edits to shared
//! records and send each other changes — whole documents or increments after some earlier
//! heads — through a network that delays, reorders and duplicates them. At the end every
//! device exchanges everything with every other, and then all must hold identical documents
//! (heads), identical materialized rows and conflicts, and every edit that cannot be
//! overwritten (appended events and parties, inserted text) must be present everywhere.
//!
//! `GRIDWORK_SIM_SEEDS` and `GRIDWORK_SIM_STEPS` make a longer run, e.g.
//! `GRIDWORK_SIM_SEEDS=200 GRIDWORK_SIM_STEPS=2000 cargo test -p gridwork-core --release --test simulation`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, TimeZone, Utc};
use gridwork_core::doc::Author;
use gridwork_core::store::{ListFilter, Store};
use gridwork_schema::territory::Territory;
use gridwork_schema::*;
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;

struct Device {
    _dir: tempfile::TempDir,
    store: Store,
    user: UserRef,
}

/// A message in flight: a record's bytes from one device to another.
struct Message {
    to: usize,
    id: String,
    bytes: Vec<u8>,
    deliver_at: usize,
}

#[derive(Default)]
struct Expect {
    /// Event ids, party names and text tokens each record must end up with.
    events: BTreeMap<String, BTreeSet<String>>,
    parties: BTreeMap<String, BTreeSet<String>>,
    tokens: BTreeMap<String, BTreeSet<String>>,
    /// Every title ever written per record (the winner must be one of them).
    titles: BTreeMap<String, BTreeSet<String>>,
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn grids() -> Vec<TerritoryPath> {
    let t = Territory::chengyang();
    t.grids()
        .take(3)
        .map(|g| t.path_of(&g.code).unwrap())
        .collect()
}

fn author(d: &Device) -> Author {
    Author {
        user: d.user.id.clone(),
        name: d.user.name.clone(),
        device: d.store.identity().device_id.to_string(),
    }
}

fn edit(d: &mut Device, id: &str, f: impl FnOnce(&mut Case)) {
    let a = author(d);
    d.store
        .update(id, &a, |r| {
            match r {
                Record::Case(c) => {
                    f(c);
                    // Concurrent party additions can merge into more parties than persons
                    // counted; validation asks the editor to fix it, as a person would.
                    let parties = u32::try_from(c.parties.len()).unwrap();
                    c.persons_involved = c.persons_involved.max(parties);
                }
                _ => unreachable!("only cases are simulated"),
            }
            Ok::<_, ()>(())
        })
        .expect("store")
        .expect("edit");
}

fn run(seed: u64, steps: usize, devices_n: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
    let mut devices: Vec<Device> = (0..devices_n)
        .map(|i| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::init(dir.path()).unwrap();
            Device {
                _dir: dir,
                store,
                user: UserRef::new(format!("u{i}"), format!("网格员{i}")),
            }
        })
        .collect();
    let grids = grids();
    let mut ids: Vec<String> = Vec::new();
    let mut expect = Expect::default();
    let mut net: Vec<Message> = Vec::new();
    let mut token = 0u64;
    let mut last_sent: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    let mut incremental_sends = 0usize;
    let mut incomplete_merges = 0usize;

    for step in 0..steps {
        let now = start + Duration::minutes(i64::try_from(step).unwrap());
        // Devices' clocks drift: each is off by up to ±10 minutes.
        for (i, d) in devices.iter_mut().enumerate() {
            let skew = Duration::minutes(((seed as i64 + i as i64 * 7) % 21) - 10);
            let t = now + skew;
            d.store.set_clock(move || t);
        }
        let di = rng.random_range(0..devices.len());
        let roll = rng.random_range(0..100);
        let known: Vec<String> = ids
            .iter()
            .filter(|id| devices[di].store.row(id).is_ok())
            .cloned()
            .collect();
        if known.is_empty() || roll < 6 {
            // Create a case.
            let d = &mut devices[di];
            let hlc = d.store.next_hlc().unwrap();
            let case = Case {
                id: RecordId::new_v7(),
                territory: grids[rng.random_range(0..grids.len())].clone(),
                created_by: d.user.clone(),
                created_at: d.store.now(),
                title: format!("案件{step}"),
                description: "第一句。第二句。第三句。".into(),
                parties: vec![Party {
                    name: format!("当事人{step}"),
                    ..Party::default()
                }],
                persons_involved: 5,
                events: vec![CaseEvent {
                    id: uuid::Uuid::now_v7().to_string(),
                    at: hlc,
                    by: d.user.clone(),
                    role: Role::GridWorker,
                    kind: CaseEventKind::Raised,
                    note: String::new(),
                }],
                ..Case::default()
            };
            let id = case.id.to_string();
            expect
                .events
                .entry(id.clone())
                .or_default()
                .insert(case.events[0].id.clone());
            expect
                .parties
                .entry(id.clone())
                .or_default()
                .insert(case.parties[0].name.clone());
            expect
                .titles
                .entry(id.clone())
                .or_default()
                .insert(case.title.clone());
            d.store.create(&Record::Case(case), &author(d)).unwrap();
            ids.push(id);
            continue;
        }
        let id = known[rng.random_range(0..known.len())].clone();
        match roll {
            6..=20 => {
                let title = format!("标题{step}");
                expect
                    .titles
                    .entry(id.clone())
                    .or_default()
                    .insert(title.clone());
                edit(&mut devices[di], &id, |c| c.title = title);
            }
            21..=30 => {
                let risk =
                    [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High][rng.random_range(0..3)];
                edit(&mut devices[di], &id, |c| c.risk = risk);
            }
            31..=45 => {
                // Insert a unique token somewhere in the description.
                token += 1;
                let tok = format!("〔{seed}-{token}〕");
                expect
                    .tokens
                    .entry(id.clone())
                    .or_default()
                    .insert(tok.clone());
                let pick = rng.random_range(0..1000usize);
                edit(&mut devices[di], &id, |c| {
                    let chars: Vec<char> = c.description.chars().collect();
                    // Insert between sentences or tokens, never inside a token.
                    let spots: Vec<usize> = (0..=chars.len())
                        .filter(|&i| i == 0 || matches!(chars[i - 1], '。' | '〕'))
                        .collect();
                    let at = spots[pick % spots.len()];
                    let mut s: String = chars[..at].iter().collect();
                    s.push_str(&tok);
                    s.extend(&chars[at..]);
                    c.description = s;
                });
            }
            46..=60 => {
                let d = &mut devices[di];
                let hlc = d.store.next_hlc().unwrap();
                let kind = match rng.random_range(0..4) {
                    0 => CaseEventKind::Alerted,
                    1 => CaseEventKind::ReferredToMediation { mediation: None },
                    2 => CaseEventKind::FollowUpVisit,
                    _ => CaseEventKind::Resolved {
                        at: Level::Community,
                    },
                };
                let ev = CaseEvent {
                    id: uuid::Uuid::now_v7().to_string(),
                    at: hlc,
                    by: d.user.clone(),
                    role: Role::GridWorker,
                    kind,
                    note: format!("备注{step}"),
                };
                expect
                    .events
                    .entry(id.clone())
                    .or_default()
                    .insert(ev.id.clone());
                edit(d, &id, |c| c.events.push(ev));
            }
            61..=65 => {
                let name = format!("新当事人{step}");
                expect
                    .parties
                    .entry(id.clone())
                    .or_default()
                    .insert(name.clone());
                edit(&mut devices[di], &id, |c| {
                    c.parties.push(Party {
                        name,
                        ..Party::default()
                    });
                    c.persons_involved = c
                        .persons_involved
                        .max(u32::try_from(c.parties.len()).unwrap());
                });
            }
            66..=95 => {
                // Send: the whole document, or the changes after the recipient's heads as
                // they were some time ago (may lack dependencies on arrival).
                let to = (di + rng.random_range(1..devices.len())) % devices.len();
                let mode = rng.random_range(0..10);
                let bytes = if mode < 3 || devices[to].store.row(&id).is_err() {
                    devices[di].store.saved_doc(&id).unwrap()
                } else if mode < 7 {
                    let heads = devices[to].store.heads(&id).unwrap();
                    devices[di].store.changes_since(&id, &heads).unwrap()
                } else {
                    // Only what changed since this device last sent the record to anyone:
                    // a recipient that missed that message lacks the dependencies.
                    let since = last_sent
                        .get(&(di, id.clone()))
                        .cloned()
                        .unwrap_or_default();
                    devices[di].store.changes_since(&id, &since).unwrap()
                };
                last_sent.insert((di, id.clone()), devices[di].store.heads(&id).unwrap());
                if !bytes.is_empty() && mode >= 7 {
                    incremental_sends += 1;
                }
                let delay = rng.random_range(0..20);
                let copies = if rng.random_bool(0.15) { 2 } else { 1 };
                for c in 0..copies {
                    net.push(Message {
                        to,
                        id: id.clone(),
                        bytes: bytes.clone(),
                        deliver_at: step + delay + c * 3,
                    });
                }
            }
            _ => {
                // Settle a conflict if there is one.
                let d = &mut devices[di];
                if let Some(c) = d.store.conflicts(&id).unwrap().into_iter().next() {
                    let value = c.values[rng.random_range(0..c.values.len())].value.clone();
                    let a = author(d);
                    if d.store.set_field(&id, &c.path, &value, &a).is_ok()
                        && let Some(t) = value.as_str()
                        && c.path.to_string() == "title"
                    {
                        expect
                            .titles
                            .entry(id.clone())
                            .or_default()
                            .insert(t.to_owned());
                    }
                }
            }
        }
        // Deliver what is due, in random order.
        net.shuffle(&mut rng);
        let (due, later): (Vec<_>, Vec<_>) = net.into_iter().partition(|m| m.deliver_at <= step);
        net = later;
        for m in due {
            let out = devices[m.to]
                .store
                .merge(&m.id, "case", &m.bytes, false)
                .unwrap();
            incomplete_merges += usize::from(out.incomplete);
        }
    }
    // Drain the network, then anti-entropy: everyone sends everything whole to everyone.
    for m in net.drain(..) {
        devices[m.to]
            .store
            .merge(&m.id, "case", &m.bytes, false)
            .unwrap();
    }
    for _round in 0..2 {
        for from in 0..devices.len() {
            let file = devices[from].store.export_changes().unwrap();
            for (to, d) in devices.iter_mut().enumerate() {
                if to != from {
                    d.store.import_changes(&file).unwrap();
                }
            }
        }
    }

    // The run must have exercised changes arriving before their dependencies.
    if steps >= 200 {
        assert!(
            incremental_sends > 0 && incomplete_merges > 0,
            "seed {seed}: {incremental_sends} incremental sends, {incomplete_merges} incomplete merges"
        );
    }
    // Every device holds the same documents and the same rows.
    let reference_rows = rows(&devices[0].store);
    assert_eq!(
        reference_rows.len(),
        ids.len(),
        "seed {seed}: records missing"
    );
    for (i, d) in devices.iter_mut().enumerate().skip(1) {
        assert_eq!(
            rows(&d.store),
            reference_rows,
            "seed {seed}: device {i}'s rows differ"
        );
    }
    for id in &ids {
        let heads0 = devices[0].store.heads(id).unwrap();
        let value0 = devices[0].store.get_value(id).unwrap();
        let conflicts0 = devices[0].store.conflicts(id).unwrap();
        for (i, d) in devices.iter_mut().enumerate().skip(1) {
            assert_eq!(
                d.store.heads(id).unwrap(),
                heads0,
                "seed {seed}: heads of {id} on {i}"
            );
            assert_eq!(
                d.store.get_value(id).unwrap(),
                value0,
                "seed {seed}: value of {id} on {i}"
            );
            assert_eq!(
                d.store.conflicts(id).unwrap(),
                conflicts0,
                "seed {seed}: conflicts of {id} on {i}"
            );
        }
        // No edit lost.
        let Record::Case(case) = devices[0].store.get(id).unwrap() else {
            unreachable!()
        };
        let events: BTreeSet<String> = case.events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(&events, &expect.events[id], "seed {seed}: events of {id}");
        let parties: BTreeSet<String> = case.parties.iter().map(|p| p.name.clone()).collect();
        assert_eq!(
            &parties, &expect.parties[id],
            "seed {seed}: parties of {id}"
        );
        for tok in expect.tokens.get(id).into_iter().flatten() {
            assert!(
                case.description.contains(tok.as_str()),
                "seed {seed}: token {tok} lost from {id}: {} / expected {:?}",
                case.description,
                expect.tokens.get(id)
            );
        }
        assert!(
            expect.titles[id].contains(&case.title),
            "seed {seed}: title of {id} never written"
        );
        // The derived state is the same as derivation from scratch.
        let row = devices[0].store.row(id).unwrap();
        assert_eq!(
            row.summary.status,
            serde_json::to_value(case.state().status)
                .unwrap()
                .as_str()
                .unwrap()
        );
    }
    // A store reopened from disk holds the same as its cached view.
    let dir = devices[1].store.dir().to_path_buf();
    let mut reopened = Store::open(&dir).unwrap();
    for id in &ids {
        assert_eq!(
            reopened.heads(id).unwrap(),
            devices[1].store.heads(id).unwrap(),
            "seed {seed}: reopened heads"
        );
    }
}

fn rows(store: &Store) -> Vec<(String, String, String, u32, i64)> {
    let mut rows: Vec<_> = store
        .list(&ListFilter {
            limit: Some(100_000),
            ..ListFilter::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.summary.id.clone(),
                serde_json::to_string(&r.summary).unwrap(),
                r.summary.status.clone(),
                r.conflicts,
                r.updated_ms,
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn devices_converge_under_random_offline_edits() {
    let seeds = env_usize("GRIDWORK_SIM_SEEDS", 8);
    let steps = env_usize("GRIDWORK_SIM_STEPS", 400);
    for seed in 0..seeds as u64 {
        run(seed, steps, 3 + (seed as usize % 2));
    }
}
