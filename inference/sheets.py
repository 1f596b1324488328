"""Reference sheets: one closed mesh from the same object seen front, side, back and top.

Each view is framed on its own (its silhouette's box), as scanned or drawn sheets are, so scale comes from
the axes two views share: front and right share the height, front and top the width, right and top the
depth. The shape is the visual hull of all silhouettes, rounded where the views leave freedom: a slice
that no view looks at straight (the horizontal slices of a front + right sheet) is only known to lie in
the product of its two runs, and the roundest shape in that rectangle that still touches all four sides
is the inscribed (super)ellipse, so a cylinder seen from front and side comes back a cylinder, not a box.
Those roundings keep every given silhouette exactly; marching cubes, the fit and the clean-up follow, and
the texture (an atlas of the views' own pictures, inference/sheet_texture.py) last.

Frame: the front view's evaluation frame (the back's when there is no front): +x image right, +y image
up, +z toward the viewer; the front silhouette's box centred on x = y = 0 with its longer side 1."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .errors import InputError, NoObjectError
from .frame import Frame
from .image_io import read_mask, read_source
from .mask import _mask_from_border_colour, bounding_box, has_transparency, object_masks
from .result import ReconstructionOptions
from .sheet_texture import ROTATIONS, SheetTexture, ViewProjection, texture_sheet

VIEWS = tuple(ROTATIONS)
AXIS_NAMES = ("width", "height", "depth")
# Shared extents that differ by more than this are worth a warning (drawn sheets are rarely exact)...
WARN_MISMATCH = 0.03
# ...and by more than this they are not the same object (or not the view the name says).
REFUSE_MISMATCH = 0.25
# Share of a view's silhouette the other views must leave standing: below it they show different objects.
REFUSE_COVERAGE = 0.6
WARN_COVERAGE = 0.95
# Superellipse exponent of the rounding: 2 is the ellipse (a cylinder stays exact), larger keeps more of the
# corners of boxy objects.
ROUNDNESS = 2.0
# With a view looking along a rounding's axis, the exponent follows what that view shows (_adapted_rounding):
# the first of these whose slices cover ADAPT_COVERAGE of its silhouette.
ADAPT_ROUNDNESS = True
ADAPT_EXPONENTS = (2.0, 3.0, 4.0, 6.0, 10.0)
ADAPT_COVERAGE = 0.97
# ...when the ellipses cover less than this: midway between an ellipse inscribed in a rectangle (pi/4 of it)
# and the whole rectangle.
ADAPT_BELOW = 0.5 * (1.0 + np.pi / 4)
# Holes in a view's silhouette smaller than this share of it are noise, not a handle or a ring's opening.
MIN_HOLE = 0.003
WORK_SIZE = 1024
# The carved shape already projects onto every silhouette to within a cell, and on realval (front + right,
# 8 objects) 40 fit steps moved F@0.05 by +0.001 and the worst view's IoU by -0.008 for 1-2 s: off unless asked.
FIT_STEPS = 0
# March this many times the requested vertices and let the clean-up's remesher bring the count down: a
# coarse marching grid cuts the silhouette's corners, thins thin parts and can cut a thin neck, and the
# largest piece is all that is kept (realval front + right + top, 2,500 vertices: F@0.05 0.939 marching at
# twice the vertices, 0.941 at four times; docs/reference-sheets.md).
MARCH_OVERSAMPLING = 4.0
# ...and this many when the remesher refuses the finer grid's surface (the factor it was first tuned at).
FALLBACK_OVERSAMPLING = 2.0
# Taubin rounds on the marched surface's staircase. None: the clean-up's remesher relaxes the triangles anyway,
# and on realval (front + right + top, 28 objects) 10 rounds cost F@0.05 0.001 and 0.002-0.005 IoU in every
# view (thin parts shrink), docs/reference-sheets.md.
SMOOTHING_ITERATIONS = 0
# Steps of the fit that puts the finished (remeshed) mesh back onto the views' masks (sheets_fit.
# restore_silhouettes); 0 skips it. With Taubin smoothing and marching at 2x (realval front + right + top) 40
# steps raised the right view's mean IoU 0.964 -> 0.969 and the top's 0.958 -> 0.966; with neither it moves
# the views by -0.001 to +0.001 (F@0.05 0.9406 -> 0.9407) for ~1.3 s of a ~2.9 s four-view run: off unless asked.
RESTORE_STEPS = 0


@dataclass
class SheetView:
    """One view as the reconstruction read it."""
    name: str
    mask: np.ndarray                 # bool (h, w) on the view's working copy
    box: tuple                       # (x0, y0, x1, y1) of the silhouette, pixels of the working copy
    scale: tuple                     # frame units per pixel along the view's image right and image up
    mask_source: str = "alpha"
    silhouette_iou: float | None = None   # the result's silhouette against this view's


@dataclass
class SheetReconstruction:
    """A closed, manifold triangle mesh in the reference (front or back) view's evaluation frame."""
    vertices: np.ndarray             # (N, 3) float32
    faces: np.ndarray                # (M, 3) int32, counter-clockwise seen from outside
    vertex_colors: np.ndarray        # (N, 4) uint8 RGBA, the texture's blend at each vertex
    views: dict                      # name -> SheetView
    reference: str = "front"
    name: str = "sheet"
    warnings: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    texture: SheetTexture | None = None   # the atlas, per-corner UVs and each view's tile in it


