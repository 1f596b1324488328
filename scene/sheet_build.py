"""A reference sheet's answer (contract.SheetResult) as a Blender object: the mesh standing in Blender's
front view (numpad 1 shows the front), one UV map into the answer's texture atlas (the views' pictures, see
inference/sheet_texture.py) shown by a material named after the object, the image packed into the .blend,
and the same colours per vertex in a colour attribute (what Solid mode's Attribute colouring, PLY and STL
show); placed on the reference empties or at the 3D cursor, optionally baked into one texture on an unwrap
(Bake Texture, as for one picture). All or nothing."""
from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from .build import _Created
from .material import uv_image_material
from .mesh_object import UV_MAP_NAME, CleanupReport, add_object, to_blender_axes, triangle_mesh

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


def textured_mesh(name: str, vertices, faces, colors, corner_uvs, metres_per_unit: float):
    """A mesh datablock (Blender axes, `metres_per_unit` metres per frame unit) with one UV map from the
    per-corner UVs and a point-domain byte colour attribute, cleaned like the single-picture mesh. Returns
    (mesh, CleanupReport)."""
    co = to_blender_axes(vertices, metres_per_unit)
    tris = np.ascontiguousarray(np.asarray(faces, np.int32))
    if tris.ndim != 2 or tris.shape[1] != 3 or len(tris) == 0 or tris.min() < 0 or tris.max() >= len(co):
        raise ValueError(f"The worker returned no usable triangles (faces shape {tris.shape}).")
    uvs = np.ascontiguousarray(np.asarray(corner_uvs, np.float32).reshape(-1, 2))
    if len(uvs) != tris.size:
        raise ValueError(f"The worker returned {len(uvs)} UVs for {tris.size} face corners.")

    def add_layers(mesh):
        # Loops are the faces' corners in order (triangle_mesh), so the per-corner UVs go on as they are,
        # before the cleanup, which carries them through its merges.
        mesh.uv_layers.new(name=UV_MAP_NAME).data.foreach_set("uv", uvs.ravel())
        attribute = mesh.color_attributes.new(COLOR_ATTRIBUTE, 'BYTE_COLOR', 'POINT')
        # Byte colours are stored sRGB; "color_srgb" takes the picture's own (display) values as they are.
        attribute.data.foreach_set("color_srgb", (np.asarray(colors, np.float32) / 255.0).ravel())
        mesh.color_attributes.active_color = attribute
        mesh.color_attributes.render_color_index = mesh.color_attributes.active_color_index

    return triangle_mesh(name, co, tris, metres_per_unit, add_layers)


def atlas_image(name: str, rgba) -> bpy.types.Image:
    """The atlas (uint8 RGBA, rows top-down) as a packed byte image: saved inside the .blend, written out by
    the exporters (GLB and FBX embed it, OBJ gets NAME_texture.png beside it)."""
    pixels = np.asarray(rgba, np.uint8)
    height, width = pixels.shape[:2]
    image = bpy.data.images.new(name, width, height, alpha=True)
    try:
        image.file_format = 'PNG'
        image.pixels.foreach_set((pixels[::-1].astype(np.float32) / 255.0).ravel())
        image.pack()
    except Exception:
        bpy.data.images.remove(image)
        raise
    return image


def atlas_material(name: str, image) -> bpy.types.Material:
    """Principled BSDF whose base colour is the atlas through the UV map (opaque: the atlas has no alpha)."""
    return uv_image_material(name, image)[0]


# The artist options a sheet takes. Fill Sides is what the sheet's texture always does for faces no view sees;
# a reference camera and one object per part belong to a single picture.
SHEET_ARTIST_OPTIONS = ("target_faces", "quads", "voxel_first", "subdivision", "sharp_angle", "bake_size", "upright")


def sheet_artist_problem(options) -> str | None:
    """Why `options` (contract.ArtistOptions) cannot be applied to a reference sheet, or None."""
    if options.upright and options.elevation:
        return "A reference sheet's views have no camera elevation; Stand Upright takes no angle for a sheet."
    return None


