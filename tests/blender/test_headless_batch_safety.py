"""`blender -c mesh_from_image` batches (issue 16): a failure stays with its picture, nothing corrupt or partial
is ever written, and names never collide. Real worker, real exporters; faults from outside (a file-size limit
standing in for a full disk, signals to the real worker and to the host)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from importlib import import_module
from pathlib import Path

import pytest

from blender_session import MODULE, write_blob_png

FAST = ["--vertices", "400", "--refine-steps", "10"]
ALL_FORMATS = ("glb", "obj", "fbx", "usd", "ply", "stl", "blend")

# A host of its own: Blender's writes are limited, the worker (started first) is not, so only the exports
# meet the "full disk".
HOST = r"""
import json, os, resource, signal, sys
os.environ["BLENDER_USER_RESOURCES"] = sys.argv[1]
import bpy
assert bpy.ops.extensions.package_install_files(filepath=sys.argv[2], repo="user_default",
                                                enable_on_install=True) == {'FINISHED'}
package = sys.modules["bl_ext.user_default.mesh_from_image"]
args = json.loads(sys.argv[3])
if args.get("truncate_manifest"):   # this host's own installed copy: the session's extension is untouched
    manifest = os.path.join(os.path.dirname(package.__file__), "inference", "networks", "weights", "manifest.json")
    with open(manifest, "r+") as f:
        f.truncate(200)
from importlib import import_module
import_module(package.__name__ + ".scene.settings").worker_client().start()
if args.get("limit"):
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (args["limit"], args["limit"]))
print("READY", flush=True)
codes = {fmt: package.cli.main(args["argv"] + ["--format", fmt]) for fmt in args["formats"]}
print("CODES " + json.dumps(codes), flush=True)
"""

def listing(folder):
    """The folder's files, less the resume records written beside each mesh (inference/batch.py)."""
    return [f for f in folder.iterdir() if not f.name.endswith(".mesh_from_image.json")]



def host(built_zip, tmp_path, argv, formats=("glb",), limit=0, env=None, popen=False, truncate_manifest=False):
    command = [sys.executable, "-c", HOST, str(tmp_path / "user"), str(built_zip),
               json.dumps({"argv": [str(a) for a in argv], "formats": list(formats), "limit": limit,
                           "truncate_manifest": truncate_manifest})]
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    if popen:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


def test_a_full_disk_fails_every_format_naming_the_disk_and_keeps_older_files(built_zip, tmp_path):
    picture = write_blob_png(tmp_path / "shape.png", 120, 90)
    out = tmp_path / "out"
    out.mkdir()
    older = {fmt: out / f"shape{'.usdc' if fmt == 'usd' else '.' + fmt}" for fmt in ALL_FORMATS}
    for path in older.values():
        path.write_bytes(b"an older good file")
    p = host(built_zip, tmp_path, [picture, "--output-dir", out, *FAST, "--overwrite"], formats=ALL_FORMATS,
             limit=6000)
    assert "CODES" in p.stdout, p.stdout + p.stderr
    codes = json.loads(p.stdout.split("CODES ", 1)[1])
    assert codes == {fmt: 1 for fmt in ALL_FORMATS}, p.stderr
    # Blender's exporters print their own "exported successfully" (and the FBX exporter its traceback) to
    # stdout; what counts is the command's verdict on stderr and in the exit code.
    assert p.stderr.count("may be full or not writable") == len(ALL_FORMATS), p.stderr
    assert "Traceback" not in p.stderr
    for path in older.values():
        assert path.read_bytes() == b"an older good file", path
    assert sorted(f.name for f in listing(out)) == sorted(p.name for p in older.values())


def test_a_worker_killed_mid_batch_loses_only_the_picture_it_was_running(addon, clean_data, tmp_path, capsys):
    pictures = [write_blob_png(tmp_path / f"p{i}.png", 110 + 7 * i, 90) for i in range(5)]
    out = tmp_path / "out"
    settings = import_module(f"{MODULE}.scene.settings")
    killed = []

    def kill_when_the_first_file_is_written():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            if out.is_dir() and list(out.glob("*.glb")):
                pid = settings.worker_client().info.get("pid")
                os.kill(pid, signal.SIGKILL)   # what the out-of-memory killer does
                killed.append(pid)
            time.sleep(0.01)

    killer = threading.Thread(target=kill_when_the_first_file_is_written, daemon=True)
    killer.start()
    code = sys.modules[MODULE].cli.main([*map(str, pictures), "--output-dir", str(out), "--vertices", "400",
                                         "--refine-steps", "300", "--model", "none"])
    killer.join(5)
    err = capsys.readouterr().err
    assert killed, "the worker was never killed"
    assert code == 1
    failures = [line for line in err.splitlines() if "] error: " in line]
    assert len(failures) == 1 and "SIGKILL" in failures[0], err
    assert len(list(out.glob("*.glb"))) == 4


