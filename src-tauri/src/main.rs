//! The Gridwork desktop and mobile app: a thin Tauri 2 shell over `gridwork-core`.

fn main() {}
