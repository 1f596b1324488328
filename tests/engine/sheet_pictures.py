"""Synthetic reference sheets: orthographic silhouettes of simple solids, each view framed on its own."""
from __future__ import annotations

import numpy as np

from inference.sheets import ROTATIONS


def cylinder(radius=0.3, height=0.8):
    """Upright (axis +y in the front frame): a rectangle from the front and side, a disc from the top."""
    return lambda x, y, z: (x * x + z * z <= radius ** 2) & (np.abs(y) <= height / 2)


def box(w=0.6, h=0.8, d=0.4):
    return lambda x, y, z: (np.abs(x) <= w / 2) & (np.abs(y) <= h / 2) & (np.abs(z) <= d / 2)


def ring(major=0.3, minor=0.1):
    """A torus lying flat: its opening is seen only from the top."""
    return lambda x, y, z: (np.sqrt(x * x + z * z) - major) ** 2 + y * y <= minor ** 2


def silhouette(solid, name, half=0.7, n=200, depth_samples=96):
    """Bool (n, n) projection along the view's axis over [-half, half]^2 of the view's (right, up) plane."""
    rot = np.array(ROTATIONS[name], np.float64)
    c = (np.arange(n) + 0.5) / n * 2 * half - half
    t = np.linspace(-half, half, depth_samples)
    u, w = np.meshgrid(c, -c)                                   # rows top-down
    out = np.zeros((n, n), bool)
    for tk in t:
        view = np.stack([u, w, np.full_like(u, tk)], axis=-1)
        p = view @ rot                                          # view -> front frame (rot is orthogonal)
        out |= solid(p[..., 0], p[..., 1], p[..., 2])
    return out


def view_picture(solid, name, size=256, fill=0.85, offset=(0.0, 0.0), n=None):
    """RGBA uint8 picture of the solid's view: the silhouette's box centred (plus `offset`, in pixels)
    with its longer side `fill` of the frame; each view so framed on its own, like a real sheet."""
    n = n or size
    coarse = silhouette(solid, name, n=128)
    rows, cols = np.flatnonzero(coarse.any(1)), np.flatnonzero(coarse.any(0))
    cell = 1.4 / 128
    box = np.array([cols[0], cols[-1] + 1, rows[0], rows[-1] + 1]) * cell - 0.7
    centre_u, centre_w = (box[0] + box[1]) / 2, -(box[2] + box[3]) / 2
    longer = max(box[1] - box[0], box[3] - box[2])
    half = 0.5 * longer / fill
    shifted = lambda x, y, z: solid(*_shift(name, x, y, z, centre_u, centre_w))  # noqa: E731
    m = silhouette(shifted, name, half=half, n=size)
    dx, dy = int(offset[0]), int(offset[1])
    m = np.roll(np.roll(m, dy, axis=0), dx, axis=1)
    img = np.zeros((size, size, 4), np.uint8)
    img[m] = (200, 120, 60, 255)
    return img


def _shift(name, x, y, z, cu, cw):
    """Front-frame point moved so the view's silhouette box centre lands on the picture's centre."""
    rot = np.array(ROTATIONS[name], np.float64)
    d = rot[0] * cu + rot[1] * cw
    return x + d[0], y + d[1], z + d[2]


def sheet(solid, names, sizes=None, fills=None):
    sizes = sizes or {}
    fills = fills or {}
    return {n: view_picture(solid, n, size=sizes.get(n, 256), fill=fills.get(n, 0.85)) for n in names}
