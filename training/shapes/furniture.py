"""Furniture-like assemblies: chair, table, sofa, bench, shelf, bed, lamp.

Each builder takes a `Rand` and returns an SDF in metres-ish units (longest side about 1-2),
+y up, front facing +z (the side you sit on / look into). Parts overlap slightly so the union
is one connected, watertight solid."""
from __future__ import annotations

import numpy as np

from .parts import Rand, leg, regular_polygon, rounded_rect_outline, slab_xz, slab_zy
from .sdf import box, capsule, cylinder, ellipsoid, lathe, rot_x, rot_z, sphere, subtract, superquadric, union


def _four_legs(r: Rand, half_w, half_d, top_y, thickness, inset, splay, style):
    legs = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            x, z = sx * (half_w - inset), sz * (half_d - inset)
            top = (x, top_y, z)
            bottom = (x + sx * splay, 0.0, z + sz * splay)
            legs.append(leg(r, top, bottom, thickness, style))
    return legs


def _star_base(r: Rand, radius, height, arms):
    """Office-chair / pedestal base: a column standing on radial arms, optionally with casters."""
    parts = []
    phase = r.u(0, np.pi)
    foot_y = height * 0.12
    casters = r.chance(0.5)
    for a in phase + np.arange(arms) * 2 * np.pi / arms:
        end = (radius * np.cos(a), foot_y, radius * np.sin(a))
        parts.append(capsule((0, foot_y * 1.2, 0), end, foot_y * 0.6))
        if casters:
            parts.append(sphere(foot_y * 0.7, (end[0], foot_y * 0.7, end[2])))
    return parts


def chair(r: Rand):
    sw, sd = r.u(0.4, 0.6), r.u(0.38, 0.55)
    sh, st = r.u(0.38, 0.5), r.u(0.03, 0.09)
    bh = r.u(0.25, 0.6)
    parts = [box((sw / 2, st / 2, sd / 2), radius=r.u(0.0, 0.03), center=(0, sh - st / 2, 0))]
    base = r.pick(["legs", "legs", "legs", "pedestal", "sled"])
    if base == "legs":
        t = r.u(0.025, 0.06)
        inset, splay, top = t * r.u(0.5, 1.5), r.u(0, 0.06), sh - st / 2
        parts += _four_legs(r, sw / 2, sd / 2, top, t, inset, splay, r.pick(["square", "round", "tapered"]))
        if r.chance(0.4):   # stretchers joining front and back legs, at the legs' centre lines
            y = sh * r.u(0.2, 0.4)
            out = splay * (1 - y / top)
            x, z = sw / 2 - inset + out, sd / 2 - inset + out
            for sx in (-1, 1):
                parts.append(capsule((sx * x, y, -z), (sx * x, y, z), max(t * 0.3, 0.012)))
    elif base == "pedestal":
        parts.append(cylinder(r.u(0.02, 0.04), sh / 2, center=(0, sh / 2, 0)))
        parts += _star_base(r, r.u(0.22, 0.32), sh, r.pick([4, 5, 5]))
    else:
        t = r.u(0.012, 0.025)
        for sx in (-1, 1):
            x = sx * sw / 2 * 0.9
            parts += [capsule((x, 0.01, -sd / 2), (x, 0.01, sd / 2), t),
                      capsule((x, 0.01, sd / 2 * 0.9), (x, sh - st, sd / 2 * 0.8), t),
                      capsule((x, 0.01, -sd / 2 * 0.9), (x, sh - st, -sd / 2 * 0.8), t)]

    tilt = r.u(0.0, 0.3)
    back_z = -sd / 2
    pivot = np.array([0, sh, back_z], dtype=np.float32)
    style = r.pick(["panel", "slats", "frame", "round"])
    bt = r.u(0.02, 0.06)
    back = []
    if style == "panel":
        back.append(box((sw / 2 * r.u(0.85, 1.0), bh / 2, bt / 2), radius=r.u(0, 0.02), center=(0, bh / 2, bt / 2)))
    elif style == "round":
        back.append(superquadric((sw / 2 * r.u(0.8, 1.0), bh / 2, bt), r.u(0.2, 1.0), r.u(0.3, 1.0)).moved((0, bh / 2, bt / 2)))
    else:
        post = r.u(0.02, 0.035)
        for sx in (-1, 1):
            back.append(box((post / 2, bh / 2, post / 2), center=(sx * (sw / 2 - post / 2), bh / 2, post / 2)))
        back.append(box((sw / 2, r.u(0.03, 0.08), post / 2), center=(0, bh - 0.04, post / 2)))
        n = r.i(2, 5) if style == "slats" else 1
        for k in range(n):
            if style == "slats":
                x = -sw / 2 + (k + 1) * sw / (n + 1)
                back.append(box((post / 3, bh / 2, post / 3), center=(x, bh / 2, post / 2)))
            else:
                back.append(box((sw / 2, post / 2, post / 3), center=(0, bh * r.u(0.3, 0.6), post / 2)))
    back = union(*back).rotated(rot_x(-tilt)).moved(pivot - np.array([0, st * 0.5, 0]))
    parts.append(back)

    if r.chance(0.35):   # armrests
        ah = sh + r.u(0.15, 0.25)
        for sx in (-1, 1):
            x = sx * (sw / 2 + 0.01)
            parts.append(box((0.025, 0.015, sd / 2 * 0.9), radius=0.01, center=(x, ah, 0)))
            parts.append(capsule((x, sh - st / 2, sd / 2 * 0.7), (x, ah, sd / 2 * 0.7), 0.015))
    return union(*parts)


