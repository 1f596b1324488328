"""Which texels of a picture a mesh's UV triangles cover (numpy only: Blender's Python runs it, for Fill Sides).

A texel is covered when its centre passes the barycentric sign test of one of the triangles (either winding,
a tolerance of EPS). Testing every texel of every triangle's bounding box costs about four times the
triangles' area, and most of it is in the middle of a triangle, where the answer is never in doubt. So the
test is written per row: along a row each of the three edge functions is monotone in x (also as computed in
floating point), so each edge bounds the passing texels on one side, and the texels a triangle covers on a row
are one run. The run's ends follow from the edges' lines; a texel further inside every bound than the
arithmetic's rounding can reach passes for certain and is filled without the test, and only the few texels
within that reach of an end (or a whole row, where an edge runs along it) are tested. The answer is the
brute-force test's, texel for texel (tests/engine/test_raster.py holds that test)."""
from __future__ import annotations

import numpy as np

EPS = 1e-9
# Rounding of one float64 operation; the margins below count a few of them, generously.
_U = np.finfo(np.float64).eps


def texel_coordinates(uvs: np.ndarray, faces: np.ndarray, width: int, height: int):
    """Each face's corners in texel-centre coordinates (rows top-down): (px, py), each (F, 3) float64."""
    tri = np.asarray(uvs, np.float64)[np.asarray(faces)]          # (F, 3, 2)
    return tri[..., 0] * width - 0.5, (1.0 - tri[..., 1]) * height - 0.5


def passes(px, py, face, qx, qy) -> np.ndarray:
    """The sign test for texels (qx, qy) against their faces, exactly as the brute force writes it."""
    ax, ay, bx, by, cx, cy = (px[face, 0], py[face, 0], px[face, 1], py[face, 1], px[face, 2], py[face, 2])
    d1 = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax)
    d2 = (cx - bx) * (qy - by) - (cy - by) * (qx - bx)
    d3 = (ax - cx) * (qy - cy) - (ay - cy) * (qx - cx)
    return ((d1 >= -EPS) & (d2 >= -EPS) & (d3 >= -EPS)) | ((d1 <= EPS) & (d2 <= EPS) & (d3 <= EPS))


def _runs(lengths: np.ndarray):
    """For runs of the given lengths: which run each element belongs to, and its offset in the run."""
    owner = np.repeat(np.arange(len(lengths)), lengths)
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return owner, offset


