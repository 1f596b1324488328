"""Our own extension repository: `server-generate` over the release zips makes index.json + index.html, and
Blender (the bpy module, isolated user folder) adds it as a remote repository, lists the extension, installs it."""
import hashlib
import json
import os
import subprocess
import sys
import textwrap

import build_release   # tools/, put on sys.path by conftest.py

# Run in a fresh process: bpy is process-global (see blender_install_check.py).
_ADD_SYNC_INSTALL = textwrap.dedent("""
    import json, sys
    import bpy, addon_utils
    url, report = sys.argv[1], sys.argv[2]
    bpy.context.preferences.system.use_online_access = True   # Blender refuses remote installs without it
    repos = bpy.context.preferences.extensions.repos
    repo = repos.new(name="Mesh from Image", module="mesh_from_image_repo", remote_url=url)
    index = list(repos).index(repo)
    out = {"sync": sorted(bpy.ops.extensions.repo_sync(repo_directory=repo.directory, repo_index=index))}
    out["install"] = sorted(bpy.ops.extensions.package_install(
        repo_directory=repo.directory, repo_index=index, pkg_id="mesh_from_image", enable_on_install=True))
    out["enabled"] = list(addon_utils.check("bl_ext.mesh_from_image_repo.mesh_from_image"))
    json.dump(out, open(report, "w"))
""")


def test_server_generate_makes_a_repository_blender_installs_from(linux_zip, tmp_path):
    repository = tmp_path / "repository"
    index_path = build_release.generate_repository([linux_zip], repository)
    assert (repository / "index.html").is_file()
    entries = json.loads(index_path.read_text())["data"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["id"] == "mesh_from_image" and entry["platforms"] == ["linux-x64"]
    assert entry["python_versions"] == ["3.11"]
    assert entry["archive_url"] == f"./{linux_zip.name}"
    digest = hashlib.sha256()
    with open(linux_zip, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    assert entry["archive_hash"] == f"sha256:{digest.hexdigest()}"

    user_dir = tmp_path / "blender-user"
    user_dir.mkdir()
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-c", _ADD_SYNC_INSTALL, index_path.as_uri(), str(report)],
                          env=dict(os.environ, BLENDER_USER_RESOURCES=str(user_dir)),
                          capture_output=True, text=True, timeout=600)
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    assert json.loads(report.read_text()) == {"sync": ["FINISHED"], "install": ["FINISHED"], "enabled": [True, True]}