def test_names_never_collide_and_each_output_has_its_own_texture(addon, clean_data, tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        write_blob_png(tmp_path / folder / "good1.png", 100, 80)
    write_blob_png(tmp_path / "good1_2.png", 80, 100)
    pictures = [tmp_path / "x" / "good1.png", tmp_path / "y" / "good1.png", tmp_path / "good1_2.png"]
    cli = sys.modules[MODULE].cli
    out = tmp_path / "obj"
    assert cli.main([*map(str, pictures), "--output-dir", str(out), "--format", "obj", *FAST]) == 0
    stems = sorted(p.stem for p in out.glob("*.obj"))
    assert stems == ["good1", "good1_2", "good1_3"]
    textures = set()
    for stem in stems:
        maps = [line.split(None, 1)[1].strip() for line in (out / f"{stem}.mtl").read_text().splitlines()
                if line.strip().startswith("map_Kd")]
        assert len(maps) == 1 and os.path.basename(maps[0]).startswith(f"{stem}_texture"), maps
        assert (out / maps[0]).is_file()
        textures.add(maps[0])
    assert len(textures) == 3
    usd = tmp_path / "usd"
    assert cli.main([*map(str, pictures), "--output-dir", str(usd), "--format", "usd", *FAST]) == 0
    assert sorted(p.name for p in usd.glob("*.usdc")) == ["good1.usdc", "good1_2.usdc", "good1_3.usdc"]
    # (The USD exporter also writes one constant-colour texture named after its colour, the same for all.)
    written = sorted(p.name for p in (usd / "textures").iterdir() if p.suffix == ".png")
    assert written == ["good1_2_texture.png", "good1_3_texture.png", "good1_texture.png"], written


def test_the_report_is_the_engine_command_s(addon, clean_data, tmp_path):
    good = write_blob_png(tmp_path / "good.png", 100, 80)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    report = tmp_path / "report.json"
    code = sys.modules[MODULE].cli.main([str(good), str(corrupt), "--output-dir", str(tmp_path / "out"), *FAST,
                                         "--report", str(report)])
    assert code == 1
    data = json.loads(report.read_text())
    assert [e["status"] for e in data["inputs"]] == ["done", "failed"]
    assert data["failed"] == 1 and data["complete"] is True and data["options"]["template_vertices"] == 400
    assert Path(data["inputs"][0]["output"]).is_file() and "corrupt" in data["inputs"][1]["error"]


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_host_leaves_no_temporary_folders_and_a_truthful_report(built_zip, tmp_path, signum, code):
    temp = tmp_path / "tmp"
    temp.mkdir()
    pictures = [write_blob_png(tmp_path / f"p{i}.png", 100, 80) for i in range(3)]
    report = tmp_path / "report.json"
    proc = host(built_zip, tmp_path, [*pictures, "--output-dir", tmp_path / "out", "--vertices", "2500",
                                      "--refine-steps", "4000", "--report", report], env={"TMPDIR": str(temp)},
                popen=True)
    try:
        while not proc.stdout.readline().startswith("READY"):
            assert proc.poll() is None, proc.communicate()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not [p for p in temp.iterdir() if p.name != "mesh_from_image_logs"]:
            time.sleep(0.05)
        time.sleep(1.0)   # the pictures are queued and the worker is working on the first
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "Traceback" not in err, err
    assert f'CODES {{"glb": {code}}}' in out, out + err
    assert "interrupted: 0 of 3 picture(s) written" in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and [e["status"] for e in data["inputs"]] == ["not run"] * 3
    # The worker's logs are kept on purpose (the last ten, quoted in error messages); nothing else may stay.
    assert [p.name for p in temp.iterdir() if p.name.startswith("mesh_from_image")
            and p.name != "mesh_from_image_logs"] == []


def test_damaged_weights_fall_back_with_a_message_in_the_headless_command(built_zip, tmp_path):
    """The engine command said so; the headless command fell back without a word."""
    picture = write_blob_png(tmp_path / "shape.png", 120, 90)
    report = tmp_path / "report.json"
    p = host(built_zip, tmp_path, [picture, "--output-dir", tmp_path / "out", *FAST, "--report", report],
             truncate_manifest=True)
    assert 'CODES {"glb": 0}' in p.stdout, p.stdout + p.stderr
    assert "warning: " in p.stderr and "manifest" in p.stderr and "Fell back to the training-free" in p.stderr
    entry = json.loads(report.read_text())["inputs"][0]
    assert entry["status"] == "done" and "Fell back" in entry["warning"]
