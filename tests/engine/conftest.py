import pytest

from pictures import draw_object


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    import torch
    torch.set_num_threads(1)


@pytest.fixture
def object_png(tmp_path):
    p = tmp_path / "object.png"
    draw_object().save(p)
    return p


@pytest.fixture
def fast_options():
    from inference import ReconstructionOptions
    return ReconstructionOptions(template_vertices=800, refine_steps=60, device="cpu")
