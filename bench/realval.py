"""Shape quality on real objects: every path scored on shared/realval's single views, as the team scores them.

    python -m bench.realval [--views ../shared/realval/views] [--paths ellipsoid,inflation,none,MODEL,MODEL+fit]
        [--run training/runs/NAME ...] [--white] [--limit N] [--json bench/results/realval.json] [--markdown FILE]

Paths (each from the picture alone; the npz ground truth is used for scoring only):
  ellipsoid     points on the ellipsoid in the input mask's box (half-width and half-height as semi-axes, the
                smaller as depth), exactly as shared/realval/README.md builds it
  inflation     the README's plain inflation: round cross-sections from the mask's distance field (local radius
                grown over windows s = 2..64, capped at 3d), front and back points, normals from h's gradient
  none          the product's training-free path: inference.pipeline.reconstruct(image, model="none")
  MODEL         a shipped network (inference.prior.available_models()) through the product's pipeline, raw:
                no silhouette fit, no clean-up
  MODEL+fit     the product's default path with that network: reconstruct(image, model=MODEL), default options
  run:NAME@STEP[+fit]   the same for each --run checkpoint, handed to the pipeline via inference.prior.register_model
A path may end in "@white" or "@png" to override the input for it alone ("atlas-inflation+fit@white").
Input: the cut-out PNG, or with --white the `_white.jpg` (no alpha: the product finds the object itself).

Protocol (shared/realval/README.md, implemented by inference.metrics.score_point_sets): 10,000 surface samples
of the predicted mesh (seed 0) or 10,000 of a baseline's points, against a fixed 10,000-point subset of the
20,000 ground-truth points (seed 0); z of each centred on its own min/max; Chamfer-L1, F@0.02, F@0.05, normal
consistency; silhouette IoU: each point set splatted into the render's 256^2 frame (pixel = floor(128 + x *
0.85 * 256), floor(128 - y * 0.85 * 256)), closed 2 pixels (scipy's cross, twice), holes filled; the truth's
splat uses all 20,000 points. That is the README's "splat each point set" and it reproduces the team's IoUs
(ellipsoid 0.640, inflation 0.964 vs 0.965); the splat against the npz mask itself (`silhouette_iou_mask`, in
the JSON) reads 0.629 and 0.970, and against the 10k subset's splat 0.634 and 0.961. Means are over views;
also per object, per family (FAMILY below) and "wins": the share of views on which a path's F@0.05 beats the
plain inflation's.

Training code: score_run_checkpoint(checkpoint, fit=False) -> means of the raw network on every view."""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import inference  # noqa: F401  (first: it pins the CPU kernels before numpy chooses its own; inference/kernels.py)
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIEWS = REPO.parent / "shared" / "realval" / "views"
SCORE_KEYS = ("chamfer_l1", "f@0.02", "f@0.05", "normal_consistency", "silhouette_iou", "silhouette_iou_mask")
SAMPLES = 10_000
SEED = 0
# The renders frame the silhouette's box so that its longer side covers 85 % of the picture.
FRAME_COVER = 0.85

# Decided once from the object names and shared/realval/LICENSES.md, never from scores. Organic: busts,
# statues, people, the hand, animals, toy creatures (the mushroom, a natural form, counts here too).
# Man-made: the car (beetle), bottle (fuze), truck, chair, chess knight (springer), torus, tower, boxes, can,
# scissors.
FAMILY = {
    "beast": "organic", "brucewick": "organic", "cat": "organic", "cheburashka": "organic", "cow": "organic",
    "demosthenes": "organic", "duck": "organic", "falconstatue": "organic", "hand_closed": "organic",
    "homer": "organic", "human_man": "organic", "human_woman": "organic", "lionstatue": "organic",
    "mushroom": "organic", "nefertiti": "organic", "ogre": "organic", "suzanne": "organic",
    "beetle": "man-made", "fuze": "man-made", "milktruck": "man-made", "springer": "man-made",
    "torus": "man-made", "tower_holes": "man-made", "trimesh_chair": "man-made", "ycb_crackerbox": "man-made",
    "ycb_foambrick": "man-made", "ycb_scissors": "man-made", "ycb_tomatosoupcan": "man-made",
}


# ------------------------------------------------------------------------------------------------------ views

