//! Setting text: shaping, line breaking with the Chinese line-start and line-end rules (kinsoku),
//! per-character fallback between the bundled faces, and fitting titles into their box (shrink,
//! then ellipsis).
//!
//! Shaping, UAX #14 line breaking and fallback are parley's (HarfRust + ICU4X); see ARCHITECTURE.md
//! for why parley. Kinsoku is our rule on top, handed to parley as a line-break override, so a line
//! never starts with closing punctuation nor ends with an opening one, whatever ICU decides.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use parley::fontique::{CollectionOptions, FontInfoOverride};
use parley::{
    Alignment, AlignmentOptions, FontContext, FontFamily, FontFamilyName, FontWeight, LayoutContext, LineBreakContext,
    LineHeight, OverflowWrap, PositionedLayoutItem, StyleProperty,
};

use crate::Language;
use crate::fonts::{Face, SANS_FAMILY, SERIF_FAMILY};
use crate::template::Align;

/// Characters no line may start with: closing punctuation, pauses and stops, small kana, iteration
/// marks (GB/T 15834 and the W3C's "Requirements for Chinese Text Layout").
pub const NO_LINE_START: &str = "，。！？、；：）》」』】〕〗〙〛｝］〉’”…‥·・〜～ー々〻ゝゞヽヾぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ%％‰℃,.!?;:)]}";
/// Characters no line may end with: opening brackets and quotes.
pub const NO_LINE_END: &str = "（《「『【〔〖〘〚｛［〈‘“([{";
const ELLIPSIS: char = '…';

/// The kinsoku rule as parley's line-break override: `Some(false)` forbids a break between the pair.
fn kinsoku(context: LineBreakContext) -> Option<bool> {
    if NO_LINE_START.contains(context.after) || NO_LINE_END.contains(context.before) {
        Some(false)
    } else {
        None
    }
}

/// What to set and where.
#[derive(Clone, Debug)]
pub struct TextRequest<'a> {
    pub text: &'a str,
    pub face: Face,
    pub size_px: f32,
    /// Shrink down to this size before cutting with an ellipsis; `None`: never shrink.
    pub min_size_px: Option<f32>,
    pub max_lines: u32,
    /// Line height as a multiple of the size.
    pub line_height: f32,
    /// Extra space between characters, in em.
    pub tracking_em: f32,
    pub width: f32,
    pub height: f32,
    pub align: Align,
    pub language: Language,
}

/// One shaped glyph, positioned relative to the text box's top-left corner.
#[derive(Clone, Debug, PartialEq)]
pub struct SetGlyph {
    pub id: u32,
    pub x: f32,
    pub y: f32,
    pub advance: f32,
    /// The characters (bytes of [`SetText::text`]) this glyph shows.
    pub text_range: Range<usize>,
}

