"""On-the-fly training data: procedural (or user) shapes rendered from random views.

    ds = ShapeViewDataset("train", size=128, points=4096, seed=0)
    loader = DataLoader(ds, batch_size=32, num_workers=1)

Each sample is a dict: image (3,S,S) f32, mask (1,S,S) f32 (augmented), mask_true (S,S) bool,
points / normals (P,3) f32 in the view's evaluation frame, elevation / azimuth f32 (0-d, radians),
family str, seed int. The stream is endless; stop after as many steps as you need.
"""
from __future__ import annotations

import os
import warnings
import zlib
from collections import OrderedDict

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from training.render import View, random_views, render_views
from training.shapes import FAMILIES, FAMILY_WEIGHTS, HELDOUT_FAMILIES, Shape, load_mesh_folder, make_shape, split as shape_split
from training.shapes.deform import random_deformation

# Bump when shapes or rendering change, so cached evaluation sets are rebuilt (5: compositions also draw the
# generic families).
GENERATOR_VERSION = 5
SEED_SPACE = 1_000_000
SAMPLE_KEYS = ("image", "mask", "mask_true", "points", "normals")


def _stream_identity() -> tuple[int, int]:
    """(index, count) of this data stream across DDP ranks and DataLoader workers."""
    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    info = get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * workers + worker, world * workers


