"""Fill wheels/ with the unmodified wheels the inference worker needs, for one or more Blender platforms.

    python wheels/fetch.py --platform linux-x64 [--platform windows-x64 --platform macos-arm64]
                           [--torch-index-url https://download.pytorch.org/whl/cpu] [--manifest PATH]

What is fetched: the pins of requirements.txt (PyTorch CPU build, NumPy below 2, SciPy, scikit-image, Pillow,
trimesh) and everything they depend on, as binary wheels for CPython 3.11 (the Python of Blender 4.2-5.0).

Why not one `pip download --platform ...`: pip evaluates dependency markers such as
`platform_system == "Linux"` for the machine it runs on, not for the target, so a fetch for Windows made on
Linux would pull Linux-only CUDA packages (and miss Windows-only ones). This script therefore downloads each
requirement with `--no-deps` for the target platform, reads the dependencies from the wheel's own METADATA,
evaluates their markers for the target, and repeats until nothing new is needed.

Per platform it records the files in `wheels/<platform>.json` (name, size, sha256); `--manifest` writes the
`wheels` and `platforms` keys of a blender_manifest.toml from every platform recorded so far, so that
`blender_ext.py build --split-platforms` makes one zip per platform (tools/build_release.py does both on a
staged copy, which leaves the repository's own manifest free of wheels for development builds).

Standard library plus `packaging` (which pip vendors, used as a fallback). Runs with any Python that has pip.
"""
from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.markers import Marker  # type: ignore
    from pip._vendor.packaging.requirements import Requirement  # type: ignore
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename  # type: ignore

WHEELS_DIR = Path(__file__).resolve().parent
REPO = WHEELS_DIR.parent
PYTHON_VERSION = "3.11"   # Blender 4.2-5.0; compiled wheels must match the minor version

# Blender platform -> (pip --platform tags, marker environment of that platform).
# Linux: Blender 4.2+ needs glibc 2.28, so every manylinux tag up to 2_28 is acceptable (pip does not expand
# manylinux tags by itself). macOS: PyTorch's arm64 wheels need macOS 14; pip expands to older macOS tags.
_MANYLINUX = [f"manylinux_2_{minor}_x86_64" for minor in range(28, 16, -1)] + ["manylinux2014_x86_64"]
PLATFORMS = {
    "linux-x64": (_MANYLINUX, {"sys_platform": "linux", "platform_system": "Linux",
                               "platform_machine": "x86_64", "os_name": "posix"}),
    "windows-x64": (["win_amd64"], {"sys_platform": "win32", "platform_system": "Windows",
                                    "platform_machine": "AMD64", "os_name": "nt"}),
    "macos-arm64": (["macosx_14_0_arm64"], {"sys_platform": "darwin", "platform_system": "Darwin",
                                            "platform_machine": "arm64", "os_name": "posix"}),
}

_MAX_ROUNDS = 10


def marker_environment(platform: str) -> dict:
    """The values dependency markers are evaluated against on the target platform with CPython 3.11."""
    env = {"python_version": PYTHON_VERSION, "python_full_version": f"{PYTHON_VERSION}.9",
           "implementation_name": "cpython", "implementation_version": f"{PYTHON_VERSION}.9",
           "platform_python_implementation": "CPython", "platform_release": "", "platform_version": "",
           "extra": ""}
    env.update(PLATFORMS[platform][1])
    return env


def read_requirements(path: Path) -> list[Requirement]:
    """Pinned requirements from a requirements file (comments, options and includes are skipped)."""
    requirements = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirements.append(Requirement(line))
    return requirements