# ------------------------------------------------------------------------------------------------ masks

def _working_copy(rgba: np.ndarray) -> np.ndarray:
    h, w = rgba.shape[:2]
    factor = max(h, w) / WORK_SIZE
    if factor <= 1.0:
        return rgba
    from skimage.transform import resize
    return resize(rgba, (max(2, round(h / factor)), max(2, round(w / factor))), order=1,
                  anti_aliasing=True).astype(np.float32)


def view_mask(rgba: np.ndarray, user_mask=None) -> tuple[np.ndarray, str]:
    """The main object's silhouette, found as the single-picture path finds it, but with its real holes kept:
    a ring seen from the top must stay a ring for the hull to get its genus."""
    if user_mask is not None:
        raw, source, smooth = read_mask(user_mask, rgba.shape[:2]), "user mask", False
    elif has_transparency(rgba):
        raw, source, smooth = rgba[:, :, 3] > 0.5, "alpha", False
    else:
        raw, source, smooth = _mask_from_border_colour(rgba[:, :, :3]), "border colour", True
    filled = object_masks(raw, smooth=smooth)[0]
    holes = filled & ~raw
    labels, count = ndimage.label(holes)
    if count:
        sizes = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, count + 1))
        small = np.flatnonzero(sizes < MIN_HOLE * filled.sum()) + 1
        holes &= ~np.isin(labels, small)
    return filled & ~holes, source


def _read_views(views: dict, masks: dict | None, progress=None):
    if not isinstance(views, dict):
        raise InputError("Reference sheet views must be given as a mapping of view name to picture, "
                         f"e.g. {{'front': 'front.png', 'right': 'right.png'}}; got {type(views).__name__}.")
    unknown = sorted(set(views) - set(VIEWS))
    if unknown:
        raise InputError(f"Unknown view name(s) {', '.join(map(repr, unknown))}: use {', '.join(VIEWS)}.")
    if len(views) < 2:
        raise InputError(f"A reference sheet needs at least two views (got {len(views)}: "
                         f"{', '.join(views) or 'none'}); for one picture use the single-picture reconstruction.")
    if "front" not in views and "back" not in views:
        raise InputError(f"A reference sheet needs a front or a back view to set the frame (got "
                         f"{', '.join(views)}).")
    masks = masks or {}
    stray = sorted(set(masks) - set(views))
    if stray:
        raise InputError(f"Mask(s) given for view(s) without a picture: {', '.join(stray)}.")
    images, read = {}, {}
    for name in VIEWS:
        if name not in views:
            continue
        try:
            rgba, stem = read_source(views[name])
            work = _working_copy(rgba)
            mask, source = view_mask(work, masks.get(name))
        except InputError as exc:
            raise type(exc)(f"The {name} view: {exc}") from None
        images[name] = (rgba, work, stem)
        read[name] = (mask, source)
        if progress is not None:
            progress(len(read) / len(views))
    return images, read


# ------------------------------------------------------------------------------------------------ scale

