"""image -> mask -> frame grid -> template (or learned prior) -> silhouette fit -> clean-up (crossings out,
even triangles) -> mesh with UVs."""
from __future__ import annotations

import os
import time

import numpy as np
from scipy import ndimage

from .contract import MODEL_AUTO, MODEL_NONE, VERTICES_MAX, VERTICES_MIN
from .errors import DependencyError, InputError, MeshFromImageError
from .frame import Frame
from .image_io import picture_facts, read_mask, read_source
from .mask import bounding_box, extract_objects, hole_sizes, holes_only_where, object_masks, through_holes
from .meshes import genus
from .result import Reconstruction, ReconstructionOptions
from .template import inflation_template

# The mask is found on a copy no larger than this: plenty for an outline, and a 8k photo stays fast.
WORK_SIZE = 1024
# The network sees this grid; the template and fit use a finer one for dense meshes.
NETWORK_GRID = 128
MIN_VERTICES, MAX_VERTICES = VERTICES_MIN, VERTICES_MAX   # defined, and justified, in contract.py
# Above this density a network's point-wise offsets fold the surface faster than the clean-up can undo (a 40k
# template came out with ~14,500 crossing faces and kept ~3,000); when the remesher runs, the network and fit
# work at this density and the remesher refines the clean surface to the density asked for.
NETWORK_MAX_VERTICES = 10_000


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        import sys
        raise DependencyError(f"PyTorch is not installed for the Python at '{sys.executable}' ({exc}). Install the "
                              "extension's bundled runtime, or choose an interpreter that has torch in the add-on "
                              "preferences.") from None
    return torch


def _working_copy(rgba: np.ndarray) -> np.ndarray:
    h, w = rgba.shape[:2]
    factor = max(h, w) / WORK_SIZE
    if factor <= 1.0:
        return rgba
    from skimage.transform import resize
    return resize(rgba, (max(2, round(h / factor)), max(2, round(w / factor))), order=1, anti_aliasing=True).astype(np.float32)


def fit_grid_size(template_vertices: int) -> int:
    """Grid resolution for template and fit: about three cells per template edge across the object."""
    return int(np.clip(2 ** np.ceil(np.log2(4 * np.sqrt(template_vertices))), 128, 512))


class _Progress:
    """Maps each stage's own 0..1 onto the whole job, so callers see one rising bar."""
    SPAN = {"load": (0.0, 0.05), "mask": (0.05, 0.12), "template": (0.12, 0.2), "network": (0.12, 0.3),
            "fit": (0.3, 0.85), "cleanup": (0.85, 0.97), "finish": (0.97, 1.0)}

    def __init__(self, callback):
        self.callback = callback
        self.last = 0.0

    def __call__(self, stage: str, fraction: float):
        if self.callback is not None:
            lo, hi = self.SPAN.get(stage, (0.0, 1.0))
            # max(): a stage's end and the next one's start differ by float rounding, and a bar must never step back.
            self.last = max(self.last, round(lo + (hi - lo) * float(np.clip(fraction, 0.0, 1.0)), 6))
            self.callback(stage, self.last)


