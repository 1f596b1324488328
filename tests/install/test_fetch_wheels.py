"""wheels/fetch.py: dependency markers evaluated for the target platform, the same wheel set as pip's own
resolver where host and target agree, a real cross-platform fetch, and manifest editing that Blender accepts."""
import json
import subprocess
import sys
import zipfile

import pytest

import build_release   # tools/, put on sys.path by conftest.py
import fetch           # wheels/, put on sys.path by build_release

REPO = fetch.REPO


def _wheel_with_dependencies(folder, requires):
    """A minimal real wheel whose METADATA lists the given Requires-Dist lines."""
    path = folder / "demo-1.0-py3-none-any.whl"
    metadata = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo/__init__.py", "")
        archive.writestr("demo-1.0.dist-info/METADATA", metadata)
    return path


def test_dependency_markers_are_evaluated_for_the_target_platform_not_this_machine(tmp_path):
    wheel = _wheel_with_dependencies(tmp_path, [
        'nvidia-cudnn-cu12; platform_system == "Linux" and platform_machine == "x86_64"',
        'colorama; sys_platform == "win32"',
        'appnope; platform_system == "Darwin"',
        'numpy>=1.24',
        'pytest; extra == "test"',
        'tomli; python_version < "3.11"',
    ])
    needed = {p: sorted(r.name for r in fetch.wheel_dependencies(wheel, p)) for p in fetch.PLATFORMS}
    assert needed == {"linux-x64": ["numpy", "nvidia-cudnn-cu12"], "windows-x64": ["colorama", "numpy"],
                      "macos-arm64": ["appnope", "numpy"]}


def test_a_cuda_build_of_torch_is_recognised_so_it_is_never_bundled(tmp_path, linux_wheels):
    cuda = _wheel_with_dependencies(tmp_path, ['nvidia-cublas-cu12==12.8; platform_system == "Linux"',
                                               'triton==3.5; platform_system == "Linux"', 'filelock'])
    assert fetch.gpu_only_dependencies(cuda, "linux-x64") == ["nvidia-cublas-cu12", "triton"]
    assert fetch.gpu_only_dependencies(cuda, "windows-x64") == []
    cpu_torch = next(linux_wheels.glob("torch-*+cpu-*.whl"))
    assert fetch.gpu_only_dependencies(cpu_torch, "linux-x64") == []


def test_linux_fetch_matches_pips_own_resolver_on_linux(linux_wheels, tmp_path):
    """On a Linux host pip's markers are right for linux-x64, so its resolution is the reference."""
    report = tmp_path / "report.json"
    tags = [a for t in fetch.PLATFORMS["linux-x64"][0] for a in ("--platform", t)]
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                    "--target", str(tmp_path / "t"), "--only-binary=:all:", "--python-version", "3.11",
                    "--implementation", "cp", "--abi", "cp311", *tags, "--report", str(report),
                    "-r", str(REPO / "requirements.txt")], check=True, timeout=600)
    pip_set = {(fetch.canonicalize_name(i["metadata"]["name"]), i["metadata"]["version"])
               for i in json.loads(report.read_text())["install"]}
    ours = {(str(n), str(v)) for n, v, _, _ in
            (fetch.parse_wheel_filename(f) for f in fetch.recorded_platforms(linux_wheels)["linux-x64"])}
    assert ours == pip_set


@pytest.mark.skipif(sys.platform == "win32", reason="the point is fetching for another platform")
def test_windows_wheels_are_fetched_on_linux_with_windows_dependencies(tmp_path):
    wheels = fetch.resolve_and_download([fetch.Requirement("scikit-image==0.26.0")], "windows-x64", tmp_path)
    names = {fetch.parse_wheel_filename(w.name)[0] for w in wheels}
    assert names == {"scikit-image", "numpy", "scipy", "networkx", "pillow", "imageio", "tifffile", "packaging",
                     "lazy-loader"}
    for wheel in wheels:
        assert wheel.name.endswith(("-win_amd64.whl", "-none-any.whl")), wheel.name


def test_manifest_keys_are_replaced_in_place_and_blender_accepts_the_result(tmp_path):
    original = (REPO / "blender_manifest.toml").read_text()
    once = fetch.set_manifest_wheels(original, ["./wheels/a-1.0-py3-none-any.whl"], ["linux-x64"])
    twice = fetch.set_manifest_wheels(once, ["./wheels/b-2.0-py3-none-any.whl"], ["linux-x64", "windows-x64"])
    assert twice.count("wheels = [") == 1 and twice.count("platforms = [") == 1
    assert "a-1.0" not in twice and "b-2.0" in twice and '"windows-x64"' in twice
    assert "[build]" in twice and "paths_exclude_pattern" in twice   # the rest untouched
    package = tmp_path / "mesh_from_image"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "wheels").mkdir()
    _wheel_with_dependencies(package / "wheels", []).rename(package / "wheels" / "b-2.0-py3-none-any.whl")
    (package / "blender_manifest.toml").write_text(twice)
    done = subprocess.run([sys.executable, build_release.find_blender_ext(), "validate", str(package)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
