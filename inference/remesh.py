"""Even triangles: isotropic remeshing of a closed mesh (Botsch & Kobbelt 2004), kept on the original surface.

A network deforms a template whose triangles were even on the silhouette; where it pulls the surface deep
(the sides of a boat, a lamp's shade) the triangles stretch into slivers, and sculpting, subdivision and
remeshing all behave worse on slivers. Moving vertices alone cannot fix a stretch (an even tiling of a
stretched region needs more vertices along it), so each round changes the connectivity: split edges longer
than 4/3 of the target length, collapse edges shorter than 4/5 of it, flip edges towards valence 6, then slide
every vertex within its tangent plane towards its neighbours' mean and put it back on the original surface
(closest point). The shape stays the input's, the faces stay closed, manifold and outward-facing.

Splits and flips run on many edges at once, on disjoint faces (an edge changes only if it is the choice of
both its faces), so they are numpy passes; collapses change the neighbourhoods that the next collapse must
check, so they run one after another in a Python loop over the short edges."""
from __future__ import annotations

import gc
import math
from contextlib import contextmanager

import numpy as np
from scipy.spatial import cKDTree

from .meshes import face_normals_areas, unique_edges, vertex_adjacency, vertex_normals

SPLIT_ABOVE, COLLAPSE_BELOW = 4.0 / 3.0, 4.0 / 5.0   # relative to the target length, as in Botsch & Kobbelt
FLIP_CREASE_COS = 0.85     # no flips across a fold sharper than ~32 degrees: a flip there would change the shape


def target_edge_length(vertices: np.ndarray, faces: np.ndarray, vertex_count: int) -> float:
    """Edge length at which equilateral triangles tile this surface with about `vertex_count` vertices
    (a closed triangle mesh has two faces per vertex)."""
    area = face_normals_areas(vertices, faces)[1].sum()
    return float(np.sqrt(area / (vertex_count * np.sqrt(3.0) / 2.0)))


def _face_edges(faces: np.ndarray):
    """Unique edges and, per face, the edge index of its sides (f0 f1), (f1 f2), (f2 f0)."""
    edges, inverse = unique_edges(faces, return_inverse=True)
    return edges, inverse.reshape(3, -1).T


