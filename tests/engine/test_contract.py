"""inference/contract.py: one definition of the options, their wire form and the answer, used by every entry point."""
import argparse
import ast
import json
import math
import subprocess
import sys
import dataclasses
from dataclasses import fields
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


# -- artist options, devices, shape priors: one definition each -------------------------------------------
from inference.contract import ArtistOptions  # noqa: E402


def _artist_parser():
    parser = argparse.ArgumentParser()
    contract.add_arguments(parser.add_argument_group("artist options"), contract.ARTIST_FLAGS)
    return parser


def test_the_artist_flags_without_values_are_the_dataclass_defaults():
    assert contract.artist_options_from_args(_artist_parser().parse_args([])) == ArtistOptions()
    assert contract.ARTIST_FLAGS == ("target_faces", "quads", "voxel_first", "subdivision", "sharp_angle",
                                     "fill_sides", "bake_size", "upright", "objects")


def test_the_artist_flags_read_as_the_scene_code_wants_them():
    args = _artist_parser().parse_args(["--faces", "500", "--quads", "--voxel-first", "--subdivision", "2",
                                        "--sharp-angle", "30", "--fill-sides", "--bake", "64", "--upright", "20",
                                        "--objects", "joined"])
    assert contract.artist_options_from_args(args) == ArtistOptions(
        target_faces=500, quads=True, voxel_first=True, subdivision=2, sharp_angle=math.radians(30),
        fill_sides=True, bake_size=64, upright=True, elevation=math.radians(20), objects="JOINED")
    for given, elevation in ((["--upright"], None), (["--upright", "auto"], None), (["--upright=-10"],
                                                                                   math.radians(-10))):
        options = contract.artist_options_from_args(_artist_parser().parse_args(given))
        assert options.upright is True and options.elevation == (pytest.approx(elevation) if elevation else None)


@pytest.mark.parametrize("given, said", [
    (["--faces", "-5"], "argument --faces: must be between 0 and 1000000 (got -5)"),
    (["--faces", "1000001"], "argument --faces: must be between 0 and 1000000"),
    (["--faces", "1.5"], "argument --faces: '1.5' is not a whole number"),
    (["--bake", "8"], "argument --bake: must be 0 for no bake, or between 16 and 8192 (got 8)"),
    (["--bake", "8193"], "argument --bake: must be 0 for no bake, or between 16 and 8192 (got 8193)"),
    (["--sharp-angle", "190"], "argument --sharp-angle: must be between 0 and 180 degrees (got 190)"),
    (["--subdivision", "5"], "argument --subdivision: must be between 0 and 4 (got 5)"),
    (["--upright", "85"], "argument --upright: must be between -80 and 80 degrees (got 85)"),
    (["--upright", "steep"], "argument --upright: 'steep' is not a number of degrees or auto"),
    (["--objects", "all"], "argument --objects: invalid choice: 'all'"),
])
def test_bad_artist_values_are_usage_errors_naming_the_flag(capsys, given, said):
    with pytest.raises(SystemExit) as stopped:
        _artist_parser().parse_args(given)
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize("changes, said", [
    ({"bake_size": 8}, "bake_size must be 0 for no bake, or between 16 and 8192 (got 8)"),
    ({"target_faces": -1}, "target_faces must be between 0 and 1000000 (got -1)"),
    ({"subdivision": 1.5}, "subdivision must be a whole number (got 1.5)"),
    ({"elevation": math.radians(81)}, "elevation must be between -80 and 80 degrees (got 81)"),
    ({"objects": "largest"}, "objects must be one of LARGEST, SEPARATE, JOINED (got 'largest')"),
    ({"quads": 1}, "quads must be true or false (got 1)"),
])
def test_artist_options_are_checked_when_made(changes, said):
    with pytest.raises(OptionError) as caught:
        ArtistOptions(**changes)
    assert said in str(caught.value)


def test_a_float_property_at_its_max_reads_back_within_bounds():
    """Blender keeps float properties in single precision: its max of pi comes back as 3.1415927 > pi."""
    import numpy as np
    pi32 = float(np.float32(math.pi))
    assert pi32 > math.pi
    assert ArtistOptions(sharp_angle=pi32).sharp_angle == pi32
    with pytest.raises(OptionError):
        ArtistOptions(sharp_angle=math.pi + 1e-3)


class _Props:
    """Stands in for an operator: attributes named as the Blender properties are."""
    def __init__(self, **values):
        for name in contract.ARTIST_FLAGS + ("elevation", "add_camera"):
            kwargs = contract.blender_property(name)
            setattr(self, name, kwargs["default"])
        for name in ("bake_size", "elevation"):
            toggle = contract.spec(name).toggle
            setattr(self, toggle.name, contract.blender_toggle(name)["default"])
        self.__dict__.update(values)


