"""Add-on preferences: the device, and the runtime the worker computes in (status box with the fixes).

The status box shows the runtime in use (see worker/runtime.py for the order), its interpreter, PyTorch and
device, and when something is missing, why, next to the button that fixes it. The probe behind it runs on a
thread (scene/runtime.py), so opening the preferences never waits for torch to import.
"""
import bpy
from bpy.props import EnumProperty, StringProperty

from ..inference import contract
from ..scene import runtime, settings
from ..worker import probe as probe_fixes
from ..worker.runtime_install import GPU_BUILDS


class MESH_FROM_IMAGE_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = settings.ADDON_PACKAGE

    device: EnumProperty(**contract.device_property(per_run=False))
    python_path: StringProperty(
        name="Python Interpreter",
        description="A Python of your own for the worker (conda/venv with PyTorch); empty uses the add-on's "
                    "runtime (GPU runtime if installed, else the bundled CPU wheels). Set it with "
                    "\"Use an Existing Python\", which checks it first",
        subtype='FILE_PATH', default="")
    gpu_build: EnumProperty(name="GPU Build", description="Which PyTorch build the GPU runtime installs",
                            items=[(i, label, f"PyTorch from download.pytorch.org/whl/{folder}")
                                   for i, label, folder in GPU_BUILDS])

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "device")
        _draw_status(layout.box(), context)
        _draw_gpu_runtime(layout.box(), self)
        _draw_own_python(layout.box(), self)


def _draw_status(box, context):
    current, result = runtime.status(context)
    header = box.row()
    header.label(text=f"Runtime: {current.label}", icon='CHECKMARK' if result and result.ok else 'INFO')
    header.operator("mesh_from_image.check_runtime", text="", icon='FILE_REFRESH')
    col = box.column(align=True)
    col.label(text=f"Interpreter: {current.python}")
    for why in current.skipped:
        col.label(text=f"Not used: {why}", icon='ERROR')
    if result is None:
        col.label(text="Checking PyTorch and the device…", icon='SORTTIME')
        return
    if result.torch:
        col.label(text=f"PyTorch {result.torch} ({result.torch_path})")
        col.label(text=f"Device: {result.device_text}")
    if not result.ok:
        for number, line in enumerate(_wrap(result.message)):
            col.label(text=line, icon='ERROR' if number == 0 else 'BLANK1')
    _draw_fix(box, result)


def _draw_fix(box, result):
    if result.fix == probe_fixes.FIX_CLEAR_PYTHON:
        box.operator("mesh_from_image.clear_python", icon='LOOP_BACK')
    elif result.fix == probe_fixes.FIX_CHOOSE_PYTHON:
        box.operator("mesh_from_image.use_existing_python", icon='FILEBROWSER')
    elif result.fix == probe_fixes.FIX_INSTALL_GPU and result.ok:
        box.label(text="No GPU in use: install the GPU runtime below for an NVIDIA or AMD card.", icon='INFO')
    elif result.fix == probe_fixes.FIX_INSTALL_GPU:
        box.label(text="Install the GPU runtime below.", icon='INFO')


def _draw_gpu_runtime(box, prefs):
    box.label(text="GPU Runtime (CUDA or ROCm build of PyTorch)", icon='MEMORY')
    install = runtime.current_install()
    if install is not None and not install.finished:
        row = box.row()
        row.progress(factor=install.fraction, type='BAR', text=install.stage)
        row.operator("mesh_from_image.cancel_gpu_runtime_install", icon='CANCEL')
        box.label(text=f"From {install.source}")
        return
    if install is not None and install.message:
        for line in _wrap(install.message):
            box.label(text=line)
    box.prop(prefs, "gpu_build")
    row = box.row()
    op = row.operator("mesh_from_image.install_gpu_runtime", icon='IMPORT')
    op.build = prefs.gpu_build
    row.operator("mesh_from_image.install_gpu_runtime_from_folder", icon='FILE_FOLDER')
    if not bpy.app.online_access:
        box.label(text="Online access is off (Preferences › System): install from a folder of wheels.",
                  icon='INTERNET_OFFLINE')
    box.operator("mesh_from_image.remove_gpu_runtime", icon='TRASH')


def _draw_own_python(box, prefs):
    box.label(text="Your Own Python (conda or venv with PyTorch)", icon='CONSOLE')
    box.prop(prefs, "python_path")
    row = box.row()
    row.operator("mesh_from_image.use_existing_python", icon='FILEBROWSER')
    if prefs.python_path.strip():
        row.operator("mesh_from_image.clear_python", icon='LOOP_BACK')


def _wrap(text: str, width: int = 90) -> list[str]:
    """Blender labels do not wrap: split a message into lines of about `width` characters."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


classes = (MESH_FROM_IMAGE_AP_preferences,)

register, unregister = bpy.utils.register_classes_factory(classes)
