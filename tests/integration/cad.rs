//! `zk-agent cad info` and `cad render`, black-box: the project's own fixtures (a GBK-encoded
//! drawing written here, an R2018 DWG in crates/zk-dwg/tests/fixtures), files from the shared CAD
//! corpus (every DWG among them) and the bad inputs, and pinned PNG snapshots of chosen corpus
//! drawings.
//!
//! The corpus is `$ZK_CAD_CORPUS`, or `../shared/cad-corpus` beside the repository: required under
//! `CI=true`, skipped with a message elsewhere.
//!
//! Snapshots live in `tests/snapshots/cad/*.png` (256 pixels wide), checked by eye once and then
//! pinned. A render matches when it has the same size and at most 1 % of its pixels differ by more
//! than a quarter of the colour range in some channel (anti-aliasing may move between versions of
//! tiny-skia). To re-pin after a deliberate change, look at the new images and run
//! `ZK_UPDATE_SNAPSHOTS=1 cargo test -p zk-tests --test integration cad::`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The binary under test (`target/<profile>/zk-agent`, or `ZK_AGENT_BIN`).
fn binary() -> PathBuf {
    zk_tests::process::zk_agent_binary()
}

/// `zk-agent cad ARGS…` with a clean environment rooted in `dir`.
fn cad(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("ZK_DATA_DIR", dir)
        .current_dir(dir)
        .arg("cad")
        .args(args)
        .stdin(Stdio::null());
    command
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The corpus folder, or `None` (after saying so) when it is absent outside CI.
fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ZK_CAD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/cad-corpus"));
    if dir.join("manifest.csv").is_file() {
        return Some(dir);
    }
    assert!(!ci(), "the CAD corpus is required under CI=true: set ZK_CAD_CORPUS or provide {}", dir.display());
    eprintln!("SKIPPED: no CAD corpus at {} (set ZK_CAD_CORPUS to run these tests)", dir.display());
    None
}

fn bad_inputs_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ZK_CAD_BAD_INPUTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/bad-inputs/dxf"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(!ci(), "the bad inputs are required under CI=true: set ZK_CAD_BAD_INPUTS or provide {}", dir.display());
    eprintln!("SKIPPED: no bad inputs at {} (set ZK_CAD_BAD_INPUTS to run this test)", dir.display());
    None
}

/// A small R2000 drawing in GBK (`$DWGCODEPAGE` ANSI_936): a layer, a line, a circle, a block
/// inserted twice, a dimension-free TEXT reading 中文图层 and an MTEXT.
fn gbk_fixture() -> Vec<u8> {
    // 中文图层 in GBK.
    let chinese: &[u8] = &[0xD6, 0xD0, 0xCE, 0xC4, 0xCD, 0xBC, 0xB2, 0xE3];
    let mut dxf = Vec::new();
    dxf.extend_from_slice(
        b"0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1015\n9\n$DWGCODEPAGE\n3\nANSI_936\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n\
0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n0\nLAYER\n2\nWalls\n70\n0\n62\n1\n6\nCONTINUOUS\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n2\nDoor\n70\n0\n10\n0\n20\n0\n0\nLINE\n8\n0\n10\n0\n20\n0\n11\n10\n21\n10\n0\nENDBLK\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n0\nLINE\n8\nWalls\n10\n0\n20\n0\n11\n1000\n21\n0\n0\nCIRCLE\n8\nWalls\n10\n500\n20\n300\n40\n200\n\
0\nINSERT\n8\n0\n2\nDoor\n10\n100\n20\n100\n0\nINSERT\n8\n0\n2\nDoor\n10\n300\n20\n100\n0\nTEXT\n8\nWalls\n10\n100\n20\n600\n40\n50\n1\n",
    );
    dxf.extend_from_slice(chinese);
    dxf.extend_from_slice(b"\n0\nMTEXT\n8\n0\n10\n100\n20\n800\n40\n30\n41\n600\n1\n\\fSimSun;");
    dxf.extend_from_slice(chinese);
    dxf.extend_from_slice(b" MTEXT\n0\nENDSEC\n0\nEOF\n");
    dxf
}