def _split_long(v: np.ndarray, f: np.ndarray, longest: float) -> tuple[np.ndarray, np.ndarray]:
    # Each pass splits a face-disjoint set of long edges, the longest among them; refining a mesh to four times its
    # density takes about a dozen passes; 32 bounds the loop without ever stopping it early in practice.
    for _ in range(32):
        edges, fe = _face_edges(f)
        length = np.linalg.norm(v[edges[:, 0]] - v[edges[:, 1]], axis=1)
        scored = np.where(length[fe] > longest, length[fe], -1.0)
        if scored.max() < 0:
            break
        slot = scored.argmax(axis=1)
        wants = scored.max(axis=1) > 0
        pick = fe[np.arange(len(f)), slot]
        chosen = np.bincount(pick[wants], minlength=len(edges)) == 2   # both faces of the edge chose it
        new_index = np.full(len(edges), -1)
        new_index[chosen] = len(v) + np.arange(chosen.sum())
        v = np.concatenate([v, 0.5 * (v[edges[chosen, 0]] + v[edges[chosen, 1]])])
        split = wants & chosen[pick]
        i, k = np.flatnonzero(split), slot[split]
        a, b, c = f[i, k], f[i, (k + 1) % 3], f[i, (k + 2) % 3]
        m = new_index[pick[split]]
        f = np.concatenate([f[~split], np.stack([a, m, c], 1), np.stack([m, b, c], 1)])
    return v, f


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross for (N, 3) arrays without its axis bookkeeping, which dominates on the few faces of one edge."""
    return np.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)


def _normals(v: np.ndarray, tri: np.ndarray) -> np.ndarray:
    n = _cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]])
    return n / np.maximum(np.sqrt(np.einsum("ij,ij->i", n, n))[:, None], 1e-300)


def _collapse_short(v: np.ndarray, f: np.ndarray, shortest: float, longest: float) -> tuple[np.ndarray, np.ndarray]:
    """Collapse edges shorter than `shortest` to their midpoints, shortest first, one after another (each
    collapse updates the neighbourhoods the next one checks), unless that would break the manifold, leave an
    edge longer than `longest` or turn a face over: one moved face more than ~73 degrees from its old
    orientation (cos 0.3) or degenerate.

    The loop works on Python lists and floats: each check touches about ten faces, where numpy's per-call
    overhead cost four times the arithmetic (0.26 -> 0.06 s a round on a 2.5k-vertex mesh). Its checks are
    written out inline, without generators or helper calls: a quarter of the round's time went to those.
    The garbage collector is off meanwhile (_without_gc)."""
    with _without_gc():
        return _collapse_short_lists(v, f, shortest, longest)


@contextmanager
def _without_gc():
    """The cyclic garbage collector paused. A collapse round makes ~30k lists and sets of numbers, none of
    them in a cycle, and so many new containers set off full collections that walked every object the process
    holds (~190k with torch loaded): 40-300 ms of collections per reconstruction here, as much as the work."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _collapse_short_lists(v: np.ndarray, f: np.ndarray, shortest: float, longest: float):
    edges = unique_edges(f)
    length = np.linalg.norm(v[edges[:, 0]] - v[edges[:, 1]], axis=1)
    candidates = np.flatnonzero(length < shortest)
    if len(candidates) == 0:
        return v, f
    n = len(v)
    neighbours, around = _vertex_sets(np.concatenate([edges, edges[:, ::-1]]), n), _vertex_sets(
        np.stack([f.ravel(), np.repeat(np.arange(len(f)), 3)], axis=1), n)
    faces = f.tolist()
    pos = v.tolist()
    alive = [True] * len(faces)
    used = [True] * n
    shortest2, longest2 = shortest * shortest, longest * longest
    sqrt = math.sqrt
    for a, b in edges[candidates[np.argsort(length[candidates])]].tolist():
        if not (used[a] and used[b]) or b not in neighbours[a]:
            continue
        (ax, ay, az), (bx, by, bz) = pos[a], pos[b]
        dx, dy, dz = ax - bx, ay - by, az - bz
        if dx * dx + dy * dy + dz * dz >= shortest2:
            continue   # grew since the list was made
        na, nb = neighbours[a], neighbours[b]
        common = na & nb
        # Link condition: on a closed manifold the edge's two opposite vertices are its only common neighbours;
        # they lose one edge each and must keep three.
        if len(common) != 2 or len(na) + len(nb) < 7:
            continue
        c, d = common
        if len(neighbours[c]) <= 3 or len(neighbours[d]) <= 3:
            continue
        px, py, pz = 0.5 * (ax + bx), 0.5 * (ay + by), 0.5 * (az + bz)
        if _any_farther(pos, na, b, px, py, pz, longest2) or _any_farther(pos, nb, a, px, py, pz, longest2):
            continue
        around_a, around_b = around[a], around[b]
        p = (px, py, pz)
        turns = False
        for i in around_a ^ around_b:   # the faces that move and stay: those with one of a, b
            t0, t1, t2 = faces[i]
            c0, c1, c2 = pos[t0], pos[t1], pos[t2]
            m0 = p if t0 == a or t0 == b else c0
            m1 = p if t1 == a or t1 == b else c1
            m2 = p if t2 == a or t2 == b else c2
            ux, uy, uz = c1[0] - c0[0], c1[1] - c0[1], c1[2] - c0[2]
            wx, wy, wz = c2[0] - c0[0], c2[1] - c0[1], c2[2] - c0[2]
            n0x, n0y, n0z = uy * wz - uz * wy, uz * wx - ux * wz, ux * wy - uy * wx
            ux, uy, uz = m1[0] - m0[0], m1[1] - m0[1], m1[2] - m0[2]
            wx, wy, wz = m2[0] - m0[0], m2[1] - m0[1], m2[2] - m0[2]
            n1x, n1y, n1z = uy * wz - uz * wy, uz * wx - ux * wz, ux * wy - uy * wx
            l1 = sqrt(n1x * n1x + n1y * n1y + n1z * n1z)
            if l1 < 1e-12 or (n0x * n1x + n0y * n1y + n0z * n1z
                              < 0.3 * l1 * max(sqrt(n0x * n0x + n0y * n0y + n0z * n0z), 1e-300)):
                turns = True
                break
        if turns:
            continue
        pos[a] = [px, py, pz]
        used[b] = False
        for i in around_a & around_b:
            alive[i] = False
            for x in faces[i]:
                around[x].discard(i)
        for i in around_b:
            tri = faces[i]
            tri[tri.index(b)] = a
            around_a.add(i)
        for x in nb:
            neighbours[x].discard(b)
            if x != a:
                neighbours[x].add(a)
                na.add(x)
        na.discard(b)
        neighbours[b] = set()
        around[b] = set()
    used = np.array(used)
    index = np.cumsum(used) - 1
    return np.array(pos, np.float64)[used], index[np.array(faces, np.int64)[np.array(alive)]]


