"""tools/render_preview.py: the front view must show a mesh in the evaluation frame as the picture showed it."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO_ROOT, "tools", "render_preview.py")


def _l_shape():
    """An 'L' in the evaluation frame (+x right, +y up): a bar up the left side and a foot to the right."""
    import trimesh

    bar = trimesh.creation.box(bounds=[[-0.5, -0.5, -0.1], [-0.2, 0.5, 0.1]])
    foot = trimesh.creation.box(bounds=[[-0.2, -0.5, -0.1], [0.5, -0.2, 0.1]])
    return trimesh.util.concatenate([bar, foot])


@pytest.mark.parametrize("ext", ["glb", "obj", "ply"])
def test_front_view_shows_the_picture_upright_and_unmirrored(tmp_path, ext):
    pytest.importorskip("bpy")
    mesh_path = tmp_path / f"l_shape.{ext}"
    _l_shape().export(mesh_path)
    out = tmp_path / "preview.png"
    done = subprocess.run([sys.executable, SCRIPT, str(mesh_path), "-o", str(out), "--size", "64",
                           "--samples", "2"], capture_output=True, timeout=120, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    sheet = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert sheet.shape == (64, 128, 3)
    front = np.abs(sheet[:, :64] - np.array([204, 204, 204])).sum(axis=2) > 30     # not background
    # The bounding sphere (radius 0.71) fills the view with a margin: the L spans about pixels 11..53.
    top_left, top_right = front[13:22, 13:22].mean(), front[13:22, 36:50].mean()
    bottom_right = front[42:51, 30:50].mean()
    assert top_left > 0.5 and bottom_right > 0.5, "the bar (left) and the foot (bottom right) are visible"
    assert top_right < 0.1, "nothing at the top right: the picture is neither flipped nor mirrored"
    three_quarter = np.abs(sheet[:, 64:] - np.array([204, 204, 204])).sum(axis=2) > 30
    assert 0.05 < three_quarter.mean() < 0.8, "the 3/4 view shows the object too"
