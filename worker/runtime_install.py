"""Install a GPU build of PyTorch into the add-on's runtime folder, in a background process. No bpy.

Blender's own Python runs `pip install --target` into a staging folder beside the runtime folder, from a
PyTorch index (CUDA or ROCm builds) or from a folder of wheel files (offline studios). Only when pip has
finished and the new folder imports torch in a probe does it replace the runtime folder; until then, and after
a failure, a cancel, or Blender being killed half-way, the previous runtime (or none) stays exactly as it was.

Progress is read from pip's output on a thread; ``state``, ``stage``, ``fraction`` and ``message`` are safe to
read from Blender's main thread (a timer or modal operator polls them). ``cancel()`` kills pip.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

from .probe import probe
from .runtime import RUNTIME_SITE, RUNTIME_STAMP, Runtime

PYTORCH_INDEX = "https://download.pytorch.org/whl/"
# Builds offered in the preferences: (identifier, label, index folder). The index has the torch wheels and
# everything they depend on for that build.
GPU_BUILDS = (
    ("cu128", "CUDA 12.8 (NVIDIA)", "cu128"),
    ("cu126", "CUDA 12.6 (NVIDIA, older drivers)", "cu126"),
    ("rocm6.4", "ROCm 6.4 (AMD, Linux)", "rocm6.4"),
)

STAGING_SUFFIX = ".installing"
PREVIOUS_SUFFIX = ".previous"
_RAW_PROGRESS = re.compile(r"Progress (\d+) of (\d+)")
_LOG_LINES_KEPT = 200

RUNNING, VERIFYING, DONE, FAILED, CANCELLED = "running", "verifying", "done", "failed", "cancelled"


def index_url(build: str) -> str:
    for identifier, _label, folder in GPU_BUILDS:
        if identifier == build:
            return PYTORCH_INDEX + folder
    raise ValueError(f"Unknown GPU build {build!r}")


def pip_version(python: str) -> tuple[int, ...] | None:
    """pip's version in that interpreter, or None when it has no pip."""
    try:
        done = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"pip (\d+)\.(\d+)", done.stdout.strip())
    return (int(match.group(1)), int(match.group(2))) if done.returncode == 0 and match else None


def clean_leftovers(runtime_dir: str) -> None:
    """Tidy what an install killed half-way left beside the runtime folder (never the runtime itself). A swap
    cut between its two renames left the old runtime as .previous and none in place: it is put back."""
    previous = runtime_dir + PREVIOUS_SUFFIX
    if os.path.isdir(previous) and not os.path.isdir(runtime_dir):
        os.replace(previous, runtime_dir)
    for suffix in (STAGING_SUFFIX, PREVIOUS_SUFFIX):
        shutil.rmtree(runtime_dir + suffix, ignore_errors=True)


