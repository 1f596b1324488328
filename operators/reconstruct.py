"""`mesh_from_image.reconstruct`: one picture in, one textured watertight mesh object out.

`execute()` is complete and blocking (scripts, background mode, the redo panel). `invoke()` runs the
same work modally: the worker computes in its own process while a timer polls it, so the interface
stays responsive, the status bar shows progress and Esc cancels with the scene untouched."""
from __future__ import annotations

import math

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from ..inference import contract
from ..scene import image_source, reconstruction, settings
from ..scene.image_source import SourceError
from ..scene.reconstruction import ReconstructionRun, RunSettings

# How often the modal run looks for the worker's answer: the object appears on the first tick after it is there,
# half this on average (0.1 s had the artist wait 50 ms for nothing, for a second's job); a tick costs a status
# line and a redraw tag.
POLL_SECONDS = 0.04


def _worker_error_types():
    """Failures that are reported to the artist as they are (the worker's own messages, a missing image,
    or a mesh the worker should not have sent) rather than as a Python traceback."""
    from ..worker.client import WorkerError
    return (WorkerError, SourceError, ValueError)


def _build_error_types():
    """Failures of the Blender-side steps an option asked for, reported as they are."""
    from ..scene.bake import BakeError
    from ..scene.topology import TopologyError
    return (BakeError, TopologyError)


def draw_artist_options(layout, options) -> None:
    """The artist options, grouped; shared by the redo panel and the sidebars."""
    col = layout.column(heading="Objects")
    col.prop(options, "objects", text="Objects")
    col = layout.column(heading="Topology")
    col.prop(options, "target_faces")
    col.prop(options, "quads")
    sub = col.row()
    sub.active = options.quads
    sub.prop(options, "voxel_first")
    col.prop(options, "subdivision")
    col.prop(options, "sharp_angle")
    col = layout.column(heading="Texture")
    col.prop(options, "fill_sides")
    col.prop(options, "bake")
    sub = col.row()
    sub.active = options.bake
    sub.prop(options, "bake_size")
    col = layout.column(heading="Placement")
    col.prop(options, "upright")
    sub = col.column()
    sub.active = options.upright
    sub.prop(options, "elevation_source")
    row = sub.row()
    row.active = options.elevation_source == 'MANUAL'
    row.prop(options, "elevation")
    col.prop(options, "add_camera")


class ModalRunOperator:
    """What the reconstruct and sheet operators share around a run: the blocking run of execute(), the modal
    start, the timer and Esc forwarded to a ModalRun, and stopping it when Blender ends the operator early.
    The operator supplies `_finish(context, run)`; its `bl_label` names it in the cancel report."""

    def _run_blocking(self, context, run) -> set:
        try:
            run.start()
            run.wait()
            return self._finish(context, run)
        except _worker_error_types() as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        finally:
            run.cancel()   # no-op once finished; removes temporary files after a failure

    def _start_modal_run(self, context, run) -> set:
        self._driver = ModalRun(run)
        try:
            self._driver.begin(context)
        except _worker_error_types() as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        context.window_manager.modal_handler_add(self)
        return {'RUNNING_MODAL'}

    def modal(self, context, event):
        driver = self._driver
        if event.type == 'ESC':
            driver.cancel(context)
            self.report({'INFO'}, f"{self.bl_label} cancelled; nothing was changed")
            return {'CANCELLED'}
        if event.type != 'TIMER':
            return {'PASS_THROUGH'}
        try:
            if not driver.tick(context):
                return {'PASS_THROUGH'}
            return self._finish(context, driver.run)
        except _worker_error_types() as exc:
            driver.cancel(context)
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}

    def cancel(self, context):
        """Blender ends the operator early (file browser closed, file loaded, window closed): stop the
        worker's job if one was started."""
        driver = getattr(self, "_driver", None)
        if driver is not None:
            driver.cancel(context)


