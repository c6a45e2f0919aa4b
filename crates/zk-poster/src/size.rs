//! Poster sizes: print sizes in millimetres at 300 dpi with 3 mm bleed and a 5 mm safe area, and
//! social formats in pixels. A size turns into a [`Geometry`]: the canvas in pixels and where the
//! trim and safe boxes sit on it.

use serde::Serialize;

/// Print resolution: what a print shop expects.
pub const PRINT_DPI: f32 = 300.0;
/// Bleed around the trim box of a print size.
pub const PRINT_BLEED_MM: f32 = 3.0;
/// Distance of the safe area from the trim edge of a print size.
pub const PRINT_SAFE_MM: f32 = 5.0;
/// Social formats have no bleed; keep text this fraction of the short side away from the edge.
const SOCIAL_SAFE_FRACTION: f32 = 0.04;
/// Social pixels become PDF points one to one (72 "dpi"), the convention of screen PDFs.
const SOCIAL_DPI: f32 = 72.0;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SizeKind {
    Print { width_mm: f32, height_mm: f32 },
    Social { width_px: u32, height_px: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PosterSize {
    /// What documents and the CLI call it: `A3`, `1080x1350`.
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    #[serde(flatten)]
    pub kind: SizeKind,
}

const fn print(id: &'static str, name_zh: &'static str, name_en: &'static str, w: f32, h: f32) -> PosterSize {
    PosterSize { id, name_zh, name_en, kind: SizeKind::Print { width_mm: w, height_mm: h } }
}

const fn social(id: &'static str, name_zh: &'static str, name_en: &'static str, w: u32, h: u32) -> PosterSize {
    PosterSize { id, name_zh, name_en, kind: SizeKind::Social { width_px: w, height_px: h } }
}

/// Every size a poster can have.
pub const SIZES: &[PosterSize] = &[
    print("A5", "A5 印刷", "A5 print", 148.0, 210.0),
    print("A4", "A4 印刷", "A4 print", 210.0, 297.0),
    print("A3", "A3 印刷", "A3 print", 297.0, 420.0),
    print("A2", "A2 印刷", "A2 print", 420.0, 594.0),
    print("A1", "A1 印刷", "A1 print", 594.0, 841.0),
    print("banner-600x1800", "易拉宝 600×1800", "Roll-up banner 600×1800", 600.0, 1800.0),
    social("1080x1080", "方图 1080×1080", "Square 1080×1080", 1080, 1080),
    social("1080x1350", "竖图 1080×1350", "Portrait 1080×1350", 1080, 1350),
    social("1080x1920", "竖屏故事 1080×1920", "Story 1080×1920", 1080, 1920),
    social("1200x628", "链接预览 1200×628", "Link preview 1200×628", 1200, 628),
    social("1920x1080", "横屏 1920×1080", "Landscape 1920×1080", 1920, 1080),
    social("900x383", "公众号封面 900×383", "WeChat cover 900×383", 900, 383),
    social("1242x1660", "小红书 1242×1660", "Xiaohongshu 1242×1660", 1242, 1660),
];

/// A rectangle in canvas pixels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BoxPx {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl BoxPx {
    pub fn right(&self) -> f32 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f32 {
        self.y + self.h
    }
    pub fn inset(&self, by: f32) -> BoxPx {
        BoxPx { x: self.x + by, y: self.y + by, w: (self.w - 2.0 * by).max(0.0), h: (self.h - 2.0 * by).max(0.0) }
    }
    /// Whether `other` lies inside this box, with half a pixel of tolerance for rounding.
    pub fn contains(&self, other: &BoxPx) -> bool {
        other.x >= self.x - 0.5
            && other.y >= self.y - 0.5
            && other.right() <= self.right() + 0.5
            && other.bottom() <= self.bottom() + 0.5
    }
}

/// Where things sit on the canvas of one size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Geometry {
    /// The whole raster (trim + bleed), in pixels at `dpi`.
    pub canvas_w: u32,
    pub canvas_h: u32,
    pub trim: BoxPx,
    pub safe: BoxPx,
    pub dpi: f32,
    pub is_print: bool,
}

impl Geometry {
    /// PDF points per canvas pixel.
    pub fn pt_per_px(&self) -> f32 {
        72.0 / self.dpi
    }
    pub fn mm_to_px(&self, mm: f32) -> f32 {
        mm / 25.4 * self.dpi
    }
}

impl PosterSize {
    pub fn find(id: &str) -> Option<&'static PosterSize> {
        SIZES.iter().find(|size| size.id.eq_ignore_ascii_case(id))
    }

    /// Width over height of the trim box.
    pub fn aspect(&self) -> f32 {
        match self.kind {
            SizeKind::Print { width_mm, height_mm } => width_mm / height_mm,
            SizeKind::Social { width_px, height_px } => width_px as f32 / height_px as f32,
        }
    }

    pub fn geometry(&self) -> Geometry {
        match self.kind {
            SizeKind::Print { width_mm, height_mm } => {
                let px = |mm: f32| mm / 25.4 * PRINT_DPI;
                let bleed = px(PRINT_BLEED_MM);
                let trim = BoxPx { x: bleed, y: bleed, w: px(width_mm), h: px(height_mm) };
                Geometry {
                    canvas_w: (trim.w + 2.0 * bleed).round() as u32,
                    canvas_h: (trim.h + 2.0 * bleed).round() as u32,
                    trim,
                    safe: trim.inset(px(PRINT_SAFE_MM)),
                    dpi: PRINT_DPI,
                    is_print: true,
                }
            }
            SizeKind::Social { width_px, height_px } => {
                let trim = BoxPx { x: 0.0, y: 0.0, w: width_px as f32, h: height_px as f32 };
                Geometry {
                    canvas_w: width_px,
                    canvas_h: height_px,
                    trim,
                    safe: trim.inset(trim.w.min(trim.h) * SOCIAL_SAFE_FRACTION),
                    dpi: SOCIAL_DPI,
                    is_print: false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a3_at_300_dpi_is_3508_by_4961_plus_bleed() {
        let geometry = PosterSize::find("a3").map(PosterSize::geometry);
        let Some(geometry) = geometry else { panic!("A3 is a size") };
        assert_eq!((geometry.trim.w.round(), geometry.trim.h.round()), (3508.0, 4961.0));
        // 3 mm bleed on each side is 35.4 px.
        assert_eq!((geometry.canvas_w, geometry.canvas_h), (3579, 5031));
        assert!(geometry.trim.contains(&geometry.safe));
    }

    #[test]
    fn social_sizes_are_their_pixels() {
        let Some(size) = PosterSize::find("900x383") else { panic!("the WeChat cover is a size") };
        let geometry = size.geometry();
        assert_eq!((geometry.canvas_w, geometry.canvas_h), (900, 383));
        assert_eq!(geometry.pt_per_px(), 1.0);
    }
}
