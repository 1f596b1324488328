"""Fixtures for the install tests: the linux-x64 release zip with its bundled wheels (fetched and built by the
project's own scripts, cached between runs), a Python with no packages of its own, and one run of the zip inside
the bpy module (blender_install_check.py) whose report several tests read."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import build_release  # noqa: E402  (it puts wheels/ on sys.path for fetch)
import fetch  # noqa: E402

PLATFORM = "linux-x64"
CACHE = REPO / "dist" / "install-test"     # git-ignored; one built zip kept, keyed by the staged package's digest


@pytest.fixture(scope="session")
def linux_wheels() -> Path:
    """wheels/ with the linux-x64 wheels (fetch.py runs only when they are missing or fetched for other pins)."""
    if not fetch.is_current(PLATFORM, fetch.read_requirements(REPO / "requirements.txt")):
        assert fetch.main(["--platform", PLATFORM]) == 0
    return fetch.WHEELS_DIR


@pytest.fixture(scope="session")
def linux_zip(linux_wheels) -> Path:
    staged = build_release.stage_package(CACHE / "stage", [PLATFORM])
    digest = build_release.tree_digest(staged)
    built = CACHE / digest
    zips = sorted(built.glob("*-linux_x64.zip"))
    if not zips:
        for old in CACHE.iterdir():
            if old.is_dir() and old.name != "stage":
                shutil.rmtree(old)
        zips = build_release.build_zips(staged, built)
    assert len(zips) == 1, zips
    return zips[0]


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory) -> str:
    """A Python 3.11 with only the standard library: no torch, no numpy (like Blender's Python, minus numpy)."""
    folder = tmp_path_factory.mktemp("bare-python")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert subprocess.run([str(python), "-c", "import torch"], capture_output=True).returncode != 0
    return str(python)


@pytest.fixture(scope="session")
def blender_report(linux_zip, linux_wheels, bare_python, tmp_path_factory) -> dict:
    """Install the zip into the bpy module with an isolated user folder and run every runtime check once."""
    user_dir = tmp_path_factory.mktemp("blender-user")
    report_path = user_dir.parent / "install-report.json"
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(user_dir))
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("blender_install_check.py")),
                           "--zip", str(linux_zip), "--bare-python", bare_python,
                           "--image", str(REPO / "examples" / "mug.png"), "--report", str(report_path),
                           "--wheel-folder", str(linux_wheels)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert report_path.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    shutil.rmtree(user_dir, ignore_errors=True)   # ~1 GB of unpacked wheels and runtime
    assert "error" not in report, report["error"]
    return report
