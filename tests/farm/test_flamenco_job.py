"""The Flamenco job type (farm/flamenco/mesh_from_image.js), compiled with Node standing in for the Manager."""
import re
import tomllib
from pathlib import Path

import pytest

from flamenco import (HERE, JOB_SCRIPT, JobRefused, command_line, compile_job, job_type,
                      mesh_from_image_args)

FOLDERS = {"input_folder": "/farm/photos", "output_folder": "/farm/meshes"}
BLENDER = ["{blender}", "-b", "--addons", "bl_ext.user_default.mesh_from_image", "-c", "mesh_from_image"]
RECONSTRUCTION_FLAGS = {"--vertices", "--model", "--device", "--faces", "--quads", "--upright", "--fill-sides",
                        "--bake", "--no-refine", "--fill-holes", "--jobs"}
EXPECTED_KEYS = ["input_folder", "output_folder", "format", "recursive", "pattern", "tasks", "vertices", "model",
                 "device", "faces", "quads", "upright", "fill_sides", "bake", "no_refine", "fill_holes", "jobs",
                 "extension_repo"]


def chunk_tail(out: str, k: int, n: int) -> list[str]:
    return ["--chunk", f"{k}/{n}", "--resume", "--report", f"{out}/mesh_from_image-reports/chunk-{k}-of-{n}.json"]


def chunks(tasks: list[dict]) -> list[str]:
    values = []
    for task in tasks:
        args = mesh_from_image_args(task)
        assert args.count("--chunk") == 1, args
        values.append(args[args.index("--chunk") + 1])
    return values


def addon_settings(**changes) -> dict:
    """Every setting at its JOB_TYPE default, as Blender's Flamenco add-on submits them."""
    settings = {s["key"]: s["default"] for s in job_type()["settings"] if "default" in s}
    settings.update(FOLDERS)
    settings.update(changes)
    return settings


def test_defaults_make_ten_tasks_with_the_bare_command():
    tasks = compile_job(dict(FOLDERS))
    assert [t["name"] for t in tasks] == [f"chunk-{k}-of-10" for k in range(1, 11)]
    assert {t["type"] for t in tasks} == {"blender"}
    assert all(t["dependencies"] == [] for t in tasks)
    for k, task in enumerate(tasks, start=1):
        assert [c["type"] for c in task["commands"]] == ["exec"]
        assert set(task["commands"][0]["params"]) == {"exe", "args"}
        assert command_line(task) == BLENDER + ["/farm/photos", "--output-dir", "/farm/meshes", "--format", "glb",
                                                *chunk_tail("/farm/meshes", k, 10)]


def test_the_addon_submitting_every_default_gives_the_same_tasks():
    assert compile_job(addon_settings()) == compile_job(dict(FOLDERS))


def test_three_tasks_with_recursive_pattern_and_options():
    settings = dict(FOLDERS, tasks=3, recursive=True, pattern="shot_*.png", format="obj", vertices=8000,
                    model="none", device="cpu", faces=4000, quads=True, upright=True, fill_sides=True, bake=1024,
                    no_refine=True, fill_holes=True, jobs=2, extension_repo="studio_tools")
    tasks = compile_job(settings)
    assert [t["name"] for t in tasks] == ["chunk-1-of-3", "chunk-2-of-3", "chunk-3-of-3"]
    for k, task in enumerate(tasks, start=1):
        assert command_line(task) == [
            "{blender}", "-b", "--addons", "bl_ext.studio_tools.mesh_from_image", "-c", "mesh_from_image",
            "/farm/photos", "--output-dir", "/farm/meshes", "--format", "obj", "--recursive",
            "--pattern", "shot_*.png", *chunk_tail("/farm/meshes", k, 3),
            "--vertices", "8000", "--model", "none", "--device", "cpu", "--faces", "4000", "--quads", "--upright",
            "--fill-sides", "--bake", "1024", "--no-refine", "--fill-holes", "--jobs", "2"]


