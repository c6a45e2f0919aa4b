//! Curves into polylines within a tolerance: circular arcs (and bulged polyline segments),
//! elliptic arcs and NURBS splines. The tolerance is the largest distance allowed between the
//! curve and its chords, in drawing units (the viewer derives it from the pixel size).
//!
//! Every curve gets at most [`MAX_SEGMENTS`] segments, whatever the tolerance or the radius the
//! file states, so no input can make a curve cost more than a bounded amount of memory.

use crate::entity::{Ellipse, Spline};
use crate::geometry::{Vec2, Vec3};

/// The most segments one curve is flattened into.
pub const MAX_SEGMENTS: usize = 4096;

/// Segments for an arc of `radius` sweeping `sweep` radians so that no chord strays more than
/// `tolerance` from the arc: each chord's sagitta r(1 − cos(θ/2)) stays within the tolerance.
pub fn arc_segments(radius: f64, sweep: f64, tolerance: f64) -> usize {
    let (radius, sweep) = (radius.abs(), sweep.abs());
    if !(radius.is_finite() && sweep.is_finite() && tolerance > 0.0) || radius == 0.0 {
        return 1;
    }
    let step = if tolerance >= radius { std::f64::consts::FRAC_PI_2 } else { 2.0 * (1.0 - tolerance / radius).acos() };
    let step = step.clamp(1e-6, std::f64::consts::FRAC_PI_2);
    ((sweep / step).ceil() as usize).clamp(1, MAX_SEGMENTS)
}

/// Points of a circular arc in its plane, counter-clockwise from `start` to `end` (radians),
/// both ends included; a full circle when the sweep is 0 or 2π.
pub fn arc(center: Vec2, radius: f64, start: f64, end: f64, tolerance: f64, out: &mut Vec<Vec2>) {
    let mut sweep = (end - start).rem_euclid(std::f64::consts::TAU);
    if sweep == 0.0 || !sweep.is_finite() {
        sweep = std::f64::consts::TAU;
    }
    let n = arc_segments(radius, sweep, tolerance);
    for k in 0..=n {
        let a = start + sweep * k as f64 / n as f64;
        out.push(Vec2::new(center.x + radius * a.cos(), center.y + radius * a.sin()));
    }
}

/// The arc of a polyline segment from `a` to `b` with `bulge` = tan(θ/4) (positive:
/// counter-clockwise). Pushes the points after `a`, ending with `b` exactly.
pub fn bulge(a: Vec2, b: Vec2, bulge: f64, tolerance: f64, out: &mut Vec<Vec2>) {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let chord = dx.hypot(dy);
    if bulge == 0.0 || !bulge.is_finite() || chord == 0.0 || !chord.is_finite() {
        out.push(b);
        return;
    }
    let theta = 4.0 * bulge.atan();
    let radius = chord * (1.0 + bulge * bulge) / (4.0 * bulge.abs());
    // The centre lies on the chord's perpendicular bisector, at distance r·cos(θ/2) from it,
    // to the left of a→b for a counter-clockwise arc of less than half a turn.
    let mid = Vec2::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
    let sagitta = bulge.abs() * chord / 2.0;
    let to_center = radius - sagitta;
    let (nx, ny) = (-dy / chord, dx / chord); // left normal of a→b
    let side = bulge.signum();
    let center = Vec2::new(mid.x + nx * to_center * side, mid.y + ny * to_center * side);
    let start = (a.y - center.y).atan2(a.x - center.x);
    let n = arc_segments(radius, theta, tolerance);
    for k in 1..n {
        let t = start + theta * k as f64 / n as f64;
        out.push(Vec2::new(center.x + radius * t.cos(), center.y + radius * t.sin()));
    }
    out.push(b);
}

