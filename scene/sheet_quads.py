"""Quads on a reference sheet's mesh, its texture kept: QuadriFlow (scene/topology.py) drops the UVs.

One picture's remeshed mesh gets its front-projection UVs back from the vertex positions (exact, the
projection is linear). A sheet's atlas cannot be recomputed that way: its faces seen squarely by one view map
linearly into that view's tile, but the others (where views meet, or no view looks) have charts the engine
baked. So the textured triangle mesh is kept aside as it was built, the quads get an unwrap (Smart UV
Project, as Bake Texture does) and Cycles bakes the kept mesh's colours onto it, selected to active: every
texel takes the colour of the original surface it lies on, whichever chart that came from."""
from __future__ import annotations

import bpy
import numpy as np

from .bake import BakeError, _smart_unwrap, emit_bake
from .mesh_object import UV_MAP_NAME

# Texture size when neither Bake Texture nor the atlas gives one (the atlas's longer side, within these).
QUAD_TEXTURE_MIN, QUAD_TEXTURE_MAX = 256, 2048
# How far (a share of the object's size) the bake looks from the quads for the kept surface: QuadriFlow's
# surface lies within a small fraction of a face from the input, and a longer reach could hit another part.
BAKE_REACH = 0.02


class KeptSurface:
    """The textured triangle object before the remesh, hidden away from the artist until `remove()`, with
    a material of its own that shows the atlas as emission (what an EMIT bake reads)."""

    def __init__(self, obj):
        self.obj = obj.copy()
        self.obj.data = obj.data.copy()
        self.obj.name = f"{obj.name} (texture source)"
        material = obj.active_material.copy()
        self.obj.data.materials.clear()
        self.obj.data.materials.append(material)
        self.material = material
        _emit_base_colour(material)
        for collection in obj.users_collection:
            collection.objects.link(self.obj)
        # Unselected: entering edit mode takes every selected mesh along, and the quads' unwrap would unwrap
        # this one's atlas UVs too. It is selected only for the bake.
        self.obj.select_set(False)

    def remove(self) -> None:
        mesh, material = self.obj.data, self.material
        bpy.data.objects.remove(self.obj)
        bpy.data.meshes.remove(mesh)
        bpy.data.materials.remove(material)


def _emit_base_colour(material) -> None:
    tree = material.node_tree
    bsdf = next(n for n in tree.nodes if n.type == 'BSDF_PRINCIPLED')
    output = next(n for n in tree.nodes if n.type == 'OUTPUT_MATERIAL')
    if not bsdf.inputs["Base Color"].is_linked:
        raise BakeError("The sheet's material has no texture to carry onto the quads.")
    emission = tree.nodes.new("ShaderNodeEmission")
    tree.links.new(bsdf.inputs["Base Color"].links[0].from_socket, emission.inputs["Color"])
    tree.links.new(emission.outputs["Emission"], output.inputs["Surface"])


def texture_size(bake_size: int, atlas_shape) -> int:
    """Bake Texture's size when asked for, else the atlas's longer side (bounded)."""
    if bake_size:
        return int(bake_size)
    return int(np.clip(max(atlas_shape[:2]), QUAD_TEXTURE_MIN, QUAD_TEXTURE_MAX))


def bake_onto_quads(context, kept: KeptSurface, obj, size: int, name: str, object_size: float):
    """Unwrap `obj` (the remeshed quads, no UVs) into UV_MAP_NAME and bake the kept surface's colours into a
    new size x size image, which the material's image node then shows instead of the atlas. Returns the image."""
    mesh = obj.data
    if mesh.uv_layers.get(UV_MAP_NAME) is None:
        mesh.uv_layers.new(name=UV_MAP_NAME)
    # Layer references go stale in and out of edit mode: the layer is named, not held.
    _smart_unwrap(context, obj, UV_MAP_NAME)
    tree = obj.active_material.node_tree
    shown = next(n for n in tree.nodes if n.type == 'TEX_IMAGE')
    image = bpy.data.images.new(f"{name} baked", size, size, alpha=True)
    target = tree.nodes.new("ShaderNodeTexImage")
    try:
        target.image = image
        for node in tree.nodes:
            node.select = False
        target.select = True
        tree.nodes.active = target
        _bake_selected_to_active(context, kept.obj, obj, UV_MAP_NAME, BAKE_REACH * object_size)
        pixels = np.empty(size * size * 4, np.float32)
        image.pixels.foreach_get(pixels)
        pixels = pixels.reshape(-1, 4)
        pixels[:, 3] = 1.0        # opaque, as the atlas is
        image.pixels.foreach_set(pixels.ravel())
        image.pack()
    except BaseException:
        tree.nodes.remove(target)
        bpy.data.images.remove(image)
        raise
    tree.nodes.remove(target)
    shown.image = image
    return image


def _bake_selected_to_active(context, source, target, uv_layer: str, reach: float) -> None:
    if not hasattr(context.scene, "cycles"):
        raise BakeError("Quads on a reference sheet bake its texture, which needs the Cycles render engine: "
                        "enable it in Preferences › Add-ons.")
    emit_bake(context, target, uv_layer, "Cycles could not bake the sheet's texture onto the quads.",
              source=source, reach=reach)
