//! Runs the real `gridwork` binary on temporary device folders.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The grid of the demo grid worker (in 小寨子社区).
pub const GRID: &str = "370214001001001";

/// A device: a temporary folder the binary works on.
pub struct Device {
    pub dir: tempfile::TempDir,
}

impl Device {
    /// A new device store, with `init_args` for the local user.
    pub fn init(init_args: &[&str]) -> Self {
        let dev = Device {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        let mut args = vec!["init"];
        args.extend_from_slice(init_args);
        dev.ok(&args);
        dev
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `gridwork --data DIR ARGS…`.
    pub fn run(&self, args: &[&str]) -> Output {
        gridwork()
            .arg("--data")
            .arg(self.path())
            .args(args)
            .output()
            .expect("run gridwork")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "gridwork {args:?} failed ({:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs with `--json`, expects success, parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    /// Runs a command that creates or edits a record; returns the record id.
    pub fn id_of(&self, args: &[&str]) -> String {
        self.json(args)["id"]
            .as_str()
            .expect("id in output")
            .to_owned()
    }

    /// Runs and expects failure; returns (exit code, stderr).
    pub fn fails(&self, args: &[&str]) -> (i32, String) {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "gridwork {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `show --json ID`.
    pub fn show(&self, id: &str) -> Value {
        self.json(&["show", id])
    }
}

/// The binary, with the environment cleared of settings that would change its behaviour.
pub fn gridwork() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gridwork"));
    c.env_remove("GRIDWORK_DATA")
        .env_remove("GRIDWORK_LANG")
        .env("RUST_BACKTRACE", "0");
    c
}
