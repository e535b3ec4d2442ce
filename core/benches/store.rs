//! The device store against a plain SQLite JSON upsert, and list queries over a big store.
//!
//! `cargo bench -p gridwork-core --bench store` runs criterion's measurements, then prints a
//! side-by-side summary (own timing loops, so the figures sit in one table):
//!
//! - saving a case through [`Store::create`] / [`Store::update`] vs. serializing the same case
//!   and upserting it as JSON into `(id TEXT PRIMARY KEY, json TEXT)`, one transaction per
//!   record in both, same pragmas (WAL, `synchronous=NORMAL`); goal ≤ 3×;
//! - of that save, Automerge's work alone, with no disk (the document, or the edit, built and
//!   the bytes the store writes made), against the same plain upsert: the share no store
//!   design removes;
//! - list queries (by grid, by status, text search) over a store of 50,000 records (set
//!   `GRIDWORK_BENCH_RECORDS` for another size); goal < 20 ms each.
//!
//! Without `--bench` (as under `cargo test --benches`) it runs every routine once on a small
//! store, as a smoke test.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion};
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::report::db::FactsRow;
use gridwork_core::report::facts::Facts;
use gridwork_core::store::{DB_FILE, ListFilter, MergeItem, Store};
use gridwork_core::summary;
use gridwork_core::sync::machine::PULL_PAGE;
use gridwork_schema::territory::Territory;
use gridwork_schema::wire::Materialized;
use gridwork_schema::{
    Case, CaseEvent, CaseEventKind, CaseKind, Category, Hlc, Level, Party, Record, RecordId,
    RecordKind, RiskLevel, Role, TerritoryPath, UserRef,
};
use rusqlite::{Connection, params};

const WORDS: [&str; 8] = [
    "漏水", "噪音", "违建", "欠薪", "物业", "占道", "宠物", "装修",
];
const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: [&str; 10] = ["秀英", "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋"];

fn author() -> Author {
    Author {
        user: "grid".into(),
        name: "张伟".into(),
        device: "bench".into(),
    }
}

fn grids(n: usize) -> Vec<TerritoryPath> {
    let t = Territory::chengyang();
    t.grids()
        .take(n)
        .filter_map(|g| t.path_of(&g.code))
        .collect()
}

fn event(i: usize, ms: i64, kind: CaseEventKind, role: Role) -> CaseEvent {
    CaseEvent {
        id: uuid::Uuid::now_v7().to_string(),
        at: Hlc::new(ms, u32::try_from(i % 1000).unwrap_or(0), "bench"),
        by: UserRef::new("grid", "张伟"),
        role,
        kind,
        note: String::new(),
    }
}

/// A case like the tests build: three-sentence description, one party, a few events whose
/// mix gives the statuses open, in_mediation and resolved.
fn make_case(i: usize, territory: &TerritoryPath, now: DateTime<Utc>) -> Case {
    let word = WORDS[i % WORDS.len()];
    let ms = now.timestamp_millis();
    let mut events = vec![event(i, ms, CaseEventKind::Raised, Role::GridWorker)];
    match i % 4 {
        1 => events.push(event(
            i,
            ms + 1,
            CaseEventKind::ReferredToMediation { mediation: None },
            Role::GridWorker,
        )),
        2 => events.push(event(
            i,
            ms + 1,
            CaseEventKind::Resolved {
                at: Level::Community,
            },
            Role::GridWorker,
        )),
        3 => events.push(event(
            i,
            ms + 1,
            CaseEventKind::Escalated { to: Level::Street },
            Role::StreetOfficer,
        )),
        _ => {}
    }
    Case {
        id: RecordId::new_v7(),
        territory: territory.clone(),
        created_by: UserRef::new("grid", "张伟"),
        created_at: now,
        kind: CaseKind::Dispute,
        category: Category::Neighbourhood,
        title: format!("{word}纠纷 {i}"),
        description: format!(
            "第{i}号：三楼{word}问题已持续两周。二楼住户要求处理并赔偿。物业表示将派人查看。"
        ),
        parties: vec![Party {
            name: format!("{}{}{}", SURNAMES[i % 10], GIVEN[(i / 10) % 10], i / 100),
            phone: format!("138{:08}", i % 100_000_000),
            ..Party::default()
        }],
        persons_involved: 2,
        risk: RiskLevel::Low,
        events,
        ..Case::default()
    }
}

