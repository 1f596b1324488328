"""`python -m inference --front F --right R [--top T] -o OUT`: a reference sheet into one mesh file, textured
(GLB, OBJ) or with per-vertex colours (PLY)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from sheet_pictures import cylinder, sheet

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, "-m", "inference", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views")
    paths = {}
    for name, rgba in sheet(cylinder(), ["front", "right", "top"]).items():
        paths[name] = folder / f"{name}.png"
        Image.fromarray(rgba, "RGBA").save(paths[name])
    return paths


@pytest.mark.parametrize("fmt", ["glb", "ply", "obj"])
def test_sheet_writes_a_closed_coloured_cylinder(views, tmp_path, fmt):
    out = tmp_path / f"cyl.{fmt}"
    p = run("--front", views["front"], "--right", views["right"], "--top", views["top"], "-o", out,
            "--vertices", "800", "--report", tmp_path / "r.json")
    assert p.returncode == 0, p.stderr
    assert "silhouette IoU" in p.stdout
    mesh = trimesh.load(out, force="mesh", process=False)
    if fmt == "ply":
        colours = np.asarray(mesh.visual.vertex_colors)[:, :3].astype(int)
    else:
        # The texture, read where each vertex's UV points: vertices split only along UV seams.
        assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
        image = mesh.visual.material.baseColorTexture if fmt == "glb" else mesh.visual.material.image
        assert image is not None and max(image.size) <= 4096
        colours = np.asarray(mesh.visual.to_color().vertex_colors)[:, :3].astype(int)
        if fmt == "obj":
            assert sorted(f.name for f in tmp_path.iterdir()) == ["cyl.mtl", "cyl.obj", "cyl_material.png", "r.json"]
    mesh.merge_vertices(merge_tex=True, merge_norm=True)
    assert mesh.is_watertight and len(mesh.faces) > 500
    # The front silhouette's longer side (the height) is 1; the cylinder is as deep as it is wide.
    ext = mesh.extents
    assert ext[1] == pytest.approx(1.0, abs=0.03) and ext[0] == pytest.approx(ext[2], abs=0.03)
    assert abs(mesh.volume / np.prod(ext) - np.pi / 4) < 0.05      # round, not the box of a voxel hull
    assert np.abs(colours - (200, 120, 60)).max(axis=1).mean() < 10
    report = json.loads((tmp_path / "r.json").read_text())["sheet"]
    assert report["status"] == "ok" and min(report["silhouette_iou"].values()) > 0.95
    assert not list(tmp_path.glob(".*"))


@pytest.mark.parametrize("flags, said", [
    (["--front", "F"], "at least two views"),
    (["--left", "F", "--top", "F"], "front or a back view"),
])
def test_too_few_views_or_no_front_or_back_are_refused(views, tmp_path, flags, said):
    flags = [str(views["front"]) if f == "F" else f for f in flags]
    p = run(*flags, "-o", tmp_path / "x.glb")
    assert p.returncode == 1 and said in p.stderr
    assert not (tmp_path / "x.glb").exists()


def test_a_view_of_nothing_is_named(views, tmp_path):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.zeros((64, 64, 4), np.uint8), "RGBA").save(blank)
    p = run("--front", views["front"], "--right", blank, "-o", tmp_path / "x.glb")
    assert p.returncode == 1 and "right view" in p.stderr


def test_bad_suffix_is_a_usage_error(views, tmp_path):
    p = run("--front", views["front"], "--right", views["right"], "-o", tmp_path / "x.fbx")
    assert p.returncode == 2 and "suffix" in p.stderr
