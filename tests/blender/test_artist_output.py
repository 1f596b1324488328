"""Artist options on real runs of the installed extension: face count, quads, subdivision and shading,
texture on every side and baking, standing upright, the reference camera, several objects."""
import math
from importlib import import_module

import numpy as np
import pytest

from blender_session import FAST, MODULE, write_blob_png

FACE_TOLERANCE = 0.10


def _arrays(obj, world=False):
    mesh = obj.data
    co = np.empty(len(mesh.vertices) * 3, np.float64)
    mesh.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3)
    if world:
        m = np.array(obj.matrix_world)
        co = co @ m[:3, :3].T + m[:3, 3]
    return co


def _assert_closed_manifold(mesh):
    loop_edges = np.empty(len(mesh.loops), np.int32)
    mesh.loops.foreach_get("edge_index", loop_edges)
    faces_per_edge = np.bincount(loop_edges, minlength=len(mesh.edges))
    assert (faces_per_edge == 2).all(), f"{(faces_per_edge != 2).sum()} edges without exactly two faces"


def _loop_uvs(mesh, name=None):
    layer = mesh.uv_layers[name] if name else mesh.uv_layers.active
    uv = np.empty(len(mesh.loops) * 2, np.float32)
    layer.data.foreach_get("uv", uv)
    return uv.reshape(-1, 2)


@pytest.fixture(scope="module")
def blob(tmp_path_factory):
    return write_blob_png(tmp_path_factory.mktemp("artist") / "blob.png", 160, 110)


def _make(bpy, path, **options):
    assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), **FAST, **options) == {'FINISHED'}
    return bpy.context.active_object


# -- topology ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", [300, 2500])
def test_target_face_count_is_met_and_stays_closed(clean_data, blob, target):
    """Below the reconstruction's count (decimated) and above it (subdivided, then decimated)."""
    obj = _make(clean_data, blob, target_faces=target)
    faces = len(obj.data.polygons)
    assert abs(faces - target) <= FACE_TOLERANCE * target, faces
    _assert_closed_manifold(obj.data)
    uv = _loop_uvs(obj.data)
    assert uv.min() >= -1e-4 and uv.max() <= 1 + 1e-4


def test_quad_remesh_hits_the_target_with_quads_and_keeps_the_silhouette(clean_data, blob):
    bpy = clean_data
    plain = _make(bpy, blob)
    plain_dims = tuple(plain.dimensions)
    obj = _make(bpy, blob, quads=True, target_faces=400)
    mesh = obj.data
    sides = np.array([len(p.vertices) for p in mesh.polygons])
    assert abs(len(sides) - 400) <= FACE_TOLERANCE * 400, len(sides)
    assert (sides == 4).mean() >= 0.95
    _assert_closed_manifold(mesh)
    assert tuple(obj.dimensions) == pytest.approx(plain_dims, rel=0.05)
    # The remesher dropped the UVs; they are the front projection again: u follows X, v follows Z.
    loop_vertex = np.empty(len(mesh.loops), np.int32)
    mesh.loops.foreach_get("vertex_index", loop_vertex)
    co, uv = _arrays(obj)[loop_vertex], _loop_uvs(mesh)
    assert np.corrcoef(co[:, 0], uv[:, 0])[0, 1] > 0.999 and np.corrcoef(co[:, 2], uv[:, 1])[0, 1] > 0.999


def test_the_quad_goal_search_narrows_its_bracket_when_quadriflow_jumps(clean_data):
    """QuadriFlow's count is not monotonic in its goal. On one machine goals 400, 466 and 427 gave 343, 483 and
    512 faces for 400: the next goal must lie between 400 (too few) and 427 (too many, the smallest such goal),
    not be 427 again (the old search paired the counts, not the goals, and repeated it until it gave up)."""
    topology = import_module(f"{MODULE}.scene.topology")
    goal = topology._next_goal([(400.0, 343), (466.47, 483), (427.06, 512)], 400)
    assert 400.0 < goal < 427.06
    assert topology._next_goal([(400.0, 343)], 400) == pytest.approx(400 * 400 / 343)


