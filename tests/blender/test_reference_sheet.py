"""Reference sheets in Blender: image empties facing the front, right and top views, From Reference Images,
Build from Sheet (the atlas on one UV map, Bake Texture), cancelling, and the headless
`-c mesh_from_image --front ... -o OUT.glb|.obj|.fbx`."""
import math
import os
import sys
import time
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from blender_session import MODULE, data_snapshot, deselect_all, load_surface

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from sheet_pictures import box, view_picture  # noqa: E402

# A box 0.6 wide, 0.8 tall, 0.4 deep: each view framed on its own, at its own pixel size.
SOLID = box(0.6, 0.8, 0.4)
FILL = 0.85
# view -> (rotation in degrees, location, display size, picture pixels)
EMPTIES = {
    "front": ((90, 0, 0), (1.0, 0.5, 2.0), 2.0, 256),
    "right": ((90, 0, 90), (3.0, -0.3, 2.0), 2.0, 200),
    "top": ((0, 0, 0), (1.0, -0.3, -1.0), 2.0, 180),
}
FRONT_SCALE = 1.5


@pytest.fixture
def pictures(tmp_path):
    paths = {}
    for view, (_, _, _, pixels) in EMPTIES.items():
        paths[view] = tmp_path / f"crate_{view}.png"
        Image.fromarray(view_picture(SOLID, view, size=pixels, fill=FILL), "RGBA").save(paths[view])
    return paths


@pytest.fixture
def sheet_slots(clean_data):
    bpy = clean_data
    yield bpy.context.scene.mesh_from_image_sheet
    sheet = bpy.context.scene.mesh_from_image_sheet
    for view in ("front", "back", "left", "right", "top", "bottom"):
        setattr(sheet, view, None)
        setattr(sheet, f"{view}_empty", None)


def _add_empties(bpy, pictures, views=EMPTIES):
    made = {}
    for view in views:
        rotation, location, display, _ = EMPTIES[view]
        empty = bpy.data.objects.new(f"ref {view}", None)
        empty.empty_display_type = 'IMAGE'
        empty.empty_display_size = display
        empty.data = bpy.data.images.load(str(pictures[view]))
        empty.rotation_euler = [math.radians(a) for a in rotation]
        empty.location = location
        if view == "front":
            empty.scale = (FRONT_SCALE,) * 3
        bpy.context.scene.collection.objects.link(empty)
        made[view] = empty
    bpy.context.view_layer.update()
    return made


def _world_points(obj):
    mesh = obj.data
    co = np.empty(len(mesh.vertices) * 3, np.float64)
    mesh.vertices.foreach_get("co", co)
    m = np.array(obj.matrix_world)
    co = co.reshape(-1, 3)
    return co @ m[:3, :3].T + m[:3, 3]


def _assert_closed(obj):
    mesh = obj.data
    loop_edges = np.empty(len(mesh.loops), np.int32)
    mesh.loops.foreach_get("edge_index", loop_edges)
    assert len(mesh.polygons) > 100
    assert (np.bincount(loop_edges, minlength=len(mesh.edges)) == 2).all()


def test_views_are_read_from_the_empties_rotation(clean_data, pictures):
    bpy = clean_data
    references = import_module(f"{MODULE}.scene.references")
    made = _add_empties(bpy, pictures)
    assert {references.view_of(e): v for v, e in made.items()} == {v: v for v in made}
    # Turned in its plane (a quarter turn about the view axis), the front picture is no longer a front view.
    made["front"].rotation_euler = (math.radians(90), math.radians(90), 0)
    bpy.context.view_layer.update()
    assert references.view_of(made["front"]) is None
    made["front"].rotation_euler = (math.radians(90), 0, math.radians(180))    # Add › Image in back view
    bpy.context.view_layer.update()
    assert references.view_of(made["front"]) == "back"


