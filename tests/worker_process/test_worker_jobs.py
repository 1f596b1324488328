"""Jobs through a real worker process: results, progress, input errors, cancelling and time-outs."""
import time

import numpy as np
import pytest
from PIL import Image

from worker import WorkerError


def _edge_use_counts(faces: np.ndarray) -> np.ndarray:
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return counts


def test_array_round_trip_gives_a_closed_mesh_in_the_evaluation_frame(client, ellipse, quick_options):
    job = client.submit({"image_array": ellipse, "name": "ellipse", "options": quick_options})
    assert client.state == "busy"
    result = job.wait(120)

    v, f, uv = result.vertices, result.faces, result.uvs
    assert v.dtype == np.float32 and v.ndim == 2 and v.shape[1] == 3 and len(v) > 100
    assert f.dtype == np.int32 and f.shape[1] == 3 and f.min() >= 0 and f.max() < len(v)
    assert uv.shape == (len(v), 2) and uv.min() >= 0.0 and uv.max() <= 1.0
    assert np.all(_edge_use_counts(f) == 2), "every edge of a watertight mesh borders exactly two faces"
    # The ellipse is taller than wide: its height maps to 1, its width to 0.38/0.42 * 160/200 of that.
    extent = v.max(axis=0) - v.min(axis=0)
    assert extent[1] == pytest.approx(1.0, abs=0.06)
    assert extent[0] == pytest.approx(0.38 / 0.42 * 0.8, abs=0.06)

    assert result.name == "ellipse"
    assert result.device.startswith("cpu")
    assert set(result.timings) >= {"load", "mask", "fit"}
    assert result.info.vertices == len(v) and result.info.object_count == 1
    # The picture transform arrives with the mesh and is exactly the UVs' map.
    np.testing.assert_allclose(result.frame.uvs(v[:, :2]), uv, atol=1e-6)
    assert job.done and client.state == "ready"
    assert client.info["last_timing"] > 0
    assert job.result() is result, "result() may be called again"


def test_progress_events_rise_to_completion(client, ellipse, quick_options):
    job = client.submit({"image_array": ellipse, "options": quick_options})
    events = []
    while not job.done:
        events += job.poll()
        time.sleep(0.01)
    job.result()
    events += job.poll()
    assert events, "a job reports progress"
    assert all(e["type"] == "progress" and e["id"] == job.id for e in events)
    fractions = [e["fraction"] for e in events]
    assert fractions == sorted(fractions)
    assert {"load", "fit", "finish"} <= {e["stage"] for e in events}
    assert job.progress == ("finish", 1.0)
    assert job.poll() == [], "poll hands over each event once"


def test_image_path_with_mask_and_options_object(client, tmp_path, ellipse, quick_options):
    from inference.contract import ReconstructionOptions

    rgba = (ellipse * 255).astype(np.uint8)
    rgb = np.where(rgba[:, :, 3:] > 0, rgba[:, :, :3], 255).astype(np.uint8)   # white background, no alpha
    Image.fromarray(rgb).save(tmp_path / "photo.jpg", quality=95)
    Image.fromarray(rgba[:, :, 3]).save(tmp_path / "mask.png")

    job = client.submit({"image_path": str(tmp_path / "photo.jpg"), "mask_path": str(tmp_path / "mask.png"),
                         "options": ReconstructionOptions(**quick_options)})
    result = job.wait(120)
    assert result.name == "photo"
    assert result.info.mask_source == "user mask"


def test_input_error_names_the_problem_and_keeps_the_worker(client, tmp_path, ellipse, quick_options):
    pid = client.info["pid"]
    job = client.submit({"image_path": str(tmp_path / "missing.png"), "options": quick_options})
    with pytest.raises(WorkerError) as err:
        job.wait(60)
    assert err.value.kind == "input"
    assert "missing.png" in str(err.value)

    job = client.submit({"image_array": ellipse, "options": dict(quick_options, template_vertices=10)})
    with pytest.raises(WorkerError) as err:
        job.wait(60)
    assert err.value.kind == "input" and "template_vertices must be between 100 and 200000" in str(err.value)
    assert client.info["pid"] == pid and client.state == "ready"

    # An option this worker does not know is refused, not ignored (it would silently run the default).
    job = client.submit({"image_array": ellipse, "options": dict(quick_options, vertices=900)})
    with pytest.raises(WorkerError) as err:
        job.wait(60)
    assert err.value.kind == "input" and "Unknown reconstruction option(s): vertices" in str(err.value)
    assert client.info["pid"] == pid and client.state == "ready"


def test_model_none_runs_the_training_free_path(client, ellipse, quick_options):
    """Inflated Silhouette: the request says model "none", and the worker must not run the network."""
    learned = client.submit({"image_array": ellipse, "options": dict(quick_options, model="auto")}).wait(120)
    free = client.submit({"image_array": ellipse, "options": dict(quick_options, model="none")}).wait(120)
    assert learned.info.model != "none" and learned.info.network_vertices, "the shipped model ran by default"
    assert free.info.model == "none" and free.info.network_vertices is None
    assert "network" not in free.timings and "template" in free.timings


def test_cancel_mid_job_stops_promptly_and_the_worker_goes_on(client, ellipse, quick_options, long_options,
                                                              wait_for_progress):
    pid = client.info["pid"]
    running = client.submit({"image_array": ellipse, "options": long_options})
    queued = client.submit({"image_array": ellipse, "options": long_options})
    wait_for_progress(running, "fit")
    queued.cancel()
    cancelled_at = time.monotonic()
    running.cancel()
    for job in (running, queued):
        with pytest.raises(WorkerError) as err:
            job.wait(30)
        assert err.value.kind == "cancelled"
    assert time.monotonic() - cancelled_at < 5.0
    assert running.progress[1] < 0.9, "the long job was stopped well before its end"

    result = client.submit({"image_array": ellipse, "options": quick_options}).wait(120)
    assert len(result.vertices) > 0 and client.info["pid"] == pid


def test_wait_time_out_cancels_the_job(client, ellipse, long_options):
    job = client.submit({"image_array": ellipse, "options": long_options})
    started = time.monotonic()
    with pytest.raises(WorkerError) as err:
        job.wait(timeout=1.0)
    assert err.value.kind == "timeout" and time.monotonic() - started < 5.0
    with pytest.raises(WorkerError) as err:
        job.wait(30)
    assert err.value.kind == "cancelled"
