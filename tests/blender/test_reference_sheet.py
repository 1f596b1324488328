"""Reference sheets in Blender: image empties facing the front, right and top views, From Reference Images,
Build from Sheet, cancelling, and the headless `-c mesh_from_image --front ... -o OUT.glb`."""
import math
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
    # Colours per vertex, shown by the material's Color Attribute node.
    attribute = obj.data.color_attributes.active_color
    assert attribute is not None and attribute.domain == 'POINT'
    rgba = np.empty(len(obj.data.vertices) * 4, np.float32)
    attribute.data.foreach_get("color_srgb", rgba)
    assert np.abs(rgba.reshape(-1, 4)[:, :3] * 255 - (200, 120, 60)).max(axis=1).mean() < 10
    nodes = obj.active_material.node_tree.nodes
    colour = next(n for n in nodes if n.type == 'VERTEX_COLOR')
    assert colour.layer_name == attribute.name and colour.outputs["Color"].is_linked

    # Without lining up: at the 3D cursor, the front silhouette's longer side `size` metres.
    bpy.context.scene.cursor.location = (-2.0, 1.0, 0.5)
    assert bpy.ops.mesh_from_image.sheet(template_vertices=800, align=False, size=2.0) == {'FINISHED'}
    loose = _world_points(bpy.context.active_object)
    assert np.ptp(loose[:, 2]) == pytest.approx(2.0, rel=0.03)
    np.testing.assert_allclose((loose.min(axis=0) + loose.max(axis=0)) / 2, (-2.0, 1.0, 0.5), atol=0.05)
    bpy.context.scene.cursor.location = (0.0, 0.0, 0.0)


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


def _glb_colours(path):
    """COLOR_0 of the GLB's first primitive as sRGB floats (glTF stores vertex colours linear)."""
    import json
    import struct
    data = Path(path).read_bytes()
    json_len = struct.unpack("<I", data[12:16])[0]
    gltf = json.loads(data[20:20 + json_len])
    binary = data[20 + json_len + 8:]
    accessor = gltf["accessors"][gltf["meshes"][0]["primitives"][0]["attributes"]["COLOR_0"]]
    view = gltf["bufferViews"][accessor["bufferView"]]
    dtype, scale = {5126: ("<f4", 1.0), 5123: ("<u2", 65535.0), 5121: ("u1", 255.0)}[accessor["componentType"]]
    width = {"VEC3": 3, "VEC4": 4}[accessor["type"]]
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    linear = np.frombuffer(binary, dtype, accessor["count"] * width, start).reshape(-1, width) / scale
    rgb = np.clip(linear[:, :3], 0, 1)
    return np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb ** (1 / 2.4) - 0.055)


def test_headless_sheet_writes_a_closed_coloured_glb(clean_data, pictures, tmp_path, capsys):
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
    colours = _glb_colours(out)
    assert len(colours) > 100
    assert np.abs(colours[:, :3] * 255 - (200, 120, 60)).max(axis=1).mean() < 12

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
