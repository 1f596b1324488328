"""Separating the object from its background.

Real transparency wins when the picture has it. Otherwise the background must be plain: its colour
is read from the image border and everything that differs from it clearly enough is foreground.
Either way only the main object is kept. Its enclosed regions are filled unless they are through-holes the
picture shows (`through_holes`): the template then gets one handle per hole (a mug's handle, a ring)."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from .errors import NoObjectError

CUTOUT_ADVICE = ("Use a cut-out PNG with a transparent background (or a picture of the object on a plain, "
                 "evenly lit background), or supply a mask image.")

# Lab colour difference (CIE76 delta E) that separates object from a plain background. A difference of
# about 2 is just noticeable; 14 keeps anti-aliased edges and JPEG noise on the background side.
MIN_CONTRAST = 14.0
# Border pixels further than this from the border's median colour mean the background is not plain.
BUSY_BORDER = 20.0
MIN_OBJECT_FRACTION = 0.002
MAX_OBJECT_FRACTION = 0.97

# Through-holes. An enclosed region is kept open only when all of these say it is background seen through
# the object, not a speck, an eye, a shadow or a print on it:
# - it covers at least this share of the filled silhouette: smaller openings are anti-aliasing and cut-out
#   noise, and a hole that small would be narrower than the mesh's triangles at the default density
#   (2,500 vertices: an edge is ~3 % of the object) and be bridged by the remesher anyway;
MIN_HOLE_AREA = 0.003
# - its widest inscribed disc is at least this share of the object's longer side across: a slit thinner
#   than about one triangle edge (same reason) is a crack or a dark seam, not an opening;
MIN_HOLE_WIDTH = 0.03
# - on a plain background (no alpha) its median colour is within this delta E of the border's: half the
#   object/background threshold, so a dim or shaded patch of the object that only just fell under
#   MIN_CONTRAST (a shadow, a dark print on a dark backdrop) does not qualify, while JPEG noise of the
#   real background (a few units) does;
HOLE_MATCH = 0.5 * MIN_CONTRAST
# - and the object around it (a band HOLE_BAND of the longer side wide) stands out from the background by
#   at least this: a real opening has a crisp rim of object colour, a highlight or a soft shadow fades into
#   its surroundings. 1.5x the mask's own threshold, clear of the anti-aliased rim.
HOLE_EDGE_CONTRAST = 1.5 * MIN_CONTRAST
HOLE_BAND = 0.02
# Line drawings: when the "object" is only ink (95 % of its pixels within this share of the longer side
# of a stroke's edge, and less than LINE_ART_INK of the filled outline), its enclosed regions are the drawn
# object's surface, not holes: a concept sketch on white stays filled, as before. A 3 px pen on a 200 px
# drawing measures 0.015 after the mask's smoothing; solid things with openings (a ring 10 % as wide as it is
# across, the realval scissors) measure 0.05 and more. Wire-thin objects photographed (a paper clip) are
# taken for drawings and filled: the price of never opening a sketch.
LINE_ART_STROKE = 0.03
LINE_ART_INK = 0.5
# The backdrop mask's smoothing (an opening of radius 0.3 % of the picture) removes speckle and also every part
# narrower than its disc: pieces it removed that touch the object and reach this share of the picture's longer side
# across are thin parts of the object and are put back (the wire legs of a chair over white would otherwise cut
# the loop off them and move the object's frame; realval's chair_v0 over white: frame 124 px wide instead of 167).
THIN_PART_LENGTH = 0.03


def has_transparency(rgba: np.ndarray) -> bool:
    return bool(rgba[:, :, 3].min() < 0.5)


def extract_mask(rgba: np.ndarray) -> tuple[np.ndarray, str]:
    """Foreground mask (bool, H x W) of the main object, and how it was found ("alpha" or "border colour")."""
    masks, method = extract_objects(rgba)
    return masks[0], method


def extract_objects(rgba: np.ndarray, keep_holes: bool = False) -> tuple[list[np.ndarray], str]:
    """One mask per separate object in the picture, largest first, and how they were found. With
    `keep_holes` each mask keeps the through-holes the picture shows (see `through_holes`); without, every
    enclosed region is filled (one genus-0 outline)."""
    difference = None
    if has_transparency(rgba):
        raw = rgba[:, :, 3] > 0.5
        if not raw.any():
            raise NoObjectError("The image is fully transparent: there is no object to reconstruct. " + CUTOUT_ADVICE)
        method = "alpha"
    else:
        raw, difference = _border_difference(rgba[:, :, :3])
        method = "border colour"
    pieces = _components(raw, smooth=(method != "alpha"))
    if not keep_holes:
        return [filled for filled, _ in pieces], method
    return [filled & ~through_holes(filled, solid, difference) for filled, solid in pieces], method


def _mask_from_border_colour(rgb: np.ndarray) -> np.ndarray:
    return _border_difference(rgb)[0]


def _border_difference(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(foreground mask, smoothed delta E of every pixel from the border's colour)."""
    from skimage.color import rgb2lab

    lab = rgb2lab(rgb)
    h, w = rgb.shape[:2]
    b = max(2, int(round(0.01 * max(h, w))))
    ring = np.ones((h, w), bool)
    ring[b:h - b, b:w - b] = False
    border = lab[ring]
    background = np.median(border, axis=0)
    border_diff = np.linalg.norm(border - background, axis=1)
    if np.percentile(border_diff, 90) > BUSY_BORDER:
        raise NoObjectError("The background is not plain (its edges vary in colour), so the object cannot be separated "
                            "from it. " + CUTOUT_ADVICE)
    diff = np.linalg.norm(lab - background, axis=2)
    # Smoothing first makes the threshold robust to sensor and JPEG noise; the threshold adapts upward
    # when the background itself is noisy.
    diff = ndimage.gaussian_filter(diff, sigma=1.0)
    threshold = max(MIN_CONTRAST, 3.0 * float(np.percentile(border_diff, 95)))
    return diff > threshold, diff


