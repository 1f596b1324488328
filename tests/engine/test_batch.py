"""Batches a pipeline can trust (issue 15): folders and lists in, a deterministic share per farm task, --resume
that redoes exactly what is not finished, and a report that stays truthful when the batch is killed.

The unit tests check inference/batch.py's parts; the command tests run the real `python -m inference`."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

import pytest
from PIL import Image

from inference import batch
from pictures import draw_object

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
FAST = ("--vertices", "300", "--steps", "5", "--model", "none")
SUFFIXES = {".png", ".jpg"}


def run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "inference", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=ENV)


def meshes(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.glb"))


def ten_pictures(folder: Path) -> list[str]:
    """10 pictures, 2 of them bad, the good ones each a little different."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(10):
        name = f"p{i:02d}.png"
        if i in (3, 7):
            (folder / name).write_bytes(b"\x89PNG\r\n\x1a\n not really" if i == 3 else b"")
        else:
            draw_object(offset=(i - 5, (i % 3) * 2)).save(folder / name)
        names.append(name)
    return names


# ---- the parts ---------------------------------------------------------------------------------------------

def test_folders_expand_sorted_with_subfolders_patterns_and_lists(tmp_path):
    pics = tmp_path / "in"
    for rel in ("b.png", "a.jpg", "sub/c.png", "sub/deeper/d.png", ".hidden.png", ".cache/e.png", "notes.txt",
                "out/texture.png"):
        (pics / rel).parent.mkdir(parents=True, exist_ok=True)
        (pics / rel).write_bytes(b"x")
    flat = batch.expand([pics], suffixes=SUFFIXES, exclude=pics / "out")
    assert [r.as_posix() for _p, r in flat] == ["a.jpg", "b.png"]
    deep = batch.expand([pics], suffixes=SUFFIXES, recursive=True, exclude=pics / "out")
    assert [r.as_posix() for _p, r in deep] == ["a.jpg", "b.png", "sub/c.png", "sub/deeper/d.png"]
    pattern = batch.expand([pics], suffixes=SUFFIXES, recursive=True, pattern="*.PNG", exclude=pics / "out")
    assert [r.as_posix() for _p, r in pattern] == ["b.png", "sub/c.png", "sub/deeper/d.png"]
    # A file named directly is taken whatever it is (its reader says what is wrong), and only once.
    named = batch.expand([pics / "notes.txt", pics, pics / "b.png"], suffixes=SUFFIXES)
    assert [r.as_posix() for _p, r in named] == ["notes.txt", "a.jpg", "b.png"]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# the list\nin/sub\n\nin/b.png\n{pics / 'a.jpg'}\n../elsewhere.png\n")
    listed = batch.expand([], suffixes=SUFFIXES, from_list=listing)
    assert [r.as_posix() for _p, r in listed] == ["in/sub/c.png", "in/b.png", "a.jpg", "elsewhere.png"]
    with pytest.raises(batch.BatchError, match="cannot read --from-list"):
        batch.expand([], suffixes=SUFFIXES, from_list=tmp_path / "nope.txt")


def test_output_names_keep_subfolders_and_are_unique_per_folder(tmp_path):
    pictures = [(Path(r), PurePosixPath(r)) for r in ("mug.png", "mug.jpg", "sub/mug.png", "Sub/x.png")]
    items = batch.plan(pictures, tmp_path, ".glb")
    assert [i.output.relative_to(tmp_path).as_posix() for i in items] == \
        ["mug.glb", "mug_2.glb", "sub/mug.glb", "Sub/x.glb"]
    assert [i.index for i in items] == [1, 2, 3, 4]