def reconstruct(source, options: ReconstructionOptions | None = None, *, mask=None, progress=None,
                name: str | None = None) -> Reconstruction:
    """Reconstruct a closed, UV-mapped mesh from one picture (a path or an RGBA/RGB array, rows top-down).

    `mask` (optional path or array) overrides the automatic foreground extraction. `progress(stage, fraction)`
    is called throughout and may raise inference.errors.Cancelled to stop."""
    opts = (options or ReconstructionOptions()).validate()   # contract.OptionError is an InputError
    report = _Progress(progress)
    timings: dict[str, float] = {}
    info: dict = {}
    torch = _import_torch()
    from .device import describe_device, select_device

    device = select_device(opts.device, torch)

    t = time.perf_counter()
    report("load", 0.0)
    rgba, stem = read_source(source)
    name = name or stem
    if isinstance(source, (str, os.PathLike)):
        info.update(picture_facts(source))   # EXIF turn undone, frame used: the texture must match
    work = _working_copy(rgba)
    timings["load"] = time.perf_counter() - t

    t = time.perf_counter()
    report("mask", 0.0)
    if mask is not None:
        objects = object_masks(read_mask(mask, work.shape[:2]), smooth=False, keep_holes=not opts.fill_holes)
        info["mask_source"] = "user mask"
    else:
        objects, info["mask_source"] = extract_objects(work, keep_holes=not opts.fill_holes)
    info["object_count"] = len(objects)
    if not 0 <= int(opts.object_index) < len(objects):
        raise InputError(f"The picture holds {len(objects)} separate object(s); object {opts.object_index} "
                         f"does not exist (objects are numbered from 0, largest first).")
    m = objects[int(opts.object_index)]
    frame = Frame.from_box(bounding_box(m), work.shape[1], work.shape[0])
    grid = fit_grid_size(opts.template_vertices)
    mask_grid = frame.sample_grid(m.astype(np.float32), grid) > 0.5
    if not opts.fill_holes:
        mask_grid, info["holes"], info["hole_areas"] = _grid_holes(mask_grid)
    else:
        # Sampling can close a gap between two parts into a hole the picture does not have (holes_only_where).
        mask_grid = ndimage.binary_fill_holes(mask_grid)
    timings["mask"] = time.perf_counter() - t

    model = _resolve_model(opts.model, info)
    vertices, faces, reference = _starting_mesh(model, frame, work, m, mask_grid, device, opts, info, timings, report)
    if info.get("holes") and genus(vertices, faces) == 0:
        # No opening's rim could be meshed round (a chair's thin legs around the gap under its seat are thinner
        # than the template's marching cells): the holes cannot be kept, and a mask with an opening the mesh
        # does not have pulls the fit's surface into it (realval's chair_v2: F@0.05 0.36 against 0.50 filled).
        # Filling them adds every opening's area to the object; leaving out the rims the template could not mesh
        # removes only those thin parts. Whichever changes fewer pixels of the silhouette wins.
        without_thin = ndimage.binary_fill_holes(
            _meshed_part(reference if reference is not None else vertices, faces, mask_grid))
        filled_grid = ndimage.binary_fill_holes(mask_grid)
        if (without_thin ^ mask_grid).sum() < (filled_grid ^ mask_grid).sum():
            info["thin_parts_left_out"] = info["holes"]
            said = (f"{info['holes']} opening(s) have rims too thin to mesh at this density; those thin parts "
                    f"were left out rather than the openings filled (more vertices, or a larger picture of the "
                    f"object, may keep them).")
            _add_warning(info, said)
            info.update(holes=0, hole_areas=[])
            mask_grid = without_thin
    if info.get("holes") and genus(vertices, faces) == 0:
        info["holes_not_kept"] = info["holes"]
        said = (f"{info['holes']} opening(s) have rims too thin to mesh round at this density and were filled "
                f"(more vertices, or a larger picture of the object, may keep them).")
        _add_warning(info, said)
        info.update(holes=0, hole_areas=[])
        m, mask_grid = ndimage.binary_fill_holes(m), ndimage.binary_fill_holes(mask_grid)
        vertices, faces, reference = _starting_mesh(model, frame, work, m, mask_grid, device, opts, info, timings,
                                                    report)

    # The fit sees only the part of the silhouette the template reaches. Parts thinner than its triangles (a
    # chair's wire frame, thin legs) cannot be meshed at this density, and their outline points pulled the nearest
    # rim into webs between the legs (realval's trimesh_chair: silhouette IoU 0.774 -> 0.790; over all 84 views
    # F@0.05 0.6364 either way, F@0.02 0.3363 -> 0.3364, normal consistency 0.7073 -> 0.7075, IoU 0.9645 -> 0.9651).
    fit_mask = _meshed_part(reference if reference is not None else vertices, faces, mask_grid)
    thin_share = 1.0 - fit_mask.sum() / max(int(mask_grid.sum()), 1)
    if thin_share >= THIN_SHARE_SAID:
        info["thin_share"] = round(float(thin_share), 4)
        said = (f"Parts of the object thinner than its triangles (wires, thin legs: {100 * thin_share:.1f} % of the "
                f"silhouette) were left out: they are narrower than the mesh can follow. Model them on the result, for "
                f"example as curves with a bevel.")
        _add_warning(info, said)

    t = time.perf_counter()
    if opts.refine and opts.refine_steps > 0:
        from .fit import fit_to_silhouette
        vertices = fit_to_silhouette(vertices, faces, fit_mask, steps=int(opts.refine_steps), device=device,
                                     progress=report)
    timings["fit"] = time.perf_counter() - t

    if opts.untangle or opts.remesh:
        from .cleanup import clean_up
        report("cleanup", 0.0)
        vertices, faces, cleaned = clean_up(vertices, faces, opts.template_vertices, untangle=opts.untangle,
                                            remesh=opts.remesh, progress=report, reference=reference)
        if "self_intersections" in cleaned:
            info["self_intersections"] = cleaned["self_intersections"]
        info["remeshed"] = cleaned["remeshed"]
        if "remesh_rejected" in cleaned:
            info["remesh_rejected"] = cleaned["remesh_rejected"]
        timings.update({"cleanup" if k == "untangle" else k: v for k, v in cleaned["seconds"].items()})
        if opts.refine and opts.refine_steps > 0 and opts.untangle:
            t = time.perf_counter()
            vertices, info["settled"] = _settle(vertices, faces, fit_mask, device,
                                                lambda stage, fraction: report("cleanup", 1.0))
            timings["settle"] = time.perf_counter() - t

    t = time.perf_counter()
    report("finish", 0.0)
    image_u8 = np.round(rgba * 255.0).astype(np.uint8)
    full_frame = frame.rescaled(rgba.shape[1], rgba.shape[0])
    uvs = full_frame.uvs(vertices[:, :2])
    info.update(vertices=int(len(vertices)), faces=int(len(faces)), grid=grid, genus=genus(vertices, faces))
    if info.get("holes") and info["genus"] < info["holes"]:
        # The march closed the smallest openings (realval's beetle_v2: 3 in the mask, 2 handles in the mesh): the
        # report says what the mesh has, the lost ones as not kept.
        lost = info["holes"] - info["genus"]
        info.update(holes=info["genus"], hole_areas=info["hole_areas"][:info["genus"]],
                    holes_not_kept=(info.get("holes_not_kept") or 0) + lost)
        _add_warning(info, f"{lost} small opening(s) were too small to mesh round at this density and were closed "
                           f"(more vertices may keep them).")
    timings["finish"] = time.perf_counter() - t
    report("finish", 1.0)
    return Reconstruction(vertices=vertices.astype(np.float32), faces=faces.astype(np.int32), uvs=uvs,
                          image=image_u8, mask=m, mask_grid=mask_grid, name=name, device=describe_device(device), timings=timings,
                          info=info, image_frame=full_frame.image_frame())


