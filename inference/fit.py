"""Training-free refinement: move a closed mesh until its silhouette matches the mask.

Two data terms pull in opposite directions so the outline ends up on the mask's outline: vertices
outside the mask are pushed in (distance field of the mask), and every outline point pulls the nearest
projected vertex out to it (a one-sided chamfer, which is what grows thin parts). Regularisers keep the
starting shape (its Laplacian coordinates) and even edge lengths, because the silhouette says nothing
about depth and a free surface would crumple.

On the CPU the gradient is written out by hand in numpy (SilhouetteLoss, _fit_numpy), one thread; on an
accelerator torch's autograd computes it (_fit_torch). tests/engine/test_fit_numpy.py holds the two to the
same loss, gradient and result. Torch on the CPU kept to one thread too: this problem is too small for a
second thread to pay for its synchronisation (measured: 10 ms/step on 1 thread, 176 ms on 2)."""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from .contract import default as _default
from .errors import Cancelled  # noqa: F401  (raised by progress callbacks; re-exported for callers)
from .frame import FRAME_HALF_EXTENT
from .meshes import face_pairs, unique_edges
from .threads import torch_threads as _torch_threads

# The outside term was 1 until realval (84 views, default path) was scored against its weight: x1 / 3 / 10 / 30 /
# 100 / 300 gave F@0.05 0.6379 / 0.6383 / 0.6386 / 0.6397 / 0.6399 / 0.6410, silhouette IoU 0.9650 / 0.9657 /
# 0.9668 / 0.9671 / 0.9665 / 0.9629, IoU of the mesh's own projection without filling 0.9700 / 0.9718 / 0.9738 /
# 0.9742 / 0.9725 / 0.9680 (0.913 -> 0.923 at 30 on the 14 views whose masks show openings: walls no longer lean
# into them), normal consistency 0.7038 -> 0.7033 at 30. At 30 the training-free path F@0.05 0.555 -> 0.559 and IoU
# 0.968 -> 0.972, the pictures over white 0.634 -> 0.636 and 0.953 -> 0.958 (docs/cleanup.md).
WEIGHTS = {
    "outside": 30.0,     # mean distance of projected vertices outside the mask (frame units)
    "coverage": 40.0,    # mean squared distance from outline points to the nearest projected vertex
    "laplacian": 20.0,   # change of Laplacian coordinates (keeps the template's shape and smoothness)
    "edge": 2.0,         # spread of edge lengths relative to the template's mean edge
    "normal": 100.0,     # bending: 1 - cos between neighbouring face normals
}


def outline_points(mask_grid: np.ndarray, max_points: int = 600) -> np.ndarray:
    """Sub-pixel points along the mask's outline, in frame units."""
    from skimage.measure import find_contours

    size = mask_grid.shape[0]
    padded = np.pad(mask_grid.astype(np.float32), 1)
    contours = find_contours(padded, 0.5)
    pts = np.concatenate(contours) - 1.0                     # (row, col) in grid cells
    cell = 2 * FRAME_HALF_EXTENT / size
    xy = np.stack([(pts[:, 1] + 0.5) * cell - FRAME_HALF_EXTENT, FRAME_HALF_EXTENT - (pts[:, 0] + 0.5) * cell], 1)
    if len(xy) > max_points:
        xy = xy[np.linspace(0, len(xy) - 1, max_points).astype(int)]
    return xy.astype(np.float32)


def _laplacian(n: int, edges: np.ndarray, torch, device, dtype=np.float32):
    """Uniform graph Laplacian as a sparse matrix: (L v)_i = v_i - mean of neighbours."""
    i = np.concatenate([edges[:, 0], edges[:, 1]])
    j = np.concatenate([edges[:, 1], edges[:, 0]])
    degree = np.bincount(i, minlength=n).astype(dtype)
    w = -1.0 / degree[i]
    idx = np.stack([np.concatenate([np.arange(n), i]), np.concatenate([np.arange(n), j])])
    val = np.concatenate([np.ones(n, dtype), w]).astype(dtype)
    return torch.sparse_coo_tensor(torch.from_numpy(idx), torch.from_numpy(val), (n, n), check_invariants=False).coalesce().to(device)


