"""Starting, crashing and stopping workers: every failure must become a clear WorkerError, never a hang."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from inference import contract
from worker import WorkerError, get_client, shutdown_all

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_worker_killed_mid_job_fails_as_died_and_the_next_job_starts_a_new_one(
        make_client, ellipse, quick_options, long_options, wait_for_progress):
    client = make_client()
    first_pid = client.start()["pid"]
    job = client.submit({"image_array": ellipse, "options": long_options})
    wait_for_progress(job)
    os.kill(first_pid, signal.SIGKILL)
    with pytest.raises(WorkerError) as err:
        job.wait(30)
    assert err.value.kind == "died"
    assert "SIGKILL" in str(err.value) and "next job starts a new one" in str(err.value)
    assert client.state == "dead"

    result = client.submit({"image_array": ellipse, "options": quick_options}).wait(120)
    assert len(result.faces) > 0
    assert client.state == "ready" and client.info["pid"] != first_pid


def test_stop_during_a_job_cancels_it_and_ends_the_process(make_client, ellipse, long_options, wait_for_progress):
    client = make_client()
    pid = client.start()["pid"]
    job = client.submit({"image_array": ellipse, "options": long_options})
    wait_for_progress(job)
    started = time.monotonic()
    client.stop()
    assert time.monotonic() - started < 6.0
    assert client.state == "stopped" and not _pid_alive(pid)
    with pytest.raises(WorkerError) as err:
        job.result()
    assert err.value.kind == "cancelled"


def test_start_up_time_out_is_an_error_not_a_hang(make_client, tmp_path):
    sleeper = tmp_path / "sleepy-python"
    sleeper.write_text("#!/bin/sh\nsleep 60\n")
    sleeper.chmod(0o755)
    client = make_client(python=str(sleeper), startup_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(WorkerError) as err:
        client.start()
    assert err.value.kind == "timeout"
    assert str(sleeper) in str(err.value) and "1 s" in str(err.value)
    assert time.monotonic() - started < 5.0
    assert client.state == "dead"


# A bare venv lacks even numpy (the engine package's import fails before the worker can check); one with the
# system's site-packages has numpy and scipy but no torch here (the worker's own check answers "fatal").
@pytest.mark.parametrize("venv_flags", [[], ["--system-site-packages"]], ids=["bare", "system-site"])
def test_interpreter_without_torch_is_a_dependency_error_naming_it(make_client, tmp_path, ellipse, venv_flags):
    venv = tmp_path / "venv"
    made = subprocess.run(["python3", "-m", "venv", "--without-pip", *venv_flags, str(venv)], capture_output=True,
                          timeout=60)
    if made.returncode != 0:
        pytest.skip(f"cannot make a virtual environment here: {made.stderr.decode()[-300:]}")
    python = str(venv / "bin" / "python")
    client = make_client(python=python)
    with pytest.raises(WorkerError) as err:
        client.submit({"image_array": ellipse})
    assert err.value.kind == "dependency"
    message = str(err.value)
    assert python in message and "torch" in message and "preferences" in message
    probe = subprocess.run([python, "-c", "import torch"], capture_output=True, timeout=60)
    assert probe.returncode != 0, "the test needs an interpreter without torch"


@pytest.mark.parametrize("python, expected", [
    ("/no/such/python3", "was not found"),
    (sys.executable + "-not-there", "was not found"),
    ("/bin/false", "exited with code 1 during start-up"),
    ("/opt/blender-4.2/blender", "No Python interpreter to run the worker was found"),
])
def test_bad_interpreter_is_a_start_up_error(make_client, python, expected):
    client = make_client(python=python)
    with pytest.raises(WorkerError) as err:
        client.start()
    assert err.value.kind == "startup"
    assert python in str(err.value) and expected in str(err.value)


def test_raw_protocol_keeps_stdout_to_json_lines_and_exits_on_eof():
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS="1")
    worker = subprocess.Popen([sys.executable, "-u", "-m", "inference.worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)
    try:
        requests = ["not json", json.dumps({"cmd": "dance", "id": "x"}),
                    json.dumps({"cmd": "reconstruct", "id": "j1"}),   # no image, no output path
                    json.dumps({"cmd": "cancel", "id": "nothing"})]
        worker.stdin.write(("\n".join(requests) + "\n").encode())
        worker.stdin.flush()
        events = [json.loads(worker.stdout.readline()) for _ in range(4)]
        worker.stdin.close()   # EOF, as when Blender quits
        assert worker.wait(30) == 0
        assert worker.stdout.read() == b"", "nothing after the answers"
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.stdout.close()
        worker.stderr.close()
    assert events[0]["type"] == "ready" and events[0]["torch"] and events[0]["device"] == "cpu"
    assert [(e["type"], e["id"], e["kind"]) for e in events[1:]] == [
        ("error", None, "internal"), ("error", "x", "internal"), ("error", "j1", "input")]


def test_shared_clients_are_one_per_interpreter_and_shut_down_together():
    a = get_client()
    assert get_client(sys.executable) is a
    assert get_client(sys.executable + "-other") is not a
    a.extra_env = {"OMP_NUM_THREADS": "1"}
    pid = a.start()["pid"]
    shutdown_all()
    assert a.state == "stopped" and not _pid_alive(pid)
    assert get_client() is not a
    shutdown_all()


def test_stop_while_starting_leaves_no_worker_behind(make_client, tmp_path):
    import threading

    sleeper = tmp_path / "slow-python"
    sleeper.write_text("#!/bin/sh\nsleep 60\n")
    sleeper.chmod(0o755)
    client = make_client(python=str(sleeper), startup_timeout=30.0)
    errors = []
    starter = threading.Thread(target=lambda: errors.append(pytest.raises(WorkerError, client.start).value))
    starter.start()
    deadline = time.monotonic() + 10
    while client.state != "starting" and time.monotonic() < deadline:
        time.sleep(0.01)
    stopped_at = time.monotonic()
    client.stop()
    starter.join(10)
    assert not starter.is_alive() and time.monotonic() - stopped_at < 5.0
    assert errors[0].kind == "cancelled"
    assert client.state == "stopped"


NOISY_WORKER = """
import os, sys
import inference.pipeline as pipeline
real = pipeline.reconstruct

