"""Generic part-based families that belong to no single object category: creatures with random body
plans, mirror-symmetric gadget/machine assemblies and thin-walled shells.

Why they exist: with one builder per category the network learns each category's depth and back, and
on a category it never saw it applies the nearest one's (the first shipped model gained +0.14 F@0.05 on
held-out seeds of training families but only +0.03 on held-out families). These builders draw the
*structure* at random - how many parts, where they attach, round or flat, thick or thin - so the prior
has to read the shape from the picture instead of recognising the category. They are written to be
generic: none of them copies a held-out family (lamp, boat, bird).
"""
from __future__ import annotations

import numpy as np

from .parts import Rand
from .sdf import (SDF, box, capsule, cylinder, ellipsoid, half_space, intersect, rot_x, rot_y, rot_z,
                  sphere, subtract, superquadric, torus, union)

# Thinnest half-thickness a part may have (in the builders' ~unit scale): about two mesher voxels at the
# default 72-cell resolution, so thin parts stay closed after marching cubes.
MIN_HALF = 0.018


def _unit_vector(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _rotation_about(axis, angle: float) -> np.ndarray:
    """Rodrigues' rotation by `angle` radians about the unit vector `axis`."""
    k = _unit_vector(axis)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]], dtype=np.float32)
    return (np.eye(3, dtype=np.float32) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K).astype(np.float32)


def _frame_towards(direction) -> np.ndarray:
    """A rotation taking local +y to `direction` (for parts built along y)."""
    d = _unit_vector(direction)
    y = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    axis = np.cross(y, d)
    s, c = float(np.linalg.norm(axis)), float(y @ d)
    if s < 1e-6:
        return np.eye(3, dtype=np.float32) if c > 0 else rot_x(np.pi)
    return _rotation_about(axis, float(np.arctan2(s, c)))


def _mirror(part: SDF) -> SDF:
    """The part reflected through the x = 0 plane."""
    return part.rotated(np.diag([-1.0, 1.0, 1.0]).astype(np.float32))


def _appendage(r: Rand, root: np.ndarray, direction: np.ndarray, length: float, thick: float) -> list[SDF]:
    """One limb-like part from `root` along `direction`: a bent two-segment limb, a straight tapered
    spike, a flat paddle (fin, wing or ear: thin in one direction) or a knobbed stalk."""
    kind = r.pick(["limb", "limb", "spike", "paddle", "paddle", "stalk"])
    d = _unit_vector(direction)
    if kind == "limb":
        d2 = _rotation_about(np.cross(d, r.g.normal(size=3)), r.u(-1.0, 1.0)) @ d
        joint = root + d * length * 0.55
        end = joint + d2 * length * 0.5
        return [capsule(root, joint, thick, thick * 0.75), capsule(joint, end, thick * 0.75, thick * r.u(0.4, 0.8))]
    if kind == "spike":
        return [capsule(root, root + d * length, thick * r.u(0.8, 1.3), max(thick * 0.15, MIN_HALF))]
    if kind == "paddle":
        flat = max(thick * r.u(0.15, 0.35), MIN_HALF)
        paddle = ellipsoid((length * r.u(0.15, 0.4), length / 2, flat))
        R = _frame_towards(d) @ rot_y(r.u(0, np.pi))   # random roll: the flat side can face anywhere
        return [paddle.rotated(R).moved(root + d * length * 0.45)]
    end = root + d * length
    return [capsule(root, end, thick * 0.5), sphere(thick * r.u(1.0, 1.8), end)]


