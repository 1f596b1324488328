"""Standing the object up: the camera's elevation undone, origin at the bottom centre, on the ground.

The worker's frame is the camera's: a picture taken from above (elevation e > 0, looking down) shows
the object's up direction tilted toward the viewer, (0, cos e, sin e) in the evaluation frame, which is
(0, -sin e, cos e) in Blender's axes (X = x, Y = -z, Z = y). A rotation by -e about X turns that back
to +Z. The mesh data itself is moved, so the object's own transform stays clean: rotation zero, scale
one, location where the artist wants it, and the origin at the bottom centre."""
from __future__ import annotations

import math

import bpy
import numpy as np
from mathutils import Matrix, Vector

# Elevations beyond this are not a photo of an object standing on something; refuse an estimate beyond it
# rather than lay the object on its back (a typed elevation is bounded by the same contract value).
from ..inference.contract import MAX_ELEVATION


def engine_elevation(info) -> float | None:
    """The camera elevation (radians) a learned model estimated, when the answer's info (contract.ResultInfo,
    or its dict form) carries one."""
    value = (info or {}).get("elevation")
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def upright_rotation(elevation: float) -> Matrix:
    if abs(elevation) > MAX_ELEVATION:
        raise ValueError(f"A camera elevation of {math.degrees(elevation):.0f} degrees is outside "
                         f"+-{math.degrees(MAX_ELEVATION):.0f}: the object cannot stand upright from that view.")
    return Matrix.Rotation(-elevation, 4, 'X')


def evaluated_points(obj) -> np.ndarray:
    """Vertex positions (object space) of the object as shown, modifiers included (a subdivision surface
    shrinks the cage, so its lowest point is not the cage's)."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        co = np.empty(len(mesh.vertices) * 3, np.float64)
        mesh.vertices.foreach_get("co", co)
    finally:
        evaluated.to_mesh_clear()
    return co.reshape(-1, 3)


def stand_upright(obj, elevation: float) -> Matrix:
    """Rotate the mesh data upright and move it so the bottom centre is the object's origin. Returns the
    matrix applied to the mesh data (old object space -> new object space)."""
    rotation = upright_rotation(elevation)
    obj.data.transform(rotation)
    obj.data.update()
    co = evaluated_points(obj)
    low, high = co.min(axis=0), co.max(axis=0)
    bottom_centre = Vector(((low[0] + high[0]) / 2, (low[1] + high[1]) / 2, low[2]))
    shift = Matrix.Translation(-bottom_centre)
    obj.data.transform(shift)
    obj.data.update()
    return shift @ rotation
