"""Start and drive the inference worker process (``python -m inference.worker``) from Blender or a script.

Blender never imports torch: it runs the engine in a child process and talks to it in JSON lines (the
protocol is described in ``inference/worker.py``). This module is the parent's side. It uses only the
standard library and numpy, so it imports inside Blender and in plain tests alike.

Threads: each worker process has one reader thread that parses its stdout and updates the Job objects; every
public method is safe to call from Blender's main thread (a timer or a modal operator polls ``Job.poll``).
"""
from __future__ import annotations

import atexit
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import numpy as np

from .runtime import Runtime, for_python

try:   # in Blender: a subpackage of the extension beside inference/
    from ..inference import contract
except ImportError:   # the repository root on sys.path (tests, scripts): top-level packages
    from inference import contract
# contract is standard library only: importing it here brings no torch into Blender.

_STOP_GRACE_S = 5.0          # how long stop() lets the worker finish on its own before killing it
_LOG_TAIL_CHARS = 3000       # how much of the worker's stderr an error message quotes
_LOGS_KEPT = 10              # older worker logs in the log folder are deleted at start-up
# After a job's time-out the worker gets this long to acknowledge the cancel (it does so at its next progress
# step); one that stays silent is stopped or deadlocked and would hold every later job, so it is replaced.
_CANCEL_GRACE_S = 5.0


class WorkerError(Exception):
    """A job or the worker failed. ``kind`` says how: "startup", "timeout", "died", "input", "cancelled",
    "internal", "dependency" or "protocol" (a worker of another version); the message is written for the artist and names what to do."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


def _default_package_dir() -> str:
    """The folder holding both ``worker/`` and ``inference/``: the repository root or the installed extension."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tail(path: str | None, chars: int = _LOG_TAIL_CHARS) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - chars))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return text.strip()


# Import names that differ from the names pip installs them under.
_PIP_NAMES = {"skimage": "scikit-image", "PIL": "pillow", "cv2": "opencv-python"}
_RUNTIME_PACKAGES = "torch numpy scipy scikit-image pillow"


def _missing_module(log_path: str | None) -> str | None:
    """The top-level module named by a ModuleNotFoundError in the worker's log, if it died of one before it
    could report it itself (an import in the package's own __init__ runs before the worker's checks)."""
    match = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", _tail(log_path))
    return match.group(1).split(".")[0] if match else None


def _dependency_message(python: str, module: str) -> str:
    pip_name = _PIP_NAMES.get(module, module)
    return (f"The Python interpreter '{python}' cannot run the reconstruction: the package '{pip_name}' is missing. "
            f"Install the runtime for it ('{python}' -m pip install {_RUNTIME_PACKAGES}) or choose another "
            f"Python interpreter in the add-on preferences.")


def _runtime_hint(runtime: Runtime) -> str:
    """What to do about a missing package when the add-on chose the runtime (not the user's own Python)."""
    if runtime.kind == "bundled":
        return (" This copy of the extension brought no usable PyTorch (a zip for another platform, or one built "
                "without wheels): install the Mesh from Image zip for this platform, or see Preferences › Add-ons › "
                "Mesh from Image, whose runtime box offers the GPU runtime and your own Python.")
    if runtime.kind == "gpu":
        return " The GPU runtime is damaged: install it again or remove it (Preferences › Add-ons › Mesh from Image)."
    return ""


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "is still running"
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (the system may have run out of memory)" if -code == getattr(signal, "SIGKILL", 9) else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {code}"


