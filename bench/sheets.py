"""Reference-sheet quality on the real validation set (/work/shared/realval/multiview, validation only).

    python -m bench.sheets [--views front,right] [--json FILE] [--md FILE] [--objects a,b]
    python -m bench.sheets --speed [--objects a,b] [--repeats 3]

For each view set (default: front+right, front+right+top, all four) every object's sheet is reconstructed
with inference.sheets.reconstruct_views from its cut-outs and scored against the front view's ground truth
with inference.metrics (10k surface samples, a fixed 10k subset of the truth, z centred on each's own
extent, Chamfer-L1, F@0.02/0.05, normal consistency). Silhouette IoU is measured in every given view: the
mesh is projected orthographically into that view's own frame (the front-to-view scale and offset read off
the two ground-truth point sets, not off the reconstruction) and compared with that view's true mask.
A voxel hull row (128^3 hull of the true silhouettes, no smoothing) is the baseline; with --single, each
view set's first view alone through the single-picture path (inference.reconstruct, default model) is the
other (scored the same way, IoU in that view only).

--speed times whole runs instead (no scoring): reconstruct_views on each object's four 256-px views (front,
right, back, top), one warm-up run first, then the median over `--repeats` of the wall time and of the
process's CPU time per object, and of each stage; CPU time is what a loaded machine does not inflate."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import inference  # noqa: F401  (first: it pins the CPU kernels before numpy chooses its own; inference/kernels.py)
import numpy as np

ROOT = Path("/work/shared/realval/multiview")
VIEW_SETS = (("front", "right"), ("front", "right", "top"), ("front", "right", "back", "top"))
# The realval renders put the silhouette's longer side on 85% of 256 px; mesh_silhouette's grid spans
# 2 * FRAME_HALF_EXTENT, so frame units are scaled by this before rasterising.
FRAME_FILL = 0.85
HULL_RESOLUTION = 128
LABELS = {"hull": "voxel hull 128³ (baseline)", "sheets": "reconstruct_views",
          "single": "one picture ({view} only)"}


def load_truth(obj: str, view: str) -> dict:
    with np.load(ROOT / f"{obj}_{view}.npz") as z:
        return {k: z[k] for k in z.files}


def truth_subset(truth: dict):
    from inference.metrics import SAMPLES, centre_depth

    idx = np.random.default_rng(0).choice(len(truth["points"]), SAMPLES, replace=False)
    return centre_depth(truth["points"][idx].astype(np.float64)), truth["normals"][idx].astype(np.float64)


def view_transform(front_points: np.ndarray, view_points: np.ndarray, view: str):
    """(3x3 linear, offset) from the front frame to the view's frame, from the same surface in both."""
    from inference.sheets import ROTATIONS

    rot = np.array(ROTATIONS[view], np.float64)
    q = front_points @ rot.T
    scale = np.ptp(view_points, axis=0) / np.maximum(np.ptp(q, axis=0), 1e-9)
    mid = lambda a: 0.5 * (a.min(axis=0) + a.max(axis=0))  # noqa: E731
    offset = mid(view_points) - scale * mid(q)
    return np.diag(scale) @ rot, offset


def view_iou(vertices, faces, linear, offset, mask: np.ndarray) -> float:
    from inference.frame import FRAME_HALF_EXTENT
    from inference.silhouette import iou, mesh_silhouette

    p = np.asarray(vertices, np.float64) @ linear.T + offset
    size = mask.shape[0]
    p[:, :2] *= FRAME_FILL * size * (2 * FRAME_HALF_EXTENT / size)
    return iou(mesh_silhouette(p, faces, size), mask)


def score(vertices, faces, obj: str, views, truths: dict) -> dict:
    from inference.meshes import is_watertight
    from inference.metrics import score_mesh, self_intersections

    gt_p, gt_n = truth_subset(truths["front"])
    out = score_mesh(vertices, faces, gt_p, gt_n)
    for v in views:
        linear, offset = view_transform(truths["front"]["points"], truths[v]["points"], v)
        out[f"iou_{v}"] = view_iou(vertices, faces, linear, offset, truths[v]["mask"])
    out["iou_min"] = min(out[f"iou_{v}"] for v in views)
    out["watertight"] = bool(is_watertight(faces))
    out["self_intersections"] = self_intersections(vertices, faces)
    return out


