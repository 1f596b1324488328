"""`python -m inference --front F.png --right R.png [--back B] [--left L] [--top T] [--bottom B] -o OUT.glb`:
one closed mesh from a reference sheet in the front (else back) view's evaluation frame: GLB and OBJ (+MTL
+PNG) with its texture atlas, PLY with per-vertex colours. Exit code 0 on success, 1 when the views cannot be
one object (the message says why), 2 for a wrong command line."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import contract
from .errors import MeshFromImageError

FORMATS = ("obj", "ply", "glb")
VIEW_FLAGS = tuple(f"--{name}" for name in contract.SHEET_VIEWS)


def wanted(argv) -> bool:
    """Whether a command line asks for a reference sheet (any view flag, --front=F spelling included)."""
    return any(arg.split("=", 1)[0] in VIEW_FLAGS for arg in (argv or ()))


def add_view_arguments(parser, masks: bool = True) -> None:
    group = parser.add_argument_group("reference sheet views (at least two, one of them front or back)")
    for name in contract.SHEET_VIEWS:
        group.add_argument(f"--{name}", type=Path, default=None, metavar="IMAGE", help=f"the {name} view")
    if masks:
        for name in contract.SHEET_VIEWS:
            group.add_argument(f"--{name}-mask", dest=f"{name}_mask", type=Path, default=None, metavar="MASK",
                               help=argparse.SUPPRESS if name != "front" else
                               "a user mask for a view (--front-mask, --right-mask, ...; white/opaque = object)")


def views_of(args) -> dict:
    return {name: getattr(args, name) for name in contract.SHEET_VIEWS if getattr(args, name, None) is not None}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m inference", description="Reconstruct one closed, textured mesh "
                                "from a reference sheet (front, side, back, top views).")
    add_view_arguments(p)
    p.add_argument("-o", "--output", type=Path, required=True, help="output mesh; its suffix picks the format "
                   f"({', '.join('.' + f for f in FORMATS)})")
    contract.add_arguments(p)
    p.add_argument("--report", type=Path, default=None, help="write a JSON report here")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors and warnings")
    return p


def trimesh_of(result):
    """A trimesh with the answer's per-vertex colours (contract.SheetResult or sheets.SheetReconstruction)."""
    import trimesh
    mesh = trimesh.Trimesh(result.vertices, result.faces, process=False)
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=result.vertex_colors)
    return mesh


def textured_trimesh(result, material: str):
    """A trimesh with the answer's texture (contract.SheetResult): a vertex for every distinct (vertex, UV)
    pair, so vertices are split only where their corners' UVs differ."""
    import numpy as np
    import trimesh
    from PIL import Image

    corners = np.asarray(result.faces, np.int64).reshape(-1)
    uvs = np.asarray(result.uvs, np.float32).reshape(-1, 2)
    keys = np.column_stack([corners.astype(np.float64), uvs.astype(np.float64)])
    unique, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    mesh = trimesh.Trimesh(np.asarray(result.vertices)[corners[first]], inverse.reshape(-1, 3), process=False)
    picture = Image.fromarray(np.ascontiguousarray(result.texture[:, :, :3]))
    pbr = trimesh.visual.material.PBRMaterial(name=material, baseColorTexture=picture, metallicFactor=0.0,
                                              roughnessFactor=0.8, doubleSided=False)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uvs[first], material=pbr)
    return mesh


def export_sheet(result, path: Path) -> list[Path]:
    """Write GLB (texture embedded), OBJ (+MTL +PNG beside it, named after the output) or PLY (per-vertex
    colours: PLY readers disagree on texture coordinates) atomically; returns the files written, the mesh
    last. `result` is a contract.SheetResult."""
    import trimesh

    from .atomic import write_atomic
    from .export import write_obj
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"Unknown mesh format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "ply":
        write_atomic(path, trimesh.exchange.ply.export_ply(trimesh_of(result), encoding="binary"))
        return [path]
    mesh = textured_trimesh(result, f"{path.stem}_material")
    if fmt == "glb":
        write_atomic(path, trimesh.exchange.gltf.export_glb(trimesh.Scene(mesh)))
        return [path]
    return write_obj(mesh, path)


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    views = views_of(args)
    masks = {name: getattr(args, f"{name}_mask") for name in contract.SHEET_VIEWS
             if getattr(args, f"{name}_mask", None) is not None}
    if args.output.suffix.lstrip(".").lower() not in FORMATS:
        parser.error(f"output suffix must be one of {', '.join('.' + f for f in FORMATS)}")
    options = contract.options_from_args(args)

    from .sheet_job import to_result
    from .sheets import reconstruct_views

    start = time.perf_counter()
    entry = {"views": {k: str(v) for k, v in views.items()}, "output": str(args.output)}
    code = 0
    try:
        problems = contract.sheet_problems(views)
        if problems:
            from .errors import InputError
            raise InputError(problems[0])
        result = to_result(reconstruct_views(views, options, masks=masks or None, name=args.output.stem))
        export_sheet(result, args.output)
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        entry.update(status="ok", vertices=len(result.vertices), faces=len(result.faces),
                     reference=result.reference, warnings=result.warnings,
                     silhouette_iou={k: v.silhouette_iou for k, v in result.views.items()},
                     timings={k: round(v, 4) for k, v in result.timings.items()})
        if not args.quiet:
            ious = ", ".join(f"{k} {v.silhouette_iou:.3f}" for k, v in result.views.items())
            print(f"{' + '.join(views)} -> {args.output}  ({len(result.vertices)} vertices, {len(result.faces)} "
                  f"faces, silhouette IoU {ious}, {time.perf_counter() - start:.2f} s)")
    except MeshFromImageError as exc:
        code = 1
        entry.update(status="error", error=str(exc))
        print(f"error: {exc}", file=sys.stderr)
    except OSError as exc:
        code = 1
        entry.update(status="error", error=f"could not write output: {exc}")
        print(f"error: could not write '{args.output}': {exc}", file=sys.stderr)
    entry["seconds"] = round(time.perf_counter() - start, 3)
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps({"sheet": entry, "failed": code, "options": options.to_dict()}, indent=2))
    return code
