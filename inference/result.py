"""What a reconstruction hands back, and the options it takes."""
from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy only for annotations: importing the package must not need it (the worker reports it missing)
    import numpy as np


@dataclass
class ReconstructionOptions:
    template_vertices: int = 2500   # approximate vertex count of the template / output mesh
    refine: bool = True             # run the silhouette fit after the template (or network)
    refine_steps: int = 150
    device: str = "auto"            # auto | cpu | cuda | mps
    model: str = "auto"             # learned prior: "auto" = the shipped default (training-free when none ships), "none", or a name
    object_index: int = 0           # which separate object of the picture, largest first (info["object_count"] says how many)
    untangle: bool = True           # smooth away self-intersections (inference.untangle)
    remesh: bool = True             # even out the triangles (inference.remesh) after the fit

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> "ReconstructionOptions":
        d = dict(d or {})
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


@dataclass
class Reconstruction:
    """A watertight triangle mesh in the evaluation frame (+x right, +y up, +z toward the viewer;
    the input's foreground bounding box maps to a box centred on x = y = 0 whose longer side is 1)."""
    vertices: np.ndarray            # (N, 3) float32, evaluation frame
    faces: np.ndarray               # (M, 3) int32, counter-clockwise seen from outside
    uvs: np.ndarray                 # (N, 2) float32, front projection into the *full* input image, v up
    image: np.ndarray               # (H, W, 4) uint8 RGBA input image, rows top-down (the texture)
    mask: np.ndarray                # (h, w) bool foreground mask on the working copy (longer side <= 1024)
    mask_grid: np.ndarray | None = None  # bool mask on the square frame grid the fit used
    name: str = "image"             # stem of the input, used to name outputs
    device: str = "cpu"             # device the tensors ran on
    timings: dict = field(default_factory=dict)   # stage -> seconds
    info: dict = field(default_factory=dict)      # free-form facts (template size, fit IoU, model...)
