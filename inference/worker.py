"""The inference worker: a long-lived process that runs reconstructions for Blender, which never imports torch.

Run as ``<python> -u -m inference.worker`` with the extension folder on PYTHONPATH. Protocol: JSON lines.
Requests arrive on stdin, events leave on stdout; everything else a library prints goes to stderr, which the
client sends to a log file it quotes in error messages.

    -> {"type": "ready", "python", "torch", "device", "device_name", "pid", "protocol"}   once, after start-up
    -> {"type": "fatal", "message"}            instead of ready when a dependency is missing; then the worker exits
    <- {"cmd": "reconstruct", "id", "protocol", "image_path" | "image_array_path", "mask_path"?, "name"?,
        "options"?, "output_path"}
    -> {"type": "progress", "id", "stage", "fraction"} ...
    -> {"type": "result", "id", "mesh_path", "meta": {"name", "device", "timings", "info", "frame"}}
    -> {"type": "error", "id", "message", "kind"}  kind: input | cancelled | dependency | internal | protocol
    <- {"cmd": "reconstruct_views", "id", "protocol", "views": {view: path}, "view_arrays"?: {view: .npy path},
        "masks"?: {view: path}, "name"?, "options"?, "output_path"}     a reference sheet (contract.SheetRequest)
    -> {"type": "result", "id", "mesh_path", "meta": {"kind": "sheet", "name", "reference", "views", "warnings",
        "device", "timings", "info"}}              arrays: contract.SHEET_ARRAYS and the atlas (TEXTURE_ARRAY)

"protocol" is contract.PROTOCOL_VERSION. The client refuses a worker whose ready event names another one, and
this worker refuses a request that names another one: a worker left running by an older install must not
misread a newer Blender side's options (or the other way round). Options are contract.ReconstructionOptions'
wire form, the answer contract.MeshResult's (arrays in the .npz at mesh_path, the rest in meta).
    <- {"cmd": "cancel", "id"}                 the job stops at its next progress call (a sheet job at once)
    <- {"cmd": "shutdown"}                     (or EOF on stdin) stops the running job and exits

stdin is read on a thread so a cancel reaches a running job; jobs run one at a time, in arrival order, on the
main thread. Only the standard library is imported at module level: torch and the engine are imported in
``main`` so that a missing package becomes a readable "fatal" event instead of a traceback nobody sees.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import sys
import threading
import time
import traceback

from .contract import PROTOCOL_VERSION   # stdlib-only module: importing it cannot fail on a missing package

# Progress events are throttled: the pipeline may report thousands of steps, and each event is a line the
# client parses on Blender's main thread. Stage changes and the end of a stage always go through.
_PROGRESS_MIN_INTERVAL_S = 0.1
_PROGRESS_MIN_STEP = 0.02

_REQUIRED_PACKAGES = (
    # (import name, pip name)
    ("numpy", "numpy"),
    ("torch", "torch"),
    ("scipy", "scipy"),
    ("skimage", "scikit-image"),
    ("PIL", "pillow"),
)


class _Channel:
    """The protocol's output: one JSON object per line on the real stdout, written under a lock because the
    stdin reader thread answers some requests itself."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, event: dict) -> None:
        line = json.dumps(event, default=_json_default, allow_nan=False)
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (BrokenPipeError, OSError):
                pass  # the client is gone; the stdin reader will see EOF and stop us


def _json_default(value):
    """numpy scalars and arrays, paths and the like appear in timings/info; make them plain JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    return str(value)


def _plain(value):
    """A JSON-safe copy of a meta value: non-finite floats become None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    elif hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return _json_default(value)


def _claim_stdout():
    """Keep the real stdout for the protocol and point file descriptor 1 (and sys.stdout) at stderr, so
    prints from any library, including C code writing to fd 1, cannot corrupt the event stream."""
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "w", encoding="utf-8", buffering=1)


def _missing_packages() -> list[tuple[str, str]]:
    missing = []
    for module, pip_name in _REQUIRED_PACKAGES:
        try:
            __import__(module)
        except Exception as exc:  # ImportError, or a broken install raising anything else (DLL load errors)
            missing.append((pip_name, f"{type(exc).__name__}: {exc}"))
    return missing


def _dependency_message(missing: list[tuple[str, str]]) -> str:
    names = " ".join(name for name, _ in missing)
    details = "; ".join(f"{name} ({why})" for name, why in missing)
    return (f"The Python interpreter '{sys.executable}' (Python {sys.version.split()[0]}) cannot run the "
            f"reconstruction: missing or broken package(s): {details}. Install them for that interpreter "
            f"('{sys.executable}' -m pip install {names}) or choose another Python interpreter in the "
            f"add-on preferences.")


