"""Fast orthographic rendering of training views, with ground truth in each view's evaluation frame.

A small torch z-buffer rasterizer: every (view, triangle) pair enumerates the pixel centres in its
bounding box (triangles are grouped by box size so that the enumeration is a dense tensor per group),
keeps the covered ones, and a packed int64 key (quantised depth in the high bits, triangle id in the
low bits) resolved with `scatter_reduce(amin)` picks the nearest triangle per pixel. Shading then
interpolates vertex normals and object-space positions of that triangle at the pixel.

Frame of a view (our evaluation convention): rotate the canonical shape by the view rotation,
project along z; the silhouette's bounding box maps to a box centred on x = y = 0 whose longer side
is 1 (the same scale applies to z, which is centred on the rotated mesh's z range); the image
covers [-FRAME_HALF_EXTENT, FRAME_HALF_EXTENT]^2, row 0 at the top (+y), column 0 at the left (-x).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from inference.frame import FRAME_HALF_EXTENT
from training.shapes import Shape, sample_surface

MIN_ELEVATION = math.radians(-10.0)
MAX_ELEVATION = math.radians(50.0)


@dataclass(frozen=True)
class View:
    """A camera direction. azimuth: radians about +y (0 = looking at the shape's front, +z; positive
    turns the camera towards the shape's +x side). elevation: radians above the horizon (positive =
    camera above, looking down on the top)."""
    azimuth: float
    elevation: float

    def rotation(self) -> np.ndarray:
        """3x3 matrix taking canonical coordinates to the view frame (before scaling)."""
        ca, sa = math.cos(self.azimuth), math.sin(self.azimuth)
        ce, se = math.cos(self.elevation), math.sin(self.elevation)
        turn = np.array([[ca, 0, -sa], [0, 1, 0], [sa, 0, ca]])     # rotate the shape by -azimuth about y
        tilt = np.array([[1, 0, 0], [0, ce, -se], [0, se, ce]])    # tip its top towards the viewer
        return (tilt @ turn).astype(np.float32)


def random_views(n: int, rng: np.random.Generator) -> list[View]:
    """Azimuth uniform over the circle, elevation uniform in [-10, 50] degrees."""
    return [View(float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(MIN_ELEVATION, MAX_ELEVATION)))
            for _ in range(n)]


def view_frame(vertices: np.ndarray, rotation: np.ndarray) -> tuple[float, np.ndarray]:
    """(scale, offset) such that frame = (vertices @ rotation.T - offset) * scale follows the evaluation
    convention for this view. The silhouette of a mesh is the projection of its triangles, so the
    bounding box of the projected vertices is exactly the silhouette's."""
    rotated = vertices @ rotation.T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    scale = 1.0 / float(max(hi[0] - lo[0], hi[1] - lo[1]))
    return scale, ((lo + hi) / 2).astype(np.float32)


# Rasterizer -----------------------------------------------------------------------------------

_DEPTH_BITS = 22
_ID_BITS = 40