def test_from_reference_images_and_build_line_up_with_the_empties(sheet_slots, pictures):
    bpy = sheet_slots.id_data and __import__("bpy")
    sheet = sheet_slots
    made = _add_empties(bpy, pictures)
    deselect_all(bpy)
    assert bpy.ops.mesh_from_image.sheet_from_references() == {'FINISHED'}
    for view, empty in made.items():
        assert getattr(sheet, view) == empty.data and getattr(sheet, f"{view}_empty") == empty
    assert sheet.back is None and sheet.left is None

    assert bpy.ops.mesh_from_image.sheet(template_vertices=800) == {'FINISHED'}
    obj = bpy.context.active_object
    assert obj.type == 'MESH' and obj.name.startswith("crate_front")
    _assert_closed(obj)
    co = _world_points(obj)
    low, high = co.min(axis=0), co.max(axis=0)
    # The front empty shows its 256-px picture 2.0 * 1.5 = 3 m across; the box's height fills 85 % of it.
    height = FILL * EMPTIES["front"][2] * FRONT_SCALE
    assert high[2] - low[2] == pytest.approx(height, rel=0.03)
    assert high[0] - low[0] == pytest.approx(height * 0.6 / 0.8, rel=0.03)
    assert high[1] - low[1] == pytest.approx(height * 0.4 / 0.8, rel=0.04)     # depth from the side view
    # Centred where the empties show it: x and z on the front picture's centre, y on the side's and top's.
    front_loc, right_loc = EMPTIES["front"][1], EMPTIES["right"][1]
    centre = (low + high) / 2
    assert centre[0] == pytest.approx(front_loc[0], abs=0.03 * height)
    assert centre[2] == pytest.approx(front_loc[2], abs=0.03 * height)
    assert centre[1] == pytest.approx(right_loc[1], abs=0.03 * height)
    # Standing: no rotation, the front view shows the front.
    assert tuple(obj.rotation_euler) == (0.0, 0.0, 0.0)
    # The texture: one UV map into the packed atlas, which the material shows; the same colours per vertex
    # in a colour attribute (Solid mode, PLY).
    image = _assert_atlas_material(obj)
    assert image.name == f"{obj.name} texture" and image.packed_file is not None
    assert np.abs(_texture_at_uvs(obj, image) * 255 - (200, 120, 60)).max(axis=1).mean() < 10
    attribute = obj.data.color_attributes.active_color
    assert attribute is not None and attribute.domain == 'POINT'
    rgba = np.empty(len(obj.data.vertices) * 4, np.float32)
    attribute.data.foreach_get("color_srgb", rgba)
    assert np.abs(rgba.reshape(-1, 4)[:, :3] * 255 - (200, 120, 60)).max(axis=1).mean() < 10

    # Stand Upright (on by default in Blender): lined up, the mesh stays where the empties put it and only the
    # origin moves, to the bottom centre.
    origin = np.array(obj.location)
    np.testing.assert_allclose(origin, (centre[0], centre[1], low[2]), atol=1e-4)

    # Without lining up: at the 3D cursor, the front silhouette's longer side `size` metres, standing on it
    # (Stand Upright) or centred on it.
    bpy.context.scene.cursor.location = (-2.0, 1.0, 0.5)
    assert bpy.ops.mesh_from_image.sheet(template_vertices=800, align=False, size=2.0) == {'FINISHED'}
    loose = _world_points(bpy.context.active_object)
    assert np.ptp(loose[:, 2]) == pytest.approx(2.0, rel=0.03)
    low, high = loose.min(axis=0), loose.max(axis=0)
    np.testing.assert_allclose(((low + high) / 2)[:2], (-2.0, 1.0), atol=0.05)
    assert low[2] == pytest.approx(0.5, abs=1e-4)
    assert bpy.ops.mesh_from_image.sheet(template_vertices=800, align=False, size=2.0, upright=False) == {'FINISHED'}
    loose = _world_points(bpy.context.active_object)
    np.testing.assert_allclose((loose.min(axis=0) + loose.max(axis=0)) / 2, (-2.0, 1.0, 0.5), atol=0.05)
    bpy.context.scene.cursor.location = (0.0, 0.0, 0.0)