def clean_mask(raw: np.ndarray, smooth: bool = True) -> np.ndarray:
    """Keep the largest connected object, fill its holes, and reject masks that hold no usable object."""
    return object_masks(raw, smooth)[0]


def object_masks(raw: np.ndarray, smooth: bool = True, keep_holes: bool = False) -> list[np.ndarray]:
    """Each separate object (connected, holes filled), largest first. Specks smaller than a fiftieth of
    the largest object are dropped; a picture without a usable object raises NoObjectError. With
    `keep_holes` (a user's mask) enclosed regions large enough to be openings stay open."""
    pieces = _components(raw, smooth)
    if not keep_holes:
        return [filled for filled, _ in pieces]
    return [filled & ~through_holes(filled, solid) for filled, solid in pieces]


def _components(raw: np.ndarray, smooth: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(filled, solid) per object, largest first: the object with its enclosed regions filled, and as seen."""
    from skimage.morphology import disk

    h, w = raw.shape
    m = raw
    if smooth:
        r = max(1, int(round(0.003 * max(h, w))))
        opened = ndimage.binary_opening(m, structure=disk(r))
        m = opened | _thin_parts(raw, opened, THIN_PART_LENGTH * max(h, w))
    # 8-connected: a wire one pixel wide that runs diagonally is one piece with its object, not a row of specks
    # (realval's trimesh_chair_v0 lost its leg loop, and its frame the loop's width, to 4-connectivity).
    labels, count = ndimage.label(m, structure=np.ones((3, 3), bool))
    if count == 0:
        raise NoObjectError("No object could be found in the image: it looks empty or uniform. " + CUTOUT_ADVICE)
    sizes = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, count + 1))
    order = np.argsort(-sizes)
    solid = labels == (1 + int(order[0]))
    largest = ndimage.binary_fill_holes(solid)
    fraction = largest.mean()
    if fraction < MIN_OBJECT_FRACTION or largest.sum() < 50:
        raise NoObjectError("The object in the image is too small to reconstruct (or the image is empty). "
                            "Crop the picture closer around the object. " + CUTOUT_ADVICE)
    touches = [largest[0].any(), largest[-1].any(), largest[:, 0].any(), largest[:, -1].any()]
    if fraction > MAX_OBJECT_FRACTION or all(touches):
        raise NoObjectError("The object covers the whole frame, so its outline is unknown. Leave some background "
                            "around it. " + CUTOUT_ADVICE)
    pieces = [(largest, solid)]
    for k in order[1:]:
        if sizes[k] < max(50, sizes[order[0]] / 50):
            break
        solid = labels == (1 + int(k))
        component = ndimage.binary_fill_holes(solid)
        # A piece inside another's filled hole belongs to that object (a logo on a ring, say).
        if not any((component & other).any() for other, _ in pieces):
            pieces.append((component, solid))
    return pieces


def _thin_parts(raw: np.ndarray, opened: np.ndarray, min_length: float) -> np.ndarray:
    """The parts of `raw` the smoothing (`opened`) removed that are the object's own thin parts: pieces
    touching what it kept and reaching at least `min_length` pixels across (a wire, a leg, a spire). What is
    left out is speckle and the corners the opening rounds."""
    removed = raw & ~opened
    if not removed.any():
        return removed
    eight = np.ones((3, 3), bool)
    labels, count = ndimage.label(removed, structure=eight)
    touching = np.unique(labels[ndimage.binary_dilation(opened, structure=eight) & removed])
    boxes = ndimage.find_objects(labels)
    keep = np.zeros(count + 1, bool)
    for k in touching[touching > 0]:
        rows, cols = boxes[k - 1]
        keep[k] = max(rows.stop - rows.start, cols.stop - cols.start) >= min_length
    return keep[labels]


def is_line_drawing(filled: np.ndarray, solid: np.ndarray) -> bool:
    """Whether the object is ink lines (a sketch) rather than a solid silhouette: thin strokes covering
    little of the outline they enclose (LINE_ART_STROKE, LINE_ART_INK)."""
    if solid.sum() >= LINE_ART_INK * filled.sum():
        return False
    x0, y0, x1, y1 = bounding_box(filled)
    half_width = ndimage.distance_transform_edt(solid)[solid]
    return float(np.percentile(half_width, 95)) <= LINE_ART_STROKE * max(x1 - x0, y1 - y0)


def through_holes(filled: np.ndarray, solid: np.ndarray, difference: np.ndarray | None = None) -> np.ndarray:
    """The enclosed regions of `filled` (filled & ~solid) that are openings the picture shows (bool mask).

    Every kept region passes the size and width tests (MIN_HOLE_AREA, MIN_HOLE_WIDTH); on a plain
    background (`difference`: each pixel's delta E from the border colour) it also matches the background
    (HOLE_MATCH) and has a crisp rim of object around it (HOLE_EDGE_CONTRAST). A cut-out's transparency needs
    no colour test: the artist already said what is background. A line drawing keeps none."""
    holes = filled & ~solid
    if not holes.any() or is_line_drawing(filled, solid):
        return np.zeros_like(filled)
    x0, y0, x1, y1 = bounding_box(filled)
    longer = max(x1 - x0, y1 - y0)
    labels, count = ndimage.label(holes)
    area = float(filled.sum())
    band = None
    keep = np.zeros(count + 1, bool)
    for k, where in enumerate(ndimage.find_objects(labels), start=1):
        # Work on the hole's box, grown by the band, so a picture with many specks stays fast.
        pad = int(np.ceil(HOLE_BAND * longer)) + 2
        window = tuple(slice(max(0, s.start - pad), s.stop + pad) for s in where)
        region = labels[window] == k
        if region.sum() < MIN_HOLE_AREA * area:
            continue
        # Distance to the nearest non-hole pixel: twice its maximum is the widest disc that fits inside.
        inside = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
        if 2.0 * inside.max() < MIN_HOLE_WIDTH * longer:
            continue
        if difference is not None:
            d = difference[window]
            if float(np.median(d[region])) > HOLE_MATCH:
                continue
            if band is None:
                from skimage.morphology import disk
                band = disk(max(1, int(round(HOLE_BAND * longer))))
            rim = ndimage.binary_dilation(region, structure=band) & solid[window]
            if not rim.any() or float(np.median(d[rim])) < HOLE_EDGE_CONTRAST:
                continue
        keep[k] = True
    return keep[labels]


def hole_sizes(mask: np.ndarray) -> list[int]:
    """Pixel counts of the holes of a mask (regions not connected to its border), largest first."""
    labels, count = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    if not count:
        return []
    sizes = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, count + 1))
    return sorted((int(s) for s in sizes), reverse=True)


def holes_only_where(coarse: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """`coarse` with every hole filled that holds no hole cell of `fine` (a mask of the same square, on any grid).
    Where two parts nearly touch (realval's ogre_v2: an arm a pixel from the body) a coarser grid closes the gap,
    and the background it enclosed became a hole of the template, so a handle the picture does not show: genus 1
    with Fill Holes on, 3 for its one opening with it off."""
    holes = ndimage.binary_fill_holes(coarse) & ~coarse
    if not holes.any():
        return coarse
    labels, _ = ndimage.label(holes)
    own = ndimage.binary_fill_holes(fine) & ~fine
    # The coarse cell each fine cell falls in, and the coarse holes that hold one of fine's own.
    rows = (np.arange(fine.shape[0]) * coarse.shape[0]) // fine.shape[0]
    cols = (np.arange(fine.shape[1]) * coarse.shape[1]) // fine.shape[1]
    kept = np.unique(labels[np.ix_(rows, cols)][own])
    return coarse | (holes & ~np.isin(labels, kept[kept > 0]))


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in pixel edges: columns x0..x1-1 and rows y0..y1-1 hold the object."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
