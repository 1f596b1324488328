"""Batches of meshes whose vertex counts differ, packed into one graph.

Every sample's template comes from its own silhouette, so vertex counts differ from sample to sample.
Rather than padding, the vertices of the whole batch are concatenated; `batch[i]` says which sample
vertex i belongs to, and faces/edges are renumbered into the packed index. Neighbour sums are then
one `index_add_` over the edge list, which costs the same for any mix of mesh sizes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .templates import TemplateLevels


def _edges(faces: np.ndarray) -> np.ndarray:
    """Each undirected edge once, rows sorted: meshes.unique_edges, the same array as np.unique(axis=0) on the
    sorted sides gave (15 -> 0.5 ms for the default template)."""
    from ..meshes import unique_edges
    return unique_edges(faces)


@dataclass
class PackedLevel:
    """One mesh level of a batch, packed."""
    vertices: torch.Tensor   # (V, 3) float
    batch: torch.Tensor      # (V,) long, sample of each vertex
    faces: torch.Tensor      # (F, 3) long, packed vertex indices
    edges: torch.Tensor      # (E, 2) long, each undirected edge once
    counts: list[int]        # vertices per sample
    face_counts: list[int]   # faces per sample

    @property
    def num_samples(self) -> int:
        return len(self.counts)

    def degree(self) -> torch.Tensor:
        d = torch.zeros(len(self.vertices), device=self.vertices.device, dtype=self.vertices.dtype)
        ones = torch.ones(len(self.edges), device=d.device, dtype=d.dtype)
        d.index_add_(0, self.edges[:, 0], ones).index_add_(0, self.edges[:, 1], ones)
        return d.clamp_min(1.0)

    def neighbour_mean(self, x: torch.Tensor, degree: torch.Tensor | None = None) -> torch.Tensor:
        """Mean of each vertex's neighbours' rows of x (V, C)."""
        a, b = self.edges[:, 0], self.edges[:, 1]
        out = torch.zeros_like(x)
        out.index_add_(0, a, x[b]).index_add_(0, b, x[a])
        d = self.degree() if degree is None else degree
        return out / d.to(x.dtype)[:, None]

    def laplacian(self, x: torch.Tensor, degree: torch.Tensor | None = None) -> torch.Tensor:
        """Uniform Laplacian coordinates x_i - mean of neighbours."""
        return x - self.neighbour_mean(x, degree)

    def vertex_normals(self, x: torch.Tensor | None = None) -> torch.Tensor:
        """Area-weighted unit normals of the mesh with vertex positions x (default: its own)."""
        x = self.vertices if x is None else x
        f = self.faces
        fn = torch.cross(x[f[:, 1]] - x[f[:, 0]], x[f[:, 2]] - x[f[:, 0]], dim=1)
        vn = torch.zeros_like(x)
        for corner in range(3):
            vn.index_add_(0, f[:, corner], fn)
        return vn / vn.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def split(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(torch.split(x, self.counts))

    def split_faces(self) -> list[torch.Tensor]:
        """Per-sample faces with sample-local vertex indices."""
        out, start = [], 0
        for f in torch.split(self.faces, self.face_counts):
            out.append(f - start)
            start += self.counts[len(out) - 1]
        return out

    def to(self, device) -> "PackedLevel":
        return PackedLevel(self.vertices.to(device), self.batch.to(device), self.faces.to(device),
                           self.edges.to(device), self.counts, self.face_counts)


@dataclass
class PackedTemplates:
    """A batch of template stacks: `levels[k]` packed, and `unpool[k]` (V_{k+1}, 2) the pair of level-k packed
    vertices whose mean each level-(k+1) vertex starts at (a vertex kept from level k names itself twice)."""
    levels: list[PackedLevel]
    unpool: list[torch.Tensor]

    def to(self, device) -> "PackedTemplates":
        return PackedTemplates([lv.to(device) for lv in self.levels], [u.to(device) for u in self.unpool])


def pack_templates(templates: list[TemplateLevels]) -> PackedTemplates:
    """Concatenate per-sample template stacks (numpy) into packed torch tensors."""
    n_levels = len(templates[0].vertices)
    levels, unpool = [], []
    starts_prev = None
    for k in range(n_levels):
        verts, batch, faces, edges, counts, face_counts, starts = [], [], [], [], [], [], []
        start = 0
        for s, t in enumerate(templates):
            v, f = t.vertices[k], t.faces[k]
            verts.append(v)
            batch.append(np.full(len(v), s, np.int64))
            faces.append(f.astype(np.int64) + start)
            edges.append(_edges(f).astype(np.int64) + start)
            counts.append(len(v))
            face_counts.append(len(f))
            starts.append(start)
            start += len(v)
        levels.append(PackedLevel(torch.from_numpy(np.concatenate(verts).astype(np.float32)),
                                  torch.from_numpy(np.concatenate(batch)), torch.from_numpy(np.concatenate(faces)),
                                  torch.from_numpy(np.concatenate(edges)), counts, face_counts))
        if k > 0:
            pairs = []
            for s, t in enumerate(templates):
                n_old = len(t.vertices[k - 1])
                keep = np.repeat(np.arange(n_old, dtype=np.int64)[:, None], 2, axis=1)
                pairs.append(np.concatenate([keep, t.parents[k - 1]]) + starts_prev[s])
            unpool.append(torch.from_numpy(np.concatenate(pairs)))
        starts_prev = starts
    return PackedTemplates(levels, unpool)
