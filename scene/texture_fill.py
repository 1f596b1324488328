"""The picture continued beyond the silhouette, for the faces that look away from the camera (numpy only:
Blender's Python has numpy but not SciPy).

The front projection gives the back of the object the mirror image of its front, which is continuous
across the silhouette by construction (both sides sample the same texel there). What goes wrong is at
and near the silhouette: texels there are partly background (a white fringe or transparent holes), and
faces seen edge-on stretch those few texels into streaks. So:

- `coverage`: where the mesh's front projection lands in the picture (its UV triangles, rasterised);
- trusted texels: inside that coverage, a few texels away from its outline (and opaque in the picture);
- `grown`: the trusted colours grown outward over everything else (push-pull: averaged down an image
  pyramid, then filled back up), so the outline samples the object's own colour, never the backdrop;
- `blurred`: a coarse level of the same pyramid, which edge-on faces show instead of stretched texels.
"""
from __future__ import annotations

import numpy as np

# Texels this close to the outline are not trusted (anti-aliased edge, backdrop bleeding in), in
# texels of the working resolution.
OUTLINE_MARGIN = 2
# Edge-on faces show the pyramid level this many times coarser than the picture's working size.
BLUR_FACTOR = 24
# The work is done at most this large (longer side); the result is scaled back up to the picture.
WORK_SIZE = 1024


