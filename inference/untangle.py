"""Finding and removing self-intersections: the last clean-up step before a mesh leaves the engine.

A learned prior predicts each vertex's offset, and where two sides of a thin part are predicted to cross
(chair legs, table tops, wings) the surface passes through itself: the mesh is still closed and manifold,
but remeshing, booleans, 3-D printing and sculpting all break on it. Such crossings are local folds, so
smoothing the few vertices around them (and nothing else) takes them out while the rest of the shape keeps
every detail.

Detection is exact: two triangles cross only if an edge of one pierces the other, so each edge is tested
against the nearby faces it does not touch (candidates from a KD-tree of face centres, then an
axis-aligned box check, then Moller-Trumbore segment-triangle tests)."""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .meshes import unique_edges, vertex_adjacency


def intersecting_faces(vertices: np.ndarray, faces: np.ndarray, subset: np.ndarray | None = None,
                       eps: float = 1e-12, moved: np.ndarray | None = None) -> np.ndarray:
    """Bool per face: another part of the surface passes through it (it is pierced, or one of its edges
    pierces another face). With `subset` (bool per face) only pairs inside the subset are tested. With `moved`
    (bool per vertex) an edge and a face neither of which has a moved vertex are not tested again: the caller
    tested them before, where they were, and found them clear (untangle's rounds)."""
    v = np.asarray(vertices, np.float64)
    f_all = np.asarray(faces, np.int64)
    ids = np.flatnonzero(subset) if subset is not None else np.arange(len(f_all))
    out = np.zeros(len(f_all), bool)
    if len(ids) < 2:
        return out
    f = f_all[ids]
    edges, inverse = unique_edges(f, return_inverse=True)
    corners = v[f]
    centres = corners.mean(axis=1)
    radius = np.linalg.norm(corners - centres[:, None], axis=2).max(axis=1)
    a, b = v[edges[:, 0]], v[edges[:, 1]]
    mid, half = 0.5 * (a + b), 0.5 * np.linalg.norm(b - a, axis=1)
    if moved is None:
        ei, fi = _candidate_pairs(mid, half, centres, radius)
    else:
        # Moved edges against every face, then the other edges against the moved faces.
        moved_edges, moved_faces = moved[edges].any(axis=1), moved[f].any(axis=1)
        ei, fi = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for e, g in ((np.flatnonzero(moved_edges), np.arange(len(f))),
                     (np.flatnonzero(~moved_edges), np.flatnonzero(moved_faces))):
            if len(e) and len(g):
                i, j = _candidate_pairs(mid[e], half[e], centres[g], radius[g])
                ei.append(e[i])
                fi.append(g[j])
        ei, fi = np.concatenate(ei), np.concatenate(fi)
    # Only about one candidate in fifteen survives these two filters (most are the edge's own neighbouring
    # faces), so they run on one axis or corner at a time, on 1-D arrays: a quarter of the time of (K, 3) ones.
    rows = lambda x: np.ascontiguousarray(x.T)
    ends = [end[ei] for end in rows(edges)]
    touches = np.zeros(len(ei), bool)
    for corner in rows(f):
        at = corner[fi]
        touches |= (at == ends[0]) | (at == ends[1])
    ei, fi = ei[~touches], fi[~touches]
    lo, hi = rows(corners.min(axis=1)), rows(corners.max(axis=1))
    elo, ehi = rows(np.minimum(a, b)), rows(np.maximum(a, b))
    for k in range(3):
        keep = (elo[k][ei] <= hi[k][fi]) & (ehi[k][ei] >= lo[k][fi])
        ei, fi = ei[keep], fi[keep]
    if len(ei) == 0:
        return out
    # Moller-Trumbore with the segment a + t (b - a), 0 < t < 1.
    p0, p1, p2 = v[f[fi, 0]], v[f[fi, 1]], v[f[fi, 2]]
    origin, direction = a[ei], b[ei] - a[ei]
    e1, e2 = p1 - p0, p2 - p0
    h = np.cross(direction, e2)
    det = (e1 * h).sum(axis=1)
    ok = np.abs(det) > eps
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - p0
    u = inv * (s * h).sum(axis=1)
    q = np.cross(s, e1)
    w = inv * (direction * q).sum(axis=1)
    t = inv * (e2 * q).sum(axis=1)
    crossing = ok & (u > 0) & (w > 0) & (u + w < 1) & (t > 0) & (t < 1)
    local = np.zeros(len(f), bool)
    local[fi[crossing]] = True
    piercing = np.zeros(len(edges), bool)
    piercing[ei[crossing]] = True
    local |= piercing[inverse].reshape(3, -1).any(axis=0)
    out[ids] = local
    return out


