"""Headless conversion: `blender -c mesh_from_image IMAGE|FOLDER... --output-dir DIR [--format glb|obj|fbx|usd|ply|stl|blend]`.

Run as `blender -b --addons bl_ext.user_default.mesh_from_image -c mesh_from_image ...`. Which pictures, which
share of them (--chunk K/N for a farm task), which still need doing (--resume) and the --report are
inference/batch.py's, shared with `python -m inference`. Every picture to do is sent to the worker(s) up
front (--jobs J: J workers, pictures dealt out in turn; each works through its queue while Blender builds
and exports the finished ones in order; a worker that dies costs only the picture it was running,
worker/client.py retries the rest). Any failure of one picture is reported on stderr and in the report, and
the others still run. Exit code: 0 every picture done or skipped; 1 when any picture failed; 2 for bad
arguments or an output folder or report that cannot be written; 130/143 when stopped by Ctrl+C/SIGTERM
(temporary files removed)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import bpy

COMMAND = "mesh_from_image"
_cli_handle = None


def _parser() -> argparse.ArgumentParser:
    from .inference import contract
    from .scene.export import FORMATS
    parser = argparse.ArgumentParser(
        prog=f"blender -b --addons bl_ext.user_default.{COMMAND} -c {COMMAND}",
        description="Turn pictures into textured, watertight meshes and export them.")
    parser.add_argument("images", nargs="*", metavar="IMAGE",
                        help="pictures (PNG, JPEG, WebP, TIFF, BMP, EXR, ...) or folders of them (sorted by path)")
    parser.add_argument("--output-dir", required=True, help="folder for the exported meshes (created if missing)")
    parser.add_argument("--format", default="glb", choices=FORMATS, help="output format (default: glb)")
    # --size, --vertices, --no-refine, --refine-steps, --device, --model, --no-remesh: defaults, bounds and help
    # from inference/contract.py, shared with the redo panel and `python -m inference`.
    contract.add_arguments(parser, ("size",) + contract.ENGINE_FLAGS)
    parser.add_argument("--python", default=None,
                        help="Python interpreter for the worker (default: the add-on preference, else Blender's)")
    parser.add_argument("--timeout", type=float, default=contract.JOB_TIMEOUT_S, help="seconds allowed per picture")
    parser.add_argument("--report", default=None, metavar="FILE.json",
                        help="write a JSON report of every picture here (rewritten after every picture)")
    # --faces, --quads, --voxel-first, --subdivision, --sharp-angle, --fill-sides, --bake, --upright, --objects:
    # inference/contract.py's ArtistOptions, shared with the redo panel and the sidebar; their parsers refuse a
    # bad value naming the flag (exit code 2).
    contract.add_arguments(parser.add_argument_group("artist options"), contract.ARTIST_FLAGS)
    from .inference import batch
    batch.add_arguments(parser)   # folders, --from-list, --resume/--overwrite, --chunk/--range, --jobs
    return parser


def _output_options(args):
    """The artist options (contract.ArtistOptions), or None when they do not hold together (the message is
    printed); each flag's own bounds were checked by the parser."""
    from .inference import contract
    try:
        return contract.artist_options_from_args(args)
    except contract.OptionError as exc:
        print(f"{COMMAND}: error: {exc}", file=sys.stderr)
        return None