def hull_mesh(obj: str, views, truths: dict):
    """Baseline: 128^3 voxel hull of the true silhouettes, marched as it is."""
    from inference.sheets import carve, march, prepare_views

    pictures = {v: str(ROOT / f"{obj}_{v}.png") for v in views}
    masks = {v: truths[v]["mask"] for v in views}
    _, sheet, extents, _, _ = prepare_views(pictures, masks)
    f3, grid, _ = carve(sheet, extents, HULL_RESOLUTION, rounding=False)
    occupancy = (f3 > 0).astype(np.float32)
    return march(occupancy, grid, level=0.5)


def run_set(objects, views, method: str, options, fit_steps=None, restore_steps=None,
            single_options=None) -> list[dict]:
    from inference.sheets import reconstruct_views

    rows = []
    for obj in objects:
        truths = {v: load_truth(obj, v) for v in set(views) | {"front"}}
        t = time.perf_counter()
        warnings = []
        if method == "hull":
            v, f = hull_mesh(obj, views, truths)
        elif method == "single":
            from inference import reconstruct
            r = reconstruct(str(ROOT / f"{obj}_{views[0]}.png"), single_options)
            v, f = r.vertices, r.faces
        else:
            r = reconstruct_views({n: str(ROOT / f"{obj}_{n}.png") for n in views}, options, fit_steps=fit_steps,
                                  restore_steps=restore_steps)
            v, f, warnings = r.vertices, r.faces, r.warnings
        seconds = time.perf_counter() - t
        scored = views[:1] if method == "single" else views
        row = {"object": obj, "seconds": seconds, "warnings": warnings, **score(v, f, obj, scored, truths)}
        rows.append(row)
        print(f"  {'+'.join(views):24s} {method:6s} {obj:18s} F@0.05 {row['f@0.05']:.3f} NC "
              f"{row['normal_consistency']:.3f} IoU min {row['iou_min']:.3f} {seconds:5.2f}s"
              + (f"  ({len(warnings)} warning(s))" if warnings else ""), flush=True)
    return rows


def summarise(rows: list[dict], views) -> dict:
    views = [v for v in views if f"iou_{v}" in rows[0]]
    keys = ["chamfer_l1", "f@0.02", "f@0.05", "normal_consistency", "iou_min", "seconds"] + [f"iou_{v}" for v in views]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    mean["watertight"] = int(sum(r["watertight"] for r in rows))
    mean["no_self_intersections"] = int(sum(r["self_intersections"] == 0 for r in rows))
    mean["objects"] = len(rows)
    return mean


