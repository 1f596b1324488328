"""Abstract and miscellaneous families: extrusion, superquadric, composition, tool."""
from __future__ import annotations

import numpy as np

from .parts import Rand, regular_polygon, rounded_rect_outline, smooth_radial_outline
from .sdf import (box, capsule, cylinder, ellipsoid, extrusion, lathe, rot_x, rot_y, rot_z, sphere,
                  subtract, superquadric, torus, union)


def _letter_outline(r: Rand) -> np.ndarray:
    """Blocky L, T, U, H, plus or arrow outlines (counter-clockwise, about unit size)."""
    a, b = r.u(0.2, 0.4), r.u(0.2, 0.4)   # stroke widths
    kind = r.pick(["L", "T", "U", "plus", "arrow"])
    if kind == "L":
        return np.array([[0, 0], [1, 0], [1, a], [b, a], [b, 1], [0, 1]]) - 0.5
    if kind == "T":
        return np.array([[0.5 - b / 2, 0], [0.5 + b / 2, 0], [0.5 + b / 2, 1 - a], [1, 1 - a], [1, 1], [0, 1],
                         [0, 1 - a], [0.5 - b / 2, 1 - a]]) - 0.5
    if kind == "U":
        return np.array([[0, 0], [1, 0], [1, 1], [1 - b, 1], [1 - b, a], [b, a], [b, 1], [0, 1]]) - 0.5
    if kind == "plus":
        s = a / 2
        return np.array([[-s, -0.5], [s, -0.5], [s, -s], [0.5, -s], [0.5, s], [s, s], [s, 0.5], [-s, 0.5],
                         [-s, s], [-0.5, s], [-0.5, -s], [-s, -s]])
    return np.array([[-0.5, -a / 2], [0.1, -a / 2], [0.1, -0.4], [0.5, 0], [0.1, 0.4], [0.1, a / 2], [-0.5, a / 2]])


def extruded(r: Rand):
    kind = r.pick(["radial", "star", "polygon", "letter", "rounded"])
    if kind == "radial":
        outline = smooth_radial_outline(r, bumps=r.i(2, 6), amount=r.u(0.1, 0.5)) * 0.5
    elif kind == "star":
        n = r.i(4, 8)
        outer = regular_polygon(n, 0.5)
        inner = regular_polygon(n, 0.5 * r.u(0.35, 0.7), np.pi / n)
        outline = np.stack([outer, inner], axis=1).reshape(-1, 2)
    elif kind == "polygon":
        outline = regular_polygon(r.i(3, 8), 0.5, r.u(0, np.pi))
    elif kind == "letter":
        outline = _letter_outline(r)
    else:
        outline = rounded_rect_outline(0.5, r.u(0.2, 0.5), r.u(0.03, 0.2))
    outline = outline * np.array([r.u(0.7, 1.3), r.u(0.7, 1.3)])
    depth = r.u(0.06, 0.6)
    shape = extrusion(outline.astype(np.float32), depth / 2, bevel=r.u(0.0, 0.4) * min(depth / 2, 0.1))
    if r.chance(0.3):   # a hole through it
        shape = subtract(shape, cylinder(r.u(0.05, 0.15), depth, center=(0, 0, 0)).rotated(rot_x(np.pi / 2)))
    pose = r.pick(["standing", "standing", "lying", "turned"])
    if pose == "lying":
        return shape.rotated(rot_x(np.pi / 2))
    if pose == "turned":
        return shape.rotated(rot_y(np.pi / 2))
    return shape


def superquadric_family(r: Rand):
    """One to three superquadrics, stacked or side by side."""
    def one():
        radii = np.array([r.u(0.15, 0.5), r.u(0.15, 0.5), r.u(0.15, 0.5)])
        return superquadric(radii, r.u(0.1, 2.0), r.u(0.1, 2.0)), radii

    first, radii = one()
    parts = [first]
    y = radii[1]
    for _ in range(r.i(0, 2)):
        nxt, nr = one()
        parts.append(nxt.moved((r.u(-0.1, 0.1), y + nr[1] * 0.8, r.u(-0.1, 0.1))))
        y += nr[1] * 1.6
    return union(*parts, k=r.u(0.0, 0.05))


