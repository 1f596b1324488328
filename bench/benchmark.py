"""Speed and memory of the reconstruction path, stage by stage.

    .venv/bin/python bench/benchmark.py [IMAGE ...] [--batch 8] [--vertices 2500] [--steps 150] [--fill-holes]
        [--no-blender]

Prints, for one image, the median over repeats of each stage (load, mask, template or network, fit,
Blender mesh build) after one warm-up run, then the throughput of a batch, and the process's peak
resident memory. "mesh build" is the Blender side (foreach_set + bmesh cleanup + UVs) measured in the
bpy module, because that is what the artist waits for after the worker answers."""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def mesh_builder():
    """A function that builds the Blender mesh for a reconstruction, or None without bpy."""
    try:
        import bpy  # noqa: F401
        from scene.mesh_object import build_mesh
    except ImportError as exc:
        print(f"(no Blender mesh build timing: {exc})")
        return None

    def build(recon):
        import bpy
        mesh, _ = build_mesh(recon.name, recon.vertices, recon.faces, recon.uvs, 1.0)
        bpy.data.meshes.remove(mesh)
    return build


def run_once(path, options, build):
    from inference import reconstruct

    t = time.perf_counter()
    recon = reconstruct(path, options)
    total = time.perf_counter() - t
    stages = dict(recon.timings)
    if build is not None:
        t = time.perf_counter()
        build(recon)
        stages["mesh build"] = time.perf_counter() - t
    stages["engine total"] = total
    return stages, recon


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("images", nargs="*", type=Path)
    p.add_argument("--batch", type=int, default=8, help="images in the batch run (inputs repeated as needed)")
    p.add_argument("--repeats", type=int, default=3)
    from inference import contract
    # The product's own flags (defaults, bounds, help): a benchmark of other defaults would measure another product.
    contract.add_arguments(p, ("template_vertices", "refine_steps", "model", "device", "refine", "remesh",
                               "fill_holes"))
    p.add_argument("--no-blender", action="store_true")
    args = p.parse_args(argv)
    images = args.images or sorted(x for x in (ROOT / "examples").iterdir() if x.suffix.lower() in (".png", ".jpg"))
    if not images:
        p.error("no images given and none in examples/")

    # As the worker and the command line run the engine: OpenMP set before torch loads (inference/threads.py).
    from inference.threads import wait_passively
    wait_passively()
    import torch

    options = contract.options_from_args(args)
    build = None if args.no_blender else mesh_builder()
    rss_start = peak_rss_mb()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; images: {', '.join(i.name for i in images)}")
    print(f"options: {options.to_dict()}")

    t = time.perf_counter()
    _, recon = run_once(images[0], options, build)
    print(f"\ncold first run (imports, allocator warm-up): {time.perf_counter() - t:.3f} s on {recon.device}")

    runs = [run_once(images[0], options, build)[0] for _ in range(args.repeats)]
    print(f"\none image: {images[0].name}, {len(recon.vertices)} vertices, {len(recon.faces)} faces "
          f"(median of {args.repeats})")
    print(f"| stage | ms |\n|---|---|")
    for stage in runs[0]:
        print(f"| {stage} | {1000 * statistics.median(r[stage] for r in runs):.1f} |")
    print(f"peak RSS after one image: {peak_rss_mb():.0f} MB (at start of timing: {rss_start:.0f} MB)")

    batch = [images[i % len(images)] for i in range(args.batch)]
    t = time.perf_counter()
    for path in batch:
        run_once(path, options, build)
    elapsed = time.perf_counter() - t
    print(f"\nbatch of {len(batch)}: {elapsed:.2f} s, {elapsed / len(batch):.3f} s per image, "
          f"{len(batch) / elapsed:.2f} images/s; peak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
