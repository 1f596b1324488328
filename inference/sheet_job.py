"""The engine side of the worker's "reconstruct_views" job and the typed answer of a reference sheet.

`inference/worker.py` hands the request here; `python -m inference --front ...` uses `to_result` too, so both
describe the views the same way (contract.SheetResult)."""
from __future__ import annotations

import os

from .contract import ResultInfo, SheetRequest, SheetResult, SheetViewInfo
from .errors import InputError


def to_result(rec, device: str = "cpu") -> SheetResult:
    """contract.SheetResult of an inference.sheets.SheetReconstruction (JSON-safe meta)."""
    tiles = rec.texture.tiles
    views = {name: SheetViewInfo(box=tuple(float(b) for b in v.box), shape=tuple(int(s) for s in v.mask.shape),
                                 scale=tuple(float(s) for s in v.scale), mask_source=str(v.mask_source),
                                 silhouette_iou=None if v.silhouette_iou is None else float(v.silhouette_iou),
                                 crop=tuple(int(c) for c in tiles[name].crop),
                                 tile=tuple(int(c) for c in tiles[name].place))
             for name, v in rec.views.items()}
    info = dict(rec.info)
    info.setdefault("model", "none")   # the sheet path runs no learned prior
    info["views"] = sorted(rec.views)
    return SheetResult(vertices=rec.vertices, faces=rec.faces, vertex_colors=rec.vertex_colors,
                       uvs=rec.texture.uvs.reshape(-1, 2), texture=rec.texture.atlas, views=views,
                       reference=rec.reference, name=rec.name, device=device, warnings=list(rec.warnings),
                       timings={k: float(v) for k, v in rec.timings.items()}, info=ResultInfo.from_wire(info))


def _sources(request: SheetRequest) -> dict:
    import numpy as np
    sources = dict(request.views)
    for name, path in request.view_arrays.items():
        try:
            sources[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"Could not read the {name} view's pixels {path}: {exc}") from exc
    return sources


def warm_up() -> None:
    """Import everything the clean-up imports on first use. The worker may interrupt it at any bytecode (see
    worker._Server.interruptible); an import cut short there could leave a module lock held for the rest of
    the worker's life, so none may happen inside."""
    import scipy.sparse.csgraph  # noqa: F401  (inference.meshes imports it in a function)

    from . import cleanup, meshes, remesh, untangle  # noqa: F401


def run_views(message: dict, output_path: str, progress, plain, interruptible=None) -> dict:
    """Reconstruct the request's views, write the arrays to `output_path` (atomically) and return the result
    event's fields (mesh_path, meta). `progress(stage, fraction)` raises Cancelled once the job is cancelled;
    `interruptible()` is a context manager inside which the caller may stop the clean-up at once (its
    remesher and untangler report no steps of their own: at 20,000 vertices they run for seconds)."""
    from .sheets import reconstruct_views

    request = SheetRequest.from_wire(message)
    sources = _sources(request)
    warm_up()
    rec = reconstruct_views(sources, request.options, masks=request.masks or None, name=request.name,
                            progress=progress, interruptible=interruptible)
    answer = to_result(rec)
    partial = output_path + ".partial.npz"
    answer.save_arrays(partial)
    os.replace(partial, output_path)
    meta = answer.meta_to_wire()
    meta["timings"] = plain(meta["timings"])
    meta["info"] = plain(meta["info"])
    return {"mesh_path": output_path, "meta": plain(meta)}