class MESH_FROM_IMAGE_OT_reconstruct(ModalRunOperator, bpy.types.Operator):
    """Build a textured, watertight mesh from a picture (the Image Editor's image, a selected image empty, or a file)"""
    bl_idname = "mesh_from_image.reconstruct"
    bl_label = "Mesh from Image"
    bl_options = {'REGISTER', 'UNDO'}

    # Source. SKIP_SAVE: the next run must look at the context again, not reuse the last picture.
    filepath: StringProperty(name="File", description="Picture file to reconstruct", subtype='FILE_PATH',
                             options={'SKIP_SAVE'})
    image_name: StringProperty(name="Image", description="Image datablock to reconstruct (for scripts); "
                               "empty uses the Image Editor's image or the selected image empty", options={'SKIP_SAVE'})
    use_file_browser: BoolProperty(name="Pick File", description="Always open the file browser when invoked",
                                   default=False, options={'HIDDEN', 'SKIP_SAVE'})
    filter_image: BoolProperty(default=True, options={'HIDDEN', 'SKIP_SAVE'})
    filter_folder: BoolProperty(default=True, options={'HIDDEN', 'SKIP_SAVE'})

    # Options, shown in the redo panel.
    # Defaults, bounds and descriptions: inference/contract.py, shared with both command lines.
    size: FloatProperty(**contract.blender_property("size", subtype='DISTANCE', unit='LENGTH'))
    template_vertices: IntProperty(**contract.blender_property("template_vertices"))
    refine: BoolProperty(**contract.blender_property("refine"))
    refine_steps: IntProperty(**contract.blender_property("refine_steps"))
    even_triangles: BoolProperty(**contract.blender_property("remesh"))
    fill_holes: BoolProperty(**contract.blender_property("fill_holes"))
    shape_prior: EnumProperty(**contract.shape_prior_property())
    device: EnumProperty(**contract.device_property())

    # Artist options: what the answer becomes in Blender. Changing them reuses the worker's answer. Each is
    # contract.ArtistOptions' field of the same name (defaults, bounds, descriptions); `bake` and
    # `elevation_source` are the toggles that switch bake_size and elevation off.
    objects: EnumProperty(**contract.blender_property("objects"))
    fill_sides: BoolProperty(**contract.blender_property("fill_sides"))
    bake: BoolProperty(**contract.blender_toggle("bake_size"))
    bake_size: IntProperty(**contract.blender_property("bake_size"))
    target_faces: IntProperty(**contract.blender_property("target_faces"))
    quads: BoolProperty(**contract.blender_property("quads"))
    voxel_first: BoolProperty(**contract.blender_property("voxel_first"))
    subdivision: IntProperty(**contract.blender_property("subdivision"))
    sharp_angle: FloatProperty(**contract.blender_property("sharp_angle"))
    upright: BoolProperty(**contract.blender_property("upright"))
    elevation_source: EnumProperty(**contract.blender_toggle("elevation"))
    elevation: FloatProperty(**contract.blender_property("elevation"))
    add_camera: BoolProperty(**contract.blender_property("add_camera"))

    # -- entry points ------------------------------------------------------------------------------
    def invoke(self, context, event):
        try:
            source = None if self.use_file_browser else self._source(context)
        except SourceError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        if source is None:
            context.window_manager.fileselect_add(self)   # execute() follows once a file is picked
            return {'RUNNING_MODAL'}
        return self._start_modal(context, source)

    def execute(self, context):
        try:
            source = self._source(context)
        except SourceError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        if source is None:
            self.report({'ERROR'}, image_source.describe(None) + ".")
            return {'CANCELLED'}
        if self.options.is_invoke and not (self.options.is_repeat or self.options.is_repeat_last) \
                and context.window is not None \
                and not bpy.app.background:
            return self._start_modal(context, source)   # picked in the file browser: stay responsive
        return self._run_blocking(context, self._new_run(context, source))

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "size")
        layout.prop(self, "template_vertices")
        layout.prop(self, "shape_prior")
        layout.prop(self, "refine")
        row = layout.row()
        row.active = self.refine
        row.prop(self, "refine_steps")
        layout.prop(self, "even_triangles")
        layout.prop(self, "fill_holes")
        layout.prop(self, "device")
        draw_artist_options(layout, self)

    def output_options(self) -> contract.ArtistOptions:
        return contract.artist_options_from_properties(self)

    # -- shared steps -------------------------------------------------------------------------------
    def _source(self, context):
        if self.filepath:
            return image_source.from_file(self.filepath)
        if self.image_name:
            image = bpy.data.images.get(self.image_name)
            if image is None:
                raise SourceError(f"There is no image named '{self.image_name}'.")
            return image_source.from_image(image)
        source = image_source.from_context(context)
        if source is not None:
            # Pin the picture found in the context: the redo panel re-runs execute() from another editor,
            # where the Image Editor's image or the selected empty is no longer in reach.
            self.image_name = source.image_name
        return source

    def _new_run(self, context, source) -> ReconstructionRun:
        choice = settings.preferred_device(context) if self.device == contract.PREFERENCES_DEVICE else self.device
        run_settings = RunSettings(size=self.size, template_vertices=self.template_vertices, refine=self.refine,
                                   refine_steps=self.refine_steps, device=settings.engine_device(choice),
                                   all_objects=self.objects != 'LARGEST', even_triangles=self.even_triangles,
                                   fill_holes=self.fill_holes,
                                   model=contract.model_of_shape_prior(self.shape_prior))
        return ReconstructionRun(source, run_settings, settings.worker_client(context))

    def _finish(self, context, run) -> set:
        try:
            built = run.build(context, context.scene.cursor.location.copy(), self.output_options())
        except _build_error_types() as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        engine_warning = run.answer.info.warning if run.answer is not None else None
        if engine_warning:   # e.g. a learned model could not load and the training-free path was used
            self.report({'WARNING'}, str(engine_warning))
        if built.cleanup.is_manifold:
            made = ", ".join(f"'{o.name}'" for o in built.objects)
            standing = f", stood up from a {math.degrees(built.elevation):.0f} degree view" if built.elevation else ""
            holes = run.answer.info.holes_said() if run.answer is not None else ""
            self.report({'INFO'}, f"Made {made}: {sum(len(o.data.polygons) for o in built.objects)} faces, "
                                  f"watertight{standing}" + (f", {holes}" if holes else ""))
        else:
            self.report({'WARNING'}, f"Made '{built.obj.name}', but it has {built.cleanup.summary()}")
        return {'FINISHED'}

    def _start_modal(self, context, source):
        return self._start_modal_run(context, self._new_run(context, source))


