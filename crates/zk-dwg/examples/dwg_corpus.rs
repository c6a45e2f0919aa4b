//! The figures of bench/cad/README.md's "DWG" section: every DWG of the corpus converted in a
//! child process of its own (so an abort, a stack overflow or a hang shows as such), read back by
//! zk-cad, with time and peak memory per file.
//!
//! ```sh
//! cargo run --release -p zk-dwg --example dwg_corpus -- ../shared/cad-corpus [TIMEOUT_SECS]
//! ```
//!
//! `dwg_corpus --make-big N OUT.dwg` writes a seeded R2018 DWG of N lines, N circles and N texts
//! on 16 layers (for the large-file figure); `dwg_corpus --one FILE` converts one file.
//!
//! A file counts as opened when the DXF converts and zk-cad reads entities from it. The child
//! (`--one FILE`) prints one tab-separated line; its peak memory is `VmHWM` of
//! `/proc/self/status` (Linux), the whole process, the file's bytes included.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--one") if args.len() == 2 => {
            one(Path::new(&args[1]));
            ExitCode::SUCCESS
        }
        Some("--make-big") if args.len() == 3 => {
            make_big(args[1].parse().unwrap(), Path::new(&args[2]));
            ExitCode::SUCCESS
        }
        Some(corpus) => {
            let timeout = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(60);
            corpus_run(Path::new(corpus), Duration::from_secs(timeout))
        }
        None => {
            eprintln!("usage: dwg_corpus CORPUS_DIR [TIMEOUT_SECS]  (or --one FILE)");
            ExitCode::from(2)
        }
    }
}

/// Converts one file and prints `status version ms entities-read entities-drawn dxf-bytes`.
fn one(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(|| zk_dwg::to_dxf(&bytes, &zk_dwg::Options::default()));
    let convert_ms = started.elapsed().as_secs_f64() * 1e3;
    let line = match outcome {
        Err(_) => "panic\t-\t0\t0\t0\t0".to_owned(),
        Ok(Err(error)) => {
            format!("refused\t{}\t{convert_ms:.2}\t0\t0\t0\t{error}", zk_dwg::version(&bytes).unwrap_or("-"))
        }
        Ok(Ok(converted)) => {
            let read = zk_cad::read(&converted.dxf, &zk_cad::ReadOptions::default());
            let drawn = read.as_ref().map_or(0, |(drawing, _)| {
                let facts = zk_cad::facts(drawing, 32);
                facts.entity_counts.values().sum::<u64>() + facts.unsupported_entities.values().sum::<u64>()
            });
            let status = match (&read, drawn, converted.recovered) {
                (Err(_), _, _) | (_, 0, _) => "no-drawing",
                (_, _, true) => "recovered",
                _ => "opened",
            };
            format!(
                "{status}\t{}\t{convert_ms:.2}\t{}\t{drawn}\t{}",
                converted.version,
                converted.entities,
                converted.dxf.len()
            )
        }
    };
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()))
        .unwrap_or(0);
    println!("{line}\t{peak_kib}");
}

/// Writes an R2018 DWG of `n` lines, `n` circles and `n` texts spread over 16 layers.
fn make_big(n: usize, out: &Path) {
    use acadrust::entities::{Circle, EntityType, Line, Text};
    use acadrust::types::{Color, DxfVersion, Vector3};
    let mut document = acadrust::CadDocument::with_version(DxfVersion::AC1032);
    for layer in 0..16 {
        let color = Color::from_index(1 + layer);
        document.layers.add(acadrust::tables::Layer::with_color(format!("L{layer}"), color)).unwrap();
    }
    for i in 0..n {
        let (x, y) = ((i % 1000) as f64 * 10.0, (i / 1000) as f64 * 10.0);
        let layer = format!("L{}", i % 16);
        let mut line = Line::from_coords(x, y, 0.0, x + 8.0, y + 3.0, 0.0);
        line.common.layer.clone_from(&layer);
        document.add_entity(EntityType::Line(line)).unwrap();
        let mut circle = Circle::from_coords(x + 4.0, y + 4.0, 0.0, 2.5);
        circle.common.layer.clone_from(&layer);
        document.add_entity(EntityType::Circle(circle)).unwrap();
        let mut text = Text::with_value(format!("T{i}"), Vector3::new(x, y + 6.0, 0.0)).with_height(1.5);
        text.common.layer = layer;
        document.add_entity(EntityType::Text(text)).unwrap();
    }
    std::fs::write(out, acadrust::DwgWriter::write_to_vec(&document).unwrap()).unwrap();
    println!("{}: {} bytes, {} entities", out.display(), std::fs::metadata(out).unwrap().len(), 3 * n);
}

struct Row {
    file: String,
    version: String,
    size: u64,
    status: String,
    ms: f64,
    read: u64,
    drawn: u64,
    dxf_bytes: u64,
    peak_kib: u64,
}

