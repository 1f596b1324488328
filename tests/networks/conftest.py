import os
import sys

import pytest

# The tests import their ellipsoid stand-ins as a plain module (and spawned DDP workers need it too).
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(autouse=True, scope="session")
def _two_threads():
    import torch
    torch.set_num_threads(2)


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    """Point the shipped-weights location (and the prior's model cache) at an empty temporary folder."""
    import inference.networks.weights as weights
    import inference.prior as prior
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path / "weights")
    monkeypatch.setattr(prior, "_CACHE", {})
    return tmp_path / "weights"
