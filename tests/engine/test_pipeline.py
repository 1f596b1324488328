import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from inference import InputError, NoObjectError, ReconstructionOptions, reconstruct
from inference.frame import Frame

from pictures import draw_object


def test_frame_convention(tmp_path, fast_options):
    # An object in the top-right quarter of a wide picture.
    im = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    im.paste(draw_object((160, 80)), (220, 10))
    path = tmp_path / "corner.png"
    im.save(path)
    r = reconstruct(path, fast_options)
    lo, hi = r.vertices.min(axis=0), r.vertices.max(axis=0)
    # Longer side of the silhouette box is 1 and centred on x = y = 0; +y is image up.
    assert abs((hi[0] - lo[0]) - 1.0) < 0.03
    assert abs(hi[0] + lo[0]) < 0.03 and abs(hi[1] + lo[1]) < 0.03
    assert hi[1] - lo[1] < 0.7
    # Depth is centred too, and the front is toward +z.
    assert abs(hi[2] + lo[2]) < 0.05
    # UVs land on the object's pixels, in the top-right part of the picture (v up).
    assert r.uvs[:, 0].min() > 0.5 and r.uvs[:, 1].min() > 0.5
    # Rim vertices sit on the outline itself, so allow the outline's own pixel width.
    inside = ndimage.binary_dilation(np.asarray(im)[..., 3] > 0, iterations=2)
    px = np.clip((r.uvs[:, 0] * 400).astype(int), 0, 399)
    py = np.clip(((1 - r.uvs[:, 1]) * 200).astype(int), 0, 199)
    assert inside[py, px].mean() > 0.98


def test_frame_maps_up_to_plus_y():
    f = Frame.from_box((10, 20, 30, 60), 100, 100)
    top = f.to_frame(np.array([20.0, 20.0]))
    assert np.allclose(top, [0.0, 0.5])
    assert np.allclose(f.to_pixels(f.to_frame(np.array([[3.0, 7.0]]))), [[3.0, 7.0]])
    assert np.allclose(f.rescaled(200, 200).to_frame(np.array([40.0, 40.0])), top)


def test_array_input_and_user_mask(fast_options):
    rgba = np.asarray(draw_object(background=(255, 255, 255)))
    r = reconstruct(rgba, fast_options, name="arr")
    assert r.name == "arr" and r.image.shape == (240, 320, 4) and r.uvs.shape == (len(r.vertices), 2)
    user_mask = np.zeros((240, 320), bool)
    user_mask[60:180, 100:220] = True        # a square: the result must follow it, not the picture
    r2 = reconstruct(rgba, fast_options, mask=user_mask)
    assert abs(np.ptp(r2.vertices[:, 0]) - np.ptp(r2.vertices[:, 1])) < 0.05


def test_progress_is_monotonic_and_complete(object_png, fast_options):
    seen = []
    reconstruct(object_png, fast_options, progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"load", "mask", "template", "fit", "cleanup", "finish"} <= {s for s, _ in seen}


def test_no_refine_skips_the_fit(object_png, fast_options):
    fast_options.refine = False
    r = reconstruct(object_png, fast_options)
    assert r.timings["fit"] < 0.05


@pytest.mark.parametrize("bad", [
    {"template_vertices": 5}, {"template_vertices": 10**7}, {"device": "tpu"}, {"model": "no-such-model"}])
def test_bad_options(object_png, bad):
    with pytest.raises(InputError):
        reconstruct(object_png, ReconstructionOptions(refine_steps=5, **bad))


def test_empty_image(tmp_path):
    Image.new("RGB", (64, 64), (255, 255, 255)).save(tmp_path / "white.png")
    with pytest.raises(NoObjectError):
        reconstruct(tmp_path / "white.png")


def test_large_image_is_processed_on_a_working_copy(tmp_path, fast_options):
    big = draw_object((3000, 2000), background=(255, 255, 255))
    big.convert("RGB").save(tmp_path / "big.jpg", quality=90)
    r = reconstruct(tmp_path / "big.jpg", fast_options)
    assert max(r.mask.shape) <= 1024 and r.image.shape[:2] == (2000, 3000)


def test_each_object_of_a_picture_can_be_reconstructed(fast_options):
    img = np.zeros((200, 300, 4), np.uint8)
    img[40:160, 20:120] = (200, 30, 30, 255)
    img[80:140, 180:260] = (30, 30, 200, 255)
    first = reconstruct(img, fast_options)
    assert first.info["object_count"] == 2 and first.uvs[:, 0].max() < 0.45
    fast_options.object_index = 1
    second = reconstruct(img, fast_options)
    assert second.uvs[:, 0].min() > 0.55     # the small object on the right
    fast_options.object_index = 2
    with pytest.raises(InputError, match="2 separate"):
        reconstruct(img, fast_options)