def test_faces_subdivision_and_hard_edges_apply_to_a_sheet(sheet_slots, painted, tmp_path, capsys):
    bpy = sheet_slots.id_data and __import__("bpy")
    for view in ("front", "right", "top"):
        setattr(sheet_slots, view, bpy.data.images.load(str(painted[view])))
    assert bpy.ops.mesh_from_image.sheet(template_vertices=1500, target_faces=600, subdivision=1,
                                         align=False) == {'FINISHED'}
    obj = bpy.context.active_object
    assert abs(len(obj.data.polygons) - 600) <= 60
    _assert_closed(obj)
    image = _assert_atlas_material(obj)   # decimation keeps the atlas UVs: each side still shows its view
    colours = _texture_at_uvs(obj, image) * 255
    assert np.abs(colours - np.array(PAINT["front"])).max(axis=1).min() < 20
    assert [m.type for m in obj.modifiers] == ['SUBSURF'] and obj.modifiers[0].levels == 1
    assert all(p.use_smooth for p in obj.data.polygons)
    assert obj.data.attributes.get("sharp_edge") is not None   # a box keeps its hard edges

    cli = sys.modules[MODULE].cli
    views = ["--front", str(painted["front"]), "--right", str(painted["right"])]
    assert cli.main([*views, "-o", str(tmp_path / "u.glb"), "--upright", "20"]) == 2
    assert "no camera elevation" in capsys.readouterr().err
    assert cli.main([*views, "-o", str(tmp_path / "f.glb"), "--vertices", "1200", "--faces", "500",
                     "--upright"]) == 0, capsys.readouterr().err
    import trimesh
    mesh = trimesh.load(tmp_path / "f.glb", force="mesh", process=True)
    assert abs(len(mesh.faces) - 500) <= 50
    assert mesh.bounds[0][1] == pytest.approx(0.0, abs=1e-3)   # glTF +Y up: standing on the ground
    assert not (tmp_path / "u.glb").exists()


def _face_centre_colours(obj, image):
    """(face normals (object axes, Blender's: -Y toward the front view), the image's colour 0..255 at each
    face's mean UV): a face's corners lie on its chart's border, its centre inside."""
    mesh = obj.data
    normals = np.empty(len(mesh.polygons) * 3, np.float32)
    mesh.polygons.foreach_get("normal", normals)
    counts = np.array([len(p.vertices) for p in mesh.polygons])
    centres = np.add.reduceat(_loop_uvs(mesh), np.r_[0, np.cumsum(counts)[:-1]], axis=0) / counts[:, None]
    pixels = _image_pixels(image)
    height, width = pixels.shape[:2]
    cols = np.clip((centres[:, 0] * width).astype(int), 0, width - 1)
    rows = np.clip((centres[:, 1] * height).astype(int), 0, height - 1)
    return normals.reshape(-1, 3), pixels[rows, cols, :3] * 255


def test_quads_on_a_sheet_near_the_face_target_with_the_views_baked_on(sheet_slots, painted, tmp_path, capsys):
    bpy = __import__("bpy")
    for view in ("front", "right", "top"):
        setattr(sheet_slots, view, bpy.data.images.load(str(painted[view])))
    before = {i.name for i in bpy.data.images}
    assert bpy.ops.mesh_from_image.sheet(template_vertices=1500, target_faces=400, quads=True,
                                         align=False) == {'FINISHED'}
    obj = bpy.context.active_object
    sides = [len(p.vertices) for p in obj.data.polygons]
    assert abs(len(sides) - 400) <= 0.1 * 400
    assert np.mean(np.array(sides) == 4) > 0.9
    _assert_closed(obj)
    image = _assert_atlas_material(obj)
    assert image.name == f"{obj.name} baked" and image.size[0] == image.size[1] >= 256
    made = {i.name for i in bpy.data.images} - before
    assert made == {image.name}, "the atlas the bake replaced is gone, nothing else is left"
    assert not [o for o in bpy.data.objects if "texture source" in o.name]
    # Each side shows its own view's colour, read through the quads' new UVs.
    normals, colours = _face_centre_colours(obj, image)
    for axis, sign, view in ((1, -1, "front"), (0, 1, "right"), (2, 1, "top")):
        side = sign * normals[:, axis] > 0.95
        assert side.sum() > 10, view
        assert np.median(np.abs(colours[side] - PAINT[view]).max(axis=1)) < 12, view

    # Headless: --quads with --bake gives one texture of the bake's size on the quads.
    cli = sys.modules[MODULE].cli
    views = ["--front", str(painted["front"]), "--right", str(painted["right"]), "--top", str(painted["top"])]
    assert cli.main([*views, "-o", str(tmp_path / "q.glb"), "--vertices", "1200", "--faces", "300", "--quads",
                     "--bake", "128"]) == 0, capsys.readouterr().err
    import trimesh
    mesh = trimesh.load(tmp_path / "q.glb", force="mesh", process=False)
    assert mesh.visual.material.baseColorTexture.size == (128, 128)
    assert abs(len(mesh.faces) - 2 * 300) <= 0.1 * 2 * 300       # glTF stores each quad as two triangles
    colours = np.asarray(mesh.visual.to_color().vertex_colors)[:, :3].astype(float)
    _sides_show_their_views(np.asarray(mesh.vertices, np.float64), mesh.faces, colours[mesh.faces].mean(axis=1))


