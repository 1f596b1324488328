"""The training loop learns, resumes, exports, and runs as 2 DDP processes over gloo."""
import csv
import json
import os
import socket

import pytest
import torch

from synthetic import ellipsoid_sample, install_fake_dataset


def test_loss_decreases_on_a_tiny_overfit():
    from inference.networks import ModelConfig, build_model
    from training.losses import total_loss
    from training.replay import PrepareSamples, collate
    from training.train import stage_losses

    torch.manual_seed(0)
    config = ModelConfig(arch="atlas", final_vertices=200, hidden=64, code_dim=64)
    batch = collate(PrepareSamples(config)([ellipsoid_sample(i) for i in range(2)]))
    model = build_model(config)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    history = []
    for _ in range(60):
        terms = stage_losses(model(batch["image"], batch["templates"]), batch)
        history.append(float(terms[-1]["chamfer"].detach()))
        loss = total_loss(terms)
        opt.zero_grad()
        loss.backward()
        opt.step()
    # Inflation templates of ellipsoids are already close; learning must still cut the remaining error a lot.
    assert min(history[-5:]) < 0.65 * history[0], history


def test_a_sample_whose_mask_is_a_few_pixels_is_skipped_not_fatal():
    """A thin rod seen end-on can leave an augmented mask of 1-3 pixels, which has no inflation template
    (NoObjectError); the data loader must drop that sample rather than stop the run."""
    from inference.networks import ModelConfig
    from training.replay import PrepareSamples

    config = ModelConfig(arch="atlas", final_vertices=200, hidden=64, code_dim=64)
    good, speck = ellipsoid_sample(0), ellipsoid_sample(1)
    speck["mask"] = torch.zeros_like(speck["mask"])
    speck["mask"][..., 10, 10:12] = 1.0
    prepare = PrepareSamples(config)
    assert len(prepare([good, speck])) == 1 and prepare.skipped == 1


def test_chamfer_is_zero_for_a_perfect_prediction():
    """Points on the target itself score (almost) nothing, and an offset shows up at its size."""
    from inference.networks.graph import pack_templates
    from inference.networks.templates import TemplateLevels
    from training.losses import mesh_losses
    import numpy as np

    from training.losses import centre_points_depth
    s = ellipsoid_sample(0, points=400)
    pts = centre_points_depth(s["points"].numpy())   # targets are depth-centred when loaded
    s["points"] = torch.from_numpy(pts)
    faces = np.array([[0, 1, 2]], np.int32)
    packed = pack_templates([TemplateLevels([pts], [faces], [])])
    level = packed.levels[0]
    terms = mesh_losses(level.vertices, level.vertices, level, s["points"][None], s["normals"][None])
    assert float(terms["chamfer"]) < 1e-5
    shifted = level.vertices + torch.tensor([0.03, 0.0, 0.0])
    terms = mesh_losses(shifted, level.vertices, level, s["points"][None], s["normals"][None])
    assert 0.005 < float(terms["chamfer"]) < 0.03
    # A pure z shift is invisible: depth is centred, as in the scores.
    terms = mesh_losses(level.vertices + torch.tensor([0.0, 0.0, 0.2]), level.vertices, level,
                        s["points"][None], s["normals"][None])
    assert float(terms["chamfer"]) < 1e-5


def _train(args):
    install_fake_dataset()
    from training.train import main
    return main(args)


def test_resume_log_and_export(tmp_path):
    out = tmp_path / "run"
    common = ["--out", str(out), "--arch", "atlas", "--train-vertices", "150", "--hidden", "32", "--batch", "2",
              "--workers", "0", "--log-every", "1", "--eval-minutes", "0", "--snapshots"]
    _train(common + ["--steps", "2"])
    assert torch.load(out / "checkpoint.pt", weights_only=False)["state"]["step"] == 2
    _train(common + ["--steps", "4"])
    state = torch.load(out / "checkpoint.pt", weights_only=False)["state"]
    assert state["step"] == 4 and state["samples"] == 8
    with open(out / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    # A run killed after logging steps it never checkpointed: resuming redoes them and logs them once.
    with open(out / "log.csv", "a", newline="") as f:
        csv.writer(f).writerows([[5] + [""] * 3, [6] + [""] * 3])
    with open(out / "eval.jsonl", "a") as f:
        f.write(json.dumps({"step": 4, "f@0.05": 0.5}) + "\n" + json.dumps({"step": 6, "f@0.05": 0.6}) + "\n")
    _train(common + ["--steps", "6"])
    with open(out / "log.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [1, 2, 3, 4, 5, 6]
    assert [json.loads(line)["step"] for line in (out / "eval.jsonl").read_text().splitlines()] == [4]
    _train(["--out", str(out), "--export", "--export-name", "tiny", "--weights-dir", str(tmp_path / "w")])
    manifest = json.loads((tmp_path / "w" / "manifest.json").read_text())
    assert manifest["default"] == "tiny" and manifest["models"]["tiny"]["training"]["steps"] == 6

    # Weight averaging: the exported model is the mean of the kept snapshots (one per checkpoint).
    from inference.networks.weights import load_model
    snaps = [torch.load(p, weights_only=False)["model"] for p in sorted((out / "snapshots").glob("*.pt"))]
    assert len(snaps) == 3
    _train(["--out", str(out), "--export", "--export-name", "avg", "--weights-dir", str(tmp_path / "w"),
            "--average-since-minutes", "0"])
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["models"]["avg"]
    assert entry["training"]["averaged_steps"] == [2, 4, 6]
    averaged = load_model("avg", folder=tmp_path / "w").state_dict()
    flat = lambda state: torch.cat([state[k].float().ravel() for k in sorted(snaps[0])])   # noqa: E731
    mean = sum(flat(s) for s in snaps) / 3
    # Shipped weights are fp16: compare with the mean rounded the same way.
    assert (flat(averaged) - mean.half().float()).norm() < 0.02 * (flat(snaps[2]) - mean).norm()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_gloo_ddp(tmp_path):
    import torch.multiprocessing as mp
    out = str(tmp_path / "ddp")
    # The worker lives in a plain module: spawned processes cannot import a test module loaded by pytest's importlib mode.
    from synthetic import ddp_worker
    mp.spawn(ddp_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    state = torch.load(os.path.join(out, "checkpoint.pt"), weights_only=False)["state"]
    assert state["step"] == 3 and state["samples"] == 3 * 2 * 2   # 2 processes x batch 2 per step
    a, b = (torch.load(os.path.join(out, f"rank{r}.pt")) for r in (0, 1))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cpu_autocast_only_where_bf16_is_native(monkeypatch):
    # Emulated bf16 made a training step ~10x slower on an AVX2-only CPU: autocast must stay off there.
    import training.train as train

    monkeypatch.setattr(train, "cpu_has_fast_bf16", lambda: False)
    with train.autocast_context(torch.device("cpu"), True):
        assert not torch.is_autocast_enabled("cpu")
    monkeypatch.setattr(train, "cpu_has_fast_bf16", lambda: True)
    with train.autocast_context(torch.device("cpu"), True):
        assert torch.is_autocast_enabled("cpu")
    with train.autocast_context(torch.device("cpu"), False):
        assert not torch.is_autocast_enabled("cpu")
