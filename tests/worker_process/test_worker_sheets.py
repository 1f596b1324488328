"""The "reconstruct_views" job through a real worker process: a reference sheet in, a closed textured mesh out."""
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference import contract
from worker import WorkerError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from sheet_pictures import box, cylinder, sheet  # noqa: E402

OPTIONS = {"template_vertices": 600, "device": "cpu"}


def _edge_use_counts(faces):
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    return np.unique(edges, axis=0, return_counts=True)[1]


@pytest.fixture(scope="module")
def sheet_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sheet")
    paths = {}
    for name, rgba in sheet(cylinder(), ["front", "right", "top"]).items():
        paths[name] = folder / f"mug_{name}.png"
        Image.fromarray(rgba, "RGBA").save(paths[name])
    return {k: str(v) for k, v in paths.items()}


def test_sheet_job_answers_a_closed_coloured_mesh_with_its_views(client, sheet_files):
    job = client.submit_views(sheet_files, options=OPTIONS, name="cyl")
    result = job.wait(180)
    assert isinstance(result, contract.SheetResult)
    v, f, c = result.vertices, result.faces, result.vertex_colors
    assert v.dtype == np.float32 and f.dtype == np.int32 and c.dtype == np.uint8
    assert c.shape == (len(v), 4) and len(v) > 100
    # The texture: an atlas holding every view's tile, one UV per face corner, each inside the atlas, and the
    # picture's colour wherever they point.
    atlas, uvs = result.texture, result.uvs
    assert atlas.dtype == np.uint8 and atlas.ndim == 3 and atlas.shape[2] == 4 and max(atlas.shape) <= 4096
    assert uvs.shape == (3 * len(f), 2) and (uvs >= 0).all() and (uvs <= 1).all()
    h, w = atlas.shape[:2]
    rows = np.clip(((1 - uvs[:, 1]) * h).astype(int), 0, h - 1)
    cols = np.clip((uvs[:, 0] * w).astype(int), 0, w - 1)
    assert np.abs(atlas[rows, cols, :3].astype(int) - (200, 120, 60)).max(axis=1).mean() < 10
    for view in result.views.values():
        x0, y0, x1, y1 = view.tile
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h and view.crop[2] - view.crop[0] == x1 - x0
    assert np.all(_edge_use_counts(f) == 2), "closed: every edge borders two faces"
    # The synthetic pictures are (200, 120, 60) where the object is: the colours come from the views, and the
    # rim does not take the transparent black beside the silhouette.
    assert np.abs(c[:, :3].astype(int) - (200, 120, 60)).max(axis=1).mean() < 10
    assert result.name == "cyl" and result.reference == "front" and result.warnings == []
    assert set(result.views) == {"front", "right", "top"}
    front = result.views["front"]
    assert front.shape == (256, 256) and front.mask_source == "alpha"
    assert all(view.silhouette_iou > 0.95 for view in result.views.values())
    # Frame: the front silhouette's box, centred, its longer side (the cylinder's height) 1.
    assert np.ptp(v[:, 1]) == pytest.approx(1.0, abs=0.03)
    x0, y0, x1, y1 = front.box
    assert (y1 - y0) * front.scale[1] == pytest.approx(1.0, abs=0.02)
    assert result.info.get("views") == ["front", "right", "top"] and result.info.faces == len(f)


def test_sheet_job_pixels_and_the_back_as_reference(client):
    import tempfile
    pictures = sheet(box(), ["back", "right"])
    folder = Path(tempfile.mkdtemp())
    arrays = {}
    for name, rgba in pictures.items():
        arrays[name] = str(folder / f"{name}.npy")
        np.save(arrays[name], rgba.astype(np.float32) / 255.0)
    result = client.submit_views({}, view_arrays=arrays, options=OPTIONS).wait(180)
    assert result.reference == "back"
    assert np.ptp(result.vertices, axis=0)[1] == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("views, said", [
    ({"front": "f.png"}, "at least two views"),
    ({"left": "l.png", "top": "t.png"}, "front or a back view"),
    ({"front": "f.png", "side": "s.png"}, "Unknown view name"),
])
def test_wrong_view_sets_are_refused_before_the_worker_runs(client, views, said):
    with pytest.raises(WorkerError, match=said) as caught:
        client.submit_views(views, options=OPTIONS)
    assert caught.value.kind == "input"


def test_a_blank_view_is_refused_by_the_engine_with_its_name(client, sheet_files, tmp_path):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.zeros((64, 64, 4), np.uint8), "RGBA").save(blank)
    job = client.submit_views({"front": sheet_files["front"], "right": str(blank)}, options=OPTIONS)
    with pytest.raises(WorkerError) as caught:
        job.wait(120)
    assert caught.value.kind == "input" and "right" in str(caught.value)


def test_a_sheet_job_reports_progress_and_a_cancel_stops_it_within_a_second(client, sheet_files):
    # 20,000 vertices: the remesher, which reports no steps of its own, runs for about 4 s here. The clean-up
    # reports its middle (0.5 of the whole job) as the remesher starts.
    job = client.submit_views(sheet_files, options={"template_vertices": 20000, "device": "cpu"})
    events, deadline = [], time.monotonic() + 120
    while not any(e["stage"] == "cleanup" and e["fraction"] >= 0.5 for e in events):
        assert not job.done and time.monotonic() < deadline, f"no clean-up midway in {events}"
        events += job.poll()
        time.sleep(0.01)
    time.sleep(0.2)
    start = time.monotonic()
    job.cancel()
    with pytest.raises(WorkerError) as caught:
        job.wait(60)
    took = time.monotonic() - start
    assert caught.value.kind == "cancelled" and took < 1.0, f"the cancel took {took:.2f} s"
    stages = [e["stage"] for e in events]
    assert stages[0] == "load" and "shape" in stages
    fractions = [e["fraction"] for e in events]
    assert np.all(np.diff(fractions) >= 0) and 0.5 <= fractions[-1] < 0.85
    # The worker is not left broken by the interruption: the next job runs to the end, with progress.
    job = client.submit_views(sheet_files, options=OPTIONS)
    assert job.wait(180).faces.size > 0
    assert [e["stage"] for e in job.poll()][-1] == "finish"


def test_a_cancelled_sheet_job_answers_cancelled_and_the_worker_serves_on(client, sheet_files):
    job = client.submit_views(sheet_files, options={"template_vertices": 4000, "device": "cpu"})
    job.cancel()
    with pytest.raises(WorkerError) as caught:
        job.wait(180)
    assert caught.value.kind == "cancelled"
    assert client.submit_views(sheet_files, options=OPTIONS).wait(180).faces.size > 0
