"""What a reconstruction hands back in the engine (the options and the worker's answer are in contract.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy only for annotations: importing the package must not need it (the worker reports it missing)
    import numpy as np

from .contract import ImageFrame, ReconstructionOptions  # noqa: F401  (ReconstructionOptions: its old home)


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
    image_frame: ImageFrame | None = None         # evaluation frame -> UVs of the whole picture (uvs follow it)
