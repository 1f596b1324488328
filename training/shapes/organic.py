"""Organic forms as smooth unions of blobs and tapered capsules: quadruped, biped, bird, fish,
blob, rock, tree. Heads point to +z; bodies stand on y = 0."""
from __future__ import annotations

import numpy as np

from .parts import Rand
from .sdf import SDF, capsule, cylinder, ellipsoid, rot_x, rot_y, rot_z, sphere, superquadric, union


def _limb(r: Rand, root, direction_angles, lengths, radii, bend: float):
    """A two-segment limb from `root`: the first segment points along the angles (pitch about x,
    roll about z, from straight down); the second bends by `bend` radians about x at the joint."""
    pitch, roll = direction_angles
    down = np.array([0.0, -1.0, 0.0])
    d1 = rot_z(roll) @ rot_x(pitch) @ down
    d2 = rot_z(roll) @ rot_x(pitch + bend) @ down
    root = np.asarray(root, dtype=np.float32)
    joint = root + d1 * lengths[0]
    end = joint + d2 * lengths[1]
    return [capsule(root, joint, radii[0], radii[1]), capsule(joint, end, radii[1], radii[2])], end


def quadruped(r: Rand):
    body_len = r.u(0.5, 0.9)
    body_r = body_len * r.u(0.15, 0.3)
    leg_len = r.u(0.25, 0.8)
    hip_y = leg_len + body_r * 0.3
    hips, shoulders = np.array([0, hip_y, -body_len / 2]), np.array([0, hip_y + r.u(-0.05, 0.1), body_len / 2])
    parts = [capsule(hips, shoulders, body_r * r.u(0.8, 1.0), body_r)]
    if r.chance(0.5):   # belly
        parts.append(ellipsoid((body_r * 1.1, body_r * 1.05, body_len * 0.4), center=(0, hip_y - body_r * 0.1, 0)))
    leg_r = body_r * r.u(0.25, 0.45)
    stride = r.u(0.0, 0.5)
    for k, base in enumerate((hips, shoulders)):
        for sx in (-1, 1):
            root = base + np.array([sx * body_r * 0.55, -body_r * 0.3, 0])
            phase = stride * (1 if (k + (sx > 0)) % 2 else -1)
            bend = r.u(-0.3, 0.3) * (-1 if k == 0 else 1)
            segs, end = _limb(r, root, (phase, sx * r.u(0.0, 0.1)), (leg_len * 0.55, leg_len * 0.5),
                              (leg_r, leg_r * 0.7, leg_r * 0.55), bend)
            parts += segs
            parts.append(ellipsoid((leg_r * 0.7, leg_r * 0.4, leg_r * 1.1), center=end + np.array([0, 0, leg_r * 0.4])))
    neck_len = r.u(0.1, 0.6)
    neck_angle = r.u(0.2, 1.2)
    neck_top = shoulders + np.array([0, np.sin(neck_angle), np.cos(neck_angle)]) * neck_len
    parts.append(capsule(shoulders, neck_top, body_r * r.u(0.4, 0.7), body_r * r.u(0.3, 0.5)))
    head_r = body_r * r.u(0.5, 0.9)
    head = neck_top + np.array([0, head_r * 0.3, head_r * 0.3])
    parts.append(sphere(head_r, head))
    snout = r.u(0.5, 2.0) * head_r
    parts.append(capsule(head, head + np.array([0, -head_r * 0.3, snout]), head_r * 0.7, head_r * r.u(0.3, 0.6)))
    for sx in (-1, 1):   # ears or horns
        base = head + np.array([sx * head_r * 0.6, head_r * 0.6, -head_r * 0.2])
        tip = base + np.array([sx * r.u(0.0, 0.6), r.u(0.4, 1.5), r.u(-0.6, 0.2)]) * head_r
        parts.append(capsule(base, tip, head_r * r.u(0.15, 0.35), head_r * 0.06))
    if r.chance(0.85):   # tail
        tail_len = r.u(0.1, 0.7)
        a = r.u(-0.6, 1.0)
        tip = hips + np.array([0, np.sin(a), -np.cos(a)]) * tail_len
        parts.append(capsule(hips, tip, body_r * r.u(0.15, 0.4), body_r * r.u(0.05, 0.2)))
    return union(*parts, k=body_r * r.u(0.15, 0.4))


