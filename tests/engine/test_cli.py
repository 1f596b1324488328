import json
import subprocess
import sys
from pathlib import Path

import trimesh

from pictures import draw_object

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, "-m", "inference", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})


def test_batch_continues_past_bad_inputs(tmp_path):
    draw_object().save(tmp_path / "good.png")
    draw_object(background=(255, 255, 255)).convert("RGB").save(tmp_path / "white.jpg")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG broken")
    out = tmp_path / "out"
    p = run(tmp_path / "good.png", tmp_path / "corrupt.png", tmp_path / "missing.png", tmp_path / "white.jpg",
            "--output-dir", out, "--format", "obj", "--vertices", "600", "--steps", "40", "--report", tmp_path / "r.json")
    assert p.returncode == 1
    assert "corrupt.png" in p.stderr and "missing.png" in p.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert [e["status"] for e in report["inputs"]] == ["done", "failed", "failed", "done"]
    assert report["failed"] == 2
    assert report["inputs"][0]["self_intersections"]["crossing_faces_after"] == 0
    assert report["inputs"][0]["remeshed"] is True and report["options"]["remesh"] is True
    for stem in ("good", "white"):
        mesh = trimesh.load(out / f"{stem}.obj", force="mesh", process=False)
        assert mesh.is_watertight and len(mesh.vertices) > 300
        assert (out / f"{stem}.mtl").exists()
    assert not (out / "corrupt.obj").exists()
    assert not list(out.glob("*.part"))
    # Only the resume records (one per mesh written) may be hidden files in the output folder.
    assert sorted(f.name for f in out.glob(".*")) == [".good.obj.mesh_from_image.json", ".white.obj.mesh_from_image.json"]


def test_single_output_picks_format_from_suffix(tmp_path):
    draw_object().save(tmp_path / "thing.png")
    for suffix in ("glb", "ply"):
        target = tmp_path / f"thing.{suffix}"
        p = run(tmp_path / "thing.png", "-o", target, "--vertices", "500", "--no-refine")
        assert p.returncode == 0, p.stderr
        mesh = trimesh.load(target, force="mesh", process=False)
        assert mesh.is_watertight
        # The evaluation frame: the silhouette box's longer side is 1.
        assert abs(max(mesh.extents[:2]) - 1.0) < 0.08


def test_usage_errors():
    assert run("a.png").returncode == 2                       # no output given
    assert run("a.png", "b.png", "-o", "x.obj").returncode == 2
    assert run("a.png", "-o", "x.fbx").returncode == 2


def test_no_remesh_keeps_the_template_triangles(tmp_path):
    draw_object().save(tmp_path / "good.png")
    p = run(tmp_path / "good.png", "-o", tmp_path / "kept.ply", "--vertices", "600", "--steps", "20", "--no-remesh",
            "--model", "none", "--report", tmp_path / "r.json")
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["options"]["remesh"] is False and report["inputs"][0]["remeshed"] is False
    assert "remesh" not in report["inputs"][0]["timings"]
