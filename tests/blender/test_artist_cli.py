"""The artist options of the headless command (`--faces`, `--quads`, `--bake SIZE`, `--size`, `--upright`,
`--objects`), read back from the exported files."""
import sys

import numpy as np
import pytest

from blender_session import MODULE, data_snapshot, load_surface, write_blob_png

FAST_ARGS = ["--vertices", "400", "--refine-steps", "10"]


def _load(path):
    import trimesh
    return trimesh.load(path, force="mesh", process=True)


def test_faces_bake_size_and_upright_reach_the_glb(clean_data, tmp_path):
    bpy = clean_data
    picture = write_blob_png(tmp_path / "blob.png", 160, 110)
    out = tmp_path / "out"
    before = data_snapshot(bpy)
    code = sys.modules[MODULE].cli.main([str(picture), "--output-dir", str(out), *FAST_ARGS, "--faces", "500",
                                         "--bake", "64", "--size", "2", "--upright", "20"])
    assert code == 0
    assert data_snapshot(bpy) == before
    mesh = _load(out / "blob.glb")
    assert abs(len(mesh.faces) - 500) <= 50
    assert mesh.bounds[0][1] == pytest.approx(0.0, abs=1e-4), "glTF's y is up: the lowest point is on the ground"
    assert mesh.extents[0] == pytest.approx(2.0, rel=0.05)   # the tilt is about x: the width is the picture's
    centre = (mesh.bounds[0] + mesh.bounds[1]) / 2
    assert abs(centre[0]) < 1e-4 and abs(centre[2]) < 1e-4, "origin at the bottom centre"
    image = mesh.visual.material.baseColorTexture
    assert image.size == (64, 64)
    uv = mesh.visual.uv
    assert uv.min() >= -1e-4 and uv.max() <= 1 + 1e-4


def test_quads_and_joined_objects(clean_data, tmp_path):
    from PIL import Image
    height, width = 100, 220
    yy, xx = np.mgrid[0:height, 0:width]
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[((xx - 60) / 45) ** 2 + ((yy - 50) / 35) ** 2 <= 1] = (30, 90, 200, 255)
    rgba[((xx - 170) / 30) ** 2 + ((yy - 55) / 30) ** 2 <= 1] = (220, 180, 30, 255)
    picture = tmp_path / "pair.png"
    Image.fromarray(rgba, "RGBA").save(picture)
    out = tmp_path / "out"
    code = sys.modules[MODULE].cli.main([str(picture), "--output-dir", str(out), *FAST_ARGS, "--quads",
                                         "--faces", "300", "--objects", "joined"])
    assert code == 0
    mesh = _load(out / "pair.glb")
    surface = load_surface(out / "pair.glb")
    assert surface.body_count == 2 and surface.is_watertight
    assert abs(len(mesh.faces) - 2 * 300) <= 2 * 30, "300 quads, two triangles each in glTF"
    assert mesh.extents[0] / mesh.extents[1] == pytest.approx((215 - 15) / (85 - 15), rel=0.08)


@pytest.mark.parametrize("bad", [["--bake", "8"], ["--bake", "9000"], ["--upright", "steep"], ["--upright", "85"],
                                 ["--faces", "-5"], ["--sharp-angle", "190"], ["--subdivision", "5"],
                                 ["--objects", "all"]])
def test_bad_artist_arguments_are_usage_errors(addon, tmp_path, capsys, bad):
    """Refused before any picture is read, with the flag named (an --upright of 85 degrees used to fail every
    picture at build time instead)."""
    cli = sys.modules[MODULE].cli
    assert cli.main([str(tmp_path / "x.png"), "--output-dir", str(tmp_path), *bad]) == 2
    assert f"argument {bad[0]}:" in capsys.readouterr().err


def test_the_command_line_s_artist_defaults_are_the_contract_s(addon):
    """Without artist flags the command builds what contract.ArtistOptions() says (and --help shows it)."""
    from importlib import import_module
    cli = sys.modules[MODULE].cli
    contract = import_module(f"{MODULE}.inference.contract")
    parser = cli._parser()
    assert cli._output_options(parser.parse_args(["x.png", "--output-dir", "out"])) == contract.ArtistOptions()
    shown = parser.format_help()
    assert all(contract.spec(name).flags[0] in shown for name in contract.ARTIST_FLAGS)