def creature(r: Rand) -> SDF:
    """Animal- and figure-like bodies with a random plan: a curved spine of 1-3 blobs, a head, 0-4
    mirrored pairs of appendages (limbs, spikes, flat paddles, stalks) anywhere along it, maybe a tail.
    The whole body is pitched at random, from lying flat to upright."""
    size = r.u(0.15, 0.3)
    segments = r.i(1, 3)
    pitch_step = r.u(-0.5, 0.5)
    spine, pos, angle = [], np.zeros(3, dtype=np.float32), r.u(-0.3, 0.3)
    parts: list[SDF] = []
    for k in range(segments):
        seg_len = size * r.u(1.0, 2.5)
        radius = size * r.u(0.35, 0.8)
        d = np.array([0.0, np.sin(angle), np.cos(angle)], dtype=np.float32)
        nxt = pos + d * seg_len
        if r.chance(0.5):
            parts.append(capsule(pos, nxt, radius, radius * r.u(0.6, 1.1)))
        else:
            width = radius * r.u(0.6, 1.4)
            body = ellipsoid((width, radius, seg_len * 0.6)).rotated(rot_x(-angle))
            parts.append(body.moved((pos + nxt) / 2))
        spine.append((pos, nxt, radius))
        pos, angle = nxt, angle + pitch_step
    # Head at the front, sometimes on a neck, sometimes with a snout or horn-like protrusion.
    head_r = size * r.u(0.3, 0.7)
    head_dir = _unit_vector(np.array([0.0, r.u(-0.2, 1.0), 1.0]))
    neck = r.u(0.0, 2.0) * head_r
    head = pos + head_dir * (neck + head_r * 0.5)
    if neck > head_r * 0.5:
        parts.append(capsule(pos, head, head_r * r.u(0.4, 0.7)))
    parts.append(ellipsoid((head_r * r.u(0.7, 1.1), head_r * r.u(0.7, 1.1), head_r * r.u(0.8, 1.5))).moved(head))
    if r.chance(0.6):
        tip = head + _unit_vector(np.array([0.0, r.u(-0.5, 0.3), 1.0])) * head_r * r.u(0.8, 2.5)
        parts.append(capsule(head, tip, head_r * r.u(0.3, 0.6), max(head_r * r.u(0.05, 0.3), MIN_HALF)))
    # Mirrored appendage pairs rooted on the spine's side or underside.
    for _ in range(r.i(0, 4)):
        a, b, radius = spine[r.i(0, len(spine) - 1)]
        root = a + (b - a) * r.u(0.1, 0.9)
        side = np.array([1.0, r.u(-1.2, 0.6), r.u(-0.5, 0.5)], dtype=np.float32)
        root = root + np.array([radius * 0.6, side[1] * radius * 0.4, 0.0], dtype=np.float32)
        length = size * r.u(0.8, 3.0)
        thick = max(radius * r.u(0.15, 0.45), MIN_HALF)
        pieces = _appendage(r, root, side, length, thick)
        parts += pieces + [_mirror(p) for p in pieces]
    if r.chance(0.7):   # tail
        a, _, radius = spine[0]
        back = -_unit_vector(spine[0][1] - a) + np.array([0.0, r.u(-0.8, 0.8), 0.0])
        parts += _appendage(r, a, back, size * r.u(0.8, 3.0), max(radius * r.u(0.2, 0.5), MIN_HALF))
    shape = union(*parts, k=size * r.u(0.05, 0.3))
    return shape.rotated(rot_x(r.u(-0.4, 0.4)) @ rot_z(r.u(-0.15, 0.15)))


def _body_primitive(r: Rand, half: np.ndarray) -> SDF:
    kind = r.pick(["box", "box", "cylinder", "superquadric", "capsule", "ellipsoid"])
    if kind == "box":
        return box(half, radius=float(half.min()) * r.u(0.0, 0.5))
    if kind == "cylinder":   # axis along y, x or z
        c = cylinder(float(min(half[0], half[2])), float(half[1]), rounding=float(half.min()) * r.u(0, 0.4))
        return c.rotated(r.pick([np.eye(3, dtype=np.float32), rot_z(np.pi / 2), rot_x(np.pi / 2)]))
    if kind == "capsule":
        ax = int(np.argmax(half))
        e = np.zeros(3, dtype=np.float32)
        e[ax] = half[ax] - float(np.sort(half)[1])
        return capsule(-e, e, float(np.sort(half)[1]))
    if kind == "ellipsoid":
        return ellipsoid(half)
    return superquadric(half, r.u(0.2, 1.5), r.u(0.2, 1.5))