def _image_axes(name: str):
    """For the view's image right and image up: (front-frame axis, sign)."""
    rot = np.array(ROTATIONS[name])
    return [(int(np.flatnonzero(row)[0]), int(row[np.flatnonzero(row)[0]])) for row in rot[:2]]


def solve_extents(boxes: dict, reference: str):
    """Object extents along x, y, z (frame units) and each view's frame units per pixel along its two image
    axes, from silhouette boxes alone. The reference view fixes width and height (its longer side is 1);
    every other view is scaled by the axes it shares with what is known, and the depth is the geometric mean
    of the views that see it. Returns (extents, scales, mismatches) where mismatches lists
    (view, axis, ratio, other views) for every shared extent that disagrees."""
    pixel = {n: (b[2] - b[0], b[3] - b[1]) for n, b in boxes.items()}
    extents = [None, None, None]
    s = 1.0 / max(pixel[reference])
    for (axis, _), px in zip(_image_axes(reference), pixel[reference]):
        extents[axis] = px * s
    own_scale = {reference: s}
    for name in boxes:
        if name == reference:
            continue
        known = [(extents[a], px) for (a, _), px in zip(_image_axes(name), pixel[name]) if extents[a] is not None]
        own_scale[name] = float(np.exp(np.mean([np.log(e / px) for e, px in known])))
    depth_views = [n for n in boxes if any(a == 2 for a, _ in _image_axes(n))]
    if depth_views:
        extents[2] = float(np.exp(np.mean([np.log(own_scale[n] * pixel[n][[a for a, _ in _image_axes(n)].index(2)])
                                           for n in depth_views])))
    mismatches = []
    for axis in range(3):
        seen = [(n, own_scale[n] * pixel[n][i]) for n in boxes for i, (a, _) in enumerate(_image_axes(n)) if a == axis]
        if len(seen) < 2:
            continue
        anchor = dict(seen).get(reference)
        if anchor is not None:
            # Width and height belong to the reference: every other view answers to it.
            pairs = [(n, e / anchor, [reference]) for n, e in seen if n != reference]
        else:
            # The depth has no owner: the two views furthest apart are the disagreement to report.
            (lo_n, lo_e), (hi_n, hi_e) = min(seen, key=lambda s: s[1]), max(seen, key=lambda s: s[1])
            pairs = [(hi_n, hi_e / lo_e, [lo_n])]
        for n, ratio, others in pairs:
            if abs(np.log(ratio)) > np.log1p(WARN_MISMATCH):
                mismatches.append((n, axis, ratio, others))
    # Every view is stretched, per axis, onto the agreed extents, so a sheet drawn a little off still carves
    # one consistent shape (the warning says by how much).
    scales = {}
    for name in boxes:
        per_axis = []
        for (a, _), px in zip(_image_axes(name), pixel[name]):
            per_axis.append(extents[a] / px if extents[a] is not None else own_scale[name])
        scales[name] = tuple(per_axis)
    return extents, scales, mismatches


def _mismatch_messages(mismatches, extents, reference):
    warnings = []
    for name, axis, ratio, others in mismatches:
        text = (f"The {name} view's {AXIS_NAMES[axis]} is {abs(ratio - 1) * 100:.0f}% "
                f"{'larger' if ratio > 1 else 'smaller'} than the {' and '.join(others)} view{'s' if len(others) > 1 else ''} "
                f"give{'' if len(others) > 1 else 's'} it (scaled by the axes they share)")
        if abs(np.log(ratio)) > np.log1p(REFUSE_MISMATCH):
            raise InputError(text + ": the views cannot show the same object. Check that each picture is the "
                             "view its name says, of the same object.")
        warnings.append(text + "; the views were stretched to agree.")
    return warnings


# ------------------------------------------------------------------------------------------------ shape

@dataclass
class _Grid:
    cell: float
    coords: list          # per front-frame axis, the cell centres

    @classmethod
    def around(cls, extents, resolution: int):
        cell = max(extents) / resolution
        coords = []
        for e in extents:
            n = int(np.ceil(e / cell)) + 4
            coords.append((np.arange(n) - (n - 1) / 2) * cell)
        return cls(cell, coords)

    @property
    def shape(self):
        return tuple(len(c) for c in self.coords)