def coverage(uvs: np.ndarray, faces: np.ndarray, width: int, height: int) -> np.ndarray:
    """(height, width) bool, rows top-down: texels whose centre lies in one of the UV triangles."""
    px, py = texel_coordinates(uvs, faces, width, height)
    mask = np.zeros((height, width), bool)
    if len(px) == 0:
        return mask
    x0 = np.clip(np.floor(px.min(1)), 0, width - 1).astype(np.int64)
    x1 = np.clip(np.ceil(px.max(1)), 0, width - 1).astype(np.int64)
    y0 = np.clip(np.floor(py.min(1)), 0, height - 1).astype(np.int64)
    y1 = np.clip(np.ceil(py.max(1)), 0, height - 1).astype(np.int64)
    # Which winding can pass: the three edge functions add up to twice the signed area at any texel (exactly
    # in real arithmetic; each as computed is within a few ulps of its products, at most `extent` squared), so
    # a triangle whose area clearly has a sign passes only the test of that sign. A sliver may pass either.
    extent = np.maximum(np.maximum(px.max(1), x1) - np.minimum(px.min(1), x0),
                        np.maximum(py.max(1), y1) - np.minimum(py.min(1), y0)) + 1.0
    twice_area = (px[:, 1] - px[:, 0]) * (py[:, 2] - py[:, 0]) - (py[:, 1] - py[:, 0]) * (px[:, 2] - px[:, 0])
    unsure = 3 * EPS + 64 * _U * extent * extent + 1e-12
    windings = [np.flatnonzero(twice_area >= -unsure), np.flatnonzero(twice_area <= unsure)]
    # One entry per (face, winding, row of the face's box).
    face_of = np.concatenate(windings)
    winding = np.repeat(np.array([0, 1]), [len(w) for w in windings])
    entry, local = _runs((y1 - y0 + 1)[face_of])
    face, winding = face_of[entry], winding[entry]
    qy = y0[face] + local
    # Bounds no passing texel lies beyond (outer) and within which every texel passes (inner); the box first.
    outer_lo = x0[face].astype(np.float64)
    outer_hi = x1[face].astype(np.float64)
    inner_lo, inner_hi = outer_lo.copy(), outer_hi.copy()
    # threshold: winding 0 passes d >= -EPS, i.e. s (qx - ax) <= k + EPS; winding 1 d <= EPS, s (qx - ax) >= k - EPS.
    threshold = np.where(winding == 0, EPS, -EPS)
    sign = np.where(winding == 0, 1.0, -1.0)
    reach = float(max(width - 1, 0))
    for i in range(3):
        j = (i + 1) % 3
        # d = k - s * (qx - ax), the operands exactly as the test computes them.
        ax_f, ay_f = px[:, i], py[:, i]
        dx_f, s_f = px[:, j] - ax_f, py[:, j] - ay_f
        # How far (in texels) rounding can move where d crosses its threshold: d's own rounding (a few ulps of
        # |k| and |s (qx - ax)|) over the slope |s|, and the rounding of the bound's arithmetic. Per face, with
        # |k| at its largest over the face's rows.
        k_max = np.abs(dx_f) * (np.maximum(np.abs(y0 - ay_f), np.abs(y1 - ay_f)) + 1.0)
        safe_f = np.where(s_f == 0, 1.0, np.abs(s_f))
        margin_f = (8 * _U * (k_max + safe_f * (reach + np.abs(ax_f)) + EPS) / safe_f
                    + 8 * _U * (np.abs(ax_f) + (k_max + EPS) / safe_f) + 1e-9)
        ax, ay, s = ax_f[face], ay_f[face], s_f[face]
        k = dx_f[face] * (qy - ay)
        margin = margin_f[face]
        flat = s == 0
        bound = ax + (k + threshold) / np.where(flat, 1.0, s)
        upper = (s * sign) > 0                 # s > 0 for winding 0, s < 0 for winding 1
        lower = (s * sign) < 0
        np.minimum(outer_hi, np.where(upper, bound + margin, np.inf), out=outer_hi)
        np.minimum(inner_hi, np.where(upper, bound - margin, np.inf), out=inner_hi)
        np.maximum(outer_lo, np.where(lower, bound - margin, -np.inf), out=outer_lo)
        np.maximum(inner_lo, np.where(lower, bound + margin, -np.inf), out=inner_lo)
        # An edge along the row (s == 0) bounds nothing in x: d is k itself on the whole row (k - 0 * (qx - ax)
        # rounds to k), so the row passes this edge everywhere or nowhere.
        fails = flat & np.where(winding == 0, k < -EPS, k > EPS)
        outer_hi[fails] = -1.0
        inner_hi[fails] = -1.0
    o_lo = np.ceil(outer_lo).astype(np.int64)
    o_hi = np.floor(outer_hi).astype(np.int64)
    i_lo = np.maximum(np.ceil(inner_lo).astype(np.int64), o_lo)
    i_hi = np.minimum(np.floor(inner_hi).astype(np.int64), o_hi)
    certain = i_lo <= i_hi
    if certain.any():
        stride = width + 1
        rows = qy[certain] * stride
        marks = np.bincount(rows + i_lo[certain], minlength=height * stride) \
            - np.bincount(rows + i_hi[certain] + 1, minlength=height * stride)
        mask |= np.cumsum(marks[:height * stride].reshape(height, stride), axis=1)[:, :width] > 0
    # To test: the whole outer run where nothing is certain, else its two ends outside the certain part.
    start = np.concatenate([o_lo, np.where(certain, i_hi + 1, 0)])
    end = np.concatenate([np.where(certain, i_lo - 1, o_hi), np.where(certain, o_hi, -1)])
    length = np.maximum(end - start + 1, 0)
    owner, offset = _runs(length)
    if len(owner):
        qx = start[owner] + offset
        owner %= len(face)
        row = qy[owner]
        inside = passes(px, py, face[owner], qx, row)
        mask[row[inside], qx[inside]] = True
    return mask