def test_subdivision_and_hard_edges(clean_data, blob):
    obj = _make(clean_data, blob, subdivision=2, sharp_angle=math.radians(20))
    modifier = obj.modifiers[-1]
    assert modifier.type == 'SUBSURF' and modifier.levels == 2 and modifier.render_levels == 2
    assert all(p.use_smooth for p in obj.data.polygons)
    sharp = obj.data.attributes.get("sharp_edge")
    # A fitted blob is smooth except at its rim, where front and back meet at more than 20 degrees.
    assert sharp is not None
    values = np.empty(len(obj.data.edges), bool)
    sharp.data.foreach_get("value", values)
    assert 0 < values.sum() < len(values)


# -- texture ----------------------------------------------------------------------------------------
def test_fill_sides_material_and_grown_texture(clean_data, blob):
    bpy = clean_data
    obj = _make(bpy, blob, fill_sides=True)
    tree = obj.active_material.node_tree
    bsdf = next(n for n in tree.nodes if n.type == 'BSDF_PRINCIPLED')
    mix = bsdf.inputs["Base Color"].links[0].from_node
    assert mix.type == 'MIX'
    assert mix.inputs[0].links[0].from_node.type == 'ATTRIBUTE'
    textures = [n for n in tree.nodes if n.type == 'TEX_IMAGE']
    assert len(textures) == 2
    for texture in textures:
        assert texture.inputs["Vector"].links[0].from_node.type == 'UVMAP'
    assert bsdf.inputs["Alpha"].links[0].from_node.type == 'TEX_IMAGE'
    # No seam can show along the silhouette: every vertex has one UV, shared by all its faces, so front and
    # back faces meeting at the rim read the same texels.
    loop_vertex = np.empty(len(obj.data.loops), np.int32)
    obj.data.loops.foreach_get("vertex_index", loop_vertex)
    uv = _loop_uvs(obj.data)
    per_vertex = np.zeros((len(obj.data.vertices), 2))
    per_vertex[loop_vertex] = uv
    assert np.abs(per_vertex[loop_vertex] - uv).max() < 1e-6
    facing = obj.data.attributes["mfi_facing"]
    values = np.empty(len(obj.data.vertices), np.float32)
    facing.data.foreach_get("value", values)
    assert values.min() < 0.05 and values.max() > 0.95   # edge-on rim and squarely facing front/back
    # The picture is an opaque red ellipse on transparency: the grown texture is red and opaque just
    # outside the ellipse (where the rim samples) and across the whole image.
    sharp = bsdf.inputs["Alpha"].links[0].from_node.image
    width, height = sharp.size
    pixels = np.empty(width * height * 4, np.float32)
    sharp.pixels.foreach_get(pixels)
    pixels = pixels.reshape(height, width, 4)
    assert np.allclose(pixels[..., 3], 1.0, atol=0.02)
    assert np.allclose(pixels[..., :3], (200 / 255, 60 / 255, 40 / 255), atol=0.03)


def test_fill_sides_textures_are_packed_and_come_back_from_a_saved_file(clean_data, blob, tmp_path):
    """The grown textures are PNGs written by scene/packed_image.py, packed: a saved .blend holds them, pixel
    for pixel, and they are what setting the floats on a byte image and packing it (Blender's own PNG) held."""
    bpy = clean_data
    obj = _make(bpy, blob, fill_sides=True)
    images = [n.image for n in obj.active_material.node_tree.nodes if n.type == 'TEX_IMAGE']
    assert len(images) == 2

    def pixels(image):
        values = np.empty(image.size[0] * image.size[1] * 4, np.float32)
        image.pixels.foreach_get(values)
        return values
    before = {}
    for image in images:
        assert image.packed_file is not None and image.source == 'FILE' and image.file_format == 'PNG'
        assert not image.is_dirty and image.alpha_mode == 'STRAIGHT' and not image.is_float
        before[image.name] = pixels(image)
        # Blender's own way gives the same bytes: the floats set on a new byte image, packed by Blender.
        own = bpy.data.images.new("own way", *image.size, alpha=True)
        own.pixels.foreach_set(before[image.name])
        own.pack()
        assert np.array_equal(pixels(own), before[image.name])
        bpy.data.images.remove(own)
    saved = tmp_path / "saved.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(saved), copy=True)
    with bpy.data.libraries.load(str(saved)) as (source, target):
        target.images = [name for name in source.images if name in before]
    assert len(target.images) == 2
    for image in target.images:
        original = next(name for name in before if image.name.startswith(name))
        assert image.packed_file is not None
        assert np.array_equal(pixels(image), before[original])
        bpy.data.images.remove(image)