def _starting_mesh(model, frame: Frame, work: np.ndarray, m: np.ndarray, mask_grid: np.ndarray, device, opts,
                   info: dict, timings: dict, report):
    """(vertices, faces, reference) before the fit: the learned prior's mesh (reference: its template), or the
    inflation template when no model runs, is too thin for the network's grid, or its weights fail."""
    t = time.perf_counter()
    vertices, faces, reference = None, None, None
    # The network's mask grid, once: the thinness check and the network read the same one.
    network_mask = holes_only_where(frame.sample_grid(m.astype(np.float32), NETWORK_GRID) > 0.5, mask_grid) \
        if model is not None else None
    if model is not None and not network_mask.any():
        # Thinner than a cell of the network's grid (a 1-pixel strip): the template's finer grids can still
        # mesh it, or say what to do; the network would only see an empty mask.
        info["warning"] = "The object is too thin for the learned prior's grid; the training-free path ran."
        model = None
    if model is not None:
        report("network", 0.0)
        try:
            network_vertices = min(int(opts.template_vertices), NETWORK_MAX_VERTICES) if opts.remesh \
                else int(opts.template_vertices)
            vertices, faces, reference, elevation = _apply_prior(model, frame, work, m, device, network_vertices,
                                                                 network_mask)
            info["network_vertices"] = int(len(vertices))
            info["model"] = model
            if elevation is not None:
                info["elevation"] = elevation   # Blender's Stand Upright uses it unless the artist types one
        except DependencyError as exc:
            # A missing or damaged weights file must not cost the artist their result.
            info["model"] = MODEL_NONE
            info["warning"] = f"{exc} Fell back to the training-free reconstruction."
        timings["network"] = time.perf_counter() - t
    if vertices is None:
        report("template", 0.0)
        vertices, faces = inflation_template(mask_grid, opts.template_vertices)
        info.setdefault("model", MODEL_NONE)
        timings["template"] = time.perf_counter() - t

    return vertices, faces, reference


