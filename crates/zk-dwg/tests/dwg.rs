//! DWG to DXF, read back by zk-cad: drawings of known content written as DWG in every version,
//! the committed fixture, damaged copies of it, and every DWG of the shared corpus.
//!
//! The corpus is `$ZK_CAD_CORPUS`, or `../shared/cad-corpus` beside the repository: required under
//! `CI=true`, skipped with a message elsewhere. The fixture `tests/fixtures/plan-r2018.dwg` is
//! written by `drawing()` below; re-write it with `ZK_UPDATE_FIXTURES=1 cargo test -p zk-dwg`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use acadrust::entities::{Circle, EntityType, Line, MText, Text};
use acadrust::tables::Layer;
use acadrust::types::{Color, DxfVersion, Vector3};
use acadrust::{CadDocument, DwgWriter};
use zk_dwg::{DwgError, Options};

const CHINESE: &str = "中文图层";

/// A drawing of known content: layer Walls (red) with a line and a circle, a TEXT on layer 0,
/// and from R2007 on (Unicode strings in the DWG) an MTEXT in Chinese.
fn drawing(version: DxfVersion) -> CadDocument {
    let mut document = CadDocument::with_version(version);
    document.layers.add(Layer::with_color("Walls", Color::from_index(1))).unwrap();
    let mut line = Line::from_coords(0.0, 0.0, 0.0, 1000.0, 0.0, 0.0);
    line.common.layer = "Walls".to_owned();
    document.add_entity(EntityType::Line(line)).unwrap();
    let mut circle = Circle::from_coords(500.0, 300.0, 0.0, 200.0);
    circle.common.layer = "Walls".to_owned();
    document.add_entity(EntityType::Circle(circle)).unwrap();
    let text = Text::with_value("Plan 1", Vector3::new(100.0, 600.0, 0.0)).with_height(50.0);
    document.add_entity(EntityType::Text(text)).unwrap();
    if version >= DxfVersion::AC1021 {
        let mtext = MText::with_value(CHINESE, Vector3::new(100.0, 800.0, 0.0)).with_height(30.0);
        document.add_entity(EntityType::MText(Box::new(mtext))).unwrap();
    }
    document
}

/// Converts and reads back; the facts of the result.
fn facts_of(dwg: &[u8]) -> (zk_dwg::Converted, zk_cad::Facts) {
    let converted = zk_dwg::to_dxf(dwg, &Options::default()).unwrap();
    let (drawing, _) = zk_cad::read(&converted.dxf, &zk_cad::ReadOptions::default()).unwrap();
    let facts = zk_cad::facts(&drawing, 32);
    (converted, facts)
}

fn assert_known_content(facts: &zk_cad::Facts, version: &str, with_mtext: bool) {
    assert_eq!(facts.version.as_deref(), Some(version));
    assert_eq!(facts.entity_counts.get("LINE"), Some(&1), "{version}: {:?}", facts.entity_counts);
    assert_eq!(facts.entity_counts.get("CIRCLE"), Some(&1), "{version}: {:?}", facts.entity_counts);
    assert_eq!(facts.entity_counts.get("TEXT"), Some(&1), "{version}: {:?}", facts.entity_counts);
    let walls = facts.layers.iter().find(|l| l.name == "Walls").unwrap();
    assert_eq!((walls.entities, walls.rgb.as_deref()), (2, Some("#FF0000")), "{version}: {walls:?}");
    let texts: Vec<&str> = facts.texts.iter().map(|t| t.text.as_str()).collect();
    assert!(texts.contains(&"Plan 1"), "{version}: {texts:?}");
    assert_eq!(texts.contains(&CHINESE), with_mtext, "{version}: {texts:?}");
    let extents = facts.extents.as_ref().unwrap();
    assert!((extents.max.x - 1000.0).abs() < 1e-6 && extents.min.x.abs() < 1e-6, "{version}: {extents:?}");
}

