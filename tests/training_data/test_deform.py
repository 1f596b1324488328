"""Random shape deformations (training/shapes/deform.py) and their use in the dataset."""
import itertools

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from training.dataset import ShapeViewDataset
from training.shapes import Shape, make_shape, normalise
from training.shapes.deform import random_deformation


def test_deformed_shapes_stay_closed_outward_and_normalised_with_new_proportions():
    rng = np.random.default_rng(5)
    for family in ("chair", "creature", "bottle"):
        shape = make_shape(family, 3)
        extents = []
        for _ in range(4):
            d = random_deformation(shape, rng)
            mesh = trimesh.Trimesh(d.vertices, d.faces, process=False)
            assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
            lo, hi = d.vertices.min(0), d.vertices.max(0)
            np.testing.assert_allclose((lo + hi) / 2, 0, atol=1e-5)
            assert abs((hi - lo).max() - 1) < 1e-5
            assert d.family == shape.family and d.seed == shape.seed and d.faces is shape.faces
            extents.append((hi - lo) / (hi - lo).max())
        # the proportions change from draw to draw (that is the point), by a bounded amount
        assert np.ptp(np.array(extents), axis=0).max() > 0.05
        assert np.abs(np.array(extents) - (shape.vertices.max(0) - shape.vertices.min(0))).max() < 0.8


def test_deformation_keeps_left_right_mirror_symmetry():
    # A shape symmetric about x = 0 stays symmetric: most made objects are, and the loader mirrors views too.
    sphere = trimesh.creation.icosphere(3)
    v = np.asarray(sphere.vertices) * [0.3, 0.5, 0.4] + [0, 0.2, 0]
    shape = Shape(normalise(v), np.asarray(sphere.faces, np.int32), np.zeros(len(v), np.int16))
    d = random_deformation(shape, np.random.default_rng(1))
    mirrored = d.vertices * [-1, 1, 1]
    assert cKDTree(d.vertices).query(mirrored)[0].max() < 1e-5


def test_dataset_deforms_each_visit_only_when_asked(monkeypatch):
    from training import dataset as dataset_module
    calls = []

    def counting(shape, rng):
        calls.append(shape.family)
        return random_deformation(shape, rng)
    monkeypatch.setattr(dataset_module, "random_deformation", counting)

    def take(deform, n=4):
        ds = ShapeViewDataset("train", size=32, points=64, seed=3, views_per_shape=1, families=["mug"],
                              shuffle_buffer=1, deform=deform, augment=False)
        return list(itertools.islice(iter(ds), n))
    take(0.0)
    assert calls == []
    samples = take(1.0)
    assert calls == ["mug"] * 4                     # one per visit (one view per visit here)
    assert all(s["family"] == "mug" for s in samples)
    with pytest.raises(ValueError):
        ShapeViewDataset("train", deform=1.5)