# Steps of the second, short silhouette fit on the cleaned mesh. The untangler smooths the fitted surface where
# the network's front and back cross near the outline (a tenth of a raw mesh's faces on the torus and the can),
# which pulls the outline in: on realval the fit alone reached silhouette IoU 0.958, after the clean-up 0.947.
# Since a settling fit that crosses is untangled rather than dropped (_settle), 25 / 50 / 100 steps gave IoU
# 0.959 / 0.961 / 0.962, F@0.05 0.609 / 0.608 / 0.606, F@0.02 0.309 / 0.310 / 0.312 and normal consistency
# 0.686 / 0.690 / 0.695: 50 is the fewest that keep the silhouette promise (IoU >= 0.96) for 0.001 of F@0.05
# (docs/cleanup.md).
SETTLE_STEPS = 50


def _settle(vertices: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray, device, progress):
    """(vertices, whether they moved): the cleaned mesh fitted to the silhouette again for SETTLE_STEPS. A fit
    that makes a crossing is untangled once more and kept only when that leaves none and its outline is no worse
    than the cleaned mesh's (which comes back otherwise): rejecting it outright had thrown away realval's torus_v1
    with its hole kept, F@0.05 0.723 against the cleaned mesh's 0.671, for a handful of crossing faces. Untangling
    with the cleaned mesh as its reference settled realval's beetle_v1 and beetle_v2 with their openings kept
    (IoU of the mesh's projection 0.948 -> 0.971 and 0.944 -> 0.947), which smoothing alone had left crossed; on
    lionstatue_v2 that settled mesh's outline was worse (0.927 -> 0.914), so the outline check keeps the cleaned
    one there."""
    from .fit import fit_to_silhouette
    from .untangle import intersecting_faces, untangle

    settled = fit_to_silhouette(vertices, faces, mask_grid, steps=SETTLE_STEPS, device=device, progress=progress)
    if intersecting_faces(settled, faces).any():
        # The cleaned mesh is the crossing-free reference: where smoothing leaves a fold, only that region goes
        # back towards it and the rest keeps the fit's outline.
        settled, report = untangle(settled, faces, reference=vertices)
        if report["crossing_faces_after"] or _outline_error(settled, faces, mask_grid) > \
                _outline_error(vertices, faces, mask_grid):
            return vertices, False
    return settled.astype(np.float32), True


def _outline_error(vertices: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray) -> int:
    """Pixels where the mesh's projection and `mask_grid` disagree."""
    from .silhouette import mesh_silhouette
    return int((mesh_silhouette(vertices, faces, mask_grid.shape[0]) ^ mask_grid).sum())


