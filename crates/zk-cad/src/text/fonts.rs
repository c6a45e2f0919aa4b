//! The bundled fonts (embedded, parsed once) and the table that maps the font names a drawing
//! uses (SHX files, big fonts, TrueType families) onto them.
//!
//! Two fonts cover what CAD drawings write: DejaVu Sans (Latin, Greek, Cyrillic and the CAD
//! symbols) and WenQuanYi Micro Hei (CJK ideographs, kana, Hangul). Their files and licences are in
//! `crates/zk-cad/fonts/`.

use std::sync::OnceLock;

use serde::Serialize;
use ttf_parser::{Face, GlyphId, OutlineBuilder};

use crate::model::TextStyle;

static DEJAVU_SANS: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static WQY_MICROHEI: &[u8] = include_bytes!("../../fonts/wqy-microhei.ttc");

/// A font bundled with the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BundledFont {
    /// DejaVu Sans: Latin, Greek, Cyrillic, symbols.
    Latin,
    /// WenQuanYi Micro Hei: CJK ideographs, kana, Hangul (and Latin of its own).
    Cjk,
}

impl BundledFont {
    pub const ALL: [BundledFont; 2] = [BundledFont::Latin, BundledFont::Cjk];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The font to try next when this one lacks a character.
    pub fn other(self) -> BundledFont {
        match self {
            BundledFont::Latin => BundledFont::Cjk,
            BundledFont::Cjk => BundledFont::Latin,
        }
    }

    pub fn family(self) -> &'static str {
        match self {
            BundledFont::Latin => "DejaVu Sans",
            BundledFont::Cjk => "WenQuanYi Micro Hei",
        }
    }
}

/// A parsed bundled font and the metrics text layout needs, in em units (1.0 = the font's em).
pub struct FontFace {
    face: Face<'static>,
    units_per_em: f32,
    /// Height of the capital letters (CAD text height is this height).
    pub cap_height: f32,
    /// Bottom and top of an ideograph's body (`中`), for CJK glyphs sized as an SHX big font sizes
    /// them: the ideograph as tall as the text height, standing on the baseline.
    pub ideograph: (f32, f32),
    /// Advance of a space.
    pub space: f32,
}

impl FontFace {
    fn parse(data: &'static [u8]) -> Option<FontFace> {
        let face = Face::parse(data, 0).ok()?;
        let units_per_em = f32::from(face.units_per_em().max(1));
        let box_of = |c: char| face.glyph_index(c).and_then(|g| face.glyph_bounding_box(g));
        let cap_height = face
            .capital_height()
            .filter(|h| *h > 0)
            .map(f32::from)
            .or_else(|| box_of('H').map(|b| f32::from(b.y_max)))
            .map_or(0.7, |h| h / units_per_em);
        let ideograph = box_of('中')
            .map(|b| (f32::from(b.y_min) / units_per_em, f32::from(b.y_max) / units_per_em))
            .filter(|(lo, hi)| hi > lo)
            .unwrap_or((-0.12, 0.88));
        let space =
            face.glyph_index(' ').and_then(|g| face.glyph_hor_advance(g)).map_or(0.3, |a| f32::from(a) / units_per_em);
        Some(FontFace { face, units_per_em, cap_height, ideograph, space })
    }

    /// The glyph for `c`, when the font has one (glyph 0, `.notdef`, is not one).
    pub fn glyph(&self, c: char) -> Option<u16> {
        self.face.glyph_index(c).map(|g| g.0).filter(|g| *g != 0)
    }

    /// Horizontal advance of a glyph, em units.
    pub fn advance(&self, glyph: u16) -> f32 {
        self.face.glyph_hor_advance(GlyphId(glyph)).map_or(0.0, |a| f32::from(a) / self.units_per_em)
    }

    /// The glyph's outline in em units, appended to `out`; false when it has none.
    pub fn outline(&self, glyph: u16, out: &mut Vec<PathOp>) -> bool {
        let start = out.len();
        let mut sink = Sink { out, scale: 1.0 / self.units_per_em };
        self.face.outline_glyph(GlyphId(glyph), &mut sink).is_some() && out.len() > start
    }
}

/// One step of an outline, em units, y up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PathOp {
    Move(f32, f32),
    Line(f32, f32),
    Quad(f32, f32, f32, f32),
    Cubic(f32, f32, f32, f32, f32, f32),
    Close,
}

