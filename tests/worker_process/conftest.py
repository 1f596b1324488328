"""Fixtures for the worker tests: real worker processes run by this test interpreter (the project's venv).

The folder is not called tests/worker: under pytest's importlib mode (tests/pytest.ini) that name would register
the test folder as the module "worker" and shadow the real worker package."""
import time

import numpy as np
import pytest

from worker import WorkerClient

# One torch thread per worker: the test machine is small and shared, and the fit is fastest on one thread.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# A job that runs for tens of seconds, so there is time to cancel or kill it mid-way.
LONG_OPTIONS = {"template_vertices": 2500, "refine_steps": 4000, "device": "cpu"}
QUICK_OPTIONS = {"template_vertices": 400, "refine_steps": 20, "device": "cpu"}


def _ellipse_rgba(height=200, width=160) -> np.ndarray:
    """A float RGBA picture of an upright orange ellipse on transparency (rows top-down)."""
    img = np.zeros((height, width, 4), np.float32)
    yy, xx = np.mgrid[:height, :width]
    inside = ((xx - width / 2) / (0.38 * width)) ** 2 + ((yy - height / 2) / (0.42 * height)) ** 2 < 1
    img[inside] = [0.85, 0.45, 0.15, 1.0]
    return img


@pytest.fixture
def ellipse():
    return _ellipse_rgba()


@pytest.fixture
def quick_options():
    return dict(QUICK_OPTIONS)


@pytest.fixture
def long_options():
    return dict(LONG_OPTIONS)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A started worker shared by the tests of one module (start-up costs a couple of seconds)."""
    c = WorkerClient(log_dir=str(tmp_path_factory.mktemp("logs")), extra_env=WORKER_ENV)
    c.start()
    yield c
    c.stop()


def _wait_for_progress(job, stage=None, timeout=60.0):
    """Block until the job reports progress (in `stage`, if given); fail the test on time-out."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if job.done:
            pytest.fail(f"the job ended before reaching stage {stage!r}")
        current, _ = job.progress
        if current != "queued" and (stage is None or current == stage):
            return
        time.sleep(0.02)
    pytest.fail(f"no progress in stage {stage!r} within {timeout} s")


@pytest.fixture
def wait_for_progress():
    return _wait_for_progress


@pytest.fixture
def make_client(tmp_path):
    """Factory for private clients (own worker, own log folder), all stopped when the test ends."""
    made = []

    def make(**kwargs) -> WorkerClient:
        kwargs.setdefault("log_dir", str(tmp_path / "logs"))
        kwargs.setdefault("extra_env", WORKER_ENV)
        made.append(WorkerClient(**kwargs))
        return made[-1]

    yield make
    for c in made:
        c.stop()
