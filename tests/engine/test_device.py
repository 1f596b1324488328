from types import SimpleNamespace

import pytest
import torch

from inference import InputError
from inference.device import describe_device, select_device


def fake_torch(cuda: bool, mps: bool):
    """torch's availability flags as a machine with or without accelerators would report them."""
    return SimpleNamespace(device=torch.device, cuda=SimpleNamespace(is_available=lambda: cuda),
                           backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)))


@pytest.mark.parametrize("cuda,mps,expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(cuda, mps, expected):
    assert select_device("auto", fake_torch(cuda, mps)).type == expected


def test_explicit_choices():
    assert select_device("cpu", fake_torch(True, True)).type == "cpu"
    assert select_device("cuda", fake_torch(True, False)).type == "cuda"
    assert select_device("gpu", fake_torch(False, True)).type == "mps"
    with pytest.raises(InputError, match="no CUDA"):
        select_device("cuda", fake_torch(False, False))
    with pytest.raises(InputError, match="MPS"):
        select_device("mps", fake_torch(True, False))
    with pytest.raises(InputError):
        select_device("quantum", fake_torch(False, False))


def test_this_machine():
    d = select_device("auto")
    assert d.type == ("cuda" if torch.cuda.is_available() else d.type)
    assert describe_device(d).startswith(d.type)
