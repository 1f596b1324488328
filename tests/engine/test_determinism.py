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
h = hashlib.sha256()
for model in ("auto", "none"):
    r = reconstruct(sys.argv[1], ReconstructionOptions(model=model))
    for array in (r.vertices, r.faces, r.uvs, inflation_height(r.mask_grid)):
        h.update(array.tobytes())
import numpy, torch
print(torch.backends.cpu.get_cpu_capability(), h.hexdigest())
"""

# Each stands in for a CPU that would choose other kernels than this one: numpy without its AVX2 loops and
# OpenBLAS's Pentium 4 kernels, ATen's and MKL's and oneDNN's most basic ones. Each changed the mug's mesh before
# the engine pinned its kernels (inference/kernels.py).
OTHER_CPUS = ({"OPENBLAS_CORETYPE": "Prescott", "NPY_DISABLE_CPU_FEATURES": "AVX2,FMA3"},
              {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"})


def test_one_picture_gives_one_mesh_whatever_kernels_the_cpu_would_choose():
    """Other CPUs run other kernels: numpy picks SIMD loops, OpenBLAS, ATen and MKL their kernels, oneDNN generates
    code, all per CPU, and each rounds differently; the network's coordinates and the inflation's solve differed
    in the last bit, and with them the mesh (realval's training-free path once scored differently on two
    machines). The engine pins one set on every AVX2 machine, whatever the process inherited. Both the learned
    and the training-free path."""
    import os

    import pytest

    from inference.kernels import cpu_has_avx2

    if not cpu_has_avx2():
        pytest.skip("the engine pins its kernels on AVX2 machines only")
    root = Path(__file__).resolve().parents[2]
    answers = set()
    for env in ({},) + OTHER_CPUS:
        out = subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT, str(MUG)], cwd=root, capture_output=True,
                             text=True, env={**os.environ, **env}, check=True)
        answers.add(out.stdout.strip().splitlines()[-1])
    assert len(answers) == 1
    assert answers.pop().startswith("AVX2 ")


def test_the_pin_reaches_numpy_and_torch_before_they_choose():
    """What the mesh test cannot see on an AVX2 machine: with an AVX-512 numpy or ATen the pin must hold too. The
    inherited environment asks for other kernels; after `import inference` numpy has no AVX-512 loops, and ATen
    runs its AVX2 ones."""
    import os

    import pytest

    from inference.kernels import PINNED_ENVIRONMENT, cpu_has_avx2

    if not cpu_has_avx2():
        pytest.skip("the engine pins its kernels on AVX2 machines only")
    script = ("import inference, os, numpy, torch\n"
              "from numpy.core._multiarray_umath import __cpu_features__ as f\n"
              "print(torch.backends.cpu.get_cpu_capability(), f['AVX2'], f['AVX512F'], f['AVX512_SKX'],"
              " *(os.environ[k] for k in sorted(inference.kernels.PINNED_ENVIRONMENT)), sep='|')")
    env = {**os.environ, **OTHER_CPUS[0], **OTHER_CPUS[1]}
    out = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, env=env, check=True).stdout.strip().splitlines()[-1]
    pinned = [PINNED_ENVIRONMENT[k] for k in sorted(PINNED_ENVIRONMENT)]
    assert out.split("|") == ["AVX2", "True", "False", "False", *pinned]