def _nearest_vertices(outline, outline_np, v, torch):
    """Index of the projected vertex nearest to each outline point. Only the matching is needed, not its
    gradient: a KD-tree does it on the CPU in a fraction of a dense distance matrix's time; on a GPU the
    dense matrix is cheap and avoids a device round trip."""
    with torch.no_grad():
        if v.device.type != "cpu":
            return torch.cdist(outline, v[:, :2]).argmin(dim=1)
        from scipy.spatial import cKDTree
        _, idx = cKDTree(v[:, :2].detach().numpy()).query(outline_np)
        return torch.from_numpy(idx)


def _face_normals(v, f):
    n = (v[f[:, 1]] - v[f[:, 0]]).cross(v[f[:, 2]] - v[f[:, 0]], dim=1)
    return n / n.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _rim_candidates(v, f, torch):
    """Vertices on the silhouette's rim: their normal is nearly perpendicular to the view. Only these
    may be pulled to the outline; pulling a front-facing vertex there would fold the surface."""
    with torch.no_grad():
        fn = _face_normals(v, f)
        vn = torch.zeros_like(v).index_add_(0, f.reshape(-1), fn.repeat_interleave(3, dim=0))
        vn = vn / vn.norm(dim=1, keepdim=True).clamp_min(1e-12)
        rim = torch.nonzero(vn[:, 2].abs() < 0.5).squeeze(1)
        return rim if rim.numel() >= 16 else torch.arange(len(v), device=v.device)


def fit_to_silhouette(vertices: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray, steps: int | None = None,
                      device=None, progress=None, lr: float = 0.003, weights: dict | None = None) -> np.ndarray:
    """Refined vertex positions (same faces) whose silhouette follows `mask_grid`.

    On the CPU (device None or cpu) the gradient is written out by hand in numpy (_fit_numpy): at 2.5k
    vertices torch spent ~8 ms a step on autograd's bookkeeping and per-op overhead where the arithmetic
    needs ~2 with the matching. On an accelerator the same loss runs in torch (_fit_torch). `steps` defaults
    to the contract's refine_steps."""
    steps = _default("refine_steps") if steps is None else steps
    if steps <= 0:
        return np.asarray(vertices, np.float32)
    w = {**WEIGHTS, **(weights or {})}
    if device is None or getattr(device, "type", device) == "cpu":
        return _fit_numpy(vertices, faces, mask_grid, steps, progress, lr, w)
    return _fit_torch(vertices, faces, mask_grid, steps, device, progress, lr, w)


# Adam's defaults in torch.optim.Adam, which the GPU path uses: the CPU path must be the same optimisation.
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8
# The cosine schedule ends at this share of the starting rate.
LR_FLOOR = 0.05


