"""The frame's grid sampling: what it reads of a window is what it would read of the whole picture."""
import numpy as np
from scipy import ndimage

from inference.frame import FRAME_HALF_EXTENT, Frame


def _whole_picture(frame: Frame, image, size: int, order: int) -> np.ndarray:
    """The sampling done on the whole picture: every pixel converted and filtered, then sampled."""
    img = np.asarray(image, np.float32)
    squeeze = img.ndim == 2
    img = img[:, :, None] if squeeze else img
    step = 2 * FRAME_HALF_EXTENT / size / frame.pixel_size
    if step > 1.5:
        img = ndimage.gaussian_filter(img, sigma=(0.4 * step, 0.4 * step, 0))
    p = frame.grid_pixels(size)
    out = np.stack([ndimage.map_coordinates(img[:, :, c], [p[..., 1] - 0.5, p[..., 0] - 0.5], order=order,
                                            mode="constant", cval=0.0) for c in range(img.shape[2])], axis=-1)
    return out[:, :, 0] if squeeze else out


def test_the_grid_reads_the_same_values_from_its_window_as_from_the_whole_picture():
    """Boxes inside, across and beyond the picture's edges, colour and mask pictures, grids coarser and finer than
    the picture: bit for bit the whole picture's values (a window one pixel too small changes the filtered ones)."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        h, w = (int(x) for x in rng.integers(20, 500, 2))
        image = rng.random((h, w, 3)).astype(np.float32) if trial % 2 else rng.random((h, w)) > 0.5
        x0, y0 = int(rng.integers(-40, w)), int(rng.integers(-40, h))
        frame = Frame.from_box((x0, y0, x0 + int(rng.integers(1, w + 50)), y0 + int(rng.integers(1, h + 50))), w, h)
        for size in (64, 256):
            for order in (0, 1):
                got, want = frame.sample_grid(image, size, order), _whole_picture(frame, image, size, order)
                assert got.dtype == want.dtype and np.array_equal(got, want), (trial, size, order)
