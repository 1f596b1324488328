"""Where the worker's meshes lie in the picture, and how several of them share one frame (numpy only).

Each answer is in its own evaluation frame (its silhouette's box centred, longer side 1) and carries the
exact map of that frame into the *whole* picture (`contract.ImageFrame`: u = u_scale * x + u_offset,
v = v_scale * y + v_offset). It tells where the object sat in the picture and at what scale, which is what
a reference camera needs and what lets several objects of one picture keep their places and relative sizes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inference.contract import ImageFrame, MeshResult

# The name the Blender side has always used for it.
PictureMap = ImageFrame


@dataclass
class PlacedPart:
    """One object's mesh moved into the shared frame of the picture."""
    vertices: np.ndarray   # (N, 3) float32, shared evaluation frame
    faces: np.ndarray      # (M, 3) int32
    uvs: np.ndarray        # (N, 2) float32, front projection into the whole picture


def shared_frame(answers: list[MeshResult]) -> tuple[list[PlacedPart], PictureMap]:
    """Put every answer's mesh into one frame: the picture's scale and positions are kept, and the union
    of all silhouettes is centred with longer side 1 (as a single object's frame would be). Returns the
    parts and the map of the shared frame into the picture."""
    maps = [a.frame for a in answers]
    reference = maps[0]
    parts = []
    for answer, part_map in zip(answers, maps):
        v = np.asarray(answer.vertices, dtype=np.float64)
        # The same picture point in the reference frame: x_ref = (u - b_ref) / a_ref; depth scales like x.
        scale = part_map.u_scale / reference.u_scale
        x = (part_map.u_scale * v[:, 0] + part_map.u_offset - reference.u_offset) / reference.u_scale
        y = (part_map.v_scale * v[:, 1] + part_map.v_offset - reference.v_offset) / reference.v_scale
        parts.append(np.stack([x, y, v[:, 2] * scale], axis=1))
    every = np.concatenate(parts)
    low, high = every[:, :2].min(axis=0), every[:, :2].max(axis=0)
    centre, extent = (low + high) / 2, float((high - low).max())
    shared = PictureMap(reference.u_scale * extent, reference.u_offset + reference.u_scale * centre[0],
                        reference.v_scale * extent, reference.v_offset + reference.v_scale * centre[1])
    placed = []
    for v, answer in zip(parts, answers):
        moved = np.column_stack([(v[:, :2] - centre) / extent, v[:, 2] / extent])
        placed.append(PlacedPart(moved.astype(np.float32), np.asarray(answer.faces, dtype=np.int32),
                                 np.asarray(answer.uvs, dtype=np.float32)))
    return placed, shared


def joined(parts: list[PlacedPart]) -> PlacedPart:
    """One mesh made of all parts (separate closed shells; the faces renumbered)."""
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
    return PlacedPart(np.concatenate([p.vertices for p in parts]),
                      np.concatenate([p.faces + o for p, o in zip(parts, offsets)]).astype(np.int32),
                      np.concatenate([p.uvs for p in parts]))
