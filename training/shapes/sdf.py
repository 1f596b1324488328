"""Signed distance functions built from primitives and combinators.

Every node is an `SDF`: calling it on (K, 3) float32 points returns (K,) signed distances
(negative inside). Each node also carries a world-space bounding box, which the mesher uses
to size its grid and which unions use to skip children far from a point (most furniture and
vehicles are many small parts, so skipping makes evaluation several times faster).

Distances of some primitives (ellipsoid, superquadric, smooth unions) are only approximate;
marching cubes needs the sign and a locally monotone value, not an exact distance.
"""
from __future__ import annotations

import numpy as np


def _length(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=-1))


class SDF:
    """A signed distance function with a conservative bounding box (lo, hi)."""

    def __init__(self, fn, lo, hi):
        self._fn = fn
        self.lo = np.asarray(lo, dtype=np.float32)
        self.hi = np.asarray(hi, dtype=np.float32)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return self._fn(p)

    # Transforms -----------------------------------------------------------------
    def moved(self, offset) -> "SDF":
        t = np.asarray(offset, dtype=np.float32)
        return SDF(lambda p: self(p - t), self.lo + t, self.hi + t)

    def rotated(self, rotation: np.ndarray) -> "SDF":
        """Rotate by the 3x3 matrix `rotation` about the origin."""
        r = np.asarray(rotation, dtype=np.float32)
        corners = np.array([[x, y, z] for x in (self.lo[0], self.hi[0])
                            for y in (self.lo[1], self.hi[1]) for z in (self.lo[2], self.hi[2])])
        moved = corners @ r.T
        # p_local = R^T p  <=>  p_local (row) = p (row) @ R
        return SDF(lambda p: self(p @ r), moved.min(0), moved.max(0))

    def scaled(self, factor: float) -> "SDF":
        f = float(factor)
        return SDF(lambda p: self(p / f) * f, self.lo * f, self.hi * f)


# Rotations ----------------------------------------------------------------------

def rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float32)


def rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float32)


def rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float32)


# Primitives (centred at the origin unless they take points) ----------------------

def box(half, radius: float = 0.0, center=(0, 0, 0)) -> SDF:
    """Axis-aligned box with half extents `half`; `radius` rounds the edges inside the extents."""
    h = np.asarray(half, dtype=np.float32)
    r = float(min(radius, float(h.min()) * 0.95))
    c = np.asarray(center, dtype=np.float32)

    def fn(p):
        q = np.abs(p - c) - (h - r)
        return _length(np.maximum(q, 0)) + np.minimum(q.max(axis=1), 0) - r
    return SDF(fn, c - h, c + h)


def sphere(radius: float, center=(0, 0, 0)) -> SDF:
    c = np.asarray(center, dtype=np.float32)
    return SDF(lambda p: _length(p - c) - radius, c - radius, c + radius)


def ellipsoid(radii, center=(0, 0, 0)) -> SDF:
    r = np.asarray(radii, dtype=np.float32)
    c = np.asarray(center, dtype=np.float32)

    def fn(p):
        q = p - c
        k0 = _length(q / r)
        k1 = _length(q / (r * r))
        return k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)
    return SDF(fn, c - r, c + r)


