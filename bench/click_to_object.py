"""Click to object in a warm Blender: `bpy.ops.mesh_from_image.reconstruct(filepath=...)` from the call to the
finished object, with the worker already running and the model loaded (what an artist waits for after the
first picture of a session). Each run gets a copy of the picture with one pixel changed, so no run reuses the
previous answer.

    .venv/bin/python bench/click_to_object.py [IMAGE ...] [--repeats 5]

Builds the extension zip with Blender's own tool, installs it into a throwaway user folder of the bpy module,
runs one reconstruction to warm the worker, then times --repeats runs per picture with the default options
(the panel's: learned prior, 2,500 vertices, Fill Sides and Stand Upright on). Prints each run and the median."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE = "bl_ext.user_default.mesh_from_image"


def nudged_copy(path: Path, folder: Path, index: int) -> Path:
    """The picture with one corner pixel nudged (by `index`), saved in `folder`: a new picture to the operator,
    whose last answer would otherwise be reused (redoing with the same picture and options only rebuilds)."""
    from PIL import Image
    im = Image.open(path)
    im = im.convert("RGBA") if im.mode not in ("RGB", "RGBA") else im.copy()
    pixel = list(im.getpixel((0, 0)))
    pixel[0] = (pixel[0] + index) % 256
    im.putpixel((0, 0), tuple(pixel))
    out = folder / f"{index:03d}_{path.stem}.png"
    im.save(out)
    return out


def build_zip(folder: Path) -> Path:
    import glob
    import importlib.util
    bpy_dir = Path(importlib.util.find_spec("bpy").origin).parent
    tool = glob.glob(str(bpy_dir / "*" / "scripts" / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"))[0]
    subprocess.run([sys.executable, tool, "build", "--source-dir", str(ROOT), "--output-dir", str(folder)],
                   check=True, capture_output=True)
    return next(folder.glob("*.zip"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="*", type=Path, default=[ROOT / "examples" / "mug.png"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="mesh_from_image_bench_"))   # removed at the end
    os.environ["BLENDER_USER_RESOURCES"] = str(scratch / "user")
    (scratch / "zip").mkdir()
    package = build_zip(scratch / "zip")
    import bpy
    assert bpy.ops.extensions.package_install_files(filepath=str(package), repo="user_default",
                                                    enable_on_install=True) == {'FINISHED'}
    from importlib import import_module
    settings = import_module(MODULE + ".scene.settings")
    start = time.perf_counter()
    settings.worker_client().start()
    print(f"worker start: {time.perf_counter() - start:.2f} s")

    copies = scratch / "pictures"
    copies.mkdir()
    made = [0]

    def fresh(path: Path) -> Path:
        made[0] += 1
        return nudged_copy(path, copies, made[0])

    def click(path: Path) -> float:
        path = fresh(path)
        t = time.perf_counter()
        result = bpy.ops.mesh_from_image.reconstruct(filepath=str(path))
        seconds = time.perf_counter() - t
        if result != {'FINISHED'}:
            raise SystemExit(f"the operator answered {result} for {path}")
        for obj in list(bpy.data.objects):
            bpy.data.objects.remove(obj)
        return seconds

    print(f"first reconstruction (model load): {click(args.images[0]):.2f} s")
    for path in args.images:
        times = [click(path) for _ in range(args.repeats)]
        print(f"{path.name}: " + ", ".join(f"{t:.2f}" for t in times) + f" s; median {statistics.median(times):.2f} s")
    settings.worker_client().stop()
    import shutil
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
