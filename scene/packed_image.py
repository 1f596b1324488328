"""Images made from pixels, packed into the .blend as PNG files that are written here.

`image.pack()` on a generated image has Blender encode its own PNG: 25-30 ms for a 512-pixel texture on the
development machine, the largest single cost after the texture itself of building a Fill Sides object. The
same bytes Blender would store (its float-to-byte rounding, written out below) are encoded here instead: PNG's
Up filter and zlib's run-length strategy, which is as quick as its fastest level and smaller than Blender's own
file on these smooth textures. The image is then an ordinary packed PNG (source FILE, as `pack()` leaves it): it
survives saving, reopening and undo like any packed file, and Blender decodes it when something first shows it.
The encoder needs only numpy and the standard library (zlib lets go of the GIL, so two encode at once)."""
from __future__ import annotations

import struct
import zlib

import numpy as np

ZLIB_LEVEL = 1


def to_bytes(rgba: np.ndarray) -> np.ndarray:
    """uint8 pixels as Blender stores float pixels set on a byte image (`pixels.foreach_set`); uint8 as it is
    (its /255 floats come back to the same bytes)."""
    rgba = np.asarray(rgba)
    if rgba.dtype == np.uint8:
        return rgba
    # Blender: 0 at or below 0, 255 above 1 - 0.5/255, else (uchar)(255 v + 0.5) in float32. Clipping 255 v + 0.5
    # to [0, 255] before the cast is the same for every float32 (checked for all of them from 0.99 to 1.01 and a
    # million others; tests/blender/test_artist_output.py compares with Blender itself).
    scaled = np.multiply(rgba, np.float32(255.0), dtype=np.float32)
    scaled += np.float32(0.5)
    np.clip(scaled, 0.0, 255.0, out=scaled)
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
            + chunk(b"IDAT", _deflate(filtered)) + chunk(b"IEND", b""))


def _deflate(data: np.ndarray) -> bytes:
    packer = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return packer.compress(data) + packer.flush()


def packed_image(name: str, rgba_top_down: np.ndarray, data: bytes | None = None):
    """A new image datablock holding these pixels as a packed PNG (what `images.new`, `pixels.foreach_set` and
    `pack()` made, byte for byte in the pixels). `data`: their png_bytes, when already encoded."""
    import bpy
    height, width = rgba_top_down.shape[:2]
    if data is None:
        data = png_bytes(rgba_top_down)
    image = bpy.data.images.new(name, width, height, alpha=True)
    try:
        image.pack(data=data, data_len=len(data))
        image.source = 'FILE'   # read from the packed file from now on, as pack() leaves a generated image
    except Exception:
        bpy.data.images.remove(image)
        raise
    return image
