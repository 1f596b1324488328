"""Shipped weights: fp16 round trip, checksum verification, clear errors, and the prior's entry points."""
import json

import numpy as np
import pytest
import torch

from inference.errors import DependencyError
from inference.networks import ModelConfig, build_model
from inference.networks.weights import load_model, save_weights
from synthetic import ellipsoid_sample

CONFIG = ModelConfig(arch="atlas", final_vertices=200, hidden=32, code_dim=32)


def _saved(weights_dir):
    torch.manual_seed(0)
    model = build_model(CONFIG)
    torch.nn.init.normal_(model.out.weight, std=0.01)   # make the output depend on the weights
    save_weights(model, CONFIG, "tiny", {"note": "test"}, folder=weights_dir)
    return model


def test_round_trip_and_prior(weights_dir):
    from inference import prior
    model = _saved(weights_dir)
    assert prior.available_models() == ["tiny"] and prior.default_model() == "tiny"
    loaded = load_model("tiny")
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.allclose(a, b, atol=2e-3, rtol=2e-3), k          # fp16 storage
    s = ellipsoid_sample(3, size=32)
    v, f = prior.apply_prior("tiny", s["image"].numpy().transpose(1, 2, 0), s["mask_true"].numpy(), torch.device("cpu"),
                             target_vertices=300)
    import trimesh
    assert v.dtype == np.float32 and f.dtype == np.int32 and v.shape[1] == 3
    assert trimesh.Trimesh(v, f, process=False).is_watertight
    assert abs(v[:, 2].max() + v[:, 2].min()) < 1e-5                  # depth centred on the box


def test_corrupt_file_raises_dependency_error(weights_dir):
    _saved(weights_dir)
    path = weights_dir / "tiny.pt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DependencyError, match="damaged"):
        load_model("tiny")


def test_missing_file_and_unknown_model(weights_dir):
    _saved(weights_dir)
    (weights_dir / "tiny.pt").unlink()
    with pytest.raises(DependencyError, match="missing"):
        load_model("tiny")
    with pytest.raises(DependencyError, match="No weights"):
        load_model("other")


def test_no_weights_means_no_default(weights_dir):
    from inference import prior
    assert prior.available_models() == [] and prior.default_model() is None


def test_manifest_lists_checksum_and_config(weights_dir):
    _saved(weights_dir)
    manifest = json.loads((weights_dir / "manifest.json").read_text())
    entry = manifest["models"]["tiny"]
    assert len(entry["sha256"]) == 64 and entry["config"]["arch"] == "atlas"
    assert entry["bytes"] == (weights_dir / "tiny.pt").stat().st_size


def _saved_head(weights_dir, bias=0.3):
    from inference.networks.elevation import ElevationHead
    from inference.networks.weights import save_elevation_head
    head = ElevationHead(code_dim=CONFIG.code_dim)
    torch.nn.init.zeros_(head.mlp[-1].weight)
    torch.nn.init.constant_(head.mlp[-1].bias, bias)   # a head that always answers `bias` radians
    save_elevation_head(head, "tiny", {"note": "test"}, folder=weights_dir)


def test_elevation_head_ships_beside_its_model_and_reaches_the_pipeline(weights_dir):
    from inference import ReconstructionOptions, prior, reconstruct
    _saved(weights_dir)
    s = ellipsoid_sample(3, size=32)
    rgb, mask = s["image"].numpy().transpose(1, 2, 0), s["mask_true"].numpy()
    assert prior.estimate_elevation("tiny", rgb, mask) is None          # no head trained yet
    prior._CACHE.clear()
    _saved_head(weights_dir)
    assert prior.estimate_elevation("tiny", rgb, mask) == pytest.approx(0.3, abs=1e-3)
    picture = np.zeros((64, 64, 4), np.float32)
    picture[16:48, 20:44] = (0.8, 0.3, 0.2, 1.0)
    r = reconstruct(picture, ReconstructionOptions(template_vertices=300, refine_steps=5, model="tiny", device="cpu"))
    assert r.info["elevation"] == pytest.approx(0.3, abs=1e-3)
    # A re-exported model has a new encoder: its old head must not survive in the manifest.
    _saved(weights_dir)
    assert "elevation" not in json.loads((weights_dir / "manifest.json").read_text())["models"]["tiny"]


def test_damaged_elevation_head_is_reported(weights_dir):
    _saved(weights_dir)
    _saved_head(weights_dir)
    path = weights_dir / "tiny.elevation.pt"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DependencyError, match="elevation head of 'tiny' is damaged"):
        load_model("tiny")
