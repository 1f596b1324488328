"""Runtime order, the worker's environment, probe messages and failed GPU runtime installs, without Blender."""
import json
import os
import stat
import sys

import pytest

from worker.probe import FIX_CHOOSE_PYTHON, FIX_CLEAR_PYTHON, probe
from worker.runtime import Runtime, choose_runtime
from worker.runtime_install import CANCELLED, FAILED, RuntimeInstall

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _runtime_folder(root, python_version=None, with_torch=True):
    """A runtime folder as a completed install leaves it (stamp written last)."""
    folder = root / "runtime"
    (folder / "site-packages").mkdir(parents=True)
    if with_torch:
        (folder / "site-packages" / "torch").mkdir()
        (folder / "site-packages" / "torch" / "__init__.py").write_text("__version__ = 'test'\n")
    version = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    (folder / "runtime.json").write_text(json.dumps({"python": version, "torch": "test"}))
    return folder


def test_the_preferences_interpreter_comes_first_then_the_gpu_runtime_then_the_bundled_wheels(tmp_path):
    gpu = _runtime_folder(tmp_path)
    bundled = tmp_path / "site-packages"
    bundled.mkdir()
    chosen = choose_runtime("/opt/conda/bin/python", str(gpu), [str(bundled)])
    assert (chosen.kind, chosen.python, chosen.paths) == ("interpreter", "/opt/conda/bin/python", ())
    chosen = choose_runtime("", str(gpu), [str(bundled)], base_python="/blender/python/bin/python3.11")
    assert chosen.kind == "gpu" and chosen.paths == (str(gpu / "site-packages"), str(bundled))
    chosen = choose_runtime("", str(tmp_path / "no-runtime"), [str(bundled), str(tmp_path / "missing")],
                            base_python="/blender/python/bin/python3.11")
    assert chosen.kind == "bundled" and chosen.paths == (str(bundled),) and chosen.skipped == ()


@pytest.mark.parametrize("make, reason", [
    (lambda root: _runtime_folder(root, with_torch=False), "has no PyTorch"),
    (lambda root: _runtime_folder(root, python_version="3.13"), "installed for Python 3.13"),
    (lambda root: (root / "runtime").mkdir() or root / "runtime", "incomplete"),
], ids=["without-torch", "other-python", "no-stamp"])
def test_an_unusable_gpu_runtime_falls_back_to_the_bundled_wheels_and_says_why(tmp_path, make, reason):
    chosen = choose_runtime("", str(make(tmp_path)), [], base_python="/blender/python/bin/python3.11")
    assert chosen.kind == "bundled"
    assert len(chosen.skipped) == 1 and reason in chosen.skipped[0]


def test_worker_environment_puts_our_folders_first_and_keeps_user_site_out(tmp_path):
    bundled = Runtime("bundled", "/blender/python/bin/python3.11", ("/ext/site-packages",))
    env = bundled.env("/ext/mesh_from_image", {"PYTHONPATH": "/inherited", "PYTHONHOME": "/blender/python"})
    assert env["PYTHONPATH"].split(os.pathsep) == ["/ext/mesh_from_image", "/ext/site-packages"]
    assert env["PYTHONNOUSERSITE"] == "1" and "PYTHONHOME" not in env   # not this process's interpreter
    own = Runtime("interpreter", "/opt/conda/bin/python")
    env = own.env("/ext/mesh_from_image", {"PYTHONPATH": "/inherited", "PYTHONHOME": "/blender/python"})
    assert env["PYTHONPATH"] == "/ext/mesh_from_image" and "PYTHONHOME" not in env
    assert "PYTHONNOUSERSITE" not in env
    this = Runtime("bundled", sys.executable, ("/ext/site-packages",))
    env = this.env("/ext/mesh_from_image", {"PYTHONPATH": "/inherited"})
    assert env["PYTHONPATH"].split(os.pathsep) == ["/ext/mesh_from_image", "/ext/site-packages", "/inherited"]


def test_probing_something_that_is_not_a_python_says_so(tmp_path):
    script = tmp_path / "python"
    script.write_text("#!/bin/sh\necho 'this is not python' >&2\nexit 3\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    result = probe(Runtime("interpreter", str(script)), PACKAGE_DIR)
    assert not result.ok and result.fix == FIX_CHOOSE_PYTHON
    assert "did not run as a Python interpreter (exit code 3)" in result.message
    assert "this is not python" in result.message
    result = probe(Runtime("interpreter", str(tmp_path)), PACKAGE_DIR)
    assert not result.ok and "is a folder" in result.message


def test_probing_a_python_without_torch_names_what_is_missing_and_the_fix(bare_python):
    result = probe(Runtime("interpreter", bare_python), PACKAGE_DIR)
    assert not result.ok and result.fix == FIX_CLEAR_PYTHON
    assert "torch" in result.missing and f"'{bare_python}' -m pip install" in result.message


def _install(tmp_path, **kwargs):
    kwargs.setdefault("wheel_folder", str(tmp_path / "wheels"))
    return RuntimeInstall(kwargs.pop("python", sys.executable), str(tmp_path / "runtime"), PACKAGE_DIR, **kwargs)


@pytest.mark.parametrize("case", ["folder-without-torch", "missing-folder", "python-without-pip"])
def test_a_failed_gpu_runtime_install_keeps_the_previous_runtime(tmp_path, bare_python, case):
    previous = _runtime_folder(tmp_path)
    before = sorted(p.relative_to(previous).as_posix() for p in previous.rglob("*"))
    if case == "folder-without-torch":
        (tmp_path / "wheels").mkdir()
        install = _install(tmp_path)
    elif case == "missing-folder":
        install = _install(tmp_path)
    else:
        (tmp_path / "wheels").mkdir()
        install = _install(tmp_path, python=bare_python)
    assert install.start().wait(300) == FAILED
    expected = {"folder-without-torch": "previous runtime is kept", "missing-folder": "does not exist",
                "python-without-pip": "has no pip"}[case]
    assert expected in install.message
    assert sorted(p.relative_to(previous).as_posix() for p in previous.rglob("*")) == before
    assert not os.path.exists(install.staging_dir)


def test_a_swap_cut_between_its_renames_gets_the_old_runtime_back_at_the_next_install(tmp_path):
    previous = _runtime_folder(tmp_path)
    previous.rename(tmp_path / "runtime.previous")          # Blender killed after the first rename
    (tmp_path / "runtime.installing").mkdir()                  # ... with the new one still staged
    (tmp_path / "wheels").mkdir()
    assert _install(tmp_path).start().wait(300) == FAILED     # the folder holds no torch
    assert choose_runtime("", str(tmp_path / "runtime"), []).kind == "gpu"
    assert not (tmp_path / "runtime.previous").exists() and not (tmp_path / "runtime.installing").exists()


def test_a_cancel_before_pip_starts_ends_cancelled_with_nothing_left(tmp_path):
    (tmp_path / "wheels").mkdir()
    install = _install(tmp_path)
    install.cancel()
    assert install.start().wait(300) == CANCELLED
    assert not os.path.exists(install.staging_dir) and not os.path.exists(tmp_path / "runtime")


def test_a_bundled_runtime_without_torch_tells_the_artist_which_zip_or_runtime_fixes_it(bare_python, tmp_path):
    from worker import WorkerClient, WorkerError

    client = WorkerClient(runtime=Runtime("bundled", bare_python, ()), log_dir=str(tmp_path))
    with pytest.raises(WorkerError) as err:
        client.start()
    assert err.value.kind == "dependency"
    assert "torch" in str(err.value) and "zip for this platform" in str(err.value)
    assert client.state == "dead"