/// A UTF-8 drawing (R2013) of East Asian text: an SHX style with a Chinese big font, a SimSun
/// TrueType style, Japanese and Korean, an MTEXT paragraph wrapped at its width with a stacked
/// fraction, a rotated text and a character no bundled font has (drawn as a box).
fn cjk_fixture() -> Vec<u8> {
    let text = |style: &str, x: f64, y: f64, height: f64, rotation: f64, s: &str| {
        format!("0\nTEXT\n8\n0\n7\n{style}\n10\n{x}\n20\n{y}\n40\n{height}\n50\n{rotation}\n1\n{s}\n")
    };
    let mut entities = String::new();
    entities += &text("HZ", 0.0, 100.0, 10.0, 0.0, "图层 A-WALL 墙体");
    entities += &text("SONG", 0.0, 80.0, 10.0, 0.0, "宋体 SimSun 文字");
    entities += &text("HZ", 0.0, 62.0, 8.0, 0.0, "日本語のテキスト カタカナ");
    entities += &text("HZ", 0.0, 48.0, 8.0, 0.0, "한국어 텍스트");
    entities += &text("HZ", 150.0, 0.0, 8.0, 30.0, "旋转 30%%d");
    entities += &text("HZ", 0.0, -20.0, 6.0, 0.0, "Devanagari: क");
    entities += "0\nMTEXT\n8\n0\n7\nSONG\n10\n0\n20\n36\n40\n5\n41\n120\n71\n1\n\
1\n建筑平面图：本图尺寸以毫米为单位，标高以米为单位。\\P比例 1\\S1/100;\n";
    format!(
        "0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1027\n0\nENDSEC\n\
0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nSTYLE\n\
0\nSTYLE\n2\nHZ\n70\n0\n40\n0\n41\n1\n3\ntxt.shx\n4\ngbcbig.shx\n\
0\nSTYLE\n2\nSONG\n70\n0\n40\n0\n41\n1\n3\nsimsun.ttc\n4\n\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n{entities}0\nENDSEC\n0\nEOF\n"
    )
    .into_bytes()
}

/// Layer state: what shows is a red square with the label SHOWN (layer Shown), a green
/// triangle (block content on a visible layer, inserted on a layer that is off) and a green text
/// THAWED. Hidden: a cross on a layer that is off, a circle and a text on a
/// frozen layer, a layer-0 diamond inside the insert on the off layer, and a block (a circle on
/// Shown and a text on Thawed) inserted on the frozen layer.
fn layer_state_fixture() -> Vec<u8> {
    let line = |layer: &str, (x0, y0): (f64, f64), (x1, y1): (f64, f64)| {
        format!("0\nLINE\n8\n{layer}\n10\n{x0}\n20\n{y0}\n11\n{x1}\n21\n{y1}\n")
    };
    let square = |layer: &str, x: f64, y: f64, side: f64| {
        let c = [(x, y), (x + side, y), (x + side, y + side), (x, y + side)];
        (0..4).map(|i| line(layer, c[i], c[(i + 1) % 4])).collect::<String>()
    };
    let text = |layer: &str, x: f64, y: f64, s: &str| format!("0\nTEXT\n8\n{layer}\n10\n{x}\n20\n{y}\n40\n8\n1\n{s}\n");
    let circle = |layer: &str, x: f64, y: f64, r: f64| format!("0\nCIRCLE\n8\n{layer}\n10\n{x}\n20\n{y}\n40\n{r}\n");
    let blocks = format!(
        "0\nBLOCK\n2\nOnOff\n10\n0\n20\n0\n{}{}{}{}{}{}{}0\nENDBLK\n0\nBLOCK\n2\nOnFrozen\n10\n0\n20\n0\n{}{}0\nENDBLK\n",
        line("0", (0.0, 25.0), (25.0, 50.0)),
        line("0", (25.0, 50.0), (50.0, 25.0)),
        line("0", (50.0, 25.0), (25.0, 0.0)),
        line("0", (25.0, 0.0), (0.0, 25.0)),
        line("Thawed", (5.0, 5.0), (45.0, 5.0)),
        line("Thawed", (45.0, 5.0), (25.0, 45.0)),
        line("Thawed", (25.0, 45.0), (5.0, 5.0)),
        circle("Shown", 25.0, 25.0, 20.0),
        text("Thawed", 0.0, 0.0, "IN FROZEN INSERT"),
    );
    let entities = [
        square("Shown", 0.0, 0.0, 50.0),
        text("Shown", 0.0, -15.0, "SHOWN"),
        line("Off", (60.0, 0.0), (110.0, 50.0)),
        line("Off", (60.0, 50.0), (110.0, 0.0)),
        circle("Frozen", 85.0, 85.0, 25.0),
        text("Frozen", 60.0, -15.0, "FROZEN"),
        "0\nINSERT\n8\nOff\n2\nOnOff\n10\n120\n20\n0\n".to_owned(),
        "0\nINSERT\n8\nFrozen\n2\nOnFrozen\n10\n0\n20\n60\n".to_owned(),
        text("Thawed", 120.0, -15.0, "THAWED"),
    ]
    .concat();
    format!(
        "0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1015\n0\nENDSEC\n\
0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n0\nLAYER\n2\n0\n70\n0\n62\n7\n\
0\nLAYER\n2\nShown\n70\n0\n62\n1\n0\nLAYER\n2\nOff\n70\n0\n62\n-5\n\
0\nLAYER\n2\nFrozen\n70\n1\n62\n3\n0\nLAYER\n2\nThawed\n70\n0\n62\n3\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nBLOCKS\n{blocks}0\nENDSEC\n0\nSECTION\n2\nENTITIES\n{entities}0\nENDSEC\n0\nEOF\n"
    )
    .into_bytes()
}

