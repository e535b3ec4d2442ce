//! A smoke test of the peers benchmark harness (`cargo xtask bench --peers`): its quick mode
//! runs every workload against Gridwork (SQLite, and PostgreSQL when
//! `GRIDWORK_TEST_DATABASE_URL` is set), pouchdb-server and automerge-repo; Gridwork's results
//! must be correct, every peer workload must have its row, and each peer must be measured on at
//! least one workload. No timing is asserted. The peers are installed from the npm registry into
//! ~/.cache/gridwork/peers on first use.

#[path = "../benches/common/mod.rs"]
mod common;
#[path = "../benches/peers/harness.rs"]
mod harness;

#[tokio::test(flavor = "multi_thread")]
async fn quick_mode_completes_with_correct_results_and_prints_the_table() {
    let report = harness::run(harness::Sizes::QUICK)
        .await
        .unwrap_or_else(|e| panic!("the peers harness could not run: {e}"));
    let table = report.table();
    println!("{table}\n{}", report.goals());
    // Gridwork must be right on every workload. A peer's own failure is shown in the table
    // as the harness found it: automerge-repo 2.5 has been seen to answer "unavailable" for
    // documents it holds, and to lose a document's saved changes across a restart (see
    // docs/benchmarks.md). This test checks the harness, not the peers: every peer workload
    // must have its row, and each peer must have been installed, started and measured on at
    // least one workload.
    let failures = report.failures();
    let ours: Vec<_> = failures
        .iter()
        .filter(|f| {
            [harness::GRIDWORK_SQLITE, harness::GRIDWORK_PG]
                .iter()
                .any(|sys| f.starts_with(&format!("{sys}: ")))
        })
        .collect();
    assert!(ours.is_empty(), "wrong results from Gridwork: {ours:#?}");
    for system in [harness::POUCH, harness::AUTOMERGE] {
        let measured = harness::WORKLOADS.iter().any(|w| {
            report
                .get(system, w)
                .is_some_and(|f| f.secs > 0.0 && f.wrong.is_none())
        });
        assert!(
            measured,
            "no workload of {system} was measured: {failures:#?}"
        );
    }
    if !report.all_correct() {
        println!("peers' wrong answers, as reported in the table: {failures:#?}");
    }
    for system in [harness::GRIDWORK_SQLITE, harness::POUCH, harness::AUTOMERGE] {
        for workload in harness::WORKLOADS {
            assert!(
                table.contains(&format!("| {workload} | {system} |")),
                "no row for {workload} on {system}"
            );
        }
    }
}

#[test]
fn the_full_mode_has_the_issues_sizes() {
    let s = harness::Sizes::FULL;
    assert_eq!((s.devices, s.per_device, s.wave), (500, 50, 50));
    assert_eq!((s.cold, s.concurrent, s.storm), (100_000, 1_000, 5_000));
}

/// A peer that failed a workload has no speed to compare: the goal against it is "n/a", never
/// "met" or "MISSED" on the figures of a run that did not happen.
#[test]
fn a_failed_peer_run_is_no_goal_verdict() {
    use std::collections::BTreeMap;
    let ok = |secs: f64, records: usize, up: u64| harness::Figures {
        secs,
        records,
        up,
        ..harness::Figures::default()
    };
    let failed = harness::Figures {
        wrong: Some("the server exited".into()),
        ..harness::Figures::default()
    };
    let mut report = harness::Report::default();
    let ours = BTreeMap::from([("burst", ok(2.0, 100, 1000))]);
    let pouch = BTreeMap::from([("burst", ok(4.0, 100, 3000))]);
    let am = BTreeMap::from([("burst", failed)]);
    report.systems.push((harness::GRIDWORK_SQLITE.into(), ours));
    report.systems.push((harness::POUCH.into(), pouch));
    report.systems.push((harness::AUTOMERGE.into(), am));
    let goals = report.goals();
    assert!(
        goals.contains("- burst faster than pouchdb-server (measured 2.00×): met"),
        "{goals}"
    );
    assert!(
        goals.contains("- burst faster than automerge-repo (measured –): n/a"),
        "{goals}"
    );
    assert!(
        !goals.contains("burst: bytes on the wire ≤ automerge-repo's"),
        "{goals}"
    );
    assert!(
        goals.contains("- burst: bytes on the wire ≤ pouchdb-server's"),
        "{goals}"
    );
}