def test_paths_with_spaces_stay_single_arguments():
    inp, out = "/mnt/farm share/Client A/photos 2024", "/mnt/farm share/Client A/meshes (final)"
    [task] = compile_job({"input_folder": inp, "output_folder": out, "tasks": 1, "pattern": "hero shot *.jpg"})
    assert mesh_from_image_args(task) == [inp, "--output-dir", out, "--format", "glb", "--pattern",
                                          "hero shot *.jpg", *chunk_tail(out, 1, 1)]


def test_one_task_takes_the_whole_folder():
    [task] = compile_job(dict(FOLDERS, tasks=1))
    assert task["name"] == "chunk-1-of-1"
    assert mesh_from_image_args(task) == ["/farm/photos", "--output-dir", "/farm/meshes", "--format", "glb",
                                          *chunk_tail("/farm/meshes", 1, 1)]


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_chunks_are_exactly_one_to_n(n):
    tasks = compile_job(dict(FOLDERS, tasks=n))
    assert chunks(tasks) == [f"{k}/{n}" for k in range(1, n + 1)]
    reports = [a[a.index("--report") + 1] for a in map(mesh_from_image_args, tasks)]
    assert len(set(reports)) == n == len({t["name"] for t in tasks})


def test_defaults_given_explicitly_are_not_repeated_as_flags():
    explicit = dict(FOLDERS, vertices=2500, model="auto", device="auto", faces=0, quads=False, upright=False,
                    fill_sides=False, bake=0, no_refine=False, fill_holes=False, jobs=1, recursive=False,
                    pattern="")
    for task in compile_job(explicit):
        args = mesh_from_image_args(task)
        assert not RECONSTRUCTION_FLAGS & set(args), args
        assert "--recursive" not in args and "--pattern" not in args


@pytest.mark.parametrize("change, flags", [
    ({"vertices": 2501}, ["--vertices", "2501"]),
    ({"model": "none"}, ["--model", "none"]),
    ({"device": "gpu"}, ["--device", "gpu"]),
    ({"faces": 1}, ["--faces", "1"]),
    ({"quads": True}, ["--quads"]),
    ({"upright": True}, ["--upright"]),
    ({"fill_sides": True}, ["--fill-sides"]),
    ({"bake": 16}, ["--bake", "16"]),
    ({"no_refine": True}, ["--no-refine"]),
    ({"fill_holes": True}, ["--fill-holes"]),
    ({"jobs": 4}, ["--jobs", "4"]),
])
def test_one_changed_option_adds_only_its_flag(change, flags):
    [task] = compile_job(dict(FOLDERS, tasks=1, **change))
    args = mesh_from_image_args(task)
    report_end = args.index("--report") + 2
    assert args[report_end:] == flags


def test_report_path_keeps_the_output_folders_own_separators():
    [unc] = compile_job({"input_folder": r"\\nas\photos", "output_folder": "\\\\nas\\meshes\\", "tasks": 1})
    args = mesh_from_image_args(unc)
    assert args[args.index("--report") + 1] == r"\\nas\meshes\mesh_from_image-reports\chunk-1-of-1.json"
    [slashed] = compile_job({"input_folder": "/in", "output_folder": "{storage}/out/", "tasks": 1})
    args = mesh_from_image_args(slashed)
    assert args[args.index("--output-dir") + 1] == "{storage}/out/"
    assert args[args.index("--report") + 1] == "{storage}/out/mesh_from_image-reports/chunk-1-of-1.json"


