"""The message fits the fault (issue 16, item 6): each of these used to say something else (in brackets)."""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from inference.errors import InputError
from inference.image_io import load_image, read_mask

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "inference" / "networks" / "weights"


def test_a_symlink_loop_says_loop(tmp_path):   # ("No file")
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match="leads back to itself"):
        load_image(loop)
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "gone.png")
    with pytest.raises(InputError, match="gone.png', which does not exist"):
        load_image(dangling)


def test_a_one_pixel_strip_says_too_small(tmp_path):   # ("No object could be found")
    Image.new("RGBA", (500, 1), (255, 0, 0, 255)).save(tmp_path / "row.png")
    with pytest.raises(InputError, match="500x1 pixels: too small"):
        load_image(tmp_path / "row.png")


def test_an_empty_user_mask_says_the_mask_is_empty(tmp_path):   # ("No object could be found in the image")
    Image.new("L", (64, 48), 0).save(tmp_path / "mask.png")
    with pytest.raises(InputError, match="The mask 'mask.png' is empty"):
        read_mask(tmp_path / "mask.png", (48, 64))


def test_exr_and_hdr_by_path_are_refused_with_why(tmp_path):   # ("not an image Pillow can read ... re-save as PNG")
    for name in ("render.exr", "sky.hdr"):
        (tmp_path / name).write_bytes(b"v/1\x01" + bytes(64))
        with pytest.raises(InputError, match="floating-point .* Use it from Blender"):
            load_image(tmp_path / name)


PERMISSION = """
import os, sys
sys.path.insert(0, sys.argv[1])
from PIL import Image
Image.init()   # every plugin imported now: after setuid the interpreter's own files may be out of reach
import numpy
from inference.image_io import load_image
from inference.errors import InputError
if os.getuid() == 0:
    os.setgid(65534); os.setuid(65534)   # root reads everything; the picture must be unreadable to us
try:
    load_image(sys.argv[2])
except InputError as exc:
    print(exc)
"""


def test_permission_denied_says_permission_denied():   # ("may be truncated or corrupt")
    folder = Path(tempfile.mkdtemp(prefix="mfi-permission-"))   # not under pytest's root-only tmp folder
    try:
        folder.chmod(0o755)
        picture = folder / "locked.png"
        Image.new("RGBA", (32, 32), (255, 0, 0, 255)).save(picture)
        picture.chmod(0)
        out = subprocess.run([sys.executable, "-c", PERMISSION, str(ROOT), str(picture)], capture_output=True,
                             text=True, timeout=60)
        assert "permission denied" in out.stdout, out.stdout + out.stderr
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _damage(folder: Path, how: str) -> None:
    manifest = folder / "manifest.json"
    if how == "truncated manifest":
        manifest.write_text(manifest.read_text()[:200])
    elif how == "entry without a file":
        data = json.loads(manifest.read_text())
        del data["models"][data["default"]]["file"]
        manifest.write_text(json.dumps(data))
    elif how == "unreadable weights":
        name = json.loads(manifest.read_text())["models"]["atlas-inflation"]["file"]
        (folder / name).unlink()
        (folder / name).mkdir()   # root reads any file; a folder in its place cannot be read as one


@pytest.mark.parametrize("how", ["truncated manifest", "entry without a file", "unreadable weights"])
def test_damaged_weights_fall_back_with_a_message(tmp_path, how, monkeypatch, capsys):
    """The engine command, in this process, with its weights folder pointed at a damaged copy of the shipped one."""
    from inference import prior
    from inference.__main__ import main
    from inference.networks import weights
    folder = tmp_path / "weights"
    shutil.copytree(WEIGHTS, folder)
    _damage(folder, how)
    monkeypatch.setattr(weights, "WEIGHTS_DIR", folder)
    monkeypatch.setattr(prior, "_CACHE", {})   # a model another test loaded must not stand in for these files
    from pictures import draw_object
    draw_object().save(tmp_path / "good.png")
    code = main([str(tmp_path / "good.png"), "--output-dir", str(tmp_path / "out"), "--vertices", "400",
                 "--steps", "10", "--report", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "could not write" not in err
    assert "Fell back to the training-free reconstruction" in err, err
    entry = json.loads((tmp_path / "r.json").read_text())["inputs"][0]
    assert entry["status"] == "done" and entry["model"] == "none" and "Fell back" in entry["warning"]


def test_a_one_pixel_wide_object_says_too_thin_not_mask_empty(tmp_path):   # ("The mask is empty")
    from PIL import ImageDraw

    from inference import ReconstructionOptions, reconstruct
    im = Image.new("RGBA", (320, 320), (0, 0, 0, 0))
    ImageDraw.Draw(im).line((10, 160, 310, 160), fill=(255, 0, 0, 255), width=1)
    im.save(tmp_path / "strip.png")
    with pytest.raises(InputError) as err:
        reconstruct(tmp_path / "strip.png", ReconstructionOptions(template_vertices=400, refine_steps=5))
    assert "mask is empty" not in str(err.value) and "thin" in str(err.value)
