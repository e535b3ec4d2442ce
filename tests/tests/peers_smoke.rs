//! A smoke test of the peers benchmark harness (`cargo xtask bench --peers`): its quick mode
//! runs every workload against Gridwork (SQLite, and PostgreSQL when
//! `GRIDWORK_TEST_DATABASE_URL` is set), pouchdb-server and automerge-repo, and every result must
//! be correct. No timing is asserted. The peers are installed from the npm registry into
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
    assert!(
        report.all_correct(),
        "wrong results: {:#?}",
        report.failures()
    );
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
