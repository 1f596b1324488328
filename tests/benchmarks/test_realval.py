"""bench.realval: the scorer on the truth itself, the baselines' order, and that stored numbers reproduce.

(This folder is not tests/bench: pytest's importlib mode would register that as the package `bench` and hide
the real one.)"""
import json
from pathlib import Path

import numpy as np
import pytest

from bench import realval

REPO = Path(__file__).resolve().parents[2]
STORED = REPO / "bench" / "results" / "realval.json"

pytestmark = pytest.mark.skipif(not (realval.DEFAULT_VIEWS / "index.json").exists(),
                                reason=f"the realval set is not at {realval.DEFAULT_VIEWS} (CI keeps it at "
                                       "../shared/realval beside the repository)")


@pytest.fixture(scope="module")
def views():
    import torch
    torch.set_num_threads(1)
    return realval.load_views(limit=2)


def test_every_object_has_a_family():
    index = json.loads((realval.DEFAULT_VIEWS / "index.json").read_text())
    assert {e["object"] for e in index} <= set(realval.FAMILY)
    assert set(realval.FAMILY.values()) == {"organic", "man-made"}


def test_truth_against_itself_is_perfect(views):
    from inference.metrics import score_point_sets

    v = views[0]
    gt = np.load(realval.DEFAULT_VIEWS / f"{v['stem']}.npz")
    s = score_point_sets(gt["points"], gt["normals"], v["points"], v["normals"],
                         {"silhouette_iou": v["silhouette"]}, realval.FRAME_COVER * 256)
    assert s["f@0.02"] > 0.99 and s["f@0.05"] == 1.0
    assert s["chamfer_l1"] < 0.005 and s["normal_consistency"] > 0.98
    assert s["silhouette_iou"] == 1.0
    # The splatted truth is the npz mask up to the splat's closing: both describe one silhouette.
    from inference.silhouette import iou
    assert iou(v["silhouette"], v["mask"]) > 0.95


def test_cutout_alpha_is_the_true_mask(views):
    assert (realval.input_mask(views[0]["png"])[1] == views[0]["mask"]).all()


def test_ellipsoid_scores_below_inflation(views):
    paths = realval.build_paths(["ellipsoid", "inflation"])
    rows = realval.score_paths(paths, views)
    f = {(r["path"], r["stem"]): r["f@0.05"] for r in rows}
    for v in views:
        assert f["ellipsoid", v["stem"]] < f["inflation", v["stem"]] - 0.05


def _stored_row(path, stem):
    if not STORED.exists():
        pytest.fail(f"{STORED} is missing: run python -m bench.realval --json {STORED.relative_to(REPO)}")
    rows = [r for r in json.loads(STORED.read_text())["rows"] if r["path"] == path and r["stem"] == stem]
    assert rows, f"no stored row for {path} on {stem}"
    return rows[0]


def test_inflation_reproduces_its_stored_number(views):
    row = realval.score_paths(realval.build_paths(["inflation"]), views[:1])[0]
    stored = _stored_row("inflation", views[0]["stem"])
    for k in realval.SCORE_KEYS:
        assert row[k] == pytest.approx(stored[k], abs=1e-9), k


def test_score_run_checkpoint_matches_the_raw_shipped_path(views):
    # A loaded network handed over as a "checkpoint" must score exactly as the shipped model's raw path.
    from inference.networks.weights import load_model
    from inference.prior import default_model

    name = default_model()
    if name is None:
        pytest.skip("no shipped model")
    means = realval.score_run_checkpoint(load_model(name), views=views[:1])
    stored = _stored_row(name, views[0]["stem"])
    assert means["f@0.05"] == pytest.approx(stored["f@0.05"], abs=1e-6)
    assert means["views"] == 1


def test_the_true_mesh_placed_in_a_view_is_its_ground_truth(views):
    """bench.holes_realval scores realval's own meshes as the measures' ceiling: placed in the view's frame, the
    mesh's projection is the rendered mask, and a wrong placement is refused rather than scored."""
    from bench import holes_realval
    from inference.silhouette import iou, mesh_silhouette

    meshes = realval.DEFAULT_VIEWS.parent / "meshes"
    v = dict(views[1], gt_points_all=np.load(realval.DEFAULT_VIEWS / f"{views[1]['stem']}.npz")["points"])
    tv, tf = holes_realval.truth_in_view_frame(v, meshes)
    assert iou(mesh_silhouette(tv * holes_realval.EXACT_SCALE, tf, v["mask"].shape[0]), v["mask"]) > 0.99
    with pytest.raises(RuntimeError, match="placement convention"):
        holes_realval.truth_in_view_frame(dict(v, azimuth=v["azimuth"] + 90), meshes)
