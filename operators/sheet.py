"""Reference sheets: the scene's slots (one image per view), **From Reference Images** (fills them from the
image empties that face the views, see scene/references.py) and **Build from Sheet** (`mesh_from_image.sheet`:
the same worker, progress, Esc, undo and redo panel as the single-picture operator)."""
from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty

from ..inference import contract
from ..scene import image_source, references, settings
from ..scene.image_source import SourceError
from ..scene.reconstruction import RunSettings
from ..scene.sheet_run import SheetRun
from .reconstruct import ModalRunOperator

VIEWS = contract.SHEET_VIEWS
SETTINGS_NAME = "mesh_from_image_sheet"


def _sheet_properties():
    annotations = {}
    for view in VIEWS:
        annotations[view] = PointerProperty(type=bpy.types.Image, name=view.capitalize(),
                                            description=f"Picture of the object's {view} view")
        annotations[f"{view}_empty"] = PointerProperty(
            type=bpy.types.Object, name=f"{view.capitalize()} Reference",
            description=f"The image empty the {view} picture came from (the object lines up with it)")
    return annotations


MeshFromImageSheet = type("MeshFromImageSheet", (bpy.types.PropertyGroup,), {
    "__annotations__": _sheet_properties(),
    "__doc__": "The pictures of a reference sheet, one per view",
})


def sheet_settings(context):
    return getattr(context.scene, SETTINGS_NAME)


def slot_sources(sheet) -> dict:
    """view -> ImageSource for every filled slot."""
    return {view: image_source.from_image(getattr(sheet, view)) for view in VIEWS if getattr(sheet, view)}


def slot_empties(sheet) -> dict:
    """view -> the image empty a slot came from, while that empty still shows the slot's image and still
    faces that view."""
    found = {}
    for view in VIEWS:
        empty, image = getattr(sheet, f"{view}_empty"), getattr(sheet, view)
        if empty is not None and image is not None and empty.data == image and references.view_of(empty) == view:
            found[view] = empty
    return found


class MESH_FROM_IMAGE_OT_sheet_from_references(bpy.types.Operator):
    """Fill the reference sheet's slots from the scene's image empties that face the front, back, left, right,
    top and bottom views (as Add › Image › Reference places them in those views)"""
    bl_idname = "mesh_from_image.sheet_from_references"
    bl_label = "From Reference Images"
    bl_options = {'REGISTER', 'UNDO'}

    def execute(self, context):
        found = references.find_reference_empties(context.scene, context.view_layer)
        if not found:
            self.report({'ERROR'}, "No image empty faces a front, back, side or top view: add the pictures with "
                                   "Add › Image › Reference in those views (numpad 1, 3, 7)")
            return {'CANCELLED'}
        sheet = sheet_settings(context)
        for view in VIEWS:
            empty = found.get(view)
            setattr(sheet, f"{view}_empty", empty)
            if empty is not None:
                setattr(sheet, view, empty.data)
        self.report({'INFO'}, "Reference sheet: " + ", ".join(f"{v} from '{found[v].name}'" for v in VIEWS
                                                               if v in found))
        return {'FINISHED'}


def draw_sheet_options(layout, props, size_active: bool | None = None) -> None:
    """Build from Sheet's options, in its redo panel and (the remembered ones) in the Reference Sheet box.
    `size_active`: whether Size applies (default: when not lined up with the references)."""
    layout.prop(props, "align")
    row = layout.row()
    row.active = (not props.align) if size_active is None else size_active
    row.prop(props, "size")
    for name in ("template_vertices", "even_triangles", "device", "target_faces", "quads"):
        layout.prop(props, name)
    row = layout.row()
    row.active = props.quads
    row.prop(props, "voxel_first")
    for name in ("subdivision", "sharp_angle", "bake"):
        layout.prop(props, name)
    row = layout.row()
    row.active = props.bake
    row.prop(props, "bake_size")
    layout.prop(props, "upright")


