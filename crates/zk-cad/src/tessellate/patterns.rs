//! The library of named hatch patterns, for HATCH entities that name a pattern but carry no
//! pattern lines (files written by programs that expect the reader to know `ANSI31` or
//! `AR-CONC`). The definitions are ezdxf's ISO-scaled set (MIT licence), turned into
//! `pattern_library.rs` by `crates/zk-cad/tools/hatch_patterns.py`.

use crate::entity::PatternLine;
use crate::geometry::Vec2;

/// A named pattern: its lines in millimetres, as AutoCAD's `acadiso.pat` defines them.
#[derive(Debug)]
pub struct LibraryPattern {
    /// Upper case.
    pub name: &'static str,
    pub lines: &'static [LibraryLine],
}

/// One family of parallel lines: its angle (degrees), a point one line passes through, the offset
/// from one line to the next (already turned by the angle, as HATCH stores it) and its dashes
/// (positive drawn, negative gaps, 0 dots).
#[derive(Debug)]
pub struct LibraryLine {
    pub angle: f64,
    pub base: (f64, f64),
    pub offset: (f64, f64),
    pub dashes: &'static [f64],
}

/// The pattern drawn for a name the library does not know.
pub const FALLBACK: &str = "ANSI31";

/// Millimetres per inch: patterns of imperial drawings (`$MEASUREMENT` 0) are AutoCAD's
/// `acad.pat`, the same shapes 25.4 times smaller than `acadiso.pat`'s.
const MM_PER_INCH: f64 = 25.4;

/// Every pattern of the library, sorted by name.
pub fn library() -> &'static [LibraryPattern] {
    super::pattern_library::PATTERNS
}

/// The library's pattern of that name (case ignored).
pub fn find(name: &str) -> Option<&'static LibraryPattern> {
    let upper = name.trim().to_ascii_uppercase();
    let patterns = library();
    patterns.binary_search_by(|p| p.name.cmp(upper.as_str())).ok().map(|i| &patterns[i])
}

/// A library pattern as a hatch draws it: scaled by the hatch's pattern scale (and from
/// millimetres to inches in imperial drawings), turned by its pattern angle, and crossed with
/// itself at 90° when the hatch is double.
pub fn lines(pattern: &LibraryPattern, scale: f64, angle_deg: f64, double: bool, imperial: bool) -> Vec<PatternLine> {
    let scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
    let factor = if imperial { scale / MM_PER_INCH } else { scale };
    let angle_deg = if angle_deg.is_finite() { angle_deg } else { 0.0 };
    let turns: &[f64] = if double { &[0.0, 90.0] } else { &[0.0] };
    let mut out = Vec::with_capacity(pattern.lines.len() * turns.len());
    for turn in turns {
        let (sin, cos) = (angle_deg + turn).to_radians().sin_cos();
        let place = |(x, y): (f64, f64)| Vec2::new((x * cos - y * sin) * factor, (x * sin + y * cos) * factor);
        for line in pattern.lines {
            out.push(PatternLine {
                angle: (line.angle + angle_deg + turn).rem_euclid(360.0),
                base: place(line.base),
                offset: place(line.offset),
                dashes: line.dashes.iter().map(|d| d * factor).collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_library_holds_the_standard_names_sorted() {
        let names: Vec<&str> = library().iter().map(|p| p.name).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted and unique, for the binary search");
        for name in [
            "ANSI31",
            "ANSI32",
            "ANSI33",
            "ANSI34",
            "ANSI35",
            "ANSI36",
            "ANSI37",
            "ANSI38",
            "AR-B816",
            "AR-CONC",
            "AR-SAND",
            "ACAD_ISO02W100",
            "ISO02W100",
            "BRICK",
            "CROSS",
            "DOTS",
            "EARTH",
            "ESCHER",
            "GRASS",
            "HEX",
            "HONEY",
            "NET",
            "SQUARE",
            "STARS",
            "TRIANG",
            "ZIGZAG",
        ] {
            assert!(find(name).is_some(), "{name}");
        }
        assert!(library().len() >= 150, "{}", library().len());
        assert_eq!(find(" ansi31 ").map(|p| p.name), Some("ANSI31"), "case and spaces ignored");
        assert!(find("gost_non-metal").is_none());
        assert!(find(FALLBACK).is_some());
    }

    #[test]
    fn lines_are_scaled_turned_and_doubled() {
        let ansi31 = find("ANSI31").unwrap();
        let base = lines(ansi31, 1.0, 0.0, false, false);
        assert_eq!(base.len(), 1);
        assert_eq!(base[0].angle, 45.0);
        let spacing = |l: &PatternLine| l.offset.x.hypot(l.offset.y);
        assert!((spacing(&base[0]) - 3.175).abs() < 1e-6, "1/8 inch in millimetres: {}", spacing(&base[0]));
        let scaled = lines(ansi31, 2.0, 30.0, true, false);
        assert_eq!(scaled.len(), 2, "double: a second family at 90°");
        assert_eq!((scaled[0].angle, scaled[1].angle), (75.0, 165.0));
        assert!((spacing(&scaled[0]) - 6.35).abs() < 1e-6);
        // The offset stays perpendicular to its lines after turning.
        let along = Vec2::new(75f64.to_radians().cos(), 75f64.to_radians().sin());
        assert!((scaled[0].offset.x * along.x + scaled[0].offset.y * along.y).abs() < 1e-9);
        let imperial = lines(ansi31, 1.0, 0.0, false, true);
        assert!((spacing(&imperial[0]) - 0.125).abs() < 1e-9, "acad.pat: 1/8 inch");
        let dashed = lines(find("ACAD_ISO02W100").unwrap(), 0.5, 0.0, false, false);
        assert_eq!(dashed[0].dashes, vec![6.0, -1.5]);
        let odd = lines(ansi31, f64::NAN, f64::INFINITY, false, false);
        assert_eq!(odd[0].angle, 45.0, "unusable scale and angle: the pattern as defined");
    }
}
