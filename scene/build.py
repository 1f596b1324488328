"""From the worker's answer(s) to finished objects: mesh, topology, texture, placement, camera. All or
nothing: if any step fails, every datablock this created is removed again, so a failure leaves the
file as it was."""
from __future__ import annotations

from dataclasses import dataclass, field

import bpy
from mathutils import Matrix, Vector

from . import layout
from .image_source import ImageSource
from .material import image_material
from ..inference.contract import ArtistOptions
from .mesh_object import CleanupReport, add_object, build_mesh


@dataclass
class BuiltObject:
    obj: bpy.types.Object                  # the first (largest) object
    cleanup: CleanupReport
    objects: list = field(default_factory=list)   # every object made (one unless several were asked for)
    camera: bpy.types.Object | None = None
    elevation: float = 0.0                 # radians, the elevation the object was stood up with


class _Created:
    """Datablocks made so far, removed in reverse order when a later step fails. Objects are removed
    with whatever mesh they hold at that time (topology steps replace the mesh)."""

    def __init__(self):
        self.items = []

    def add(self, collection, datablock):
        self.items.append((collection, datablock))
        return datablock

    def undo(self):
        for collection, datablock in reversed(self.items):
            try:
                if collection is bpy.data.objects and datablock.type == 'MESH':
                    mesh = datablock.data
                    collection.remove(datablock)
                    if mesh is not None and mesh.users == 0:
                        bpy.data.meshes.remove(mesh)
                else:
                    collection.remove(datablock)
            except ReferenceError:   # already gone with its owner
                pass


def build_object(context, source: ImageSource, result, size: float, location,
                 output: ArtistOptions | None = None, info=None) -> BuiltObject:
    """`result` is one worker answer (contract.MeshResult), or a list of answers for the separate objects of
    one picture (largest first); `info` (contract.ResultInfo) the facts of the first."""
    from .placement import engine_elevation, stand_upright
    from .topology import apply_topology

    output = output or ArtistOptions()
    answers = result if isinstance(result, list) else [result]
    parts, picture_map = layout.shared_frame(answers)
    if output.objects == "JOINED" and len(parts) > 1:
        parts = [layout.joined(parts)]
    elevation = 0.0
    if output.upright:
        estimated = engine_elevation(info or {})
        elevation = output.elevation if output.elevation is not None else (estimated or 0.0)

    created = _Created()
    images_before = set(bpy.data.images)
    try:
        image = source.image()
        if image not in images_before:
            created.add(bpy.data.images, image)
        shared_material = None
        objects, reports, transforms = [], [], []
        background = None
        if len(parts) == 1 and (output.fill_sides or output.bake_size) and not (output.quads or output.target_faces):
            # The textures depend on the built mesh's UV triangles, which are the answer's unless the cleanup
            # or a topology option changes the faces: start them now, beside the mesh build (texture.py).
            from .image_source import image_pixels
            from .texture import BackgroundFill
            background = BackgroundFill(image_pixels(image), parts[0].uvs, parts[0].faces)
        for index, part in enumerate(parts):
            name = source.name if len(parts) == 1 else f"{source.name} {index + 1}"
            mesh, cleanup = build_mesh(name, part.vertices, part.faces, part.uvs, size)
            created.add(bpy.data.meshes, mesh)
            obj = created.add(bpy.data.objects, add_object(context, name, mesh, location))
            cleanup = apply_topology(obj, output, picture_map, size) or cleanup
            material, grown_images = _material(name, image, obj, output, created, background)
            if material is None:
                if shared_material is None:
                    shared_material = created.add(bpy.data.materials, image_material(source.name, image))
                material = shared_material
            obj.data.materials.append(material)
            if output.bake_size:
                from .bake import bake_to_texture
                baked = bake_to_texture(context, obj, output.bake_size, name)
                created.add(bpy.data.images, baked)
                for grown in grown_images:   # the bake replaced them: nothing shows them any more
                    if grown.users == 0:
                        bpy.data.images.remove(grown)
            transforms.append(stand_upright(obj, elevation) if output.upright else Matrix.Identity(4))
            objects.append(obj)
            reports.append(cleanup)
        if output.bake_size and image not in images_before and image.users == 0:
            bpy.data.images.remove(image)   # loaded for the bake only; the baked textures replace it
            image = None
        _place(objects, transforms, Vector(location), output.upright)
        for obj in objects:
            obj.select_set(True)
        context.view_layer.objects.active = objects[0]
        camera = None
        if output.add_camera:
            from .camera import add_reference_camera
            camera = created.add(bpy.data.objects, add_reference_camera(
                context, objects[0], picture_map, size, transforms[0], image or source.image(),
                f"{source.name} camera"))
            created.add(bpy.data.cameras, camera.data)
    except Exception:
        created.undo()
        raise
    worst = next((r for r in reports if not r.is_manifold), reports[0])
    return BuiltObject(objects[0], worst, objects, camera, elevation)


def _material(name, image, obj, output: ArtistOptions, created: _Created, background=None):
    """The grown-in material for this object and the images it made, when asked for (its texture depends
    on the object's own projection); (None, []) for the plain picture material, which all objects share.
    `background`: texture.BackgroundFill, the textures already under way (used if they fit this mesh)."""
    if not output.fill_sides and not output.bake_size:
        return None, []
    from .texture import filled_material, write_facing
    write_facing(obj.data)
    material, images = filled_material(name, image, obj.data, background)
    for made in images:
        created.add(bpy.data.images, made)
    return created.add(bpy.data.materials, material), images


def _place(objects, transforms, location: Vector, upright: bool) -> None:
    """The first (largest) object's bottom centre on `location`; the others keep the picture's layout
    around it, and the lowest of them all stands on the ground at `location`'s height. Without `upright`
    every object keeps the frame's centre on `location`."""
    if not upright:
        for obj in objects:
            obj.location = location
        return
    bottoms = [-(transform.to_translation()) for transform in transforms]   # where each origin went
    ground = min(b.z for b in bottoms)
    first = bottoms[0]
    for obj, bottom in zip(objects, bottoms):
        obj.location = location + Vector((bottom.x - first.x, bottom.y - first.y, bottom.z - ground))


def remove_object(obj) -> None:
    """Remove an object built by `build_object` with the mesh and material only it used (the CLI
    builds one object per picture and must not let names drift to "mug.001")."""
    mesh = obj.data
    materials = [m for m in mesh.materials if m is not None]
    images = [n.image for m in materials for n in m.node_tree.nodes if n.type == 'TEX_IMAGE' and n.image]
    bpy.data.objects.remove(obj)
    if mesh.users == 0:
        bpy.data.meshes.remove(mesh)
    for material in materials:
        if material.users == 0:
            bpy.data.materials.remove(material)
    for image in images:
        if image.users == 0:
            bpy.data.images.remove(image)