def _raise_in_thread(thread_id: int, exc_type) -> None:
    """Make `exc_type` be raised in the thread at its next bytecode; None withdraws one not yet raised.
    CPython's own mechanism; numpy and SciPy calls in C finish first (the longest in a sheet job take
    milliseconds). Where it is missing (no ctypes, not CPython) the job stops at its next progress call."""
    try:
        import ctypes
        set_async = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):
        return
    set_async(ctypes.c_ulong(thread_id), None if exc_type is None else ctypes.py_object(exc_type))


def _out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or \
        "out of memory" in str(exc).lower()


def _error_event(job_id, exc: BaseException) -> dict:
    from .errors import Cancelled, DependencyError, InputError

    if isinstance(exc, Cancelled):
        return {"type": "error", "id": job_id, "message": str(exc) or "Cancelled.", "kind": "cancelled"}
    if isinstance(exc, InputError):
        return {"type": "error", "id": job_id, "message": str(exc), "kind": "input"}
    if isinstance(exc, DependencyError):
        return {"type": "error", "id": job_id, "message": str(exc), "kind": "dependency"}
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    sys.stderr.flush()
    if _out_of_memory(exc):
        message = ("The reconstruction ran out of memory. Lower the template vertex count in the options, "
                   "or use the CPU device if the GPU's memory is the limit.")
    else:
        last_line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        message = f"Internal error in the reconstruction: {last_line} (full traceback in the worker log)"
    return {"type": "error", "id": job_id, "message": message, "kind": "internal"}


