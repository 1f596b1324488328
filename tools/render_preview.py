"""Render a mesh file from the front and from a 3/4 view, side by side, for README pictures and job reports.

    .venv/bin/python tools/render_preview.py MESH_FILE -o PREVIEW.png [--size 512] [--samples 12]

MESH_FILE is a GLB/glTF, OBJ or PLY. Files written by the engine are in the evaluation frame (+y up, +z toward
the viewer); every importer is told so, so the front view shows the object as the input picture did. The
mesh keeps its texture (GLB, OBJ+MTL) or vertex colours (PLY); without either it gets a neutral clay
material. The picture is 2*size x size pixels on a neutral grey background. Blender as a Python module,
Cycles on the CPU with few samples (and the denoiser where the build has it): at 512 px about 17 s of CPU
time, i.e. about 10 s on two idle cores (20-30 s when the machine is busy).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile

import bpy
import numpy as np
from mathutils import Vector
from PIL import Image

from blender_dev import add_world, denoiser_available

BACKGROUND = (0.80, 0.80, 0.80)     # neutral grey, sRGB
CLAY = (0.55, 0.55, 0.55)
# (azimuth, elevation) in degrees: the front (Blender's numpad 1, looking along +Y) and a 3/4 view from the
# right and a little above.
VIEWS = ((0.0, 0.0), (40.0, 22.0))
LENS_MM = 60.0
SENSOR_MM = 36.0


def reset_scene(size: int, samples: int) -> bpy.types.Scene:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_adaptive_sampling = True
    scene.cycles.seed = 0
    scene.cycles.max_bounces = 4
    scene.cycles.use_denoising = denoiser_available()
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = True          # composited onto the grey afterwards, outside Blender
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    scene.view_settings.view_transform = "Standard"   # texture colours as they are in the picture

    # Textures from photos carry their own shading: an even, near-unit sky shows them as they are, and a weak
    # key light adds just enough shape.
    add_world(scene, (1.0, 1.0, 1.0), 0.75)
    return scene


def import_mesh(path: str) -> list[bpy.types.Object]:
    """Import the file; return its mesh objects. All three readers are set to +Y up, +Z forward (the
    evaluation frame), which lands the front of the object facing Blender's -Y, toward the front view."""
    before = set(bpy.data.objects)
    ext = os.path.splitext(path)[1].lower()
    if ext in (".glb", ".gltf"):
        bpy.ops.import_scene.gltf(filepath=path)          # glTF is +Y up by definition
    elif ext == ".obj":
        bpy.ops.wm.obj_import(filepath=path, forward_axis="NEGATIVE_Z", up_axis="Y")
    elif ext == ".ply":
        bpy.ops.wm.ply_import(filepath=path, forward_axis="NEGATIVE_Z", up_axis="Y", import_colors="SRGB")
    else:
        raise SystemExit(f"Unsupported mesh format '{ext}': use .glb, .gltf, .obj or .ply.")
    meshes = [o for o in set(bpy.data.objects) - before if o.type == "MESH"]
    if not meshes:
        raise SystemExit(f"No mesh found in {path}.")
    return sorted(meshes, key=lambda o: o.name)


def ensure_material(obj: bpy.types.Object) -> None:
    """Keep an imported material; otherwise show vertex colours if there are some, else clay."""
    mesh = obj.data
    mesh.shade_smooth()
    if any(slot.material for slot in obj.material_slots):
        return
    mat = bpy.data.materials.new(f"{obj.name}_preview")
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Roughness"].default_value = 0.7
    colours = mesh.color_attributes
    if len(colours):
        node = mat.node_tree.nodes.new("ShaderNodeVertexColor")
        node.layer_name = colours[0].name
        mat.node_tree.links.new(node.outputs["Color"], bsdf.inputs["Base Color"])
    else:
        bsdf.inputs["Base Color"].default_value = (*CLAY, 1.0)
    mesh.materials.clear()
    mesh.materials.append(mat)


