"""Everything the material shows, baked into one texture on one UV unwrap (Blender's Smart UV Project
and Cycles' bake), for glTF and game engines that take one image per material and nothing else.

Colour and alpha are baked as emission (exact values, no lighting, one sample is enough): the colour
feeding the BSDF, then its alpha, each routed into an Emission shader for the bake. The result is a
material with one Image Texture on the new UV map, which becomes the object's only UV map."""
from __future__ import annotations

import math

import bpy
import numpy as np

from ..inference.contract import BAKE_MIN
from .mesh_object import UV_MAP_NAME

BAKED_UV_NAME = "Unwrap"          # while baking; renamed to UV_MAP_NAME when it is the only map
PROJECTION_UV_NAME = "Projection"   # the front projection while the bake reads it; removed afterwards
BAKE_MARGIN_PX = 8             # texels grown past each island, so mip-maps do not pull in the background


class BakeError(Exception):
    pass


def bake_to_texture(context, obj, size: int, name: str) -> bpy.types.Image:
    """Bake obj's (single) material into a new size x size image on a Smart UV Project unwrap; rewire the
    material to show only that image. Returns the image."""
    if size < BAKE_MIN:
        raise BakeError(f"The baked texture must be at least {BAKE_MIN} pixels.")
    if not hasattr(context.scene, "cycles"):
        raise BakeError("Baking needs the Cycles render engine: enable it in Preferences › Add-ons.")
    material = obj.active_material
    tree = material.node_tree
    bsdf = next((n for n in tree.nodes if n.type == 'BSDF_PRINCIPLED'), None)
    if bsdf is None or not bsdf.inputs["Base Color"].is_linked:
        raise BakeError("The material has no picture to bake.")
    mesh = obj.data
    # Layer references go stale when layers are added or removed: hold names, look layers up each time.
    mesh.uv_layers[UV_MAP_NAME].name = PROJECTION_UV_NAME
    mesh.uv_layers.new(name=BAKED_UV_NAME)
    _smart_unwrap(context, obj, BAKED_UV_NAME)

    image = bpy.data.images.new(f"{name} baked", size, size, alpha=True)
    # The projection UV node keeps reading the old map under its new name.
    for node in tree.nodes:
        if node.type == 'UVMAP' and node.uv_map == UV_MAP_NAME:
            node.uv_map = PROJECTION_UV_NAME
    target = tree.nodes.new("ShaderNodeTexImage")
    target.image = image
    target.location = (-400, -600)
    colour_source = bsdf.inputs["Base Color"].links[0].from_socket
    alpha_link = bsdf.inputs["Alpha"].links[0] if bsdf.inputs["Alpha"].is_linked else None
    colour = _bake_emission(context, obj, tree, target, colour_source, size)
    if alpha_link is not None:
        alpha = _srgb_to_linear(_bake_emission(context, obj, tree, target, alpha_link.from_socket, size)[..., 0])
    else:
        alpha = np.ones(colour.shape[:2], np.float32)
    pixels = np.concatenate([colour[..., :3], alpha[..., None]], axis=2)
    image.pixels.foreach_set(pixels.ravel())
    image.pack()

    _show_only(tree, image, bsdf, has_alpha=alpha_link is not None)
    mesh.uv_layers.remove(mesh.uv_layers[PROJECTION_UV_NAME])
    unwrap = mesh.uv_layers[BAKED_UV_NAME]
    unwrap.name = UV_MAP_NAME   # the only map now: the usual name, which exporters and artists expect
    for node in tree.nodes:
        if node.type == 'UVMAP':
            node.uv_map = UV_MAP_NAME
    unwrap = mesh.uv_layers[UV_MAP_NAME]
    mesh.uv_layers.active = unwrap
    unwrap.active_render = True
    return image


