"""Raw-network F@0.05 of every snapshot of a training run on a fixed held-out view set: where a run levelled off.

    python -m bench.snapshot_curve training/runs/atlas-inflation-3 [--families lamp,boat,bird] [--per-family 20]
        [--also training/runs/atlas-inflation-1/checkpoint.pt] [--json bench/results/curve.json]

Needs the run's `--snapshots` folder (see training/README.md). Prints one line per checkpoint: step, training
minutes, mean F@0.05 (and Chamfer-L1) of the raw network on the views, scored as bench.evaluate scores them."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import inference  # noqa: F401  (first: it pins the CPU kernels before numpy chooses its own; inference/kernels.py)
import numpy as np
import torch


def score_checkpoint(path: Path, views: list[dict], vertices: int) -> dict:
    from bench.evaluate import _network_mesh
    from inference.metrics import score_mesh
    from inference.networks import ModelConfig, build_model

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    config = ModelConfig.from_dict(ckpt["config"])
    model = build_model(config)
    model.load_state_dict({k: v.float() for k, v in ckpt["model"].items()})
    model.config = config
    model.eval()
    scores = []
    for view in views:
        mask = np.asarray(view["mask_true"], bool)
        rgb = np.asarray(view["image"], np.float32).transpose(1, 2, 0)
        v, f, _ = _network_mesh(model, rgb, mask, vertices)
        scores.append(score_mesh(v, f, np.asarray(view["points"], np.float64), np.asarray(view["normals"], np.float64),
                                 mask))
    state = ckpt.get("state", {})
    return {"checkpoint": str(path), "step": int(state.get("step", -1)),
            "train_minutes": round(state.get("train_seconds", 0.0) / 60, 1),
            "f@0.05": float(np.mean([s["f@0.05"] for s in scores])),
            "chamfer_l1": float(np.mean([s["chamfer_l1"] for s in scores]))}


def main(argv=None) -> None:
    from inference import contract   # the product's defaults, defined once
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a training run folder with a snapshots/ folder")
    p.add_argument("--families", default="lamp,boat,bird")
    p.add_argument("--per-family", type=int, default=20)
    p.add_argument("--vertices", type=int, default=contract.default("template_vertices"))
    p.add_argument("--also", action="append", default=[], type=Path, help="another checkpoint to score alongside")
    p.add_argument("--json", default="")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from training.dataset import heldout_views

    paths = sorted((args.run / "snapshots").glob("*.pt")) + list(args.also)
    if not paths:
        raise SystemExit(f"no snapshots in {args.run / 'snapshots'} (train with --snapshots)")
    views = heldout_views(args.per_family, cache_dir="training/cache", families=args.families.split(","))
    rows = []
    for path in paths:
        row = score_checkpoint(path, views, args.vertices)
        rows.append(row)
        print(f"{path.name:28s} step {row['step']:6d}  {row['train_minutes']:6.1f} min  F@0.05 {row['f@0.05']:.4f}  "
              f"Chamfer-L1 {row['chamfer_l1']:.4f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"views": len(views), "families": args.families, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