/// A peer stopped by its time budget is measured over the part it finished: its time is a
/// lower bound of its time for the whole, so Gridwork being faster than that part is "met",
/// and being slower proves nothing ("n/a"); the rate of the finished part is compared as it is.
#[test]
fn a_peer_cut_short_by_its_budget_is_compared_over_what_it_finished() {
    use std::collections::BTreeMap;
    let fig =
        |secs: f64, records: usize, up: u64, partial: Option<(usize, usize)>| harness::Figures {
            secs,
            records,
            up,
            partial,
            ..harness::Figures::default()
        };
    let mut report = harness::Report::default();
    let ours = BTreeMap::from([
        ("cold pull", fig(4.0, 100_000, 1000, None)),
        ("storm", fig(2.0, 0, 1000, None)),
        ("burst", fig(2.0, 100, 5000, None)),
    ]);
    let am = BTreeMap::from([
        // 1,000 of 100,000 documents in 600 s: 1.67/s against 25,000/s.
        ("cold pull", fig(600.0, 1_000, 500, Some((1_000, 100_000)))),
        // Slower than Gridwork over a part: faster over the whole too.
        ("storm", fig(600.0, 0, 800, Some((300, 5_000)))),
        // Quicker than Gridwork over a part, and fewer bytes so far: nothing follows.
        ("burst", fig(1.0, 0, 100, Some((10, 500)))),
    ]);
    report.systems.push((harness::GRIDWORK_SQLITE.into(), ours));
    report.systems.push((harness::AUTOMERGE.into(), am));
    let goals = report.goals();
    assert!(
        goals.contains(
            "- cold pull ≥ 300× automerge-repo's records/s (measured 15000×, automerge-repo \
             over the first 1000 of 100000 in its budget): met"
        ),
        "{goals}"
    );
    assert!(
        goals.contains(
            "- storm faster than automerge-repo (measured ≥ 300×, automerge-repo over the \
             first 300 of 5000 in its budget): met"
        ),
        "{goals}"
    );
    assert!(
        goals.contains("- burst faster than automerge-repo (measured ≥ 0.50×, automerge-repo over the first 10 of 500 in its budget): n/a"),
        "{goals}"
    );
    assert!(
        goals.contains("- burst: bytes on the wire ≤ automerge-repo's (5 KiB vs ≥ 0 KiB, automerge-repo over the first 10 of 500 in its budget): n/a"),
        "{goals}"
    );
    assert!(
        goals.contains(
            "- storm: bytes on the wire ≤ automerge-repo's (1 KiB vs ≥ 1 KiB, automerge-repo \
             over the first 300 of 5000 in its budget): n/a"
        ),
        "{goals}"
    );
    let table = report.table();
    assert!(table.contains("| storm | automerge-repo |"), "{table}");
    assert!(table.contains("≥ 300×"), "{table}");
}

/// A peer that failed part-way had not finished when it failed: that time bounds its time to
/// finish from below, so a Gridwork that finished sooner is "met" (with "≥"), and one that
/// took longer is "n/a". A peer that failed without saying how far it got has no verdict.
#[test]
fn a_peer_that_failed_unfinished_is_bounded_by_when_it_failed() {
    use std::collections::BTreeMap;
    let done = |secs: f64| harness::Figures {
        secs,
        records: 25_000,
        up: 1000,
        ..harness::Figures::default()
    };
    let broke = |after: Option<f64>, up: u64| harness::Figures {
        up,
        wrong: Some("the server exited".into()),
        unfinished: after.map(|after| harness::Unfinished {
            after,
            done: 120,
            of: 500,
        }),
        ..harness::Figures::default()
    };
    let mut report = harness::Report::default();
    let ours = BTreeMap::from([("burst", done(5.0)), ("storm", done(2.0))]);
    report.systems.push((harness::GRIDWORK_SQLITE.into(), ours));
    report.systems.push((
        harness::AUTOMERGE.into(),
        BTreeMap::from([
            ("burst", broke(Some(60.0), 4000)),
            ("storm", broke(Some(1.0), 600)),
        ]),
    ));
    report.systems.push((
        harness::POUCH.into(),
        BTreeMap::from([("burst", broke(None, 0))]),
    ));
    let goals = report.goals();
    assert!(
        goals.contains(
            "- burst faster than automerge-repo (measured ≥ 12.0×, automerge-repo failed \
             unfinished after 60.0 s with 120 of 500 done): met"
        ),
        "{goals}"
    );
    assert!(
        goals.contains(
            "- storm faster than automerge-repo (measured ≥ 0.50×, automerge-repo failed \
             unfinished after 1.0 s with 120 of 500 done): n/a"
        ),
        "{goals}"
    );
    assert!(
        goals.contains("- burst faster than pouchdb-server (measured –): n/a"),
        "{goals}"
    );
    // What a failure had sent by then is the least it would have sent: enough to say
    // Gridwork sent less, not that it sent more; and nothing without a count.
    assert!(
        goals.contains(
            "- burst: bytes on the wire ≤ automerge-repo's (1 KiB vs ≥ 4 KiB, automerge-repo \
             failed unfinished after 60.0 s with 120 of 500 done): met"
        ),
        "{goals}"
    );
    assert!(
        goals.contains(
            "- storm: bytes on the wire ≤ automerge-repo's (1 KiB vs ≥ 1 KiB, automerge-repo \
             failed unfinished after 1.0 s with 120 of 500 done): n/a"
        ),
        "{goals}"
    );
    assert!(
        !goals.contains("burst: bytes on the wire ≤ pouchdb-server's"),
        "{goals}"
    );
    let table = report.table();
    assert!(table.contains("| ≥ 12.0× · ≥ 4.00× |"), "{table}");
    assert!(table.contains("| ≥ 0.50× · ≥ 0.60× |"), "{table}");
    assert!(
        table.contains("| **NO**: the server exited | – |"),
        "{table}"
    );
    assert!(table.contains("| 1 (baseline) |"), "{table}");
}