def assembly(r: Rand) -> SDF:
    """Mirror-symmetric man-made assemblies (machines, gadgets, robots, appliances, toys): a main body,
    mirrored pairs of attachments on its sides (arms, plates, wheels, pods, legs), and parts on the
    axis (a post or mast, a top pod, a handle loop, a base plate)."""
    half = np.array([r.u(0.15, 0.5), r.u(0.1, 0.45), r.u(0.15, 0.5)], dtype=np.float32)
    parts = [_body_primitive(r, half)]
    for _ in range(r.i(1, 3)):
        kind = r.pick(["arm", "plate", "wheel", "pod", "leg"])
        y = r.u(-0.8, 0.8) * half[1]
        z = r.u(-0.8, 0.8) * half[2]
        x = half[0] * r.u(0.7, 1.0)
        t = max(float(half.min()) * r.u(0.1, 0.35), MIN_HALF)
        if kind == "arm":
            end = np.array([x + r.u(0.1, 0.5), y + r.u(-0.4, 0.4), z + r.u(-0.3, 0.3)])
            piece = capsule((x * 0.8, y, z), end, t, t * r.u(0.5, 1.2))
            if r.chance(0.4):
                piece = union(piece, _body_primitive(r, np.full(3, t * r.u(1.5, 3), np.float32)).moved(end))
        elif kind == "plate":
            span, chord = r.u(0.15, 0.6), r.u(0.08, 0.35)
            piece = box((span / 2, max(t * 0.4, MIN_HALF), chord / 2), radius=MIN_HALF * 0.5)
            piece = piece.rotated(rot_z(r.u(-0.6, 0.6))).moved((x + span / 2 * 0.9, y, z))
        elif kind == "wheel":
            radius = r.u(0.3, 0.8) * half[1] + 0.04
            piece = cylinder(radius, max(t, 0.03), rounding=t * 0.3).rotated(rot_z(np.pi / 2))
            piece = piece.moved((x + max(t, 0.03), -half[1] + radius * r.u(0.2, 0.9), z))
        elif kind == "pod":
            ph = np.array([r.u(0.05, 0.2), r.u(0.05, 0.2), r.u(0.08, 0.35)], dtype=np.float32)
            piece = _body_primitive(r, ph).moved((x + ph[0] * r.u(0.3, 1.0), y, z))
        else:
            foot = np.array([x * r.u(0.6, 1.3), -half[1] - r.u(0.1, 0.5), z])
            piece = capsule((x * 0.7, -half[1] * 0.5, z), foot, t, t * r.u(0.6, 1.2))
        parts += [piece, _mirror(piece)]
    for _ in range(r.i(0, 2)):
        kind = r.pick(["post", "top", "handle", "base", "front"])
        t = max(float(half.min()) * r.u(0.08, 0.3), MIN_HALF)
        if kind == "post":
            h = r.u(0.1, 0.6)
            z = r.u(-0.6, 0.6) * half[2]
            parts.append(capsule((0, half[1] * 0.5, z), (0, half[1] + h, z + r.u(-0.2, 0.2)), t, t * r.u(0.3, 1.0)))
        elif kind == "top":
            th = np.array([half[0] * r.u(0.3, 0.9), r.u(0.04, 0.2), half[2] * r.u(0.3, 0.9)], dtype=np.float32)
            parts.append(_body_primitive(r, th).moved((0, half[1] + th[1] * 0.8, r.u(-0.3, 0.3) * half[2])))
        elif kind == "handle":
            ring = torus(r.u(0.08, 0.25), max(t * 0.6, MIN_HALF)).rotated(rot_x(np.pi / 2))
            parts.append(ring.moved((0, half[1], 0)) if r.chance(0.5) else
                         ring.rotated(rot_y(np.pi / 2)).moved((0, 0, half[2])))
        elif kind == "base":
            bh = np.array([half[0] * r.u(0.8, 1.4), r.u(0.02, 0.06), half[2] * r.u(0.8, 1.4)], dtype=np.float32)
            parts.append(box(bh, radius=float(bh[1]) * 0.5).moved((0, -half[1] - bh[1] * 0.8, 0)))
        else:
            fh = np.array([half[0] * r.u(0.2, 0.7), half[1] * r.u(0.2, 0.7), r.u(0.04, 0.25)], dtype=np.float32)
            parts.append(_body_primitive(r, fh).moved((0, r.u(-0.5, 0.5) * half[1], half[2] + fh[2] * 0.7)))
    shape = union(*parts, k=r.u(0.0, 0.04))
    if r.chance(0.2):   # a recess or a cut-out
        cut = _body_primitive(r, half * np.array([r.u(0.3, 0.7), r.u(0.3, 0.7), 1.5], dtype=np.float32))
        shape = subtract(shape, cut.moved((0, r.u(-0.3, 0.3) * half[1], half[2])))
    return shape


