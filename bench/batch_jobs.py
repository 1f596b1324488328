"""Batch throughput of `python -m inference FOLDER --jobs J`: pictures per second and peak memory, per J.

    .venv/bin/python bench/batch_jobs.py [--pictures 12] [--jobs 1 2] [--model auto] [--vertices 2500]

The folder holds the bundled examples repeated (each copy shifted a little, so no two pictures are the same
bytes) up to --pictures. Each J runs the real command in a subprocess from a cold start, so the time includes
every worker's model load, as a farm task's would. Peak memory is the largest sum of the resident memory of
the command and all its processes, sampled every 20 ms from /proc (Linux)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # run as a script: the defaults come from inference.contract


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and every process below it, in MB (0 once it has gone)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total / 2 ** 20


def make_folder(folder: Path, count: int) -> None:
    from PIL import Image
    examples = sorted((ROOT / "examples").glob("*.*"))
    for i in range(count):
        src = examples[i % len(examples)]
        im = Image.open(src)
        shift = i // len(examples)
        if shift:   # a different picture each time: the same bytes would measure nothing new
            im = im.transform(im.size, Image.AFFINE, (1, 0, -shift * 3, 0, 1, 0), fillcolor=im.getpixel((0, 0)))
        im.save(folder / f"{i:03d}_{src.stem}{src.suffix}")


def measure(folder: Path, jobs: int, extra: list[str]) -> tuple[float, float, int]:
    out = Path(tempfile.mkdtemp(prefix="batch-out-"))
    command = [sys.executable, "-m", "inference", str(folder), "--output-dir", str(out), "--jobs", str(jobs),
               "--quiet", *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT)
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    seconds = time.perf_counter() - start
    sampler.join()
    written = len(list(out.glob("*.glb")))
    if code != 0:
        print(f"  (J={jobs}: exit code {code})")
    return seconds, peak[0], written


def main() -> None:
    from inference import contract   # the product's defaults, defined once
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=12)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--model", default=contract.default("model"))
    parser.add_argument("--vertices", type=int, default=contract.default("template_vertices"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="batch-in-"))
    make_folder(folder, args.pictures)
    extra = ["--model", args.model, "--vertices", str(args.vertices)]
    print(f"{args.pictures} pictures, {os.cpu_count()} CPU cores, model {args.model}, {args.vertices} vertices")
    print("| --jobs | wall time | pictures/s | peak memory (all processes) |")
    print("|---|---|---|---|")
    for jobs in args.jobs:
        seconds, peak, written = measure(folder, jobs, extra)
        print(f"| {jobs} | {seconds:.1f} s | {written / seconds:.2f} | {peak:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
