"""What the artist asked the finished object(s) to be, beside what the engine reconstructs. Changing any
of these only rebuilds in Blender: the worker's answer is reused (see reconstruction.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .topology import TopologyOptions

OBJECT_MODES = ("LARGEST", "SEPARATE", "JOINED")


@dataclass(frozen=True)
class OutputOptions:
    objects: str = "LARGEST"        # LARGEST: the main object; SEPARATE: one object each; JOINED: one object
    fill_sides: bool = False        # grown-in colours where the camera did not see (texture.py)
    bake_size: int = 0              # > 0: bake into one size x size texture on an unwrap (bake.py)
    topology: TopologyOptions = field(default_factory=TopologyOptions)
    upright: bool = False           # stand on the ground, origin at the bottom centre (placement.py)
    elevation: float | None = None  # radians; None: the model's estimate when it gives one, else 0
    add_camera: bool = False        # orthographic camera reproducing the picture's view (camera.py)

    def __post_init__(self):
        if self.objects not in OBJECT_MODES:
            raise ValueError(f"objects must be one of {', '.join(OBJECT_MODES)}")
        if self.bake_size < 0:
            raise ValueError("bake_size must not be negative")
