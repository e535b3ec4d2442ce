//! The Gridwork desktop app (the same code runs on mobile through [`gridwork_app_lib::run`]).

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    gridwork_app_lib::run();
}
