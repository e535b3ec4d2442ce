//! The shared install step: Debian packages, by purpose.
//!
//! Every package the project needs from apt is listed here, once, in a group that says why.
//! Commands pick the groups they need; to add a need (e.g. the app's WebKit and Xvfb packages),
//! add a group constant and name it where a command calls [`ensure`].

use std::process::Command;

use anyhow::{Result, bail};

use crate::cmd::{self, capture, is_root, run};

/// A group of Debian packages needed for one purpose.
#[derive(Debug, Clone, Copy)]
pub struct AptGroup {
    /// Short name, printed when installing.
    pub name: &'static str,
    /// What the packages are for.
    pub purpose: &'static str,
    /// Debian package names.
    pub packages: &'static [&'static str],
}

/// C toolchain and pkg-config for crates with native parts (SQLite, zstd, …).
pub const BASE: AptGroup = AptGroup {
    name: "base",
    purpose: "C toolchain for crates with native code",
    packages: &["build-essential", "pkg-config"],
};

/// PostgreSQL server and client, for the PostgreSQL storage tests.
pub const DB: AptGroup = AptGroup {
    name: "db",
    purpose: "PostgreSQL for the sync server's PostgreSQL tests",
    packages: &["postgresql"],
};

/// The app: Tauri 2's WebKitGTK build deps, Xvfb and the WebDriver servers for its
/// end-to-end tests (WebKitWebDriver for the app window, chromedriver for headless Chromium),
/// and a CJK font so screenshots show Chinese.
pub const APP: AptGroup = AptGroup {
    name: "app",
    purpose: "build the Tauri app and drive it in tests (WebKitGTK, Xvfb, WebDriver, Chromium)",
    packages: &[
        "libwebkit2gtk-4.1-dev",
        "build-essential",
        "libxdo-dev",
        "libssl-dev",
        "libayatana-appindicator3-dev",
        "librsvg2-dev",
        "libsoup-3.0-dev",
        "pkg-config",
        "xvfb",
        "xauth",
        "webkit2gtk-driver",
        "chromium",
        "chromium-driver",
        "fonts-wqy-microhei",
    ],
};

/// Node.js, for the peers Gridwork's sync is measured against (pouchdb-server and
/// automerge-repo: `bench --peers` and its smoke test). npm is checked by command, not by
/// package, since some Node.js builds ship it inside `nodejs`.
pub const PEERS: AptGroup = AptGroup {
    name: "peers",
    purpose: "Node.js for the benchmark peers (pouchdb-server, automerge-repo)",
    packages: &["nodejs"],
};

/// Installs Debian's `package` unless `command` already runs (`command --version`).
pub fn ensure_command(command: &str, package: &str) -> Result<()> {
    if Command::new(command)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(());
    }
    if !is_root() {
        bail!("`{command}` is missing. Install it first:\n    sudo apt-get install -y {package}");
    }
    println!("installing {package} (for `{command}`)");
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends", package])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Whether a Debian package is installed (`dpkg-query -W -f='${Status}'`).
fn installed(package: &str) -> Result<bool> {
    let out = capture(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))?;
    Ok(out.status.success() && String::from_utf8_lossy(&out.stdout).ends_with(" installed"))
}

/// Makes sure every package of `groups` is installed; installs the missing ones as root, or
/// fails naming the exact `sudo apt-get install …` to run.
pub fn ensure(groups: &[AptGroup]) -> Result<()> {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        let all: Vec<&str> = groups.iter().flat_map(|g| g.packages).copied().collect();
        bail!(
            "dpkg-query not found: the install step supports Debian only. Install the \
             equivalents of these Debian packages yourself: {}",
            all.join(" ")
        );
    }
    let mut missing: Vec<(AptGroup, Vec<&str>)> = Vec::new();
    for group in groups {
        let mut absent = Vec::new();
        for package in group.packages {
            if !installed(package)? {
                absent.push(*package);
            }
        }
        if !absent.is_empty() {
            missing.push((*group, absent));
        }
    }
    let names: Vec<&str> = groups.iter().map(|g| g.name).collect();
    if missing.is_empty() {
        println!("apt packages ({}): all installed", names.join(", "));
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().flat_map(|(_, p)| p).copied().collect();
    let install = format!(
        "apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    if !is_root() {
        bail!(
            "missing Debian packages: {}.\nRun as root, or install them first:\n    sudo apt-get update && sudo {install}",
            packages.join(" ")
        );
    }
    for (group, absent) in &missing {
        println!(
            "installing ({}: {}): {}",
            group.name,
            group.purpose,
            absent.join(" ")
        );
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    Ok(())
}

/// Fails with a clear message when a rustup component that cargo needs is absent.
pub fn ensure_cargo_subcommand(sub: &str, component: &str) -> Result<()> {
    let ok = cmd::cargo()
        .args([sub, "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        bail!("`cargo {sub}` is not available: run `rustup component add {component}`");
    }
    Ok(())
}
