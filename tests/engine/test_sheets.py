"""Reference sheets (inference.sheets): synthetic orthographic views of known solids come back as that solid."""
import numpy as np
import pytest
import trimesh

from inference.errors import InputError
from inference.metrics import is_watertight, self_intersections
from inference.sheets import reconstruct_views

from sheet_pictures import box, cylinder, ring, sheet, view_picture

OPTIONS = {"template_vertices": 1200}


def _mesh(result):
    return trimesh.Trimesh(result.vertices, result.faces, process=False)


def _assert_clean(result):
    m = _mesh(result)
    assert is_watertight(result.faces) and m.is_winding_consistent
    assert m.volume > 0
    assert self_intersections(result.vertices, result.faces) == 0
    return m


def _fill_ratio(result):
    """Volume over bounding-box volume: pi/4 for a cylinder, 1 for a box."""
    m = _mesh(result)
    return m.volume / np.prod(np.ptp(result.vertices, axis=0))


@pytest.fixture(scope="module")
def cylinder_front_right():
    return reconstruct_views(sheet(cylinder(), ["front", "right"]), OPTIONS)


def test_cylinder_from_front_and_side_is_round_not_a_box(cylinder_front_right):
    r = cylinder_front_right
    m = _assert_clean(r)
    assert m.euler_number == 2
    # The visual hull of two rectangles is a box (ratio 1); the views leave the cross-section free.
    assert abs(_fill_ratio(r) - np.pi / 4) < 0.05
    # Frame: the front silhouette's box (0.6 x 0.8) is centred with its longer side (the height) 1.
    ext = np.ptp(r.vertices, axis=0)
    assert ext[1] == pytest.approx(1.0, abs=0.02)
    assert ext[0] == pytest.approx(0.75, abs=0.02) and ext[2] == pytest.approx(0.75, abs=0.02)
    assert np.abs(r.vertices.min(axis=0) + r.vertices.max(axis=0)).max() < 0.02
    assert all(v.silhouette_iou > 0.96 for v in r.views.values())
    assert r.warnings == []


def test_box_seen_from_three_sides_keeps_its_corners():
    r = reconstruct_views(sheet(box(), ["front", "right", "top"]), OPTIONS)
    _assert_clean(r)
    assert _fill_ratio(r) > 0.88
    cyl = reconstruct_views(sheet(cylinder(), ["front", "right", "top"]), OPTIONS)
    assert abs(_fill_ratio(cyl) - np.pi / 4) < 0.05
    assert np.ptp(r.vertices, axis=0) == pytest.approx([0.75, 1.0, 0.5], abs=0.02)


def test_ring_seen_from_the_top_keeps_its_hole():
    r = reconstruct_views(sheet(ring(), ["front", "right", "top"]), OPTIONS)
    m = _assert_clean(r)
    assert m.euler_number == 0                      # genus 1
    # Without the top nothing shows the opening: one genus-0 surface.
    side_only = reconstruct_views(sheet(ring(), ["front", "right"]), OPTIONS)
    assert _mesh(side_only).euler_number == 2


def test_views_framed_differently_come_back_at_one_scale(cylinder_front_right):
    pictures = {"front": view_picture(cylinder(), "front", size=256, fill=0.85),
                "right": view_picture(cylinder(), "right", size=180, fill=0.55, offset=(-20, 12)),
                "top": view_picture(cylinder(), "top", size=320, fill=0.7, offset=(30, -25))}
    r = reconstruct_views(pictures, OPTIONS)
    _assert_clean(r)
    assert r.warnings == []
    assert np.ptp(r.vertices, axis=0) == pytest.approx(np.ptp(cylinder_front_right.vertices, axis=0), abs=0.02)
    assert all(v.silhouette_iou > 0.96 for v in r.views.values())


def test_views_that_disagree_a_little_are_kept_with_a_warning():
    pictures = sheet(cylinder(), ["front", "right"])
    pictures["top"] = view_picture(cylinder(radius=0.3), "top", size=256)
    # The top view squashed 10% along its depth axis (image up): it no longer agrees with the right view.
    from PIL import Image
    img = Image.fromarray(pictures["top"]).resize((256, 230), Image.NEAREST)
    canvas = np.zeros((256, 256, 4), np.uint8)
    canvas[13:243] = np.asarray(img)
    pictures["top"] = canvas
    r = reconstruct_views(pictures, OPTIONS)
    _assert_clean(r)
    assert len(r.warnings) == 1
    assert "top" in r.warnings[0] and "right" in r.warnings[0] and "depth" in r.warnings[0]


