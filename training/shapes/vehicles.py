"""Vehicles: car (sedan, hatchback, van, pickup, bus), plane, boat. Noses point to +z."""
from __future__ import annotations

import numpy as np

from .parts import Rand, slab_xz, slab_zy, wheel
from .sdf import box, capsule, cylinder, ellipsoid, half_space, intersect, rot_x, subtract, superquadric, union


def car(r: Rand):
    kind = r.pick(["sedan", "hatch", "van", "pickup", "bus", "sports"])
    length = r.u(0.9, 1.3) if kind != "bus" else r.u(1.4, 2.0)
    w = length * r.u(0.38, 0.48) if kind != "bus" else r.u(0.45, 0.55)
    wheel_r = r.u(0.09, 0.14) * (1.3 if kind in ("bus", "pickup") else 1.0)
    ground = wheel_r * r.u(0.3, 0.7)
    body_h = r.u(0.16, 0.26) * (0.8 if kind == "sports" else 1.0)
    rad = r.u(0.02, 0.07)
    body_y = ground + body_h / 2
    if kind in ("sedan", "hatch", "sports") and r.chance(0.4):   # rounded, pebble-like body
        body = superquadric((w / 2, body_h / 2, length / 2), r.u(0.3, 0.6), r.u(0.2, 0.5)).moved((0, body_y, 0))
    else:
        body = box((w / 2, body_h / 2, length / 2), radius=rad, center=(0, body_y, 0))
    cab_h = {"sedan": 0.16, "hatch": 0.17, "van": 0.3, "pickup": 0.2, "bus": 0.5, "sports": 0.11}[kind] * r.u(0.85, 1.2)
    cab_len = {"sedan": 0.5, "hatch": 0.55, "van": 0.8, "pickup": 0.35, "bus": 0.98, "sports": 0.4}[kind] * length
    cab_z = {"sedan": -0.05, "hatch": -0.12, "van": -0.08, "pickup": 0.12, "bus": 0.0, "sports": -0.05}[kind] * length
    cab_w = w * r.u(0.8, 0.95)
    cab_y = ground + body_h + cab_h / 2 - 0.02
    if kind in ("van", "bus", "pickup"):
        cabin = box((cab_w / 2, cab_h / 2, cab_len / 2), radius=r.u(0.02, 0.06), center=(0, cab_y, cab_z))
    else:
        cabin = superquadric((cab_w / 2, cab_h, cab_len / 2), r.u(0.3, 0.7), r.u(0.2, 0.5)).moved((0, cab_y - cab_h / 2, cab_z))
        cabin = intersect(cabin, half_space((0, -1, 0), -(ground + body_h * 0.5)))
    parts = [union(body, cabin, k=r.u(0.0, 0.05))]
    if kind == "pickup" and r.chance(0.5):   # open bed: cut the rear top
        parts[0] = subtract(parts[0], box((w / 2 * 0.85, body_h / 2, length * 0.22),
                                          center=(0, ground + body_h * 1.05, -length * 0.27)))
    axle = length / 2 - wheel_r * r.u(1.1, 1.8)
    hw = r.u(0.03, 0.06)
    for sz in (-1, 1):
        for sx in (-1, 1):
            parts.append(wheel(wheel_r, hw, (sx * (w / 2 - hw * 0.6), wheel_r, sz * axle)))
    if kind in ("sedan", "hatch", "sports") and r.chance(0.4):   # rear spoiler
        wing_y, wing_z = ground + body_h + 0.06, -length / 2 + 0.08
        parts.append(box((w / 2 * 0.9, 0.01, 0.05), center=(0, wing_y, wing_z)))
        for sx in (-1, 1):   # posts reach down into the body, whatever its shape at the rear
            parts.append(box((0.01, (wing_y - body_y) / 2, 0.02), center=(sx * w / 3, (wing_y + body_y) / 2, wing_z)))
    if r.chance(0.5):   # mirrors
        for sx in (-1, 1):
            parts.append(ellipsoid((0.03, 0.02, 0.015), center=(sx * (w / 2 + 0.01), ground + body_h - 0.01, cab_z + cab_len / 2 - 0.02)))
    return union(*parts)