def noisy(*args, **kwargs):
    print("a library talking on stdout")
    os.write(1, b"C code writing to fd 1\\n")
    return real(*args, **kwargs)

pipeline.reconstruct = noisy
from inference.worker import main
sys.exit(main())
"""


def test_prints_from_libraries_go_to_stderr_not_into_the_protocol(tmp_path, ellipse, quick_options):
    import numpy as np

    np.save(tmp_path / "image.npy", ellipse)
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS="1")
    request = {"cmd": "reconstruct", "id": "n1", "image_array_path": str(tmp_path / "image.npy"),
               "options": quick_options, "output_path": str(tmp_path / "mesh.npz")}
    worker = subprocess.Popen([sys.executable, "-u", "-c", NOISY_WORKER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)
    try:
        worker.stdin.write((json.dumps(request) + "\n").encode())
        worker.stdin.flush()
        events = [json.loads(worker.stdout.readline())]   # a line that is not JSON fails here
        while events[-1]["type"] not in ("result", "error"):
            events.append(json.loads(worker.stdout.readline()))
        worker.stdin.close()
        stderr = worker.stderr.read()
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.stdout.close()
        worker.stderr.close()
    assert events[0]["type"] == "ready" and events[-1]["type"] == "result"
    assert b"a library talking on stdout" in stderr and b"C code writing to fd 1" in stderr


def test_interpreter_names_are_resolved_like_a_shell_would(make_client):
    import shutil

    assert make_client(python="").python == sys.executable
    assert make_client(python=None).python == sys.executable
    assert make_client(python=f'"{sys.executable}"').python == sys.executable
    assert make_client(python="sh").python == shutil.which("sh")


FAILING_WORKER = """
import sys
import inference.pipeline as pipeline
from inference.errors import DependencyError

def failing(source, options=None, *, mask=None, progress=None, name=None):
    progress("load", 0.0)
    if name == "oom":
        raise MemoryError()
    if name == "dep":
        raise DependencyError("scikit-image is too old; install 0.26.")
    raise ValueError("boom in the engine")

pipeline.reconstruct = failing
from inference.worker import main
sys.exit(main())
"""


def test_engine_failures_become_typed_errors_with_the_traceback_in_the_log(tmp_path, ellipse):
    import numpy as np

    np.save(tmp_path / "image.npy", ellipse)
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS="1")
    worker = subprocess.Popen([sys.executable, "-u", "-c", FAILING_WORKER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)
    answers = {}
    try:
        assert json.loads(worker.stdout.readline())["type"] == "ready"
        for name in ("oom", "dep", "bug"):
            request = {"cmd": "reconstruct", "id": name, "name": name, "output_path": str(tmp_path / "m.npz"),
                       "image_array_path": str(tmp_path / "image.npy")}
            worker.stdin.write((json.dumps(request) + "\n").encode())
            worker.stdin.flush()
            while True:
                event = json.loads(worker.stdout.readline())
                if event["type"] == "error":
                    answers[event["id"]] = event
                    break
        worker.stdin.close()
        stderr = worker.stderr.read().decode()
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.stdout.close()
        worker.stderr.close()
    assert answers["oom"]["kind"] == "internal" and "out of memory" in answers["oom"]["message"]
    assert "template vertex count" in answers["oom"]["message"] and "CPU" in answers["oom"]["message"]
    assert answers["dep"]["kind"] == "dependency" and "scikit-image" in answers["dep"]["message"]
    assert answers["bug"]["kind"] == "internal" and "ValueError: boom in the engine" in answers["bug"]["message"]
    assert "Traceback" in stderr and "boom in the engine" in stderr


def _older_install(tmp_path, protocol: int) -> str:
    """A copy of this package whose engine speaks another protocol: what an older install's worker is."""
    import shutil

    package = tmp_path / "old_install"
    shutil.copytree(os.path.join(REPO_ROOT, "inference"), package / "inference",
                    ignore=shutil.ignore_patterns("__pycache__"))
    contract_py = package / "inference" / "contract.py"
    text = contract_py.read_text()
    assert f"PROTOCOL_VERSION = {contract.PROTOCOL_VERSION}\n" in text
    contract_py.write_text(text.replace(f"PROTOCOL_VERSION = {contract.PROTOCOL_VERSION}\n",
                                        f"PROTOCOL_VERSION = {protocol}\n"))
    return str(package)


