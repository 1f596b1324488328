"""Add-on preferences: the device the worker computes on and the Python interpreter it runs in."""
import bpy
from bpy.props import EnumProperty, StringProperty

from ..scene import settings


class MESH_FROM_IMAGE_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = settings.ADDON_PACKAGE

    device: EnumProperty(name="Device", description="Where the worker computes by default",
                         items=settings.DEVICE_ITEMS, default='AUTO')
    python_path: StringProperty(
        name="Python Interpreter",
        description="Python the worker runs in (it needs PyTorch and NumPy); empty uses Blender's own Python",
        subtype='FILE_PATH', default="")

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "device")
        layout.prop(self, "python_path")
        if not self.python_path.strip():
            layout.label(text="Using Blender's own Python for the worker", icon='INFO')


classes = (MESH_FROM_IMAGE_AP_preferences,)

register, unregister = bpy.utils.register_classes_factory(classes)
