"""Everything Pillow decodes: 8-bit images of every mode, 16-bit gray, and 16-bit colour PNG.

16-bit colour PNG is read with imagecodecs (Pillow would reduce it to 8 bits);
without imagecodecs it is read at 8-bit precision, with a notice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ImageLoadError
from .exif import DAMAGED_EXIF, ORIENTATION, clean_exif, exif_after_transpose, orient_array
from .icc import apply_icc_array, apply_icc_pillow, cmyk_to_rgb
from .pixels import LoadedImage, Pixels, finish, float_unit

try:  # optional: exact 16-bit colour PNG
    import imagecodecs
except ImportError:  # pragma: no cover - depends on the environment
    imagecodecs = None  # type: ignore[assignment]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def frames_notice(n: int) -> list[str]:
    return [f"The file holds {n} images; only the first one is used."] if n > 1 else []


def load_pillow(p: Path, im: Image.Image, bit_depth: int | None = None) -> LoadedImage:
    """Everything Pillow decodes at full precision: 8-bit images and 16-bit gray."""
    notices = frames_notice(getattr(im, "n_frames", 1))
    im.load()  # full decode now, so that truncation is an error, not a gray band
    exif = exif_after_transpose(im, notices, from_tiff=im.format == "TIFF")
    icc = im.info.get("icc_profile") or None
    mode = im.mode
    px, depth = _pixels_from_pillow(im, icc, notices)
    return finish(p, im.format or "", mode, bit_depth or depth, px, exif, icc, notices)


def _alpha(a: Image.Image | None) -> np.ndarray | None:
    return None if a is None else np.asarray(a)


def _pixels_from_pillow(im: Image.Image, icc: bytes | None, notices: list[str]) -> tuple[Pixels, int]:
    """A loaded Pillow image -> pixels in sRGB (profile applied) and the source bit depth."""
    mode = im.mode
    alpha: Image.Image | None = None
    if mode == "1":
        im, mode = im.convert("L"), "L"
    if mode == "P" or mode == "PA":
        im = im.convert("RGBA" if (mode == "PA" or "transparency" in im.info) else "RGB")
    elif mode in ("L", "RGB") and "transparency" in im.info:  # tRNS colour key
        im = im.convert(mode + "A")
    elif mode in ("La", "RGBa"):  # premultiplied: un-premultiply, then composite like the others
        im = im.convert(mode[:-1] + "A")
    elif mode in ("RGBX", "YCbCr", "HSV"):
        im = im.convert("RGB")
    if im.mode in ("LA", "RGBA"):
        alpha = im.getchannel("A")
        im = im.convert(im.mode[:-1])
    mode = im.mode

    if mode == "LAB":
        return Pixels(np.asarray(im)), 8  # L* is read directly in finish()
    if mode.startswith("I;16") or mode == "I":
        data = np.asarray(im)
        if mode == "I":  # 32-bit integer TIFF/PNG: 16-bit samples stored wide
            data = np.clip(data, 0, 65535)
        px = Pixels(data.astype(np.uint16), alpha=_alpha(alpha))
        return apply_icc_array(px, icc, notices), 16
    if mode == "F":
        px = Pixels(float_unit(np.asarray(im, dtype=np.float32)), alpha=_alpha(alpha))
        return apply_icc_array(px, icc, notices), 32
    if mode == "CMYK":
        im = cmyk_to_rgb(im, icc, notices)
        return Pixels(np.asarray(im), alpha=_alpha(alpha)), 8
    if mode not in ("L", "RGB"):
        im = im.convert("RGB")
    if icc:
        im = apply_icc_pillow(im, icc, notices)
    return Pixels(np.asarray(im), alpha=_alpha(alpha)), 8


def png_is_16bit_colour(head: bytes) -> bool:
    """16-bit RGB, RGBA or gray+alpha PNG (IHDR bit depth 16, colour type 2, 4 or 6).

    Pillow reduces these to 8 bits; 16-bit gray (type 0) it reads exactly.
    """
    return len(head) >= 26 and head.startswith(PNG_MAGIC) and head[24] == 16 and head[25] in (2, 4, 6)


def load_png16_colour(p: Path, im: Image.Image) -> LoadedImage:
    """16-bit colour PNG through imagecodecs, at full precision."""
    if imagecodecs is None:
        loaded = load_pillow(p, im, bit_depth=16)
        loaded.notices.insert(0, "This 16-bit PNG was read with 8-bit precision (imagecodecs is missing).")
        return loaded
    data = imagecodecs.png_decode(p.read_bytes())  # raises on truncation / bad CRC
    h, w = data.shape[:2]
    if (w, h) != im.size:
        raise ImageLoadError(p, "the file is damaged (its header and pixel data disagree)")
    notices: list[str] = []
    icc = im.info.get("icc_profile") or None
    try:
        exif_obj = im.getexif()
        orientation = int(exif_obj.get(ORIENTATION, 1) or 1)
        exif = clean_exif(exif_obj, from_tiff=False)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop the photo from opening
        orientation, exif = 1, None
        notices.append(DAMAGED_EXIF)
    data = orient_array(data, orientation)
    channels = data.shape[2]
    if channels == 2:  # gray + alpha
        px, mode = Pixels(data[..., 0], alpha=data[..., 1]), "LA;16"
    elif channels == 4:
        px, mode = Pixels(data[..., :3], alpha=data[..., 3]), "RGBA;16"
    else:
        px, mode = Pixels(data), "RGB;16"
    px = apply_icc_array(px, icc, notices)
    return finish(p, "PNG", mode, 16, px, exif, icc, notices)
