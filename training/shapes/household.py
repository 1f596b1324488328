"""Household items common in scanned-object collections: packaging, shoes, kettles and teapots."""
from __future__ import annotations

import numpy as np

from .parts import Rand, radius_profile, slab_xz
from .sdf import (box, capsule, cylinder, ellipsoid, extrusion, half_space, intersect, lathe, rot_z, sphere, subtract,
                  superquadric, torus, union)


def package(r: Rand):
    """Retail packaging: boxes, cans, tubes, jars, pouches."""
    kind = r.pick(["box", "box", "can", "tube", "jar", "pouch"])
    if kind == "box":
        half = np.array([r.u(0.1, 0.5), r.u(0.1, 0.6), r.u(0.03, 0.4)])
        return box(half, radius=r.u(0.0, 0.2) * half.min())
    if kind == "can":
        rad, h = r.u(0.1, 0.3), r.u(0.2, 0.7)
        rim = max(0.012, rad * 0.06)
        return union(cylinder(rad, h / 2, center=(0, h / 2, 0), rounding=rim),
                     torus(rad - rim, rim, center=(0, h - rim, 0)), torus(rad - rim, rim, center=(0, rim, 0)))
    if kind == "tube":   # toothpaste-like: round cap end, squashed flat at the other end
        length, rad = r.u(0.5, 0.9), r.u(0.06, 0.14)
        body = superquadric((rad, length / 2, rad * r.u(0.4, 0.8)), r.u(0.2, 0.5), r.u(0.8, 1.0))
        cap = cylinder(rad * 0.6, rad * 0.5, center=(0, -length / 2 - rad * 0.3, 0), rounding=rad * 0.1)
        return union(body, cap, k=0.01).moved((0, length / 2 + rad, 0))
    if kind == "jar":
        rad, h = r.u(0.12, 0.3), r.u(0.15, 0.5)
        lid_h = r.u(0.03, 0.08)
        prof = radius_profile([rad * r.u(0.9, 1.0), rad, rad * r.u(0.75, 0.95)], [0.0, h * 0.5, h], samples=10)
        body = lathe(np.concatenate([[[0, 0]], prof, [[0, h]]]))
        return union(body, cylinder(rad * r.u(0.85, 1.0), lid_h / 2, center=(0, h + lid_h / 2 - 0.01, 0), rounding=0.01))
    return superquadric((r.u(0.2, 0.4), r.u(0.25, 0.5), r.u(0.04, 0.12)), r.u(0.2, 0.6), r.u(0.3, 0.9))


def _foot_outline(length: float, width: float, heel: float) -> np.ndarray:
    """(x, z) outline of a sole: toe at +z, narrower heel at -z."""
    t = np.linspace(-1, 1, 24)
    z = t * length / 2
    # Widest at the ball of the foot (t ~ 0.4), narrowing to the heel; rounded ends.
    half = width / 2 * (heel + (1 - heel) * np.clip((t + 1) / 1.4, 0, 1)) * np.sqrt(np.clip(1 - t ** 8, 0.0, 1))
    half = np.maximum(half, width * 0.05)
    right = np.stack([half, z], axis=1)
    left = np.stack([-half[::-1], z[::-1]], axis=1)
    return np.concatenate([right, left]).astype(np.float32)


def shoe(r: Rand):
    length = r.u(0.8, 1.1)
    width = length * r.u(0.32, 0.42)
    sole_t = r.u(0.03, 0.08)
    parts = [slab_xz(_foot_outline(length, width, r.u(0.6, 0.8)), sole_t / 2, bevel=sole_t * 0.3, y=sole_t / 2)]
    upper_h = length * r.u(0.18, 0.3)
    toe = ellipsoid((width * 0.48, upper_h * 0.6, length * 0.35), center=(0, sole_t, length * 0.1))
    heel = ellipsoid((width * 0.45, upper_h, length * 0.32), center=(0, sole_t, -length * 0.22))
    upper = union(toe, heel, k=length * 0.08)
    kind = r.pick(["low", "low", "boot", "heel"])
    if kind == "boot":
        shaft_h = length * r.u(0.3, 0.6)
        upper = union(upper, capsule((0, sole_t + upper_h * 0.5, -length * 0.25), (0, sole_t + shaft_h, -length * 0.27),
                                     width * 0.42, width * 0.4), k=length * 0.05)
        top = sole_t + shaft_h + width * 0.1
        opening = ellipsoid((width * 0.33, length * 0.2, width * 0.33), center=(0, top, -length * 0.27))
    else:
        opening = ellipsoid((width * 0.32, upper_h * 0.7, length * 0.22),
                            center=(0, sole_t + upper_h * 0.95, -length * 0.12))
    upper = intersect(upper, half_space((0, -1, 0), -sole_t * 0.5))   # nothing below the sole's middle
    parts.append(subtract(upper, opening))
    if kind == "heel":   # a raised heel block under the back
        hh = length * r.u(0.08, 0.2)
        parts = [p.moved((0, hh, 0)) for p in parts]
        parts.append(box((width * 0.2, hh / 2 + 0.01, length * 0.08), radius=0.01, center=(0, hh / 2, -length * 0.38)))
        parts.append(box((width * 0.3, hh / 2 + 0.01, length * 0.2), radius=0.01, center=(0, hh / 2, length * 0.3)))
    return union(*parts)


