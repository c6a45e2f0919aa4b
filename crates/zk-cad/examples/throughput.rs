//! Parse throughput against two minimal group-code tokenizers on the same bytes (see
//! `benches/baseline.rs`), interleaved so that load from other processes hits all alike. Prints
//! the fastest and the median of each.
//!
//! ```sh
//! python3 ../shared/cad-corpus/make_big.py /tmp/big.dxf
//! cargo run --release -p zk-cad --example throughput -- /tmp/big.dxf [RUNS]
//! ```

use std::hint::black_box;
use std::time::Instant;

#[path = "../benches/baseline.rs"]
mod baseline;

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::MAX, f64::min)
}

fn median(v: &[f64]) -> f64 {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: throughput FILE [RUNS]");
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    let bytes = std::fs::read(&path).expect("read the file");
    let options = zk_cad::ReadOptions::default();
    let (mut floor, mut streaming, mut own, mut read, mut scene) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let time = |v: &mut Vec<f64>, f: &dyn Fn()| {
        let t = Instant::now();
        f();
        v.push(t.elapsed().as_secs_f64());
    };
    for _ in 0..runs {
        time(&mut floor, &|| {
            black_box(baseline::in_memory_tokenizer(black_box(&bytes)));
        });
        time(&mut streaming, &|| {
            black_box(baseline::streaming_tokenizer(black_box(&bytes)));
        });
        time(&mut own, &|| {
            black_box(zk_cad::count_groups(black_box(&bytes)));
        });
        let t = Instant::now();
        let (drawing, _) = zk_cad::read(black_box(&bytes), &options).expect("the file reads");
        read.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let model = drawing.layouts.iter().find(|l| l.is_model()).expect("a model layout");
        let tessellated =
            zk_cad::tessellate(&drawing, model, &zk_cad::TessellateOptions::default()).expect("tessellates");
        scene.push(t.elapsed().as_secs_f64());
        drop(black_box((drawing, tessellated))); // not timed
    }
    let mb = bytes.len() as f64 / 1e6;
    println!("{path}: {mb:.1} MB, {runs} interleaved runs of each; best and median");
    for (name, v) in [
        ("in-memory tokenizer (floor)", &floor),
        ("streaming tokenizer (BufRead)", &streaming),
        ("zk-cad's own tokenizer", &own),
        ("zk-cad read", &read),
        ("zk-cad tessellate (model space)", &scene),
    ] {
        println!("  {name:<32} {:.3} s ({:>5.0} MB/s)   median {:.3} s", min(v), mb / min(v), median(v));
    }
    println!(
        "zk-cad read as a share of the streaming tokenizer's speed: {:.0} % (best), {:.0} % (median)",
        100.0 * min(&streaming) / min(&read),
        100.0 * median(&streaming) / median(&read)
    );
    println!(
        "zk-cad read as a share of the in-memory tokenizer's speed: {:.0} % (best), {:.0} % (median)",
        100.0 * min(&floor) / min(&read),
        100.0 * median(&floor) / median(&read)
    );
    let both: Vec<f64> = read.iter().zip(&scene).map(|(r, s)| r + s).collect();
    println!(
        "read + tessellate {:.3} s (best): {:.0} % of the streaming tokenizer's speed, {:.0} % of the in-memory one",
        min(&both),
        100.0 * min(&streaming) / min(&both),
        100.0 * min(&floor) / min(&both)
    );
}