/// The plain baseline: a JSON document per id, upserted.
struct Plain {
    conn: Connection,
}

impl Plain {
    fn open(path: &Path) -> Plain {
        let conn = Connection::open(path).expect("open plain db");
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("WAL");
        conn.pragma_update(None, "synchronous", "NORMAL")
            .expect("synchronous");
        conn.execute_batch("CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, json TEXT)")
            .expect("table");
        Plain { conn }
    }

    fn save(&mut self, case: &Case) {
        let json = serde_json::to_string(&Record::Case(case.clone())).expect("json");
        let tx = self.conn.transaction().expect("tx");
        tx.prepare_cached(
            "INSERT INTO records (id, json) VALUES (?1, ?2)
             ON CONFLICT(id) DO UPDATE SET json = excluded.json",
        )
        .expect("prepare")
        .execute(params![case.id.to_string(), json])
        .expect("upsert");
        tx.commit().expect("commit");
    }

    /// An edit of a record it does not hold: read the JSON, parse, edit, write.
    fn read_edit_save(&mut self, id: &str, n: usize, now: DateTime<Utc>) {
        let json: String = self
            .conn
            .prepare_cached("SELECT json FROM records WHERE id = ?1")
            .expect("select")
            .query_row([id], |r| r.get(0))
            .expect("row");
        let Record::Case(mut case) = serde_json::from_str(&json).expect("parse") else {
            panic!("not a case");
        };
        edit_case(&mut case, n, now);
        self.save(&case);
    }
}

/// How many records the update benchmarks edit in turn.
const POOL: usize = 2000;

/// The edit both sides make: one more event and a new title.
fn edit_case(case: &mut Case, n: usize, now: DateTime<Utc>) {
    case.events.push(event(
        n,
        now.timestamp_millis() + 10 + i64::try_from(n).unwrap_or(0),
        CaseEventKind::FollowUpVisit,
        Role::GridWorker,
    ));
    case.title = format!("漏水纠纷 第{n}次回访");
}

fn edit_core(store: &mut Store, id: &str, n: usize, now: DateTime<Utc>, author: &Author) {
    store
        .update(id, author, |r| {
            if let Record::Case(c) = r {
                edit_case(c, n, now);
            }
            Ok::<_, ()>(())
        })
        .expect("update")
        .expect("edit");
}

fn store_in(dir: &Path) -> Store {
    let mut store = Store::init(dir).expect("store");
    // The bench's grids are real; validation still runs on every save.
    store.set_territory(Some(Territory::chengyang()));
    store
}

/// Mean time per call of `f` over `n` calls.
fn mean(n: usize, mut f: impl FnMut(usize)) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    start.elapsed() / u32::try_from(n).unwrap_or(1)
}

/// Median time of `n` runs of `f`.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn bench_save(c: &mut Criterion, grid: &TerritoryPath) {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = store_in(dir.path());
    let mut plain = Plain::open(&dir.path().join("plain.db"));
    let now = Utc::now();
    let author = author();
    let mut g = c.benchmark_group("save_case");
    let mut i = 0;
    g.bench_function("core_store_create", |b| {
        b.iter_batched(
            || {
                i += 1;
                make_case(i, grid, now)
            },
            |case| {
                store.create(&Record::Case(case), &author).expect("create");
            },
            BatchSize::SmallInput,
        );
    });
    g.bench_function("plain_json_upsert_insert", |b| {
        b.iter_batched(
            || {
                i += 1;
                make_case(i, grid, now)
            },
            |case| plain.save(&case),
            BatchSize::SmallInput,
        );
    });
    // Editing existing records: one more event and a changed title, round-robin over a pool
    // (a record edited thousands of times would measure something else; see `growth`).
    let pool: Vec<Case> = (0..POOL).map(|k| make_case(k, grid, now)).collect();
    for case in &pool {
        store
            .create(&Record::Case(case.clone()), &author)
            .expect("create");
        plain.save(case);
    }
    let mut plain_pool = pool.clone();
    let mut n = 0usize;
    g.bench_function("core_store_update", |b| {
        b.iter(|| {
            n += 1;
            edit_core(&mut store, &pool[n % POOL].id.to_string(), n, now, &author);
        });
    });
    g.bench_function("plain_json_upsert_update", |b| {
        b.iter(|| {
            n += 1;
            let case = &mut plain_pool[n % POOL];
            edit_case(case, n, now);
            plain.save(case);
        });
    });
    g.finish();
}

