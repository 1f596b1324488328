"""The corpus of bad and odd pictures (tests/engine/corpus.py) through `blender -c mesh_from_image`, one batch:
no traceback, no partial file, every good picture written, every bad one failed on its own with a message."""
import json
import sys
from pathlib import Path

from blender_session import MODULE, load_surface

from corpus import make_corpus

def listing(folder):
    """The folder's files, less the resume records written beside each mesh (inference/batch.py)."""
    return [f for f in folder.iterdir() if not f.name.endswith(".mesh_from_image.json")]



def test_the_corpus_through_the_headless_command(addon, clean_data, tmp_path, capfd):
    inputs, good, blender_only = make_corpus(tmp_path / "in")
    assert len(inputs) >= 30 and blender_only, "the corpus needs Blender's EXR"
    out, report = tmp_path / "out", tmp_path / "report.json"
    code = sys.modules[MODULE].cli.main([*map(str, inputs), "--output-dir", str(out), "--format", "glb",
                                         "--vertices", "400", "--refine-steps", "10", "--report", str(report)])
    captured = capfd.readouterr()
    assert code == 1
    assert "Traceback" not in captured.out + captured.err, captured.err
    data = json.loads(report.read_text())
    assert data["complete"] is True and len(data["inputs"]) == len(inputs)
    written = set()
    for entry in data["inputs"]:
        name = str(Path(entry["input"]).relative_to(tmp_path / "in"))
        if name in good | blender_only:
            assert entry["status"] == "done", entry
            assert len(load_surface(entry["output"]).faces) > 100
            written.add(Path(entry["output"]).name)
        else:
            assert entry["status"] == "failed" and entry["error"], entry
            assert f"error: {entry['input']}: " in captured.err
    assert len(written) == len(good | blender_only), "two pictures were written under one name"
    assert sorted(f.name for f in listing(out)) == sorted(written), "a partial, hidden or stray file"