struct Sink<'a> {
    out: &'a mut Vec<PathOp>,
    scale: f32,
}

impl OutlineBuilder for Sink<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        self.out.push(PathOp::Move(x * self.scale, y * self.scale));
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.out.push(PathOp::Line(x * self.scale, y * self.scale));
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let s = self.scale;
        self.out.push(PathOp::Quad(x1 * s, y1 * s, x * s, y * s));
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let s = self.scale;
        self.out.push(PathOp::Cubic(x1 * s, y1 * s, x2 * s, y2 * s, x * s, y * s));
    }
    fn close(&mut self) {
        self.out.push(PathOp::Close);
    }
}

/// The bundled fonts, parsed on first use (a bundled font that fails to parse leaves its
/// characters to the other font, then to the missing-glyph box).
pub fn face(font: BundledFont) -> Option<&'static FontFace> {
    static FACES: OnceLock<[Option<FontFace>; 2]> = OnceLock::new();
    FACES.get_or_init(|| [FontFace::parse(DEJAVU_SANS), FontFace::parse(WQY_MICROHEI)])[font.index()].as_ref()
}

/// How a style's font sizes its characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FontKind {
    /// An SHX font: capitals as tall as the text height; East Asian characters from a big font
    /// as tall as the text height too.
    Shx,
    /// A TrueType font: every font's capitals as tall as the text height.
    TrueType,
}

/// The bundled font a text style (or an MTEXT `\f`/`\F` code) draws with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StyleFont {
    pub primary: BundledFont,
    pub kind: FontKind,
}

impl Default for StyleFont {
    fn default() -> Self {
        StyleFont { primary: BundledFont::Latin, kind: FontKind::Shx }
    }
}

const LATIN_NAMES: &[&str] = &[
    "txt", "simplex", "romans", "romand", "romanc", "romant", "complex", "italic", "italicc", "italict", "scripts",
    "scriptc", "gothice", "gothicg", "gothici", "greeks", "greekc", "cyrillic", "cyriltlc", "monotxt", "isocp",
    "isocp2", "isocp3", "isoct", "isoct2", "isoct3", "isocpeur", "isocteur", "gdt", "amgdt", "syastro", "symap",
    "symath", "symeteo", "symusic", "gbenor", "gbeitc", "tssdeng",
];

const CJK_NAMES: &[&str] = &[
    // SHX big fonts and East Asian SHX fonts.
    "gbcbig",
    "gbhzfs",
    "hztxt",
    "hzfs",
    "hzdx",
    "hztxto",
    "hzfso",
    "hzdxo",
    "hztxt1",
    "chineset",
    "bigfont",
    "extfont",
    "extfont2",
    "khz",
    "kanji",
    "tssdchn",
    "whgtxt",
    "whgdtxt",
    "whtmtxt",
    "whtgtxt",
    "cadhz",
    "china",
    "fs64f", // TrueType families.
    "simsun",
    "nsimsun",
    "simhei",
    "fangsong",
    "fangsong_gb2312",
    "kaiti",
    "kaiti_gb2312",
    "simkai",
    "simfang",
    "microsoft yahei",
    "microsoft yahei ui",
    "dengxian",
    "lisu",
    "youyuan",
    "stsong",
    "stheiti",
    "stkaiti",
    "stfangsong",
    "stxihei",
    "mingliu",
    "pmingliu",
    "mingliu_hkscs",
    "dfkai-sb",
    "ms gothic",
    "ms pgothic",
    "ms ui gothic",
    "ms mincho",
    "ms pmincho",
    "meiryo",
    "meiryo ui",
    "yu gothic",
    "yu mincho",
    "batang",
    "batangche",
    "gulim",
    "gulimche",
    "dotum",
    "dotumche",
    "gungsuh",
    "gungsuhche",
    "malgun gothic",
    // TrueType file names.
    "simsun",
    "simsunb",
    "simhei",
    "simfang",
    "simkai",
    "msyh",
    "msyhbd",
    "msyhl",
    "deng",
    "simli",
    "simyou",
    "mingliu",
    "msjh",
    "msgothic",
    "msmincho",
    "meiryo",
    "yugothm",
    "batang",
    "gulim",
    "malgun",
    "kaiu",
];

