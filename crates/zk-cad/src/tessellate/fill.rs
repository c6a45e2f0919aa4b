//! Filling closed boundaries: solid fills as triangles and hatch patterns as line segments, both
//! by the even-odd rule (a point is inside when a ray from it crosses the boundaries an odd number
//! of times), which is how HATCH's "normal" style treats islands. Scanlines make both robust to
//! what real files hold: loops in any direction, touching or overlapping islands, duplicate points.

use crate::entity::PatternLine;
use crate::geometry::Vec2;

/// An edge of a boundary, oriented upwards (`a.y < b.y`); horizontal edges are dropped.
#[derive(Clone, Copy, Debug)]
struct Edge {
    a: Vec2,
    b: Vec2,
}

impl Edge {
    fn x_at(&self, y: f64) -> f64 {
        let t = (y - self.a.y) / (self.b.y - self.a.y);
        self.a.x + t * (self.b.x - self.a.x)
    }
}

fn edges_of(loops: &[Vec<Vec2>], transform: impl Fn(Vec2) -> Vec2) -> Vec<Edge> {
    let mut edges = Vec::new();
    for points in loops {
        for (i, &p) in points.iter().enumerate() {
            let q = points[(i + 1) % points.len()];
            let (p, q) = (transform(p), transform(q));
            if !(p.x.is_finite() && p.y.is_finite() && q.x.is_finite() && q.y.is_finite()) || p.y == q.y {
                continue;
            }
            edges.push(if p.y < q.y { Edge { a: p, b: q } } else { Edge { a: q, b: p } });
        }
    }
    edges
}

/// Fills the loops with triangles (three points each), band by band between consecutive vertex
/// heights. Returns false if it stopped because `max_triangles` was reached.
pub fn solid(loops: &[Vec<Vec2>], max_triangles: usize, out: &mut Vec<[Vec2; 3]>) -> bool {
    let mut edges = edges_of(loops, |p| p);
    edges.sort_by(|e, f| e.a.y.total_cmp(&f.a.y));
    let mut ys: Vec<f64> = edges.iter().flat_map(|e| [e.a.y, e.b.y]).collect();
    ys.sort_by(f64::total_cmp);
    ys.dedup();
    let mut active: Vec<Edge> = Vec::new();
    let mut next_edge = 0;
    let mut crossings: Vec<(f64, f64, f64)> = Vec::new();
    let start = out.len();
    for band in ys.windows(2) {
        let (y0, y1) = (band[0], band[1]);
        while next_edge < edges.len() && edges[next_edge].a.y <= y0 {
            active.push(edges[next_edge]);
            next_edge += 1;
        }
        active.retain(|e| e.b.y > y0);
        let mid = (y0 + y1) / 2.0;
        crossings.clear();
        crossings.extend(
            active.iter().filter(|e| e.a.y <= y0 && e.b.y >= y1).map(|e| (e.x_at(mid), e.x_at(y0), e.x_at(y1))),
        );
        crossings.sort_by(|p, q| p.0.total_cmp(&q.0));
        for pair in crossings.chunks_exact(2) {
            let (left, right) = (pair[0], pair[1]);
            let (bl, br, tl, tr) =
                (Vec2::new(left.1, y0), Vec2::new(right.1, y0), Vec2::new(left.2, y1), Vec2::new(right.2, y1));
            out.push([bl, br, tr]);
            out.push([bl, tr, tl]);
        }
        if out.len() - start > max_triangles {
            return false;
        }
    }
    true
}

/// Why a pattern was not drawn as lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternProblem {
    /// The lines are closer together than the boundary's size allows drawing (more than
    /// `max_lines`): the caller fills it solid, which is what it would look like.
    TooDense,
    /// The line family has no spacing (every line on top of the other).
    Degenerate,
}

