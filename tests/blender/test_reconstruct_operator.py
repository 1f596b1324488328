"""The reconstruct operator on the real extension: image datablocks (generated, packed), files, image
empties, failures, cancelling, and disabling/re-enabling the add-on."""
import os
import time

import numpy as np
import pytest

from blender_session import FAST, MODULE, data_snapshot, deselect_all, write_blob_png


def wedge_rgba(width: int, height: int) -> np.ndarray:
    """Top-down RGBA of a trapezoid, wide at the top and narrow at the bottom, so a vertical flip shows."""
    rgba = np.zeros((height, width, 4), np.float32)
    for row in range(int(0.1 * height), int(0.9 * height)):
        t = (row - 0.1 * height) / (0.8 * height)          # 0 at the top edge, 1 at the bottom
        half = (0.42 - 0.3 * t) * width
        x0, x1 = int(round(width / 2 - half)), int(round(width / 2 + half))
        rgba[row, x0:x1] = (0.2, 0.5, 0.9, 1.0)
    return rgba


def mesh_arrays(obj):
    mesh = obj.data
    co = np.empty(len(mesh.vertices) * 3, np.float32)
    mesh.vertices.foreach_get("co", co)
    return co.reshape(-1, 3)


def assert_watertight(obj):
    mesh = obj.data
    loop_edges = np.empty(len(mesh.loops), np.int32)
    mesh.loops.foreach_get("edge_index", loop_edges)
    faces_per_edge = np.bincount(loop_edges, minlength=len(mesh.edges))
    assert len(mesh.polygons) > 100
    assert (faces_per_edge == 2).all(), f"{(faces_per_edge != 2).sum()} edges without exactly two faces"


def assert_textured_with(obj, image):
    mesh = obj.data
    assert len(mesh.uv_layers) == 1
    uv = np.empty(len(mesh.loops) * 2, np.float32)
    mesh.uv_layers[0].data.foreach_get("uv", uv)
    assert uv.min() >= -1e-4 and uv.max() <= 1 + 1e-4
    material = obj.active_material
    assert material is not None
    textures = [n for n in material.node_tree.nodes if n.type == 'TEX_IMAGE']
    if len(textures) == 1:                      # Fill Sides off: the picture itself
        assert textures[0].image == image
    else:
        # Fill Sides (the default): the picture with its own colours grown over the backdrop, at the
        # picture's size, and its blurred version for edge-on faces.
        assert len(textures) == 2
        assert any(tuple(t.image.size) == tuple(image.size) for t in textures)
        assert all(t.image != image for t in textures)
    bsdf = next(n for n in material.node_tree.nodes if n.type == 'BSDF_PRINCIPLED')
    assert bsdf.inputs["Alpha"].is_linked, "the picture's alpha must drive the BSDF alpha"


def assert_front_view_matches(obj, aspect_w_over_h, size=1.0):
    """Front view (looking along +Y) shows X right and Z up: extents match the silhouette's aspect."""
    dx, dy, dz = obj.dimensions
    assert abs(max(dx, dz) - size) < 0.06 * size
    assert abs(dx / dz - aspect_w_over_h) < 0.08 * aspect_w_over_h


def assert_wide_at_top(obj):
    """The wedge's wide end is at the top of the picture: it must be at +Z, and the texture must agree
    (u grows with X, v with Z, as the front view shows the picture)."""
    co = mesh_arrays(obj)
    z_mid = (co[:, 2].max() + co[:, 2].min()) / 2
    top, bottom = co[co[:, 2] > z_mid + 0.1], co[co[:, 2] < z_mid - 0.1]
    assert np.ptp(top[:, 0]) > 1.3 * np.ptp(bottom[:, 0]), "the picture came out upside down"
    mesh = obj.data
    loop_vertex = np.empty(len(mesh.loops), np.int32)
    mesh.loops.foreach_get("vertex_index", loop_vertex)
    uv = np.empty(len(mesh.loops) * 2, np.float32)
    mesh.uv_layers[0].data.foreach_get("uv", uv)
    uv = uv.reshape(-1, 2)
    assert np.corrcoef(co[loop_vertex, 0], uv[:, 0])[0, 1] > 0.99
    assert np.corrcoef(co[loop_vertex, 2], uv[:, 1])[0, 1] > 0.99


