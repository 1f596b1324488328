"""Before/after pictures of the artist options for README.md, rendered by the extension itself.

    .venv/bin/python tools/render_artist_options.py --output-dir docs [--size 320] [--samples 12]

Runs the real extension (enabled from this source folder in an isolated user folder) inside the bpy
module, makes each object with `mesh_from_image.reconstruct` exactly as an artist would, and renders it
with Cycles on the CPU in Blender's own materials (so the grown-in side texture shows as Blender shows
it, not as some exporter simplifies it). Writes:

- artist_texture.png   the toy figure from behind: plain front projection | Fill Sides
- artist_topology.png  wireframes: the reconstruction | Faces 800 | Quads 600 | Quads 600 + Subdivision 1
- artist_placement.png side view on a ground plane: centred at the frame's origin | Stand Upright

About a minute (53-58 s measured) on the two busy cores of this machine at the default size.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile

_USER = tempfile.mkdtemp(prefix="mesh_from_image_render_user_")
os.environ["BLENDER_USER_RESOURCES"] = _USER   # before bpy is imported: keep the real user folder out

import bpy  # noqa: E402
import numpy as np  # noqa: E402
from mathutils import Vector  # noqa: E402
from PIL import Image  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import render_preview as preview  # noqa: E402
from blender_dev import DEV_MODULE as MODULE, enable_from_source  # noqa: E402

WIRE = (0.05, 0.05, 0.05)


def clear_objects() -> None:
    for obj in list(bpy.data.objects):
        if obj.type != 'CAMERA':
            bpy.data.objects.remove(obj)


def make(picture: str, **options) -> list:
    before = set(bpy.data.objects)
    bpy.context.scene.cursor.location = (0, 0, 0)
    result = bpy.ops.mesh_from_image.reconstruct(filepath=os.path.abspath(picture), **options)
    if result != {'FINISHED'}:
        raise SystemExit(f"reconstruction failed: {result}")
    return [o for o in set(bpy.data.objects) - before if o.type == 'MESH']


def wireframe(obj) -> None:
    """Clay with dark wires along the mesh's real polygons (a Wireframe modifier that keeps the surface;
    Cycles' Wireframe shader node would show the triangles it renders, hiding the quads)."""
    clay = bpy.data.materials.new("clay")
    clay.use_nodes = True
    clay.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*preview.CLAY, 1.0)
    wire = bpy.data.materials.new("wire")
    wire.use_nodes = True
    wire.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*WIRE, 1.0)
    obj.data.materials.clear()
    obj.data.materials.append(clay)
    obj.data.materials.append(wire)
    modifier = obj.modifiers.new("Wires", 'WIREFRAME')
    modifier.thickness = 0.004 * max(obj.dimensions)
    modifier.use_replace = False
    modifier.use_even_offset = True
    modifier.material_offset = 1


def ground_plane(z: float, radius: float) -> None:
    bpy.ops.mesh.primitive_plane_add(size=6 * radius, location=(0, 0, z))
    plane = bpy.context.active_object
    material = bpy.data.materials.new("ground")
    material.use_nodes = True
    material.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.35, 0.45, 0.35, 1.0)
    plane.data.materials.append(material)


def render(objects, azimuth: float, elevation: float, camera, frame=None) -> np.ndarray:
    """One view; `frame` = (centre, radius) to use instead of the objects' own (same framing for a pair)."""
    scene = bpy.context.scene
    centre, radius = frame or preview.bounding_sphere(objects)
    for light in [o for o in bpy.data.objects if o.type == 'LIGHT']:
        bpy.data.objects.remove(light)
    preview.add_lights(centre, radius)
    preview.place_camera(camera, centre, radius, azimuth, elevation)
    camera.data.clip_end = 100 * radius
    with tempfile.TemporaryDirectory() as tmp:
        scene.render.filepath = os.path.join(tmp, "view.png")
        bpy.ops.render.render(write_still=True)
        return preview.over_background(np.asarray(Image.open(scene.render.filepath).convert("RGBA")))


def labelled_row(tiles, labels) -> Image.Image:
    from PIL import ImageDraw
    height = tiles[0].shape[0]
    gap = 8
    out = Image.new("RGB", (sum(t.shape[1] for t in tiles) + gap * (len(tiles) - 1), height + 26), (255, 255, 255))
    draw = ImageDraw.Draw(out)
    x = 0
    for tile, label in zip(tiles, labels):
        out.paste(Image.fromarray(tile, "RGB"), (x, 26))
        draw.text((x + 6, 6), label, fill=(0, 0, 0))
        x += tile.shape[1] + gap
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", default=os.path.join(REPO, "docs"))
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--samples", type=int, default=12)
    args = parser.parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)

    scene = preview.reset_scene(args.size, args.samples)
    enable_from_source(REPO)
    cam_data = bpy.data.cameras.new("Camera")
    cam_data.lens, cam_data.sensor_width = preview.LENS_MM, preview.SENSOR_MM
    camera = bpy.data.objects.new("Camera", cam_data)
    scene.collection.objects.link(camera)
    scene.camera = camera
    figure = os.path.join(REPO, "examples", "toy_figure_white.jpg")
    mug = os.path.join(REPO, "examples", "mug.png")

    # Texture: the same figure seen from behind and the side (azimuth 150), before and after Fill Sides.
    tiles = []
    for fill in (False, True):
        clear_objects()
        objects = make(figure, fill_sides=fill, upright=True)
        tiles += [render(objects, 150.0, 15.0, camera), render(objects, 95.0, 5.0, camera)]
    labelled_row(tiles, ["front projection, back", "front projection, side", "Fill Sides, back",
                         "Fill Sides, side"]).save(os.path.join(args.output_dir, "artist_texture.png"), optimize=True)

    # Topology: wireframes from the 3/4 view.
    tiles, labels = [], []
    for label, options in (("reconstruction", {}), ("Faces 800", dict(target_faces=800)),
                           ("Quads 600", dict(quads=True, target_faces=600)),
                           ("Quads 600 + Subdivision 1", dict(quads=True, target_faces=600, subdivision=1))):
        clear_objects()
        objects = make(mug, upright=True, **options)
        for obj in objects:
            wireframe(obj)
        tiles.append(render(objects, 40.0, 22.0, camera))
        quads = sum(sum(1 for p in o.data.polygons if len(p.vertices) == 4) for o in objects)
        faces = sum(len(o.data.polygons) for o in objects)
        labels.append(f"{label}: {faces} faces" + (f" ({quads} quads)" if quads else ""))
    labelled_row(tiles, labels).save(os.path.join(args.output_dir, "artist_topology.png"), optimize=True)

    # Placement: from the side at eye level, on a ground plane through the 3D cursor (z = 0).
    tiles = []
    frame = (Vector((0, 0, 0.25)), 0.9)
    for upright in (False, True):
        clear_objects()
        objects = make(mug, upright=upright)
        ground_plane(0.0, 0.6)
        tiles.append(render(objects, 60.0, 10.0, camera, frame))
    labelled_row(tiles, ["centred on the cursor", "Stand Upright"]).save(
        os.path.join(args.output_dir, "artist_placement.png"), optimize=True)
    import addon_utils
    addon_utils.disable(MODULE, default_set=True)   # stops the worker process
    print("wrote artist_texture.png, artist_topology.png, artist_placement.png to", args.output_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
