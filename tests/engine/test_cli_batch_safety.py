"""`python -m inference` batches: a failure stays with its picture, and nothing corrupt is ever written (issue 16).

Every test runs the real command in a subprocess; faults come from outside (a signal, a file-size limit standing
in for a full disk) or, for "a bug in the engine", from one wrapped function that raises for one picture."""
import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import trimesh
from PIL import Image, ImageDraw

from pictures import draw_object

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
FAST = ("--vertices", "400", "--steps", "10")
RECORD = ".mesh_from_image.json"   # the resume record beside each written mesh

# The engine with one bug planted: any picture whose name contains "boom" raises what a bug would raise.
BUGGY_ENGINE = """
import sys
import inference.pipeline as pipeline
real = pipeline.reconstruct
def reconstruct(source, *args, **kwargs):
    if "boom" in str(source):
        raise RuntimeError("planted bug")
    return real(source, *args, **kwargs)
pipeline.reconstruct = reconstruct
from inference.__main__ import main
sys.exit(main(sys.argv[1:]))
"""

def listing(folder):
    """The folder's files, less the resume records written beside each mesh (inference/batch.py)."""
    return [f for f in folder.iterdir() if not f.name.endswith(".mesh_from_image.json")]



def run(*args, preexec_fn=None, script=None):
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "inference"]
    return subprocess.run(command + [str(a) for a in args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=ENV, preexec_fn=preexec_fn)


def pencil(path):
    """The thin object of issue 16: 12 px wide in a 1000-px picture (marching cubes used to raise on it)."""
    im = Image.new("RGBA", (1000, 1000), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((494, 100, 506, 900), fill=(230, 200, 40, 255))
    im.save(path)
    return path


def test_an_unexpected_error_fails_only_its_picture(tmp_path):
    draw_object().save(tmp_path / "boom.png")
    draw_object().save(tmp_path / "good.png")
    pencil(tmp_path / "pencil.png")
    out, report = tmp_path / "out", tmp_path / "report.json"
    p = run(tmp_path / "boom.png", tmp_path / "pencil.png", tmp_path / "good.png", "--output-dir", out, *FAST,
            "--report", report, script=BUGGY_ENGINE)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    assert "boom.png: internal error while reconstructing (RuntimeError: planted bug)" in p.stderr
    entries = json.loads(report.read_text())["inputs"]
    assert [e["status"] for e in entries] == ["failed", "done", "done"]
    assert sorted(f.name for f in out.iterdir() if not f.name.endswith(RECORD)) == ["good.glb", "pencil.glb"]


def test_ctrl_c_stops_after_the_current_picture_with_a_truthful_report(tmp_path):
    pictures = []
    for i in range(4):
        pictures.append(tmp_path / f"p{i}.png")
        draw_object(offset=(i * 3, 0)).save(pictures[-1])
    out, report = tmp_path / "out", tmp_path / "report.json"
    proc = subprocess.Popen([sys.executable, "-m", "inference", *map(str, pictures), "--output-dir", str(out),
                             *FAST, "--report", str(report)], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # The report is rewritten after every picture: the first one's result is on disk before the batch ends.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if json.loads(report.read_text())["inputs"][0]["status"] == "done":
                    break
            except (OSError, ValueError, KeyError):
                pass
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        else:
            raise AssertionError("the report did not show the first picture while the batch ran")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert [line for line in stderr.splitlines() if line.startswith("interrupted: ") and "not run" in line]
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["complete"] is False
    statuses = [e["status"] for e in data["inputs"]]
    assert statuses[0] == "done" and statuses[-1] == "not run" and set(statuses) <= {"done", "not run"}, statuses
    for entry in data["inputs"]:   # truthful: "ok" has its file, "not run" has none
        assert Path(entry["output"]).exists() == (entry["status"] == "done")
    assert not [f for f in out.iterdir() if f.name.startswith(".") and not f.name.endswith(".mesh_from_image.json")]


def test_an_unusable_output_folder_or_report_is_refused_before_any_work(tmp_path):
    draw_object().save(tmp_path / "good.png")
    (tmp_path / "a_file").write_text("not a folder")
    for args, said in (((tmp_path / "good.png", "--output-dir", tmp_path / "a_file"), "is not a folder"),
                       ((tmp_path / "good.png", "--output-dir", tmp_path / "out", "--report", tmp_path),
                        "is a folder; name a .json file"),
                       ((tmp_path / "good.png", "--output-dir", tmp_path / "out", "--report",
                         tmp_path / "a_file" / "r.json"), "a_file' is not a folder")):
        started = time.monotonic()
        p = run(*args, *FAST)
        assert p.returncode == 2 and said in p.stderr, p.stderr
        assert "Traceback" not in p.stderr and " -> " not in p.stdout
        assert time.monotonic() - started < 30   # refused before torch and the reconstruction
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def _file_size_limit(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_fails_the_picture_names_the_disk_and_keeps_the_older_file(tmp_path):
    import numpy as np
    rng = np.random.default_rng(0)
    noisy = np.asarray(draw_object(size=(400, 300))).copy()
    noisy[..., :3] = rng.integers(0, 255, noisy[..., :3].shape)   # a texture that does not compress away
    Image.fromarray(noisy).save(tmp_path / "good.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "good.glb").write_bytes(b"the older good file")
    p = run(tmp_path / "good.png", "--output-dir", out, *FAST, "--overwrite", preexec_fn=_file_size_limit(16 * 1024))
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "disk is full" in p.stderr and "good.glb" in p.stderr, p.stderr
    assert (out / "good.glb").read_bytes() == b"the older good file"
    assert sorted(f.name for f in listing(out)) == ["good.glb"]


def test_output_names_never_collide_and_each_obj_has_its_own_texture(tmp_path):
    for folder, colour in (("x", (200, 40, 40)), ("y", (40, 200, 40)), ("", (40, 40, 200))):
        (tmp_path / folder).mkdir(exist_ok=True)
        draw_object(background=None).save(tmp_path / folder / ("good1_2.png" if not folder else "good1.png"))
    out = tmp_path / "out"
    p = run(tmp_path / "x" / "good1.png", tmp_path / "y" / "good1.png", tmp_path / "good1_2.png",
            "--output-dir", out, "--format", "obj", *FAST, "--model", "none")
    assert p.returncode == 0, p.stderr
    objs = sorted(f.name for f in out.glob("*.obj"))
    assert objs == ["good1.obj", "good1_2.obj", "good1_3.obj"]
    textures = set()
    for obj in objs:
        stem = obj[:-4]
        mtl = (out / f"{stem}.mtl").read_text()
        maps = [line.split()[-1] for line in mtl.splitlines() if line.startswith("map_Kd")]
        assert len(maps) == 1 and maps[0].startswith(stem + "_"), mtl
        textures.add(maps[0])
        assert len(trimesh.load(out / obj, force="mesh", process=False).faces) > 100
    assert len(textures) == 3 and all((out / t).exists() for t in textures)