def _draw_seed(family: str, split: str, rng: np.random.Generator) -> int:
    """A random shape seed of `family` that belongs to `split`."""
    if family in HELDOUT_FAMILIES:
        if split != "heldout":
            raise ValueError(f"{family} is a held-out family")
        return int(rng.integers(SEED_SPACE))
    if split == "heldout":
        return int(rng.integers(SEED_SPACE // 10)) * 10
    while True:
        seed = int(rng.integers(SEED_SPACE))
        if shape_split(family, seed) == "train":
            return seed


class ShapeCache:
    """Least-recently-used store of generated shapes, bounded by count."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()

    def get(self, key, build):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self._items[key] = value
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return value

    def keys(self) -> list:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)


class ShapeViewDataset(IterableDataset):
    """Endless stream of rendered views with ground-truth surface samples.

    split: "train" or "heldout" (see `training.shapes.split`). families: restrict to these (default:
    every family of the split). mesh_folder: also draw the user's meshes from this folder (see
    `training.shapes.load_mesh_folder`); with `families=[]` only those meshes are used. Families are drawn
    in proportion to `training.shapes.FAMILY_WEIGHTS`.
    Each visit to a shape renders `views_per_shape` views in one batch; a visit reuses a cached shape
    with probability `reuse` (shape generation costs about as much as rendering 8 views). Samples go
    through a shuffle buffer so that consecutive samples rarely share a shape. With probability `deform` a
    visit stretches, tapers and bends the shape first (`training.shapes.deform`; user meshes too). Shards: every
    (DDP rank, DataLoader worker) pair gets its own random stream, derived from `seed`."""

    def __init__(self, split: str = "train", size: int = 128, points: int = 4096, seed: int = 0,
                 views_per_shape: int = 8, families: list[str] | None = None, mesh_folder: str | None = None,
                 augment: bool = True, cache_size: int = 64, reuse: float = 0.5, shuffle_buffer: int = 64,
                 deform: float = 0.0, mesh_up: str = "y", mesh_share: float = 0.5):
        if split not in ("train", "heldout"):
            raise ValueError(f"split must be 'train' or 'heldout', not {split!r}")
        if families is None:
            families = [f for f in FAMILIES if split == "heldout" or f not in HELDOUT_FAMILIES]
        for f in families:
            if f not in FAMILIES:
                raise KeyError(f"unknown family {f!r}")
            if split == "train" and f in HELDOUT_FAMILIES:
                raise ValueError(f"{f} is held out and cannot be used for training")
        self.split = split
        self.size = size
        self.points = points
        self.seed = seed
        self.views_per_shape = views_per_shape
        self.families = list(families)
        weights = np.array([FAMILY_WEIGHTS.get(f, 1.0) for f in self.families], dtype=np.float64)
        self.family_probabilities = weights / weights.sum() if len(weights) else weights
        self.user_shapes: list[Shape] = load_mesh_folder(mesh_folder, mesh_up) if mesh_folder else []
        if not 0.0 <= mesh_share <= 1.0:
            raise ValueError(f"mesh_share is a probability, not {mesh_share}")
        self.mesh_share = mesh_share
        if not self.families and not self.user_shapes:
            raise ValueError("no families and no user meshes to draw from")
        self.augment = augment
        self.cache_size = cache_size
        self.reuse = reuse
        self.shuffle_buffer = shuffle_buffer
        if not 0.0 <= deform <= 1.0:
            raise ValueError(f"deform is a probability, not {deform}")
        self.deform = deform

    def _next_shape(self, rng: np.random.Generator, cache: ShapeCache) -> Shape:
        if len(cache) >= 4 and rng.random() < self.reuse:
            keys = cache.keys()
            key = keys[int(rng.integers(len(keys)))]
            return cache.get(key, None)
        # User meshes are drawn with probability mesh_share when procedural families are present too.
        if self.user_shapes and (not self.families or rng.random() < self.mesh_share):
            return self.user_shapes[int(rng.integers(len(self.user_shapes)))]
        while True:
            family = self.families[int(rng.choice(len(self.families), p=self.family_probabilities))]
            seed = _draw_seed(family, self.split, rng)
            try:
                return cache.get((family, seed), lambda: make_shape(family, seed))
            except RuntimeError as exc:   # make_shape found no valid draw: a rare dud, take another
                warnings.warn(str(exc))

    def __iter__(self):
        stream, _ = _stream_identity()
        rng = np.random.default_rng([self.seed, stream, zlib.crc32(self.split.encode())])
        cache = ShapeCache(self.cache_size)
        buffer: list[dict] = []
        while True:
            shape = self._next_shape(rng, cache)
            if self.deform and rng.random() < self.deform:
                shape = random_deformation(shape, rng)
            views = random_views(self.views_per_shape, rng)
            batch = render_views(shape, views, self.size, rng, points=self.points, augment=self.augment)
            buffer.extend(_unbatch(batch, shape))
            while len(buffer) >= self.shuffle_buffer:
                yield buffer.pop(int(rng.integers(len(buffer))))


def _unbatch(batch: dict, shape: Shape) -> list[dict]:
    samples = []
    for b in range(batch["image"].shape[0]):
        sample = {k: batch[k][b] for k in SAMPLE_KEYS}
        sample["elevation"] = batch["elevation"][b]
        sample["azimuth"] = batch["azimuth"][b]
        sample["family"] = shape.family
        sample["seed"] = int(shape.seed)
        samples.append(sample)
    return samples


def heldout_views(n_per_family: int = 10, size: int = 128, seed: int = 1234, points: int = 10000,
                  cache_dir: str | None = None, families: list[str] | None = None) -> list[dict]:
    """Fixed evaluation set: `n_per_family` single views of distinct shapes for every family, drawn
    only from held-out shapes (any seed of the held-out families, seeds divisible by 10 of the
    others). No augmentation apart from random realistic backgrounds; same dict format as the
    dataset (with `points` ground-truth samples, 10k by default as in our scores). Deterministic.
    With `cache_dir` the set is stored there as a .pt file and loaded on later calls. `families`
    restricts the set (default: all families; a family's samples do not depend on the others)."""
    families = list(FAMILIES) if families is None else list(families)
    path = None
    if cache_dir:
        tag = f"{zlib.crc32(','.join(families).encode()):08x}"
        name = f"heldout_v{GENERATOR_VERSION}_{tag}_{n_per_family}_{size}_{seed}_{points}.pt"
        path = os.path.join(cache_dir, name)
        if os.path.exists(path):
            return torch.load(path)
    samples = []
    for family in families:
        rng = np.random.default_rng([seed, zlib.crc32(family.encode())])
        seeds: list[int] = []
        while len(seeds) < n_per_family:
            s = _draw_seed(family, "heldout", rng)
            if s not in seeds:
                seeds.append(s)
        for s in seeds:
            shape = make_shape(family, s)
            view = random_views(1, rng)[0]
            batch = render_views(shape, [view], size, rng, points=points, augment=False)
            samples.extend(_unbatch(batch, shape))
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        torch.save(samples, path)
    return samples


__all__ = ["ShapeViewDataset", "heldout_views", "View", "GENERATOR_VERSION"]
