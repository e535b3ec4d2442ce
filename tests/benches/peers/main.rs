//! `cargo bench -p gridwork-tests --bench peers -- --peers [--quick]`: Gridwork's sync against
//! pouchdb-server and automerge-repo on the same workloads (see harness.rs and
//! docs/benchmarks.md). `cargo xtask bench --peers [--quick]` builds the server and runs it.

#[path = "../common/mod.rs"]
mod common;
mod harness;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // It runs only when asked (`--peers`, as `cargo xtask bench --peers` passes): not in a
    // plain `cargo xtask bench`, nor when `cargo test --all-targets` runs bench targets (the
    // smoke test, tests/peers_smoke.rs, runs the quick mode there).
    if !args.iter().any(|a| a == "--peers") {
        println!("peers: run with `cargo xtask bench --peers [--quick]`");
        return;
    }
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var("GRIDWORK_BENCH_QUICK").is_ok_and(|v| v == "1");
    let sizes = if quick {
        harness::Sizes::QUICK
    } else {
        harness::Sizes::FULL
    };
    println!(
        "Gridwork vs. pouchdb-server and automerge-repo{} — {sizes:?}",
        if quick { " (quick)" } else { "" }
    );
    match harness::run(sizes).await {
        Ok(report) => {
            println!("\n{}", report.table());
            println!("Goals (Gridwork on SQLite):\n{}", report.goals());
            let failures = report.failures();
            if !report.all_correct() {
                println!("Wrong or incomplete results:");
                for f in &failures {
                    println!("- {f}");
                }
            }
            // A peer that times out or goes wrong is a figure in the table; Gridwork going
            // wrong fails the run.
            if failures.iter().any(|f| f.starts_with("Gridwork")) {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("peers: {e}");
            std::process::exit(1);
        }
    }
}