/// Builds a store of `n` cases over 500 grids, in one loop (each its own transaction, as a
/// device would have written them).
fn build_big(dir: &Path, n: usize, grids: &[TerritoryPath]) -> Duration {
    let mut store = store_in(dir);
    let author = author();
    let start = Instant::now();
    let base = Utc::now() - chrono::Duration::days(400);
    for i in 0..n {
        let now = base + chrono::Duration::minutes(i64::try_from(i).unwrap_or(0));
        store.set_clock(move || now);
        let case = make_case(i, &grids[i % grids.len()], now);
        store.create(&Record::Case(case), &author).expect("create");
    }
    start.elapsed()
}

fn list_filters(grid: &str) -> Vec<(&'static str, ListFilter)> {
    vec![
        (
            "by_grid",
            ListFilter {
                grid: Some(grid.to_owned()),
                ..ListFilter::default()
            },
        ),
        (
            "by_status",
            ListFilter {
                status: Some("in_mediation".into()),
                ..ListFilter::default()
            },
        ),
        (
            "text_common",
            ListFilter {
                text: Some("欠薪".into()),
                ..ListFilter::default()
            },
        ),
        (
            // Matches one record: the whole table is scanned.
            "text_rare",
            ListFilter {
                text: Some("王秀英3".into()),
                ..ListFilter::default()
            },
        ),
    ]
}

