"""Helpers and fixtures that run the real extension inside the bpy module (conftest.py re-exports the fixtures).

bpy is process-global, so one session builds the zip with Blender's own builder, installs it into an
isolated user folder and enables it; every test then works in that session and cleans up the data it
made. BLENDER_USER_RESOURCES must be set before the first `import bpy`, hence at import time here."""
from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
ADDON_ID = "mesh_from_image"
MODULE = f"bl_ext.user_default.{ADDON_ID}"

_USER_DIR = tempfile.mkdtemp(prefix="mesh_from_image_blender_user_")
os.environ["BLENDER_USER_RESOURCES"] = _USER_DIR

# Small options keep every reconstruction to a few seconds on a 2-core CPU.
FAST = dict(template_vertices=400, refine=True, refine_steps=10)


def _bpy_dir() -> Path:
    spec = importlib.util.find_spec("bpy")
    assert spec is not None and spec.origin, "the bpy module is not installed in this environment"
    return Path(spec.origin).parent


def blender_ext_tool() -> str:
    found = glob.glob(str(_bpy_dir() / "*" / "scripts" / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"))
    assert found, "Blender's blender_ext.py was not found in the bpy module"
    return found[0]


def valid_tags_file() -> str:
    return glob.glob(str(_bpy_dir() / "*" / "scripts" / "modules" / "_bpy_internal" / "extensions" / "tags.py"))[0]


def run_blender_ext(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, blender_ext_tool(), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def built_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = run_blender_ext("build", "--source-dir", str(REPO), "--output-dir", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    zips = list(out.glob("*.zip"))
    assert len(zips) == 1, f"expected one zip, got {zips}: {proc.stdout}"
    return zips[0]


@pytest.fixture(scope="session")
def bpy_module():
    import bpy
    return bpy


@pytest.fixture(scope="session")
def addon(built_zip, bpy_module):
    """The installed, enabled extension's package module."""
    bpy = bpy_module
    import addon_utils
    result = bpy.ops.extensions.package_install_files(filepath=str(built_zip), repo="user_default",
                                                      enable_on_install=True)
    assert result == {'FINISHED'}
    assert addon_utils.check(MODULE) == (True, True)
    yield sys.modules[MODULE]
    addon_utils.disable(MODULE, default_set=True)
    shutil.rmtree(_USER_DIR, ignore_errors=True)


def data_snapshot(bpy) -> dict:
    """Names of everything a reconstruction could add, plus selection and the active object."""
    view_layer = bpy.context.view_layer
    view_layer.update()   # drop entries of objects removed since the last update
    return {
        "objects": sorted(o.name for o in bpy.data.objects),
        "meshes": sorted(m.name for m in bpy.data.meshes),
        "materials": sorted(m.name for m in bpy.data.materials),
        "images": sorted(i.name for i in bpy.data.images),
        "selected": sorted(o.name for o in view_layer.objects.selected if o is not None),
        "active": view_layer.objects.active.name if view_layer.objects.active else None,
    }


@pytest.fixture
def clean_data(bpy_module, addon):
    """Each test starts from the same data and leaves nothing behind."""
    bpy = bpy_module
    before = data_snapshot(bpy)
    yield bpy
    keep = {k: set(v) for k, v in before.items() if isinstance(v, list)}
    for name in [o.name for o in bpy.data.objects if o.name not in keep["objects"]]:
        bpy.data.objects.remove(bpy.data.objects[name])
    for collection, key in ((bpy.data.meshes, "meshes"), (bpy.data.materials, "materials"),
                            (bpy.data.images, "images")):
        for name in [d.name for d in collection if d.name not in keep[key]]:
            collection.remove(collection[name])


def deselect_all(bpy) -> None:
    for obj in bpy.context.view_layer.objects:
        obj.select_set(False)


def write_blob_png(path: Path, width: int = 160, height: int = 100, colour=(200, 60, 40)) -> Path:
    """An RGBA picture of an opaque ellipse on transparency, wider than tall."""
    from PIL import Image
    yy, xx = np.mgrid[0:height, 0:width]
    inside = ((xx - width / 2 + 0.5) / (0.4 * width)) ** 2 + ((yy - height / 2 + 0.5) / (0.4 * height)) ** 2 <= 1
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[inside] = (*colour, 255)
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def load_surface(path):
    """An exported mesh file read back as one trimesh surface with vertices merged by position: glTF splits
    vertices along UV seams and hard edges, so closure (watertightness) is judged on positions alone."""
    import trimesh
    mesh = trimesh.load(path, force="mesh", process=False)
    mesh.merge_vertices(merge_tex=True, merge_norm=True)
    return mesh