@pytest.mark.parametrize("options,started", [({}, True), ({"target_faces": 300}, False)])
def test_fill_sides_textures_are_the_built_mesh_s(clean_data, blob, monkeypatch, options, started):
    """The textures started on a thread from the worker's triangles (scene/texture.BackgroundFill) are used
    only when they are the built mesh's: the packed files are, byte for byte, what the built mesh's own UV
    triangles give. A face count changes the faces, so nothing is started then."""
    bpy = clean_data
    texture = import_module(f"{MODULE}.scene.texture")
    image_source = import_module(f"{MODULE}.scene.image_source")
    used = []
    original = texture.BackgroundFill.textures_for

    def recording(self, uvs, triangles):
        answer = original(self, uvs, triangles)
        used.append(answer is not None)
        return answer
    monkeypatch.setattr(texture.BackgroundFill, "textures_for", recording)
    obj = _make(bpy, blob, fill_sides=True, **options)
    assert used == ([True] if started else [])
    nodes = obj.active_material.node_tree.nodes
    bsdf = next(n for n in nodes if n.type == 'BSDF_PRINCIPLED')
    sharp = bsdf.inputs["Alpha"].links[0].from_node.image
    soft = next(n.image for n in nodes if n.type == 'TEX_IMAGE' and n.image != sharp)
    picture = next(i for i in bpy.data.images if i.filepath and bpy.path.abspath(i.filepath) == str(blob))
    _, _, grown_png, blurred_png = texture._textures(image_source.image_pixels(picture),
                                                     *texture.mesh_uv_triangles(obj.data))
    assert sharp.packed_file.data == grown_png and soft.packed_file.data == blurred_png


def test_bake_to_one_texture_on_an_unwrap(clean_data, blob, tmp_path):
    bpy = clean_data
    obj = _make(bpy, blob, bake=True, bake_size=128)
    mesh = obj.data
    assert len(mesh.uv_layers) == 1
    uv = _loop_uvs(mesh)
    assert uv.min() >= -1e-4 and uv.max() <= 1 + 1e-4
    tree = obj.active_material.node_tree
    textures = [n for n in tree.nodes if n.type == 'TEX_IMAGE']
    assert len(textures) == 1 and tuple(textures[0].image.size) == (128, 128)
    assert textures[0].inputs["Vector"].links[0].from_node.uv_map == mesh.uv_layers[0].name
    bsdf = next(n for n in tree.nodes if n.type == 'BSDF_PRINCIPLED')
    assert bsdf.inputs["Base Color"].links[0].from_node == textures[0]
    assert bsdf.inputs["Alpha"].links[0].from_node == textures[0]
    # Where the unwrap has islands, the bake holds the picture's red, opaque.
    pixels = np.empty(128 * 128 * 4, np.float32)
    textures[0].image.pixels.foreach_get(pixels)
    pixels = pixels.reshape(128, 128, 4)
    texel = np.clip((uv * 127).round().astype(int), 0, 127)
    sampled = pixels[texel[:, 1], texel[:, 0]]
    assert np.median(sampled[:, 0]) > 0.7 and np.median(sampled[:, 1]) < 0.35
    assert np.median(sampled[:, 3]) > 0.95
    _assert_closed_manifold(mesh)