class SilhouetteLoss:
    """The fit's loss (the sum of WEIGHTS' terms, exactly as _fit_torch builds it) and its gradient, in
    numpy, for vertices stored as (3, N): one contiguous row per axis, so the arithmetic runs on whole rows.

    Every term reads the vertices through linear maps, applied as sparse matrices one axis at a time (a 1-D
    CSR product beat numpy's gathers and bincounts by 1.6-1.9x here): `forward` stacks the edge vectors
    (B, the edge-vertex incidence), each face's two sides from its first corner and the Laplacian
    coordinates L v (L the uniform Laplacian); `scatter` is its transpose and takes the terms' gradients
    with respect to those back to the vertices (the Laplacian's: c (L v - L v0))."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray, weights: dict | None = None):
        from scipy import sparse

        self.w = {**WEIGHTS, **(weights or {})}
        f = np.asarray(faces, np.int64)
        v0 = np.ascontiguousarray(np.asarray(vertices, np.float64).T)
        n, m = v0.shape[1], len(f)
        mask = np.asarray(mask_grid, bool)
        self.size = size = mask.shape[0]
        self.cell = 2 * FRAME_HALF_EXTENT / size
        # float32 first: the same field values as the torch path's.
        field = (ndimage.distance_transform_edt(~mask) * self.cell).astype(np.float32).astype(np.float64)
        # grid_sample's bilinear lookup per cell (y0, x0) as a + b tx + c ty + d tx ty; the zero row and column
        # past the edge are its out-of-bounds corners (weighted 0 wherever the border clamp leaves a point).
        z = np.pad(field, ((0, 1), (0, 1)))
        # One table, so a step's lookup is one gather.
        self.bilinear = np.stack([z[:-1, :-1].ravel(), (z[:-1, 1:] - z[:-1, :-1]).ravel(),
                                  (z[1:, :-1] - z[:-1, :-1]).ravel(),
                                  (z[1:, 1:] - z[1:, :-1] - z[:-1, 1:] + z[:-1, :-1]).ravel()])
        self.outline = outline_points(mask).astype(np.float64)
        edges = unique_edges(f).astype(np.int64)
        ne = len(edges)
        self.n, self.m, self.ne = n, m, ne
        e0, e1 = edges[:, 0], edges[:, 1]
        csr = lambda rows, cols, vals, shape: sparse.csr_matrix((vals, (rows, cols)), shape=shape)
        i, j = np.r_[e0, e1], np.r_[e1, e0]
        degree = np.bincount(i, minlength=n).astype(np.float64)
        self.lap = csr(np.r_[np.arange(n), i], np.r_[np.arange(n), j],
                       np.r_[np.ones(n), -1.0 / np.maximum(degree, 1)[i]], (n, n))
        ar_e, ar_f, one_e, one_f = np.arange(ne), np.arange(m), np.ones(ne), np.ones(m)
        sides = csr(np.r_[ar_e, ar_e, ne + ar_f, ne + ar_f, ne + m + ar_f, ne + m + ar_f],
                    np.r_[e0, e1, f[:, 1], f[:, 0], f[:, 2], f[:, 0]],
                    np.r_[one_e, -one_e, one_f, -one_f, one_f, -one_f], (ne + 2 * m, n))
        self.normal_of = sides[ne:]
        self.forward = sparse.vstack([sides, self.lap]).tocsr()
        self.scatter = self.forward.T.tocsr()
        self.corners = csr(f.T.ravel(), np.tile(ar_f, 3), np.ones(3 * m), (n, m))   # vertex <- its faces
        pairs = face_pairs(f)
        self.pa, self.pb = pairs[:, 0], pairs[:, 1]
        self.across = csr(np.r_[self.pa, self.pb], np.r_[self.pb, self.pa], np.ones(2 * len(pairs)), (m, m))
        self.lap0 = self._rows(self.lap, v0)
        dv0 = self._rows(self.forward, v0)[:, :ne]
        self.mean_edge0 = float(np.sqrt((dv0 * dv0).sum(axis=0)).mean())

    @staticmethod
    def _rows(matrix, x: np.ndarray) -> np.ndarray:
        """matrix applied to each row of x (3, K)."""
        out = np.empty((3, matrix.shape[0]))
        for k in range(3):
            out[k] = matrix @ x[k]
        return out

    def rim(self, v: np.ndarray) -> np.ndarray:
        """_rim_candidates of the torch path: vertices whose normal (the mean of their faces') is within 60
        degrees of perpendicular to the view, or every vertex when fewer than 16 are."""
        s = self._rows(self.normal_of, v)
        fn = _unit(_cross(s[:, :self.m], s[:, self.m:]))[0]
        vn = self._rows(self.corners, fn)
        length = np.sqrt(vn[0] * vn[0] + vn[1] * vn[1] + vn[2] * vn[2])
        rim = np.flatnonzero(np.abs(vn[2]) < 0.5 * np.maximum(length, 1e-12))
        return rim if len(rim) >= 16 else np.arange(self.n)

    def __call__(self, v: np.ndarray, nearest: np.ndarray, with_loss: bool = False):
        """(loss or None, gradient (3, N)) at vertices v (3, N), each outline point pulling vertex nearest[i]."""
        w, cell, size, n, ne, m = self.w, self.cell, self.size, self.n, self.ne, self.m
        me2 = self.mean_edge0 ** 2
        lin = self._rows(self.forward, v)
        dv, s1, s2 = lin[:, :ne], lin[:, ne:ne + m], lin[:, ne + m:ne + 2 * m]
        back = np.empty((3, ne + 2 * m + n))
        # edge: spread of the lengths (the mean's own derivative sums to zero)
        length = np.sqrt(dv[0] * dv[0] + dv[1] * dv[1] + dv[2] * dv[2])
        dev = length - length.mean()
        np.multiply(dv, (w["edge"] * cell * 2.0 / (ne * me2)) * dev / np.where(length > 0, length, 1.0),
                    out=back[:, :ne])
        # normal (bending): 1 - cos between the unit normals of faces sharing an edge
        fn, area2 = _unit(_cross(s1, s2))
        gn = self._rows(self.across, fn)
        gn *= -w["normal"] * cell / len(self.pa)
        gc = (gn - fn * (fn[0] * gn[0] + fn[1] * gn[1] + fn[2] * gn[2])) / area2
        tiny = area2 <= 1e-12
        if tiny.any():   # clamped norm: n = c / 1e-12 there, a plain scaling
            gc[:, tiny] = gn[:, tiny] / 1e-12
        _cross(s2, gc, out=back[:, ne:ne + m])
        _cross(gc, s1, out=back[:, ne + m:ne + 2 * m])
        # Laplacian: change of the Laplacian coordinates
        r = lin[:, ne + 2 * m:] - self.lap0
        np.multiply(r, w["laplacian"] * cell * 2.0 / (n * me2), out=back[:, ne + 2 * m:])
        grad = self._rows(self.scatter, back)
        # outside: the distance field at each vertex, grid_sample(align_corners=False, padding_mode="border")
        scale = size / (2 * FRAME_HALF_EXTENT)
        ix = (v[0] + FRAME_HALF_EXTENT) * scale - 0.5
        iy = (FRAME_HALF_EXTENT - v[1]) * scale - 0.5
        inside_x, inside_y = (ix > 0) & (ix < size - 1), (iy > 0) & (iy < size - 1)   # the clamp's gradient
        np.clip(ix, 0, size - 1, out=ix)
        np.clip(iy, 0, size - 1, out=iy)
        x0, y0 = ix.astype(np.int64), iy.astype(np.int64)
        tx, ty = ix - x0, iy - y0
        at = y0 * size + x0
        fa, fb, fc, fd = np.take(self.bilinear, at, axis=1)
        k = w["outside"] * scale / n
        grad[0] += np.where(inside_x, k * (fb + fd * ty), 0.0)
        grad[1] -= np.where(inside_y, k * (fc + fd * tx), 0.0)
        # coverage: each outline point's squared distance to the vertex matched to it
        dx, dy = v[0, nearest] - self.outline[:, 0], v[1, nearest] - self.outline[:, 1]
        kc = w["coverage"] / cell * 2.0 / len(dx)
        grad[0] += kc * np.bincount(nearest, dx, n)
        grad[1] += kc * np.bincount(nearest, dy, n)
        if not with_loss:
            return None, grad
        outside = (fa + fb * tx + fc * ty + fd * tx * ty).mean()
        bending = (1.0 - (fn[:, self.pa] * fn[:, self.pb]).sum(axis=0)).mean()
        loss = (w["outside"] * outside + w["coverage"] * (dx * dx + dy * dy).mean() / cell
                + cell * (w["laplacian"] * (r * r).sum(axis=0).mean() / me2 + w["edge"] * (dev * dev).mean() / me2
                          + w["normal"] * bending))
        return float(loss), grad


class OutlineMatcher:
    """Index of the rim vertex nearest to each outline point, the same as a fresh KD-tree query every step.

    Building that tree was a third of a step. Instead each outline point keeps its K nearest rim vertices from
    the last build, d_K being the farthest of them then, and delta is the largest distance any rim vertex has
    moved since: a vertex outside the K is now at least d_K - delta away, so while the nearest of the K is
    closer than that, it is the answer. Points past that bound are compared with every rim vertex; when more
    than STALE of them are, the tree is built again."""
    K, STALE = 8, 0.05

    def __init__(self, outline: np.ndarray):
        self.ox, self.oy = outline[:, 0].copy(), outline[:, 1].copy()
        self.outline = outline
        self.rim = None

    def _build(self, v: np.ndarray, rim: np.ndarray):
        from scipy.spatial import cKDTree

        self.rim, self.anchor = rim, v[:2, rim].copy()
        k = min(self.K, len(rim))
        # A list k gives (points, k) arrays even for k = 1. An unbalanced tree builds faster and answers the same.
        d, near = cKDTree(self.anchor.T, balanced_tree=False, compact_nodes=False).query(self.outline, k=list(range(1, k + 1)))
        self.candidates = rim[near]
        self.reach = d[:, -1] if k < len(rim) else np.full(len(d), np.inf)

    def __call__(self, v: np.ndarray, rim: np.ndarray) -> np.ndarray:
        if rim is not self.rim:
            self._build(v, rim)
        nearest, stale = self._nearest_candidates(v)
        if len(stale) > self.STALE * len(nearest):
            self._build(v, rim)
            nearest, stale = self._nearest_candidates(v)
        if len(stale):
            px = v[0, rim][None, :] - self.ox[stale, None]
            py = v[1, rim][None, :] - self.oy[stale, None]
            nearest[stale] = rim[(px * px + py * py).argmin(axis=1)]
        return nearest

    def _nearest_candidates(self, v: np.ndarray):
        """The nearest of each point's candidates, and the points where a vertex outside them may be nearer."""
        cx = np.take(v[0], self.candidates) - self.ox[:, None]
        cy = np.take(v[1], self.candidates) - self.oy[:, None]
        d2 = cx * cx + cy * cy
        best = d2.argmin(axis=1)
        rows = np.arange(len(best))
        dx, dy = v[0, self.rim] - self.anchor[0], v[1, self.rim] - self.anchor[1]
        moved = np.sqrt((dx * dx + dy * dy).max())
        return self.candidates[rows, best], np.flatnonzero(np.sqrt(d2[rows, best]) >= self.reach - moved)


def _fit_numpy(vertices: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray, steps: int, progress, lr: float,
               w: dict) -> np.ndarray:
    """_fit_torch's optimisation on the CPU with the gradient by hand: the same loss, Adam with torch's
    defaults and the same cosine schedule (closed form of CosineAnnealingLR), in float64."""
    loss = SilhouetteLoss(vertices, faces, mask_grid, w)
    match = OutlineMatcher(loss.outline)
    v = np.ascontiguousarray(np.asarray(vertices, np.float64).T)
    mean, square = np.zeros_like(v), np.zeros_like(v)
    (b1, b2), floor = ADAM_BETAS, lr * LR_FLOOR
    rim = None
    for step in range(steps):
        if step % 10 == 0:
            rim = loss.rim(v)
        grad = loss(v, match(v, rim))[1]
        rate = floor + (lr - floor) * (1 + math.cos(math.pi * step / steps)) / 2
        mean += (1 - b1) * (grad - mean)
        square *= b2
        square += (1 - b2) * grad * grad
        denominator = np.sqrt(square) / math.sqrt(1 - b2 ** (step + 1)) + ADAM_EPS
        v -= (rate / (1 - b1 ** (step + 1))) * mean / denominator
        if progress is not None and (step % 10 == 0 or step == steps - 1):
            progress("fit", (step + 1) / steps)
    return v.T.astype(np.float32)


def _cross(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Cross products of the columns of a and b (3, K)."""
    out = np.empty_like(a) if out is None else out
    np.multiply(a[1], b[2], out=out[0])
    out[0] -= a[2] * b[1]
    np.multiply(a[2], b[0], out=out[1])
    out[1] -= a[0] * b[2]
    np.multiply(a[0], b[1], out=out[2])
    out[2] -= a[1] * b[0]
    return out


def _unit(x: np.ndarray):
    """Columns of x (3, K) scaled to unit length (lengths clamped at 1e-12, as the torch path does), and the
    clamped lengths."""
    length = np.maximum(np.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]), 1e-12)
    return x / length, length


class _TorchLoss:
    """The fit's loss in torch (autograd gives the gradient): SilhouetteLoss's definition. float32 in the fit;
    the tests build it in float64 to hold the numpy gradient to it."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray, w: dict, device,
                 dtype=None):
        import torch

        dtype = dtype or torch.float32
        self.torch, self.w = torch, w
        mask = np.asarray(mask_grid, bool)
        self.cell = 2 * FRAME_HALF_EXTENT / mask.shape[0]
        outside = (ndimage.distance_transform_edt(~mask) * self.cell).astype(np.float32)
        edges = unique_edges(faces)
        as_float = lambda x: torch.as_tensor(x, device=device).to(dtype)
        self.v0 = as_float(np.asarray(vertices, np.float32))
        self.f = torch.as_tensor(np.asarray(faces, np.int64), device=device)
        self.pairs = torch.as_tensor(face_pairs(np.asarray(faces)), device=device)
        self.field = as_float(outside)[None, None]
        self.outline_np = outline_points(mask)
        self.outline = as_float(self.outline_np)
        self.e = torch.as_tensor(edges, device=device)
        # Its weights in the loss's own precision: 1/6 rounded to float32 is a 3e-9 error in float64.
        self.lap = _laplacian(len(self.v0), edges, torch, device,
                              np.float64 if dtype == torch.float64 else np.float32).to(dtype)
        self.lap0 = torch.sparse.mm(self.lap, self.v0)
        self.mean_edge0 = (self.v0[self.e[:, 0]] - self.v0[self.e[:, 1]]).norm(dim=1).mean()

    def rim(self, v):
        return _rim_candidates(v, self.f, self.torch)

    def nearest(self, v, rim):
        return rim[_nearest_vertices(self.outline, self.outline_np, v[rim], self.torch)]

    def __call__(self, v, nearest):
        import torch.nn.functional as F

        torch, w, cell, e = self.torch, self.w, self.cell, self.e
        # grid_sample wants (x, y) in [-1, 1] with y down the rows.
        g = torch.stack([v[:, 0], -v[:, 1]], dim=1) / FRAME_HALF_EXTENT
        out_d = F.grid_sample(self.field, g[None, None], align_corners=False, padding_mode="border")[0, 0, 0]
        coverage = ((self.outline - v[nearest, :2]) ** 2).sum(dim=1).mean()
        lap_change = ((torch.sparse.mm(self.lap, v) - self.lap0) ** 2).sum(dim=1).mean() / (self.mean_edge0 ** 2)
        lengths = (v[e[:, 0]] - v[e[:, 1]]).norm(dim=1)
        edge_spread = ((lengths - lengths.mean()) ** 2).mean() / (self.mean_edge0 ** 2)
        fn = _face_normals(v, self.f)
        bending = (1.0 - (fn[self.pairs[:, 0]] * fn[self.pairs[:, 1]]).sum(dim=1)).mean()
        return (w["outside"] * out_d.mean() + w["coverage"] * coverage / cell
                + w["laplacian"] * lap_change * cell + w["edge"] * edge_spread * cell
                + w["normal"] * bending * cell)


def _fit_torch(vertices: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray, steps: int, device, progress,
               lr: float, w: dict, dtype=None) -> np.ndarray:
    """The fit in torch with autograd: what runs on an accelerator, and (in float64) the reference the CPU
    path is tested against."""
    import torch

    threads = 1 if device.type == "cpu" else torch.get_num_threads()
    with _torch_threads(threads):
        loss_of = _TorchLoss(vertices, faces, mask_grid, w, device, dtype)
        v0 = loss_of.v0
        offset = torch.zeros_like(v0, requires_grad=True)
        opt = torch.optim.Adam([offset], lr=lr)
        # Adam moves every vertex by about lr per step whatever its gradient, which leaves jitter behind;
        # decaying the rate lets the surface settle.
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * LR_FLOOR)
        rim = None
        for step in range(steps):
            v = v0 + offset
            if step % 10 == 0:
                rim = loss_of.rim(v)
            loss = loss_of(v, loss_of.nearest(v, rim))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            if progress is not None and (step % 10 == 0 or step == steps - 1):
                progress("fit", (step + 1) / steps)
        return (v0 + offset).detach().cpu().numpy().astype(np.float32)
