"""Command line: `python -m inference IMAGE [IMAGE ...] --output-dir DIR` or `python -m inference IMAGE -o OUT.obj`.

One mesh per input, named after the input's stem, in the evaluation frame. A bad input is reported
on stderr (and in the JSON report) and the others still run; the exit code is 1 if any input failed,
2 for a wrong command line."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import contract
from .errors import MeshFromImageError
from .export import FORMATS


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
    p.add_argument("--report", type=Path, default=None, help="write a JSON report of every input here")
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
    seen: dict[str, int] = {}
    targets = []
    for image in args.images:
        stem = image.stem
        seen[stem] = seen.get(stem, 0) + 1
        # Two inputs with one stem (a.png, a.jpg) must not overwrite each other.
        name = stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"
        targets.append(args.output_dir / f"{name}.{fmt}")
    return targets


# What the JSON report carries from Reconstruction.info besides sizes and timings.
REPORTED_INFO = contract.ResultInfo.REPORTED


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

    from .export import export
    from .pipeline import reconstruct
    from .silhouette import iou, mesh_silhouette

    entries, failed = [], 0
    for image, target in zip(args.images, targets):
        entry = {"input": str(image), "output": str(target)}
        start = time.perf_counter()
        try:
            recon = reconstruct(image, options, mask=args.mask)
            t = time.perf_counter()
            files = export(recon, target)
            recon.timings["export"] = time.perf_counter() - t
            fit_iou = iou(mesh_silhouette(recon.vertices, recon.faces, recon.mask_grid.shape[0]), recon.mask_grid)
            entry.update(status="ok", files=[str(f) for f in files], vertices=len(recon.vertices),
                         faces=len(recon.faces), device=recon.device, silhouette_iou=round(fit_iou, 4),
                         timings={k: round(v, 4) for k, v in recon.timings.items()},
                         **{k: v for k, v in recon.info.items() if k in REPORTED_INFO})
            if "warning" in recon.info:
                print(f"warning: {image}: {recon.info['warning']}", file=sys.stderr)
            if not args.quiet:
                print(f"{image} -> {target}  ({len(recon.vertices)} vertices, {len(recon.faces)} faces, "
                      f"silhouette IoU {fit_iou:.3f}, {time.perf_counter() - start:.2f} s on {recon.device})")
        except MeshFromImageError as exc:
            failed += 1
            entry.update(status="error", error=str(exc))
            print(f"error: {image}: {exc}", file=sys.stderr)
        except MemoryError:
            failed += 1
            entry.update(status="error", error="out of memory")
            print(f"error: {image}: ran out of memory. Use fewer vertices (--vertices) or close other programs.",
                  file=sys.stderr)
        except OSError as exc:
            failed += 1
            entry.update(status="error", error=f"could not write output: {exc}")
            print(f"error: {image}: could not write '{target}': {exc}", file=sys.stderr)
        entry["seconds"] = round(time.perf_counter() - start, 3)
        entries.append(entry)

    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps({"inputs": entries, "failed": failed, "options": options.to_dict()}, indent=2))
    if failed and not args.quiet:
        print(f"{failed} of {len(entries)} input(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
