"""The scores every quality number in this project is reported with, and mesh-quality checks.

Frame: the evaluation frame (see inference.frame). Depth offset is not observable from one view, so
both meshes are centred in z on their own bounding boxes before comparing. 10k surface samples each side
(area-weighted); Chamfer-L1 is the mean of the two directions' mean Euclidean distances; the F-score at t
is the harmonic mean of precision (predicted samples within t of the target) and recall (the reverse);
normal consistency is the mean |cos| between each sample's normal and its nearest neighbour's, averaged
over both directions; silhouette IoU compares the mesh's orthographic silhouette with the true mask."""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .meshes import SAMPLES, is_watertight, sample_surface, unique_edges

THRESHOLDS = (0.02, 0.05)


def centre_depth(points: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Shift z so the reference's (default: the points') bounding box is centred on z = 0."""
    ref = points if reference is None else reference
    out = np.array(points, np.float64, copy=True)
    out[:, 2] -= 0.5 * (ref[:, 2].max() + ref[:, 2].min())
    return out


def point_scores(pred_points, pred_normals, gt_points, gt_normals, thresholds=THRESHOLDS) -> dict:
    """Chamfer-L1, F-scores and normal consistency between two already-centred point sets with normals."""
    d_pg, i_pg = cKDTree(gt_points).query(pred_points, workers=2)
    d_gp, i_gp = cKDTree(pred_points).query(gt_points, workers=2)
    out = {"chamfer_l1": float(0.5 * (d_pg.mean() + d_gp.mean()))}
    for t in thresholds:
        precision, recall = float((d_pg < t).mean()), float((d_gp < t).mean())
        out[f"f@{t:g}"] = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    cos_pg = np.abs((pred_normals * gt_normals[i_pg]).sum(axis=1))
    cos_gp = np.abs((gt_normals * pred_normals[i_gp]).sum(axis=1))
    out["normal_consistency"] = float(0.5 * (cos_pg.mean() + cos_gp.mean()))
    return out


def score_mesh(vertices, faces, gt_points, gt_normals, mask_true=None, seed: int = 0) -> dict:
    """All accuracy scores of a predicted mesh against the target's surface samples (already z-centred on the
    target mesh's box) and, when given, the true silhouette on the frame grid."""
    from .silhouette import iou, mesh_silhouette

    v = np.asarray(vertices, np.float64)
    pts, nrm = sample_surface(v, faces, SAMPLES, seed)
    pts = centre_depth(pts, v)
    out = point_scores(pts, nrm, np.asarray(gt_points, np.float64), np.asarray(gt_normals, np.float64))
    if mask_true is not None:
        out["silhouette_iou"] = iou(mesh_silhouette(v, faces, mask_true.shape[0]), mask_true)
    return out


def score_point_sets(pred_points, pred_normals, gt_points, gt_normals, true_silhouettes: dict | None = None,
                     pixels_per_unit: float | None = None) -> dict:
    """The realval protocol (shared/realval/README.md) for any prediction that is, or was sampled to, a point
    set with normals: each set's z centred on its own min/max, then point_scores; for each name -> true
    silhouette (square bool masks in the render's frame, `pixels_per_unit` pixels per frame unit) also the
    IoU of the predicted points splatted into that frame (inference.silhouette.splat_silhouette) against it."""
    from .silhouette import iou, splat_silhouette

    pred = centre_depth(np.asarray(pred_points, np.float64))
    gt = centre_depth(np.asarray(gt_points, np.float64))
    out = point_scores(pred, np.asarray(pred_normals, np.float64), gt, np.asarray(gt_normals, np.float64))
    splat = None
    for name, true in (true_silhouettes or {}).items():
        if splat is None:
            splat = splat_silhouette(pred, true.shape[0], pixels_per_unit)
        out[name] = iou(splat, true)
    return out


# ----------------------------------------------------------------------------------------------- mesh quality

def edge_length_spread(vertices: np.ndarray, faces: np.ndarray) -> float:
    """std / mean of the unique edge lengths (0 = perfectly even)."""
    e = unique_edges(np.asarray(faces))
    lengths = np.linalg.norm(np.asarray(vertices)[e[:, 0]] - np.asarray(vertices)[e[:, 1]], axis=1)
    return float(lengths.std() / max(lengths.mean(), 1e-12))


def self_intersections(vertices: np.ndarray, faces: np.ndarray) -> int:
    """Number of faces that another part of the surface passes through (see inference.untangle)."""
    from .untangle import intersecting_faces
    return int(intersecting_faces(vertices, faces).sum())


def mesh_quality(vertices: np.ndarray, faces: np.ndarray) -> dict:
    return {"watertight": is_watertight(faces), "edge_spread": edge_length_spread(vertices, faces),
            "self_intersections": self_intersections(vertices, faces)}
