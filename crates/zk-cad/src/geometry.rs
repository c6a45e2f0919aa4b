//! Points, vectors, bounding boxes, the Object Coordinate System (OCS) and affine transforms.
//!
//! Every function here is total: non-finite input gives non-finite output or `None`, never a panic.

use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Vec2 {
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Vec3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

impl Vec2 {
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    pub const fn extend(self, z: f64) -> Vec3 {
        Vec3 { x: self.x, y: self.y, z }
    }
}

impl Vec3 {
    pub const ZERO: Vec3 = Vec3 { x: 0.0, y: 0.0, z: 0.0 };
    /// The default extrusion direction: a 2D entity in the world XY plane.
    pub const Z: Vec3 = Vec3 { x: 0.0, y: 0.0, z: 1.0 };

    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Self { x, y, z }
    }

    pub const fn xy(self) -> Vec2 {
        Vec2 { x: self.x, y: self.y }
    }

    pub fn dot(self, o: Vec3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    pub fn cross(self, o: Vec3) -> Vec3 {
        Vec3::new(self.y * o.z - self.z * o.y, self.z * o.x - self.x * o.z, self.x * o.y - self.y * o.x)
    }

    pub fn length(self) -> f64 {
        self.dot(self).sqrt()
    }

    pub fn scale(self, k: f64) -> Vec3 {
        Vec3::new(self.x * k, self.y * k, self.z * k)
    }

    pub fn plus(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x + o.x, self.y + o.y, self.z + o.z)
    }

    pub fn minus(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }

    /// The unit vector in this direction, or `None` for a zero-length or non-finite vector.
    pub fn normalized(self) -> Option<Vec3> {
        let len = self.length();
        (len.is_finite() && len > 1e-12).then(|| self.scale(1.0 / len))
    }

    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite() && self.z.is_finite()
    }
}

/// An axis-aligned box; empty until a finite point is added.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bounds {
    pub min: Vec3,
    pub max: Vec3,
}

impl Bounds {
    pub const EMPTY: Bounds = Bounds {
        min: Vec3 { x: f64::INFINITY, y: f64::INFINITY, z: f64::INFINITY },
        max: Vec3 { x: f64::NEG_INFINITY, y: f64::NEG_INFINITY, z: f64::NEG_INFINITY },
    };

    pub fn is_empty(&self) -> bool {
        !(self.min.x <= self.max.x && self.min.y <= self.max.y && self.min.z <= self.max.z)
    }

    /// Adds a point; non-finite points are ignored so one bad coordinate cannot poison the box.
    pub fn include(&mut self, p: Vec3) {
        if !p.is_finite() {
            return;
        }
        self.min = Vec3::new(self.min.x.min(p.x), self.min.y.min(p.y), self.min.z.min(p.z));
        self.max = Vec3::new(self.max.x.max(p.x), self.max.y.max(p.y), self.max.z.max(p.z));
    }

    pub fn union(&mut self, other: &Bounds) {
        if !other.is_empty() {
            self.include(other.min);
            self.include(other.max);
        }
    }

    /// The eight corners, for transforming a box through an insert.
    pub fn corners(&self) -> [Vec3; 8] {
        let (a, b) = (self.min, self.max);
        [
            Vec3::new(a.x, a.y, a.z),
            Vec3::new(b.x, a.y, a.z),
            Vec3::new(a.x, b.y, a.z),
            Vec3::new(b.x, b.y, a.z),
            Vec3::new(a.x, a.y, b.z),
            Vec3::new(b.x, a.y, b.z),
            Vec3::new(a.x, b.y, b.z),
            Vec3::new(b.x, b.y, b.z),
        ]
    }
}

impl Default for Bounds {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// The Object Coordinate System of a 2D entity with extrusion direction `normal`, by the DXF
/// reference's arbitrary axis algorithm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ocs {
    pub x: Vec3,
    pub y: Vec3,
    pub z: Vec3,
}