#[test]
fn drawings_written_as_dwg_in_every_version_come_back_as_the_same_drawing() {
    for (version, name) in [
        (DxfVersion::AC1012, "AC1012"),
        (DxfVersion::AC1014, "AC1014"),
        (DxfVersion::AC1015, "AC1015"),
        (DxfVersion::AC1018, "AC1018"),
        (DxfVersion::AC1021, "AC1021"),
        (DxfVersion::AC1024, "AC1024"),
        (DxfVersion::AC1027, "AC1027"),
        (DxfVersion::AC1032, "AC1032"),
    ] {
        let dwg = DwgWriter::write_to_vec(&drawing(version)).unwrap();
        assert_eq!(zk_dwg::version(&dwg), Some(name));
        let (converted, facts) = facts_of(&dwg);
        assert_eq!(converted.version, name);
        assert!(!converted.recovered, "{name}: {:?}", converted.notes);
        assert_known_content(&facts, name, version >= DxfVersion::AC1021);
    }
}

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan-r2018.dwg")
}

#[test]
fn the_committed_fixture_is_the_known_drawing() {
    let path = fixture_path();
    if std::env::var("ZK_UPDATE_FIXTURES").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, DwgWriter::write_to_vec(&drawing(DxfVersion::AC1032)).unwrap()).unwrap();
        eprintln!("wrote {}", path.display());
    }
    let (_, facts) = facts_of(&std::fs::read(&path).unwrap());
    assert_known_content(&facts, "AC1032", true);
}

#[test]
fn the_dxf_cap_and_the_guards_stop_a_real_conversion() {
    let dwg = std::fs::read(fixture_path()).unwrap();
    let converted = zk_dwg::to_dxf(&dwg, &Options::default()).unwrap();
    let limit = converted.dxf.len() - 1;
    let error = zk_dwg::to_dxf(&dwg, &Options { max_dxf_bytes: limit, ..Options::default() }).unwrap_err();
    assert!(matches!(error, DwgError::TooLarge { limit: l } if l == limit), "{error}");
    assert!(zk_dwg::to_dxf(&dwg, &Options { max_dxf_bytes: converted.dxf.len(), ..Options::default() }).is_ok());

    let error = zk_dwg::to_dxf(&dwg, &Options { max_decompressed_bytes: 1024, ..Options::default() }).unwrap_err();
    assert!(matches!(error, DwgError::Unreadable { .. } | DwgError::NothingRecovered { .. }), "{error}");
    assert!(error.to_string().contains("budget"), "the reason names the decompression budget: {error}");

    let past = std::time::Instant::now();
    let error = zk_dwg::to_dxf(&dwg, &Options { deadline: Some(past), ..Options::default() }).unwrap_err();
    assert!(matches!(error, DwgError::DeadlineExceeded), "{error}");
}

/// A small xorshift generator, so that a failing input can be made again from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn damaged_copies_of_the_fixture_never_panic() {
    let dwg = std::fs::read(fixture_path()).unwrap();
    let seed = std::env::var("ZK_DWG_MUTATION_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(42u64);
    let count = std::env::var("ZK_DWG_MUTATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(300usize);
    let mut rng = Rng(seed | 1);
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..count {
        let mut bytes = dwg.clone();
        match i % 3 {
            0 => bytes.truncate(6 + rng.below(dwg.len() - 6)),
            1 => {
                for _ in 0..1 + rng.below(16) {
                    let at = rng.below(bytes.len());
                    bytes[at] ^= 1 << rng.below(8);
                }
            }
            _ => {
                let at = 6 + rng.below(bytes.len() - 10);
                bytes[at..at + 4].copy_from_slice(&[0xFF; 4]);
            }
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| zk_dwg::to_dxf(&bytes, &Options::default())));
        let outcome = outcome.unwrap_or_else(|_| panic!("input {i} of seed {seed}: a panic escaped"));
        let key = match outcome {
            Ok(converted) if converted.recovered => "recovered".to_owned(),
            Ok(_) => "ok".to_owned(),
            Err(error) => format!("{error:?}").split([' ', '{', '(']).next().unwrap_or_default().to_owned(),
        };
        *outcomes.entry(key).or_default() += 1;
    }
    eprintln!("{count} damaged copies (seed {seed}): {outcomes:?}");
    assert!(!outcomes.contains_key("Crashed"), "{outcomes:?}");
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ZK_CAD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cad-corpus"));
    if dir.join("manifest.csv").is_file() {
        return Some(dir);
    }
    assert!(!ci(), "the CAD corpus is required under CI=true: set ZK_CAD_CORPUS or provide {}", dir.display());
    eprintln!("SKIPPED: no CAD corpus at {} (set ZK_CAD_CORPUS to run this test)", dir.display());
    None
}

