"""Which torch device runs the networks and the fit: CUDA when present, then Apple MPS, else CPU."""
from __future__ import annotations

from .contract import DEVICES as CHOICES  # one list for every entry point
from .errors import InputError


def _cuda_available(torch) -> bool:
    return bool(torch.cuda.is_available())


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def select_device(preference: str = "auto", torch=None):
    """A torch.device for the preference. "auto" takes the best accelerator there is; asking for one that is
    not there is an error rather than a silent fall-back, so a farm node without its GPU is noticed."""
    if torch is None:
        import torch
    pref = (preference or "auto").lower()
    if pref not in CHOICES:
        raise InputError(f"Unknown device '{preference}'; choose one of auto, cpu, cuda, mps.")
    if pref == "cpu":
        return torch.device("cpu")
    if pref in ("cuda", "gpu"):
        if _cuda_available(torch):
            return torch.device("cuda")
        if pref == "gpu" and _mps_available(torch):
            return torch.device("mps")
        raise InputError("A GPU was requested but PyTorch sees no CUDA device here. Use the CPU (device 'cpu' or "
                         "'auto') or install a CUDA build of PyTorch.")
    if pref == "mps":
        if _mps_available(torch):
            return torch.device("mps")
        raise InputError("Apple MPS was requested but is not available here. Use device 'cpu' or 'auto'.")
    if _cuda_available(torch):
        return torch.device("cuda")
    if _mps_available(torch):
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device) -> str:
    """Human-readable name, e.g. 'cuda (NVIDIA H100, 79 GB)' or 'cpu (2 threads)'."""
    import torch

    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        return f"cuda ({p.name}, {p.total_memory / 2**30:.0f} GB)"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"