/// Clips one pattern line family to the loops, pushing (start, end) segments and dots (as
/// zero-length segments).
pub fn pattern(
    loops: &[Vec<Vec2>],
    line: &PatternLine,
    max_lines: usize,
    out: &mut Vec<(Vec2, Vec2)>,
) -> Result<(), PatternProblem> {
    let (s, c) = line.angle.to_radians().sin_cos();
    // Rotate by -angle so the family's lines are horizontal.
    let to_line = |p: Vec2| Vec2::new(p.x * c + p.y * s, -p.x * s + p.y * c);
    let from_line = |p: Vec2| Vec2::new(p.x * c - p.y * s, p.x * s + p.y * c);
    let edges = edges_of(loops, to_line);
    if edges.is_empty() {
        return Ok(());
    }
    let base = to_line(line.base);
    let offset = to_line(line.offset);
    if !(offset.y.abs() > 1e-12 && offset.y.is_finite() && base.x.is_finite() && base.y.is_finite()) {
        return Err(PatternProblem::Degenerate);
    }
    let (ymin, ymax) = edges.iter().fold((f64::MAX, f64::MIN), |(lo, hi), e| (lo.min(e.a.y), hi.max(e.b.y)));
    let step = offset.y;
    let (k0, k1) = {
        let (a, b) = ((ymin - base.y) / step, (ymax - base.y) / step);
        (a.min(b).ceil(), a.max(b).floor())
    };
    if !(k1 - k0).is_finite() || k1 - k0 > max_lines as f64 {
        return Err(PatternProblem::TooDense);
    }
    let period: f64 = line.dashes.iter().map(|d| d.abs()).sum();
    let dashed = !line.dashes.is_empty() && period > 0.0 && period.is_finite();
    let mut xs: Vec<f64> = Vec::new();
    // Counted with an integer: with huge coordinates `k + 1.0` could equal `k`.
    for i in 0..=(k1 - k0).max(0.0) as usize {
        let k = k0 + i as f64;
        let y = base.y + k * step;
        // Half-open rule: a vertex on the line counts for one of its two edges only.
        xs.clear();
        xs.extend(edges.iter().filter(|e| e.a.y <= y && y < e.b.y).map(|e| e.x_at(y)));
        xs.sort_by(f64::total_cmp);
        let phase = base.x + k * offset.x;
        for span in xs.chunks_exact(2) {
            let (xa, xb) = (span[0], span[1]);
            if !dashed {
                out.push((from_line(Vec2::new(xa, y)), from_line(Vec2::new(xb, y))));
                continue;
            }
            // Too many dashes on one span, or coordinates so large that a period does not move
            // x: draw it through (it looks the same at that density).
            if (xb - xa) / period > 20_000.0 || xa + period == xa {
                out.push((from_line(Vec2::new(xa, y)), from_line(Vec2::new(xb, y))));
                continue;
            }
            let mut x = phase + ((xa - phase) / period).floor() * period;
            let mut periods = 0;
            'span: while periods <= 20_001 {
                periods += 1;
                for &d in &line.dashes {
                    if x > xb {
                        break 'span;
                    }
                    let len = d.abs();
                    if d > 0.0 {
                        let (from, to) = (x.max(xa), (x + len).min(xb));
                        if from < to {
                            out.push((from_line(Vec2::new(from, y)), from_line(Vec2::new(to, y))));
                        }
                    } else if d == 0.0 && x >= xa {
                        out.push((from_line(Vec2::new(x, y)), from_line(Vec2::new(x, y))));
                    }
                    x += len;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, size: f64) -> Vec<Vec2> {
        vec![Vec2::new(x0, y0), Vec2::new(x0 + size, y0), Vec2::new(x0 + size, y0 + size), Vec2::new(x0, y0 + size)]
    }

    fn area(triangles: &[[Vec2; 3]]) -> f64 {
        triangles.iter().map(|[a, b, c]| ((b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y)).abs() / 2.0).sum()
    }

    #[test]
    fn a_square_with_an_island_leaves_the_island_empty() {
        let mut out = Vec::new();
        assert!(solid(&[square(0.0, 0.0, 10.0), square(3.0, 3.0, 4.0)], 1000, &mut out));
        assert!((area(&out) - 84.0).abs() < 1e-9, "{}", area(&out));
    }

    #[test]
    fn loops_in_either_direction_and_triangles() {
        let mut clockwise = square(0.0, 0.0, 2.0);
        clockwise.reverse();
        let triangle = vec![Vec2::new(10.0, 0.0), Vec2::new(12.0, 0.0), Vec2::new(11.0, 2.0)];
        let mut out = Vec::new();
        solid(&[clockwise, triangle], 1000, &mut out);
        assert!((area(&out) - 6.0).abs() < 1e-9);
    }

    #[test]
    fn degenerate_boundaries_fill_nothing_and_do_not_fail() {
        let mut out = Vec::new();
        assert!(solid(
            &[
                vec![],
                vec![Vec2::new(0.0, 0.0)],
                vec![Vec2::new(f64::NAN, 0.0), Vec2::new(1.0, 1.0), Vec2::new(2.0, 0.0)]
            ],
            10,
            &mut out
        ));
        assert!(solid(&[vec![Vec2::new(0.0, 0.0), Vec2::new(5.0, 0.0)]], 10, &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn the_triangle_cap_stops_filling() {
        let comb: Vec<Vec2> =
            (0..1000).flat_map(|i| [Vec2::new(i as f64, 0.0), Vec2::new(i as f64 + 0.5, 10.0)]).collect();
        let mut out = Vec::new();
        assert!(!solid(&[comb], 50, &mut out));
    }

    #[test]
    fn ansi31_style_lines_are_clipped_to_the_boundary() {
        // 45° lines 1 apart over a 10×10 square with a 4×4 island.
        let line = PatternLine {
            angle: 45.0,
            base: Vec2::new(0.0, 0.0),
            offset: Vec2::new(-std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::FRAC_1_SQRT_2),
            dashes: vec![],
        };
        let mut out = Vec::new();
        pattern(&[square(0.0, 0.0, 10.0), square(3.0, 3.0, 4.0)], &line, 10_000, &mut out).unwrap();
        assert!(out.len() > 10);
        for (a, b) in &out {
            for p in [a, b] {
                assert!(p.x >= -1e-9 && p.x <= 10.0 + 1e-9 && p.y >= -1e-9 && p.y <= 10.0 + 1e-9, "{p:?}");
            }
            let mid = Vec2::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
            assert!(
                !(mid.x > 3.0 + 1e-6 && mid.x < 7.0 - 1e-6 && mid.y > 3.0 + 1e-6 && mid.y < 7.0 - 1e-6),
                "a segment crosses the island: {a:?} {b:?}"
            );
        }
    }

    #[test]
    fn dashes_and_dots() {
        let line = PatternLine {
            angle: 0.0,
            base: Vec2::new(0.0, 0.5),
            offset: Vec2::new(0.0, 100.0),
            dashes: vec![2.0, -1.0, 0.0, -1.0],
        };
        let mut out = Vec::new();
        pattern(&[square(0.0, 0.0, 8.0)], &line, 100, &mut out).unwrap();
        // Period 4: dash [0,2], dot at 3, dash [4,6], dot at 7.
        let xs: Vec<(f64, f64)> = out.iter().map(|(a, b)| (a.x, b.x)).collect();
        assert_eq!(xs, vec![(0.0, 2.0), (3.0, 3.0), (4.0, 6.0), (7.0, 7.0)]);
    }

    #[test]
    fn dense_or_degenerate_patterns_are_refused() {
        let dense = PatternLine { angle: 0.0, base: Vec2::default(), offset: Vec2::new(0.0, 1e-9), dashes: vec![] };
        assert_eq!(pattern(&[square(0.0, 0.0, 1e6)], &dense, 10_000, &mut Vec::new()), Err(PatternProblem::TooDense));
        let flat = PatternLine { angle: 0.0, base: Vec2::default(), offset: Vec2::new(5.0, 0.0), dashes: vec![] };
        assert_eq!(pattern(&[square(0.0, 0.0, 10.0)], &flat, 10_000, &mut Vec::new()), Err(PatternProblem::Degenerate));
    }
}