/// Glyphs of one face at one size on one line.
#[derive(Clone, Debug, PartialEq)]
pub struct SetRun {
    pub face: Face,
    pub size_px: f32,
    pub glyphs: Vec<SetGlyph>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SetLine {
    /// Bytes of [`SetText::text`] on this line.
    pub text_range: Range<usize>,
    pub baseline: f32,
    /// Left and right of the line's content (after alignment), relative to the box.
    pub left: f32,
    pub right: f32,
    pub top: f32,
    pub bottom: f32,
    pub runs: Vec<SetRun>,
}

/// Text as set: what was actually shown (with an ellipsis if cut), at what size, line by line.
#[derive(Clone, Debug, PartialEq)]
pub struct SetText {
    pub text: String,
    pub size_px: f32,
    pub lines: Vec<SetLine>,
    /// Height of all lines.
    pub height: f32,
    /// The widest line.
    pub width: f32,
    pub shrunk: bool,
    pub truncated: bool,
}

impl SetText {
    pub fn line_texts(&self) -> Vec<&str> {
        self.lines.iter().map(|line| self.text.get(line.text_range.clone()).unwrap_or("").trim_end()).collect()
    }
}

/// Owns the font collection (the bundled faces only) and parley's reusable layout buffers. Make one
/// and reuse it: registering the fonts parses 10 MB of font tables.
pub struct Typesetter {
    fonts: FontContext,
    layouts: LayoutContext<()>,
    /// parley names a font by its data blob; this says which bundled face a blob is.
    faces_by_blob: HashMap<u64, Face>,
}

impl Default for Typesetter {
    fn default() -> Self {
        Self::new()
    }
}

impl Typesetter {
    pub fn new() -> Self {
        // No system fonts, ever: the output must not depend on the machine.
        let collection =
            parley::fontique::Collection::new(CollectionOptions { shared: false, system_fonts: false });
        let mut fonts = FontContext { collection, source_cache: Default::default() };
        let mut faces_by_blob = HashMap::new();
        let mut sans_family = None;
        for face in Face::ALL {
            let blob = face.blob();
            faces_by_blob.insert(blob.id(), face);
            let registered = fonts.collection.register_fonts(
                blob,
                Some(FontInfoOverride {
                    family_name: Some(face.family()),
                    weight: Some(FontWeight::new(face.weight())),
                    ..Default::default()
                }),
            );
            if face == Face::SansRegular {
                sans_family = registered.first().map(|(family, _)| *family);
            }
        }
        // A character no listed face has is looked for in the sans for every script (it covers
        // Han, Latin, punctuation); what it lacks shows as the missing-glyph box.
        if let Some(sans) = sans_family {
            for script in [*b"Hani", *b"Latn", *b"Zyyy", *b"Zinh", *b"Kana", *b"Hira", *b"Bopo", *b"Grek", *b"Cyrl"] {
                fonts.collection.set_fallbacks(parley::fontique::Script::from_bytes(script), std::iter::once(sans));
            }
        }
        Self { fonts, layouts: LayoutContext::new(), faces_by_blob }
    }

    /// Sets `request` once at its size, without fitting.
    pub fn set_at(&mut self, request: &TextRequest<'_>, size_px: f32) -> SetText {
        self.layout(request.text, request, size_px)
    }

    /// Sets `request`, fitting it into its box: shrink toward `min_size_px` while it is too tall,
    /// has too many lines or a word wider than the box; then cut it with an ellipsis.
    pub fn set(&mut self, request: &TextRequest<'_>) -> SetText {
        let mut size = request.size_px;
        let mut set = self.layout(request.text, request, size);
        if let Some(min_size) = request.min_size_px {
            while !fits(&set, request) && size > min_size {
                size = (size * 0.94).max(min_size);
                set = self.layout(request.text, request, size);
            }
        }
        set.shrunk = size < request.size_px;
        if fits(&set, request) {
            return set;
        }
        let mut cut = self.cut_with_ellipsis(request, size, &set);
        cut.shrunk = set.shrunk;
        cut
    }

    /// Keeps the lines that fit and ends the last one with an ellipsis, dropping characters until
    /// the ellipsis fits on it.
    fn cut_with_ellipsis(&mut self, request: &TextRequest<'_>, size: f32, set: &SetText) -> SetText {
        let lines_by_height =
            set.lines.iter().take_while(|line| line.bottom <= request.height + 0.5).count().max(1) as u32;
        let keep_lines = lines_by_height.min(request.max_lines.max(1)) as usize;
        let end = set.lines.get(keep_lines - 1).map(|line| line.text_range.end).unwrap_or(set.text.len());
        let mut kept: Vec<char> = set.text[..end].trim_end().chars().collect();
        loop {
            let mut candidate: String = kept.iter().collect();
            candidate = candidate.trim_end_matches(|c: char| c.is_whitespace() || NO_LINE_END.contains(c)).to_string();
            candidate.push(ELLIPSIS);
            let mut attempt = self.layout(&candidate, request, size);
            if fits(&attempt, request) || kept.is_empty() {
                attempt.truncated = true;
                return attempt;
            }
            kept.pop();
        }
    }