/// Points of an elliptic arc from parameter `start` to `end` (radians, counter-clockwise about
/// `normal`), both ends included.
pub fn ellipse(e: &Ellipse, tolerance: f64, out: &mut Vec<Vec3>) {
    let Ellipse { center, major_axis: major, ratio, start, end, normal } = *e;
    let minor = normal.normalized().unwrap_or(Vec3::Z).cross(major).scale(ratio);
    let mut sweep = (end - start).rem_euclid(std::f64::consts::TAU);
    if sweep == 0.0 || !sweep.is_finite() {
        sweep = std::f64::consts::TAU;
    }
    // The sharpest curvature is at the ends of the major axis, radius b²/a; the flattest has
    // radius a²/b. Sampling by the larger radius with the tolerance scaled by b/a bounds both.
    let (a, b) = (major.length(), major.length() * ratio.abs());
    let n = arc_segments(a.max(b), sweep, tolerance * (a.min(b) / a.max(b)).max(0.05));
    for k in 0..=n {
        let t = start + sweep * k as f64 / n as f64;
        out.push(center.plus(major.scale(t.cos())).plus(minor.scale(t.sin())));
    }
}

/// Why a spline was drawn as its control polygon (or fit points) instead of as a curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplineFallback {
    /// Degree, knots or weights do not describe a valid NURBS.
    Invalid,
    /// Only fit points: drawn through them with straight segments.
    FitPointsOnly,
}

/// Points of a NURBS curve within `tolerance`, by adaptive subdivision of each knot span. Falls
/// back to the control polygon (or the fit points) for invalid definitions and says so.
pub fn spline(s: &Spline, tolerance: f64, out: &mut Vec<Vec3>) -> Option<SplineFallback> {
    let points = &s.control_points;
    if points.is_empty() {
        out.extend(&s.fit_points);
        return (!s.fit_points.is_empty()).then_some(SplineFallback::FitPointsOnly);
    }
    let degree = usize::try_from(s.degree).unwrap_or(0);
    let knots = &s.knots;
    let weights_ok = s.weights.is_empty()
        || (s.weights.len() == points.len() && s.weights.iter().all(|w| w.is_finite() && *w > 0.0));
    let valid = (1..=MAX_DEGREE).contains(&degree)
        && points.len() > degree
        && knots.len() == points.len() + degree + 1
        && knots.windows(2).all(|w| w[0] <= w[1] && w[1].is_finite())
        && knots[degree] < knots[points.len()]
        && weights_ok;
    if !valid {
        out.extend(points);
        return Some(SplineFallback::Invalid);
    }
    let curve = Nurbs { degree, knots, points, weights: &s.weights };
    out.push(curve.at(knots[degree]));
    for span in degree..points.len() {
        let (u0, u1) = (knots[span], knots[span + 1]);
        if u1 <= u0 {
            continue;
        }
        // Sample each span evenly first (so an S-bend is not mistaken for a line), then refine.
        const FIRST: usize = 4;
        let mut prev_u = u0;
        let mut prev = curve.at(u0);
        for k in 1..=FIRST {
            let u = u0 + (u1 - u0) * k as f64 / FIRST as f64;
            let p = curve.at(u);
            curve.refine(prev_u, prev, u, p, tolerance, 0, out);
            prev_u = u;
            prev = p;
        }
        if out.len() > MAX_SEGMENTS * 4 {
            break;
        }
    }
    None
}

/// AutoCAD draws splines up to degree 11; anything above this is not a real drawing.
const MAX_DEGREE: usize = 15;

struct Nurbs<'s> {
    degree: usize,
    knots: &'s [f64],
    points: &'s [Vec3],
    weights: &'s [f64],
}

