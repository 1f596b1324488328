"""The worker's runtime as Blender sees it: where things are, what the status box shows, the GPU runtime install.

The decisions live in worker/ (runtime.py chooses, probe.py checks, runtime_install.py installs) without bpy;
this module feeds them Blender's paths and preferences and keeps the state the UI polls: the last probe of the
current runtime (run on a thread, so the preferences never freeze while torch imports) and the install in
progress, if any.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading

import bpy

from . import settings
from ..worker import runtime as runtime_choice
from ..worker.probe import ProbeResult, probe
from ..worker.runtime_install import GPU_BUILDS, RuntimeInstall, index_url


class RuntimeSetupError(Exception):
    """A runtime action cannot start; the message says why and what to do."""


def package_dir() -> str:
    """The installed extension's folder (it holds inference/ and worker/)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def gpu_runtime_dir() -> str:
    """Where "Install GPU runtime" puts PyTorch: the extension's user folder, which survives updates. Empty when
    the package is not loaded as an extension (e.g. a legacy add-on folder), which has no such folder."""
    try:
        return bpy.utils.extension_path_user(settings.ADDON_PACKAGE, path="runtime")
    except ValueError:
        return ""


def bundled_site_dirs() -> list[str]:
    """The site-packages Blender unpacks every extension's wheels into (shared by all extensions)."""
    extensions = bpy.utils.user_resource('EXTENSIONS')
    site = os.path.join(extensions, ".local", "lib", f"python{sys.version_info.major}.{sys.version_info.minor}",
                        "site-packages")
    return [site] if os.path.isdir(site) else []


def current_runtime(context=None) -> runtime_choice.Runtime:
    """The runtime the worker uses now: preferences' interpreter, else our GPU runtime, else the bundled wheels."""
    return runtime_choice.choose_runtime(settings.python_preference(context), gpu_runtime_dir(),
                                         bundled_site_dirs())


# ---- probing -----------------------------------------------------------------------------------------------
_REDRAW_POLL_S = 0.25
_status_lock = threading.Lock()
_status: dict = {"runtime": None, "result": None}   # the runtime last probed (or being probed) and its answer


def probe_now(runtime: runtime_choice.Runtime | None = None) -> ProbeResult:
    """Probe a runtime (the current one by default) and remember the answer for the status box. Blocks."""
    runtime = runtime or current_runtime()
    result = probe(runtime, package_dir())
    with _status_lock:
        if _status["runtime"] in (None, runtime):   # not when the choice changed while this probe ran
            _status.update(runtime=runtime, result=result)
    return result


def status(context=None) -> tuple[runtime_choice.Runtime, ProbeResult | None]:
    """The current runtime and its last probe (None while the probe runs on its thread)."""
    runtime = current_runtime(context)
    with _status_lock:
        if _status["runtime"] == runtime:
            return runtime, _status["result"]
        _status.update(runtime=runtime, result=None)
    threading.Thread(target=probe_now, args=(runtime,), daemon=True, name="mesh-from-image-runtime-probe").start()
    if not bpy.app.background and not bpy.app.timers.is_registered(_redraw_when_probed):
        # Registered here, on the main thread (bpy is not to be called from the probe's thread).
        bpy.app.timers.register(_redraw_when_probed, first_interval=_REDRAW_POLL_S)
    return runtime, None


def forget_status() -> None:
    """Probe again at the next draw (after an install, or when the user asks)."""
    with _status_lock:
        _status.update(runtime=None, result=None)


def runtime_changed() -> None:
    """The user picked another runtime: stop the workers of the old one (the next job starts the new one, and an
    idle worker would otherwise keep its memory until Blender quits) and probe again."""
    from ..worker.client import shutdown_all

    shutdown_all()
    forget_status()


def _redraw_when_probed():
    """Timer: redraw the preferences once the probe has answered (Blender redraws only on events otherwise)."""
    with _status_lock:
        waiting = _status["runtime"] is not None and _status["result"] is None
    if waiting:
        return _REDRAW_POLL_S
    redraw_preferences()
    return None


def redraw_preferences():
    """Timer callback: redraw the preferences windows (the status box changed)."""
    for window in getattr(bpy.context.window_manager, "windows", []):
        for area in window.screen.areas:
            if area.type == 'PREFERENCES':
                area.tag_redraw()
    return None


# ---- the GPU runtime install -------------------------------------------------------------------------------
_install: RuntimeInstall | None = None


def current_install() -> RuntimeInstall | None:
    return _install


def start_gpu_install(build: str = GPU_BUILDS[0][0], wheel_folder: str = "") -> RuntimeInstall:
    """Start installing a GPU build of PyTorch with Blender's Python, from the PyTorch index or a wheel folder."""
    global _install
    if _install is not None and not _install.finished:
        raise RuntimeSetupError("A GPU runtime install is already running.")
    wheel_folder = bpy.path.abspath(wheel_folder.strip()) if wheel_folder.strip() else ""
    if not wheel_folder and not bpy.app.online_access:
        raise RuntimeSetupError("Online access is disabled (Preferences › System › Network). Allow it to download "
                                "the GPU runtime, or install it from a folder of wheel files.")
    from ..worker.client import shutdown_all

    python = runtime_choice.resolve_python(None)   # Blender's own Python
    _install = RuntimeInstall(python, gpu_runtime_dir(), package_dir(),
                              index=None if wheel_folder else index_url(build), wheel_folder=wheel_folder or None,
                              before_swap=shutdown_all)
    return _install.start()


def cancel_install() -> bool:
    if _install is None or _install.finished:
        return False
    _install.cancel()
    return True


def remove_gpu_runtime() -> bool:
    """Delete the installed GPU runtime (the worker falls back to the bundled wheels)."""
    from ..worker.client import shutdown_all

    folder = gpu_runtime_dir()
    if not os.path.isdir(folder):
        return False
    shutdown_all()   # a worker could hold its libraries open (Windows cannot delete them then)
    shutil.rmtree(folder)
    forget_status()
    return True


def shutdown() -> None:
    """On unregister: stop an install in progress (its staging folder is removed, the runtime kept)."""
    if bpy.app.timers.is_registered(_redraw_when_probed):
        bpy.app.timers.unregister(_redraw_when_probed)
    if _install is not None and not _install.finished:
        _install.cancel()
        _install.wait(10)
