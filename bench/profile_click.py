"""Where click to object spends its time: bench/click_to_object.py's runs (warm Blender, warm worker, a new
picture each run) with each Blender-side stage timed in wall and CPU time (this process's, every thread),
the worker's own stages from its answer, and the worker process's CPU time per job (/proc, Linux).

    .venv/bin/python bench/profile_click.py [IMAGE] [--repeats 5] [--cprofile N]

Prints one table of medians (ms). --cprofile N also prints the N costliest functions (cumulative CPU time,
the last run) under the operator call."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import click_to_object as c2o  # noqa: E402

ROOT = c2o.ROOT
MODULE = c2o.MODULE


def _proc_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stages:
    """Wall and CPU time of named calls, nested calls counted in both (the table says which nest)."""

    def __init__(self):
        self.runs: list[dict] = []
        self.current: dict = defaultdict(lambda: [0.0, 0.0])

    def wrap(self, owner, attribute: str, label: str):
        original = getattr(owner, attribute)
        stages = self

        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                entry = stages.current[label]
                entry[0] += time.perf_counter() - wall
                entry[1] += time.process_time() - cpu
        timed.__wrapped__ = original
        setattr(owner, attribute, timed)

    def end_run(self, extra: dict) -> None:
        run = {k: tuple(v) for k, v in self.current.items()}
        run.update(extra)
        self.runs.append(run)
        self.current = defaultdict(lambda: [0.0, 0.0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", nargs="?", type=Path, default=ROOT / "examples" / "mug.png")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cprofile", type=int, default=0)
    args = parser.parse_args()
    import shutil
    import tempfile
    scratch = Path(tempfile.mkdtemp(prefix="mesh_from_image_profile_"))
    os.environ["BLENDER_USER_RESOURCES"] = str(scratch / "user")
    (scratch / "zip").mkdir()
    package = c2o.build_zip(scratch / "zip")
    import bpy
    assert bpy.ops.extensions.package_install_files(filepath=str(package), repo="user_default",
                                                    enable_on_install=True) == {'FINISHED'}
    from importlib import import_module

    def mod(name):
        return import_module(f"{MODULE}.{name}")
    settings = mod("scene.settings")
    client = settings.worker_client()
    client.start()

    stages = Stages()
    rec = mod("scene.reconstruction")
    stages.wrap(rec.ReconstructionRun, "start", "run.start (request)")
    stages.wrap(rec.WorkerRun, "wait", "run.wait (worker job)")
    stages.wrap(rec.ReconstructionRun, "build", "run.build (all of the scene)")
    build = mod("scene.build")
    stages.wrap(build, "build_mesh", "  build_mesh")
    mesh_object = mod("scene.mesh_object")
    stages.wrap(mesh_object, "clean_mesh", "    clean_mesh (bmesh)")
    stages.wrap(build, "add_object", "  add_object")
    image_source = mod("scene.image_source")
    stages.wrap(image_source.ImageSource, "image", "  source.image()")
    topology = mod("scene.topology")
    stages.wrap(topology, "apply_topology", "  apply_topology (shading)")
    stages.wrap(build, "_material", "  _material (Fill Sides)")
    texture = mod("scene.texture")
    stages.wrap(texture, "write_facing", "    write_facing")
    stages.wrap(texture, "mesh_uv_triangles", "    mesh_uv_triangles")
    stages.wrap(texture, "image_pixels", "    image_pixels (foreach_get)")
    texture_fill = mod("scene.texture_fill")
    stages.wrap(texture_fill, "continued_texture", "    continued_texture")
    stages.wrap(texture_fill, "coverage", "      coverage")
    stages.wrap(texture_fill, "push_pull", "      push_pull")
    stages.wrap(texture_fill, "upsample", "      upsample")
    if hasattr(texture, "_new_image"):   # before the PNGs were encoded here
        stages.wrap(texture, "_new_image", "    _new_image (x2, pixels + pack)")
    else:
        stages.wrap(texture, "packed_image", "    packed_image (x2)")
        stages.wrap(texture, "png_bytes", "    png_bytes (x2, both threads)")
        stages.wrap(texture.BackgroundFill, "textures_for", "    waiting for the background textures")
        stages.wrap(texture, "_textures", "    _textures (fill + PNGs, any thread)")
    stages.wrap(texture, "image_material", "    image_material")
    stages.wrap(build, "image_material", "  image_material (plain)")
    placement = mod("scene.placement")
    stages.wrap(placement, "stand_upright", "  stand_upright")
    stages.wrap(build, "_place", "  _place")

    made = [0]

    def fresh(path: Path) -> Path:
        made[0] += 1
        return c2o.nudged_copy(path, scratch, made[0])

    def click(path: Path, profiler=None) -> dict:
        path = fresh(path)
        pid = client._proc.popen.pid
        worker_cpu = _proc_cpu(pid)
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        result = bpy.ops.mesh_from_image.reconstruct(filepath=str(path))
        if profiler is not None:
            profiler.disable()
        extra = {"operator (click to object)": (time.perf_counter() - wall, time.process_time() - cpu),
                 "worker process CPU": (0.0, _proc_cpu(pid) - worker_cpu)}
        assert result == {'FINISHED'}, result
        answer = rec._last_answer[1]
        for stage, seconds in answer.timings.items():
            extra[f"worker: {stage}"] = (float(seconds), 0.0)
        for obj in list(bpy.data.objects):
            bpy.data.objects.remove(obj)
        stages.end_run(extra)
        return extra

    click(args.image)
    stages.runs.clear()
    profiler = None
    for index in range(args.repeats):
        if args.cprofile and index == args.repeats - 1:
            import cProfile
            profiler = cProfile.Profile(time.process_time)
        click(args.image, profiler)
    labels = list(dict.fromkeys(k for run in stages.runs for k in run))
    print(f"{args.image.name}: medians of {len(stages.runs)} runs (ms); CPU is this process's, all threads")
    print("| stage | wall | CPU |\n|---|---|---|")
    for label in labels:
        wall = statistics.median(run.get(label, (0, 0))[0] for run in stages.runs)
        cpu = statistics.median(run.get(label, (0, 0))[1] for run in stages.runs)
        print(f"| {label} | {1000 * wall:.0f} | {1000 * cpu:.0f} |")
    print("operator wall per run: " + ", ".join(f"{r['operator (click to object)'][0]:.2f}" for r in stages.runs))
    if profiler is not None:
        import pstats
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.cprofile)
    client.stop()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
