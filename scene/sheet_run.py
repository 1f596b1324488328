"""One reference-sheet reconstruction from request to finished object, driven like
scene.reconstruction.ReconstructionRun (modal timer, blocking execute(), headless command). Nothing in
the scene changes before `build()`, so cancelling or failing earlier leaves the file as it was."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading

from .reconstruction import RunSettings

# The last answer, so that redoing Build from Sheet with another size does not reconstruct again.
_last_answer: tuple | None = None


class SheetRun:
    def __init__(self, sources: dict, settings: RunSettings, client, name: str):
        """sources: view name -> image_source.ImageSource."""
        self.sources = dict(sources)
        self.settings = settings
        self.client = client
        self.name = name
        self.job = None
        self.answer = None
        self._key = ""
        self._fields: dict | None = None
        self._temp_dir: str | None = None
        self._starter: threading.Thread | None = None
        self._start_error: Exception | None = None
        self._cancelled = False

    # -- request ---------------------------------------------------------------------------------
    def start(self, block: bool = True) -> None:
        global _last_answer
        self._temp_dir = tempfile.mkdtemp(prefix="mesh_from_image_sheet_")
        try:
            views, arrays, keys = {}, {}, []
            for view, source in sorted(self.sources.items()):
                folder = os.path.join(self._temp_dir, view)
                os.makedirs(folder)
                fields, key = source.request(folder)
                if "image_path" in fields:
                    views[view] = fields["image_path"]
                else:
                    arrays[view] = fields["image_array_path"]
                keys.append(f"{view}={key}")
            options = self.settings.options()
            self._key = f"{'|'.join(keys)}|{sorted(options.to_wire().items())}"
            if _last_answer is not None and _last_answer[0] == self._key:
                self.answer = _last_answer[1]
                self._remove_temp()
                return
            self._fields = dict(views=views, view_arrays=arrays, options=options, name=self.name)
            if block or self.client.state in ("ready", "busy"):
                self.job = self.client.submit_views(**self._fields)
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
        except Exception as exc:
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
            self.job = self.client.submit_views(**self._fields)
        self.job.poll()
        return self.job.done

    @property
    def progress(self) -> tuple[str, float]:
        if self.answer is not None:
            return ("done", 1.0)
        if self.job is None:
            return ("starting the worker", 0.0)
        stage, fraction = self.job.progress
        return (f"sheet: {stage}", fraction)

    def result(self):
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

    def wait(self, timeout: float = 600):
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
    def build(self, context, location, empties: dict | None = None):
        from .sheet_build import build_sheet_object
        return build_sheet_object(context, self.result(), self.name, location, self.settings.size, empties)

    def _keep(self, answer) -> None:
        global _last_answer
        from . import reconstruction
        self.answer = answer
        _last_answer = (self._key, answer)
        reconstruction.last_meta = answer.meta_to_wire()

    def _remove_temp(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
