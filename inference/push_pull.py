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
    if h % 2 or w % 2:
        ph, pw = h + h % 2, w + w % 2
        v = np.zeros((ph, pw, values.shape[2]), values.dtype)
        wt = np.zeros((ph, pw), weight.dtype)
        v[:h, :w] = values * weight[..., None]
        wt[:h, :w] = weight
    else:
        ph, pw = h, w
        v, wt = values * weight[..., None], weight
    if v.shape[2] in (3, 4):
        # The four texels of each block added in the order numpy's sum(axis=(1, 3)) adds them for 3 or 4
        # channels (the same numbers, without its slower strided reduction).
        total = v[0::2, 0::2] + v[0::2, 1::2]
        total += v[1::2, 0::2]
        total += v[1::2, 1::2]
        v = total
    else:
        v = v.reshape(ph // 2, 2, pw // 2, 2, -1).sum(axis=(1, 3))
    wt = wt.reshape(ph // 2, 2, pw // 2, 2).sum(axis=(1, 3))
    return np.where(wt[..., None] > 0, v / np.maximum(wt, 1e-12)[..., None], 0.0), np.minimum(wt, 1.0)


def _lerp_axis(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Linear interpolation of `values` along `axis` (0 or 1) to `size` texels, texel centres aligned:
    v[i0] * (1 - f) + v[i1] * f for each output texel."""
    n = values.shape[axis]
    dtype = values.dtype

    def at(index):
        return (slice(None),) * axis + (index,)
    if size == 2 * n:
        # Twice as many texels: the weights are exactly 0.75 and 0.25 in turn (1 and 0 at both ends), so each
        # input texel is weighted twice, instead of each output texel gathered twice (the same numbers).
        shape = list(values.shape)
        shape[axis] = size
        out = np.empty(shape, dtype)
        three, one = values * dtype.type(0.75), values * dtype.type(0.25)
        np.add(three[at(slice(None, -1))], one[at(slice(1, None))], out=out[at(slice(1, size - 1, 2))])
        np.add(one[at(slice(None, -1))], three[at(slice(1, None))], out=out[at(slice(2, size - 1, 2))])
        out[at(0)] = values[at(0)]                 # the end texels take their neighbour with weight 0
        out[at(size - 1)] = values[at(n - 1)]
        return out
    t = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
    i0 = np.floor(t).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    f = (t - i0).astype(dtype).reshape((-1,) + (1,) * (values.ndim - 1 - axis))
    if size < 4 * n:
        return values[at(i0)] * (1 - f) + values[at(i1)] * f
    # Much larger (the blurred level back to the picture's size): the output texels between the same two input
    # texels in one go, each input texel broadcast instead of gathered for every output texel (the same numbers).
    shape = list(values.shape)
    shape[axis] = size
    out = np.empty(shape, dtype)
    g = 1 - f
    starts = np.flatnonzero(np.r_[True, i0[1:] != i0[:-1]])
    for start, end in zip(starts, np.r_[starts[1:], size]):
        block = out[at(slice(start, end))]
        np.multiply(values[at(slice(i0[start], i0[start] + 1))], g[start:end], out=block)
        block += values[at(slice(i1[start], i1[start] + 1))] * f[start:end]
    return out


def upsample(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear enlargement of a pyramid level to `shape` (texel centres aligned)."""
    # Separable: along x on the small image first, then along y.
    return _lerp_axis(_lerp_axis(values, shape[1], 1), shape[0], 0)


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
        # filled = v * w + up * (1 - w), in place on the fresh enlargement (the same numbers).
        weight = w[..., None]
        filled = upsample(filled, w.shape)
        filled *= 1 - weight
        filled += v * weight
        if index == stop_level:
            coarse = filled
    if coarse is None:
        coarse = filled
    return filled, coarse
