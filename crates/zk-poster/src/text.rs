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
    if NO_LINE_START.contains(context.after) || NO_LINE_END.contains(context.before) { Some(false) } else { None }
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
        let collection = parley::fontique::Collection::new(CollectionOptions { shared: false, system_fonts: false });
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
                    if glyph_count == 0
                        && let Some(last) = ranges.last_mut()
                    {
                        last.end = last.end.max(cluster.text_range().end);
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
                        id: glyph.id,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str, width: f32) -> TextRequest<'_> {
        TextRequest {
            text,
            face: Face::SansRegular,
            size_px: 20.0,
            min_size_px: None,
            max_lines: 100,
            line_height: 1.3,
            tracking_em: 0.0,
            width,
            height: 10_000.0,
            align: Align::Start,
            language: Language::ZhCn,
        }
    }

    #[test]
    fn no_line_starts_with_closing_punctuation_nor_ends_with_an_opening_one() {
        let mut typesetter = Typesetter::new();
        // Every width from 3 to 12 characters puts some punctuation at a line edge.
        let text =
            "设计，是把想法变成现实。你好！真的吗？一、二、三（注释）《书名》「引号」和“引文”都在这里，对吧？好。";
        for characters in 3..=12 {
            let set = typesetter.set(&request(text, characters as f32 * 20.0 + 1.0));
            assert!(set.lines.len() > 1, "the text wraps at {characters} characters");
            assert_eq!(kinsoku_violations(&set), vec![], "kinsoku at {characters} characters: {:?}", set.line_texts());
        }
    }

    #[test]
    fn without_the_kinsoku_rule_a_break_would_fall_before_the_comma() {
        // The same width as above with the comma exactly at the edge: five characters fit, the
        // sixth is "，". The rule must carry one character over instead.
        let mut typesetter = Typesetter::new();
        let set = typesetter.set(&request("一二三四五，六七八九十。", 5.0 * 20.0 + 1.0));
        let lines = set.line_texts();
        assert!(!lines[1].starts_with('，'), "{lines:?}");
        assert_eq!(lines[0], "一二三四", "the last character moves down with the comma: {lines:?}");
    }

    #[test]
    fn mixed_chinese_and_latin_break_between_words_and_characters_never_inside_a_word() {
        let mut typesetter = Typesetter::new();
        let text = "我们用 Rust 和 TypeScript 写设计工具，支持 DXF 与 PDF 导出。";
        let set = typesetter.set(&request(text, 160.0));
        let lines = set.line_texts();
        assert!(lines.len() >= 3, "{lines:?}");
        for word in ["Rust", "TypeScript", "DXF", "PDF"] {
            assert!(lines.iter().any(|line| line.contains(word)), "{word} stays whole: {lines:?}");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""), "nothing is lost");
        // Latin letters and hanzi come from the same bundled face: no fallback to anything else.
        assert!(set.lines.iter().flat_map(|line| &line.runs).all(|run| run.face == Face::SansRegular));
    }

    #[test]
    fn characters_missing_from_the_serif_fall_back_to_the_sans_per_character() {
        let mut typesetter = Typesetter::new();
        // U+2460 ① is in both; the serif subset lacks nothing of the charset, so force a miss with
        // a character only the sans has if there is one; otherwise every run is serif.
        let mut serif = request("山水 Landscape ①", 1000.0);
        serif.face = Face::SerifBold;
        let set = typesetter.set(&serif);
        assert!(set.lines[0].runs.iter().any(|run| run.face == Face::SerifBold), "the serif sets what it has");
        assert!(set.lines[0].runs.iter().all(|run| run.glyphs.iter().all(|glyph| glyph.id != 0)), "no missing glyphs");
    }

    #[test]
    fn a_title_too_long_for_its_box_shrinks_then_ends_with_an_ellipsis() {
        let mut typesetter = Typesetter::new();
        let mut title = request("城市夜跑嘉年华", 200.0);
        title.size_px = 60.0;
        title.min_size_px = Some(20.0);
        title.max_lines = 1;
        title.height = 80.0;
        let set = typesetter.set(&title);
        assert!(set.shrunk && !set.truncated, "seven characters fit at a smaller size: {} px", set.size_px);
        assert!(set.size_px * 7.0 <= 201.0 && set.size_px >= 20.0);

        let long = "这是一个非常非常长的标题，长到即使缩小到最小字号也放不下";
        title.text = long;
        let set = typesetter.set(&title);
        assert!(set.truncated, "cut when even the smallest size is too wide");
        assert_eq!(set.size_px, 20.0, "at the minimum size");
        assert_eq!(set.lines.len(), 1);
        assert!(set.text.ends_with('…'), "{}", set.text);
        assert!(set.width <= 200.5, "the cut line fits: {}", set.width);
        assert!(long.starts_with(set.text.trim_end_matches('…')), "the kept part is the start of the title");
    }

    #[test]
    fn a_body_that_overflows_its_lines_is_cut_on_the_last_line() {
        let mut typesetter = Typesetter::new();
        let mut body = request("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十", 100.0);
        body.max_lines = 2;
        let set = typesetter.set(&body);
        assert_eq!(set.lines.len(), 2);
        assert!(set.truncated && set.text.ends_with('…'));
    }
}
