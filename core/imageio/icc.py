"""Embedded ICC profiles -> sRGB, through littleCMS (Pillow's ImageCms).

8-bit images are converted by littleCMS directly (perceptual intent). For 16-bit
and float data, which littleCMS can only take at 8 bits through Pillow, the
common matrix/TRC (RGB) and gray-TRC profiles are evaluated in float instead:
ImageCms says whether a profile is such a shaper and gives its colorants; only
the tone curves, which Pillow does not expose, are read from the profile's tag
table. The float model is used only when it reproduces littleCMS on a set of
probe colours; anything else (LUT-based profiles, unusual curves) goes through
littleCMS at 8 bits, with a notice.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

from ..color import linear_to_srgb, luminance, srgb_to_linear
from .pixels import Pixels, row_bands, unit_scale

PROFILE_IGNORED = "The embedded colour profile could not be used; the image is treated as sRGB."
PROFILE_8BIT = "The embedded colour profile was applied with 8-bit precision."
_CMS_ERRORS = (ImageCms.PyCMSError, OSError, ValueError, TypeError)
_PROBE_TOLERANCE = 1.0  # 8-bit steps by which the float model may differ from littleCMS's 8-bit result

FloatTransform = Callable[[np.ndarray], np.ndarray]


@lru_cache(maxsize=1)
def srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def open_profile(icc: bytes) -> ImageCms.ImageCmsProfile | None:
    """The profile littleCMS reads from ``icc``, or None when it is not a usable profile."""
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except _CMS_ERRORS:
        return None


def to_srgb_8bit(im: Image.Image, icc: bytes, *, exact: bool = False) -> Image.Image | None:
    """8-bit L, RGB or CMYK with profile ``icc`` -> 8-bit RGB in sRGB, or None if the profile is unusable.

    ``exact`` turns off littleCMS's 8-bit optimisations (precalculated tables,
    off by a few steps in steep shadows): slower, for small probe images.
    """
    profile = open_profile(icc)
    if profile is None:
        return None
    flags = ImageCms.Flags.NOOPTIMIZE if exact else ImageCms.Flags.NONE
    try:
        return ImageCms.profileToProfile(im, profile, srgb_profile(), outputMode="RGB", flags=flags)
    except _CMS_ERRORS:
        return None


def apply_icc_pillow(im: Image.Image, icc: bytes, notices: list[str]) -> Image.Image:
    """8-bit L or RGB with an embedded profile -> RGB in sRGB (littleCMS, perceptual intent)."""
    out = to_srgb_8bit(im, icc)
    if out is None:
        notices.append(PROFILE_IGNORED)
        return im
    return out


def cmyk_to_rgb(im: Image.Image, icc: bytes | None, notices: list[str]) -> Image.Image:
    """CMYK -> RGB through its profile, or Pillow's generic formula (with a notice) without one."""
    out = to_srgb_8bit(im, icc) if icc else None
    if out is not None:
        notices.append("This CMYK image was converted to RGB with its embedded colour profile.")
        return out
    notices.append(
        "This CMYK image has no usable colour profile and was converted to RGB with a generic formula; "
        "tones may differ slightly from other programs."
    )
    return im.convert("RGB")


def apply_icc_array(px: Pixels, icc: bytes | None, notices: list[str]) -> Pixels:
    """16-bit or float pixels with an embedded profile -> float32 sRGB, keeping the precision if it can."""
    if not icc:
        return px
    gray = px.data.ndim == 2
    exact = float_transform(icc, gray)
    if exact is not None:
        px.data = _map_bands(px.data, exact)
        return px
    top = unit_scale(px.data)
    if gray:
        # 1-D tone curve: sample it through littleCMS on a 256-step ramp, interpolate the rest.
        out = to_srgb_8bit(Image.fromarray(np.arange(256, dtype=np.uint8)[None]), icc)
        if out is None:
            notices.append(PROFILE_IGNORED)
            return px
        rgb = np.asarray(out, dtype=np.float32)[0] / 255.0
        curve = linear_to_srgb(luminance(srgb_to_linear(rgb)))
        xs = np.linspace(0.0, 1.0, 256, dtype=np.float32)
        px.data = _map_bands(px.data, lambda band: np.interp(band, xs, curve).astype(np.float32))
    else:
        im8 = Image.fromarray((px.data.astype(np.float32) * (255.0 / top) + 0.5).astype(np.uint8), "RGB")
        out = to_srgb_8bit(im8, icc)
        if out is None:  # profile unusable: keep the full-precision data as sRGB
            notices.append(PROFILE_IGNORED)
            return px
        px.data = np.asarray(out)
        if px.alpha is not None:
            px.alpha = (px.alpha.astype(np.float32) * (255.0 / top) + 0.5).astype(np.uint8)
    notices.append(PROFILE_8BIT)
    return px


def _map_bands(data: np.ndarray, fn: FloatTransform) -> np.ndarray:
    """Apply ``fn`` (float32 in [0, 1] -> float32) over row bands of ``(H, W[, C])`` data."""
    top = np.float32(unit_scale(data))
    out = np.empty(data.shape, dtype=np.float32)
    for rows in row_bands(data.shape[0], data.shape[1]):
        out[rows] = fn(data[rows].astype(np.float32) / top)
    return out


# -- the float model of a shaper profile ---------------------------------------------------------


