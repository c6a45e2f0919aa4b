//! The desktop app's black-box tests, as one test binary (`scripts/desktop-test.sh` runs it with
//! `--include-ignored`): its shipped security configuration, and the app in a real window.
//! `src-tauri/tests/wiring.rs` (`desktop_wiring`) belongs to the app's own package.

mod config;
mod window;