impl Ocs {
    /// A missing, zero or non-finite normal falls back to the world Z axis (what AutoCAD draws).
    pub fn new(normal: Vec3) -> Ocs {
        let z = normal.normalized().unwrap_or(Vec3::Z);
        // "If the normal is close to the world Z axis, use world Y; otherwise world Z", with the
        // reference's threshold of 1/64.
        let threshold = 1.0 / 64.0;
        let world_axis =
            if z.x.abs() < threshold && z.y.abs() < threshold { Vec3::new(0.0, 1.0, 0.0) } else { Vec3::Z };
        let x = world_axis.cross(z).normalized().unwrap_or(Vec3::new(1.0, 0.0, 0.0));
        let y = z.cross(x).normalized().unwrap_or(Vec3::new(0.0, 1.0, 0.0));
        Ocs { x, y, z }
    }

    pub fn is_world(&self) -> bool {
        self.z == Vec3::Z
    }

    /// A point given in this OCS, in world coordinates.
    pub fn to_wcs(&self, p: Vec3) -> Vec3 {
        self.x.scale(p.x).plus(self.y.scale(p.y)).plus(self.z.scale(p.z))
    }
}

/// An affine transform: `p' = m * p + t`, with `m` stored by columns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transform {
    pub cols: [Vec3; 3],
    pub translation: Vec3,
}

impl Transform {
    pub const IDENTITY: Transform = Transform {
        cols: [Vec3 { x: 1.0, y: 0.0, z: 0.0 }, Vec3 { x: 0.0, y: 1.0, z: 0.0 }, Vec3 { x: 0.0, y: 0.0, z: 1.0 }],
        translation: Vec3::ZERO,
    };

    pub fn apply(&self, p: Vec3) -> Vec3 {
        self.cols[0].scale(p.x).plus(self.cols[1].scale(p.y)).plus(self.cols[2].scale(p.z)).plus(self.translation)
    }

    /// `self ∘ inner`: first `inner`, then `self`.
    pub fn then_inner(&self, inner: &Transform) -> Transform {
        let c = |v: Vec3| self.cols[0].scale(v.x).plus(self.cols[1].scale(v.y)).plus(self.cols[2].scale(v.z));
        Transform {
            cols: [c(inner.cols[0]), c(inner.cols[1]), c(inner.cols[2])],
            translation: self.apply(inner.translation),
        }
    }

    /// The transform of a block reference: block base point to origin, scale, rotate about the OCS
    /// Z axis, move to the insertion point, then from the insert's OCS to the world.
    pub fn insert(base: Vec3, insert: Vec3, scale: Vec3, rotation_deg: f64, normal: Vec3) -> Transform {
        let (s, c) = rotation_deg.to_radians().sin_cos();
        let ocs = Ocs::new(normal);
        // Columns of rotation * scale in OCS, then mapped to WCS.
        let x = ocs.to_wcs(Vec3::new(c * scale.x, s * scale.x, 0.0));
        let y = ocs.to_wcs(Vec3::new(-s * scale.y, c * scale.y, 0.0));
        let z = ocs.to_wcs(Vec3::new(0.0, 0.0, scale.z));
        let m = Transform { cols: [x, y, z], translation: Vec3::ZERO };
        let moved_base = m.apply(base.scale(-1.0));
        Transform { cols: [x, y, z], translation: ocs.to_wcs(insert).plus(moved_base) }
    }

    pub fn bounds(&self, b: &Bounds) -> Bounds {
        let mut out = Bounds::EMPTY;
        if !b.is_empty() {
            for corner in b.corners() {
                out.include(self.apply(corner));
            }
        }
        out
    }
}