def bounding_sphere(objects) -> tuple[Vector, float]:
    """Centre of the world-space bounding box of all vertices and the radius of the sphere around it."""
    points = []
    for obj in objects:
        co = np.empty(len(obj.data.vertices) * 3, dtype=np.float64)
        obj.data.vertices.foreach_get("co", co)
        co = co.reshape(-1, 3)
        m = np.array(obj.matrix_world)
        points.append(co @ m[:3, :3].T + m[:3, 3])
    pts = np.concatenate(points)
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    radius = float(np.linalg.norm(pts - centre, axis=1).max())
    return Vector(centre), max(radius, 1e-6)


def add_lights(centre: Vector, radius: float) -> None:
    """A soft key from the front left above and a weaker fill from the right, scaled to the object."""
    for name, direction, power in (("Key", (-1.0, -1.2, 1.3), 110.0), ("Fill", (1.4, -0.8, 0.3), 35.0)):
        light = bpy.data.lights.new(name, "AREA")
        light.size = 1.5 * radius
        light.energy = power * radius ** 2
        obj = bpy.data.objects.new(name, light)
        offset = Vector(direction).normalized() * 4.0 * radius
        obj.location = centre + offset
        obj.rotation_euler = (-offset).to_track_quat("-Z", "Y").to_euler()
        bpy.context.scene.collection.objects.link(obj)


def place_camera(camera: bpy.types.Object, centre: Vector, radius: float, azimuth: float, elevation: float) -> None:
    """Put the camera where the whole bounding sphere fits in the frame with a small margin."""
    half_fov = math.atan(SENSOR_MM / 2 / LENS_MM)
    distance = 1.08 * radius / math.sin(half_fov)
    az, el = math.radians(azimuth), math.radians(elevation)
    offset = Vector((math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el))) * distance
    camera.location = centre + offset
    camera.rotation_euler = (-offset).to_track_quat("-Z", "Y").to_euler()
    camera.data.clip_start = max(1e-3, distance - 2 * radius)
    camera.data.clip_end = distance + 2 * radius


def over_background(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    grey = np.array(BACKGROUND, dtype=np.float32) * 255.0
    return np.round(rgba[:, :, :3] * alpha + grey * (1.0 - alpha)).astype(np.uint8)


def render_preview(mesh_path: str, output: str, size: int = 512, samples: int = 12) -> str:
    scene = reset_scene(size, samples)
    objects = import_mesh(os.path.abspath(mesh_path))
    for obj in objects:
        ensure_material(obj)
    centre, radius = bounding_sphere(objects)
    add_lights(centre, radius)
    cam_data = bpy.data.cameras.new("Camera")
    cam_data.lens, cam_data.sensor_width = LENS_MM, SENSOR_MM
    camera = bpy.data.objects.new("Camera", cam_data)
    scene.collection.objects.link(camera)
    scene.camera = camera

    panels = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (azimuth, elevation) in enumerate(VIEWS):
            place_camera(camera, centre, radius, azimuth, elevation)
            scene.render.filepath = os.path.join(tmp, f"view{i}.png")
            bpy.ops.render.render(write_still=True)
            panels.append(over_background(np.asarray(Image.open(scene.render.filepath).convert("RGBA"))))
    sheet = np.concatenate(panels, axis=1)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    Image.fromarray(sheet, "RGB").save(output, optimize=True)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mesh", help="a .glb, .gltf, .obj or .ply file")
    parser.add_argument("-o", "--output", required=True, help="the PNG to write")
    parser.add_argument("--size", type=int, default=512, help="height of the picture, and width of each view")
    parser.add_argument("--samples", type=int, default=12, help="Cycles samples per pixel")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.mesh):
        parser.error(f"no such file: {args.mesh}")
    print(render_preview(args.mesh, args.output, args.size, args.samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