# -- placement and camera ---------------------------------------------------------------------------
def test_upright_with_typed_elevation_stands_on_the_cursor(clean_data, blob):
    bpy = clean_data
    bpy.context.scene.cursor.location = (0.5, -1.0, 0.25)
    level = _make(bpy, blob, upright=True, size=2.0)
    level_co = _arrays(level)
    elevation = math.radians(25)
    tilted = _make(bpy, blob, upright=True, size=2.0, elevation_source='MANUAL', elevation=elevation)
    co = _arrays(tilted)
    world = _arrays(tilted, world=True)
    assert tuple(tilted.location) == pytest.approx((0.5, -1.0, 0.25))
    assert list(tilted.users_collection) == [bpy.context.view_layer.active_layer_collection.collection]
    assert tuple(tilted.rotation_euler) == pytest.approx((0, 0, 0)) and tuple(tilted.scale) == (1, 1, 1)
    assert world[:, 2].min() == pytest.approx(0.25, abs=1e-5), "the lowest point stands on the ground"
    # Origin at the bottom centre.
    assert (co[:, 0].min() + co[:, 0].max()) / 2 == pytest.approx(0, abs=1e-5)
    assert (co[:, 1].min() + co[:, 1].max()) / 2 == pytest.approx(0, abs=1e-5)
    # The same answer, rotated by -elevation about X (the camera looked down by `elevation`).
    c, s = math.cos(-elevation), math.sin(-elevation)
    rotated = level_co @ np.array([[1, 0, 0], [0, c, -s], [0, s, c]]).T
    offset = co - rotated
    assert np.ptp(offset, axis=0).max() < 1e-4
    assert max(level.dimensions.x, level.dimensions.z) == pytest.approx(2.0, rel=0.05)
    bpy.context.scene.cursor.location = (0, 0, 0)


def test_reference_camera_reproduces_the_picture(clean_data, blob):
    bpy = clean_data
    from bpy_extras.object_utils import world_to_camera_view
    texture_fill = import_module(f"{MODULE}.scene.texture_fill")
    scene = bpy.context.scene
    saved = (scene.camera, scene.render.resolution_x, scene.render.resolution_y)
    try:
        scene.camera = None
        obj = _make(bpy, blob, upright=True, elevation_source='MANUAL', elevation=math.radians(30),
                    add_camera=True)
        camera = scene.camera
        assert camera is not None and camera.data.type == 'ORTHO'
        assert camera.data.background_images[0].image == bpy.data.images["blob.png"]
        assert scene.render.resolution_x / scene.render.resolution_y == pytest.approx(160 / 110, rel=0.01)
        mesh = obj.data
        loop_vertex = np.empty(len(mesh.loops), np.int32)
        mesh.loops.foreach_get("vertex_index", loop_vertex)
        world = _arrays(obj, world=True)
        from mathutils import Vector
        projected = np.array([tuple(world_to_camera_view(scene, camera, Vector(p)))[:2] for p in world])
        # Every vertex lands where the picture showed it: its projection is its front-projection UV.
        assert np.abs(projected[loop_vertex] - _loop_uvs(mesh)).max() < 2e-3
        # And the silhouette the camera sees covers the picture's object.
        tris = np.array([p.vertices[:] for p in mesh.polygons])
        seen = texture_fill.coverage(projected, tris, 160, 110)
        yy, xx = np.mgrid[0:110, 0:160]
        truth = ((xx - 80 + 0.5) / 64) ** 2 + ((yy - 55 + 0.5) / 44) ** 2 <= 1
        assert (seen & truth).sum() / (seen | truth).sum() > 0.9
    finally:
        scene.camera = saved[0]
        scene.render.resolution_x, scene.render.resolution_y = saved[1:]
        for camera in [o for o in bpy.data.objects if o.type == 'CAMERA' and o.name.startswith("blob")]:
            data = camera.data
            bpy.data.objects.remove(camera)
            bpy.data.cameras.remove(data)


# -- several objects --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_blobs(tmp_path_factory):
    """A large ellipse on the left and a small disc on the right, both resting on the same line."""
    from PIL import Image
    height, width = 120, 240
    yy, xx = np.mgrid[0:height, 0:width]
    big = ((xx - 70) / 55) ** 2 + ((yy - 70) / 40) ** 2 <= 1
    small = ((xx - 185) / 25) ** 2 + ((yy - 85) / 25) ** 2 <= 1
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[big] = (30, 90, 200, 255)
    rgba[small] = (220, 180, 30, 255)
    path = tmp_path_factory.mktemp("several") / "pair.png"
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def test_one_object_each_keeps_the_layout(clean_data, two_blobs):
    bpy = clean_data
    _make(bpy, two_blobs, objects='SEPARATE', upright=True, size=2.4)
    made = sorted(bpy.context.selected_objects, key=lambda o: -o.dimensions.x)
    assert [o.name for o in made] == ["pair 1", "pair 2"]
    big, small = made
    for obj in made:
        _assert_closed_manifold(obj.data)
    # Sizes and places as in the picture: the whole pair spans 240 - 2*15 px -> 2.4 m (the silhouettes'
    # union is what --size measures), the big one 110 px wide, the small one 50 px.
    metres_per_px = 2.4 / (210 - 15)
    assert big.dimensions.x == pytest.approx(110 * metres_per_px, rel=0.08)
    assert small.dimensions.x == pytest.approx(50 * metres_per_px, rel=0.1)
    assert small.location.x - big.location.x == pytest.approx(115 * metres_per_px, rel=0.05)
    lowest = min(_arrays(o, world=True)[:, 2].min() for o in made)
    assert lowest == pytest.approx(bpy.context.scene.cursor.location.z, abs=1e-4)


