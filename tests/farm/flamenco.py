"""Compile the Flamenco job type (farm/flamenco/mesh_from_image.js) with Node, the way Flamenco Manager would.

Plain functions, importable from any test folder (put this folder on sys.path first, as tests/farm/conftest.py
does, or load the file by path):

    tasks = compile_job({"input_folder": "/in", "output_folder": "/out", "tasks": 3})
    for task in tasks:
        args = mesh_from_image_args(task)      # what follows `-c mesh_from_image` on that task's command line

Without Node the calls skip the calling test (pytest.skip), since Node is what stands in for the Manager.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "flamenco_harness.js"
JOB_SCRIPT = HERE.parent.parent / "farm" / "flamenco" / "mesh_from_image.js"
COMMAND = ["-c", "mesh_from_image"]
NODE_MISSING = ("Node.js (`node`) is not on PATH: the Flamenco job type is JavaScript that Flamenco Manager runs, "
                "and these tests run it with Node instead")


class JobRefused(Exception):
    """compileJob threw: Flamenco Manager would refuse the submission with this message."""


def node() -> str:
    """Path of the node executable; skips the calling test when there is none."""
    found = shutil.which("node")
    if found is None:
        import pytest
        pytest.skip(NODE_MISSING)
    return found


def _run(mode: str, stdin: str | None = None, script: Path = JOB_SCRIPT) -> subprocess.CompletedProcess:
    return subprocess.run([node(), str(HARNESS), str(script), mode], input=stdin, capture_output=True,
                          text=True, timeout=60)


def compile_job(settings: dict, script: Path = JOB_SCRIPT) -> list[dict]:
    """The tasks compileJob makes from these job settings: [{name, type, commands: [{type, params}],
    dependencies: [task names]}], in the order the script added them. Raises JobRefused with the script's
    message when it refuses the settings."""
    done = _run("compile", json.dumps(settings), script)
    if done.returncode == 1:
        raise JobRefused(done.stderr.strip().removeprefix("error compiling job: "))
    if done.returncode != 0:
        raise RuntimeError(f"the harness failed (exit code {done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)["tasks"]


def job_type(script: Path = JOB_SCRIPT) -> dict:
    """The script's JOB_TYPE object (label, description, settings)."""
    done = _run("job-type", None, script)
    if done.returncode != 0:
        raise RuntimeError(f"the harness failed (exit code {done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def command_line(task: dict) -> list[str]:
    """[executable, *arguments] of the task's one command (an `exec` command)."""
    commands = task["commands"]
    if len(commands) != 1 or commands[0]["type"] != "exec":
        raise ValueError(f"task {task['name']!r} should hold one exec command, not {commands!r}")
    params = commands[0]["params"]
    return [params["exe"], *params["args"]]


def mesh_from_image_args(task: dict) -> list[str]:
    """The arguments after `-c mesh_from_image` on the task's command line: what to give the real CLI."""
    line = command_line(task)
    for i in range(len(line) - 1):
        if line[i:i + 2] == COMMAND:
            return line[i + 2:]
    raise ValueError(f"task {task['name']!r} does not run `-c mesh_from_image`: {line!r}")
