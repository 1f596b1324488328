"""Render a reference sheet of the bundled toy car (tools/make_examples.py builds it): front, right and top
orthographic views, each framed on its own (its silhouette's box on 85 % of the frame), RGBA cut-outs.

    .venv/bin/python tools/make_sheet_views.py --out OUT_DIR [--size 256] [--samples 32]

Writes OUT_DIR/car_front.png, car_right.png, car_top.png (Blender's numpad 1, 3 and 7 views). README's
single picture vs reference sheet figure (docs/sheet_vs_picture.png) is made from them:

    .venv/bin/python tools/make_sheet_views.py --out /tmp/sheet
    .venv/bin/python -m inference /tmp/sheet/car_front.png -o /tmp/sheet/single.glb
    .venv/bin/python -m inference --front /tmp/sheet/car_front.png --right /tmp/sheet/car_right.png \\
        --top /tmp/sheet/car_top.png -o /tmp/sheet/sheet.glb
    .venv/bin/python tools/render_preview.py /tmp/sheet/single.glb -o /tmp/sheet/single_preview.png --size 300
    .venv/bin/python tools/render_preview.py /tmp/sheet/sheet.glb -o /tmp/sheet/sheet_preview.png --size 300
    .venv/bin/python tools/compose_readme_picture.py /tmp/sheet/car_front.png /tmp/sheet/car_right.png \\
        /tmp/sheet/car_top.png /tmp/sheet/single_preview.png /tmp/sheet/sheet_preview.png \\
        -o docs/sheet_vs_picture.png --height 200
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile

import bpy
import numpy as np
from mathutils import Vector
from PIL import Image

from make_examples import build_car, render_rgba, reset_scene

FILL = 0.85
# view -> (camera rotation in degrees, the world axes of the picture's right and up, the axis it looks along)
VIEWS = {
    "front": ((90.0, 0.0, 0.0), (0, 2), (1, +1)),    # looks along +Y
    "right": ((90.0, 0.0, 90.0), (1, 2), (0, -1)),   # looks along -X
    "top": ((0.0, 0.0, 0.0), (0, 1), (2, -1)),       # looks down -Z
}


def world_corners() -> np.ndarray:
    """Every mesh's evaluated bounding-box corners in world space (modifiers applied)."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    out = []
    for obj in bpy.context.scene.objects:
        if obj.type == 'MESH':
            evaluated = obj.evaluated_get(depsgraph)
            out += [evaluated.matrix_world @ Vector(c) for c in evaluated.bound_box]
    return np.array([tuple(c) for c in out])


def ortho_camera(view: str, corners: np.ndarray) -> None:
    """An orthographic camera for `view`, centred on the objects' box in the view's plane, the box's longer
    side on FILL of the frame (the box of the corners is a little larger than the silhouette's: close enough
    for a sheet, whose views are each framed on their own anyway)."""
    rotation, (right, up), (along, sign) = VIEWS[view]
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    centre = 0.5 * (lo + hi)
    cam = bpy.data.cameras.new(f"{view} camera")
    cam.type = 'ORTHO'
    cam.ortho_scale = float(max(hi[right] - lo[right], hi[up] - lo[up])) / FILL
    obj = bpy.data.objects.new(f"{view} camera", cam)
    location = centre.copy()
    location[along] = centre[along] - sign * 10.0
    obj.location = tuple(location)
    obj.rotation_euler = tuple(math.radians(a) for a in rotation)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.scene.camera = obj
    cam.clip_end = 100.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for the three views")
    parser.add_argument("--size", type=int, default=256, help="picture width and height in pixels")
    parser.add_argument("--samples", type=int, default=32, help="Cycles samples per pixel")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for view in VIEWS:
            reset_scene(args.size, args.samples)
            build_car()
            ortho_camera(view, world_corners())
            rgba = render_rgba(os.path.join(tmp, f"{view}.png"))
            path = os.path.join(args.out, f"car_{view}.png")
            Image.fromarray(rgba, "RGBA").save(path, optimize=True)
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
