"""Decoded pixels -> full-resolution CIE L*: alpha over white, colour detection, banded conversion.

The colour maths is :mod:`polychrome.core.color`'s (sRGB, D65); this module only
feeds it in row bands, through lookup tables for integer data, so that a 24 MP
photo needs no full-size float temporaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..color import lstar_from_luminance, luminance, rgb_to_lab, srgb_to_linear
from ..formats import READ_FORMATS
from .errors import check_size
from .resolution import Resolution

COLOR_CHROMA_THRESHOLD = 3.0  # mean chroma (ab units) above which an input counts as colour
COLOR_NOTICE = "This photo is already in colour; Polychrome uses only its brightness and replaces its colour."
_BAND_PIXELS = 1 << 20  # full-res pixels converted at a time: bounds float temporaries
_CHROMA_SAMPLES = 1 << 18  # pixels looked at to decide whether an image is colour


@dataclass
class LoadedImage:
    """A decoded photograph.

    Attributes:
        path: the file it came from.
        L: CIE L* ``(H, W)`` float32 in [0, 100], full resolution, after orientation.
        size: ``(W, H)`` after orientation.
        was_color: the file held real colour (mean chroma above the threshold);
            only its luminance is used (``COLOR_NOTICE`` is then among the notices).
        bit_depth: bits per sample of the source: 8, 16, or 32 for float TIFF.
        mode: the source's pixel layout as Pillow names it (``"RGB"``, ``"I;16"``,
            ``"CMYK"``...), or e.g. ``"RGB;16"`` for 16-bit colour.
        format: ``"JPEG"``, ``"PNG"``, ``"TIFF"``, ``"WebP"`` or ``"BMP"``.
        exif: EXIF block (``b"Exif\\0\\0..."``) with orientation reset to 1, or None.
        icc_profile: the embedded ICC profile as found in the file, or None.
        notices: plain-language remarks for the user (alpha flattened, precision reduced...).
        resolution: the print resolution the file declares (600 dpi...), kept on export; or None.
    """

    path: Path
    L: np.ndarray
    size: tuple[int, int]
    was_color: bool
    bit_depth: int
    mode: str
    exif: bytes | None
    icc_profile: bytes | None
    notices: list[str] = field(default_factory=list)
    format: str = ""
    resolution: Resolution | None = None


@dataclass
class Pixels:
    """Decoded pixels before L* is taken.

    ``data`` is gray ``(H, W)`` or RGB ``(H, W, 3)``, uint8, uint16 or float32 in
    [0, 1] (sRGB-encoded once the profile is applied); ``alpha`` ``(H, W)`` in
    the same scale (``associated`` for premultiplied colour), or None.
    """

    data: np.ndarray
    alpha: np.ndarray | None = None
    associated: bool = False


def is_probably_color(rgb: np.ndarray, threshold: float = COLOR_CHROMA_THRESHOLD) -> bool:
    """True when sRGB ``(..., 3)`` has mean chroma above ``threshold`` (ab units).

    Float input is taken as [0, 1]; uint8/uint16 as their full range. Large
    arrays are judged on an even subsample, which is plenty for a mean.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"rgb must have shape (..., 3), got {rgb.shape}")
    return _mean_chroma(rgb) > threshold


def row_bands(h: int, w: int) -> Iterator[slice]:
    """Row slices of about a megapixel each."""
    step = max(1, _BAND_PIXELS // max(1, w))
    for r0 in range(0, h, step):
        yield slice(r0, min(h, r0 + step))


def unit_scale(x: np.ndarray) -> float:
    """The value that means "full" for ``x``'s dtype: 1.0 for float32, else the integer maximum."""
    return 1.0 if x.dtype == np.float32 else float(np.iinfo(x.dtype).max)


def float_unit(x: np.ndarray) -> np.ndarray:
    """Float samples -> [0, 1]. Nominal range is [0, 1]; files that store 0..255 or 0..65535 are rescaled."""
    x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)
    top = float(x.max()) if x.size else 0.0
    if top > 1.0 + 1e-3:
        x = x / (255.0 if top <= 255.0 else 65535.0 if top <= 65535.0 else top)
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def _to_unit_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.float32:
        return x
    return x.astype(np.float32) / np.float32(np.iinfo(x.dtype).max)