def table(r: Rand):
    w, d = r.u(0.6, 1.8), r.u(0.4, 1.0)
    h, t = r.u(0.35, 0.8), r.u(0.025, 0.07)
    shape = r.pick(["rect", "rect", "round", "oval"])
    if shape == "rect":
        top = box((w / 2, t / 2, d / 2), radius=r.u(0, 0.02), center=(0, h - t / 2, 0))
    else:
        d = w if shape == "round" else d
        top = slab_xz(regular_polygon(40, 1.0) * np.array([w / 2, d / 2]), t / 2, bevel=r.u(0, 0.4) * t, y=h - t / 2)
    parts = [top]
    base = r.pick(["legs", "legs", "pedestal", "trestle"])
    lt = max(r.u(0.03, 0.08), 0.03 * max(w, h))   # legs thicker than ~2 mesher voxels
    if base == "legs":
        inset = lt * r.u(0.5, 2) + (0.12 * min(w, d) if shape != "rect" else 0)
        shelf_y = h * r.u(0.15, 0.35) if r.chance(0.3) else None
        splay = 0.0 if shelf_y else r.u(0, 0.04)
        parts += _four_legs(r, w / 2, d / 2, h - t, lt, inset, splay, r.pick(["square", "round", "tapered"]))
        if r.chance(0.5):   # apron under the top
            a = r.u(0.04, 0.1)
            parts.append(box((w / 2 - inset, a / 2, d / 2 - inset), center=(0, h - t - a / 2, 0)))
        if shelf_y:   # lower shelf, reaching into the (straight) legs
            parts.append(box((w / 2 - inset + lt * 0.4, max(0.012, 0.012 * w), d / 2 - inset + lt * 0.4), center=(0, shelf_y, 0)))
    elif base == "pedestal":
        parts.append(cylinder(r.u(0.04, 0.1), h / 2, center=(0, h / 2, 0)))
        if r.chance(0.5):
            parts.append(cylinder(min(w, d) * r.u(0.2, 0.35), 0.02, center=(0, 0.02, 0), rounding=0.01))
        else:
            parts += _star_base(r, min(w, d) * r.u(0.3, 0.45), h, r.pick([3, 4]))
    else:
        for sx in (-1, 1):
            x = sx * (w / 2 - r.u(0.05, 0.2))
            outline = np.array([[-d / 2 * 0.8, 0], [d / 2 * 0.8, 0], [d / 2 * 0.3, h - t], [-d / 2 * 0.3, h - t]])
            parts.append(slab_zy(outline, lt / 2, bevel=lt * 0.2, x=x))
        parts.append(box((w / 2 - 0.1, 0.03, 0.02), center=(0, h * 0.3, 0)))
    return union(*parts)