def test_joined_object_is_one_closed_object_with_both_shells(clean_data, two_blobs):
    bpy = clean_data
    obj = _make(bpy, two_blobs, objects='JOINED')
    assert list(bpy.context.selected_objects) == [obj] and obj.name == "pair"
    _assert_closed_manifold(obj.data)
    co = _arrays(obj)
    gap = np.sort(co[:, 0])
    assert np.diff(gap).max() > 0.1, "two separate shells side by side"


def test_artist_options_have_their_sidebar_panels(addon, bpy_module):
    for name in ("MESH_FROM_IMAGE_PT_view3d_artist", "MESH_FROM_IMAGE_PT_image_editor_artist"):
        panel = getattr(bpy_module.types, name)
        assert panel.bl_parent_id.startswith("MESH_FROM_IMAGE_PT_")
    names = {p.identifier for p in bpy_module.ops.mesh_from_image.reconstruct.get_rna_type().properties}
    assert {"objects", "fill_sides", "bake", "bake_size", "target_faces", "quads", "voxel_first", "subdivision",
            "sharp_angle", "upright", "elevation_source", "elevation", "add_camera"} <= names


def test_estimated_elevation_from_the_answer_stands_the_object_up(clean_data, blob):
    """When the engine's info carries `elevation` (radians), Stand Upright uses it unless one is typed."""
    bpy = clean_data
    reconstruction = import_module(f"{MODULE}.scene.reconstruction")
    build = import_module(f"{MODULE}.scene.build")
    image_source = import_module(f"{MODULE}.scene.image_source")
    contract = import_module(f"{MODULE}.inference.contract")
    _make(bpy, blob)                                   # a real answer for this picture
    answer = reconstruction._last_answer[1]
    source = image_source.from_file(str(blob))
    estimated = build.build_object(bpy.context, source, answer, 1.0, (0, 0, 0),
                                   contract.ArtistOptions(upright=True), {"elevation": 0.4})
    typed = build.build_object(bpy.context, source, answer, 1.0, (0, 0, 0),
                               contract.ArtistOptions(upright=True, elevation=0.1), {"elevation": 0.4})
    level = build.build_object(bpy.context, source, answer, 1.0, (0, 0, 0),
                               contract.ArtistOptions(upright=True), {})
    assert estimated.elevation == pytest.approx(0.4) and typed.elevation == pytest.approx(0.1)
    assert level.elevation == 0.0
    # Each is the level object tilted about X by its elevation (extents compared relative to X, which the tilt
    # leaves alone). Comparing depths alone assumed depth grows with the tilt, which depends on the mesh.
    co = _arrays(level.obj, world=True)
    co -= co.mean(axis=0)

    def tilted_profile(angle):
        c, s = math.cos(angle), math.sin(angle)
        profiles = []
        for sign in (1, -1):
            y = c * co[:, 1] - sign * s * co[:, 2]
            z = sign * s * co[:, 1] + c * co[:, 2]
            profiles.append(np.array([np.ptp(y), np.ptp(z)]) / np.ptp(co[:, 0]))
        return profiles

    for built, angle in ((estimated, 0.4), (typed, 0.1)):
        d = np.array(built.obj.dimensions)
        got = d[1:] / d[0]
        assert min(np.abs(got - p).max() for p in tilted_profile(angle)) < 0.01, (got, tilted_profile(angle))


