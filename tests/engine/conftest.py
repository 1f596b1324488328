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
    # The training-free path: these tests are about the pipeline's mechanics (the learned default has its own).
    return ReconstructionOptions(template_vertices=800, refine_steps=60, device="cpu", model="none")