def kettle(r: Rand):
    """Kettles and teapots: a lathe body, a spout at the front (+z), a handle at the back or on top."""
    h = r.u(0.35, 0.6)
    rad = h * r.u(0.45, 0.8)
    n = 5
    heights = np.linspace(0, h, n)
    radii = [rad * r.u(0.7, 0.9), rad, rad * r.u(0.85, 1.0), rad * r.u(0.6, 0.8), rad * r.u(0.35, 0.55)]
    prof = radius_profile(radii, heights, samples=16)
    parts = [lathe(np.concatenate([[[0, 0]], prof, [[0, h]]]))]
    lid_r = radii[-1]
    parts.append(cylinder(lid_r * 1.05, 0.015, center=(0, h, 0), rounding=0.008))
    parts.append(sphere(max(0.025, lid_r * 0.25), center=(0, h + 0.03, 0)))
    spout_base = np.array([0, h * r.u(0.25, 0.45), rad * 0.8])
    spout_tip = spout_base + np.array([0, h * r.u(0.4, 0.7), rad * r.u(0.5, 0.9)])
    parts.append(capsule(spout_base, spout_tip, rad * r.u(0.15, 0.25), rad * r.u(0.06, 0.1)))
    tube = max(0.02, rad * 0.08)
    if r.chance(0.7):   # side handle in the y-z plane at the back
        hr = h * r.u(0.3, 0.4)
        handle = torus(hr, tube).rotated(rot_z(np.pi / 2)).moved((0, h * 0.5, -rad * 0.85))
        parts.append(intersect(handle, half_space((0, 0, 1), -rad * 0.8)))
    else:   # top handle arching over the lid
        hr = float(np.interp(h * 0.8, heights, radii)) * r.u(0.6, 0.85)   # ends go into the shoulder
        handle = torus(hr, tube).rotated(rot_z(np.pi / 2)).moved((0, h * 0.8, 0))
        parts.append(intersect(handle, half_space((0, -1, 0), -h * 0.8)))   # the arch above the shoulder
    return union(*parts, k=0.01)