def load_views(views_dir=DEFAULT_VIEWS, limit: int | None = None) -> list[dict]:
    """The views of index.json (the first `limit`), each with its ground truth: a fixed 10,000-point subset
    with normals, the npz mask and the splatted true silhouette."""
    from inference.silhouette import splat_silhouette

    views_dir = Path(views_dir)
    if not (views_dir / "index.json").exists():
        raise FileNotFoundError(f"no realval views at {views_dir} (expected index.json there)")
    entries = json.loads((views_dir / "index.json").read_text())[:limit]
    views = []
    for e in entries:
        gt = np.load(views_dir / f"{e['stem']}.npz")
        # The same subset for every path and every run: the truth must not move between comparisons.
        keep = np.random.default_rng(SEED).choice(len(gt["points"]), SAMPLES, replace=False)
        mask = gt["mask"].astype(bool)
        views.append({"stem": e["stem"], "object": e["object"], "family": FAMILY.get(e["object"], "unknown"),
                      "mesh": e.get("mesh"), "azimuth": e.get("az"), "elevation": e.get("el"),
                      "png": views_dir / f"{e['stem']}.png", "white": views_dir / f"{e['stem']}_white.jpg",
                      "points": gt["points"][keep].astype(np.float64),
                      "normals": gt["normals"][keep].astype(np.float64), "mask": mask,
                      # The protocol's IoU compares two splats: the truth's is all 20,000 points, splatted
                      # by the same rule (this, not the 10k subset, gives the team's figures).
                      "silhouette": splat_silhouette(gt["points"], mask.shape[0], FRAME_COVER * mask.shape[0])})
    return views


def input_mask(image: Path) -> tuple[np.ndarray, np.ndarray]:
    """(RGBA picture, the object mask the baselines build on). A cut-out's alpha > 0.5 (the npz's own rule);
    without alpha the product's mask extraction (largest object), so the baselines see what the product sees."""
    from inference.image_io import load_image
    from inference.mask import extract_objects, has_transparency

    rgba = load_image(image)
    if has_transparency(rgba):
        return rgba, rgba[:, :, 3] > 0.5
    return rgba, extract_objects(rgba)[0][0]


def _pixel_frame(mask: np.ndarray):
    """Frame (x, y) of every pixel centre and the frame's pixel size, from the mask's own box (as the product
    frames a picture)."""
    from inference.frame import Frame
    from inference.mask import bounding_box

    frame = Frame.from_box(bounding_box(mask), mask.shape[1], mask.shape[0])
    rows, cols = np.mgrid[:mask.shape[0], :mask.shape[1]]
    return frame.to_frame(np.stack([cols + 0.5, rows + 0.5], axis=-1)), frame.pixel_size


# -------------------------------------------------------------------------------------------------- baselines

def ellipsoid_points(mask: np.ndarray, n: int = SAMPLES, seed: int = SEED):
    """Points and normals on the ellipsoid in the mask's box (README: random unit directions scaled by the
    semi-axes; depth semi-axis = the smaller of the other two)."""
    xy, _ = _pixel_frame(mask)
    inside = xy[mask]
    half_cell = 0.5 * abs(xy[0, 1, 0] - xy[0, 0, 0])
    lo, hi = inside.min(axis=0) - half_cell, inside.max(axis=0) + half_cell   # box edges, not pixel centres
    radii = np.array([*(hi - lo) / 2, (hi - lo).min() / 2])
    d = np.random.default_rng(seed).normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    points = d * radii + np.array([*(hi + lo) / 2, 0.0])
    normals = d / radii
    return points, normals / np.linalg.norm(normals, axis=1, keepdims=True)


def inflation_points(mask: np.ndarray, n: int = SAMPLES, seed: int = SEED):
    """The README's plain inflation: d = the mask's distance transform (pixels); the local radius r starts
    at d and, for s = 2..64, becomes max(r, min(M_s, 3d)) where 2d >= s (M_s: d's maximum over a (2s+1)^2
    window), so a part takes the roundness of its widest stretch but never more than three times its own
    half-width; h = sqrt(max(2rd - d^2, 0)); a front (+h) and a back (-h) point per mask pixel, normals from
    h's gradient, n of them drawn at random."""
    from scipy import ndimage

    d = ndimage.distance_transform_edt(mask)
    r = d.copy()
    for s in (2, 4, 8, 16, 32, 64):
        m_s = ndimage.maximum_filter(d, size=2 * s + 1, mode="constant")
        grow = 2 * d >= s
        r[grow] = np.maximum(r[grow], np.minimum(m_s, 3 * d)[grow])
    h = np.sqrt(np.maximum(2 * r * d - d * d, 0.0))
    dh_drow, dh_dcol = np.gradient(h)
    xy, pixel_size = _pixel_frame(mask)
    z = h[mask] * pixel_size
    # Image rows run down, frame y up: dh/dy = -dh/drow. Both in pixels, so the slope needs no scaling.
    gx, gy = dh_dcol[mask], -dh_drow[mask]
    front_n = np.stack([-gx, -gy, np.ones_like(gx)], axis=1)
    points = np.concatenate([np.column_stack([xy[mask], z]), np.column_stack([xy[mask], -z])])
    normals = np.concatenate([front_n, front_n * np.array([1.0, 1.0, -1.0])])
    pick = np.random.default_rng(seed).choice(len(points), n, replace=len(points) < n)
    normals = normals[pick]
    return points[pick], normals / np.linalg.norm(normals, axis=1, keepdims=True)