def _vertex_sets(pairs: np.ndarray, n: int) -> list:
    """For each vertex i < n, the set of pairs[:, 1] where pairs[:, 0] == i: built from slices of one sorted
    list (C does the adding), twice as fast as adding them one at a time."""
    order = np.argsort(pairs[:, 0], kind="stable")
    start = np.searchsorted(pairs[order, 0], np.arange(n + 1)).tolist()
    other = pairs[order, 1].tolist()
    return [set(other[start[i]:start[i + 1]]) for i in range(n)]


def _any_farther(pos: list, ring, skip: int, px: float, py: float, pz: float, limit2: float) -> bool:
    """Whether a vertex of `ring` other than `skip` lies farther than sqrt(limit2) from p."""
    for x in ring:
        if x != skip:
            qx, qy, qz = pos[x]
            qx -= px
            qy -= py
            qz -= pz
            if qx * qx + qy * qy + qz * qz > limit2:
                return True
    return False


def _flip_towards_valence_six(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    edges, fe = _face_edges(f)
    if not (np.bincount(fe.ravel(), minlength=len(edges)) == 2).all():
        return f   # not a closed manifold (the caller's input was not): leave the connectivity alone
    n = len(v)
    degree = np.bincount(edges.ravel(), minlength=n)
    # Each edge's two faces: face i holds it at slot k, with the vertex opposite at slot k + 2.
    owner = np.repeat(np.arange(len(f)), 3)
    slot = np.tile(np.arange(3), len(f))
    order = np.argsort(fe.ravel(), kind="stable")
    first, second = order[0::2], order[1::2]
    f1, k1, f2, k2 = owner[first], slot[first], owner[second], slot[second]
    a, b = f[f1, k1], f[f1, (k1 + 1) % 3]
    c, d = f[f1, (k1 + 2) % 3], f[f2, (k2 + 2) % 3]
    edge_id = fe.ravel()[first]
    deviation = lambda *ds: sum(np.abs(x - 6) for x in ds)
    gain = (deviation(degree[a], degree[b], degree[c], degree[d])
            - deviation(degree[a] - 1, degree[b] - 1, degree[c] + 1, degree[d] + 1))
    existing = np.sort(edges[:, 0] * n + edges[:, 1])
    cd = np.minimum(c, d) * n + np.maximum(c, d)
    pos = np.clip(np.searchsorted(existing, cd), 0, len(existing) - 1)
    new_edge_exists = existing[pos] == cd
    face_normals = _normals(v, f)   # each face's once: an edge's two faces gathered from them, the same numbers
    n1, n2 = face_normals[f1], face_normals[f2]
    t1, t2 = np.stack([a, d, c], 1), np.stack([d, b, c], 1)
    m1, m2 = _normals(v, t1), _normals(v, t2)
    flat = (n1 * n2).sum(1) > FLIP_CREASE_COS
    same_side = ((m1 * (n1 + n2)).sum(1) > 0) & ((m2 * (n1 + n2)).sum(1) > 0) & ((m1 * m2).sum(1) > FLIP_CREASE_COS)
    ok = (gain > 0) & ~new_edge_exists & (degree[a] > 3) & (degree[b] > 3) & (c != d) & flat & same_side
    if not ok.any():
        return f
    # Every face picks its best flippable edge; an edge flips only when both of its faces picked it.
    score = np.full(len(edges), -1.0)
    score[edge_id[ok]] = gain[ok]
    per_face = score[fe]
    pick = fe[np.arange(len(f)), per_face.argmax(axis=1)]
    chosen = (np.bincount(pick[per_face.max(axis=1) > 0], minlength=len(edges)) == 2)
    go = chosen[edge_id] & ok
    # Two flips of one batch can create the same new edge (both quads share c and d): keep one of them.
    first_of_key = np.zeros(len(go), bool)
    _, keep = np.unique(cd[go], return_index=True)
    first_of_key[np.flatnonzero(go)[keep]] = True
    go &= first_of_key
    f = f.copy()
    f[f1[go]] = t1[go]
    f[f2[go]] = t2[go]
    return f


def _relax_tangentially(v: np.ndarray, f: np.ndarray, amount: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Vertices moved within their tangent planes towards their neighbours' mean, and their normals."""
    adjacency = vertex_adjacency(f, len(v))
    mean = (adjacency @ v) / np.asarray(adjacency.sum(axis=1))
    step = mean - v
    normal = vertex_normals(v, f)
    step -= (step * normal).sum(axis=1, keepdims=True) * normal
    return v + amount * step, normal


def closest_points_on_triangles(triangles: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Closest point of each triangle (T, 3, 3) to the matching point (T, 3): the Voronoi-region test of
    Ericson, Real-Time Collision Detection, 5.1.5, for all pairs at once."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    ab, ac, ap = b - a, c - a, points - a
    dot = lambda x, y: np.einsum("ij,ij->i", x, y)
    d1, d2 = dot(ab, ap), dot(ac, ap)
    bp, cp = points - b, points - c
    d3, d4, d5, d6 = dot(ab, bp), dot(ac, bp), dot(ab, cp), dot(ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    safe = lambda x: np.where(np.abs(x) > 1e-300, x, 1e-300)
    # Inside the face by default; the regions below override it, most specific last.
    denominator = safe(va + vb + vc)
    out = a + ab * (vb / denominator)[:, None] + ac * (vc / denominator)[:, None]
    t_bc = (d4 - d3) / safe((d4 - d3) + (d5 - d6))
    regions = [
        ((va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0), b + (c - b) * t_bc[:, None]),     # edge bc
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), a + ac * (d2 / safe(d2 - d6))[:, None]),    # edge ac
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), a + ab * (d1 / safe(d1 - d3))[:, None]),    # edge ab
        ((d6 >= 0) & (d5 <= d6), c),                                                      # vertex c
        ((d3 >= 0) & (d4 <= d3), b),                                                      # vertex b
        ((d1 <= 0) & (d2 <= 0), a),                                                       # vertex a
    ]
    for where, value in regions:
        out = np.where(where[:, None], value, out)
    return out


