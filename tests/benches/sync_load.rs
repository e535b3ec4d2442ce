//! A sync load run on loopback against a real `gridwork-server` process (SQLite, and
//! PostgreSQL when `GRIDWORK_TEST_DATABASE_URL` is set), printing figures next to the goals:
//!
//! 1. offline burst: N devices × M new records pushed, 50 devices connected at a time;
//! 2. a supervisor's cold pull of every record (wire only, and into a real device store);
//! 3. a warm re-pull with nothing new;
//! 4. a reconnect storm: many devices with nothing new pull, 100 connected at a time;
//! 5. bytes on the wire vs. the records' zstd-compressed JSON; server peak memory and CPU.
//!
//! `cargo xtask bench` runs it (it sets `GRIDWORK_SERVER_BIN`); `--quick` (or
//! `GRIDWORK_BENCH_QUICK=1`) uses small sizes. `GRIDWORK_BENCH_PULLS=N` makes step 2's pull
//! into a device store N times and prints the median.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gridwork_schema::territory::Territory;
use gridwork_schema::wire::{DocPush, PROTOCOL_VERSION, PushRequest};
use gridwork_schema::*;
use gridwork_sync_server::storage::NewUser;
use gridwork_sync_server::{DatabaseConfig, auth, open_storage};

#[path = "common/mod.rs"]
mod common;
use common::{
    Counter, ServerProc, Upload, case_record, doc_bytes, fresh_pg, pg_size, pull_all, push,
    push_prepared, register, server_bin, walk_size,
};

struct Sizes {
    devices: usize,
    per_device: usize,
    cold: usize,
    storm: usize,
}

fn row(name: &str, value: String, goal: &str, ok: Option<bool>) {
    let verdict = match ok {
        Some(true) => "ok",
        Some(false) => "MISSED",
        None => "",
    };
    println!("  {name:<46} {value:>16}   {goal:<18} {verdict}");
}

