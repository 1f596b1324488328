"""Render the example input pictures that ship in examples/ with Blender (bpy module, Cycles on the CPU).

    .venv/bin/python tools/make_examples.py [--out examples] [--samples 48] [--size 512]

Writes
- examples/mug.png: a glazed ceramic mug with a handle, 3/4 front view from slightly above, RGBA with real
  transparency around the object;
- examples/toy_figure_white.jpg: a toy animal built from primitives on a plain white background, no alpha;
- examples/toy_car_backdrop.jpg: a toy car on a plain pale blue-grey backdrop, no alpha (the mask must come
  from the background colour, and it is not white).

Everything is built from code with fixed parameters and a fixed Cycles seed, so a re-run gives the same
pictures on the same machine (measured: identical up to a few pixels off by one grey level). About 7-25 s
per picture on 2 CPU cores, depending on load.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile

import bpy
import bmesh
import numpy as np
from mathutils import Vector
from PIL import Image

from blender_dev import add_world, denoiser_available

EXAMPLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


# ---- scene plumbing -----------------------------------------------------------------------------------------
def reset_scene(size: int, samples: int) -> bpy.types.Scene:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_adaptive_sampling = True
    scene.cycles.seed = 0                      # fixed noise pattern: the same picture on every run
    scene.cycles.max_bounces = 6
    scene.cycles.use_denoising = denoiser_available()
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = True       # RGBA out; the white background is added afterwards
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    scene.render.image_settings.color_depth = "8"
    scene.view_settings.view_transform = "Standard"   # keeps the glaze colours saturated, white stays white

    add_world(scene, (0.8, 0.82, 0.85), 0.35)   # soft, slightly cool sky fill
    return scene


def material(name: str, colour, roughness: float = 0.35, coat: float = 0.0) -> bpy.types.Material:
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*colour, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Coat Weight"].default_value = coat
    return mat


def add_light(name: str, location, power: float, size: float, target=(0.0, 0.0, 0.4)) -> None:
    light = bpy.data.lights.new(name, "AREA")
    light.energy = power
    light.size = size
    obj = bpy.data.objects.new(name, light)
    obj.location = location
    obj.rotation_euler = (Vector(target) - Vector(location)).to_track_quat("-Z", "Y").to_euler()
    bpy.context.scene.collection.objects.link(obj)


def add_camera(azimuth_deg: float, elevation_deg: float, distance: float, target, lens: float = 70.0) -> None:
    """A camera on a sphere around `target`: azimuth 0 looks from the front (-Y, Blender's numpad 1), positive
    azimuth swings toward +X; elevation lifts it above the target."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    offset = Vector((math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el))) * distance
    cam = bpy.data.cameras.new("Camera")
    cam.lens = lens
    obj = bpy.data.objects.new("Camera", cam)
    obj.location = Vector(target) + offset
    obj.rotation_euler = (-offset).to_track_quat("-Z", "Y").to_euler()
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.scene.camera = obj


def new_object(name: str, bm: bmesh.types.BMesh, materials, smooth: bool = True) -> bpy.types.Object:
    mesh = bpy.data.meshes.new(name)
    bm.to_mesh(mesh)
    bm.free()
    for mat in materials:
        mesh.materials.append(mat)
    if smooth:
        mesh.shade_smooth()
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def primitive(kind: str, name: str, mat, location, scale=(1.0, 1.0, 1.0), rotation=(0.0, 0.0, 0.0),
              **size) -> bpy.types.Object:
    """A smooth-shaded sphere, cylinder, cone or torus made with bmesh (no operators, no selection state)."""
    bm = bmesh.new()
    if kind == "sphere":
        bmesh.ops.create_uvsphere(bm, u_segments=48, v_segments=24, radius=size.get("radius", 1.0))
    elif kind == "cylinder":
        bmesh.ops.create_cone(bm, cap_ends=True, segments=40, radius1=size["radius"], radius2=size["radius"],
                              depth=size["depth"])
    elif kind == "cone":
        bmesh.ops.create_cone(bm, cap_ends=True, segments=40, radius1=size["radius1"], radius2=size["radius2"],
                              depth=size["depth"])
    elif kind == "torus":
        _torus(bm, size["major"], size["minor"])
    else:
        raise ValueError(kind)
    obj = new_object(name, bm, [mat])
    obj.location, obj.scale, obj.rotation_euler = location, scale, rotation
    return obj


def _torus(bm: bmesh.types.BMesh, major: float, minor: float, rings: int = 48, sides: int = 20) -> None:
    grid = []
    for i in range(rings):
        u = 2 * math.pi * i / rings
        row = []
        for j in range(sides):
            v = 2 * math.pi * j / sides
            r = major + minor * math.cos(v)
            row.append(bm.verts.new((r * math.cos(u), r * math.sin(u), minor * math.sin(v))))
        grid.append(row)
    for i in range(rings):
        for j in range(sides):
            a, b = grid[i][j], grid[(i + 1) % rings][j]
            c, d = grid[(i + 1) % rings][(j + 1) % sides], grid[i][(j + 1) % sides]
            bm.faces.new((a, b, c, d))
    bmesh.ops.recalc_face_normals(bm, faces=bm.faces)


def add_subdivision(obj: bpy.types.Object, levels: int = 2) -> None:
    mod = obj.modifiers.new("Subdivision", "SUBSURF")
    mod.levels = mod.render_levels = levels


def render_rgba(path: str) -> np.ndarray:
    bpy.context.scene.render.filepath = path
    bpy.ops.render.render(write_still=True)
    return np.asarray(Image.open(path).convert("RGBA"))


# ---- the mug --------------------------------------------------------------------------------------------------
# Lathe profile (radius, height) from the centre of the base, up the outside, over the rim, down the inside.
MUG_PROFILE = [(0.0, 0.0), (0.36, 0.0), (0.40, 0.03), (0.41, 0.5), (0.42, 0.88), (0.41, 0.9),
               (0.38, 0.9), (0.37, 0.88), (0.36, 0.2), (0.33, 0.1), (0.0, 0.1)]
MUG_GLAZE = (0.05, 0.32, 0.48)     # deep teal glaze outside
MUG_INSIDE = (0.93, 0.89, 0.80)    # cream glaze inside


def build_mug() -> None:
    glaze = material("Glaze", MUG_GLAZE, roughness=0.18, coat=0.6)
    inside = material("Inside", MUG_INSIDE, roughness=0.2, coat=0.4)

    bm = bmesh.new()
    profile = [bm.verts.new((r, 0.0, z)) for r, z in MUG_PROFILE]
    edges = [bm.edges.new((a, b)) for a, b in zip(profile, profile[1:])]
    bmesh.ops.spin(bm, geom=profile + edges, cent=(0, 0, 0), axis=(0, 0, 1), angle=2 * math.pi, steps=64,
                   use_merge=True, use_duplicate=False)
    bmesh.ops.remove_doubles(bm, verts=bm.verts, dist=1e-5)
    bmesh.ops.recalc_face_normals(bm, faces=bm.faces)
    for face in bm.faces:
        centre = face.calc_center_median()
        radial = Vector((centre.x, centre.y, 0.0))
        faces_axis = radial.length > 1e-6 and face.normal.dot(radial) < 0   # inner wall
        inner_floor = centre.z > 0.05 and face.normal.z > 0.5 and radial.length < 0.36
        face.material_index = 1 if (faces_axis or inner_floor) else 0
    body = new_object("Mug", bm, [glaze, inside])
    add_subdivision(body, 2)

    # The handle: an upright, slightly oval ring whose inner half disappears into the wall.
    handle = primitive("torus", "Handle", glaze, location=(0.44, 0.0, 0.47), scale=(1.0, 1.0, 1.25),
                       rotation=(math.radians(90), 0.0, 0.0), major=0.22, minor=0.055)
    handle.data.materials[0] = glaze

    add_light("Key", (-2.2, -2.6, 2.8), power=300, size=2.0)
    add_light("Fill", (2.8, -1.6, 1.2), power=110, size=3.0)
    add_light("Rim", (0.5, 3.0, 2.5), power=150, size=1.5)
    add_camera(azimuth_deg=28, elevation_deg=18, distance=3.5, target=(0.08, 0.0, 0.43))


# ---- the toy figure -------------------------------------------------------------------------------------------
def build_toy() -> None:
    fur = material("Fur", (0.92, 0.55, 0.12), roughness=0.45)
    cream = material("Cream", (0.88, 0.74, 0.5), roughness=0.5)   # not white: it must stand off the background
    brown = material("Brown", (0.35, 0.18, 0.08), roughness=0.45)
    black = material("Eye", (0.01, 0.01, 0.01), roughness=0.1)

    # A four-legged toy (fox/dog-like) facing -X, seen from its left front.
    primitive("sphere", "Body", fur, location=(0.0, 0.0, 0.62), scale=(0.55, 0.3, 0.3), radius=1.0)
    primitive("sphere", "Belly", cream, location=(-0.05, -0.12, 0.55), scale=(0.38, 0.2, 0.2), radius=1.0)
    primitive("sphere", "Head", fur, location=(-0.55, 0.0, 0.98), radius=0.27)
    primitive("sphere", "Snout", cream, location=(-0.8, 0.0, 0.92), scale=(1.2, 0.9, 0.8), radius=0.11)
    primitive("sphere", "Nose", black, location=(-0.93, 0.0, 0.95), radius=0.035)
    for side in (-1, 1):
        primitive("sphere", f"Eye{side}", black, location=(-0.74, 0.12 * side, 1.06), radius=0.035)
        primitive("cone", f"Ear{side}", brown, location=(-0.52, 0.14 * side, 1.25),
                  rotation=(math.radians(-18 * side), 0.0, 0.0), radius1=0.09, radius2=0.0, depth=0.22)
        for front in (-1, 1):
            primitive("cylinder", f"Leg{side}{front}", brown, location=(0.32 * front, 0.16 * side, 0.22),
                      radius=0.075, depth=0.44)
            primitive("sphere", f"Paw{side}{front}", cream, location=(0.32 * front - 0.03, 0.16 * side, 0.03),
                      scale=(1.3, 1.0, 0.5), radius=0.085)
    primitive("cone", "Tail", fur, location=(0.68, 0.0, 0.82), rotation=(0.0, math.radians(55), 0.0),
              radius1=0.1, radius2=0.02, depth=0.5)

    add_light("Key", (-2.5, -3.0, 3.0), power=320, size=2.5, target=(0, 0, 0.6))
    add_light("Fill", (3.0, -2.0, 1.5), power=120, size=3.0, target=(0, 0, 0.6))
    add_camera(azimuth_deg=-32, elevation_deg=14, distance=4.7, target=(-0.1, 0.0, 0.62))


# ---- the toy car ----------------------------------------------------------------------------------------------
CAR_BACKDROP = (196, 214, 226)    # a plain pale blue-grey studio backdrop, sRGB


def rounded_box(name: str, mat, location, size, bevel: float) -> bpy.types.Object:
    bm = bmesh.new()
    bmesh.ops.create_cube(bm, size=1.0)
    bmesh.ops.scale(bm, vec=size, verts=bm.verts)
    obj = new_object(name, bm, [mat], smooth=False)
    obj.location = location
    mod = obj.modifiers.new("Bevel", "BEVEL")
    mod.width, mod.segments = bevel, 4
    obj.data.shade_smooth()
    return obj


def build_car() -> None:
    paint = material("Paint", (0.55, 0.04, 0.03), roughness=0.25, coat=0.8)
    glass = material("Glass", (0.02, 0.03, 0.05), roughness=0.08)
    rubber = material("Rubber", (0.02, 0.02, 0.02), roughness=0.7)
    chrome = material("Hub", (0.7, 0.7, 0.72), roughness=0.2)
    lamp = material("Lamp", (0.95, 0.9, 0.6), roughness=0.1)

    # A chunky toy car, nose toward -X, standing on its wheels at z = 0.
    rounded_box("Body", paint, location=(0.0, 0.0, 0.33), size=(1.6, 0.72, 0.32), bevel=0.1)
    rounded_box("Cabin", glass, location=(0.12, 0.0, 0.6), size=(0.8, 0.62, 0.3), bevel=0.09)
    rounded_box("Roof", paint, location=(0.12, 0.0, 0.75), size=(0.7, 0.6, 0.06), bevel=0.03)
    for side in (-1, 1):
        for axle in (-0.5, 0.5):
            primitive("cylinder", f"Tyre{side}{axle}", rubber, location=(axle, 0.34 * side, 0.19),
                      rotation=(math.radians(90), 0.0, 0.0), radius=0.19, depth=0.16)
            primitive("cylinder", f"Hub{side}{axle}", chrome, location=(axle, 0.42 * side, 0.19),
                      rotation=(math.radians(90), 0.0, 0.0), radius=0.09, depth=0.02)
        primitive("sphere", f"Headlight{side}", lamp, location=(-0.79, 0.22 * side, 0.38),
                  scale=(0.5, 1.0, 1.0), radius=0.07)

    add_light("Key", (-2.5, -3.0, 3.0), power=320, size=2.5, target=(0, 0, 0.4))
    add_light("Fill", (3.0, -2.0, 1.5), power=120, size=3.0, target=(0, 0, 0.4))
    add_camera(azimuth_deg=-38, elevation_deg=20, distance=4.4, target=(0.0, 0.0, 0.4))


def over_colour(rgba: np.ndarray, colour=(255, 255, 255)) -> np.ndarray:
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    rgb = rgba[:, :, :3].astype(np.float32) * alpha + np.array(colour, np.float32) * (1.0 - alpha)
    return np.round(rgb).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=EXAMPLES_DIR, help="folder for the pictures (default: examples/)")
    parser.add_argument("--samples", type=int, default=48, help="Cycles samples per pixel")
    parser.add_argument("--size", type=int, default=512, help="picture width and height in pixels")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        reset_scene(args.size, args.samples)
        build_mug()
        mug = render_rgba(os.path.join(tmp, "mug.png"))
        Image.fromarray(mug, "RGBA").save(os.path.join(args.out, "mug.png"), optimize=True)

        reset_scene(args.size, args.samples)
        build_toy()
        toy = render_rgba(os.path.join(tmp, "toy.png"))
        Image.fromarray(over_colour(toy), "RGB").save(os.path.join(args.out, "toy_figure_white.jpg"), quality=92)

        reset_scene(args.size, args.samples)
        build_car()
        car = render_rgba(os.path.join(tmp, "car.png"))
        Image.fromarray(over_colour(car, CAR_BACKDROP), "RGB").save(os.path.join(args.out, "toy_car_backdrop.jpg"),
                                                                   quality=92)

    for name in ("mug.png", "toy_figure_white.jpg", "toy_car_backdrop.jpg"):
        path = os.path.join(args.out, name)
        print(f"{path}: {os.path.getsize(path) / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
