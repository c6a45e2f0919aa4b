//! `zk-agent poster …`: posters from the command line, offline and without a database: the seeded
//! templates, styles and sizes, and rendering a template or a stored poster document to PNG or PDF
//! through zk-poster (pure: this file reads the inputs and writes the output).
//!
//! Exit codes: 0 done, 1 an input cannot be read or rendered (the reason on stderr), 2 usage (an
//! unknown template, style or size, a malformed `--set`/`--image`, an output that is neither .png
//! nor .pdf).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use zk_poster::template::SlotKind;
use zk_poster::{
    ImageLimits, ImageRef, ImageSet, Language, PdfOptions, PosterDocument, PosterSize, Template, TemplateRef,
    Typesetter, seed,
};

#[derive(Subcommand)]
pub enum PosterCommand {
    /// The seeded poster templates: list, export as JSON, check files for import
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// The seeded poster styles
    #[command(subcommand)]
    Styles(ListCommand),
    /// Poster sizes: print (mm, 300 dpi, 3 mm bleed) and social (px)
    #[command(subcommand)]
    Sizes(ListCommand),
    /// Render a template (--template) or a poster document (SPEC.json) to PNG or PDF
    Render(RenderArgs),
}

#[derive(Subcommand)]
pub enum TemplatesCommand {
    /// Every seeded template with its sizes and slots
    List {
        /// Print JSON: an array of {name, title, category, orientation, sizes, default_size, style, slots}
        #[arg(long)]
        json: bool,
    },
    /// Write a template as JSON (to stdout, or to FILE)
    Export {
        /// The template's name (`zk-agent poster templates list`)
        name: String,
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check template files for import. Storing them needs the server's poster store, which does not
    /// exist yet: this reads and checks each file and says what it would import
    Import {
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ListCommand {
    /// List them
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LanguageArg {
    #[value(name = "zh-CN")]
    ZhCn,
    En,
}

#[derive(Args)]
pub struct RenderArgs {
    /// A poster document (JSON) to render, instead of --template
    #[arg(conflicts_with = "template", required_unless_present = "template")]
    spec: Option<PathBuf>,
    /// The template's name (`zk-agent poster templates list`)
    #[arg(long, value_name = "NAME")]
    template: Option<String>,
    /// A size id (`zk-agent poster sizes list`), e.g. A3 or 1080x1350; default: the template's first
    #[arg(long, value_name = "SIZE")]
    size: Option<String>,
    /// A style id (`zk-agent poster styles list`); default: the template's
    #[arg(long, value_name = "STYLE")]
    style: Option<String>,
    /// A text slot's value, e.g. --set title=夏日音乐节; an empty value leaves the slot empty
    #[arg(long = "set", value_name = "SLOT=VALUE")]
    set: Vec<String>,
    /// An image or logo slot's picture (PNG, JPEG or WebP), e.g. --image image=hero.jpg
    #[arg(long = "image", value_name = "SLOT=FILE")]
    images: Vec<String>,
    /// The language of the sample texts of slots left unset
    #[arg(long, value_enum, default_value = "zh-CN")]
    lang: LanguageArg,
    /// Draw crop marks around the trim box (PDF)
    #[arg(long)]
    crop_marks: bool,
    /// PNG pixels per poster pixel, e.g. 0.25 for a preview (PNG only)
    #[arg(long, default_value_t = 1.0)]
    scale: f32,
    /// The file to write; its extension picks the format: .png or .pdf
    #[arg(short, long, value_name = "OUT.png|OUT.pdf")]
    output: PathBuf,
}

/// `created` of a document made from flags: fixed, so the same flags give the same bytes.
const FIXED_CREATED: &str = "2026-01-01T00:00:00Z";

pub fn run(command: PosterCommand) -> ExitCode {
    let result = match command {
        PosterCommand::Templates(TemplatesCommand::List { json }) => list_templates(json),
        PosterCommand::Templates(TemplatesCommand::Export { name, output }) => {
            export_template(&name, output.as_deref())
        }
        PosterCommand::Templates(TemplatesCommand::Import { files }) => check_imports(&files),
        PosterCommand::Styles(ListCommand::List { json }) => list_styles(json),
        PosterCommand::Sizes(ListCommand::List { json }) => list_sizes(json),
        PosterCommand::Render(args) => render(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Failed(String),
}

impl From<zk_poster::PosterError> for Failure {
    fn from(error: zk_poster::PosterError) -> Self {
        Failure::Failed(error.to_string())
    }
}

fn templates() -> Result<Vec<Template>, Failure> {
    Ok(seed::templates()?)
}

fn find_template(name: &str) -> Result<Template, Failure> {
    seed::template(name)?
        .ok_or_else(|| Failure::Usage(format!("no template named `{name}`: see `zk-agent poster templates list`")))
}

fn slot_kind(kind: &SlotKind) -> &'static str {
    match kind {
        SlotKind::Text(_) => "text",
        SlotKind::Image(_) => "image",
        SlotKind::Logo(_) => "logo",
        SlotKind::Qr(_) => "qr",
    }
}

fn list_templates(as_json: bool) -> Result<(), Failure> {
    let templates = templates()?;
    if as_json {
        let rows: Vec<_> = templates
            .iter()
            .map(|template| {
                json!({
                    "name": template.id,
                    "version": template.version,
                    "title": template.name,
                    "category": template.category,
                    "orientation": template.orientation,
                    "sizes": template.sizes,
                    "default_size": template.default_size(),
                    "style": template.default_style,
                    "slots": template.slots.iter().map(|slot| json!({
                        "name": slot.name,
                        "kind": slot_kind(&slot.kind),
                        "label": slot.label,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        out!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(());
    }
    out!("{:<16} {:<22} {:<10} {:<34} SLOTS", "NAME", "TITLE", "SHAPE", "SIZES");
    for template in &templates {
        let orientation = serde_json::to_value(template.orientation).ok();
        let slots: Vec<&str> = template.slots.iter().map(|slot| slot.name.as_str()).collect();
        out!(
            "{:<16} {:<22} {:<10} {:<34} {}",
            template.id,
            template.name.en,
            orientation.as_ref().and_then(|value| value.as_str()).unwrap_or(""),
            template.sizes.join(","),
            slots.join(",")
        );
    }
    Ok(())
}

fn export_template(name: &str, output: Option<&Path>) -> Result<(), Failure> {
    let template = find_template(name)?;
    let json = template.to_json() + "\n";
    match output {
        Some(path) => std::fs::write(path, json)
            .map_err(|error| Failure::Failed(format!("{}: cannot write: {error}", path.display()))),
        None => {
            out!("{}", json.trim_end());
            Ok(())
        }
    }
}

fn check_imports(files: &[PathBuf]) -> Result<(), Failure> {
    let mut failed = 0;
    for file in files {
        let checked = std::fs::read_to_string(file)
            .map_err(|error| format!("cannot read: {error}"))
            .and_then(|json| Template::from_json(&json).map_err(|error| error.to_string()))
            .and_then(|template| match template.sizes.iter().find(|size| PosterSize::find(size).is_none()) {
                Some(size) => Err(format!("unknown size `{size}`")),
                None if template.slot("title").is_none() => Err("no `title` slot".to_string()),
                None => Ok(template),
            });
        match checked {
            Ok(template) => {
                out!("{}: template `{}` version {} is valid", file.display(), template.id, template.version)
            }
            Err(reason) => {
                eprintln!("{}: {reason}", file.display());
                failed += 1;
            }
        }
    }
    eprintln!("note: storing imported templates needs the server's poster store, which this version does not have yet");
    if failed > 0 {
        return Err(Failure::Failed(format!("{failed} of {} files are not valid templates", files.len())));
    }
    Ok(())
}

fn list_styles(as_json: bool) -> Result<(), Failure> {
    let styles = seed::styles()?;
    if as_json {
        out!("{}", serde_json::to_string_pretty(&styles).unwrap_or_default());
        return Ok(());
    }
    out!("{:<14} {:<14} {:<6} PROMPT SUFFIX", "NAME", "TITLE", "TITLES");
    for style in &styles {
        let face = serde_json::to_value(style.title_face).ok();
        out!(
            "{:<14} {:<14} {:<6} {}",
            style.id,
            style.name.en,
            face.as_ref().and_then(|value| value.as_str()).unwrap_or(""),
            style.prompt_suffix
        );
    }
    Ok(())
}

fn list_sizes(as_json: bool) -> Result<(), Failure> {
    if as_json {
        out!("{}", serde_json::to_string_pretty(zk_poster::size::SIZES).unwrap_or_default());
        return Ok(());
    }
    out!("{:<16} {:<26} {:<16} PIXELS (WITH BLEED)", "SIZE", "NAME", "TRIM");
    for size in zk_poster::size::SIZES {
        let geometry = size.geometry();
        let trim = match size.kind {
            zk_poster::SizeKind::Print { width_mm, height_mm } => format!("{width_mm}×{height_mm} mm"),
            zk_poster::SizeKind::Social { width_px, height_px } => format!("{width_px}×{height_px} px"),
        };
        out!("{:<16} {:<26} {:<16} {}×{}", size.id, size.name_en, trim, geometry.canvas_w, geometry.canvas_h);
    }
    Ok(())
}

enum Output {
    Png,
    Pdf,
}

fn render(args: RenderArgs) -> Result<(), Failure> {
    let format = match args.output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => Output::Png,
        Some("pdf") => Output::Pdf,
        _ => return Err(Failure::Usage(format!("{}: the output must end in .png or .pdf", args.output.display()))),
    };
    if !(args.scale > 0.0 && args.scale <= 4.0) {
        return Err(Failure::Usage("--scale must be above 0 and at most 4".into()));
    }
    let mut document = match &args.spec {
        Some(spec) => {
            let json = std::fs::read_to_string(spec)
                .map_err(|error| Failure::Failed(format!("{}: cannot read: {error}", spec.display())))?;
            PosterDocument::from_json(&json).map_err(|error| Failure::Failed(format!("{}: {error}", spec.display())))?
        }
        None => {
            let name = args.template.as_deref().unwrap_or_default();
            let template = find_template(name)?;
            seed::sample_document(
                &template,
                match args.lang {
                    LanguageArg::ZhCn => Language::ZhCn,
                    LanguageArg::En => Language::En,
                },
            )
        }
    };
    if args.spec.is_none() {
        document.created = FIXED_CREATED.to_string();
    }
    let template = find_template(&document.template.id)?;
    if template.version != document.template.version {
        eprintln!(
            "warning: the document was made with template `{}` version {}; this build has version {}",
            template.id, document.template.version, template.version
        );
    }
    if let Some(size) = &args.size {
        document.size = size.clone();
    }
    if PosterSize::find(&document.size).is_none() {
        return Err(Failure::Usage(format!("unknown size `{}`: see `zk-agent poster sizes list`", document.size)));
    }
    if let Some(style) = &args.style {
        document.style = style.clone();
    }
    let style = seed::style(&document.style)?.ok_or_else(|| {
        Failure::Usage(format!("no style named `{}`: see `zk-agent poster styles list`", document.style))
    })?;
    for pair in &args.set {
        let (slot, value) = split_pair(pair, "--set", "SLOT=VALUE")?;
        match template.slot(slot).map(|slot| &slot.kind) {
            Some(SlotKind::Text(_) | SlotKind::Qr(_)) => {
                document.text.insert(slot.to_string(), value.to_string());
            }
            _ => return Err(Failure::Usage(format!("template `{}` has no text slot `{slot}`", template.id))),
        }
    }
    let mut images = ImageSet::new();
    for pair in &args.images {
        let (slot, file) = split_pair(pair, "--image", "SLOT=FILE")?;
        if !matches!(template.slot(slot).map(|slot| &slot.kind), Some(SlotKind::Image(_) | SlotKind::Logo(_))) {
            return Err(Failure::Usage(format!("template `{}` has no image or logo slot `{slot}`", template.id)));
        }
        let bytes = std::fs::read(file).map_err(|error| Failure::Failed(format!("{file}: cannot read: {error}")))?;
        let sha256 =
            images.add(&bytes, &ImageLimits::default()).map_err(|error| Failure::Failed(format!("{file}: {error}")))?;
        let focal = document.images.get(slot).and_then(|image| image.focal);
        document.images.insert(slot.to_string(), ImageRef { sha256, focal });
    }
    document.template = TemplateRef { id: template.id.clone(), version: document.template.version };
    document.crop_marks |= args.crop_marks;
    let composition = zk_poster::compose(&mut Typesetter::new(), &document, &template, &style, &images).map_err(
        |error| match error {
            zk_poster::PosterError::MissingImage { slot, sha256 } => Failure::Failed(format!(
                "image slot `{slot}` names image {sha256}: pass its file with --image {slot}=FILE"
            )),
            other => other.into(),
        },
    )?;
    for warning in &composition.warnings {
        eprintln!("warning: {warning}");
    }
    let bytes = match format {
        Output::Png => zk_poster::render_png(&composition.display, args.scale)?,
        Output::Pdf => zk_poster::render_pdf(&composition.display, &PdfOptions { crop_marks: document.crop_marks })?,
    };
    std::fs::write(&args.output, bytes)
        .map_err(|error| Failure::Failed(format!("{}: cannot write: {error}", args.output.display())))
}

fn split_pair<'a>(pair: &'a str, flag: &str, shape: &str) -> Result<(&'a str, &'a str), Failure> {
    pair.split_once('=')
        .filter(|(slot, _)| !slot.is_empty())
        .ok_or_else(|| Failure::Usage(format!("{flag} takes {shape}, got `{pair}`")))
}
