"""Training-free refinement: move a closed mesh until its silhouette matches the mask.

Two data terms pull in opposite directions so the outline ends up on the mask's outline: vertices
outside the mask are pushed in (distance field of the mask), and every outline point pulls the nearest
projected vertex out to it (a one-sided chamfer, which is what grows thin parts). Regularisers keep the
starting shape (its Laplacian coordinates) and even edge lengths, because the silhouette says nothing
about depth and a free surface would crumple. Runs on one thread on the CPU: this problem is too small
for a second thread to pay for its synchronisation (measured: 10 ms/step on 1 thread, 176 ms on 2)."""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
from scipy import ndimage

from .errors import Cancelled  # noqa: F401  (raised by progress callbacks; re-exported for callers)
from .frame import FRAME_HALF_EXTENT
from .meshes import face_pairs, unique_edges

WEIGHTS = {
    "outside": 1.0,      # mean distance of projected vertices outside the mask (frame units)
    "coverage": 40.0,    # mean squared distance from outline points to the nearest projected vertex
    "laplacian": 20.0,   # change of Laplacian coordinates (keeps the template's shape and smoothness)
    "edge": 2.0,         # spread of edge lengths relative to the template's mean edge
    "normal": 100.0,     # bending: 1 - cos between neighbouring face normals
}


@contextmanager
def _torch_threads(n: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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


def _laplacian(n: int, edges: np.ndarray, torch, device):
    """Uniform graph Laplacian as a sparse matrix: (L v)_i = v_i - mean of neighbours."""
    i = np.concatenate([edges[:, 0], edges[:, 1]])
    j = np.concatenate([edges[:, 1], edges[:, 0]])
    degree = np.bincount(i, minlength=n).astype(np.float32)
    w = -1.0 / degree[i]
    idx = np.stack([np.concatenate([np.arange(n), i]), np.concatenate([np.arange(n), j])])
    val = np.concatenate([np.ones(n, np.float32), w]).astype(np.float32)
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


def fit_to_silhouette(vertices: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray, steps: int = 150,
                      device=None, progress=None, lr: float = 0.003, weights: dict | None = None) -> np.ndarray:
    """Refined vertex positions (same faces) whose silhouette follows `mask_grid`."""
    import torch
    import torch.nn.functional as F

    if steps <= 0:
        return np.asarray(vertices, np.float32)
    w = {**WEIGHTS, **(weights or {})}
    device = device or torch.device("cpu")
    mask = np.asarray(mask_grid, bool)
    size = mask.shape[0]
    cell = 2 * FRAME_HALF_EXTENT / size
    outside = (ndimage.distance_transform_edt(~mask) * cell).astype(np.float32)
    edges = unique_edges(faces)

    threads = 1 if device.type == "cpu" else torch.get_num_threads()
    with _torch_threads(threads):
        v0 = torch.as_tensor(np.asarray(vertices, np.float32), device=device)
        f = torch.as_tensor(np.asarray(faces, np.int64), device=device)
        pairs = torch.as_tensor(face_pairs(np.asarray(faces)), device=device)
        field = torch.as_tensor(outside, device=device)[None, None]
        outline_np = outline_points(mask)
        outline = torch.as_tensor(outline_np, device=device)
        e = torch.as_tensor(edges, device=device)
        lap = _laplacian(len(v0), edges, torch, device)
        lap0 = torch.sparse.mm(lap, v0)
        mean_edge0 = (v0[e[:, 0]] - v0[e[:, 1]]).norm(dim=1).mean()
        offset = torch.zeros_like(v0, requires_grad=True)
        opt = torch.optim.Adam([offset], lr=lr)
        # Adam moves every vertex by about lr per step whatever its gradient, which leaves jitter behind;
        # decaying the rate lets the surface settle.
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * 0.05)
        rim = None
        for step in range(steps):
            v = v0 + offset
            # grid_sample wants (x, y) in [-1, 1] with y down the rows.
            g = torch.stack([v[:, 0], -v[:, 1]], dim=1) / FRAME_HALF_EXTENT
            out_d = F.grid_sample(field, g[None, None], align_corners=False, padding_mode="border")[0, 0, 0]
            if step % 10 == 0:
                rim = _rim_candidates(v, f, torch)
            nearest = rim[_nearest_vertices(outline, outline_np, v[rim], torch)]
            coverage = ((outline - v[nearest, :2]) ** 2).sum(dim=1).mean()
            lap_change = ((torch.sparse.mm(lap, v) - lap0) ** 2).sum(dim=1).mean() / (mean_edge0 ** 2)
            lengths = (v[e[:, 0]] - v[e[:, 1]]).norm(dim=1)
            edge_spread = ((lengths - lengths.mean()) ** 2).mean() / (mean_edge0 ** 2)
            fn = _face_normals(v, f)
            bending = (1.0 - (fn[pairs[:, 0]] * fn[pairs[:, 1]]).sum(dim=1)).mean()
            loss = (w["outside"] * out_d.mean() + w["coverage"] * coverage / cell
                    + w["laplacian"] * lap_change * cell + w["edge"] * edge_spread * cell
                    + w["normal"] * bending * cell)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            if progress is not None and (step % 10 == 0 or step == steps - 1):
                progress("fit", (step + 1) / steps)
        return (v0 + offset).detach().cpu().numpy().astype(np.float32)