def rasterize(verts: torch.Tensor, faces: torch.Tensor, size: int, half_extent: float = FRAME_HALF_EXTENT,
              cull_backfaces: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest triangle per pixel for a batch of views of one mesh.
    `cull_backfaces` skips triangles facing away (valid for closed, outward-wound meshes only).

    verts: (B, N, 3) float32 in frame units (+z towards the viewer); faces: (F, 3) int64.
    Returns (face_id (B, S, S) int64, -1 for background; bary (B, S, S, 3) float32)."""
    B, N, _ = verts.shape
    nf = faces.shape[0]
    pix = size / (2 * half_extent)
    # Pixel coordinates: column u grows with x, row v grows with -y; pixel centres at integers.
    u = (verts[..., 0] + half_extent) * pix - 0.5
    v = (half_extent - verts[..., 1]) * pix - 0.5
    z = verts[..., 2]
    zmin = z.amin(dim=1, keepdim=True)
    zmax = z.amax(dim=1, keepdim=True)
    depth = (zmax - z) / (zmax - zmin).clamp_min(1e-9)      # 0 = nearest to the viewer

    tri_u = u[:, faces]            # (B, F, 3)
    tri_v = v[:, faces]
    tri_d = depth[:, faces]
    u0 = torch.ceil(tri_u.amin(dim=2)).clamp(0, size - 1)
    u1 = torch.floor(tri_u.amax(dim=2)).clamp(-1, size - 1)
    v0 = torch.ceil(tri_v.amin(dim=2)).clamp(0, size - 1)
    v1 = torch.floor(tri_v.amax(dim=2)).clamp(-1, size - 1)
    span = torch.maximum(u1 - u0, v1 - v0) + 1              # pixels along the longer box side
    has_pixels = (u1 >= u0) & (v1 >= v0)
    if cull_backfaces:
        # Counter-clockwise seen from +z in (x, y) is clockwise in (u, v) since v = -y: front faces
        # have a negative (u, v) area. In a closed mesh the back faces are always hidden.
        area = _edge(tri_u[..., 0], tri_v[..., 0], tri_u[..., 1], tri_v[..., 1], tri_u[..., 2], tri_v[..., 2])
        has_pixels &= area < 0

    empty = torch.iinfo(torch.int64).max
    zbuf = torch.full((B * size * size,), empty, dtype=torch.int64)
    flat_span = span.reshape(-1)
    flat_ok = has_pixels.reshape(-1)
    k = 1
    while True:
        group = flat_ok & (flat_span <= k) & (flat_span > k // 2 if k > 1 else True)
        idx = torch.nonzero(group).squeeze(1)
        if idx.numel():
            _splat(idx, k, tri_u.reshape(-1, 3), tri_v.reshape(-1, 3), tri_d.reshape(-1, 3),
                   u0.reshape(-1), v0.reshape(-1), nf, size, zbuf)
        if k >= size:
            break
        k *= 2

    key = zbuf.view(B, size, size)
    hit = key != empty
    inst = key[hit] & ((1 << _ID_BITS) - 1)                  # b * F + f of each covered pixel
    face_id = torch.full((B, size, size), -1, dtype=torch.int64)
    face_id[hit] = inst % nf
    bary = torch.zeros(B, size, size, 3)
    bary[hit] = _barycentric_at_pixels(tri_u.reshape(-1, 3), tri_v.reshape(-1, 3), inst, hit)
    return face_id, bary


def _edge(ax, ay, bx, by, px, py):
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


def _splat(idx, k, tri_u, tri_v, tri_d, u0, v0, nf, size, zbuf):
    """Write depth|id keys of the triangle instances `idx` (box sides <= k pixels) into `zbuf`.

    Works with either winding: edge functions are multiplied by the sign of the triangle's area,
    so "inside" is "all three non-negative"."""
    off = torch.arange(k, dtype=torch.float32)
    du, dv = torch.meshgrid(off, off, indexing="xy")
    pu = u0[idx, None] + du.reshape(1, -1)                  # (n, k*k) candidate pixel columns
    pv = v0[idx, None] + dv.reshape(1, -1)
    tu, tv, td = tri_u[idx], tri_v[idx], tri_d[idx]
    area = _edge(tu[:, 0], tv[:, 0], tu[:, 1], tv[:, 1], tu[:, 2], tv[:, 2])[:, None]
    sign = torch.where(area < 0, -1.0, 1.0)
    e0 = _edge(tu[:, 1:2], tv[:, 1:2], tu[:, 2:3], tv[:, 2:3], pu, pv) * sign
    e1 = _edge(tu[:, 2:3], tv[:, 2:3], tu[:, 0:1], tv[:, 0:1], pu, pv) * sign
    a = area.abs()
    e2 = a - e0 - e1
    tol = -1e-6 * a
    inside = (e0 >= tol) & (e1 >= tol) & (e2 >= tol) & (pu < size) & (pv < size) & (a > 1e-12)
    row, col = torch.nonzero(inside, as_tuple=True)
    if row.numel() == 0:
        return
    a_in = a[row, 0]
    w0 = e0[row, col] / a_in
    w1 = e1[row, col] / a_in
    t = td[row]
    d = (w0 * t[:, 0] + w1 * t[:, 1] + (1 - w0 - w1) * t[:, 2]).clamp(0, 1)
    dq = (d * ((1 << _DEPTH_BITS) - 1)).to(torch.int64)
    inst = idx[row]
    key = (dq << _ID_BITS) | inst
    pixel = (inst // nf) * (size * size) + pv[row, col].to(torch.int64) * size + pu[row, col].to(torch.int64)
    zbuf.scatter_reduce_(0, pixel, key, reduce="amin")


def _barycentric_at_pixels(tri_u, tri_v, inst, hit):
    """Barycentric weights (P, 3) of the covered pixels' centres (`hit` (B, S, S)) in their triangle
    instances `inst` (P,)."""
    _, pv, pu = torch.nonzero(hit, as_tuple=True)
    pu, pv = pu.float(), pv.float()
    tu, tv = tri_u[inst], tri_v[inst]                        # (P, 3)
    area = _edge(tu[:, 0], tv[:, 0], tu[:, 1], tv[:, 1], tu[:, 2], tv[:, 2])
    area = torch.where(area.abs() < 1e-12, torch.full_like(area, 1e-12), area)
    w0 = _edge(tu[:, 1], tv[:, 1], tu[:, 2], tv[:, 2], pu, pv) / area
    w1 = _edge(tu[:, 2], tv[:, 2], tu[:, 0], tv[:, 0], pu, pv) / area
    w = torch.stack([w0, w1, 1 - w0 - w1], dim=-1).clamp(0, 1)
    return w / w.sum(dim=-1, keepdim=True).clamp_min(1e-9)


# Materials, lighting, backgrounds ---------------------------------------------------------------

def _random_colour(rng: np.random.Generator) -> np.ndarray:
    """Mostly moderately saturated colours, sometimes greys, whites and near-blacks."""
    kind = rng.random()
    if kind < 0.25:
        return np.full(3, rng.uniform(0.08, 0.95))
    h, s, v = rng.random(), rng.uniform(0.15, 0.9), rng.uniform(0.2, 0.95)
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


def _pattern(position: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """A procedural pattern in [0, 1] of object-space positions (P, 3): none, stripes, checker, noise."""
    kind = rng.choice(["none", "none", "stripes", "checker", "noise", "noise"])
    if kind == "none":
        return torch.zeros(position.shape[0])
    direction = torch.tensor(rng.normal(size=3), dtype=torch.float32)
    direction = direction / direction.norm()
    if kind == "stripes":
        freq = rng.uniform(4, 30)
        wave = torch.sin(2 * math.pi * freq * (position @ direction) + rng.uniform(0, 6.3))
        return (wave > rng.uniform(-0.5, 0.5)).float() if rng.random() < 0.6 else 0.5 + 0.5 * wave
    if kind == "checker":
        freq = rng.uniform(3, 16)
        cells = torch.floor(position * freq).sum(dim=1)
        return torch.remainder(cells, 2)
    k = torch.tensor(rng.normal(size=(6, 3)) * rng.uniform(2, 20), dtype=torch.float32)
    phase = torch.tensor(rng.uniform(0, 6.3, size=6), dtype=torch.float32)
    value = torch.sin(position @ k.T + phase).sum(dim=1) / 6 ** 0.5
    return (0.5 + 0.5 * value).clamp(0, 1)


class _MeshTensors:
    """The torch views of a shape that every view's shading needs, converted once per call."""

    def __init__(self, shape: Shape):
        self.faces = torch.from_numpy(shape.faces.astype(np.int64))
        self.vertices = torch.from_numpy(shape.vertices)
        self.normals = torch.from_numpy(shape.vertex_normals)
        self.parts = torch.from_numpy(shape.parts.astype(np.int64))
        self.n_parts = int(shape.parts.max()) + 1


def _shade_view(mesh: _MeshTensors, rotation: np.ndarray, face_id: torch.Tensor, bary: torch.Tensor,
                rng: np.random.Generator) -> torch.Tensor:
    """RGB (S, S, 3) of one view's foreground pixels (background pixels left black)."""
    S = face_id.shape[0]
    hit = face_id >= 0
    out = torch.zeros(S, S, 3)
    if not hit.any():
        return out
    tri = mesh.faces[face_id[hit]]                            # (P, 3)
    w = bary[hit][..., None]                                  # (P, 3, 1)
    normal = (w * mesh.normals[tri]).sum(dim=1) @ torch.from_numpy(rotation).T
    normal = normal / normal.norm(dim=1, keepdim=True).clamp_min(1e-9)
    normal = torch.where(normal[:, 2:3] < 0, normal * torch.tensor([1.0, 1.0, -1.0]), normal)
    position = (w * mesh.vertices[tri]).sum(dim=1)

    # Base colour: per shape, or per part from a small palette; a pattern mixes in a second colour.
    part = mesh.parts[tri[:, 0]]
    n_parts = mesh.n_parts
    palette = np.stack([_random_colour(rng) for _ in range(min(n_parts, 4) if rng.random() < 0.5 else 1)])
    assign = torch.from_numpy(rng.integers(0, len(palette), size=n_parts))
    base = torch.tensor(palette, dtype=torch.float32)[assign[part]]
    mix = _pattern(position, rng)[:, None] * rng.uniform(0.2, 1.0)
    second = torch.tensor(_random_colour(rng), dtype=torch.float32)
    base = base * (1 - mix) + second * mix

    # Lighting: sky/ground hemisphere ambient, a key light from the viewer's side with a Blinn-Phong
    # highlight, and sometimes a weaker fill light from elsewhere.
    ambient = rng.uniform(0.15, 0.5)
    sky_mix = (0.5 + 0.5 * normal[:, 1:2] * rng.uniform(0.0, 0.8))          # brighter on upward faces
    light_colour = torch.tensor(1.0 + rng.uniform(-0.15, 0.15, size=3), dtype=torch.float32)
    key = rng.normal(size=3)
    key[2] = abs(key[2]) + 0.3
    key = torch.tensor(key / np.linalg.norm(key), dtype=torch.float32)
    diffuse = (normal @ key).clamp_min(0)[:, None] * light_colour
    if rng.random() < 0.4:
        fill = torch.tensor(rng.normal(size=3), dtype=torch.float32)
        diffuse = diffuse + rng.uniform(0.1, 0.4) * (normal @ (fill / fill.norm())).clamp_min(0)[:, None]
    half = key + torch.tensor([0.0, 0.0, 1.0])
    half = half / half.norm()
    spec = rng.uniform(0.0, 0.35) * (normal @ half).clamp_min(0) ** rng.uniform(8, 64)
    rgb = base * (ambient * 2 * sky_mix + (1 - ambient) * diffuse) + spec[:, None]
    out[hit] = rgb.clamp(0, 1)
    return out


def random_background(size: int, rng: np.random.Generator) -> torch.Tensor:
    """(3, S, S): plain colour, linear gradient, smooth noise or a coarse checker/stripes."""
    kind = rng.choice(["plain", "plain", "gradient", "gradient", "noise", "pattern"])
    c1 = torch.tensor(_random_colour(rng), dtype=torch.float32)[:, None, None]
    if kind == "plain":
        return c1.expand(3, size, size).clone()
    c2 = torch.tensor(_random_colour(rng), dtype=torch.float32)[:, None, None]
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    if kind == "gradient":
        a = rng.uniform(0, 2 * math.pi)
        t = (0.5 + 0.5 * (math.cos(a) * xs + math.sin(a) * ys) / math.sqrt(2))[None]
    elif kind == "noise":
        cells = int(rng.integers(2, 16))
        coarse = torch.tensor(rng.random((1, 1, cells, cells)), dtype=torch.float32)
        t = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0].clamp(0, 1)
        t = t + 0.08 * torch.randn(1, size, size, generator=torch.Generator().manual_seed(int(rng.integers(1 << 31))))
    else:
        freq = rng.uniform(2, 12)
        t = (torch.remainder(torch.floor((xs + 1) * freq) + torch.floor((ys + 1) * freq), 2)[None]
             if rng.random() < 0.5 else (torch.sin(xs * freq * 3 + ys * rng.uniform(-5, 5)) > 0).float()[None])
        t = t * rng.uniform(0.2, 1.0)
    return (c1 * (1 - t) + c2 * t).clamp(0, 1)


