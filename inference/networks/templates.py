"""Starting meshes for the networks, built from the silhouette on the 128-cell network grid.

A `TemplateLevels` is a coarse-to-fine stack of nested meshes: level k+1 is level k split by
edge-midpoint unpooling, and `parents[k]` names the two level-k vertices each new vertex sits between.
The AtlasNet-style model uses one level (the finest mesh straight from the silhouette, which keeps
thin parts the coarse marching grid would lose); the Pixel2Mesh-style model uses three."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import template as tpl
from ..meshes import orient_outward

TEMPLATE_KINDS = ("inflation", "sphere")


@dataclass
class TemplateLevels:
    vertices: list[np.ndarray]   # per level (N_k, 3) float32
    faces: list[np.ndarray]      # per level (M_k, 3) int32
    parents: list[np.ndarray]    # per unpooling step (N_{k+1} - N_k, 2) int64 vertex pairs in level k

    @property
    def finest(self):
        return self.vertices[-1], self.faces[-1]


def _coarse_inflation(mask: np.ndarray, target_vertices: int):
    """Inflation template with about `target_vertices` vertices. The engine's `inflation_template` keeps its
    marching grid at least 12 cells wide (for output quality); a coarse network level needs fewer, so this
    picks the marching resolution itself from a probe, the same way."""
    field2d = tpl._signed_height(mask, tpl.inflation_depth(mask))
    v, f, _ = tpl.march_without_false_handles(field2d, mask, target_vertices, probe=24, min_resolution=5)
    return v, orient_outward(v, f)


def build_template(mask_grid: np.ndarray, kind: str = "inflation", levels: int = 1,
                   final_vertices: int = 2500) -> TemplateLevels:
    """Template stack for one silhouette (bool grid over the frame). `levels` nested meshes, the finest with
    roughly `final_vertices` vertices (each unpooling step multiplies the count by about 4)."""
    mask = np.asarray(mask_grid, bool)
    if not mask.any():
        raise ValueError("empty silhouette: no template can be built")
    coarse_target = max(12, int(final_vertices / 4 ** (levels - 1)))
    if kind == "inflation":
        if levels == 1:
            v, f = tpl.inflation_template(mask, final_vertices)
        else:
            v, f = _coarse_inflation(mask, coarse_target)
    elif kind == "sphere":
        v, f = tpl.ellipsoid_template(mask, coarse_target)
    else:
        raise ValueError(f"unknown template kind '{kind}' (choose from {TEMPLATE_KINDS})")
    vs, fs, ps = [np.asarray(v, np.float32)], [np.asarray(f, np.int32)], []
    for _ in range(levels - 1):
        v, f, edges = tpl.subdivide(vs[-1], fs[-1])
        vs.append(v)
        fs.append(f)
        ps.append(edges)
    return TemplateLevels(vs, fs, ps)