class RuntimeInstall:
    """One install. Create it, call start(), then poll its attributes until ``finished``."""

    def __init__(self, python: str, runtime_dir: str, package_dir: str, *, index: str | None = None,
                 wheel_folder: str | None = None, requirement: str = "torch", before_swap=None):
        if bool(index) == bool(wheel_folder):
            raise ValueError("Give either a PyTorch index URL or a folder of wheel files.")
        self.python = python
        self.runtime_dir = os.path.abspath(runtime_dir)
        self.staging_dir = self.runtime_dir + STAGING_SUFFIX
        self.package_dir = package_dir
        self.index = index
        self.wheel_folder = os.path.abspath(wheel_folder) if wheel_folder else None
        self.requirement = requirement
        self.before_swap = before_swap      # called before the runtime folder is replaced (stop the workers)
        self.state = RUNNING
        self.stage = "starting"
        self.fraction = 0.0
        self.message = ""
        self.log: list[str] = []            # pip's last output lines
        self._popen: subprocess.Popen | None = None
        self._cancelled = threading.Event()
        self._thread: threading.Thread | None = None
        self.started_at = time.monotonic()

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED, CANCELLED)

    @property
    def source(self) -> str:
        return self.index or self.wheel_folder

    def pip_command(self, raw_progress: bool) -> list[str]:
        command = [self.python, "-m", "pip", "install", "--target", os.path.join(self.staging_dir, RUNTIME_SITE),
                   "--only-binary=:all:", "--no-input", "--disable-pip-version-check", "--no-warn-script-location",
                   "--no-compile"]
        if raw_progress:
            command += ["--progress-bar", "raw"]
        if self.wheel_folder:
            # Exactly this folder: --isolated also drops find-links and indexes from the user's pip settings.
            command += ["--isolated", "--no-index", "--find-links", self.wheel_folder]
        else:
            command += ["--index-url", self.index]
        return command + [self.requirement]

    # ---- life cycle ----------------------------------------------------------------------------------
    def start(self) -> "RuntimeInstall":
        self._thread = threading.Thread(target=self._run, name="mesh-from-image-runtime-install", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> str:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state

    def cancel(self) -> None:
        """Stop the install; the previous runtime stays. Safe to call at any time, from any thread."""
        self._cancelled.set()
        popen = self._popen
        if popen is not None and popen.poll() is None:
            _kill_tree(popen)

    # ---- the thread ----------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._install()
        except Exception as exc:  # noqa: BLE001 - any failure ends as a message, the old runtime untouched
            self._end(FAILED, f"The GPU runtime install failed: {type(exc).__name__}: {exc}")
        finally:
            if self.state != DONE:
                shutil.rmtree(self.staging_dir, ignore_errors=True)

    def _install(self) -> None:
        clean_leftovers(self.runtime_dir)
        if self.wheel_folder and not os.path.isdir(self.wheel_folder):
            return self._end(FAILED, f"The wheel folder '{self.wheel_folder}' does not exist.")
        version = pip_version(self.python)
        if version is None:
            return self._end(FAILED, f"'{self.python}' has no pip, so it cannot install the GPU runtime. Use an "
                                     f"existing Python with a GPU build of PyTorch instead.")
        os.makedirs(self.staging_dir)
        self._set_stage("resolving", 0.02)
        kwargs = {"creationflags": getattr(subprocess, "CREATE_NO_WINDOW", 0)} if os.name == "nt" else \
            {"start_new_session": True}
        env = dict(os.environ, PYTHONNOUSERSITE="1", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
        self._popen = subprocess.Popen(self.pip_command(raw_progress=version >= (24, 1)), stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, **kwargs)
        if self._cancelled.is_set():
            _kill_tree(self._popen)
        for raw in self._popen.stdout:
            self._on_pip_line(raw.decode("utf-8", "replace").rstrip())
        code = self._popen.wait()
        if self._cancelled.is_set():
            return self._end(CANCELLED, "The GPU runtime install was cancelled; the previous runtime is kept.")
        if code != 0:
            return self._end(FAILED, "pip could not install the GPU runtime (exit code "
                                     f"{code}): {self._last_error()} The previous runtime is kept.")
        self._verify_and_swap()

    def _verify_and_swap(self) -> None:
        self.state, self.stage, self.fraction = VERIFYING, "checking PyTorch", 0.95
        site = os.path.join(self.staging_dir, RUNTIME_SITE)
        result = probe(Runtime("gpu", self.python, (site,)), self.package_dir)
        if self._cancelled.is_set():
            return self._end(CANCELLED, "The GPU runtime install was cancelled; the previous runtime is kept.")
        if not result.torch:
            return self._end(FAILED, f"The installed PyTorch does not import: {result.missing.get('torch') or result.message} "
                                     f"The previous runtime is kept.")
        stamp = {"python": f"{sys.version_info.major}.{sys.version_info.minor}", "torch": result.torch,
                 "device": result.device, "source": self.source, "installed": time.strftime("%Y-%m-%d %H:%M:%S")}
        with open(os.path.join(self.staging_dir, RUNTIME_STAMP), "w", encoding="utf-8") as f:
            json.dump(stamp, f, indent=1)
        if self.before_swap is not None:
            self.before_swap()
        previous = self.runtime_dir + PREVIOUS_SUFFIX
        if os.path.isdir(self.runtime_dir):
            os.replace(self.runtime_dir, previous)
        os.replace(self.staging_dir, self.runtime_dir)
        shutil.rmtree(previous, ignore_errors=True)
        self._end(DONE, f"GPU runtime installed: PyTorch {result.torch} on {result.device_text}.")

    def _on_pip_line(self, line: str) -> None:
        if not line:
            return
        self.log = (self.log + [line])[-_LOG_LINES_KEPT:]
        progress = _RAW_PROGRESS.search(line)
        if progress:   # bytes of the file being downloaded
            done, total = int(progress.group(1)), max(1, int(progress.group(2)))
            self._set_stage(self.stage, 0.05 + 0.6 * done / total)
        elif line.startswith(("Collecting ", "Processing ")):
            what = line.split(" ")[1].rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1]
            self._set_stage(f"{line.split(' ')[0].lower()} {what[:60]}", max(self.fraction, 0.05))
        elif line.startswith("Downloading"):
            self._set_stage("downloading " + line.split(" ")[1].rsplit("/", 1)[-1][:60], self.fraction)
        elif line.startswith("Installing collected packages"):
            self._set_stage("unpacking (this takes a while)", 0.7)
        elif line.startswith("Successfully installed"):
            self._set_stage("installed", 0.9)

    def _set_stage(self, stage: str, fraction: float) -> None:
        self.stage, self.fraction = stage, max(0.0, min(1.0, fraction))

    def _end(self, state: str, message: str) -> None:
        self.message = message
        self.fraction = 1.0 if state == DONE else self.fraction
        self.stage = state
        self.state = state

    def _last_error(self) -> str:
        errors = [line for line in self.log if line.startswith("ERROR")]
        return (errors[-1] if errors else (self.log[-1] if self.log else "no output")) + "."


def _kill_tree(popen: subprocess.Popen) -> None:
    if os.name == "nt":
        popen.kill()
        return
    import signal

    try:
        os.killpg(popen.pid, signal.SIGKILL)   # pip leads its own session: take any children along
    except OSError:
        popen.kill()
