//! Embeds the built UI (`ui/dist`) in the binary, so `zk-agent serve` serves it from any folder.
//!
//! Each file is stored gzip-compressed when that saves at least a tenth of it (fonts, images and
//! other compressed formats stay as they are), with its media type and a SHA-256 ETag worked out
//! here once; `src/http/embedded_ui.rs` serves the table this writes to `$OUT_DIR/ui_assets.rs`.
//! Without a UI build the table is empty and the binary says so at start (UI_DIR still serves one
//! from disk).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = manifest.join("../../ui/dist");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // A directory: cargo rebuilds when anything under it changes (or it appears).
    println!("cargo:rerun-if-changed={}", dist.display());

    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
    } else {
        println!(
            "cargo:warning=no UI build in {}: this zk-agent embeds no UI (run `npm run build` in ui/, or serve one with UI_DIR)",
            dist.display()
        );
    }
    files.sort();

    let blobs = out.join("ui");
    std::fs::create_dir_all(&blobs).expect("create $OUT_DIR/ui");
    let mut table = String::from("&[\n");
    for (index, relative) in files.iter().enumerate() {
        let bytes = std::fs::read(dist.join(relative)).expect("read a file of ui/dist");
        let etag = hex::encode(&Sha256::digest(&bytes)[..16]);
        let compressed = gzip(&bytes);
        let gzipped = compressed.len() * 10 <= bytes.len() * 9;
        let blob = blobs.join(index.to_string());
        std::fs::write(&blob, if gzipped { &compressed } else { &bytes }).expect("write an embedded file");
        let content_type = content_type(relative);
        writeln!(
            table,
            "    EmbeddedFile {{ path: {relative:?}, content_type: {content_type:?}, etag: \"\\\"{etag}\\\"\", \
             gzipped: {gzipped}, bytes: include_bytes!({blob:?}) }},",
            blob = blob.display().to_string(),
        )
        .expect("write to a string");
    }
    table.push(']');
    std::fs::write(out.join("ui_assets.rs"), table).expect("write $OUT_DIR/ui_assets.rs");
}

/// Every file under `dir`, as a `/`-separated path relative to `root`.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).expect("list a folder of ui/dist");
    for entry in entries {
        let path = entry.expect("read a folder entry of ui/dist").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<_> = relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
            files.push(parts.join("/"));
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("compress in memory");
    encoder.finish().expect("compress in memory")
}

fn content_type(path: &str) -> String {
    let guessed = mime_guess::from_path(path).first_or_octet_stream();
    let essence = guessed.essence_str();
    if essence.starts_with("text/") || essence == "application/javascript" || essence == "application/json" {
        format!("{essence}; charset=utf-8")
    } else {
        essence.to_owned()
    }
}
