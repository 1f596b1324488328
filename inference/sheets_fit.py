"""The silhouette fit of inference.fit, against every view of a reference sheet at once.

Each view contributes the single-view fit's two data terms in its own evaluation frame (vertices outside its
mask pushed in, its outline pulling the nearest rim vertex out); the regularisers are the single-view fit's.
The carved hull already projects close to every silhouette, so this only has to settle the marching-cubes
rim onto the outlines: a few dozen steps."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from .fit import WEIGHTS, _face_normals, _laplacian, _nearest_vertices, _torch_threads, outline_points
from .frame import FRAME_HALF_EXTENT, Frame
from .meshes import face_pairs, unique_edges

GRID = 192


def _view_setup(view, torch):
    """(linear map front frame -> view frame (3x3), outside-distance field, outline points) of one view."""
    from .sheets import ROTATIONS

    h, w = view.mask.shape
    frame = Frame.from_box(view.box, w, h)
    longer = max(view.box[2] - view.box[0], view.box[3] - view.box[1])
    # Front-frame units to the view's own frame, where its box's longer side is 1.
    stretch = np.diag([1.0 / (view.scale[0] * longer), 1.0 / (view.scale[1] * longer), 1.0 / (view.scale[0] * longer)])
    linear = stretch @ np.array(ROTATIONS[view.name], np.float64)
    # The box centre maps to x = y = 0 in both frames, so no offset.
    mask_grid = frame.sample_grid(view.mask.astype(np.float32), GRID) > 0.5
    cell = 2 * FRAME_HALF_EXTENT / GRID
    outside = (ndimage.distance_transform_edt(~mask_grid) * cell).astype(np.float32)
    outline = outline_points(mask_grid)
    return (torch.as_tensor(linear.T, dtype=torch.float32), torch.as_tensor(outside)[None, None],
            outline, torch.as_tensor(outline), 1.0 / (view.scale[0] * longer))


def _rim(vv, f, torch):
    with torch.no_grad():
        fn = _face_normals(vv, f)
        vn = torch.zeros_like(vv).index_add_(0, f.reshape(-1), fn.repeat_interleave(3, dim=0))
        vn = vn / vn.norm(dim=1, keepdim=True).clamp_min(1e-12)
        rim = torch.nonzero(vn[:, 2].abs() < 0.5).squeeze(1)
        return rim if rim.numel() >= 16 else torch.arange(len(vv))


def fit_to_views(vertices: np.ndarray, faces: np.ndarray, views: dict, steps: int = 40, lr: float = 0.002,
                 weights: dict | None = None) -> np.ndarray:
    """Vertex positions (same faces) whose silhouettes follow every view's mask."""
    import torch
    import torch.nn.functional as F

    w = {**WEIGHTS, **(weights or {})}
    cell = 2 * FRAME_HALF_EXTENT / GRID
    edges = unique_edges(faces)
    with _torch_threads(1):
        setups = [_view_setup(v, torch) for v in views.values()]
        v0 = torch.as_tensor(np.asarray(vertices, np.float32))
        f = torch.as_tensor(np.asarray(faces, np.int64))
        pairs = torch.as_tensor(face_pairs(np.asarray(faces)))
        e = torch.as_tensor(edges)
        lap = _laplacian(len(v0), edges, torch, torch.device("cpu"))
        lap0 = torch.sparse.mm(lap, v0)
        mean_edge0 = (v0[e[:, 0]] - v0[e[:, 1]]).norm(dim=1).mean()
        offset = torch.zeros_like(v0, requires_grad=True)
        opt = torch.optim.Adam([offset], lr=lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * 0.05)
        rims = [None] * len(setups)
        for step in range(steps):
            v = v0 + offset
            data = 0.0
            for k, (linear, field, outline_np, outline, to_view) in enumerate(setups):
                vv = v @ linear
                g = torch.stack([vv[:, 0], -vv[:, 1]], dim=1) / FRAME_HALF_EXTENT
                out_d = F.grid_sample(field, g[None, None], align_corners=False, padding_mode="border")[0, 0, 0]
                if step % 10 == 0:
                    rims[k] = _rim(vv, f, torch)
                nearest = rims[k][_nearest_vertices(outline, outline_np, vv[rims[k]], torch)]
                coverage = ((outline - vv[nearest, :2]) ** 2).sum(dim=1).mean()
                # Back to front-frame units, so every view weighs by the same physical error.
                data = data + (w["outside"] * out_d.mean() + w["coverage"] * coverage / cell) / to_view
            lap_change = ((torch.sparse.mm(lap, v) - lap0) ** 2).sum(dim=1).mean() / (mean_edge0 ** 2)
            lengths = (v[e[:, 0]] - v[e[:, 1]]).norm(dim=1)
            edge_spread = ((lengths - lengths.mean()) ** 2).mean() / (mean_edge0 ** 2)
            fn = _face_normals(v, f)
            bending = (1.0 - (fn[pairs[:, 0]] * fn[pairs[:, 1]]).sum(dim=1)).mean()
            loss = data / len(setups) + (w["laplacian"] * lap_change * cell + w["edge"] * edge_spread * cell
                                         + w["normal"] * bending * cell)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
        return (v0 + offset).detach().numpy().astype(np.float32)


def restore_silhouettes(vertices: np.ndarray, faces: np.ndarray, views: dict, steps: int,
                        weights: dict | None = None) -> tuple[np.ndarray, dict]:
    """The clean-up's remesher tiles the surface with even triangles of the requested count, and where a part
    is thinner than a few triangles (a horn, a leg seen from the side) its silhouette shrinks; this fits the
    finished mesh back onto every view's mask (same faces), takes out any crossing the fit made (blending
    towards the input where smoothing does not), and keeps the result only if it is free of crossings and
    its silhouettes match the masks better on the mean over the views. Returns (vertices, report); the
    report's "ious" are the returned mesh's, per view in `views`' order (view_silhouette_iou)."""
    from .sheets import view_silhouette_iou
    from .untangle import untangle

    before = [view_silhouette_iou(vertices, faces, v) for v in views.values()]
    fitted = fit_to_views(vertices, faces, views, steps=steps, weights=weights)
    fitted, crossings = untangle(fitted, faces, reference=vertices)
    after = [view_silhouette_iou(fitted, faces, v) for v in views.values()]
    report = {"iou_before": float(np.mean(before)), "iou_after": float(np.mean(after)),
              "crossing_faces_after": int(crossings["crossing_faces_after"])}
    report["kept"] = bool(report["crossing_faces_after"] == 0 and report["iou_after"] > report["iou_before"])
    report["ious"] = [float(x) for x in (after if report["kept"] else before)]
    return (fitted.astype(np.float32) if report["kept"] else vertices), report
