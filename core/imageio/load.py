"""The dispatch: check the file, pick the decoder by format, make every failure an :class:`ImageLoadError`."""

from __future__ import annotations

import errno
from dataclasses import replace
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..formats import READ_FORMAT_LIST, READ_FORMATS
from .errors import ImageLoadError, check_file, check_size, damaged_reason, strict_decoding, too_large_reason
from .pillow import PNG_MAGIC, load_pillow, load_png16_colour, png_is_16bit_colour
from .pixels import LoadedImage
from .resolution import read_resolution, read_tiff_resolution
from .tiff import TIFF_MAGIC, load_tiff


def load_image(path: Path | str) -> LoadedImage:
    """Decode ``path`` to full-resolution L* and metadata.

    Raises:
        ImageLoadError: the file is missing, unreadable, empty, not a supported
            image, truncated or damaged, too large, or has no pixels.
    """
    p = Path(path).expanduser()
    check_file(p)
    try:
        with strict_decoding():
            return _load(p)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageLoadError(p, too_large_reason(e)) from e
    except MemoryError as e:
        raise ImageLoadError(p, "there is not enough memory to open an image this large") from e
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            raise ImageLoadError(p, "permission to read the file was denied") from e
        raise ImageLoadError(p, damaged_reason(e)) from e
    except Exception as e:  # noqa: BLE001 - decoders raise anything on hostile input
        raise ImageLoadError(p, damaged_reason(e)) from e


def _load(p: Path) -> LoadedImage:
    with p.open("rb") as f:
        head = f.read(32)
    try:
        im = Image.open(p)
    except UnidentifiedImageError as e:
        if head.startswith(TIFF_MAGIC):  # a TIFF layout Pillow does not know (float RGB...)
            return replace(load_tiff(p, None), resolution=read_tiff_resolution(p))
        if kind := _sniff_format(head):
            raise ImageLoadError(p, f"the file starts like a {kind} image but is damaged") from e
        reason = f"it is not an image, or not in a supported format ({READ_FORMAT_LIST})"
        raise ImageLoadError(p, reason) from e
    with im:
        fmt = im.format or ""
        if fmt not in READ_FORMATS:
            raise ImageLoadError(p, f"{fmt} images are not supported (Polychrome reads {READ_FORMAT_LIST})")
        check_size(p, *im.size)
        resolution = read_resolution(im)
        if fmt == "TIFF":
            loaded = load_tiff(p, im)
        elif fmt == "PNG" and png_is_16bit_colour(head):
            loaded = load_png16_colour(p, im)
        else:
            loaded = load_pillow(p, im)
    return replace(loaded, resolution=resolution)


def _sniff_format(head: bytes) -> str | None:
    """The supported format a file's first bytes announce, if any."""
    if head.startswith(PNG_MAGIC):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"BM"):
        return "BMP"
    return None