def test_chunks_cover_every_input_exactly_once():
    for count in range(0, 40):
        for n in range(1, 9):
            covered = []
            for k in range(1, n + 1):
                start, end = batch.chunk_bounds(k, n, count)
                covered.extend(range(start, end))
                assert end - start in (count // n, count // n + 1)
            assert covered == list(range(count)), (count, n)
    items = batch.plan([(Path(f"{i}.png"), PurePosixPath(f"{i}.png")) for i in range(7)], "out", ".glb")
    shares = [batch.select(items, chunk=f"{k}/3")[0] for k in (1, 2, 3)]
    assert [len(s) for s in shares] == [2, 2, 3]
    assert batch.select(items, index_range="6-9")[0] == items[5:]
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(batch.BatchError, match="--chunk"):
            batch.parse_chunk(bad)
    for bad in ("0-3", "5-2", "7"):
        with pytest.raises(batch.BatchError, match="--range"):
            batch.parse_range(bad)


def test_a_record_says_complete_until_the_picture_options_or_output_change(tmp_path):
    picture, out = tmp_path / "p.png", tmp_path / "p.glb"
    draw_object().save(picture)
    out.write_bytes(b"mesh")
    item = batch.BatchItem(index=1, path=picture, output=out)
    settings = {"format": "glb", "options": {"vertices": 300}}
    assert batch.up_to_date(item, settings) == "no record of a finished run"
    assert batch.decide(item, settings, resume=False, overwrite=False)[0] is False   # never silently replaced
    batch.write_record(item, [out], settings)
    assert batch.up_to_date(item, settings) is None
    assert batch.decide(item, settings, resume=True, overwrite=False) == (False, "up to date")
    assert batch.decide(item, settings, resume=False, overwrite=True)[0] is True
    assert batch.up_to_date(item, {"format": "glb", "options": {"vertices": 400}}) == "the options changed"
    os.utime(picture, ns=(1, 1))   # touched (copied) but the same bytes: still done
    assert batch.up_to_date(item, settings) is None
    draw_object(offset=(4, 0)).save(picture)
    assert batch.up_to_date(item, settings) == "the picture changed"
    batch.write_record(item, [out], settings)
    out.write_bytes(b"a different mesh")
    assert "changed since it was written" in batch.up_to_date(item, settings)
    out.unlink()
    assert batch.up_to_date(item, settings) == "'p.glb' is missing"


# ---- the command -------------------------------------------------------------------------------------------

def test_a_folder_with_two_bad_files_gives_eight_meshes_and_a_report_naming_the_two(tmp_path):
    names = ten_pictures(tmp_path / "in")
    out, report = tmp_path / "out", tmp_path / "report.json"
    p = run(tmp_path / "in", "--output-dir", out, *FAST, "--report", report)
    assert p.returncode == 1, p.stderr
    assert meshes(out) == [n.replace(".png", ".glb") for i, n in enumerate(names) if i not in (3, 7)]
    data = json.loads(report.read_text())
    assert data["complete"] is True and data["counts"]["done"] == 8 and data["counts"]["failed"] == 2
    failed = [e for e in data["inputs"] if e["status"] == "failed"]
    assert [Path(e["input"]).name for e in failed] == ["p03.png", "p07.png"] and all(e["error"] for e in failed)
    assert all(e["timings"] and e["seconds"] > 0 for e in data["inputs"] if e["status"] == "done")
    assert data["options"]["model"] == "none" and data["total_inputs"] == 10
    lines = [line for line in p.stdout.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/10] ") and lines[-1].startswith("[10/10] ")
    assert "[4/10] error: " in p.stderr and "8 done, 0 skipped, 2 failed of 10" in p.stderr

    # Without --resume or --overwrite nothing is replaced: every output is kept, said and counted.
    again = run(tmp_path / "in", "--output-dir", out, *FAST)
    assert again.returncode == 1   # the two bad ones still fail
    assert again.stdout.count("skipped, the output exists and was kept") == 8


def test_a_killed_batch_resumes_without_redoing_finished_pictures(tmp_path):
    ten_pictures(tmp_path / "in")
    out, report = tmp_path / "out", tmp_path / "report.json"
    proc = subprocess.Popen([sys.executable, "-m", "inference", str(tmp_path / "in"), "--output-dir", str(out),
                             *FAST, "--report", str(report)], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(list(out.glob(".*" + batch.RECORD_SUFFIX)) if out.exists() else []) < 4:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)   # no clean-up at all: the worst a farm node can do
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    # Finished before the kill: the mesh and, written last, its record (a kill between the two loses the record
    # only, and that picture is redone).
    first = {p: (out / p).stat().st_mtime_ns for p in meshes(out) if (out / f".{p}{batch.RECORD_SUFFIX}").exists()}
    assert 4 <= len(first) < 8
    killed = json.loads(report.read_text())
    assert killed["complete"] is False   # the report of the killed run says so
    assert {e["status"] for e in killed["inputs"]} <= {"done", "failed", "running", "pending"}
    for entry in killed["inputs"]:
        if entry["status"] == "done":
            assert Path(entry["output"]).exists()

    p = run(tmp_path / "in", "--output-dir", out, *FAST, "--resume", "--report", report)
    assert p.returncode == 1, p.stderr   # the two bad pictures
    assert len(meshes(out)) == 8
    for name, mtime in first.items():
        assert (out / name).stat().st_mtime_ns == mtime, f"{name} was redone"
    data = json.loads(report.read_text())
    skipped = [Path(e["output"]).name for e in data["inputs"] if e["status"] == "skipped"]
    assert len(skipped) == len(first) and all(e["reason"] == "up to date" for e in data["inputs"] if e["status"] == "skipped")
    assert data["counts"]["done"] + len(skipped) == 8 and data["complete"] is True


def test_changed_pictures_and_options_are_redone_under_resume(tmp_path):
    pics = tmp_path / "in"
    pics.mkdir()
    for i in range(3):
        draw_object(offset=(i * 4, 0)).save(pics / f"q{i}.png")
    out = tmp_path / "out"
    assert run(pics, "--output-dir", out, *FAST).returncode == 0
    draw_object(offset=(9, 9)).save(pics / "q1.png")
    p = run(pics, "--output-dir", out, *FAST, "--resume")
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("skipped, up to date") == 2 and "[2/3] " in p.stdout and "q1.png -> " in p.stdout
    p = run(pics, "--output-dir", out, "--vertices", "350", "--steps", "5", "--model", "none", "--resume")
    assert p.returncode == 0 and p.stdout.count(" -> ") == 3 and ": skipped, " not in p.stdout
    p = run(pics, "--output-dir", out, "--vertices", "350", "--steps", "5", "--model", "none", "--overwrite")
    assert p.returncode == 0 and p.stdout.count(" -> ") == 3


def test_three_chunks_together_write_the_folder_exactly_once(tmp_path):
    pics = tmp_path / "in"
    (pics / "sub").mkdir(parents=True)
    for i in range(7):
        draw_object(offset=(i - 3, 0)).save(pics / ("sub" if i % 3 == 0 else "") / f"c{i}.png")
    whole = run(pics, "--recursive", "--output-dir", tmp_path / "whole", *FAST)
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "farm"
    seen = []
    for k in (1, 2, 3):
        p = run(pics, "--recursive", "--output-dir", out, *FAST, "--chunk", f"{k}/3",
                "--report", tmp_path / f"chunk{k}.json")
        assert p.returncode == 0, p.stderr
        seen.extend(Path(e["output"]).relative_to(out).as_posix()
                    for e in json.loads((tmp_path / f"chunk{k}.json").read_text())["inputs"] if e["status"] == "done")
    assert sorted(seen) == meshes(out) == meshes(tmp_path / "whole") and len(seen) == 7
    assert "sub/c0.glb" in seen
    # An empty share (more tasks than pictures) is not a failure.
    p = run(pics, "--output-dir", tmp_path / "empty", *FAST, "--chunk", "9/9")
    assert p.returncode == 0, p.stderr


def test_bad_batch_arguments_are_refused_before_any_work(tmp_path):
    draw_object().save(tmp_path / "a.png")
    for args, said in (((tmp_path / "a.png", "--chunk", "4/3"), "--chunk takes K/N"),
                       ((tmp_path / "a.png", "--range", "0-2"), "--range takes A-B"),
                       ((tmp_path / "a.png", "--jobs", "0"), "--jobs must be at least 1"),
                       ((tmp_path / "a.png", "--resume", "--overwrite"), "not allowed with"),
                       (("--from-list", tmp_path / "none.txt"), "cannot read --from-list"),
                       ((), "name at least one picture")):
        p = run(*args, "--output-dir", tmp_path / "out", timeout=60)
        assert p.returncode == 2 and said in p.stderr, (args, p.stderr)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_two_jobs_give_the_same_meshes_as_one(tmp_path):
    pics = tmp_path / "in"
    pics.mkdir()
    for i in range(4):
        draw_object(offset=(i * 3, -i)).save(pics / f"j{i}.png")
    (pics / "j9.png").write_bytes(b"broken")
    one, two = tmp_path / "one", tmp_path / "two"
    a = run(pics, "--output-dir", one, *FAST, "--report", tmp_path / "one.json")
    b = run(pics, "--output-dir", two, *FAST, "--jobs", "2", "--report", tmp_path / "two.json")
    assert a.returncode == b.returncode == 1, b.stderr
    assert meshes(one) == meshes(two) == [f"j{i}.glb" for i in range(4)]
    import trimesh
    for name in meshes(one):
        ma = trimesh.load(one / name, force="mesh", process=False)
        mb = trimesh.load(two / name, force="mesh", process=False)
        assert ma.vertices.shape == mb.vertices.shape
        assert abs(ma.vertices - mb.vertices).max() < 1e-4, name
    report = json.loads((tmp_path / "two.json").read_text())
    assert [e["status"] for e in report["inputs"]] == ["done"] * 4 + ["failed"]
