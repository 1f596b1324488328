"""What each artist option costs in time, on top of making the plain object.

    .venv/bin/python bench/output_options.py [IMAGE] [--repeats 3] [--vertices 2500]

Runs the real extension (enabled from this source folder in an isolated user folder) in the bpy module.
The reconstruction runs once per picture; every row after that repeats `mesh_from_image.reconstruct`
with the worker's answer reused (as the redo panel does), so the times are the Blender side only: the
median of --repeats runs, and the extra over the plain object. Several objects need a picture with
several silhouettes: the image is put twice side by side (once at half size) for those rows, and their
reconstruction time is reported as well, since each object is one more worker request.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

_USER = tempfile.mkdtemp(prefix="mesh_from_image_bench_user_")
os.environ["BLENDER_USER_RESOURCES"] = _USER   # before bpy is imported: keep the real user folder out

import bpy  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, REPO)   # run as a script: the defaults come from inference.contract
from blender_dev import DEV_MODULE as MODULE, enable_from_source  # noqa: E402

ROWS = (
    ("plain object (projection material, smooth shading)", {}),
    ("Stand Upright", dict(upright=True)),
    ("Stand Upright, elevation 20 deg + Reference Camera", dict(upright=True, elevation_source='MANUAL',
                                                               elevation=math.radians(20), add_camera=True)),
    ("Fill Sides", dict(fill_sides=True)),
    ("Bake 512", dict(bake=True, bake_size=512)),
    ("Bake 1024", dict(bake=True, bake_size=1024)),
    ("Bake 2048", dict(bake=True, bake_size=2048)),
    ("Faces 1000 (decimate)", dict(target_faces=1000)),
    ("Faces 20000 (subdivide + decimate)", dict(target_faces=20000)),
    ("Quads 1000 (QuadriFlow)", dict(quads=True, target_faces=1000)),
    ("Quads 5000 (QuadriFlow)", dict(quads=True, target_faces=5000)),
    ("Voxel + Quads 1000", dict(quads=True, voxel_first=True, target_faces=1000)),
    ("Subdivision 2 (live modifier)", dict(subdivision=2)),
)
SEVERAL_ROWS = (
    ("two objects: largest only", dict(objects='LARGEST')),
    ("two objects: one each", dict(objects='SEPARATE')),
    ("two objects: joined", dict(objects='JOINED')),
)


def clear() -> None:
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    for collection in (bpy.data.meshes, bpy.data.materials, bpy.data.cameras):
        for block in list(collection):
            collection.remove(block)
    for image in [i for i in bpy.data.images if i.users == 0]:
        bpy.data.images.remove(image)


def timed(picture: str, base: dict, options: dict) -> tuple[float, int]:
    start = time.perf_counter()
    result = bpy.ops.mesh_from_image.reconstruct(filepath=picture, **{**base, **options})
    seconds = time.perf_counter() - start
    if result != {'FINISHED'}:
        raise SystemExit(f"failed: {options}")
    faces = sum(len(o.data.polygons) for o in bpy.context.selected_objects if o.type == 'MESH')
    clear()
    return seconds, faces


def side_by_side(path: str, folder: str) -> str:
    """The picture twice, the second copy at half size: two separate silhouettes."""
    image = Image.open(path).convert("RGBA")
    small = image.resize((image.width // 2, image.height // 2), Image.LANCZOS)
    canvas = Image.new("RGBA", (image.width + small.width + 16, image.height), (0, 0, 0, 0))
    canvas.paste(image, (0, 0))
    canvas.paste(small, (image.width + 16, image.height - small.height))
    out = os.path.join(folder, "pair.png")
    canvas.save(out)
    return out


def main(argv=None) -> int:
    from inference import contract   # the product's defaults, defined once
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", nargs="?", default=os.path.join(REPO, "examples", "mug.png"),
                        help="a picture with transparency or a plain background (default: examples/mug.png)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vertices", type=int, default=contract.default("template_vertices"))
    args = parser.parse_args(argv)
    enable_from_source(REPO)
    bpy.context.scene.cursor.location = (0, 0, 0)
    base = dict(template_vertices=args.vertices, refine=True, refine_steps=contract.default("refine_steps"), upright=False)
    picture = os.path.abspath(args.image)

    first, _ = timed(picture, base, {})
    print(f"{os.path.basename(picture)}, {args.vertices} template vertices; reconstruction + plain object: "
          f"{first:.2f} s (worker start-up included)\n")
    print(f"{'option':<55} {'median s':>9} {'extra s':>8} {'faces':>7}")
    baseline = None
    for label, options in ROWS:
        runs = [timed(picture, base, options) for _ in range(args.repeats)]
        seconds = statistics.median(r[0] for r in runs)
        baseline = seconds if baseline is None else baseline
        print(f"{label:<55} {seconds:9.3f} {seconds - baseline:8.3f} {runs[0][1]:7d}", flush=True)

    with tempfile.TemporaryDirectory() as folder:
        pair = side_by_side(picture, folder)
        for label, options in SEVERAL_ROWS:
            fresh, faces = timed(pair, dict(base, refine_steps=151), options)   # new key: really reconstructs
            runs = [timed(pair, dict(base, refine_steps=151), options)[0] for _ in range(args.repeats)]
            print(f"{label:<55} {statistics.median(runs):9.3f} {'':>8} {faces:7d}   "
                  f"(with reconstruction: {fresh:.2f} s)", flush=True)
            # Forget the answers so the next row reconstructs again and its first time is comparable.
            reconstruction = sys.modules[f"{MODULE}.scene.reconstruction"]
            reconstruction._recent_answers.clear()
            reconstruction._last_answer = None
    import addon_utils
    addon_utils.disable(MODULE, default_set=True)   # stops the worker process
    return 0


if __name__ == "__main__":
    sys.exit(main())