def capsule(a, b, radius: float, radius_b: float | None = None) -> SDF:
    """Segment a-b swept by a sphere; with `radius_b` the radius tapers linearly (a round cone)."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    ra = float(radius)
    rb = ra if radius_b is None else float(radius_b)
    lo = np.minimum(a - ra, b - rb)
    hi = np.maximum(a + ra, b + rb)
    ba = b - a
    denom = max(float(ba @ ba), 1e-12)

    if abs(ra - rb) < 1e-6:
        def fn(p):
            pa = p - a
            h = np.clip(pa @ ba / denom, 0.0, 1.0)
            return _length(pa - h[:, None] * ba) - ra
        return SDF(fn, lo, hi)

    # Tapered: interpolating the radius along the clamped projection is not an exact distance,
    # but the surface is a smooth, closed cone-with-caps, which is all the mesher needs.
    def fn_taper(p):
        pa = p - a
        h = np.clip(pa @ ba / denom, 0.0, 1.0)
        return _length(pa - h[:, None] * ba) - (ra + (rb - ra) * h)
    return SDF(fn_taper, lo, hi)


def cylinder(radius: float, half_height: float, center=(0, 0, 0), rounding: float = 0.0) -> SDF:
    """Cylinder along y."""
    c = np.asarray(center, dtype=np.float32)
    r = float(min(rounding, radius * 0.9, half_height * 0.9))

    def fn(p):
        q = p - c
        d = np.stack([np.sqrt(q[:, 0] ** 2 + q[:, 2] ** 2) - (radius - r),
                      np.abs(q[:, 1]) - (half_height - r)], axis=1)
        return np.minimum(d.max(axis=1), 0) + _length(np.maximum(d, 0)) - r
    ext = np.array([radius, half_height, radius], dtype=np.float32)
    return SDF(fn, c - ext, c + ext)


def torus(major: float, minor: float, center=(0, 0, 0)) -> SDF:
    """Torus in the xz plane (hole along y)."""
    c = np.asarray(center, dtype=np.float32)

    def fn(p):
        q = p - c
        ring = np.sqrt(q[:, 0] ** 2 + q[:, 2] ** 2) - major
        return np.sqrt(ring ** 2 + q[:, 1] ** 2) - minor
    ext = np.array([major + minor, minor, major + minor], dtype=np.float32)
    return SDF(fn, c - ext, c + ext)


def superquadric(radii, e1: float, e2: float) -> SDF:
    """Superellipsoid with shape exponents e1 (along y) and e2 (around y); ~0.1 boxy, 1 round, 2 pinched."""
    r = np.asarray(radii, dtype=np.float32)
    e1 = float(np.clip(e1, 0.1, 2.5))
    e2 = float(np.clip(e2, 0.1, 2.5))
    scale = float(r.min())

    def fn(p):
        q = np.abs(p / r) + 1e-9
        xz = (q[:, 0] ** (2 / e2) + q[:, 2] ** (2 / e2)) ** (e2 / e1)
        f = xz + q[:, 1] ** (2 / e1)
        # f^(e1/2) is a radial scale factor; (factor - 1) * min radius approximates a distance
        return (f ** (e1 / 2) - 1.0) * scale
    return SDF(fn, -r, r)


def polygon_distance_2d(p: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Signed distance from (K, 2) points to a closed simple polygon (V, 2) (negative inside)."""
    d2 = np.sum((p - poly[0]) ** 2, axis=1)
    sign = np.ones(len(p), dtype=np.float32)
    n = len(poly)
    for i in range(n):
        vi, vj = poly[i], poly[i - 1]
        e = vj - vi
        w = p - vi
        t = np.clip((w @ e) / max(float(e @ e), 1e-12), 0.0, 1.0)
        b = w - t[:, None] * e
        d2 = np.minimum(d2, np.sum(b * b, axis=1))
        c1 = p[:, 1] >= vi[1]
        c2 = p[:, 1] < vj[1]
        c3 = e[0] * w[:, 1] > e[1] * w[:, 0]
        flip = (c1 & c2 & c3) | (~c1 & ~c2 & ~c3)
        sign[flip] *= -1
    return sign * np.sqrt(d2)


def tabulated_polygon_distance(poly: np.ndarray, lo, hi, cell: float):
    """`polygon_distance_2d` pre-computed on a grid over [lo, hi] (2D) with spacing `cell`, returned
    as a function of (K, 2) points that interpolates bilinearly. Polygons with many vertices cost
    O(K * V) exactly; the table makes the per-point cost constant. Outside the table the edge value
    plus the overshoot distance stands in (a lower bound that keeps growing)."""
    from scipy.ndimage import map_coordinates

    lo = np.asarray(lo, dtype=np.float32)
    axes = [np.arange(lo[k], hi[k] + cell, cell, dtype=np.float32) for k in range(2)]
    g0, g1 = np.meshgrid(*axes, indexing="ij")
    table = polygon_distance_2d(np.stack([g0.ravel(), g1.ravel()], axis=1), poly).reshape(g0.shape)
    top = np.array([len(axes[0]) - 1, len(axes[1]) - 1], dtype=np.float32)

    def fn(q):
        idx = (q - lo) / cell
        clamped = np.clip(idx, 0, top)
        d = map_coordinates(table, [clamped[:, 0], clamped[:, 1]], order=1, mode="nearest")
        return d + np.sqrt(np.sum((idx - clamped) ** 2, axis=1)) * cell
    return fn