def wheel_dependencies(wheel: Path, platform: str) -> list[Requirement]:
    """The Requires-Dist entries of a wheel whose markers hold on the target platform (no extras)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist()
                             if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        metadata = email.parser.BytesParser().parsebytes(archive.read(metadata_name), headersonly=True)
    env = marker_environment(platform)
    needed = []
    for text in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(env):
            requirement.marker = None
            needed.append(requirement)
    return needed


def merge(requirements: dict[str, Requirement], new: Requirement) -> bool:
    """Add a requirement, combining version specifiers with one already there; True when something changed."""
    key = canonicalize_name(new.name)
    old = requirements.get(key)
    if old is None:
        requirements[key] = Requirement(str(new))
        return True
    combined = old.specifier & new.specifier
    if str(combined) == str(old.specifier):
        return False
    old.specifier = combined
    return True


def pip_download(requirements: list[str], platform: str, dest: Path, index_url: str | None = None) -> None:
    """`pip download --no-deps` of binary wheels for the target platform into dest."""
    tags, _ = PLATFORMS[platform]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--python-version", PYTHON_VERSION, "--implementation", "cp",
               "--abi", f"cp{PYTHON_VERSION.replace('.', '')}", "--dest", str(dest)]
    for tag in tags:
        command += ["--platform", tag]
    if index_url:
        command += ["--index-url", index_url]
    command += requirements
    subprocess.run(command, check=True)


def _wheels_by_name(folder: Path, platform: str) -> dict[str, list[Path]]:
    """Wheels in the folder usable on the platform, by canonical project name (newest version last)."""
    tags, _ = PLATFORMS[platform]
    found: dict[str, list[tuple]] = {}
    for wheel in folder.glob("*.whl"):
        name, version, _build, wheel_tags = parse_wheel_filename(wheel.name)
        if any(t.platform == "any" or t.platform in tags or _mac_compatible(t.platform, tags)
               for t in wheel_tags):
            found.setdefault(name, []).append((version, wheel))
    return {name: [w for _, w in sorted(entries)] for name, entries in found.items()}


def _mac_compatible(wheel_platform: str, tags: list[str]) -> bool:
    """macosx_11_0_arm64 runs where macosx_14_0_arm64 does (pip expands macOS versions downwards)."""
    match = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", wheel_platform)
    for tag in tags:
        target = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", tag)
        if match and target and match.group(3) in (target.group(3), "universal2") and \
                (int(match.group(1)), int(match.group(2))) <= (int(target.group(1)), int(target.group(2))):
            return True
    return False


def gpu_only_dependencies(wheel: Path, platform: str) -> list[str]:
    """CUDA/ROCm runtime packages a torch wheel pulls in on the platform: a GPU build (gigabytes), not ours."""
    return sorted(r.name for r in wheel_dependencies(wheel, platform)
                  if canonicalize_name(r.name).startswith(("nvidia-", "triton", "pytorch-triton")))


def resolve_and_download(requirements: list[Requirement], platform: str, dest: Path,
                         torch_index_url: str | None = None) -> list[Path]:
    """Download the requirements and their dependencies for the platform; return the wheel files used."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, Requirement] = {}
    for requirement in requirements:
        merge(wanted, requirement)
    if "torch" in wanted:
        # From the PyTorch index when one is given (its CPU builds); everything else from the usual indexes.
        pip_download([str(wanted["torch"])], platform, dest, index_url=torch_index_url)
    for _ in range(_MAX_ROUNDS):
        others = [str(r) for key, r in wanted.items() if key != "torch"]
        if others:
            pip_download(others, platform, dest)
        available = _wheels_by_name(dest, platform)
        chosen = {}
        for key, requirement in wanted.items():
            matching = [w for w in available.get(key, [])
                        if requirement.specifier.contains(parse_wheel_filename(w.name)[1], prereleases=True)]
            if not matching:
                raise SystemExit(f"No wheel of {requirement} for {platform} was downloaded into {dest}.")
            chosen[key] = matching[-1]
        if "torch" in chosen and (gpu := gpu_only_dependencies(chosen["torch"], platform)):
            raise SystemExit(f"{chosen['torch'].name} is a GPU build (it needs {', '.join(gpu[:3])}, ...): the "
                             f"bundled runtime is the CPU build. Pass --torch-index-url "
                             f"https://download.pytorch.org/whl/cpu (PyPI's Linux torch is the CUDA build).")
        changed = False
        for wheel in chosen.values():
            for dependency in wheel_dependencies(wheel, platform):
                changed |= merge(wanted, dependency)
        if not changed:
            return sorted(chosen.values(), key=lambda p: p.name.lower())
    raise SystemExit(f"The dependencies for {platform} did not settle after {_MAX_ROUNDS} rounds.")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record(platform: str, wheels: list[Path], requirements: list[Requirement], folder: Path = WHEELS_DIR) -> Path:
    """Write wheels/<platform>.json: what this platform's zip bundles, and the pins it was fetched for."""
    path = folder / f"{platform}.json"
    entries = [{"file": w.name, "size": w.stat().st_size, "sha256": sha256(w)} for w in wheels]
    path.write_text(json.dumps({"platform": platform, "python": PYTHON_VERSION,
                                "requirements": sorted(str(r) for r in requirements), "wheels": entries}, indent=1))
    return path


