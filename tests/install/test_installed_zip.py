"""The linux-x64 release zip, installed into the bpy module with an isolated user folder (one run of
blender_install_check.py, see conftest.py): bundled wheels alone reconstruct, the runtime order holds, and bad
interpreters, a runtime without torch and an interrupted install each leave the previous working state."""
import os
import zipfile

import fetch   # wheels/fetch.py, put on sys.path by conftest.py

PLATFORM = "linux-x64"


def test_zip_bundles_exactly_the_recorded_wheels_and_no_tooling(linux_zip, linux_wheels):
    names = zipfile.ZipFile(linux_zip).namelist()
    wheels = sorted(n.split("/", 1)[1] for n in names if n.startswith("wheels/"))
    assert wheels == sorted(fetch.recorded_platforms(linux_wheels)[PLATFORM])
    assert any(w.startswith("torch-") and "+cpu" in w for w in wheels)
    assert any(w.startswith("numpy-1.") for w in wheels)   # below 2, like Blender 4.2-5.0's own numpy
    assert not any(n.startswith(("tests/", "tools/", "training/")) or n.endswith("fetch.py")
                   or (n.startswith("wheels/") and n.endswith(".json")) for n in names)
    # The learned prior's weights and their checksum manifest do ship.
    assert "inference/networks/weights/manifest.json" in names


def test_blender_installs_the_zip_and_unpacks_its_wheels(blender_report):
    assert blender_report["install_result"] == ["FINISHED"]
    assert blender_report["enabled"] == [True, True]
    site, = blender_report["bundled_site_dirs"]
    assert site.endswith(os.path.join("extensions", ".local", "lib", "python3.11", "site-packages"))


def test_without_preferences_or_gpu_runtime_the_worker_uses_blenders_python_and_the_bundled_wheels(blender_report):
    runtime = blender_report["addon_runtime"]
    assert runtime["kind"] == "bundled"
    assert runtime["paths"][0] == blender_report["bundled_site_dirs"][0]   # before Blender's own site-packages


def test_the_status_box_probes_in_the_background_and_finds_the_runtime(blender_report):
    status = blender_report["status"]
    assert not status["first_result"] and status["first_call_s"] < 1.0   # drawing never waits for torch
    assert status["result"]["ok"] and status["result"]["torch"]


def test_a_python_without_torch_reconstructs_with_the_bundled_wheels_alone(blender_report):
    probe = blender_report["bare_probe"]
    assert probe["ok"], probe["message"]
    assert probe["torch"] == "2.13.0+cpu"
    assert probe["torch_path"].startswith(blender_report["bundled_site_dirs"][0])
    assert probe["device"].startswith("CPU")
    done = blender_report["bare_reconstruction"]
    assert done["python"] == blender_report["bare_runtime"]["python"]
    # One closed surface with the mug's handle kept open: F = 2 V - 4 + 4 g, g = 1.
    assert done["holes"] == done["genus"] == 1
    assert done["vertices"] > 300 and done["faces"] == 2 * done["vertices"] - 4 + 4 * done["genus"]


def test_use_existing_python_refuses_bad_interpreters_and_keeps_the_previous_choice(blender_report, bare_python):
    prefs = blender_report["preferences"]
    assert "does not exist" in prefs["bad_path"] and prefs["bad_path_kept"] == ""
    assert "torch" in prefs["no_torch"] and bare_python in prefs["no_torch"] and prefs["no_torch_kept"] == ""
    assert prefs["good"] == "FINISHED" and prefs["good_runtime"]["kind"] == "interpreter"
    assert "does not exist" in prefs["bad_after_good"]
    assert prefs["bad_after_good_kept"] == prefs["good_set"]
    assert prefs["cleared"] == ""


def test_a_gpu_runtime_without_torch_is_skipped_with_the_reason(blender_report):
    runtime = blender_report["runtime_without_torch"]
    assert runtime["kind"] == "bundled"
    assert any("has no PyTorch" in why for why in runtime["skipped"])


def test_downloading_the_gpu_runtime_is_refused_while_blender_is_offline(blender_report):
    gpu = blender_report["gpu_runtime"]
    assert gpu["online_access"] is False
    assert "Online access is disabled" in gpu["download_offline"] and "folder" in gpu["download_offline"]
    assert not gpu["download_offline_left"]


def test_gpu_runtime_installed_from_a_wheel_folder_comes_first(blender_report):
    gpu = blender_report["gpu_runtime"]
    assert gpu["install"] == "FINISHED"
    site = os.path.join(gpu["runtime_dir"], "site-packages")
    assert gpu["runtime"]["kind"] == "gpu" and gpu["runtime"]["paths"][0] == site
    assert gpu["probe"]["ok"] and gpu["probe"]["torch_path"] == os.path.join(site, "torch")
    assert gpu["bare_reconstruction"]["faces"] > 0


def test_an_interrupted_gpu_runtime_install_keeps_the_runtime_in_use(blender_report):
    gpu = blender_report["gpu_runtime"]
    assert gpu["interrupted_staging_existed"], "the install was cancelled before pip wrote anything"
    assert gpu["interrupted_state"] == "cancelled" and "previous runtime is kept" in gpu["interrupted_message"]
    assert not gpu["staging_left"] and gpu["stamp_unchanged"]
    assert gpu["runtime_after_interrupt"] == gpu["runtime"]
    assert gpu["remove"] == "FINISHED" and gpu["runtime_after_remove"]["kind"] == "bundled"