@pytest.mark.parametrize("float_buffer", [False, True], ids=["bytes", "float"])
def test_generated_image_datablock(clean_data, float_buffer):
    bpy = clean_data
    width, height = 120, 150
    image = bpy.data.images.new("Wedge.png", width, height, alpha=True, float_buffer=float_buffer)
    rgba = wedge_rgba(width, height)
    image.pixels.foreach_set(rgba[::-1].ravel())     # Blender stores rows bottom-up
    bpy.context.scene.cursor.location = (1.0, -2.0, 0.5)

    result = bpy.ops.mesh_from_image.reconstruct(image_name=image.name, size=2.0, **FAST)

    assert result == {'FINISHED'}
    obj = bpy.context.active_object
    assert obj.name == "Wedge" and obj.select_get() and list(bpy.context.selected_objects) == [obj]
    assert tuple(obj.location) == pytest.approx((1.0, -2.0, 0.5))
    assert_watertight(obj)
    assert_textured_with(obj, image)
    assert_front_view_matches(obj, (0.84 * width) / (0.8 * height), size=2.0)
    assert_wide_at_top(obj)


def test_file_on_disk(clean_data, tmp_path):
    bpy = clean_data
    path = write_blob_png(tmp_path / "blob.png", 160, 100)
    bpy.context.scene.cursor.location = (0, 0, 0)

    assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), **FAST) == {'FINISHED'}

    obj = bpy.context.active_object
    assert obj.name == "blob"
    assert_watertight(obj)
    assert all(polygon.use_smooth for polygon in obj.data.polygons)
    assert_textured_with(obj, bpy.data.images["blob.png"])
    assert_front_view_matches(obj, 1.6)


def test_packed_image_whose_file_is_gone_and_image_empty(clean_data, tmp_path):
    bpy = clean_data
    path = tmp_path / "wedge_file.png"
    from PIL import Image
    Image.fromarray((wedge_rgba(100, 140) * 255).astype(np.uint8), "RGBA").save(path)
    image = bpy.data.images.load(str(path))
    image.pack()
    os.remove(path)                                   # only the packed copy remains: pixels must be sent
    empty = bpy.data.objects.new("Reference", None)
    empty.empty_display_type = 'IMAGE'
    empty.data = image
    bpy.context.collection.objects.link(empty)
    deselect_all(bpy)
    empty.select_set(True)
    bpy.context.view_layer.objects.active = empty

    assert bpy.ops.mesh_from_image.reconstruct(**FAST) == {'FINISHED'}

    obj = bpy.context.active_object
    assert obj.name == "wedge_file" and not empty.select_get()
    assert_watertight(obj)
    assert_textured_with(obj, image)
    assert_wide_at_top(obj)


def test_image_editor_image_edited_since_loading(clean_data, tmp_path):
    """The Image Editor's image is used; once painted over (dirty) its pixels, not the file, are sent."""
    bpy = clean_data
    path = write_blob_png(tmp_path / "painted.png", 120, 150)     # on disk: an ellipse
    image = bpy.data.images.load(str(path))
    image.pixels.foreach_set(wedge_rgba(120, 150)[::-1].ravel())   # in memory: the wedge
    assert image.is_dirty
    area = next(a for a in bpy.context.screen.areas if a.type != 'VIEW_3D')
    previous_type = area.type
    area.type = 'IMAGE_EDITOR'
    try:
        area.spaces.active.image = image
        with bpy.context.temp_override(area=area, space_data=area.spaces.active):
            assert bpy.ops.mesh_from_image.reconstruct(**FAST) == {'FINISHED'}
    finally:
        area.type = previous_type
    obj = bpy.context.active_object
    assert obj.name == "painted"
    assert_textured_with(obj, image)
    assert_wide_at_top(obj)


def test_bad_file_reports_error_and_leaves_scene_unchanged(clean_data, tmp_path):
    bpy = clean_data
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is not really a png" * 10)
    before = data_snapshot(bpy)

    with pytest.raises(RuntimeError) as error:   # bpy.ops raises on an ERROR report
        bpy.ops.mesh_from_image.reconstruct(filepath=str(bad), **FAST)

    assert "broken.png" in str(error.value)
    assert data_snapshot(bpy) == before


def test_no_image_anywhere_reports_error(clean_data):
    bpy = clean_data
    deselect_all(bpy)
    before = data_snapshot(bpy)
    with pytest.raises(RuntimeError, match="No image"):
        bpy.ops.mesh_from_image.reconstruct()
    assert data_snapshot(bpy) == before


