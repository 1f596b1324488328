"""The texture Blender puts on the mesh is the picture the engine reconstructed from (issue 16, item 5), and
float pictures by path go the way image datablocks go (item 6)."""
import sys

import numpy as np
from PIL import Image

from blender_session import MODULE

FAST = ["--vertices", "400", "--refine-steps", "10", "--model", "none"]


def _object_picture(width=160, height=100) -> np.ndarray:
    """An ellipse on white, red on its left half and blue on its right: a turn or a mirror shows."""
    yy, xx = np.mgrid[0:height, 0:width]
    inside = ((xx - width / 2) / (0.4 * width)) ** 2 + ((yy - height / 2) / (0.4 * height)) ** 2 <= 1
    rgb = np.full((height, width, 3), 255, np.uint8)
    rgb[inside & (xx < width / 2)] = (220, 30, 30)
    rgb[inside & (xx >= width / 2)] = (30, 30, 220)
    return rgb


def _texture(glb):
    import trimesh
    mesh = trimesh.load(glb, force="mesh", process=False)
    material = getattr(mesh.visual, "material", None)
    image = getattr(material, "baseColorTexture", None) if material is not None else None
    return mesh, image


def test_an_exif_rotated_jpeg_is_textured_upright(addon, clean_data, tmp_path):
    picture = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6   # "rotate 90° clockwise to view": what a phone held upright writes
    Image.fromarray(_object_picture()).save(picture, quality=95, exif=exif)
    out = tmp_path / "out"
    assert sys.modules[MODULE].cli.main([str(picture), "--output-dir", str(out), *FAST]) == 0
    mesh, texture = _texture(out / "phone.glb")
    assert texture is not None
    assert texture.size == (100, 160), "the texture must be the upright picture the engine used"
    extent_x, extent_y, _ = mesh.extents
    assert extent_y > extent_x


def test_an_animated_gif_keeps_its_texture_and_says_which_frame(addon, clean_data, tmp_path, capsys):
    first = Image.fromarray(_object_picture())
    others = [Image.new("RGB", first.size, colour) for colour in ((255, 255, 255), (200, 200, 200))]
    picture = tmp_path / "anim.gif"
    first.save(picture, save_all=True, append_images=others, duration=100, loop=0)
    out = tmp_path / "out"
    assert sys.modules[MODULE].cli.main([str(picture), "--output-dir", str(out), *FAST]) == 0
    _mesh, texture = _texture(out / "anim.glb")
    assert texture is not None and texture.size == (160, 100)
    assert "3 frames; the first was used" in capsys.readouterr().err


def test_an_exr_by_path_is_read_as_a_float_picture(addon, clean_data, tmp_path):
    import bpy
    rgb = _object_picture().astype(np.float32) / 255.0
    height, width = rgb.shape[:2]
    image = bpy.data.images.new("render", width, height, alpha=True, float_buffer=True)
    pixels = np.concatenate([rgb[::-1] ** 2.2, np.ones((height, width, 1), np.float32)], axis=2)
    image.pixels.foreach_set(pixels.ravel())
    image.filepath_raw = str(tmp_path / "render.exr")
    image.file_format = 'OPEN_EXR'
    image.save()
    bpy.data.images.remove(image)
    out = tmp_path / "out"
    assert sys.modules[MODULE].cli.main([str(tmp_path / "render.exr"), "--output-dir", str(out), *FAST]) == 0
    mesh, _ = _texture(out / "render.glb")
    extent_x, extent_y, _ = mesh.extents
    assert abs(extent_x / extent_y - 1.6) < 0.2


def test_the_operator_textures_an_exif_rotated_jpeg_upright_also_on_redo(addon, clean_data, tmp_path):
    bpy = clean_data
    picture = tmp_path / "phone_op.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_object_picture()).save(picture, quality=95, exif=exif)
    for size in (1.0, 2.0):   # the second run is the redo panel's: the cached answer must keep its picture
        assert bpy.ops.mesh_from_image.reconstruct(filepath=str(picture), size=size, template_vertices=400,
                                                   refine_steps=10) == {'FINISHED'}
        obj = bpy.context.active_object
        images = [n.image for n in obj.active_material.node_tree.nodes if n.type == 'TEX_IMAGE' and n.image]
        assert images and tuple(images[0].size) == (100, 160), [tuple(i.size) for i in images]
        assert obj.dimensions.y > obj.dimensions.x or obj.dimensions.z > obj.dimensions.x
