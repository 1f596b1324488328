import numpy as np
import pytest
from PIL import Image

from inference import NoObjectError
from inference.image_io import as_rgba
from inference.mask import bounding_box, extract_mask

from pictures import draw_object


def truth():
    return np.asarray(draw_object())[..., 3] > 127


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_transparency_is_used_when_present():
    m, method = extract_mask(as_rgba(np.asarray(draw_object())))
    assert method == "alpha" and iou(m, truth()) > 0.99


@pytest.mark.parametrize("colour", [(255, 255, 255), (30, 30, 30), (120, 200, 120)])
def test_plain_background_is_separated(colour):
    m, method = extract_mask(as_rgba(np.asarray(draw_object(background=colour))))
    assert method == "border colour" and iou(m, truth()) > 0.95


def test_noisy_background_and_jpeg(tmp_path):
    rng = np.random.default_rng(0)
    img = np.asarray(draw_object(background=(245, 245, 245)).convert("RGB")).astype(float)
    img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "n.jpg", quality=70)
    m, _ = extract_mask(as_rgba(np.asarray(Image.open(tmp_path / "n.jpg"))))
    assert iou(m, truth()) > 0.93


def test_holes_are_filled_and_specks_dropped():
    img = np.asarray(draw_object(background=(255, 255, 255))).copy()
    img[115:125, 155:165] = 255            # a white hole inside the disc
    img[5:8, 5:8] = (0, 0, 0, 255)         # a speck of dirt
    m, _ = extract_mask(as_rgba(img))
    assert m[120, 160] and not m[6, 6]
    assert iou(m, truth()) > 0.95


@pytest.mark.parametrize("make,message", [
    (lambda: np.full((100, 100, 4), 255, np.uint8), "empty|uniform|small"),
    (lambda: np.zeros((100, 100, 4), np.uint8), "transparent"),
    (lambda: np.random.default_rng(1).integers(0, 255, (100, 100, 3)).astype(np.uint8), "not plain"),
    (lambda: np.concatenate([np.full((100, 100, 3), 40, np.uint8)], axis=2), "empty|uniform|small"),
])
def test_unusable_images_explain_what_to_do(make, message):
    with pytest.raises(NoObjectError, match=message) as info:
        extract_mask(as_rgba(make()))
    assert "cut-out PNG" in str(info.value)


def test_object_covering_the_frame_is_refused():
    img = np.zeros((100, 100, 4), np.uint8)
    img[..., 3] = 255
    img[..., 0] = 200
    img[0, 0, 3] = 0  # one transparent pixel: the picture "has" alpha but the object fills it
    with pytest.raises(NoObjectError, match="whole frame"):
        extract_mask(as_rgba(img))


def test_bounding_box_is_in_pixel_edges():
    m = np.zeros((10, 10), bool)
    m[2:5, 3:9] = True
    assert bounding_box(m) == (3, 2, 9, 5)


def test_separate_objects_are_found_largest_first():
    from inference.mask import extract_objects
    img = np.zeros((200, 300, 4), np.uint8)
    img[40:160, 20:120] = (200, 30, 30, 255)     # large
    img[80:140, 180:260] = (30, 30, 200, 255)    # smaller
    img[90:110, 60:80, 3] = 0                     # a hole in the large one: filled, not a third object
    img[5:7, 290:292] = (0, 0, 0, 255)            # a speck: dropped
    masks, method = extract_objects(as_rgba(img))
    assert method == "alpha" and len(masks) == 2
    assert masks[0].sum() == 120 * 100 and masks[1].sum() == 60 * 80


def _block_with_wire_legs(background, scale):
    """A solid block over a wire leg (`scale` pixels wide, running diagonally from its corner, then along the
    floor) and a speck of dirt away from it, on a picture 240 * `scale` pixels square."""
    n, ink = 240 * scale, (90, 60, 140, 255)
    img = np.zeros((n, n, 4), np.uint8) if background is None else np.full((n, n, 4), (*background, 255), np.uint8)
    img[40 * scale:120 * scale, 80 * scale:200 * scale] = ink
    for i in range(80 * scale):        # diagonal: at scale 1 its pixels touch only at their corners
        img[120 * scale + i, 80 * scale - i:80 * scale - i + scale] = ink
    img[200 * scale - scale:200 * scale, 0:60 * scale] = ink
    img[220 * scale:223 * scale, 220 * scale:223 * scale] = ink
    return img


# A cut-out at 1 pixel a wire (4-connected labelling had cut the diagonal into specks); over white at 4 (the
# backdrop's smoothing, an opening of radius 3 at this size, removes it whole).
@pytest.mark.parametrize("background,scale", [(None, 1), ((255, 255, 255), 4)])
def test_a_wire_stays_part_of_its_object(background, scale):
    from inference.mask import extract_objects
    masks, _ = extract_objects(as_rgba(_block_with_wire_legs(background, scale)))
    # The wire belongs to the block: the object's box is the picture's, not the block's, and the speck is dropped.
    assert len(masks) == 1
    box = np.array(bounding_box(masks[0])) / scale
    assert np.abs(box - (0, 40, 200, 200)).max() <= 1
    m = masks[0][::scale, ::scale]
    assert m[199, 10] and m[160, 40] and not m[221, 221]
