"""Sample data for the imageio tests: reference L*, 16-bit gradients, hand-built ICC profiles.

The profiles are written byte by byte (not with ImageCms, which can only create
sRGB, Lab and XYZ profiles) so that the tests can embed the non-sRGB scanner and
camera profiles real files carry.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image
from skimage.color import rgb2lab


def lstar_of_y(y: np.ndarray) -> np.ndarray:
    """CIE L* of relative luminance, written out independently of the code under test."""
    y = np.asarray(y, dtype=np.float64)
    f = np.where(y > 0.008856, np.cbrt(y), 7.787 * y + 16 / 116)
    return 116 * f - 16


def sk_L(rgb01: np.ndarray) -> np.ndarray:
    """Reference L* of float sRGB ``(H, W, 3)`` or gray ``(H, W)`` via scikit-image."""
    if rgb01.ndim == 2:
        rgb01 = np.repeat(rgb01[..., None], 3, axis=2)
    return rgb2lab(rgb01.astype(np.float64))[..., 0]


def gradient_rgb16(h: int = 40, w: int = 50) -> np.ndarray:
    """Smooth 16-bit colour with values that 8 bits cannot represent."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = (x / (w - 1)) * 0.9 + 0.05
    g = (y / (h - 1)) * 0.8 + 0.1
    b = 0.5 + 0.3 * np.sin(x / 5 + y / 7)
    return np.round(np.stack([r, g, b], -1) * 65535 + 3).clip(0, 65535).astype(np.uint16)


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _gamma_tag(gamma: float) -> bytes:
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def para3_srgb_tag() -> bytes:
    params = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
    return b"para" + b"\0" * 4 + struct.pack(">HH", 3, 0) + b"".join(_s15(v) for v in params)


def make_icc(space: bytes, tags: dict[bytes, bytes]) -> bytes:
    """A minimal ICC v2 display profile (what a scanner or camera would embed)."""
    text = b"Polychrome test profile\0"
    # textDescriptionType: ASCII part, then empty Unicode (8 bytes) and ScriptCode (3 + 67) parts.
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * (8 + 3 + 67)
    tags = {
        b"desc": desc,
        b"wtpt": _xyz_tag(0.9642, 1.0, 0.8249),
        b"cprt": b"text" + b"\0" * 4 + b"public domain\0",
        **tags,
    }
    table = struct.pack(">I", len(tags))
    data = b""
    offset = 128 + 4 + 12 * len(tags)
    for sig, body in tags.items():
        table += struct.pack(">4sII", sig, offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    header = bytearray(128)
    header[8:12] = struct.pack(">I", 0x02100000)
    header[12:16] = b"mntr"
    header[16:20] = space
    header[20:24] = b"XYZ "
    header[36:40] = b"acsp"
    header[68:80] = _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    body = bytes(header) + table + data
    return struct.pack(">I", len(body)) + body[4:]


def linear_rgb_icc() -> bytes:
    """Adobe RGB primaries with a linear (gamma 1.0) tone curve: far from sRGB, so mistakes show."""
    return make_icc(
        b"RGB ",
        {
            b"rXYZ": _xyz_tag(0.60974, 0.31111, 0.01947),
            b"gXYZ": _xyz_tag(0.20528, 0.62567, 0.06087),
            b"bXYZ": _xyz_tag(0.14919, 0.06322, 0.74457),
            b"rTRC": _gamma_tag(1.0),
            b"gTRC": _gamma_tag(1.0),
            b"bTRC": _gamma_tag(1.0),
        },
    )


def linear_gray_icc() -> bytes:
    return make_icc(b"GRAY", {b"kTRC": _gamma_tag(1.0)})


def save_exif_jpeg(path: Path, img: Image.Image, orientation: int) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "TestCam"
    img.save(path, quality=95, exif=exif.tobytes())


def gamma_rgb_icc(gamma: float) -> bytes:
    """Adobe RGB primaries with a pure power-law tone curve."""
    xyz = {b"rXYZ": (0.60974, 0.31111, 0.01947), b"gXYZ": (0.20528, 0.62567, 0.06087)}
    xyz[b"bXYZ"] = (0.14919, 0.06322, 0.74457)
    tags = {sig: _xyz_tag(*v) for sig, v in xyz.items()}
    tags |= {sig: _gamma_tag(gamma) for sig in (b"rTRC", b"gTRC", b"bTRC")}
    return make_icc(b"RGB ", tags)
