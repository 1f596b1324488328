"""Install a release zip into the bpy module and exercise the runtimes; run in a fresh process by the tests.

    BLENDER_USER_RESOURCES=DIR python blender_install_check.py --zip Z --bare-python P --image I --report R.json
                                                             [--wheel-folder W]

A process of its own because bpy is process-global: the Blender tests in tests/blender install the
development zip under the same id in their session, and this must not replace it there (or be replaced).
"Blender's own Python" is this interpreter, which has torch in its venv; to prove that the bundled wheels alone
are enough, the worker is also started with --bare-python (a Python with nothing but the standard library) as
the base of the bundled runtime. Each step's outcome goes into the JSON report; the tests assert on it.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import time
import traceback

MODULE = "bl_ext.user_default.mesh_from_image"
FAST = {"template_vertices": 400, "refine_steps": 20, "device": "cpu"}
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def addon_module(name: str):
    return importlib.import_module(f"{MODULE}.{name}")


def runtime_summary(runtime) -> dict:
    return {"kind": runtime.kind, "python": runtime.python, "paths": list(runtime.paths),
            "skipped": list(runtime.skipped)}


def probe_summary(result) -> dict:
    return {"ok": result.ok, "message": result.message, "fix": result.fix, "torch": result.torch,
            "torch_path": result.torch_path, "device": result.device_text, "python": result.python}


def reconstruct(runtime, image: str, log_dir: str) -> dict:
    WorkerClient = addon_module("worker.client").WorkerClient
    package_dir = addon_module("scene.runtime").package_dir()
    client = WorkerClient(package_dir=package_dir, runtime=runtime, extra_env=WORKER_ENV, log_dir=log_dir)
    try:
        started = time.monotonic()
        info = client.start()
        start_s = time.monotonic() - started
        result = client.submit({"image_path": image, "options": FAST}).wait(300)
        return {"start_s": start_s, "total_s": time.monotonic() - started, "torch": info.get("torch"),
                "python": info.get("python"), "vertices": int(len(result.vertices)),
                "faces": int(len(result.faces)), "genus": result.info.genus, "holes": result.info.holes}
    finally:
        client.stop()


def call(operator, **properties) -> str:
    """Run an operator; its outcome as text: "FINISHED", "CANCELLED", or the error it reported (operators that
    report an error raise RuntimeError when called from Python)."""
    try:
        return ",".join(sorted(operator(**properties)))
    except RuntimeError as exc:
        return f"error: {exc}"


def check_status_box_probe() -> dict:
    """The status box's probe runs on a thread: the first call answers at once, a later one has the result."""
    runtime = addon_module("scene.runtime")
    started = time.monotonic()
    _, first = runtime.status()
    outcome = {"first_call_s": time.monotonic() - started, "first_result": first is not None}
    result = None
    while result is None and time.monotonic() - started < 120:
        time.sleep(0.1)
        _, result = runtime.status()
    outcome["result"] = probe_summary(result) if result is not None else None
    return outcome


def check_preferences_interpreter(bpy, bare_python: str) -> dict:
    """'Use an existing Python' refuses a bad path and a Python without torch, keeping the previous choice."""
    settings = addon_module("scene.settings")
    runtime = addon_module("scene.runtime")
    prefs = settings.addon_preferences()
    outcome = {}
    prefs.python_path = ""
    outcome["bad_path"] = call(bpy.ops.mesh_from_image.use_existing_python, filepath="/no/such/python3")
    outcome["bad_path_kept"] = prefs.python_path
    outcome["no_torch"] = call(bpy.ops.mesh_from_image.use_existing_python, filepath=bare_python)
    outcome["no_torch_kept"] = prefs.python_path
    outcome["good"] = call(bpy.ops.mesh_from_image.use_existing_python, filepath=sys.executable)
    outcome["good_set"] = prefs.python_path
    outcome["good_runtime"] = runtime_summary(runtime.current_runtime())
    # A previous working choice survives a bad one.
    outcome["bad_after_good"] = call(bpy.ops.mesh_from_image.use_existing_python, filepath="/no/such/python3")
    outcome["bad_after_good_kept"] = prefs.python_path
    bpy.ops.mesh_from_image.clear_python()
    outcome["cleared"] = prefs.python_path
    return outcome


def check_runtime_without_torch() -> dict:
    """A GPU runtime folder whose PyTorch is gone is not used; the bundled wheels are, and the reason is shown."""
    runtime = addon_module("scene.runtime")
    folder = runtime.gpu_runtime_dir()
    os.makedirs(os.path.join(folder, "site-packages", "sympy"))
    with open(os.path.join(folder, "runtime.json"), "w") as f:
        json.dump({"python": f"{sys.version_info.major}.{sys.version_info.minor}", "torch": "gone"}, f)
    try:
        return runtime_summary(runtime.current_runtime())
    finally:
        shutil.rmtree(folder)