/// The corpus's DWG files as (path relative to the corpus, `$ACADVER` from the manifest).
fn corpus_dwgs(corpus: &Path) -> Vec<(String, String)> {
    let manifest = std::fs::read_to_string(corpus.join("manifest.csv")).unwrap();
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file, version, format) = (column("file"), column("version"), column("format"));
    lines
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|row| row.get(format) == Some(&"dwg"))
        .map(|row| (row[file].to_owned(), row[version].to_owned()))
        .collect()
}

const R2000_AND_LATER: [&str; 6] = ["AC1015", "AC1018", "AC1021", "AC1024", "AC1027", "AC1032"];

#[test]
fn corpus_dwgs_of_r2000_and_later_open() {
    let Some(corpus) = corpus_dir() else { return };
    let dwgs = corpus_dwgs(&corpus);
    assert!(dwgs.len() >= 150, "the manifest lists the corpus's DWG files: {}", dwgs.len());
    // Per version: (files, opened, recovered).
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let (mut reader_entities, mut drawing_entities) = (0usize, 0u64);
    let mut refused = Vec::new();
    for (file, version) in &dwgs {
        let bytes = std::fs::read(corpus.join(file)).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| zk_dwg::to_dxf(&bytes, &Options::default())))
            .unwrap_or_else(|_| panic!("{file}: a panic escaped"));
        let row = table.entry(version.clone()).or_default();
        row.0 += 1;
        let converted = match outcome {
            Ok(converted) => converted,
            Err(error) => {
                assert!(!matches!(error, DwgError::Crashed { .. }), "{file}: {error}");
                refused.push(format!("{version} {file}: {error}"));
                continue;
            }
        };
        assert_eq!(converted.version, *version, "{file}");
        let (drawing, _) = zk_cad::read(&converted.dxf, &zk_cad::ReadOptions::default())
            .unwrap_or_else(|e| panic!("{file}: zk-cad cannot read the DXF: {e}"));
        let facts = zk_cad::facts(&drawing, 32);
        let entities = facts.entity_counts.values().sum::<u64>() + facts.unsupported_entities.values().sum::<u64>();
        if entities == 0 {
            refused.push(format!("{version} {file}: no entities"));
            continue;
        }
        row.1 += 1;
        row.2 += usize::from(converted.recovered);
        reader_entities += converted.entities;
        drawing_entities += entities;
    }
    eprintln!("version  files  opened  recovered");
    for (version, (files, opened, recovered)) in &table {
        eprintln!("{version:<8} {files:>5} {opened:>7} {recovered:>10}");
    }
    eprintln!("entities: {reader_entities} by the DWG reader, {drawing_entities} in zk-cad's drawings");
    eprintln!("not opened:\n  {}", refused.join("\n  "));

    let (files, opened) = R2000_AND_LATER
        .iter()
        .filter_map(|v| table.get(*v))
        .fold((0, 0), |(files, opened), row| (files + row.0, opened + row.1));
    assert!(files >= 130, "the corpus holds the R2000+ DWG files: {files}");
    assert!(opened * 100 >= files * 95, "{opened} of {files} R2000+ DWG files open: under 95 %");
    // What zk-cad reads from the DXF is what the DWG reader found: within 1 % over the corpus.
    let (reader, drawing) = (reader_entities as f64, drawing_entities as f64);
    assert!((drawing - reader).abs() <= reader * 0.01, "{drawing_entities} entities in zk-cad, {reader_entities} read");
}
