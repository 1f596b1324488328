"""The `blender -c mesh_from_image` handler, called directly (the bpy module has no -c dispatcher)."""
import sys

import pytest

from blender_session import MODULE, data_snapshot, load_surface, write_blob_png

def listing(folder):
    """The folder's files, less the resume records written beside each mesh (inference/batch.py)."""
    return [f for f in folder.iterdir() if not f.name.endswith(".mesh_from_image.json")]



@pytest.fixture
def pictures(tmp_path):
    good = [write_blob_png(tmp_path / "wide.png", 150, 90),
            write_blob_png(tmp_path / "tall.png", 80, 130, colour=(40, 160, 90))]
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return good, corrupt


@pytest.mark.parametrize("fmt", ["glb", "obj"])
def test_cli_exports_good_pictures_and_reports_the_bad_one(clean_data, addon, pictures, tmp_path, capsys, fmt):
    bpy = clean_data
    good, corrupt = pictures
    out = tmp_path / f"out_{fmt}"
    before = data_snapshot(bpy)
    cli = sys.modules[MODULE].cli

    code = cli.main([str(good[0]), str(corrupt), str(good[1]), "--output-dir", str(out), "--format", fmt,
                     "--vertices", "400", "--refine-steps", "10", "--size", "2"])

    assert code != 0
    err = capsys.readouterr().err
    assert "corrupt.png" in err and "wide.png" not in err
    written = sorted(p.name for p in listing(out))
    assert f"wide.{fmt}" in written and f"tall.{fmt}" in written
    assert not [n for n in written if n.startswith("corrupt") or (n.startswith(".") and not n.endswith(".mesh_from_image.json"))], written
    assert data_snapshot(bpy) == before, "the command must not leave objects behind between pictures"
    _check_export(out / f"wide.{fmt}", fmt, aspect=150 / 90, size=2.0)
    _check_export(out / f"tall.{fmt}", fmt, aspect=80 / 130, size=2.0)


def _check_export(path, fmt, aspect, size):
    """Read the file back with trimesh: one watertight mesh in the evaluation frame (x right, y up)."""
    import trimesh
    mesh = trimesh.load(path, force="mesh", process=True)
    assert len(mesh.faces) > 100
    if fmt == "glb":   # OBJ splits vertices along UV seams, so only the GLB can be checked for closure
        assert load_surface(path).is_watertight
    extent_x, extent_y, _ = mesh.extents
    assert abs(max(extent_x, extent_y) - size) < 0.06 * size
    assert abs(extent_x / extent_y - aspect) < 0.1 * aspect
    if fmt == "obj":
        assert (path.parent / (path.stem + ".mtl")).exists()


def test_cli_usage_error_returns_2(addon, tmp_path, capsys):
    cli = sys.modules[MODULE].cli
    assert cli.main(["--format", "glb"]) == 2
    assert cli.main([str(tmp_path / "x.png"), "--output-dir", str(tmp_path), "--format", "xyz"]) == 2


def test_cli_option_bounds_are_the_engine_s(addon, tmp_path, capsys):
    """--vertices used to be checked only for >= 100 here, while the engine refused above 200,000."""
    cli = sys.modules[MODULE].cli
    picture = str(tmp_path / "x.png")
    for flag, value, said in (("--vertices", "99", "must be between 100 and 200000 (got 99)"),
                              ("--vertices", "200001", "must be between 100 and 200000"),
                              ("--refine-steps", "0", "must be between 1 and 10000"),
                              ("--size", "0", "must be at least 0.001")):
        assert cli.main([picture, "--output-dir", str(tmp_path), flag, value]) == 2
        assert said in capsys.readouterr().err


def test_cli_model_none_runs_without_the_network(addon, tmp_path, capsys):
    from importlib import import_module
    reconstruction = import_module(f"{MODULE}.scene.reconstruction")
    cli = sys.modules[MODULE].cli
    picture = write_blob_png(tmp_path / "free.png", 120, 80)
    assert cli.main([str(picture), "--output-dir", str(tmp_path / "out"), "--vertices", "400", "--refine-steps",
                     "10", "--model", "none"]) == 0
    assert reconstruction.last_meta["info"]["model"] == "none"
    assert "network" not in reconstruction.last_meta["timings"]


@pytest.mark.parametrize("fmt", ["fbx", "usd", "ply", "stl", "blend"])
def test_cli_other_formats(addon, tmp_path, fmt):
    """One picture per format (the reconstruction is reused between them; only the export differs)."""
    picture = write_blob_png(tmp_path / "shape.png", 120, 90)
    out = tmp_path / "out"
    cli = sys.modules[MODULE].cli
    assert cli.main([str(picture), "--output-dir", str(out), "--format", fmt,
                     "--vertices", "400", "--refine-steps", "10"]) == 0
    written = [p for p in listing(out) if p.is_file() and p.suffix != ".png"]   # textures are companions
    assert len(written) == 1 and written[0].stem == "shape" and written[0].stat().st_size > 1000, written
    assert not [p for p in out.iterdir() if p.name.startswith(".") and not p.name.endswith(".mesh_from_image.json")]


def test_cli_same_stem_in_two_folders_gives_two_outputs(addon, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_blob_png(tmp_path / "a" / "mug.png", 100, 80)
    second = write_blob_png(tmp_path / "b" / "mug.png", 80, 100)
    out = tmp_path / "out"
    cli = sys.modules[MODULE].cli
    assert cli.main([str(first), str(second), "--output-dir", str(out), "--vertices", "400",
                     "--refine-steps", "10"]) == 0
    assert sorted(p.name for p in listing(out)) == ["mug.glb", "mug_2.glb"]


def test_cli_worker_that_cannot_start_fails_once_with_its_reason(addon, tmp_path, capsys):
    picture = write_blob_png(tmp_path / "fine.png", 100, 100)
    out = tmp_path / "out"
    cli = sys.modules[MODULE].cli
    assert cli.main([str(picture), str(picture), "--output-dir", str(out),
                     "--python", str(tmp_path / "no-such-python")]) == 1
    err = capsys.readouterr().err
    assert err.count("no-such-python") == 1
    assert list(out.iterdir()) == []
