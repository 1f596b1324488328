"""Growing known pixels over unknown ones (push-pull on an image pyramid) and the small image operations it
needs. Numpy only: Blender's Python runs it too (scene/texture_fill.py grows a picture past its silhouette,
inference/sheet_texture.py a reference sheet's views past theirs). The arithmetic keeps the input's float
type: the picture's fill works in float64, the sheet's atlas in float32."""
from __future__ import annotations

import numpy as np


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


def downsample(values: np.ndarray, weight: np.ndarray):
    h, w = weight.shape
    ph, pw = h + h % 2, w + w % 2
    v = np.zeros((ph, pw, values.shape[2]), values.dtype)
    wt = np.zeros((ph, pw), weight.dtype)
    v[:h, :w] = values * weight[..., None]
    wt[:h, :w] = weight
    v = v.reshape(ph // 2, 2, pw // 2, 2, -1).sum(axis=(1, 3))
    wt = wt.reshape(ph // 2, 2, pw // 2, 2).sum(axis=(1, 3))
    return np.where(wt[..., None] > 0, v / np.maximum(wt, 1e-12)[..., None], 0.0), np.minimum(wt, 1.0)


def upsample(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
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
    values = np.asarray(values)
    dtype = values.dtype if values.dtype.kind == "f" else np.float64
    levels = [(values.astype(dtype, copy=False), known.astype(dtype))]
    while max(levels[-1][1].shape) > 1:
        levels.append(downsample(*levels[-1]))
    filled = levels[-1][0]
    coarse = None
    for index in range(len(levels) - 2, -1, -1):
        v, w = levels[index]
        up = upsample(filled, w.shape)
        filled = v * w[..., None] + up * (1 - w[..., None])
        if index == stop_level:
            coarse = filled
    if coarse is None:
        coarse = filled
    return filled, coarse
