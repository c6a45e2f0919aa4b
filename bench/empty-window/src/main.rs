//! An empty Tauri 2 window: the memory and start-up baseline the desktop app is compared with.

fn main() {
    if let Err(error) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
