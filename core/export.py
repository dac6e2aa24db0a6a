"""Write a colourised result to disk: PNG (8-bit), JPEG, or 16-bit TIFF.

Writes are atomic: the file is written to a temporary name in the destination
folder, flushed to disk, then renamed over the destination, so a crash, a full
disk or a refused permission never leaves a half-written file nor damages a
file that was already there. The source photograph is never overwritten.

The source's EXIF travels along in every format (orientation reset to 1, since
the pixels are already upright), and every file records its provenance
(:mod:`polychrome.core.provenance`: colourised by Polychrome, model, seed,
hints) in EXIF and XMP. The pixels are sRGB; files from a colour-managed source
are tagged with an sRGB profile.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import tifffile
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from .formats import EXPORT_FORMATS, EXPORT_KEYS, export_format
from .imageio import LoadedImage
from .imageio.exif import TIFF_DESCRIPTIVE_TAGS
from .imageio.resolution import Resolution
from .provenance import (
    Provenance,
    ascii_text,
    embed_tiff_exif,
    export_exif,
    provenance_only,
    tiff_pointer_tags,
)

FORMATS = EXPORT_KEYS
SUFFIXES = {f.key: f.suffix for f in EXPORT_FORMATS}
_JPEG_MAX_EXIF = 65533  # one APP1 segment; Pillow refuses longer EXIF in a JPEG
_BAND_PIXELS = 1 << 20  # pixels converted at a time, so a 24 MP float image needs no full-size temporaries


class ExportError(Exception):
    """An export could not be written; ``str(err)`` is a sentence for the user."""


def normalize_format(fmt: str) -> str:
    """``'PNG'``, ``'jpeg'``, ``'tiff'``... -> one of :data:`FORMATS`; ValueError otherwise."""
    return export_format(fmt).key


def default_export_name(source_path: Path | str, index: int | None, fmt: str) -> str:
    """``photo.tif`` -> ``'photo_colour.png'``, or ``'photo_colour_3.png'`` for ``index=3``."""
    stem = Path(source_path).stem or "image"
    number = "" if index is None else f"_{index}"
    return f"{stem}_colour{number}{SUFFIXES[normalize_format(fmt)]}"


def unique_path(dest: Path | str) -> Path:
    """``dest`` if free, else ``name (2).ext``, ``name (3).ext``... the first that does not exist."""
    dest = Path(dest)
    if not dest.exists():
        return dest
    n = 2
    while True:
        candidate = dest.with_name(f"{dest.stem} ({n}){dest.suffix}")
        if not candidate.exists():
            return candidate
        n += 1


def export_image(
    rgb: np.ndarray,
    dest: Path | str,
    fmt: str,
    quality: int = 92,
    source: LoadedImage | None = None,
    overwrite: bool = False,
    provenance: Provenance | None = None,
) -> Path:
    """Write sRGB ``(H, W, 3)`` to ``dest`` and return it.

    ``rgb`` is float in [0, 1] (clipped), uint8 or uint16. ``fmt`` is ``'png'``
    (8-bit), ``'jpg'`` (``quality`` 1..100) or ``'tif'`` (16-bit RGB). ``source``
    supplies EXIF and tells whether the original carried an ICC profile.
    ``provenance`` (model, seed, hints) is recorded in EXIF and XMP; without it
    the file still says it was colourised by Polychrome.

    Raises:
        ExportError: ``dest`` is the source photo, exists and ``overwrite`` is
            False, its folder is missing, or writing failed (disk full, no
            permission...); an existing ``dest`` is then left untouched.
        ValueError: bad ``rgb`` shape/dtype, unknown ``fmt``, quality out of range.
    """
    fmt = normalize_format(fmt)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 1:
        raise ValueError(f"rgb must have shape (H, W, 3), got {rgb.shape}")
    if rgb.dtype.kind != "f" and rgb.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"rgb must be float in [0, 1], uint8 or uint16, got {rgb.dtype}")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    dest = Path(dest).expanduser()
    _check_destination(dest, source, overwrite)

    icc = _srgb_icc() if source is not None and source.icc_profile else None
    provenance = provenance or Provenance()
    exif = export_exif(source.exif if source is not None else None, provenance)
    xmp = provenance.xmp(Path(source.path).name if source is not None else None)
    resolution = source.resolution if source is not None else None
    if fmt == "tif":
        write = _tiff_writer(_to_uint(rgb, np.uint16), icc, exif, xmp, resolution)
    else:
        image = Image.fromarray(_to_uint(rgb, np.uint8), "RGB")
        params: dict[str, object] = {"exif": exif.tobytes()}
        if resolution is not None:  # JFIF and PNG's pHYs from dots per inch (Pillow's unit)
            params["dpi"] = resolution.dpi()
        if icc is not None:
            params["icc_profile"] = icc
        if fmt == "jpg":
            # 4:4:4 at high quality: colourisation lives in the chroma, which
            # 4:2:0 would halve; below 90 the user asked for small files.
            params.update(quality=int(quality), subsampling=0 if quality >= 90 else 2, xmp=xmp)
            if len(params["exif"]) > _JPEG_MAX_EXIF:  # type: ignore[arg-type]
                params["exif"] = provenance_only(exif).tobytes()
        else:
            # zlib level 1: about 3x faster than Pillow's default 6 on photos, for files
            # ~15% larger; a 24 MP export should not keep the user waiting 15 s.
            params["compress_level"] = 1
            text = PngImagePlugin.PngInfo()
            text.add_text("Software", exif[ExifTags.Base.Software])
            text.add_text("Description", exif[ExifTags.Base.ImageDescription])
            text.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
            params["pnginfo"] = text

        def write(f: BinaryIO) -> None:
            image.save(f, format="JPEG" if fmt == "jpg" else "PNG", **params)

    _atomic_write(dest, write)
    return dest


# ----------------------------------------------------------------- helpers ---


def _tiff_writer(
    data: np.ndarray, icc: bytes | None, exif: Image.Exif, xmp: bytes, resolution: Resolution | None = None
) -> Callable[[BinaryIO], None]:
    """16-bit RGB TIFF with ICC, XMP, the source's resolution in its own unit, the EXIF's IFD0 tags
    and (appended) its Exif and GPS sub-IFDs."""

    extratags: list[tuple[int, int, int, object, bool]] = [(700, 1, len(xmp), xmp, True)]  # XMP: BYTE
    for tag in TIFF_DESCRIPTIVE_TAGS:
        text = ascii_text(exif.get(tag))
        if text and tag not in (ExifTags.Base.ImageDescription, ExifTags.Base.Software):
            extratags.append((tag, 2, 0, text, True))  # ASCII
    extratags += tiff_pointer_tags(exif)

    def write(f: BinaryIO) -> None:
        tifffile.imwrite(
            f,
            data,
            photometric="rgb",
            compression="zlib",  # lossless and readable everywhere, without extra codecs
            iccprofile=icc,
            description=ascii_text(exif[ExifTags.Base.ImageDescription]),
            software=ascii_text(exif[ExifTags.Base.Software]),
            metadata=None,
            extratags=extratags,
            resolution=None if resolution is None else (resolution.x, resolution.y),
            resolutionunit=None if resolution is None else resolution.tiff_unit,
        )
        embed_tiff_exif(f, exif)

    return write


def _check_destination(dest: Path, source: LoadedImage | None, overwrite: bool) -> None:
    if source is not None:
        src = Path(source.path)
        same = dest.resolve() == src.resolve()
        if not same and dest.exists() and src.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(dest, src)  # hard links, case-insensitive file systems
        if same:
            raise ExportError(f"'{dest.name}' is the original photo; exporting over it is not allowed.")
    if dest.is_dir():
        raise ExportError(f"'{dest}' is a folder; choose a file name to export to.")
    if dest.exists() and not overwrite:
        raise ExportError(f"'{dest.name}' already exists in {dest.parent}.")
    if not dest.parent.is_dir():
        raise ExportError(f"Cannot export '{dest.name}': the folder {dest.parent} does not exist.")


def _to_uint(rgb: np.ndarray, dtype: type[np.unsignedinteger]) -> np.ndarray:
    """sRGB ``(H, W, 3)`` float [0, 1] / uint8 / uint16 -> ``dtype``, rounded, band by band."""
    if rgb.dtype == dtype:
        return np.ascontiguousarray(rgb)
    out = np.empty(rgb.shape, dtype=dtype)
    top = float(np.iinfo(dtype).max)
    step = max(1, _BAND_PIXELS // rgb.shape[1])
    for r0 in range(0, rgb.shape[0], step):
        band = rgb[r0 : r0 + step]
        if band.dtype.kind == "f":
            unit = np.clip(np.nan_to_num(band.astype(np.float32), nan=0.0), 0.0, 1.0)
        else:
            unit = band.astype(np.float32) / np.float32(np.iinfo(band.dtype).max)
        out[r0 : r0 + step] = unit * top + 0.5
    return out


@lru_cache(maxsize=1)
def _srgb_icc() -> bytes:
    # The exported pixels are sRGB whatever the source was (the loader converted
    # its profile to sRGB). Copying the source's profile would make colour-managed
    # programs reinterpret sRGB numbers as, say, Adobe RGB. A source with a
    # profile signals a colour-managed workflow, so say explicitly what the
    # numbers are; untagged files are read as sRGB anyway, so they stay untagged.
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (other threads may create files)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_error(dest: Path, e: OSError) -> ExportError:
    code = e.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        why = "there is not enough free space on the disk"
    elif code in (errno.EACCES, errno.EPERM):
        why = f"permission to write in {dest.parent} was denied"
    elif code == errno.EROFS:
        why = "the disk is read-only"
    elif code == errno.ENAMETOOLONG:
        why = "the file name is too long"
    else:
        why = e.strerror or str(e)
    return ExportError(f"Could not write '{dest.name}': {why}.")


def _atomic_write(dest: Path, write: Callable[[BinaryIO], None]) -> None:
    """Run ``write(file)`` into a temp file beside ``dest``, fsync, then rename it over ``dest``."""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=".part", dir=dest.parent)
    except OSError as e:
        raise _write_error(dest, e) from e
    os.close(fd)  # reopen by name: tifffile wants a file object that knows its path
    tmp = Path(tmp_name)
    try:
        with tmp.open("w+b") as f:  # read-write: the TIFF writer patches its IFD0
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it the permissions a normal save would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise _write_error(dest, e) from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); best effort, the data is already safe."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
