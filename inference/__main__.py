"""Command line: `python -m inference IMAGE [IMAGE ...] --output-dir DIR` or `python -m inference IMAGE -o OUT.obj`.

Inputs are pictures, folders (--recursive, --pattern) or a --from-list file; one mesh per picture, named after
its stem (unique per output folder) under --output-dir with the inputs' subfolders kept, in the evaluation frame.
Batch flags (--resume, --overwrite, --chunk K/N, --range A-B, --jobs J, --report) are inference/batch.py's,
shared with `blender -c mesh_from_image`. Any failure of one picture is reported on stderr (and in the JSON
report, rewritten atomically after every change) and the others still run; Ctrl+C stops after the running
picture(s). Exit code: 0 every picture done or skipped, 1 any failed, 2 for a wrong command line or an output
folder/report that cannot be written, 130 when interrupted."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from . import batch, batch_run, contract
from .atomic import write_atomic
from .export import FORMATS
from .image_io import FLOAT_SUFFIXES, SUPPORTED_SUFFIXES

# What a folder gives this command: every picture the engine reads itself.
PICTURE_SUFFIXES = frozenset(SUPPORTED_SUFFIXES | FLOAT_SUFFIXES | {".gif"})


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m inference",
                                description="Reconstruct a closed, textured mesh from each picture.",
                                epilog="Exit code: 0 every picture done or skipped, 1 some failed, 2 bad arguments "
                                       "or an output that cannot be written, 130 interrupted.")
    p.add_argument("images", nargs="*", type=Path, metavar="IMAGE",
                   help="pictures, or folders of pictures (sorted by path)")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--output-dir", type=Path, help="folder for the meshes (created if missing; input "
                                                     "subfolders are kept)")
    out.add_argument("-o", "--output", type=Path, help="output file for a single image; its suffix picks the format")
    p.add_argument("--format", choices=FORMATS, default=None, help="mesh format with --output-dir (default glb)")
    contract.add_arguments(p)   # --vertices, --no-refine, --refine-steps/--steps, --device, --model, --no-remesh
    p.add_argument("--mask", type=Path, default=None, help="mask image for a single input (white/opaque = object)")
    p.add_argument("--report", type=Path, default=None,
                   help="write a JSON report of every input here (rewritten after every picture)")
    batch.add_arguments(p)      # folders, --from-list, --resume/--overwrite, --chunk/--range, --jobs
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def _plan(args, parser) -> tuple[list[batch.BatchItem], str]:
    """Every picture of the batch with its output, and the format."""
    if args.output is not None:
        if len(args.images) != 1 or args.from_list is not None or args.images[0].is_dir():
            parser.error("-o/--output takes exactly one image; use --output-dir for several or a folder")
        suffix = args.output.suffix.lstrip(".").lower()
        if suffix not in FORMATS:
            parser.error(f"output suffix must be one of {', '.join('.' + f for f in FORMATS)}")
        if args.format and args.format != suffix:
            parser.error("--format disagrees with the output file's suffix")
        return [batch.BatchItem(index=1, path=args.images[0], output=args.output)], suffix
    fmt = args.format or "glb"
    pictures = batch.expand(args.images, suffixes=PICTURE_SUFFIXES, recursive=args.recursive,
                            pattern=args.pattern, from_list=args.from_list, exclude=args.output_dir)
    return batch.plan(pictures, args.output_dir, "." + fmt), fmt


def _writable_folder(folder: Path) -> str | None:
    """Why nothing can be written into `folder` (created if missing), or None when a file can be.
    Checked by writing, not by os.access: a read-only mount passes os.access for root."""
    if folder.exists() and not folder.is_dir():
        return f"'{folder}' is not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = write_atomic(folder / ".mesh_from_image-probe", b"")
        probe.unlink()
    except OSError as exc:
        return f"cannot write into '{folder}': {exc.strerror or exc}"
    return None


class _Interrupt:
    """Ctrl+C (SIGINT) asks the batch to stop after the picture that is running: a half-made picture is not
    worth a traceback and a lost report. A second Ctrl+C stops at once (KeyboardInterrupt, still reported)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:   # not the main thread (an embedding caller): leave Ctrl+C alone
            self._previous = None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("interrupted: stopping after the current picture (Ctrl+C again to stop now)", file=sys.stderr,
              flush=True)

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def main(argv: list[str] | None = None) -> int:
    from .threads import wait_passively
    wait_passively()   # before torch is imported (also for --jobs workers, which inherit the environment)
    from . import sheet_cli   # --front/--right/... : one mesh from a reference sheet
    if sheet_cli.wanted(sys.argv[1:] if argv is None else argv):
        return sheet_cli.main(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.images and args.from_list is None:
        parser.error("name at least one picture or folder (or --from-list FILE)")
    if args.mask is not None and (len(args.images) != 1 or args.images[0].is_dir() or args.from_list):
        parser.error("--mask applies to a single image")
    try:
        batch.check_arguments(args)
        items, fmt = _plan(args, parser)
    except batch.BatchError as exc:
        parser.error(str(exc))
    share, label = batch.select(items, args.chunk, args.index_range)
    options = contract.options_from_args(args)
    # What an output's record must match for --resume to keep it.
    settings = {"format": fmt, "options": options.to_dict(),
                **({"mask": str(args.mask.resolve())} if args.mask is not None else {})}

    # Before any work: a batch that cannot write its meshes or its report must not compute for an hour first.
    folder = args.output_dir if args.output_dir is not None else args.output.parent
    problem = _writable_folder(folder)
    if problem is None and args.report is not None:
        problem = (f"--report '{args.report}' is a folder; name a .json file" if args.report.is_dir()
                   else _writable_folder(args.report.parent))
    report = batch.Report(args.report, share, dict(options.to_dict(), format=fmt), total=len(items), share=label,
                          command="python -m inference")
    if problem is None:
        failed_report = report.write()
        if failed_report is not None:
            problem = f"cannot write the report '{args.report}': {failed_report}"
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    say = (lambda text: None) if args.quiet else (lambda text: print(text, flush=True))
    todo = []
    for i, (item, entry) in enumerate(zip(share, report.entries)):
        run, why = batch.decide(item, settings, args.resume, args.overwrite)
        if run:
            todo.append((i, item, entry, why))
        else:
            entry.update(status="skipped", reason=why)
            say(f"{batch.position(i, len(share))} {item.path}: skipped, {why}")
    report.write()

    def finished(i, item, entry, outcome) -> None:
        if isinstance(outcome, batch_run.Failed):
            entry.update(status="failed", error=outcome.message)
            print(f"{batch.position(i, len(share))} error: {item.path}: {outcome.message}", file=sys.stderr, flush=True)
        else:
            entry.update(outcome, status="done")
            try:
                batch.write_record(item, outcome["files"], settings)
            except OSError as exc:   # the mesh is fine; only --resume will not know it
                entry["warning_record"] = f"no resume record: {exc.strerror or exc}"
            for key, label in (("warning", "warning"), ("frame_note", "note")):
                if key in outcome:
                    print(f"{label}: {item.path}: {outcome[key]}", file=sys.stderr, flush=True)
            fit_iou = outcome.get("silhouette_iou")
            say(f"{batch.position(i, len(share))} {item.path} -> {item.output}  ({outcome['vertices']} vertices, "
                f"{outcome['faces']} faces, " + (f"silhouette IoU {fit_iou:.3f}, " if fit_iou is not None else "")
                + f"{outcome['seconds']:.2f} s on {outcome['device']})")
        report.write()

    with _Interrupt() as interrupt:
        try:
            if args.jobs == 1 or len(todo) <= 1:
                batch_run.run_here(todo, args.mask, options, report, finished, interrupt)
            else:
                batch_run.run_pool(todo, args.mask, options, report, finished, interrupt, args.jobs)
        except KeyboardInterrupt:   # the second Ctrl+C: running pictures are abandoned (never renamed into place)
            interrupt.requested = True
            for entry in report.entries:
                if entry["status"] == "running":
                    entry.update(status="failed", error="interrupted (Ctrl+C) while this picture was running")
    not_run = [e for e in report.entries if e["status"] == "pending"]
    for entry in not_run:
        entry.update(status="not run", error="the batch was interrupted (Ctrl+C) before this picture")
    report_error = report.write(complete=not interrupt.requested, interrupted=interrupt.requested)
    if report_error is not None:
        print(f"error: could not write the report '{args.report}': {report_error}", file=sys.stderr)
    counts = report.counts()
    if interrupt.requested:
        print(f"interrupted: {counts['done']} of {len(report.entries)} picture(s) written, {counts['failed']} "
              f"failed, {len(not_run)} not run"
              + (f"; report in {args.report}" if args.report is not None and report_error is None else ""),
              file=sys.stderr, flush=True)
        return 130
    if counts["failed"]:
        print(report.summary(), file=sys.stderr, flush=True)
    elif len(report.entries) > 1 or counts["skipped"]:
        say(report.summary())
    return 1 if counts["failed"] or report_error else 0


if __name__ == "__main__":
    sys.exit(main())
