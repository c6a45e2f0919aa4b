//! Reads DXF files with zk-cad and prints one line per file (or the facts as JSON), with timings.
//! The large-file memory figure in bench/cad/README.md is this binary's peak RSS.
//!
//! ```sh
//! cargo run --release -p zk-cad --example cad_read -- FILE_OR_DIR...      # one line per file
//! cargo run --release -p zk-cad --example cad_read -- --facts FILE        # facts as JSON
//! cargo run --release -p zk-cad --example cad_read -- --scene FILE        # and tessellate model space
//! cargo run --release -p zk-cad --example cad_read -- --svg OUT.svg FILE  # and write it as SVG
//! cargo run --release -p zk-cad --example cad_read -- --png OUT.png FILE  # or as a 1200-pixel PNG
//! cargo run --release -p zk-cad --example cad_read -- --layout NAME --png OUT.png FILE  # a sheet, as exported
//! cargo run --release -p zk-cad --example cad_read -- --wire OUT.zkscene FILE  # or as the viewer's scene
//! ```

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
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dxf")) || path.is_file() {
        out.push(path.to_owned());
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let print_facts = args.first().is_some_and(|a| a == "--facts");
    let mut scene = args.first().is_some_and(|a| a == "--scene");
    if print_facts || scene {
        args.remove(0);
    }
    let mut output = |flag: &str| {
        (args.first().is_some_and(|a| a == flag) && args.len() > 1).then(|| {
            args.remove(0);
            args.remove(0)
        })
    };
    let layout_name = output("--layout");
    let svg_path = output("--svg");
    let wire_path = output("--wire");
    let png_path = output("--png");
    scene |= svg_path.is_some() || wire_path.is_some() || png_path.is_some();
    let mut files = Vec::new();
    for arg in &args {
        dxf_files(Path::new(arg), &mut files);
    }
    let options = zk_cad::ReadOptions::default();
    let mut total = 0.0;
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            println!("{}\tunreadable", file.display());
            continue;
        };
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| zk_cad::read(&bytes, &options));
        // The drawing owns everything it keeps: like the server, let the file's bytes go before
        // drawing it, so the peak memory below is what opening a drawing in the app costs.
        drop(bytes);
        let seconds = started.elapsed().as_secs_f64();
        total += seconds;
        match outcome {
            Ok(Ok((drawing, diagnostics))) => {
                if scene {
                    let started = Instant::now();
                    let model = match &layout_name {
                        Some(name) => drawing.layouts.iter().find(|l| l.name.eq_ignore_ascii_case(name)),
                        None => drawing.layouts.iter().find(|l| l.is_model()),
                    };
                    match model.map(|m| (m, zk_cad::tessellate(&drawing, m, &zk_cad::TessellateOptions::default()))) {
                        Some((layout, Ok((scene, _)))) => {
                            // Tessellation (glyph layout included), before any output is written.
                            let tessellated = started.elapsed().as_secs_f64();
                            // As an export: at its resolution, a sheet with model space through its viewports.
                            let defaults = zk_cad::TessellateOptions::default();
                            if let Some(path) = &svg_path {
                                let options = zk_cad::svg::SvgOptions::default();
                                match zk_cad::svg::render_svg(&drawing, layout, &defaults, &options) {
                                    Ok((svg, _, _)) => drop(std::fs::write(path, svg)),
                                    Err(error) => eprintln!("{path}: {error}"),
                                }
                            }
                            if let Some(path) = &png_path {
                                let options = zk_cad::raster::RasterOptions::default();
                                match zk_cad::raster::render_png(&drawing, layout, &defaults, &options) {
                                    Ok((png, _, _)) => drop(std::fs::write(path, png)),
                                    Err(error) => eprintln!("{path}: {error}"),
                                }
                            }
                            if let Some(path) = &wire_path {
                                let count = drawing.layout_entities(layout).count() as u32;
                                let _ =
                                    std::fs::write(path, zk_cad::wire::encode_scene(&drawing, layout, &scene, count));
                            }
                            let segments: usize = scene.batches.iter().map(|b| b.line_owners.len()).sum();
                            let triangles: usize = scene.batches.iter().map(|b| b.triangle_owners.len()).sum();
                            println!(
                                "{}\tread {seconds:.3}s\ttessellate {:.3}s\t{} batches\t{segments} segments\t{triangles} triangles\t{} texts\t{} glyph instances of {} meshes",
                                file.display(),
                                tessellated,
                                scene.batches.len(),
                                scene.texts.len(),
                                scene.glyphs.instances.len(),
                                scene.glyphs.meshes.len()
                            );
                        }
                        Some((_, Err(error))) => println!("{}\ttessellation error: {error}", file.display()),
                        None => println!("{}\tno model layout", file.display()),
                    }
                } else if print_facts {
                    let facts = zk_cad::facts(&drawing, options.max_block_depth);
                    println!("{}", serde_json::to_string_pretty(&facts).unwrap_or_default());
                    for d in &diagnostics {
                        eprintln!("{:?} {:?} {}", d.severity, d.code, d.message);
                    }
                } else {
                    let in_blocks: usize = drawing.blocks.iter().map(|b| b.entities.len()).sum();
                    println!(
                        "{}\tok\t{:.4}s\t{} entities\t{} in blocks\t{} unsupported\t{} diagnostics",
                        file.display(),
                        seconds,
                        drawing.entities.len(),
                        in_blocks,
                        drawing.unsupported.values().sum::<u64>(),
                        diagnostics.len()
                    );
                }
            }
            Ok(Err(error)) => println!("{}\terror\t{:.4}s\t{error}", file.display(), seconds),
            Err(_) => println!("{}\tPANIC\t{:.4}s", file.display(), seconds),
        }
    }
    eprintln!("total read time {total:.3}s");
}