fn corpus_run(corpus: &Path, timeout: Duration) -> ExitCode {
    let manifest = std::fs::read_to_string(corpus.join("manifest.csv")).unwrap();
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file_column, version_column, format_column) = (column("file"), column("version"), column("format"));
    let me = std::env::current_exe().unwrap();
    let mut rows = Vec::new();
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        if row.get(format_column) != Some(&"dwg") {
            continue;
        }
        let path: PathBuf = corpus.join(row[file_column]);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let (status, fields) = child(&me, &path, timeout);
        let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        rows.push(Row {
            file: row[file_column].to_owned(),
            version: row[version_column].to_owned(),
            size,
            status,
            ms: field(2),
            read: field(3) as u64,
            drawn: field(4) as u64,
            dxf_bytes: field(5) as u64,
            peak_kib: fields.last().and_then(|f| f.parse().ok()).unwrap_or(0),
        });
    }
    report(&rows);
    ExitCode::SUCCESS
}

/// Runs `--one path` in a child process; its status (the child's, or `timeout`, `died …`) and fields.
fn child(me: &Path, path: &Path, timeout: Duration) -> (String, Vec<String>) {
    let mut process = Command::new(me)
        .arg("--one")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let exit = loop {
        if let Some(status) = process.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = process.kill();
            let _ = process.wait();
            return ("timeout".to_owned(), Vec::new());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut out = String::new();
    process.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    if !exit.success() {
        return (format!("died ({exit})"), Vec::new());
    }
    let fields: Vec<String> = out.trim_end().split('\t').map(str::to_owned).collect();
    (fields.first().cloned().unwrap_or_default(), fields)
}

fn report(rows: &[Row]) {
    const R2000_AND_LATER: [&str; 6] = ["AC1015", "AC1018", "AC1021", "AC1024", "AC1027", "AC1032"];
    let mut by_version: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for row in rows {
        *by_version.entry(&row.version).or_default().entry(&row.status).or_default() += 1;
    }
    println!("| version | files | opened | of which recovered | refused | panics, deaths, timeouts |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (version, statuses) in &by_version {
        let count = |s: &str| statuses.get(s).copied().unwrap_or(0);
        let files: usize = statuses.values().sum();
        let bad = files - count("opened") - count("recovered") - count("refused") - count("no-drawing");
        println!(
            "| {version} | {files} | {} | {} | {} | {bad} |",
            count("opened") + count("recovered"),
            count("recovered"),
            count("refused") + count("no-drawing"),
        );
    }
    let modern: Vec<&Row> = rows.iter().filter(|r| R2000_AND_LATER.contains(&r.version.as_str())).collect();
    let opened: Vec<&Row> = rows.iter().filter(|r| r.status == "opened" || r.status == "recovered").collect();
    let modern_opened = modern.iter().filter(|r| r.status == "opened" || r.status == "recovered").count();
    println!(
        "\nR2000 and later: {modern_opened} of {} open ({:.1} %)",
        modern.len(),
        100.0 * modern_opened as f64 / modern.len().max(1) as f64
    );
    let failures: Vec<String> = rows
        .iter()
        .filter(|r| !matches!(r.status.as_str(), "opened" | "recovered" | "refused" | "no-drawing"))
        .map(|r| format!("{} {}", r.status, r.file))
        .collect();
    println!("panics, aborts, timeouts: {} {failures:?}", failures.len());
    let mut ms: Vec<f64> = opened.iter().map(|r| r.ms).collect();
    ms.sort_by(f64::total_cmp);
    let slowest = opened.iter().max_by(|a, b| a.ms.total_cmp(&b.ms));
    println!(
        "conversion time of the opened files: total {:.3} s, median {:.2} ms, slowest {:.1} ms ({})",
        ms.iter().sum::<f64>() / 1e3,
        ms.get(ms.len() / 2).copied().unwrap_or(0.0),
        slowest.map_or(0.0, |r| r.ms),
        slowest.map_or("-", |r| r.file.as_str()),
    );
    let mut peaks: Vec<u64> = opened.iter().map(|r| r.peak_kib).collect();
    peaks.sort_unstable();
    let largest = opened.iter().max_by_key(|r| r.peak_kib);
    println!(
        "peak memory of a child (VmHWM): median {} KiB, largest {} KiB ({}, {} bytes of DWG)",
        peaks.get(peaks.len() / 2).copied().unwrap_or(0),
        largest.map_or(0, |r| r.peak_kib),
        largest.map_or("-", |r| r.file.as_str()),
        largest.map_or(0, |r| r.size),
    );
    let (read, drawn): (u64, u64) = opened.iter().fold((0, 0), |(a, b), r| (a + r.read, b + r.drawn));
    let equal = opened.iter().filter(|r| r.read == r.drawn).count();
    println!(
        "entities: {read} found by the DWG reader, {drawn} in zk-cad's drawings; equal in {equal} of {} files",
        opened.len()
    );
    let mut ratios: Vec<f64> = opened.iter().map(|r| r.dxf_bytes as f64 / r.size.max(1) as f64).collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "DXF size / DWG size: median {:.1}, largest {:.1}",
        ratios.get(ratios.len() / 2).copied().unwrap_or(0.0),
        ratios.last().copied().unwrap_or(0.0)
    );
}