def _loop_uvs(mesh, layer=None):
    uv = np.empty(len(mesh.loops) * 2, np.float32)
    (layer or mesh.uv_layers[0]).data.foreach_get("uv", uv)
    return uv.reshape(-1, 2)


def _image_pixels(image):
    width, height = image.size
    pixels = np.empty(width * height * 4, np.float32)
    image.pixels.foreach_get(pixels)
    return pixels.reshape(height, width, 4)       # rows bottom-up, as Blender stores them


def _texture_at_uvs(obj, image):
    """The image's colour (0..1) at every loop's UV."""
    pixels = _image_pixels(image)
    height, width = pixels.shape[:2]
    uv = _loop_uvs(obj.data)
    cols = np.clip((uv[:, 0] * width).astype(int), 0, width - 1)
    rows = np.clip((uv[:, 1] * height).astype(int), 0, height - 1)
    return pixels[rows, cols, :3]


def _assert_atlas_material(obj):
    """One UV map, read by the material's only image, which feeds the base colour; returns the image."""
    mesh = obj.data
    assert len(mesh.uv_layers) == 1 and len(mesh.materials) == 1
    uv = _loop_uvs(mesh)
    assert uv.min() >= 0 and uv.max() <= 1
    tree = obj.active_material.node_tree
    assert obj.active_material.name.startswith(obj.name)
    textures = [n for n in tree.nodes if n.type == 'TEX_IMAGE']
    assert len(textures) == 1
    assert textures[0].inputs["Vector"].links[0].from_node.uv_map == mesh.uv_layers[0].name
    bsdf = next(n for n in tree.nodes if n.type == 'BSDF_PRINCIPLED')
    assert bsdf.inputs["Base Color"].links[0].from_node == textures[0]
    return textures[0].image


PAINT = {"front": (230, 30, 30), "right": (30, 200, 40), "top": (40, 60, 220)}


@pytest.fixture
def painted(tmp_path):
    """The box's views, each its own colour, so what a face shows says which view it came from."""
    paths = {}
    for view, (_, _, _, pixels) in EMPTIES.items():
        rgba = view_picture(SOLID, view, size=pixels, fill=FILL)
        rgba[rgba[..., 3] > 0, :3] = PAINT[view]
        paths[view] = tmp_path / f"painted_{view}.png"
        Image.fromarray(rgba, "RGBA").save(paths[view])
    return paths


def _sides_show_their_views(vertices, faces, colours):
    """Faces toward +x (glTF/evaluation frame) show the right view, toward +z the front, toward +y the top."""
    n = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    for axis, view in ((0, "right"), (2, "front"), (1, "top")):
        side = n[:, axis] > 0.95
        assert side.sum() > 10, view
        assert np.median(np.abs(colours[side] - PAINT[view]).max(axis=1)) < 12, view


