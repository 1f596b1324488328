"""The "Mesh" tab in the 3D Viewport and Image Editor sidebars: the button, its main options, the
progress of a running reconstruction and the worker's state."""
import bpy

from ..operators.reconstruct import MESH_FROM_IMAGE_OT_reconstruct, draw_artist_options
from ..scene import image_source, reconstruction, settings

OPERATOR = MESH_FROM_IMAGE_OT_reconstruct.bl_idname


def _source_label(context) -> tuple[str, str]:
    """What the button will use, without touching the disk (panels redraw often)."""
    space = context.space_data
    if space is not None and space.type == 'IMAGE_EDITOR' and space.image is not None:
        return f"Image: {space.image.name}", 'IMAGE_DATA'
    image = image_source.image_of_selected_empty(context)
    if image is not None:
        return f"Image empty: {image.name}", 'OUTLINER_OB_IMAGE'
    return "No image here: the button asks for a file", 'FILEBROWSER'


def _format_seconds(seconds) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def draw_progress_or_button(layout, run, operator: str, text: str) -> None:
    """The running `run`'s progress (Esc cancels it), or when none runs the big button that starts
    `operator` modally; shared by this tab and the Reference Sheet box."""
    if run is not None:
        stage, fraction = run.progress
        layout.progress(factor=fraction, type='BAR', text=f"{stage} {fraction * 100:.0f}%")
        layout.label(text="Esc cancels", icon='TIME')
    else:
        row = layout.row()
        row.scale_y = 1.4
        row.operator_context = 'INVOKE_DEFAULT'
        row.operator(operator, text=text, icon='MESH_MONKEY')


def options_column(layout):
    """A column for a button's remembered options, laid out like the redo panel."""
    col = layout.column()
    col.use_property_split = True
    col.use_property_decorate = False
    return col


class MeshFromImageSidebar:
    bl_label = "Mesh from Image"
    bl_region_type = 'UI'
    bl_category = "Mesh"

    def draw(self, context):
        layout = self.layout
        text, icon = _source_label(context)
        layout.label(text=text, icon=icon)

        draw_progress_or_button(layout, reconstruction.active_run, OPERATOR, "Mesh from Image")

        # The options the button will use: the operator's remembered properties, edited in place.
        options = context.window_manager.operator_properties_last(OPERATOR)
        if options is not None:
            col = options_column(layout)
            col.prop(options, "size")
            col.prop(options, "template_vertices")
            col.prop(options, "refine")
            sub = col.row()
            sub.active = options.refine
            sub.prop(options, "refine_steps")
            col.prop(options, "even_triangles")
            col.prop(options, "device")

        self._draw_worker(context, layout.box())

    @staticmethod
    def _draw_worker(context, box):
        client = settings.worker_client(context)
        info = client.info
        meta = reconstruction.last_meta
        box.label(text=f"Worker: {client.state}", icon='SETTINGS')
        col = box.column(align=True)
        device = info.get("device_name") or info.get("device") or meta.get("device") or "not started"
        col.label(text=f"Device: {device}")
        model = (meta.get("info") or {}).get("model") or "-"
        col.label(text=f"Model: {model}")
        col.label(text=f"Last run: {_format_seconds(info.get('last_timing'))}")


class ArtistOptionsSidebar:
    """Objects, topology, texture and placement options, folded away under the main panel."""
    bl_label = "Artist Options"
    bl_region_type = 'UI'
    bl_category = "Mesh"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        options = context.window_manager.operator_properties_last(OPERATOR)
        if options is None:
            return
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        draw_artist_options(layout, options)


class MESH_FROM_IMAGE_PT_view3d(MeshFromImageSidebar, bpy.types.Panel):
    bl_idname = "MESH_FROM_IMAGE_PT_view3d"
    bl_space_type = 'VIEW_3D'


class MESH_FROM_IMAGE_PT_image_editor(MeshFromImageSidebar, bpy.types.Panel):
    bl_idname = "MESH_FROM_IMAGE_PT_image_editor"
    bl_space_type = 'IMAGE_EDITOR'


class MESH_FROM_IMAGE_PT_view3d_artist(ArtistOptionsSidebar, bpy.types.Panel):
    bl_idname = "MESH_FROM_IMAGE_PT_view3d_artist"
    bl_space_type = 'VIEW_3D'
    bl_parent_id = MESH_FROM_IMAGE_PT_view3d.bl_idname


class MESH_FROM_IMAGE_PT_image_editor_artist(ArtistOptionsSidebar, bpy.types.Panel):
    bl_idname = "MESH_FROM_IMAGE_PT_image_editor_artist"
    bl_space_type = 'IMAGE_EDITOR'
    bl_parent_id = MESH_FROM_IMAGE_PT_image_editor.bl_idname


# Parents before their sub-panels.
classes = (MESH_FROM_IMAGE_PT_view3d, MESH_FROM_IMAGE_PT_image_editor, MESH_FROM_IMAGE_PT_view3d_artist,
           MESH_FROM_IMAGE_PT_image_editor_artist)

register, unregister = bpy.utils.register_classes_factory(classes)
