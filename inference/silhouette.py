"""Silhouettes of meshes on the frame grid, and how well two silhouettes agree."""
from __future__ import annotations

import numpy as np

from .frame import FRAME_HALF_EXTENT


def mesh_silhouette(vertices: np.ndarray, faces: np.ndarray, size: int) -> np.ndarray:
    """Bool (size, size) grid: the cells whose centre the orthographic projection of any triangle covers."""
    from skimage.draw import polygon

    cell = 2 * FRAME_HALF_EXTENT / size
    cols = (np.asarray(vertices)[:, 0] + FRAME_HALF_EXTENT) / cell - 0.5
    rows = (FRAME_HALF_EXTENT - np.asarray(vertices)[:, 1]) / cell - 0.5
    out = np.zeros((size, size), bool)
    for tri in np.asarray(faces):
        rr, cc = polygon(rows[tri], cols[tri], shape=out.shape)
        out[rr, cc] = True
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