def test_blender_properties_become_the_artist_options():
    # The panel starts with Fill Sides and Stand Upright on, and a texture size ready for Bake.
    assert contract.artist_options_from_properties(_Props()) == ArtistOptions(fill_sides=True, upright=True)
    props = _Props(bake=True, bake_size=512, elevation_source='MANUAL', elevation=0.3, objects='SEPARATE')
    assert contract.artist_options_from_properties(props) == ArtistOptions(
        fill_sides=True, upright=True, bake_size=512, elevation=0.3, objects='SEPARATE')
    # A size or an elevation typed while its toggle is off is not used.
    props = _Props(bake=False, bake_size=512, elevation_source='ESTIMATED', elevation=0.3)
    options = contract.artist_options_from_properties(props)
    assert options.bake_size == 0 and options.elevation is None


def test_artist_blender_properties_have_the_dataclass_bounds_and_help():
    for name in contract.ARTIST_FLAGS + ("elevation", "add_camera"):
        s, kwargs = contract.spec(name), contract.blender_property(name)
        assert kwargs["name"] == s.label and kwargs["description"] == s.help, name
        if s.minimum is not None:
            assert kwargs["min"] == s.minimum and kwargs["max"] == s.maximum, name
        if s.items is not None:
            assert kwargs["items"] == s.items and kwargs["default"] in [i[0] for i in s.items], name
    assert contract.blender_property("sharp_angle")["subtype"] == 'ANGLE'
    assert contract.blender_property("bake_size")["default"] == 1024   # what Bake starts at, not "off"
    assert contract.blender_property("elevation")["default"] == 0.0
    assert contract.blender_toggle("elevation")["default"] == contract.ELEVATION_ITEMS[0][0]


def test_a_changed_artist_default_or_bound_reaches_flags_and_properties(monkeypatch):
    field = contract._ARTIST_FIELDS["target_faces"]
    monkeypatch.setattr(field, "default", 321)
    monkeypatch.setattr(field, "metadata", {"spec": dataclasses.replace(contract.spec("target_faces"), maximum=400)})
    assert _artist_parser().parse_args([]).target_faces == 321
    with pytest.raises(SystemExit):
        _artist_parser().parse_args(["--faces", "401"])
    assert contract.blender_property("target_faces")["default"] == 321
    assert contract.blender_property("target_faces")["max"] == 400


def test_device_and_shape_prior_choices():
    for identifier, _, _ in contract.DEVICE_ITEMS:
        assert contract.engine_device(identifier) == identifier.lower() and identifier.lower() in contract.DEVICES
    assert contract.engine_device("cuda") == "cuda" and contract.engine_device("MPS") == "mps"
    assert contract.engine_device("whatever") == contract.default("device")
    per_run, preferences = contract.device_property(), contract.device_property(per_run=False)
    assert per_run["items"][1:] == preferences["items"] == contract.DEVICE_ITEMS
    assert per_run["default"] == contract.PREFERENCES_DEVICE == per_run["items"][0][0]
    assert contract.engine_device(preferences["default"]) == contract.default("device")
    prior = contract.shape_prior_property()
    assert contract.model_of_shape_prior(prior["default"]) == contract.default("model")
    assert {contract.model_of_shape_prior(i[0]) for i in prior["items"]} == {contract.MODEL_AUTO, contract.MODEL_NONE}
    for _, model, _, _, said in contract.SHAPE_PRIORS:   # the command line's help names each choice
        assert f"{model} ({said})" in contract.spec("model").help
    with pytest.raises(OptionError):
        contract.model_of_shape_prior("auto")


def test_option_names_are_unique_across_the_contract():
    engine = {f.name for f in fields(ReconstructionOptions)}
    artist = {f.name for f in fields(ArtistOptions)}
    toggles = {contract.spec(n).toggle.name for n in artist if contract.spec(n).toggle}
    assert not engine & artist and not (engine | artist) & set(contract.BLENDER_SPECS)
    assert not toggles & (engine | artist | set(contract.BLENDER_SPECS))
    flags = [flag for n in engine | artist | set(contract.BLENDER_SPECS) for flag in contract.spec(n).flags]
    assert len(flags) == len(set(flags))


