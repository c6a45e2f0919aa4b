//! Document + template + style + images → display list and preflight warnings.

use qrcode::{EcLevel, QrCode};

use crate::display::{DisplayList, Glyph, Item, Paint, ShapeKind};
use crate::fonts::Face;
use crate::preflight::{MIN_PRINT_DPI, Warning};
use crate::size::{BoxPx, Geometry};
use crate::style::{Background, Palette, Typeface};
use crate::template::{self, Fit, Frame, ImageSlot, QrSlot, Shape, SlotKind, TextRole, TextSlot, VAlign};
use crate::text::{TextRequest, Typesetter};
use crate::{ImageSet, PosterDocument, PosterError, PosterSize, Style, Template};

/// A composed poster: what to draw, and what to fix before printing.
#[derive(Clone, Debug, PartialEq)]
pub struct Composition {
    pub display: DisplayList,
    pub warnings: Vec<Warning>,
}

/// Lays out `document` with `template` and `style`. Images named by the document must be in
/// `images`; texts the document leaves out show the template's samples.
pub fn compose(
    typesetter: &mut Typesetter,
    document: &PosterDocument,
    template: &Template,
    style: &Style,
    images: &ImageSet,
) -> Result<Composition, PosterError> {
    if document.format_version != crate::FORMAT_VERSION {
        return Err(PosterError::UnsupportedFormat {
            found: document.format_version,
            supported: crate::FORMAT_VERSION,
        });
    }
    if document.template.id != template.id {
        return Err(PosterError::TemplateMismatch { wanted: document.template.id.clone(), given: template.id.clone() });
    }
    let size = PosterSize::find(&document.size).ok_or_else(|| PosterError::UnknownSize(document.size.clone()))?;
    let geometry = size.geometry();
    let mut composer = Composer {
        geometry,
        palette: &style.palette,
        unit: geometry.trim.w.min(geometry.trim.h) / 100.0,
        items: Vec::new(),
        warnings: Vec::new(),
    };
    let canvas = BoxPx { x: 0.0, y: 0.0, w: geometry.canvas_w as f32, h: geometry.canvas_h as f32 };
    let background = match &style.background {
        Background::Solid => Paint::Solid(style.palette.background),
        Background::Linear { from, to, angle_deg } => {
            linear(&canvas, *angle_deg, style.palette.get(*from), style.palette.get(*to))
        }
    };
    composer.items.push(Item::Shape {
        bounds: canvas,
        kind: ShapeKind::Rect { radius: 0.0 },
        paint: background,
        opacity: 1.0,
    });
    for decoration in &template.decorations {
        let bounds = composer.frame(&decoration.frame);
        let kind = match decoration.shape {
            Shape::Rect => ShapeKind::Rect { radius: decoration.radius * composer.unit },
            Shape::Ellipse => ShapeKind::Ellipse,
        };
        let paint = composer.paint(&decoration.paint, &bounds);
        composer.items.push(Item::Shape { bounds, kind, paint, opacity: decoration.opacity });
    }
    for slot in &template.slots {
        let frame = composer.frame(&slot.frame);
        match &slot.kind {
            SlotKind::Text(text) => {
                let value = match document.text.get(&slot.name) {
                    Some(value) => value.as_str(),
                    None => text.sample.get(document.language),
                };
                composer.text(typesetter, &slot.name, text, value, frame, style, document.language);
            }
            SlotKind::Image(image) | SlotKind::Logo(image) => {
                let picture = match document.images.get(&slot.name) {
                    Some(reference) => Some((
                        images.get(&reference.sha256).ok_or_else(|| PosterError::MissingImage {
                            slot: slot.name.clone(),
                            sha256: reference.sha256.clone(),
                        })?,
                        reference.focal.unwrap_or([0.5, 0.5]),
                    )),
                    None => None,
                };
                composer.image(&slot.name, image, picture, frame);
            }
            SlotKind::Qr(qr) => {
                let value = document.text.get(&slot.name).map(String::as_str).unwrap_or(qr.sample.as_str());
                composer.qr(&slot.name, qr, value, frame)?;
            }
        }
    }
    let title = document
        .text
        .get("title")
        .cloned()
        .or_else(|| match template.slot("title").map(|slot| &slot.kind) {
            Some(SlotKind::Text(text)) => Some(text.sample.get(document.language).to_string()),
            _ => None,
        })
        .unwrap_or_default();
    Ok(Composition {
        display: DisplayList {
            geometry,
            items: composer.items,
            title,
            created: document.created.clone(),
            language: document.language,
        },
        warnings: composer.warnings,
    })
}