PLANES = {"xy": (0, 1), "zy": (2, 1), "xz": (0, 2)}


def _plane_of(name: str) -> str:
    axes = tuple(sorted(a for a, _ in _image_axes(name)))
    return {(0, 1): "xy", (1, 2): "zy", (0, 2): "xz"}[axes]


def _signed_distance(mask: np.ndarray) -> np.ndarray:
    """Pixels to the outline, positive inside, zero on the pixel edges between object and background."""
    inside = ndimage.distance_transform_edt(mask) - 0.5
    outside = ndimage.distance_transform_edt(~mask) - 0.5
    return np.where(mask, inside, -outside).astype(np.float32)


def view_field(name: str, sdf: np.ndarray, box, scale, grid: _Grid, plane: str) -> np.ndarray:
    """The view's signed distance (frame units) on its plane's grid, indexed [first plane axis, second]."""
    (a0, a1) = PLANES[plane]
    axes = _image_axes(name)
    lookup = {a: (i, sgn) for i, (a, sgn) in enumerate(axes)}
    g = np.meshgrid(grid.coords[a0], grid.coords[a1], indexing="ij")
    image_coord = [None, None]
    for plane_axis, coords in zip((a0, a1), g):
        i, sgn = lookup[plane_axis]
        image_coord[i] = sgn * coords
    u, w = image_coord
    cu, cw = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    col = cu + u / scale[0]
    row = cw - w / scale[1]
    d = ndimage.map_coordinates(sdf, [row - 0.5, col - 0.5], order=1, mode="nearest")
    return (d * np.sqrt(scale[0] * scale[1])).astype(np.float32)


def _broadcast(plane: str, arr: np.ndarray) -> np.ndarray:
    a0, a1 = PLANES[plane]
    shape = [1, 1, 1]
    out = arr
    if a0 > a1:
        out = out.T
        a0, a1 = a1, a0
    shape[a0], shape[a1] = out.shape
    return out.reshape(shape)


def _runs(field2d: np.ndarray, axis: int):
    """Distances (in cells) from each cell centre to the two ends of the run of inside cells (field > 0)
    it lies in, along `axis`, with the ends placed where the field crosses zero between cells."""
    f = np.moveaxis(field2d, axis, -1)
    inside = f > 0
    n = f.shape[-1]
    idx = np.broadcast_to(np.arange(n), f.shape)
    pad = np.pad(f, [(0, 0)] * (f.ndim - 1) + [(1, 1)], constant_values=-1.0)
    starts = inside & ~np.concatenate([np.zeros_like(inside[..., :1]), inside[..., :-1]], axis=-1)
    ends = inside & ~np.concatenate([inside[..., 1:], np.zeros_like(inside[..., :1])], axis=-1)
    # Sub-cell crossing between the run's first (last) cell and the outside cell before (after) it.
    before, first = pad[..., :-2], f
    after = pad[..., 2:]
    start_edge = np.where(starts, idx - first / np.maximum(first - before, 1e-9), -np.inf)
    end_edge = np.where(ends, idx + first / np.maximum(first - after, 1e-9), np.inf)
    start_edge = np.maximum.accumulate(start_edge, axis=-1)
    end_edge = np.minimum.accumulate(end_edge[..., ::-1], axis=-1)[..., ::-1]
    lo = np.where(inside, idx - start_edge, 0.0)
    hi = np.where(inside, end_edge - idx, 0.0)
    return np.moveaxis(lo, -1, axis), np.moveaxis(hi, -1, axis)


def _rounding(k: int, planes: dict, grid: _Grid, roundness: float) -> np.ndarray:
    """Field (frame units, positive inside) of the (super)ellipses inscribed in the rectangles of the slices
    perpendicular to axis k: each in-slice axis i runs as far as the view of plane (i, k) allows."""
    terms, half = [], []
    for i in (a for a in range(3) if a != k):
        plane = next(p for p, axes in PLANES.items() if set(axes) == {i, k})
        lo, hi = _runs(planes[plane], PLANES[plane].index(i))
        length = np.maximum(lo + hi, 1e-6)
        t = (lo - hi) / length                                  # -1 .. 1 across the run
        terms.append(_broadcast(plane, np.abs(t).astype(np.float32)))
        half.append(_broadcast(plane, (0.5 * length * grid.cell).astype(np.float32)))
        inside = _broadcast(plane, planes[plane] > 0)
        terms[-1] = np.where(inside, terms[-1], 2.0)
    rho = (terms[0] ** roundness + terms[1] ** roundness) ** (1.0 / roundness)
    return ((1.0 - rho) * np.minimum(half[0], half[1])).astype(np.float32)