def build_sheet_object(context, answer, name: str, location, size: float, empties: dict | None = None,
                       bake_size: int = 0, artist=None) -> BuiltSheet:
    """The object for `answer`: lined up with `empties` (view -> image empty) when the reference view's
    empty is among them, else centred on `location` with the front silhouette's longer side `size` metres.
    With `bake_size`, everything is baked into one bake_size x bake_size texture on an unwrap (scene/bake.py),
    which replaces the atlas and its UV map. `artist` (contract.ArtistOptions; SHEET_ARTIST_OPTIONS apply):
    Faces decimates (UVs kept), Quads remesh with QuadriFlow and bake the atlas onto an unwrap of the quads
    (scene/sheet_quads.py; at the bake size when given, which then is the bake), Hard Edges and Subdivision as
    for one picture, Stand Upright puts the origin at the bottom centre (on `location` unless lined up with
    the references)."""
    from ..inference.contract import ArtistOptions
    from .topology import TopologyError, apply_topology

    artist = artist or ArtistOptions()
    problem = sheet_artist_problem(artist)
    if problem is not None:
        raise TopologyError(problem)
    bake_size = bake_size or artist.bake_size
    from .references import placement

    placed = placement(answer, empties or {})
    metres, where = (placed[1], placed[0]) if placed is not None else (float(size), location)
    created = _Created()
    images_before = set(bpy.data.images)
    try:
        mesh, cleanup = textured_mesh(name, front_frame_vertices(answer), answer.faces, answer.vertex_colors,
                                      answer.uvs, metres)
        created.add(bpy.data.meshes, mesh)
        obj = created.add(bpy.data.objects, add_object(context, name, mesh, where))
        image = created.add(bpy.data.images, atlas_image(f"{name} texture", answer.texture))
        mesh.materials.append(created.add(bpy.data.materials, atlas_material(name, image)))
        if artist.quads:
            cleanup = _quads(context, obj, artist, metres, name, texture_size_hint=(bake_size, answer.texture.shape),
                             created=created) or cleanup
            bake_size = 0      # the quads' texture is baked already, at the bake size when one was given
            if image.users == 0:    # the baked texture replaced the atlas
                bpy.data.images.remove(image)
        else:
            cleanup = apply_topology(obj, artist, None, metres) or cleanup
        if bake_size:
            from .bake import bake_to_texture
            created.add(bpy.data.images, bake_to_texture(context, obj, bake_size, name))
            if image.users == 0:    # the bake shows its own texture now
                bpy.data.images.remove(image)
        if artist.upright:
            _origin_at_bottom_centre(obj, keep_in_place=placed is not None, location=where)
    except Exception:
        created.undo()
        for made in [i for i in bpy.data.images if i not in images_before]:   # a bake that failed half-way
            bpy.data.images.remove(made)
        raise
    return BuiltSheet(obj, cleanup, placed is not None, metres)


def _quads(context, obj, artist, metres: float, name: str, texture_size_hint, created):
    """QuadriFlow on `obj` with the atlas carried over by a bake (scene/sheet_quads.py); the textured triangles
    it bakes from are removed afterwards, whatever happens. The baked image is registered with `created`."""
    from .sheet_quads import KeptSurface, bake_onto_quads, texture_size
    from .topology import apply_topology

    kept = KeptSurface(obj)
    size = texture_size(*texture_size_hint)
    try:
        report = apply_topology(obj, artist, None, metres, remake_uvs=lambda o: created.add(
            bpy.data.images, bake_onto_quads(context, kept, o, size, name, metres)))
    finally:
        kept.remove()
    return report


def _origin_at_bottom_centre(obj, keep_in_place: bool, location) -> None:
    """The sheet stands as its front view shows it (no camera elevation to undo): only the origin moves to the
    bottom centre. Lined up with the reference empties, the mesh stays where they put it; else the bottom
    centre stands on `location`."""
    from mathutils import Vector

    from .placement import stand_upright
    basis = obj.matrix_basis.copy()   # matrix_world is stale until the depsgraph next updates
    moved = stand_upright(obj, 0.0)
    if keep_in_place:
        obj.matrix_basis = basis @ moved.inverted()
    else:
        obj.location = Vector(location)