def extrusion(poly, half_depth: float, bevel: float = 0.0) -> SDF:
    """Polygon in the xy plane extruded along z by +-half_depth; `bevel` rounds all edges."""
    poly = np.asarray(poly, dtype=np.float32)
    b = float(min(bevel, half_depth * 0.9))
    plo, phi = poly.min(axis=0), poly.max(axis=0)
    size = float((phi - plo).max())
    pad = 0.1 * size + 0.05
    dist2d = tabulated_polygon_distance(poly, plo - pad, phi + pad, size / 160)

    def fn(p):
        d = dist2d(p[:, :2])
        w = np.stack([d + b, np.abs(p[:, 2]) - (half_depth - b)], axis=1)
        return np.minimum(w.max(axis=1), 0) + _length(np.maximum(w, 0)) - b
    lo = np.array([plo[0], plo[1], -half_depth], dtype=np.float32)
    hi = np.array([phi[0], phi[1], half_depth], dtype=np.float32)
    return SDF(fn, lo, hi)


def lathe(profile) -> SDF:
    """Solid of revolution about y of the closed polygon `profile` given as (radius, y) points, radius >= 0.

    The profile is mirrored to negative radii before measuring distances, so the axis itself is not a
    boundary (otherwise the distance would drop to zero along the axis inside the solid)."""
    prof = np.asarray(profile, dtype=np.float32)
    full = np.concatenate([prof, prof[::-1] * np.array([-1, 1], dtype=np.float32)])
    rmax = float(prof[:, 0].max())
    ylo, yhi = float(prof[:, 1].min()), float(prof[:, 1].max())
    size = max(rmax, yhi - ylo)
    pad = 0.1 * size + 0.05
    dist2d = tabulated_polygon_distance(full, (0.0, ylo - pad), (rmax + pad, yhi + pad), size / 160)

    def fn(p):
        rho = np.sqrt(p[:, 0] ** 2 + p[:, 2] ** 2)
        return dist2d(np.stack([rho, p[:, 1]], axis=1))
    return SDF(fn, [-rmax, ylo, -rmax], [rmax, yhi, rmax])


def half_space(normal, offset: float = 0.0) -> SDF:
    """Points with dot(p, normal) > offset are outside. Unbounded: use only to cut (intersect/subtract)."""
    n = np.asarray(normal, dtype=np.float32)
    n = n / np.linalg.norm(n)
    big = 1e3
    return SDF(lambda p: p @ n - offset, [-big] * 3, [big] * 3)


# Combinators --------------------------------------------------------------------

def smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum (blends surfaces within distance ~k)."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


class Union(SDF):
    """Union (optionally smooth with blend radius k) of several parts.

    Keeps its children so that callers can ask which part is closest to a point (`part_index`),
    used to colour shapes per part. A child is only evaluated inside its bounding box grown by a
    margin; outside, the margin itself stands in as a lower bound of its distance, which leaves the
    union unchanged wherever the surface is (see module docstring)."""

    def __init__(self, parts, k: float = 0.0, margin: float = 0.06):
        parts = [c for c in parts if c is not None]
        self.parts = parts
        self.k = float(k)
        self.margin = float(margin) + 2 * self.k
        lo = np.min([c.lo for c in parts], axis=0) - self.k
        hi = np.max([c.hi for c in parts], axis=0) + self.k
        super().__init__(self._evaluate, lo, hi)

    def _part_values(self, p: np.ndarray):
        for c in self.parts:
            inside = np.all((p >= c.lo - self.margin) & (p <= c.hi + self.margin), axis=1)
            vals = np.full(len(p), self.margin, dtype=np.float32)
            if inside.any():
                vals[inside] = c(p[inside])
            yield vals

    def _evaluate(self, p: np.ndarray) -> np.ndarray:
        out = None
        for vals in self._part_values(p):
            out = vals if out is None else smooth_min(out, vals, self.k)
        return out

    def part_index(self, p: np.ndarray) -> np.ndarray:
        return np.argmin(np.stack(list(self._part_values(p)), axis=1), axis=1)


def union(*parts, k: float = 0.0) -> Union:
    return Union(parts, k=k)


def subtract(a: SDF, b: SDF, k: float = 0.0) -> SDF:
    """a minus b (optionally with a smooth k-wide fillet)."""
    def fn(p):
        da = a(p)
        return -smooth_min(-da, b(p), k)
    return SDF(fn, a.lo, a.hi)


def intersect(a: SDF, b: SDF) -> SDF:
    return SDF(lambda p: np.maximum(a(p), b(p)), np.maximum(a.lo, b.lo), np.minimum(a.hi, b.hi))