def shape_field(view_fields: dict, grid: _Grid, rounding: bool = True, roundness: float = ROUNDNESS):
    """(field, planes): a field on the grid, positive inside the shape, and each seen plane's 2-D field."""
    planes = {}
    for name, (plane, f2) in view_fields.items():
        planes[plane] = f2 if plane not in planes else np.minimum(planes[plane], f2)
    hull = None
    for plane, f2 in planes.items():
        b = _broadcast(plane, f2)
        hull = b if hull is None else np.minimum(hull, b)
    hull = np.broadcast_to(hull, grid.shape)
    if not rounding:
        return np.ascontiguousarray(hull), planes
    # A rounding along axis k keeps the silhouettes of both planes that contain k; together they must keep
    # every plane that was seen.
    free = [k for k in range(3) if all(p in planes for p, axes in PLANES.items() if k in axes)]
    if not free:
        return np.ascontiguousarray(hull), planes
    rounded = None
    for k in free:
        r = _adapted_rounding(k, planes, hull, grid, roundness) if ADAPT_ROUNDNESS else _rounding(k, planes, grid, roundness)
        rounded = r if rounded is None else np.maximum(rounded, r)
    return _restore_silhouettes(np.minimum(hull, rounded), hull, planes), planes


def _projected(field3d: np.ndarray, plane: str) -> np.ndarray:
    """The plane's 2-D mask of the cells inside `field3d`, indexed [first plane axis, second]."""
    a0, a1 = PLANES[plane]
    proj = (field3d > 0).any(axis=3 - a0 - a1)
    return proj.T if a0 > a1 else proj


def _adapted_rounding(k: int, planes: dict, hull: np.ndarray, grid: _Grid, roundness: float) -> np.ndarray:
    """The rounding along k, as square as the view looking along k asks: that view sees every slice
    perpendicular to k at once, and where the (super)ellipses leave much of its silhouette uncovered (a box's
    corners seen from the top), the slices are fuller than ellipses. The roundest exponent whose slices
    cover ADAPT_COVERAGE of that silhouette is taken; without that view, `roundness`."""
    plane = next((p for p, axes in PLANES.items() if k not in axes), None)
    r = _rounding(k, planes, grid, roundness)
    if plane not in planes:
        return r
    want = planes[plane] > 0
    covered = lambda r: (_projected(np.minimum(hull, r), plane) & want).sum() / max(want.sum(), 1)  # noqa: E731
    if covered(r) >= ADAPT_BELOW:
        return r
    for p in ADAPT_EXPONENTS:
        if p > roundness:
            r = _rounding(k, planes, grid, p)
            if covered(r) >= ADAPT_COVERAGE:
                break
    return r


def _restore_silhouettes(shape: np.ndarray, hull: np.ndarray, planes: dict) -> np.ndarray:
    """With three planes seen, a rounding keeps its two planes' silhouettes but the third view's hull can cut
    into them (a leg the top view puts off the ellipse's centre): give the rays whose pixel went missing
    back their hull."""
    out = shape
    for plane, f2 in planes.items():
        a0, a1 = PLANES[plane]
        proj = (shape > 0).any(axis=3 - a0 - a1)
        if a0 > a1:
            proj = proj.T
        missing = (f2 > 0) & ~proj
        if missing.any():
            out = np.where(_broadcast(plane, missing), np.maximum(out, hull), out)
    return out


def _inflated_depth(planes: dict, grid: _Grid) -> np.ndarray:
    """Only front and back: nothing sees the depth, so guess it as the single-picture path does."""
    from .frame import FRAME_HALF_EXTENT
    from .template import inflation_height

    mask = planes["xy"] > 0
    h = inflation_height(mask) * grid.cell / (2 * FRAME_HALF_EXTENT / mask.shape[0])
    z = grid.coords[2][None, None, :]
    return (h[:, :, None] - np.abs(z)).astype(np.float32)