def electronics(r: Rand):
    """Screens on stands, open laptops, phones and tablets, speakers, game controllers."""
    kind = r.pick(["monitor", "laptop", "phone", "speaker", "controller"])
    if kind == "monitor":
        w, h = r.u(0.6, 1.0), r.u(0.35, 0.6)
        t = max(0.02, w * 0.03)
        stand_h = r.u(0.1, 0.3)
        screen = box((w / 2, h / 2, t), radius=t * 0.5, center=(0, stand_h + h / 2, 0))
        neck = box((0.03, stand_h / 2 + 0.02, 0.02), center=(0, stand_h / 2 + 0.02, -t * 1.5))
        foot = box((w * r.u(0.15, 0.3), 0.012, 0.12), radius=0.008, center=(0, 0.012, -t))
        back = box((w * 0.2, h * 0.2, t), radius=t * 0.5, center=(0, stand_h + h * 0.4, -t * 1.2))
        return union(screen, neck, foot, back)
    if kind == "laptop":
        w, d = r.u(0.6, 0.9), r.u(0.4, 0.6)
        t = max(0.015, w * 0.025)
        angle = r.u(0.2, 1.4)   # lid opening beyond vertical (radians from upright)
        base = box((w / 2, t, d / 2), radius=t * 0.4, center=(0, t, 0))
        lid = box((w / 2, d / 2, t * 0.6), radius=t * 0.3, center=(0, d / 2, 0))
        c, s = np.cos(-angle + 0.3), np.sin(-angle + 0.3)
        tilt = np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float32)
        return union(base, lid.rotated(tilt).moved((0, t * 1.5, -d / 2 + t)))
    if kind == "phone":
        w, h = r.u(0.3, 0.6), r.u(0.6, 1.0)
        t = max(0.02, r.u(0.02, 0.06))
        body = box((w / 2, h / 2, t), radius=min(w * 0.12, t * 0.95))
        if r.chance(0.5):   # camera bump on the back
            body = union(body, box((w * 0.15, w * 0.15, t * 0.3), radius=0.01, center=(-w * 0.2, h * 0.35, -t)))
        return body
    if kind == "speaker":
        w, h, d = r.u(0.3, 0.5), r.u(0.4, 0.9), r.u(0.25, 0.45)
        cab = box((w / 2, h / 2, d / 2), radius=r.u(0.005, 0.04), center=(0, h / 2, 0))
        cones = []
        for k, y in enumerate((h * 0.32, h * 0.72)):
            rad = w * (0.36 if k == 0 else 0.2)
            # Dish-shaped recess: opens at the front face (y = 0 here, +z after the rotation).
            cone = lathe([[0, 0.05], [rad, 0.05], [rad, 0.0], [rad * 0.3, -rad * 0.3], [0, -rad * 0.3]])
            cones.append(cone.rotated(np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float32)).moved((0, y, d / 2 + 0.005)))
        return subtract(cab, union(*cones))
    w = r.u(0.6, 0.9)   # controller: a body with two grips, buttons and sticks
    body = union(ellipsoid((w * 0.35, w * 0.12, w * 0.22)),
                 *[capsule((sx * w * 0.2, 0, -w * 0.05), (sx * w * 0.35, -w * 0.05, -w * 0.3), w * 0.11, w * 0.09)
                   for sx in (-1, 1)], k=w * 0.05)
    sticks = [cylinder(w * 0.04, w * 0.04, center=(sx * w * 0.12, w * 0.13, -w * 0.05), rounding=0.01) for sx in (-1, 1)]
    return union(body, *sticks)


def guitar(r: Rand):
    """String instruments lying in the x-y plane (front +z): guitar, violin-like, banjo-like bodies."""
    kind = r.pick(["guitar", "guitar", "violin", "banjo"])
    body_h = r.u(0.35, 0.5)
    if kind == "banjo":
        rad = body_h / 2
        body = cylinder(rad, 0.04).rotated(np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float32))
    else:
        # Two overlapping lobes, the lower one bigger, with a waist; violins have a deeper waist.
        lower, upper = body_h * 0.32, body_h * r.u(0.22, 0.28)
        waist = 0.55 if kind == "violin" else r.u(0.6, 0.8)
        outline = []
        for a in np.linspace(0, 2 * np.pi, 48, endpoint=False):
            y = np.sin(a)
            w = lower if y < 0 else upper
            squeeze = 1 - (1 - waist) * np.exp(-((np.sin(a) - 0.05) * 3.0) ** 2) * abs(np.cos(a))
            outline.append((np.cos(a) * w * squeeze, y * body_h / 2 + (body_h * 0.1 if y > 0 else 0)))
        body = extrusion(np.array(outline, dtype=np.float32), r.u(0.03, 0.07), bevel=0.012)
        if r.chance(0.7):   # sound hole
            body = subtract(body, cylinder(body_h * 0.08, 0.02).rotated(
                np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float32)).moved((0, body_h * 0.12, 0.06)))
    neck_len = body_h * r.u(1.0, 1.5) * (0.7 if kind == "violin" else 1.0)
    neck = box((0.025, neck_len / 2, 0.02), radius=0.008, center=(0, body_h * 0.4 + neck_len / 2, 0.01))
    head = box((0.04, 0.07, 0.015), radius=0.01, center=(0, body_h * 0.4 + neck_len + 0.06, 0.0))
    if kind == "violin":
        head = union(head, torus(0.025, 0.01).rotated(rot_z(np.pi / 2)).moved((0, body_h * 0.4 + neck_len + 0.12, 0)))
    return union(body, neck, head)