# -- no second definition ----------------------------------------------------------------------------------
# The extension's own code (not the benchmarks, tools or training, whose flags are their own).
_EXTENSION_SOURCES = sorted(
    p for p in [*REPO.glob("*.py"), *REPO.glob("operators/*.py"), *REPO.glob("panels/*.py"),
                *REPO.glob("scene/*.py"), *REPO.glob("worker/*.py"), *REPO.glob("inference/**/*.py")]
    if p.name != "contract.py" or p.parent.name != "inference")
# Names the contract defines that no other module may define again (assignment, class or function).
_CONTRACT_ONLY = {"DEVICE_ITEMS", "OBJECT_ITEMS", "OBJECT_MODES", "ELEVATION_ITEMS", "SHAPE_PRIORS", "FACE_TOLERANCE",
                  "MAX_ELEVATION", "FACES_MAX", "BAKE_MIN", "BAKE_MAX", "SUBDIVISION_MAX", "TopologyOptions",
                  "OutputOptions", "ArtistOptions", "JOB_TIMEOUT_S", "MODEL_AUTO", "MODEL_NONE", "PROTOCOL_VERSION"}


def _all_option_names():
    names = {f.name for f in fields(ReconstructionOptions)} | {f.name for f in fields(ArtistOptions)}
    names |= set(contract.BLENDER_SPECS)
    toggles = {contract.spec(n).toggle.name for n in names if contract.spec(n).toggle}
    return names, toggles


def _contract_call(node) -> bool:
    """`contract.something(...)` (or a bare name imported from the contract)."""
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "contract"


def test_no_option_is_defined_outside_the_contract():
    """Every command-line flag of a contract option comes from contract.add_arguments, every Blender property
    named like a contract option (or its toggle, the device, the shape prior) takes all of its keywords from
    the contract, and the contract's tables are not written again elsewhere."""
    names, toggles = _all_option_names()
    flags = {flag for n in names for flag in contract.spec(n).flags}
    properties = names | toggles | {"device", "shape_prior"}
    found = []
    assert len(_EXTENSION_SOURCES) > 30
    for path in _EXTENSION_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(REPO)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
                spelled = {a.value for a in node.args if isinstance(a, ast.Constant)}
                if spelled & flags:
                    found.append(f"{where}:{node.lineno}: add_argument{sorted(spelled)}")
            # A Blender property is the annotation of a class attribute (`quads: BoolProperty(...)`).
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.target.id in properties and isinstance(node.annotation, ast.Call) \
                    and str(getattr(node.annotation.func, "id", "")).endswith("Property"):
                call = node.annotation
                if call.args or any(k.arg is not None or not _contract_call(k.value) for k in call.keywords):
                    found.append(f"{where}:{node.lineno}: {node.target.id} is not made from the contract")
            targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                targets.append(node.name)
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets.append(node.target.id)
            found += [f"{where}:{node.lineno}: defines {t}" for t in targets if t in _CONTRACT_ONLY]
    assert not found, "\n".join(found)


def test_no_function_restates_a_contract_default():
    """A keyword default that is an option's (a fit's `steps`, a job's `timeout`, a model name) is read from
    the contract, not written as a number or word again: the 600-second wait and the 150 fit steps were."""
    restated = {"refine_steps", "timeout", "model", "template_vertices"}
    found = []
    for path in _EXTENSION_SOURCES:
        # The silhouette fit's `steps` is refine_steps; the sheet fit's own step count is not an option.
        names = restated | ({"steps"} if path.name == "fit.py" else set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            a = node.args
            positional = a.posonlyargs + a.args
            pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults))
            pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            found += [f"{path.relative_to(REPO)}:{node.lineno}: {node.name}({arg.arg}={d.value!r})"
                      for arg, d in pairs if arg.arg in names and isinstance(d, ast.Constant)
                      and d.value is not None and not isinstance(d.value, bool)]
    assert not found, "\n".join(found)


def test_the_readme_artist_table_names_every_flag_and_blender_option():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Artist options"):]
    section = section[:section.index("\n## ", 1)]
    rows = [line for line in section.splitlines() if line.startswith("| **")]
    first = " ".join(row.split("|")[1] for row in rows)
    headless = " ".join(row.split("|")[2] for row in rows)
    for name in contract.ARTIST_FLAGS:
        flag = contract.spec(name).flags[0]
        assert f"`{flag}" in headless, f"README's artist table does not name {flag}"
    for f in fields(ArtistOptions):
        s = f.metadata["spec"]
        labels = [s.label] + ([s.toggle.label] if s.toggle else [])
        assert any(f"**{label}**" in first for label in labels), f"README's artist table does not name {labels}"
    hard_edges = next(row for row in rows if "**Hard Edges**" in row)
    assert f"default {math.degrees(contract.default('sharp_angle')):.0f}°" in hard_edges


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
