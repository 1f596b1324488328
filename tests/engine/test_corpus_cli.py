"""The corpus of bad and odd pictures (tests/engine/corpus.py) through `python -m inference`, one batch: no
traceback, no partial file, every good picture written, every bad one failed on its own with a message."""
import json
import subprocess
import sys
from pathlib import Path

import trimesh

from corpus import make_corpus

ROOT = Path(__file__).resolve().parents[2]

def listing(folder):
    """The folder's files, less the resume records written beside each mesh (inference/batch.py)."""
    return [f for f in folder.iterdir() if not f.name.endswith(".mesh_from_image.json")]



def test_the_corpus_through_the_engine_command(tmp_path):
    inputs, good, _blender_only = make_corpus(tmp_path / "in")
    assert len(inputs) >= 30
    out, report = tmp_path / "out", tmp_path / "report.json"
    p = subprocess.run([sys.executable, "-m", "inference", *map(str, inputs), "--output-dir", str(out),
                        "--format", "obj", "--vertices", "400", "--steps", "10", "--report", str(report)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert p.returncode == 1
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    entries = json.loads(report.read_text())["inputs"]
    assert len(entries) == len(inputs)
    written = set()
    for entry in entries:
        name = str(Path(entry["input"]).relative_to(tmp_path / "in"))
        if name in good:
            assert entry["status"] == "done", entry
            mesh = trimesh.load(entry["output"], force="mesh", process=False)
            assert len(mesh.faces) > 100
            written.add(Path(entry["output"]).stem)
        else:
            assert entry["status"] == "failed" and entry["error"], entry
            assert f"error: {entry['input']}: " in p.stderr
    assert len(written) == len(good), "two pictures were written under one name"
    # Nothing partial, hidden or foreign: each file is a written mesh or one of its companions.
    companions = {f"{s}{suffix}" for s in written for suffix in (".obj", ".mtl", "_material.png")}
    assert sorted(f.name for f in listing(out)) == sorted(companions)