def march(field3d: np.ndarray, grid: _Grid, level: float = 0.0):
    from skimage.measure import marching_cubes

    vol = np.pad(field3d, 1, constant_values=min(float(field3d.min()), level - 1.0))
    verts, faces, _, _ = marching_cubes(vol, level=level, spacing=(grid.cell,) * 3, allow_degenerate=False)
    origin = np.array([c[0] - grid.cell for c in grid.coords])
    return (verts + origin).astype(np.float32), faces.astype(np.int32)


def _coverage(field3d: np.ndarray, planes: dict) -> dict:
    """Share of each plane's silhouette that the carved shape still projects onto."""
    out = {}
    for plane, f2 in planes.items():
        a0, a1 = PLANES[plane]
        k = 3 - a0 - a1
        proj = (field3d > 0).any(axis=k)
        if a0 > a1:
            proj = proj.T
        want = f2 > 0
        out[plane] = float((proj & want).sum() / max(want.sum(), 1))
    return out


# ------------------------------------------------------------------------------------------------ colours

def _view_coordinates(vertices: np.ndarray, view: SheetView) -> np.ndarray:
    """Pixel (x right, y down) of each vertex in the view's working copy."""
    return ViewProjection(view.name, view.box, view.scale).pixels(vertices)


def sheet_texture(vertices, faces, views: dict, images: dict, progress=None) -> SheetTexture:
    """The atlas of the views' pictures, the UVs into it and the per-vertex colours (inference.sheet_texture)."""
    projections = [ViewProjection(v.name, v.box, v.scale) for v in views.values()]
    return texture_sheet(vertices, faces, projections, {n: images[n][1] for n in views},
                         {n: v.mask for n, v in views.items()}, progress=progress)


def view_silhouette_iou(vertices, faces, view: SheetView, size: int = 256) -> float:
    """IoU of the mesh's orthographic silhouette and the view's mask, in that view's own evaluation frame."""
    from .silhouette import iou, mesh_silhouette

    h, w = view.mask.shape
    frame = Frame.from_box(view.box, w, h)
    pxy = _view_coordinates(np.asarray(vertices, np.float64), view)
    xy = frame.to_frame(pxy)
    truth = frame.sample_grid(view.mask.astype(np.float32), size) > 0.5
    return iou(mesh_silhouette(np.column_stack([xy, np.zeros(len(xy))]), faces, size), truth)


# ------------------------------------------------------------------------------------------------ entry point

def _options(options) -> ReconstructionOptions:
    if options is None:
        return ReconstructionOptions()
    if isinstance(options, dict):
        return ReconstructionOptions.from_dict(options)
    return options


def prepare_views(views: dict, masks: dict | None = None, progress=None):
    """(images, SheetViews, extents, warnings, reference): every view masked, framed and scaled;
    `progress(fraction)` after each view."""
    images, read = _read_views(views, masks, progress)
    reference = "front" if "front" in images else "back"
    boxes = {n: bounding_box(m) for n, (m, _) in read.items()}
    extents, scales, mismatches = solve_extents(boxes, reference)
    warnings = _mismatch_messages(mismatches, extents, reference)
    sheet = {n: SheetView(n, read[n][0], boxes[n], scales[n], read[n][1]) for n in read}
    return images, sheet, extents, warnings, reference


