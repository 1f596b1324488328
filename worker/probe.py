"""Probe a runtime: run its interpreter with the worker's environment and report what it has.

The probe is a child process (Blender never imports torch) that prints one JSON line: Python version, the
versions and locations of the packages the worker needs, and the compute device PyTorch can reach (CUDA or
ROCm name and memory, Apple MPS, or CPU). ``probe()`` turns that into a ProbeResult whose ``message`` is
written for the artist and whose ``fix`` names the action that helps. Standard library only, no bpy.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field

from .runtime import Runtime

# (import name, pip name): what inference/worker.py checks before it starts.
REQUIRED = (("numpy", "numpy"), ("torch", "torch"), ("scipy", "scipy"), ("skimage", "scikit-image"),
            ("PIL", "pillow"))
MIN_PYTHON = (3, 10)
PROBE_TIMEOUT_S = 120.0   # importing a CUDA build of torch and waking the GPU can take a while

# Fixes the status box offers (operators/runtime.py has one button for each).
FIX_INSTALL_GPU = "install_gpu_runtime"
FIX_CHOOSE_PYTHON = "use_existing_python"
FIX_CLEAR_PYTHON = "clear_python"
FIX_REINSTALL_EXTENSION = "reinstall_extension"

_PROBE_SCRIPT = r"""
import importlib, json, sys
info = {"python": sys.executable, "version": list(sys.version_info[:3]), "packages": {}, "missing": {}}
for module in %(modules)r:
    try:
        m = importlib.import_module(module)
        info["packages"][module] = {"version": str(getattr(m, "__version__", "")), "file": getattr(m, "__file__", "")}
    except BaseException as exc:
        info["missing"][module] = type(exc).__name__ + ": " + str(exc)[:300]
if "torch" in info["packages"]:
    import torch
    device = {"type": "cpu", "name": "CPU", "cuda_build": torch.version.cuda, "hip_build": getattr(torch.version, "hip", None)}
    try:
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            device = dict(device, type="cuda", name=props.name, memory_gb=round(props.total_memory / 2**30, 1),
                          count=torch.cuda.device_count())
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = dict(device, type="mps", name="Apple MPS")
    except Exception as exc:
        device["error"] = type(exc).__name__ + ": " + str(exc)[:300]
    info["device"] = device
print("\n" + json.dumps(info))
""" % {"modules": [m for m, _ in REQUIRED]}


@dataclass
class ProbeResult:
    ok: bool                       # the worker can run in this runtime
    message: str                   # one or two sentences for the artist
    fix: str | None = None         # FIX_* action that helps, if any
    python: str = ""
    python_version: str = ""
    torch: str = ""                # version
    torch_path: str = ""           # the torch package's folder
    device: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)   # pip name -> why it did not import

    @property
    def device_text(self) -> str:
        """"CUDA: NVIDIA ... (24.0 GB)", "Apple MPS", "CPU" plus why no GPU when the build has none."""
        kind = self.device.get("type")
        if kind == "cuda":
            backend = "ROCm" if self.device.get("hip_build") else "CUDA"
            return f"{backend}: {self.device.get('name')} ({self.device.get('memory_gb')} GB)"
        if kind == "mps":
            return "Apple MPS"
        if not self.torch:
            return "none"
        if self.device.get("cuda_build") or self.device.get("hip_build"):
            return "CPU (this PyTorch is a GPU build, but no GPU answered: check the driver)"
        return "CPU (this PyTorch is a CPU build)"


def _missing_message(runtime: Runtime, missing: dict) -> tuple[str, str]:
    names = " ".join(missing)
    if runtime.kind == "interpreter":
        return (f"'{runtime.python}' lacks {', '.join(missing)}. Install them there ('{runtime.python}' -m pip "
                f"install {names}) or clear the interpreter to use the bundled runtime.", FIX_CLEAR_PYTHON)
    if runtime.kind == "gpu":
        return (f"The GPU runtime lacks {', '.join(missing)}; install the GPU runtime again.", FIX_INSTALL_GPU)
    return (f"The bundled wheels are not installed ({', '.join(missing)} missing): install this platform's "
            f"Mesh from Image zip, or use an existing Python that has them.", FIX_CHOOSE_PYTHON)


def interpret(runtime: Runtime, info: dict) -> ProbeResult:
    """A ProbeResult from the probe script's JSON answer."""
    pip_names = dict(REQUIRED)
    missing = {pip_names.get(m, m): why for m, why in (info.get("missing") or {}).items()}
    torch_info = (info.get("packages") or {}).get("torch") or {}
    version = tuple(info.get("version") or ())
    result = ProbeResult(ok=False, message="", python=info.get("python") or runtime.python,
                         python_version=".".join(str(v) for v in version), torch=torch_info.get("version", ""),
                         torch_path=os.path.dirname(torch_info.get("file") or ""), device=info.get("device") or {},
                         missing=missing)
    if version[:2] < MIN_PYTHON:
        result.message = (f"'{runtime.python}' is Python {result.python_version}; the worker needs Python "
                          f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer.")
        result.fix = FIX_CHOOSE_PYTHON if runtime.kind != "interpreter" else FIX_CLEAR_PYTHON
        return result
    if missing:
        result.message, result.fix = _missing_message(runtime, missing)
        return result
    result.ok = True
    result.message = f"Ready: PyTorch {result.torch} on {result.device_text}."
    if result.device.get("type") == "cpu" and not (result.device.get("cuda_build") or result.device.get("hip_build")):
        result.fix = FIX_INSTALL_GPU   # works, but a GPU runtime is the way to a GPU
    return result


def probe(runtime: Runtime, package_dir: str, timeout: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Run the probe in the runtime; never raises for a broken runtime (the result says what is wrong)."""
    python = runtime.python
    if not os.path.exists(python):
        return ProbeResult(False, f"The Python interpreter '{python}' does not exist. Choose an existing "
                                  f"interpreter (e.g. .../envs/NAME/bin/python or python.exe).",
                           FIX_CHOOSE_PYTHON if runtime.kind == "interpreter" else None, python=python)
    if os.path.isdir(python):
        return ProbeResult(False, f"'{python}' is a folder; choose the interpreter file inside it "
                                  f"(bin/python, or python.exe on Windows).", FIX_CHOOSE_PYTHON, python=python)
    kwargs = {"creationflags": getattr(subprocess, "CREATE_NO_WINDOW", 0)} if os.name == "nt" else {}
    try:
        done = subprocess.run([python, "-c", _PROBE_SCRIPT], capture_output=True, timeout=timeout,
                              env=runtime.env(package_dir), cwd=package_dir, **kwargs)
    except subprocess.TimeoutExpired:
        return ProbeResult(False, f"'{python}' did not answer within {timeout:g} s.", FIX_CHOOSE_PYTHON,
                           python=python)
    except OSError as exc:
        return ProbeResult(False, f"'{python}' cannot be run: {exc}.", FIX_CHOOSE_PYTHON, python=python)
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        info = json.loads(lines[-1]) if lines else None
    except ValueError:
        info = None
    if not isinstance(info, dict):
        tail = done.stderr.decode("utf-8", "replace").strip()[-400:]
        return ProbeResult(False, f"'{python}' did not run as a Python interpreter (exit code {done.returncode})"
                                  + (f": {tail}" if tail else "."), FIX_CHOOSE_PYTHON, python=python)
    return interpret(runtime, info)