def main(argv: list[str]) -> int:
    from . import cli_sheet   # --front/--right/... -o OUT: one mesh from a reference sheet
    if cli_sheet.wanted(argv):
        return cli_sheet.main(argv)
    from .inference import batch
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if not args.images and args.from_list is None:
            parser.error("name at least one picture or folder (or --from-list FILE)")
        batch.check_arguments(args)
    except SystemExit as exc:   # --help or a usage error: argparse already printed why
        return int(exc.code or 0)
    except batch.BatchError as exc:
        print(f"{COMMAND}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    output = _output_options(args)
    if output is None:
        return 2
    from .scene import image_source, settings
    from .scene.export import EXTENSIONS
    from .scene.reconstruction import RunSettings

    output_dir = os.path.abspath(args.output_dir)
    report_path = os.path.abspath(args.report) if args.report else None
    try:
        pictures = batch.expand(args.images, suffixes=image_source.IMAGE_SUFFIXES, recursive=args.recursive,
                                pattern=args.pattern, from_list=args.from_list, exclude=output_dir)
    except batch.BatchError as exc:
        print(f"{COMMAND}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    items = batch.plan(pictures, output_dir, EXTENSIONS[args.format], stem=image_source.object_name)
    share, label = batch.select(items, args.chunk, args.index_range)
    problem = _writable(output_dir) or (_writable(os.path.dirname(report_path)) if report_path else None)
    if problem is None and report_path and os.path.isdir(report_path):
        problem = f"--report '{report_path}' is a folder; name a .json file"
    if problem is not None:   # before any work: an hour of reconstructions must not end in "cannot write"
        print(f"{COMMAND}: error: {problem}", file=sys.stderr, flush=True)
        return 2
    run_settings = RunSettings(size=args.size, template_vertices=args.template_vertices, refine=args.refine,
                               refine_steps=args.refine_steps, device=settings.engine_device(args.device),
                               all_objects=output.objects != "LARGEST", model=args.model,
                               even_triangles=args.remesh, fill_holes=args.fill_holes)
    # What an output's record must match for --resume to keep it: the engine's options and the artist's.
    fingerprint = {"format": args.format, "options": run_settings.options().to_wire(),
                   "artist": json.loads(json.dumps(dataclasses.asdict(output), default=str))}
    report = batch.Report(report_path and Path(report_path), share,
                          dict(fingerprint["options"], format=args.format, artist=fingerprint["artist"]), total=len(items), share=label,
                          command=COMMAND)
    if report.write() is not None:
        print(f"{COMMAND}: error: cannot write the report '{report_path}'", file=sys.stderr, flush=True)
        return 2
    todo = []
    for i, (item, entry) in enumerate(zip(share, report.entries)):
        run, why = batch.decide(item, fingerprint, args.resume, args.overwrite)
        if run:
            todo.append((i, item, entry))
        else:
            entry.update(status="skipped", reason=why)
            print(f"{COMMAND}: {batch.position(i, len(share))} {item.path}: skipped, {why}", flush=True)
    report.write()
    code = _run_batch(args, todo, len(share), run_settings, output, report, fingerprint)
    counts = report.counts()
    if code == 0 and (len(share) > 1 or counts["skipped"] or counts["failed"]):
        print(f"{COMMAND}: {report.summary()}", file=sys.stderr if counts["failed"] else sys.stdout, flush=True)
    return code if code else batch.exit_code(report)


def _clients(args, jobs: int):
    """The worker clients of this batch: the shared one, or with --jobs J, J of its own (each started here and
    stopped at the end), the cores shared out among them."""
    from .scene import settings
    from .worker.client import WorkerClient
    python = os.path.abspath(args.python) if args.python else None
    shared = settings.worker_client(python=python)
    if jobs == 1:
        return [shared], []
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    own = [WorkerClient(runtime=shared.runtime, package_dir=shared.package_dir,
                        extra_env={"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}) for _ in range(jobs)]
    return own, own


def _run_batch(args, todo, count, run_settings, output, report, fingerprint) -> int:
    """Reconstruct, build, export and record `todo`; 0, or the exit code of a stop (1 no worker, 130/143)."""
    from .inference import batch
    from .scene import image_source
    from .scene.build import remove_object
    from .scene.export import export_files
    from .scene.reconstruction import ReconstructionRun
    from .worker.client import WorkerError

    jobs = max(1, min(args.jobs, len(todo)))
    clients, own = _clients(args, jobs)
    runs = []
    with _StopOnTerm():
        try:
            try:
                for client in clients:   # once: a worker that cannot start would fail every picture the same way
                    client.start()
            except WorkerError as exc:
                print(f"{COMMAND}: error: {exc}", file=sys.stderr, flush=True)
                for _i, _item, entry in todo:
                    entry.update(status="failed", error=str(exc))
                report.write()
                return 1
            for n, (i, item, entry) in enumerate(todo):
                try:
                    source = image_source.from_file(str(item.path), name=item.output.stem)
                    run = ReconstructionRun(source, run_settings, clients[n % len(clients)])
                    run.start()
                    runs.append((i, item, run, entry))
                except Exception as exc:   # noqa: BLE001 - one picture's failure is that picture's alone
                    _report_failure(str(item.path), exc, entry, batch.position(i, count))
            report.write()
            context = bpy.context
            selection = _Selection(context)
            try:
                for i, item, run, entry in runs:
                    built = None
                    started = time.perf_counter()
                    try:
                        entry["status"] = "running"
                        report.write()
                        run.wait(timeout=args.timeout)
                        batch.forget_record(item)
                        built = run.build(context, (0.0, 0.0, 0.0), output)
                        # Every object of the picture is selected: the exporters write them into one file.
                        files = export_files(built.objects, str(item.output.parent), item.output.stem, args.format)
                        entry.update(status="done", files=files, seconds=round(time.perf_counter() - started, 3))
                        info = run.answer.info if run.answer is not None else None
                        if info is not None and info.holes:
                            entry.update(holes=info.holes, hole_areas=info.hole_areas)
                        for key, label in (("warning", "warning"), ("frame_note", "note")):
                            said = info.get(key) if info is not None else None
                            if said:
                                entry[key] = said
                                print(f"{COMMAND}: {label}: {item.path}: {said}", file=sys.stderr, flush=True)
                        try:
                            batch.write_record(item, files, fingerprint)
                        except OSError as exc:   # the mesh is fine; only --resume will not know it
                            entry["warning_record"] = f"no resume record: {exc.strerror or exc}"
                        print(f"{COMMAND}: {batch.position(i, count)} {item.path} -> {files[0]}", flush=True)
                    except Exception as exc:   # noqa: BLE001
                        _report_failure(str(item.path), exc, entry, batch.position(i, count))
                    finally:
                        for obj in (built.objects if built is not None else ()):
                            remove_object(obj)
                        run.cancel()
                        report.write()
            finally:
                for _i, _item, run, _entry in runs:   # interrupted: stop what the worker still has queued
                    run.cancel()
                selection.restore(context)
        except (KeyboardInterrupt, SystemExit) as exc:
            for entry in report.entries:
                if entry["status"] in ("pending", "running"):
                    entry.update(status="not run", error="the command was interrupted before this picture")
            report.write(interrupted=True)
            counts = report.counts()
            print(f"{COMMAND}: interrupted: {counts['done']} of {len(report.entries)} picture(s) written",
                  file=sys.stderr, flush=True)
            return 130 if isinstance(exc, KeyboardInterrupt) else 143
        finally:
            for client in own:
                client.stop()
    report.write(complete=True)
    return 0


def _writable(folder: str) -> str | None:
    if os.path.exists(folder) and not os.path.isdir(folder):
        return f"'{folder}' is not a folder"
    try:
        os.makedirs(folder, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(prefix=".mesh_from_image-probe", dir=folder)
        probe.close()
    except OSError as exc:
        return f"cannot write into '{folder}': {exc.strerror or exc}"
    return None


class _StopOnTerm:
    """SIGTERM (a farm's job stop, `kill`) ends the command through its finally blocks, like Ctrl+C: the
    runs' and the worker's temporary folders are removed instead of being left in /tmp."""

    def __enter__(self):
        import signal
        self._previous = None
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        except (ValueError, OSError):   # not the main thread
            pass
        return self

    @staticmethod
    def _handle(signum, frame):
        raise SystemExit(128 + signum)

    def __exit__(self, *exc):
        import signal
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
        return False


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


def _report_failure(path: str, exc: Exception, entry: dict | None = None, where: str = "") -> None:
    expected = ("WorkerError", "SourceError", "ExportError", "BakeError", "TopologyError", "OptionError")
    if type(exc).__name__ in expected or isinstance(exc, (ValueError, OSError)):
        message = str(exc) or type(exc).__name__
    else:   # a bug met by one picture: one line, not a traceback, and the batch goes on
        message = f"internal error ({type(exc).__name__}: {exc}); the other pictures still run"
    if entry is not None:
        entry.update(status="failed", error=message)
    print(f"{COMMAND}: {where + ' ' if where else ''}error: {path}: {message}", file=sys.stderr, flush=True)


def register():
    global _cli_handle
    _cli_handle = bpy.utils.register_cli_command(COMMAND, main)


def unregister():
    global _cli_handle
    if _cli_handle is not None:
        bpy.utils.unregister_cli_command(_cli_handle)
        _cli_handle = None