def carve(sheet: dict, extents, resolution: int, rounding: bool = True, roundness: float = ROUNDNESS):
    """(field, grid, warnings) of the shape on a grid `resolution` cells across the object's longer side."""
    depth_known = extents[2] is not None
    ext = list(extents)
    if not depth_known:
        ext[2] = max(extents[0], extents[1])
    grid = _Grid.around(ext, resolution)
    fields = {}
    for name, v in sheet.items():
        plane = _plane_of(name)
        fields[name] = (plane, view_field(name, _signed_distance(v.mask), v.box, v.scale, grid, plane))
    f3, planes = shape_field(fields, grid, rounding=rounding, roundness=roundness)
    warnings = []
    if not depth_known:
        f3 = np.minimum(f3, _inflated_depth(planes, grid))
        warnings.append("No side or top view: the depth is a guess (an inflated silhouette), as from one picture.")
    coverage = _coverage(f3, planes)
    for plane, share in coverage.items():
        names = [n for n in sheet if _plane_of(n) == plane]
        others = [n for n in sheet if _plane_of(n) != plane]
        text = (f"Only {share * 100:.0f}% of the {' and '.join(names)} view's silhouette is consistent with the "
                f"{' and '.join(others)} view{'s' if len(others) > 1 else ''}")
        if share < REFUSE_COVERAGE:
            raise InputError(text + ": they do not show the same object. Check that each picture is the view its "
                             "name says, of the same object.")
        if share < WARN_COVERAGE:
            warnings.append(text + "; the parts only one view shows were dropped.")
    return f3, grid, warnings


def _resolution_for(field_at, target_vertices: int, oversampling: float | None = None) -> int:
    """Marching resolution that gives about `oversampling` (default MARCH_OVERSAMPLING) times the requested
    vertex count (it grows with the square)."""
    probe = 40
    f3, grid = field_at(probe)
    v, _ = march(f3, grid)
    factor = MARCH_OVERSAMPLING if oversampling is None else oversampling
    return int(np.clip(round(probe * np.sqrt(max(target_vertices, 50) * factor / max(len(v), 1))), 24, 256))


def _marched_surface(f3: np.ndarray, grid: _Grid):
    """The largest piece of the field's zero surface, outward-facing (smoothed when SMOOTHING_ITERATIONS)."""
    from .meshes import largest_component, orient_outward
    from .template import taubin_smooth

    v, f = march(f3, grid)
    if len(f) == 0:
        return v, f
    v, f = largest_component(v, f)
    if SMOOTHING_ITERATIONS:
        v = taubin_smooth(v, f, iterations=SMOOTHING_ITERATIONS)
    return v, orient_outward(v, f)


class _Progress:
    """Each stage's own 0..1 onto the whole job, so the caller sees one rising bar (the spans are about the
    stages' shares of a four-view sheet at the default density here)."""
    SPAN = {"load": (0.0, 0.1), "shape": (0.1, 0.3), "fit": (0.3, 0.35), "cleanup": (0.35, 0.85),
            "restore": (0.85, 0.86), "texture": (0.86, 0.97), "finish": (0.97, 1.0)}

    def __init__(self, callback):
        self.callback = callback
        self.last = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        if self.callback is None:
            return
        lo, hi = self.SPAN[stage]
        # max(): a bar must never step back (a stage's end and the next one's start differ by rounding).
        self.last = max(self.last, round(lo + (hi - lo) * float(np.clip(fraction, 0.0, 1.0)), 6))
        self.callback(stage, self.last)

    def stage(self, name: str):
        return lambda fraction: self(name, fraction)


