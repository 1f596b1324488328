"""The learned prior averages its prediction for the picture with the mirrored prediction for the mirrored picture
(prior.MIRROR_AVERAGE), which makes it exactly mirror-equivariant: for a left-right symmetric picture, the mirrored
template gives the mirror image of the mesh, vertex for vertex."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from inference import networks, prior
from inference.networks import NETWORK_GRID
from inference.networks.templates import TemplateLevels

MIRROR = np.array([-1.0, 1.0, 1.0], np.float32)


def _vase():
    n = NETWORK_GRID
    im = Image.new("RGB", (n, n), (0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((0.3 * n, 0.35 * n, 0.7 * n - 1, 0.85 * n), fill=(180, 90, 60))
    d.rectangle((0.42 * n, 0.15 * n, 0.58 * n - 1, 0.5 * n), fill=(150, 80, 50))
    rgb = np.asarray(im, np.float32) / 255.0
    rgb = np.maximum(rgb, rgb[:, ::-1])   # exactly symmetric, whatever the drawing's pixel rounding
    return rgb, rgb.sum(axis=2) > 0


def _predictions(net, rgb, mask, monkeypatch):
    """(prediction on the template, prediction on the mirrored template)."""
    build = networks.build_template_for_inference
    plain = prior._predict(net, rgb, mask, 1500)[0]

    def mirrored(*args):
        t = build(*args)
        return TemplateLevels([v * MIRROR for v in t.vertices], [np.ascontiguousarray(f[:, ::-1]) for f in t.faces],
                              t.parents)
    monkeypatch.setattr(networks, "build_template_for_inference", mirrored)
    flipped = prior._predict(net, rgb, mask, 1500)[0]
    monkeypatch.setattr(networks, "build_template_for_inference", build)
    return plain, flipped


def test_the_prediction_is_mirror_equivariant(monkeypatch):
    import torch

    if prior.default_model() is None:
        pytest.skip("no shipped weights")
    net = prior._model(prior.default_model(), torch.device("cpu"))
    rgb, mask = _vase()
    plain, flipped = _predictions(net, rgb, mask, monkeypatch)
    assert np.abs(flipped - plain * MIRROR).max() < 1e-4
    # Without the average the network alone is far from it: the check above can fail.
    monkeypatch.setattr(prior, "MIRROR_AVERAGE", False)
    plain, flipped = _predictions(net, rgb, mask, monkeypatch)
    assert np.abs(flipped - plain * MIRROR).max() > 1e-3
