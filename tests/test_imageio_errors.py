"""load_image on every kind of bad file: one clear ImageLoadError naming the file and the problem."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import tifffile
from imageio_samples import (
    gradient_rgb16,
)
from PIL import Image

from polychrome.core import imageio
from polychrome.core.imageio import (
    ImageLoadError,
    load_image,
)

# ----------------------------------------------------------------- bad files ---


def _expect_error(path: Path, *words: str) -> ImageLoadError:
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    msg = str(info.value)
    assert path.name in msg, msg
    for w in words:
        assert w in msg.lower(), msg
    assert "Traceback" not in msg
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nope.jpg", "does not exist")


def test_folder(tmp_path: Path) -> None:
    (tmp_path / "dir.png").mkdir()
    _expect_error(tmp_path / "dir.png", "folder")


def test_zero_bytes(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    _expect_error(tmp_path / "empty.png", "empty")


def test_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("shopping list: milk, eggs\n" * 20)
    _expect_error(tmp_path / "notes.jpg", "not an image")


def test_unsupported_format(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "anim.gif")
    _expect_error(tmp_path / "anim.gif", "gif", "not supported")


def _truncate(path: Path, frac: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * frac)])


@pytest.mark.parametrize("frac", [0.5, 0.97])
def test_truncated_jpeg(tmp_path: Path, rng: np.random.Generator, frac: float) -> None:
    path = tmp_path / "cut.jpg"
    Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(path, quality=90)
    _truncate(path, frac)
    _expect_error(path, "truncated")


@pytest.mark.parametrize("frac", [0.5, 0.97])
def test_truncated_png(tmp_path: Path, rng: np.random.Generator, frac: float) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(path)
    _truncate(path, frac)
    _expect_error(path, "truncated")


def test_truncated_16bit_tiff(tmp_path: Path) -> None:
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, gradient_rgb16(), photometric="rgb")
    _truncate(path, 0.6)
    _expect_error(path, "truncated")


def test_truncated_16bit_colour_png(tmp_path: Path) -> None:
    codecs = pytest.importorskip("imagecodecs")
    path = tmp_path / "cut16.png"
    path.write_bytes(codecs.png_encode(gradient_rgb16()))
    _truncate(path, 0.6)
    _expect_error(path, "truncated")


def test_truncation_detected_even_if_pillow_was_told_to_accept_it(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = tmp_path / "cut.jpg"
    Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(path)
    _truncate(path, 0.5)
    _expect_error(path, "truncated")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored for whoever set it


def test_corrupt_png_crc(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "bad.png"
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    data[40:60] = bytes(20)  # clobber the start of the pixel data
    path.write_bytes(bytes(data))
    _expect_error(path, "damaged")


def test_decompression_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(path)
    monkeypatch.setattr(imageio.errors, "MAX_PIXELS", 500)
    err = _expect_error(path, "too large", "30 x 20")
    assert err.path == path


def test_decompression_bomb_16bit_tiff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, np.zeros((20, 30, 3), np.uint16), photometric="rgb")
    monkeypatch.setattr(imageio.errors, "MAX_PIXELS", 500)
    _expect_error(path, "too large")


@pytest.mark.filterwarnings("ignore:.*zero-size")
def test_zero_size_image(tmp_path: Path) -> None:
    path = tmp_path / "zero.tif"
    tifffile.imwrite(path, np.zeros((0, 5), np.uint16))
    _expect_error(path, "no pixels")


def test_error_is_picklable(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError) as info:
        load_image(tmp_path / "gone.png")
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and again.path == info.value.path


def png_header_only(path: Path, w: int, h: int) -> Path:
    """A PNG whose header claims ``w`` x ``h`` pixels, with (almost) no data: what an attack looks like."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    data = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + data)
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_huge_header_refused_with_its_size(tmp_path: Path) -> None:
    # Above our 200 MP limit, below Pillow's own hard stop: our check names the size.
    _expect_error(png_header_only(tmp_path / "big.png", 20_000, 15_000), "too large", "20000 x 15000", "300")
    # Far above: Pillow refuses to even open it; the message still gives the size and the limit.
    _expect_error(
        png_header_only(tmp_path / "bomb.png", 30_000, 30_000), "too large", "900 megapixels", "200"
    )


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_every_failure_is_one_sentence(tmp_path: Path, rng: np.random.Generator) -> None:
    """Truncated, damaged, unsupported: one line, ending in a full stop, naming the file first."""
    good = tmp_path / "good.png"
    Image.fromarray(rng.integers(0, 256, (40, 40), dtype=np.uint8)).save(good)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:200])
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00" + b"\xff" * 300)  # a TIFF header pointing past the end of the file
    for path in (cut, junk):
        msg = str(_expect_error(path))
        assert msg.startswith(f"Cannot open '{path.name}': ") and msg.endswith(".") and "\n" not in msg
