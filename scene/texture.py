"""Texture on every side: the picture where the camera saw the surface, its own colours grown in where
it did not (see texture_fill.py for why and how), blended by how squarely each face looks at the camera.

The material reads two images through the same front-projection UVs: the *grown* picture (sharp, the
backdrop replaced by the object's own colours) and its *blurred* pyramid level. A per-vertex attribute
FACING_ATTRIBUTE (1 facing the camera or straight away from it, 0 edge-on) mixes them, so edge-on faces
near the silhouette show smooth colour instead of streaks, and front and back meet in the same texels
along the silhouette: no seam."""
from __future__ import annotations

import bpy
import numpy as np

from . import texture_fill
from .image_source import image_pixels
from .material import image_material
from .packed_image import packed_image
from .mesh_object import UV_MAP_NAME

FACING_ATTRIBUTE = "mfi_facing"
# |normal . view| below EDGE_ON is edge-on (fully blurred), above SQUARE fully sharp.
EDGE_ON, SQUARE = 0.15, 0.5


def write_facing(mesh, view_direction=(0.0, -1.0, 0.0)) -> None:
    """Per-vertex FACING_ATTRIBUTE from the vertex normals (Blender's front view looks along +Y, so the
    picture's viewer sits toward -Y)."""
    normals = np.empty(len(mesh.vertices) * 3, np.float32)
    mesh.vertices.foreach_get("normal", normals)
    cosine = np.abs(normals.reshape(-1, 3) @ np.asarray(view_direction, np.float32))
    t = np.clip((cosine - EDGE_ON) / (SQUARE - EDGE_ON), 0.0, 1.0)
    facing = (t * t * (3 - 2 * t)).astype(np.float32)      # smoothstep: no visible band where it starts
    attribute = mesh.attributes.get(FACING_ATTRIBUTE)
    if attribute is not None:
        mesh.attributes.remove(attribute)
    attribute = mesh.attributes.new(FACING_ATTRIBUTE, 'FLOAT', 'POINT')
    attribute.data.foreach_set("value", facing)


def _new_image(name: str, rgba_top_down: np.ndarray) -> bpy.types.Image:
    # Packed: generated pixels would live only in memory; packed they stay in the .blend.
    return packed_image(name, rgba_top_down)


def mesh_uv_triangles(mesh) -> tuple[np.ndarray, np.ndarray]:
    """(uvs per loop, loop-index triangles) of the mesh's front-projection UVs (any polygon size)."""
    mesh.calc_loop_triangles()
    tris = np.empty(len(mesh.loop_triangles) * 3, np.int32)
    mesh.loop_triangles.foreach_get("loops", tris)
    uv = np.empty(len(mesh.loops) * 2, np.float32)
    mesh.uv_layers[UV_MAP_NAME].data.foreach_get("uv", uv)
    return uv.reshape(-1, 2), tris.reshape(-1, 3)


def filled_material(name: str, image, mesh) -> tuple[bpy.types.Material, list]:
    """A material showing the picture on every side; returns it and the images it made (for clean-up)."""
    uvs, triangles = mesh_uv_triangles(mesh)
    grown, blurred = texture_fill.continued_texture(image_pixels(image), uvs, triangles)
    made = []
    try:
        grown_image = _new_image(f"{name} texture", grown)
        made.append(grown_image)
        blurred_image = _new_image(f"{name} texture (sides)", blurred)
        made.append(blurred_image)
        material = image_material(name, grown_image)
    except Exception:
        for datablock in made:
            bpy.data.images.remove(datablock)
        raise
    tree = material.node_tree
    sharp = next(n for n in tree.nodes if n.type == 'TEX_IMAGE')
    bsdf = next(n for n in tree.nodes if n.type == 'BSDF_PRINCIPLED')
    uv_node = next(n for n in tree.nodes if n.type == 'UVMAP')
    soft = tree.nodes.new("ShaderNodeTexImage")
    soft.location = (-400, -300)
    soft.image = blurred_image
    soft.extension = 'EXTEND'
    tree.links.new(uv_node.outputs["UV"], soft.inputs["Vector"])
    facing = tree.nodes.new("ShaderNodeAttribute")
    facing.location = (-400, 250)
    facing.attribute_type = 'GEOMETRY'
    facing.attribute_name = FACING_ATTRIBUTE
    mix = tree.nodes.new("ShaderNodeMix")
    mix.location = (-150, 100)
    mix.data_type = 'RGBA'
    colour_a, colour_b = [s for s in mix.inputs if s.type == 'RGBA'][:2]
    tree.links.new(facing.outputs["Fac"], mix.inputs[0])
    tree.links.new(soft.outputs["Color"], colour_a)
    tree.links.new(sharp.outputs["Color"], colour_b)
    result = next(s for s in mix.outputs if s.type == 'RGBA')
    tree.links.new(result, bsdf.inputs["Base Color"])
    return material, made
