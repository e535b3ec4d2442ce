//! The supervisor's report over a district-sized device store: 200,000 records of a year
//! (patrols, cases, petitions, mediations, reception sessions) spread over Chengyang's 4,947
//! grids.
//!
//! The store is a real SQLite file made by `Store::init`; its `record_facts` rows are the
//! ones the store writes for each record (`Facts::from_record` + `insert_facts`, the calls
//! `write_row` makes), loaded in one transaction so the set-up takes seconds rather than the
//! minutes 200,000 Automerge documents would. The report reads only that table.
//!
//! Prints the time of `Store::report` (district, one month) before criterion's own figures.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, TimeZone, Utc};
use criterion::Criterion;
use gridwork_core::report::db::{insert_facts, mark_current};
use gridwork_core::report::facts::day_start_ms;
use gridwork_core::report::{Facts, ReportParams};
use gridwork_core::store::{DB_FILE, Store};
use gridwork_schema::territory::Territory;
use gridwork_schema::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const RECORDS: usize = 200_000;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

fn hlc(day: NaiveDate, rng: &mut ChaCha8Rng) -> Hlc {
    Hlc::new(
        day_start_ms(day) + rng.random_range(8..18) * 3_600_000,
        0,
        "bench",
    )
}

fn event(day: NaiveDate, kind: CaseEventKind, rng: &mut ChaCha8Rng) -> CaseEvent {
    CaseEvent {
        id: format!("{:032x}", rng.random::<u128>()),
        at: hlc(day, rng),
        by: UserRef::new("u", "网格员"),
        role: Role::Supervisor,
        kind,
        note: String::new(),
    }
}

fn level(rng: &mut ChaCha8Rng) -> Level {
    match rng.random_range(0..100) {
        0..70 => Level::Community,
        70..92 => Level::Street,
        _ => Level::District,
    }
}

fn pick<T: Copy>(all: &[T], rng: &mut ChaCha8Rng) -> T {
    all[rng.random_range(0..all.len())]
}

fn record(grids: &[TerritoryPath], rng: &mut ChaCha8Rng) -> Record {
    let path = grids[rng.random_range(0..grids.len())].clone();
    let day = start() + Days::new(rng.random_range(0..338));
    let later = |rng: &mut ChaCha8Rng, max: u64| day + Days::new(rng.random_range(0..max));
    let created_at = Utc.timestamp_millis_opt(day_start_ms(day)).unwrap();
    let by = UserRef::new("u", "网格员");
    let id = RecordId::new_v7();
    match rng.random_range(0..100) {
        0..45 => Record::Patrol(Patrol {
            id,
            territory: path,
            created_by: by.clone(),
            created_at,
            kind: pick(PatrolKind::ALL, rng),
            worker: by,
            started_at: created_at,
            ..Patrol::default()
        }),
        45..70 => {
            use CaseEventKind as K;
            let mut events = vec![event(day, K::Raised, rng)];
            if rng.random_bool(0.1) {
                events.push(event(
                    later(rng, 5),
                    K::Escalated { to: Level::Street },
                    rng,
                ));
            }
            if rng.random_bool(0.05) {
                events.push(event(later(rng, 5), K::WhistleBlown, rng));
                for d in ["城管局", "住建局", "人社局"]
                    .iter()
                    .take(rng.random_range(1..4))
                {
                    let kind = K::DepartmentReported {
                        department: (*d).into(),
                        took_on: "处置".into(),
                    };
                    events.push(event(later(rng, 10), kind, rng));
                }
            }
            if rng.random_bool(0.8) {
                events.push(event(later(rng, 40), K::Resolved { at: level(rng) }, rng));
                if rng.random_bool(0.1) {
                    events.push(event(later(rng, 60), K::Reopened, rng));
                }
            }
            Record::Case(Case {
                id,
                territory: path,
                created_by: by,
                created_at,
                category: pick(Category::ALL, rng),
                title: "纠纷".into(),
                persons_involved: rng.random_range(1..700),
                events,
                ..Case::default()
            })
        }
        70..80 => {
            let first = rng.random_bool(0.4);
            let mut steps = if first {
                Petition::standard_steps(day)
            } else {
                Vec::new()
            };
            for s in &mut steps {
                if rng.random_bool(0.7) {
                    s.done_on = Some(s.due - Days::new(rng.random_range(0..3)));
                }
            }
            Record::Petition(Petition {
                id,
                territory: path,
                created_by: by,
                created_at,
                channel: pick(PetitionChannel::ALL, rng),
                received_on: day,
                first,
                persons: rng.random_range(1..5),
                subject: "诉求".into(),
                steps,
                ..Petition::default()
            })
        }
        80..90 => {
            let outcome = rng
                .random_bool(0.85)
                .then(|| pick(MediationOutcome::ALL, rng));
            let handoff = outcome
                .filter(|o| o.may_hand_off())
                .map(|_| pick(Channel::ALL, rng));
            Record::Mediation(Mediation {
                id,
                territory: path,
                created_by: by.clone(),
                created_at,
                body_level: level(rng),
                mediator: by,
                outcome,
                handoff,
                backlog_petition: rng.random_bool(0.05),
                ..Mediation::default()
            })
        }
        _ => {
            let district = rng.random_bool(0.1);
            let leader = rng.random_range(0..300);
            Record::Reception(ReceptionSession {
                id,
                territory: TerritoryPath {
                    street: if district { String::new() } else { path.street },
                    ..TerritoryPath::default()
                },
                created_by: by,
                created_at,
                leader: UserRef::new(format!("leader{leader}"), format!("领导{leader}")),
                level: if district {
                    ReceptionLevel::District
                } else {
                    ReceptionLevel::Street
                },
                site: "接访大厅".into(),
                date: day,
                visits: (0..rng.random_range(0..4))
                    .map(|i| Visit {
                        id: format!("v{i}"),
                        persons: rng.random_range(1..4),
                        ..Visit::default()
                    })
                    .collect(),
                ..ReceptionSession::default()
            })
        }
    }
}