def reconstruct_views(views: dict, options=None, masks: dict | None = None, *, name: str | None = None,
                      fit_steps: int | None = None, restore_steps: int | None = None, progress=None,
                      interruptible=None) -> SheetReconstruction:
    """One closed, textured mesh from a reference sheet: `views` maps front/back/left/right/top/bottom to a
    picture (path or RGBA/RGB array, rows top-down), at least two of them and one a front or a back; `masks`
    optionally maps view names to user masks. Raises InputError when the views cannot be one object.
    `progress(stage, fraction)` is called between the steps (fraction of the whole job, rising) and may raise
    inference.errors.Cancelled to stop. `interruptible()`, a context manager, is entered around the clean-up,
    whose remesher and untangler report no steps of their own for seconds: inside it the caller may stop the
    job at any moment (the worker does, see inference/worker.py)."""
    opts = _options(options)
    report = _Progress(progress)
    timings, info = {}, {}
    t = time.perf_counter()
    report("load", 0.0)
    images, sheet, extents, warnings, reference = prepare_views(views, masks, progress=report.stage("load"))
    timings["load_mask"] = time.perf_counter() - t

    t = time.perf_counter()
    report("shape", 0.0)
    cache = {}

    def field_at(res):
        if res not in cache:
            f3, grid, w = carve(sheet, extents, res)
            cache[res] = (f3, grid, w)
        return cache[res][:2]

    resolution = _resolution_for(field_at, opts.template_vertices)
    report("shape", 0.2)
    field_at(resolution)
    f3, grid, carve_warnings = cache[resolution]
    warnings += carve_warnings
    report("shape", 0.6)
    v, f = _marched_surface(f3, grid)
    if len(f) == 0:
        raise InputError("The views leave no shape standing: " + "; ".join(carve_warnings or ["check the views"]))
    report("shape", 0.8)
    info.update(resolution=resolution, cell=grid.cell, extents=[float(e) for e in extents if e is not None])
    timings["shape"] = time.perf_counter() - t

    steps = FIT_STEPS if fit_steps is None else fit_steps
    if opts.refine and steps > 0:
        t = time.perf_counter()
        report("fit", 0.0)
        from .sheets_fit import fit_to_views
        v = fit_to_views(v, f, sheet, steps=int(steps))
        timings["fit"] = time.perf_counter() - t

    if opts.untangle or opts.remesh:
        from .cleanup import clean_up
        t = time.perf_counter()
        report("cleanup", 0.0)
        with (interruptible or contextlib.nullcontext)():
            v, f, cleaned = clean_up(v, f, opts.template_vertices, untangle=opts.untangle, remesh=opts.remesh,
                                     progress=report)
            coarse = (_resolution_for(field_at, opts.template_vertices, FALLBACK_OVERSAMPLING)
                      if opts.remesh and not cleaned["remeshed"] else resolution)
            if coarse < resolution:
                # The remesher refused the fine grid's surface (seen once: a box's flat caps, front + right,
                # 1,200 vertices, left 4x the vertices asked for): the coarser grid's, cleaned up again.
                cv, cf, again = clean_up(*_marched_surface(*field_at(coarse)), opts.template_vertices,
                                         untangle=opts.untangle, remesh=True)
                if again["remeshed"]:
                    v, f, cleaned = cv, cf, again
                    info["resolution"] = coarse
        info["remeshed"] = cleaned["remeshed"]
        if cleaned.get("remesh_rejected"):
            info["remesh_rejected"] = cleaned["remesh_rejected"]
        if "self_intersections" in cleaned:
            info["self_intersections"] = cleaned["self_intersections"]
        timings["cleanup"] = time.perf_counter() - t

    v = np.asarray(v, np.float64)
    v[:, 2] -= 0.5 * (v[:, 2].max() + v[:, 2].min())
    restore = RESTORE_STEPS if restore_steps is None else restore_steps
    if opts.refine and restore > 0:
        t = time.perf_counter()
        report("restore", 0.0)
        from .sheets_fit import restore_silhouettes
        v, info["restore"] = restore_silhouettes(v, f, sheet, steps=int(restore))
        v = np.asarray(v, np.float64)
        timings["restore"] = time.perf_counter() - t

    t = time.perf_counter()
    report("texture", 0.0)
    texture = sheet_texture(v, f, sheet, images, progress=report.stage("texture"))
    info.update({f"texture_{k}": value for k, value in texture.info.items()})
    timings["texture"] = time.perf_counter() - t

    t = time.perf_counter()
    # The restoring fit measured the mesh it returned already.
    known = info.get("restore", {}).pop("ious", None)
    for i, view in enumerate(sheet.values()):
        report("finish", i / len(sheet))
        view.silhouette_iou = known[i] if known is not None else view_silhouette_iou(v, f, view)
    if reference == "back":
        v = v @ np.array(ROTATIONS["back"], np.float64).T
    timings["finish"] = time.perf_counter() - t
    info.update(vertices=int(len(v)), faces=int(len(f)))
    stem = name or images[reference][2]
    report("finish", 1.0)
    return SheetReconstruction(vertices=v.astype(np.float32), faces=np.asarray(f, np.int32),
                               vertex_colors=texture.vertex_colors, views=sheet, reference=reference, name=stem,
                               warnings=warnings, timings=timings, info=info, texture=texture)


__all__ = ["reconstruct_views", "SheetReconstruction", "SheetView", "VIEWS", "ROTATIONS"]
