//! `zk-agent-desktop`: the ZK-Agent desktop app. Everything lives in the library (`src-tauri/src/lib.rs`).

// No console window beside the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    zk_agent_desktop::run()
}