impl Nurbs<'_> {
    /// De Boor's algorithm in homogeneous coordinates.
    fn at(&self, u: f64) -> Vec3 {
        let p = self.degree;
        let n = self.points.len() - 1;
        let u = u.clamp(self.knots[p], self.knots[n + 1]);
        // The span k with knots[k] <= u < knots[k+1], clamped to the valid range.
        let mut k = p;
        while k < n && self.knots[k + 1] <= u {
            k += 1;
        }
        let mut d = [[0.0f64; 4]; MAX_DEGREE + 1];
        for (j, slot) in d.iter_mut().enumerate().take(p + 1) {
            let i = k - p + j;
            let w = self.weights.get(i).copied().unwrap_or(1.0);
            let c = self.points[i];
            *slot = [c.x * w, c.y * w, c.z * w, w];
        }
        for r in 1..=p {
            for j in (r..=p).rev() {
                let i = k - p + j;
                let denom = self.knots[i + p + 1 - r] - self.knots[i];
                let alpha = if denom == 0.0 { 0.0 } else { (u - self.knots[i]) / denom };
                let previous = d[j - 1];
                for (value, before) in d[j].iter_mut().zip(previous) {
                    *value = (1.0 - alpha) * before + alpha * *value;
                }
            }
        }
        let [x, y, z, w] = d[p];
        if w == 0.0 { Vec3::new(x, y, z) } else { Vec3::new(x / w, y / w, z / w) }
    }

    /// Pushes points after `a` up to `b`, splitting while the midpoint strays from the chord.
    #[allow(clippy::too_many_arguments)]
    fn refine(&self, ua: f64, a: Vec3, ub: f64, b: Vec3, tolerance: f64, depth: u32, out: &mut Vec<Vec3>) {
        let um = (ua + ub) / 2.0;
        let m = self.at(um);
        if depth < 12 && distance_to_segment(m, a, b) > tolerance {
            self.refine(ua, a, um, m, tolerance, depth + 1, out);
            self.refine(um, m, ub, b, tolerance, depth + 1, out);
        } else {
            out.push(b);
        }
    }
}