def test_the_shipped_learned_prior_runs_end_to_end(object_png, fast_options):
    """The weights in the repository load (checksum verified) and give a closed mesh through the fit."""
    import trimesh
    from inference import prior
    model = prior.default_model()
    assert model is not None, "no weights ship in inference/networks/weights"
    assert ReconstructionOptions().model == "auto"     # the learned prior is the default path
    fast_options.model = "auto"
    r = reconstruct(object_png, fast_options)
    assert r.info["model"] == model and "warning" not in r.info
    mesh = trimesh.Trimesh(r.vertices, r.faces, process=False)
    assert mesh.is_watertight and mesh.volume > 0
    assert abs(np.ptp(r.vertices[:, 0]) - 1.0) < 0.05
    # The clean-up leaves no face that another part of the surface passes through.
    from inference.metrics import self_intersections
    assert r.info["self_intersections"]["crossing_faces_after"] == 0 == self_intersections(r.vertices, r.faces)


def test_the_clean_up_can_be_switched_off(object_png, fast_options):
    fast_options.untangle = False
    r = reconstruct(object_png, fast_options)
    assert "cleanup" not in r.timings and "self_intersections" not in r.info


def test_the_output_is_remeshed_to_even_triangles(object_png, fast_options):
    from inference.metrics import edge_length_spread, is_watertight
    even = reconstruct(object_png, fast_options)
    fast_options.remesh = False
    kept = reconstruct(object_png, fast_options)
    assert even.info["remeshed"] and not kept.info["remeshed"] and "remesh" not in kept.timings
    assert is_watertight(even.faces) and even.info["self_intersections"]["crossing_faces_after"] == 0
    assert edge_length_spread(even.vertices, even.faces) < 0.18 < edge_length_spread(kept.vertices, kept.faces)
    assert 0.7 * fast_options.template_vertices < len(even.vertices) < 1.3 * fast_options.template_vertices


def test_a_dense_learned_mesh_is_made_at_the_network_cap_and_refined_by_the_remesher(object_png, fast_options):
    """Above NETWORK_MAX_VERTICES the network and fit run at that density and the remesher refines the clean
    surface to the density asked for, so a dense learned mesh has no crossings either."""
    from inference import pipeline
    from inference.metrics import is_watertight
    fast_options.model = "auto"
    fast_options.template_vertices = pipeline.NETWORK_MAX_VERTICES + 3000
    r = reconstruct(object_png, fast_options)
    assert r.info["remeshed"] and is_watertight(r.faces)
    assert r.info["network_vertices"] < 1.1 * pipeline.NETWORK_MAX_VERTICES
    assert r.info["self_intersections"]["crossing_faces_after"] == 0
    assert 0.8 * fast_options.template_vertices < len(r.vertices) < 1.3 * fast_options.template_vertices


@pytest.mark.parametrize("shape", ["small_disk", "two_disks", "cross"])
def test_the_settling_fit_comes_back_without_crossings_and_never_with_a_worse_outline(shape):
    # A sphere settled onto outlines it does not fit: the 50-step fit folds it (19-104 crossing faces here).
    import torch
    import trimesh

    from inference import pipeline
    from inference.frame import FRAME_HALF_EXTENT
    from inference.untangle import intersecting_faces

    sphere = trimesh.creation.icosphere(4)
    vertices = (sphere.vertices * FRAME_HALF_EXTENT * 0.6).astype(np.float32)
    faces = np.asarray(sphere.faces)
    yy, xx = np.mgrid[:256, :256]
    mask = {"small_disk": np.hypot(yy - 128, xx - 128) < 40,
            "two_disks": (np.hypot(yy - 128, xx - 70) < 45) | (np.hypot(yy - 128, xx - 186) < 45),
            "cross": ((abs(yy - 128) < 12) & (abs(xx - 128) < 110)) | ((abs(xx - 128) < 12) & (abs(yy - 128) < 110))}[shape]
    settled, moved = pipeline._settle(vertices, faces, mask, torch.device("cpu"), None)
    assert not intersecting_faces(settled, faces).any()
    assert moved and pipeline._outline_error(settled, faces, mask) < 0.7 * pipeline._outline_error(vertices, faces, mask)
