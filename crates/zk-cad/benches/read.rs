//! Criterion benchmarks of the reader.
//!
//! ```sh
//! cargo bench -p zk-cad --bench read                              # corpus: zk-cad vs the dxf crate, tessellation
//! ZK_CAD_BIG_DXF=/tmp/big.dxf cargo bench -p zk-cad --bench read  # and the 166 MB drawing
//! ```
//!
//! The corpus is `$ZK_CAD_CORPUS` or `../shared/cad-corpus`; without it a generated drawing
//! stands in. The figures in bench/cad/README.md come from the example binaries, which interleave
//! the runs (fairer on a shared machine); these benchmarks are for comparing changes.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod baseline;

fn corpus_files() -> Vec<Vec<u8>> {
    let dir = std::env::var_os("ZK_CAD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cad-corpus"));
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dxf")) {
                files.extend(std::fs::read(&path));
            }
        }
    }
    if files.is_empty() {
        // No corpus: a generated drawing of 20,000 lines.
        let mut dxf = b"0\nSECTION\n2\nENTITIES\n".to_vec();
        for i in 0..20_000 {
            dxf.extend_from_slice(format!("0\nLINE\n8\nL{}\n10\n{i}.5\n20\n0\n11\n{i}.5\n21\n100\n", i % 7).as_bytes());
        }
        dxf.extend_from_slice(b"0\nENDSEC\n0\nEOF\n");
        files.push(dxf);
    }
    files
}

fn corpus(c: &mut Criterion) {
    let files = corpus_files();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let options = zk_cad::ReadOptions::default();
    let mut group = c.benchmark_group("corpus");
    group.sample_size(10).throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("zk-cad read + facts", |b| {
        b.iter(|| {
            for file in &files {
                if let Ok((drawing, _)) = zk_cad::read(black_box(file), &options) {
                    black_box(zk_cad::facts(&drawing, 32));
                }
            }
        })
    });
    let drawings: Vec<zk_cad::Drawing> =
        files.iter().filter_map(|f| zk_cad::read(f, &options).ok()).map(|(d, _)| d).collect();
    group.bench_function("zk-cad tessellate every layout", |b| {
        b.iter(|| {
            for drawing in &drawings {
                for layout in &drawing.layouts {
                    let _ = black_box(zk_cad::tessellate(drawing, layout, &zk_cad::TessellateOptions::default()));
                }
            }
        })
    });
    std::panic::set_hook(Box::new(|_| {}));
    group.bench_function("dxf 0.6.2 Drawing::load", |b| {
        b.iter(|| {
            for file in &files {
                let _ = black_box(std::panic::catch_unwind(|| {
                    dxf::Drawing::load(&mut std::io::Cursor::new(&file[..])).is_ok()
                }));
            }
        })
    });
    let _ = std::panic::take_hook();
    group.finish();
}

fn big_file(c: &mut Criterion) {
    let Some(path) = std::env::var_os("ZK_CAD_BIG_DXF") else { return };
    let Ok(bytes) = std::fs::read(&path) else { return };
    let options = zk_cad::ReadOptions::default();
    let mut group = c.benchmark_group("big");
    group.sample_size(10).throughput(Throughput::Bytes(bytes.len() as u64));
    group
        .bench_function("in-memory tokenizer (floor)", |b| b.iter(|| baseline::in_memory_tokenizer(black_box(&bytes))));
    group.bench_function("streaming tokenizer (BufRead)", |b| {
        b.iter(|| baseline::streaming_tokenizer(black_box(&bytes)))
    });
    // The drawing is dropped outside the timing, as in examples/throughput.rs.
    group.bench_function("zk-cad read", |b| b.iter_with_large_drop(|| zk_cad::read(black_box(&bytes), &options)));
    if let Ok((drawing, _)) = zk_cad::read(&bytes, &options)
        && let Some(model) = drawing.layouts.iter().find(|l| l.is_model())
    {
        group.bench_function("zk-cad tessellate model space", |b| {
            b.iter_with_large_drop(|| zk_cad::tessellate(&drawing, model, &zk_cad::TessellateOptions::default()))
        });
    }
    group.finish();
}

criterion_group!(benches, corpus, big_file);
criterion_main!(benches);
