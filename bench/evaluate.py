"""Score every reconstruction method side by side on the held-out views.

    python -m bench.evaluate --per-family 4 --json bench/results/heldout.json
    python -m bench.evaluate --run training/runs/atlas1          # also score a run's latest checkpoint

Methods (all on the same views, from the view's true silhouette on the 128-cell frame grid, so segmentation
errors are left out and only the shape is compared):
  ellipsoid        an ellipsoid fitted to the silhouette's box (as deep as its shorter side)
  inflation        the Poisson inflation template
  inflation+fit    the training-free path, as the product runs it (inference.pipeline.reconstruct, model "none",
                   the view's true silhouette as the mask)
  <model>          each shipped network (and each --run checkpoint), raw
  <model>+fit      the product's path with that network (inference.pipeline.reconstruct)
Scores (inference.metrics): Chamfer-L1, F@0.02, F@0.05, normal consistency, silhouette IoU, plus mesh quality
(watertight share, edge-length spread, faces in self-intersections) and seconds per view. Prints a markdown
table; --json writes the means, per-family means and per-view rows."""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import inference  # noqa: F401  (first: it pins the CPU kernels before numpy chooses its own; inference/kernels.py)
import numpy as np
import torch

SCORE_KEYS = ("chamfer_l1", "f@0.02", "f@0.05", "normal_consistency", "silhouette_iou")
QUALITY_KEYS = ("watertight", "edge_spread", "self_intersections")
HIGHER_IS_BETTER = {"f@0.02", "f@0.05", "normal_consistency", "silhouette_iou", "watertight"}


def parse_args(argv=None):
    from inference import contract   # the product's defaults, defined once
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-family", type=int, default=4, help="held-out views per shape family")
    p.add_argument("--families", default="", help="comma-separated subset of families")
    p.add_argument("--vertices", type=int, default=contract.default("template_vertices"), help="template / output density")
    p.add_argument("--fit-steps", type=int, default=contract.default("refine_steps"))
    p.add_argument("--models", default="shipped", help="comma-separated shipped model names, 'shipped' (all) or 'none'")
    p.add_argument("--run", action="append", default=[], help="also score this training run's latest checkpoint")
    p.add_argument("--no-fit", action="store_true", help="skip the '+fit' variants (faster)")
    p.add_argument("--no-untangle", action="store_true", help="'+fit' variants without the self-intersection clean-up")
    p.add_argument("--no-remesh", action="store_true", help="'+fit' variants without the isotropic remeshing")
    p.add_argument("--json", default="", help="write results here")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def _load_run(run):
    """A model from a training run's checkpoint (fp32, eval mode), named after the run folder. `run`: the run
    folder (its checkpoint.pt), a checkpoint file (a snapshot), or an already loaded checkpoint dict."""
    from inference.networks import ModelConfig, build_model

    if isinstance(run, dict):
        ckpt, label = run, "checkpoint"
    else:
        path = Path(run) / "checkpoint.pt" if Path(run).is_dir() else Path(run)
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        label = path.parent.name if path.name == "checkpoint.pt" else f"{path.parent.parent.name}/{path.stem}"
    config = ModelConfig.from_dict(ckpt["config"])
    model = build_model(config)
    # Checkpoints may hold half-precision weights (AMP runs); inference is fp32.
    model.load_state_dict({k: v.float() for k, v in ckpt["model"].items()})
    model.config = config
    return f"run:{label}@{ckpt.get('state', {}).get('step', -1)}", model.eval()


def _network_mesh(model, rgb, mask, vertices):
    """(vertices, faces, template) exactly as the product predicts them; the template is the clean-up's
    fallback reference."""
    from inference.prior import predict
    return predict(model, rgb, mask, vertices)


