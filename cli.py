"""Headless conversion: `blender -c mesh_from_image IMAGE... --output-dir DIR [--format glb|obj|fbx|usd|ply|stl|blend]`.

Run as `blender -b --addons bl_ext.user_default.mesh_from_image -c mesh_from_image ...`. Every picture is
sent to the worker up front (it works through them one after another while Blender builds and exports
the finished ones), a bad picture is reported on stderr and skipped, and the exit code is 1 when any
picture failed (2 for bad arguments)."""
from __future__ import annotations

import argparse
import os
import sys

import bpy

COMMAND = "mesh_from_image"
_cli_handle = None


def _parser() -> argparse.ArgumentParser:
    from .inference import contract
    from .scene.export import FORMATS
    parser = argparse.ArgumentParser(
        prog=f"blender -b --addons bl_ext.user_default.{COMMAND} -c {COMMAND}",
        description="Turn pictures into textured, watertight meshes and export them.")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="picture files (PNG, JPEG, WebP, TIFF, BMP)")
    parser.add_argument("--output-dir", required=True, help="folder for the exported meshes (created if missing)")
    parser.add_argument("--format", default="glb", choices=FORMATS, help="output format (default: glb)")
    # --size, --vertices, --no-refine, --refine-steps, --device, --model, --no-remesh: defaults, bounds and help
    # from inference/contract.py, shared with the redo panel and `python -m inference`.
    contract.add_arguments(parser, ("size",) + contract.ENGINE_FLAGS)
    parser.add_argument("--python", default=None,
                        help="Python interpreter for the worker (default: the add-on preference, else Blender's)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per picture")
    artist = parser.add_argument_group("artist options")
    artist.add_argument("--faces", type=int, default=0, help="target face count (met within 10%%)")
    artist.add_argument("--quads", action="store_true", help="quad remesh with QuadriFlow")
    artist.add_argument("--voxel-first", action="store_true", help="voxel remesh before the quad remesh")
    artist.add_argument("--subdivision", type=int, default=0, choices=range(0, 5), metavar="LEVELS",
                        help="Subdivision Surface levels, applied by the exporter (0-4)")
    artist.add_argument("--sharp-angle", type=float, default=60.0, metavar="DEGREES",
                        help="edges sharper than this stay hard under smooth shading (default 60)")
    artist.add_argument("--fill-sides", action="store_true",
                        help="texture the unseen sides with colours grown in from the silhouette")
    artist.add_argument("--bake", type=int, default=0, metavar="SIZE",
                        help="bake everything into one SIZE x SIZE texture on a UV unwrap")
    artist.add_argument("--upright", nargs="?", const="auto", default=None, metavar="DEGREES",
                        help="stand the object on the ground (y = 0 in glTF), origin at the bottom centre, "
                             "undoing the camera elevation: the model's estimate, or DEGREES when given")
    artist.add_argument("--objects", default="largest", choices=("largest", "separate", "joined"),
                        help="several objects in a picture: the largest only, one object each (in one "
                             "file), or joined into one")
    return parser


def _output_options(args):
    """The artist options, or None when the arguments are bad (the message is printed)."""
    import math
    from .scene.output import OutputOptions
    from .scene.topology import TopologyOptions
    if args.faces < 0 or (args.bake and args.bake < 16) or not 0 <= args.sharp_angle <= 180:
        print(f"{COMMAND}: error: --faces must not be negative, --bake at least 16, --sharp-angle 0-180",
              file=sys.stderr)
        return None
    elevation = None
    if args.upright not in (None, "auto"):
        try:
            elevation = math.radians(float(args.upright))
        except ValueError:
            print(f"{COMMAND}: error: --upright takes a camera elevation in degrees", file=sys.stderr)
            return None
    topology = TopologyOptions(target_faces=args.faces, quads=args.quads, voxel_first=args.voxel_first,
                               subdivision=args.subdivision, sharp_angle=math.radians(args.sharp_angle))
    return OutputOptions(objects=args.objects.upper(), fill_sides=args.fill_sides, bake_size=args.bake,
                         topology=topology, upright=args.upright is not None, elevation=elevation)


