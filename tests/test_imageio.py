"""load_image: formats, bit depths, modes, orientation and EXIF, on good files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from imageio_samples import (
    gradient_rgb16,
    save_exif_jpeg,
    sk_L,
)
from PIL import ExifTags, Image, ImageOps

from polychrome.core import imageio
from polychrome.core.color import rgb_to_lab
from polychrome.core.imageio import (
    COLOR_NOTICE,
    SUPPORTED_SUFFIXES,
    LoadedImage,
    is_probably_color,
    load_image,
)

# --------------------------------------------------------------- good files ---


LOSSLESS_8BIT = [("PNG", ".png"), ("BMP", ".bmp"), ("TIFF", ".tif"), ("WEBP", ".webp")]


@pytest.mark.parametrize("fmt,suffix", LOSSLESS_8BIT)
def test_lossless_8bit_rgb_matches_rgb_to_lab(
    tmp_path: Path, rng: np.random.Generator, fmt: str, suffix: str
) -> None:
    rgb = rng.integers(0, 256, (23, 31, 3), dtype=np.uint8)
    path = tmp_path / f"img{suffix}"
    Image.fromarray(rgb).save(path, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    loaded = load_image(path)
    assert isinstance(loaded, LoadedImage)
    assert loaded.L.dtype == np.float32 and loaded.L.shape == (23, 31)
    assert loaded.size == (31, 23) and loaded.bit_depth == 8 and loaded.mode == "RGB"
    ref = rgb_to_lab(rgb.astype(np.float32) / 255)[..., 0]
    np.testing.assert_allclose(loaded.L, ref, atol=1e-4)
    np.testing.assert_allclose(loaded.L, sk_L(rgb / 255.0), atol=2e-3)
    assert loaded.was_color and COLOR_NOTICE in loaded.notices


def test_gray_jpeg_is_not_colour(tmp_path: Path) -> None:
    gray = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))
    path = tmp_path / "gray.jpg"
    Image.fromarray(gray).convert("RGB").save(path, quality=90)  # a B&W scan saved as RGB
    loaded = load_image(path)
    assert not loaded.was_color and COLOR_NOTICE not in loaded.notices
    assert loaded.format == "JPEG" and loaded.exif is None and loaded.icc_profile is None
    np.testing.assert_allclose(loaded.L, sk_L(gray / 255.0), atol=1.5)  # JPEG is lossy


def test_8bit_gray_png_exact(tmp_path: Path) -> None:
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(gray).save(tmp_path / "g.png")
    loaded = load_image(tmp_path / "g.png")
    assert loaded.mode == "L" and not loaded.was_color
    np.testing.assert_allclose(loaded.L, sk_L(gray / 255.0), atol=1e-3)


def test_16bit_gray_png_keeps_precision(tmp_path: Path) -> None:
    g = np.linspace(1000, 60000, 40 * 50).reshape(40, 50).astype(np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(g).save(path)
    loaded = load_image(path)
    assert loaded.bit_depth == 16 and loaded.mode.startswith("I;16")
    np.testing.assert_allclose(loaded.L, sk_L(g / 65535.0), atol=1e-3)
    # 8-bit data would be off by far more than the tolerance above.
    assert np.abs(sk_L((g >> 8) / 255.0) - sk_L(g / 65535.0)).max() > 0.05


def test_16bit_colour_png_keeps_precision(tmp_path: Path) -> None:
    codecs = pytest.importorskip("imagecodecs")
    rgb = gradient_rgb16()
    path = tmp_path / "c16.png"
    path.write_bytes(codecs.png_encode(rgb))
    loaded = load_image(path)
    assert loaded.bit_depth == 16 and loaded.mode == "RGB;16" and loaded.was_color
    np.testing.assert_allclose(loaded.L, sk_L(rgb / 65535.0), atol=1e-3)


def test_16bit_colour_png_without_imagecodecs_reads_8bit_with_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codecs = pytest.importorskip("imagecodecs")
    rgb = gradient_rgb16()
    path = tmp_path / "c16.png"
    path.write_bytes(codecs.png_encode(rgb))
    monkeypatch.setattr(imageio.pillow, "imagecodecs", None)
    loaded = load_image(path)
    assert loaded.bit_depth == 16 and any("8-bit precision" in n for n in loaded.notices)
    np.testing.assert_allclose(loaded.L, sk_L(rgb / 65535.0), atol=0.5)


@pytest.mark.parametrize("compression", [None, "zlib"])
@pytest.mark.parametrize("planar", ["contig", "separate"])
def test_16bit_rgb_tiff_keeps_precision(tmp_path: Path, compression: str | None, planar: str) -> None:
    rgb = gradient_rgb16()
    path = tmp_path / "c16.tif"
    data = rgb if planar == "contig" else np.moveaxis(rgb, -1, 0)
    tifffile.imwrite(path, data, photometric="rgb", planarconfig=planar, compression=compression)
    loaded = load_image(path)
    assert loaded.bit_depth == 16 and loaded.format == "TIFF" and loaded.size == (50, 40)
    np.testing.assert_allclose(loaded.L, sk_L(rgb / 65535.0), atol=1e-3)


def test_16bit_gray_tiff_lzw_and_miniswhite(tmp_path: Path) -> None:
    g = np.linspace(500, 65000, 30 * 20).reshape(30, 20).astype(np.uint16)
    Image.fromarray(g).save(tmp_path / "lzw.tif", compression="tiff_lzw")  # Photoshop's usual choice
    np.testing.assert_allclose(load_image(tmp_path / "lzw.tif").L, sk_L(g / 65535.0), atol=1e-3)
    tifffile.imwrite(tmp_path / "inv.tif", 65535 - g, photometric="miniswhite")
    np.testing.assert_allclose(load_image(tmp_path / "inv.tif").L, sk_L(g / 65535.0), atol=1e-3)


def test_compressed_16bit_tiff_without_codec_falls_back_to_pillow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rgb = gradient_rgb16()
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric="rgb")

    def no_codec(self: object, *args: object, **kwargs: object) -> None:
        raise ValueError("<COMPRESSION.LZW: 5> requires the 'imagecodecs' package")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", no_codec)
    loaded = load_image(tmp_path / "c.tif")
    assert loaded.bit_depth == 16 and any("8-bit precision" in n for n in loaded.notices)
    np.testing.assert_allclose(loaded.L, sk_L(rgb / 65535.0), atol=0.5)


def test_float_tiff(tmp_path: Path) -> None:
    rgb = (gradient_rgb16() / 65535.0).astype(np.float32)
    tifffile.imwrite(tmp_path / "f.tif", rgb, photometric="rgb")
    loaded = load_image(tmp_path / "f.tif")
    assert loaded.bit_depth == 32
    np.testing.assert_allclose(loaded.L, sk_L(rgb), atol=1e-3)


def test_16bit_rgba_tiff_composites_over_white(tmp_path: Path) -> None:
    rgba = np.zeros((8, 10, 4), np.uint16)
    rgba[..., :3] = 20000
    rgba[:, :5, 3] = 65535  # left opaque, right transparent
    tifffile.imwrite(tmp_path / "a.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    loaded = load_image(tmp_path / "a.tif")
    np.testing.assert_allclose(loaded.L[:, :5], sk_L(np.full((8, 5), 20000 / 65535)), atol=1e-3)
    np.testing.assert_allclose(loaded.L[:, 5:], 100.0, atol=1e-3)
    assert any("white" in n for n in loaded.notices)


def test_rgba_png_alpha_over_white(tmp_path: Path) -> None:
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., :3] = 50
    rgba[:, 0:2, 3] = 255
    rgba[:, 2:4, 3] = 0
    rgba[:, 4:6, 3] = 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    loaded = load_image(tmp_path / "a.png")
    a = 128 / 255
    expect = np.array([50 / 255] * 2 + [1.0] * 2 + [50 / 255 * a + (1 - a)] * 2)
    np.testing.assert_allclose(loaded.L[0], sk_L(expect[None])[0], atol=1e-3)
    assert loaded.mode == "RGBA" and any("white" in n for n in loaded.notices)


def test_opaque_rgba_has_no_alpha_notice(tmp_path: Path) -> None:
    rgba = np.full((4, 4, 4), 255, np.uint8)
    rgba[..., :3] = 90
    Image.fromarray(rgba, "RGBA").save(tmp_path / "o.png")
    assert not any("white" in n for n in load_image(tmp_path / "o.png").notices)


def test_la_png(tmp_path: Path) -> None:
    la = np.stack([np.full((5, 5), 40, np.uint8), np.full((5, 5), 0, np.uint8)], -1)
    la[:2, :, 1] = 255
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    loaded = load_image(tmp_path / "la.png")
    assert loaded.mode == "LA" and not loaded.was_color
    np.testing.assert_allclose(loaded.L[:2], sk_L(np.full((2, 5), 40 / 255)), atol=1e-3)
    np.testing.assert_allclose(loaded.L[2:], 100.0, atol=1e-3)


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    idx = np.array([[0, 1, 2, 3]] * 3, dtype=np.uint8)
    pal = Image.fromarray(idx, "P")
    colours = [(10, 20, 30), (200, 100, 50), (128, 128, 128), (0, 0, 0)]
    pal.putpalette([c for rgb in colours for c in rgb] + [0] * (768 - 12))
    pal.save(tmp_path / "p.png", transparency=3)
    loaded = load_image(tmp_path / "p.png")
    assert loaded.mode == "P"
    expect = sk_L(np.array([colours[:3]]) / 255.0)[0]
    np.testing.assert_allclose(loaded.L[0, :3], expect, atol=1e-3)
    np.testing.assert_allclose(loaded.L[:, 3], 100.0, atol=1e-3)  # transparent index -> white


def test_cmyk_jpeg_without_profile(tmp_path: Path) -> None:
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:16] = (200, 60, 40)
    rgb[16:] = (70, 70, 70)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=98)
    loaded = load_image(tmp_path / "cmyk.jpg")
    assert loaded.mode == "CMYK" and loaded.was_color
    np.testing.assert_allclose(loaded.L[4:12, 4:28], sk_L(rgb[4:12, 4:28] / 255.0), atol=2.0)
    np.testing.assert_allclose(loaded.L[20:28, 4:28], sk_L(rgb[20:28, 4:28] / 255.0), atol=2.0)
    assert any("CMYK" in n for n in loaded.notices)


def test_multiframe_tiff_uses_first_page(tmp_path: Path) -> None:
    a = Image.fromarray(np.full((6, 6), 30, np.uint8))
    b = Image.fromarray(np.full((6, 6), 220, np.uint8))
    a.save(tmp_path / "m.tif", save_all=True, append_images=[b])
    loaded = load_image(tmp_path / "m.tif")
    np.testing.assert_allclose(loaded.L, sk_L(np.full((6, 6), 30 / 255)), atol=1e-3)
    assert any("2 images" in n for n in loaded.notices)


# -------------------------------------------------------------- orientation ---


def test_exif_orientation_6_rotates_and_resets(tmp_path: Path) -> None:
    stored = np.full((20, 40), 30, np.uint8)
    stored[:4] = 230  # bright top band of the stored pixels
    path = tmp_path / "rot.jpg"
    save_exif_jpeg(path, Image.fromarray(stored), orientation=6)
    loaded = load_image(path)
    assert loaded.size == (20, 40) and loaded.L.shape == (40, 20)
    # Orientation 6 turns the picture 90° clockwise: the stored top ends up on the right.
    assert loaded.L[:, -2:].mean() > 80 and loaded.L[:, :4].mean() < 20
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert exif[ExifTags.Base.Orientation] == 1 and exif[ExifTags.Base.Make] == "TestCam"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_array_matches_pillow(orientation: int) -> None:
    stored = np.arange(12, dtype=np.uint8).reshape(3, 4)
    im = Image.fromarray(stored)
    exif = im.getexif()
    exif[ExifTags.Base.Orientation] = orientation
    im.info["exif"] = exif.tobytes()
    expect = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(imageio.exif.orient_array(stored, orientation), expect)


def test_16bit_tiff_orientation_tag(tmp_path: Path) -> None:
    g = np.zeros((10, 30), np.uint16)
    g[:2] = 60000
    tifffile.imwrite(tmp_path / "o.tif", g, extratags=[(274, "H", 1, 8, True)])  # 90° counter-clockwise
    loaded = load_image(tmp_path / "o.tif")
    assert loaded.size == (10, 30)
    assert loaded.L[:, :2].mean() > 90 and loaded.L[:, 2:].max() < 1


def test_16bit_colour_png_exif_orientation(tmp_path: Path) -> None:
    codecs = pytest.importorskip("imagecodecs")
    rgb = np.zeros((10, 30, 3), np.uint16)
    rgb[:2] = 60000
    png = codecs.png_encode(rgb)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TestCam"
    body = exif.tobytes()[6:]  # eXIf holds the TIFF structure without the "Exif" prefix
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body))
    iend = png.rindex(b"IEND") - 4
    (tmp_path / "o.png").write_bytes(png[:iend] + chunk + png[iend:])
    loaded = load_image(tmp_path / "o.png")
    assert loaded.size == (10, 30)
    assert loaded.L[:, -2:].mean() > 90 and loaded.L[:, :-2].max() < 1  # stored top -> right
    kept = Image.Exif()
    kept.load(loaded.exif)
    assert kept[ExifTags.Base.Orientation] == 1 and kept[ExifTags.Base.Make] == "TestCam"


def test_tiff_exif_keeps_descriptive_tags_only(tmp_path: Path) -> None:
    img = Image.fromarray(np.full((6, 8), 90, np.uint8))
    info = {ExifTags.Base.Make: "ScanCo", ExifTags.Base.Orientation: 3}
    img.save(tmp_path / "s.tif", tiffinfo=info)
    loaded = load_image(tmp_path / "s.tif")
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert exif[ExifTags.Base.Make] == "ScanCo" and exif[ExifTags.Base.Orientation] == 1
    assert ExifTags.Base.StripOffsets not in exif and ExifTags.Base.ImageWidth not in exif


# ------------------------------------------------------------------ helpers ---


def test_is_probably_color() -> None:
    gray = np.repeat(np.linspace(0, 1, 100, dtype=np.float32)[:, None], 3, axis=1)
    assert not is_probably_color(gray)
    assert not is_probably_color((gray * 255).astype(np.uint8))
    sepia_ish = gray * np.array([1.0, 0.85, 0.6], np.float32)
    assert is_probably_color(sepia_ish)
    assert is_probably_color(np.array([[[65535, 0, 0]]], np.uint16))
    with pytest.raises(ValueError, match="shape"):
        is_probably_color(np.zeros((4, 4)))


def test_supported_suffixes_are_loadable(tmp_path: Path) -> None:
    formats = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG"}
    formats |= {".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP", ".bmp": "BMP"}
    assert set(SUPPORTED_SUFFIXES) == set(formats)
    for suffix, fmt in formats.items():
        path = tmp_path / f"x{suffix}"
        Image.fromarray(np.full((3, 3), 128, np.uint8)).convert("RGB").save(path, fmt)
        assert load_image(path).L.shape == (3, 3)


def test_16bit_cmyk_tiff_read_at_8bit_with_notices(tmp_path: Path) -> None:
    cmyk = np.zeros((8, 10, 4), np.uint16)
    cmyk[..., 3] = 65535 // 2  # half black ink, no colour
    tifffile.imwrite(tmp_path / "cmyk.tif", cmyk, photometric="separated")
    loaded = load_image(tmp_path / "cmyk.tif")
    assert loaded.mode == "CMYK" and loaded.bit_depth == 16 and not loaded.was_color
    assert any("8-bit precision" in n for n in loaded.notices)
    assert any("CMYK" in n and "generic formula" in n for n in loaded.notices)
    assert 40 < float(loaded.L.mean()) < 70  # mid gray, not black or white


def test_16bit_gray_alpha_png_over_white(tmp_path: Path) -> None:
    imagecodecs = pytest.importorskip("imagecodecs")
    la = np.zeros((6, 8, 2), np.uint16)
    la[..., 0] = 13107  # gray 0.2
    la[:, 4:, 1] = 65535  # right half opaque, left half transparent
    (tmp_path / "la.png").write_bytes(imagecodecs.png_encode(la))
    loaded = load_image(tmp_path / "la.png")
    assert loaded.mode == "LA;16" and loaded.bit_depth == 16
    np.testing.assert_allclose(loaded.L[:, :4], 100.0, atol=1e-3)
    np.testing.assert_allclose(loaded.L[:, 4:], sk_L(np.full((6, 4), 0.2)), atol=1e-3)
    assert any("white background" in n for n in loaded.notices)
