"""A reference sheet's texture (inference.sheet_texture): views painted one colour each, so what a face shows
says which view it came from."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.errors import Cancelled
from inference.sheet_texture import sample, texture_sheet, view_weights, ViewProjection
from inference.sheets import prepare_views, reconstruct_views

from sheet_pictures import box, cylinder, sheet

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = {"template_vertices": 1200}
COLOURS = {"front": (255, 0, 0), "right": (0, 255, 0), "top": (0, 0, 255), "back": (255, 255, 0),
           "left": (0, 255, 255), "bottom": (255, 0, 255)}


def painted(solid, names, **kwargs):
    pictures = sheet(solid, names, **kwargs)
    for name, rgba in pictures.items():
        rgba[rgba[..., 3] > 0, :3] = COLOURS[name]
    return pictures


def face_normals(v, f):
    n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def centre_colours(texture):
    """What the atlas shows at each face's centre (the mean of its corners' UVs: the maps are affine)."""
    atlas = texture.atlas.astype(np.float64)
    h, w = atlas.shape[:2]
    uv = texture.uvs.mean(axis=1)
    return sample(atlas, np.stack([uv[:, 0] * w, (1 - uv[:, 1]) * h], axis=1))[:, :3]


@pytest.fixture(scope="module")
def painted_box():
    return reconstruct_views(painted(box(0.6, 0.8, 0.4), ["front", "right", "top"]), OPTIONS)


def test_each_face_shows_the_view_that_faces_it_or_sees_its_other_side(painted_box):
    r = painted_box
    v = r.vertices.astype(np.float64)
    n = face_normals(v, r.faces)
    centre = v[r.faces].mean(axis=1)
    half = np.abs(v).max(axis=0)
    colours = centre_colours(r.texture)
    # Faces squarely toward a view show its colour; the unseen back, left and bottom show the view that sees
    # them through the object (front, right, top), as one picture's back shows the front. (By the edges a
    # corner's normal leans toward the next side, which a view faces: there the colours blend. The view choice
    # reads normals averaged over NORMAL_SMOOTHING rings, ~0.12 at 1,200 vertices, and the box's edges are
    # sharp: the inner 40 % of each side is clear of that band.)
    for axis, sign, view in ((2, 1, "front"), (0, 1, "right"), (1, 1, "top"),
                             (2, -1, "front"), (0, -1, "right"), (1, -1, "top")):
        others = [a for a in range(3) if a != axis]
        inner = (np.abs(centre[:, others]) < 0.4 * half[others]).all(axis=1)
        facing = (sign * n[:, axis] > 0.95) & inner
        assert facing.sum() > 20, (axis, sign)
        assert np.abs(colours[facing] - COLOURS[view]).max(axis=1).max() < 16, (axis, sign, view)
    # Most of each side maps straight into its view's tile (the pictures' own pixels), not into a chart.
    assert (r.texture.face_view[np.abs(n).max(axis=1) > 0.95] >= 0).mean() > 0.8


def test_uvs_lie_inside_their_tile_and_charts_below_the_tiles(painted_box):
    t = painted_box.texture
    h, w = t.atlas.shape[:2]
    px = np.stack([t.uvs[..., 0] * w, (1 - t.uvs[..., 1]) * h], axis=-1)      # (M, 3, 2) atlas pixels
    bottom = max(tile.place[3] for tile in t.tiles.values())
    for k, name in enumerate(t.views):
        x0, y0, x1, y1 = t.tiles[name].place
        mine = px[t.face_view == k].reshape(-1, 2)
        assert len(mine) > 0
        assert (mine[:, 0] >= x0).all() and (mine[:, 0] <= x1).all()
        assert (mine[:, 1] >= y0).all() and (mine[:, 1] <= y1).all()
    charts = px[t.face_view < 0].reshape(-1, 2)
    assert len(charts) > 0 and (charts[:, 1] >= bottom).all() and (charts[:, 1] <= h).all()
    assert t.atlas.dtype == np.uint8 and t.atlas.shape[2] == 4 and (t.atlas[..., 3] == 255).all()
    # The vertex colours are the same blend: a front vertex is red.
    v = painted_box.vertices.astype(np.float64)
    front = (v[:, 2] > 0.2) & (np.abs(v[:, 0]) < 0.2) & (np.abs(v[:, 1]) < 0.3)
    assert front.sum() > 20
    assert np.abs(painted_box.vertex_colors[front, :3].astype(int) - COLOURS["front"]).max() < 8


def test_two_views_blend_where_they_meet():
    r = reconstruct_views(painted(cylinder(), ["front", "right"]), OPTIONS)
    v = r.vertices.astype(np.float64)
    n = face_normals(v, r.faces)
    body = (np.abs(n[:, 1]) < 0.1) & (np.abs(v[r.faces].mean(axis=1)[:, 1]) < 0.3)
    angle = np.degrees(np.arctan2(n[:, 0], n[:, 2]))            # 0 toward the front, 90 toward the right
    colours = centre_colours(r.texture)
    red_share = colours[:, 0] / np.maximum(colours[:, 0] + colours[:, 1], 1)
    assert (red_share[body & (angle > 5) & (angle < 30)] > 0.97).all()
    assert (red_share[body & (angle > 60) & (angle < 85)] < 0.03).all()
    middle = body & (np.abs(angle - 45) < 2)
    assert middle.sum() >= 3 and ((red_share[middle] > 0.25) & (red_share[middle] < 0.75)).all()
    # A blend, not a step: along the quarter turn the share never jumps.
    order = np.argsort(angle[body & (angle > 0) & (angle < 90)])
    assert np.abs(np.diff(red_share[body & (angle > 0) & (angle < 90)][order])).max() < 0.25


def test_a_face_hidden_in_its_view_takes_no_colour_from_what_covers_it():
    # Two pillars under a bridge: in the right view the right pillar hides the left pillar's inner side.
    def arch(x, y, z):
        pillars = (np.abs(np.abs(x) - 0.3) <= 0.1) & (np.abs(y) <= 0.4) & (np.abs(z) <= 0.15)
        bridge = (np.abs(x) <= 0.4) & (y >= 0.25) & (y <= 0.4) & (np.abs(z) <= 0.15)
        return pillars | bridge
    r = reconstruct_views(painted(arch, ["front", "right", "top"]), OPTIONS)
    v = r.vertices.astype(np.float64)
    n = face_normals(v, r.faces)
    centre = v[r.faces].mean(axis=1)
    colours = centre_colours(r.texture)
    outer = (n[:, 0] > 0.95) & (centre[:, 0] > 0.3) & (centre[:, 1] < 0.1)
    inner = (n[:, 0] > 0.95) & (centre[:, 0] < -0.1) & (centre[:, 0] > -0.3) & (centre[:, 1] < 0.1)
    assert outer.sum() > 5 and inner.sum() > 5
    assert np.abs(colours[outer] - COLOURS["right"]).max(axis=1).mean() < 8
    # Hidden from the right view and edge-on to the others: grown in from its red (front) and green
    # neighbours, never the right pillar's solid green.
    assert (colours[inner, 1] < 200).mean() > 0.9
    # Without the occlusion test it would take exactly that green.
    sheet_views = prepare_views(painted(arch, ["front", "right", "top"]))[1]
    projections = [ViewProjection(s.name, s.box, s.scale) for s in sheet_views.values()]
    inner_vertices = np.unique(r.faces[inner])
    with_test = view_weights(v, r.faces, projections)[inner_vertices]
    without = view_weights(v, r.faces, projections, occlusion=False)[inner_vertices]
    right = list(sheet_views).index("right")
    assert without[:, right].mean() > 0.9 and with_test[:, right].mean() < 0.1


def test_the_atlas_keeps_within_its_bound_and_its_colours():
    pictures = painted(box(0.6, 0.8, 0.4), ["front", "right", "back", "top"], sizes=dict.fromkeys(
        ["front", "right", "back", "top"], 600))
    images, views, *_ = prepare_views(pictures)
    r = reconstruct_views(pictures, OPTIONS)
    projections = [ViewProjection(s.name, s.box, s.scale) for s in r.views.values()]
    v = r.vertices.astype(np.float64)
    small = texture_sheet(v, r.faces, projections, {n: images[n][1] for n in views},
                          {n: s.mask for n, s in views.items()}, max_size=300)
    assert max(small.atlas.shape[:2]) <= 300 and small.info["tile_scale"] < 0.6
    h, w = small.atlas.shape[:2]
    for k, name in enumerate(small.views):
        x0, y0, x1, y1 = small.tiles[name].place
        px = np.stack([small.uvs[..., 0] * w, (1 - small.uvs[..., 1]) * h], axis=-1)[small.face_view == k]
        assert (px[..., 0] >= x0).all() and (px[..., 0] <= x1).all() and (px[..., 1] >= y0).all() and \
            (px[..., 1] <= y1).all()
    n = face_normals(v, r.faces)
    colours = centre_colours(small)
    assert np.abs(colours[n[:, 2] < -0.95] - COLOURS["back"]).max(axis=1).mean() < 12
    assert np.abs(colours[n[:, 0] > 0.95] - COLOURS["right"]).max(axis=1).mean() < 12


def test_progress_rises_through_the_stages_and_a_cancel_stops_the_job():
    calls = []
    pictures = sheet(cylinder(), ["front", "right", "top"])
    reconstruct_views(pictures, OPTIONS, progress=lambda stage, fraction: calls.append((stage, fraction)))
    stages = [s for s, _ in calls]
    assert stages[0] == "load" and stages[-1] == "finish"
    assert {"load", "shape", "cleanup", "texture", "finish"} <= set(stages)
    fractions = [f for _, f in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and np.all(np.diff(fractions) >= 0)
    assert len(calls) > 15

    def cancel_at_texture(stage, fraction):
        if stage == "texture":
            raise Cancelled("stop")
    with pytest.raises(Cancelled):
        reconstruct_views(pictures, OPTIONS, progress=cancel_at_texture)


def test_the_texture_module_needs_only_numpy():
    """Blender's Python has numpy and nothing else of the engine's: the module must run with only that."""
    code = """
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('scipy', 'skimage', 'torch', 'PIL', 'trimesh'):
            raise ImportError('not in Blender: ' + name)
sys.meta_path.insert(0, Refuse())
import numpy as np
from inference.sheet_texture import ViewProjection, texture_sheet
v = np.array([[0, 0, .5], [.5, 0, 0], [0, .5, 0], [-.5, 0, 0], [0, -.5, 0], [0, 0, -.5]], float)
f = np.array([[0, 1, 2], [0, 2, 3], [0, 3, 4], [0, 4, 1], [5, 2, 1], [5, 3, 2], [5, 4, 3], [5, 1, 4]])
pictures = {n: np.ones((40, 40, 4), np.float32) for n in ('front', 'right')}
masks = {n: np.pad(np.ones((20, 20), bool), 10) for n in ('front', 'right')}
t = texture_sheet(v, f, [ViewProjection(n, (10, 10, 30, 30), (0.05, 0.05)) for n in masks], pictures, masks)
assert t.atlas.shape[2] == 4 and t.uvs.shape == (8, 3, 2)
print('ok', sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'skimage', 'torch', 'PIL')))
"""
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "ok []"