def markdown(results: dict) -> str:
    lines = ["| views | method | Chamfer-L1 | F@0.02 | F@0.05 | normal cons. | IoU per view | closed | no crossings | s/object |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key, entry in results["sets"].items():
        for method in ("single", "hull", "sheets"):
            if method not in entry:
                continue
            m = entry[method]["mean"]
            views = [v for v in key.split("+") if f"iou_{v}" in m]
            ious = ", ".join(f"{v} {m[f'iou_{v}']:.3f}" for v in views)
            lines.append(f"| {key} | {LABELS[method].format(view=views[0])} | "
                         f"{m['chamfer_l1']:.4f} | {m['f@0.02']:.3f} | {m['f@0.05']:.3f} | {m['normal_consistency']:.3f} | "
                         f"{ious} | {m['watertight']}/{m['objects']} | {m['no_self_intersections']}/{m['objects']} | "
                         f"{m['seconds']:.2f} |")
    return "\n".join(lines) + "\n"


def speed(objects, options, repeats: int) -> dict:
    """Median wall and CPU seconds of a whole four-view run per object, and per stage (reconstruct_views's
    timings), after one warm-up run."""
    from inference.sheets import reconstruct_views

    views = VIEW_SETS[-1]
    def once(obj):
        wall, cpu = time.perf_counter(), time.process_time()
        r = reconstruct_views({n: str(ROOT / f"{obj}_{n}.png") for n in views}, options)
        return time.perf_counter() - wall, time.process_time() - cpu, r.timings
    once(objects[0])
    walls, cpus, stages = [], [], {}
    for obj in objects:
        runs = [once(obj) for _ in range(repeats)]
        walls.append(float(np.median([w for w, _, _ in runs])))
        cpus.append(float(np.median([c for _, c, _ in runs])))
        for key in runs[0][2]:
            stages.setdefault(key, []).append(float(np.median([t[key] for _, _, t in runs])))
        print(f"  {obj:18s} wall {walls[-1]:.2f} s  CPU {cpus[-1]:.2f} s", flush=True)
    out = {"views": list(views), "objects": len(objects), "wall_s": float(np.median(walls)),
           "cpu_s": float(np.median(cpus)), "wall_max_s": float(np.max(walls)),
           "stages_s": {k: float(np.median(v)) for k, v in stages.items()}}
    print(f"four 256-px views, median over {len(objects)} objects: wall {out['wall_s']:.2f} s (max "
          f"{out['wall_max_s']:.2f} s), CPU {out['cpu_s']:.2f} s; stages: "
          + ", ".join(f"{k} {v:.2f}" for k, v in out["stages_s"].items()), flush=True)
    return out


def main(argv=None):
    from inference import contract   # the product's defaults, defined once
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--views", help="one view set, comma-separated (default: the three standard sets)")
    p.add_argument("--objects", help="comma-separated subset of objects (default: all)")
    p.add_argument("--json", help="write per-object rows and means here")
    p.add_argument("--md", help="write the table of means here")
    p.add_argument("--no-hull", action="store_true", help="skip the voxel hull baseline")
    p.add_argument("--single", action="store_true",
                   help="also the single-picture path on each set's first view (default model)")
    p.add_argument("--vertices", type=int, default=contract.default("template_vertices"))
    p.add_argument("--fit-steps", type=int, help="override the sheet fit's step count (default: the engine's)")
    p.add_argument("--restore-steps", type=int,
                   help="override the silhouette-restoring fit's step count (default: the engine's)")
    p.add_argument("--speed", action="store_true", help="time whole four-view runs instead of scoring")
    p.add_argument("--repeats", type=int, default=3, help="--speed: runs per object")
    args = p.parse_args(argv)

    import torch
    torch.set_num_threads(1)
    from inference.result import ReconstructionOptions

    index = json.loads((ROOT / "index.json").read_text())
    objects = sorted({e["object"] for e in index})
    if args.objects:
        objects = [o for o in objects if o in args.objects.split(",")]
    sets = [tuple(args.views.split(","))] if args.views else VIEW_SETS
    options = ReconstructionOptions(template_vertices=args.vertices, device="cpu", model="none")
    if args.speed:
        result = speed(objects, options, args.repeats)
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1))
        return
    results = {"root": str(ROOT), "objects": objects, "options": options.to_dict(), "sets": {}}
    single_rows = {}
    for views in sets:
        entry = {}
        methods = (("single",) if args.single else ()) + (("hull",) if not args.no_hull else ()) + ("sheets",)
        for method in methods:
            if method == "single" and views[0] in single_rows:   # the same picture in every set
                rows = single_rows[views[0]]
            else:
                rows = run_set(objects, views, method, options, args.fit_steps, args.restore_steps,
                               single_options=ReconstructionOptions(template_vertices=args.vertices, device="cpu"))
            if method == "single":
                single_rows[views[0]] = rows
            entry[method] = {"mean": summarise(rows, views), "rows": rows}
        results["sets"]["+".join(views)] = entry
        for method, e in entry.items():
            m = e["mean"]
            print(f"{'+'.join(views)} {method}: F@0.02 {m['f@0.02']:.3f} F@0.05 {m['f@0.05']:.3f} "
                  f"NC {m['normal_consistency']:.3f} IoU min {m['iou_min']:.3f} "
                  f"closed {m['watertight']}/{m['objects']} clean {m['no_self_intersections']}/{m['objects']}", flush=True)
    table = markdown(results)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.md:
        Path(args.md).write_text(table)


if __name__ == "__main__":
    main()
