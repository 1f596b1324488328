"""A corpus of bad and odd pictures (issue 16), made into a folder by `make_corpus`, for both command lines.

Small pictures throughout: the corpus runs in CI, where the whole suite has 15 minutes."""
from __future__ import annotations

import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pictures import draw_object


def _png_claiming(path: Path, width: int, height: int) -> None:
    """A valid PNG whose header claims width x height (its data is a single row): a "decompression bomb"."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4))
                     + chunk(b"IEND", b""))


def _on_white(size=(200, 150)) -> Image.Image:
    return draw_object(size=size, background=(255, 255, 255)).convert("RGB")


def make_corpus(folder: Path) -> tuple[list[Path], set[str], set[str]]:
    """(every input, in batch order; the names of the pictures every command line must write; the names only
    Blender can read). Names are the input paths relative to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    good: list[str] = []
    bad: list[str] = []
    blender_only: list[str] = []

    def add(name, into):
        into.append(name)
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        return folder / name

    # -- odd but good: each must come out as a mesh ---------------------------------------------------
    draw_object().save(add("cutout.png", good))
    _on_white().save(add("on_white.jpg", good), quality=90)
    _on_white().convert("CMYK").save(add("cmyk.jpg", good))
    gray = (np.asarray(_on_white().convert("L"), np.float64) / 255 * 65535).astype(np.uint16)
    Image.fromarray(gray).save(add("gray16.png", good))
    draw_object().convert("P", palette=Image.ADAPTIVE, colors=8).save(add("palette.png", good),
                                                                        transparency=0)
    draw_object().convert("LA").save(add("gray_alpha.png", good))
    exif = Image.Exif()
    exif[0x0112] = 6
    _on_white().save(add("exif_rotated.jpg", good), exif=exif)
    frames = [_on_white()] + [Image.new("RGB", (200, 150), c) for c in ((250, 250, 250), (240, 240, 240))]
    frames[0].save(add("animated.gif", good), save_all=True, append_images=frames[1:], duration=80, loop=0)
    _on_white().save(add("picture.webp", good))
    draw_object().save(add("picture.tif", good))
    _on_white().save(add("picture.bmp", good))
    draw_object(size=(120, 320)).save(add("tall.png", good))
    pencil = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    ImageDraw.Draw(pencil).rectangle((296, 60, 303, 540), fill=(230, 200, 40, 255))   # 8 px in 600
    pencil.save(add("pencil.png", good))
    draw_object(offset=(5, 0)).save(add("x/same.png", good))    # three names that collide
    draw_object(offset=(-5, 0)).save(add("y/same.png", good))
    draw_object(offset=(0, 5)).save(add("same_2.png", good))
    draw_object().save(add("spaces and ünïcode.png", good))

    # -- bad: each must fail on its own, with a message ------------------------------------------------
    whole = folder / "cutout.png"
    add("truncated.png", bad).write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    add("zero_bytes.png", bad).write_bytes(b"")
    add("text.png", bad).write_text("this is not a picture\n")
    Image.new("RGBA", (1, 1), (255, 0, 0, 255)).save(add("one_pixel.png", bad))
    Image.new("RGBA", (200, 150), (0, 0, 0, 0)).save(add("transparent.png", bad))
    Image.new("RGB", (200, 150), (255, 255, 255)).save(add("all_white.jpg", bad))
    _png_claiming(add("huge_header.png", bad), 30000, 30000)
    add("folder.png", bad).mkdir()
    bad.append("missing.png")
    loop = add("loop.png", bad)
    os.symlink(loop, loop)
    os.symlink(folder / "gone.png", add("dangling.png", bad))
    Image.new("RGBA", (500, 1), (255, 0, 0, 255)).save(add("row.png", bad))
    strip = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(strip).line((10, 150, 290, 150), fill=(255, 0, 0, 255), width=1)
    strip.save(add("one_pixel_strip.png", bad))
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (150, 200, 3), dtype=np.uint8)).save(add("noise.png", bad))
    Image.new("RGB", (200, 150), (200, 40, 40)).save(add("full_frame.png", bad))
    speck = Image.new("RGBA", (500, 500), (0, 0, 0, 0))
    ImageDraw.Draw(speck).rectangle((250, 250, 252, 252), fill=(255, 0, 0, 255))
    speck.save(add("speck.png", bad))
    add("garbage.jpg", bad).write_bytes(b"\xff\xd8\xff\xe0" + rng.integers(0, 255, 3000, dtype=np.uint8).tobytes())
    add("fake.exr", bad).write_bytes(b"v/1\x01" + b"\0" * 100)
    if os.getuid() != 0:   # root reads any file
        locked = add("locked.png", bad)
        draw_object().save(locked)
        locked.chmod(0)
    # -- read by Blender as a float picture; the engine's reader refuses it with why -------------------
    exr = folder / "render.exr"
    _write_exr(exr)
    if exr.exists():
        blender_only.append("render.exr")
    names = good + bad + blender_only
    return [folder / n for n in names], set(good), set(blender_only)


def _write_exr(path: Path) -> None:
    """An EXR written by Blender's own image writer, when the bpy module is there (the engine test has no use
    for a real one: any .exr is refused by path)."""
    bpy = sys.modules.get("bpy")   # never imported here: an engine test must not start Blender
    if bpy is None:
        path.write_bytes(b"v/1\x01" + b"\0" * 100)
        return
    rgb = np.asarray(_on_white(), np.float32) / 255.0
    height, width = rgb.shape[:2]
    image = bpy.data.images.new("corpus_render", width, height, alpha=True, float_buffer=True)
    image.pixels.foreach_set(np.concatenate([rgb[::-1] ** 2.2, np.ones((height, width, 1), np.float32)],
                                            axis=2).ravel())
    image.filepath_raw = str(path)
    image.file_format = 'OPEN_EXR'
    image.save()
    bpy.data.images.remove(image)