def sofa(r: Rand):
    w, d = r.u(0.9, 2.0), r.u(0.7, 0.95)
    seat_h, base_h = r.u(0.35, 0.48), r.u(0.15, 0.3)
    back_h, back_t = r.u(0.3, 0.5), r.u(0.12, 0.25)
    leg_h = r.u(0.0, 0.1)
    rad = r.u(0.02, 0.08)
    parts = [box((w / 2, base_h / 2, d / 2), radius=rad, center=(0, leg_h + base_h / 2, 0))]
    top_back = seat_h + back_h
    parts.append(box((w / 2, (top_back - leg_h) / 2, back_t / 2), radius=rad,
                     center=(0, (top_back + leg_h) / 2, -d / 2 + back_t / 2)))
    arm = r.pick(["box", "roll", "none"])
    arm_w = r.u(0.08, 0.2)
    arm_h = seat_h + r.u(0.1, 0.25)
    if arm != "none":
        for sx in (-1, 1):
            x = sx * (w / 2 - arm_w / 2)
            if arm == "box":
                parts.append(box((arm_w / 2, (arm_h - leg_h) / 2, d / 2), radius=rad, center=(x, (arm_h + leg_h) / 2, 0)))
            else:
                parts.append(box((arm_w / 2, (arm_h - leg_h) / 2 - arm_w / 2, d / 2), radius=rad,
                                 center=(x, (arm_h + leg_h) / 2 - arm_w / 2, 0)))
                parts.append(capsule((x, arm_h - arm_w / 2, -d / 2 + arm_w / 2), (x, arm_h - arm_w / 2, d / 2 - arm_w / 2), arm_w / 2 * 1.1))
    inner_w = w - (2 * arm_w if arm != "none" else 0)
    n = r.i(1, 3)
    cw = inner_w / n
    for k in range(n):   # seat cushions
        x = -inner_w / 2 + cw * (k + 0.5)
        parts.append(box((cw / 2 * 0.98, (seat_h - leg_h - base_h) / 2 + 0.02, (d - back_t) / 2),
                         radius=r.u(0.03, 0.06), center=(x, (seat_h + leg_h + base_h) / 2, back_t / 2)))
        if r.chance(0.6):   # back cushions
            parts.append(box((cw / 2 * 0.96, back_h / 2 * 0.8, 0.07), radius=0.05,
                             center=(x, seat_h + back_h * 0.45, -d / 2 + back_t + 0.05)))
    if leg_h > 0.02:
        parts += _four_legs(r, w / 2, d / 2, leg_h + 0.01, 0.04, 0.06, 0.0, r.pick(["square", "tapered"]))
    return union(*parts)


def bench(r: Rand):
    length, d = r.u(0.9, 1.8), r.u(0.25, 0.5)
    h, t = r.u(0.35, 0.5), r.u(0.03, 0.07)
    parts = []
    if r.chance(0.5):
        parts.append(box((length / 2, t / 2, d / 2), radius=r.u(0, 0.015), center=(0, h - t / 2, 0)))
    else:
        n = r.i(2, 5)
        sd = d / n
        for k in range(n):
            z = -d / 2 + sd * (k + 0.5)
            parts.append(box((length / 2, t / 2, sd / 2 * 0.8), radius=0.005, center=(0, h - t / 2, z)))
        parts.append(box((length / 2 * 0.95, 0.02, d / 2), center=(0, h - t - 0.015, 0)))   # joins the slats
    style = r.pick(["slab", "four", "aframe"])
    if style == "slab":
        for sx in (-1, 1):
            x = sx * (length / 2 - r.u(0.03, 0.2))
            outline = rounded_rect_outline(d / 2 * 0.9, (h - t) / 2, r.u(0.0, 0.05)) + np.array([0, (h - t) / 2])
            if r.chance(0.5):   # arched cut-out at the bottom
                outline = np.array([[-d / 2 * 0.9, 0], [-d / 4, 0], [0, h * 0.15], [d / 4, 0], [d / 2 * 0.9, 0],
                                    [d / 2 * 0.9, h - t], [-d / 2 * 0.9, h - t]])
            parts.append(slab_zy(outline, r.u(0.02, 0.04), bevel=0.008, x=x))
    elif style == "four":
        parts += _four_legs(r, length / 2, d / 2, h - t, r.u(0.03, 0.06), 0.06, r.u(0, 0.05), r.pick(["square", "round"]))
    else:
        for sx in (-1, 1):
            x = sx * (length / 2 - 0.1)
            for sz in (-1, 1):
                parts.append(capsule((x, h - t, 0), (x, 0.0, sz * d / 2), 0.025))
            parts.append(capsule((x, h * 0.3, -d / 2 * 0.7), (x, h * 0.3, d / 2 * 0.7), 0.015))
    if r.chance(0.35):   # backrest
        bh = r.u(0.2, 0.4)
        tilt = r.u(0, 0.3)
        back = box((length / 2, bh / 2, 0.02), center=(0, bh / 2, 0)).rotated(rot_x(-tilt)).moved((0, h - 0.01, -d / 2 + 0.02))
        parts.append(back)
        for sx in (-1, 1):
            parts.append(capsule((sx * (length / 2 - 0.1), h - t, -d / 2 + 0.02),
                                 (sx * (length / 2 - 0.1), h + bh * 0.8, -d / 2 + 0.02 - np.sin(tilt) * bh * 0.8), 0.02))
    return union(*parts)


