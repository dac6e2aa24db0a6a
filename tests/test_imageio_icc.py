"""load_image with embedded colour profiles: 8-bit through littleCMS, 16-bit and float exactly."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import tifffile
from imageio_samples import (
    gamma_rgb_icc,
    gradient_rgb16,
    linear_gray_icc,
    linear_rgb_icc,
    lstar_of_y,
    make_icc,
    para3_srgb_tag,
    sk_L,
)
from PIL import Image, ImageCms

from polychrome.core import imageio
from polychrome.core.color import rgb_to_lab
from polychrome.core.imageio import (
    load_image,
)

# ------------------------------------------------------------ colour profiles ---


def test_icc_8bit_rgb_converted_to_srgb(tmp_path: Path) -> None:
    v = np.linspace(0.05, 0.95, 10)
    rgb = np.repeat(np.round(v * 255)[None, :, None], 3, axis=2).astype(np.uint8)
    icc = linear_rgb_icc()
    Image.fromarray(rgb).save(tmp_path / "lin.png", icc_profile=icc)
    loaded = load_image(tmp_path / "lin.png")
    assert loaded.icc_profile == icc
    # Gray in a linear space has luminance v itself, not the sRGB curve of v.
    np.testing.assert_allclose(loaded.L[0], lstar_of_y(rgb[0, :, 0] / 255.0), atol=0.5)
    assert np.abs(loaded.L[0] - sk_L(rgb / 255.0)[0]).max() > 10


def test_icc_16bit_gray_exact(tmp_path: Path) -> None:
    g = np.linspace(300, 65000, 24 * 16).reshape(24, 16).astype(np.uint16)
    Image.fromarray(g).save(tmp_path / "g.png", icc_profile=linear_gray_icc())
    loaded = load_image(tmp_path / "g.png")
    np.testing.assert_allclose(loaded.L, lstar_of_y(g / 65535.0), atol=2e-3)
    assert not any("8-bit" in n for n in loaded.notices)


def test_icc_parametric_srgb_curve_is_neutral(tmp_path: Path) -> None:
    g = np.linspace(0, 65535, 32 * 8).reshape(32, 8).astype(np.uint16)
    Image.fromarray(g).save(tmp_path / "g.png", icc_profile=make_icc(b"GRAY", {b"kTRC": para3_srgb_tag()}))
    np.testing.assert_allclose(load_image(tmp_path / "g.png").L, sk_L(g / 65535.0), atol=0.02)


def test_icc_16bit_rgb_tiff_matches_littlecms(tmp_path: Path) -> None:
    rgb16 = gradient_rgb16(20, 30)
    icc = linear_rgb_icc()
    tifffile.imwrite(tmp_path / "c.tif", rgb16, photometric="rgb", iccprofile=icc)
    loaded = load_image(tmp_path / "c.tif")
    assert loaded.icc_profile == icc
    # Reference: littleCMS on the same picture at 8 bits.
    im8 = Image.fromarray(np.round(rgb16 / 257).astype(np.uint8))
    ref = ImageCms.profileToProfile(
        im8, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), outputMode="RGB"
    )
    np.testing.assert_allclose(loaded.L, sk_L(np.asarray(ref) / 255.0), atol=0.6)


def test_icc_16bit_fallback_through_littlecms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rgb16 = gradient_rgb16(20, 30)
    tifffile.imwrite(tmp_path / "c.tif", rgb16, photometric="rgb", iccprofile=linear_rgb_icc())
    exact = load_image(tmp_path / "c.tif").L
    monkeypatch.setattr(imageio.icc, "float_transform", lambda icc, gray: None)  # as for a LUT-based profile
    loaded = load_image(tmp_path / "c.tif")
    assert any("8-bit precision" in n for n in loaded.notices)
    np.testing.assert_allclose(loaded.L, exact, atol=0.6)


def test_broken_icc_is_ignored_with_notice(tmp_path: Path) -> None:
    gray = np.full((6, 6, 3), 100, np.uint8)
    Image.fromarray(gray).save(tmp_path / "b.png", icc_profile=b"not a profile at all" * 10)
    loaded = load_image(tmp_path / "b.png")
    np.testing.assert_allclose(loaded.L, sk_L(gray / 255.0), atol=1e-3)
    assert any("profile could not be used" in n for n in loaded.notices)


def test_srgb_profile_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(rgb).save(tmp_path / "s.png", icc_profile=srgb)
    loaded = load_image(tmp_path / "s.png")
    assert loaded.icc_profile == srgb
    np.testing.assert_allclose(loaded.L, sk_L(rgb / 255.0), atol=0.6)


def lab_l(rgb8: np.ndarray) -> np.ndarray:
    return rgb_to_lab(rgb8.astype(np.float32) / 255.0)[..., 0]


def test_icc_8bit_is_exactly_littlecms(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, (12, 20, 3), dtype=np.uint8)
    icc = linear_rgb_icc()
    Image.fromarray(rgb).save(tmp_path / "c.png", icc_profile=icc)
    ref = ImageCms.profileToProfile(
        Image.fromarray(rgb), ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB")
    )
    np.testing.assert_allclose(load_image(tmp_path / "c.png").L, lab_l(np.asarray(ref)), atol=1e-4)


@pytest.mark.parametrize("channels", [1, 3])
def test_imagecms_srgb_profile_on_16bit_data_changes_nothing(tmp_path: Path, channels: int) -> None:
    """littleCMS's own sRGB (parametric curves) goes through the float model, exactly."""
    data = gradient_rgb16(20, 30)[..., :channels].squeeze()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    kind = "rgb" if channels == 3 else "minisblack"
    tifffile.imwrite(tmp_path / "tagged.tif", data, photometric=kind, iccprofile=srgb)
    tifffile.imwrite(tmp_path / "plain.tif", data, photometric=kind)
    tagged, plain = load_image(tmp_path / "tagged.tif"), load_image(tmp_path / "plain.tif")
    assert not any("8-bit" in n for n in tagged.notices)
    np.testing.assert_allclose(tagged.L, plain.L, atol=0.05)


def test_float_model_is_checked_against_littlecms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tone curve read wrongly would disagree with littleCMS: the 8-bit path is taken instead."""
    rgb16 = gradient_rgb16(20, 30)
    tifffile.imwrite(tmp_path / "c.tif", rgb16, photometric="rgb", iccprofile=gamma_rgb_icc(2.2))
    exact = load_image(tmp_path / "c.tif")
    assert not any("8-bit" in n for n in exact.notices)
    imageio.icc.float_transform.cache_clear()
    monkeypatch.setattr(imageio.icc, "_parse_curve", lambda tag: lambda x: x)  # ignores the gamma
    try:
        guarded = load_image(tmp_path / "c.tif")
    finally:
        imageio.icc.float_transform.cache_clear()
    assert any("8-bit precision" in n for n in guarded.notices)
    np.testing.assert_allclose(guarded.L, exact.L, atol=0.6)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_profile_of_another_colour_space_is_ignored_with_notice(tmp_path: Path, dtype: type) -> None:
    """An RGB image tagged with a Lab profile (ImageCms.createProfile('LAB')) is read as sRGB."""
    rgb = np.full((6, 8, 3), 100, np.uint8)
    lab_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    path = tmp_path / "odd.tif"
    tifffile.imwrite(
        path, rgb.astype(dtype) * (257 if dtype == np.uint16 else 1), photometric="rgb", iccprofile=lab_icc
    )
    loaded = load_image(path)
    assert any("profile could not be used" in n for n in loaded.notices)
    np.testing.assert_allclose(loaded.L, sk_L(rgb / 255.0), atol=1e-3)
