"""inference/contract.py: one definition of the options, their wire form and the answer, used by every entry point."""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference import InputError, contract, reconstruct
from inference.__main__ import build_parser
from inference.contract import ImageFrame, MeshResult, OptionError, ReconstructionOptions, ResultInfo

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_contract_from_the_blender_side_brings_no_torch_nor_numpy():
    """worker/ and scene/ import it inside Blender, which must never import torch (and the worker reports a
    missing numpy itself, so the contract must not need it)."""
    code = ("import sys; import inference.contract, inference; "
            "print(sorted(m for m in ('torch', 'numpy', 'scipy', 'skimage') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_wire_form_carries_every_option_and_reads_back_the_same():
    options = ReconstructionOptions(template_vertices=900, refine=False, refine_steps=7, device="cpu", model="none",
                                    object_index=2, untangle=False, remesh=False)
    wire = json.loads(json.dumps(options.to_wire()))
    assert set(wire) == {"template_vertices", "refine", "refine_steps", "device", "model", "object_index",
                         "untangle", "remesh", "fill_holes"}
    assert ReconstructionOptions.from_wire(wire) == options
    assert ReconstructionOptions.from_wire(None) == ReconstructionOptions()
    assert ReconstructionOptions.from_wire({"template_vertices": 900.0}).template_vertices == 900


@pytest.mark.parametrize("wire, named", [
    ({"template_vertices": 99}, "template_vertices must be between 100 and 200000 (got 99)"),
    ({"template_vertices": 200_001}, "template_vertices must be between 100 and 200000"),
    ({"template_vertices": "2500"}, "template_vertices must be a whole number"),
    ({"refine_steps": 0}, "refine_steps must be between 1 and 10000"),
    ({"refine": "yes"}, "refine must be true or false"),
    ({"device": "tpu"}, "device must be one of auto, cpu, cuda, gpu, mps"),
    ({"model": ""}, "model must be a non-empty name"),
    ({"object_index": -1}, "object_index must be at least 0"),
    ({"vertices": 2500}, "Unknown reconstruction option(s): vertices"),
])
def test_bad_options_are_refused_with_what_is_wrong(wire, named):
    with pytest.raises(OptionError) as caught:
        ReconstructionOptions.from_wire(wire)
    assert named in str(caught.value)
    assert isinstance(caught.value, InputError) and isinstance(caught.value, ValueError)


def test_every_problem_is_named_at_once():
    message = str(pytest.raises(OptionError, ReconstructionOptions(template_vertices=5, refine_steps=0).validate).value)
    assert "template_vertices" in message and "refine_steps" in message


def test_engine_command_line_takes_its_flags_defaults_and_bounds_from_the_contract(capsys):
    parser = build_parser()
    args = parser.parse_args(["a.png", "-o", "a.obj"])
    assert contract.options_from_args(args) == ReconstructionOptions()
    args = parser.parse_args(["a.png", "-o", "a.obj", "--vertices", "700", "--steps", "12", "--no-refine",
                              "--no-remesh", "--model", "none", "--device", "gpu"])
    assert contract.options_from_args(args) == ReconstructionOptions(
        template_vertices=700, refine_steps=12, refine=False, remesh=False, model="none", device="gpu")
    assert parser.parse_args(["a.png", "-o", "a.obj", "--refine-steps", "9"]).refine_steps == 9
    with pytest.raises(SystemExit):
        parser.parse_args(["a.png", "-o", "a.obj", "--vertices", "99"])
    assert "must be between 100 and 200000 (got 99)" in capsys.readouterr().err


def test_generated_flags_follow_a_changed_default(monkeypatch):
    """The flags are generated, not copied: a changed default or bound reaches the command line."""
    field = contract._FIELDS["template_vertices"]
    monkeypatch.setattr(field, "default", 1234)
    parser = argparse.ArgumentParser()
    contract.add_arguments(parser)
    assert parser.parse_args([]).template_vertices == 1234


def test_blender_property_keywords():
    assert contract.blender_property("template_vertices") == {
        "name": "Density", "description": "Approximate number of vertices of the mesh", "default": 2500,
        "min": 100, "max": 200_000, "soft_min": 200, "soft_max": 20_000}
    size = contract.blender_property("size", subtype="DISTANCE")
    assert size["default"] == 1.0 and size["min"] == 0.001 and size["subtype"] == "DISTANCE"
    assert contract.blender_property("remesh")["default"] is True


def test_the_engine_refuses_bad_options_before_it_loads_anything(tmp_path):
    with pytest.raises(OptionError, match="refine_steps must be between 1 and 10000"):
        reconstruct(tmp_path / "missing.png", ReconstructionOptions(refine_steps=0))


def test_the_image_frame_is_exactly_the_uvs_map(object_png, fast_options):
    """The answer carries the picture transform; it must reproduce the UVs the engine wrote (Blender used to
    fit it back from them with np.polyfit)."""
    r = reconstruct(object_png, fast_options)
    frame = r.image_frame
    assert isinstance(frame, ImageFrame)
    np.testing.assert_allclose(frame.uvs(r.vertices[:, :2]), r.uvs, atol=1e-6)
    slope, intercept = np.polyfit(r.vertices[:, 0].astype(np.float64), r.uvs[:, 0].astype(np.float64), 1)
    assert frame.u_scale == pytest.approx(slope, rel=1e-4) and frame.u_offset == pytest.approx(intercept, abs=1e-5)


def test_mesh_result_round_trip_through_the_wire(tmp_path):
    frame = ImageFrame(0.5, 0.5, 0.25, 0.5)
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], np.int32)
    answer = MeshResult(vertices, faces, frame.uvs(vertices[:, :2]), frame, name="t", device="cpu",
                        timings={"fit": 0.5}, info=ResultInfo(model="none", object_count=2, extra={"new": 1}))
    path = tmp_path / "mesh.npz.partial"
    answer.save_arrays(str(path))
    meta = json.loads(json.dumps(answer.meta_to_wire()))
    with np.load(path) as arrays:
        back = MeshResult.from_wire(meta, arrays)
    np.testing.assert_array_equal(back.faces, faces)
    assert back.frame == frame and back.info == answer.info and back.info.get("new") == 1
    assert back.info.get("model") == "none" and back.info.get("elevation") is None
    with pytest.raises(ValueError, match="picture transform"):
        MeshResult.from_wire({k: v for k, v in meta.items() if k != "frame"}, {"vertices": vertices, "faces": faces,
                                                                             "uvs": answer.uvs})