def shelf(r: Rand):
    w, d, h = r.u(0.4, 1.2), r.u(0.25, 0.5), r.u(0.4, 1.9)
    # Panels must stay thicker than ~1.5 marching-cubes voxels (longest side / 72) or they break up.
    t = max(r.u(0.015, 0.04), 0.022 * max(w, h))
    style = r.pick(["bookcase", "bookcase", "cabinet", "open"])
    parts = []
    if style == "open":   # metal-frame shelving: posts and plates
        post = max(r.u(0.015, 0.03), 0.022 * max(w, h))
        for sx in (-1, 1):
            for sz in (-1, 1):
                parts.append(box((post / 2, h / 2, post / 2), center=(sx * (w / 2 - post / 2), h / 2, sz * (d / 2 - post / 2))))
        for y in np.linspace(0.08, h - t / 2, r.i(3, 6)):
            parts.append(box((w / 2, t / 2, d / 2), center=(0, y, 0)))
        return union(*parts)
    for sx in (-1, 1):   # sides
        parts.append(box((t / 2, h / 2, d / 2), center=(sx * (w / 2 - t / 2), h / 2, 0)))
    plinth = r.u(0.0, 0.08)
    parts.append(box((w / 2, t / 2, d / 2), center=(0, h - t / 2, 0)))
    parts.append(box((w / 2, t / 2, d / 2), center=(0, plinth + t / 2, 0)))
    if plinth > 0.01:
        parts.append(box((w / 2 - t, plinth / 2 + 0.005, t / 2), center=(0, plinth / 2, d / 2 - t * 1.5)))
    parts.append(box((w / 2, h / 2, t / 4), center=(0, h / 2, -d / 2 + t / 4)))   # back panel
    if style == "bookcase":
        n = r.i(1, max(1, int(h / 0.3)))
        for k in range(1, n + 1):
            y = plinth + (h - plinth) * k / (n + 1)
            parts.append(box((w / 2 - t / 2, t / 2, d / 2 * 0.97), center=(0, y, -d * 0.015)))
        if r.chance(0.3):   # vertical divider
            parts.append(box((t / 2, h / 2, d / 2 * 0.97), center=(r.u(-w / 4, w / 4), h / 2, 0)))
        return union(*parts)
    # Cabinet: closed front with doors or drawers, separated by shallow grooves, with handles.
    body = union(*parts, box((w / 2, (h - plinth) / 2, t / 2), center=(0, plinth + (h - plinth) / 2, d / 2 - t / 2)))
    grooves, handles = [], []
    if r.chance(0.5):
        n = r.i(2, 5)
        for k in range(1, n):
            y = plinth + (h - plinth) * k / n
            grooves.append(box((w / 2 - t, 0.006, 0.01), center=(0, y, d / 2)))
        for k in range(n):
            y = plinth + (h - plinth) * (k + 0.5) / n
            handles.append(capsule((-w * 0.12, y, d / 2 + 0.02), (w * 0.12, y, d / 2 + 0.02), 0.01))
    else:
        grooves.append(box((0.006, (h - plinth) / 2 - t, 0.01), center=(0, plinth + (h - plinth) / 2, d / 2)))
        for sx in (-1, 1):
            handles.append(capsule((sx * 0.04, h * 0.55, d / 2 + 0.02), (sx * 0.04, h * 0.7, d / 2 + 0.02), 0.01))
    body = subtract(body, union(*grooves))
    standoffs = []   # short posts so each handle touches its door
    for hd in handles:
        mid = (hd.lo + hd.hi) / 2
        standoffs.append(capsule((mid[0], mid[1], d / 2 - 0.005), (mid[0], mid[1], d / 2 + 0.02), 0.008))
    handles += standoffs
    if r.chance(0.5):   # feet instead of a plinth
        body = union(body, *[cylinder(0.02, 0.03, center=(sx * (w / 2 - 0.04), 0.0, sz * (d / 2 - 0.04)))
                             for sx in (-1, 1) for sz in (-1, 1)])
    return union(body, *handles)


