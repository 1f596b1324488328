"""Silhouettes of meshes on the frame grid, and how well two silhouettes agree."""
from __future__ import annotations

import numpy as np

from .frame import FRAME_HALF_EXTENT


def mesh_silhouette(vertices: np.ndarray, faces: np.ndarray, size: int) -> np.ndarray:
    """Bool (size, size) grid: the cells whose centre the orthographic projection of any triangle covers.

    Vectorised: triangles are grouped by the size of their pixel bounding box and every candidate pixel
    of a group is tested at once (a Python loop over 5k triangles cost 0.2 s, a fifth of a reconstruction)."""
    cell = 2 * FRAME_HALF_EXTENT / size
    v = np.asarray(vertices, np.float64)
    u = (v[:, 0] + FRAME_HALF_EXTENT) / cell - 0.5            # column of the vertex, cell centres at integers
    w = (FRAME_HALF_EXTENT - v[:, 1]) / cell - 0.5            # row
    f = np.asarray(faces)
    tu, tw = u[f], w[f]                                       # (F, 3)
    c0 = np.clip(np.ceil(tu.min(axis=1)), 0, size - 1).astype(np.int64)
    c1 = np.clip(np.floor(tu.max(axis=1)), -1, size - 1).astype(np.int64)
    r0 = np.clip(np.ceil(tw.min(axis=1)), 0, size - 1).astype(np.int64)
    r1 = np.clip(np.floor(tw.max(axis=1)), -1, size - 1).astype(np.int64)
    span = np.maximum(c1 - c0, r1 - r0) + 1
    out = np.zeros((size, size), bool)
    k = 1
    while True:
        group = np.flatnonzero((span >= 1) & (span <= k) & ((span > k // 2) if k > 1 else True))
        if group.size:
            off = np.arange(k)
            cols = c0[group, None, None] + off[None, None, :]     # (G, k, k)
            rows = r0[group, None, None] + off[None, :, None]
            rows, cols = np.broadcast_arrays(rows, cols)
            inside = (cols <= c1[group, None, None]) & (rows <= r1[group, None, None])
            a, b = tu[group], tw[group]
            e = []
            for i, j in ((0, 1), (1, 2), (2, 0)):
                e.append((a[:, j, None, None] - a[:, i, None, None]) * (rows - b[:, i, None, None])
                         - (b[:, j, None, None] - b[:, i, None, None]) * (cols - a[:, i, None, None]))
            # Inside a triangle of either winding: all three edge functions share a sign (edges count).
            inside &= ((e[0] >= 0) & (e[1] >= 0) & (e[2] >= 0)) | ((e[0] <= 0) & (e[1] <= 0) & (e[2] <= 0))
            out[rows[inside], cols[inside]] = True
        if k >= size:
            break
        k *= 2
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def splat_silhouette(points: np.ndarray, size: int, pixels_per_unit: float, close: int = 2,
                     fill: bool = True) -> np.ndarray:
    """Bool (size, size) silhouette of a point set: the pixels its points fall in (pixel = size/2 + x * ppu,
    size/2 - y * ppu, pixel i covering [i, i+1)), closed by `close` pixels and hole-filled. How realval scores
    point clouds and meshes alike (a mesh through its surface samples), so both are judged by one rule."""
    from scipy import ndimage

    p = np.asarray(points, np.float64)
    cols = np.floor(size / 2 + p[:, 0] * pixels_per_unit).astype(np.int64)
    rows = np.floor(size / 2 - p[:, 1] * pixels_per_unit).astype(np.int64)
    # A margin so the closing neither clips at the border nor erodes a shape that touches it.
    pad = close + 1
    out = np.zeros((size + 2 * pad, size + 2 * pad), bool)
    ok = (cols >= -pad) & (cols < size + pad) & (rows >= -pad) & (rows < size + pad)
    out[rows[ok] + pad, cols[ok] + pad] = True
    if close > 0:
        out = ndimage.binary_closing(out, iterations=close)
    if fill:
        out = ndimage.binary_fill_holes(out)
    return out[pad:-pad, pad:-pad]
