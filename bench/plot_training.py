"""Training curves of one or more runs as a PNG: training loss terms and the held-out scores over time.

    python -m bench.plot_training training/runs/atlas1 [training/runs/p2m1 ...] --out bench/results/training.png

Reads each run's log.csv (per-step means, see training/train.py) and eval.jsonl (held-out scores of the raw
network every few minutes; the first point is the untrained model, i.e. its template)."""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def read_run(run: Path):
    with open(run / "log.csv") as f:
        log = [{k: float(v) for k, v in r.items() if k != "wall_time" and v != ""} for r in csv.DictReader(f)]
    evals = []
    if (run / "eval.jsonl").exists():
        evals = [json.loads(line) for line in (run / "eval.jsonl").read_text().splitlines() if line.strip()]
    return log, evals


def smooth(values, window: int = 10):
    out, acc = [], []
    for v in values:
        acc = (acc + [v])[-window:]
        out.append(sum(acc) / len(acc))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--out", default="bench/results/training.png")
    args = p.parse_args(argv)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for run in map(Path, args.runs):
        log, evals = read_run(run)
        name = run.name
        minutes = [r["train_minutes"] for r in log]
        axes[0].plot(minutes, smooth([r["chamfer"] for r in log]), label=f"{name} train chamfer-L1")
        if evals:
            em = [e["train_minutes"] for e in evals]
            axes[0].plot(em, [e["chamfer_l1"] for e in evals], "o--", label=f"{name} held-out chamfer-L1")
            axes[1].plot(em, [e["f@0.05"] for e in evals], "o-", label=f"{name} F@0.05")
            axes[1].plot(em, [e["f@0.02"] for e in evals], "s--", label=f"{name} F@0.02")
            axes[2].plot(em, [e["normal_consistency"] for e in evals], "o-", label=f"{name} normal consistency")
            if "silhouette_iou" in evals[-1]:
                axes[2].plot(em, [e.get("silhouette_iou", float("nan")) for e in evals], "s--", label=f"{name} silhouette IoU")
    axes[0].set_title("Chamfer-L1 (frame units)")
    axes[1].set_title("held-out F-score (raw network, no fit)")
    axes[2].set_title("held-out normal consistency / silhouette IoU")
    for ax in axes:
        ax.set_xlabel("training minutes")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