class _Server:
    def __init__(self, channel: _Channel):
        self.channel = channel
        self.jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._cancelled: set = set()      # ids cancelled before or while they run
        self._current = None              # id of the running job
        self._stopping = False
        self._interruptible = None        # id of the job a cancel interrupts at once (see interruptible)
        self._main_thread = threading.get_ident()

    # ---- stdin reader thread -------------------------------------------------------------------------
    def read_requests(self, stream) -> None:
        for raw in stream:
            line = raw.strip()
            if not line:
                continue
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("a request must be a JSON object")
            except ValueError as exc:
                self.channel.send({"type": "error", "id": None, "kind": "internal",
                                   "message": f"Unreadable request ({exc}): {line[:200]!r}"})
                continue
            cmd = request.get("cmd")
            if cmd in ("reconstruct", "reconstruct_views"):
                self.jobs.put(request)
            elif cmd == "cancel":
                with self._lock:
                    self._cancelled.add(request.get("id"))
                    if self._interruptible is not None and self._interruptible == request.get("id"):
                        self._interrupt_locked()
            elif cmd == "shutdown":
                break
            else:
                self.channel.send({"type": "error", "id": request.get("id"), "kind": "internal",
                                   "message": f"Unknown command {cmd!r}."})
        # Shutdown or EOF (the parent quit): stop the running job at its next progress call, then exit.
        with self._lock:
            self._stopping = True
            if self._interruptible is not None:
                self._interrupt_locked()
        self.jobs.put(None)

    def _should_stop(self, job_id) -> bool:
        with self._lock:
            return self._stopping or job_id in self._cancelled

    def _interrupt_locked(self) -> None:
        from .errors import Cancelled
        _raise_in_thread(self._main_thread, Cancelled)
        self._interruptible = None      # once is enough

    @contextlib.contextmanager
    def interruptible(self, job_id):
        """A stretch of the job (main thread) that a cancel stops at once rather than at the next progress
        call: for engine steps that report none for seconds. Only computation may run inside, with every
        module it needs imported beforehand: the Cancelled can arrive at any bytecode (a progress event is
        one write call, so it goes out whole or not at all)."""
        from .errors import Cancelled
        with self._lock:
            if self._stopping or job_id in self._cancelled:
                raise Cancelled("Cancelled.")
            self._interruptible = job_id
        try:
            yield
        finally:
            # The interrupt may be raised here, before it is withdrawn: the job was cancelled either way, and
            # the first pass has already dealt with the stretch's own result or exception.
            while True:
                try:
                    with self._lock:
                        self._interruptible = None
                        _raise_in_thread(self._main_thread, None)
                    break
                except Cancelled:
                    continue

    # ---- main thread ---------------------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            request = self.jobs.get()
            if request is None:
                return
            job_id = request.get("id")
            if self._should_stop(job_id):
                self.channel.send({"type": "error", "id": job_id, "message": "Cancelled.", "kind": "cancelled"})
            else:
                with self._lock:
                    self._current = job_id
                try:
                    self.channel.send(self._run(request))
                except BaseException as exc:  # noqa: BLE001 - every failure must become an answer
                    self.channel.send(_error_event(job_id, exc))
                    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                        raise
                finally:
                    with self._lock:
                        self._current = None
            with self._lock:
                self._cancelled.discard(job_id)

    def _progress_reporter(self, job_id):
        from .errors import Cancelled

        last = {"stage": None, "fraction": -1.0, "time": 0.0}

        def progress(stage: str, fraction: float) -> None:
            if self._should_stop(job_id):
                raise Cancelled("Cancelled.")
            now = time.monotonic()
            fraction = float(fraction)
            if (stage != last["stage"] or fraction >= 1.0
                    or (now - last["time"] >= _PROGRESS_MIN_INTERVAL_S
                        and abs(fraction - last["fraction"]) >= _PROGRESS_MIN_STEP)):
                last.update(stage=stage, fraction=fraction, time=now)
                self.channel.send({"type": "progress", "id": job_id, "stage": str(stage),
                                   "fraction": max(0.0, min(1.0, fraction)) if math.isfinite(fraction) else 0.0})

        return progress

    def _run(self, request: dict) -> dict:
        import numpy as np

        from .contract import MeshResult, ReconstructionOptions, ResultInfo
        from .errors import InputError
        from .pipeline import reconstruct

        job_id = request.get("id")
        if request.get("protocol", PROTOCOL_VERSION) != PROTOCOL_VERSION:
            return {"type": "error", "id": job_id, "kind": "protocol",
                    "message": f"This inference worker speaks protocol {PROTOCOL_VERSION}, the request "
                               f"{request.get('protocol')!r}: it belongs to another install of Mesh from Image. "
                               f"Restart Blender."}
        output_path = request.get("output_path")
        if not output_path:
            raise InputError("The request names no output_path for the mesh.")
        if request.get("cmd") == "reconstruct_views":
            from .sheet_job import run_views
            return {"type": "result", "id": job_id,
                    **run_views(request, output_path, self._progress_reporter(job_id), _plain,
                                interruptible=lambda: self.interruptible(job_id))}
        if request.get("image_path"):
            source = request["image_path"]
        elif request.get("image_array_path"):
            try:
                source = np.load(request["image_array_path"], allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise InputError(f"Could not read the image array {request['image_array_path']}: {exc}") from exc
        else:
            raise InputError("The request names no image (image_path or image_array_path).")
        options = ReconstructionOptions.from_wire(request.get("options"))

        rec = reconstruct(source, options, mask=request.get("mask_path") or None,
                          progress=self._progress_reporter(job_id), name=request.get("name") or None)

        if request.get("image_path") and (rec.info.get("exif_orientation") or rec.info.get("frames")
                                          or os.path.splitext(request["image_path"])[1].lower() == ".gif"):
            # Blender would load the file as it is: unrotated, or (a GIF) not at all. Hand it the picture the
            # engine used (upright, first frame), as uint8 RGBA rows top-down.
            texture_path = output_path + ".texture.npy"
            np.save(texture_path, np.ascontiguousarray(rec.image), allow_pickle=False)
            rec.info["texture_path"] = texture_path
        answer = MeshResult(vertices=rec.vertices, faces=rec.faces, uvs=rec.uvs, frame=rec.image_frame,
                            name=rec.name, device=rec.device, timings=_plain(rec.timings),
                            info=ResultInfo.from_wire(_plain(rec.info)))
        # Write beside the target, then rename: the client never sees a half-written file.
        partial = output_path + ".partial.npz"
        answer.save_arrays(partial)
        os.replace(partial, output_path)
        return {"type": "result", "id": job_id, "mesh_path": output_path, "meta": _plain(answer.meta_to_wire())}


def _ready_event() -> dict:
    import torch

    from .device import describe_device, select_device

    device = select_device("auto")
    return {"type": "ready", "python": sys.executable, "torch": torch.__version__, "device": device.type,
            "device_name": describe_device(device), "pid": os.getpid(), "protocol": PROTOCOL_VERSION}


def main() -> int:
    from .threads import wait_passively
    wait_passively()   # before anything imports torch (the package check below does)
    channel = _Channel(_claim_stdout())
    missing = _missing_packages()
    if missing:
        channel.send({"type": "fatal", "message": _dependency_message(missing)})
        return 2
    try:
        from . import pipeline  # noqa: F401 - import now so the first job is not slowed and import errors show here
        ready = _ready_event()
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        last_line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        channel.send({"type": "fatal", "message": f"The inference engine failed to start in '{sys.executable}': "
                                                  f"{last_line}"})
        return 2
    channel.send(ready)

    server = _Server(channel)
    reader = threading.Thread(target=server.read_requests, args=(sys.stdin,), name="requests", daemon=True)
    reader.start()
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
