"""Operators behind the preferences' runtime box: install or remove the GPU runtime, cancel an install, use an
existing Python, check again. The work happens in scene/runtime.py and worker/; these stay thin.

Every operator has a complete execute() (scripts, background mode); "Install GPU runtime" in the UI runs modal
with a timer so the window stays responsive while pip works, and Esc or the Cancel button stops it.
"""
import bpy
from bpy.props import EnumProperty, StringProperty

from ..scene import runtime, settings
from ..worker.probe import probe
from ..worker.runtime import Runtime, resolve_python
from ..worker.runtime_install import DONE, GPU_BUILDS

_POLL_INTERVAL_S = 0.25


def _report_install_end(operator, install) -> set:
    runtime.forget_status()
    if install.state == DONE:
        operator.report({'INFO'}, install.message)
        return {'FINISHED'}
    operator.report({'ERROR'} if install.state != "cancelled" else {'WARNING'}, install.message)
    return {'CANCELLED'}


class MESH_FROM_IMAGE_OT_install_gpu_runtime(bpy.types.Operator):
    """Install a GPU build of PyTorch for the worker into the add-on's user folder, with Blender's own Python"""
    bl_idname = "mesh_from_image.install_gpu_runtime"
    bl_label = "Install GPU Runtime"
    bl_options = {'INTERNAL'}

    build: EnumProperty(name="Build", items=[(i, label, f"PyTorch from {folder}") for i, label, folder in GPU_BUILDS])
    wheel_folder: StringProperty(name="Wheel Folder", subtype='DIR_PATH', default="",
                                 description="Install from this folder of wheel files instead of downloading "
                                             "(offline studios); empty downloads from the PyTorch index")

    _timer = None

    def execute(self, context):
        try:
            install = runtime.start_gpu_install(self.build, self.wheel_folder)
        except runtime.RuntimeSetupError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        install.wait()   # scripts and background mode: synchronous
        return _report_install_end(self, install)

    def invoke(self, context, event):
        try:
            runtime.start_gpu_install(self.build, self.wheel_folder)
        except runtime.RuntimeSetupError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        self._timer = context.window_manager.event_timer_add(_POLL_INTERVAL_S, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {'RUNNING_MODAL'}

    def modal(self, context, event):
        install = runtime.current_install()
        if event.type == 'ESC' and event.value == 'PRESS':
            runtime.cancel_install()
        if event.type != 'TIMER' and install is not None and not install.finished:
            return {'PASS_THROUGH'}
        runtime.redraw_preferences()
        if install is None or not install.finished:
            return {'PASS_THROUGH'}
        context.window_manager.event_timer_remove(self._timer)
        return _report_install_end(self, install)

    def cancel(self, context):
        # The preferences window closed: the install goes on in the background; the status box shows its end.
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)


class MESH_FROM_IMAGE_OT_install_gpu_runtime_from_folder(bpy.types.Operator):
    """Install the GPU runtime from a folder of wheel files (torch and its dependencies), without network"""
    bl_idname = "mesh_from_image.install_gpu_runtime_from_folder"
    bl_label = "Install from Folder…"
    bl_options = {'INTERNAL'}

    directory: StringProperty(subtype='DIR_PATH')

    def execute(self, context):
        return bpy.ops.mesh_from_image.install_gpu_runtime('INVOKE_DEFAULT', wheel_folder=self.directory)

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {'RUNNING_MODAL'}


class MESH_FROM_IMAGE_OT_cancel_gpu_runtime_install(bpy.types.Operator):
    """Stop the GPU runtime install; the runtime in use stays as it was"""
    bl_idname = "mesh_from_image.cancel_gpu_runtime_install"
    bl_label = "Cancel"
    bl_options = {'INTERNAL'}

    def execute(self, context):
        if not runtime.cancel_install():
            self.report({'INFO'}, "No GPU runtime install is running.")
        return {'FINISHED'}