/// The dark side of the same rule: a square and a text in true-colour black and one in `#202020`
/// (ΔE under 1 from the dark background), beside an ACI 250 (`#333333`) square that keeps its grey.
fn black_fixture() -> Vec<u8> {
    "0\nSECTION\n2\nENTITIES\n\
0\nLWPOLYLINE\n420\n0\n90\n4\n70\n1\n10\n0\n20\n0\n10\n50\n20\n0\n10\n50\n20\n50\n10\n0\n20\n50\n\
0\nTEXT\n420\n0\n10\n0\n20\n-15\n40\n8\n1\nBLACK\n\
0\nCIRCLE\n420\n2105376\n10\n25\n20\n25\n40\n15\n\
0\nLWPOLYLINE\n62\n250\n90\n4\n70\n1\n10\n60\n20\n0\n10\n110\n20\n0\n10\n110\n20\n50\n10\n60\n20\n50\n\
0\nENDSEC\n0\nEOF\n"
        .as_bytes()
        .to_vec()
}

/// A drawing made in true-colour white (group 420 16777215: a square, a circle and a text) beside
/// a red square, and a line in `#F5F5F5`: on the light background the white ones are drawn black.
fn white_fixture() -> Vec<u8> {
    "0\nSECTION\n2\nENTITIES\n\
0\nLWPOLYLINE\n420\n16777215\n90\n4\n70\n1\n10\n0\n20\n0\n10\n50\n20\n0\n10\n50\n20\n50\n10\n0\n20\n50\n\
0\nCIRCLE\n420\n16777215\n10\n25\n20\n25\n40\n15\n\
0\nTEXT\n420\n16777215\n10\n0\n20\n-15\n40\n8\n1\nWHITE\n\
0\nLWPOLYLINE\n62\n1\n90\n4\n70\n1\n10\n60\n20\n0\n10\n110\n20\n0\n10\n110\n20\n50\n10\n60\n20\n50\n\
0\nLINE\n420\n16119285\n10\n60\n20\n-10\n11\n110\n21\n-10\n0\nENDSEC\n0\nEOF\n"
        .as_bytes()
        .to_vec()
}

/// Hatches that name a pattern and carry no pattern lines, each labelled: seven from the bundled
/// library (AR-CONC at a tenth of its scale, as architectural patterns are used) and one name no
/// library knows (drawn as ANSI31).
fn patterns_fixture() -> Vec<u8> {
    let names = ["ANSI31", "ANSI37", "BRICK", "HONEY", "EARTH", "AR-CONC", "STARS", "gost_non-metal"];
    let mut entities = String::new();
    for (i, name) in names.iter().enumerate() {
        let scale = if *name == "AR-CONC" { 0.1 } else { 1.0 };
        let (x, y) = ((i % 4) as f64 * 50.0, (i / 4) as f64 * -60.0);
        let corners: String = [(x, y), (x + 40.0, y), (x + 40.0, y + 40.0), (x, y + 40.0)]
            .iter()
            .map(|(cx, cy)| format!("10\n{cx}\n20\n{cy}\n"))
            .collect();
        entities += &format!(
            "0\nHATCH\n8\n0\n10\n0\n20\n0\n30\n0\n210\n0\n220\n0\n230\n1\n2\n{name}\n70\n0\n71\n0\n\
91\n1\n92\n7\n72\n0\n73\n1\n93\n4\n{corners}97\n0\n75\n0\n76\n1\n52\n0\n41\n{scale}\n77\n0\n78\n0\n98\n0\n\
0\nTEXT\n8\n0\n10\n{}\n20\n{}\n40\n4\n72\n1\n11\n{}\n21\n{}\n1\n{name}\n",
            x + 20.0,
            y - 8.0,
            x + 20.0,
            y - 8.0
        );
    }
    format!(
        "0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1015\n9\n$MEASUREMENT\n70\n1\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n{entities}0\nENDSEC\n0\nEOF\n"
    )
    .into_bytes()
}

