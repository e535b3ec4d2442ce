//! Crash safety: a writer process is killed (SIGKILL) at random points, again and again; after
//! each kill the store opens, every materialized row matches its document, and no edit is
//! half-applied.

mod common;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::{Device, gridwork};
use gridwork_core::store::{ListFilter, Store};
use gridwork_core::summary::summarize;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::Value;

/// The version a stress edit wrote into a title (`stress 3 v7`) or description
/// (`stress 3. version 7. xxx…`).
fn version_in(s: &str, marker: &str) -> Option<u32> {
    let rest = &s[s.find(marker)? + marker.len()..];
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Checks the store after a kill; returns the version of every record.
fn check_store(dev: &Device) -> HashMap<String, u32> {
    let mut store = Store::open(dev.path()).expect("the store opens after a kill");
    let ids = store.ids().expect("ids");
    let rows = store
        .list(&ListFilter {
            limit: Some(1_000_000),
            ..ListFilter::default()
        })
        .expect("list");
    assert_eq!(
        rows.len(),
        ids.len(),
        "every document has its row and no more"
    );
    let mut versions = HashMap::new();
    for row in rows {
        let id = row.summary.id.clone();
        let value: Value = store.get_value(&id).expect("the document loads");
        assert_eq!(
            row.summary,
            summarize(&value),
            "row of {id} matches its document"
        );
        let last_change = store
            .history(&id)
            .expect("history")
            .iter()
            .map(|h| h.at_ms)
            .max()
            .unwrap_or_default();
        assert_eq!(row.updated_ms, last_change, "row time of {id}");
        assert!(store.conflicts(&id).expect("conflicts").is_empty());

        // Title, description and event log are written by one edit: all or nothing.
        let title = value["title"].as_str().expect("title");
        let description = value["description"].as_str().expect("description");
        let v_title = version_in(title, " v").expect("title version");
        let v_desc = version_in(description, "version ").expect("description version");
        let follow_ups = value["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["kind"]["type"] == "follow_up_visit")
            .count();
        assert_eq!(v_title, v_desc, "{id}: title and description from one edit");
        assert_eq!(
            usize::try_from(v_title).expect("small"),
            follow_ups,
            "{id}: one event per edit"
        );
        versions.insert(id, v_title);
    }
    versions
}

#[test]
fn killed_writers_leave_old_or_new_state_never_a_mix() {
    let seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);
    eprintln!("crash test seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dev = Device::init(&[]);
    // What the writer said it committed: it prints a line after each commit.
    let mut committed: HashMap<String, u32> = HashMap::new();
    let rounds = 8;
    for round in 0..rounds {
        let mut child = gridwork()
            .arg("--data")
            .arg(dev.path())
            .args(["stress-write", "--count", "1000000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        let wanted = rng.random_range(1..40);
        let mut line = String::new();
        for _ in 0..wanted {
            line.clear();
            if lines.read_line(&mut line).expect("read") == 0 {
                break;
            }
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("created"), Some(id), None) => {
                    committed.insert(id.to_owned(), 0);
                }
                (Some("updated"), Some(id), Some(v)) => {
                    let v = v.trim_start_matches('v').parse().expect("version");
                    committed.insert(id.to_owned(), v);
                }
                other => panic!("unexpected writer output {other:?}"),
            }
        }
        // Let it run on into a random point of a write, then kill it.
        std::thread::sleep(Duration::from_micros(rng.random_range(0..20_000)));
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(!status.success(), "round {round}: the writer was killed");
        drop(lines);

        let versions = check_store(&dev);
        for (id, v) in &committed {
            let stored = versions
                .get(id)
                .unwrap_or_else(|| panic!("round {round}: committed record {id} lost"));
            assert!(
                stored >= v,
                "round {round}: {id} went back from v{v} to v{stored}"
            );
        }
        committed = versions;
    }
    assert!(!committed.is_empty());

    // The CLI reads the store too: its rows equal the summaries of `show`.
    let rows = dev.json(&["list", "--limit", "1000000"]);
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), committed.len());
    for row in rows.iter().take(10) {
        let id = row["id"].as_str().expect("id");
        let shown = dev.show(id);
        let fresh = serde_json::to_value(summarize(&shown["record"])).expect("summary");
        for key in ["id", "kind", "title", "status", "territory", "search"] {
            assert_eq!(row[key], fresh[key], "{id}: {key}");
        }
        assert_eq!(row["updated_ms"], shown["updated_ms"]);
    }
}
