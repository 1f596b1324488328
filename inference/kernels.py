"""The CPU kernels the engine runs on, pinned so that every x86-64 machine with AVX2 computes the same bits
(standard library only: it runs when `inference` is imported, before anything imports numpy or torch).

Left to themselves, the libraries pick kernels per CPU: numpy its SIMD loops (AVX-512 ones with their own
exp, log and sine where present), OpenBLAS its matrix kernels (numpy's and scipy's), ATen its vectorised loops
(`ATEN_CPU_CAPABILITY`), MKL its matrix-product branch (on this project's AMD EPYC machines MKL's own pick gave
other bits than its AVX2 branch), oneDNN just-in-time convolution code tuned to the CPU's ISA and cache sizes.
Each rounds differently (about 40 % of the network's coordinates differed in the last bit; numpy without its
AVX2 loops changed the mug's mesh), and the fit and clean-up carry that into a different mesh: one picture gave
one mesh on a laptop and another on a farm node. Pinned instead, the AVX2 level everywhere:
- numpy without its AVX-512 loops (`NPY_DISABLE_CPU_FEATURES`; read when numpy is imported);
- OpenBLAS's Haswell kernels (`OPENBLAS_CORETYPE`; what it picks on AVX2 machines, Zen included; read when
  numpy or scipy load it);
- ATen's AVX2 loops (compiled code, the same on every AVX2 machine);
- MKL's AVX2 branch in its reproducibility mode (`MKL_CBWR`, made for exactly this: the same results on every
  processor that supports the branch, for a fixed thread count, which `threads.NETWORK_THREADS` fixes);
- the network's convolutions through ATen's own im2col and MKL's product instead of oneDNN
  (`network_kernels`), whose per-CPU code generation makes no such promise.
On the development machine this costs nothing measurable (network forward pass 113 -> 126 ms on one thread;
docs/speed.md). Machines without AVX2, ARM machines (other instructions, other libraries) and GPUs compute their
own bits and so their own meshes; each is still the same run to run. A process that imported numpy before
`inference` keeps numpy's and OpenBLAS's own choices (torch's are still pinned): entry points import
`inference` first."""
from __future__ import annotations

import os
import platform
from contextlib import contextmanager

# numpy 1.26's dispatched AVX-512 targets; a name a numpy build does not dispatch only warns (ImportWarning).
_NUMPY_AVX512 = "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL"
PINNED_ENVIRONMENT = {"NPY_DISABLE_CPU_FEATURES": _NUMPY_AVX512, "OPENBLAS_CORETYPE": "Haswell",
                      "ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"}


def cpu_has_avx2() -> bool:
    """Whether this x86-64 CPU runs AVX2 and FMA3, asked of the operating system (numpy cannot be asked: it
    chooses its loops when it is imported, which must come after the pin)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    system = platform.system()
    try:
        if system == "Linux":
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("flags"):
                        return {"avx2", "fma"} <= set(line.partition(":")[2].split())
            return False
        if system == "Windows":
            import ctypes
            return bool(ctypes.windll.kernel32.IsProcessorFeaturePresent(40))   # PF_AVX2_INSTRUCTIONS_AVAILABLE
        if system == "Darwin":
            import ctypes
            import ctypes.util
            libc = ctypes.CDLL(ctypes.util.find_library("c"))
            value, size = ctypes.c_int(0), ctypes.c_size_t(ctypes.sizeof(ctypes.c_int))
            found = libc.sysctlbyname(b"hw.optional.avx2_0", ctypes.byref(value), ctypes.byref(size), None, 0) == 0
            return found and value.value == 1
    except (OSError, AttributeError, ValueError):
        return False
    return False


def pin_cpu_kernels(environ=None) -> bool:
    """Set the pinned kernels in `environ` (the process's own by default) and say whether they apply here.

    Overrides what was there: a value inherited from a shell or a farm's job environment would otherwise give
    that machine its own meshes again (and OpenBLAS's Haswell kernels would not even run without AVX2, hence the
    check). Torch, MKL and ATen read theirs lazily, at their first use."""
    if not cpu_has_avx2():
        return False
    (os.environ if environ is None else environ).update(PINNED_ENVIRONMENT)
    return True


@contextmanager
def network_kernels():
    """Run the block's convolutions without oneDNN (on the CPU; other devices are unaffected)."""
    import torch

    # The flag itself, not torch.backends.mkldnn.flags(): that also sets oneDNN's TF32 switch, which warns on
    # builds without Intel GPU support.
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before
