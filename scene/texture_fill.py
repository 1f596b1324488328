"""The picture continued beyond the silhouette, for the faces that look away from the camera (numpy only:
Blender's Python has numpy but not SciPy).

The front projection gives the back of the object the mirror image of its front, which is continuous
across the silhouette by construction (both sides sample the same texel there). What goes wrong is at
and near the silhouette: texels there are partly background (a white fringe or transparent holes), and
faces seen edge-on stretch those few texels into streaks. So:

- `coverage`: where the mesh's front projection lands in the picture (its UV triangles, rasterised:
  inference/raster.py);
- trusted texels: inside that coverage, a few texels away from its outline (and opaque in the picture);
- `grown`: the trusted colours grown outward over everything else (push-pull: averaged down an image
  pyramid, then filled back up), so the outline samples the object's own colour, never the backdrop;
- `blurred`: a coarse level of the same pyramid, which edge-on faces show instead of stretched texels.
"""
from __future__ import annotations

import numpy as np

from ..inference.push_pull import erode, push_pull, upsample
from ..inference.raster import coverage  # noqa: F401 - also this module's name for it

# Texels this close to the outline are not trusted (anti-aliased edge, backdrop bleeding in), in
# texels of the working resolution.
OUTLINE_MARGIN = 2
# Edge-on faces show the pyramid level this many times coarser than the picture's working size.
BLUR_FACTOR = 24
# The work is done at most this large (longer side); the result is scaled back up to the picture.
WORK_SIZE = 1024


def continued_texture(rgba: np.ndarray, uvs: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grown, blurred), float32 RGBA, rows top-down, straight alpha, 0..1: `grown` the size of `rgba`,
    `blurred` at most WORK_SIZE on its longer side (it holds no detail; the texture node interpolates).

    The picture's own alpha is kept where the picture is opaque enough to be trusted; beyond the trusted
    texels alpha is grown in like the colours, so a cut-out's transparent backdrop never punches holes
    into the outline while a semi-transparent part of the object stays semi-transparent."""
    height, width = rgba.shape[:2]
    factor = max(1, int(np.ceil(max(height, width) / WORK_SIZE)))
    work = rgba[::factor, ::factor].astype(np.float64)
    h, w = work.shape[:2]
    inside = coverage(uvs, faces, w, h)
    trusted = erode(inside, OUTLINE_MARGIN) & (work[..., 3] > 0.5)
    if not trusted.any():   # a sliver too thin to trust anything: trust what the projection covers
        trusted = inside & (work[..., 3] > 0.0)
    if not trusted.any():
        return rgba.astype(np.float32), rgba.astype(np.float32)
    blur_level = max(1, int(round(np.log2(max(h, w) / max(1, WORK_SIZE // BLUR_FACTOR)))))
    grown, blurred = push_pull(work, trusted, stop_level=min(blur_level, 12))
    # Smooth the blurred level once more back up: it must carry colour, not texel edges.
    blurred = upsample(blurred, (h, w)) if blurred.shape[:2] != (h, w) else blurred
    if factor > 1:
        # The picture itself where it is trusted, the fill (enlarged) everywhere else.
        grown_full = upsample(grown.astype(np.float32), (height, width))
        keep = np.repeat(np.repeat(trusted, factor, 0), factor, 1)[:height, :width]
        grown_full[keep] = rgba[keep]
        grown = grown_full
    return np.clip(grown, 0, 1).astype(np.float32), np.clip(blurred, 0, 1).astype(np.float32)
