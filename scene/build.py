"""From the worker's answer to a finished object: mesh, UVs, material, placement. All or nothing:
if any step fails, every datablock this created is removed again, so a failure leaves the file as it was."""
from __future__ import annotations

from dataclasses import dataclass

import bpy

from .image_source import ImageSource
from .material import image_material
from .mesh_object import CleanupReport, add_object, build_mesh


@dataclass
class BuiltObject:
    obj: bpy.types.Object
    cleanup: CleanupReport


def build_object(context, source: ImageSource, result: dict, size: float, location) -> BuiltObject:
    created = []   # (collection, datablock), removed in reverse order on failure
    images_before = set(bpy.data.images)
    try:
        mesh, cleanup = build_mesh(source.name, result["vertices"], result["faces"], result["uvs"], size)
        created.append((bpy.data.meshes, mesh))
        image = source.image()
        if image not in images_before:
            created.append((bpy.data.images, image))
        material = image_material(source.name, image)
        created.append((bpy.data.materials, material))
        mesh.materials.append(material)
        obj = add_object(context, source.name, mesh, location)
        created.append((bpy.data.objects, obj))
    except Exception:
        for collection, datablock in reversed(created):
            collection.remove(datablock)
        raise
    return BuiltObject(obj, cleanup)


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