class MESH_FROM_IMAGE_OT_sheet(ModalRunOperator, bpy.types.Operator):
    """Build one closed, textured mesh from the reference sheet's pictures (at least two views, one of them the
    front or the back)"""
    bl_idname = "mesh_from_image.sheet"
    bl_label = "Build from Sheet"
    bl_options = {'REGISTER', 'UNDO'}

    size: FloatProperty(**contract.blender_property(
        "size", subtype='DISTANCE', unit='LENGTH',
        description="Length of the front silhouette's longer side in metres (when not lined up with reference "
                    "images)"))
    template_vertices: IntProperty(**contract.blender_property("template_vertices"))
    even_triangles: BoolProperty(**contract.blender_property("remesh"))
    align: BoolProperty(name="Line Up with References", default=True,
                        description="Place and size the object on the reference image empties the pictures came "
                                    "from (else: at the 3D cursor, Size metres)")
    device: EnumProperty(**contract.device_property())
    # The artist options a sheet takes (scene/sheet_build.SHEET_ARTIST_OPTIONS), as Mesh from Image's
    # (contract.ArtistOptions' fields and the bake toggle): changing them on redo reuses the worker's answer.
    target_faces: IntProperty(**contract.blender_property("target_faces"))
    quads: BoolProperty(**contract.blender_property("quads"))
    voxel_first: BoolProperty(**contract.blender_property("voxel_first"))
    subdivision: IntProperty(**contract.blender_property("subdivision"))
    sharp_angle: FloatProperty(**contract.blender_property("sharp_angle"))
    bake: BoolProperty(**contract.blender_toggle("bake_size"))
    bake_size: IntProperty(**contract.blender_property("bake_size"))
    upright: BoolProperty(**contract.blender_property("upright"))

    def invoke(self, context, event):
        try:
            run = self._new_run(context)
        except (SourceError, ValueError) as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        return self._start_modal_run(context, run)

    def execute(self, context):
        try:
            run = self._new_run(context)
        except (SourceError, ValueError) as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        return self._run_blocking(context, run)

    def draw(self, context):
        self.layout.use_property_split = True
        draw_sheet_options(self.layout, self)

    def artist_options(self) -> contract.ArtistOptions:
        return contract.ArtistOptions(target_faces=self.target_faces, quads=self.quads, voxel_first=self.voxel_first,
                                      subdivision=self.subdivision,
                                      sharp_angle=self.sharp_angle, bake_size=self.bake_size if self.bake else 0,
                                      upright=self.upright)

    # -- shared steps -------------------------------------------------------------------------------
    def _new_run(self, context) -> SheetRun:
        sheet = sheet_settings(context)
        sources = slot_sources(sheet)
        problems = contract.sheet_problems(sources)
        if problems:
            raise SourceError(problems[0] + " Fill the Reference Sheet's slots (or use From Reference Images).")
        choice = settings.preferred_device(context) if self.device == contract.PREFERENCES_DEVICE else self.device
        run_settings = RunSettings(size=self.size, template_vertices=self.template_vertices,
                                   device=settings.engine_device(choice), even_triangles=self.even_triangles)
        reference = "front" if "front" in sources else "back"
        name = f"{sources[reference].name} sheet"
        return SheetRun(sources, run_settings, settings.worker_client(context), name)

    def _finish(self, context, run) -> set:
        from ..scene.bake import BakeError
        from ..scene.topology import TopologyError
        empties = slot_empties(sheet_settings(context)) if self.align else {}
        try:
            built = run.build(context, context.scene.cursor.location.copy(), empties, artist=self.artist_options())
        except (BakeError, TopologyError) as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        for warning in run.answer.warnings:
            self.report({'WARNING'}, str(warning))
        where = "lined up with the reference images" if built.aligned else "at the 3D cursor"
        state = "watertight" if built.cleanup.is_manifold else built.cleanup.summary()
        self.report({'INFO'}, f"Made '{built.obj.name}' from {', '.join(sorted(run.answer.views))}: "
                              f"{len(built.obj.data.polygons)} faces, {state}, {where}")
        return {'FINISHED'}


classes = (MeshFromImageSheet, MESH_FROM_IMAGE_OT_sheet_from_references, MESH_FROM_IMAGE_OT_sheet)
_register, _unregister = bpy.utils.register_classes_factory(classes)


def register():
    _register()
    setattr(bpy.types.Scene, SETTINGS_NAME, PointerProperty(type=MeshFromImageSheet))


def unregister():
    delattr(bpy.types.Scene, SETTINGS_NAME)
    _unregister()
