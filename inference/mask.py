"""Separating the object from its background.

Real transparency wins when the picture has it. Otherwise the background must be plain: its colour
is read from the image border and everything that differs from it clearly enough is foreground.
Either way only the main object is kept and its holes are filled, because the template built from
the mask is a single closed surface."""
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


def has_transparency(rgba: np.ndarray) -> bool:
    return bool(rgba[:, :, 3].min() < 0.5)


def extract_mask(rgba: np.ndarray) -> tuple[np.ndarray, str]:
    """Foreground mask (bool, H x W) of the main object, and how it was found ("alpha" or "border colour")."""
    masks, method = extract_objects(rgba)
    return masks[0], method


def extract_objects(rgba: np.ndarray) -> tuple[list[np.ndarray], str]:
    """One mask per separate object in the picture, largest first, and how they were found."""
    if has_transparency(rgba):
        raw = rgba[:, :, 3] > 0.5
        if not raw.any():
            raise NoObjectError("The image is fully transparent: there is no object to reconstruct. " + CUTOUT_ADVICE)
        method = "alpha"
    else:
        raw = _mask_from_border_colour(rgba[:, :, :3])
        method = "border colour"
    return object_masks(raw, smooth=(method != "alpha")), method


def _mask_from_border_colour(rgb: np.ndarray) -> np.ndarray:
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
    return diff > threshold


def clean_mask(raw: np.ndarray, smooth: bool = True) -> np.ndarray:
    """Keep the largest connected object, fill its holes, and reject masks that hold no usable object."""
    return object_masks(raw, smooth)[0]


def object_masks(raw: np.ndarray, smooth: bool = True) -> list[np.ndarray]:
    """Each separate object (connected, holes filled), largest first. Specks smaller than a fiftieth of
    the largest object are dropped; a picture without a usable object raises NoObjectError."""
    from skimage.morphology import disk

    h, w = raw.shape
    m = raw
    if smooth:
        r = max(1, int(round(0.003 * max(h, w))))
        m = ndimage.binary_opening(m, structure=disk(r))
    labels, count = ndimage.label(m)
    if count == 0:
        raise NoObjectError("No object could be found in the image: it looks empty or uniform. " + CUTOUT_ADVICE)
    sizes = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, count + 1))
    order = np.argsort(-sizes)
    largest = ndimage.binary_fill_holes(labels == (1 + int(order[0])))
    fraction = largest.mean()
    if fraction < MIN_OBJECT_FRACTION or largest.sum() < 50:
        raise NoObjectError("The object in the image is too small to reconstruct (or the image is empty). "
                            "Crop the picture closer around the object. " + CUTOUT_ADVICE)
    touches = [largest[0].any(), largest[-1].any(), largest[:, 0].any(), largest[:, -1].any()]
    if fraction > MAX_OBJECT_FRACTION or all(touches):
        raise NoObjectError("The object covers the whole frame, so its outline is unknown. Leave some background "
                            "around it. " + CUTOUT_ADVICE)
    masks = [largest]
    for k in order[1:]:
        if sizes[k] < max(50, sizes[order[0]] / 50):
            break
        component = ndimage.binary_fill_holes(labels == (1 + int(k)))
        # A piece inside another's filled hole belongs to that object (a logo on a ring, say).
        if not any((component & other).any() for other in masks):
            masks.append(component)
    return masks


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in pixel edges: columns x0..x1-1 and rows y0..y1-1 hold the object."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