def _random_primitive(r: Rand, size: float):
    kind = r.pick(["box", "sphere", "ellipsoid", "capsule", "cylinder", "torus", "superquadric", "cone"])
    s = size
    R = rot_x(r.u(0, np.pi)) @ rot_y(r.u(0, np.pi)) if r.chance(0.5) else np.eye(3, dtype=np.float32)
    if kind == "box":
        p = box((r.u(0.3, 1) * s, r.u(0.3, 1) * s, r.u(0.3, 1) * s), radius=r.u(0, 0.3) * s)
    elif kind == "sphere":
        p = sphere(r.u(0.4, 1) * s)
    elif kind == "ellipsoid":
        p = ellipsoid((r.u(0.3, 1) * s, r.u(0.3, 1) * s, r.u(0.3, 1) * s))
    elif kind == "capsule":
        p = capsule((0, -s, 0), (0, s, 0), r.u(0.2, 0.5) * s, r.u(0.1, 0.5) * s)
    elif kind == "cylinder":
        p = cylinder(r.u(0.3, 1) * s, r.u(0.2, 1) * s, rounding=r.u(0, 0.2) * s)
    elif kind == "torus":
        p = torus(r.u(0.5, 0.9) * s, r.u(0.15, 0.35) * s)
    elif kind == "cone":
        p = lathe([[0, -s], [r.u(0.4, 1) * s, -s], [r.u(0.0, 0.3) * s, s], [0, s]])
    else:
        p = superquadric((r.u(0.3, 1) * s, r.u(0.3, 1) * s, r.u(0.3, 1) * s), r.u(0.1, 2), r.u(0.1, 2))
    return p.rotated(R)


def composition(r: Rand):
    """2-6 random primitives, each placed touching the previous one, joined by (smooth) union
    and sometimes carved by another primitive."""
    size = r.u(0.2, 0.35)
    parts = [_random_primitive(r, size)]
    for _ in range(r.i(1, 5)):
        prev = parts[r.i(0, len(parts) - 1)]
        centre = (prev.lo + prev.hi) / 2
        half = (prev.hi - prev.lo) / 2
        direction = r.g.normal(size=3)
        direction /= np.linalg.norm(direction)
        nxt = _random_primitive(r, size * r.u(0.5, 1.0))
        # Move along the direction until roughly touching: the new centre sits inside the old box.
        offset = centre + direction * half * r.u(0.5, 1.0)
        parts.append(nxt.moved(offset))
    shape = union(*parts, k=r.u(0.0, 0.08) if r.chance(0.5) else 0.0)
    if r.chance(0.25):
        at = shape.lo + (shape.hi - shape.lo) * np.array([r.u(0.2, 0.8), r.u(0.2, 0.8), r.u(0.2, 0.8)])
        return subtract(shape, _random_primitive(r, size * 0.6).moved(at))
    return shape


def tool(r: Rand):
    """Hand tools standing on their handle end: hammer, screwdriver, wrench, spatula, axe."""
    kind = r.pick(["hammer", "screwdriver", "wrench", "spatula", "axe", "mallet"])
    h = r.u(0.6, 1.0)
    hr = h * r.u(0.025, 0.05)
    if kind == "screwdriver":
        grip = h * 0.4
        return union(capsule((0, 0, 0), (0, grip, 0), hr * 2.2, hr * 1.8),
                     capsule((0, grip, 0), (0, h, 0), hr * 0.7, hr * 0.4))
    if kind == "wrench":
        w = h * r.u(0.1, 0.18)
        bar = box((w * 0.3, h / 2 - w, w * 0.12), radius=w * 0.05, center=(0, h / 2, 0))
        ends = []
        for sy, y in ((1, h - w), (-1, w)):
            ring = cylinder(w, w * 0.15).rotated(rot_x(np.pi / 2)).moved((0, y, 0))
            jaw = box((w * 0.35, w * 0.8, w * 0.5), center=(0, y + sy * w * 0.6, 0))
            ends.append(subtract(ring, jaw if sy > 0 or r.chance(0.5) else sphere(w * 0.5, (0, y, 0))))
        return union(bar, *ends)
    handle = capsule((0, 0, 0), (0, h, 0), hr, hr * r.u(0.8, 1.2))
    if kind == "spatula":
        blade = box((h * r.u(0.08, 0.14), h * r.u(0.12, 0.2), hr * 0.3), radius=hr * 0.2)
        return union(handle, blade.moved((0, h + h * 0.12, 0)), k=hr)
    if kind in ("hammer", "mallet"):
        hl = h * r.u(0.15, 0.3)
        head_r = h * r.u(0.04, 0.08) * (1.6 if kind == "mallet" else 1.0)
        if kind == "mallet":
            head = cylinder(head_r, hl).rotated(rot_z(np.pi / 2))
        else:
            head = union(box((hl, head_r, head_r), radius=head_r * 0.2),
                         capsule((-hl, 0, 0), (-hl * 1.6, -head_r, 0), head_r * 0.6, head_r * 0.2))
        return union(handle, head.moved((0, h, 0)))
    blade = np.array([[0, -0.1], [0.25, -0.18], [0.28, 0.18], [0, 0.1]]) * h
    axe_head = extrusion(blade.astype(np.float32), hr * 0.6, bevel=hr * 0.2).moved((0, h * 0.85, 0))
    return union(handle, axe_head, box((hr * 1.3, h * 0.1, hr * 1.3), center=(0, h * 0.85, 0)))