def build_methods(args):
    """name -> function(rgb (R,R,3), mask (R,R) bool) -> (vertices, faces), in the order of the table."""
    from inference.pipeline import reconstruct
    from inference.prior import register_model
    from inference.result import ReconstructionOptions
    from inference.template import ellipsoid_template, inflation_template

    def product(model: str):
        """The artist's path with this shape prior: inference.pipeline.reconstruct on the view's picture with its
        true silhouette as the mask (fit grid, fit, clean-up and all, exactly as the product runs them)."""
        options = ReconstructionOptions(model=model, template_vertices=args.vertices, refine_steps=args.fit_steps,
                                        untangle=not args.no_untangle, remesh=not args.no_remesh)

        def run(rgb, mask):
            recon = reconstruct(np.dstack([rgb, mask.astype(np.float32)]), options, mask=mask)
            return recon.vertices, recon.faces
        return run

    methods = {"ellipsoid": lambda rgb, mask: ellipsoid_template(mask, args.vertices),
               "inflation": lambda rgb, mask: inflation_template(mask, args.vertices)}
    if not args.no_fit:
        methods["inflation+fit"] = product("none")

    models = []
    if args.models not in ("none", ""):
        from inference.networks.weights import load_model, read_manifest
        names = sorted(read_manifest()["models"]) if args.models == "shipped" else args.models.split(",")
        models += [(name, load_model(name)) for name in names]
    models += [_load_run(run) for run in args.run]
    for name, model in models:
        network = (lambda m: lambda rgb, mask: _network_mesh(m, rgb, mask, args.vertices))(model)
        methods[name] = (lambda net: lambda rgb, mask: net(rgb, mask)[:2])(network)
        if not args.no_fit:
            methods[name + "+fit"] = product(register_model(name, model))
    return methods


def score_all(methods, views) -> list[dict]:
    from inference.metrics import mesh_quality, score_mesh

    rows = []
    for i, view in enumerate(views):
        mask = np.asarray(view["mask_true"], bool)
        rgb = np.asarray(view["image"], np.float32).transpose(1, 2, 0)
        points, normals = np.asarray(view["points"], np.float64), np.asarray(view["normals"], np.float64)
        for name, make in methods.items():
            t = time.perf_counter()
            v, f = make(rgb, mask)
            seconds = time.perf_counter() - t
            row = {"method": name, "view": i, "family": view["family"], "seed": int(view["seed"]), "seconds": seconds}
            row.update(score_mesh(v, f, points, normals, mask))
            row.update(mesh_quality(v, f))
            rows.append(row)
    return rows


def summarise(rows: list[dict], key: str = "method") -> dict:
    groups = defaultdict(list)
    for r in rows:
        groups[r[key]].append(r)
    return {name: {k: float(np.mean([float(r[k]) for r in rs])) for k in SCORE_KEYS + QUALITY_KEYS + ("seconds",)}
            | {"views": len(rs)} for name, rs in groups.items()}


def markdown_table(summary: dict) -> str:
    cols = ("chamfer_l1", "f@0.02", "f@0.05", "normal_consistency", "silhouette_iou", "watertight", "edge_spread",
            "self_intersections", "seconds")
    heads = ("method", "Chamfer-L1 ↓", "F@0.02 ↑", "F@0.05 ↑", "normal cons. ↑", "sil. IoU ↑", "watertight ↑",
             "edge spread ↓", "self-int. faces ↓", "s / view")
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, s in summary.items():
        lines.append("| " + " | ".join([name] + [f"{s[c]:.4f}" if c in SCORE_KEYS else
                                                f"{s[c]:.2f}" if c != "self_intersections" else f"{s[c]:.1f}"
                                                for c in cols]) + " |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from training.dataset import heldout_views
    from training.train import EVAL_CACHE

    families = [f for f in args.families.split(",") if f] or None
    t = time.time()
    views = heldout_views(n_per_family=args.per_family, size=128, cache_dir=str(EVAL_CACHE), families=families)
    print(f"{len(views)} held-out views ({time.time() - t:.0f} s to load/render)", flush=True)
    methods = build_methods(args)
    rows = score_all(methods, views)
    summary = summarise(rows)
    table = markdown_table(summary)
    print(table)
    result = {"views": len(views), "per_family": args.per_family, "vertices": args.vertices, "fit_steps": args.fit_steps,
              "summary": summary,
              "by_family": {m: summarise([r for r in rows if r["method"] == m], "family") for m in methods},
              "rows": rows, "table": table}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
