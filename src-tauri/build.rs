//! Tauri's build step. The app embeds `../ui/dist`, built by `cargo xtask build-ui` (and by
//! every xtask command that builds the app). When it is missing (a plain `cargo clippy
//! --workspace` on a fresh clone), a placeholder page is written there so the workspace still
//! compiles; the placeholder says how to build the real UI.

use std::path::Path;

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>网格通 Gridwork</title></head>
<body><p>界面尚未构建：请运行 <code>cargo xtask build-ui</code>。</p>
<p>The UI is not built yet: run <code>cargo xtask build-ui</code>.</p>
<!-- gridwork-ui-placeholder --></body></html>
"#;

fn main() {
    let dist = Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist).expect("create ui/dist");
        std::fs::write(dist.join("index.html"), PLACEHOLDER).expect("write placeholder ui");
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    // The embedded UI's fingerprint: when any file of ui/dist changes, this changes, and the
    // crate (which embeds the files) is compiled again.
    let mut files: Vec<_> = std::fs::read_dir(dist)
        .expect("read ui/dist")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        for b in std::fs::read(&f).unwrap_or_default() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=GRIDWORK_UI_FINGERPRINT={hash:016x}");
    tauri_build::build();
}
