"""Add › Mesh › Mesh from Image: always asks for a picture file."""
import bpy

from ..operators.reconstruct import MESH_FROM_IMAGE_OT_reconstruct


def draw_add_mesh_entry(self, context):
    layout = self.layout
    layout.separator()
    layout.operator_context = 'INVOKE_REGION_WIN'
    props = layout.operator(MESH_FROM_IMAGE_OT_reconstruct.bl_idname, text="Mesh from Image", icon='IMAGE_DATA')
    props.use_file_browser = True


classes = ()
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register():
    _register_classes()
    bpy.types.VIEW3D_MT_mesh_add.append(draw_add_mesh_entry)


def unregister():
    bpy.types.VIEW3D_MT_mesh_add.remove(draw_add_mesh_entry)
    _unregister_classes()
