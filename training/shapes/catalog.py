"""The family registry, the deterministic shape factory and the train / held-out split."""
from __future__ import annotations

import zlib

import numpy as np

from . import abstract, furniture, organic, revolution, vehicles
from .mesh import Shape, shape_from_sdf
from .parts import Rand
from .sdf import SDF

# family name -> builder(Rand) -> SDF. Builders return shapes in their own units; make_shape normalises.
FAMILIES: dict = {
    "chair": furniture.chair,
    "table": furniture.table,
    "sofa": furniture.sofa,
    "bench": furniture.bench,
    "shelf": furniture.shelf,
    "bed": furniture.bed,
    "lamp": furniture.lamp,
    "car": vehicles.car,
    "plane": vehicles.plane,
    "boat": vehicles.boat,
    "bottle": revolution.bottle,
    "vase": revolution.vase,
    "mug": revolution.mug,
    "bowl": revolution.bowl,
    "quadruped": organic.quadruped,
    "biped": organic.biped,
    "bird": organic.bird,
    "fish": organic.fish,
    "blob": organic.blob,
    "rock": organic.rock,
    "tree": organic.tree,
    "tool": abstract.tool,
    "extrusion": abstract.extruded,
    "superquadric": abstract.superquadric_family,
    "composition": abstract.composition,
}

# Whole families never trained on. Chosen to be unlike the training families, so held-out scores
# measure generalisation: lamps (thin stems, hollow shades), boats (cut hulls, masts and sails),
# birds (tilted bodies, beaks, flat wings) - each has parts no training family has.
HELDOUT_FAMILIES = ("lamp", "boat", "bird")
TRAIN_FAMILIES = tuple(f for f in FAMILIES if f not in HELDOUT_FAMILIES)

# Every seed divisible by this is held out in the training families too.
HELDOUT_SEED_MODULUS = 10
MAX_ATTEMPTS = 8


def split(family: str, seed: int) -> str:
    """"heldout" for held-out families and for seeds divisible by 10; "train" otherwise."""
    if family not in FAMILIES:
        raise KeyError(f"unknown family {family!r}")
    if family in HELDOUT_FAMILIES or seed % HELDOUT_SEED_MODULUS == 0:
        return "heldout"
    return "train"


def _rng(family: str, seed: int, attempt: int) -> np.random.Generator:
    # crc32 of the name (not hash(), which is salted per process) keeps families independent.
    return np.random.default_rng([zlib.crc32(family.encode()), int(seed), attempt])


def shape_sdf(family: str, seed: int, attempt: int = 0) -> SDF:
    """The unmeshed SDF of (family, seed) (for a given retry attempt)."""
    return FAMILIES[family](Rand(_rng(family, seed, attempt)))


def make_shape(family: str, seed: int, resolution: int = 72) -> Shape:
    """Build, mesh and normalise shape `seed` of `family`. Deterministic: the same arguments
    always give the same mesh. A random draw that produces no surface (rare: a carving that removes
    everything) is redrawn with the next attempt number, which is deterministic as well."""
    if family not in FAMILIES:
        raise KeyError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    last_error = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            return shape_from_sdf(shape_sdf(family, seed, attempt), family, seed, resolution)
        except ValueError as exc:
            last_error = exc
    raise RuntimeError(f"{family}/{seed}: no valid shape in {MAX_ATTEMPTS} attempts: {last_error}")