/// A device store holding the facts of [`RECORDS`] generated records.
fn district_store(dir: &std::path::Path) -> Store {
    drop(Store::init(dir).expect("init store"));
    let t = Territory::chengyang();
    let grids: Vec<TerritoryPath> = t.grids().filter_map(|g| t.path_of(&g.code)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(20_261_130);
    let mut conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("open db");
    // The facts rows stand alone here: no document rows for them to reference.
    conn.pragma_update(None, "foreign_keys", "OFF")
        .expect("pragma");
    let tx = conn.transaction().expect("begin");
    for _ in 0..RECORDS {
        let facts = Facts::from_record(&record(&grids, &mut rng)).expect("not a draft");
        insert_facts(&tx, &facts).expect("insert facts");
    }
    mark_current(&tx).expect("mark");
    tx.commit().expect("commit");
    drop(conn);
    let mut store = Store::open(dir).expect("open store");
    store.set_clock(|| Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).unwrap());
    store
}

fn median_ms(store: &Store, params: &ReportParams, runs: usize) -> (f64, f64) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t0 = Instant::now();
            let r = store.report(params).expect("report");
            let t = t0.elapsed();
            std::hint::black_box(r);
            t
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(times[runs / 2]), ms(times[0]))
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t0 = Instant::now();
    let store = district_store(dir.path());
    let loaded = t0.elapsed();
    let month = ReportParams::new("2026-11".parse().expect("period"));
    let year = ReportParams::new("2026-01-01..2026-12-31".parse().expect("period"));
    let street = month.clone().within("370214001");
    let r = store.report(&month).expect("report");
    println!(
        "report: {RECORDS} records' facts loaded in {:.1} s; November: {} cases found, {} resolved ({:.1}% at the grassroots), {} open, {} patrols",
        loaded.as_secs_f64(),
        r.overview.found.n,
        r.overview.resolved.n,
        r.overview.grassroots_share.unwrap_or_default() * 100.0,
        r.overview.open.n,
        r.patrols.total.n,
    );
    for (name, params) in [
        ("district, month 2026-11", &month),
        ("street 370214001, month 2026-11", &street),
        ("district, whole year 2026", &year),
    ] {
        let (median, min) = median_ms(&store, params, 15);
        println!(
            "report: {name}: median {median:.1} ms, min {min:.1} ms (Store::report, {RECORDS} records)"
        );
    }

    let mut c = Criterion::default().configure_from_args().sample_size(20);
    c.bench_function("report/district/month", |b| {
        b.iter(|| store.report(&month).expect("report"))
    });
    c.bench_function("report/district/year", |b| {
        b.iter(|| store.report(&year).expect("report"))
    });
    c.final_summary();
}
