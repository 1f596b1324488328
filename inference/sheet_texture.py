"""A reference sheet's texture: one atlas image made of the views' own pictures, one UV per face corner, and
per-vertex colours that agree with it. Numpy only: Blender's Python has numpy but no SciPy, and Blender may
have to run this on a mesh of its own (tests/engine/test_sheet_texture.py checks the imports).

Which view colours a point of the surface is decided per vertex, from its normal n and each view's direction
t toward its viewer (the third row of ROTATIONS):

- the views that *face* it (n.t at least FACING_MIN, and no part of the mesh in front of it in that view's
  z-buffer): the one that faces it most squarely, and where another comes within BAND of it, both, weighted
  by how close they are, so the switch from one view to the next is a blend a few faces wide, not a seam;
- else the views that see it *through* the object (n.t at most -FACING_MIN: they show its other side), as
  the single-picture path textures the back with the front picture;
- else (edge-on to every view, or hidden from all that face it) colours grown in over the surface from the
  vertices that have one, as Fill Sides grows the picture's colours into what the camera did not see.
FADE ramps each view in over the facing above FACING_MIN, so nothing switches abruptly where a view runs out.

The atlas: each view's silhouette box plus a margin, cut from its picture with the colours outside the
silhouette grown in from inside (so filtering and mip-maps at the outline never pull in the backdrop), laid
out on shelves. A face whose three corners take one view only maps straight into that view's tile by the
view's projection (exact: an orthographic projection is affine on a triangle), so most of the surface shows
the pictures' own pixels. The others (the blend bands, the grown-in faces) get one small chart each below
the tiles: a right triangle of texels computed from the blend of their corners, with a gutter, sampling the
tiles themselves, so along an edge it shares with a tile face a chart shows exactly what that face shows."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .push_pull import erode, push_pull, upsample

# Each view's (image right, image up, toward the viewer) in the front frame, as rows: view = R @ front.
# Blender's numpad views: front along +Y, right along -X, back along -Y, left along +X, top down -Z, bottom up +Z.
ROTATIONS = {
    "front": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "back": ((-1, 0, 0), (0, 1, 0), (0, 0, -1)),
    "right": ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
    "left": ((0, 0, 1), (0, 1, 0), (-1, 0, 0)),
    "top": ((1, 0, 0), (0, 0, -1), (0, 1, 0)),
    "bottom": ((1, 0, 0), (0, 0, 1), (0, -1, 0)),
}

# Facing (cosine between the normal and the view direction) below which a view's pixels are too stretched to
# use (78 degrees off), and over which it ramps to full weight (FACING_MIN + FADE, 66 degrees).
FACING_MIN = 0.2
FADE = 0.2
# Views whose facing is within this of the best one's blend in: about +-8 degrees around the 45 degree line
# between two perpendicular views.
BAND = 0.2
# The occlusion test's z-buffer: this many pixels across the view's silhouette box (coarse: it only has to
# tell a hollow from what covers it; 256 costs four times as much and, on the four-view cow, beast and
# lionstatue, decides about 1 % of the vertices otherwise, of the 3-8 % it finds hidden), and a vertex this
# many of its pixels (in depth) behind the front-most surface there counts as hidden (a grazing face spans a
# few pixels of depth within one pixel).
ZBUFFER_SIZE = 128
OCCLUSION_TOLERANCE = 3.0
# The atlas's longer side at most (a 4096 RGBA texture is what every game engine and viewer takes).
MAX_ATLAS = 4096
# Margin around each view's silhouette box in its tile (a share of the box's longer side, at least
# MIN_MARGIN pixels): the mesh can stand out of its silhouette by a fraction of a marching cell.
TILE_MARGIN = 0.04
MIN_MARGIN = 6
TILE_GAP = 2
# A chart's legs in texels: about a face's size in the pictures, within these bounds; plus a gutter of this
# many texels all round so filtering at its edges reads its own colours.
CHART_MIN, CHART_MAX = 4, 16
CHART_GUTTER = 1
# Charts are rendered this many faces at a time (bounds the temporary arrays).
CHART_BATCH = 2048
# The view choice reads vertex normals averaged over this many rings: a remeshed surface's own normals wobble by
# several degrees from vertex to vertex, which frays the switch between two views into islands.
NORMAL_SMOOTHING = 3
# Smoothing passes over the grown-in colours after they have been grown ring by ring.
GROW_SMOOTHING = 10
# A vertex whose view weights add up to at least this is known; the others get grown-in colours.
KNOWN = 0.5
_PURE = 1.0 - 1e-6


@dataclass(frozen=True)
class ViewProjection:
    """How one view sees the front frame: its silhouette box (x0, y0, x1, y1) in pixels of the view's picture
    (inference.sheets' working copy) and the frame units per pixel along its image right and image up."""
    name: str
    box: tuple
    scale: tuple

    def pixels(self, points) -> np.ndarray:
        """(n, 2) pixel coordinates (x right, y down, pixel i spans [i, i + 1]) of front-frame points."""
        p = np.asarray(points, np.float64) @ np.array(ROTATIONS[self.name], np.float64)[:2].T
        cu, cw = (self.box[0] + self.box[2]) / 2.0, (self.box[1] + self.box[3]) / 2.0
        return np.stack([cu + p[:, 0] / self.scale[0], cw - p[:, 1] / self.scale[1]], axis=1)

    def depth(self, points) -> np.ndarray:
        """Distance toward the viewer (larger is nearer)."""
        return np.asarray(points, np.float64) @ np.array(ROTATIONS[self.name][2], np.float64)


@dataclass(frozen=True)
class Tile:
    """Where a view's picture lies in the atlas: its pixels `crop` (x0, y0, x1, y1; may reach beyond the
    picture, where the grown-in colours continue) drawn into the atlas rectangle `place` (x0, y0, x1, y1)."""
    view: str
    crop: tuple
    place: tuple

    def to_atlas(self, px: np.ndarray) -> np.ndarray:
        """Atlas pixel coordinates of view pixel coordinates, clamped half a texel inside the tile so that
        filtering never reads a neighbour."""
        cx0, cy0, cx1, cy1 = self.crop
        ax0, ay0, ax1, ay1 = self.place
        x = ax0 + (px[:, 0] - cx0) * ((ax1 - ax0) / (cx1 - cx0))
        y = ay0 + (px[:, 1] - cy0) * ((ay1 - ay0) / (cy1 - cy0))
        return np.stack([np.clip(x, ax0 + 0.5, ax1 - 0.5), np.clip(y, ay0 + 0.5, ay1 - 0.5)], axis=1)


@dataclass
class SheetTexture:
    atlas: np.ndarray            # (H, W, 4) uint8, rows top-down, opaque
    uvs: np.ndarray              # (M, 3, 2) float32, per face corner, v up
    vertex_colors: np.ndarray    # (N, 4) uint8, the same blend at each vertex
    tiles: dict                  # view name -> Tile
    face_view: np.ndarray        # (M,) int16: the view (index into `views`) whose tile a face maps into, -1: a chart
    views: tuple = ()
    info: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ geometry

def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])   # area-weighted
    vn = np.zeros_like(v)
    for k in range(3):
        np.add.at(vn, f[:, k], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-20)


