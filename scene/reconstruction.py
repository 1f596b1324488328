"""One reconstruction from request to finished object, independent of how it is driven.

The operator drives it from a timer (modal, UI stays live, Esc cancels) or blocks on it (`execute()`,
scripts, background mode); the CLI blocks on it too. Nothing in the scene changes before `build()`, so
cancelling or failing at any earlier point leaves the file exactly as it was."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from ..inference import contract
from ..inference.contract import MeshResult
from .image_source import ImageSource

# The last successful answer, so that redoing the operator with another size (or placement) does not
# run the network again. One entry: the redo panel only ever repeats the last run...
_last_answer: tuple[str, MeshResult] | None = None
# ...but one run may be several requests (the separate objects of one picture), each remembered here.
_recent_answers: "OrderedDict[str, MeshResult]" = OrderedDict()
RECENT_ANSWERS = 16
# The run the UI is currently driving, for the panels' progress bar (None when idle).
active_run: "ReconstructionRun | None" = None
# Facts about the last finished run for the panels (the answer's wire meta: device, timings, info...).
last_meta: dict = {}


_default = contract.default


@dataclass(frozen=True)
class RunSettings:
    """One run's settings as the operator and the headless command give them; defaults from the contract."""
    size: float = _default("size")                      # metres, the silhouette's longer side
    template_vertices: int = _default("template_vertices")
    refine: bool = _default("refine")
    refine_steps: int = _default("refine_steps")
    device: str = _default("device")                    # engine device name (see settings.engine_device)
    object_index: int = _default("object_index")        # which separate object of the picture (largest first)
    all_objects: bool = False       # reconstruct every separate object of the picture, not just one
    model: str = _default("model")  # shape prior: "auto" (the shipped default), "none" (training-free) or a name
    even_triangles: bool = _default("remesh")           # isotropic remeshing after the fit (the engine's `remesh`)
    fill_holes: bool = _default("fill_holes")           # close the picture's see-through openings (genus 0)

    def __post_init__(self):
        contract.check("size", self.size)

    def options(self) -> contract.ReconstructionOptions:
        """The engine's options, checked (contract.OptionError names what is wrong)."""
        return contract.ReconstructionOptions(
            template_vertices=self.template_vertices, refine=self.refine, refine_steps=self.refine_steps,
            device=self.device, model=self.model, object_index=self.object_index,
            remesh=self.even_triangles, fill_holes=self.fill_holes).validate()

    def engine_options(self) -> dict:
        """The request's options: every one, so the engine's default never stands in for a choice."""
        return self.options().to_wire()


