"""TIFF: 8-bit through Pillow (it knows every photometric); deeper samples through tifffile.

tifffile keeps 16-bit and float samples at full precision. A compression it
cannot decode without imagecodecs (LZW...) falls back to Pillow, which reads
16-bit gray exactly and colour at 8 bits, with a notice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from .errors import ImageLoadError, check_size, damaged_reason
from .exif import exif_to_keep, orient_array
from .icc import apply_icc_array
from .pillow import frames_notice, load_pillow
from .pixels import LoadedImage, Pixels, finish, float_unit, unit_scale

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_TAG_ORIENTATION, _TAG_ICC = 274, 34675
_READABLE = (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.MINISWHITE, tifffile.PHOTOMETRIC.RGB)


def _at_8bit(p: Path, im: Image.Image, bits: int, *, notice: bool = True) -> LoadedImage:
    loaded = load_pillow(p, im, bit_depth=bits)
    if notice:
        loaded.notices.insert(0, f"This {bits}-bit TIFF was read with 8-bit precision.")
    return loaded


def load_tiff(p: Path, im: Image.Image | None) -> LoadedImage:
    """A TIFF file; ``im`` is Pillow's view of it, or None when Pillow cannot open it (float RGB...)."""
    try:
        tif = tifffile.TiffFile(p)
    except Exception as e:  # noqa: BLE001
        if im is not None:
            return load_pillow(p, im)
        raise ImageLoadError(p, damaged_reason(e)) from e
    with tif:
        if not tif.pages:
            raise ImageLoadError(p, "the TIFF file contains no image")
        page = tif.pages.first
        bits = int(page.bitspersample)
        if bits <= 8 and im is not None:
            return load_pillow(p, im)
        if page.photometric not in _READABLE:
            if im is not None:
                return _at_8bit(p, im, bits)
            kind = f"{getattr(page.photometric, 'name', page.photometric)}, {bits}-bit"
            raise ImageLoadError(p, f"this kind of TIFF ({kind}) is not supported")
        check_size(p, int(page.imagewidth), int(page.imagelength))
        try:
            data = page.asarray()
        except ValueError as e:
            if "imagecodecs" in str(e) and im is not None:
                # Compression tifffile cannot decode on its own (LZW...): Pillow can, at 8 bits for colour.
                return _at_8bit(p, im, bits, notice=im.mode not in ("I;16", "I;16B", "I;16L", "I", "F"))
            raise
        notices = frames_notice(len(tif.pages))
        px, mode = _tiff_pixels(p, page, data)
        icc_tag = page.tags.get(_TAG_ICC)
        icc = bytes(icc_tag.value) if icc_tag is not None else None
        orient_tag = page.tags.get(_TAG_ORIENTATION)
        orientation = int(orient_tag.value) if orient_tag is not None else 1
    px.data = orient_array(px.data, orientation)
    if px.alpha is not None:
        px.alpha = orient_array(px.alpha, orientation)
    exif = exif_to_keep(im, notices, from_tiff=True) if im is not None else None
    px = apply_icc_array(px, icc, notices)
    depth = 8 if bits <= 8 else 16 if bits <= 16 else 32
    return finish(p, "TIFF", mode, depth, px, exif, icc, notices)


def _tiff_pixels(p: Path, page: tifffile.TiffPage, data: np.ndarray) -> tuple[Pixels, str]:
    """tifffile's array -> gray or RGB (+ alpha) in a nominal [0, max] scale."""
    axes = page.axes
    bits = int(page.bitspersample)
    if axes.startswith("S") and data.ndim == 3:  # planar configuration: samples first
        data, axes = np.moveaxis(data, 0, -1), axes[1:] + "S"
    if axes not in ("YX", "YXS"):
        raise ImageLoadError(p, f"TIFF images laid out as {page.axes!r} are not supported")
    if data.dtype.kind == "f":
        data = float_unit(data.astype(np.float32))
    elif (data.dtype, bits) not in ((np.uint8, 8), (np.uint16, 16)):
        # 12-, 14-, 32-bit or signed samples: to float over the nominal range (negatives clip to black).
        top = float((1 << (bits - 1)) - 1 if data.dtype.kind == "i" else (1 << bits) - 1)
        data = np.clip(data.astype(np.float32) / np.float32(top), 0.0, 1.0)
    top = unit_scale(data)
    extras = tuple(getattr(page, "extrasamples", ()) or ())
    photometric = page.photometric
    n_color = 3 if photometric == tifffile.PHOTOMETRIC.RGB else 1
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[..., 0]
    color = data if data.ndim == 2 else (data[..., 0] if n_color == 1 else data[..., :3])
    alpha, associated = None, False
    if data.ndim == 3 and data.shape[2] > n_color and extras:
        kind = extras[0]
        if kind in (1, 2):  # 1 = associated (premultiplied), 2 = unassociated alpha
            alpha, associated = data[..., n_color], kind == 1
    if photometric == tifffile.PHOTOMETRIC.MINISWHITE:
        color = (top - color).astype(color.dtype)
    kind = "F" if data.dtype == np.float32 else ""
    mode = ("RGB" if n_color == 3 else "L") + ("A" if alpha is not None else "") + f";{bits}{kind}"
    return Pixels(np.ascontiguousarray(color), alpha=alpha, associated=associated), mode
