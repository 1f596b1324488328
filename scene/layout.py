"""Where the worker's meshes lie in the picture, and how several of them share one frame (numpy only).

Each answer is in its own evaluation frame (its silhouette's box centred, longer side 1), but its UVs
are the front projection into the *whole* picture: u = a_u * x + b_u and v = a_v * y + b_v exactly.
Those two lines tell where the object sat in the picture and at what scale, which is what a reference
camera needs and what lets several objects of one picture keep their places and relative sizes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PictureMap:
    """u = u_scale * x + u_offset, v = v_scale * y + v_offset for evaluation-frame (x, y)."""
    u_scale: float
    u_offset: float
    v_scale: float
    v_offset: float

    @classmethod
    def from_answer(cls, vertices: np.ndarray, uvs: np.ndarray) -> "PictureMap":
        v = np.asarray(vertices, dtype=np.float64)
        uv = np.asarray(uvs, dtype=np.float64)
        u_scale, u_offset = _line(v[:, 0], uv[:, 0])
        v_scale, v_offset = _line(v[:, 1], uv[:, 1])
        if u_scale <= 0 or v_scale <= 0:
            raise ValueError("The worker's UVs are not a front projection of its vertices.")
        return cls(u_scale, u_offset, v_scale, v_offset)

    def uvs(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack([self.u_scale * xy[..., 0] + self.u_offset,
                         self.v_scale * xy[..., 1] + self.v_offset], axis=-1).astype(np.float32)

    def picture_extent(self) -> tuple[float, float]:
        """Width and height of the whole picture in this frame's units."""
        return 1.0 / self.u_scale, 1.0 / self.v_scale

    def picture_centre(self) -> tuple[float, float]:
        """Frame (x, y) of the picture's centre (u = v = 0.5)."""
        return (0.5 - self.u_offset) / self.u_scale, (0.5 - self.v_offset) / self.v_scale


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if np.ptp(x) <= 0:
        raise ValueError("The worker returned a flat mesh.")
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


@dataclass
class PlacedPart:
    """One object's mesh moved into the shared frame of the picture."""
    vertices: np.ndarray   # (N, 3) float32, shared evaluation frame
    faces: np.ndarray      # (M, 3) int32
    uvs: np.ndarray        # (N, 2) float32, front projection into the whole picture


def shared_frame(answers: list[dict]) -> tuple[list[PlacedPart], PictureMap]:
    """Put every answer's mesh into one frame: the picture's scale and positions are kept, and the union
    of all silhouettes is centred with longer side 1 (as a single object's frame would be). Returns the
    parts and the map of the shared frame into the picture."""
    maps = [PictureMap.from_answer(a["vertices"], a["uvs"]) for a in answers]
    reference = maps[0]
    parts = []
    for answer, part_map in zip(answers, maps):
        v = np.asarray(answer["vertices"], dtype=np.float64)
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
        placed.append(PlacedPart(moved.astype(np.float32), np.asarray(answer["faces"], dtype=np.int32),
                                 np.asarray(answer["uvs"], dtype=np.float32)))
    return placed, shared


def joined(parts: list[PlacedPart]) -> PlacedPart:
    """One mesh made of all parts (separate closed shells; the faces renumbered)."""
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
    return PlacedPart(np.concatenate([p.vertices for p in parts]),
                      np.concatenate([p.faces + o for p, o in zip(parts, offsets)]).astype(np.int32),
                      np.concatenate([p.uvs for p in parts]))