async fn run(label: &str, bin: &Path, database: Option<String>, sizes: &Sizes) {
    let dir = tempfile::tempdir().unwrap();
    let db_config = match &database {
        Some(url) => DatabaseConfig::Postgres(url.clone()),
        None => DatabaseConfig::choose(dir.path(), None),
    };
    let server = ServerProc::start(bin, dir.path(), database.as_deref());
    let storage = open_storage(&db_config, 4)
        .await
        .expect("open storage for set-up");
    let sup = storage
        .add_user(NewUser {
            login: "bench-sup".into(),
            name: "督导".into(),
            role: Role::Supervisor,
            scope: "370214".into(),
            department: None,
            password_hash: auth::hash_password("bench-password").unwrap(),
        })
        .await
        .unwrap();
    let territory = Territory::chengyang();
    let grids: Vec<TerritoryPath> = territory
        .grids()
        .take(sizes.devices.max(1))
        .map(|g| territory.path_of(&g.code).unwrap())
        .collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let url = server.url.clone();
    println!("\n{label}: {}", url);

    // 1. Offline burst.
    let tokens = register(storage.as_ref(), &sup.id, sizes.devices).await;
    let mut bodies: Vec<(String, Upload)> = Vec::with_capacity(sizes.devices);
    // The yardstick: each device's records as one JSON array, zstd-compressed (level 3), as a
    // compressed JSON protocol would send the same batch; and, to show what the encoding
    // alone buys, the same JSON under the uplink's own compression.
    let mut zjson = 0f64;
    let mut upjson = 0f64;
    for (d, token) in tokens.iter().enumerate() {
        let grid = &grids[d % grids.len()];
        let records: Vec<Record> = (0..sizes.per_device)
            .map(|i| case_record(grid, d * sizes.per_device + i))
            .collect();
        let json = serde_json::to_vec(&records).unwrap();
        zjson += zstd::encode_all(&json[..], 3).unwrap().len() as f64;
        upjson += gridwork_core::sync::client::compress_upload(&json).len() as f64;
        let actor = *uuid::Uuid::new_v4().as_bytes();
        let docs = records
            .iter()
            .map(|r| DocPush {
                id: r.id().to_string(),
                kind: "case".into(),
                changes: doc_bytes(r, &actor).into(),
            })
            .collect();
        // Compressed up front, as each device does on its own CPU before it reconnects.
        bodies.push((
            token.clone(),
            Upload::push(&PushRequest {
                protocol: PROTOCOL_VERSION,
                schema_version: SCHEMA_VERSION,
                docs,
            }),
        ));
    }
    let burst_count = Arc::new(Counter {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    });
    let cpu0 = server.cpu_secs();
    let t = Instant::now();
    // Fifty devices on the line at any moment: as one finishes, the next connects.
    common::at_a_time(50, bodies, |(token, body)| {
        let http = http.clone();
        let url = format!("{url}/v1/push");
        let count = burst_count.clone();
        async move {
            let r = push_prepared(&http, &url, &token, &body, &count).await;
            assert!(
                r.results
                    .iter()
                    .all(|x| matches!(x.outcome, wire::DocOutcome::Accepted { .. })),
                "every record accepted"
            );
        }
    })
    .await;
    let burst = t.elapsed();
    let burst_cpu = server.cpu_secs() - cpu0;
    let burst_records = sizes.devices * sizes.per_device;
    row(
        &format!(
            "burst: {} devices × {} records",
            sizes.devices, sizes.per_device
        ),
        format!("{:.2} s", burst.as_secs_f64()),
        "< 5 s",
        Some(burst < Duration::from_secs(5)),
    );
    row(
        "  records/s",
        format!("{:.0}", burst_records as f64 / burst.as_secs_f64()),
        "",
        None,
    );
    // CPU time is steadier than wall time on a machine shared with other work.
    row("  server CPU", format!("{burst_cpu:.2} s"), "", None);
    let up = burst_count.up.load(Ordering::Relaxed) as f64;
    row(
        "  bytes up vs. the batches as zstd JSON",
        format!("{:.2}×", up / zjson),
        "≤ 1.5×",
        Some(up / zjson <= 1.5),
    );
    row(
        "  … vs. the batches as JSON under the same brotli",
        format!("{:.2}×", up / upjson),
        "",
        None,
    );

    // Top up to the cold-pull size with bulk pushes.
    let mut have = burst_records;
    let bulk_token = register(storage.as_ref(), &sup.id, 1).await.remove(0);
    let quiet = Counter {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    };
    let bulk_actor = *uuid::Uuid::new_v4().as_bytes();
    while have < sizes.cold {
        let n = (sizes.cold - have).min(500);
        let docs = (0..n)
            .map(|i| {
                let r = case_record(&grids[(have + i) % grids.len()], have + i);
                DocPush {
                    id: r.id().to_string(),
                    kind: "case".into(),
                    changes: doc_bytes(&r, &bulk_actor).into(),
                }
            })
            .collect();
        let _ = push(
            &http,
            &format!("{url}/v1/push"),
            &bulk_token,
            &PushRequest {
                protocol: PROTOCOL_VERSION,
                schema_version: SCHEMA_VERSION,
                docs,
            },
            &quiet,
        )
        .await;
        have += n;
    }

    // 2. Cold pull (wire).
    let sup_token = register(storage.as_ref(), &sup.id, 1).await.remove(0);
    let pull_count = Counter {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    };
    let t = Instant::now();
    let (items, _cursor) = pull_all(&http, &url, &sup_token, &pull_count).await;
    let cold = t.elapsed();
    assert_eq!(items, have, "every record pulled once");
    let rate = items as f64 / cold.as_secs_f64();
    row(
        &format!("cold pull of {items} records (wire)"),
        format!("{rate:.0} rec/s"),
        "≥ 25,000 rec/s",
        Some(rate >= 25_000.0),
    );
    row("  time", format!("{:.2} s", cold.as_secs_f64()), "", None);
    row(
        "  bytes down per record",
        format!(
            "{:.0} B",
            pull_count.down.load(Ordering::Relaxed) as f64 / items as f64
        ),
        "",
        None,
    );

    // `GRIDWORK_BENCH_SERVER_ONLY=1` leaves out the device-store steps (2b and 3), which take
    // most of a full run's time, while iterating on the server.
    if !std::env::var("GRIDWORK_BENCH_SERVER_ONLY").is_ok_and(|v| v == "1") {
        // 2b. Cold pull into a real device store (SQLite on the device, every record merged).
        // `GRIDWORK_BENCH_PULLS=N` makes N such pulls, each into a fresh store, and prints
        // their median too: on a shared machine one pull's rate moves by a fifth.
        let pulls: usize = std::env::var("GRIDWORK_BENCH_PULLS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
            .max(1);
        let mut rates = Vec::with_capacity(pulls);
        let mut kept = None;
        for _ in 0..pulls {
            let device_dir = tempfile::tempdir().unwrap();
            let store = std::sync::Mutex::new(
                gridwork_core::store::Store::init(device_dir.path()).unwrap(),
            );
            gridwork_core::sync::login(&store, &url, "bench-sup", "bench-password")
                .await
                .expect("login");
            let t = Instant::now();
            let report = gridwork_core::sync::sync_now(&store, &mut |_| {})
                .await
                .expect("sync");
            let rate = report.items as f64 / t.elapsed().as_secs_f64();
            row(
                &format!("cold pull into a device store ({} records)", report.items),
                format!("{rate:.0} rec/s"),
                "",
                None,
            );
            rates.push(rate);
            kept = Some((device_dir, store));
        }
        if pulls > 1 {
            rates.sort_by(f64::total_cmp);
            row(
                &format!("  median of {pulls}"),
                format!("{:.0} rec/s", rates[pulls / 2]),
                "",
                None,
            );
        }
        let (_device_dir, store) = kept.expect("at least one pull");

        // 3. Warm re-pull with nothing new (the device's real sync: push nothing, one pull page).
        let t = Instant::now();
        let report = gridwork_core::sync::sync_now(&store, &mut |_| {})
            .await
            .expect("sync");
        let warm = t.elapsed();
        assert_eq!(report.items, 0);
        row(
            "warm re-pull, nothing new",
            format!("{:.1} ms", warm.as_secs_f64() * 1000.0),
            "< 50 ms",
            Some(warm < Duration::from_millis(50)),
        );
    }
    // 4. Reconnect storm.
    let storm_tokens = register(storage.as_ref(), &sup.id, sizes.storm).await;
    let (_, head) = pull_all(&http, &url, &sup_token, &pull_count).await;
    let storm_count = Arc::new(Counter {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    });
    let storm_cpu0 = server.cpu_secs();
    let t = Instant::now();
    // A hundred devices on the line at any moment.
    common::at_a_time(100, storm_tokens, |token| {
        let http = http.clone();
        let url = format!("{url}/v1/pull");
        let count = storm_count.clone();
        async move {
            assert!(common::pull_at_head(&http, &url, &token, head, &count).await);
        }
    })
    .await;
    let storm = t.elapsed();
    row(
        &format!("reconnect storm: {} devices, nothing new", sizes.storm),
        format!("{:.2} s", storm.as_secs_f64()),
        "< 2 s",
        Some(storm < Duration::from_secs(2)),
    );
    row(
        "  server CPU",
        format!("{:.2} s", server.cpu_secs() - storm_cpu0),
        "",
        None,
    );

    row(
        "server peak memory",
        format!("{:.0} MiB", server.peak_mib()),
        "",
        None,
    );
    row(
        "server CPU during the run",
        format!("{:.1} s", server.cpu_secs() - cpu0),
        "",
        None,
    );
    let disk = match &database {
        Some(url) => pg_size(url).await,
        None => walk_size(dir.path()),
    };
    row(
        "server disk at the end (SQLite file / the PostgreSQL database)",
        format!("{:.1} MiB", disk as f64 / 1_048_576.0),
        "",
        None,
    );
    drop(server);
    if let Some(url) = database {
        drop(url);
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this as a smoke test of
    // the harness with tiny sizes (no figure there means anything).
    let smoke = !args.iter().any(|a| a == "--bench");
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var("GRIDWORK_BENCH_QUICK").is_ok_and(|v| v == "1");
    let sizes = if smoke {
        Sizes {
            devices: 6,
            per_device: 5,
            cold: 100,
            storm: 20,
        }
    } else if quick {
        Sizes {
            devices: 50,
            per_device: 20,
            cold: 3_000,
            storm: 300,
        }
    } else {
        Sizes {
            devices: 500,
            per_device: 50,
            cold: 100_000,
            storm: 5_000,
        }
    };
    let bin = server_bin();
    if !bin.exists() {
        eprintln!(
            "sync_load: no server binary at {} — build it first (`cargo build --release -p gridwork-sync-server`) or set GRIDWORK_SERVER_BIN; `cargo xtask bench` does both",
            bin.display()
        );
        std::process::exit(1);
    }
    let mode = if smoke {
        " (smoke test: tiny sizes, figures mean nothing)"
    } else if quick {
        " (quick)"
    } else {
        ""
    };
    println!("sync load{mode} — figure, then the goal");
    run("SQLite", &bin, None, &sizes).await;
    if let Some((url, admin, name)) = fresh_pg().await {
        run("PostgreSQL", &bin, Some(url), &sizes).await;
        if let Ok((client, conn)) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await {
            tokio::spawn(conn);
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    } else {
        println!(
            "\nPostgreSQL: skipped (GRIDWORK_TEST_DATABASE_URL not set; `cargo xtask bench` sets it)"
        );
    }
}