def test_the_sheet_texture_exports_and_bakes(clean_data, painted, tmp_path, capsys):
    import trimesh
    bpy = clean_data
    cli = sys.modules[MODULE].cli
    before = data_snapshot(bpy)
    views = ["--front", str(painted["front"]), "--right", str(painted["right"]), "--top", str(painted["top"])]
    out = tmp_path / "out"
    assert cli.main([*views, "-o", str(out / "crate.glb"), "--vertices", "800"]) == 0, capsys.readouterr().err
    mesh = trimesh.load(out / "crate.glb", force="mesh", process=False)
    assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
    assert mesh.visual.material.baseColorTexture is not None
    colours = np.asarray(mesh.visual.to_color().vertex_colors)[:, :3].astype(float)
    corner_colours = colours[mesh.faces].mean(axis=1)
    _sides_show_their_views(np.asarray(mesh.vertices, np.float64), mesh.faces, corner_colours)
    assert load_surface(out / "crate.glb").is_watertight

    # OBJ: the atlas beside the .mtl under the output's name; FBX: embedded.
    assert cli.main([*views, "-o", str(out / "crate.obj"), "--vertices", "800"]) == 0, capsys.readouterr().err
    maps = [line.split(None, 1)[1].strip() for line in (out / "crate.mtl").read_text().splitlines()
            if line.startswith("map_Kd")]
    assert maps and os.path.basename(maps[0]) == "crate_texture.png" and (out / "crate_texture.png").exists()
    obj_mesh = trimesh.load(out / "crate.obj", force="mesh", process=False)
    obj_colours = np.asarray(obj_mesh.visual.to_color().vertex_colors)[:, :3].astype(float)
    _sides_show_their_views(np.asarray(obj_mesh.vertices, np.float64), obj_mesh.faces,
                            obj_colours[obj_mesh.faces].mean(axis=1))
    assert cli.main([*views, "-o", str(out / "crate.fbx"), "--vertices", "800"]) == 0, capsys.readouterr().err
    assert b"\x89PNG" in (out / "crate.fbx").read_bytes()

    # --bake: one square texture on an unwrap, still the views' colours.
    assert cli.main([*views, "-o", str(out / "baked.glb"), "--vertices", "800", "--bake", "128"]) == 0, \
        capsys.readouterr().err
    baked = trimesh.load(out / "baked.glb", force="mesh", process=False)
    assert baked.visual.material.baseColorTexture.size == (128, 128)
    baked_colours = np.asarray(baked.visual.to_color().vertex_colors)[:, :3].astype(float)
    _sides_show_their_views(np.asarray(baked.vertices, np.float64), baked.faces,
                            baked_colours[baked.faces].mean(axis=1))
    assert cli.main([*views, "-o", str(out / "x.glb"), "--bake", "8"]) == 2
    assert data_snapshot(bpy) == before


def test_bake_texture_on_a_sheet_object_leaves_one_image_and_one_uv_map(sheet_slots, painted):
    bpy = __import__("bpy")
    sheet = sheet_slots
    for view, path in painted.items():
        setattr(sheet, view, bpy.data.images.load(str(path)))
    before = data_snapshot(bpy)
    bake = import_module(f"{MODULE}.scene.bake")
    # A bake that fails half-way (after its unwrap and image) leaves nothing behind.
    real = bake._bake_emission

    def broken(*args, **kwargs):
        raise bake.BakeError("Cycles could not bake the texture.")
    bake._bake_emission = broken
    try:
        with pytest.raises(RuntimeError, match="could not bake"):
            bpy.ops.mesh_from_image.sheet(template_vertices=800, bake=True, bake_size=64)
    finally:
        bake._bake_emission = real
    assert data_snapshot(bpy) == before

    assert bpy.ops.mesh_from_image.sheet(template_vertices=800, bake=True, bake_size=64) == {'FINISHED'}
    obj = bpy.context.active_object
    image = _assert_atlas_material(obj)
    assert tuple(image.size) == (64, 64) and image.name == f"{obj.name} baked"
    assert not any(i.name == f"{obj.name} texture" for i in bpy.data.images), "the atlas the bake replaced"
    _assert_closed(obj)
    # Bake Texture on an object already built (the atlas shown): the same one image, one UV map afterwards.
    assert bpy.ops.mesh_from_image.sheet(template_vertices=800) == {'FINISHED'}
    plain = bpy.context.active_object
    atlas = _assert_atlas_material(plain)
    baked = bake.bake_to_texture(bpy.context, plain, 64, plain.name)
    assert _assert_atlas_material(plain) == baked and atlas.users == 0
    co = _world_points(plain) - np.array(plain.location)
    # Faces toward +X (Blender: the right view looks along -X) hold the right view's green in the bake.
    loops = np.empty(len(plain.data.loops), np.int32)
    plain.data.loops.foreach_get("vertex_index", loops)
    colours = _texture_at_uvs(plain, baked) * 255
    right_side = co[loops, 0] > 0.98 * co[:, 0].max()
    assert right_side.sum() > 10
    assert np.median(np.abs(colours[right_side] - PAINT["right"]).max(axis=1)) < 12