def biped(r: Rand):
    """Figure-like: people with adult proportions (about half of them: head ~1/7 of the height, long
    legs, arms mostly down as in scans), and cartoon characters, robots and creatures with tails."""
    human = r.chance(0.55)
    if human:
        leg_len, torso_len = r.u(0.75, 0.9), r.u(0.5, 0.62)
        width = r.u(0.13, 0.19)
        depth = width * r.u(0.45, 0.65)
    else:
        leg_len, torso_len = r.u(0.3, 0.55), r.u(0.25, 0.45)
        width = r.u(0.1, 0.2)
        depth = width * r.u(0.5, 0.9)
    hip_y = leg_len
    chest_y = hip_y + torso_len
    parts = [superquadric((width, torso_len / 2 * 1.05, depth), r.u(0.4, 1.0), r.u(0.5, 1.0)).moved((0, hip_y + torso_len / 2, 0))]
    parts.append(ellipsoid((width * 0.9, width * 0.45, depth * 0.9), center=(0, hip_y, 0)))   # pelvis
    limb_r = width * (r.u(0.28, 0.36) if human else r.u(0.22, 0.4))
    stride = r.u(0.0, 0.25) if human else r.u(0.0, 0.4)
    for sx in (-1, 1):   # legs
        root = np.array([sx * width * 0.5, hip_y, 0])
        segs, end = _limb(r, root, (sx * stride, sx * r.u(0.0, 0.15)), (leg_len * 0.52, leg_len * 0.5),
                          (limb_r * 1.2, limb_r * 0.85, limb_r * 0.6), r.u(-0.4, 0.0))
        parts += segs
        parts.append(ellipsoid((limb_r * 0.7, limb_r * 0.45, limb_r * 1.5), center=end + np.array([0, 0, limb_r * 0.8])))
    arm_len = r.u(0.65, 0.8) if human else r.u(0.3, 0.55)
    for sx in (-1, 1):   # arms: hanging, raised sideways (T / A pose) or reaching forward
        root = np.array([sx * width * 1.05, chest_y - limb_r, 0])
        pose = r.pick(["down", "down", "down", "side", "forward", "up"] if human else ["down", "side", "forward", "up"])
        pitch = {"down": r.u(-0.3, 0.3), "side": r.u(-0.2, 0.2), "forward": r.u(-1.6, -1.0), "up": r.u(-0.3, 0.3)}[pose]
        roll = {"down": sx * r.u(0.05, 0.3), "side": sx * r.u(1.0, 1.6), "forward": sx * 0.1, "up": sx * r.u(2.4, 3.0)}[pose]
        segs, end = _limb(r, root, (pitch, roll), (arm_len * 0.5, arm_len * 0.5),
                          (limb_r * 0.9, limb_r * 0.7, limb_r * 0.55), r.u(-0.9, 0.0))
        parts += segs
        parts.append(sphere(limb_r * 0.8, end))
    if human:
        head_r, neck = r.u(0.1, 0.12), r.u(0.04, 0.08)
    else:
        head_r, neck = r.u(0.08, 0.2) * (1.6 if r.chance(0.25) else 1.0), r.u(0.0, 0.06)
    parts.append(capsule((0, chest_y - 0.02, 0), (0, chest_y + neck + head_r * 0.5, 0), limb_r * 0.9))
    head_c = np.array([0, chest_y + neck + head_r, 0])
    if not human and r.chance(0.3):   # boxy robot head
        parts.append(superquadric((head_r, head_r, head_r * 0.9), 0.3, 0.3).moved(head_c))
    else:
        parts.append(ellipsoid((head_r * 0.9, head_r, head_r * 0.95), center=head_c))
        parts.append(sphere(head_r * 0.18, head_c + np.array([0, -head_r * 0.1, head_r * 0.95])))   # nose
    if human:
        if r.chance(0.6):   # hair volume over the back and top of the head
            parts.append(ellipsoid((head_r * 1.0, head_r * r.u(0.8, 1.3), head_r * 0.9),
                                   center=head_c + np.array([0, head_r * 0.05, -head_r * r.u(0.1, 0.3)])))
        if r.chance(0.2):   # hat brim
            parts.append(cylinder(head_r * r.u(1.3, 1.8), 0.012, center=head_c + np.array([0, head_r * 0.6, 0])))
    else:
        if r.chance(0.3):   # ears / antennae
            for sx in (-1, 1):
                base = head_c + np.array([sx * head_r * 0.7, head_r * 0.5, 0])
                parts.append(capsule(base, base + np.array([sx * 0.05, r.u(0.05, 0.2), 0]), head_r * 0.2, head_r * 0.08))
        if r.chance(0.25):   # tail
            parts.append(capsule((0, hip_y, -depth), (0, hip_y * r.u(0.2, 0.8), -depth - r.u(0.2, 0.5)),
                                 limb_r * 0.8, limb_r * 0.3))
    if r.chance(0.2):   # skirt / robe / coat
        parts.append(capsule((0, hip_y + 0.05, 0), (0, hip_y * r.u(0.3, 0.6), 0), width * 0.9, width * r.u(1.2, 1.8)))
    return union(*parts, k=limb_r * r.u(0.3, 0.7))


