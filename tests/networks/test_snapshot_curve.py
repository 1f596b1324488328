"""bench.snapshot_curve scores every snapshot of a run on the same held-out views."""
import json

import torch

from inference.networks import ModelConfig, build_model

CONFIG = ModelConfig(arch="atlas", final_vertices=200, hidden=32, code_dim=32)


def test_every_snapshot_is_scored_in_order(tmp_path):
    from bench import snapshot_curve
    run = tmp_path / "run"
    (run / "snapshots").mkdir(parents=True)
    torch.manual_seed(0)
    for step in (10, 20):
        model = build_model(CONFIG)
        torch.save({"model": model.state_dict(), "state": {"step": step, "train_seconds": 6.0 * step},
                    "config": CONFIG.to_dict()}, run / "snapshots" / f"step_{step:07d}.pt")
    out = tmp_path / "curve.json"
    snapshot_curve.main([str(run), "--families", "blob", "--per-family", "1", "--vertices", "300", "--json", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert [r["step"] for r in rows] == [10, 20] and [r["train_minutes"] for r in rows] == [1.0, 2.0]
    assert all(0.0 <= r["f@0.05"] <= 1.0 and r["chamfer_l1"] > 0 for r in rows)


def test_a_run_without_snapshots_is_refused(tmp_path):
    import pytest
    from bench import snapshot_curve
    with pytest.raises(SystemExit, match="--snapshots"):
        snapshot_curve.main([str(tmp_path)])