class Job:
    """One reconstruction request. Progress arrives in the background; ``poll`` hands over what is new."""

    def __init__(self, client: "WorkerClient", job_id: str, owned_files: list[str]):
        self.id = job_id
        self._client = client
        self._owned_files = owned_files        # temp inputs the client wrote for this job, deleted when done
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._new_events: list[dict] = []
        self._progress = ("queued", 0.0)
        self._result: dict | None = None
        self._error: WorkerError | None = None
        self._submitted_at = time.monotonic()
        self.elapsed: float | None = None      # seconds from submit to the answer
        self._message: dict | None = None      # the request as sent, sent again if its worker dies first
        self._proc: "_Process | None" = None   # the worker process it was sent to
        self._cancel_requested = False

    # ---- caller side ---------------------------------------------------------------------------------
    def poll(self) -> list[dict]:
        """Progress events received since the previous poll (non-blocking)."""
        with self._lock:
            events, self._new_events = self._new_events, []
        return events

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def progress(self) -> tuple[str, float]:
        """The latest (stage, fraction)."""
        with self._lock:
            return self._progress

    def result(self) -> "contract.MeshResult":
        """The answer (vertices, faces, uvs, frame, name, device, timings, info) once done; raises WorkerError
        if the job failed."""
        if not self.done:
            raise RuntimeError(f"Job {self.id} has not finished; check Job.done or call Job.wait() first.")
        if self._error is not None:
            raise self._error
        return self._result

    def wait(self, timeout: float | None = contract.JOB_TIMEOUT_S) -> "contract.MeshResult":
        """Block until the job ends and return its result. After ``timeout`` seconds the job is cancelled and
        WorkerError(kind="timeout") is raised."""
        if not self._finished.wait(timeout):
            self.cancel()
            if not self._finished.wait(_CANCEL_GRACE_S):
                self._client._replace_if_hung(self)
            raise WorkerError("timeout", f"The reconstruction did not finish within {timeout:g} s and was cancelled.")
        return self.result()

    def cancel(self) -> None:
        """Ask the worker to stop this job at its next progress step; it then fails with kind "cancelled"."""
        self._cancel_requested = True
        if not self.done:
            self._client._send({"cmd": "cancel", "id": self.id})

    # ---- reader-thread side --------------------------------------------------------------------------
    def _add_progress(self, stage: str, fraction: float) -> None:
        event = {"type": "progress", "id": self.id, "stage": stage, "fraction": fraction}
        with self._lock:
            self._progress = (stage, fraction)
            self._new_events.append(event)

    def _finish(self, result: dict | None = None, error: WorkerError | None = None) -> None:
        with self._lock:
            if self._finished.is_set():
                return
            self._result, self._error = result, error
            self.elapsed = time.monotonic() - self._submitted_at
        for path in self._owned_files:
            _remove_quietly(path)
        self._finished.set()


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _load_mesh(path: str, meta: dict) -> "contract.MeshResult":
    try:
        with np.load(path, allow_pickle=False) as data:
            return contract.answer_from_wire(meta, data)   # MeshResult, or SheetResult for kind "sheet"
    finally:
        _remove_quietly(path)


def _protocol_message(worker_protocol, log_path: str | None) -> str:
    return (f"The inference worker that answered speaks protocol {worker_protocol!r}, this Blender side "
            f"{contract.PROTOCOL_VERSION}: it comes from another (older or newer) install of Mesh from Image that "
            f"is still running. Restart Blender so that the worker of the installed version starts."
            + (f" (worker log: {log_path})" if log_path else ""))


class _Process:
    """One running worker process and what belongs to it alone (its log, its ready answer)."""

    def __init__(self, popen: subprocess.Popen, log_path: str):
        self.popen = popen
        self.log_path = log_path
        self.ready = threading.Event()     # set on ready, fatal, or exit
        self.ready_info: dict | None = None
        self.fatal: str | None = None
        self.exited = False
        self.hung = False                  # killed because it stopped answering: its running job already failed
        self.write_lock = threading.Lock()
        self.reader: threading.Thread | None = None   # parses stdout; ends when the process has exited


