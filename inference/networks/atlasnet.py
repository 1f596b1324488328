"""AtlasNet-style prior: an MLP maps each template point to its offset.

Per point the MLP sees the point, its template normal, the image features at its projection
(pixel-aligned; switchable off for the plain global-code AtlasNet) and the global image code. It
predicts offsets for the vertices of one closed template and the mesh keeps the template's faces, so
the output stays closed and watertight; there is no patch stitching as in the original AtlasNet."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .encoder import ImageEncoder, pool_features
from .graph import PackedTemplates


class AtlasNetPrior(nn.Module):
    levels = 1

    def __init__(self, hidden: int = 256, code_dim: int = 256, layers: int = 3, local_features: bool = True,
                 smoothing: int = 0, reference_vertices: int = 1000):
        super().__init__()
        # Offsets are diffused over the mesh `smoothing` times (at `reference_vertices` per mesh; scaled with the
        # density so the smoothing radius stays the same in frame units). Neighbouring points then cannot
        # move independently, which is what folds a point-wise prediction into self-intersections.
        self.smoothing, self.reference_vertices = smoothing, reference_vertices
        self.encoder = ImageEncoder(code_dim=code_dim)
        self.local_features = local_features
        point_dim = 6 + (self.encoder.feature_dim if local_features else 0)
        self.point_in = nn.Linear(point_dim, hidden)
        self.code_in = nn.Linear(code_dim, hidden, bias=False)
        self.layers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.out = nn.Linear(hidden, 3)
        nn.init.normal_(self.out.weight, std=1e-4)   # start as the template itself
        nn.init.zeros_(self.out.bias)

    def forward(self, image: torch.Tensor, templates: PackedTemplates) -> list[torch.Tensor]:
        maps, code = self.encoder(image)
        level = templates.levels[-1]
        v = level.vertices
        parts = [v, level.vertex_normals()]
        if self.local_features:
            parts.append(pool_features(maps, v, level.batch, level.counts))
        x = torch.cat([p.to(parts[-1].dtype) for p in parts], dim=1)
        h = F.relu(self.point_in(x) + self.code_in(code)[level.batch])
        for layer in self.layers:
            h = h + F.relu(layer(h))
        offset = self.out(h).float()
        if self.smoothing:
            # A diffusion step's reach is one edge, and edges shrink as 1/sqrt(density): the step count
            # grows linearly with the vertex count to cover the same distance (radius ~ sqrt(steps) edges).
            mean_count = sum(level.counts) / len(level.counts)
            steps = max(1, round(self.smoothing * mean_count / self.reference_vertices))
            degree = level.degree()
            for _ in range(steps):
                offset = 0.5 * (offset + level.neighbour_mean(offset, degree))
        return [v + offset]
