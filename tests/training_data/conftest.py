import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """The machine's two cores are shared; one thread also keeps rendering timings stable."""
    import torch
    torch.set_num_threads(1)