def test_job_type_settings_have_labels_descriptions_and_the_expected_keys():
    jt = job_type()
    assert jt["label"] == "Mesh from Image" and jt["description"]
    settings = {s["key"]: s for s in jt["settings"]}
    assert [s["key"] for s in jt["settings"]] == EXPECTED_KEYS
    for key, s in settings.items():
        assert s["type"] in {"string", "int32", "float", "bool"}, key
        assert s.get("label", "").strip() and s.get("description", "").strip(), key
        if s["type"] == "bool":
            assert s["default"] is False, key
        if s["type"] == "int32":
            assert isinstance(s["default"], int), key
        if "choices" in s:
            assert s["type"] == "string" and s["default"] in s["choices"], key
    for key in ("input_folder", "output_folder"):
        assert settings[key]["subtype"] == "dir_path" and settings[key]["required"] is True
        assert "default" not in settings[key]
    assert settings["format"]["choices"] == ["glb", "obj", "fbx", "usd", "ply", "stl", "blend"]
    assert settings["model"]["choices"] == ["auto", "none"]
    assert settings["device"]["choices"] == ["auto", "cpu", "gpu"]
    assert settings["vertices"]["default"] == 2500
    assert settings["vertices"]["propargs"] == {"min": 100, "max": 200000}
    assert settings["pattern"]["default"] == "" and settings["extension_repo"]["default"] == "user_default"
    assert "cannot list" in settings["tasks"]["description"]


def test_the_job_type_s_defaults_bounds_and_choices_are_the_command_s():
    """The Manager runs the job type alone, so it restates some of inference/contract.py: a changed default
    or bound there must change here too (a task would otherwise fail with exit code 2 on every worker, or
    a default would put a flag on every command line)."""
    from inference import contract
    settings = {s["key"]: s for s in job_type()["settings"]}
    artist = contract.ArtistOptions()
    for key, name in (("vertices", "template_vertices"), ("faces", "target_faces"), ("bake", "bake_size")):
        s = contract.spec(name)
        assert settings[key]["default"] == contract.default(name), key
        assert settings[key]["propargs"]["max"] == s.maximum, key
    assert settings["vertices"]["propargs"]["min"] == contract.VERTICES_MIN
    assert settings["faces"]["propargs"]["min"] == contract.spec("target_faces").minimum
    assert settings["bake"]["propargs"]["min"] == contract.spec("bake_size").off
    compile_job(dict(FOLDERS, bake=contract.BAKE_MIN))
    with pytest.raises(JobRefused, match="bake"):
        compile_job(dict(FOLDERS, bake=contract.BAKE_MIN - 1))
    assert settings["model"]["choices"] == [model for _, model, _, _, _ in contract.SHAPE_PRIORS]
    assert settings["model"]["default"] == contract.default("model")
    assert settings["device"]["choices"] == [identifier.lower() for identifier, _, _ in contract.DEVICE_ITEMS]
    assert set(settings["device"]["choices"]) <= set(contract.DEVICES)
    assert settings["device"]["default"] == contract.default("device")
    for key in ("quads", "upright", "fill_sides"):
        assert settings[key]["default"] == getattr(artist, key), key
    assert settings["no_refine"]["default"] is not contract.default("refine")
    assert settings["fill_holes"]["default"] is contract.default("fill_holes")
    assert "--fill-holes" in contract.spec("fill_holes").flags
    assert settings["faces"]["description"].startswith(contract.spec("target_faces").help.split(";")[0])


def test_the_job_type_s_contract_block_is_made_from_the_contract(monkeypatch):
    """The defaults, bounds and choices are written into the job type by tools/make_flamenco_job.py, not by
    hand: the committed block is what the tool makes now, and it follows a change in the contract."""
    from inference import contract
    from tools import make_flamenco_job as tool
    text = JOB_SCRIPT.read_text(encoding="utf-8")
    assert tool.rewritten(text) == text, "farm/flamenco/mesh_from_image.js is stale: run python -m tools.make_flamenco_job"
    assert tool.main(["--check"]) == 0
    monkeypatch.setattr(contract, "VERTICES_MAX", 150_000)
    assert '"vertices": {"default": 2500, "min": 100, "max": 150000}' in tool.block()
    assert tool.rewritten(text) != text