fn bench_list(c: &mut Criterion, store: &Store, n: usize, grid: &str) {
    let mut g = c.benchmark_group(format!("list_{n}"));
    for (name, filter) in list_filters(grid) {
        g.bench_function(name, |b| {
            b.iter(|| black_box(store.list(&filter).expect("list")));
        });
    }
    g.finish();
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

fn summary(n_records: usize, build: Duration, store: &Store, grid: &TerritoryPath, smoke: bool) {
    let reps = if smoke { 20 } else { 1000 };
    let dir = tempfile::tempdir().expect("dir");
    let mut core = store_in(dir.path());
    let mut plain = Plain::open(&dir.path().join("plain.db"));
    let now = Utc::now();
    let author = author();
    let cases: Vec<Case> = (0..reps).map(|i| make_case(i, grid, now)).collect();
    // Interleave warm-up, then measure each side over the same records.
    let core_create = mean(reps, |i| {
        core.create(&Record::Case(cases[i].clone()), &author)
            .expect("create");
    });
    let plain_insert = mean(reps, |i| plain.save(&cases[i]));
    // Edits of records in memory: the app reads a record (its screen) before it edits it,
    // and the plain side edits the case it holds. Round-robin over the newest records, as
    // many as the store keeps in memory.
    let warm = reps.min(200);
    let mut edited = cases.clone();
    let core_update = mean(reps, |i| {
        let k = reps - warm + i % warm;
        edit_core(&mut core, &cases[k].id.to_string(), reps + i, now, &author);
    });
    let plain_update = mean(reps, |i| {
        let k = reps - warm + i % warm;
        edit_case(&mut edited[k], reps + i, now);
        plain.save(&edited[k]);
    });
    // Edits of records on disk only (as the `gridwork` command makes them, one process per
    // edit): the core loads the document, the plain side reads and parses the JSON.
    let mut core = Store::open(dir.path()).expect("reopen");
    core.set_territory(Some(Territory::chengyang()));
    let core_cold = mean(reps, |i| {
        let k = (i * 7) % reps;
        edit_core(
            &mut core,
            &cases[k].id.to_string(),
            2 * reps + i,
            now,
            &author,
        );
    });
    let plain_cold = mean(reps, |i| {
        let k = (i * 7) % reps;
        plain.read_edit_save(&cases[k].id.to_string(), 2 * reps + i, now);
    });
    // The Automerge share of a save, with no disk at all: building the document (or the
    // edit's change) and the bytes the store writes (the document saved, or the change).
    let text_keys = RecordKind::Case.text_fields();
    let values: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| serde_json::to_value(Record::Case(c.clone())).expect("json"))
        .collect();
    let actor = [7u8; 16];
    let mut docs = Vec::with_capacity(reps);
    let doc_create = mean(reps, |i| {
        let mut d = RecordDoc::create(&actor, &values[i], text_keys, &author, 0).expect("doc");
        black_box(d.save_uncompressed());
        docs.push(d);
    });
    // The same edits as the store's in memory, as values before and after, worked out first.
    let mut current = cases.clone();
    let edits: Vec<(usize, serde_json::Value, serde_json::Value)> = (0..reps)
        .map(|i| {
            let k = reps - warm + i % warm;
            let old = serde_json::to_value(Record::Case(current[k].clone())).expect("json");
            edit_case(&mut current[k], 3 * reps + i, now);
            let new = serde_json::to_value(Record::Case(current[k].clone())).expect("json");
            (k, old, new)
        })
        .collect();
    let doc_update = mean(reps, |i| {
        let (k, old, new) = &edits[i];
        let d = &mut docs[*k];
        let before = d.heads();
        d.update(old, new, text_keys, &author, 1).expect("update");
        black_box(d.changes_after(&before));
    });
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let runs = if smoke { 3 } else { 50 };

    println!();
    println!("== gridwork store bench summary ==");
    println!("save a case, one transaction per record ({reps} records, mean):");
    let line = |what: &str, core: Duration, plain: Duration, note: &str| {
        println!(
            "  {what:<13} core {:>10}   plain JSON upsert {:>10}   ratio core/plain {:>5.2}x  (goal <= 3x{note})",
            fmt(core),
            fmt(plain),
            ratio(core, plain)
        );
    };
    line("create:", core_create, plain_insert, "");
    line(
        "update:",
        core_update,
        plain_update,
        &format!("; {reps} edits over {warm} records in memory"),
    );
    line(
        "update, cold:",
        core_cold,
        plain_cold,
        &format!("; each of {reps} records read from disk, edited once"),
    );
    println!(
        "  of which Automerge alone (the document or its edit built, and its bytes; no disk):"
    );
    println!(
        "    create {:>10} = {:.2}x the plain upsert; update {:>10} = {:.2}x",
        fmt(doc_create),
        ratio(doc_create, plain_insert),
        fmt(doc_update),
        ratio(doc_update, plain_update)
    );
    // A save also writes its bytes, row and facts in a transaction, which costs at least
    // what the plain upsert's one row does.
    println!(
        "    lower bound of a save (that, plus a transaction no dearer than the plain upsert): create {:.2}x, update {:.2}x",
        1.0 + ratio(doc_create, plain_insert),
        1.0 + ratio(doc_update, plain_update)
    );
    println!(
        "list queries over {n_records} records (built in {:.1} s; default limit 200; median of {runs}):",
        build.as_secs_f64()
    );
    for (name, filter) in list_filters(&grid.grid) {
        let mut rows = 0;
        let t = median(runs, || {
            rows = store.list(&filter).expect("list").len();
        });
        let verdict = if t < Duration::from_millis(20) {
            "ok"
        } else {
            "OVER GOAL"
        };
        println!(
            "  {name:<12} {:>10}  ({rows} rows)  goal < 20 ms: {verdict}",
            fmt(t)
        );
    }
}

/// Creates `n` cases in `grid`; their ids.
fn create_pool(
    store: &mut Store,
    n: usize,
    grid: &TerritoryPath,
    now: DateTime<Utc>,
    author: &Author,
) -> Vec<String> {
    (0..n)
        .map(|i| {
            let c = make_case(i, grid, now);
            store
                .create(&Record::Case(c.clone()), author)
                .expect("create");
            c.id.to_string()
        })
        .collect()
}