# ------------------------------------------------------------------------------------------------------ paths

def _mesh_path(model: str, fit: bool):
    """image -> (vertices, faces) through inference.pipeline.reconstruct: with `fit` its default options (what
    the artist gets), without it the network's raw mesh (no fit, no clean-up)."""
    from inference.pipeline import reconstruct
    from inference.result import ReconstructionOptions

    options = ReconstructionOptions(model=model) if fit else \
        ReconstructionOptions(model=model, refine=False, untangle=False, remesh=False)

    def run(image: Path):
        recon = reconstruct(image, options)
        return recon.vertices, recon.faces
    return run


def build_paths(names: list[str], runs=()) -> dict:
    """name -> (kind, function(image) -> points/normals or vertices/faces); kind "points" or "mesh"."""
    from inference.prior import available_models, register_model

    models = available_models()
    paths = {}
    for name in names:
        base = name.rsplit("@", 1)[0] if name.endswith(("@white", "@png")) else name
        if base == "ellipsoid":
            paths[name] = ("points", lambda image: ellipsoid_points(input_mask(image)[1]))
        elif base == "inflation":
            paths[name] = ("points", lambda image: inflation_points(input_mask(image)[1]))
        elif base == "none":
            paths[name] = ("mesh", _mesh_path("none", fit=True))
        elif base.removesuffix("+fit") in models:
            paths[name] = ("mesh", _mesh_path(base.removesuffix("+fit"), fit=base.endswith("+fit")))
        else:
            raise SystemExit(f"unknown path '{name}': use ellipsoid, inflation, none, or one of "
                             f"{', '.join(models)} (optionally +fit, @white)")
    for run in runs:
        from bench.evaluate import _load_run
        label, net = _load_run(run)
        key = register_model(label, net)
        paths[key] = ("mesh", _mesh_path(key, fit=False))
        paths[key + "+fit"] = ("mesh", _mesh_path(key, fit=True))
    return paths


def default_paths() -> list[str]:
    from inference.prior import available_models
    models = [m for m in available_models() if not m.startswith("run:")]
    return ["ellipsoid", "inflation", "none"] + [p for m in models for p in (m, m + "+fit")]


# ---------------------------------------------------------------------------------------------------- scoring

def score_view(view: dict, kind: str, make, white: bool = False) -> dict:
    """One path on one view: the scores, watertight (None for point sets) and seconds."""
    from inference.meshes import is_watertight, sample_surface
    from inference.metrics import score_point_sets

    t = time.perf_counter()
    a, b = make(view["white" if white else "png"])
    seconds = time.perf_counter() - t
    if kind == "mesh":
        points, normals = sample_surface(a, b, SAMPLES, SEED)
        watertight = is_watertight(b)
    else:
        points, normals, watertight = a, b, None
    row = score_point_sets(points, normals, view["points"], view["normals"],
                           {"silhouette_iou": view["silhouette"], "silhouette_iou_mask": view["mask"]},
                           FRAME_COVER * view["mask"].shape[0])
    return row | {"watertight": watertight, "seconds": seconds}


def score_paths(paths: dict, views: list[dict], white: bool = False, progress=None) -> list[dict]:
    rows = []
    for i, view in enumerate(views):
        for name, (kind, make) in paths.items():
            on_white = name.endswith("@white") or (white and not name.endswith("@png"))
            row = {"path": name, "stem": view["stem"], "object": view["object"], "family": view["family"],
                   "input": "white" if on_white else "png"}
            row.update(score_view(view, kind, make, on_white))
            rows.append(row)
        if progress:
            progress(i + 1, len(views))
    return rows


def means(rows: list[dict]) -> dict:
    out = {k: float(np.mean([r[k] for r in rows])) for k in SCORE_KEYS + ("seconds",)}
    tight = [r["watertight"] for r in rows if r["watertight"] is not None]
    return out | {"watertight": float(np.mean(tight)) if tight else None, "views": len(rows)}


