"""Learned shape priors: one interface, two architectures.

Both take the 4-channel network image (RGB + mask on the 128 x 128 frame grid) and a packed batch of
templates built from each silhouette, and return vertex positions in the evaluation frame for each
stage (the faces are the template's, so every output is closed). No bpy and no `training` imports here:
this package ships inside the extension."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

ARCHITECTURES = ("p2m", "atlas")
NETWORK_GRID = 128


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "atlas"            # p2m | atlas
    template: str = "inflation"    # inflation | sphere
    final_vertices: int = 2500     # about this many vertices in the finest template
    hidden: int = 0                # 0 = the architecture's default width
    code_dim: int = 256
    local_features: bool = True    # AtlasNet-style only: pool image features at each point
    smoothing: int = 0             # AtlasNet-style only: offset diffusion steps at final_vertices density

    @property
    def name(self) -> str:
        return f"{self.arch}-{self.template}"

    @property
    def levels(self) -> int:
        return 3 if self.arch == "p2m" else 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def build_model(config: ModelConfig):
    if config.arch == "p2m":
        from .pixel2mesh import Pixel2MeshPrior
        return Pixel2MeshPrior(hidden=config.hidden or 128, code_dim=config.code_dim)
    if config.arch == "atlas":
        from .atlasnet import AtlasNetPrior
        return AtlasNetPrior(hidden=config.hidden or 256, code_dim=config.code_dim,
                             local_features=config.local_features, smoothing=config.smoothing,
                             reference_vertices=config.final_vertices)
    raise ValueError(f"unknown architecture '{config.arch}' (choose from {ARCHITECTURES})")


def network_image(rgb_grid: np.ndarray, mask_grid: np.ndarray) -> np.ndarray:
    """(4, R, R) float32 input: RGB with the background zeroed (so the net never learns the backdrop) + mask."""
    mask = np.asarray(mask_grid, np.float32)
    rgb = np.clip(np.asarray(rgb_grid, np.float32), 0.0, 1.0) * mask[:, :, None]
    return np.concatenate([rgb.transpose(2, 0, 1), mask[None]], axis=0)


def build_templates(config: ModelConfig, mask_grid: np.ndarray, final_vertices: int | None = None):
    """The template stack the model expects for this silhouette (training density unless told otherwise)."""
    from .templates import build_template
    return build_template(mask_grid, config.template, config.levels, final_vertices or config.final_vertices)


def build_template_for_inference(config: ModelConfig, mask_grid: np.ndarray, target_vertices: int):
    """Point-wise (AtlasNet-style) models take any density, so they get the artist's; Pixel2Mesh-style models
    learned on a fixed hierarchy and keep the density they were trained at."""
    return build_templates(config, mask_grid, target_vertices if config.arch == "atlas" else None)