#[test]
fn cad_info_reads_a_gbk_drawing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.dxf");
    std::fs::write(&file, gbk_fixture()).unwrap();
    let path = file.to_str().unwrap();

    let output = run(&mut cad(dir.path(), &["info", path]));
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    for expected in ["AC1015", "R2000", "ANSI_936", "Walls", "Door", "2 inserts", "LINE", "中文图层", "texts:       2"]
    {
        assert!(stdout.contains(expected), "info shows {expected:?}:\n{stdout}");
    }

    let output = run(&mut cad(dir.path(), &["info", path, "--json"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let facts = &json["facts"];
    assert_eq!(facts["version"], "AC1015");
    assert_eq!(facts["codepage"], "ANSI_936");
    assert_eq!(facts["units"]["insunits"], 4);
    assert_eq!(facts["entity_counts"]["LINE"], 2, "one in ENTITIES, one in the block");
    assert_eq!(facts["entity_counts"]["INSERT"], 2);
    let door = facts["blocks"].as_array().unwrap().iter().find(|b| b["name"] == "Door").unwrap();
    assert_eq!(door["inserts"], 2);
    let texts: Vec<&str> = facts["texts"].as_array().unwrap().iter().filter_map(|t| t["text"].as_str()).collect();
    assert_eq!(texts, ["中文图层", "中文图层 MTEXT"], "GBK decoded, MTEXT codes stripped");
    assert!(json["diagnostics"].is_array());
    assert!(facts["extents"]["max"]["x"].as_f64().unwrap() >= 1000.0);
}

#[test]
fn cad_info_reports_several_drawings_and_goes_on_past_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let (plan, broken, cjk) = (dir.path().join("plan.dxf"), dir.path().join("broken.dxf"), dir.path().join("cjk.dxf"));
    std::fs::write(&plan, gbk_fixture()).unwrap();
    std::fs::write(&broken, b"this is not a drawing\n").unwrap();
    std::fs::write(&cjk, cjk_fixture()).unwrap();
    let paths = [plan.to_str().unwrap(), broken.to_str().unwrap(), cjk.to_str().unwrap()];

    let mut args = vec!["info", "--json"];
    args.extend(paths);
    let output = run(&mut cad(dir.path(), &args));
    assert_eq!(output.status.code(), Some(1), "one drawing could not be read: {}", text(&output.stderr));
    let lines: Vec<Value> = text(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one JSON line per file, in order: {lines:?}");
    assert_eq!(lines[0]["file"], paths[0]);
    assert_eq!(lines[0]["facts"]["codepage"], "ANSI_936");
    assert_eq!(lines[1]["file"], paths[1]);
    assert!(lines[1]["error"].as_str().is_some_and(|e| !e.is_empty()), "the bad file says why: {}", lines[1]);
    assert!(lines[2]["facts"]["entity_counts"].is_object(), "the file after the bad one is still read");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("broken.dxf") && stderr.contains("1 of 3 drawings"), "{stderr}");

    let output = run(&mut cad(dir.path(), &["info", paths[0], paths[2]]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.matches("file:").count(), 2, "a report per drawing:\n{stdout}");
}

#[test]
fn cad_render_writes_svg_and_png_and_refuses_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.dxf");
    std::fs::write(&file, gbk_fixture()).unwrap();
    let path = file.to_str().unwrap();

    let output = run(&mut cad(dir.path(), &["render", path, "-o", "plan.svg", "--background", "dark"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let svg = std::fs::read_to_string(dir.path().join("plan.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("#1E1E1E") && svg.contains("中文图层"), "{svg}");

    let output = run(&mut cad(dir.path(), &["render", path, "-o", "plan.png", "--width", "300"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let png = tiny_skia::Pixmap::load_png(dir.path().join("plan.png")).unwrap();
    assert_eq!(png.width(), 300);
    assert!(png.pixels().iter().any(|p| p.red() > 200 && p.green() < 100), "the red Walls layer is drawn");

    // Usage: exit 2, with the reason.
    for (args, expected) in [
        (vec!["render", path, "-o", "plan.jpg"], ".svg or .png"),
        (vec!["render", path, "-o", "plan.png", "--layout", "Sheet 9"], "no layout named \"Sheet 9\""),
        (vec!["render", path, "-o", "plan.png", "--width", "0"], "--width"),
        (vec!["render", path], "--output"),
        (vec!["info"], "FILE"),
    ] {
        let output = run(&mut cad(dir.path(), &args));
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains(expected), "{args:?}: {}", text(&output.stderr));
    }

    // Unreadable or refused files: exit 1, with the reason.
    std::fs::write(dir.path().join("notes.dxf"), "these are not the drawings you are looking for\n").unwrap();
    std::fs::write(dir.path().join("old.dwg"), [b"AC1018".as_slice(), &[0u8; 2000]].concat()).unwrap();
    for (args, expected) in [
        (vec!["info", "missing.dxf"], "cannot read"),
        (vec!["info", "notes.dxf"], "not a DXF"),
        (vec!["render", "notes.dxf", "-o", "x.png"], "not a DXF"),
    ] {
        let output = run(&mut cad(dir.path(), &args));
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains(expected), "{args:?}: {}", text(&output.stderr));
    }
    // A DWG that holds no drawing, without dwg2dxf on PATH: the reason and what to do.
    let output = run(cad(dir.path(), &["info", "old.dwg"]).env("PATH", "/nonexistent"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot open this DWG (AC1018): the DWG reader") && stderr.contains("dwg2dxf"), "{stderr}");

    // The size cap comes from CAD_MAX_BYTES and is named in the refusal; a bad value is a usage error.
    let output = run(cad(dir.path(), &["info", path]).env("CAD_MAX_BYTES", "100"));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("CAD_MAX_BYTES"), "{}", text(&output.stderr));
    let output = run(cad(dir.path(), &["info", path]).env("CAD_TIME_BUDGET_SECS", "soon"));
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("CAD_TIME_BUDGET_SECS"), "{}", text(&output.stderr));
}

#[test]
fn corpus_dxf_and_dwg_files() {
    let Some(corpus) = corpus_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dxf = corpus.join("skymakerolof__dxf/test/resources/dimensions.dxf");
    let output = run(&mut cad(dir.path(), &["info", dxf.to_str().unwrap(), "--json"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!json["facts"]["dimensions"].as_array().unwrap().is_empty(), "the dimensions are listed");

    let dwg = corpus.join("LibreDWG__libredwg/test/test-data/2007/Polyline.dwg");
    let output = run(cad(dir.path(), &["info", dwg.to_str().unwrap(), "--json"]).env("PATH", "/nonexistent"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["facts"]["version"], "AC1021");
    assert_eq!(json["facts"]["entity_counts"]["LWPOLYLINE"], 1, "{}", json["facts"]["entity_counts"]);

    // An R10 DWG is older than the built-in reader reads: the reason names the versions it does.
    let dwg = corpus.join("LibreDWG__libredwg/test/test-data/r10/entities.dwg");
    let output = run(cad(dir.path(), &["info", dwg.to_str().unwrap()]).env("PATH", "/nonexistent"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot open this DWG (AC1006)") && stderr.contains("AC1009 (R11/R12) to AC1032"),
        "{stderr}"
    );
    assert!(stderr.contains("install LibreDWG's dwg2dxf or save the drawing as DXF"), "{stderr}");
}

/// A DWG the project wrote (R2018, by acadrust; see crates/zk-dwg/tests): opened, described and
/// drawn like a DXF.
#[test]
fn cad_info_and_render_open_a_dwg() {
    let dir = tempfile::tempdir().unwrap();
    let dwg = workspace_root().join("crates/zk-dwg/tests/fixtures/plan-r2018.dwg");
    let path = dwg.to_str().unwrap();
    let output = run(cad(dir.path(), &["info", path]).env("PATH", "/nonexistent"));
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    for expected in ["AC1032 (R2018)", "Walls", "CIRCLE", "中文图层", "converted from DWG"] {
        assert!(stdout.contains(expected), "info shows {expected:?}:\n{stdout}");
    }
    let output = run(&mut cad(dir.path(), &["render", path, "-o", "plan.png", "--width", "200"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let png = tiny_skia::Pixmap::load_png(dir.path().join("plan.png")).unwrap();
    assert!(png.pixels().iter().any(|p| p.red() > 200 && p.green() < 100), "the red Walls layer is drawn");
}

/// Every DWG of the corpus through `cad info`, without dwg2dxf: R2000 and later open (the bar is
/// 95 %), the rest are refused with the reason, and none crashes.
#[test]
fn corpus_dwgs_open_or_are_refused_with_the_reason() {
    let Some(corpus) = corpus_dir() else { return };
    let manifest = std::fs::read_to_string(corpus.join("manifest.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut modern, mut modern_opened, mut refusals) = (0, 0, Vec::new());
    for line in manifest.lines().skip(1) {
        // file, repo, path, commit, size, version, release, format, …
        let row: Vec<&str> = line.split(',').collect();
        if row.get(7) != Some(&"dwg") {
            continue;
        }
        let (file, version) = (corpus.join(row[0]), row[5]);
        let output = run(cad(dir.path(), &["info", file.to_str().unwrap()]).env("PATH", "/nonexistent"));
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", row[0]);
        let is_modern = ["AC1015", "AC1018", "AC1021", "AC1024", "AC1027", "AC1032"].contains(&version);
        modern += usize::from(is_modern);
        match output.status.code() {
            Some(0) => modern_opened += usize::from(is_modern),
            Some(1) => {
                assert!(stderr.contains(&format!("cannot open this DWG ({version})")), "{}: {stderr}", row[0]);
                assert!(stderr.contains("dwg2dxf") && stderr.trim_end().ends_with("open it again"), "{stderr}");
                refusals.push(format!("{}: {}", row[0], stderr.trim_end()));
            }
            other => panic!("{}: exit {other:?}\n{stderr}", row[0]),
        }
    }
    eprintln!("{modern_opened} of {modern} R2000+ DWG files open; refused:\n  {}", refusals.join("\n  "));
    assert!(modern >= 130, "the corpus's R2000+ DWG files: {modern}");
    assert!(modern_opened * 100 >= modern * 95, "{modern_opened} of {modern} R2000+ DWG files open: under 95 %");
}

#[test]
fn bad_inputs_exit_0_or_1_and_never_crash() {
    let Some(bad) = bad_inputs_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&bad).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds the bad inputs", bad.display());
    for file in files {
        let path = file.to_str().unwrap();
        for (timezone, args) in [
            ("UTC", vec!["info", path]),
            ("Europe/Stockholm", vec!["info", path, "--json"]),
            ("Asia/Shanghai", vec!["render", path, "-o", "out.png", "--width", "128"]),
        ] {
            let output = run(cad(dir.path(), &args).env("TZ", timezone));
            let stderr = text(&output.stderr);
            assert!(
                matches!(output.status.code(), Some(0 | 1)),
                "{args:?} under TZ={timezone}: {:?}\n{stderr}",
                output.status
            );
            assert!(!stderr.contains("panicked"), "{args:?} under TZ={timezone}: {stderr}");
        }
    }
}

/// The pinned snapshot set: (name, corpus file, extra arguments, what it shows).
const SNAPSHOTS: &[(&str, &str, &[&str])] = &[
    // A solid hatch bounded by clockwise arcs.
    ("hatch-clockwise-arcs", "mozman__ezdxf/examples_dxf/clockwise_arcs_hatch.dxf", &[]),
    // Linear and radial dimensions with their blocks, their texts as glyphs.
    ("dimensions", "skymakerolof__dxf/test/resources/dimensions.dxf", &[]),
    // MTEXT in three columns, wrapped at its width.
    ("mtext-columns", "mozman__ezdxf/examples_dxf/mtext_columns_R2018.dxf", &[]),
    // Rotated, scaled block inserts.
    ("blocks", "skymakerolof__dxf/test/resources/blocks1.dxf", &[]),
    // A hatch naming a pattern that is in neither the file nor the library: ANSI31 instead.
    ("hatch-unknown-pattern", "skymakerolof__dxf/test/resources/hatches.dxf", &[]),
    // A paper-space layout with its viewport, on a dark background.
    (
        "paper-layout-dark",
        "skymakerolof__dxf/test/resources/testModelPaperSpace.dxf",
        &["--layout", "Test Sheet", "--background", "dark"],
    ),
];

/// Compares `actual` (PNG bytes) with the pinned `tests/snapshots/cad/NAME.png`, or pins it under
/// `ZK_UPDATE_SNAPSHOTS=1`. Returns a problem, or `None` when it matches.
fn check_snapshot(name: &str, actual: &[u8]) -> Option<String> {
    let pinned_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/cad").join(format!("{name}.png"));
    if std::env::var("ZK_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(pinned_path.parent().unwrap()).unwrap();
        std::fs::write(&pinned_path, actual).unwrap();
        eprintln!("pinned {}", pinned_path.display());
        return None;
    }
    let Ok(pinned) = std::fs::read(&pinned_path) else {
        return Some(format!(
            "{} is missing: look at the render, then pin it with ZK_UPDATE_SNAPSHOTS=1",
            pinned_path.display()
        ));
    };
    let (pinned, actual_pixmap) =
        (tiny_skia::Pixmap::decode_png(&pinned).unwrap(), { tiny_skia::Pixmap::decode_png(actual).unwrap() });
    let saved = std::env::temp_dir().join(format!("zk-cad-snapshot-{name}.png"));
    if (pinned.width(), pinned.height()) != (actual_pixmap.width(), actual_pixmap.height()) {
        std::fs::write(&saved, actual).unwrap();
        return Some(format!(
            "{name}: {}×{} pixels, pinned {}×{} (the render is at {})",
            actual_pixmap.width(),
            actual_pixmap.height(),
            pinned.width(),
            pinned.height(),
            saved.display()
        ));
    }
    let differing = pinned
        .pixels()
        .iter()
        .zip(actual_pixmap.pixels())
        .filter(|(a, b)| {
            let channels = |p: &tiny_skia::PremultipliedColorU8| [p.red(), p.green(), p.blue(), p.alpha()];
            channels(a).iter().zip(channels(b)).any(|(x, y)| x.abs_diff(y) > 64)
        })
        .count();
    let total = pinned.pixels().len();
    if differing * 100 > total {
        std::fs::write(&saved, actual).unwrap();
        return Some(format!(
            "{name}: {differing} of {total} pixels differ (over 1 %); the render is at {}",
            saved.display()
        ));
    }
    None
}

#[test]
fn png_snapshots_match_the_pinned_images() {
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();

    // The project's own drawings run everywhere.
    let mut renders = Vec::new();
    for (name, bytes) in [
        ("gbk-fixture", gbk_fixture()),
        ("cjk-text", cjk_fixture()),
        ("named-patterns", patterns_fixture()),
        ("layer-state", layer_state_fixture()),
        ("white-on-light", white_fixture()),
        ("black-on-dark", black_fixture()),
    ] {
        let file = dir.path().join(format!("{name}.dxf"));
        std::fs::write(&file, bytes).unwrap();
        let extra: Vec<&str> = if name.ends_with("-dark") { vec!["--background", "dark"] } else { Vec::new() };
        renders.push((name.to_owned(), file, extra));
    }
    if let Some(corpus) = corpus_dir() {
        for (name, file, args) in SNAPSHOTS {
            renders.push(((*name).to_owned(), corpus.join(file), args.to_vec()));
        }
    }
    for (name, file, extra) in renders {
        let out = dir.path().join(format!("{name}.png"));
        let mut args = vec!["render", file.to_str().unwrap(), "-o", out.to_str().unwrap(), "--width", "256"];
        args.extend(extra);
        let output = run(&mut cad(dir.path(), &args));
        assert_eq!(output.status.code(), Some(0), "{name}: {}", text(&output.stderr));
        problems.extend(check_snapshot(&name, &std::fs::read(&out).unwrap()));
    }
    assert!(problems.is_empty(), "snapshots differ:\n{}", problems.join("\n"));
}
