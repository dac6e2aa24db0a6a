"""EXIF on the way in: apply the orientation, keep the rest (orientation reset to 1) for exports."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import ExifTags, Image, ImageOps

ORIENTATION = ExifTags.Base.Orientation
# IFD0 tags of a TIFF that describe the photo rather than the file's layout:
# only these may travel into another file's EXIF.
TIFF_DESCRIPTIVE_TAGS = (
    ExifTags.Base.ImageDescription,
    ExifTags.Base.Make,
    ExifTags.Base.Model,
    ExifTags.Base.Software,
    ExifTags.Base.DateTime,
    ExifTags.Base.Artist,
    ExifTags.Base.Copyright,
)
DAMAGED_EXIF = "The photo's EXIF metadata is damaged and will not be copied to exports."


def exif_after_transpose(im: Image.Image, notices: list[str], *, from_tiff: bool) -> bytes | None:
    """Apply the EXIF orientation to ``im`` in place; return the EXIF to keep (orientation 1), or None."""
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop the photo from opening
        notices.append("The photo's orientation tag could not be read; it is shown as stored.")
    return exif_to_keep(im, notices, from_tiff=from_tiff)


def exif_to_keep(im: Image.Image, notices: list[str], *, from_tiff: bool) -> bytes | None:
    """``im``'s EXIF cleaned for exports, or None (with a notice when it is damaged)."""
    try:
        return clean_exif(im.getexif(), from_tiff=from_tiff)
    except Exception:  # noqa: BLE001 - damaged metadata must not stop the photo from opening
        notices.append(DAMAGED_EXIF)
        return None


def clean_exif(exif: Image.Exif, *, from_tiff: bool) -> bytes | None:
    """EXIF bytes with orientation 1; a TIFF's layout tags (strips, bits...) are dropped."""
    if from_tiff:
        clean = Image.Exif()
        for tag in TIFF_DESCRIPTIVE_TAGS:
            if tag in exif:
                clean[tag] = exif[tag]
        for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
            if ifd in exif:
                sub = exif.get_ifd(ifd)
                if sub:
                    clean[ifd] = dict(sub)
        exif = clean
    if len(exif) == 0:
        return None
    exif[ORIENTATION] = 1
    return exif.tobytes()


_ORIENT_OPS: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda x: x[:, ::-1],
    3: lambda x: x[::-1, ::-1],
    4: lambda x: x[::-1],
    5: lambda x: np.swapaxes(x, 0, 1),
    6: lambda x: np.rot90(x, -1),
    7: lambda x: np.swapaxes(x[::-1, ::-1], 0, 1),
    8: lambda x: np.rot90(x, 1),
}


def orient_array(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF/TIFF orientation (1..8) to ``(H, W, ...)``, as ``ImageOps.exif_transpose`` does."""
    op = _ORIENT_OPS.get(orientation)
    return a if op is None else np.ascontiguousarray(op(a))
