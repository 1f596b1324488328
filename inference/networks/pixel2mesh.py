"""Pixel2Mesh-style prior: graph convolutions deform a coarse-to-fine template.

Three stages (about 160 -> 640 -> 2560 vertices, edge-midpoint unpooling between them). Each stage
reads image features at every vertex's projection, adds the global image code, runs residual graph
convolutions and moves the vertices; its hidden features are unpooled into the next stage so later
stages refine rather than restart."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .encoder import ImageEncoder, pool_features
from .graph import PackedLevel, PackedTemplates


class GraphConv(nn.Module):
    """y_i = W_self x_i + W_neighbour mean_{j ~ i} x_j (Pixel2Mesh's convolution, mean instead of sum so
    irregular marching-cubes vertices of any valence are treated alike)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.self_weight = nn.Linear(cin, cout)
        self.neighbour_weight = nn.Linear(cin, cout, bias=False)

    def forward(self, x, level: PackedLevel, degree):
        return self.self_weight(x) + self.neighbour_weight(level.neighbour_mean(x, degree))


class _ResidualGraphBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.a = GraphConv(width, width)
        self.b = GraphConv(width, width)

    def forward(self, x, level, degree):
        return x + self.b(F.relu(self.a(F.relu(x), level, degree)), level, degree)


class _DeformStage(nn.Module):
    def __init__(self, in_dim: int, code_dim: int, hidden: int, blocks: int):
        super().__init__()
        self.inp = GraphConv(in_dim, hidden)
        self.code = nn.Linear(code_dim, hidden, bias=False)
        self.blocks = nn.ModuleList(_ResidualGraphBlock(hidden) for _ in range(blocks))
        self.out = GraphConv(hidden, 3)
        # Start as the identity deformation: an untrained stage returns its template unchanged.
        for lin in (self.out.self_weight, self.out.neighbour_weight):
            nn.init.normal_(lin.weight, std=1e-4)
        nn.init.zeros_(self.out.self_weight.bias)

    def forward(self, x, code, level, degree):
        h = self.inp(x, level, degree) + self.code(code)[level.batch]
        for block in self.blocks:
            h = block(h, level, degree)
        return self.out(F.relu(h), level, degree), h


class Pixel2MeshPrior(nn.Module):
    levels = 3

    def __init__(self, hidden: int = 128, code_dim: int = 256, blocks: int = 3):
        super().__init__()
        self.encoder = ImageEncoder(code_dim=code_dim)
        fdim = self.encoder.feature_dim
        self.stages = nn.ModuleList(
            _DeformStage(fdim + 3 + (hidden if k else 0), code_dim, hidden, blocks) for k in range(self.levels))

    def forward(self, image: torch.Tensor, templates: PackedTemplates) -> list[torch.Tensor]:
        """Packed vertex positions after each stage (fp32)."""
        maps, code = self.encoder(image)
        outputs, hidden, v = [], None, None
        for k, (stage, level) in enumerate(zip(self.stages, templates.levels)):
            if k == 0:
                v = level.vertices
            else:
                pair = templates.unpool[k - 1]
                v = 0.5 * (v[pair[:, 0]] + v[pair[:, 1]])
                hidden = 0.5 * (hidden[pair[:, 0]] + hidden[pair[:, 1]])
            feats = pool_features(maps, v, level.batch, level.counts)
            x = torch.cat([feats, v.to(feats.dtype)] + ([hidden.to(feats.dtype)] if k else []), dim=1)
            offset, hidden = stage(x, code, level, level.degree())
            v = v + offset.float()
            outputs.append(v)
        return outputs