class MESH_FROM_IMAGE_OT_remove_gpu_runtime(bpy.types.Operator):
    """Delete the installed GPU runtime; the worker goes back to the bundled CPU wheels"""
    bl_idname = "mesh_from_image.remove_gpu_runtime"
    bl_label = "Remove GPU Runtime"
    bl_options = {'INTERNAL'}

    def execute(self, context):
        install = runtime.current_install()
        if install is not None and not install.finished:
            self.report({'ERROR'}, "A GPU runtime install is running; cancel it first.")
            return {'CANCELLED'}
        if not runtime.remove_gpu_runtime():
            self.report({'INFO'}, "No GPU runtime is installed.")
        return {'FINISHED'}

    def invoke(self, context, event):
        return context.window_manager.invoke_confirm(self, event)


class MESH_FROM_IMAGE_OT_use_existing_python(bpy.types.Operator):
    """Run the worker in a Python of your own (a conda or venv interpreter with PyTorch); it is checked first
    and only taken when it can run the reconstruction"""
    bl_idname = "mesh_from_image.use_existing_python"
    bl_label = "Use an Existing Python…"
    bl_options = {'INTERNAL'}

    filepath: StringProperty(subtype='FILE_PATH', options={'SKIP_SAVE'})

    def execute(self, context):
        prefs = settings.addon_preferences(context)
        if prefs is None:
            self.report({'ERROR'}, "The add-on is not enabled.")
            return {'CANCELLED'}
        path = bpy.path.abspath(self.filepath.strip()) if self.filepath.strip() else ""
        if not path:
            self.report({'ERROR'}, "No interpreter was given.")
            return {'CANCELLED'}
        result = probe(Runtime("interpreter", resolve_python(path)), runtime.package_dir())
        if not result.ok:
            # The preference keeps its previous value: the worker goes on with what worked before.
            self.report({'ERROR'}, result.message)
            return {'CANCELLED'}
        prefs.python_path = path
        runtime.runtime_changed()
        self.report({'INFO'}, f"Using {path}: PyTorch {result.torch} on {result.device_text}.")
        return {'FINISHED'}

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {'RUNNING_MODAL'}


class MESH_FROM_IMAGE_OT_clear_python(bpy.types.Operator):
    """Stop using your own Python; the worker uses the GPU runtime or the bundled wheels again"""
    bl_idname = "mesh_from_image.clear_python"
    bl_label = "Use the Add-on's Runtime"
    bl_options = {'INTERNAL'}

    def execute(self, context):
        prefs = settings.addon_preferences(context)
        if prefs is not None and prefs.python_path:
            prefs.python_path = ""
            runtime.runtime_changed()
        return {'FINISHED'}


class MESH_FROM_IMAGE_OT_check_runtime(bpy.types.Operator):
    """Check the worker's runtime again: interpreter, PyTorch and device"""
    bl_idname = "mesh_from_image.check_runtime"
    bl_label = "Check Again"
    bl_options = {'INTERNAL'}

    def execute(self, context):
        runtime.forget_status()
        result = runtime.probe_now(runtime.current_runtime(context))
        self.report({'INFO'} if result.ok else {'WARNING'}, result.message)
        return {'FINISHED'}


classes = (
    MESH_FROM_IMAGE_OT_install_gpu_runtime,
    MESH_FROM_IMAGE_OT_install_gpu_runtime_from_folder,
    MESH_FROM_IMAGE_OT_cancel_gpu_runtime_install,
    MESH_FROM_IMAGE_OT_remove_gpu_runtime,
    MESH_FROM_IMAGE_OT_use_existing_python,
    MESH_FROM_IMAGE_OT_clear_python,
    MESH_FROM_IMAGE_OT_check_runtime,
)

_register, _unregister = bpy.utils.register_classes_factory(classes)


def register():
    _register()


def unregister():
    runtime.shutdown()   # an install in progress stops; the runtime in use is left as it was
    _unregister()
