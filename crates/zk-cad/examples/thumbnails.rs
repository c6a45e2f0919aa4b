//! Thumbnails per second over a folder of DXF files: read, tessellate the model layout and render
//! a PNG 256 pixels wide (encoded), from bytes already in memory, one file after another on one
//! thread. Writes the PNGs to OUT_DIR when given. Prints the time of each stage and the rate.
//!
//! ```sh
//! cargo run --release -p zk-cad --example thumbnails -- ../shared/cad-corpus [OUT_DIR]
//! ```
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use zk_cad::raster::{RasterOptions, scene_to_png};
use zk_cad::svg::Background;
use zk_cad::{ReadOptions, TessellateOptions, read, tessellate};

fn dxf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            dxf_files(&path, out);
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dxf")) {
            out.push(path);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: thumbnails CORPUS_DIR [OUT_DIR]"));
    let out_dir = args.next().map(PathBuf::from);
    if let Some(out) = &out_dir {
        std::fs::create_dir_all(out).unwrap();
    }
    let mut files = Vec::new();
    dxf_files(&dir, &mut files);
    files.sort();
    let inputs: Vec<(PathBuf, Vec<u8>)> = files.into_iter().map(|f| (f.clone(), std::fs::read(&f).unwrap())).collect();
    let bytes_total: usize = inputs.iter().map(|(_, b)| b.len()).sum();

    let options = RasterOptions { width: 256, background: Background::Light, ..Default::default() };
    let (mut read_s, mut tess_s, mut raster_s) = (0.0, 0.0, 0.0);
    let mut per_file = Vec::new();
    let (mut made, mut failed) = (0usize, 0usize);
    let started = Instant::now();
    for (i, (path, bytes)) in inputs.iter().enumerate() {
        let t0 = Instant::now();
        let outcome = std::panic::catch_unwind(|| {
            let (drawing, _) = read(bytes, &ReadOptions::default()).ok()?;
            let t1 = Instant::now();
            let layout = drawing.layouts.iter().find(|l| l.is_model()).or_else(|| drawing.layouts.first())?;
            let (scene, _) = tessellate(&drawing, layout, &TessellateOptions::default()).ok()?;
            let t2 = Instant::now();
            let png = scene_to_png(&scene, &options).ok()?;
            let t3 = Instant::now();
            Some((png, t1 - t0, t2 - t1, t3 - t2))
        });
        match outcome {
            Ok(Some((png, r, t, p))) => {
                read_s += r.as_secs_f64();
                tess_s += t.as_secs_f64();
                raster_s += p.as_secs_f64();
                per_file.push(t0.elapsed().as_secs_f64());
                made += 1;
                if let Some(out) = &out_dir {
                    let name = format!("{i:04}-{}.png", path.file_stem().unwrap_or_default().to_string_lossy());
                    std::fs::write(out.join(name), png).unwrap();
                }
            }
            _ => {
                failed += 1;
                eprintln!("no thumbnail: {}", path.display());
            }
        }
    }
    let total = started.elapsed().as_secs_f64();
    per_file.sort_by(f64::total_cmp);
    let median = per_file.get(per_file.len() / 2).copied().unwrap_or(0.0);
    println!(
        "{} DXF files, {:.1} MB; {made} thumbnails (256 px wide PNG), {failed} without",
        inputs.len(),
        bytes_total as f64 / 1e6
    );
    println!(
        "total {total:.3} s = read {read_s:.3} s + tessellate {tess_s:.3} s + raster and PNG {raster_s:.3} s (+ files without)"
    );
    println!(
        "{:.0} thumbnails per second; median {:.2} ms, slowest {:.1} ms per file",
        made as f64 / total,
        median * 1e3,
        per_file.last().copied().unwrap_or(0.0) * 1e3
    );
}
