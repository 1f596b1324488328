"""Procedural training shapes, deterministic by (family, seed).

    from training.shapes import FAMILIES, make_shape, sample_surface, split
    shape = make_shape("chair", 17)           # Shape: vertices (N,3) f32, faces (M,3) i32, parts (N,) i16
    points, normals = sample_surface(shape, 4096, np.random.default_rng(0))

Canonical frame: +y up, front facing +z, bounding box centred at 0 with longest side 1.
"""
from .catalog import FAMILIES, FAMILY_WEIGHTS, HELDOUT_FAMILIES, TRAIN_FAMILIES, make_shape, shape_sdf, split
from .mesh import Shape, load_mesh_folder, normalise, sample_surface

__all__ = ["FAMILIES", "FAMILY_WEIGHTS", "HELDOUT_FAMILIES", "TRAIN_FAMILIES", "Shape", "load_mesh_folder", "make_shape",
           "normalise", "sample_surface", "shape_sdf", "split"]
