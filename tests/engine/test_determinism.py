"""The same picture and options give the same mesh, bit for bit, whatever else the machine is doing: the
clean-up and the remesher stop on work budgets, never on the clock (a clock gave a laptop, a busy workstation
and a farm node different meshes, and the published scores depended on what ran beside them)."""
import hashlib
import subprocess
import sys
from pathlib import Path

from inference import ReconstructionOptions, reconstruct

MUG = Path(__file__).resolve().parents[2] / "examples" / "mug.png"


def _digest(reconstruction) -> str:
    h = hashlib.sha256()
    for array in (reconstruction.vertices, reconstruction.faces, reconstruction.uvs):
        h.update(array.tobytes())
    return h.hexdigest()


def test_one_picture_gives_one_mesh_with_the_machine_idle_or_busy():
    options = ReconstructionOptions()   # the default path: learned prior, fit, untangling, remeshing
    quiet = _digest(reconstruct(MUG, options))
    # Every core busy with something else: a time limit anywhere in the geometry would now cut work short.
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = _digest(reconstruct(MUG, options))
    finally:
        for p in burners:
            p.kill()
            p.wait()
    assert busy == quiet


def test_one_picture_gives_one_mesh_on_any_number_of_cpu_threads():
    """A laptop, a 16-core node and a `--jobs` worker (a share of the cores) run torch on different thread
    counts; the network's sums split over them, and the mug's mesh once differed between 1 and 2 threads."""
    import torch

    before = torch.get_num_threads()
    digests = set()
    try:
        for threads in (1, 3):
            torch.set_num_threads(threads)
            digests.add(_digest(reconstruct(MUG, ReconstructionOptions())))
    finally:
        torch.set_num_threads(before)
    assert len(digests) == 1


_DIGEST_SCRIPT = """
import hashlib, sys
from inference import ReconstructionOptions, reconstruct
from inference.template import inflation_height
r = reconstruct(sys.argv[1], ReconstructionOptions(model="none", template_vertices=800))
h = hashlib.sha256()
for array in (r.vertices, r.faces, r.uvs, inflation_height(r.mask_grid)):
    h.update(array.tobytes())
print(h.hexdigest())
"""


def test_the_training_free_mesh_does_not_depend_on_the_cpus_blas_or_simd_kernels():
    """Other CPUs run other BLAS kernels (OpenBLAS picks them per CPU) and other SIMD loops in numpy. The
    inflation's sparse solve ran on BLAS and its last bits differed between kernels (and with them, on some
    pictures, the mesh: realval's training-free path scored differently on two machines). The same kernels a Sandy Bridge or
    a Pentium 4 would get must give the same mesh."""
    import os
    import platform

    import pytest

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the kernel names are OpenBLAS's x86-64 ones")
    root = Path(__file__).resolve().parents[2]
    digests = set()
    for env in ({}, {"OPENBLAS_CORETYPE": "Prescott"},
                {"OPENBLAS_CORETYPE": "Sandybridge", "NPY_DISABLE_CPU_FEATURES": "AVX2,FMA3"}):
        out = subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT, str(MUG)], cwd=root, capture_output=True,
                             text=True, env={**os.environ, **env}, check=True)
        digests.add(out.stdout.strip().splitlines()[-1])
    assert len(digests) == 1