def plane(r: Rand):
    length = r.u(1.0, 1.6)
    fr = length * r.u(0.05, 0.09)   # fuselage radius
    tail_z, nose_z = -length / 2, length / 2
    parts = [capsule((0, 0, tail_z + fr), (0, 0, nose_z - fr * 1.5), fr, fr * r.u(0.8, 1.0)),
             capsule((0, fr * 0.3, tail_z), (0, 0, tail_z + length * 0.35), fr * 0.35, fr)]
    span = length * r.u(0.8, 1.3)
    chord = length * r.u(0.12, 0.25)
    sweep = r.u(0.0, 0.6) * span / 2
    wz = r.u(-0.05, 0.15) * length
    wy = r.pick([-0.6, 0.0, 0.8]) * fr
    tip = chord * r.u(0.3, 0.8)
    dihedral = r.u(-0.05, 0.12)
    wing_t = max(fr * 0.18, 0.012)
    for sx in (-1, 1):
        # Trapezoid outline in (x, z): root chord at the fuselage, swept-back tip chord.
        outline = np.array([[0, wz + chord / 2], [0, wz - chord / 2],
                            [sx * span / 2, wz - sweep - tip / 2], [sx * span / 2, wz - sweep + tip / 2]])
        w = slab_xz(outline, wing_t, bevel=wing_t * 0.6, y=0)
        # Dihedral: lift the tips by rotating each half about the z axis.
        c, s = np.cos(sx * dihedral), np.sin(sx * dihedral)
        rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float32)
        parts.append(w.rotated(rz).moved((0, wy, 0)))
        if r.chance(0.6):   # engines under the wings
            ex = sx * span * r.u(0.15, 0.3)
            ez = wz - sweep * abs(ex) / (span / 2)
            er = fr * r.u(0.35, 0.6)
            ey = wy + abs(ex) * np.sin(dihedral) - er * 0.8   # hangs from the (tilted) wing, overlapping it
            parts.append(capsule((ex, ey, ez - chord * 0.6), (ex, ey, ez + chord * 0.5), er))
    # Tail: vertical fin (outline in z-y) and horizontal stabilisers.
    fin_h = length * r.u(0.1, 0.2)
    fin_c = length * r.u(0.1, 0.18)
    fin = np.array([[tail_z + fin_c * 0.2, 0], [tail_z + fin_c, 0], [tail_z + fin_c * 0.5, fin_h], [tail_z, fin_h]])
    if r.chance(0.8):
        parts.append(slab_zy(fin, wing_t, bevel=wing_t * 0.6, x=0))
    else:   # twin fins
        for sx in (-1, 1):
            parts.append(slab_zy(fin, wing_t, bevel=wing_t * 0.6, x=sx * fr * 1.5))
    stab = span * r.u(0.2, 0.35)
    st = np.array([[-stab, tail_z], [stab, tail_z], [stab * 0.3, tail_z + fin_c], [-stab * 0.3, tail_z + fin_c]])
    ty = fin_h * 0.9 if r.chance(0.25) else fr * 0.2   # T-tail or conventional
    parts.append(slab_xz(st, wing_t * 0.8, bevel=wing_t * 0.5, y=ty))
    if r.chance(0.3):   # propeller nose
        blade_t = max(0.01, 0.012 * length)
        parts.append(cylinder(fr * 1.8, blade_t, center=(0, 0, 0)).rotated(rot_x(np.pi / 2)).moved((0, 0, nose_z - fr * 0.9)))
    return union(*parts, k=r.u(0.0, 0.02))


def boat(r: Rand):
    """Held-out family: hulls (cut ellipsoid-like solids) and masts/sails appear nowhere else."""
    length = r.u(1.0, 1.6)
    beam = length * r.u(0.2, 0.4)
    depth = length * r.u(0.08, 0.16)
    kind = r.pick(["sail", "motor", "row", "ship"])
    hull = superquadric((beam / 2, depth, length / 2), r.u(0.3, 1.0), r.u(0.5, 1.3))
    hull = intersect(hull, half_space((0, 1, 0), 0.0))
    if kind == "row":   # open hull: hollow it out
        inner = superquadric((beam / 2 - 0.03, depth - 0.03, length / 2 - 0.04), 0.6, 0.9)
        hull = subtract(hull, inner.moved((0, 0.02, 0)))
        seats = [box((beam / 2 * 0.8, 0.01, 0.05), center=(0, -0.03, z)) for z in (-length * 0.15, length * 0.15)]
        return union(hull, *seats)
    parts = [hull, box((beam / 2 * 0.98, 0.01, length / 2 * 0.85), center=(0, 0.005, -0.03 * length))]
    if kind == "sail":
        mast_h = length * r.u(0.8, 1.3)
        mz = length * r.u(0.0, 0.2)
        parts.append(capsule((0, 0, mz), (0, mast_h, mz), 0.012))
        sail = np.array([[mz - 0.01, 0.08], [mz - length * r.u(0.3, 0.5), 0.08], [mz - 0.01, mast_h * 0.95]])
        parts.append(slab_zy(sail[::-1], 0.006, x=0))
        if r.chance(0.5):   # jib in front of the mast
            jib = np.array([[mz + 0.01, 0.06], [mz + 0.01, mast_h * 0.8], [length / 2 * 0.9, 0.06]])
            parts.append(slab_zy(jib[::-1], 0.006, x=0))
        parts.append(box((beam / 4, 0.04, length * 0.12), radius=0.01, center=(0, 0.04, -length * 0.15)))
    elif kind == "motor":
        ch = r.u(0.08, 0.16)
        parts.append(box((beam / 2 * 0.7, ch / 2, length * r.u(0.12, 0.25)), radius=0.02, center=(0, ch / 2, -length * 0.05)))
        parts.append(box((beam / 2 * 0.7, ch * 0.4, 0.01), center=(0, ch * 0.8, length * 0.1)).rotated(rot_x(-0.3)))
    else:   # ship: superstructure blocks and funnels
        y = 0.0
        for level in range(r.i(1, 3)):
            lh = r.u(0.04, 0.08)
            parts.append(box((beam / 2 * (0.8 - 0.15 * level), lh / 2, length * (0.3 - 0.07 * level)),
                             radius=0.01, center=(0, y + lh / 2, -length * 0.08)))
            y += lh
        for k in range(r.i(1, 3)):
            z = -length * 0.1 + k * 0.08
            parts.append(cylinder(0.03, 0.06, center=(0, y + 0.05, z)))
    return union(*parts)
