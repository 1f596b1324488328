"""Where the picture comes from, and how it is handed to the worker.

A picture that exists unchanged in a format the engine reads is sent as an absolute path: the
worker reads the original bytes. Everything else (packed, generated, edited, float/EXR, movie frames,
formats the engine cannot decode) is sent as pixels: read with `foreach_get`, turned top-down, and
written to a temporary .npy file."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import bpy
import numpy as np

# Formats the engine decodes itself (inference/image_io.py); other files go as pixels.
ENGINE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"}
# Extensions stripped from datablock names to name the object ("mug.png" -> "mug").
IMAGE_SUFFIXES = ENGINE_SUFFIXES | {".exr", ".hdr", ".tga", ".dds", ".jp2", ".j2c", ".cin", ".dpx", ".psd", ".sgi", ".rgb"}


class SourceError(Exception):
    """No usable picture; the message tells the artist what to do."""


def object_name(name: str) -> str:
    stem, suffix = os.path.splitext(name)
    return stem if suffix.lower() in IMAGE_SUFFIXES and stem else name


@dataclass(frozen=True)
class ImageSource:
    """A picture to reconstruct. `image_name` names an existing datablock to texture with; when it is
    empty the file at `path` is loaded as the texture once the mesh is built."""
    name: str                 # object (and output) name
    path: str = ""            # absolute path the worker may read directly ("" = send pixels)
    image_name: str = ""      # datablock holding the picture
    # The picture as the engine used it (uint8 RGBA, rows top-down) when that differs from the file as Blender
    # would load it: a phone JPEG's EXIF turn undone, an animated GIF's first frame.
    texture: object = field(default=None, compare=False, hash=False, repr=False)

    @property
    def sends_pixels(self) -> bool:
        return not self.path

    def image(self):
        """The datablock to use as the texture (loaded from `path` if needed). Call only when building."""
        if self.texture is not None:
            return _image_from_pixels(self.name, np.asarray(self.texture))
        if self.image_name:
            image = bpy.data.images.get(self.image_name)
            if image is not None:
                return image
            if not self.path:
                raise SourceError(f"The image '{self.image_name}' was removed while the mesh was being made.")
        return bpy.data.images.load(self.path, check_existing=True)

    def request(self, temp_dir: str) -> tuple[dict, str]:
        """The worker request's image fields, and a key that changes whenever the picture does."""
        if not self.sends_pixels:
            stat = os.stat(self.path) if os.path.exists(self.path) else None
            key = f"path:{self.path}:{stat.st_mtime_ns if stat else 0}:{stat.st_size if stat else 0}"
            return {"image_path": self.path, "name": self.name}, key
        image = bpy.data.images.get(self.image_name)
        if image is None:
            raise SourceError(f"The image '{self.image_name}' no longer exists.")
        pixels = image_pixels(image)
        array_path = os.path.join(temp_dir, "image.npy")
        np.save(array_path, pixels)
        key = "pixels:" + hashlib.blake2b(pixels.tobytes(), digest_size=16).hexdigest()
        return {"image_array_path": array_path, "name": self.name}, key


def _image_from_pixels(name: str, rgba: np.ndarray):
    # Packed, the pixels survive a save and reach the exporters (GLB embeds packed images).
    from .packed_image import packed_image
    return packed_image(name, rgba)


def from_file(filepath: str, name: str = "") -> ImageSource:
    path = os.path.abspath(bpy.path.abspath(filepath))
    name = name or object_name(os.path.basename(path))
    if os.path.splitext(path)[1].lower() in IMAGE_SUFFIXES - ENGINE_SUFFIXES and os.path.isfile(path):
        # EXR, HDR, TGA...: the engine cannot decode them, Blender can. Their pixels go to the worker as a float
        # array, the same way these pictures travel when opened as image datablocks.
        image = None
        try:
            image = bpy.data.images.load(path, check_existing=True)
            if image.size[0] == 0 or image.size[1] == 0:
                raise RuntimeError("no pixels")
        except RuntimeError as exc:
            if image is not None and image.users == 0:
                bpy.data.images.remove(image)
            raise SourceError(f"'{os.path.basename(path)}' could not be read by Blender ({exc}). Re-save it as "
                              "PNG or EXR.") from None
        return ImageSource(name=name, image_name=image.name)
    return ImageSource(name=name, path=path)


def from_image(image) -> ImageSource:
    """A datablock as a source: by path when the file on disk is exactly what the datablock shows."""
    path = _unchanged_file(image)
    return ImageSource(name=object_name(image.name), path=path or "", image_name=image.name)


def _unchanged_file(image) -> str | None:
    if image.source != 'FILE' or image.packed_file is not None or image.is_dirty or image.is_float:
        return None
    path = os.path.abspath(bpy.path.abspath(image.filepath, library=image.library))
    if os.path.splitext(path)[1].lower() not in ENGINE_SUFFIXES or not os.path.isfile(path):
        return None
    return path


def image_pixels(image) -> np.ndarray:
    """The datablock's pixels as float32 RGBA, rows top-down, straight alpha, display (sRGB-like) values."""
    width, height = image.size
    channels = image.channels
    if width == 0 or height == 0 or channels == 0:
        raise SourceError(f"The image '{image.name}' has no pixels (is its file missing?). "
                          "Reload it or pick another image.")
    flat = np.empty(width * height * channels, dtype=np.float32)
    image.pixels.foreach_get(flat)
    pixels = flat.reshape(height, width, channels)[::-1]   # Blender stores rows bottom-up
    if channels == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    elif channels == 2:
        pixels = np.concatenate([np.repeat(pixels[:, :, :1], 3, axis=2), pixels[:, :, 1:]], axis=2)
    if pixels.shape[2] == 3:
        pixels = np.concatenate([pixels, np.ones_like(pixels[:, :, :1])], axis=2)
    pixels = np.array(pixels[:, :, :4], dtype=np.float32)
    if image.is_float:
        # Float buffers hold premultiplied, scene-linear colour; the engine separates the object by
        # colour contrast as a viewer sees it, so hand it straight alpha and sRGB-encoded values.
        alpha = pixels[:, :, 3:4]
        rgb = np.where(alpha > 1e-6, pixels[:, :, :3] / np.maximum(alpha, 1e-6), 0.0)
        if not image.colorspace_settings.is_data:
            rgb = _linear_to_srgb(np.clip(rgb, 0.0, 1.0))
        pixels[:, :, :3] = rgb
    return np.ascontiguousarray(np.clip(pixels, 0.0, 1.0))


def _linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055).astype(np.float32)


def from_context(context) -> ImageSource | None:
    """The Image Editor's image, else the image of the active (or only selected) image empty."""
    space = getattr(context, "space_data", None)
    if space is not None and space.type == 'IMAGE_EDITOR' and space.image is not None:
        return from_image(space.image)
    image = image_of_selected_empty(context)
    return from_image(image) if image is not None else None


def image_of_selected_empty(context):
    candidates = []
    active = getattr(context, "active_object", None)
    if active is not None and active.select_get():
        candidates.append(active)
    candidates += [obj for obj in getattr(context, "selected_objects", ()) if obj is not active]
    for obj in candidates:
        if obj.type == 'EMPTY' and obj.empty_display_type == 'IMAGE' and obj.data is not None:
            return obj.data
    return None


def describe(source: ImageSource | None) -> str:
    if source is None:
        return "No image: open one in the Image Editor, select an image empty, or pick a file"
    return f"Image: {source.image_name or os.path.basename(source.path)}"
