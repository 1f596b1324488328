"""Write the contract's defaults, bounds and choices into the Flamenco job type (farm/flamenco/mesh_from_image.js).

Flamenco Manager runs the job type alone, with no access to our Python, so the script has to carry the
numbers and names the headless command will check (a bound that disagreed would fail every task with exit
code 2 on the workers). They are not written by hand: this tool makes them from inference/contract.py into
the block between the two marker lines, and tests/farm/test_flamenco_job.py fails when the block is stale.

    python -m tools.make_flamenco_job           # rewrite the block
    python -m tools.make_flamenco_job --check   # exit 1 when it is stale (what the test asks)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JOB_SCRIPT = ROOT / "farm" / "flamenco" / "mesh_from_image.js"
BEGIN = "// ---- begin: made from inference/contract.py by `python -m tools.make_flamenco_job`; edit the contract ----"
END = "// ---- end of the contract's block ----"


def contract_values() -> dict:
    """The job type's settings that are the headless command's options (inference/contract.py) and batch flags
    (inference/batch.py): default and bounds or choices."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from inference import batch, contract

    faces, bake = contract.spec("target_faces"), contract.spec("bake_size")
    return {
        "vertices": {"default": contract.default("template_vertices"), "min": contract.VERTICES_MIN,
                     "max": contract.VERTICES_MAX},
        "model": {"default": contract.default("model"),
                  "choices": [model for _, model, _, _, _ in contract.SHAPE_PRIORS]},
        # The Blender-facing device names (auto, cpu, gpu), each one the engine accepts.
        "device": {"default": contract.default("device"),
                   "choices": [identifier.lower() for identifier, _, _ in contract.DEVICE_ITEMS]},
        "faces": {"default": contract.default("target_faces"), "min": int(faces.minimum), "max": int(faces.maximum),
                  "help": faces.help},
        "bake": {"default": contract.default("bake_size"), "off": bake.off, "min": int(bake.minimum),
                 "max": int(bake.maximum)},
        "quads": {"default": contract.default("quads")},
        "upright": {"default": contract.default("upright")},
        "fill_sides": {"default": contract.default("fill_sides")},
        # The job type asks the opposite question (skip the fit?), as the command's --no-refine does.
        "no_refine": {"default": not contract.default("refine")},
        "fill_holes": {"default": contract.default("fill_holes")},
        "jobs": {"default": batch.JOBS_DEFAULT, "min": batch.JOBS_MIN},
    }


def block() -> str:
    lines = [f"    {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},"
             for key, value in contract_values().items()]
    return "\n".join([BEGIN, "const CONTRACT = {", *lines, "};", END])


def rewritten(text: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{JOB_SCRIPT}: the marker lines of the contract's block are missing")
    return text[:start] + block() + text[end + len(END):]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only say whether the block is current (exit 1 if not)")
    args = p.parse_args(argv)
    text = JOB_SCRIPT.read_text(encoding="utf-8")
    new = rewritten(text)
    if args.check:
        if new != text:
            print(f"{JOB_SCRIPT.relative_to(ROOT)} is stale: run python -m tools.make_flamenco_job", file=sys.stderr)
            return 1
        return 0
    if new != text:
        from inference.atomic import write_atomic
        write_atomic(JOB_SCRIPT, new.encode("utf-8"))
        print(f"wrote {JOB_SCRIPT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