@lru_cache(maxsize=8)
def float_transform(icc: bytes, gray: bool) -> FloatTransform | None:
    """Device values in [0, 1] -> sRGB-encoded float32, for a matrix/TRC or gray-TRC profile.

    ``gray`` data maps ``(...)`` -> ``(...)`` on the neutral axis; RGB maps
    ``(..., 3)`` -> ``(..., 3)``. None for any other profile, or when the float
    model does not reproduce littleCMS.
    """
    profile = open_profile(icc)
    if profile is None:
        return None
    p = profile.profile
    space = p.xcolor_space.strip()
    if not p.is_matrix_shaper or space != ("GRAY" if gray else "RGB"):
        return None
    if (p.clut or {}).get(ImageCms.Intent.PERCEPTUAL, (False,))[0]:
        return None  # littleCMS would use the profile's LUT for our intent, not the shaper
    try:
        if gray:
            (curve,) = _tone_curves(icc, (b"kTRC",))
            fn: FloatTransform = lambda v: linear_to_srgb(np.clip(curve(v), 0.0, 1.0))  # noqa: E731
        else:
            curves = _tone_curves(icc, (b"rTRC", b"gTRC", b"bTRC"))
            m = (_srgb_from_pcs() @ _colorant_matrix(profile)).T.astype(np.float32)

            def fn(v: np.ndarray) -> np.ndarray:
                lin = np.stack([curves[c](v[..., c]) for c in range(3)], axis=-1)
                return linear_to_srgb(np.clip(lin @ m, 0.0, 1.0))

    except (struct.error, ValueError, IndexError, KeyError, ZeroDivisionError, TypeError):
        return None
    return fn if _agrees_with_littlecms(fn, icc, gray) else None


@lru_cache(maxsize=1)
def _srgb_from_pcs() -> np.ndarray:
    """PCS XYZ (D50) -> linear sRGB: the inverse of littleCMS's own sRGB colorant matrix."""
    return np.linalg.inv(_colorant_matrix(srgb_profile()))


def _colorant_matrix(profile: ImageCms.ImageCmsProfile) -> np.ndarray:
    """Linear device RGB -> PCS XYZ (D50): the profile's colorants as columns (KeyError if missing)."""
    p = profile.profile
    colorants = [p.red_colorant, p.green_colorant, p.blue_colorant]
    if any(c is None for c in colorants):
        raise KeyError("colorant")
    return np.array([c[0] for c in colorants if c is not None], dtype=np.float64).T


def _agrees_with_littlecms(fn: FloatTransform, icc: bytes, gray: bool) -> bool:
    if gray:
        probe = np.arange(256, dtype=np.uint8)[None]
        ours = np.repeat(fn(probe.astype(np.float32) / 255.0)[..., None], 3, axis=-1)
        im = Image.fromarray(probe)
    else:
        levels = np.linspace(0, 255, 7).round().astype(np.uint8)
        probe = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(1, -1, 3)
        ours = fn(probe.astype(np.float32) / 255.0)
        im = Image.fromarray(probe, "RGB")
    ref = to_srgb_8bit(im, icc, exact=True)
    if ref is None:
        return False
    diff = np.abs(ours * 255.0 - np.asarray(ref, dtype=np.float32))
    return bool(diff.max() <= _PROBE_TOLERANCE)


def _tone_curves(icc: bytes, sigs: tuple[bytes, ...]) -> list[FloatTransform]:
    """The profile's ``curv``/``para`` tags named ``sigs``, as functions (device -> linear)."""
    (count,) = struct.unpack_from(">I", icc, 128)
    table = {}
    for i in range(min(count, 100)):
        sig, off, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        table[sig] = icc[off : off + size]
    return [_parse_curve(table[s]) for s in sigs]


def _s15(b: bytes) -> float:
    return struct.unpack(">i", b)[0] / 65536.0


def _parse_curve(tag: bytes) -> FloatTransform:
    """ICC ``curv`` or ``para`` tag -> vectorised function on [0, 1] (device -> linear)."""
    kind = tag[:4]
    if kind == b"curv":
        (n,) = struct.unpack(">I", tag[8:12])
        if n == 0:
            return lambda x: x
        if n == 1:
            gamma = struct.unpack(">H", tag[12:14])[0] / 256.0
            return lambda x: np.power(np.clip(x, 0.0, 1.0), gamma, dtype=np.float32)
        table = np.frombuffer(tag[12 : 12 + 2 * n], dtype=">u2").astype(np.float32) / 65535.0
        if table.size != n:
            raise ValueError("short curve table")
        xs = np.linspace(0.0, 1.0, n, dtype=np.float32)
        return lambda x: np.interp(x, xs, table).astype(np.float32)
    if kind == b"para":
        (fn,) = struct.unpack(">H", tag[8:10])
        n_params = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}[fn]
        g, a, b, c, d, e, f = ([_s15(tag[12 + 4 * i : 16 + 4 * i]) for i in range(n_params)] + [0.0] * 7)[:7]
        if fn == 0:
            a, b, c, d, e, f = 1.0, 0.0, 0.0, 0.0, 0.0, 0.0
        elif fn == 1:
            d, c = -b / a, 0.0
        elif fn == 2:
            d, e, f = -b / a, c, c
            c = 0.0
        elif fn == 3:
            e, f = 0.0, 0.0

        def para(x: np.ndarray) -> np.ndarray:
            x = np.clip(x, 0.0, 1.0)
            hi = np.power(np.maximum(a * x + b, 0.0), g) + e
            return np.where(x >= d, hi, c * x + f).astype(np.float32)

        return para
    raise ValueError(f"unknown curve type {kind!r}")
