"""The learned shape prior as the pipeline sees it: which models ship, and one call that turns the
network-grid image and mask into a closed mesh in the evaluation frame (before the silhouette fit)."""
from __future__ import annotations

import numpy as np

from .contract import default
from .errors import DependencyError, InputError
from .networks import NETWORK_GRID

# Loaded models stay in memory for the process: loading costs ~0.1-0.3 s, a reconstruction may run many times.
_CACHE: dict[tuple[str, str], object] = {}
# Networks handed over in-process (bench.realval scores a training checkpoint through the product's own path
# this way); never persisted, so an installation only ever offers what ships.
_REGISTERED: dict[str, object] = {}


def available_models() -> list[str]:
    from .networks.weights import read_manifest
    try:
        shipped = sorted(read_manifest()["models"])
    except DependencyError:
        shipped = []
    return shipped + sorted(set(_REGISTERED) - set(shipped))


def register_model(name: str, net) -> str:
    """Make a loaded network (with `.config`, eval mode) selectable by `name` for this process, as if it
    shipped; returns the name as the pipeline matches it (lower case)."""
    key = name.lower()
    _REGISTERED[key] = net.eval()
    for cached in [k for k in _CACHE if k[0] == key]:
        del _CACHE[cached]
    return key


def unregister_model(name: str) -> None:
    """Forget a network registered with register_model (scorers do, so it does not outlive their call)."""
    key = name.lower()
    _REGISTERED.pop(key, None)
    for cached in [k for k in _CACHE if k[0] == key]:
        del _CACHE[cached]


def default_model() -> str | None:
    """The model 'auto' picks, or None when no weights ship (the pipeline then runs without a network)."""
    from .networks.weights import read_manifest
    try:
        manifest = read_manifest()
    except DependencyError:
        return None
    name = manifest.get("default")
    return name if name in manifest["models"] else None


def _model(name: str, device):
    from .networks.weights import load_model
    key = (name, str(device))
    if key not in _CACHE:
        _CACHE[key] = _REGISTERED[name].to(device) if name in _REGISTERED else load_model(name, device)
    return _CACHE[key]


def _to_network_grid(array: np.ndarray, order: int) -> np.ndarray:
    if array.shape[0] == NETWORK_GRID and array.shape[1] == NETWORK_GRID:
        return array
    from skimage.transform import resize
    return resize(array.astype(np.float32), (NETWORK_GRID, NETWORK_GRID) + array.shape[2:], order=order,
                  anti_aliasing=order > 0)


def _network_input(rgb_grid: np.ndarray, mask_grid: np.ndarray, device):
    """(mask on the network grid, (1, 4, R, R) network image on `device`) for one picture."""
    import torch

    from .networks import network_image

    mask = _to_network_grid(np.asarray(mask_grid, bool).astype(np.float32), 0) > 0.5
    if not mask.any():
        raise InputError("The mask is empty: there is no object to reconstruct.")
    rgb = _to_network_grid(np.asarray(rgb_grid, np.float32), 1)
    return mask, torch.from_numpy(network_image(rgb, mask))[None].to(device)


def apply_prior(model: str, rgb_grid: np.ndarray, mask_grid: np.ndarray, device=None,
                target_vertices: int = default("template_vertices"),
                with_template: bool = False):
    """Closed mesh (vertices float32 (N, 3), faces int32 (M, 3)) predicted by `model` for one picture; with
    `with_template` also the template's vertices (same faces), which the clean-up falls back towards where the
    network folded the surface too deeply to smooth out.

    rgb_grid (R, R, 3) floats in [0, 1] and mask_grid (R, R) bool cover the frame square [-0.55, 0.55]^2.
    `target_vertices` sets the template density for the AtlasNet-style models (they map points one by one,
    so any density works); the Pixel2Mesh-style models always refine their own 3-level hierarchy."""
    import torch

    vertices, faces, start = predict(_model(model, device or torch.device("cpu")), rgb_grid, mask_grid, target_vertices)
    return (vertices, faces, start) if with_template else (vertices, faces)


