"""Build the release zips (one per platform, with the bundled wheels) and a static extension repository.

    python tools/build_release.py [--platform linux-x64 ...] [--fetch] [--output-dir dist/release]
                                  [--repository dist/repository]

1. (--fetch) runs wheels/fetch.py for the platforms, filling wheels/.
2. Stages a copy of the package in OUTPUT/stage/mesh_from_image with a manifest whose `wheels` and `platforms`
   keys list what wheels/ holds for the platforms (the wheels are hard links, not copies). The repository's own
   blender_manifest.toml stays without wheels, so development builds and the Blender tests stay small.
3. Runs Blender's `blender_ext.py build --split-platforms` on the staged copy: OUTPUT/mesh_from_image-VERSION-PLATFORM.zip.
4. (--repository DIR) copies the zips into DIR and runs `blender_ext.py server-generate --html`, which writes
   index.json and index.html: DIR is then an extension repository to serve from any static web server or a
   shared folder (see README.md, "Installation and GPU runtime").

Blender's blender_ext.py is taken from the bpy module of the running Python, or --blender-ext.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "wheels"))
import fetch  # noqa: E402  (wheels/fetch.py)

PACKAGE_ID = "mesh_from_image"
# Top-level entries never copied into the stage, whatever the manifest says (big, or not part of the package).
_NEVER_STAGED = {".git", ".venv", "dist", "out", ".pytest_cache", "__pycache__", "wheels"}


def find_blender_ext() -> str:
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.origin:
        raise SystemExit("Blender's blender_ext.py was not found: install the bpy module or pass --blender-ext.")
    found = glob.glob(os.path.join(os.path.dirname(spec.origin), "*", "scripts", "addons_core", "bl_pkg", "cli",
                                   "blender_ext.py"))
    if not found:
        raise SystemExit("blender_ext.py is not in the bpy module; pass --blender-ext.")
    return found[0]


def _top_level_excludes(manifest: dict) -> set[str]:
    """Top-level names the manifest's build excludes anyway ("/name/" or "/name" patterns): not worth copying."""
    names = set()
    for pattern in manifest.get("build", {}).get("paths_exclude_pattern", []):
        if pattern.startswith("/") and "*" not in pattern and pattern.strip("/").count("/") == 0:
            names.add(pattern.strip("/"))
    return names


def stage_package(stage: Path, platforms: list[str], repo: Path = REPO, wheels_dir: Path = fetch.WHEELS_DIR) -> Path:
    """A copy of the package in stage/PACKAGE_ID whose manifest bundles the platforms' wheels."""
    recorded = fetch.recorded_platforms(wheels_dir)
    missing = [p for p in platforms if p not in recorded]
    if missing:
        raise SystemExit(f"No complete wheels for {', '.join(missing)} in {wheels_dir}: run "
                         f"python wheels/fetch.py --platform {' --platform '.join(missing)}")
    manifest_path = repo / "blender_manifest.toml"
    skip = _NEVER_STAGED | _top_level_excludes(tomllib.loads(manifest_path.read_text()))
    target = stage / PACKAGE_ID
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for entry in sorted(repo.iterdir()):
        if entry.name in skip:
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(entry, target / entry.name)
    (target / "wheels").mkdir()
    files = sorted({f for p in platforms for f in recorded[p]}, key=str.lower)
    for name in files:
        try:
            os.link(wheels_dir / name, target / "wheels" / name)
        except OSError:   # another file system
            shutil.copy2(wheels_dir / name, target / "wheels" / name)
    text = fetch.set_manifest_wheels(manifest_path.read_text(), [f"./wheels/{f}" for f in files], sorted(platforms))
    (target / "blender_manifest.toml").write_text(text)
    return target


def tree_digest(folder: Path) -> str:
    """A digest of the staged package: contents of its files, wheels by name and size (they are immutable)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        digest.update(rel.encode() + b"\0")
        digest.update(str(path.stat().st_size).encode() if path.suffix == ".whl" else path.read_bytes())
    return digest.hexdigest()[:16]


def build_zips(staged: Path, output_dir: Path, blender_ext: str | None = None) -> list[Path]:
    """Blender's own builder, one zip per platform of the staged manifest."""
    output_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, blender_ext or find_blender_ext(), "build", "--split-platforms",
                           "--source-dir", str(staged), "--output-dir", str(output_dir)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"blender_ext.py build failed:\n{done.stdout}\n{done.stderr}")
    version = tomllib.loads((staged / "blender_manifest.toml").read_text())["version"]
    return sorted(output_dir.glob(f"{PACKAGE_ID}-{version}-*.zip"))


def generate_repository(zips: list[Path], repository: Path, blender_ext: str | None = None) -> Path:
    """Copy the zips into a folder and write its index.json and index.html (`server-generate --html`)."""
    repository.mkdir(parents=True, exist_ok=True)
    for zip_path in zips:
        target = repository / zip_path.name
        target.unlink(missing_ok=True)
        try:
            os.link(zip_path, target)   # zips are hundreds of MB: link where the file system allows it
        except OSError:
            shutil.copy2(zip_path, target)
    done = subprocess.run([sys.executable, blender_ext or find_blender_ext(), "server-generate",
                           "--repo-dir", str(repository), "--html"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"blender_ext.py server-generate failed:\n{done.stdout}\n{done.stderr}")
    return repository / "index.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", action="append", choices=sorted(fetch.PLATFORMS),
                        help="platform to build (repeat); default: every platform fetched into wheels/")
    parser.add_argument("--fetch", action="store_true", help="run wheels/fetch.py for the platforms first")
    parser.add_argument("--torch-index-url", default=None, help="passed to wheels/fetch.py")
    parser.add_argument("--output-dir", type=Path, default=REPO / "dist" / "release")
    parser.add_argument("--repository", type=Path, default=None,
                        help="also make this folder a static extension repository (index.json + index.html)")
    parser.add_argument("--blender-ext", default=None, help="path of Blender's blender_ext.py")
    args = parser.parse_args(argv)

    if args.fetch:
        if not args.platform:
            parser.error("--fetch needs --platform")
        fetch_args = [a for p in args.platform for a in ("--platform", p)]
        if args.torch_index_url:
            fetch_args += ["--torch-index-url", args.torch_index_url]
        fetch.main(fetch_args)
    platforms = args.platform or sorted(fetch.recorded_platforms())
    if not platforms:
        parser.error("wheels/ holds no fetched platform: run wheels/fetch.py or pass --fetch --platform ...")
    staged = stage_package(args.output_dir / "stage", platforms)
    zips = build_zips(staged, args.output_dir, args.blender_ext)
    for zip_path in zips:
        print(f"{zip_path} ({zip_path.stat().st_size / 1e6:.0f} MB)")
    if args.repository:
        print(f"repository index: {generate_repository(zips, args.repository, args.blender_ext)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
