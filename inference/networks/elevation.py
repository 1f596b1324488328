"""Camera elevation from the picture: a small head on a shape model's global image code.

The evaluation frame is the camera's, so a mesh reconstructed from a picture taken from above leans back
by the camera's elevation. Blender's *Stand Upright* undoes that rotation when it knows the angle; this head
estimates it (radians, positive = camera above the horizon, trained on -10 to 50 degrees) from the same code
the shape network computes, so it costs one extra matrix product. It is trained afterwards on the frozen
encoder of the shipped model (training/train_elevation.py) and ships beside it in the manifest."""
from __future__ import annotations

import torch
import torch.nn as nn


class ElevationHead(nn.Module):
    def __init__(self, code_dim: int = 256, hidden: int = 128):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(code_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.mlp(code.float())[:, 0]


def image_code(model: nn.Module, image: torch.Tensor) -> torch.Tensor:
    """The shape model's global code for a batch of network images (both architectures own `encoder`)."""
    return model.encoder(image)[1]