def predict(net, rgb_grid: np.ndarray, mask_grid: np.ndarray, target_vertices: int):
    """(vertices, faces, template vertices) of a loaded network (on any device) for one picture, both depths
    centred on their own box as the scores centre them. Also what bench.evaluate runs checkpoints through.

    A silhouette with holes (Fill Holes off) gets the network's mesh of the filled silhouette carried onto the
    holed template (`_onto_holed_template`)."""
    from scipy import ndimage

    mask = np.asarray(mask_grid, bool)
    filled = ndimage.binary_fill_holes(mask)
    if filled.sum() == mask.sum():
        return _predict(net, rgb_grid, mask, target_vertices)
    return _onto_holed_template(net, *_predict(net, rgb_grid, filled, target_vertices), mask, target_vertices)


# Neighbours of the filled template that place one vertex of the holed one (inverse-distance weights in x, y).
TRANSFER_NEIGHBOURS = 4
# How a holed vertex's depth share t (its depth over the filled template's there) places it between the network's
# back (-1) and front (+1): sign(t) |t|^WALL_EXPONENT. The holed template eases its depth to zero over a wide band
# around each opening, and placed in proportion (exponent 1) the walls became a thin lip well inside the object;
# a real opening's walls are the object's own surface turning inwards. A smaller exponent raises F@0.05 and
# lowers the silhouette IoU of the openings (both splats unfilled): on realval's torus, Fill Holes off, exponent
# 1 / 0.5 / 0.25 / 0.1 gave F@0.05 0.673 / 0.682 / 0.699 / 0.705 and IoU 0.891 / 0.873 / 0.881 / 0.872, scissors
# 0.438 / 0.442 / 0.448 / 0.453 and 0.941 / 0.936 / 0.935 / 0.927 (Fill Holes on: torus 0.713 / 0.892, scissors
# 0.445 / 0.932); the chair 0.30 at every exponent. 0.25 keeps most of the gain in both. (Those IoUs sampled the
# mesh at half the truth's density, which speckles an unfilled splat; bench/holes_realval.py no longer does.)
WALL_EXPONENT = 0.25
# Frame units over which the network's x, y movement fades out towards a hole (zero on its rim, whole from this far
# away; ~2.3 cells of the network grid). Over the filled silhouette the network made up a membrane where the hole
# is, and its sideways moves near the hole pull the carried walls across it: the bundled mug's handle came out 22 %
# open after the carry (the holed template: 67 %) and 49 % in the final mesh; faded, 41 % and 83 %, silhouette IoU
# 0.967 -> 0.985. Wider fades cost the torus's shape (0.05: F@0.05 0.692 -> 0.665 after the carry).
HOLE_XY_FADE = 0.02


def _onto_holed_template(net, vertices, faces, start, mask_grid, target_vertices):
    """The network's closed mesh for the filled silhouette, carried onto the holed silhouette's template: each
    holed vertex goes between the network's front and back surfaces at its x, y, towards the front or back by
    its depth's share of the filled template's there (WALL_EXPONENT), so the walls inside a hole stay between the
    two, and the network's sideways moves fade out towards each hole (HOLE_XY_FADE). The networks were trained on
    filled silhouettes far more than on holed ones: run on the holed template itself, the shipped one made
    realval's torus_v1 F@0.05 0.453 against 0.700 filled; carried, 0.660 (docs/cleanup.md)."""
    from scipy.spatial import cKDTree

    from .networks import build_template_for_inference

    holed = build_template_for_inference(net.config, _to_network_grid(mask_grid.astype(np.float32), 0) > 0.5,
                                         target_vertices)
    target = np.array(holed.vertices[-1], np.float32)
    sides = []
    for on_side in (start[:, 2] >= 0, start[:, 2] <= 0):
        ids = np.flatnonzero(on_side)
        distance, nearest = cKDTree(start[ids, :2]).query(target[:, :2], k=min(TRANSFER_NEIGHBOURS, len(ids)))
        distance, nearest = distance.reshape(len(target), -1), ids[nearest.reshape(len(target), -1)]
        w = 1.0 / np.maximum(distance, 1e-6)
        w /= w.sum(axis=1, keepdims=True)
        sides.append(((w[..., None] * vertices[nearest]).sum(axis=1), (w * np.abs(start[nearest, 2])).sum(axis=1),
                      (w[..., None] * start[nearest, :2]).sum(axis=1)))
    (front, front_depth, front_start), (back, back_depth, back_start) = sides
    depth = np.where(target[:, 2] >= 0, front_depth, back_depth)
    t = np.clip(target[:, 2] / np.maximum(depth, 1e-6), -1.0, 1.0)
    t = (np.sign(t) * np.abs(t) ** WALL_EXPONENT)[:, None]
    out = 0.5 * (front + back) + t * 0.5 * (front - back)
    moved = out[:, :2] - (0.5 * (front_start + back_start) + t * 0.5 * (front_start - back_start))
    out[:, :2] = target[:, :2] + _hole_fade(mask_grid, target[:, :2])[:, None] * moved
    for v in (out, target):
        v[:, 2] -= 0.5 * (v[:, 2].max() + v[:, 2].min())
    return out.astype(np.float32), holed.faces[-1].astype(np.int32), target


