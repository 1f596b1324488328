"""A reference sheet's answer (contract.SheetResult) as a Blender object: the mesh standing in Blender's
front view (numpad 1 shows the front), its per-vertex colours in a colour attribute shown by a material's
Color Attribute node, placed on the reference empties or at the 3D cursor. All or nothing."""
from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from .material import principled_material
from .mesh_object import CleanupReport, add_object, to_blender_axes, triangle_mesh

COLOR_ATTRIBUTE = "Col"
# The back reference's frame turned into the front's (a half turn about the up axis).
_BACK_TO_FRONT = np.array((-1.0, 1.0, -1.0))


@dataclass
class BuiltSheet:
    obj: bpy.types.Object
    cleanup: CleanupReport
    aligned: bool            # placed on the reference empties (else at the given location, `size` metres)
    metres_per_unit: float


def front_frame_vertices(answer) -> np.ndarray:
    """The answer's vertices in the front view's frame (a back-referenced answer is turned round)."""
    v = np.asarray(answer.vertices, np.float64)
    return v * _BACK_TO_FRONT if answer.reference == "back" else v


def coloured_mesh(name: str, vertices, faces, colors, metres_per_unit: float):
    """A mesh datablock (Blender axes, `metres_per_unit` metres per frame unit) with a point-domain byte
    colour attribute, cleaned like the single-picture mesh. Returns (mesh, CleanupReport)."""
    co = to_blender_axes(vertices, metres_per_unit)
    tris = np.ascontiguousarray(np.asarray(faces, np.int32))
    if tris.ndim != 2 or tris.shape[1] != 3 or len(tris) == 0 or tris.min() < 0 or tris.max() >= len(co):
        raise ValueError(f"The worker returned no usable triangles (faces shape {tris.shape}).")

    def add_colours(mesh):
        attribute = mesh.color_attributes.new(COLOR_ATTRIBUTE, 'BYTE_COLOR', 'POINT')
        # Byte colours are stored sRGB; "color_srgb" takes the picture's own (display) values as they are.
        rgba = np.asarray(colors, np.float32) / 255.0
        attribute.data.foreach_set("color_srgb", rgba.ravel())
        mesh.color_attributes.active_color = attribute
        mesh.color_attributes.render_color_index = mesh.color_attributes.active_color_index

    return triangle_mesh(name, co, tris, metres_per_unit, add_colours)


def vertex_colour_material(name: str) -> bpy.types.Material:
    """Principled BSDF whose base colour is the mesh's colour attribute (glTF exports it as COLOR_0)."""
    material, bsdf = principled_material(name)
    tree = material.node_tree
    colour = tree.nodes.new("ShaderNodeVertexColor")
    colour.location = (-300, 0)
    colour.layer_name = COLOR_ATTRIBUTE
    tree.links.new(colour.outputs["Color"], bsdf.inputs["Base Color"])
    return material


def build_sheet_object(context, answer, name: str, location, size: float, empties: dict | None = None) -> BuiltSheet:
    """The object for `answer`: lined up with `empties` (view -> image empty) when the reference view's
    empty is among them, else centred on `location` with the front silhouette's longer side `size` metres."""
    from .references import placement

    placed = placement(answer, empties or {})
    metres, where = (placed[1], placed[0]) if placed is not None else (float(size), location)
    mesh, cleanup = coloured_mesh(name, front_frame_vertices(answer), answer.faces, answer.vertex_colors, metres)
    obj = material = None
    try:
        obj = add_object(context, name, mesh, where)
        material = vertex_colour_material(name)
        mesh.materials.append(material)
    except Exception:
        if obj is not None:
            bpy.data.objects.remove(obj)
        if material is not None:
            bpy.data.materials.remove(material)
        bpy.data.meshes.remove(mesh)
        raise
    return BuiltSheet(obj, cleanup, placed is not None, metres)
