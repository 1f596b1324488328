"""One reconstruction from request to finished object, independent of how it is driven.

The operator drives it from a timer (modal, UI stays live, Esc cancels) or blocks on it (`execute()`,
scripts, background mode); the CLI blocks on it too. Nothing in the scene changes before `build()`, so
cancelling or failing at any earlier point leaves the file exactly as it was."""
from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass

from .image_source import ImageSource

# The last successful answer, so that redoing the operator with another size (or placement) does not
# run the network again. One entry: the redo panel only ever repeats the last run.
_last_answer: tuple[str, dict] | None = None
# The run the UI is currently driving, for the panels' progress bar (None when idle).
active_run: "ReconstructionRun | None" = None
# Facts about the last finished run for the panels: device, model, timing.
last_meta: dict = {}


@dataclass(frozen=True)
class RunSettings:
    size: float = 1.0               # metres, the silhouette's longer side
    template_vertices: int = 2500
    refine: bool = True
    refine_steps: int = 150
    device: str = "auto"            # engine device name (see settings.engine_device)

    def engine_options(self) -> dict:
        return {"template_vertices": int(self.template_vertices), "refine": bool(self.refine),
                "refine_steps": int(self.refine_steps), "device": self.device}


class ReconstructionRun:
    def __init__(self, source: ImageSource, settings: RunSettings, client):
        self.source = source
        self.settings = settings
        self.client = client
        self.job = None
        self.answer: dict | None = None
        self._key = ""
        self._temp_dir: str | None = None
        self._request: dict | None = None
        self._starter: threading.Thread | None = None   # starts the worker without blocking the UI
        self._start_error: Exception | None = None
        self._cancelled = False

    # -- request ---------------------------------------------------------------------------------
    def start(self, block: bool = True) -> None:
        """Hand the picture to the worker (or reuse the previous answer for the same picture and options).
        With block=False a worker that is not running yet is started on a thread, so the UI does not
        freeze while it imports its libraries; the request follows once it is ready (see `done`)."""
        self._temp_dir = tempfile.mkdtemp(prefix="mesh_from_image_")
        try:
            fields, picture_key = self.source.request(self._temp_dir)
            options = self.settings.engine_options()
            self._key = f"{picture_key}|{sorted(options.items())}"
            if _last_answer is not None and _last_answer[0] == self._key:
                self.answer = _last_answer[1]
                self._remove_temp()
                return
            self._request = dict(fields, options=options)
            if block or self.client.state in ("ready", "busy"):
                self.job = self.client.submit(self._request)
            else:
                self._starter = threading.Thread(target=self._start_worker, name="mesh-from-image-start",
                                                 daemon=True)
                self._starter.start()
        except BaseException:
            self._remove_temp()
            raise

    def _start_worker(self) -> None:
        try:
            self.client.start()
        except Exception as exc:   # handed to the main thread by `result()`
            self._start_error = exc

    # -- progress --------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        if self.answer is not None:
            return True
        if self.job is None:
            if self._starter is not None and self._starter.is_alive():
                return False
            if self._start_error is not None or self._cancelled:
                return True
            self.job = self.client.submit(self._request)   # the worker is ready now: this does not block
        self.job.poll()
        return self.job.done

    @property
    def progress(self) -> tuple[str, float]:
        if self.answer is not None:
            return ("done", 1.0)
        if self.job is None:
            return ("starting the worker", 0.0)
        return self.job.progress

    def result(self) -> dict:
        """The worker's answer once `done` (raises the worker's error)."""
        if self.answer is None:
            try:
                if self._start_error is not None:
                    raise self._start_error
                if self.job is None:
                    raise RuntimeError("result() called before the reconstruction was done")
                self._keep(self.job.result())
            finally:
                self._remove_temp()
        return self.answer

    def wait(self, timeout: float = 600) -> dict:
        """Block until the answer is there (scripts, background mode, CLI)."""
        if self.answer is None:
            try:
                self._keep(self.job.wait(timeout=timeout))
            finally:
                self._remove_temp()
        return self.answer

    def cancel(self) -> None:
        self._cancelled = True
        if self.job is not None and not self.job.done:
            self.job.cancel()
        self._remove_temp()

    # -- scene -----------------------------------------------------------------------------------
    def build(self, context, location):
        """Create the object from the answer (all or nothing); returns a build.BuiltObject."""
        from .build import build_object
        return build_object(context, self.source, self.result(), self.settings.size, location)

    # -- internals -------------------------------------------------------------------------------
    def _keep(self, answer: dict) -> None:
        global _last_answer, last_meta
        self.answer = answer
        _last_answer = (self._key, answer)
        last_meta = dict(answer.get("meta") or {})

    def _remove_temp(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
