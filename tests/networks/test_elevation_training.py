"""training/train_elevation.py: trains a head on a frozen shipped model, resumes, and exports it beside it."""
import json

import torch

from inference.networks import ModelConfig, build_model
from inference.networks.weights import load_model, save_weights
from synthetic import install_fake_dataset

CONFIG = ModelConfig(arch="atlas", final_vertices=200, hidden=32, code_dim=32)


def test_train_resume_and_export(weights_dir, tmp_path, monkeypatch):
    install_fake_dataset(monkeypatch)   # ellipsoids seen level (elevation 0): the head must learn to answer ~0
    from training import train_elevation
    torch.manual_seed(0)
    save_weights(build_model(CONFIG), CONFIG, "tiny", folder=weights_dir)
    frozen = {k: v.clone() for k, v in load_model("tiny").state_dict().items()}
    out = str(tmp_path / "run")
    common = ["--model", "tiny", "--out", out, "--batch", "8", "--workers", "0", "--eval-views", "4", "--lr", "3e-3"]
    first = train_elevation.main(common + ["--steps", "30"])
    assert first["constant_mae_deg"] == 20.0 or abs(first["constant_mae_deg"] - 20.0) < 1e-3
    second = train_elevation.main(common + ["--steps", "60"])                # resumes at step 30
    state = torch.load(tmp_path / "run" / "elevation.pt", weights_only=False)["state"]
    assert state["step"] == 60 and state["samples"] == 60 * 8
    # Level views: a head that learned anything answers near 0, far better than the constant 20 degrees.
    assert first["mae_deg"] < 0.5 * first["constant_mae_deg"] and second["mae_deg"] < 5.0
    train_elevation.main(common + ["--export"])
    entry = json.loads((weights_dir / "manifest.json").read_text())["models"]["tiny"]
    assert entry["elevation"]["training"]["step"] == 60
    loaded = load_model("tiny")
    assert loaded.elevation_head is not None
    # The shape model itself was never touched by the head's training.
    assert all(torch.equal(frozen[k], v) for k, v in loaded.state_dict().items() if not k.startswith("elevation_head"))
