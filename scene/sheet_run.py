"""One reference-sheet reconstruction from request to finished object, driven like
scene.reconstruction.ReconstructionRun (modal timer, blocking execute(), headless command) and sharing its
lifecycle (reconstruction.WorkerRun). Nothing in the scene changes before `build()`, so cancelling or
failing earlier leaves the file as it was."""
from __future__ import annotations

import os

from .reconstruction import RunSettings, WorkerRun

# The last answer, so that redoing Build from Sheet with another size does not reconstruct again.
_last_answer: tuple | None = None


class SheetRun(WorkerRun):
    TEMP_PREFIX = "mesh_from_image_sheet_"

    def __init__(self, sources: dict, settings: RunSettings, client, name: str):
        """sources: view name -> image_source.ImageSource."""
        super().__init__(settings, client)
        self.sources = dict(sources)
        self.name = name

    # -- request ---------------------------------------------------------------------------------
    def _prepare(self, folder: str):
        views, arrays, keys = {}, {}, []
        for view, source in sorted(self.sources.items()):
            view_folder = os.path.join(folder, view)
            os.makedirs(view_folder)
            fields, key = source.request(view_folder)
            if "image_path" in fields:
                views[view] = fields["image_path"]
            else:
                arrays[view] = fields["image_array_path"]
            keys.append(f"{view}={key}")
        options = self.settings.options()
        self._key = f"{'|'.join(keys)}|{sorted(options.to_wire().items())}"
        cached = _last_answer[1] if _last_answer is not None and _last_answer[0] == self._key else None
        return cached, dict(views=views, view_arrays=arrays, options=options, name=self.name)

    def _submit(self):
        return self.client.submit_views(**self._request)

    # -- progress --------------------------------------------------------------------------------
    @property
    def progress(self) -> tuple[str, float]:
        if self.answer is not None:
            return ("done", 1.0)
        if self.job is None:
            return ("starting the worker", 0.0)
        stage, fraction = self.job.progress
        return (f"sheet: {stage}", fraction)

    # -- scene -----------------------------------------------------------------------------------
    def build(self, context, location, empties: dict | None = None, bake_size: int = 0, artist=None):
        from .sheet_build import build_sheet_object
        return build_sheet_object(context, self.result(), self.name, location, self.settings.size, empties,
                                  bake_size=bake_size, artist=artist)

    def _keep(self, answer) -> None:
        global _last_answer
        from . import reconstruction
        self.answer = answer
        _last_answer = (self._key, answer)
        reconstruction.last_meta = answer.meta_to_wire()
