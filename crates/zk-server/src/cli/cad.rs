//! `zk-agent cad …`: CAD drawings from the command line — facts and diagnostics, and renders to
//! SVG or PNG. Needs no database: it runs before the core opens, through the zk-core CAD service
//! (size cap, time budget, worker thread under `catch_unwind`).
//!
//! Exit codes: 0 done, 1 the file cannot be read or is not supported (the reason on stderr),
//! 2 usage (an unknown layout, an output that is neither .svg nor .png).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use zk_core::cad::{
    self, Background, CadError, CadOptions, DrawingInfo, ExtentsSource, ImageFormat, RenderRequest, Severity,
};
use zk_core::config::Config;

#[derive(Subcommand)]
pub enum CadCommand {
    /// Facts of a DXF or DWG drawing: version, units, extents, layers, blocks, entity counts, texts,
    /// dimensions, and what the reader noticed
    Info {
        /// The drawing: DXF, or DWG (R11/R12, R13 to R2018; others through LibreDWG's dwg2dxf when installed)
        file: PathBuf,
        /// Print the facts and diagnostics as JSON
        #[arg(long)]
        json: bool,
    },
    /// Render a layout of a drawing to SVG or PNG
    Render {
        /// The drawing: DXF, or DWG (R11/R12, R13 to R2018; others through LibreDWG's dwg2dxf when installed)
        file: PathBuf,
        /// The image to write; its extension picks the format: .svg or .png
        #[arg(short, long, value_name = "OUT.svg|OUT.png")]
        output: PathBuf,
        /// Width in pixels; the height follows the drawing
        #[arg(long, default_value_t = 1200, value_parser = clap::value_parser!(u32).range(1..=8192))]
        width: u32,
        /// The layout to draw, by name (default: model space)
        #[arg(long, value_name = "NAME")]
        layout: Option<String>,
        #[arg(long, value_enum, default_value = "light")]
        background: BackgroundArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BackgroundArg {
    Light,
    Dark,
}

/// How many texts, dimensions and diagnostics the text output lists before counting the rest.
const FIRST: usize = 10;

pub fn run(config: &Config, command: CadCommand) -> ExitCode {
    let options = CadOptions::from_config(config);
    match command {
        CadCommand::Info { file, json } => info(&file, json, &options),
        CadCommand::Render { file, output, width, layout, background } => {
            let format = match output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
                Some("svg") => ImageFormat::Svg,
                Some("png") => ImageFormat::Png,
                _ => {
                    eprintln!("error: {}: the output must end in .svg or .png", output.display());
                    return ExitCode::from(2);
                }
            };
            let background = match background {
                BackgroundArg::Light => Background::Light,
                BackgroundArg::Dark => Background::Dark,
            };
            let request = RenderRequest { format, width, layout, background };
            render(&file, &output, &request, &options)
        }
    }
}

fn failure(file: &Path, error: &CadError) -> ExitCode {
    eprintln!("error: {}: {error}", file.display());
    if error.is_usage() { ExitCode::from(2) } else { ExitCode::FAILURE }
}

fn info(file: &Path, json: bool, options: &CadOptions) -> ExitCode {
    let result = cad::read_file(file, options).and_then(|bytes| cad::drawing_info(bytes, options));
    let info = match result {
        Ok(info) => info,
        Err(error) => return failure(file, &error),
    };
    if json {
        match serde_json::to_string_pretty(&info) {
            Ok(text) => out!("{text}"),
            Err(error) => {
                eprintln!("error: cannot write the facts as JSON: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print_info(file, &info);
    }
    ExitCode::SUCCESS
}

fn print_info(file: &Path, info: &DrawingInfo) {
    let facts = &info.facts;
    out!("file:        {}", file.display());
    out!(
        "version:     {} ({})",
        facts.version.as_deref().unwrap_or("unknown"),
        facts.release.unwrap_or("release unknown")
    );
    out!("encoding:    {:?}, code page {}", facts.encoding, facts.codepage.as_deref().unwrap_or("not stated"));
    match facts.units.insunits {
        Some(code) => out!("units:       {} ($INSUNITS {code})", facts.units.name),
        None => out!("units:       {}", facts.units.name),
    }
    match &facts.extents {
        Some(e) => out!(
            "extents:     ({}, {}) – ({}, {}){}",
            short(e.min.x),
            short(e.min.y),
            short(e.max.x),
            short(e.max.y),
            match facts.extents_source {
                Some(ExtentsSource::Header) => " from the header",
                _ => "",
            }
        ),
        None => out!("extents:     none (nothing drawn)"),
    }
    out!("layers:      {}", facts.layers.len());
    for layer in &facts.layers {
        let mut state = vec![if layer.on { "on" } else { "off" }];
        if layer.frozen {
            state.push("frozen");
        }
        if layer.locked {
            state.push("locked");
        }
        if !layer.declared {
            state.push("undeclared");
        }
        out!(
            "  {:<24} {:<8} {:<14} {} entities",
            layer.name,
            layer.rgb.as_deref().unwrap_or("-"),
            state.join(","),
            layer.entities
        );
    }
    out!("blocks:      {} named, {} anonymous", facts.blocks.len(), facts.anonymous_blocks);
    for block in &facts.blocks {
        out!("  {:<24} {} inserts, {} entities", block.name, block.inserts, block.entities);
    }
    out!("layouts:     {}", facts.layouts.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", "));
    out!("entities:    {}", facts.entity_counts.values().sum::<u64>());
    for (kind, count) in &facts.entity_counts {
        out!("  {kind:<24} {count}");
    }
    if facts.unsupported_entities.is_empty() {
        out!("unsupported: none");
    } else {
        out!("unsupported: {} (counted, not drawn)", facts.unsupported_entities.values().sum::<u64>());
        for (kind, count) in &facts.unsupported_entities {
            out!("  {kind:<24} {count}");
        }
    }
    out!("texts:       {}", facts.texts.len());
    for text in facts.texts.iter().take(FIRST) {
        out!("  {:<6} {}", text.kind, one_line(&text.text));
    }
    more(facts.texts.len());
    out!("dimensions:  {}", facts.dimensions.len());
    for dimension in facts.dimensions.iter().take(FIRST) {
        out!("  {:?}: {}", dimension.kind, one_line(&dimension.text));
    }
    more(facts.dimensions.len());
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    for diagnostic in &info.diagnostics {
        *by_code.entry(format!("{:?} {:?}", diagnostic.severity, diagnostic.code).to_lowercase()).or_insert(0) += 1;
    }
    out!("diagnostics: {}", info.diagnostics.len());
    for (code, count) in &by_code {
        out!("  {code:<32} {count}");
    }
    for diagnostic in info.diagnostics.iter().take(FIRST) {
        match &diagnostic.location {
            Some(location) => out!("  {location}: {}", diagnostic.message),
            None => out!("  {}", diagnostic.message),
        }
    }
    more(info.diagnostics.len());
}

fn more(total: usize) {
    if total > FIRST {
        out!("  … and {} more (--json lists all)", total - FIRST);
    }
}

fn one_line(text: &str) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(80).collect();
    if text.chars().count() > 80 { format!("{line}…") } else { line }
}

/// A coordinate without the noise of seventeen digits.
fn short(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_owned() } else { text.to_owned() }
}

fn render(file: &Path, output: &Path, request: &RenderRequest, options: &CadOptions) -> ExitCode {
    let result = cad::read_file(file, options).and_then(|bytes| cad::render_drawing(bytes, request, options));
    let rendered = match result {
        Ok(rendered) => rendered,
        Err(error) => return failure(file, &error),
    };
    if let Err(error) = std::fs::write(output, &rendered.data) {
        eprintln!("error: cannot write {}: {error}", output.display());
        return ExitCode::FAILURE;
    }
    let warnings = rendered.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
    eprintln!(
        "{}: layout {}, {} bytes written to {}{}{}",
        file.display(),
        rendered.layout,
        rendered.data.len(),
        output.display(),
        if warnings > 0 { format!(", {warnings} warnings (see `zk-agent cad info`)") } else { String::new() },
        if rendered.truncated { ", cut short: the drawing is over the vertex budget" } else { "" }
    );
    ExitCode::SUCCESS
}