def smoothed_normals(vertices: np.ndarray, faces: np.ndarray, passes: int = NORMAL_SMOOTHING) -> np.ndarray:
    """Vertex normals, each averaged with its neighbours' `passes` times."""
    n = vertex_normals(vertices, faces)
    e = _edges(np.asarray(faces, np.int64))
    for _ in range(passes):
        total = n.copy()
        np.add.at(total, e[:, 0], n[e[:, 1]])
        np.add.at(total, e[:, 1], n[e[:, 0]])
        n = total / np.maximum(np.linalg.norm(total, axis=1, keepdims=True), 1e-20)
    return n


def _enumerate_texels(px: np.ndarray, py: np.ndarray, shape):
    """For triangles with corner texel coordinates px, py (F, 3) (texel i's centre at i + 0.5): the texels
    whose centre lies inside each (either winding) as (face, row, column, barycentric (n, 3))."""
    h, w = shape
    cx, cy = px - 0.5, py - 0.5
    x0 = np.clip(np.ceil(cx.min(1)), 0, w).astype(np.int64)
    x1 = np.clip(np.floor(cx.max(1)), -1, w - 1).astype(np.int64)
    y0 = np.clip(np.ceil(cy.min(1)), 0, h).astype(np.int64)
    y1 = np.clip(np.floor(cy.max(1)), -1, h - 1).astype(np.int64)
    bw, bh = np.maximum(x1 - x0 + 1, 0), np.maximum(y1 - y0 + 1, 0)
    counts = bw * bh
    area = (cx[:, 1] - cx[:, 0]) * (cy[:, 2] - cy[:, 0]) - (cx[:, 2] - cx[:, 0]) * (cy[:, 1] - cy[:, 0])
    counts[np.abs(area) < 1e-12] = 0      # edge-on: covers no texel centre
    face = np.repeat(np.arange(len(px)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    qx = (x0[face] + local % bw[face]).astype(np.float64)
    qy = (y0[face] + local // bw[face]).astype(np.float64)
    ax, ay = cx[face, 0], cy[face, 0]
    a = area[face]
    l1 = ((qx - ax) * (cy[face, 2] - ay) - (cx[face, 2] - ax) * (qy - ay)) / a
    l2 = ((cx[face, 1] - ax) * (qy - ay) - (qx - ax) * (cy[face, 1] - ay)) / a
    l0 = 1.0 - l1 - l2
    inside = (l0 >= -1e-9) & (l1 >= -1e-9) & (l2 >= -1e-9)
    bary = np.stack([l0, l1, l2], axis=1)[inside]
    return face[inside], qy[inside].astype(np.int64), qx[inside].astype(np.int64), bary


def visible_vertices(projection: ViewProjection, vertices, faces, size: int = ZBUFFER_SIZE) -> np.ndarray:
    """(N,) bool: no part of the mesh lies in front of the vertex in this view (a z-buffer of the mesh's
    front-most depth, `size` pixels across the silhouette box)."""
    px = projection.pixels(vertices)
    depth = projection.depth(vertices)
    x0, y0, x1, y1 = projection.box
    s = size / max(x1 - x0, y1 - y0, 1e-9)
    border = 2
    q = (px - (x0, y0)) * s + border
    w = int(np.ceil((x1 - x0) * s)) + 2 * border + 1
    h = int(np.ceil((y1 - y0) * s)) + 2 * border + 1
    buffer = np.full(h * w, -np.inf)
    f = np.asarray(faces, np.int64)
    face, rows, cols, bary = _enumerate_texels(q[f, 0], q[f, 1], (h, w))
    np.maximum.at(buffer, rows * w + cols, (bary * depth[f[face]]).sum(axis=1))
    # Every vertex's own depth too: faces smaller than a pixel may cover no pixel centre.
    ix = np.clip(np.floor(q[:, 0]).astype(np.int64), 0, w - 1)
    iy = np.clip(np.floor(q[:, 1]).astype(np.int64), 0, h - 1)
    np.maximum.at(buffer, iy * w + ix, depth)
    cell = float(np.sqrt(projection.scale[0] * projection.scale[1])) / s
    return depth >= buffer[iy * w + ix] - OCCLUSION_TOLERANCE * cell


# ------------------------------------------------------------------------------------------------ weights

def _banded(score: np.ndarray, usable: np.ndarray):
    """Blend weights (N, K) over the usable candidates, the best score and those within BAND of it, and the
    confidence (N,) of the blend (the best candidate's usability)."""
    ok = usable > 0
    best = np.where(ok, score, -np.inf).max(axis=1, keepdims=True)
    near = np.clip(1.0 - (best - score) / BAND, 0.0, 1.0) * ok
    raw = usable * np.nan_to_num(near)
    total = raw.sum(axis=1, keepdims=True)
    return np.where(total > 0, raw / np.maximum(total, 1e-12), 0.0), raw.max(axis=1)


def view_weights(vertices, faces, projections: list, occlusion: bool = True, progress=None) -> np.ndarray:
    """(N, K + 1): each vertex's weight for each view's picture and, last, for the grown-in colours; rows add
    up to 1 (see the module's docstring for the rule)."""
    normals = smoothed_normals(vertices, faces)
    toward = np.array([ROTATIONS[p.name][2] for p in projections], np.float64)
    facing = normals @ toward.T
    seen = np.ones_like(facing, bool)
    if occlusion:
        for k, projection in enumerate(projections):
            seen[:, k] = visible_vertices(projection, vertices, faces)
            if progress is not None:
                progress((k + 1) / len(projections))
    ramp = lambda x: np.clip(x / FADE, 0.0, 1.0)  # noqa: E731
    direct, direct_confidence = _banded(facing, ramp(facing - FACING_MIN) * seen)
    through, through_confidence = _banded(-facing, ramp(-facing - FACING_MIN))
    fallback = 1.0 - direct_confidence
    views = direct_confidence[:, None] * direct + (fallback * through_confidence)[:, None] * through
    return np.column_stack([views, fallback * (1.0 - through_confidence)])


# ------------------------------------------------------------------------------------------------ pixels

def tile_pixels(picture: np.ndarray, mask: np.ndarray, crop) -> np.ndarray:
    """(h, w, 3) float32 of the picture's `crop` with the silhouette's colours grown over the backdrop. The
    outline's own pixels are grown over too: anti-aliased, they mix in the backdrop."""
    x0, y0, x1, y1 = crop
    h, w = mask.shape
    rgb = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
    inside = np.zeros((y1 - y0, x1 - x0), bool)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    rgb[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = np.asarray(picture[sy0:sy1, sx0:sx1, :3], np.float32)
    inside[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = mask[sy0:sy1, sx0:sx1]
    trusted = erode(inside, 1)
    if not trusted.any():
        trusted = inside
    if not trusted.any():
        return rgb
    return np.clip(push_pull(rgb, trusted)[0], 0.0, 1.0)


def _shrink(values: np.ndarray, shape) -> np.ndarray:
    """Down to `shape`: whole-factor box averaging first, so a large reduction does not alias."""
    factor = int(min(values.shape[0] / shape[0], values.shape[1] / shape[1]))
    if factor >= 2:
        h, w = (values.shape[0] // factor) * factor, (values.shape[1] // factor) * factor
        values = values[:h, :w].reshape(h // factor, factor, w // factor, factor, -1).mean(axis=(1, 3))
    return values if values.shape[:2] == tuple(shape) else upsample(values, shape)


def sample(atlas: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear samples (n, C) of an (H, W, C) image at pixel coordinates xy (n, 2)."""
    h, w = atlas.shape[:2]
    x = np.clip(xy[:, 0] - 0.5, 0, w - 1)
    y = np.clip(xy[:, 1] - 0.5, 0, h - 1)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = atlas[y0, x0] * (1 - fx) + atlas[y0, x1] * fx
    bottom = atlas[y1, x0] * (1 - fx) + atlas[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


# ------------------------------------------------------------------------------------------------ layout

def crop_of(projection: ViewProjection) -> tuple:
    x0, y0, x1, y1 = projection.box
    margin = max(MIN_MARGIN, int(np.ceil(TILE_MARGIN * max(x1 - x0, y1 - y0))))
    return (int(np.floor(x0)) - margin, int(np.floor(y0)) - margin, int(np.ceil(x1)) + margin,
            int(np.ceil(y1)) + margin)


def layout(sizes: dict, charts: int, chart_legs: int, max_size: int = MAX_ATLAS):
    """Shelves of tiles (view -> (w, h) pixels) and below them `charts` chart cells, all within `max_size`:
    (scale of the tiles, view -> place, chart legs, chart origin y, charts per row, atlas (height, width))."""
    scale = 1.0
    for _ in range(60):
        dims = {n: (max(1, int(round(w * scale))), max(1, int(round(h * scale)))) for n, (w, h) in sizes.items()}
        legs = int(np.clip(round(chart_legs * min(scale, 1.0)), CHART_MIN, CHART_MAX))
        cell = legs + 2 * CHART_GUTTER
        area = sum((w + TILE_GAP) * (h + TILE_GAP) for w, h in dims.values()) + charts * cell * cell
        width = max(max(w for w, _ in dims.values()) + 2 * TILE_GAP, int(np.ceil(np.sqrt(area))))
        places, x, y, row = {}, TILE_GAP, TILE_GAP, 0
        for name in sorted(dims, key=lambda n: -dims[n][1]):
            w, h = dims[name]
            if x + w + TILE_GAP > width:
                x, y, row = TILE_GAP, y + row + TILE_GAP, 0
            places[name] = (x, y, x + w, y + h)
            x, row = x + w + TILE_GAP, max(row, h)
        origin = y + row + TILE_GAP
        per_row = max(1, width // cell)
        height = origin + int(np.ceil(charts / per_row)) * cell
        if max(width, height) <= max_size:
            return scale, places, legs, origin, per_row, (height, width)
        scale *= 0.98 * max_size / max(width, height)
    raise ValueError(f"The views do not fit a {max_size}-pixel atlas.")


def _chart_capacity(max_size: int) -> int:
    """Charts that still leave half the atlas to the tiles at the smallest chart size."""
    return int(0.5 * max_size * max_size / (CHART_MIN + 2 * CHART_GUTTER) ** 2)


# ------------------------------------------------------------------------------------------------ colours

def _edges(faces: np.ndarray) -> np.ndarray:
    e = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    n = int(e.max()) + 1
    keys = np.unique(e[:, 0] * n + e[:, 1])      # one int64 key per edge: far cheaper than unique rows
    return np.stack([keys // n, keys % n], axis=1)


def grow_on_surface(colours: np.ndarray, known: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Colours for the unknown vertices grown in from the known ones, ring by ring over the mesh's edges (each
    new ring takes the mean of its known neighbours), then smoothed with the known ones held."""
    out = np.array(colours, np.float64)
    if known.all():
        return out
    if not known.any():
        out[:] = 0.5
        return out
    e = _edges(np.asarray(faces, np.int64))
    a, b = np.concatenate([e[:, 0], e[:, 1]]), np.concatenate([e[:, 1], e[:, 0]])
    have = known.copy()
    while not have.all():
        source = have[b] & ~have[a]
        if not source.any():        # a piece no known vertex reaches
            out[~have] = out[have].mean(axis=0)
            break
        total = np.zeros_like(out)
        count = np.zeros(len(out))
        np.add.at(total, a[source], out[b[source]])
        np.add.at(count, a[source], 1.0)
        ring = count > 0
        out[ring] = total[ring] / count[ring, None]
        have |= ring
    free = ~known
    degree = np.bincount(a, minlength=len(out)).astype(np.float64)
    for _ in range(GROW_SMOOTHING):
        total = np.zeros_like(out)
        np.add.at(total, a, out[b])
        out[free] = total[free] / np.maximum(degree[free], 1.0)[:, None]
    return out


def _view_samples(atlas, tiles, projections, points) -> np.ndarray:
    """(n, K, 3): every view's colour at the points (front frame)."""
    return np.stack([sample(atlas, tiles[p.name].to_atlas(p.pixels(points))) for p in projections], axis=1)


# ------------------------------------------------------------------------------------------------ the texture

def texture_sheet(vertices, faces, projections: list, pictures: dict, masks: dict, max_size: int = MAX_ATLAS,
                  occlusion: bool = True, progress=None) -> SheetTexture:
    """The atlas, UVs and vertex colours of a mesh in the front frame seen by `projections` (ViewProjection,
    one per view); `pictures` maps each view to its picture (float RGBA, 0..1, rows top-down, the pixels its
    box and scale are in) and `masks` to its silhouette there. `progress(fraction)` is called along the way."""
    report = progress or (lambda fraction: None)
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    names = tuple(p.name for p in projections)
    k_views = len(projections)
    weights = view_weights(v, f, projections, occlusion, progress=lambda x: report(0.4 * x))

    corner = weights[f]                                             # (M, 3, K + 1)
    pure = (corner[:, :, :k_views] >= _PURE).all(axis=1)             # (M, K)
    face_view = np.where(pure.any(axis=1), pure.argmax(axis=1), -1).astype(np.int16)
    charted = np.flatnonzero(face_view < 0)
    if len(charted) > _chart_capacity(max_size):
        # Denser than the atlas holds charts for: the least blended go straight to their strongest view.
        keep = np.argsort(corner[charted, :, :k_views].max(axis=2).min(axis=1))[:_chart_capacity(max_size)]
        demoted = np.setdiff1d(charted, charted[keep])
        face_view[demoted] = corner[demoted, :, :k_views].sum(axis=1).argmax(axis=1)
        charted = np.sort(charted[keep])

    crops = {p.name: crop_of(p) for p in projections}
    edge = np.linalg.norm(v[f] - v[np.roll(f, 1, axis=1)], axis=2).max(axis=1)
    pixel = float(np.median([np.sqrt(p.scale[0] * p.scale[1]) for p in projections]))
    legs = int(np.clip(round(float(np.median(edge[charted])) / pixel), CHART_MIN, CHART_MAX)) if len(charted) \
        else CHART_MIN
    sizes = {n: (c[2] - c[0], c[3] - c[1]) for n, c in crops.items()}
    scale, places, legs, origin, per_row, (height, width) = layout(sizes, len(charted), legs, max_size)

    atlas = np.zeros((height, width, 3), np.float32)
    tiles = {}
    for p in projections:
        x0, y0, x1, y1 = places[p.name]
        pixels = tile_pixels(pictures[p.name], masks[p.name], crops[p.name])
        atlas[y0:y1, x0:x1] = pixels if pixels.shape[:2] == (y1 - y0, x1 - x0) else _shrink(pixels, (y1 - y0, x1 - x0))
        tiles[p.name] = Tile(p.name, crops[p.name], places[p.name])
    report(0.6)

    # Vertex colours: the blend at each vertex; the grown-in share from the vertices that are known.
    samples = _view_samples(atlas, tiles, projections, v)            # (N, K, 3)
    seen = weights[:, :k_views].sum(axis=1)
    own = (weights[:, :k_views, None] * samples).sum(axis=1) / np.maximum(seen, 1e-12)[:, None]
    grown = grow_on_surface(own, seen >= KNOWN, f)
    colours = (weights[:, :k_views, None] * samples).sum(axis=1) + weights[:, k_views:] * grown

    uvs = np.zeros((len(f), 3, 2), np.float64)
    for k, p in enumerate(projections):
        sel = np.flatnonzero(face_view == k)
        if len(sel):
            uvs[sel] = tiles[p.name].to_atlas(p.pixels(v[f[sel]].reshape(-1, 3))).reshape(-1, 3, 2)
    report(0.7)

    cell = legs + 2 * CHART_GUTTER
    if len(charted):
        # Texel centres of one cell in the chart's barycentrics (A at the gutter's corner, B along x, C along y),
        # the gutter clamped onto the triangle.
        j, i = np.mgrid[:cell, :cell]
        a = (i.ravel() + 0.5 - CHART_GUTTER) / legs
        b = (j.ravel() + 0.5 - CHART_GUTTER) / legs
        a, b = np.clip(a, 0, 1), np.clip(b, 0, 1)
        over = np.maximum(a + b, 1.0)
        a, b = a / over, b / over
        bary = np.stack([1 - a - b, a, b], axis=1)                   # (T, 3)
        for start in range(0, len(charted), CHART_BATCH):
            batch = charted[start:start + CHART_BATCH]
            slots = np.arange(start, start + len(batch))
            cx, cy = (slots % per_row) * cell, origin + (slots // per_row) * cell
            points = np.matmul(bary, v[f[batch]]).reshape(-1, 3)
            w = np.matmul(bary, weights[f[batch]]).reshape(-1, k_views + 1)
            colour = np.matmul(bary, grown[f[batch]]).reshape(-1, 3) * w[:, k_views:]
            for k, p in enumerate(projections):
                need = w[:, k] > 0
                if need.any():
                    colour[need] += w[need, k:k + 1] * sample(atlas, tiles[p.name].to_atlas(p.pixels(points[need])))
            rows = (cy[:, None] + j.ravel()[None, :]).ravel()
            cols = (cx[:, None] + i.ravel()[None, :]).ravel()
            atlas[rows, cols] = colour
            corners = np.array([[CHART_GUTTER, CHART_GUTTER], [CHART_GUTTER + legs, CHART_GUTTER],
                                [CHART_GUTTER, CHART_GUTTER + legs]], np.float64)
            uvs[batch] = np.stack([cx, cy], axis=1)[:, None, :] + corners[None]
            report(0.7 + 0.3 * min(1.0, (start + len(batch)) / len(charted)))
    report(1.0)

    uv = np.empty_like(uvs)
    uv[..., 0] = uvs[..., 0] / width
    uv[..., 1] = 1.0 - uvs[..., 1] / height
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., :3] = np.round(np.clip(atlas, 0, 1) * 255)
    rgba[..., 3] = 255
    vertex_rgba = np.empty((len(v), 4), np.uint8)
    vertex_rgba[:, :3] = np.round(np.clip(colours, 0, 1) * 255)
    vertex_rgba[:, 3] = 255
    info = {"atlas": [int(height), int(width)], "tile_scale": float(scale), "chart_faces": int(len(charted)),
            "grown_vertices": int((seen < KNOWN).sum()), "chart_texels": int(legs)}
    return SheetTexture(atlas=rgba, uvs=uv.astype(np.float32), vertex_colors=vertex_rgba, tiles=tiles,
                        face_view=face_view, views=names, info=info)


__all__ = ["ROTATIONS", "ViewProjection", "Tile", "SheetTexture", "texture_sheet", "view_weights",
           "visible_vertices", "vertex_normals", "grow_on_surface", "sample", "layout", "crop_of"]
