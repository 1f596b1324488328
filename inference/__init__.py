"""Mesh from Image's reconstruction engine: picture in, closed UV-mapped mesh out.

Runs without Blender (never import bpy here). Heavy imports (torch, scikit-image) happen inside the
functions that need them, so importing this package is cheap and a missing dependency becomes a
clear error at the moment it matters."""
from .kernels import pin_cpu_kernels

pin_cpu_kernels()   # before torch's first use in this process: one picture, one mesh, on every AVX2 machine

from .errors import Cancelled, DependencyError, InputError, MeshFromImageError, NoObjectError
from .result import Reconstruction, ReconstructionOptions


def reconstruct(source, options=None, *, mask=None, progress=None, name=None):
    from .pipeline import reconstruct as _reconstruct
    return _reconstruct(source, options, mask=mask, progress=progress, name=name)


__all__ = ["reconstruct", "Reconstruction", "ReconstructionOptions", "MeshFromImageError", "InputError",
           "NoObjectError", "DependencyError", "Cancelled"]