def test_cancel_through_the_modal_code_path_leaves_scene_unchanged(clean_data, addon, tmp_path):
    bpy = clean_data
    from importlib import import_module
    reconstruct = import_module(f"{MODULE}.operators.reconstruct")
    reconstruction = import_module(f"{MODULE}.scene.reconstruction")
    image_source = import_module(f"{MODULE}.scene.image_source")
    settings = import_module(f"{MODULE}.scene.settings")
    from PIL import Image
    path = tmp_path / "cancel_me.png"
    Image.fromarray((wedge_rgba(200, 240) * 255).astype(np.uint8), "RGBA").save(path)
    before = data_snapshot(bpy)
    # Many refinement steps: the job is surely still running when Esc arrives.
    run = reconstruction.ReconstructionRun(image_source.from_file(str(path)),
                                           reconstruction.RunSettings(template_vertices=800, refine_steps=2000),
                                           settings.worker_client())
    driver = reconstruct.ModalRun(run)

    driver.begin(bpy.context)
    assert reconstruction.active_run is run
    deadline = time.monotonic() + 60
    while run.job is None or run.progress[1] == 0.0:   # let the worker really start on it
        assert not driver.tick(bpy.context), "finished before it could be cancelled"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    driver.cancel(bpy.context)

    deadline = time.monotonic() + 30
    while not run.job.done:
        assert time.monotonic() < deadline, "the worker did not stop the cancelled job"
        time.sleep(0.1)
    worker_error = import_module(f"{MODULE}.worker.client").WorkerError
    with pytest.raises(worker_error) as error:
        run.result()
    assert error.value.kind == "cancelled"
    assert reconstruction.active_run is None
    assert data_snapshot(bpy) == before


def _add_mesh_menu_entries(bpy):
    return [f.__module__ for f in bpy.types.VIEW3D_MT_mesh_add._dyn_ui_initialize()]


def test_disable_and_enable_again(clean_data, tmp_path):
    bpy = clean_data
    import sys
    import addon_utils
    assert f"{MODULE}.panels.menu" in _add_mesh_menu_entries(bpy)
    cli = sys.modules[f"{MODULE}.cli"]
    assert cli._cli_handle is not None

    addon_utils.disable(MODULE, default_set=True)
    assert addon_utils.check(MODULE) == (False, False)
    for name in ("MESH_FROM_IMAGE_OT_reconstruct", "MESH_FROM_IMAGE_PT_view3d", "MESH_FROM_IMAGE_PT_image_editor"):
        assert not hasattr(bpy.types, name)
    assert f"{MODULE}.panels.menu" not in _add_mesh_menu_entries(bpy)
    assert cli._cli_handle is None, "the -c command must be unregistered"

    addon_utils.enable(MODULE, default_set=True)
    assert addon_utils.check(MODULE) == (True, True)
    for name in ("MESH_FROM_IMAGE_OT_reconstruct", "MESH_FROM_IMAGE_PT_view3d", "MESH_FROM_IMAGE_PT_image_editor"):
        assert hasattr(bpy.types, name)
    assert _add_mesh_menu_entries(bpy).count(f"{MODULE}.panels.menu") == 1
    assert sys.modules[f"{MODULE}.cli"]._cli_handle is not None
    path = write_blob_png(tmp_path / "again.png", 90, 120)
    assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), **FAST) == {'FINISHED'}
    assert_front_view_matches(bpy.context.active_object, 0.75)


def _preferences(bpy):
    return bpy.context.preferences.addons[MODULE].preferences


def test_preferences_device_reaches_the_worker(clean_data, tmp_path):
    bpy = clean_data
    from importlib import import_module
    reconstruction = import_module(f"{MODULE}.scene.reconstruction")
    prefs = _preferences(bpy)
    assert prefs.device == 'AUTO' and prefs.python_path == ""
    path = write_blob_png(tmp_path / "device.png", 100, 100)
    try:
        prefs.device = 'CPU'
        assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), **FAST) == {'FINISHED'}
        assert reconstruction.last_meta.get("device", "").startswith("cpu")
        prefs.device = 'GPU'
        try:
            bpy.ops.mesh_from_image.reconstruct(filepath=str(path), **FAST)
        except RuntimeError as error:   # no GPU on this machine: the worker says so, nothing is built
            assert "GPU" in str(error)
        else:
            assert not reconstruction.last_meta.get("device", "").startswith("cpu")
    finally:
        prefs.device = 'AUTO'