def _srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """The byte image stores the baked emission sRGB-encoded; alpha is a plain number, so decode it."""
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _smart_unwrap(context, obj, layer_name: str) -> None:
    obj.data.uv_layers.active = obj.data.uv_layers[layer_name]
    previous_mode = obj.mode
    with context.temp_override(active_object=obj, object=obj, selected_objects=[obj],
                               selected_editable_objects=[obj], edit_object=obj):
        bpy.ops.object.mode_set(mode='EDIT')
        try:
            bpy.ops.mesh.select_all(action='SELECT')
            result = bpy.ops.uv.smart_project(angle_limit=math.radians(66), island_margin=0.01,
                                              scale_to_bounds=False)
        finally:
            bpy.ops.object.mode_set(mode=previous_mode)
    if 'FINISHED' not in result:
        raise BakeError("Blender's Smart UV Project failed on this mesh.")


def _bake_emission(context, obj, tree, target, source_socket, size) -> np.ndarray:
    """Bake `source_socket` (a colour or value) shown as emission into `target`'s image; returns its
    pixels (size, size, 4) rows bottom-up as Blender stores them."""
    output = next(n for n in tree.nodes if n.type == 'OUTPUT_MATERIAL')
    surface_link = output.inputs["Surface"].links[0]
    shader_source = surface_link.from_socket
    emission = tree.nodes.new("ShaderNodeEmission")
    tree.links.new(source_socket, emission.inputs["Color"])
    tree.links.new(emission.outputs["Emission"], output.inputs["Surface"])
    for node in tree.nodes:
        node.select = False
    target.select = True
    tree.nodes.active = target
    try:
        emit_bake(context, obj, BAKED_UV_NAME, "Cycles could not bake the texture.")
    finally:
        tree.links.new(shader_source, output.inputs["Surface"])
        tree.nodes.remove(emission)
    pixels = np.empty(size * size * 4, np.float32)
    target.image.pixels.foreach_get(pixels)
    return pixels.reshape(size, size, 4)


def emit_bake(context, target, uv_layer: str, failure: str, source=None, reach: float = 0.0) -> None:
    """Cycles' EMIT bake (one sample, BAKE_MARGIN_PX margin) into the image of `target`'s active image node on
    `uv_layer`; with `source`, selected to active: the colours of `source`'s surface within `reach` of the
    target's. The scene's render engine, samples and bake margin are the artist's again afterwards; `failure`
    is the BakeError's message when Cycles does not finish."""
    scene = context.scene
    saved = (scene.render.engine, scene.cycles.samples, scene.render.bake.margin)
    selected = [target] if source is None else [source, target]
    extra = {} if source is None else dict(use_selected_to_active=True, cage_extrusion=reach,
                                            max_ray_distance=2.0 * reach)
    try:
        scene.render.engine = 'CYCLES'
        scene.cycles.samples = 1
        scene.render.bake.margin = BAKE_MARGIN_PX
        if source is not None:
            source.select_set(True)
        with context.temp_override(active_object=target, object=target, selected_objects=selected,
                                   selected_editable_objects=selected):
            result = bpy.ops.object.bake(type='EMIT', margin=BAKE_MARGIN_PX, uv_layer=uv_layer, use_clear=True,
                                         target='IMAGE_TEXTURES', **extra)
        if 'FINISHED' not in result:
            raise BakeError(failure)
    finally:
        if source is not None:
            source.select_set(False)
        scene.render.engine, scene.cycles.samples, scene.render.bake.margin = saved


def _show_only(tree, image, bsdf, has_alpha: bool) -> None:
    """Leave output, BSDF, the baked image and its UV map; nothing else."""
    keep = {bsdf.name, next(n for n in tree.nodes if n.type == 'OUTPUT_MATERIAL').name}
    for node in [n for n in tree.nodes if n.name not in keep]:
        tree.nodes.remove(node)
    texture = tree.nodes.new("ShaderNodeTexImage")
    texture.image = image
    texture.location = (-400, 0)
    uv_node = tree.nodes.new("ShaderNodeUVMap")
    uv_node.uv_map = BAKED_UV_NAME
    uv_node.location = (-650, -100)
    tree.links.new(uv_node.outputs["UV"], texture.inputs["Vector"])
    tree.links.new(texture.outputs["Color"], bsdf.inputs["Base Color"])
    if has_alpha:
        tree.links.new(texture.outputs["Alpha"], bsdf.inputs["Alpha"])