    fn layout(&mut self, text: &str, request: &TextRequest<'_>, size_px: f32) -> SetText {
        let families: &[FontFamilyName<'_>] = match request.face {
            Face::SerifBold => &[FontFamilyName::named(SERIF_FAMILY), FontFamilyName::named(SANS_FAMILY)],
            Face::SansRegular | Face::SansBold => &[FontFamilyName::named(SANS_FAMILY)],
        };
        let mut builder = self.layouts.ranged_builder(&mut self.fonts, text, 1.0, false);
        builder.set_line_break_override(Some(&kinsoku));
        builder.push_default(StyleProperty::FontFamily(FontFamily::List(Cow::Borrowed(families))));
        builder.push_default(StyleProperty::FontSize(size_px));
        builder.push_default(StyleProperty::FontWeight(FontWeight::new(request.face.weight())));
        builder.push_default(StyleProperty::LineHeight(LineHeight::FontSizeRelative(request.line_height)));
        builder.push_default(StyleProperty::LetterSpacing(request.tracking_em * size_px));
        builder.push_default(StyleProperty::OverflowWrap(OverflowWrap::Anywhere));
        builder.push_default(StyleProperty::Locale(parley::fontique::Language::parse(request.language.tag()).ok()));
        let mut layout = builder.build(text);
        layout.break_all_lines(Some(request.width));
        let alignment = match request.align {
            Align::Start => Alignment::Start,
            Align::Center => Alignment::Center,
            Align::End => Alignment::End,
        };
        layout.align(alignment, AlignmentOptions { align_when_overflowing: true, ..Default::default() });

        let mut lines = Vec::new();
        let mut width: f32 = 0.0;
        for line in layout.lines() {
            let metrics = line.metrics();
            let mut runs = Vec::new();
            for item in line.items() {
                let PositionedLayoutItem::GlyphRun(glyph_run) = item else { continue };
                let run = glyph_run.run();
                let face = self.faces_by_blob.get(&run.font().data.id()).copied().unwrap_or(Face::SansRegular);
                // Which characters each glyph shows, from the run's clusters (a ligature's later
                // characters go to its first glyph), then the positions parley computed.
                let mut ranges: Vec<Range<usize>> = Vec::new();
                for cluster in run.visual_clusters() {
                    let glyph_count = cluster.glyphs().count();
                    if glyph_count == 0 {
                        if let Some(last) = ranges.last_mut() {
                            last.end = last.end.max(cluster.text_range().end);
                        }
                    }
                    ranges.extend(std::iter::repeat_n(cluster.text_range(), glyph_count));
                }
                let positioned: Vec<_> = glyph_run.positioned_glyphs().collect();
                if ranges.len() != positioned.len() {
                    ranges = vec![run.text_range(); positioned.len()];
                }
                let glyphs = positioned
                    .iter()
                    .zip(ranges)
                    .map(|(glyph, text_range)| SetGlyph {
                        id: u32::from(glyph.id),
                        x: glyph.x,
                        y: glyph.y,
                        advance: glyph.advance,
                        text_range,
                    })
                    .collect();
                runs.push(SetRun { face, size_px: run.font_size(), glyphs });
            }
            let visible_advance = metrics.advance;
            width = width.max(visible_advance);
            lines.push(SetLine {
                text_range: line.text_range(),
                baseline: metrics.baseline,
                left: metrics.offset,
                right: metrics.offset + visible_advance,
                top: metrics.block_min_coord,
                bottom: metrics.block_max_coord,
                runs,
            });
        }
        SetText {
            text: text.to_string(),
            size_px,
            height: lines.last().map(|line| line.bottom).unwrap_or(0.0),
            width,
            lines,
            shrunk: false,
            truncated: false,
        }
    }
}

fn fits(set: &SetText, request: &TextRequest<'_>) -> bool {
    set.lines.len() as u32 <= request.max_lines.max(1)
        && set.height <= request.height + 0.5
        && set.width <= request.width + 0.5
}

/// Lines that break the kinsoku rules (for tests and preflight): `(line index, character)`.
pub fn kinsoku_violations(set: &SetText) -> Vec<(usize, char)> {
    let texts = set.line_texts();
    let mut violations = Vec::new();
    for (index, text) in texts.iter().enumerate() {
        if index > 0
            && let Some(first) = text.chars().next()
            && NO_LINE_START.contains(first)
        {
            violations.push((index, first));
        }
        if index + 1 < texts.len()
            && let Some(last) = text.chars().last()
            && NO_LINE_END.contains(last)
        {
            violations.push((index, last));
        }
    }
    violations
}
