"""Surfaces of revolution about +y: bottle, vase (and glasses), mug, bowl.

Hollow objects are revolved wall cross-sections: the outer curve going up, the rim, then the
inner curve (outer curve moved inwards by the wall thickness) coming down to the floor. The
result is an open vessel with a real cavity, still one closed surface."""
from __future__ import annotations

import numpy as np

from .parts import Rand, radius_profile
from .sdf import capsule, cylinder, half_space, intersect, lathe, rot_x, torus, union


def _vessel(outer: np.ndarray, wall: float, floor: float) -> np.ndarray:
    """Closed (radius, y) polygon of a vessel's wall from its outer profile (bottom to top, y from 0)."""
    inner = outer.copy()
    inner[:, 0] = np.maximum(inner[:, 0] - wall, 0.01)
    inner = inner[inner[:, 1] >= floor]
    inner = np.concatenate([inner, [[max(float(np.interp(floor, outer[:, 1], outer[:, 0])) - wall, 0.01), floor]]])
    inner = inner[np.argsort(-inner[:, 1])]
    return np.concatenate([[[0.0, 0.0]], outer, inner, [[0.0, floor]]]).astype(np.float32)


def bottle(r: Rand):
    h = r.u(0.6, 1.0)
    body_r = h * r.u(0.12, 0.3)
    neck_r = body_r * r.u(0.2, 0.45)
    shoulder = h * r.u(0.4, 0.7)
    neck_start = shoulder + h * r.u(0.08, 0.2)
    heights = [0.0, 0.02, shoulder * r.u(0.3, 0.7), shoulder, neck_start, h]
    radii = [body_r * r.u(0.85, 1.0), body_r, body_r * r.u(0.85, 1.1), body_r * r.u(0.8, 1.0), neck_r, neck_r * r.u(0.9, 1.1)]
    prof = radius_profile(radii, heights, samples=28)
    parts = [lathe(np.concatenate([[[0, 0]], prof, [[0, h]]]))]
    if r.chance(0.7):   # cap
        cap_h = h * r.u(0.04, 0.1)
        parts.append(cylinder(neck_r * r.u(1.05, 1.3), cap_h / 2, center=(0, h + cap_h / 2 - 0.01, 0), rounding=0.005))
    return union(*parts)


def vase(r: Rand):
    kind = r.pick(["vase", "vase", "glass", "jar"])
    if kind == "glass":   # stemmed glass: cup on a stem on a foot
        cup_h, cup_r = r.u(0.2, 0.35), r.u(0.1, 0.18)
        stem_h = r.u(0.1, 0.35)
        heights = [0.0, cup_h * 0.5, cup_h]
        outer = radius_profile([0.02, cup_r, cup_r * r.u(0.7, 1.1)], heights, samples=16)
        cup = lathe(_vessel(outer, 0.012, cup_h * 0.15)).moved((0, stem_h, 0))
        foot = cylinder(cup_r * r.u(0.6, 1.0), 0.01, center=(0, 0.01, 0), rounding=0.005)
        return union(cup, foot, capsule((0, 0.01, 0), (0, stem_h + 0.02, 0), 0.012))
    h = r.u(0.4, 1.0)
    n = r.i(3, 6)
    heights = np.linspace(0, h, n)
    base_r = h * r.u(0.1, 0.3)
    radii = [base_r * r.u(0.5, 1.6) for _ in range(n)]
    if kind == "jar":
        radii = [base_r] * (n - 1) + [base_r * r.u(0.6, 0.9)]
    outer = radius_profile(radii, heights, samples=28)
    wall = max(0.02, h * 0.035)   # >= ~2 voxels of the mesher's grid
    return union(lathe(_vessel(outer, wall, wall * 2)))


def mug(r: Rand):
    h, rad = r.u(0.3, 0.5), r.u(0.13, 0.25)
    taper = r.u(0.75, 1.1)
    outer = radius_profile([rad * taper, rad, rad * r.u(1.0, 1.15)], [0.0, h * 0.5, h], samples=12)
    body = lathe(_vessel(outer, max(0.02, rad * 0.1), 0.03))
    # Handle: a torus standing in the x-y plane (hole along z), cut to the half outside the body.
    hr = h * r.u(0.25, 0.4)
    tube = r.u(0.018, 0.035)
    handle = torus(hr, tube).rotated(rot_x(np.pi / 2))
    handle = handle.moved((rad * 0.9, h * r.u(0.45, 0.55), 0))
    handle = intersect(handle, half_space((-1, 0, 0), -rad * 0.85))
    if r.chance(0.3):   # squarer handle: stretch it vertically by using two rings
        handle = union(handle, handle.moved((0, -hr * 0.4, 0)))
    return union(body, handle)


def bowl(r: Rand):
    rad = r.u(0.3, 0.5)
    h = rad * r.u(0.3, 0.8)
    foot_r = rad * r.u(0.3, 0.6)
    t = np.linspace(0, np.pi / 2, 14)
    flare = r.u(0.8, 1.6)
    outer = np.stack([foot_r + (rad - foot_r) * np.sin(t) ** flare, h * (1 - np.cos(t))], axis=1)
    foot_h = r.u(0.0, 0.04)
    outer[:, 1] += foot_h
    outer = np.concatenate([[[foot_r, 0.0]], outer]) if foot_h > 0 else outer
    wall = max(0.025, rad * 0.07)
    return union(lathe(_vessel(outer, wall, foot_h + wall * 1.5)))