def _hole_fade(mask_grid: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Per point: its distance to the nearest hole of the mask over HOLE_XY_FADE, clipped to [0, 1]."""
    from scipy import ndimage

    from .frame import FRAME_HALF_EXTENT

    mask = np.asarray(mask_grid, bool)
    size = mask.shape[0]
    cell = 2 * FRAME_HALF_EXTENT / size
    distance = ndimage.distance_transform_edt(~(ndimage.binary_fill_holes(mask) & ~mask)) * cell
    col = np.clip(((xy[:, 0] + FRAME_HALF_EXTENT) / cell).astype(np.int64), 0, size - 1)
    row = np.clip(((FRAME_HALF_EXTENT - xy[:, 1]) / cell).astype(np.int64), 0, size - 1)
    return np.clip(distance[row, col] / HOLE_XY_FADE, 0.0, 1.0)


def _network_threads(device):
    """The forward pass on threads.NETWORK_THREADS CPU threads and the pinned kernels (`kernels`): the same sums,
    so the same mesh, on any machine; an accelerator's own parallelism is left alone."""
    from contextlib import ExitStack

    from .kernels import network_kernels
    from .threads import NETWORK_THREADS, torch_threads
    stack = ExitStack()
    if getattr(device, "type", str(device)) == "cpu":
        stack.enter_context(torch_threads(NETWORK_THREADS))
        stack.enter_context(network_kernels())
    return stack


# The network runs on the picture and on its mirror image (with the mirrored template) and the two predictions,
# mirrored back, are averaged vertex for vertex. Training mirrors samples at random, so both are in distribution;
# on realval the default path went F@0.05 0.608 -> 0.611, F@0.02 0.310 -> 0.314, normal consistency 0.690 ->
# 0.692 (IoU 0.961 -> 0.960), for a second forward pass (training/README.md).
MIRROR_AVERAGE = True


def _predict(net, rgb_grid: np.ndarray, mask_grid: np.ndarray, target_vertices: int):
    import torch

    from .networks import build_template_for_inference
    from .networks.graph import pack_templates
    from .networks.templates import TemplateLevels

    mask, image = _network_input(rgb_grid, mask_grid, next(net.parameters()).device)
    template = build_template_for_inference(net.config, mask, target_vertices)
    with torch.no_grad(), _network_threads(image.device):
        vertices = net(image, pack_templates([template]).to(image.device))[-1].float().cpu().numpy()
        if MIRROR_AVERAGE:
            # x -> -x is the image's columns reversed (the frame is centred); faces turn to stay outward.
            mirror = np.array([-1.0, 1.0, 1.0], np.float32)
            mirrored = TemplateLevels([v * mirror for v in template.vertices],
                                      [np.ascontiguousarray(f[:, ::-1]) for f in template.faces], template.parents)
            flipped = net(torch.flip(image, dims=[3]), pack_templates([mirrored]).to(image.device))[-1]
            vertices = 0.5 * (vertices + flipped.float().cpu().numpy() * mirror)
    start = np.array(template.vertices[-1], np.float32)
    for v in (vertices, start):
        v[:, 2] -= 0.5 * (v[:, 2].max() + v[:, 2].min())
    return vertices.astype(np.float32), template.faces[-1].astype(np.int32), start


def estimate_elevation(model: str, rgb_grid: np.ndarray, mask_grid: np.ndarray, device=None) -> float | None:
    """Camera elevation (radians, positive = looking down) estimated by the model's elevation head, or None
    when no head was trained for this model."""
    import torch

    from .networks.elevation import image_code

    net = _model(model, device or torch.device("cpu"))
    head = getattr(net, "elevation_head", None)
    if head is None:
        return None
    _, image = _network_input(rgb_grid, mask_grid, next(net.parameters()).device)
    with torch.no_grad(), _network_threads(image.device):
        return float(head(image_code(net, image))[0])
