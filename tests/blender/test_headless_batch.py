"""`blender -c mesh_from_image` on folders, as a pipeline and a farm use it (issue 15): bad files fail alone,
a killed batch resumes without redoing finished pictures, the Flamenco job's tasks cover a folder exactly once."""
import json
import os
import sys
import time
from pathlib import Path

from blender_session import MODULE, write_blob_png
from test_headless_batch_safety import host

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "farm"))
import flamenco  # noqa: E402  (tests/farm/flamenco.py: the job script run under Node)

FAST = ["--vertices", "300", "--refine-steps", "5", "--model", "none"]
RECORD = ".mesh_from_image.json"


def folder_of(folder: Path, count: int, bad=()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        if i in bad:
            (folder / f"p{i:02d}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
        else:
            write_blob_png(folder / f"p{i:02d}.png", 90 + 6 * i, 80, colour=(40 + 20 * i, 90, 200 - 15 * i))
    return folder


def meshes(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.glb"))


def test_a_folder_with_two_bad_files_gives_eight_meshes_and_a_report_naming_them(addon, clean_data, tmp_path,
                                                                                 capsys):
    cli = sys.modules[MODULE].cli
    pictures = folder_of(tmp_path / "in", 10, bad=(2, 6))
    out, report = tmp_path / "out", tmp_path / "report.json"
    assert cli.main([str(pictures), "--output-dir", str(out), *FAST, "--report", str(report)]) == 1
    assert meshes(out) == [f"p{i:02d}.glb" for i in range(10) if i not in (2, 6)]
    data = json.loads(report.read_text())
    assert data["complete"] is True and data["counts"]["done"] == 8 and data["counts"]["failed"] == 2
    assert [Path(e["input"]).name for e in data["inputs"] if e["status"] == "failed"] == ["p02.png", "p06.png"]
    assert all(e["error"] for e in data["inputs"] if e["status"] == "failed")
    assert data["options"]["model"] == "none" and data["options"]["format"] == "glb"
    captured = capsys.readouterr()
    assert "[1/10] " in captured.out and "[10/10] " in captured.out and "[3/10] error: " in captured.err
    assert "8 done, 0 skipped, 2 failed of 10 picture(s)" in captured.err

    # Again without --resume/--overwrite: nothing replaced, each kept output said and counted.
    before = {name: (out / name).stat().st_mtime_ns for name in meshes(out)}
    assert cli.main([str(pictures), "--output-dir", str(out), *FAST]) == 1
    assert capsys.readouterr().out.count("skipped, the output exists and was kept") == 8
    assert before == {name: (out / name).stat().st_mtime_ns for name in meshes(out)}


def test_a_killed_batch_resumes_without_redoing_the_finished_pictures(addon, clean_data, built_zip, tmp_path):
    pictures = folder_of(tmp_path / "in", 8)
    out = tmp_path / "out"
    temp = tmp_path / "tmp"   # a SIGKILLed Blender cleans nothing up: its run folders stay in the test's folder
    temp.mkdir()
    proc = host(built_zip, tmp_path, [pictures, "--output-dir", out, *FAST], env={"TMPDIR": str(temp)}, popen=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(list(out.glob(".*" + RECORD)) if out.is_dir() else []) < 3:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.kill()   # SIGKILL: Blender gets no chance to clean up or finish its report
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    finished = {p: (out / p).stat().st_mtime_ns for p in meshes(out) if (out / f".{p}{RECORD}").exists()}
    assert 3 <= len(finished) < 8, finished
    report = tmp_path / "resume.json"
    code = sys.modules[MODULE].cli.main([str(pictures), "--output-dir", str(out), *FAST, "--resume",
                                         "--report", str(report)])
    assert code == 0
    assert meshes(out) == [f"p{i:02d}.glb" for i in range(8)]
    for name, mtime in finished.items():
        assert (out / name).stat().st_mtime_ns == mtime, f"{name} was redone"
    data = json.loads(report.read_text())
    assert sorted(Path(e["output"]).name for e in data["inputs"] if e["status"] == "skipped") == sorted(finished)
    assert data["counts"]["done"] == 8 - len(finished)


def test_the_flamenco_job_s_tasks_write_the_folder_exactly_once(addon, clean_data, tmp_path):
    pictures = folder_of(tmp_path / "in", 7)
    (pictures / "sub").mkdir()
    (pictures / "p03.png").rename(pictures / "sub" / "p03.png")
    out = tmp_path / "farm out"
    tasks = flamenco.compile_job({"input_folder": str(pictures), "output_folder": str(out), "tasks": 3,
                                  "recursive": True, "vertices": 300, "model": "none"})
    assert len(tasks) == 3
    cli = sys.modules[MODULE].cli
    written = []
    for task in tasks:
        args = flamenco.mesh_from_image_args(task)
        assert "--resume" in args and args[args.index("--chunk") + 1] in ("1/3", "2/3", "3/3")
        assert cli.main(args + ["--refine-steps", "5"]) == 0, args
        report = Path(args[args.index("--report") + 1])
        written += [Path(e["output"]).relative_to(out).as_posix()
                    for e in json.loads(report.read_text())["inputs"] if e["status"] == "done"]
    assert sorted(written) == meshes(out) and len(written) == 7 and "sub/p03.glb" in written
    # A requeued task (Flamenco retries a failed one) finds its share done and redoes nothing.
    args = flamenco.mesh_from_image_args(tasks[1]) + ["--refine-steps", "5"]
    assert cli.main(args) == 0
    data = json.loads(Path(args[args.index("--report") + 1]).read_text())
    assert {e["status"] for e in data["inputs"]} == {"skipped"}


def test_two_workers_side_by_side(addon, clean_data, tmp_path):
    pictures = folder_of(tmp_path / "in", 4, bad=(1,))
    one, two = tmp_path / "one", tmp_path / "two"
    cli = sys.modules[MODULE].cli
    assert cli.main([str(pictures), "--output-dir", str(one), *FAST]) == 1
    assert cli.main([str(pictures), "--output-dir", str(two), *FAST, "--jobs", "2", "--report",
                     str(tmp_path / "two.json")]) == 1
    assert meshes(one) == meshes(two) == ["p00.glb", "p02.glb", "p03.glb"]
    import trimesh
    for name in meshes(one):
        a = trimesh.load(one / name, force="mesh", process=False)
        b = trimesh.load(two / name, force="mesh", process=False)
        assert a.vertices.shape == b.vertices.shape and abs(a.vertices - b.vertices).max() < 1e-4, name
    data = json.loads((tmp_path / "two.json").read_text())
    assert [e["status"] for e in data["inputs"]] == ["done", "failed", "done", "done"]
