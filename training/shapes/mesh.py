"""Turning SDFs into normalised triangle meshes, sampling their surfaces, loading users' meshes."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
from skimage.measure import marching_cubes

from .sdf import SDF, Union


@dataclass
class Shape:
    """A closed triangle mesh in the canonical frame: +y up, front facing +z, bounding box centred
    at the origin with longest side 1. Faces are counter-clockwise seen from outside."""
    vertices: np.ndarray            # (N, 3) float32
    faces: np.ndarray               # (M, 3) int32
    parts: np.ndarray               # (N,) int16 index of the part each vertex belongs to (for colouring)
    family: str = ""
    seed: int = -1
    closed: bool = True             # watertight with outward winding (lets renderers cull back faces)
    _vertex_normals: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def vertex_normals(self) -> np.ndarray:
        """Area-weighted unit vertex normals (computed once)."""
        if self._vertex_normals is None:
            from inference.meshes import vertex_normals
            self._vertex_normals = vertex_normals(self.vertices, self.faces).astype(np.float32)
        return self._vertex_normals


def normalise(vertices: np.ndarray) -> np.ndarray:
    """Centre the bounding box at the origin and scale its longest side to 1."""
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    scale = float((hi - lo).max())
    if scale <= 0:
        raise ValueError("degenerate mesh: zero extent")
    return ((vertices - (lo + hi) / 2) / scale).astype(np.float32)


def mesh_sdf(sdf: SDF, resolution: int = 72) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marching cubes of `sdf` on a grid whose voxels are (longest bbox side / resolution) wide.

    The grid is padded by two voxels on every side so the zero level set is closed, which makes the
    mesh watertight. Returns (vertices, faces, per-vertex part index); faces are oriented outwards."""
    lo, hi = sdf.lo.astype(np.float64), sdf.hi.astype(np.float64)
    ext = hi - lo
    h = float(ext.max()) / resolution
    lo = lo - 2 * h
    counts = np.ceil((ext + 4 * h) / h).astype(int) + 1
    axes = [lo[i] + h * np.arange(counts[i]) for i in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)
    values = sdf(grid).reshape(counts)
    # Whatever a (possibly approximate) SDF does near its bounding box, the outermost grid layer is
    # outside: the surface is then closed even if it was clipped, so the mesh is always watertight.
    for axis in range(3):
        for end in (0, -1):
            index = [slice(None)] * 3
            index[axis] = end
            values[tuple(index)] = np.maximum(values[tuple(index)], h)
    if values.min() >= 0 or values.max() <= 0:
        raise ValueError("SDF has no surface inside its bounding box")
    # Negate so the "object" has the higher values: skimage's default winding then points outwards.
    verts, faces, _, _ = marching_cubes(-values, level=0.0, spacing=(h, h, h))
    verts = verts + lo
    faces = faces.astype(np.int32)
    if _signed_volume(verts, faces) < 0:
        faces = faces[:, ::-1].copy()
    verts, faces = drop_hidden_and_specks(verts, faces)
    if isinstance(sdf, Union) and len(sdf.parts) > 1:
        parts = sdf.part_index(verts.astype(np.float32)).astype(np.int16)
    else:
        parts = np.zeros(len(verts), dtype=np.int16)
    return verts.astype(np.float32), faces, parts


def drop_hidden_and_specks(verts: np.ndarray, faces: np.ndarray, min_fraction: float = 0.01):
    """Remove connected components that are sealed internal voids (negative signed volume: the
    walls of a cavity inside a solid, which no camera can see and which must not provide ground
    truth points) or that have fewer than `min_fraction` of the faces (sub-voxel tips of thin parts
    the grid resolved as separate specks). Each component of a marching-cubes mesh is closed, so
    what remains is still watertight."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(verts)
    rows = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    cols = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    if count == 1:
        return verts, faces
    face_label = label[faces[:, 0]]
    sizes = np.bincount(face_label, minlength=count)
    a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    volume = np.bincount(face_label, weights=np.einsum("ij,ij->i", a, np.cross(b, c)), minlength=count)
    keep = (sizes >= min_fraction * len(faces)) & (volume > 0)
    faces = faces[keep[face_label]]
    used = np.zeros(n, dtype=bool)
    used[faces.ravel()] = True
    remap = np.cumsum(used) - 1
    return verts[used], remap[faces].astype(np.int32)


def _signed_volume(v: np.ndarray, f: np.ndarray) -> float:
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def shape_from_sdf(sdf: SDF, family: str = "", seed: int = -1, resolution: int = 72) -> Shape:
    verts, faces, parts = mesh_sdf(sdf, resolution)
    return Shape(normalise(verts), faces, parts, family, seed)


def sample_surface(shape: Shape, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` points uniformly distributed over the surface area, with interpolated unit normals.

    Returns (points (n, 3) float32, normals (n, 3) float32)."""
    v, f = shape.vertices, shape.faces
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).astype(np.float64)
    total = area.sum()
    if total <= 0:
        raise ValueError("mesh has no surface area")
    face = rng.choice(len(f), size=n, p=area / total)
    r1 = np.sqrt(rng.random(n, dtype=np.float32))
    r2 = rng.random(n, dtype=np.float32)
    w = np.stack([1 - r1, r1 * (1 - r2), r1 * r2], axis=1)            # uniform barycentrics
    tri = f[face]
    points = np.einsum("nk,nkd->nd", w, v[tri])
    vn = shape.vertex_normals
    normals = np.einsum("nk,nkd->nd", w, vn[tri])
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    # Interpolated normals can cancel on razor-thin features; fall back to the face normal there.
    bad = length[:, 0] < 1e-6
    if bad.any():
        fnorm = np.cross(b[face[bad]] - a[face[bad]], c[face[bad]] - a[face[bad]])
        normals[bad] = fnorm
        length[bad] = np.linalg.norm(fnorm, axis=1, keepdims=True)
    normals = normals / np.maximum(length, 1e-12)
    return points.astype(np.float32), normals.astype(np.float32)


MESH_EXTENSIONS = (".obj", ".ply", ".glb", ".gltf", ".stl", ".off")


# Rotations that bring a file's up axis to our +y (proper rotations, so the winding stays outward).
UP_AXES = {"y": np.eye(3), "z": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])}


def load_mesh_folder(folder: str, up: str = "y") -> list[Shape]:
    """Load every mesh file in `folder` (sorted by name) with trimesh and normalise it like the
    procedural shapes. `up` is the files' up axis: "y" (glTF, facing +z) or "z" (Blender, PLY exports such
    as ../shared/realtrain; a Z-up model read as Y-up would be rendered lying on its back).
    Scenes are flattened into one mesh. `family` is "mesh:<file stem>", `seed` its index."""
    import trimesh

    if up not in UP_AXES:
        raise ValueError(f"up must be one of {sorted(UP_AXES)}, not {up!r}")

    shapes = []
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(MESH_EXTENSIONS))
    for index, name in enumerate(names):
        mesh = trimesh.load(os.path.join(folder, name), force="mesh", process=True)
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            raise ValueError(f"{name}: no triangles found")
        verts = normalise(np.asarray(mesh.vertices, dtype=np.float64) @ UP_AXES[up].T)
        faces = np.asarray(mesh.faces, dtype=np.int32)
        stem = os.path.splitext(name)[0]
        closed = bool(mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0)
        shapes.append(Shape(verts, faces, np.zeros(len(verts), dtype=np.int16), f"mesh:{stem}", index, closed))
    return shapes