def _size_classes(sizes: np.ndarray) -> np.ndarray:
    """-1 below the median, 0 up to twice the median, then one class per doubling. The split at the median
    halves the pairs the searches return (555k -> 288k for 144k wanted on a 2.5k-vertex mesh): with 0 for
    everything below twice the median, that class's radius fitted its largest members only."""
    scale = max(float(np.median(sizes)), 1e-12)
    return np.floor(np.log2(np.maximum(sizes / scale, 0.5))).astype(np.int64)


def _candidate_pairs(mid, half, centres, radius) -> tuple[np.ndarray, np.ndarray]:
    """(edge, face) index pairs close enough to touch: |mid_e - centre_f| <= half_e + radius_f.

    Pairs come straight from C (a list-of-lists ball query costs more to flatten than to test), one search per
    pair of size classes (edges and faces grouped by doublings of their size) with the radius those classes
    need. One radius for all, set by the largest face, paired every edge with every face as soon as one face
    was stretched (a deep fold, a spike) and ran out of memory on a 40k-vertex mesh."""
    edge_class, face_class = _size_classes(half), _size_classes(radius)
    edge_groups = {c: np.flatnonzero(edge_class == c) for c in np.unique(edge_class)}
    face_groups = {c: np.flatnonzero(face_class == c) for c in np.unique(face_class)}
    edge_trees = {c: cKDTree(mid[g]) for c, g in edge_groups.items()}
    face_trees = {c: cKDTree(centres[g]) for c, g in face_groups.items()}
    ei, fi = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for ce, ge in edge_groups.items():
        for cf, gf in face_groups.items():
            reach = float(half[ge].max() + radius[gf].max())
            pairs = edge_trees[ce].sparse_distance_matrix(face_trees[cf], reach, output_type="ndarray")
            i, j = pairs["i"], pairs["j"]
            near = pairs["v"] <= half[ge][i] + radius[gf][j]
            ei.append(ge[i[near]])
            fi.append(gf[j[near]])
    return np.concatenate(ei), np.concatenate(fi)


# Work budgets in face tests (a face checked against its neighbours for crossings; ~50-80k a second here).
# They stop a badly tangled mesh (an under-trained network's, a dense one) the same way on every machine and
# under any load: a clock would give a laptop, a busy workstation and a farm node different meshes.
# 400k is about 60 full tests of a 2.5k-vertex mesh (its smoothing stops on max_rounds first) and 5 of a
# 40k-vertex one; the blend fallback has half that of its own.
UNTANGLE_FACE_TESTS = 400_000
FALLBACK_FACE_TESTS = 200_000

# (rings, weight) tried in turn when smoothing leaves crossings and a reference surface is known.
FALLBACK_STEPS = ((2, 0.25), (2, 0.5), (4, 0.25), (4, 0.5), (4, 1.0), (6, 0.5), (8, 0.5), (8, 1.0))


