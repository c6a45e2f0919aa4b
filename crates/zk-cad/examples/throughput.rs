//! Parse throughput against a minimal group-code tokenizer on the same bytes, interleaved so that
//! load from other processes hits both alike. Prints the fastest and median of each.
//!
//! ```sh
//! python3 ../shared/cad-corpus/make_big.py /tmp/big.dxf
//! cargo run --release -p zk-cad --example throughput -- /tmp/big.dxf [RUNS]
//! ```

use std::hint::black_box;
use std::time::Instant;

/// The first newline in `hay`: a plain loop over the first bytes, memchr beyond (the fastest of
/// the variants tried: memchr alone, a plain loop alone, this).
#[inline(always)]
fn find_newline(hay: &[u8]) -> Option<usize> {
    let head = hay.len().min(16);
    let mut i = 0;
    while i < head {
        if hay[i] == b'\n' {
            return Some(i);
        }
        i += 1;
    }
    memchr::memchr(b'\n', hay.get(16..)?).map(|i| i + 16)
}

/// The floor: splits the bytes into lines and parses each group code, nothing else. Any DXF
/// reader has to do at least this much work.
fn tokenize(bytes: &[u8]) -> (u64, u64) {
    let mut pos = 0;
    let mut groups = 0u64;
    let mut checksum = 0u64;
    while let Some(end) = find_newline(&bytes[pos..]) {
        let code_line = &bytes[pos..pos + end];
        pos += end + 1;
        let Some(end) = find_newline(&bytes[pos..]) else { break };
        let value = &bytes[pos..pos + end];
        pos += end + 1;
        let mut code = 0u64;
        for &d in code_line {
            if d.is_ascii_digit() {
                code = code * 10 + u64::from(d - b'0');
            }
        }
        groups += 1;
        checksum = checksum.wrapping_add(code + value.len() as u64);
    }
    (groups, checksum)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: throughput FILE [RUNS]");
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    let bytes = std::fs::read(&path).expect("read the file");
    let options = zk_cad::ReadOptions::default();
    let (mut tok, mut parse, mut own) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        black_box(zk_cad::count_groups(black_box(&bytes)));
        own.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        black_box(tokenize(black_box(&bytes)));
        tok.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let drawing = zk_cad::read(black_box(&bytes), &options).expect("the file reads");
        parse.push(t.elapsed().as_secs_f64());
        drop(black_box(drawing));
    }
    let mb = bytes.len() as f64 / 1e6;
    let (tok_min, parse_min) =
        (tok.iter().copied().fold(f64::MAX, f64::min), parse.iter().copied().fold(f64::MAX, f64::min));
    let (tok_med, parse_med) = (median(&mut tok), median(&mut parse));
    println!("file: {path} ({mb:.1} MB), {runs} runs each, interleaved");
    println!("tokenizer: min {tok_min:.3}s ({:.0} MB/s), median {tok_med:.3}s", mb / tok_min);
    println!(
        "zk-cad's own tokenizer: min {:.3}s, median {:.3}s",
        own.iter().copied().fold(f64::MAX, f64::min),
        median(&mut own)
    );
    println!("zk-cad read: min {parse_min:.3}s ({:.0} MB/s), median {parse_med:.3}s", mb / parse_min);
    println!(
        "share of tokenizer speed: {:.0}% (min), {:.0}% (median)",
        100.0 * tok_min / parse_min,
        100.0 * tok_med / parse_med
    );
}
