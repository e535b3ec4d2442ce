//! The app: the wasm UI build, the WebDriver tools, and the end-to-end tests under Xvfb.
//!
//! The UI is built without trunk: `cargo build -p gridwork-ui --target wasm32-unknown-unknown
//! --release`, then the `wasm-bindgen-cli-support` library (pinned to the exact `wasm-bindgen`
//! of Cargo.lock) writes `ui/dist` next to `ui/static/*`. No wasm-opt (Debian's breaks the
//! module). Files in `ui/dist` are only rewritten when their bytes change, so an unchanged UI
//! does not make the Tauri crate (which embeds `ui/dist`) rebuild.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::{self, capture_ok, root, run, target_dir};

/// The wasm target the UI is built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The `wasm-bindgen` version xtask's `wasm-bindgen-cli-support` is pinned to (root
/// Cargo.toml); it must equal the `wasm-bindgen` in Cargo.lock.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// `ui/dist`, what the app embeds and `gridwork-ui-server` serves.
pub fn dist_dir() -> PathBuf {
    root().join("ui/dist")
}

/// Where the end-to-end tests write their screenshots.
pub fn screenshots_dir() -> PathBuf {
    root().join("screenshots")
}

/// Installs the wasm target with rustup when it is missing.
pub fn ensure_wasm_target() -> Result<()> {
    let installed = capture_ok(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("rustup is needed to add the wasm target")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("rust target {WASM_TARGET}: installed");
        return Ok(());
    }
    println!("installing rust target {WASM_TARGET}");
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// The version of a package in a Cargo.lock text.
fn locked_version<'a>(lock: &'a str, package: &str) -> Option<&'a str> {
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle)? + needle.len();
    lock[start..].split('"').next()
}

fn check_bindgen_pin() -> Result<()> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    match locked_version(&lock, "wasm-bindgen") {
        Some(v) if v == WASM_BINDGEN_VERSION => Ok(()),
        Some(v) => bail!(
            "Cargo.lock has wasm-bindgen {v}, but xtask's wasm-bindgen-cli-support is \
             {WASM_BINDGEN_VERSION}: pin both to the same version in the root Cargo.toml"
        ),
        None => bail!("Cargo.lock has no wasm-bindgen (is gridwork-ui in the workspace?)"),
    }
}

/// Builds the UI to `ui/dist`.
pub fn build_ui(cargo_cmd: impl Fn(&[&str]) -> Command) -> Result<()> {
    ensure_wasm_target()?;
    check_bindgen_pin()?;
    run(&mut cargo_cmd(&[
        "build",
        "-p",
        "gridwork-ui",
        "--target",
        WASM_TARGET,
        "--release",
    ]))?;
    let wasm = target_dir()
        .join(WASM_TARGET)
        .join("release")
        .join("gridwork_ui.wasm");
    let staging = target_dir().join("ui-dist-staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    println!(
        "wasm-bindgen {WASM_BINDGEN_VERSION} (library): {} -> ui/dist",
        wasm.display()
    );
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?
        .typescript(false)
        .generate(&staging)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen failed: {e:#}"))?;
    for entry in std::fs::read_dir(root().join("ui/static"))? {
        let entry = entry?;
        std::fs::copy(entry.path(), staging.join(entry.file_name()))?;
    }
    let changed = sync_dir(&staging, &dist_dir())?;
    println!(
        "ui/dist: {} ({} file(s) changed)",
        if changed == 0 {
            "up to date"
        } else {
            "updated"
        },
        changed
    );
    Ok(())
}

/// Makes `to` hold exactly the files of `from`, writing only those whose bytes differ.
/// Returns how many files were written or removed.
fn sync_dir(from: &Path, to: &Path) -> Result<usize> {
    std::fs::create_dir_all(to)?;
    let mut changed = 0;
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name();
        let bytes = std::fs::read(entry.path())?;
        let dest = to.join(&name);
        if std::fs::read(&dest).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&dest, &bytes).with_context(|| format!("writing {}", dest.display()))?;
            changed += 1;
        }
        names.insert(name);
    }
    for entry in std::fs::read_dir(to)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && !names.contains(&entry.file_name()) {
            std::fs::remove_file(entry.path())?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// `tauri-driver`, installed with `cargo install` into `$CARGO_TARGET_DIR/tools` if missing.
pub fn ensure_tauri_driver() -> Result<PathBuf> {
    let tools = target_dir().join("tools");
    let bin = tools.join("bin").join("tauri-driver");
    if bin.exists() {
        println!("tauri-driver: {}", bin.display());
        return Ok(bin);
    }
    println!(
        "installing tauri-driver into {} (cargo install, about a minute)",
        tools.display()
    );
    run(cmd::cargo()
        .args(["install", "tauri-driver", "--locked", "--root"])
        .arg(&tools))?;
    Ok(bin)
}

/// Fails clearly when a WebDriver server from the APP apt group is missing.
pub fn check_webdrivers() -> Result<()> {
    for bin in ["WebKitWebDriver", "chromedriver", "chromium", "xvfb-run"] {
        let found = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).exists()));
        if !found {
            bail!("`{bin}` is not on PATH (it comes with the APP apt group)");
        }
    }
    Ok(())
}

/// Runs `cargo <cargo_args>` under a virtual X display, with what the app's end-to-end tests
/// (Tauri window, headless Chromium) need: the tauri-driver binary and the screenshot folder.
pub fn under_xvfb(cargo_args: &[&str], driver: &Path, db_url: &str) -> Result<()> {
    let shots = screenshots_dir();
    std::fs::create_dir_all(&shots)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new("xvfb-run");
    c.current_dir(root())
        .args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(cargo)
        .args(cargo_args)
        .env("GRIDWORK_TAURI_DRIVER", driver)
        .env("GRIDWORK_SCREENSHOTS", &shots)
        .env(crate::postgres::URL_VAR, db_url);
    run(&mut c)?;
    println!("screenshots: {}", shots.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bindgen_pin_matches_cargo_lock() {
        check_bindgen_pin().unwrap();
        assert_eq!(
            locked_version("name = \"a\"\nversion = \"1.2.3\"\n", "a"),
            Some("1.2.3")
        );
        assert_eq!(locked_version("", "a"), None);
    }

    #[test]
    fn dist_sync_writes_only_changes() {
        let base = std::env::temp_dir().join(format!("xtask-sync-{}", std::process::id()));
        let (a, b) = (base.join("a"), base.join("b"));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(a.join("x"), "1").unwrap();
        assert_eq!(sync_dir(&a, &b).unwrap(), 1);
        assert_eq!(sync_dir(&a, &b).unwrap(), 0);
        std::fs::write(b.join("stale"), "").unwrap();
        assert_eq!(sync_dir(&a, &b).unwrap(), 1);
        assert!(!b.join("stale").exists());
        let _ = std::fs::remove_dir_all(&base);
    }
}