class WorkerRun:
    """The lifecycle every run shares with the worker, whatever it asks for (one picture: ReconstructionRun;
    a reference sheet: sheet_run.SheetRun): a temporary folder for the request, the previous answer reused,
    the worker started on a thread so the UI does not freeze, polling, the answer or its error, cancelling.
    A subclass says what it asks (`_prepare`), how it is sent (`_submit`) and what it keeps (`_keep`)."""
    TEMP_PREFIX = "mesh_from_image_"

    def __init__(self, settings: RunSettings, client):
        self.settings = settings
        self.client = client
        self.job = None
        self.answer = None
        self._key = ""
        self._temp_dir: str | None = None
        self._request: dict | None = None
        self._starter: threading.Thread | None = None   # starts the worker without blocking the UI
        self._start_error: Exception | None = None
        self._cancelled = False

    def _prepare(self, folder: str):
        """Write the request's files into `folder`, set `self._key`; returns (cached answer or None, request)."""
        raise NotImplementedError

    def _submit(self):
        """Send `self._request` to the worker; returns the job."""
        raise NotImplementedError

    def _keep(self, answer) -> None:
        raise NotImplementedError

    # -- request ---------------------------------------------------------------------------------
    def start(self, block: bool = True) -> None:
        """Hand the request to the worker (or reuse the previous answer for the same pictures and options).
        With block=False a worker that is not running yet is started on a thread, so the UI does not
        freeze while it imports its libraries; the request follows once it is ready (see `done`)."""
        self._temp_dir = tempfile.mkdtemp(prefix=self.TEMP_PREFIX)
        try:
            cached, request = self._prepare(self._temp_dir)
            if cached is not None:
                self.answer = cached
                self._remove_temp()
                return
            self._request = request
            if block or self.client.state in ("ready", "busy"):
                self.job = self._submit()
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
        return self._own_done()

    def _own_done(self) -> bool:
        if self.answer is not None:
            return True
        if self.job is None:
            if self._starter is not None and self._starter.is_alive():
                return False
            if self._start_error is not None or self._cancelled:
                return True
            self.job = self._submit()   # the worker is ready now: this does not block
        self.job.poll()
        return self.job.done

    def result(self):
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

    def wait(self, timeout: float = contract.JOB_TIMEOUT_S):
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

    def _remove_temp(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None


class ReconstructionRun(WorkerRun):
    def __init__(self, source: ImageSource, settings: RunSettings, client):
        super().__init__(settings, client)
        self.source = source
        self.answer: MeshResult | None = None
        self._others: list[ReconstructionRun] | None = None   # the picture's other objects, once known

    def _prepare(self, folder: str):
        fields, picture_key = self.source.request(folder)
        options = self.settings.engine_options()
        self._key = f"{picture_key}|{sorted(options.items())}"
        cached = _last_answer[1] if _last_answer is not None and _last_answer[0] == self._key \
            else _recent_answers.get(self._key)
        return cached, dict(fields, options=options)

    def _submit(self):
        return self.client.submit(self._request)

    # -- progress --------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        if not self._own_done():
            return False
        try:
            others = self._start_others()
        except Exception:   # this object failed: result() raises it
            return True
        return all(run.done for run in others)

    @property
    def progress(self) -> tuple[str, float]:
        if self._others:
            finished = sum(1 for run in self._others if run.answer is not None)
            current = next((run for run in self._others if run.answer is None), None)
            stage, fraction = current.progress if current is not None else ("done", 1.0)
            total = len(self._others) + 1
            return (f"object {finished + 2} of {total}: {stage}", (1 + finished + fraction) / total)
        if self.answer is not None:
            return ("done", 1.0)
        if self.job is None:
            return ("starting the worker", 0.0)
        return self.job.progress

    def wait(self, timeout: float = contract.JOB_TIMEOUT_S) -> MeshResult:
        """Block until the answer is there; with `all_objects`, until every object's answer is there."""
        super().wait(timeout)
        for run in self._start_others():
            run.wait(timeout=timeout)
        return self.answer

    def answers(self) -> list[MeshResult]:
        """Every object's answer, largest first (one unless `all_objects`)."""
        first = self.result()
        return [first] + [run.result() for run in self._start_others()]

    def _start_others(self) -> list["ReconstructionRun"]:
        """Once the first answer says how many objects the picture holds, ask for the others (the worker
        is running by then, so this does not block)."""
        if self._others is None:
            count = int(self.result().info.object_count or 1)
            self._others = []
            if self.settings.all_objects and not self._cancelled:
                for index in range(1, count):
                    run = ReconstructionRun(self.source, replace(self.settings, object_index=index,
                                                                 all_objects=False), self.client)
                    run.start()
                    self._others.append(run)
        return self._others

    def cancel(self) -> None:
        for run in self._others or ():
            run.cancel()
        super().cancel()

    # -- scene -----------------------------------------------------------------------------------
    def build(self, context, location, output=None):
        """Create the object(s) from the answer(s) (all or nothing); returns a build.BuiltObject.
        `output` (contract.ArtistOptions) says what to make of them; None: the plain projected object."""
        from .build import build_object
        answers = self.answers()
        texture = getattr(answers[0], "texture", None)
        source = replace(self.source, texture=texture) if texture is not None else self.source
        return build_object(context, source, answers, self.settings.size, location, output, answers[0].info)

    # -- internals -------------------------------------------------------------------------------
    def _keep(self, answer: MeshResult) -> None:
        global _last_answer, last_meta
        texture_path = answer.info.get("texture_path")
        if texture_path:   # the picture as the engine used it (EXIF turn undone, first frame): keep it in memory
            try:
                answer.texture = np.load(texture_path, allow_pickle=False)
            except (OSError, ValueError):
                answer.texture = None
            finally:
                try:
                    os.remove(texture_path)
                except OSError:
                    pass
            answer.info.extra.pop("texture_path", None)
        self.answer = answer
        _last_answer = (self._key, answer)
        _recent_answers[self._key] = answer
        while len(_recent_answers) > RECENT_ANSWERS:
            _recent_answers.popitem(last=False)
        last_meta = answer.meta_to_wire()