@pytest.mark.parametrize("change, message", [
    ({"tasks": 0}, r"Number of Tasks \(tasks\) must be from 1 to 10000, not 0"),
    ({"tasks": -3}, r"\(tasks\) must be from 1 to"),
    ({"tasks": 2.5}, r"\(tasks\) must be a whole number, not 2\.5"),
    ({"tasks": "3"}, r"\(tasks\) must be a whole number, not \"3\""),
    ({"tasks": 10001}, r"\(tasks\) must be from 1 to 10000"),
    ({"vertices": 99}, r"Vertices \(vertices\) must be from 100 to 200000, not 99"),
    ({"vertices": 200001}, r"\(vertices\) must be from 100 to 200000, not 200001"),
    ({"bake": 8}, r"\(bake\) must be 0 \(no baking\) or 16 to 8192 pixels, not 8"),
    ({"bake": 15}, r"\(bake\) must be 0 \(no baking\) or 16 to 8192"),
    ({"bake": -1}, r"\(bake\) must be from 0 to 8192, not -1"),
    ({"bake": 8193}, r"\(bake\) must be from 0 to 8192, not 8193"),
    ({"faces": -1}, r"\(faces\) must be from 0 to 1000000, not -1"),
    ({"faces": 1_000_001}, r"\(faces\) must be from 0 to 1000000"),
    ({"jobs": 0}, r"\(jobs\) must be at least 1"),
    ({"input_folder": ""}, r"Input Folder \(input_folder\) is empty"),
    ({"output_folder": "   "}, r"Output Folder \(output_folder\) is empty"),
    ({"output_folder": None}, r"\(output_folder\) is empty"),
    ({"format": "gltf"}, r"\(format\) must be one of glb, obj, fbx, usd, ply, stl, blend, not \"gltf\""),
    ({"model": "large"}, r"\(model\) must be one of auto, none"),
    ({"device": "tpu"}, r"\(device\) must be one of auto, cpu, gpu"),
    ({"quads": "yes"}, r"\(quads\) must be true or false"),
    ({"extension_repo": "user default"}, r"\(extension_repo\) must be an extension repository id"),
    ({"extension_repo": ""}, r"\(extension_repo\) must be an extension repository id"),
])
def test_bad_settings_are_refused_with_a_clear_message(change, message):
    with pytest.raises(JobRefused, match=message):
        compile_job(dict(FOLDERS, **change))


def test_missing_folder_is_refused():
    with pytest.raises(JobRefused, match=r"Input Folder \(input_folder\) is empty"):
        compile_job({"output_folder": "/out"})


def test_harness_is_as_strict_as_the_manager(tmp_path):
    """The stand-ins refuse what Flamenco's Go side refuses, and a task's commands are fixed once it is added."""
    script = tmp_path / "probe.js"
    script.write_text("""
const JOB_TYPE = { label: "Probe", settings: [] };
function compileJob(job) {
    if (job.settings.mode === "console") { console.log("not in goja"); }
    if (job.settings.mode === "noname") { author.Task("  ", "misc"); }
    const first = author.Task("first", "misc");
    const params = { message: "before" };
    first.addCommand(author.Command("echo", params));
    params.message = "after";
    job.addTask(first);
    first.addCommand(author.Command("sleep", { duration_in_seconds: 1 }));
    const second = author.Task("second", "misc");
    second.addDependency(first);
    job.addTask(second);
}
""")
    first, second = compile_job({}, script=script)
    assert first["commands"] == [{"type": "echo", "params": {"message": "before"}}]
    assert second["dependencies"] == ["first"]
    with pytest.raises(JobRefused, match="console is not defined"):
        compile_job({"mode": "console"}, script=script)
    with pytest.raises(JobRefused, match=r"author.Task\(name, type\): name is required"):
        compile_job({"mode": "noname"}, script=script)


def test_the_extension_zip_leaves_the_farm_folder_out():
    manifest = tomllib.loads((HERE.parent.parent / "blender_manifest.toml").read_text())
    assert "/farm/" in manifest["build"]["paths_exclude_pattern"]
    assert JOB_SCRIPT.relative_to(HERE.parent.parent).parts[0] == "farm"


def test_readme_explains_the_job_type():
    readme = (HERE.parent.parent / "README.md").read_text()
    section = re.split(r"\n#{2,4} ", readme.split("#### Render farm (Flamenco)", 1)[1], maxsplit=1)[0]
    assert re.search(r"`scripts`", section) and "--resume" in section
    assert "split the image list into chunks" not in readme
