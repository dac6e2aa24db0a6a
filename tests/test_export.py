"""export_image: round trips, metadata, naming, and that failures never damage files."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import ExifTags, Image, ImageCms

from polychrome.core import export as export_mod
from polychrome.core.export import (
    ExportError,
    default_export_name,
    export_image,
    normalize_format,
    unique_path,
)
from polychrome.core.imageio import LoadedImage, load_image


def smooth_rgb(h: int = 48, w: int = 64) -> np.ndarray:
    """Smooth float sRGB ``(h, w, 3)`` in [0, 1]: JPEG-friendly, with colour."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    blue = 0.5 + 0.4 * np.sin(x / 9) * np.cos(y / 11)
    return np.stack([x / (w - 1), y / (h - 1), blue], -1).astype(np.float32)


def make_source(tmp_path: Path, *, icc: bool = False, orientation: int = 6) -> LoadedImage:
    """A JPEG 'original' with EXIF (camera make, capture time, orientation) and optionally a profile."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2001:02:03 04:05:06"
    params: dict[str, object] = {"exif": exif.tobytes(), "quality": 90}
    if icc:
        params["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "original.jpg"
    Image.fromarray(np.full((16, 24), 100, np.uint8)).save(path, **params)
    return load_image(path)


def read_exif(path: Path) -> Image.Exif:
    with Image.open(path) as im:
        return im.getexif()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".part")


# ------------------------------------------------------------- round trips ---


def test_png_uint8_exact(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, (21, 33, 3), dtype=np.uint8)
    out = export_image(rgb, tmp_path / "a.png", "png")
    assert out == tmp_path / "a.png"
    with Image.open(out) as im:
        assert im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im), rgb)


def test_png_from_float_and_uint16_rounds(tmp_path: Path) -> None:
    rgb = smooth_rgb()
    with Image.open(export_image(rgb, tmp_path / "f.png", "png")) as im:
        np.testing.assert_array_equal(np.asarray(im), np.round(rgb * 255).astype(np.uint8))
    u16 = (rgb * 65535 + 0.5).astype(np.uint16)
    with Image.open(export_image(u16, tmp_path / "u.png", "png")) as im:
        np.testing.assert_array_equal(np.asarray(im), np.round(u16 / 257).astype(np.uint8))


def test_float_out_of_range_is_clipped(tmp_path: Path) -> None:
    rgb = np.array([[[-0.5, 0.5, 1.7]]], np.float32)
    with Image.open(export_image(rgb, tmp_path / "c.png", "png")) as im:
        np.testing.assert_array_equal(np.asarray(im)[0, 0], [0, 128, 255])


def test_jpeg_close_and_quality_matters(tmp_path: Path) -> None:
    rgb = smooth_rgb()
    hi = export_image(rgb, tmp_path / "hi.jpg", "jpg", quality=95)
    lo = export_image(rgb, tmp_path / "lo.jpg", "jpeg", quality=20)
    with Image.open(hi) as im:
        assert im.format == "JPEG"
        err = np.abs(np.asarray(im).astype(np.float32) - rgb * 255).mean()
    assert err < 1.5
    assert lo.stat().st_size < hi.stat().st_size


def test_tiff_uint16_exact(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 65536, (17, 29, 3), dtype=np.uint16)
    out = export_image(rgb, tmp_path / "a.tif", "tif")
    back = tifffile.imread(out)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, rgb)
    with tifffile.TiffFile(out) as tif:
        assert tif.pages.first.photometric == tifffile.PHOTOMETRIC.RGB


def test_tiff_from_float_and_uint8(tmp_path: Path) -> None:
    rgb = smooth_rgb()
    back = tifffile.imread(export_image(rgb, tmp_path / "f.tif", "tiff"))
    expect = np.round(rgb.astype(np.float64) * 65535)
    assert np.abs(back - expect).max() <= 1  # float32 arithmetic may round a tie the other way
    u8 = (rgb * 255 + 0.5).astype(np.uint8)
    back = tifffile.imread(export_image(u8, tmp_path / "u.tif", "tif"))
    np.testing.assert_array_equal(back, u8.astype(np.uint16) * 257)


def test_exported_file_has_normal_permissions(tmp_path: Path) -> None:
    out = export_image(smooth_rgb(4, 4), tmp_path / "p.png", "png")
    mask = os.umask(0o022)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


# ----------------------------------------------------------------- metadata ---


@pytest.mark.parametrize("fmt", ["jpg", "png"])
def test_exif_kept_with_orientation_reset(tmp_path: Path, fmt: str) -> None:
    source = make_source(tmp_path, orientation=6)
    out = export_image(smooth_rgb(), tmp_path / f"o.{fmt}", fmt, source=source)
    exif = read_exif(out)
    assert exif[ExifTags.Base.Orientation] == 1
    assert exif[ExifTags.Base.Make] == "TestCam"
    assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "2001:02:03 04:05:06"


def test_exif_orientation_reset_even_if_source_still_had_it(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    exif = Image.Exif()
    exif.load(source.exif)
    exif[ExifTags.Base.Orientation] = 8
    source.exif = exif.tobytes()
    out = export_image(smooth_rgb(), tmp_path / "o.jpg", "jpg", source=source)
    assert read_exif(out)[ExifTags.Base.Orientation] == 1


def test_no_source_no_camera_metadata_but_provenance(tmp_path: Path) -> None:
    out = export_image(smooth_rgb(), tmp_path / "bare.jpg", "jpg")
    with Image.open(out) as im:
        assert "icc_profile" not in im.info
        exif = im.getexif()
    assert set(exif) == {ExifTags.Base.ImageDescription, ExifTags.Base.Software}
    assert exif[ExifTags.Base.ImageDescription].startswith("Colourised by Polychrome")


@pytest.mark.parametrize("fmt", ["jpg", "png", "tif"])
def test_srgb_profile_embedded_when_source_had_one(tmp_path: Path, fmt: str) -> None:
    with_icc = make_source(tmp_path, icc=True)
    assert with_icc.icc_profile
    out = export_image(smooth_rgb(), tmp_path / f"icc.{fmt}", fmt, source=with_icc)
    if fmt == "tif":
        with tifffile.TiffFile(out) as tif:
            icc = bytes(tif.pages.first.tags[34675].value)
    else:
        with Image.open(out) as im:
            icc = im.info["icc_profile"]
    desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    assert "sRGB" in desc


def test_no_profile_when_source_had_none(tmp_path: Path) -> None:
    source = make_source(tmp_path, icc=False)
    out = export_image(smooth_rgb(), tmp_path / "n.png", "png", source=source)
    with Image.open(out) as im:
        assert "icc_profile" not in im.info


# ------------------------------------------------------------ safety rules ---


def test_never_overwrites_the_source(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    before = source.path.read_bytes()
    for dest in (source.path, tmp_path / "sub" / ".." / "original.jpg"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(ExportError, match="original"):
            export_image(smooth_rgb(), dest, "jpg", source=source, overwrite=True)
    link = tmp_path / "link.jpg"
    link.symlink_to(source.path)
    with pytest.raises(ExportError, match="original"):
        export_image(smooth_rgb(), link, "jpg", source=source, overwrite=True)
    assert source.path.read_bytes() == before


def test_existing_dest_needs_overwrite(tmp_path: Path) -> None:
    dest = tmp_path / "out.png"
    dest.write_bytes(b"precious")
    with pytest.raises(ExportError, match="already exists"):
        export_image(smooth_rgb(), dest, "png")
    assert dest.read_bytes() == b"precious"
    export_image(smooth_rgb(), dest, "png", overwrite=True)
    with Image.open(dest) as im:
        assert im.size == (64, 48)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        export_image(smooth_rgb(), tmp_path / "nowhere" / "x.png", "png")


def test_disk_full_during_write_keeps_old_file_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "out.png"
    dest.write_bytes(b"old version")

    def full_disk(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        fp.write(b"\x89PNG partial")  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    with pytest.raises(ExportError, match="space") as info:
        export_image(smooth_rgb(), dest, "png", overwrite=True)
    assert "out.png" in str(info.value)
    assert dest.read_bytes() == b"old version"
    assert leftovers(tmp_path) == []


def test_disk_full_in_tiff_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_mod.tifffile, "imwrite", full_disk)
    with pytest.raises(ExportError, match="space"):
        export_image(smooth_rgb(), tmp_path / "t.tif", "tif")
    assert list(tmp_path.iterdir()) == []


def test_failed_rename_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "out.jpg"
    dest.write_bytes(b"old version")

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export_mod.os, "replace", refuse)
    with pytest.raises(ExportError, match="permission"):
        export_image(smooth_rgb(), dest, "jpg", overwrite=True)
    assert dest.read_bytes() == b"old version"
    assert leftovers(tmp_path) == []


def test_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export_mod.tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match="permission"):
        export_image(smooth_rgb(), tmp_path / "x.png", "png")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shape"):
        export_image(np.zeros((4, 4)), tmp_path / "a.png", "png")
    with pytest.raises(ValueError, match="dtype|float"):
        export_image(np.zeros((4, 4, 3), np.int32), tmp_path / "a.png", "png")
    with pytest.raises(ValueError, match="format"):
        export_image(smooth_rgb(), tmp_path / "a.gif", "gif")
    with pytest.raises(ValueError, match="quality"):
        export_image(smooth_rgb(), tmp_path / "a.jpg", "jpg", quality=0)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ naming ---


def test_unique_path(tmp_path: Path) -> None:
    dest = tmp_path / "photo_colour.png"
    assert unique_path(dest) == dest
    dest.touch()
    assert unique_path(dest) == tmp_path / "photo_colour (2).png"
    (tmp_path / "photo_colour (2).png").touch()
    assert unique_path(dest) == tmp_path / "photo_colour (3).png"


def test_default_export_name() -> None:
    assert default_export_name(Path("/x/photo.tif"), None, "png") == "photo_colour.png"
    assert default_export_name("photo.jpeg", 3, "png") == "photo_colour_3.png"
    assert default_export_name("scan.01.png", 0, "jpeg") == "scan.01_colour_0.jpg"
    assert default_export_name("a.png", None, "TIFF") == "a_colour.tif"


def test_normalize_format() -> None:
    names = ("PNG", "jpeg", ".jpg", "tiff", "tif")
    assert [normalize_format(f) for f in names] == ["png", "jpg", "jpg", "tif", "tif"]
    with pytest.raises(ValueError):
        normalize_format("bmp")
