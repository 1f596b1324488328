"""The engine's last steps on a finished shape: no self-intersections, then even triangles.

Shared by the reconstruction (inference.pipeline) and the benchmark (bench.evaluate), so the numbers we
publish are measured on exactly what the artist gets."""
from __future__ import annotations

import time

import numpy as np

# Rounds of isotropic remeshing: on network meshes (edge spread ~0.45) two rounds bring the spread (std over mean
# of the final edge lengths) to ~0.18 and three to ~0.16, for ~0.05-0.09 s a round; on realval the third round
# moved nothing but normal consistency (-0.001 without it; docs/speed.md).
REMESH_ROUNDS = 2
# Work budget in vertex-rounds (each round's vertex count, added up): a 40k-vertex mesh takes ~4 s a round here,
# so it gets one round and 30k or less both. Counted, never timed: the same picture gives the same mesh on
# every machine and under any load.
REMESH_VERTEX_ROUNDS = 60_000


def clean_up(vertices: np.ndarray, faces: np.ndarray, target_vertices: int, untangle: bool = True,
             remesh: bool = True, progress=None, reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(vertices, faces, report). Crossings come out first so the remesher's reference surface is clean; the
    remesher's projection can pinch a new crossing where a part is thinner than a triangle, so the untangler
    runs again after it. report: self_intersections (faces crossing before the first untangle and after the
    last, rounds), remeshed (False when the remeshed surface kept crossings the input did not have), seconds
    per step. `reference`: an intersection-free mesh with the same faces (a network's template) that the first
    untangling may blend a stubborn fold towards (see inference.untangle)."""
    from .untangle import untangle as remove_crossings

    report: dict = {"remeshed": False, "seconds": {}}
    if untangle:
        t = time.perf_counter()
        vertices, report["self_intersections"] = remove_crossings(vertices, faces, reference=reference)
        report["seconds"]["untangle"] = time.perf_counter() - t
    if progress is not None:
        progress("cleanup", 0.3)
    if remesh:
        from .meshes import is_watertight
        from .remesh import remesh_isotropic, target_edge_length

        t = time.perf_counter()
        even_v, even_f = remesh_isotropic(vertices, faces, target_edge_length(vertices, faces, target_vertices),
                                          iterations=REMESH_ROUNDS, vertex_rounds=REMESH_VERTEX_ROUNDS)
        report["seconds"]["remesh"] = time.perf_counter() - t
        if not is_watertight(even_f):
            # Never expected (remesh keeps every edge between exactly two faces, tests/engine/test_remesh.py),
            # but an open or non-manifold mesh must not reach the artist: the fitted one is closed.
            report["remesh_rejected"] = "the remeshed surface was not closed"
        elif untangle:
            t = time.perf_counter()
            even_v, after = remove_crossings(even_v, even_f)
            report["seconds"]["untangle"] += time.perf_counter() - t
            first = report["self_intersections"]
            # Even triangles are not worth a crossing: if the remeshed surface keeps more than the input had,
            # the input is what comes back.
            if after["crossing_faces_after"] <= first["crossing_faces_after"]:
                report["self_intersections"] = {"crossing_faces_before": first["crossing_faces_before"],
                                                "rounds": first["rounds"] + after["rounds"],
                                                "crossing_faces_after": after["crossing_faces_after"]}
                vertices, faces, report["remeshed"] = even_v, even_f, True
            else:
                report["remesh_rejected"] = "the remeshed surface kept self-intersections the fitted one did not have"
        else:
            vertices, faces, report["remeshed"] = even_v, even_f, True
    if progress is not None:
        progress("cleanup", 1.0)
    return vertices, faces, report