def test_missing_worker_interpreter_is_reported_clearly(clean_data, tmp_path):
    bpy = clean_data
    prefs = _preferences(bpy)
    prefs.python_path = str(tmp_path / "no-such-python")
    try:
        path = write_blob_png(tmp_path / "unused.png", 100, 100)
        before = data_snapshot(bpy)
        with pytest.raises(RuntimeError, match="no-such-python"):
            bpy.ops.mesh_from_image.reconstruct(filepath=str(path), **FAST)
        assert data_snapshot(bpy) == before
    finally:
        prefs.python_path = ""


def test_redo_with_another_size_reuses_the_answer(clean_data, tmp_path):
    """The redo panel repeats execute(); a new size alone must not run the reconstruction again."""
    bpy = clean_data
    from importlib import import_module
    reconstruction = import_module(f"{MODULE}.scene.reconstruction")
    path = write_blob_png(tmp_path / "redo.png", 120, 80)
    assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), size=1.0, **FAST) == {'FINISHED'}
    first = bpy.context.active_object
    answer = reconstruction._last_answer
    assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), size=3.0, **FAST) == {'FINISHED'}
    second = bpy.context.active_object
    assert reconstruction._last_answer is answer
    assert second.dimensions.x == pytest.approx(3 * first.dimensions.x, rel=1e-4)


def test_even_triangles_can_be_switched_off(clean_data, tmp_path):
    """Even Triangles (default on) remeshes in the engine; off, the mesh keeps the template's triangles, whose
    edge lengths vary more."""
    bpy = clean_data
    path = write_blob_png(tmp_path / "even.png", 120, 80)

    def spread(**options):
        assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), **dict(FAST, template_vertices=800),
                                                   **options) == {'FINISHED'}
        mesh = bpy.context.active_object.data
        co = mesh_arrays(bpy.context.active_object)
        edges = np.empty(len(mesh.edges) * 2, np.int32)
        mesh.edges.foreach_get("vertices", edges)
        lengths = np.linalg.norm(np.diff(co[edges.reshape(-1, 2)], axis=1)[:, 0], axis=1)
        return lengths.std() / lengths.mean()

    even, kept = spread(), spread(even_triangles=False)
    assert even < 0.2 and even < 0.75 * kept


def test_inflated_silhouette_reaches_the_engine(clean_data, tmp_path):
    """Shape Prior = Inflated Silhouette used to run the network: the request left model "none" out and the
    engine's default is "auto". The request must carry it, and the worker must then run no network."""
    bpy = clean_data
    from importlib import import_module
    reconstruction = import_module(f"{MODULE}.scene.reconstruction")
    assert reconstruction.RunSettings(model="none").engine_options()["model"] == "none"
    assert reconstruction.RunSettings().engine_options()["model"] == "auto"
    path = write_blob_png(tmp_path / "prior.png", 120, 80)
    assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), shape_prior='NONE', **FAST) == {'FINISHED'}
    free = reconstruction._last_answer[1]
    assert free.info.model == "none" and free.info.network_vertices is None
    assert "network" not in free.timings
    assert bpy.ops.mesh_from_image.reconstruct(filepath=str(path), shape_prior='LEARNED', **FAST) == {'FINISHED'}
    learned = reconstruction._last_answer[1]
    assert learned is not free and learned.info.model != "none" and "network" in learned.timings
    assert reconstruction.last_meta["info"]["model"] == learned.info.model   # what the sidebar shows


def test_operator_properties_come_from_the_contract(clean_data):
    """Defaults and limits of the redo panel are the engine's (one range for the vertex count everywhere)."""
    from importlib import import_module
    contract = import_module(f"{MODULE}.inference.contract")
    props = clean_data.ops.mesh_from_image.reconstruct.get_rna_type().properties
    vertices = props["template_vertices"]
    assert (vertices.default, vertices.hard_min, vertices.hard_max) == (2500, contract.VERTICES_MIN,
                                                                        contract.VERTICES_MAX)
    steps = props["refine_steps"]
    assert (steps.default, steps.hard_min, steps.hard_max) == (100, contract.STEPS_MIN, contract.STEPS_MAX)
    assert props["size"].hard_min == pytest.approx(contract.SIZE_MIN) and props["size"].default == 1.0
    assert props["even_triangles"].default is True and props["refine"].default is True
    with pytest.raises(ValueError, match="size must be at least 0.001"):
        import_module(f"{MODULE}.scene.reconstruction").RunSettings(size=0.0)
    with pytest.raises(ValueError, match="template_vertices must be between 100 and 200000"):
        import_module(f"{MODULE}.scene.reconstruction").RunSettings(template_vertices=50).engine_options()
