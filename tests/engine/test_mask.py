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
