"""Texture on every side: the picture where the camera saw the surface, its own colours grown in where
it did not (see texture_fill.py for why and how), blended by how squarely each face looks at the camera.

The material reads two images through the same front-projection UVs: the *grown* picture (sharp, the
backdrop replaced by the object's own colours) and its *blurred* pyramid level. A per-vertex attribute
FACING_ATTRIBUTE (1 facing the camera or straight away from it, 0 edge-on) mixes them, so edge-on faces
near the silhouette show smooth colour instead of streaks, and front and back meet in the same texels
along the silhouette: no seam."""
from __future__ import annotations

import threading

import bpy
import numpy as np

from . import texture_fill
from .image_source import image_pixels
from .material import image_material
from .mesh_object import UV_MAP_NAME
from .packed_image import packed_image, png_bytes

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


def _textures(rgba: np.ndarray, uvs: np.ndarray, triangles: np.ndarray):
    """(grown, blurred, grown PNG, blurred PNG): the two textures and their packed files, both encoded at once
    (zlib and numpy let go of the GIL). Numpy and the standard library only: it may run on a thread."""
    grown, blurred = texture_fill.continued_texture(rgba, uvs, triangles)
    encoded = {}
    helper = threading.Thread(target=lambda: encoded.update(grown=png_bytes(grown)), name="mesh-from-image-png")
    helper.start()
    try:
        blurred_png = png_bytes(blurred)
    finally:
        helper.join()
    if "grown" not in encoded:   # the helper failed: encode here, so its error shows
        encoded["grown"] = png_bytes(grown)
    return grown, blurred, encoded["grown"], blurred_png


class BackgroundFill:
    """The Fill Sides textures computed on a thread from the worker's own triangles, started before the mesh is
    built, so that they are ready (or nearly) when the material is made. They are used only when the built
    mesh's UV triangles are exactly those triangles (the cleanup merged nothing and no topology option changed
    the faces, as for every picture tried): then they are the textures the built mesh gives, texel for texel."""

    def __init__(self, rgba: np.ndarray, uvs: np.ndarray, faces: np.ndarray):
        uvs = np.asarray(uvs, np.float32)
        faces = np.asarray(faces)
        self._triangles = uvs[faces]
        self._answer = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(rgba, uvs, faces), name="mesh-from-image-fill",
                                        daemon=True)
        self._thread.start()

    def _run(self, rgba, uvs, faces) -> None:
        try:
            self._answer = _textures(rgba, uvs, faces)
        except BaseException as exc:   # handed to the main thread by textures_for()
            self._error = exc

    def textures_for(self, uvs: np.ndarray, triangles: np.ndarray):
        """_textures()' answer for this mesh, or None when its UV triangles are not the ones computed from."""
        if not np.array_equal(uvs[triangles], self._triangles):   # (False also for another shape)
            return None
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._answer


def mesh_uv_triangles(mesh) -> tuple[np.ndarray, np.ndarray]:
    """(uvs per loop, loop-index triangles) of the mesh's front-projection UVs (any polygon size)."""
    mesh.calc_loop_triangles()
    tris = np.empty(len(mesh.loop_triangles) * 3, np.int32)
    mesh.loop_triangles.foreach_get("loops", tris)
    uv = np.empty(len(mesh.loops) * 2, np.float32)
    mesh.uv_layers[UV_MAP_NAME].data.foreach_get("uv", uv)
    return uv.reshape(-1, 2), tris.reshape(-1, 3)


def filled_material(name: str, image, mesh,
                    background: BackgroundFill | None = None) -> tuple[bpy.types.Material, list]:
    """A material showing the picture on every side; returns it and the images it made (for clean-up).
    `background`: the textures already under way for this mesh's triangles (used if they are this mesh's)."""
    uvs, triangles = mesh_uv_triangles(mesh)
    textures = background.textures_for(uvs, triangles) if background is not None else None
    if textures is None:
        textures = _textures(image_pixels(image), uvs, triangles)
    grown, blurred, grown_png, blurred_png = textures
    made = []
    try:
        # Packed: generated pixels would live only in memory; packed they stay in the .blend.
        grown_image = packed_image(f"{name} texture", grown, grown_png)
        made.append(grown_image)
        blurred_image = packed_image(f"{name} texture (sides)", blurred, blurred_png)
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