struct Composer<'a> {
    geometry: Geometry,
    palette: &'a Palette,
    /// A hundredth of the trim box's shorter side: templates' lengths are in this unit.
    unit: f32,
    items: Vec<Item>,
    warnings: Vec<Warning>,
}

impl Composer<'_> {
    /// A template frame (percent of the trim box) in canvas pixels. A frame that touches a trim
    /// edge runs on into the bleed, so nothing white shows if the cut is off by a millimetre.
    fn frame(&self, frame: &Frame) -> BoxPx {
        let trim = self.geometry.trim;
        let mut left = trim.x + frame[0] / 100.0 * trim.w;
        let mut top = trim.y + frame[1] / 100.0 * trim.h;
        let mut right = trim.x + (frame[0] + frame[2]) / 100.0 * trim.w;
        let mut bottom = trim.y + (frame[1] + frame[3]) / 100.0 * trim.h;
        if frame[0] <= 0.0 {
            left = left.min(0.0);
        }
        if frame[1] <= 0.0 {
            top = top.min(0.0);
        }
        if frame[0] + frame[2] >= 100.0 {
            right = right.max(self.geometry.canvas_w as f32);
        }
        if frame[1] + frame[3] >= 100.0 {
            bottom = bottom.max(self.geometry.canvas_h as f32);
        }
        BoxPx { x: left, y: top, w: (right - left).max(0.0), h: (bottom - top).max(0.0) }
    }

    fn paint(&self, paint: &template::Paint, bounds: &BoxPx) -> Paint {
        match paint {
            template::Paint::Solid { color } => Paint::Solid(self.palette.get(*color)),
            template::Paint::Linear { from, to, angle_deg } => {
                linear(bounds, *angle_deg, self.palette.get(*from), self.palette.get(*to))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        typesetter: &mut Typesetter,
        name: &str,
        slot: &TextSlot,
        value: &str,
        frame: BoxPx,
        style: &Style,
        language: crate::Language,
    ) {
        if value.trim().is_empty() {
            return;
        }
        let face = match (slot.role, style.title_face) {
            (TextRole::Title, Typeface::Serif) => Face::SerifBold,
            (TextRole::Title, Typeface::Sans) | (TextRole::Meta, _) => Face::SansBold,
            (TextRole::Subtitle | TextRole::Body, _) => Face::SansRegular,
        };
        let request = TextRequest {
            text: value,
            face,
            size_px: slot.size * self.unit,
            min_size_px: slot.min_size.map(|size| size * self.unit),
            max_lines: slot.max_lines,
            line_height: slot.line_height,
            tracking_em: slot.tracking,
            width: frame.w,
            height: frame.h,
            align: slot.align,
            language,
        };
        let set = typesetter.set(&request);
        let top = match slot.valign {
            VAlign::Top => frame.y,
            VAlign::Middle => frame.y + (frame.h - set.height) / 2.0,
            VAlign::Bottom => frame.y + frame.h - set.height,
        };
        let color = self.palette.get(slot.color);
        let mut outside_safe = false;
        let mut missing = String::new();
        for line in &set.lines {
            let extent = BoxPx {
                x: frame.x + line.left,
                y: top + line.top,
                w: line.right - line.left,
                h: line.bottom - line.top,
            };
            outside_safe |= !self.geometry.safe.contains(&extent);
            let line_text = set.text.get(line.text_range.clone()).unwrap_or("").to_string();
            for run in &line.runs {
                for glyph in run.glyphs.iter().filter(|glyph| glyph.id == 0) {
                    let characters = set.text.get(glyph.text_range.clone()).unwrap_or("");
                    for character in characters.chars().filter(|c| !c.is_whitespace()) {
                        if !missing.contains(character) {
                            missing.push(character);
                        }
                    }
                }
                let glyphs = run
                    .glyphs
                    .iter()
                    .map(|glyph| Glyph {
                        id: glyph.id,
                        x: frame.x + glyph.x,
                        y: top + glyph.y,
                        advance: glyph.advance,
                        text_range: glyph.text_range.start.saturating_sub(line.text_range.start).min(line_text.len())
                            ..glyph.text_range.end.saturating_sub(line.text_range.start).min(line_text.len()),
                    })
                    .collect();
                self.items.push(Item::Text {
                    face: run.face,
                    size: run.size_px,
                    color,
                    text: line_text.clone(),
                    glyphs,
                });
            }
        }
        if outside_safe {
            self.warnings.push(Warning::TextOutsideSafeArea { slot: name.to_string() });
        }
        if !missing.is_empty() {
            self.warnings.push(Warning::MissingGlyphs { slot: name.to_string(), characters: missing });
        }
        if set.truncated {
            self.warnings.push(Warning::TextCut { slot: name.to_string() });
        }
    }

    fn image(&mut self, name: &str, slot: &ImageSlot, picture: Option<(&crate::DecodedImage, [f32; 2])>, frame: BoxPx) {
        let radius = slot.radius * self.unit;
        let Some((image, focal)) = picture else {
            if let Some(placeholder) = &slot.placeholder {
                let paint = self.paint(placeholder, &frame);
                self.items.push(Item::Shape {
                    bounds: frame,
                    kind: ShapeKind::Rect { radius },
                    paint,
                    opacity: slot.opacity,
                });
            }
            return;
        };
        let (image_w, image_h) = (image.pixels.width.max(1) as f32, image.pixels.height.max(1) as f32);
        let scale = match slot.fit {
            Fit::Cover => (frame.w / image_w).max(frame.h / image_h),
            Fit::Contain => (frame.w / image_w).min(frame.h / image_h),
        };
        let (placed_w, placed_h) = (image_w * scale, image_h * scale);
        let placed = match slot.fit {
            // Keep the focal point as near the frame's centre as the image's edges allow.
            Fit::Cover => {
                let [focal_x, focal_y] = [focal[0].clamp(0.0, 1.0), focal[1].clamp(0.0, 1.0)];
                let x = (frame.x + frame.w / 2.0 - focal_x * placed_w).clamp(frame.right() - placed_w, frame.x);
                let y = (frame.y + frame.h / 2.0 - focal_y * placed_h).clamp(frame.bottom() - placed_h, frame.y);
                BoxPx { x, y, w: placed_w, h: placed_h }
            }
            Fit::Contain => BoxPx {
                x: frame.x + (frame.w - placed_w) / 2.0,
                y: frame.y + (frame.h - placed_h) / 2.0,
                w: placed_w,
                h: placed_h,
            },
        };
        if self.geometry.is_print {
            // Canvas pixels are at the print resolution; `scale` canvas pixels per image pixel.
            let dpi = self.geometry.dpi / scale;
            if dpi < MIN_PRINT_DPI {
                self.warnings.push(Warning::LowImageResolution { slot: name.to_string(), dpi });
            }
        }
        let clip = match slot.fit {
            Fit::Cover => frame,
            Fit::Contain => placed,
        };
        self.items.push(Item::Image { pixels: image.pixels.clone(), placed, clip, radius, opacity: slot.opacity });
    }

    fn qr(&mut self, name: &str, slot: &QrSlot, value: &str, frame: BoxPx) -> Result<(), PosterError> {
        if value.trim().is_empty() {
            return Ok(());
        }
        let code = QrCode::with_error_correction_level(value.as_bytes(), EcLevel::M)
            .map_err(|error| PosterError::Qr { slot: name.to_string(), reason: error.to_string() })?;
        let width = code.width();
        // Four modules of quiet zone around the code, as readers expect; whole pixels per module
        // keep the squares crisp.
        let side = frame.w.min(frame.h);
        let module = (side / (width as f32 + 8.0)).floor().max(1.0);
        let code_side = module * (width as f32 + 8.0);
        let origin = (frame.x + (frame.w - code_side) / 2.0, frame.y + (frame.h - code_side) / 2.0);
        let quiet = BoxPx { x: origin.0, y: origin.1, w: code_side, h: code_side };
        self.items.push(Item::Shape {
            bounds: quiet,
            kind: ShapeKind::Rect { radius: module },
            paint: Paint::Solid(self.palette.get(slot.background)),
            opacity: 1.0,
        });
        let modules = code.to_colors().iter().map(|color| *color == qrcode::Color::Dark).collect();
        self.items.push(Item::Modules {
            origin: (origin.0 + 4.0 * module, origin.1 + 4.0 * module),
            module,
            width,
            modules,
            color: self.palette.get(slot.color),
        });
        Ok(())
    }
}

/// A linear gradient across `bounds` along `angle_deg` (0 = left to right, 90 = top to bottom).
fn linear(bounds: &BoxPx, angle_deg: f32, from: crate::Rgba, to: crate::Rgba) -> Paint {
    let (sin, cos) = angle_deg.to_radians().sin_cos();
    let half = (bounds.w * cos.abs() + bounds.h * sin.abs()) / 2.0;
    let (cx, cy) = (bounds.x + bounds.w / 2.0, bounds.y + bounds.h / 2.0);
    Paint::Linear {
        start: (cx - cos * half, cy - sin * half),
        end: (cx + cos * half, cy + sin * half),
        stops: vec![(0.0, from), (1.0, to)],
    }
}
