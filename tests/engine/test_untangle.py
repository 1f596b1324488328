"""Self-intersection detection and the clean-up that removes it (inference.untangle)."""
import numpy as np
import pytest
import trimesh

from inference.metrics import is_watertight, self_intersections
from inference.untangle import intersecting_faces, untangle


def _sphere(subdivisions=3, centre=(0.0, 0.0, 0.0)):
    m = trimesh.creation.icosphere(subdivisions=subdivisions, radius=0.5)
    return np.asarray(m.vertices, np.float64) + np.asarray(centre), np.asarray(m.faces, np.int64)


def _dented_lens():
    """A flat closed lens whose top centre is pushed down through its bottom: a local fold, like the ones a
    point-wise network makes in thin parts."""
    v, f = _sphere(4)
    v[:, 2] *= 0.08
    top = (v[:, 2] > 0) & (np.hypot(v[:, 0], v[:, 1]) < 0.12)
    v[top, 2] -= 0.12
    return v, f


def test_a_clean_sphere_has_no_crossing_faces():
    v, f = _sphere()
    assert not intersecting_faces(v, f).any()


def test_two_overlapping_spheres_cross_along_a_ring_and_two_apart_do_not():
    a, fa = _sphere(3)
    b, fb = _sphere(3, centre=(0.6, 0.0, 0.0))
    f = np.concatenate([fa, fb + len(a)])
    crossing = intersecting_faces(np.concatenate([a, b]), f)
    assert 20 < crossing.sum() < 0.3 * len(f)
    # Crossing faces lie where the two surfaces meet (x = 0.3), not elsewhere.
    centres = np.concatenate([a, b])[f[crossing]].mean(axis=1)
    assert np.all(np.abs(centres[:, 0] - 0.3) < 0.1)
    far, _ = _sphere(3, centre=(1.2, 0.0, 0.0))
    assert not intersecting_faces(np.concatenate([a, far]), f).any()


def test_the_dent_is_found_and_a_subset_test_agrees_with_the_full_one():
    v, f = _dented_lens()
    full = intersecting_faces(v, f)
    assert full.sum() > 10
    everything = intersecting_faces(v, f, subset=np.ones(len(f), bool))
    assert np.array_equal(full, everything)
    assert self_intersections(v, f) == full.sum()


def test_untangle_removes_the_fold_and_leaves_the_rest_where_it_was():
    v, f = _dented_lens()
    before = intersecting_faces(v, f)
    out, report = untangle(v, f)
    assert report["crossing_faces_before"] == before.sum() and report["crossing_faces_after"] == 0
    assert not intersecting_faces(out, f).any()
    assert is_watertight(f)
    moved = np.linalg.norm(out - v, axis=1) > 0
    # Only the neighbourhood of the fold moves: the lens' rim and most of the surface are untouched.
    assert 0 < moved.sum() < 0.25 * len(v)
    assert not moved[np.hypot(v[:, 0], v[:, 1]) > 0.3].any()
    assert out.dtype == v.dtype


def test_untangle_is_a_no_op_on_a_clean_mesh():
    v, f = _sphere()
    out, report = untangle(v.astype(np.float32), f)
    assert report == {"crossing_faces_before": 0, "rounds": 0, "crossing_faces_after": 0}
    assert np.array_equal(out, v.astype(np.float32)) and out.dtype == np.float32


def test_out_of_budget_gives_back_the_best_state_seen():
    v, f = _dented_lens()
    out, report = untangle(v, f, face_tests=0)
    assert report["rounds"] == 0 and report["crossing_faces_after"] == report["crossing_faces_before"] > 0
    assert np.array_equal(out, v)
    # Stopped after one round, it returns that round's state only if it has fewer crossings.
    one, report = untangle(v, f, max_rounds=1)
    assert report["crossing_faces_after"] <= report["crossing_faces_before"]
    assert report["crossing_faces_after"] == intersecting_faces(one, f).sum()


def test_a_fold_smoothing_cannot_undo_is_blended_towards_the_reference():
    """Given the intersection-free surface the fold was made from (a network's template), what smoothing leaves
    is blended towards it, over the fold's neighbourhood only."""
    lens, f = _sphere(4)
    lens[:, 2] *= 0.08
    dented, _ = _dented_lens()
    # No smoothing at all: the fold stays unless the fallback takes it out.
    stuck, report = untangle(dented, f, max_rounds=0)
    assert report["crossing_faces_after"] > 0 and "fallback" not in report
    out, report = untangle(dented, f, max_rounds=0, reference=lens)
    assert report["crossing_faces_after"] == 0 == intersecting_faces(out, f).sum()
    assert report["fallback"]["weight"] > 0 and 0 < report["fallback"]["vertices"] < 0.25 * len(lens)
    moved = np.linalg.norm(out - dented, axis=1) > 0
    assert not moved[np.hypot(lens[:, 0], lens[:, 1]) > 0.3].any()


def test_a_spike_through_the_far_side_is_found_with_its_own_reach():
    """One vertex pulled through the opposite side makes a few huge faces. Candidate pairs are searched with a
    radius set by typical faces (one global radius from the largest face paired everything with everything and
    ran out of memory on a 40k-vertex mesh), the huge faces with their own: the crossing is still found."""
    v, f = _sphere(3)
    top = int(np.argmax(v[:, 2]))
    v[top] = (0.0, 0.0, -0.8)
    crossing = intersecting_faces(v, f)
    centres = v[f].mean(axis=1)
    spike = (f == top).any(axis=1)
    assert crossing[spike].any()
    assert crossing[~spike & (centres[:, 2] < -0.4)].any()     # the far side, pierced where the spike leaves
    assert self_intersections(v, f) == crossing.sum()