def bird(r: Rand):
    """Held-out family: tilted bodies with beaks and flat wings."""
    body = r.u(0.25, 0.45)
    br = body * r.u(0.3, 0.45)
    tilt = r.u(-0.2, 0.8)
    leg = r.u(0.05, 0.4)
    c = np.array([0, leg + br, 0])
    parts = [ellipsoid((br, br, body / 2)).rotated(rot_x(-tilt)).moved(c)]
    head_r = br * r.u(0.5, 0.8)
    front = rot_x(-tilt) @ np.array([0, 0, body / 2])
    head = c + front + np.array([0, head_r * r.u(0.5, 1.5), 0])
    parts.append(sphere(head_r, head))
    parts.append(capsule(c + front * 0.6, head, br * 0.45, head_r * 0.7))   # neck
    beak = r.u(0.6, 2.5) * head_r
    parts.append(capsule(head + np.array([0, 0, head_r * 0.6]), head + np.array([0, -beak * 0.2, head_r * 0.6 + beak]),
                         head_r * 0.35, head_r * 0.05))
    spread = r.chance(0.4)
    for sx in (-1, 1):
        if spread:
            wing = ellipsoid((body * r.u(0.6, 1.0), br * 0.12, body * 0.25)).moved((sx * body * 0.55, 0, 0))
            parts.append(wing.rotated(rot_z(sx * r.u(-0.3, 0.5))).moved(c))
        else:
            wing = ellipsoid((br * 0.25, br * 0.7, body * 0.45)).rotated(rot_x(-tilt - 0.2))
            parts.append(wing.moved(c + np.array([sx * br * 0.8, br * 0.1, -body * 0.05])))
        hip = c + np.array([sx * br * 0.4, -br * 0.7, 0])
        parts.append(capsule(hip, (sx * br * 0.4, 0.02, 0), br * 0.08))
        parts.append(capsule((sx * br * 0.4, 0.015, -br * 0.2), (sx * br * 0.4, 0.015, br * 0.5), br * 0.06))
    tail = ellipsoid((br * 0.6, br * 0.08, body * 0.35)).rotated(rot_x(-tilt + r.u(-0.6, 0.2)))
    parts.append(tail.moved(c - front * 1.2))
    return union(*parts, k=br * 0.15)


def fish(r: Rand):
    length = r.u(0.6, 1.0)
    h = length * r.u(0.15, 0.4)
    w = h * r.u(0.25, 0.6)
    parts = [superquadric((w, h / 2, length / 2), r.u(0.6, 1.1), r.u(0.7, 1.1))]
    fin_t = max(w * 0.15, 0.016 * length)   # fins at least ~2 mesher voxels thick
    tz = -length / 2 - length * 0.05
    for sy in (-1, 1):   # forked tail
        lobe = ellipsoid((fin_t, h * r.u(0.4, 0.8), length * 0.15)).rotated(rot_x(sy * 0.6))
        parts.append(lobe.moved((0, sy * h * 0.25, tz)))
    parts.append(ellipsoid((fin_t, h * r.u(0.2, 0.5), length * 0.2)).rotated(rot_x(0.4)).moved((0, h / 2, -length * 0.05)))
    for sx in (-1, 1):   # pectoral fins, rooted inside the body
        fin = ellipsoid((h * 0.25, fin_t, h * 0.12)).rotated(rot_z(sx * 0.5))
        parts.append(fin.moved((sx * w * 0.8, -h * 0.15, length * 0.15)))
    return union(*parts, k=w * 0.2)


