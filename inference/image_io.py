"""Reading pictures into one canonical form: float32 RGBA in [0, 1], rows top-down.

Everything downstream sees this form only, whether the picture came from a file (any mode Pillow
knows: 8/16-bit, grayscale, palette, CMYK, with or without alpha) or from an array handed over by
Blender (packed, generated and float/EXR images arrive as pixels, not files)."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np

from .errors import InputError

# Beyond this the image costs gigabytes to hold and is far more detail than a silhouette needs.
MAX_PIXELS = 100_000_000
SUPPORTED_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"}
# Pillow reads neither; Blender does, and hands their pixels over as a float array (the image datablock path).
FLOAT_SUFFIXES = {".exr", ".hdr"}
# Below this on either side there is no outline to find (a 500x1 strip used to say "looks empty or uniform").
MIN_SIDE = 8


def _too_big_message(width: int, height: int) -> str:
    return (f"The image is {width}x{height} ({width * height / 1e6:.0f} megapixels), more than the "
            f"{MAX_PIXELS / 1e6:.0f} megapixel limit. Scale it down (4096 px on the longer side is plenty) and try again.")


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as float32 RGBA (H, W, 4) in [0, 1], rows top-down."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if path.is_symlink() and not path.exists():
        try:
            path.resolve(strict=True)
        except RuntimeError:   # Python 3.11 raises this for a loop
            raise InputError(f"'{path}' is a symbolic link that leads back to itself (a loop). Point it at the "
                             "picture file.") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InputError(f"'{path}' is a symbolic link that leads back to itself (a loop). Point it at "
                                 "the picture file.") from None
        raise InputError(f"'{path}' is a symbolic link to '{os.readlink(path)}', which does not exist.")
    if not path.exists():
        raise InputError(f"No file at '{path}'. Check the path.")
    if path.is_dir():
        raise InputError(f"'{path}' is a folder with no pictures in it (PNG, JPEG, WebP, TIFF, BMP, EXR); "
                         f"name the pictures, or add --recursive to take its subfolders' pictures too.")
    try:
        if path.stat().st_size == 0:
            raise InputError(f"'{path.name}' is an empty file (0 bytes): the copy or download did not finish. "
                             "Copy it again, or re-save the picture as PNG.")
    except OSError:
        pass   # unreadable: Image.open below says why
    if path.suffix.lower() in FLOAT_SUFFIXES:
        raise InputError(f"'{path.name}' is a floating-point ({path.suffix[1:].upper()}) picture, which this "
                         "reader cannot decode. Use it from Blender (the headless command and the Image Editor "
                         "read it as a float image), or save it as a 16-bit PNG or TIFF.")
    try:
        # Pillow's own bomb guard would raise a confusing DecompressionBombError first; ours says what to do.
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                raise InputError(_too_big_message(im.width, im.height))
            if min(im.width, im.height) < MIN_SIDE:
                raise InputError(f"'{path.name}' is {im.width}x{im.height} pixels: too small to find an object's "
                                 f"outline in (at least {MIN_SIDE} pixels on each side; a few hundred work best).")
            im.load()
            im = ImageOps.exif_transpose(im)
            return _pil_to_rgba(im)
    except InputError:
        raise
    except PermissionError:
        raise InputError(f"'{path}' cannot be read: permission denied. Check the file's permissions (or copy it "
                         "somewhere this user can read).") from None
    except UnidentifiedImageError:
        raise InputError(f"'{path.name}' is not an image Pillow can read (supported: PNG, JPEG, WebP, TIFF, BMP). "
                         "Re-save it as PNG.") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"'{path.name}' could not be decoded ({exc}). The file may be truncated or corrupt; "
                         "re-export it as PNG.") from None


def picture_facts(path: str | os.PathLike) -> dict:
    """What load_image did to the file beyond decoding it, for whoever shows the picture too (Blender's
    texture must be the picture the engine used): the EXIF orientation it undid, and for a multi-frame
    picture (an animated GIF, a TIFF stack) how many frames there were; load_image takes the first."""
    from PIL import Image
    facts = {}
    try:
        with Image.open(path) as im:
            orientation = im.getexif().get(0x0112, 1)
            if orientation not in (0, 1):
                facts["exif_orientation"] = int(orientation)
            frames = int(getattr(im, "n_frames", 1) or 1)
            if frames > 1:
                facts["frames"] = frames
                facts["frame_note"] = f"the picture has {frames} frames; the first was used"
    except Exception:   # noqa: BLE001 - load_image already read it; facts are a courtesy
        pass
    return facts


def _pil_to_rgba(im) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit (and 32-bit integer) grayscale: Pillow keeps the full range in an int32 image.
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        g = np.clip(a / top, 0.0, 1.0).astype(np.float32)
        return np.dstack([g, g, g, np.ones_like(g)])
    if mode == "F":
        g = np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)
        return np.dstack([g, g, g, np.ones_like(g)])
    if mode == "CMYK":
        im = im.convert("RGB")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode != "RGBA":
        im = im.convert("RGBA")
    return np.asarray(im, dtype=np.float32) / 255.0


def as_rgba(array: np.ndarray) -> np.ndarray:
    """Normalise an array image (H, W), (H, W, 1|2|3|4), uint8/uint16/float, to float32 RGBA in [0, 1]."""
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4) or a.shape[0] < 2 or a.shape[1] < 2:
        raise InputError(f"An image array must be (height, width, channels) with 1-4 channels; got shape {a.shape}.")
    if a.shape[0] * a.shape[1] > MAX_PIXELS:
        raise InputError(_too_big_message(a.shape[1], a.shape[0]))
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        a = a.astype(np.float32) / 65535.0
    elif np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            a = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=0.0)
        # Float (EXR, render) pixels may exceed 1; colours are only used for masks and texture, so clamp.
        a = np.clip(a, 0.0, 1.0)
    else:
        raise InputError(f"Unsupported image array type {a.dtype}; use uint8, uint16 or float.")
    c = a.shape[2]
    if c == 1:
        a = np.concatenate([a, a, a, np.ones_like(a)], axis=2)
    elif c == 2:
        a = np.concatenate([a[:, :, :1]] * 3 + [a[:, :, 1:]], axis=2)
    elif c == 3:
        a = np.concatenate([a, np.ones_like(a[:, :, :1])], axis=2)
    return np.ascontiguousarray(a)


def read_source(source) -> tuple[np.ndarray, str]:
    """Image from a path or an array, as (float32 RGBA, name for outputs)."""
    if isinstance(source, (str, os.PathLike)):
        return load_image(source), Path(source).stem
    if isinstance(source, np.ndarray):
        return as_rgba(source), "image"
    raise InputError(f"Expected an image path or an array, got {type(source).__name__}.")


def read_mask(mask, shape: tuple[int, int]) -> np.ndarray:
    """A user-supplied mask (path or array) as bool (H, W) matching the image; white/opaque = object."""
    if isinstance(mask, (str, os.PathLike)):
        rgba = load_image(mask)
    else:
        rgba = as_rgba(np.asarray(mask, dtype=np.float32) if np.asarray(mask).dtype == bool else mask)
    # A mask with real transparency uses alpha; an opaque one uses brightness.
    alpha = rgba[:, :, 3]
    m = alpha > 0.5 if alpha.min() < 0.5 else rgba[:, :, :3].mean(axis=2) > 0.5
    if m.shape != tuple(shape):
        from skimage.transform import resize
        m = resize(m.astype(np.float32), shape, order=1, anti_aliasing=False) > 0.5
    if not m.any():
        where = f" '{Path(mask).name}'" if isinstance(mask, (str, os.PathLike)) else ""
        raise InputError(f"The mask{where} is empty: it has no white (or opaque) pixel. White or opaque marks "
                         "the object; black or transparent the background.")
    return m
