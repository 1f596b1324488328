"""Tiny stand-ins for training.dataset's samples: random ellipsoids, seen along z.

The real dataset renders procedural shapes; these tests are about the networks and the training loop, so
they use shapes whose silhouette, surface points and normals are exact and cost nothing to make."""
from __future__ import annotations

import os
import sys
import types

import numpy as np
import torch

from inference.frame import grid_coordinates


def ellipsoid_sample(seed: int, size: int = 32, points: int = 512) -> dict:
    rng = np.random.default_rng(seed)
    radii = rng.uniform(0.2, 0.5, 3)
    radii[:2] *= 0.5 / radii[:2].max()          # the silhouette's longer side is 1, as in the frame
    d = rng.normal(size=(points, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    pts = (d * radii).astype(np.float32)
    nrm = pts / radii ** 2
    nrm = (nrm / np.linalg.norm(nrm, axis=1, keepdims=True)).astype(np.float32)
    g = grid_coordinates(size)
    mask = ((g[..., 0] / radii[0]) ** 2 + (g[..., 1] / radii[1]) ** 2) < 1.0
    shade = np.clip(0.4 + 0.6 * np.sqrt(np.clip(1 - (g[..., 0] / radii[0]) ** 2 - (g[..., 1] / radii[1]) ** 2, 0, 1)), 0, 1)
    image = np.stack([shade * c for c in rng.uniform(0.3, 1.0, 3)]).astype(np.float32) * mask
    return {"image": torch.from_numpy(image), "mask": torch.from_numpy(mask[None].astype(np.float32)),
            "mask_true": torch.from_numpy(mask), "points": torch.from_numpy(pts), "normals": torch.from_numpy(nrm),
            "elevation": 0.0, "azimuth": 0.0, "family": "ellipsoid", "seed": seed}


class EllipsoidDataset(torch.utils.data.IterableDataset):
    """Same constructor and sample keys as training.dataset.ShapeViewDataset (images are 32x32 whatever the size)."""

    def __init__(self, split="train", size=32, points=512, seed=0, views_per_shape=8, families=None, mesh_folder=None,
                 deform=0.0, mesh_up="y", mesh_share=0.5):
        self.points, self.seed = points, seed

    def __iter__(self):
        i = self.seed * 100_000
        while True:
            yield ellipsoid_sample(i, 32, self.points)
            i += 1


def heldout_views(n_per_family=10, size=32, seed=1234, cache_dir=None):
    return [{k: (v.numpy() if torch.is_tensor(v) else v) for k, v in ellipsoid_sample(seed + i, 32, 512).items()}
            for i in range(n_per_family)]


def install_fake_dataset(monkeypatch=None) -> None:
    """Make `training.dataset` resolve to the ellipsoids (in this process; until the test ends when given
    pytest's monkeypatch)."""
    module = types.ModuleType("training.dataset")
    module.ShapeViewDataset = EllipsoidDataset
    module.heldout_views = heldout_views
    if monkeypatch is not None:
        monkeypatch.setitem(sys.modules, "training.dataset", module)
    else:
        sys.modules["training.dataset"] = module


def ddp_worker(rank, world, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
    install_fake_dataset()
    from training.train import main
    model = main(["--out", out, "--arch", "atlas", "--train-vertices", "150", "--hidden", "32", "--batch", "2",
                    "--workers", "0", "--log-every", "1", "--eval-minutes", "0", "--steps", "3", "--device", "cpu"])
    # Each rank saw different data; DDP's gradient averaging must still have kept the replicas identical.
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, os.path.join(out, f"rank{rank}.pt"))
