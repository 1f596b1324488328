"""Blender set-up shared by the development scripts in tools/ and bench/ (never shipped).

Import it only after BLENDER_USER_RESOURCES is set: it imports bpy, and the scripts keep the real user
folder out of their runs."""
from __future__ import annotations

import os
import tempfile

import bpy

ADDON_ID = "mesh_from_image"
DEV_MODULE = f"bl_ext.dev.{ADDON_ID}"


def denoiser_available() -> bool:
    """Cycles' OpenImageDenoise is missing from some bpy builds; asking for it there fails the render."""
    try:
        import _cycles
    except ImportError:
        return False
    return bool(getattr(_cycles, "with_openimagedenoise", False))


def add_world(scene: bpy.types.Scene, colour, strength: float) -> None:
    world = bpy.data.worlds.new("World")
    world.use_nodes = True
    background = world.node_tree.nodes["Background"]
    background.inputs["Color"].default_value = (*colour, 1.0)
    background.inputs["Strength"].default_value = strength
    scene.world = world


def enable_from_source(repo: str) -> str:
    """Enable the extension straight from this checkout (a local repository pointing at a symlink to it), as
    an installed extension would be enabled; returns its module name."""
    import addon_utils
    folder = tempfile.mkdtemp(prefix="mesh_from_image_repo_")
    os.symlink(repo, os.path.join(folder, ADDON_ID))
    bpy.context.preferences.extensions.repos.new(name="Dev", module="dev", custom_directory=folder, source='USER')
    addon_utils.enable(DEV_MODULE, default_set=True)
    if addon_utils.check(DEV_MODULE) != (True, True):
        raise SystemExit("the extension could not be enabled from the source folder")
    return DEV_MODULE