class WorkerClient:
    """Owns one worker process (started on demand, restarted after it dies) and the jobs sent to it."""

    def __init__(self, python: str | None = None, package_dir: str | None = None, startup_timeout: float = 120.0,
                 log_dir: str | None = None, extra_env: dict | None = None, runtime: Runtime | None = None):
        # Either a runtime (interpreter + package folders, see worker/runtime.py) or just an interpreter.
        self.runtime = runtime if runtime is not None else for_python(python)
        self.python = self.runtime.python
        self.package_dir = os.path.abspath(package_dir or _default_package_dir())
        self.startup_timeout = float(startup_timeout)
        self.log_dir = log_dir or os.path.join(tempfile.gettempdir(), "mesh_from_image_logs")
        self.extra_env = dict(extra_env or {})
        self._lock = threading.RLock()
        self._start_lock = threading.Lock()   # one start at a time; held while waiting for "ready"
        self._proc: _Process | None = None
        self._starting = False
        self._died = False
        self._jobs: dict[str, Job] = {}
        self._tmp_dir: str | None = None
        self._last_timing: float | None = None
        self._last_log: str | None = None
        self._launching: _Process | None = None   # the worker start() is waiting for
        self._stop_requested = False              # stop() was called while start() waited
        self._generation = 0                      # counts stop() calls: a retry started before one gives up

    # ---- state ---------------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """"stopped" | "starting" | "ready" | "busy" | "dead"."""
        with self._lock:
            if self._starting:
                return "starting"
            if self._proc is None:
                return "dead" if self._died else "stopped"
            return "busy" if self._jobs else "ready"

    @property
    def info(self) -> dict:
        """The worker's ready answer (python, torch, device, device_name, pid) plus last_timing: the seconds
        the last finished job took from submit to result."""
        with self._lock:
            info = dict(self._proc.ready_info or {}) if self._proc else {}
            info["last_timing"] = self._last_timing
            return info

    @property
    def log_path(self) -> str | None:
        """The current (or last) worker's stderr log."""
        with self._lock:
            return self._proc.log_path if self._proc else self._last_log

    # ---- start / stop --------------------------------------------------------------------------------
    def start(self) -> dict:
        """Start the worker (if it is not running) and block until it is ready; returns its ready answer.
        Raises WorkerError with kind "startup", "dependency" or "timeout"."""
        with self._start_lock:
            with self._lock:
                if self._proc is not None:
                    return dict(self._proc.ready_info)
                self._starting, self._stop_requested = True, False
            return self._start_locked()

    def _start_locked(self) -> dict:
        try:
            proc = self._launch()
            with self._lock:
                self._launching = proc
                if self._stop_requested:
                    proc.ready.set()
            ready_in_time = proc.ready.wait(self.startup_timeout)
            with self._lock:
                self._launching = None
                stopped = self._stop_requested
            if stopped:   # stop() ran on another thread meanwhile (e.g. the add-on was disabled)
                self._kill(proc)
                raise WorkerError("cancelled", "The inference worker was stopped while it was starting.")
            if not ready_in_time:
                self._kill(proc)
                raise WorkerError("timeout", (
                    f"The inference worker did not start within {self.startup_timeout:g} s "
                    f"(interpreter '{self.python}'). The machine may be overloaded, or the interpreter hangs; "
                    f"check the log {proc.log_path}." + self._quote_log(proc.log_path)))
            if proc.fatal is not None:
                self._kill(proc)
                raise WorkerError("dependency", proc.fatal + _runtime_hint(self.runtime))
            if proc.ready_info is None:
                code = self._kill(proc)
                missing = _missing_module(proc.log_path)
                if missing:
                    raise WorkerError("dependency", _dependency_message(self.python, missing)
                                      + _runtime_hint(self.runtime))
                raise WorkerError("startup", (
                    f"The inference worker {_describe_exit(code)} during start-up (interpreter '{self.python}'). "
                    f"Is it a Python 3.11+ interpreter? Choose another in the add-on preferences."
                    + self._quote_log(proc.log_path)))
            if proc.ready_info.get("protocol") != contract.PROTOCOL_VERSION:
                # It would misread our options or we its answers; nothing it could compute is worth that.
                self._kill(proc)
                raise WorkerError("protocol", _protocol_message(proc.ready_info.get("protocol"), proc.log_path))
            with self._lock:
                self._proc = proc
                self._died = False
            return dict(proc.ready_info)
        except WorkerError as exc:
            with self._lock:
                self._died = exc.kind != "cancelled"
            raise
        finally:
            with self._lock:
                self._starting = False

    def _launch(self) -> _Process:
        if not self.python or os.path.basename(self.python).lower().startswith("blender"):
            # Some Blender builds that use the system's Python report the Blender binary (or nothing) as
            # sys.executable; running that would open another Blender.
            raise WorkerError("startup", f"No Python interpreter to run the worker was found (sys.executable is "
                                         f"'{self.python}'). Set a Python interpreter in the add-on preferences.")
        os.makedirs(self.log_dir, exist_ok=True)
        self._prune_logs()
        log_path = os.path.join(self.log_dir, f"worker-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.log")
        self._last_log = log_path
        kwargs = {}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        else:
            kwargs["start_new_session"] = True   # Ctrl+C in Blender's terminal must not kill a running job
        with open(log_path, "wb") as log:
            try:
                popen = subprocess.Popen([self.python, "-u", "-m", "inference.worker"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=log, cwd=self.package_dir,
                                         env=self._child_env(), **kwargs)
            except FileNotFoundError as exc:
                raise WorkerError("startup", f"The Python interpreter '{self.python}' was not found. Set an "
                                             f"existing interpreter in the add-on preferences.") from exc
            except PermissionError as exc:
                raise WorkerError("startup", f"The Python interpreter '{self.python}' cannot be run (permission "
                                             f"denied). Set a runnable interpreter in the add-on preferences.") from exc
            except OSError as exc:
                raise WorkerError("startup", f"The Python interpreter '{self.python}' could not be started: "
                                             f"{exc}. Set another interpreter in the add-on preferences.") from exc
        proc = _Process(popen, log_path)
        proc.reader = threading.Thread(target=self._read_events, args=(proc,), name="mesh-from-image-worker-reader",
                                       daemon=True)
        proc.reader.start()
        return proc

    def _child_env(self) -> dict:
        env = self.runtime.env(self.package_dir)
        env.update(self.extra_env)
        return env

    def _prune_logs(self) -> None:
        logs = sorted(glob.glob(os.path.join(self.log_dir, "worker-*.log")), key=os.path.getmtime)
        for path in logs[:-_LOGS_KEPT]:
            _remove_quietly(path)

    def stop(self) -> None:
        """Ask the worker to shut down, kill it after a grace period, and fail any unfinished job as cancelled."""
        with self._lock:
            proc, self._proc = self._proc, None
            self._died = False
            self._generation += 1
            if self._starting:
                self._stop_requested = True
                if self._launching is not None:
                    self._launching.ready.set()   # wakes start(), which kills the half-started worker
        if proc is not None:
            self._write(proc, {"cmd": "shutdown"})
            try:
                proc.popen.stdin.close()
            except OSError:
                pass
            try:
                proc.popen.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self._kill(proc)
            proc.exited = True
            # Answers the worker wrote before it exited (a result that just made it) still count.
            if proc.reader is not None and proc.reader is not threading.current_thread():
                proc.reader.join(5.0)
        self._fail_jobs(WorkerError("cancelled", "The inference worker was stopped before the job finished."))
        with self._lock:
            tmp, self._tmp_dir = self._tmp_dir, None
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    def _kill(self, proc: _Process) -> int | None:
        proc.exited = True
        if proc.popen.poll() is None:
            if os.name == "nt":
                proc.popen.kill()
            else:
                import signal

                # The worker leads its own process group (start_new_session): take any children along, so
                # nothing keeps its stdout open or the CPU busy.
                try:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                except OSError:
                    proc.popen.kill()
        try:
            return proc.popen.wait(10)
        except subprocess.TimeoutExpired:
            return None

    # ---- jobs ----------------------------------------------------------------------------------------
    def submit(self, request: dict, *, _cmd: str = "reconstruct") -> Job:
        """Queue a reconstruction. ``request`` holds the protocol's reconstruct fields without cmd/id/output_path:
        image_path, or image_array_path (a .npy the caller owns), or image_array (a numpy array, which the client
        writes to a temporary .npy); optional mask_path, name and options (contract.ReconstructionOptions, or
        its wire dict, which the worker checks).
        Starts the worker first if it is not running (this blocks while it starts)."""
        request = dict(request)
        for key in ("cmd", "id", "output_path"):
            request.pop(key, None)
        options = request.get("options")
        if isinstance(options, contract.ReconstructionOptions):
            request["options"] = options.to_wire()

        self.start()
        job_id = uuid.uuid4().hex[:12]
        tmp = self._temp_dir()
        owned = []
        if request.get("image_array") is not None:
            array_path = os.path.join(tmp, f"{job_id}-image.npy")
            np.save(array_path, np.ascontiguousarray(request.pop("image_array")), allow_pickle=False)
            request["image_array_path"] = array_path
            owned.append(array_path)
        request.pop("image_array", None)
        output_path = os.path.join(tmp, f"{job_id}-mesh.npz")
        owned.append(output_path + ".partial.npz")   # left behind if the worker dies while writing
        job = Job(self, job_id, owned)
        message = {"cmd": _cmd, "id": job_id, "protocol": contract.PROTOCOL_VERSION,
                   "output_path": output_path, **request}
        job._message = message
        with self._lock:
            proc = self._proc
            job._proc = proc
            self._jobs[job_id] = job
        if proc is None:   # stopped by another thread since start()
            self._end_job(job, error=WorkerError("cancelled", "The inference worker was stopped."))
        elif not self._write(proc, message):
            self._on_exit(proc)   # it died since start(): fails this job as "died"; the next submit restarts it
        return job

    def submit_views(self, views: dict, masks: dict | None = None, options=None, name: str | None = None,
                     view_arrays: dict | None = None) -> Job:
        """Queue a reference sheet ("reconstruct_views"): `views` maps front/back/left/right/top/bottom to
        picture paths, `view_arrays` to .npy pixel files the caller owns, `masks` to mask paths. The job's
        result() is a contract.SheetResult. Wrong view names are refused here, before the worker starts."""
        if isinstance(options, dict):
            options = contract.ReconstructionOptions.from_wire(options)
        request = contract.SheetRequest(views=dict(views or {}), view_arrays=dict(view_arrays or {}),
                                        masks=dict(masks or {}), name=name,
                                        options=options or contract.ReconstructionOptions())
        try:
            request.validate()
        except contract.InputError as exc:
            raise WorkerError("input", str(exc)) from None
        return self.submit(request.to_wire(), _cmd="reconstruct_views")

    def _temp_dir(self) -> str:
        with self._lock:
            if self._tmp_dir is None or not os.path.isdir(self._tmp_dir):
                self._tmp_dir = tempfile.mkdtemp(prefix="mesh_from_image_")
            return self._tmp_dir

    def _send(self, message: dict) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None:
            self._write(proc, message)

    @staticmethod
    def _write(proc: _Process, message: dict) -> bool:
        data = (json.dumps(message) + "\n").encode("utf-8")
        with proc.write_lock:
            try:
                proc.popen.stdin.write(data)
                proc.popen.stdin.flush()
                return True
            except (OSError, ValueError):   # broken pipe, or stdin already closed
                return False

    # ---- reader thread -------------------------------------------------------------------------------
    def _read_events(self, proc: _Process) -> None:
        for raw in proc.popen.stdout:
            try:
                event = json.loads(raw.decode("utf-8", errors="replace"))
            except ValueError:
                continue   # not ours; the worker keeps stdout clean, so this is noise from a broken interpreter
            if isinstance(event, dict):
                self._dispatch(proc, event)
        self._on_exit(proc)

    def _dispatch(self, proc: _Process, event: dict) -> None:
        kind = event.get("type")
        if kind == "ready":
            proc.ready_info = {k: v for k, v in event.items() if k != "type"}
            proc.ready.set()
            return
        if kind == "fatal":
            proc.fatal = str(event.get("message") or "The inference worker could not start.")
            proc.ready.set()
            return
        with self._lock:
            job = self._jobs.get(event.get("id"))
        if job is None:
            return
        if kind == "progress":
            job._add_progress(str(event.get("stage", "")), float(event.get("fraction", 0.0)))
        elif kind == "result":
            try:
                mesh = _load_mesh(event["mesh_path"], event.get("meta") or {})
            except (OSError, KeyError, ValueError, TypeError) as exc:
                self._end_job(job, error=WorkerError("internal", f"The worker's answer could not be read: {exc}"))
                return
            self._end_job(job, result=mesh)
        elif kind == "error":
            self._end_job(job, error=WorkerError(str(event.get("kind") or "internal"),
                                                 str(event.get("message") or "The reconstruction failed.")))

    def _end_job(self, job: Job, result: dict | None = None, error: WorkerError | None = None) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
        job._finish(result=result, error=error)
        if result is not None:
            with self._lock:
                self._last_timing = job.elapsed

    def _on_exit(self, proc: _Process) -> None:
        """The worker's stdout closed: it exited. Unless we stopped it, that is a crash. The job it was running
        fails with the reason; the jobs queued behind it did nothing wrong and are sent to a new worker (an
        out-of-memory kill at picture 2 of 5 must not lose pictures 3-5)."""
        try:
            code = proc.popen.wait(10)
        except subprocess.TimeoutExpired:
            code = None
        proc.ready.set()
        with self._lock:
            unexpected = self._proc is proc
            if unexpected:
                self._proc = None
                self._died = True
            # The worker answers in arrival order, so its oldest unanswered job is the one it was running.
            mine = [job for job in self._jobs.values() if job._proc is proc]
            generation = self._generation
        if unexpected and not proc.exited:
            running, waiting = ([], mine) if proc.hung else (mine[:1], mine[1:])
            died = _describe_exit(code) if not proc.hung else "stopped answering and was replaced"
            retry = f" ({len(waiting)} waiting job(s) are retried on a new worker)" if waiting else ""
            for job in running:
                self._end_job(job, error=WorkerError("died", (
                    f"The inference worker {died} while working on this job; the next job starts a new one."
                    + retry + self._quote_log(proc.log_path))))
            if waiting:
                threading.Thread(target=self._retry, args=(waiting, died, generation),
                                 name="mesh-from-image-worker-retry", daemon=True).start()
        proc.exited = True

    def _retry(self, jobs: list[Job], died: str, generation: int) -> None:
        """Send jobs whose worker died before it reached them to a fresh worker (same ids, same files)."""
        with self._lock:
            if generation != self._generation:   # stop() ran meanwhile and failed them
                return
        try:
            self.start()
        except WorkerError as exc:
            for job in jobs:
                self._end_job(job, error=WorkerError(exc.kind, f"{exc} (the previous worker {died} before this job "
                                                               f"started)"))
            return
        for job in jobs:
            if job.done:
                continue
            if job._cancel_requested:
                self._end_job(job, error=WorkerError("cancelled", "Cancelled."))
                continue
            with self._lock:
                proc = self._proc
                if proc is None or generation != self._generation:
                    return
                job._proc = proc
            if not self._write(proc, job._message):
                return   # this one died too: its _on_exit takes the jobs sent to it and these that follow

    def _replace_if_hung(self, job: Job) -> None:
        """After a time-out whose cancel the worker did not acknowledge: if the worker was running this job (not
        merely queued behind another), it is not answering. Fail the job, kill the worker; the jobs queued behind
        it go to a new one (_on_exit)."""
        with self._lock:
            proc = job._proc
            mine = [j for j in self._jobs.values() if j._proc is proc]
            if proc is None or self._proc is not proc or not mine or mine[0] is not job:
                return
            proc.hung = True
        self._end_job(job, error=WorkerError("timeout", "The reconstruction did not finish in time and the "
                                                        "worker stopped answering; it was replaced."))
        if proc.popen.poll() is None:
            import signal
            try:
                if os.name == "nt":
                    proc.popen.kill()
                else:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
            except OSError:
                proc.popen.kill()

    def _fail_jobs(self, error: WorkerError) -> None:
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            job._finish(error=error)

    @staticmethod
    def _quote_log(log_path: str | None) -> str:
        tail = _tail(log_path)
        return f"\nLast lines of the worker log ({log_path}):\n{tail}" if tail else ""


# ---- process-wide shared clients -----------------------------------------------------------------------
_shared: dict[tuple, WorkerClient] = {}
_shared_lock = threading.Lock()


def get_client(python: str | None = None, package_dir: str | None = None,
               runtime: Runtime | None = None) -> WorkerClient:
    """The shared client for this runtime (or interpreter) and package folder (created, not started, on first
    use). A changed runtime (another interpreter, a GPU runtime installed) gets a client of its own."""
    runtime = runtime if runtime is not None else for_python(python)
    key = (runtime, os.path.abspath(package_dir or _default_package_dir()))
    with _shared_lock:
        client = _shared.get(key)
        if client is None:
            client = _shared[key] = WorkerClient(package_dir=key[1], runtime=runtime)
        return client


def shutdown_all() -> None:
    """Stop every shared client's worker (the add-on's unregister and interpreter exit call this)."""
    with _shared_lock:
        clients = list(_shared.values())
        _shared.clear()
    for client in clients:
        client.stop()


atexit.register(shutdown_all)
