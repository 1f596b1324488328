"""Image encoder shared by both architectures, and pixel-aligned feature pooling.

Input: 4 channels (RGB + mask) on the 128 x 128 network grid, which covers the frame square
[-0.55, 0.55]^2 with row 0 at +y. Because the frame is orthographic along z, a vertex (x, y, z) lands on
grid position (x, y) whatever its depth: pooling needs no camera, just a bilinear lookup."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..frame import FRAME_HALF_EXTENT

IN_CHANNELS = 4


def _norm(c: int) -> nn.GroupNorm:
    # GroupNorm, not BatchNorm: batches are small and split across DDP ranks, and inference runs one image.
    return nn.GroupNorm(8, c)


class _Stage(nn.Module):
    """Stride-2 convolution then a residual 3x3 block."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False), _norm(cout), nn.ReLU(inplace=True))
        self.conv = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), _norm(cout))

    def forward(self, x):
        x = self.down(x)
        return F.relu(x + self.conv(x))


class ImageEncoder(nn.Module):
    """Feature maps at 1/2, 1/4, 1/8, 1/16 of the input plus a global code."""

    def __init__(self, widths=(32, 64, 128, 256), code_dim: int = 256):
        super().__init__()
        chans = (IN_CHANNELS,) + tuple(widths)
        self.stages = nn.ModuleList(_Stage(chans[i], chans[i + 1]) for i in range(len(widths)))
        self.code = nn.Sequential(nn.Linear(2 * widths[-1], code_dim), nn.ReLU(inplace=True))
        # The raw input is pooled too: the exact mask value and colour at a vertex are cheap and precise.
        self.feature_dim = IN_CHANNELS + sum(widths)
        self.code_dim = code_dim

    def forward(self, image: torch.Tensor):
        maps = [image]
        x = image
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        code = self.code(torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1))
        return maps, code


def frame_to_grid(xy: torch.Tensor) -> torch.Tensor:
    """Frame (x, y) -> grid_sample coordinates (x right, y down the rows, [-1, 1] at the grid's outer edges)."""
    return torch.stack([xy[:, 0], -xy[:, 1]], dim=1) / FRAME_HALF_EXTENT


def pool_features(maps: list[torch.Tensor], xy: torch.Tensor, batch: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """Bilinear samples (V, sum C) of every map at each packed vertex's projection."""
    n_samples, n_max = len(counts), max(counts)
    starts = torch.tensor([0] + counts[:-1], device=xy.device).cumsum(0)
    position = torch.arange(len(xy), device=xy.device) - starts[batch]
    grid = xy.new_zeros(n_samples, n_max, 2)
    grid[batch, position] = frame_to_grid(xy).to(grid.dtype)
    grid = grid[:, :, None, :]
    out = []
    for m in maps:
        s = F.grid_sample(m, grid.to(m.dtype), mode="bilinear", padding_mode="border", align_corners=False)
        out.append(s[:, :, :, 0].permute(0, 2, 1)[batch, position])
    return torch.cat(out, dim=1)
