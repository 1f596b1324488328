"""A material that shows the picture on the mesh through its front-projection UVs."""
from __future__ import annotations

import bpy

from .mesh_object import UV_MAP_NAME


def principled_material(name: str):
    """A new material whose node tree is only a Principled BSDF (roughness 0.6) feeding the output; the
    caller wires its base colour. Shared by the picture's and the reference sheet's material.
    Returns (material, bsdf)."""
    material = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True   # 5.0 materials always use nodes (and deprecate the switch)
    tree = material.node_tree
    tree.nodes.clear()
    output = tree.nodes.new("ShaderNodeOutputMaterial")
    output.location = (300, 0)
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.location = (0, 0)
    tree.links.new(bsdf.outputs["BSDF"], output.inputs["Surface"])
    bsdf.inputs["Roughness"].default_value = 0.6
    return material, bsdf


def uv_image_material(name: str, image):
    """(material, Principled BSDF, Image Texture node): the image through the UV map as the base colour."""
    material, bsdf = principled_material(name)
    tree = material.node_tree
    texture = tree.nodes.new("ShaderNodeTexImage")
    texture.location = (-400, 0)
    texture.image = image
    # The UVs reach exactly to the picture's silhouette (or an atlas tile's edge): EXTEND keeps the opposite
    # image edge from bleeding in.
    texture.extension = 'EXTEND'
    uv_map = tree.nodes.new("ShaderNodeUVMap")
    uv_map.location = (-650, -100)
    uv_map.uv_map = UV_MAP_NAME
    tree.links.new(uv_map.outputs["UV"], texture.inputs["Vector"])
    tree.links.new(texture.outputs["Color"], bsdf.inputs["Base Color"])
    return material, bsdf, texture


def image_material(name: str, image) -> bpy.types.Material:
    """Principled BSDF fed by an Image Texture node; the picture's alpha drives the BSDF alpha."""
    material, bsdf, texture = uv_image_material(name, image)
    material.node_tree.links.new(texture.outputs["Alpha"], bsdf.inputs["Alpha"])

    _respect_alpha(material)
    material.use_backface_culling = False
    return material


def _respect_alpha(material) -> None:
    """Make EEVEE honour the alpha. 4.2+ (EEVEE Next) uses the surface render method; dithered
    transparency sorts correctly and casts matching shadows. Older settings are kept as a fallback."""
    if hasattr(material, "surface_render_method"):
        material.surface_render_method = 'DITHERED'
    elif hasattr(material, "blend_method"):
        material.blend_method = 'HASHED'
    if hasattr(material, "use_transparent_shadow"):
        material.use_transparent_shadow = True