def check_gpu_runtime(bpy, wheel_folder: str, bare_python: str, image: str, log_dir: str) -> dict:
    """Install the runtime from a wheel folder with the operator, use it, then interrupt a second install."""
    runtime = addon_module("scene.runtime")
    choose_runtime = addon_module("worker.runtime").choose_runtime
    probe = addon_module("worker.probe").probe
    outcome = {"online_access": bpy.app.online_access}
    # Downloading needs Blender's online access (off here, as in a fresh Blender): refused before anything runs.
    outcome["download_offline"] = call(bpy.ops.mesh_from_image.install_gpu_runtime, build="cu128")
    outcome["download_offline_left"] = os.path.exists(runtime.gpu_runtime_dir())
    started = time.monotonic()
    outcome["install"] = call(bpy.ops.mesh_from_image.install_gpu_runtime, wheel_folder=wheel_folder)
    outcome["install_s"] = time.monotonic() - started
    outcome["runtime_dir"] = runtime.gpu_runtime_dir()
    current = runtime.current_runtime()
    outcome["runtime"] = runtime_summary(current)
    outcome["probe"] = probe_summary(probe(current, runtime.package_dir()))
    gpu_on_bare = choose_runtime("", runtime.gpu_runtime_dir(), runtime.bundled_site_dirs(), base_python=bare_python)
    outcome["bare_runtime"] = runtime_summary(gpu_on_bare)
    outcome["bare_reconstruction"] = reconstruct(gpu_on_bare, image, log_dir)

    stamp_path = os.path.join(runtime.gpu_runtime_dir(), "runtime.json")
    with open(stamp_path) as f:
        stamp_before = f.read()
    install = runtime.start_gpu_install(wheel_folder=wheel_folder)
    deadline = time.monotonic() + 120
    while install.fraction < 0.7 and not install.finished and time.monotonic() < deadline:
        time.sleep(0.05)   # until pip unpacks into the staging folder
    outcome["interrupted_at"] = install.stage
    outcome["interrupted_staging_existed"] = os.path.isdir(install.staging_dir)
    runtime.cancel_install()
    install.wait(60)
    outcome["interrupted_state"] = install.state
    outcome["interrupted_message"] = install.message
    outcome["staging_left"] = os.path.exists(install.staging_dir)
    with open(stamp_path) as f:
        outcome["stamp_unchanged"] = f.read() == stamp_before
    outcome["runtime_after_interrupt"] = runtime_summary(runtime.current_runtime())
    outcome["remove"] = call(bpy.ops.mesh_from_image.remove_gpu_runtime)
    outcome["runtime_after_remove"] = runtime_summary(runtime.current_runtime())
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zip", required=True)
    parser.add_argument("--bare-python", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--wheel-folder", default="")
    args = parser.parse_args()
    report: dict = {}
    log_dir = os.path.join(os.environ["BLENDER_USER_RESOURCES"], "worker-logs")
    try:
        import bpy
        import addon_utils

        started = time.monotonic()
        report["install_result"] = sorted(bpy.ops.extensions.package_install_files(
            filepath=args.zip, repo="user_default", enable_on_install=True))
        report["install_s"] = time.monotonic() - started
        report["enabled"] = list(addon_utils.check(MODULE))
        runtime = addon_module("scene.runtime")
        choose_runtime = addon_module("worker.runtime").choose_runtime
        probe = addon_module("worker.probe").probe
        report["package_dir"] = runtime.package_dir()
        report["bundled_site_dirs"] = runtime.bundled_site_dirs()
        report["addon_runtime"] = runtime_summary(runtime.current_runtime())
        report["status"] = check_status_box_probe()

        bundled = choose_runtime("", runtime.gpu_runtime_dir(), runtime.bundled_site_dirs(),
                                 base_python=args.bare_python)
        report["bare_runtime"] = runtime_summary(bundled)
        report["bare_probe"] = probe_summary(probe(bundled, runtime.package_dir()))
        report["bare_reconstruction"] = reconstruct(bundled, args.image, log_dir)
        report["preferences"] = check_preferences_interpreter(bpy, args.bare_python)
        report["runtime_without_torch"] = check_runtime_without_torch()
        if args.wheel_folder:
            report["gpu_runtime"] = check_gpu_runtime(bpy, args.wheel_folder, args.bare_python, args.image, log_dir)
    except BaseException:  # noqa: BLE001 - the report says where it stopped
        report["error"] = traceback.format_exc()
    with open(args.report, "w") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
