"""ShapeViewDataset and the fixed held-out evaluation set."""
import itertools

import numpy as np
import pytest
import torch
import trimesh
from torch.utils.data import DataLoader

from training import dataset as dataset_module
from training.dataset import ShapeViewDataset, heldout_views
from training.shapes import HELDOUT_FAMILIES, split


def _take(ds, n):
    return list(itertools.islice(iter(ds), n))


def test_samples_have_the_documented_shapes_and_types():
    ds = ShapeViewDataset("train", size=40, points=128, seed=1, views_per_shape=2, families=["bench", "rock"],
                          shuffle_buffer=2)
    for s in _take(ds, 4):
        assert s["image"].shape == (3, 40, 40) and s["image"].dtype == torch.float32
        assert s["mask"].shape == (1, 40, 40) and s["mask"].dtype == torch.float32
        assert s["mask_true"].shape == (40, 40) and s["mask_true"].dtype == torch.bool
        assert s["points"].shape == s["normals"].shape == (128, 3)
        assert s["points"].dtype == s["normals"].dtype == torch.float32
        assert s["elevation"].dtype == s["azimuth"].dtype == torch.float32
        assert s["family"] in ("bench", "rock") and split(s["family"], s["seed"]) == "train"


def test_dataloader_batches_and_streams_are_reproducible():
    def batch():
        ds = ShapeViewDataset("train", size=32, points=64, seed=7, views_per_shape=2, families=["mug", "car"],
                              shuffle_buffer=4)
        return next(iter(DataLoader(ds, batch_size=3, num_workers=0)))
    a, b = batch(), batch()
    assert a["image"].shape == (3, 3, 32, 32) and a["points"].shape == (3, 64, 3)
    assert len(a["family"]) == 3 and a["seed"].dtype == torch.int64
    assert torch.equal(a["image"], b["image"]) and a["family"] == b["family"]


def test_each_worker_and_rank_gets_its_own_stream(monkeypatch):
    def first_seeds(stream):
        monkeypatch.setattr(dataset_module, "_stream_identity", lambda: (stream, 2))
        ds = ShapeViewDataset("train", size=24, points=8, seed=3, views_per_shape=1, families=["blob", "tool"],
                              shuffle_buffer=1, reuse=0.0)
        return [(s["family"], s["seed"]) for s in _take(ds, 3)]
    assert first_seeds(0) != first_seeds(1)


def test_train_split_refuses_held_out_families_and_heldout_split_draws_only_heldout_shapes():
    with pytest.raises(ValueError):
        ShapeViewDataset("train", families=[HELDOUT_FAMILIES[0]])
    ds = ShapeViewDataset("heldout", size=24, points=8, views_per_shape=1, families=["tool", HELDOUT_FAMILIES[0]],
                          shuffle_buffer=1, reuse=0.0)
    for s in _take(ds, 4):
        assert split(s["family"], s["seed"]) == "heldout"


def test_mesh_folder_only(tmp_path):
    trimesh.creation.capsule(height=1.0, radius=0.3).export(tmp_path / "pill.obj")
    ds = ShapeViewDataset("train", size=24, points=16, views_per_shape=1, families=[], mesh_folder=str(tmp_path),
                          shuffle_buffer=1)
    s = _take(ds, 1)[0]
    assert s["family"] == "mesh:pill" and s["mask_true"].any()


def test_heldout_views_are_fixed_and_held_out(tmp_path):
    families = ["tool", HELDOUT_FAMILIES[0]]
    a = heldout_views(n_per_family=2, size=32, points=64, families=families, cache_dir=str(tmp_path))
    b = heldout_views(n_per_family=2, size=32, points=64, families=families)
    assert len(a) == 4 and [s["family"] for s in a] == ["tool", "tool", HELDOUT_FAMILIES[0], HELDOUT_FAMILIES[0]]
    for x, y in zip(a, b):
        assert x["seed"] == y["seed"] and split(x["family"], x["seed"]) == "heldout"
        assert torch.equal(x["image"], y["image"]) and torch.equal(x["points"], y["points"])
        assert torch.equal(x["mask"][0] > 0.5, x["mask_true"])    # no mask augmentation
    assert len(list(tmp_path.glob("*.pt"))) == 1
    c = heldout_views(n_per_family=2, size=32, points=64, families=families, cache_dir=str(tmp_path))
    assert torch.equal(c[0]["image"], a[0]["image"])


def test_dataloader_workers_draw_different_shapes():
    ds = ShapeViewDataset("train", size=24, points=8, seed=5, views_per_shape=1, families=["blob", "tool", "fish"],
                          shuffle_buffer=1, reuse=0.0)
    loader = DataLoader(ds, batch_size=1, num_workers=2)
    batches = list(itertools.islice(iter(loader), 4))      # alternately from worker 0 and worker 1
    drawn = [(b["family"][0], int(b["seed"][0])) for b in batches]
    assert drawn[0] != drawn[1] and drawn[2] != drawn[3]
