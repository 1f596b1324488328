"""Reference images in the scene: which image empty shows which view of a reference sheet, and where
the sheet's object goes so that it lines up with them.

The rule: an image empty shows the side of its picture toward its local +Z (Blender's Add › Image ›
Reference aligns the empty to the view it is added in, so that side faces the viewer). An empty is the
**front** view when its local +Z points along -Y (added in front view, numpad 1, rotation 90°, 0, 0), the
**back** along +Y (ctrl numpad 1; 90, 0, 180), the **right** along +X (numpad 3; 90, 0, 90), the **left**
along -X (ctrl numpad 3; 90, 0, -90), the **top** along +Z (numpad 7; 0, 0, 0) and the **bottom** along -Z
(ctrl numpad 7; 180, 0, 0), each within FACING_TOLERANCE, and when the picture's up (local +Y) is the view's
up as well (+Z for the side views, +Y for the top, -Y for the bottom): a picture turned in its plane is not
read as a view. Several empties for one view: the selected one wins, then a visible one, then by name.

An image empty draws its picture with the longer side `empty_display_size` (times the object's scale), the
picture's lower-left corner at `empty_image_offset` times the picture's width and height (-0.5, -0.5 centres
it). The engine tells where each view's silhouette box lies in its picture and how many frame units a pixel
is (contract.SheetViewInfo), so the frame's origin and scale follow in world space."""
from __future__ import annotations

import math

from mathutils import Vector

FACING_TOLERANCE = math.radians(15)

# view -> (the picture's facing, its up), world axes
VIEW_AXES = {
    "front": ((0, -1, 0), (0, 0, 1)),
    "back": ((0, 1, 0), (0, 0, 1)),
    "right": ((1, 0, 0), (0, 0, 1)),
    "left": ((-1, 0, 0), (0, 0, 1)),
    "top": ((0, 0, 1), (0, 1, 0)),
    "bottom": ((0, 0, -1), (0, -1, 0)),
}
# Which world axis a view's silhouette box centre fixes besides the reference view's two (depth).
DEPTH_FROM = {"right": 1, "left": 1, "top": 1, "bottom": 1}


def is_image_empty(obj) -> bool:
    return obj is not None and obj.type == 'EMPTY' and obj.empty_display_type == 'IMAGE' and obj.data is not None


def view_of(obj) -> str | None:
    """The sheet view an image empty shows (by the rule above), or None."""
    if not is_image_empty(obj):
        return None
    rotation = obj.matrix_world.to_3x3().normalized()
    facing, up = rotation.col[2].normalized(), rotation.col[1].normalized()
    limit = math.cos(FACING_TOLERANCE)
    for view, (want_facing, want_up) in VIEW_AXES.items():
        if facing.dot(Vector(want_facing)) >= limit and up.dot(Vector(want_up)) >= limit:
            return view
    return None


def find_reference_empties(scene, view_layer=None) -> dict:
    """view -> image empty, for every view some image empty in the scene shows."""
    found: dict[str, list] = {}
    for obj in scene.objects:
        view = view_of(obj)
        if view is not None:
            found.setdefault(view, []).append(obj)

    def rank(obj):
        selected = view_layer is not None and obj.name in view_layer.objects and obj.select_get(view_layer=view_layer)
        visible = not obj.hide_get(view_layer=view_layer) if view_layer is not None and obj.name in view_layer.objects \
            else not obj.hide_viewport
        return (not selected, not visible, obj.name)
    return {view: sorted(objs, key=rank)[0] for view, objs in found.items()}


def _picture_point(empty, view_info, frame_xy=(0.0, 0.0)) -> Vector:
    """World position of a frame point (x, y) of the view, on the empty's picture."""
    (x0, y0, x1, y1), (h, w), (sx, sy) = view_info.box, view_info.shape, view_info.scale
    px = (x0 + x1) / 2.0 + frame_xy[0] / sx
    py = (y0 + y1) / 2.0 - frame_xy[1] / sy
    aw, ah = _aspect(empty)
    size = empty.empty_display_size
    ox, oy = empty.empty_image_offset
    local = Vector(((ox + px / w) * size * aw, (oy + 1.0 - py / h) * size * ah, 0.0))
    return empty.matrix_world @ local


def _aspect(empty) -> tuple[float, float]:
    width, height = empty.data.size
    if width <= 0 or height <= 0:
        return 1.0, 1.0
    longer = max(width, height)
    return width / longer, height / longer


def metres_per_unit(empty, view_info) -> float:
    """World length of one frame unit in the view's picture on the empty."""
    a = _picture_point(empty, view_info, (0.0, 0.0))
    b = _picture_point(empty, view_info, (1.0, 0.0))
    c = _picture_point(empty, view_info, (0.0, 1.0))
    return ((b - a).length + (c - a).length) / 2.0


def placement(answer, empties: dict):
    """(location, metres per frame unit) that line the answer's object (contract.SheetResult) up with the
    reference empties, or None when the reference view's picture did not come from an empty. The frame's
    origin is the centre of the reference view's silhouette box; the depth (world Y for a front or back
    reference) comes from a side or top view's empty when there is one."""
    reference = answer.reference
    empty = empties.get(reference)
    if empty is None or reference not in answer.views:
        return None
    location = _picture_point(empty, answer.views[reference])
    scale = metres_per_unit(empty, answer.views[reference])
    for view in ("right", "left", "top", "bottom"):
        other = empties.get(view)
        if other is not None and view in answer.views:
            location.y = _picture_point(other, answer.views[view]).y
            break
    return location, scale
