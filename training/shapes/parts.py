"""Small helpers shared by the family builders: random ranges, oriented slabs, legs, wheels."""
from __future__ import annotations

import numpy as np

from .sdf import SDF, box, capsule, cylinder, extrusion, rot_z

# Axis permutations (self-inverse) used to lay an extrusion (outline in local xy, thickness along
# local z) into another plane of the world.
SWAP_YZ = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32)   # outline in world x-z
SWAP_XZ = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=np.float32)   # outline in world z-y


class Rand:
    """Thin wrapper over a numpy Generator with the draws the builders use most."""

    def __init__(self, rng: np.random.Generator):
        self.g = rng

    def u(self, lo: float, hi: float) -> float:
        return float(self.g.uniform(lo, hi))

    def i(self, lo: int, hi: int) -> int:
        """Integer in [lo, hi] inclusive."""
        return int(self.g.integers(lo, hi + 1))

    def chance(self, p: float) -> bool:
        return bool(self.g.random() < p)

    def pick(self, options):
        return options[int(self.g.integers(len(options)))]


def slab_xz(outline_xz, half_thickness: float, bevel: float = 0.0, y: float = 0.0) -> SDF:
    """A flat plate whose outline lies in the world x-z plane (a wing, a table top), centred at height y."""
    return extrusion(outline_xz, half_thickness, bevel).rotated(SWAP_YZ).moved((0, y, 0))


def slab_zy(outline_zy, half_thickness: float, bevel: float = 0.0, x: float = 0.0) -> SDF:
    """A flat plate whose outline lies in the world z-y plane (a tail fin, a bench side), at x."""
    return extrusion(outline_zy, half_thickness, bevel).rotated(SWAP_XZ).moved((x, 0, 0))


def wheel(radius: float, half_width: float, center, rounding: float = 0.3) -> SDF:
    """A cylinder with its axis along x."""
    return cylinder(radius, half_width, rounding=rounding * half_width).rotated(rot_z(np.pi / 2)).moved(center)


def leg(r: Rand, top, bottom, thickness: float, style: str) -> SDF:
    """A furniture leg from `top` to `bottom` as a square post, a round post or a tapered post."""
    top = np.asarray(top, dtype=np.float32)
    bottom = np.asarray(bottom, dtype=np.float32)
    if style == "square" and np.allclose(top[[0, 2]], bottom[[0, 2]]):
        mid = (top + bottom) / 2
        half_h = abs(top[1] - bottom[1]) / 2
        return box((thickness / 2, half_h, thickness / 2), radius=thickness * 0.15, center=mid)
    if style == "tapered":
        return capsule(top, bottom, thickness / 2, thickness / 2 * r.u(0.55, 0.8))
    return capsule(top, bottom, thickness / 2)


def regular_polygon(n: int, radius: float, phase: float = 0.0) -> np.ndarray:
    a = phase + np.arange(n) * 2 * np.pi / n
    return np.stack([radius * np.cos(a), radius * np.sin(a)], axis=1)


def rounded_rect_outline(half_w: float, half_h: float, corner: float, n_per_corner: int = 5) -> np.ndarray:
    """Counter-clockwise outline of a rectangle with circular corners."""
    corner = min(corner, half_w * 0.99, half_h * 0.99)
    pts = []
    centers = [(half_w - corner, half_h - corner), (-half_w + corner, half_h - corner),
               (-half_w + corner, -half_h + corner), (half_w - corner, -half_h + corner)]
    for k, (cx, cy) in enumerate(centers):
        for t in np.linspace(0, np.pi / 2, n_per_corner):
            a = k * np.pi / 2 + t
            pts.append((cx + corner * np.cos(a), cy + corner * np.sin(a)))
    return np.array(pts, dtype=np.float32)


def smooth_radial_outline(r: Rand, n: int = 48, base: float = 1.0, bumps: int = 4,
                          amount: float = 0.3) -> np.ndarray:
    """A star-shaped closed outline whose radius varies smoothly with angle (random low harmonics)."""
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rad = np.full(n, base)
    for k in range(1, bumps + 1):
        rad += amount / k * r.u(-1, 1) * np.cos(k * a + r.u(0, 2 * np.pi))
    rad = np.maximum(rad, 0.25 * base)
    return np.stack([rad * np.cos(a), rad * np.sin(a)], axis=1).astype(np.float32)


def radius_profile(control_radii, heights, samples: int = 24) -> np.ndarray:
    """(radius, y) samples of a smooth, overshoot-free (PCHIP) curve through the control points."""
    from scipy.interpolate import PchipInterpolator

    ys = np.linspace(heights[0], heights[-1], samples)
    radii = PchipInterpolator(heights, control_radii)(ys)
    return np.stack([np.maximum(radii, 0.01), ys], axis=1).astype(np.float32)