fn distance_to_segment(p: Vec3, a: Vec3, b: Vec3) -> f64 {
    let ab = b.minus(a);
    let len2 = ab.dot(ab);
    let t = if len2 > 0.0 { (p.minus(a).dot(ab) / len2).clamp(0.0, 1.0) } else { 0.0 };
    p.minus(a.plus(ab.scale(t))).length()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_deviation_from_circle(points: &[Vec2], center: Vec2, radius: f64) -> f64 {
        // The worst chord midpoint's distance from the circle.
        points
            .windows(2)
            .map(|w| {
                let mid = Vec2::new((w[0].x + w[1].x) / 2.0, (w[0].y + w[1].y) / 2.0);
                (radius - (mid.x - center.x).hypot(mid.y - center.y)).abs()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn arcs_stay_within_the_tolerance() {
        for (radius, tolerance) in [(1.0, 0.01), (1000.0, 0.5), (5.0, 0.0001)] {
            let mut pts = Vec::new();
            arc(Vec2::new(3.0, 4.0), radius, 0.0, std::f64::consts::PI, tolerance, &mut pts);
            assert!(max_deviation_from_circle(&pts, Vec2::new(3.0, 4.0), radius) <= tolerance * 1.0001);
            assert!((pts[0].x - (3.0 + radius)).abs() < 1e-9 && (pts.last().unwrap().x - (3.0 - radius)).abs() < 1e-9);
        }
    }

    #[test]
    fn hostile_radii_and_tolerances_are_bounded() {
        assert_eq!(arc_segments(1e300, std::f64::consts::TAU, 1e-300), MAX_SEGMENTS);
        assert_eq!(arc_segments(f64::NAN, 1.0, 0.1), 1);
        assert_eq!(arc_segments(1.0, 1.0, 0.0), 1);
        assert!(arc_segments(1.0, std::f64::consts::TAU, 10.0) <= 4);
    }

    #[test]
    fn bulge_one_is_a_half_circle_to_the_right() {
        let mut pts = Vec::new();
        bulge(Vec2::new(0.0, 0.0), Vec2::new(2.0, 0.0), 1.0, 0.001, &mut pts);
        assert_eq!(*pts.last().unwrap(), Vec2::new(2.0, 0.0));
        let lowest = pts.iter().map(|p| p.y).fold(f64::MAX, f64::min);
        assert!(
            (lowest + 1.0).abs() < 0.01,
            "a counter-clockwise half circle from (0,0) to (2,0) dips to y = -1: {lowest}"
        );
        assert!(max_deviation_from_circle(&pts, Vec2::new(1.0, 0.0), 1.0) < 0.0011);
        let mut neg = Vec::new();
        bulge(Vec2::new(0.0, 0.0), Vec2::new(2.0, 0.0), -1.0, 0.001, &mut neg);
        assert!(neg.iter().all(|p| p.y >= -1e-9), "clockwise goes over the top");
    }

    #[test]
    fn small_bulge_is_a_shallow_arc() {
        let mut pts = Vec::new();
        let b = (10f64.to_radians() / 4.0).tan(); // a 10° arc
        bulge(Vec2::new(0.0, 0.0), Vec2::new(10.0, 0.0), b, 0.0001, &mut pts);
        let radius = 10.0 * (1.0 + b * b) / (4.0 * b);
        let center_y = radius - b * 10.0 / 2.0;
        assert!(max_deviation_from_circle(&pts, Vec2::new(5.0, center_y), radius) < 0.00011);
    }

    #[test]
    fn ellipse_ends_and_axes() {
        let mut pts = Vec::new();
        let e = Ellipse {
            center: Vec3::ZERO,
            major_axis: Vec3::new(2.0, 0.0, 0.0),
            ratio: 0.5,
            start: 0.0,
            end: std::f64::consts::PI,
            normal: Vec3::Z,
        };
        ellipse(&e, 0.001, &mut pts);
        assert!((pts[0].x - 2.0).abs() < 1e-12 && (pts.last().unwrap().x + 2.0).abs() < 1e-9);
        let top = pts.iter().map(|p| p.y).fold(f64::MIN, f64::max);
        assert!((top - 1.0).abs() < 0.001, "{top}");
    }

    #[test]
    fn nurbs_circle_quarter_is_exact() {
        // A rational quadratic quarter circle: weights 1, √2/2, 1.
        let s = Spline {
            degree: 2,
            knots: vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            control_points: vec![Vec3::new(1.0, 0.0, 0.0), Vec3::new(1.0, 1.0, 0.0), Vec3::new(0.0, 1.0, 0.0)],
            weights: vec![1.0, std::f64::consts::FRAC_1_SQRT_2, 1.0],
            ..Spline::default()
        };
        let mut pts = Vec::new();
        assert_eq!(spline(&s, 0.0005, &mut pts), None);
        for p in &pts {
            assert!((p.x.hypot(p.y) - 1.0).abs() < 1e-9, "{p:?}");
        }
        assert!(pts.len() > 4);
        assert_eq!(pts[0], Vec3::new(1.0, 0.0, 0.0));
        assert!((pts.last().unwrap().y - 1.0).abs() < 1e-12);
    }

    #[test]
    fn invalid_splines_fall_back_to_their_control_polygon() {
        let s = Spline {
            degree: 3,
            knots: vec![0.0, 1.0],
            control_points: vec![Vec3::ZERO, Vec3::new(1.0, 1.0, 0.0)],
            ..Spline::default()
        };
        let mut pts = Vec::new();
        assert_eq!(spline(&s, 0.01, &mut pts), Some(SplineFallback::Invalid));
        assert_eq!(pts.len(), 2);
        let fit = Spline { fit_points: vec![Vec3::ZERO, Vec3::new(1.0, 0.0, 0.0)], ..Spline::default() };
        pts.clear();
        assert_eq!(spline(&fit, 0.01, &mut pts), Some(SplineFallback::FitPointsOnly));
        let hostile =
            Spline { degree: 1_000_000, knots: vec![0.0; 4], control_points: vec![Vec3::ZERO; 2], ..Spline::default() };
        pts.clear();
        assert_eq!(spline(&hostile, 0.01, &mut pts), Some(SplineFallback::Invalid));
    }
}
