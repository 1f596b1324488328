"""The **Reference Sheet** box of the 3D Viewport's Mesh tab: one image slot per view (with a file browser
each), From Reference Images, and Build from Sheet with its main options. Drawing only."""
import bpy

from ..operators.sheet import VIEWS, MESH_FROM_IMAGE_OT_sheet, MESH_FROM_IMAGE_OT_sheet_from_references, \
    SETTINGS_NAME, draw_sheet_options, slot_empties
from ..scene import reconstruction
from ..scene.sheet_run import SheetRun
from .sidebar import draw_progress_or_button, options_column

BUILD = MESH_FROM_IMAGE_OT_sheet.bl_idname


class MESH_FROM_IMAGE_PT_view3d_sheet(bpy.types.Panel):
    bl_idname = "MESH_FROM_IMAGE_PT_view3d_sheet"
    bl_label = "Reference Sheet"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "Mesh"

    def draw(self, context):
        layout = self.layout
        sheet = getattr(context.scene, SETTINGS_NAME, None)
        if sheet is None:
            return
        layout.operator(MESH_FROM_IMAGE_OT_sheet_from_references.bl_idname, icon='OUTLINER_OB_IMAGE')
        aligned = slot_empties(sheet)
        col = layout.column(align=True)
        for view in VIEWS:
            row = col.row(align=True)
            split = row.split(factor=0.28, align=True)
            split.label(text=view.capitalize(), icon='LINKED' if view in aligned else 'BLANK1')
            # The datablock selector with an Open button (a file browser that loads into this slot).
            split.template_ID(sheet, view, open="image.open")

        run = reconstruction.active_run
        # Only a sheet run's progress shows here; a single-picture run leaves the button in place.
        draw_progress_or_button(layout, run if isinstance(run, SheetRun) else None, BUILD, "Build from Sheet")
        options = context.window_manager.operator_properties_last(BUILD)
        if options is not None:
            draw_sheet_options(options_column(layout), options, size_active=not options.align or not aligned)

classes = (MESH_FROM_IMAGE_PT_view3d_sheet,)

register, unregister = bpy.utils.register_classes_factory(classes)
