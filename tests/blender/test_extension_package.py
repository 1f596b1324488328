"""Blender's own validator accepts the source tree and the built zip, and the zip holds exactly the extension."""
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
                     "inference", "scene"):
        assert required in top_level, f"{required} missing from the zip"
    for package in ("operators", "panels", "worker", "inference", "scene"):
        assert f"{package}/__init__.py" in names
    for excluded in ("tests", "training", "bench", "tools", "examples", "docs", ".venv", ".ci", "dist", ".git"):
        assert excluded not in top_level, f"{excluded} must not ship in the zip"
    assert not [n for n in names if n.startswith("requirements")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