def main(argv: list[str]) -> int:
    from . import cli_sheet   # --front/--right/... -o OUT: one mesh from a reference sheet
    if cli_sheet.wanted(argv):
        return cli_sheet.main(argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # --help or a usage error: argparse already printed why
        return int(exc.code or 0)
    output = _output_options(args)
    if output is None:
        return 2
    from .scene import image_source, settings
    from .scene.bake import BakeError
    from .scene.build import remove_object
    from .scene.export import ExportError, export_object
    from .scene.topology import TopologyError
    from .scene.reconstruction import ReconstructionRun, RunSettings
    from .worker.client import WorkerError

    output_dir = os.path.abspath(args.output_dir)
    os.makedirs(output_dir, exist_ok=True)
    run_settings = RunSettings(size=args.size, template_vertices=args.template_vertices, refine=args.refine,
                               refine_steps=args.refine_steps, device=settings.engine_device(args.device),
                               all_objects=output.objects != "LARGEST", model=args.model,
                               even_triangles=args.remesh, fill_holes=args.fill_holes)
    python = os.path.abspath(args.python) if args.python else None
    client = settings.worker_client(python=python)
    expected_errors = (WorkerError, image_source.SourceError, ExportError, BakeError, TopologyError, ValueError,
                       OSError, RuntimeError)

    try:
        client.start()   # once: a worker that cannot start would fail every picture the same way
    except WorkerError as exc:
        print(f"{COMMAND}: error: {exc}", file=sys.stderr, flush=True)
        return 1

    runs = []
    failed = 0
    for path, name in zip(args.images, _unique_names(args.images)):
        run = ReconstructionRun(image_source.from_file(path, name=name), run_settings, client)
        try:
            run.start()
            runs.append((path, run))
        except expected_errors as exc:
            failed += 1
            _report_failure(path, exc)
    context = bpy.context
    selection = _Selection(context)
    try:
        for path, run in runs:
            built = None
            try:
                run.wait(timeout=args.timeout)
                built = run.build(context, (0.0, 0.0, 0.0), output)
                # Every object of the picture is selected: the exporters write them into one file.
                written = export_object(built.objects, output_dir, run.source.name, args.format)
                print(f"{COMMAND}: {path} -> {written}", flush=True)
            except expected_errors as exc:
                failed += 1
                _report_failure(path, exc)
            finally:
                for obj in (built.objects if built is not None else ()):
                    remove_object(obj)
                run.cancel()
    finally:
        for _path, run in runs:   # interrupted: stop what the worker still has queued
            run.cancel()
        selection.restore(context)
    if failed:
        print(f"{COMMAND}: {failed} of {len(args.images)} pictures failed", file=sys.stderr)
    return 1 if failed else 0


def _unique_names(paths: list[str]) -> list[str]:
    """Output names from the pictures' stems; a repeated stem (a/mug.png, b/mug.png) gets _2, _3..."""
    from .scene.image_source import object_name
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        stem = object_name(os.path.basename(path))
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
    return names


class _Selection:
    """The selection and active object before the command, put back afterwards: building each picture's
    object selects it (the exporters write the selection only), which is not the caller's business."""

    def __init__(self, context):
        layer = context.view_layer
        self.selected = [obj.name for obj in layer.objects.selected if obj is not None]
        self.active = layer.objects.active.name if layer.objects.active else None

    def restore(self, context):
        layer = context.view_layer
        for obj in layer.objects:
            obj.select_set(obj.name in self.selected)
        layer.objects.active = layer.objects.get(self.active) if self.active else None


def _report_failure(path: str, exc: Exception) -> None:
    print(f"{COMMAND}: error: {path}: {exc}", file=sys.stderr, flush=True)


def register():
    global _cli_handle
    _cli_handle = bpy.utils.register_cli_command(COMMAND, main)


def unregister():
    global _cli_handle
    if _cli_handle is not None:
        bpy.utils.unregister_cli_command(_cli_handle)
        _cli_handle = None
