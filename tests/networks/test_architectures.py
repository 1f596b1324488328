"""Forward/backward shapes of both architectures and both templates on tiny inputs."""
import numpy as np
import pytest
import torch

from inference.networks import ModelConfig, build_model, build_templates, network_image
from inference.networks.graph import pack_templates
from synthetic import ellipsoid_sample


def _batch(config, n=2):
    samples = [ellipsoid_sample(i) for i in range(n)]
    templates = [build_templates(config, s["mask_true"].numpy()) for s in samples]
    images = torch.stack([torch.from_numpy(network_image(s["image"].numpy().transpose(1, 2, 0), s["mask_true"].numpy()))
                          for s in samples])
    return images, templates


@pytest.mark.parametrize("arch", ["p2m", "atlas"])
@pytest.mark.parametrize("template", ["inflation", "sphere"])
def test_forward_backward_shapes(arch, template):
    config = ModelConfig(arch=arch, template=template, final_vertices=200, hidden=32, code_dim=32)
    images, templates = _batch(config)
    packed = pack_templates(templates)
    model = build_model(config)
    outputs = model(images, packed)
    assert len(outputs) == config.levels == len(templates[0].vertices)
    for out, level in zip(outputs, packed.levels):
        assert out.shape == level.vertices.shape and out.dtype == torch.float32
    # An untrained model starts at its template (the output layer is initialised near zero).
    assert torch.allclose(outputs[-1], 0.5 * (outputs[-1] + packed.levels[-1].vertices), atol=0.05)
    outputs[-1].pow(2).sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.encoder.stages[0].down[0].weight.grad.abs().sum() > 0   # gradient reaches the image encoder


def test_p2m_levels_nest_and_finest_mesh_is_closed():
    import trimesh
    config = ModelConfig(arch="p2m", final_vertices=400)
    _, templates = _batch(config, 1)
    t = templates[0]
    counts = [len(v) for v in t.vertices]
    assert counts[0] < counts[1] < counts[2]
    # Unpooling keeps the coarse vertices first and adds one per coarse edge.
    assert np.allclose(t.vertices[1][:counts[0]], t.vertices[0])
    assert len(t.parents[0]) == counts[1] - counts[0]
    assert trimesh.Trimesh(t.vertices[2], t.faces[2], process=False).is_watertight


def test_packed_batch_keeps_samples_apart():
    """Neighbour means never mix vertices of different samples, and pooling reads each sample's own image."""
    from inference.networks.encoder import pool_features
    config = ModelConfig(arch="atlas", final_vertices=150)
    _, templates = _batch(config, 3)
    packed = pack_templates(templates)
    level = packed.levels[0]
    assert (level.batch[level.edges[:, 0]] == level.batch[level.edges[:, 1]]).all()
    maps = [torch.arange(3, dtype=torch.float32).view(3, 1, 1, 1).expand(3, 1, 8, 8).contiguous()]
    pooled = pool_features(maps, level.vertices, level.batch, level.counts)
    assert torch.allclose(pooled[:, 0], level.batch.float(), atol=1e-5)


def test_offset_smoothing_spreads_over_the_same_radius_at_any_density():
    """A lone offset spike is diffused over about the same distance (frame units) at the training density and at
    2.5x it, and a uniform offset passes unchanged."""
    from inference.networks.atlasnet import AtlasNetPrior

    class Spike(torch.nn.Module):
        def __init__(self, uniform=False):
            super().__init__()
            self.uniform = uniform

        def forward(self, h):
            z = torch.zeros(len(h), 3)
            if self.uniform:
                z[:, 0] = 0.01
            else:
                z[0, 0] = 1.0
            return z

    config = ModelConfig(arch="atlas", final_vertices=400, hidden=32, code_dim=32, smoothing=4)
    model = build_model(config)
    assert isinstance(model, AtlasNetPrior)
    images, _ = _batch(config, 1)
    mask = ellipsoid_sample(0)["mask_true"].numpy()
    radii = []
    for density in (400, 1000):
        packed = pack_templates([build_templates(config, mask, density)])
        v = packed.levels[0].vertices
        with torch.no_grad():
            model.out = Spike()
            weight = (model(images, packed)[-1] - v)[:, 0]
            model.out = Spike(uniform=True)
            uniform = model(images, packed)[-1] - v
        assert weight[0] < 0.5 and abs(float(weight.sum()) - 1.0) < 0.5       # spread out, mass roughly kept
        radii.append(float((weight.clamp_min(0) * (v - v[0]).norm(dim=1)).sum() / weight.clamp_min(0).sum()))
        assert torch.allclose(uniform, torch.tensor([0.01, 0.0, 0.0]).expand_as(uniform), atol=1e-6)
    assert 0.6 < radii[1] / radii[0] < 1.6, radii
