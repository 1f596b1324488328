"""The mesh building and cleanup the operator and the CLI share, on meshes made to need it."""
from importlib import import_module

import numpy as np
import pytest

from blender_session import MODULE

CUBE_CORNERS = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)], np.float32)
# Six faces as corner indices, counter-clockwise seen from outside (evaluation frame).
CUBE_QUADS = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]


def split_cube_with_a_sliver():
    """A cube whose faces do not share vertices (as a mesh split along UV seams arrives), plus one
    zero-area triangle: 24 + 3 vertices, 12 + 1 faces."""
    vertices, faces = [], []
    for quad in CUBE_QUADS:
        base = len(vertices)
        vertices += [CUBE_CORNERS[i] for i in quad]
        faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    base = len(vertices)
    vertices += [CUBE_CORNERS[0], CUBE_CORNERS[0], CUBE_CORNERS[1]]
    faces.append((base, base + 1, base + 2))
    vertices = np.array(vertices, np.float32)
    uvs = (vertices[:, :2] + 0.5).astype(np.float32)   # front projection of x, y into [0, 1]
    return vertices, np.array(faces, np.int32), uvs


def test_cleanup_merges_seams_drops_slivers_and_reports_a_closed_surface(clean_data):
    bpy = clean_data
    mesh_object = import_module(f"{MODULE}.scene.mesh_object")
    vertices, faces, uvs = split_cube_with_a_sliver()

    mesh, report = mesh_object.build_mesh("cube", vertices, faces, uvs, size=2.0)

    assert len(mesh.vertices) == 8 and len(mesh.polygons) == 12
    assert report.merged_vertices == 27 - 8 and report.removed_faces == 1
    assert report.is_manifold and report.summary() == "watertight"
    co = np.empty(24, np.float32)
    mesh.vertices.foreach_get("co", co)
    assert np.abs(co).max() == pytest.approx(1.0)          # size 2: the longer side is 2 m
    # Normals point outward after the cleanup: every face normal agrees with its centre's direction.
    for polygon in mesh.polygons:
        assert polygon.normal.dot(polygon.center) > 0
    # UVs survived the merge, still per loop: each loop's uv is the projection of its vertex's (x, z).
    loop_vertex = np.empty(len(mesh.loops), np.int32)
    mesh.loops.foreach_get("vertex_index", loop_vertex)
    loop_uv = np.empty(len(mesh.loops) * 2, np.float32)
    mesh.uv_layers[mesh_object.UV_MAP_NAME].data.foreach_get("uv", loop_uv)
    blender_co = co.reshape(-1, 3)[loop_vertex]
    expected = np.stack([blender_co[:, 0] / 2 + 0.5, blender_co[:, 2] / 2 + 0.5], axis=1)
    assert np.allclose(loop_uv.reshape(-1, 2), expected, atol=1e-6)
    bpy.data.meshes.remove(mesh)


def test_open_surface_is_reported(clean_data):
    bpy = clean_data
    mesh_object = import_module(f"{MODULE}.scene.mesh_object")
    vertices, faces, uvs = split_cube_with_a_sliver()
    mesh, report = mesh_object.build_mesh("open", vertices, faces[2:12], uvs, size=1.0)   # one face missing
    assert not report.is_manifold and report.boundary_edges == 4
    assert "non-manifold" in report.summary()
    bpy.data.meshes.remove(mesh)


def test_faces_pointing_at_missing_vertices_are_refused(clean_data):
    bpy = clean_data
    mesh_object = import_module(f"{MODULE}.scene.mesh_object")
    meshes_before = len(bpy.data.meshes)
    with pytest.raises(ValueError, match="missing vertices"):
        mesh_object.build_mesh("bad", CUBE_CORNERS, np.array([[0, 1, 99]], np.int32), CUBE_CORNERS[:, :2], 1.0)
    assert len(bpy.data.meshes) == meshes_before