/// The bundled font for a font name (an SHX file, a TrueType file or family); `None` when the
/// name is unknown (the caller then draws with the Latin font and falls back per character).
///
/// Font names and the bundled font each is drawn with. Names are compared in lower case without
/// folder, extension or a leading `@` (vertical variants). A name not listed is drawn with the
/// Latin font, and its characters fall back to the CJK font and then to the missing-glyph box;
/// a name holding CJK, kana or Hangul characters (`宋体`, `ＭＳ 明朝`, `바탕`) goes to the CJK font.
///
/// | names | font | why |
/// |---|---|---|
/// | SHX text fonts: txt, simplex, romans, romand, romanc, romant, complex, italic, italicc, italict, scripts, scriptc, gothice, gothicg, gothici, greeks, greekc, cyrillic, cyriltlc, monotxt, isocp, isocp2, isocp3, isoct, isoct2, isoct3, isocpeur, isocteur, gdt, amgdt, syastro, symap, symath, symeteo, symusic, gbenor, gbeitc, tssdeng | Latin | single-stroke Latin fonts; gbenor/gbeitc are the Latin letters of the Chinese GB standard |
/// | SHX big fonts and Chinese/Japanese/Korean SHX fonts: gbcbig, gbhzfs, hztxt, hzfs, hzdx, hztxto, hzfso, hzdxo, hztxt1, chineset, bigfont, extfont, extfont2, khz, kanji, tssdchn, whgtxt, whgdtxt, whtmtxt, whtgtxt, cadhz, china, fs64f | CJK | East Asian glyphs |
/// | CJK TrueType families: SimSun, NSimSun, SimHei, FangSong, FangSong_GB2312, KaiTi, KaiTi_GB2312, SimKai, SimFang, Microsoft YaHei, DengXian, LiSu, YouYuan, STSong, STHeiti, STKaiti, STFangsong, MingLiU, PMingLiU, DFKai-SB, MS Gothic, MS PGothic, MS UI Gothic, MS Mincho, MS PMincho, Meiryo, Yu Gothic, Yu Mincho, Batang, BatangChe, Gulim, GulimChe, Dotum, DotumChe, Gungsuh, Malgun Gothic (and their file names: simsun.ttc, simhei.ttf, simfang.ttf, simkai.ttf, msyh.ttc, msgothic.ttc, msmincho.ttc, batang.ttc, gulim.ttc, malgun.ttf…) | CJK | |
/// | anything else (Arial, Times New Roman, isocpeur.ttf, unknown SHX files…) | Latin | with per-character fallback |
pub fn map_font_name(name: &str) -> Option<BundledFont> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim().trim_start_matches('@');
    let lower = base.to_lowercase();
    let stem = ["shx", "ttf", "ttc", "otf"]
        .iter()
        .find_map(|ext| lower.strip_suffix(ext).and_then(|s| s.strip_suffix('.')))
        .unwrap_or(&lower)
        .trim();
    if stem.is_empty() {
        return None;
    }
    if CJK_NAMES.contains(&stem) || stem.chars().any(super::is_east_asian) {
        return Some(BundledFont::Cjk);
    }
    if LATIN_NAMES.contains(&stem) {
        return Some(BundledFont::Latin);
    }
    None
}

/// Whether a font name is an SHX file (or a bare name, as `txt`, which AutoCAD reads as one).
fn is_shx_name(name: &str) -> bool {
    let lower = name.trim().to_lowercase();
    lower.ends_with(".shx") || !(lower.ends_with(".ttf") || lower.ends_with(".ttc") || lower.ends_with(".otf"))
}

/// The font a text style draws with: its TrueType family when it has one, else its font file;
/// a CJK big font does not change the primary font (East Asian characters reach the CJK font by
/// fallback) but the style stays an SHX style, with big-font sizing.
pub fn style_font(style: &TextStyle) -> StyleFont {
    if let Some(family) = style.font_family.as_deref().filter(|f| !f.trim().is_empty()) {
        return StyleFont { primary: map_font_name(family).unwrap_or(BundledFont::Latin), kind: FontKind::TrueType };
    }
    let file = style.font_file.trim();
    let kind = if file.is_empty() || is_shx_name(file) { FontKind::Shx } else { FontKind::TrueType };
    StyleFont { primary: map_font_name(file).unwrap_or(BundledFont::Latin), kind }
}

