"""The family registry, the deterministic shape factory and the train / held-out split."""
from __future__ import annotations

import zlib

import numpy as np

from . import abstract, furniture, generic, household, organic, revolution, vehicles
from .mesh import Shape, shape_from_sdf
from .parts import Rand
from .sdf import SDF, union

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
    "package": household.package,
    "shoe": household.shoe,
    "kettle": household.kettle,
    "electronics": household.electronics,
    "guitar": household.guitar,
    "tool": abstract.tool,
    "extrusion": abstract.extruded,
    "superquadric": abstract.superquadric_family,
    "creature": generic.creature,
    "assembly": generic.assembly,
    "shell": generic.shell,
    "skeleton": generic.skeleton,
    "composition": None,   # defined below: it draws from the other training families
}

# Whole families never trained on. Chosen to be unlike the training families, so held-out scores
# measure generalisation: lamps (thin stems, hollow shades), boats (cut hulls, masts and sails),
# birds (tilted bodies, beaks, flat wings) - each has parts no training family has.
HELDOUT_FAMILIES = ("lamp", "boat", "bird")
TRAIN_FAMILIES = tuple(f for f in FAMILIES if f not in HELDOUT_FAMILIES)


def _unit(sdf: SDF) -> SDF:
    """`sdf` scaled so that its bounding box's longest side is 1, with its base centre at the origin."""
    scaled = sdf.scaled(1.0 / float((sdf.hi - sdf.lo).max()))
    centre = (scaled.lo + scaled.hi) / 2
    return scaled.moved((-centre[0], -scaled.lo[1], -centre[2]))


def composition(r: Rand) -> SDF:
    """Random compositions: mostly of primitives (see `abstract.composition`); sometimes two shapes of
    other *training* families (never held-out ones) stacked or side by side, like a vase on a
    table or a figure on a pedestal."""
    if not r.chance(0.35):
        return abstract.composition(r)
    pool = [f for f in TRAIN_FAMILIES if f != "composition"]
    first = _unit(FAMILIES[r.pick(pool)](r))
    second = _unit(FAMILIES[r.pick(pool)](r)).scaled(r.u(0.3, 0.8))
    if r.chance(0.5):   # on top, somewhere over the first one's footprint, sunk in a little
        x = r.u(first.lo[0], first.hi[0]) * 0.5
        z = r.u(first.lo[2], first.hi[2]) * 0.5
        return union(first, second.moved((x, float(first.hi[1]) - 0.04, z)))
    x = float(first.hi[0] - second.lo[0]) - 0.08   # beside, overlapping a little
    return union(first, second.moved((x, 0.0, r.u(-0.1, 0.1))))


FAMILIES["composition"] = composition

# How often the dataset draws each family relative to the others (default 1). The structure-random builders
# count double: they are what teaches the prior to read a shape it cannot name (see training/shapes/generic.py).
FAMILY_WEIGHTS = {"composition": 2.0, "creature": 2.0, "assembly": 2.0, "shell": 2.0, "skeleton": 2.0}

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