# Augmentation -------------------------------------------------------------------------------------

def _jitter_colour(image: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Brightness, contrast, saturation and white-balance jitter of a (3, S, S) image."""
    grey = image.mean(dim=0, keepdim=True)
    image = grey + (image - grey) * rng.uniform(0.6, 1.4)                          # saturation
    image = (image - image.mean()) * rng.uniform(0.75, 1.25) + image.mean()         # contrast
    image = image * rng.uniform(0.75, 1.25) * torch.tensor(1 + rng.uniform(-0.08, 0.08, 3),
                                                           dtype=torch.float32)[:, None, None]
    if rng.random() < 0.3:   # sensor noise
        image = image + rng.uniform(0.005, 0.03) * torch.randn(image.shape, generator=torch.Generator().manual_seed(
            int(rng.integers(1 << 31))))
    return image.clamp(0, 1)


def _blur(image: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Slight Gaussian blur (sigma 0.4-1.0 px) of a (3, S, S) image: downscaled or soft photos."""
    sigma = rng.uniform(0.4, 1.0)
    x = torch.arange(-2, 3, dtype=torch.float32)
    k = torch.exp(-x ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    img = image[:, None]                                       # (3, 1, S, S): channels as a batch
    img = F.conv2d(F.pad(img, (2, 2, 0, 0), mode="replicate"), k.view(1, 1, 1, 5))
    img = F.conv2d(F.pad(img, (0, 0, 2, 2), mode="replicate"), k.view(1, 1, 5, 1))
    return img[:, 0]


def _perturb_mask(mask: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """A plausibly wrong mask (1, S, S): eroded or dilated by 1-2 px, plus or minus a few small blobs,
    like an automatic background remover's output."""
    m = mask[None]
    r = int(rng.integers(1, 3))
    choice = rng.random()
    if choice < 0.3:
        m = F.max_pool2d(m, 2 * r + 1, stride=1, padding=r)
    elif choice < 0.6:
        m = -F.max_pool2d(-m, 2 * r + 1, stride=1, padding=r)
    m = m[0]
    S = m.shape[-1]
    if rng.random() < 0.3:
        ys, xs = torch.meshgrid(torch.arange(S), torch.arange(S), indexing="ij")
        edge = torch.nonzero((F.max_pool2d(mask[None], 3, 1, 1)[0, 0] - mask[0]) > 0)
        for _ in range(int(rng.integers(1, 4))):
            if len(edge) == 0:
                break
            cy, cx = edge[int(rng.integers(len(edge)))].tolist()
            rad = rng.uniform(1.0, 4.0)
            blob = ((ys - cy) ** 2 + (xs - cx) ** 2) <= rad * rad
            m[0][blob] = float(rng.random() < 0.5)
    return m


def _jpeg(image: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    from PIL import Image

    arr = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(rng.integers(25, 90)))
    buf.seek(0)
    back = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(back).permute(2, 0, 1).contiguous()


# The public entry point ---------------------------------------------------------------------------

def render_views(shape: Shape, views: list[View], size: int = 128, rng: np.random.Generator | None = None,
                 points: int = 4096, augment: bool = True, supersample: int = 2) -> dict[str, torch.Tensor]:
    """Render `views` of `shape` and compute each view's ground truth.

    Returns a dict of tensors batched over the B views:
      image (B, 3, S, S) float32 in [0, 1], background composited; mask (B, 1, S, S) float32, the mask
      a network sees (perturbed when `augment`); mask_true (B, S, S) bool, pixel-centre coverage >= 1/2;
      points, normals (B, P, 3) float32, surface samples in each view's evaluation frame;
      azimuth, elevation (B,) float32; scale (B,), offset (B, 3), rotation (B, 3, 3): the view transform
      frame = (canonical @ rotation.T - offset) * scale.
    `augment` adds colour jitter, sensor noise, slight blur, mask errors and JPEG artefacts;
    backgrounds are always random.
    `supersample` renders at that many times the size and averages down (anti-aliased edges)."""
    rng = rng if rng is not None else np.random.default_rng()
    B = len(views)
    rotations = np.stack([v.rotation() for v in views])
    frames = [view_frame(shape.vertices, R) for R in rotations]
    scale = np.array([f[0] for f in frames], dtype=np.float32)
    offset = np.stack([f[1] for f in frames])
    verts = torch.from_numpy(shape.vertices)
    R = torch.from_numpy(rotations)
    framed = (torch.einsum("nd,bed->bne", verts, R) - torch.from_numpy(offset)[:, None]) * torch.from_numpy(scale)[:, None, None]

    big = size * supersample
    face_id, bary = rasterize(framed, torch.from_numpy(shape.faces.astype(np.int64)), big,
                              cull_backfaces=shape.closed)
    images, masks, masks_true = [], [], []
    mesh = _MeshTensors(shape)
    for b in range(B):
        rgb = _shade_view(mesh, rotations[b], face_id[b], bary[b], rng).permute(2, 0, 1)
        cover = (face_id[b] >= 0).float()[None]
        if supersample > 1:
            rgb = F.avg_pool2d(rgb[None] * cover, supersample)[0]
            cover = F.avg_pool2d(cover[None], supersample)[0]
            rgb = rgb / cover.clamp_min(1e-6)
        image = rgb * cover + random_background(size, rng) * (1 - cover)
        mask_true = cover[0] >= 0.5
        mask = mask_true.float()[None]
        if augment:
            image = _jitter_colour(image, rng)
            if rng.random() < 0.2:
                image = _blur(image, rng)
            if rng.random() < 0.5:
                mask = _perturb_mask(mask, rng)
            if rng.random() < 0.3:
                image = _jpeg(image, rng)
        images.append(image)
        masks.append(mask)
        masks_true.append(mask_true)

    pts, nrm = sample_surface(shape, B * points, rng)
    pts = torch.from_numpy(pts).view(B, points, 3)
    nrm = torch.from_numpy(nrm).view(B, points, 3)
    pts = (torch.einsum("bpd,bed->bpe", pts, R) - torch.from_numpy(offset)[:, None]) * torch.from_numpy(scale)[:, None, None]
    nrm = torch.einsum("bpd,bed->bpe", nrm, R)
    return {
        "image": torch.stack(images).float().contiguous(),
        "mask": torch.stack(masks).float().contiguous(),
        "mask_true": torch.stack(masks_true),
        "points": pts.float().contiguous(),
        "normals": nrm.float().contiguous(),
        "azimuth": torch.tensor([v.azimuth for v in views], dtype=torch.float32),
        "elevation": torch.tensor([v.elevation for v in views], dtype=torch.float32),
        "scale": torch.from_numpy(scale),
        "offset": torch.from_numpy(offset),
        "rotation": R.clone(),
    }
