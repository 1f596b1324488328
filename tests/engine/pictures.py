"""Pictures and masks made for the engine tests."""
import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage


def draw_object(size=(320, 240), background=None, offset=(0, 0)):
    """An RGBA picture of a two-part object (a disc and a bar) on transparency or on a colour."""
    w, h = size
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    ox, oy = offset
    d.ellipse((w * 0.3 + ox, h * 0.2 + oy, w * 0.7 + ox, h * 0.8 + oy), fill=(200, 40, 40, 255))
    d.rectangle((w * 0.2 + ox, h * 0.45 + oy, w * 0.8 + ox, h * 0.55 + oy), fill=(30, 110, 200, 255))
    if background is None:
        return im
    bg = Image.new("RGBA", size, background + (255,))
    bg.alpha_composite(im)
    return bg


def synthetic_masks(size=128):
    from inference.frame import grid_coordinates
    xy = grid_coordinates(size)
    x, y = xy[..., 0], xy[..., 1]
    r, th = np.hypot(x, y), np.arctan2(y, x)
    masks = {
        "disc": r < 0.5,
        "ellipse": (x / 0.5) ** 2 + (y / 0.22) ** 2 < 1,
        "L": ((np.abs(x) < 0.5) & (y < -0.3) & (y > -0.5)) | ((x < -0.3) & (x > -0.5) & (np.abs(y) < 0.5)),
        "star": r < 0.5 * (0.6 + 0.4 * np.cos(5 * th)),
        "chair": (((np.abs(x) < 0.4) & (np.abs(y + 0.02) < 0.05))
                  | ((np.abs(np.abs(x) - 0.35) < 0.05) & (y > -0.5) & (y < 0.5))
                  | ((np.abs(x) < 0.4) & (y > 0.38) & (y < 0.5))),
    }
    # The pipeline fills holes before building the template (one closed genus-0 surface), so do the same.
    return {k: ndimage.binary_fill_holes(m) for k, m in masks.items()}