def test_one_slot_is_refused_and_cancel_leaves_the_scene_untouched(sheet_slots, pictures):
    bpy = __import__("bpy")
    sheet = sheet_slots
    made = _add_empties(bpy, pictures)
    sheet.front = made["front"].data
    before = data_snapshot(bpy)
    with pytest.raises(RuntimeError, match="at least two views"):   # the operator's error report
        bpy.ops.mesh_from_image.sheet(template_vertices=800)
    assert data_snapshot(bpy) == before

    sheet.right, sheet.top = made["right"].data, made["top"].data
    operators = import_module(f"{MODULE}.operators.sheet")
    reconstruct = import_module(f"{MODULE}.operators.reconstruct")
    reconstruction = import_module(f"{MODULE}.scene.reconstruction")
    settings = import_module(f"{MODULE}.scene.settings")
    run = operators.SheetRun(operators.slot_sources(sheet),
                             reconstruction.RunSettings(template_vertices=5000), settings.worker_client(), "cancel")
    driver = reconstruct.ModalRun(run)
    driver.begin(bpy.context)
    assert reconstruction.active_run is run
    deadline = time.monotonic() + 60
    while run.job is None:
        assert not driver.tick(bpy.context)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    driver.cancel(bpy.context)
    assert reconstruction.active_run is None
    deadline = time.monotonic() + 120
    while not run.job.done:
        assert time.monotonic() < deadline, "the worker did not answer the cancelled job"
        time.sleep(0.1)
    with pytest.raises(import_module(f"{MODULE}.worker.client").WorkerError) as error:
        run.result()
    assert error.value.kind == "cancelled"
    assert data_snapshot(bpy) == before


def test_headless_sheet_writes_a_closed_textured_glb(clean_data, pictures, tmp_path, capsys):
    import trimesh
    bpy = clean_data
    cli = sys.modules[MODULE].cli
    before = data_snapshot(bpy)
    out = tmp_path / "out" / "crate.glb"
    code = cli.main(["--front", str(pictures["front"]), "--right", str(pictures["right"]), "--top",
                     str(pictures["top"]), "-o", str(out), "--vertices", "800", "--size", "2"])
    assert code == 0, capsys.readouterr().err
    assert data_snapshot(bpy) == before
    surface = load_surface(out)
    assert surface.is_watertight
    # glTF is +Y up: the box stands 2 m tall (its front silhouette's longer side), 1.5 wide, 1 deep.
    assert surface.extents == pytest.approx([1.5, 2.0, 1.0], rel=0.04)
    # The texture where the UVs point is the pictures' colour.
    mesh = trimesh.load(out, force="mesh", process=False)
    colours = np.asarray(mesh.visual.to_color().vertex_colors)[:, :3].astype(int)
    assert len(colours) > 100
    assert np.abs(colours - (200, 120, 60)).max(axis=1).mean() < 12

    code = cli.main(["--front", str(pictures["front"]), "-o", str(tmp_path / "one.glb")])
    assert code == 1 and "at least two views" in capsys.readouterr().err
    code = cli.main(["--top", str(pictures["top"]), "--right", str(pictures["right"]), "-o", str(tmp_path / "x.glb")])
    assert code == 1 and "front or a back" in capsys.readouterr().err
    assert not (tmp_path / "one.glb").exists() and not (tmp_path / "x.glb").exists()


class _Layout:
    """Records what a panel draws (the bpy module has no window to draw into)."""

    def __init__(self, calls):
        self.calls = calls

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return self
        return call

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)


def test_the_reference_sheet_box_draws_a_slot_per_view_and_the_buttons(sheet_slots, pictures):
    bpy = __import__("bpy")
    panel_class = bpy.types.MESH_FROM_IMAGE_PT_view3d_sheet
    assert panel_class.bl_category == "Mesh" and panel_class.bl_space_type == 'VIEW_3D'
    made = _add_empties(bpy, pictures)
    bpy.ops.mesh_from_image.sheet_from_references()
    calls = []
    panel = type("P", (), {"layout": _Layout(calls)})()
    panel_class.draw(panel, bpy.context)
    slots = [args[1] for name, args, kwargs in calls if name == "template_ID" and kwargs.get("open") == "image.open"]
    assert slots == ["front", "back", "left", "right", "top", "bottom"]
    buttons = [args[0] for name, args, _ in calls if name == "operator"]
    assert buttons == ["mesh_from_image.sheet_from_references", "mesh_from_image.sheet"]
    linked = [kwargs.get("text") for name, _, kwargs in calls if name == "label" and kwargs.get("icon") == 'LINKED']
    assert linked == ["Front", "Right", "Top"]
    assert made