def shell(r: Rand) -> SDF:
    """Thin-walled and sheet-like objects, whose depth an inflated silhouette gets badly wrong: open
    trays and crates, dishes and domes cut from a hollow ellipsoid, gutters cut from a tube, bent
    sheets and folded plates."""
    kind = r.pick(["tray", "dome", "gutter", "folded", "curved"])
    wall = r.u(MIN_HALF * 1.2, 0.06)
    if kind == "tray":
        h = np.array([r.u(0.2, 0.5), r.u(0.05, 0.35), r.u(0.2, 0.5)], dtype=np.float32)
        outer = box(h, radius=r.u(0.0, 0.5) * float(h.min()))
        inner = box(h - wall, radius=r.u(0.0, 0.5) * float(h.min())).moved((0, wall * 2, 0))
        return subtract(outer, inner)
    if kind == "dome":
        radii = np.array([r.u(0.25, 0.5), r.u(0.15, 0.5), r.u(0.25, 0.5)], dtype=np.float32)
        hollow = subtract(ellipsoid(radii), ellipsoid(np.maximum(radii - wall, 0.02)))
        cut = r.u(-0.6, 0.5) * radii[1]
        up = r.chance(0.5)   # bowl-like (opening up) or dome-like (opening down)
        piece = intersect(hollow, half_space((0, 1 if up else -1, 0), cut if up else -cut))
        if r.chance(0.4):   # a foot ring or a knob on the closed side
            y = -radii[1] if up else radii[1]
            piece = union(piece, cylinder(radii[0] * r.u(0.2, 0.5), r.u(0.02, 0.06), center=(0, y, 0)))
        return piece
    if kind == "gutter":
        radius, length = r.u(0.15, 0.4), r.u(0.3, 1.0)
        tube = subtract(cylinder(radius, length / 2), cylinder(radius - wall, length / 2 + 0.1))
        tube = tube.rotated(rot_x(np.pi / 2))
        return intersect(tube, half_space(_unit_vector((r.u(-0.3, 0.3), 1.0, 0.0)), r.u(-0.5, 0.6) * radius))
    if kind == "folded":
        a, b, depth = r.u(0.2, 0.6), r.u(0.2, 0.6), r.u(0.2, 0.6)
        angle = r.u(0.3, 2.0)
        first = box((a / 2, wall, depth / 2)).moved((a / 2, 0, 0))
        second = box((b / 2, wall, depth / 2)).moved((b / 2, 0, 0)).rotated(rot_z(np.pi - angle))
        plates = [first, second]
        if r.chance(0.5):
            c = r.u(0.2, 0.5)
            plates.append(box((c / 2, wall, depth / 2)).moved((c / 2, 0, 0)).rotated(rot_z(-r.u(0.3, 1.5))).moved((a, 0, 0)))
        return union(*plates, k=wall).rotated(rot_y(r.u(0, np.pi)))
    # A sheet bent along one direction: the band between two concentric cylinders, limited in angle.
    radius = r.u(0.3, 1.0)
    span = min(r.u(0.4, 1.6) / radius, 2.6)
    length = r.u(0.2, 0.8)
    band = subtract(cylinder(radius + wall, length / 2), cylinder(radius - wall, length / 2 + 0.1))
    wedge = intersect(half_space((np.sin(span / 2), 0, -np.cos(span / 2)), 0.0),
                      half_space((-np.sin(span / 2), 0, -np.cos(span / 2)), 0.0))
    sheet = intersect(band, wedge).moved((0, 0, -radius))
    # The band's box is far larger than the sheet; a tight box keeps the mesher's cells small.
    half_x = np.sin(span / 2) * (radius + wall) + wall
    sag = (1 - np.cos(span / 2)) * (radius + wall) + 2 * wall
    sheet = SDF(sheet, (-half_x, -length / 2, -sag), (half_x, length / 2, 2 * wall))
    return sheet.rotated(rot_x(r.u(-np.pi / 2, np.pi / 2)) @ rot_y(r.u(0, np.pi)))


def skeleton(r: Rand) -> SDF:
    """Branching frames of thin rods - racks, antlers, branches, wire figures - sometimes with knobs,
    pads or plates where rods end: parts thinner than a pixel row in depth, which an inflated
    silhouette makes as deep as they are wide."""
    radius = r.u(0.012, 0.04)
    rods = [(np.zeros(3, dtype=np.float32), np.array([0.0, 1.0, 0.0], dtype=np.float32), 0)]
    parts: list[SDF] = []
    ends = []
    budget = r.i(4, 14)
    while rods and budget > 0:
        start, direction, depth = rods.pop(0)
        length = r.u(0.15, 0.5) * (0.8 ** depth)
        end = start + direction * length
        parts.append(capsule(start, end, radius * (0.8 ** depth), radius * (0.8 ** (depth + 1))))
        budget -= 1
        children = r.i(0, 3) if depth < 3 else 0
        if children == 0:
            ends.append((end, direction))
        for _ in range(children):
            turn = _unit_vector(direction + r.g.normal(size=3) * r.u(0.3, 1.2))
            rods.append((end, turn, depth + 1))
    for end, direction in ends:
        if r.chance(0.35):
            kind = r.pick(["knob", "pad", "plate"])
            if kind == "knob":
                parts.append(sphere(radius * r.u(1.5, 3.0), end))
            elif kind == "pad":
                parts.append(ellipsoid((radius * r.u(2, 5), max(radius * 0.6, MIN_HALF), radius * r.u(2, 5))).moved(end))
            else:
                plate = box((r.u(0.05, 0.15), r.u(0.05, 0.15), MIN_HALF))
                parts.append(plate.rotated(_frame_towards(direction) @ rot_x(np.pi / 2)).moved(end))
    # No foot disc and a free root direction: a rod standing on a disc is a held-out lamp's stem.
    return union(*parts, k=radius * r.u(0.0, 1.0)).rotated(rot_z(r.u(-1.5, 1.5)) @ rot_x(r.u(-0.5, 0.5)))
