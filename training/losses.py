"""Training losses for the shape priors, computed on packed meshes.

Chamfer: nearest neighbours are found with scipy's cKDTree under no_grad (the dense torch.cdist with
autograd costs ~40x more time and gigabytes of memory on the CPU, see shared/reference/cpu-budget.md),
then only the matched pairs are recomputed in torch, which gives the same gradient. We use Euclidean
(not squared) distances: the evaluation scores Chamfer-L1 and F-scores, both linear in distance, and
squared distances under-weight the last few millimetres that decide an F-score at 0.02.

Depth is not observable from one view, and the scores centre z on each mesh's bounding box; the loss
does the same to the prediction (the ground truth is centred when it is loaded), so the network is
never asked to guess a z offset.

Weights (`LOSS_WEIGHTS`) and why. Per vertex, the chamfer gradient has magnitude ~1/n (n vertices).
The regularisers are normalised by the template's mean squared edge length l0^2 so they mean the same
at every resolution; with l0 ~ 0.025 (about 1000 vertices on a unit object):
- silhouette 1.0: vertices projecting outside the true mask + true outline points far from every projected
  vertex (frame units, like the chamfer). Without it a first 13-minute run traded silhouette IoU 0.93 -> 0.59
  for its chamfer gain (the 3-D chamfer happily shrinks uncertain rims), which the later fit cannot fully undo.
- laplacian 0.05: change of uniform Laplacian coordinates against the stage's input mesh. Its pull equals
  the chamfer's when a vertex leaves its neighbours' plane by ~0.3 edge lengths; the first run at 0.02 let
  normal consistency fall from 0.70 to 0.63 and folded ~300 faces per mesh.
- edge 5e-4: mean squared edge length (Pixel2Mesh). Its pull is ~15% of the chamfer's at l = l0; it
  stops the flying vertices Pixel2Mesh's ablation warns about, and evens out edge lengths.
- normal 5e-3: |cos| between each edge and the ground-truth normal at its vertex's nearest point
  (Pixel2Mesh): pushes faces to lie flat where the target is flat (~3% of the loss).
- move 0: the templates already sit on the silhouette, and the Laplacian term keeps their shape."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree

LOSS_WEIGHTS = {"chamfer": 1.0, "silhouette": 1.0, "laplacian": 0.05, "edge": 5e-4, "normal": 5e-3, "move": 0.0}
KDTREE_WORKERS = 2


def _segment_reduce(values: torch.Tensor, batch: torch.Tensor, n: int, reduce: str) -> torch.Tensor:
    out = values.new_zeros(n)
    return out.scatter_reduce(0, batch, values, reduce=reduce, include_self=False)


def centre_depth(vertices: torch.Tensor, batch: torch.Tensor, n_samples: int) -> torch.Tensor:
    """Shift each sample's z so its bounding box is centred on z = 0."""
    z = vertices[:, 2]
    mid = 0.5 * (_segment_reduce(z, batch, n_samples, "amax") + _segment_reduce(z, batch, n_samples, "amin"))
    return torch.cat([vertices[:, :2], (z - mid[batch])[:, None]], dim=1)


def centre_points_depth(points: np.ndarray) -> np.ndarray:
    """Same centring for a numpy point cloud (P, 3)."""
    p = np.array(points, np.float32, copy=True)
    p[:, 2] -= 0.5 * (p[:, 2].max() + p[:, 2].min())
    return p


@dataclass
class ChamferMatch:
    pred_to_gt: torch.Tensor   # (V,) long: flat index into the batch's (B*P) target points
    gt_to_pred: torch.Tensor   # (B*P,) long: packed vertex index nearest to each target point


def match(pred: torch.Tensor, counts: list[int], gt_points: torch.Tensor) -> ChamferMatch:
    """Nearest neighbours both ways, per sample, with KD-trees (no gradient)."""
    pred_np = pred.detach().float().cpu().numpy()
    gt_np = gt_points.detach().float().cpu().numpy()
    n_points = gt_np.shape[1]
    p2g, g2p, start = [], [], 0
    for s, n in enumerate(counts):
        p, g = pred_np[start:start + n], gt_np[s]
        _, i = cKDTree(g).query(p, workers=KDTREE_WORKERS)
        _, j = cKDTree(p).query(g, workers=KDTREE_WORKERS)
        p2g.append(i + s * n_points)
        g2p.append(j + start)
        start += n
    dev = pred.device
    return ChamferMatch(torch.from_numpy(np.concatenate(p2g)).long().to(dev),
                        torch.from_numpy(np.concatenate(g2p)).long().to(dev))


