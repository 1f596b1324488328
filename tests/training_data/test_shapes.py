"""Procedural shapes: determinism, watertight outward meshes for every family, the split, user meshes."""
import numpy as np
import pytest
import trimesh

from training.shapes import (FAMILIES, HELDOUT_FAMILIES, TRAIN_FAMILIES, Shape, load_mesh_folder, make_shape,
                             sample_surface, split)


def test_same_family_and_seed_give_the_same_mesh_and_different_seeds_differ():
    a, b, c = make_shape("chair", 7), make_shape("chair", 7), make_shape("chair", 8)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.faces, b.faces)
    assert a.vertices.shape != c.vertices.shape or not np.array_equal(a.vertices, c.vertices)


def test_families_cover_the_required_kinds():
    required = {"chair", "table", "sofa", "bench", "shelf", "lamp", "car", "plane", "boat", "bottle", "vase",
                "mug", "bowl", "quadruped", "biped", "extrusion", "superquadric", "composition"}
    assert required <= set(FAMILIES)
    assert len(HELDOUT_FAMILIES) >= 2 and set(HELDOUT_FAMILIES) <= set(FAMILIES)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_gives_a_watertight_normalised_outward_mesh(family):
    shape = make_shape(family, 13)
    assert shape.vertices.dtype == np.float32 and shape.faces.dtype == np.int32
    assert 500 < len(shape.faces) < 150_000
    mesh = trimesh.Trimesh(shape.vertices, shape.faces, process=False)
    assert mesh.is_watertight
    assert mesh.volume > 0                                  # outward winding
    # No sealed internal cavities (their walls would be invisible yet sampled as ground truth).
    assert all(part.volume > 0 for part in mesh.split(only_watertight=False))
    lo, hi = shape.vertices.min(0), shape.vertices.max(0)
    np.testing.assert_allclose((lo + hi) / 2, 0, atol=1e-5)
    assert abs((hi - lo).max() - 1) < 1e-5
    assert len(shape.parts) == len(shape.vertices)


def winding_number(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Generalised winding number (1 inside a closed outward mesh, 0 outside), Van Oosterom-Strackee."""
    out = np.zeros(len(points))
    tri = vertices[faces].astype(np.float64)
    for i, p in enumerate(points.astype(np.float64)):
        a, b, c = tri[:, 0] - p, tri[:, 1] - p, tri[:, 2] - p
        la, lb, lc = (np.linalg.norm(x, axis=1) for x in (a, b, c))
        det = np.einsum("ij,ij->i", a, np.cross(b, c))
        den = la * lb * lc + np.einsum("ij,ij->i", a, b) * lc + np.einsum("ij,ij->i", b, c) * la \
            + np.einsum("ij,ij->i", c, a) * lb
        out[i] = np.arctan2(det, den).sum() / (2 * np.pi)
    return out


def test_sampled_points_lie_on_the_surface_with_outward_normals():
    shape = make_shape("bottle", 3)
    points, normals = sample_surface(shape, 150, np.random.default_rng(0))
    assert points.shape == normals.shape == (150, 3)
    assert points.dtype == normals.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-4)
    # A small step along the normal leaves the solid, a step against it enters: the points are on
    # the surface and the normals point out.
    outside = winding_number(points + 0.005 * normals, shape.vertices, shape.faces)
    inside = winding_number(points - 0.005 * normals, shape.vertices, shape.faces)
    assert (outside < 0.5).mean() > 0.97 and (inside > 0.5).mean() > 0.97


def test_split_holds_out_whole_families_and_every_tenth_seed():
    for family in HELDOUT_FAMILIES:
        assert all(split(family, s) == "heldout" for s in range(1, 30))
    for family in TRAIN_FAMILIES:
        assert [s for s in range(40) if split(family, s) == "heldout"] == [0, 10, 20, 30]
    assert not set(HELDOUT_FAMILIES) & set(TRAIN_FAMILIES)
    with pytest.raises(KeyError):
        split("spaceship", 1)


def test_load_mesh_folder_normalises_user_meshes(tmp_path):
    box = trimesh.creation.box(extents=(2.0, 4.0, 1.0))
    box.apply_translation((5, 6, 7))
    box.export(tmp_path / "b_box.obj")
    trimesh.creation.icosphere(subdivisions=2, radius=3).export(tmp_path / "a_ball.ply")
    (tmp_path / "notes.txt").write_text("not a mesh")
    shapes = load_mesh_folder(str(tmp_path))
    assert [s.family for s in shapes] == ["mesh:a_ball", "mesh:b_box"]
    for s in shapes:
        assert isinstance(s, Shape) and s.closed
        lo, hi = s.vertices.min(0), s.vertices.max(0)
        np.testing.assert_allclose((lo + hi) / 2, 0, atol=1e-5)
        assert abs((hi - lo).max() - 1) < 1e-5
    np.testing.assert_allclose(shapes[1].vertices.max(0), (0.25, 0.5, 0.125), atol=1e-5)


def test_a_z_up_mesh_folder_stands_up(tmp_path):
    """../shared/realtrain is Z up (Blender, PLY): read as Y up its people and chairs lay on their backs."""
    import trimesh
    trimesh.creation.box(extents=(0.2, 0.4, 1.0)).export(tmp_path / "tall.ply")   # tall along z
    y_up, = load_mesh_folder(str(tmp_path))
    z_up, = load_mesh_folder(str(tmp_path), up="z")
    assert np.argmax(np.ptp(y_up.vertices, axis=0)) == 2
    assert np.ptp(z_up.vertices, axis=0) == pytest.approx([0.2, 1.0, 0.4], abs=1e-5)
    assert z_up.closed   # a proper rotation keeps the faces outward
    with pytest.raises(ValueError, match="up must be"):
        load_mesh_folder(str(tmp_path), up="x")
