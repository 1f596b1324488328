"""The worker's triangle mesh as a native Blender object.

The worker answers in the evaluation frame (+x image right, +y image up, +z toward the viewer,
the silhouette's longer side = 1). Blender's front view (numpad 1) looks along +Y with Z up, so the
frame maps to Blender as X = x, Y = -z, Z = y: a proper rotation, so the faces keep their winding."""
from __future__ import annotations

from dataclasses import dataclass

import bmesh
import bpy
import numpy as np

UV_MAP_NAME = "UVMap"


def to_blender_axes(vertices: np.ndarray, size: float) -> np.ndarray:
    """Evaluation-frame vertices scaled so the silhouette's longer side is `size` metres, in Blender axes."""
    v = np.asarray(vertices, dtype=np.float64)
    return (np.stack([v[:, 0], -v[:, 2], v[:, 1]], axis=1) * size).astype(np.float32)


@dataclass
class CleanupReport:
    merged_vertices: int
    removed_faces: int
    non_manifold_edges: int
    boundary_edges: int

    @property
    def is_manifold(self) -> bool:
        return self.non_manifold_edges == 0 and self.boundary_edges == 0

    def summary(self) -> str:
        if self.is_manifold:
            return "watertight"
        return f"{self.non_manifold_edges + self.boundary_edges} non-manifold edges"


def build_mesh(name: str, vertices: np.ndarray, faces: np.ndarray, uvs: np.ndarray, size: float):
    """A new mesh datablock with one triangle per face and per-loop UVs from the per-vertex ones.
    Returns (mesh, CleanupReport)."""
    co = to_blender_axes(vertices, size)
    tris = np.ascontiguousarray(np.asarray(faces, dtype=np.int32))
    if tris.ndim != 2 or tris.shape[1] != 3 or len(tris) == 0 or len(co) == 0:
        raise ValueError(f"The worker returned no usable triangles (faces shape {tris.shape}).")
    if tris.min() < 0 or tris.max() >= len(co):
        raise ValueError("The worker returned faces that refer to missing vertices.")

    def add_uvs(mesh):
        # UVs go on per loop before the cleanup, so that bmesh carries them through merges.
        uv_layer = mesh.uv_layers.new(name=UV_MAP_NAME)
        loop_uvs = np.asarray(uvs, dtype=np.float32)[tris.ravel()]
        uv_layer.data.foreach_set("uv", loop_uvs.ravel())

    return triangle_mesh(name, co, tris, size, add_uvs)


def triangle_mesh(name: str, co: np.ndarray, tris: np.ndarray, size: float, add_layers=None):
    """A new mesh datablock from checked Blender-axes vertices `co` and triangles `tris` (one face each),
    `add_layers(mesh)` putting on the per-vertex or per-loop data before the cleanup, cleaned and smooth
    shaded; nothing is left behind if a step fails. Shared by the single-picture and the sheet mesh.
    Returns (mesh, CleanupReport)."""
    mesh = bpy.data.meshes.new(name)
    try:
        mesh.vertices.add(len(co))
        mesh.vertices.foreach_set("co", co.ravel())
        mesh.loops.add(tris.size)
        mesh.loops.foreach_set("vertex_index", tris.ravel())
        mesh.polygons.add(len(tris))
        mesh.polygons.foreach_set("loop_start", np.arange(0, tris.size, 3, dtype=np.int32))
        if add_layers is not None:
            add_layers(mesh)
        mesh.update()
        # Repairs what Blender cannot hold (e.g. duplicate faces) before bmesh sees it; the cleanup
        # below reports anything that is still not a closed surface.
        mesh.validate(verbose=False)
        report = clean_mesh(mesh, merge_distance=1e-5 * size)
        mesh.shade_smooth()
    except Exception:
        bpy.data.meshes.remove(mesh)
        raise
    return mesh, report


def clean_mesh(mesh, merge_distance: float) -> CleanupReport:
    """Merge coincident vertices, dissolve degenerate faces and edges, make normals point outward,
    and count what is still not manifold (every edge should have exactly two faces)."""
    bm = bmesh.new()
    try:
        bm.from_mesh(mesh)
        verts_before, faces_before = len(bm.verts), len(bm.faces)
        bmesh.ops.remove_doubles(bm, verts=bm.verts[:], dist=merge_distance)
        bmesh.ops.dissolve_degenerate(bm, dist=merge_distance, edges=bm.edges[:])
        # dissolve_degenerate can leave loose vertices and edges behind; they are not part of the surface.
        loose_edges = [e for e in bm.edges if not e.link_faces]
        if loose_edges:
            bmesh.ops.delete(bm, geom=loose_edges, context='EDGES')
        loose_verts = [v for v in bm.verts if not v.link_faces]
        if loose_verts:
            bmesh.ops.delete(bm, geom=loose_verts, context='VERTS')
        bmesh.ops.recalc_face_normals(bm, faces=bm.faces[:])
        report = CleanupReport(
            merged_vertices=verts_before - len(bm.verts),
            removed_faces=faces_before - len(bm.faces),
            non_manifold_edges=sum(1 for e in bm.edges if len(e.link_faces) > 2),
            boundary_edges=sum(1 for e in bm.edges if len(e.link_faces) < 2),
        )
        bm.to_mesh(mesh)
    finally:
        bm.free()
    mesh.update()
    return report


def add_object(context, name: str, mesh, location) -> bpy.types.Object:
    """Link a new object to the active collection at `location`, and make it the only selected, active object."""
    obj = bpy.data.objects.new(name, mesh)
    collection = context.view_layer.active_layer_collection.collection
    collection.objects.link(obj)
    obj.location = location
    for other in context.view_layer.objects.selected:
        if other is not None:   # the list can hold a stale entry for an object removed since the last update
            other.select_set(False)
    obj.select_set(True)
    context.view_layer.objects.active = obj
    return obj