/// `GRIDWORK_BENCH_PROFILE=create|update|warm|cold|growth|text|pull|pull-values`: a plain loop of one operation, to run
/// under a profiler (`perf record`), or (`growth`) the cost of an edit as a record grows.
/// `pull` merges `GRIDWORK_BENCH_RECORDS` documents (3,000 unless set) in three ways;
/// `pull-values` only as a first pull gets them, with the server's values.
fn profile(mode: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = store_in(dir.path());
    let grids = grids(500);
    let now = Utc::now();
    let author = author();
    match mode {
        "create" => {
            let t = mean(5000, |i| {
                store
                    .create(&Record::Case(make_case(i, &grids[0], now)), &author)
                    .expect("create");
            });
            println!("create: {}", fmt(t));
        }
        "update" | "warm" => {
            // `warm`: as many records as the store keeps in memory.
            let n = if mode == "warm" { 200 } else { POOL };
            let pool = create_pool(&mut store, n, &grids[0], now, &author);
            let t = mean(5000, |i| {
                edit_core(&mut store, &pool[i % n], i, now, &author)
            });
            println!("{mode}: {}", fmt(t));
        }
        "cold" => {
            // Each edit of a record the store does not hold in memory (reopened).
            let pool = create_pool(&mut store, POOL, &grids[0], now, &author);
            drop(store);
            let mut store = Store::open(dir.path()).expect("reopen");
            store.set_territory(Some(Territory::chengyang()));
            let t = mean(POOL, |i| edit_core(&mut store, &pool[i], i, now, &author));
            println!("cold: {}", fmt(t));
        }
        "growth" => {
            let c = make_case(0, &grids[0], now);
            let id = c.id.to_string();
            store.create(&Record::Case(c), &author).expect("create");
            let mut edits = 0;
            for target in [10, 25, 50, 100, 200] {
                let mut last = Duration::ZERO;
                while edits < target {
                    edits += 1;
                    let t = Instant::now();
                    edit_core(&mut store, &id, edits, now, &author);
                    last = t.elapsed();
                }
                println!("update after {edits} edits: {}", fmt(last));
            }
        }
        "text" => {
            let n = 50_000;
            build_big(dir.path().join("big").as_path(), n, &grids);
            let big = Store::open(&dir.path().join("big")).expect("open");
            let filter = &list_filters(&grids[1].grid)[3].1;
            let t = median(20, || {
                black_box(big.list(filter).expect("list"));
            });
            println!("text_rare over {n}: {}", fmt(t));
            // The same scan with SQLite's `LIKE`, which the store's `contains` replaced.
            let conn = Connection::open(dir.path().join("big").join("gridwork.db")).expect("db");
            let needle = filter.text.clone().unwrap_or_default();
            let mut stmt = conn
                .prepare(
                    "SELECT id FROM records WHERE search LIKE ?1
                     ORDER BY updated_ms DESC, id DESC LIMIT 200",
                )
                .expect("prepare");
            let t = median(20, || {
                black_box(
                    stmt.query_map([format!("%{needle}%")], |r| r.get::<_, String>(0))
                        .expect("query")
                        .count(),
                );
            });
            println!("text_rare with LIKE instead: {}", fmt(t));
        }
        "pull" | "pull-values" => {
            // A cold pull: whole documents from elsewhere merged into a store that has none.
            let n: usize = std::env::var("GRIDWORK_BENCH_RECORDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(3000);
            let items: Vec<(String, Vec<u8>)> = (0..n)
                .map(|i| {
                    let c = make_case(i, &grids[i % grids.len()], now);
                    let id = c.id.to_string();
                    store.create(&Record::Case(c), &author).expect("create");
                    let bytes = store.saved_doc(&id).expect("saved");
                    (id, bytes)
                })
                .collect();
            if mode == "pull" {
                cold_pull_without_values(&items);
            }
            // As a first pull gets them: each document with the value the server read from it
            // and the row it worked out (a device asks for one or the other).
            let materialized: Vec<Materialized> = items
                .iter()
                .map(|(id, bytes)| {
                    let mut d = RecordDoc::load(bytes, &[9; 16]).expect("load");
                    let value = d.to_value();
                    let record = summary::parse_record(&value).expect("a case");
                    let facts = Facts::from_record(&record).map(|f| FactsRow::of(id, &f));
                    let mut m = d.materialize(&value).expect("materialize");
                    m.row = summary::store_row(
                        &summary::summarize_record(&record),
                        facts.as_ref(),
                        summary::newest_event(Some(&record), &value),
                    );
                    m
                })
                .collect();
            // The records' share of it: reading them from the values' text.
            let texts: Vec<&str> = materialized
                .iter()
                .filter_map(|m| m.value.as_deref().map(|v| v.get()))
                .collect();
            let parse = |f: &dyn Fn(&str) -> Record| {
                let start = Instant::now();
                for t in &texts {
                    black_box(f(t));
                }
                start.elapsed() / u32::try_from(n).unwrap_or(1)
            };
            let tagged = parse(&|t| serde_json::from_str(t).expect("record"));
            let direct = parse(&|t| Record::from_json(t).expect("record"));
            println!(
                "reading a record from its value: {} (Record::from_json), {} (serde's tagged enum)",
                fmt(direct),
                fmt(tagged)
            );
            let values: Vec<Materialized> = materialized
                .iter()
                .map(|m| Materialized {
                    row: None,
                    ..m.clone()
                })
                .collect();
            cold_pull_materialized(&items, &values, "the server's values");
            let rows: Vec<Materialized> = materialized
                .into_iter()
                .map(|m| Materialized { value: None, ..m })
                .collect();
            cold_pull_materialized(&items, &rows, "the server's rows");
        }
        other => {
            eprintln!(
                "unknown profile mode {other:?}: create, update, warm, cold, growth, text, pull or pull-values"
            );
        }
    }
}

/// A first pull into an empty store of `items`, each with its `materialized`, in pages as the
/// sync client applies them; prints the rate.
fn cold_pull_materialized(items: &[(String, Vec<u8>)], materialized: &[Materialized], with: &str) {
    let n = items.len();
    let device = tempfile::tempdir().expect("dir");
    let mut fresh = store_in(device.path());
    let start = Instant::now();
    let per = PULL_PAGE as usize;
    fresh.defer_indexes_if_empty().expect("defer");
    let mut longest_log = 0;
    for (page, mats) in items.chunks(per).zip(materialized.chunks(per)) {
        let page: Vec<MergeItem<'_>> = page
            .iter()
            .zip(mats)
            .map(|((id, bytes), m)| MergeItem {
                id,
                kind: "case",
                bytes,
                materialized: Some(m),
            })
            .collect();
        fresh.merge_many(&page, true).expect("merge");
        let log =
            std::fs::metadata(device.path().join(format!("{DB_FILE}-wal"))).map_or(0, |m| m.len());
        longest_log = longest_log.max(log);
    }
    let rows_done = start.elapsed();
    fresh.build_indexes().expect("indexes");
    let t = start.elapsed();
    println!(
        "cold pull, pages of {per} with {with}: {}; the write-ahead log at most {:.1} MiB",
        rate(n, t),
        longest_log as f64 / (1024.0 * 1024.0)
    );
    println!(
        "  of which building the indexes at the end: {}",
        fmt(t - rows_done)
    );
}

/// The two older ways of a cold pull: whole documents loaded and merged, one by one and a
/// page at a time.
fn cold_pull_without_values(items: &[(String, Vec<u8>)]) {
    let n = items.len();
    let device = tempfile::tempdir().expect("dir");
    let mut fresh = store_in(device.path());
    let start = Instant::now();
    for (id, bytes) in items {
        fresh.merge(id, "case", bytes, true).expect("merge");
    }
    let t = start.elapsed();
    println!("cold pull, one merge per record: {}", rate(n, t));
    let device = tempfile::tempdir().expect("dir");
    let mut fresh = store_in(device.path());
    let start = Instant::now();
    for page in items.chunks(500) {
        let page: Vec<MergeItem<'_>> = page
            .iter()
            .map(|(id, bytes)| MergeItem {
                id,
                kind: "case",
                bytes,
                materialized: None,
            })
            .collect();
        fresh.merge_many(&page, true).expect("merge");
    }
    let t = start.elapsed();
    println!("cold pull, pages of 500 (merge_many): {}", rate(n, t));
}

/// `n` records in `t`: records per second, and the time per record.
fn rate(n: usize, t: Duration) -> String {
    format!(
        "{:.0} rec/s ({} per record)",
        n as f64 / t.as_secs_f64(),
        fmt(t / u32::try_from(n).unwrap_or(1))
    )
}

fn main() {
    if let Ok(mode) = std::env::var("GRIDWORK_BENCH_PROFILE") {
        profile(&mode);
        return;
    }
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n_records: usize = std::env::var("GRIDWORK_BENCH_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke { 500 } else { 50_000 });
    let grids = grids(500);
    let mut c = Criterion::default()
        .sample_size(if smoke { 10 } else { 50 })
        .configure_from_args();
    bench_save(&mut c, &grids[0]);

    let big = tempfile::tempdir().expect("dir");
    eprintln!("building a store of {n_records} records…");
    let build = build_big(big.path(), n_records, &grids);
    let store = Store::open(big.path()).expect("open big store");
    bench_list(&mut c, &store, n_records, &grids[1].grid);
    c.final_summary();
    summary(n_records, build, &store, &grids[1], smoke);
}