def _distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).sum(dim=1).add(1e-12).sqrt()


def silhouette_loss(pred: torch.Tensor, level, outline: torch.Tensor, outside: torch.Tensor) -> torch.Tensor:
    """How far the prediction's outline is from the true one, in frame units: the mean distance of vertices
    projecting outside the true mask (its distance field, sampled bilinearly) plus the mean distance from
    true outline points to the nearest projected vertex (what stops the silhouette shrinking)."""
    from inference.networks.encoder import pool_features

    n_samples = level.num_samples
    out_d = pool_features([outside.float()], pred, level.batch, level.counts)[:, 0]
    outside_term = (_segment_reduce(out_d, level.batch, n_samples, "sum")
                    / torch.tensor(level.counts, device=pred.device, dtype=pred.dtype)).mean()
    xy = pred[:, :2].detach().float().cpu().numpy()
    targets = outline.detach().float().cpu().numpy()
    nearest, start = [], 0
    for s, n in enumerate(level.counts):
        _, j = cKDTree(xy[start:start + n]).query(targets[s], workers=KDTREE_WORKERS)
        nearest.append(j + start)
        start += n
    idx = torch.from_numpy(np.concatenate(nearest)).long().to(pred.device)
    coverage = _distance(outline.reshape(-1, 2).float(), pred[idx, :2]).mean()
    return outside_term + coverage


def mesh_losses(pred: torch.Tensor, start: torch.Tensor, level, gt_points: torch.Tensor,
                gt_normals: torch.Tensor, outline: torch.Tensor | None = None,
                outside: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Unweighted loss terms for one stage.

    pred: packed vertices (V, 3) after the stage; start: the stage's input positions (template or unpooled
    previous stage); level: the `PackedLevel` with faces/edges; gt_points/gt_normals: (B, P, 3)."""
    n_samples = level.num_samples
    batch = level.batch
    pred = centre_depth(pred.float(), batch, n_samples)
    gt_flat = gt_points.reshape(-1, 3).float()
    normals_flat = gt_normals.reshape(-1, 3).float()
    m = match(pred, level.counts, gt_points)

    # Chamfer-L1 as the scores define it: the mean of the two directions, per sample, then over the batch.
    d_pg = _distance(pred, gt_flat[m.pred_to_gt])
    d_gp = _distance(gt_flat, pred[m.gt_to_pred])
    counts = torch.tensor(level.counts, device=pred.device, dtype=pred.dtype)
    per_sample_pg = _segment_reduce(d_pg, batch, n_samples, "sum") / counts
    per_sample_gp = d_gp.reshape(n_samples, -1).mean(dim=1)
    chamfer = 0.5 * (per_sample_pg + per_sample_gp).mean()

    e = level.edges
    start = start.float()
    l0_sq = ((start[e[:, 0]] - start[e[:, 1]]) ** 2).sum(dim=1).mean().detach().clamp_min(1e-12)
    edge_vec = pred[e[:, 1]] - pred[e[:, 0]]
    edge_sq = (edge_vec ** 2).sum(dim=1)
    edge = edge_sq.mean() / l0_sq

    degree = level.degree()
    lap = ((level.laplacian(pred, degree) - level.laplacian(start, degree)) ** 2).sum(dim=1).mean() / l0_sq

    n_gt = normals_flat[m.pred_to_gt[e[:, 0]]]
    cos = (edge_vec * n_gt).sum(dim=1) / edge_sq.add(1e-12).sqrt()
    normal = cos.abs().mean()

    move = ((pred - centre_depth(start, batch, n_samples)) ** 2).sum(dim=1).mean() / l0_sq
    silhouette = silhouette_loss(pred, level, outline, outside) if outline is not None else pred.new_zeros(())
    return {"chamfer": chamfer, "laplacian": lap, "edge": edge, "normal": normal, "move": move, "silhouette": silhouette,
            "chamfer_pred_to_gt": per_sample_pg.mean().detach(), "chamfer_gt_to_pred": per_sample_gp.mean().detach()}


def total_loss(stage_terms: list[dict[str, torch.Tensor]], weights: dict[str, float] | None = None):
    """Weighted sum over terms and stages (every stage is supervised, as in Pixel2Mesh)."""
    w = dict(LOSS_WEIGHTS, **(weights or {}))
    total = 0.0
    for terms in stage_terms:
        total = total + sum(w[k] * terms[k] for k in w if w[k])
    return total