def is_current(platform: str, requirements: list[Requirement], folder: Path = WHEELS_DIR) -> bool:
    """Whether the folder holds this platform's complete fetch for exactly these pins."""
    path = folder / f"{platform}.json"
    if platform not in recorded_platforms(folder):
        return False
    return json.loads(path.read_text()).get("requirements") == sorted(str(r) for r in requirements)


def recorded_platforms(folder: Path = WHEELS_DIR) -> dict[str, list[str]]:
    """Platform -> wheel file names, from the records whose wheels are all still in the folder."""
    recorded = {}
    for platform in PLATFORMS:
        path = folder / f"{platform}.json"
        if path.exists():
            files = [entry["file"] for entry in json.loads(path.read_text())["wheels"]]
            if all((folder / f).exists() for f in files):
                recorded[platform] = files
    return recorded


def _toml_list(key: str, values: list[str]) -> str:
    if not values:
        return f"{key} = []\n"
    return f"{key} = [\n" + "".join(f'  "{v}",\n' for v in values) + "]\n"


def set_manifest_wheels(manifest_text: str, wheels: list[str], platforms: list[str]) -> str:
    """The manifest with its top-level `wheels` and `platforms` keys replaced (or added before the first
    table). The manifest is edited as text so its comments and layout stay as they are."""
    for key, values in (("wheels", wheels), ("platforms", platforms)):
        block = _toml_list(key, values)
        pattern = re.compile(rf"^{key}\s*=\s*\[[^\]]*\]\s*\n", re.MULTILINE)
        if pattern.search(manifest_text):
            manifest_text = pattern.sub(lambda _m: block, manifest_text, count=1)
        else:
            first_table = re.search(r"^\[", manifest_text, re.MULTILINE)
            at = first_table.start() if first_table else len(manifest_text)
            manifest_text = manifest_text[:at] + block + "\n" + manifest_text[at:]
    return manifest_text


def write_manifest(manifest: Path, folder: Path = WHEELS_DIR) -> dict[str, list[str]]:
    """Point the manifest's `wheels` at every recorded platform's wheels (paths relative to the package)."""
    recorded = recorded_platforms(folder)
    files = sorted({f for names in recorded.values() for f in names}, key=str.lower)
    text = set_manifest_wheels(manifest.read_text(), [f"./wheels/{f}" for f in files], sorted(recorded))
    manifest.write_text(text)
    return recorded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS), required=True,
                        help="Blender platform to fetch for (repeat for several)")
    parser.add_argument("--torch-index-url", default=None,
                        help="index to take torch from, e.g. https://download.pytorch.org/whl/cpu for the "
                             "official CPU builds; default: pip's configured indexes (PyPI)")
    parser.add_argument("--requirements", type=Path, default=REPO / "requirements.txt",
                        help="pinned requirements of the worker (default: requirements.txt)")
    parser.add_argument("--dest", type=Path, default=WHEELS_DIR, help="where the wheels go (default: wheels/)")
    parser.add_argument("--manifest", type=Path, default=None,
                        help="blender_manifest.toml whose wheels/platforms keys to write")
    args = parser.parse_args(argv)

    requirements = read_requirements(args.requirements)
    for platform in args.platform:
        wheels = resolve_and_download(requirements, platform, args.dest, args.torch_index_url)
        record(platform, wheels, requirements, args.dest)
        size = sum(w.stat().st_size for w in wheels) / 1e6
        print(f"{platform}: {len(wheels)} wheels, {size:.0f} MB")
    if args.manifest:
        recorded = write_manifest(args.manifest, args.dest)
        print(f"{args.manifest}: wheels for {', '.join(sorted(recorded))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