def test_a_worker_of_another_protocol_is_refused_with_restart_blender(make_client, tmp_path, ellipse, quick_options):
    client = make_client(package_dir=_older_install(tmp_path, contract.PROTOCOL_VERSION - 1))
    with pytest.raises(WorkerError) as err:
        client.submit({"image_array": ellipse, "options": quick_options})
    assert err.value.kind == "protocol"
    message = str(err.value)
    assert f"protocol {contract.PROTOCOL_VERSION - 1}" in message and "Restart Blender" in message
    assert client.state == "dead" and client.info.get("pid") is None, "the old worker is not kept"


def test_the_worker_refuses_a_request_of_another_protocol(tmp_path, ellipse, quick_options):
    import numpy as np

    np.save(tmp_path / "image.npy", ellipse)
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS="1")
    request = {"cmd": "reconstruct", "id": "p1", "protocol": contract.PROTOCOL_VERSION + 1,
               "image_array_path": str(tmp_path / "image.npy"), "options": quick_options,
               "output_path": str(tmp_path / "mesh.npz")}
    worker = subprocess.Popen([sys.executable, "-u", "-m", "inference.worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)
    try:
        ready = json.loads(worker.stdout.readline())
        worker.stdin.write((json.dumps(request) + "\n").encode())
        worker.stdin.flush()
        answer = json.loads(worker.stdout.readline())
        worker.stdin.close()
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.stdout.close()
        worker.stderr.close()
    assert ready["protocol"] == contract.PROTOCOL_VERSION
    assert answer["type"] == "error" and answer["kind"] == "protocol" and "Restart Blender" in answer["message"]
    assert not (tmp_path / "mesh.npz").exists()


def test_worker_killed_at_job_2_of_5_fails_that_job_once_and_runs_the_rest_on_a_new_worker(
        make_client, ellipse, quick_options, long_options, wait_for_progress):
    """The system's out-of-memory killer at picture 2 of 5 used to fail pictures 3-5 as well."""
    client = make_client()
    first_pid = client.start()["pid"]
    jobs = [client.submit({"image_array": ellipse, "options": long_options if i == 1 else quick_options})
            for i in range(5)]
    wait_for_progress(jobs[1])
    os.kill(first_pid, signal.SIGKILL)
    assert len(jobs[0].wait(120).faces) > 0
    with pytest.raises(WorkerError) as err:
        jobs[1].wait(60)
    assert err.value.kind == "died" and "SIGKILL" in str(err.value) and "3 waiting job(s) are retried" in str(err.value)
    for job in jobs[2:]:
        assert len(job.wait(180).faces) > 0
    assert client.info["pid"] != first_pid and _pid_alive(client.info["pid"])


def test_a_hung_worker_is_killed_after_the_time_out_and_replaced(make_client, ellipse, quick_options, long_options,
                                                                 wait_for_progress):
    """A stopped worker (SIGSTOP) used to be waited on until each job's time-out and then left in place."""
    client = make_client()
    hung_pid = client.start()["pid"]
    stuck = client.submit({"image_array": ellipse, "options": long_options})
    behind = client.submit({"image_array": ellipse, "options": quick_options})
    wait_for_progress(stuck)
    os.kill(hung_pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(WorkerError) as err:
            stuck.wait(timeout=1.0)
        assert err.value.kind == "timeout" and time.monotonic() - started < 15
        deadline = time.monotonic() + 15
        while _pid_alive(hung_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _pid_alive(hung_pid), "the hung worker was left in place"
        assert len(behind.wait(180).faces) > 0
        assert client.info["pid"] != hung_pid
    finally:
        if _pid_alive(hung_pid):
            os.kill(hung_pid, signal.SIGKILL)