def test_sheet_result_round_trip_carries_the_atlas_uvs_and_tiles(tmp_path):
    from inference.contract import SheetResult, SheetViewInfo
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], np.int32)
    uvs = np.random.default_rng(0).random((12, 2)).astype(np.float32)
    atlas = np.random.default_rng(1).integers(0, 256, (30, 40, 4)).astype(np.uint8)
    views = {"front": SheetViewInfo((10, 12, 50, 60), (64, 64), (0.02, 0.02), "alpha", 0.97, (4, 6, 56, 66),
                                    (2, 2, 54, 62)),
             "right": SheetViewInfo((8, 12, 40, 60), (64, 64), (0.02, 0.02), "alpha", 0.96)}
    answer = SheetResult(vertices, faces, np.full((4, 4), 200, np.uint8), uvs, atlas, views=views, name="s")
    path = tmp_path / "sheet.npz"
    answer.save_arrays(str(path))
    meta = json.loads(json.dumps(answer.meta_to_wire()))
    with np.load(path) as arrays:
        back = contract.answer_from_wire(meta, arrays)
        np.testing.assert_array_equal(back.texture, atlas)
        np.testing.assert_array_equal(back.uvs, uvs)
        assert back.views == views and back.views["front"].tile == (2, 2, 54, 62) and back.views["right"].tile is None
        loaded = {k: arrays[k] for k in arrays.files}
    for key, bad, said in (("uvs", uvs[:-3], "one per face corner"), ("texture", atlas[..., :3], "not \\(h, w, 4\\)")):
        with pytest.raises(ValueError, match=said):
            SheetResult.from_wire(meta, dict(loaded, **{key: bad}))
    wrong = json.loads(json.dumps(meta))
    wrong["views"]["front"]["tile"] = [5, 5, 5, 9]
    with pytest.raises(ValueError, match="Not a rectangle"):
        SheetResult.from_wire(wrong, loaded)