def _crossing_faces_by_brute_force(v, f):
    """Every edge against every face it does not touch (Moller-Trumbore, strict), no broad phase: what
    intersecting_faces must find whatever its candidate search and filters do."""
    from inference.meshes import unique_edges
    edges, inverse = unique_edges(f, return_inverse=True)
    ei, fi = np.repeat(np.arange(len(edges)), len(f)), np.tile(np.arange(len(f)), len(edges))
    touches = (f[fi] == edges[ei, 0:1]).any(axis=1) | (f[fi] == edges[ei, 1:2]).any(axis=1)
    ei, fi = ei[~touches], fi[~touches]
    a, d = v[edges[ei, 0]], v[edges[ei, 1]] - v[edges[ei, 0]]
    p0 = v[f[fi, 0]]
    e1, e2 = v[f[fi, 1]] - p0, v[f[fi, 2]] - p0
    h = np.cross(d, e2)
    det = (e1 * h).sum(axis=1)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = a - p0
    q = np.cross(s, e1)
    u, w, t = inv * (s * h).sum(axis=1), inv * (d * q).sum(axis=1), inv * (e2 * q).sum(axis=1)
    hit = ok & (u > 0) & (w > 0) & (u + w < 1) & (t > 0) & (t < 1)
    bad = np.zeros(len(f), bool)
    bad[fi[hit]] = True
    pierces = np.zeros(len(edges), bool)
    pierces[ei[hit]] = True
    return bad | pierces[inverse].reshape(3, -1).any(axis=0)


@pytest.mark.parametrize("noise", [0.01, 0.02, 0.06])
def test_the_search_finds_every_crossing_that_all_pairs_find(noise):
    """The candidate search (size classes, radii) and the filters after it only skip pairs that cannot cross:
    on crumpled spheres, with stretched faces among small ones, they find exactly what testing every pair does."""
    rng = np.random.default_rng(int(noise * 1000))
    v, f = _sphere(2)
    v[:, 2] *= 0.1                                   # a thin lens: small moves push its sides through each other
    v = v + rng.normal(0, noise, v.shape)
    v[rng.choice(len(v), 5, replace=False)] *= 1.6   # a few spikes: faces in larger size classes
    expected = _crossing_faces_by_brute_force(v, f)
    assert expected.sum() > 0
    np.testing.assert_array_equal(intersecting_faces(v, f), expected)
    subset = rng.random(len(f)) < 0.5
    np.testing.assert_array_equal(intersecting_faces(v, f, subset=subset)[subset],
                                  _crossing_faces_by_brute_force(v, f[subset]))


def test_candidate_pairs_are_exactly_the_pairs_whose_spheres_touch():
    """Every (edge, face) with |mid - centre| <= half + radius, each once, whatever the size classes."""
    from inference.untangle import _candidate_pairs
    rng = np.random.default_rng(5)
    mid, centres = rng.random((400, 3)), rng.random((300, 3))
    half = 0.02 * rng.random(400) ** 3 + 0.002
    radius = 0.03 * rng.random(300) ** 3 + 0.003
    half[:3] = 0.3                                   # stretched: classes far above the median
    ei, fi = _candidate_pairs(mid, half, centres, radius)
    distance = np.linalg.norm(mid[:, None] - centres[None], axis=2)
    expected = np.argwhere(distance <= half[:, None] + radius[None])
    got = np.stack([ei, fi], axis=1)
    assert len(np.unique(got, axis=0)) == len(got)
    np.testing.assert_array_equal(np.unique(got, axis=0), np.unique(expected, axis=0))


def test_a_round_skips_only_pairs_it_tested_before(monkeypatch):
    """Each round retests pairs with a moved vertex on either side (moved=): what it finds is what testing
    every pair of the retest region finds."""
    import inference.untangle as module
    real = module.intersecting_faces
    rounds = []

    def both(v, f, subset=None, eps=1e-12, moved=None):
        found = real(v, f, subset=subset, eps=eps, moved=moved)
        if moved is not None:
            np.testing.assert_array_equal(found, real(v, f, subset=subset, eps=eps))
            rounds.append(int(found.sum()))
        return found

    monkeypatch.setattr(module, "intersecting_faces", both)
    rng = np.random.default_rng(7)
    v, f = _sphere(3)
    v[:, 2] *= 0.1
    for mesh in (_dented_lens(), (v + rng.normal(0, 0.01, v.shape), f)):
        untangle(*mesh)
    assert len(rounds) >= 4 and max(rounds) > 0


def test_every_state_tested_is_one_the_returned_dtype_can_hold(monkeypatch):
    """untangle smooths in float64 but returns the input's dtype; a crossing-free float64 state rounded to
    float32 afterwards had 3 crossing faces again on a real view, though the report said none. Each state it
    tests must be exactly representable in float32, so the mesh that comes back is the one that was tested."""
    import inference.untangle as module

    tested = []
    real = module.intersecting_faces

    def recording(vertices, faces, *args, **kwargs):
        tested.append(np.array(vertices, np.float64))
        return real(vertices, faces, *args, **kwargs)

    monkeypatch.setattr(module, "intersecting_faces", recording)
    v, f = _dented_lens()
    out, report = untangle(v.astype(np.float32), f)
    assert report["rounds"] > 0 and len(tested) > 2
    for state in tested:
        assert np.array_equal(state, state.astype(np.float32).astype(np.float64))
    assert int(real(out, f).sum()) == report["crossing_faces_after"]
