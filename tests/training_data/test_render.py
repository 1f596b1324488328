"""The training renderer: view rotations, the z-buffer, and agreement between images and ground truth."""
import math

import numpy as np
import torch
import trimesh

from inference.frame import FRAME_HALF_EXTENT
from training.render import View, random_views, rasterize, render_views
from training.shapes import Shape, make_shape


def _shape_from_trimesh(mesh: trimesh.Trimesh) -> Shape:
    v = np.asarray(mesh.vertices, dtype=np.float32)
    return Shape(v, np.asarray(mesh.faces, dtype=np.int32), np.zeros(len(v), dtype=np.int16), "test", 0)


def test_view_rotations_follow_the_convention():
    np.testing.assert_allclose(View(0.0, 0.0).rotation(), np.eye(3), atol=1e-7)
    # Camera above (positive elevation): the shape's top tips towards the viewer (+z).
    up = View(0.0, math.radians(30)).rotation() @ np.array([0, 1, 0])
    assert up[2] > 0.4
    for v in random_views(20, np.random.default_rng(0)):
        r = v.rotation()
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-6)
        assert abs(np.linalg.det(r) - 1) < 1e-5
        assert -math.radians(10) - 1e-9 <= v.elevation <= math.radians(50) + 1e-9


def test_rasterizer_draws_the_nearest_front_face_of_a_box():
    size = 64
    near = trimesh.creation.box(extents=(0.6, 0.6, 0.2))
    near.apply_translation((0.1, 0, 0.3))
    far = trimesh.creation.box(extents=(1.0, 1.0, 0.2))
    mesh = trimesh.util.concatenate([near, far])
    verts = torch.tensor(np.asarray(mesh.vertices), dtype=torch.float32)[None]
    faces = torch.tensor(np.asarray(mesh.faces), dtype=torch.int64)
    face_id, bary = rasterize(verts, faces, size)
    covered = face_id[0] >= 0
    expected = (size / (2 * FRAME_HALF_EXTENT)) ** 2               # the 1 x 1 box
    assert abs(covered.sum().item() - expected) < 4 * size / (2 * FRAME_HALF_EXTENT)
    # Every visible face is a +z face (back faces are culled and the near box hides the far one).
    normals = torch.tensor(np.asarray(mesh.face_normals), dtype=torch.float32)
    assert (normals[face_id[0][covered]][:, 2] > 0.99).all()
    near_faces = face_id[0][covered] < len(near.faces)
    pix = size / (2 * FRAME_HALF_EXTENT)
    assert abs(near_faces.sum().item() - (0.6 * pix) ** 2) < 4 * 0.6 * pix
    np.testing.assert_allclose(bary[0][covered].sum(-1).numpy(), 1, atol=1e-5)


def _frame_to_pixels(points: torch.Tensor, size: int):
    cols = ((points[:, 0] + FRAME_HALF_EXTENT) / (2 * FRAME_HALF_EXTENT) * size).floor().long().clamp(0, size - 1)
    rows = ((FRAME_HALF_EXTENT - points[:, 1]) / (2 * FRAME_HALF_EXTENT) * size).floor().long().clamp(0, size - 1)
    return rows, cols


def test_rendered_masks_agree_with_the_ground_truth_in_the_evaluation_frame():
    size = 96
    rng = np.random.default_rng(5)
    for family in ("chair", "quadruped"):
        shape = make_shape(family, 21)
        views = random_views(4, rng)
        out = render_views(shape, views, size=size, rng=rng, points=2048)
        assert out["image"].shape == (4, 3, size, size) and out["image"].dtype == torch.float32
        assert out["mask"].shape == (4, 1, size, size) and out["mask_true"].dtype == torch.bool
        assert out["points"].shape == out["normals"].shape == (4, 2048, 3)
        assert 0 <= out["image"].min() and out["image"].max() <= 1
        pix = size / (2 * FRAME_HALF_EXTENT)
        for b in range(4):
            pts, mask = out["points"][b], out["mask_true"][b]
            # Ground truth bbox: longer side 1 centred at 0 in x, y; z centred on its range.
            lo, hi = pts.min(0).values, pts.max(0).values
            assert abs(max(hi[0] - lo[0], hi[1] - lo[1]) - 1) < 0.03
            assert ((lo + hi) / 2).abs().max() < 0.03
            # Points project into the (one pixel dilated) mask.
            grown = torch.nn.functional.max_pool2d(mask[None, None].float(), 3, 1, 1)[0, 0] > 0
            rows, cols = _frame_to_pixels(pts, size)
            assert grown[rows, cols].float().mean() > 0.995
            # The mask's bounding box has a longer side of 1 frame unit, centred.
            ys, xs = torch.nonzero(mask, as_tuple=True)
            w, h = (xs.max() - xs.min() + 1) / pix, (ys.max() - ys.min() + 1) / pix
            assert abs(max(w, h).item() - 1) < 2.5 / pix
            cx = (xs.max() + xs.min() + 1).item() / 2 / pix - FRAME_HALF_EXTENT
            assert abs(cx) < 1.5 / pix
            # Normals are unit and the visible ones face the viewer more often than not.
            np.testing.assert_allclose(out["normals"][b].norm(dim=1).numpy(), 1, atol=1e-4)


def test_render_is_deterministic_given_the_generator():
    shape = make_shape("mug", 11)
    views = [View(0.3, 0.2), View(2.0, -0.1)]
    a = render_views(shape, views, size=48, rng=np.random.default_rng(3), points=64)
    b = render_views(shape, views, size=48, rng=np.random.default_rng(3), points=64)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_unaugmented_mask_equals_the_true_mask():
    shape = make_shape("bottle", 11)
    out = render_views(shape, random_views(3, np.random.default_rng(0)), size=48,
                       rng=np.random.default_rng(1), points=16, augment=False)
    assert torch.equal(out["mask"][:, 0] > 0.5, out["mask_true"])
