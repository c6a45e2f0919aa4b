//! Generates the Tauri context (config, capabilities, permissions of the app's own commands).
//!
//! The package's manifest is the workspace root, so the capability files are found through an
//! explicit pattern under `src-tauri/`.

fn main() {
    // The permissions of the shell's own commands (`allow-desktop-launch`, …). With them present,
    // Tauri checks every app command against the capabilities: nothing is callable by default.
    let app = tauri_build::AppManifest::new().permissions_path_pattern("./src-tauri/permissions/**/*");
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*").app_manifest(app);
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by exiting non-zero; the message says what to fix.
        eprintln!("error: tauri build step failed: {error:#}");
        std::process::exit(1);
    }
}