def coverage(uvs: np.ndarray, faces: np.ndarray, width: int, height: int) -> np.ndarray:
    """(height, width) bool, rows top-down: texels whose centre lies in one of the UV triangles."""
    tri = np.asarray(uvs, np.float64)[np.asarray(faces)]          # (F, 3, 2)
    px = tri[..., 0] * width - 0.5                                 # texel-centre coordinates
    py = (1.0 - tri[..., 1]) * height - 0.5
    x0 = np.clip(np.floor(px.min(1)), 0, width - 1).astype(np.int64)
    x1 = np.clip(np.ceil(px.max(1)), 0, width - 1).astype(np.int64)
    y0 = np.clip(np.floor(py.min(1)), 0, height - 1).astype(np.int64)
    y1 = np.clip(np.ceil(py.max(1)), 0, height - 1).astype(np.int64)
    bw, bh = x1 - x0 + 1, y1 - y0 + 1
    counts = bw * bh
    face = np.repeat(np.arange(len(tri)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    qx = x0[face] + local % bw[face]
    qy = y0[face] + local // bw[face]
    # Barycentric sign test (either winding: front- and back-facing triangles both count).
    ax, ay, bx, by, cx, cy = (px[face, 0], py[face, 0], px[face, 1], py[face, 1], px[face, 2], py[face, 2])
    d1 = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax)
    d2 = (cx - bx) * (qy - by) - (cy - by) * (qx - bx)
    d3 = (ax - cx) * (qy - cy) - (ay - cy) * (qx - cx)
    eps = 1e-9
    inside = ((d1 >= -eps) & (d2 >= -eps) & (d3 >= -eps)) | ((d1 <= eps) & (d2 <= eps) & (d3 <= eps))
    mask = np.zeros((height, width), bool)
    mask[qy[inside], qx[inside]] = True
    return mask


def erode(mask: np.ndarray, steps: int) -> np.ndarray:
    out = mask.copy()
    for _ in range(steps):
        shrunk = out.copy()
        shrunk[1:] &= out[:-1]
        shrunk[:-1] &= out[1:]
        shrunk[:, 1:] &= out[:, :-1]
        shrunk[:, :-1] &= out[:, 1:]
        out = shrunk
    return out


def _downsample(values: np.ndarray, weight: np.ndarray):
    h, w = weight.shape
    ph, pw = h + h % 2, w + w % 2
    v = np.zeros((ph, pw, values.shape[2]), np.float64)
    wt = np.zeros((ph, pw), np.float64)
    v[:h, :w] = values * weight[..., None]
    wt[:h, :w] = weight
    v = v.reshape(ph // 2, 2, pw // 2, 2, -1).sum(axis=(1, 3))
    wt = wt.reshape(ph // 2, 2, pw // 2, 2).sum(axis=(1, 3))
    return np.where(wt[..., None] > 0, v / np.maximum(wt, 1e-12)[..., None], 0.0), np.minimum(wt, 1.0)


def _upsample(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear enlargement of a pyramid level to `shape` (texel centres aligned)."""
    h, w = values.shape[:2]
    ys = np.clip((np.arange(shape[0]) + 0.5) * h / shape[0] - 0.5, 0, h - 1)
    xs = np.clip((np.arange(shape[1]) + 0.5) * w / shape[1] - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    dtype = values.dtype
    fy, fx = (ys - y0)[:, None, None].astype(dtype), (xs - x0)[None, :, None].astype(dtype)
    # Separable: along x on the small image first, then along y (two full-size gathers, not four).
    across = values[:, x0] * (1 - fx) + values[:, x1] * fx
    return across[y0] * (1 - fy) + across[y1] * fy


def push_pull(values: np.ndarray, known: np.ndarray, stop_level: int = 0):
    """Fill the unknown texels from the known ones. Returns (filled, coarse): `filled` keeps known texels
    as they are; `coarse` is the same fill from pyramid level `stop_level` (2**level times coarser) up,
    i.e. a blurred version that still holds only the object's own colours."""
    levels = [(np.asarray(values, np.float64), known.astype(np.float64))]
    while max(levels[-1][1].shape) > 1:
        levels.append(_downsample(*levels[-1]))
    filled = levels[-1][0]
    coarse = None
    for index in range(len(levels) - 2, -1, -1):
        v, w = levels[index]
        up = _upsample(filled, w.shape)
        filled = v * w[..., None] + up * (1 - w[..., None])
        if index == stop_level:
            coarse = filled
    if coarse is None:
        coarse = filled
    return filled, coarse


def continued_texture(rgba: np.ndarray, uvs: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grown, blurred), float32 RGBA, rows top-down, straight alpha, 0..1: `grown` the size of `rgba`,
    `blurred` at most WORK_SIZE on its longer side (it holds no detail; the texture node interpolates).

    The picture's own alpha is kept where the picture is opaque enough to be trusted; beyond the trusted
    texels alpha is grown in like the colours, so a cut-out's transparent backdrop never punches holes
    into the outline while a semi-transparent part of the object stays semi-transparent."""
    height, width = rgba.shape[:2]
    factor = max(1, int(np.ceil(max(height, width) / WORK_SIZE)))
    work = rgba[::factor, ::factor].astype(np.float64)
    h, w = work.shape[:2]
    inside = coverage(uvs, faces, w, h)
    trusted = erode(inside, OUTLINE_MARGIN) & (work[..., 3] > 0.5)
    if not trusted.any():   # a sliver too thin to trust anything: trust what the projection covers
        trusted = inside & (work[..., 3] > 0.0)
    if not trusted.any():
        return rgba.astype(np.float32), rgba.astype(np.float32)
    blur_level = max(1, int(round(np.log2(max(h, w) / max(1, WORK_SIZE // BLUR_FACTOR)))))
    grown, blurred = push_pull(work, trusted, stop_level=min(blur_level, 12))
    # Smooth the blurred level once more back up: it must carry colour, not texel edges.
    blurred = _upsample(blurred, (h, w)) if blurred.shape[:2] != (h, w) else blurred
    if factor > 1:
        # The picture itself where it is trusted, the fill (enlarged) everywhere else.
        grown_full = _upsample(grown.astype(np.float32), (height, width))
        keep = np.repeat(np.repeat(trusted, factor, 0), factor, 1)[:height, :width]
        grown_full[keep] = rgba[keep]
        grown = grown_full
    return np.clip(grown, 0, 1).astype(np.float32), np.clip(blurred, 0, 1).astype(np.float32)
