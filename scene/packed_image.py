"""Images made from pixels, packed into the .blend as PNG files that are written here.

`image.pack()` on a generated image has Blender encode its own PNG: about 60 ms for a 512-pixel texture on the
development machine, the largest single cost of building a Fill Sides object. The same bytes Blender would store
(its float-to-byte rounding, written out below) are encoded here instead: PNG's Up filter and zlib's fastest
level, about a third of the time for a file a little larger. The image is then an ordinary packed PNG (source
FILE, as `pack()` leaves it): it survives saving, reopening and undo like any packed file, and Blender decodes
it when something first shows it. The encoder needs only numpy and the standard library."""
from __future__ import annotations

import struct
import zlib

import numpy as np

# Blender's unit_float_to_uchar_clamp: 0 at or below 0, 255 above this, else (uchar)(255 v + 0.5) in float32.
_TOP = np.float32(1.0 - 0.5 / 255.0)
ZLIB_LEVEL = 1


def to_bytes(rgba: np.ndarray) -> np.ndarray:
    """uint8 pixels as Blender stores float pixels set on a byte image (`pixels.foreach_set`); uint8 as it is
    (its /255 floats come back to the same bytes)."""
    rgba = np.asarray(rgba)
    if rgba.dtype == np.uint8:
        return rgba
    v = rgba.astype(np.float32, copy=False)
    scaled = np.multiply(v, np.float32(255.0), dtype=np.float32)
    scaled += np.float32(0.5)
    scaled[v > _TOP] = 255.0
    scaled[~(v > 0)] = 0.0     # (a NaN, which Blender's cast leaves undefined, gives 0)
    return scaled.astype(np.uint8)


def png_bytes(rgba_top_down: np.ndarray) -> bytes:
    """An 8-bit RGBA PNG of (height, width, 4) pixels, rows top-down (float 0..1, or uint8)."""
    pixels = to_bytes(rgba_top_down)
    height, width = pixels.shape[:2]
    rows = np.ascontiguousarray(pixels).reshape(height, width * 4)
    filtered = np.empty((height, width * 4 + 1), np.uint8)
    filtered[:, 0] = 2                      # Up: each byte less the one above it (mod 256)
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)   # 8 bits, RGBA, deflate, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(filtered.tobytes(), ZLIB_LEVEL)) + chunk(b"IEND", b""))


def packed_image(name: str, rgba_top_down: np.ndarray):
    """A new image datablock holding these pixels as a packed PNG (what `images.new`, `pixels.foreach_set` and
    `pack()` made, byte for byte in the pixels)."""
    import bpy
    height, width = rgba_top_down.shape[:2]
    data = png_bytes(rgba_top_down)
    image = bpy.data.images.new(name, width, height, alpha=True)
    try:
        image.pack(data=data, data_len=len(data))
        image.source = 'FILE'   # read from the packed file from now on, as pack() leaves a generated image
    except Exception:
        bpy.data.images.remove(image)
        raise
    return image
