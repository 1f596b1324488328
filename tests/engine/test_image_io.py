import numpy as np
import pytest
from PIL import Image

from inference import InputError
from inference import image_io
from inference.image_io import as_rgba, load_image

from pictures import draw_object


@pytest.mark.parametrize("mode,suffix", [("RGBA", ".png"), ("RGB", ".jpg"), ("L", ".png"), ("LA", ".png"),
                                         ("P", ".png"), ("CMYK", ".jpg"), ("RGB", ".webp"), ("RGBA", ".tif"),
                                         ("RGB", ".bmp"), ("I;16", ".png")])
def test_every_supported_mode_loads_as_rgba(tmp_path, mode, suffix):
    base = draw_object(background=(255, 255, 255))
    if mode == "I;16":
        im = Image.fromarray((np.asarray(base.convert("L"), np.uint16) * 257))
        assert im.mode.startswith("I;16")
    else:
        im = base.convert(mode)
    path = tmp_path / f"img{suffix}"
    im.save(path)
    rgba = load_image(path)
    assert rgba.shape == (240, 320, 4) and rgba.dtype == np.float32
    assert 0.0 <= rgba.min() and rgba.max() <= 1.0
    # The white border stays white and the red disc stays darker than it, whatever the storage mode.
    assert rgba[0, 0, :3].mean() > 0.9
    assert rgba[120, 160, :3].mean() < 0.8


def test_palette_transparency_becomes_alpha(tmp_path):
    im = draw_object().convert("P")  # Pillow keeps a transparent palette index
    path = tmp_path / "pal.png"
    im.save(path, transparency=0) if "transparency" not in im.info else im.save(path)
    rgba = load_image(path)
    assert rgba[..., 3].min() < 0.5 < rgba[..., 3].max()


def test_sixteen_bit_keeps_full_range(tmp_path):
    a = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(a).save(tmp_path / "ramp.png")
    rgba = load_image(tmp_path / "ramp.png")
    assert abs(rgba[..., 0].max() - 1.0) < 1e-3 and rgba[..., 0].min() < 1e-3


def test_arrays_of_every_layout():
    assert as_rgba(np.zeros((10, 12), np.uint8)).shape == (10, 12, 4)
    assert as_rgba(np.zeros((10, 12, 3), np.uint16)).shape == (10, 12, 4)
    f = as_rgba(np.full((10, 12, 4), 7.0, np.float32))   # HDR values clamp
    assert f.max() == 1.0
    with pytest.raises(InputError):
        as_rgba(np.zeros((10, 12, 5)))
    with pytest.raises(InputError):
        as_rgba(np.zeros((10, 12, 3), np.int64))


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"])
def test_corrupt_files_give_a_clear_message(tmp_path, content):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match="PNG"):
        load_image(path)


def test_truncated_png(tmp_path):
    path = tmp_path / "cut.png"
    draw_object().save(path)
    path.write_bytes(path.read_bytes()[: 200])
    with pytest.raises(InputError):
        load_image(path)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(InputError, match="No file"):
        load_image(tmp_path / "nothing.png")
    with pytest.raises(InputError, match="folder"):
        load_image(tmp_path)


def test_huge_image_is_refused_with_advice(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("RGB", (400, 300)).save(path)
    monkeypatch.setattr(image_io, "MAX_PIXELS", 100_000)
    with pytest.raises(InputError, match="Scale it down"):
        load_image(path)
    with pytest.raises(InputError, match="Scale it down"):
        as_rgba(np.zeros((400, 300, 3), np.uint8))


def test_a_real_16k_picture_is_refused_before_decoding(tmp_path):
    """A 16384 x 16384 PNG header (the pixel data never gets decoded, so the test stays cheap)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 16384, 16384, 8, 6, 0, 0, 0)
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                     + chunk(b"IEND", b""))
    with pytest.raises(InputError, match="16384x16384.*Scale it down"):
        load_image(path)