class ModalRun:
    """The interactive side of one reconstruction: a timer that polls the worker, progress in the status
    bar and the sidebars, and cancelling. The operator's modal() only forwards events here, so scripts and
    tests drive exactly the code the UI runs."""

    def __init__(self, run: ReconstructionRun):
        self.run = run
        self._timer = None

    def begin(self, context) -> None:
        # Never block the UI: a worker that is not running yet is started on a thread.
        self.run.start(block=False)
        self._timer = context.window_manager.event_timer_add(POLL_SECONDS, window=context.window)
        reconstruction.active_run = self.run
        self._show_progress(context, "starting", 0.0)

    def tick(self, context) -> bool:
        """Called on each timer event: True once the answer (or the error) is there to finish with."""
        if not self.run.done:
            self._show_progress(context, *self.run.progress)
            return False
        self._stop(context)
        return True

    def cancel(self, context) -> None:
        """Stop the worker's job; nothing was built, so the scene is exactly as it was."""
        self._stop(context)
        self.run.cancel()

    def _show_progress(self, context, stage: str, fraction: float) -> None:
        if context.workspace is not None:
            context.workspace.status_text_set(f"Mesh from Image: {stage} {fraction * 100:.0f}%   (Esc to cancel)")
        _redraw_sidebars(context)

    def _stop(self, context) -> None:
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        if context.workspace is not None:
            context.workspace.status_text_set(None)
        if reconstruction.active_run is self.run:
            reconstruction.active_run = None
        _redraw_sidebars(context)


def _redraw_sidebars(context) -> None:
    screen = getattr(context, "screen", None)
    for area in (screen.areas if screen is not None else ()):
        if area.type in {'VIEW_3D', 'IMAGE_EDITOR'}:
            area.tag_redraw()


classes = (MESH_FROM_IMAGE_OT_reconstruct,)

register, unregister = bpy.utils.register_classes_factory(classes)