class _Surface:
    """Closest points on the input surface (candidates: the faces with the nearest centres)."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, candidates: int = 8):
        self.triangles = np.asarray(vertices, np.float64)[np.asarray(faces, np.int64)]
        self.normals = _normals(np.asarray(vertices, np.float64), np.asarray(faces, np.int64))
        self.tree = cKDTree(self.triangles.mean(axis=1))
        self.k = min(candidates, len(self.triangles))

    def project(self, points: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """Each point's closest point among the faces that face its way: where a part is thinner than a
        triangle, the nearest face can be the far side's, and snapping to it would pass the surface through
        itself."""
        _, near = self.tree.query(points, k=self.k)
        near = near.reshape(len(points), -1)
        repeated = np.repeat(points, near.shape[1], axis=0)
        closest = closest_points_on_triangles(self.triangles[near.ravel()], repeated).reshape(len(points), -1, 3)
        distance = np.einsum("ijk,ijk->ij", closest - points[:, None], closest - points[:, None])
        facing = np.einsum("ijk,ik->ij", self.normals[near], normals) > 0
        distance = np.where(facing | ~facing.any(axis=1, keepdims=True), distance, np.inf)
        return closest[np.arange(len(points)), distance.argmin(axis=1)]


def remesh_isotropic(vertices: np.ndarray, faces: np.ndarray, edge_length: float, iterations: int = 6,
                     vertex_rounds: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A closed manifold mesh of the same surface whose edges are all close to `edge_length`. With
    `vertex_rounds` (a work budget: the vertex counts of the rounds run, added up) a round after the first
    starts only if it fits in what is left: every round leaves a valid mesh, only less even. A budget rather
    than a clock, so that a picture gives the same mesh on every machine and under any load."""
    if not edge_length > 0:
        raise ValueError(f"edge_length must be positive (got {edge_length})")
    v = np.array(vertices, np.float64, copy=True)
    f = np.asarray(faces, np.int64).copy()
    surface = _Surface(v, f)
    spent = 0
    for round_ in range(iterations):
        if vertex_rounds is not None and round_ and spent + len(v) > vertex_rounds:
            break
        spent += len(v)
        v, f = _split_long(v, f, SPLIT_ABOVE * edge_length)
        v, f = _collapse_short(v, f, COLLAPSE_BELOW * edge_length, SPLIT_ABOVE * edge_length)
        f = _flip_towards_valence_six(v, f)
        v = surface.project(*_relax_tangentially(v, f))
    return v.astype(np.asarray(vertices).dtype), f.astype(np.asarray(faces).dtype)