def blob(r: Rand):
    """Random smooth union of ellipsoids and capsules grown from a chain (keeps it connected)."""
    parts = []
    pos = np.zeros(3)
    size = r.u(0.15, 0.3)
    for _ in range(r.i(3, 9)):
        if r.chance(0.5):
            radii = np.array([r.u(0.5, 1.0), r.u(0.5, 1.0), r.u(0.5, 1.0)]) * size
            R = rot_x(r.u(0, np.pi)) @ rot_y(r.u(0, np.pi))
            parts.append(ellipsoid(radii).rotated(R).moved(pos))
        else:
            step = r.g.normal(size=3)
            step = step / np.linalg.norm(step) * size * r.u(1.0, 3.0)
            parts.append(capsule(pos, pos + step, size * r.u(0.3, 0.7), size * r.u(0.2, 0.6)))
        step = r.g.normal(size=3)
        pos = pos + step / np.linalg.norm(step) * size * r.u(0.6, 1.4)
    return union(*parts, k=size * r.u(0.2, 0.6))


def _fourier_noise(r: Rand, count: int, freq: tuple[float, float], amp: float):
    """Sum of random plane waves: a cheap smooth 3D noise field."""
    dirs = r.g.normal(size=(count, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    freqs = r.g.uniform(*freq, size=count)
    k = (dirs * freqs[:, None]).astype(np.float32)
    phase = r.g.uniform(0, 2 * np.pi, size=count).astype(np.float32)
    amps = (amp / np.sqrt(freqs / freq[0])).astype(np.float32)

    def noise(p):
        return np.sin(p @ k.T + phase) @ amps / np.sqrt(count)
    return noise


def rock(r: Rand):
    radii = np.array([r.u(0.3, 0.6), r.u(0.2, 0.45), r.u(0.3, 0.6)])
    base = superquadric(radii, r.u(0.4, 1.2), r.u(0.4, 1.2))
    noise = _fourier_noise(r, 24, (3.0, 14.0), r.u(0.03, 0.1))
    bound = 0.08   # |displacement| limit, so the surface stays within the padded box
    pad = 0.25
    return SDF(lambda p: base(p) * 0.8 + bound * np.tanh(noise(p) / bound), base.lo - pad, base.hi + pad)


def tree(r: Rand):
    h = r.u(0.8, 1.5)
    trunk_h = h * r.u(0.25, 0.6)
    tr = h * r.u(0.025, 0.06)
    parts = [capsule((0, 0, 0), (0, trunk_h, 0), tr * 1.4, tr)]
    if r.chance(0.35):   # conifer: stacked cones
        n = r.i(2, 4)
        crown = h - trunk_h * 0.6
        for k in range(n):
            y0 = trunk_h * 0.6 + crown * k / (n + 0.5)
            rad = h * r.u(0.2, 0.35) * (1 - k / (n + 1))
            parts.append(capsule((0, y0, 0), (0, y0 + crown / n * 1.4, 0), rad, 0.01))
        return union(*parts, k=0.01)
    for _ in range(r.i(2, 5)):   # branches with leaf clumps
        a, up = r.u(0, 2 * np.pi), r.u(0.3, 1.2)
        start = np.array([0, trunk_h * r.u(0.6, 1.0), 0])
        end = start + np.array([np.cos(a) * np.cos(up), np.sin(up), np.sin(a) * np.cos(up)]) * h * r.u(0.15, 0.35)
        parts.append(capsule(start, end, tr * 0.6, tr * 0.3))
        parts.append(sphere(h * r.u(0.1, 0.2), end))
    parts.append(ellipsoid((h * r.u(0.2, 0.35), h * r.u(0.15, 0.3), h * r.u(0.2, 0.35)), center=(0, trunk_h + h * 0.1, 0)))
    return union(*parts, k=h * 0.04)
