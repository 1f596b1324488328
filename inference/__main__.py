"""Command line: `python -m inference IMAGE [IMAGE ...] --output-dir DIR` or `python -m inference IMAGE -o OUT.obj`.

One mesh per input, named after the input's stem (made unique within the batch), in the evaluation frame.
Any failure of one picture is reported on stderr (and in the JSON report, rewritten atomically after every
picture) and the others still run; Ctrl+C stops after the current picture. Exit code: 0, 1 if any input
failed, 2 for a wrong command line or an output folder/report that cannot be written, 130 when interrupted."""
from __future__ import annotations

import argparse
import errno
import json
import signal
import sys
import time
from pathlib import Path

from . import contract
from .atomic import write_atomic
from .errors import MeshFromImageError
from .export import FORMATS
from .naming import input_stem, unique_stems


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m inference",
                                description="Reconstruct a closed, textured mesh from each picture.")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--output-dir", type=Path, help="folder for the meshes (created if missing)")
    out.add_argument("-o", "--output", type=Path, help="output file for a single image; its suffix picks the format")
    p.add_argument("--format", choices=FORMATS, default=None, help="mesh format with --output-dir (default glb)")
    contract.add_arguments(p)   # --vertices, --no-refine, --refine-steps/--steps, --device, --model, --no-remesh
    p.add_argument("--mask", type=Path, default=None, help="mask image for a single input (white/opaque = object)")
    p.add_argument("--report", type=Path, default=None,
                   help="write a JSON report of every input here (rewritten after every picture)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def _targets(args, parser) -> list[Path]:
    if args.output is not None:
        if len(args.images) != 1:
            parser.error("-o/--output takes exactly one image; use --output-dir for several")
        suffix = args.output.suffix.lstrip(".").lower()
        if suffix not in FORMATS:
            parser.error(f"output suffix must be one of {', '.join('.' + f for f in FORMATS)}")
        if args.format and args.format != suffix:
            parser.error("--format disagrees with the output file's suffix")
        return [args.output]
    fmt = args.format or "glb"
    stems = unique_stems([input_stem(image) for image in args.images])
    return [args.output_dir / f"{stem}.{fmt}" for stem in stems]


# What the JSON report carries from Reconstruction.info besides sizes and timings.
REPORTED_INFO = contract.ResultInfo.REPORTED


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


def _disk_message(target: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
        why = "the disk is full (or a file-size or quota limit was reached)"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "the folder is not writable"
    else:
        why = exc.strerror or str(exc)
    return (f"could not write '{target}': {why}. Nothing was written for this picture and an older file of "
            f"that name is kept; free some disk space or choose another --output-dir.")


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


def _write_report(path: Path | None, report: dict) -> str | None:
    """Write the report (atomically: a reader, or a batch killed mid-write, never sees half of it); the
    reason it could not be written, or None."""
    if path is None:
        return None
    try:
        write_atomic(path, json.dumps(report, indent=2).encode())
    except (OSError, TypeError, ValueError) as exc:
        return str(exc)
    return None


class _Failed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def main(argv: list[str] | None = None) -> int:
    from . import sheet_cli   # --front/--right/... : one mesh from a reference sheet
    if sheet_cli.wanted(sys.argv[1:] if argv is None else argv):
        return sheet_cli.main(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.mask is not None and len(args.images) != 1:
        parser.error("--mask applies to a single image")
    targets = _targets(args, parser)
    options = contract.options_from_args(args)

    # Before any work: a batch that cannot write its meshes or its report must not compute for an hour first.
    folder = args.output_dir if args.output_dir is not None else args.output.parent
    problem = _writable_folder(folder)
    if problem is None and args.report is not None:
        problem = (f"--report '{args.report}' is a folder; name a .json file" if args.report.is_dir()
                   else _writable_folder(args.report.parent))
    entries = [{"input": str(image), "output": str(target), "status": "pending"}
               for image, target in zip(args.images, targets)]
    report = {"inputs": entries, "failed": 0, "complete": False, "interrupted": False,
              "options": options.to_dict()}
    if problem is None:
        failed_report = _write_report(args.report, report)
        if failed_report is not None:
            problem = f"cannot write the report '{args.report}': {failed_report}"
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    from .export import export
    from .pipeline import reconstruct
    from .silhouette import iou, mesh_silhouette

    def one(image, target, entry, start) -> None:
        """One picture, start to file; every way it can fail becomes _Failed with the message for the artist."""
        try:
            recon = reconstruct(image, options, mask=args.mask)
        except MeshFromImageError as exc:
            raise _Failed(str(exc)) from None
        except MemoryError:
            raise _Failed("ran out of memory. Use fewer vertices (--vertices) or close other programs.") from None
        except Exception as exc:   # noqa: BLE001 - a bug met by one picture must not stop the batch
            raise _Failed(f"internal error while reconstructing ({type(exc).__name__}: {exc}); the other "
                          f"pictures still run. Please report this with the picture.") from None
        t = time.perf_counter()
        try:
            files = export(recon, target)
        except OSError as exc:
            raise _Failed(_disk_message(target, exc)) from None
        except Exception as exc:   # noqa: BLE001
            raise _Failed(f"internal error while writing '{target}' ({type(exc).__name__}: {exc}); nothing "
                          f"was written for this picture.") from None
        recon.timings["export"] = time.perf_counter() - t
        try:
            fit_iou = round(iou(mesh_silhouette(recon.vertices, recon.faces, recon.mask_grid.shape[0]),
                                recon.mask_grid), 4)
        except Exception:   # noqa: BLE001 - a statistic, not worth failing a written mesh for
            fit_iou = None
        entry.update(status="ok", files=[str(f) for f in files], vertices=len(recon.vertices),
                     faces=len(recon.faces), device=recon.device, silhouette_iou=fit_iou,
                     timings={k: round(v, 4) for k, v in recon.timings.items()},
                     **{k: v for k, v in recon.info.items() if k in REPORTED_INFO})
        if "warning" in recon.info:
            print(f"warning: {image}: {recon.info['warning']}", file=sys.stderr, flush=True)
        if "frame_note" in recon.info:   # an animated GIF: say which frame became the mesh
            entry["frame_note"] = recon.info["frame_note"]
            print(f"note: {image}: {recon.info['frame_note']}", file=sys.stderr, flush=True)
        if not args.quiet:
            print(f"{image} -> {target}  ({len(recon.vertices)} vertices, {len(recon.faces)} faces, "
                  + (f"silhouette IoU {fit_iou:.3f}, " if fit_iou is not None else "")
                  + f"{time.perf_counter() - start:.2f} s on {recon.device})", flush=True)

    failed = 0
    with _Interrupt() as interrupt:
        try:
            for image, target, entry in zip(args.images, targets, entries):
                if interrupt.requested:
                    break
                start = time.perf_counter()
                entry["status"] = "running"
                try:
                    one(image, target, entry, start)
                except _Failed as exc:
                    failed += 1
                    entry.update(status="error", error=exc.message)
                    print(f"error: {image}: {exc.message}", file=sys.stderr, flush=True)
                entry["seconds"] = round(time.perf_counter() - start, 3)
                report["failed"] = failed
                _write_report(args.report, report)
        except KeyboardInterrupt:   # the second Ctrl+C: this picture is abandoned (its files were never renamed)
            interrupt.requested = True
            for entry in entries:
                if entry["status"] == "running":
                    failed += 1
                    entry.update(status="error", error="interrupted (Ctrl+C) while this picture was running")
    skipped = [e for e in entries if e["status"] == "pending"]
    for entry in skipped:
        entry.update(status="not run", error="the batch was interrupted (Ctrl+C) before this picture")
    report.update(failed=failed, complete=not interrupt.requested, interrupted=interrupt.requested)
    report_error = _write_report(args.report, report)
    if report_error is not None:
        print(f"error: could not write the report '{args.report}': {report_error}", file=sys.stderr)
    if interrupt.requested:
        done = sum(1 for e in entries if e["status"] == "ok")
        print(f"interrupted: {done} of {len(entries)} picture(s) written, {failed} failed, {len(skipped)} not run"
              + (f"; report in {args.report}" if args.report is not None and report_error is None else ""),
              file=sys.stderr, flush=True)
        return 130
    if failed and not args.quiet:
        print(f"{failed} of {len(entries)} input(s) failed", file=sys.stderr)
    return 1 if failed or report_error else 0


if __name__ == "__main__":
    sys.exit(main())
