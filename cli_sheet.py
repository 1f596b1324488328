"""Headless reference sheets: `blender -b --addons bl_ext.user_default.mesh_from_image -c mesh_from_image
--front F.png --right R.png [--back B.png] [--left L.png] [--top T.png] [--bottom B.png] -o OUT.glb`.

cli.py hands a command line with a view flag here. The object is built as Build from Sheet builds it (the views'
texture atlas on one UV map, the same colours per vertex for PLY; --bake SIZE bakes it into one texture on an
unwrap), at the origin with the front silhouette's longer side --size metres, exported with Blender's own
exporter (glb obj fbx usd ply stl blend; the suffix of -o picks it) and removed again. Exit code 0 on
success, 1 when the views cannot be one object (the engine's message says why), 2 for a wrong command line."""
from __future__ import annotations

import argparse
import os
import sys

COMMAND = "mesh_from_image"
VIEWS = ("front", "back", "left", "right", "top", "bottom")   # contract.SHEET_VIEWS
VIEW_FLAGS = tuple(f"--{v}" for v in VIEWS)


def wanted(argv) -> bool:
    return any(str(arg).split("=", 1)[0] in VIEW_FLAGS for arg in (argv or ()))


def _parser() -> argparse.ArgumentParser:
    from .inference import contract
    from .scene.export import EXTENSIONS
    parser = argparse.ArgumentParser(
        prog=f"blender -b --addons bl_ext.user_default.{COMMAND} -c {COMMAND}",
        description="Turn a reference sheet (front, side, back, top views of one object) into one closed, "
                    "textured mesh and export it.")
    group = parser.add_argument_group("views (at least two, one of them front or back)")
    for view in VIEWS:
        group.add_argument(f"--{view}", default=None, metavar="IMAGE", help=f"the {view} view")
    parser.add_argument("-o", "--output", required=True,
                        help=f"output file; its suffix picks the format ({', '.join(sorted(EXTENSIONS.values()))})")
    contract.add_arguments(parser, ("size", "template_vertices", "device", "remesh"))
    # --faces, --quads, --voxel-first, --subdivision, --sharp-angle, --bake, --upright
    from .scene.sheet_build import SHEET_ARTIST_OPTIONS
    contract.add_arguments(parser.add_argument_group("artist options"), SHEET_ARTIST_OPTIONS)
    parser.add_argument("--python", default=None,
                        help="Python interpreter for the worker (default: the add-on preference, else Blender's)")
    parser.add_argument("--timeout", type=float, default=contract.JOB_TIMEOUT_S, help="seconds allowed")
    return parser


def _format_of(path: str) -> str | None:
    from .scene.export import EXTENSIONS
    suffix = os.path.splitext(path)[1].lower()
    return next((fmt for fmt, ext in EXTENSIONS.items() if ext == suffix or (fmt == "usd" and suffix == ".usd")),
                None)


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    fmt = _format_of(args.output)
    if fmt is None:
        print(f"{COMMAND}: error: the output's suffix names no format Blender exports here "
              f"(glb, obj, fbx, usdc, ply, stl, blend)", file=sys.stderr)
        return 2

    import bpy

    from .inference import contract
    from .scene.sheet_build import sheet_artist_problem
    artist = contract.artist_options_from_args(args)
    if sheet_artist_problem(artist):
        print(f"{COMMAND}: error: {sheet_artist_problem(artist)}", file=sys.stderr, flush=True)
        return 2
    from .scene import image_source, settings
    from .scene.bake import BakeError
    from .scene.build import remove_object
    from .scene.export import ExportError, export_object
    from .scene.reconstruction import RunSettings
    from .scene.sheet_run import SheetRun
    from .scene.topology import TopologyError
    from .worker.client import WorkerError

    views = {v: getattr(args, v) for v in VIEWS if getattr(args, v)}
    problems = contract.sheet_problems(views)
    missing = [f"{v} ({p})" for v, p in views.items() if not os.path.isfile(p)]
    if problems or missing:
        print(f"{COMMAND}: error: " + (problems[0] if problems else f"no such picture: {', '.join(missing)}"),
              file=sys.stderr, flush=True)
        return 1
    output = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    sources = {v: image_source.from_file(p) for v, p in views.items()}
    run_settings = RunSettings(size=args.size, template_vertices=args.template_vertices,
                               device=settings.engine_device(args.device), even_triangles=args.remesh)
    name = os.path.splitext(os.path.basename(output))[0]
    client = settings.worker_client(python=os.path.abspath(args.python) if args.python else None)
    run = SheetRun(sources, run_settings, client, name)
    context = bpy.context
    layer = context.view_layer
    selected = [o.name for o in layer.objects.selected if o is not None]
    active = layer.objects.active.name if layer.objects.active else None
    built = None
    try:
        run.start()
        answer = run.wait(timeout=args.timeout)
        built = run.build(context, (0.0, 0.0, 0.0), artist=artist)
        written = export_object(built.obj, os.path.dirname(output), name, fmt)
        for warning in answer.warnings:
            print(f"{COMMAND}: warning: {warning}", file=sys.stderr, flush=True)
        ious = ", ".join(f"{v} {i.silhouette_iou:.3f}" for v, i in answer.views.items() if i.silhouette_iou is not None)
        print(f"{COMMAND}: {' + '.join(views)} -> {written} ({len(built.obj.data.polygons)} faces, "
              f"silhouette IoU {ious})", flush=True)
        return 0
    except (WorkerError, image_source.SourceError, ExportError, BakeError, TopologyError, ValueError, OSError,
            RuntimeError) as exc:
        print(f"{COMMAND}: error: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if built is not None:
            remove_object(built.obj)
        run.cancel()
        for obj in layer.objects:
            obj.select_set(obj.name in selected)
        layer.objects.active = layer.objects.get(active) if active else None