# A mask pixel counts as meshed when it lies within this many of the template's edge lengths of the template's
# projection: its outline runs up to a marching cell inside the mask's (match_box), and only parts it does not
# reach at all (a wire, a thin bar) are too thin for it.
MESHED_REACH = 1.5
# Parts of the silhouette too thin to mesh are said in the report (and a warning) from this share on: below it they
# are a few rim pixels, not parts.
THIN_SHARE_SAID = 0.01


def _meshed_part(template: np.ndarray, faces: np.ndarray, mask_grid: np.ndarray) -> np.ndarray:
    """The pixels of `mask_grid` that the template's projection reaches (MESHED_REACH). Measured from its vertices
    rather than its rasterised triangles (4 ms against 15-30 ms): a point of a triangle lies within half an edge
    of a corner, so the reach from the vertices is half an edge longer."""
    from .frame import FRAME_HALF_EXTENT
    from .meshes import unique_edges

    size = mask_grid.shape[0]
    cell = 2 * FRAME_HALF_EXTENT / size
    edges = unique_edges(faces)
    edge = float(np.median(np.linalg.norm(template[edges[:, 0]] - template[edges[:, 1]], axis=1)))
    col = np.clip(((template[:, 0] + FRAME_HALF_EXTENT) / cell).astype(np.int64), 0, size - 1)
    row = np.clip(((FRAME_HALF_EXTENT - template[:, 1]) / cell).astype(np.int64), 0, size - 1)
    corners = np.zeros((size, size), bool)
    corners[row, col] = True
    reach = max(2.0, (MESHED_REACH + 0.5) * edge / cell)
    return mask_grid & (ndimage.distance_transform_edt(~corners) <= reach)


def _add_warning(info: dict, said: str) -> None:
    """`said` appended to the report's warning (one line for the artist, however many things went wrong)."""
    info["warning"] = f"{info['warning']} {said}" if info.get("warning") else said


def _grid_holes(mask_grid: np.ndarray):
    """The fit grid's mask with the openings that resampling made too small to mesh filled again, how many
    holes it keeps and their areas (shares of the filled silhouette)."""
    from scipy import ndimage
    filled = ndimage.binary_fill_holes(mask_grid)
    mask_grid = filled & ~through_holes(filled, mask_grid)
    sizes = hole_sizes(mask_grid)
    return mask_grid, len(sizes), [round(s / float(filled.sum()), 4) for s in sizes]


def _resolve_model(requested: str, info: dict) -> str | None:
    """The learned prior to run, or None for the training-free path."""
    requested = (requested or MODEL_NONE).lower()
    if requested == MODEL_NONE:
        return None
    try:
        from . import prior
    except ImportError:
        prior = None
    if requested == MODEL_AUTO:
        chosen = prior.default_model() if prior is not None else None
        if chosen is None and prior is not None:
            # No default because the manifest is unreadable (not because none ships): say so, as for damaged weights.
            from .networks.weights import read_manifest
            try:
                read_manifest()
            except DependencyError as exc:
                info["warning"] = f"{exc} Fell back to the training-free reconstruction."
        return chosen
    if prior is None or requested not in prior.available_models():
        known = ", ".join([MODEL_AUTO, MODEL_NONE] + (prior.available_models() if prior is not None else []))
        raise InputError(f"Unknown model '{requested}'. Choose one of: {known}.")
    return requested


def _apply_prior(model: str, frame: Frame, work: np.ndarray, m: np.ndarray, device, target_vertices: int,
                 mask_grid: np.ndarray | None = None):
    from . import prior

    rgb_grid = frame.sample_grid(work[:, :, :3], NETWORK_GRID)
    if mask_grid is None:
        mask_grid = frame.sample_grid(m.astype(np.float32), NETWORK_GRID) > 0.5
    vertices, faces, template = prior.apply_prior(model, rgb_grid, mask_grid, device, target_vertices, with_template=True)
    return vertices, faces, template, prior.estimate_elevation(model, rgb_grid, mask_grid, device)


__all__ = ["reconstruct", "ReconstructionOptions", "Reconstruction", "MeshFromImageError"]
