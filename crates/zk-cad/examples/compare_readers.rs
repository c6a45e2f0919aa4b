//! Times zk-cad (read, and read + facts: what `zk-agent cad info` does) against the `dxf` crate's
//! `Drawing::load` on the same files, each from bytes already in memory, best of `--reps` runs.
//! Prints one tab-separated line per file, then totals and medians. `bench/cad/compare.py` adds
//! ezdxf to the same table.
//!
//! ```sh
//! cargo run --release -p zk-cad --example compare_readers -- [--reps N] [--no-dxf | --only-dxf] FILE_OR_DIR...
//! ```
//!
//! `--only-dxf` runs the `dxf` crate alone, so `/usr/bin/time -v` measures its peak memory.

use std::path::{Path, PathBuf};
use std::time::Instant;

fn dxf_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path).into_iter().flatten().flatten().map(|e| e.path()).collect();
        entries.sort();
        for entry in entries {
            dxf_files(&entry, out);
        }
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dxf")) {
        out.push(path.to_owned());
    }
}

/// Best time of `reps` runs of `f`, and the status of the last.
fn best<F: Fn() -> &'static str>(reps: usize, f: F) -> (f64, &'static str) {
    let mut best = if reps == 0 { 0.0 } else { f64::MAX };
    let mut status = "skipped";
    for _ in 0..reps {
        let started = Instant::now();
        status = f();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (best, status)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn main() {
    let mut reps = 3;
    let mut with_dxf = true;
    let mut with_zk = true;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => reps = args.next().and_then(|n| n.parse().ok()).unwrap_or(3),
            "--no-dxf" => with_dxf = false,
            "--only-dxf" => with_zk = false,
            _ => dxf_files(Path::new(&arg), &mut paths),
        }
    }
    // The dxf crate panics on some files; catch_unwind recovers, the hook keeps stderr quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let options = zk_cad::ReadOptions::default();
    let (mut zk_read, mut zk_facts, mut dxf_load) = (Vec::new(), Vec::new(), Vec::new());
    let (mut zk_failed, mut dxf_failed, mut dxf_panicked) = (0, 0, 0);
    println!("file\tbytes\tzk_read_s\tzk_read_facts_s\tzk_status\tdxf_load_s\tdxf_status");
    for path in &paths {
        let Ok(bytes) = std::fs::read(path) else { continue };
        let zk_reps = if with_zk { reps } else { 0 };
        let (read_s, status) = best(zk_reps, || match zk_cad::read(&bytes, &options) {
            Ok(_) => "ok",
            Err(_) => "error",
        });
        let (facts_s, _) = best(zk_reps, || match zk_cad::read(&bytes, &options) {
            Ok((drawing, _)) => {
                std::hint::black_box(zk_cad::facts(&drawing, options.max_block_depth));
                "ok"
            }
            Err(_) => "error",
        });
        let (dxf_s, dxf_status) = if with_dxf {
            best(reps, || {
                match std::panic::catch_unwind(|| dxf::Drawing::load(&mut std::io::Cursor::new(&bytes[..])).is_ok()) {
                    Ok(true) => "ok",
                    Ok(false) => "error",
                    Err(_) => "panic",
                }
            })
        } else {
            (0.0, "skipped")
        };
        zk_failed += usize::from(status != "ok");
        dxf_failed += usize::from(dxf_status == "error");
        dxf_panicked += usize::from(dxf_status == "panic");
        zk_read.push(read_s);
        zk_facts.push(facts_s);
        dxf_load.push(dxf_s);
        println!("{}\t{}\t{read_s:.6}\t{facts_s:.6}\t{status}\t{dxf_s:.6}\t{dxf_status}", path.display(), bytes.len());
    }
    let total = |v: &[f64]| v.iter().sum::<f64>();
    eprintln!("{} files, best of {reps} runs each", paths.len());
    eprintln!(
        "zk-cad read:          total {:.3} s, median {:.3} ms, {zk_failed} not opened",
        total(&zk_read),
        median(zk_read.clone()) * 1e3
    );
    eprintln!("zk-cad read + facts:  total {:.3} s, median {:.3} ms", total(&zk_facts), median(zk_facts.clone()) * 1e3);
    if with_dxf {
        eprintln!(
            "dxf 0.6.2 load:       total {:.3} s, median {:.3} ms, {dxf_failed} errors, {dxf_panicked} panics",
            total(&dxf_load),
            median(dxf_load.clone()) * 1e3
        );
    }
    if with_dxf && with_zk {
        eprintln!(
            "dxf / zk-cad (read + facts): total {:.1}x, median {:.1}x",
            total(&dxf_load) / total(&zk_facts),
            median(dxf_load.clone()) / median(zk_facts.clone())
        );
    }
}