def summarise(rows: list[dict]) -> dict:
    """Means over views per path, per (path, family) and per (path, object), and the wins over inflation."""
    by_path = defaultdict(list)
    for r in rows:
        by_path[r["path"]].append(r)
    inflation = {(r["stem"], r["input"]): r["f@0.05"] for r in by_path.get("inflation", [])}
    out = {"summary": {}, "by_family": {}, "by_object": {}, "wins_over_inflation": {}}
    for name, rs in by_path.items():
        out["summary"][name] = means(rs)
        groups = defaultdict(list)
        for r in rs:
            groups[r["family"]].append(r)
        out["by_family"][name] = {f: means(g) for f, g in sorted(groups.items())}
        groups = defaultdict(list)
        for r in rs:
            groups[r["object"]].append(r)
        out["by_object"][name] = {o: means(g) for o, g in sorted(groups.items())}
        # Against the inflation on the same picture where it was scored on it, else on the cut-out.
        pairs = [(r["f@0.05"], inflation.get((r["stem"], r["input"]), inflation.get((r["stem"], "png"))))
                 for r in rs]
        pairs = [(a, b) for a, b in pairs if b is not None]
        out["wins_over_inflation"][name] = float(np.mean([a > b for a, b in pairs])) if pairs else None
    return out


def markdown(result: dict) -> str:
    def f(x, digits=3):
        return "–" if x is None else f"{x:.{digits}f}"

    heads = ("path", "Chamfer-L1 ↓", "F@0.02 ↑", "F@0.05 ↑", "normal cons. ↑", "sil. IoU ↑", "watertight",
             "F@0.05 organic", "F@0.05 man-made", "wins vs inflation", "s / view")
    lines = [f"Real objects (shared/realval/views, {result['views']} views; organic "
             f"{result['family_views'].get('organic', 0)}, man-made {result['family_views'].get('man-made', 0)}); "
             "means over views; wins = share of views whose F@0.05 beats the plain inflation's.", "",
             "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, s in result["summary"].items():
        fam = result["by_family"][name]
        cells = [name] + [f(s[k]) for k in SCORE_KEYS[:5]] + [f(s["watertight"], 2),
                 f(fam.get("organic", {}).get("f@0.05")), f(fam.get("man-made", {}).get("f@0.05")),
                 f(result["wins_over_inflation"][name], 2), f(s["seconds"], 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def evaluate(paths: dict, views: list[dict], white: bool = False, progress=None) -> dict:
    rows = score_paths(paths, views, white, progress)
    families = defaultdict(int)
    for v in views:
        families[v["family"]] += 1
    return {"views": len(views), "family_views": dict(families), "input": "white" if white else "png",
            "samples": SAMPLES, "seed": SEED, **summarise(rows), "rows": rows}


def score_run_checkpoint(checkpoint, views=None, fit: bool = False, white: bool = False,
                         limit: int | None = None) -> dict:
    """Means over views of a checkpoint's raw network (with `fit`: the product's full default path) on realval.
    `checkpoint`: a run folder, a checkpoint file, a loaded checkpoint dict, or a network with `.config`;
    `views`: a folder or load_views()'s list (load it once when calling repeatedly). The network goes through
    the product's own pipeline, exactly as `--run` scores it."""
    from inference.prior import register_model, unregister_model

    if isinstance(views, list):
        views = views[:limit]
    else:
        views = load_views(views or DEFAULT_VIEWS, limit)
    if hasattr(checkpoint, "config") and hasattr(checkpoint, "state_dict"):
        label, net = "run:live", checkpoint
    else:
        from bench.evaluate import _load_run
        label, net = _load_run(checkpoint)
    was_training = net.training
    key = register_model(label, net)
    try:
        rows = score_paths({key: ("mesh", _mesh_path(key, fit))}, views, white)
    finally:
        unregister_model(key)
        net.train(was_training)
    return means(rows) | {"path": key + ("+fit" if fit else "")}


# ------------------------------------------------------------------------------------------------------- main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--views", default=str(DEFAULT_VIEWS), help="the realval views folder")
    p.add_argument("--paths", default="", help="comma-separated paths (default: ellipsoid, inflation, none and "
                                                "each shipped model raw and +fit)")
    p.add_argument("--run", action="append", default=[], help="also score this training run's checkpoint (raw, +fit)")
    p.add_argument("--white", action="store_true", help="feed the _white.jpg pictures instead of the cut-outs")
    p.add_argument("--limit", type=int, default=None, help="only the first N views")
    p.add_argument("--json", default="", help="write means, breakdowns and per-view rows here")
    p.add_argument("--markdown", default="", help="write the table here")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    import torch

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    views = load_views(args.views, args.limit)
    names = [n for n in args.paths.split(",") if n] or default_paths()
    paths = build_paths(names, args.run)
    start = time.time()
    result = evaluate(paths, views, args.white,
                      progress=lambda i, n: print(f"  {i}/{n} views, {time.time() - start:.0f} s", flush=True))
    result["wall_seconds"] = round(time.time() - start, 1)
    table = markdown(result)
    print(table)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
        print(f"wrote {args.json}")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(table)
        print(f"wrote {args.markdown}")
    return result


if __name__ == "__main__":
    main()
