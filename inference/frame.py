"""The evaluation frame and the square grid the fit and the networks work on.

Frame: +x image right, +y image up, +z toward the viewer, orthographic along z. The foreground's
bounding box maps to a box centred on x = y = 0 whose longer side is 1. The grid covers
[-FRAME_HALF_EXTENT, FRAME_HALF_EXTENT]^2 of that frame; row 0 is the top (+y), column 0 the left (-x)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

FRAME_HALF_EXTENT = 0.55


@dataclass(frozen=True)
class Frame:
    """Where the evaluation frame lies in an image of a given size (pixel coordinates: x right, y down,
    pixel (0, 0) covers [0, 1) x [0, 1))."""
    cx: float          # bounding-box centre, pixels
    cy: float
    pixel_size: float  # frame units per pixel (1 / longer side of the bounding box in pixels)
    width: int         # image size the frame refers to
    height: int

    @classmethod
    def from_box(cls, box: tuple[int, int, int, int], width: int, height: int) -> "Frame":
        x0, y0, x1, y1 = box
        return cls((x0 + x1) / 2.0, (y0 + y1) / 2.0, 1.0 / max(x1 - x0, y1 - y0), width, height)

    def rescaled(self, width: int, height: int) -> "Frame":
        """The same frame for the same picture stored at another resolution."""
        sx, sy = width / self.width, height / self.height
        return Frame(self.cx * sx, self.cy * sy, self.pixel_size / sx, width, height)

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack([self.cx + xy[..., 0] / self.pixel_size, self.cy - xy[..., 1] / self.pixel_size], axis=-1)

    def to_frame(self, pxy: np.ndarray) -> np.ndarray:
        pxy = np.asarray(pxy, dtype=np.float64)
        return np.stack([(pxy[..., 0] - self.cx) * self.pixel_size, (self.cy - pxy[..., 1]) * self.pixel_size], axis=-1)

    def uvs(self, xy: np.ndarray) -> np.ndarray:
        """Front-projection texture coordinates into the whole image (v up, as Blender and glTF readers expect
        after their own flips: u = px / W, v = 1 - py / H)."""
        p = self.to_pixels(xy)
        return np.stack([p[..., 0] / self.width, 1.0 - p[..., 1] / self.height], axis=-1).astype(np.float32)

    def image_frame(self):
        """`uvs` as the linear map it is (contract.ImageFrame), so Blender need not fit it back from the UVs."""
        from .contract import ImageFrame
        return ImageFrame(u_scale=1.0 / (self.pixel_size * self.width), u_offset=self.cx / self.width,
                          v_scale=1.0 / (self.pixel_size * self.height), v_offset=1.0 - self.cy / self.height)

    def grid_pixels(self, size: int) -> np.ndarray:
        """Pixel coordinates (size, size, 2) of the centres of the grid cells."""
        c = (np.arange(size) + 0.5) / size * 2 * FRAME_HALF_EXTENT - FRAME_HALF_EXTENT
        xs, ys = np.meshgrid(c, -c)
        return self.to_pixels(np.stack([xs, ys], axis=-1))

    def sample_grid(self, image: np.ndarray, size: int, order: int = 1) -> np.ndarray:
        """Resample an image in this frame's pixel space onto the size x size grid (zero outside the image)."""
        img = np.asarray(image)
        squeeze = img.ndim == 2
        if squeeze:
            img = img[:, :, None]
        step = 2 * FRAME_HALF_EXTENT / size / self.pixel_size   # image pixels per grid cell
        # Averaging before point sampling avoids aliasing when the grid is much coarser than the image.
        sigma = 0.4 * step if step > 1.5 else 0.0
        p = self.grid_pixels(size)
        rows, cols = p[..., 1] - 0.5, p[..., 0] - 0.5
        # Only the window the grid reads is converted and filtered: the cells, their interpolation neighbours and
        # the filter's reach (scipy's radius, int(4 sigma + 0.5)). Every value read is the whole image's, bit for
        # bit, and an object small in a large picture costs its own size (the network's colour grid: 16-21 ms).
        reach = (int(4.0 * sigma + 0.5) if sigma else 0) + 2
        r0, c0 = max(int(np.floor(rows.min())) - reach, 0), max(int(np.floor(cols.min())) - reach, 0)
        r1 = min(int(np.ceil(rows.max())) + reach + 1, img.shape[0])
        c1 = min(int(np.ceil(cols.max())) + reach + 1, img.shape[1])
        if r1 <= r0 or c1 <= c0:   # the grid lies wholly outside the image
            return np.zeros((size, size) if squeeze else (size, size, img.shape[2]), np.float32)
        window = img[r0:r1, c0:c1].astype(np.float32)
        if sigma:
            window = ndimage.gaussian_filter(window, sigma=(sigma, sigma, 0))
        coords = [rows - r0, cols - c0]
        out = np.stack([ndimage.map_coordinates(window[:, :, c], coords, order=order, mode="constant", cval=0.0)
                        for c in range(img.shape[2])], axis=-1)
        return out[:, :, 0] if squeeze else out


def grid_coordinates(size: int) -> np.ndarray:
    """Frame (x, y) of every grid cell centre, (size, size, 2)."""
    c = (np.arange(size) + 0.5) / size * 2 * FRAME_HALF_EXTENT - FRAME_HALF_EXTENT
    xs, ys = np.meshgrid(c, -c)
    return np.stack([xs, ys], axis=-1)
