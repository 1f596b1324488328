"""An orthographic camera that shows the object as the picture did, with the picture behind it.

In the frame `build_mesh` makes (X = x * size, Z = y * size) the picture is the rectangle of the
evaluation frame's picture map scaled by `size`, seen along +Y. The camera is placed on that view and
then follows every transform the object got (the upright rotation, the move to the bottom centre, the
object's location), so it sees the object exactly as the picture did."""
from __future__ import annotations

import bpy
from mathutils import Euler, Matrix, Vector

from .layout import PictureMap

# How far in front of the object the camera stands, in object sizes (orthographic: only clipping cares).
DISTANCE = 3.0


def add_reference_camera(context, obj, picture_map: PictureMap, size: float, mesh_transform: Matrix,
                         image, name: str) -> bpy.types.Object:
    width, height = (extent * size for extent in picture_map.picture_extent())
    cx, cy = (c * size for c in picture_map.picture_centre())
    data = bpy.data.cameras.new(name)
    data.type = 'ORTHO'
    data.ortho_scale = max(width, height)
    data.sensor_fit = 'AUTO'
    data.clip_start = 0.01 * size
    data.clip_end = 2 * DISTANCE * max(width, height) + 10 * size
    # The picture behind the object in the camera view (viewport), for comparing at a glance.
    data.show_background_images = True
    background = data.background_images.new()
    background.image = image
    background.display_depth = 'BACK'
    background.frame_method = 'FIT'
    background.alpha = 1.0

    camera = bpy.data.objects.new(name, data)
    # Looking along +Y (Blender's front view) from in front of the picture's centre.
    in_build_frame = Matrix.Translation(Vector((cx, -DISTANCE * max(width, height), cy))) @ \
        Euler((1.5707963267948966, 0.0, 0.0)).to_matrix().to_4x4()
    camera.matrix_world = obj.matrix_basis @ mesh_transform @ in_build_frame
    context.view_layer.active_layer_collection.collection.objects.link(camera)

    # The render frame takes the picture's proportions so the camera frames exactly the picture.
    scene = context.scene
    longer = max(scene.render.resolution_x, scene.render.resolution_y)
    if width >= height:
        scene.render.resolution_x, scene.render.resolution_y = longer, max(1, round(longer * height / width))
    else:
        scene.render.resolution_x, scene.render.resolution_y = max(1, round(longer * width / height)), longer
    scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    if scene.camera is None:
        scene.camera = camera
    return camera