def test_a_blank_view_is_refused_by_name():
    pictures = sheet(cylinder(), ["front"])
    pictures["right"] = np.zeros((256, 256, 4), np.uint8)
    with pytest.raises(InputError, match="right view"):
        reconstruct_views(pictures, OPTIONS)


def test_a_view_of_another_object_is_refused_by_name():
    pictures = sheet(cylinder(radius=0.3, height=0.8), ["front", "right"])
    pictures["top"] = view_picture(box(w=0.6, h=0.8, d=0.1), "top")   # a plank: a sixth of the depth
    with pytest.raises(InputError, match="top view"):
        reconstruct_views(pictures, OPTIONS)


def lollipop(up=True):
    """A disc on a stalk, in the front view's (x, y) plane; upside down when not `up`."""
    sign = 1 if up else -1
    return lambda u, y: (u * u + (y - sign * 0.25) ** 2 < 0.15 ** 2) | ((np.abs(u) < 0.03) & (np.abs(y) < 0.4))


def test_views_whose_outlines_cannot_meet_are_refused():
    # Each view is a possible object and the shared extents agree, but no solid has all three outlines: the
    # front's disc is high where the right view's is low, and the top shows only a diagonal bar.
    front, right = lollipop(True), lollipop(False)
    diagonal = lambda x, z: (np.abs(x - z) < 0.04) & (np.abs(x) < 0.15)  # noqa: E731
    pictures = {"front": view_picture(lambda x, y, z: front(x, y) & (np.abs(z) < 0.15), "front"),
                "right": view_picture(lambda x, y, z: right(-z, y) & (np.abs(x) < 0.15), "right"),
                "top": view_picture(lambda x, y, z: diagonal(x, z) & (np.abs(y) < 0.4), "top")}
    with pytest.raises(InputError, match="same object"):
        reconstruct_views(pictures, OPTIONS)


@pytest.mark.parametrize("names, message", [(["front"], "at least two"), (["right", "top"], "front or a back")])
def test_too_few_views_or_no_front_is_refused(names, message):
    with pytest.raises(InputError, match=message):
        reconstruct_views(sheet(cylinder(), names), OPTIONS)


def test_unknown_view_name_is_refused():
    pictures = sheet(cylinder(), ["front", "right"])
    pictures["side"] = pictures.pop("right")
    with pytest.raises(InputError, match="side"):
        reconstruct_views(pictures, OPTIONS)


def test_back_view_sets_the_frame_without_a_front():
    # A bump on the object's +x side (front frame) appears on the left of the back view.
    bumpy = lambda x, y, z: box(0.5, 0.8, 0.4)(x, y, z) | ((np.abs(x - 0.3) < 0.1) & (np.abs(y) < 0.1) & (np.abs(z) < 0.1))  # noqa: E731
    front = reconstruct_views(sheet(bumpy, ["front", "right"]), OPTIONS)
    back = reconstruct_views(sheet(bumpy, ["back", "right"]), OPTIONS)
    assert back.reference == "back"
    # Centring the silhouette's box moves the body away from the bump's side; seen from the back, mirrored.
    assert _mesh(front).center_mass[0] < -0.03
    assert _mesh(back).center_mass[0] == pytest.approx(-_mesh(front).center_mass[0], abs=0.01)


def test_each_vertex_is_coloured_by_the_view_facing_it():
    pictures = sheet(cylinder(), ["front", "right"])
    pictures["front"][pictures["front"][..., 3] > 0, :3] = (255, 0, 0)
    pictures["right"][pictures["right"][..., 3] > 0, :3] = (0, 255, 0)
    r = reconstruct_views(pictures, OPTIONS)
    assert r.vertex_colors.shape == (len(r.vertices), 4)
    # Away from the caps, whose edge pixels blend with the transparent background.
    body = np.abs(r.vertices[:, 1]) < 0.4
    facing_front = body & (r.vertices[:, 2] > 0.3)        # the cylinder's front, |x| small
    facing_right = body & (r.vertices[:, 0] > 0.3)        # the right view looks at +x
    assert (r.vertex_colors[facing_front & (np.abs(r.vertices[:, 0]) < 0.1), 0] > 200).all()
    assert (r.vertex_colors[facing_right & (np.abs(r.vertices[:, 2]) < 0.1), 1] > 200).all()