def test_several_objects_through_the_modal_code_path(clean_data, two_blobs):
    """The UI drives runs with a timer: the second object's request goes out once the first answer says
    how many there are, and the run is done only when both are in."""
    bpy = clean_data
    reconstruct = import_module(f"{MODULE}.operators.reconstruct")
    reconstruction = import_module(f"{MODULE}.scene.reconstruction")
    image_source = import_module(f"{MODULE}.scene.image_source")
    settings = import_module(f"{MODULE}.scene.settings")
    contract = import_module(f"{MODULE}.inference.contract")
    import time
    run = reconstruction.ReconstructionRun(image_source.from_file(str(two_blobs)),
                                           reconstruction.RunSettings(template_vertices=400, refine_steps=11,
                                                                      all_objects=True),
                                           settings.worker_client())
    driver = reconstruct.ModalRun(run)
    driver.begin(bpy.context)
    deadline = time.monotonic() + 120
    while not driver.tick(bpy.context):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    answers = run.answers()
    assert len(answers) == 2
    assert [a.info.object_count for a in answers] == [2, 2]
    built = run.build(bpy.context, (0, 0, 0), contract.ArtistOptions(objects="SEPARATE"))
    assert len(built.objects) == 2
    widths = sorted(o.dimensions.x for o in built.objects)
    assert widths[1] / widths[0] == pytest.approx(110 / 50, rel=0.1)


def test_voxel_remesh_before_quads(clean_data, blob):
    obj = _make(clean_data, blob, quads=True, voxel_first=True, target_faces=300)
    sides = np.array([len(p.vertices) for p in obj.data.polygons])
    assert abs(len(sides) - 300) <= FACE_TOLERANCE * 300 and (sides == 4).mean() >= 0.95
    _assert_closed_manifold(obj.data)


def _rna_matches(prop, kwargs, where):
    """A registered property against the keywords the contract made for it."""
    assert prop.name == kwargs["name"] and prop.description == kwargs["description"], where
    if prop.type == 'ENUM':
        assert [(i.identifier, i.name, i.description) for i in prop.enum_items] == list(kwargs["items"]), where
        assert prop.default == kwargs["default"], where
    elif prop.type in {'INT', 'FLOAT'}:
        assert prop.default == pytest.approx(kwargs["default"], rel=1e-6), where
        for rna, key in (("hard_min", "min"), ("hard_max", "max"), ("soft_max", "soft_max")):
            if key in kwargs:
                assert getattr(prop, rna) == pytest.approx(kwargs[key], rel=1e-6), (where, key)
        assert (prop.subtype == 'ANGLE') is (kwargs.get("subtype") == 'ANGLE'), where
    else:
        assert prop.default == kwargs["default"], where


def test_the_panels_properties_are_the_contract_s(addon, bpy_module):
    """The redo panel and the sidebars (which edit the operator's remembered properties) show every artist
    option with the contract's default, bounds and text; the device and shape-prior choices too, in the
    preferences and both operators."""
    import dataclasses
    contract = import_module(f"{MODULE}.inference.contract")
    ops = bpy_module.ops.mesh_from_image
    props = ops.reconstruct.get_rna_type().properties
    for f in dataclasses.fields(contract.ArtistOptions):
        _rna_matches(props[f.name], contract.blender_property(f.name), f.name)
        toggle = contract.spec(f.name).toggle
        if toggle is not None:
            _rna_matches(props[toggle.name], contract.blender_toggle(f.name), toggle.name)
    # What the panel starts at, read the way the build reads it: Fill Sides and Stand Upright on.
    defaults = type("Defaults", (), {p.identifier: p.default for p in props if p.identifier != "rna_type"})
    made = contract.artist_options_from_properties(defaults)
    expected = contract.ArtistOptions(fill_sides=True, upright=True)
    for f in dataclasses.fields(expected):
        want = getattr(expected, f.name)
        assert getattr(made, f.name) == (pytest.approx(want, rel=1e-6) if isinstance(want, float) else want), f.name
    _rna_matches(props["shape_prior"], contract.shape_prior_property(), "shape_prior")
    for operator in (ops.reconstruct, ops.sheet):
        _rna_matches(operator.get_rna_type().properties["device"], contract.device_property(), "device")
    preferences = bpy_module.context.preferences.addons[MODULE].preferences
    _rna_matches(preferences.bl_rna.properties["device"], contract.device_property(per_run=False), "preferences")
