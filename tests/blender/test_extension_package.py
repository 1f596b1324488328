"""Blender's own validator accepts the source tree and the built zip, and the zip holds exactly the extension."""
import tomllib
import zipfile

from blender_session import REPO, run_blender_ext, valid_tags_file


def test_source_tree_validates():
    proc = run_blender_ext("validate", str(REPO), f"--valid-tags={valid_tags_file()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_built_zip_validates(built_zip):
    proc = run_blender_ext("validate", str(built_zip), f"--valid-tags={valid_tags_file()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zip_holds_the_extension_and_no_development_material(built_zip):
    names = zipfile.ZipFile(built_zip).namelist()
    top_level = {n.split("/", 1)[0] for n in names}
    for required in ("__init__.py", "blender_manifest.toml", "cli.py", "operators", "panels", "worker",
                     "inference", "scene", "LICENSE"):
        assert required in top_level, f"{required} missing from the zip"
    for package in ("operators", "panels", "worker", "inference", "scene"):
        assert f"{package}/__init__.py" in names
    for excluded in ("tests", "training", "bench", "tools", "examples", "docs", ".venv", ".ci", "dist", ".git"):
        assert excluded not in top_level, f"{excluded} must not ship in the zip"
    assert not [n for n in names if n.startswith("requirements")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_manifest_asks_for_the_permissions_it_uses():
    """Install GPU Runtime downloads from download.pytorch.org: Blender must be told (and the user with it),
    besides the files the add-on reads and writes."""
    permissions = tomllib.loads((REPO / "blender_manifest.toml").read_text())["permissions"]
    assert set(permissions) == {"files", "network"}
    assert "download" in permissions["network"].lower()


def test_license_file_is_the_gpl_3_the_manifest_names():
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"]
    text = (REPO / "LICENSE").read_text()
    assert text.lstrip().startswith("GNU GENERAL PUBLIC LICENSE") and "Version 3, 29 June 2007" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) > 600   # the full text, not a stub
