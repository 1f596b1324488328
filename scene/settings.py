"""Add-on preferences as the rest of the Blender side needs them, and the shared worker client."""
from __future__ import annotations

import bpy

from ..inference import contract

# This module lives one level below the add-on package; preferences are keyed by the package itself.
ADDON_PACKAGE = __package__.rpartition(".")[0]

# The device choices (DEVICE_ITEMS) and their engine names are the contract's; cli.py and the operators call
# engine_device through this module.
engine_device = contract.engine_device


def addon_preferences(context=None):
    """This add-on's preferences, or None while it is not enabled (e.g. a module imported by a test)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON_PACKAGE)
    return addon.preferences if addon is not None else None


def preferred_device(context=None) -> str:
    prefs = addon_preferences(context)
    return prefs.device if prefs is not None else contract.default("device").upper()


def python_preference(context=None) -> str:
    """The interpreter chosen in the preferences ("Use an existing Python"); empty when none is."""
    prefs = addon_preferences(context)
    path = prefs.python_path.strip() if prefs is not None else ""
    return bpy.path.abspath(path) if path else ""


def worker_python(context=None) -> str | None:
    """Interpreter chosen in the preferences; None means the add-on picks (GPU runtime or bundled wheels)."""
    return python_preference(context) or None


def worker_client(context=None, python: str | None = None):
    """The shared worker client for the runtime in use (starting it is the client's business).

    python: an interpreter named for this run (the headless command's --python), which then brings its own
    packages. Otherwise the runtime is chosen in order: the preferences' interpreter, the GPU runtime the add-on
    installed, Blender's Python with the bundled wheels (scene/runtime.py). A changed choice gets its own client."""
    from ..worker.client import get_client
    if python is not None:
        return get_client(python=python)
    from .runtime import current_runtime
    return get_client(runtime=current_runtime(context))
