"""Mesh from Image: turn one picture into a clean, textured, watertight mesh.

This file only sequences registration. The user interface lives in `operators/` and `panels/`,
the Blender data building in `scene/`, the headless command in `cli.py`, and the heavy lifting
runs outside Blender's process (`worker/` starts `inference/` in a separate Python)."""

from . import operators, panels, cli

# Operators before panels: panels and menus draw buttons for operators that must already exist.
_MODULES = (operators, panels, cli)


def register():
    for module in _MODULES:
        module.register()


def unregister():
    for module in reversed(_MODULES):
        module.unregister()
    # Import here, not at the top: a broken worker package must not prevent the add-on from unloading.
    from .worker.client import shutdown_all
    shutdown_all()