def untangle(vertices: np.ndarray, faces: np.ndarray, max_rounds: int = 60, rings: int = 2,
             smoothing: int = 4, escalate_every: int = 8, face_tests: int = UNTANGLE_FACE_TESTS,
             reference: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Smooth the neighbourhood of every self-intersection until none is left (or `max_rounds` pass).

    Each round takes the vertices of crossing faces plus `rings` rings around them and moves them halfway to
    their neighbours' mean `smoothing` times; all other vertices stay exactly where they were. A deep fold
    (a table top pushed through its own underside) outlasts a small region, so every `escalate_every` rounds
    the region grows by a ring and the smoothing by its first amount. Smoothing a thin sheet can also pull
    its two sides through each other, so the state with the fewest crossing faces is what comes back, and a
    badly tangled mesh (an under-trained network's) stops once `face_tests` faces have been tested rather than
    hold up the artist (a work budget, so the same mesh comes back on every machine). Some folds are too deep for smoothing (a wing pushed through the body); if crossings are left and
    `reference` is given (vertex positions with the same faces and no crossings: the template a network
    deformed), the region around them is blended towards it, a little and over a small region first, until
    none is left. Returns the new vertices (same dtype) and a report: faces crossing before and after, rounds
    used, and the fallback's rings and weight when it was needed."""
    v = np.array(vertices, np.float64, copy=True)
    dtype = np.asarray(vertices).dtype
    f = np.asarray(faces, np.int64)
    n = len(v)
    adjacency = vertex_adjacency(f, n)
    degree = np.maximum(np.asarray(adjacency.sum(axis=1)).ravel(), 1.0)[:, None]
    bad = intersecting_faces(v, f)
    report = {"crossing_faces_before": int(bad.sum()), "rounds": 0}
    best, best_count = v.copy(), int(bad.sum())
    spent = len(f)
    rounds = 0
    while bad.any() and rounds < max_rounds and spent < face_tests:
        rounds += 1
        moving = np.zeros(n, bool)
        moving[f[bad].ravel()] = True
        level = (rounds - 1) // escalate_every
        for _ in range(rings + level):
            moving |= (adjacency @ moving.astype(np.float64)) > 0
        for _ in range(smoothing * (1 + level)):
            mean = (adjacency @ v) / degree
            v[moving] += 0.5 * (mean[moving] - v[moving])
        # Rounded to the dtype that is returned, so that what is tested is what comes back: float32 rounding of a
        # crossing-free float64 state re-made 3 crossing faces on realval's lionstatue_v1.
        v[moving] = v[moving].astype(dtype)
        # Pairs of unmoved faces were tested already, so a new crossing involves a face M with a moved vertex.
        # The crossing point lies on M (within 2 r_M of that vertex) and on the partner X (within r_X of its
        # centre): only faces whose centre is that close to a moved vertex need testing again, and only the
        # pairs among them with a moved vertex on either side (moved=).
        centres = v[f].mean(axis=1)
        radius = np.linalg.norm(v[f] - centres[:, None], axis=2).max(axis=1)
        moved_faces = moving[f].any(axis=1)
        reach = radius + 2.0 * radius[moved_faces].max()
        distance = cKDTree(v[moving]).query(centres, distance_upper_bound=float(reach.max()))[0]
        retest = distance <= reach
        spent += int(retest.sum())
        bad = intersecting_faces(v, f, subset=retest, moved=moving)
        if bad.sum() < best_count:
            best, best_count = v.copy(), int(bad.sum())
    if best_count and reference is not None:
        # Its own budget: a dense mesh can spend all of the smoothing's before getting here.
        best, best_count, report["fallback"] = _blend_towards(best, f, np.asarray(reference, np.float64), adjacency,
                                                              FALLBACK_FACE_TESTS * face_tests // UNTANGLE_FACE_TESTS,
                                                              dtype)
    report.update(rounds=rounds, crossing_faces_after=best_count)
    return best.astype(np.asarray(vertices).dtype), report


def _blend_towards(v: np.ndarray, f: np.ndarray, reference: np.ndarray, adjacency,
                   face_tests: int, dtype=np.float64) -> tuple[np.ndarray, int, dict]:
    """The crossing region moved towards `reference` (see untangle): the first of FALLBACK_STEPS that leaves no
    crossing, else the one that leaves the fewest before `face_tests` faces have been tested."""
    bad = intersecting_faces(v, f)
    seed = np.zeros(len(v), bool)
    seed[f[bad].ravel()] = True
    best = (v, int(bad.sum()), {})
    spent = len(f)
    for rings, weight in FALLBACK_STEPS:
        if spent + len(f) > face_tests:
            break
        spent += len(f)
        region = seed.copy()
        for _ in range(rings):
            region |= (adjacency @ region.astype(np.float64)) > 0
        w = v.copy()
        w[region] = (v[region] + weight * (reference[region] - v[region])).astype(dtype)
        count = int(intersecting_faces(w, f).sum())
        if count < best[1]:
            best = (w, count, {"rings": rings, "weight": weight, "vertices": int(region.sum())})
        if count == 0:
            break
    return best