/// Bounds of a circular arc (angles in degrees, counter-clockwise from `start` to `end`) in its own
/// plane: the end points plus every axis crossing the sweep passes.
pub fn arc_bounds_2d(center: Vec2, radius: f64, start_deg: f64, end_deg: f64) -> [Option<Vec2>; 6] {
    let mut out = [None; 6];
    if !(radius.is_finite() && start_deg.is_finite() && end_deg.is_finite()) {
        return out;
    }
    let start = start_deg.rem_euclid(360.0);
    let mut sweep = (end_deg - start_deg).rem_euclid(360.0);
    if sweep == 0.0 {
        sweep = 360.0;
    }
    let at = |deg: f64| {
        let (s, c) = deg.to_radians().sin_cos();
        Vec2::new(center.x + radius * c, center.y + radius * s)
    };
    out[0] = Some(at(start));
    out[1] = Some(at(start + sweep));
    for (i, quadrant) in [0.0f64, 90.0, 180.0, 270.0].into_iter().enumerate() {
        let offset = (quadrant - start).rem_euclid(360.0);
        if offset <= sweep {
            out[2 + i] = Some(at(quadrant));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Vec3, b: Vec3) -> bool {
        a.minus(b).length() < 1e-9
    }

    #[test]
    fn ocs_of_world_z_is_identity() {
        let ocs = Ocs::new(Vec3::Z);
        assert!(close(ocs.x, Vec3::new(1.0, 0.0, 0.0)) && close(ocs.y, Vec3::new(0.0, 1.0, 0.0)));
    }

    #[test]
    fn ocs_of_negative_z_mirrors_x() {
        // A circle drawn "from below" (extrusion 0,0,-1): OCS x maps to world -x.
        let ocs = Ocs::new(Vec3::new(0.0, 0.0, -1.0));
        assert!(close(ocs.to_wcs(Vec3::new(1.0, 2.0, 0.0)), Vec3::new(-1.0, 2.0, 0.0)));
    }

    #[test]
    fn ocs_of_world_x_uses_world_z_as_helper() {
        let ocs = Ocs::new(Vec3::new(1.0, 0.0, 0.0));
        // Wz × N = (0,0,1) × (1,0,0) = (0,1,0)
        assert!(close(ocs.x, Vec3::new(0.0, 1.0, 0.0)), "{:?}", ocs.x);
        assert!(close(ocs.y, Vec3::new(0.0, 0.0, 1.0)), "{:?}", ocs.y);
    }

    #[test]
    fn zero_or_nan_normal_falls_back_to_world() {
        assert!(Ocs::new(Vec3::ZERO).is_world());
        assert!(Ocs::new(Vec3::new(f64::NAN, 0.0, 1.0)).is_world());
    }

    #[test]
    fn insert_transform_scales_rotates_and_moves() {
        let t = Transform::insert(
            Vec3::new(1.0, 0.0, 0.0),
            Vec3::new(10.0, 10.0, 0.0),
            Vec3::new(2.0, 2.0, 1.0),
            90.0,
            Vec3::Z,
        );
        // Base point lands on the insertion point; (2,0) is 1 unit from base, scaled 2, rotated 90°.
        assert!(close(t.apply(Vec3::new(1.0, 0.0, 0.0)), Vec3::new(10.0, 10.0, 0.0)));
        assert!(close(t.apply(Vec3::new(2.0, 0.0, 0.0)), Vec3::new(10.0, 12.0, 0.0)));
    }

    #[test]
    fn arc_bounds_include_crossed_quadrants_only() {
        let pts: Vec<Vec2> = arc_bounds_2d(Vec2::new(0.0, 0.0), 1.0, 45.0, 135.0).into_iter().flatten().collect();
        assert_eq!(pts.len(), 3, "two end points and the top of the circle");
        let full: Vec<Vec2> = arc_bounds_2d(Vec2::new(0.0, 0.0), 1.0, 0.0, 360.0).into_iter().flatten().collect();
        assert!(full.len() >= 5);
    }

    #[test]
    fn bounds_ignore_non_finite_points() {
        let mut b = Bounds::EMPTY;
        b.include(Vec3::new(f64::NAN, 0.0, 0.0));
        assert!(b.is_empty());
        b.include(Vec3::new(1.0, 2.0, 3.0));
        assert!(!b.is_empty());
    }
}