def test_a_top_view_showing_corners_squares_the_slices_and_a_round_one_keeps_them_round(monkeypatch):
    import inference.sheets as sheets
    views = sheet(box(), ["front", "right", "top"])
    square = _fill_ratio(reconstruct_views(views, OPTIONS))
    monkeypatch.setattr(sheets, "ADAPT_ROUNDNESS", False)
    elliptic = _fill_ratio(reconstruct_views(views, OPTIONS))
    assert square > 0.95 and square > elliptic + 0.03
    monkeypatch.setattr(sheets, "ADAPT_ROUNDNESS", True)
    # Seen from the top as a disc, the horizontal slices stay ellipses: the cylinder keeps pi/4.
    cyl = reconstruct_views(sheet(cylinder(), ["front", "right", "top"]), OPTIONS)
    assert abs(_fill_ratio(cyl) - np.pi / 4) < 0.05


def test_the_silhouette_restoring_fit_puts_a_shrunk_mesh_back_on_the_views():
    from inference.sheets import view_silhouette_iou
    from inference.sheets_fit import restore_silhouettes

    r = reconstruct_views(sheet(cylinder(), ["front", "right", "top"]), OPTIONS, restore_steps=0)
    shrunk = (r.vertices * np.array([0.92, 0.92, 0.92], np.float32)).astype(np.float32)
    before = [view_silhouette_iou(shrunk, r.faces, v) for v in r.views.values()]
    restored, report = restore_silhouettes(shrunk, r.faces, r.views, steps=40)
    after = [view_silhouette_iou(restored, r.faces, v) for v in r.views.values()]
    assert report["kept"] and report["crossing_faces_after"] == 0
    assert min(after) > min(before) + 0.03
    assert self_intersections(restored, r.faces) == 0
    # Nothing to gain: the input comes back as it was.
    again, report = restore_silhouettes(restored, r.faces, r.views, steps=1)
    assert report["kept"] or np.array_equal(again, restored)


def test_the_mesh_comes_near_the_asked_vertex_count_where_the_remesher_refuses_the_fine_grid(monkeypatch):
    """When the remesher refuses the surface marched at MARCH_OVERSAMPLING times the vertices (seen on one
    machine for this box's front + right; another machine's slightly different surface was accepted, so the
    refusal is made here rather than hoped for), the coarser grid's surface is remeshed instead."""
    import inference.cleanup as cleanup
    import inference.sheets as sheets

    views = {"front": view_picture(box(), "front", size=256), "right": view_picture(box(), "right", size=200)}
    r = reconstruct_views(views, OPTIONS)
    _assert_clean(r)
    assert r.info["remeshed"] and abs(len(r.vertices) - 1200) < 0.25 * 1200
    real = cleanup.clean_up
    refused_sizes = []

    def refusing_the_fine_grid(vertices, faces, target_vertices, **kwargs):
        if len(vertices) > 3 * target_vertices:   # the MARCH_OVERSAMPLING (4x) surface, not the 2x fallback's
            refused_sizes.append(len(vertices))
            v, f, report = real(vertices, faces, target_vertices, untangle=kwargs.get("untangle", True),
                                remesh=False)
            return v, f, report | {"remesh_rejected": "refused by the test"}
        return real(vertices, faces, target_vertices, **kwargs)

    monkeypatch.setattr(cleanup, "clean_up", refusing_the_fine_grid)
    fallen = reconstruct_views(views, OPTIONS)
    _assert_clean(fallen)
    assert refused_sizes and fallen.info["remeshed"] and "resolution" in fallen.info
    assert abs(len(fallen.vertices) - 1200) < 0.25 * 1200
    monkeypatch.setattr(sheets, "FALLBACK_OVERSAMPLING", sheets.MARCH_OVERSAMPLING)   # no coarser grid to fall to
    refused = reconstruct_views(views, OPTIONS)
    assert not refused.info["remeshed"] and len(refused.vertices) > 2 * 1200