def _composite_on_white(px: Pixels) -> np.ndarray:
    """Flatten alpha over white in sRGB-encoded values, as viewers display it -> float32 [0, 1]."""
    data, alpha = px.data, px.alpha
    assert alpha is not None
    out = np.empty(data.shape, dtype=np.float32)
    for rows in row_bands(data.shape[0], data.shape[1]):
        a = _to_unit_float(alpha[rows])
        v = _to_unit_float(data[rows])
        if data.ndim == 3:
            a = a[..., None]
        out[rows] = np.clip(v + (1.0 - a) if px.associated else v * a + (1.0 - a), 0.0, 1.0)
    return out


@lru_cache(maxsize=2)
def _gray_lut(levels: int) -> np.ndarray:
    """L* of every gray level ``0 .. levels-1``, computed by ``rgb_to_lab`` itself."""
    v = np.linspace(0.0, 1.0, levels, dtype=np.float32)
    return rgb_to_lab(np.repeat(v[:, None], 3, axis=1))[:, 0].copy()


@lru_cache(maxsize=2)
def _linear_lut(levels: int) -> np.ndarray:
    return srgb_to_linear(np.linspace(0.0, 1.0, levels, dtype=np.float32))


def lightness(data: np.ndarray) -> np.ndarray:
    """sRGB gray ``(H, W)`` or RGB ``(H, W, 3)`` (uint8, uint16, float32 [0, 1]) -> L* ``(H, W)`` float32.

    Integer data goes through lookup tables (exactly ``rgb_to_lab``'s numbers for
    gray, its linearisation for colour), which is several times faster than
    the float path on a 24 MP photo.
    """
    H, W = data.shape[:2]
    L = np.empty((H, W), dtype=np.float32)
    if data.ndim == 2 and data.dtype != np.float32:
        lut = _gray_lut(int(np.iinfo(data.dtype).max) + 1)
        for rows in row_bands(H, W):
            L[rows] = lut[data[rows]]
        return L
    for rows in row_bands(H, W):
        band = data[rows]
        if band.dtype != np.float32:
            lin = _linear_lut(int(np.iinfo(band.dtype).max) + 1)[band]
        else:
            lin = srgb_to_linear(np.clip(band, 0.0, 1.0))
        y = lin if lin.ndim == 2 else luminance(lin)
        L[rows] = lstar_from_luminance(y)
    return L


def _mean_chroma(rgb: np.ndarray) -> float:
    """Mean sqrt(a² + b²) of sRGB ``(..., 3)``, on an even subsample of at most ~256k pixels."""
    flat = rgb.reshape(-1, 3)
    step = max(1, flat.shape[0] // _CHROMA_SAMPLES)
    sample = flat[::step]
    if sample.dtype != np.float32:
        top = np.float32(np.iinfo(sample.dtype).max) if sample.dtype.kind in "ui" else np.float32(1.0)
        sample = sample.astype(np.float32) / top
    if sample.size == 0:
        return 0.0
    lab = rgb_to_lab(np.clip(sample, 0.0, 1.0))
    return float(np.hypot(lab[:, 1], lab[:, 2]).mean())


def finish(
    p: Path,
    fmt: str,
    mode: str,
    bit_depth: int,
    px: Pixels,
    exif: bytes | None,
    icc: bytes | None,
    notices: list[str],
) -> LoadedImage:
    """sRGB pixels (profile already applied) -> :class:`LoadedImage` with L*, colour flag and notices."""
    data = px.data
    H, W = data.shape[:2]
    check_size(p, W, H)
    if mode == "LAB":
        # Pillow's LAB: L* scaled to 0..255, a* and b* offset by 128.
        L = data[..., 0].astype(np.float32) * np.float32(100.0 / 255.0)
        ab = data[..., 1:].astype(np.float32) - 128.0
        chroma = float(np.hypot(ab[..., 0], ab[..., 1]).mean())
        was_color = chroma > COLOR_CHROMA_THRESHOLD
    else:
        if px.alpha is not None and float(px.alpha.min()) < unit_scale(px.alpha):
            data = _composite_on_white(px)
            notices.append("Transparent areas were placed on a white background.")
        was_color = data.ndim == 3 and _mean_chroma(data) > COLOR_CHROMA_THRESHOLD
        L = lightness(data)
    if was_color:
        notices.append(COLOR_NOTICE)
    fmt = READ_FORMATS.get(fmt, fmt)
    return LoadedImage(p, L, (W, H), was_color, bit_depth, mode, exif, icc, notices, fmt)