/// The font an MTEXT font code names (`\fSimSun|b0;` a family, `\Fgbcbig.shx;` a file).
pub fn code_font(name: &str) -> StyleFont {
    let kind = if name.trim().to_lowercase().ends_with(".shx") { FontKind::Shx } else { FontKind::TrueType };
    StyleFont { primary: map_font_name(name).unwrap_or(BundledFont::Latin), kind }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn style(font_file: &str, bigfont: &str, family: Option<&str>) -> TextStyle {
        TextStyle {
            name: "S".into(),
            font_file: font_file.into(),
            bigfont_file: bigfont.into(),
            font_family: family.map(str::to_owned),
            width_factor: 1.0,
            ..TextStyle::default()
        }
    }

    #[test]
    fn shx_and_truetype_names_map_to_the_bundled_fonts() {
        for latin in ["txt", "TXT.SHX", "simplex.shx", "romans", "romand.shx", "isocp.shx", "gothice.shx", "italic"] {
            assert_eq!(map_font_name(latin), Some(BundledFont::Latin), "{latin}");
        }
        for cjk in [
            "gbcbig.shx",
            "hztxt.shx",
            "chineset.shx",
            "@extfont2.shx",
            "SimSun",
            "宋体",
            "SimHei",
            "FangSong",
            "仿宋_GB2312",
            "MS Gothic",
            "ＭＳ ゴシック",
            "Batang",
            "바탕",
            "C:\\Windows\\Fonts\\simsun.ttc",
            "msyh.ttc",
        ] {
            assert_eq!(map_font_name(cjk), Some(BundledFont::Cjk), "{cjk}");
        }
        for unknown in ["Arial", "arial.ttf", "mystery.shx", "", "  "] {
            assert_eq!(map_font_name(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn a_style_draws_with_its_family_then_its_file() {
        assert_eq!(
            style_font(&style("txt", "gbcbig.shx", None)),
            StyleFont { primary: BundledFont::Latin, kind: FontKind::Shx },
            "an SHX style with a Chinese big font: Latin first, CJK by fallback, big-font sizing"
        );
        assert_eq!(
            style_font(&style("simsun.ttc", "", None)),
            StyleFont { primary: BundledFont::Cjk, kind: FontKind::TrueType }
        );
        assert_eq!(
            style_font(&style("", "", Some("仿宋_GB2312"))),
            StyleFont { primary: BundledFont::Cjk, kind: FontKind::TrueType },
            "the family from the extended data wins"
        );
        assert_eq!(
            style_font(&style("arial.ttf", "", None)),
            StyleFont { primary: BundledFont::Latin, kind: FontKind::TrueType }
        );
        assert_eq!(style_font(&style("", "", None)), StyleFont::default(), "no font at all: txt");
        assert_eq!(code_font("gbcbig.shx").kind, FontKind::Shx);
        assert_eq!(code_font("SimHei"), StyleFont { primary: BundledFont::Cjk, kind: FontKind::TrueType });
    }

    #[test]
    fn the_bundled_fonts_parse_and_cover_their_scripts() {
        let latin = face(BundledFont::Latin).unwrap();
        let cjk = face(BundledFont::Cjk).unwrap();
        for c in ['A', 'Ø', '°', '±', 'Ω', 'Ж', '²'] {
            assert!(latin.glyph(c).is_some(), "DejaVu Sans has {c}");
        }
        for c in ['中', '图', 'あ', 'カ', '한', '，'] {
            assert!(cjk.glyph(c).is_some(), "WenQuanYi Micro Hei has {c}");
        }
        assert!(latin.glyph('中').is_none());
        assert!((0.6..0.8).contains(&latin.cap_height) && (0.6..0.8).contains(&cjk.cap_height));
        assert!(cjk.ideograph.1 - cjk.ideograph.0 > 0.8);
        let mut ops = Vec::new();
        assert!(latin.outline(latin.glyph('O').unwrap(), &mut ops));
        assert_eq!(ops.iter().filter(|op| matches!(op, PathOp::Move(..))).count(), 2, "O has two contours");
        assert!(!latin.outline(latin.glyph(' ').unwrap(), &mut Vec::new()), "a space has no outline");
    }
}
