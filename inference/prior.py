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
    centred on their own box as the scores centre them. Also what bench.evaluate runs checkpoints through."""
    import torch

    from .networks import build_template_for_inference
    from .networks.graph import pack_templates

    mask, image = _network_input(rgb_grid, mask_grid, next(net.parameters()).device)
    template = build_template_for_inference(net.config, mask, target_vertices)
    with torch.no_grad():
        vertices = net(image, pack_templates([template]).to(image.device))[-1].float().cpu().numpy()
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
    with torch.no_grad():
        return float(head(image_code(net, image))[0])