def bed(r: Rand):
    w, length = r.u(0.9, 1.8), r.u(1.7, 2.1)
    frame_h, mat_h = r.u(0.15, 0.35), r.u(0.12, 0.25)
    leg_h = r.u(0.0, 0.15)
    parts = [box((w / 2, frame_h / 2, length / 2), radius=0.02, center=(0, leg_h + frame_h / 2, 0)),
             box((w / 2 * 0.97, mat_h / 2, length / 2 * 0.97), radius=r.u(0.03, 0.08),
                 center=(0, leg_h + frame_h + mat_h / 2 - 0.01, 0.01))]
    head_h = r.u(0.5, 1.1)
    parts.append(box((w / 2 + 0.02, head_h / 2, r.u(0.03, 0.08)), radius=r.u(0.0, 0.04), center=(0, head_h / 2, -length / 2)))
    if r.chance(0.5):
        foot_h = r.u(0.3, 0.6)
        parts.append(box((w / 2 + 0.02, foot_h / 2, 0.04), radius=0.02, center=(0, foot_h / 2, length / 2)))
    top = leg_h + frame_h + mat_h
    for k in range(r.i(0, 2)):   # pillows
        x = 0 if w < 1.2 else (-1) ** k * w / 4
        parts.append(ellipsoid((min(w / 2, 0.6) * 0.7 / (1 if w < 1.2 else 2) + 0.1, 0.07, 0.18), center=(x, top + 0.03, -length / 2 + 0.3)))
    if leg_h > 0.03:
        parts += _four_legs(r, w / 2, length / 2, leg_h + 0.01, 0.05, 0.05, 0.0, "square")
    return union(*parts)


def lamp(r: Rand):
    """Held-out family: thin stems and hollow shades are unlike the other furniture."""
    kind = r.pick(["floor", "table", "desk"])
    parts = []
    base_r = r.u(0.1, 0.2)
    if r.chance(0.7):
        parts.append(cylinder(base_r, r.u(0.01, 0.03), center=(0, 0.015, 0), rounding=0.01))
    else:
        parts += _star_base(r, base_r * 1.5, 0.2, 3)
    if kind == "desk":
        a1, a2 = r.u(-0.5, 0.5), r.u(0.6, 1.6)
        l1, l2 = r.u(0.3, 0.5), r.u(0.3, 0.5)
        j1 = np.array([l1 * np.sin(a1), 0.03 + l1 * np.cos(a1), 0])
        j2 = j1 + np.array([l2 * np.sin(a2), l2 * np.cos(a2), 0])
        parts += [capsule((0, 0.03, 0), j1, 0.015), capsule(j1, j2, 0.015), sphere(0.03, j1)]
        head = lathe([[0, 0], [0.03, 0], [0.12, -0.15], [0.1, -0.15], [0.02, -0.02], [0, -0.02]])
        parts.append(head.rotated(rot_z(a2 - 1.6)).moved(j2))
        return union(*parts)
    h = r.u(1.2, 1.8) if kind == "floor" else r.u(0.35, 0.7)
    if kind == "table" and r.chance(0.5):   # bulbous body
        prof = np.array([[0.0, 0.02], [base_r * 0.8, 0.02], [base_r * r.u(0.8, 1.4), h * 0.3],
                         [0.03, h * 0.7], [0.02, h], [0.0, h]])
        parts.append(lathe(prof))
    else:
        parts.append(capsule((0, 0.02, 0), (0, h, 0), max(r.u(0.01, 0.025), 0.014 * h)))
    sh = r.u(0.15, 0.35)
    r_top, r_bot = r.u(0.06, 0.2), r.u(0.12, 0.3)
    wall = max(0.012, 0.025 * h)   # >= ~2 voxels of the mesher's grid (longest side / 72)
    style = r.pick(["cone", "cone", "dome", "globe"])
    if style == "globe":
        parts.append(sphere(r.u(0.1, 0.2), center=(0, h + 0.1, 0)))
    else:
        if style == "cone":
            outer = [[r_bot, 0], [r_top, sh]]
        else:
            outer = [[r_bot * np.sin(t), sh * np.cos(t)] for t in np.linspace(np.pi / 2, 0.15, 8)]
        outer = np.array(outer)
        inner = outer[::-1] - np.array([wall, 0 if style == "cone" else wall])
        shade = lathe(np.concatenate([outer, inner]))
        top = h + 0.02 - sh * 0.6
        parts.append(shade.moved((0, top, 0)))
        parts.append(cylinder(0.03, 0.04, center=(0, h, 0)))   # bulb holder
        for a in (0, 2 * np.pi / 3, 4 * np.pi / 3):   # spider arms that hold the shade
            end = np.array([(outer[-1][0] - wall) * np.cos(a), top + outer[-1][1] - 0.01, (outer[-1][0] - wall) * np.sin(a)])
            parts.append(capsule((0, h, 0), end, max(0.006, 0.012 * h)))
    return union(*parts)
