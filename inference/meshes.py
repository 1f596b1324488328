"""Mesh basics, defined once: edges, adjacency, normals, connected pieces, orientation, closedness and surface
sampling of triangle meshes given as (vertices (N, 3), faces (M, 3)) arrays. Numpy and scipy only."""
from __future__ import annotations

import numpy as np
from scipy import sparse

# Default number of surface samples (the evaluation protocol's 10k).
SAMPLES = 10_000


def unique_edges(faces: np.ndarray, return_inverse: bool = False):
    """Sorted unique edges (E, 2); with `return_inverse` also, for the edges of faces[:, [0,1]], [1,2], [2,0]
    stacked in that order (3M), each one's index into them."""
    faces = np.asarray(faces)
    a = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    b = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    # Each side's ends in order as two 1-D arrays: np.sort(axis=1) on (3M, 2) rows cost twice the rest.
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    # One int64 key per edge: np.unique on rows (axis=0) sorts structured records and costs ~10x more.
    n = int(hi.max()) + 1 if len(hi) else 1
    keys = lo.astype(np.int64) * n + hi
    if not return_inverse:
        unique = np.unique(keys)
    else:
        unique, inverse = np.unique(keys, return_inverse=True)
    edges = np.stack([unique // n, unique % n], axis=1).astype(faces.dtype)
    return edges if not return_inverse else (edges, inverse.reshape(-1))


def vertex_adjacency(faces: np.ndarray, n: int) -> sparse.csr_matrix:
    """(n, n) matrix with 1 where two vertices share an edge."""
    e = unique_edges(np.asarray(faces))
    return sparse.csr_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n))


def face_pairs(faces: np.ndarray) -> np.ndarray:
    """(P, 2) indices of faces that share an edge (each interior edge of a closed mesh once)."""
    e = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    owner = np.tile(np.arange(len(faces)), 3)
    order = np.lexsort((e[:, 1], e[:, 0]))
    e, owner = e[order], owner[order]
    same = (e[1:] == e[:-1]).all(axis=1)
    return np.stack([owner[:-1][same], owner[1:][same]], axis=1)


def face_normals_areas(vertices: np.ndarray, faces: np.ndarray):
    """Unit face normals (M, 3) and face areas (M,), float64."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces)
    cross = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    double_area = np.linalg.norm(cross, axis=1)
    return cross / np.maximum(double_area, 1e-20)[:, None], 0.5 * double_area


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (float64)."""
    v, f = np.asarray(vertices, np.float64), np.asarray(faces)
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])   # area-weighted
    vn = np.zeros_like(v)
    for k in range(3):
        np.add.at(vn, f[:, k], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-300)


def largest_component(vertices: np.ndarray, faces: np.ndarray):
    """Drop every piece of the mesh but the one with the most faces (and the vertices it does not use)."""
    from scipy.sparse.csgraph import connected_components

    n = len(vertices)
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    g = sparse.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    count, label = connected_components(g, directed=False)
    if count > 1:
        face_label = label[faces[:, 0]]
        keep = np.bincount(face_label).argmax()
        faces = faces[face_label == keep]
    used = np.unique(faces)
    remap = -np.ones(n, np.int64)
    remap[used] = np.arange(len(used))
    return vertices[used], remap[faces].astype(np.int32)


def orient_outward(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces wound counter-clockwise seen from outside (positive signed volume)."""
    v = vertices[faces].astype(np.float64)
    volume = np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() / 6.0
    return faces if volume > 0 else faces[:, ::-1].copy()


def is_watertight(faces: np.ndarray) -> bool:
    """Closed and consistently oriented: every directed edge occurs once and its reverse occurs once."""
    f = np.asarray(faces, np.int64)
    directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    n = int(directed.max()) + 1 if len(directed) else 0
    keys = directed[:, 0] * n + directed[:, 1]
    if len(np.unique(keys)) != len(keys):
        return False
    reverse = directed[:, 1] * n + directed[:, 0]
    return bool(np.isin(reverse, keys).all())


def genus(vertices: np.ndarray, faces: np.ndarray) -> int:
    """Handles of a closed, connected mesh: (2 - V + E - F) / 2 (V counts the vertices faces use)."""
    f = np.asarray(faces)
    chi = len(np.unique(f)) - len(unique_edges(f)) + len(f)
    return int(round((2 - chi) / 2))


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n: int = SAMPLES, seed: int = 0):
    """n area-weighted points on the mesh and the normals of the faces they lie on."""
    rng = np.random.default_rng(seed)
    normals, areas = face_normals_areas(vertices, faces)
    total = areas.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("mesh has no area")
    idx = rng.choice(len(faces), size=n, p=areas / total)
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    w = np.stack([1 - s, s * (1 - r2), s * r2], axis=1)
    tri = np.asarray(vertices, np.float64)[np.asarray(faces)[idx]]
    return (tri * w[:, :, None]).sum(axis=1), normals[idx]
