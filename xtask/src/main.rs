//! Project automation: `cargo xtask run | test | build | bench | gen-territory`.
//!
//! `run` and `test` install what is missing on Debian 12 (see [`install`]), so a fresh clone
//! needs only a Rust toolchain.

mod app;
mod cmd;
mod install;
mod postgres;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use gridwork_schema::territory::{self, Territory, demo};

use crate::cmd::{capture, cargo, is_ci, root, run, step, target_dir};
use crate::install::AptGroup;

/// Gridwork's automation.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Install what is missing, build, and start a local sync server with demo data.
    Run {
        /// Address the server listens on.
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: String,
        /// Delete the local server data (`.gridwork/server`) and seed it anew.
        #[arg(long)]
        fresh: bool,
    },
    /// Install what is missing and run every check: rustfmt, clippy, all tests (with
    /// PostgreSQL), and the app's end-to-end tests (Tauri window and headless Chromium, Xvfb).
    Test,
    /// Build everything in release mode (the UI to wasm first).
    Build,
    /// Build the UI to wasm and write `ui/dist` (what the app embeds).
    BuildUi,
    /// Run the benchmarks (criterion).
    Bench {
        /// Shorter runs: stop as soon as the estimate is statistically sound.
        #[arg(long)]
        quick: bool,
        /// Only the side-by-side run against pouchdb-server and automerge-repo (installs them
        /// from the npm registry; prints one table; see docs/benchmarks.md).
        #[arg(long)]
        peers: bool,
    },
    /// Regenerate `schema/data/territory.csv` from its seed.
    GenTerritory {
        /// Only check that the file is up to date.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Run { listen, fresh } => run_server(&listen, fresh),
        Task::Test => test(),
        Task::Build => build(),
        Task::BuildUi => {
            install(&[install::BASE]).and_then(|()| step("app: wasm UI (ui/dist)", build_ui))
        }
        Task::Bench { quick, peers } => bench(quick, peers),
        Task::GenTerritory { check } => gen_territory(check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo <args…>`, with `--locked` on CI.
fn cargo_cmd(args: &[&str]) -> Command {
    let mut c = cargo();
    c.args(with_locked(args, is_ci()));
    c
}

/// `args` with `--locked` inserted before any `--` when `locked` (never for `cargo fmt`).
fn with_locked<'a>(args: &[&'a str], locked: bool) -> Vec<&'a str> {
    let mut out = args.to_vec();
    if locked && args.first() != Some(&"fmt") {
        let split = args.iter().position(|a| *a == "--").unwrap_or(args.len());
        out.insert(split, "--locked");
    }
    out
}

/// The install step shared by every command.
fn install(groups: &[AptGroup]) -> Result<()> {
    step("install: apt packages", || {
        install::ensure(groups)?;
        if groups.iter().any(|g| g.name == install::PEERS.name) {
            install::ensure_command("npm", "npm")?;
        }
        Ok(())
    })
}

fn test() -> Result<()> {
    let preset = std::env::var(postgres::URL_VAR)
        .ok()
        .filter(|u| !u.is_empty());
    let groups: &[AptGroup] = if preset.is_some() {
        &[install::BASE, install::APP, install::PEERS]
    } else {
        &[install::BASE, install::APP, install::PEERS, install::DB]
    };
    install(groups)?;
    let url = match preset {
        Some(url) => {
            println!("using {} from the environment", postgres::URL_VAR);
            url
        }
        None => step("install: PostgreSQL for tests", postgres::ensure)?,
    };
    println!("{}={url}", postgres::URL_VAR);
    // The app embeds ui/dist, so the UI is built before anything compiles the app.
    step("app: wasm UI (ui/dist)", build_ui)?;
    let driver = step("app: WebDriver tools", || {
        app::check_webdrivers()?;
        app::ensure_tauri_driver()
    })?;

    step("rustfmt", || {
        install::ensure_cargo_subcommand("fmt", "rustfmt")?;
        run(&mut cargo_cmd(&["fmt", "--all", "--", "--check"]))
    })?;
    step("clippy", || {
        install::ensure_cargo_subcommand("clippy", "clippy")?;
        run(&mut cargo_cmd(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step(
        "tests (under xvfb-run: the app's end-to-end tests open windows and browsers)",
        || {
            // One cargo invocation for every test, app included, so dependencies are built
            // once with the whole workspace's features.
            app::under_xvfb(
                &with_locked(&["test", "--workspace", "--all-targets"], is_ci()),
                &driver,
                &url,
            )
        },
    )?;
    step("doc tests", || {
        run(cargo_cmd(&["test", "--workspace", "--doc"]).env(postgres::URL_VAR, &url))
    })?;
    println!("\nall checks passed");
    Ok(())
}

/// Builds the UI to `ui/dist` (see [`app::build_ui`]).
fn build_ui() -> Result<()> {
    app::build_ui(cargo_cmd)
}

fn build() -> Result<()> {
    install(&[install::BASE, install::APP])?;
    step("app: wasm UI (ui/dist)", build_ui)?;
    step("build workspace (release)", || {
        run(&mut cargo_cmd(&["build", "--workspace", "--release"]))
    })?;
    println!("\nbinaries in {}", target_dir().join("release").display());
    Ok(())
}

fn bench(quick: bool, peers: bool) -> Result<()> {
    if peers {
        install(&[install::BASE, install::DB, install::PEERS])?;
    } else {
        install(&[install::BASE, install::DB])?;
    }
    let url = step(
        "install: PostgreSQL for the sync load run",
        postgres::ensure,
    )?;
    // The sync load run starts the real server binary, built the way it would be deployed.
    step("build: gridwork-server (release)", || {
        run(&mut cargo_cmd(&[
            "build",
            "--release",
            "-p",
            "gridwork-sync-server",
        ]))
    })?;
    let server_bin = target_dir().join("release").join("gridwork-server");
    if peers {
        return step(
            "benchmark: Gridwork vs. pouchdb-server and automerge-repo",
            || {
                let mut args = vec!["bench", "-p", "gridwork-tests", "--bench", "peers", "--"];
                args.push("--peers");
                if quick {
                    args.push("--quick");
                }
                run(cargo_cmd(&args)
                    .env(postgres::URL_VAR, &url)
                    .env("GRIDWORK_SERVER_BIN", &server_bin))
            },
        );
    }
    let metadata = cmd::capture_ok(&mut cargo_cmd(&[
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
    ]))?;
    if !metadata.contains(r#""kind":["bench"]"#) {
        println!("no benchmark targets (benches/*.rs) in the workspace yet");
        return Ok(());
    }
    step("benchmarks", || {
        // `--bench '*'`: only the criterion targets, not the libraries' (empty) libtest benches.
        let mut args = vec!["bench", "--workspace", "--bench", "*"];
        if quick {
            args.extend(["--", "--quick"]);
        }
        run(cargo_cmd(&args)
            .env(postgres::URL_VAR, &url)
            .env("GRIDWORK_SERVER_BIN", &server_bin))
    })?;
    println!(
        "\nresults: {} (one folder per benchmark; criterion compares with the previous run)",
        target_dir().join("criterion").display()
    );
    Ok(())
}

fn gen_territory(check: bool) -> Result<()> {
    let path = root().join("schema/data/territory.csv");
    let text = territory::generate(territory::SEED);
    let parsed = Territory::parse_csv(&text).context("the generator made an invalid territory")?;
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if check {
        if current != text {
            bail!(
                "{} is not what the generator makes from seed {}: run `cargo xtask gen-territory`",
                path.display(),
                territory::SEED
            );
        }
        println!("{} is up to date", path.display());
        return Ok(());
    }
    if current == text {
        println!("{} is up to date", path.display());
    } else {
        std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!(
        "{} streets, {} zones, {} communities, {} grids",
        parsed.streets().count(),
        parsed.zones().count(),
        parsed.communities().count(),
        parsed.grid_count()
    );
    Ok(())
}

/// The server binary built by `cargo build -p gridwork-sync-server`.
fn server_binary() -> PathBuf {
    target_dir().join("debug").join("gridwork-server")
}

/// Fails clearly unless the server CLI offers the subcommands `run` relies on.
fn check_server_cli(server: &Path) -> Result<()> {
    let out = capture(Command::new(server).arg("--help"))?;
    let help = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<&str> = ["init", "registry", "user", "serve"]
        .into_iter()
        .filter(|sub| !help.split_whitespace().any(|w| w == *sub))
        .collect();
    if !out.status.success() || !missing.is_empty() {
        bail!(
            "`{} --help` does not list the subcommands {} (the server CLI is not there yet): \
             cannot start a local server",
            server.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// Creates the server's data directory: init, import the territory, add the demo accounts.
fn seed(server: &Path, data: &Path) -> Result<()> {
    let base = || {
        let mut c = Command::new(server);
        c.current_dir(root()).arg("--data").arg(data);
        c
    };
    run(base().arg("init"))?;
    run(base().args(["registry", "import", "schema/data/territory.csv"]))?;
    for a in demo::ACCOUNTS {
        let mut add = base();
        add.args([
            "user",
            "add",
            "--name",
            a.login,
            "--display",
            a.display_name,
            "--role",
            a.role,
            "--scope",
            a.scope,
            "--password",
            demo::PASSWORD,
        ]);
        if let Some(d) = a.department {
            add.args(["--department", d]);
        }
        run(&mut add)?;
    }
    Ok(())
}

fn run_server(listen: &str, fresh: bool) -> Result<()> {
    install(&[install::BASE, install::APP])?;
    step("app: wasm UI (ui/dist)", build_ui)?;
    step("build the sync server and the app", || {
        run(&mut cargo_cmd(&[
            "build",
            "-p",
            "gridwork-sync-server",
            "-p",
            "gridwork-app",
        ]))
    })?;
    let server = server_binary();
    check_server_cli(&server)?;

    let data = root().join(".gridwork/server");
    if fresh && data.exists() {
        println!("removing {}", data.display());
        std::fs::remove_dir_all(&data).with_context(|| format!("removing {}", data.display()))?;
    }
    if data.exists() {
        println!("\nusing existing server data in {}", data.display());
    } else {
        step("seed server data: territory and demo accounts", || {
            std::fs::create_dir_all(data.parent().unwrap_or(&data))?;
            seed(&server, &data).inspect_err(|_| {
                // Leave nothing half-seeded behind: the next run starts over.
                let _ = std::fs::remove_dir_all(&data);
            })
        })?;
    }

    print_banner(listen, &data);
    let mut serve = Command::new(&server);
    serve
        .current_dir(root())
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", listen]);
    println!("$ {}", cmd::show(&serve));
    let mut server_proc = Children(vec![serve.spawn().context("starting the server")?]);
    wait_for_port(listen)?;

    let server_url = format!("http://{listen}");
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
    let bin = |name: &str| target_dir().join("debug").join(name);
    if has_display {
        let app_data = root().join(".gridwork/app");
        let mut app = Command::new(bin("gridwork-app"));
        app.current_dir(root())
            .env("GRIDWORK_DATA", &app_data)
            .env("GRIDWORK_SERVER", &server_url);
        println!(
            "opening the app (device data in {}); closing its window stops the server",
            app_data.display()
        );
        let status = app.status().context("starting the app")?;
        server_proc.stop();
        println!("the app closed ({status})");
        return Ok(());
    }
    let ui_listen = "127.0.0.1:8788";
    let mut ui = Command::new(bin("gridwork-ui-server"));
    ui.current_dir(root())
        .arg("--data")
        .arg(root().join(".gridwork/app-browser"))
        .args(["--listen", ui_listen, "--server", &server_url]);
    println!("$ {}", cmd::show(&ui));
    server_proc
        .0
        .push(ui.spawn().context("starting gridwork-ui-server")?);
    println!(
        "\nNo display here (DISPLAY is not set), so the app window cannot open. The same UI is \
         served to a browser at http://{ui_listen} (Ctrl-C stops both)."
    );
    let status = server_proc.0[0].wait()?;
    server_proc.stop();
    bail!("the server stopped ({status})")
}

/// Child processes, stopped when dropped.
struct Children(Vec<std::process::Child>);

impl Children {
    fn stop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.0.clear();
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until something accepts connections at `addr` (30 s at most).
fn wait_for_port(addr: &str) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bail!("nothing listens on {addr} after 30 s")
}

fn print_banner(listen: &str, data: &Path) {
    let t = Territory::chengyang();
    println!(
        "\nGridwork sync server: http://{listen}   (data: {})",
        data.display()
    );
    println!("Demo accounts, password `{}`:", demo::PASSWORD);
    for a in demo::ACCOUNTS {
        let scope = t.get(a.scope).map_or("?", |u| u.name.as_str());
        println!(
            "  {:<11} {:<15} {} {} {}",
            a.login,
            a.role,
            a.display_name,
            scope,
            a.department.unwrap_or("")
        );
    }
    println!("The app opens signed out, offering this server: sign in with an account above.\n");
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn locked_goes_before_the_double_dash() {
        assert_eq!(
            with_locked(&["clippy", "--workspace", "--", "-D", "warnings"], true),
            ["clippy", "--workspace", "--locked", "--", "-D", "warnings"]
        );
        assert_eq!(with_locked(&["test"], true), ["test", "--locked"]);
        assert_eq!(with_locked(&["test"], false), ["test"]);
        assert_eq!(
            with_locked(&["fmt", "--all", "--", "--check"], true),
            ["fmt", "--all", "--", "--check"]
        );
    }

    /// Held by every test that writes and runs a stand-in script. A script being written is
    /// open for writing, and a process forked meanwhile by another test holds that descriptor
    /// until it execs: running the script then fails with ETXTBSY ("text file busy").
    static SCRIPTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// A stand-in `gridwork-server`: prints `help` for `--help`, logs every other call.
    fn fake_server(name: &str, help: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("log");
        let bin = dir.join("gridwork-server");
        let script = format!(
            "#!/bin/sh\nif [ \"$1\" = --help ]; then echo '{help}'; exit 0; fi\necho \"$*\" >> '{}'\n",
            log.display()
        );
        std::fs::write(&bin, script).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        (bin, log)
    }

    #[test]
    fn server_cli_check_names_what_is_missing() {
        let _one_at_a_time = SCRIPTS.lock().unwrap_or_else(|e| e.into_inner());
        let (bin, _) = fake_server("stub", "Usage: gridwork-server");
        let err = check_server_cli(&bin).unwrap_err().to_string();
        assert!(err.contains("init, registry, user, serve"), "{err}");
        let (bin, _) = fake_server(
            "full",
            "Commands:\n  init  x\n  registry  x\n  user  x\n  serve  x",
        );
        check_server_cli(&bin).unwrap();
    }

    #[test]
    fn seeding_imports_the_territory_and_adds_every_demo_account() {
        let _one_at_a_time = SCRIPTS.lock().unwrap_or_else(|e| e.into_inner());
        let (bin, log) = fake_server("seed", "");
        seed(&bin, Path::new("/data")).unwrap();
        let calls = std::fs::read_to_string(log).unwrap();
        let calls: Vec<&str> = calls.lines().collect();
        assert_eq!(calls[0], "--data /data init");
        assert_eq!(
            calls[1],
            "--data /data registry import schema/data/territory.csv"
        );
        assert_eq!(calls.len(), 2 + demo::ACCOUNTS.len());
        assert_eq!(
            calls[2],
            "--data /data user add --name grid --display 张伟 --role grid_worker \
             --scope 370214001001001 --password gridwork"
        );
        let _ = std::fs::remove_dir_all(bin.parent().unwrap());
    }
}
