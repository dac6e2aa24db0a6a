"""Open a photograph as full-resolution CIE L*, plus the metadata an export keeps.

:func:`load_image` accepts JPEG, PNG, TIFF, WebP and BMP in 8 or 16 bits, gray,
RGB, RGBA, LA, palette and CMYK. Before L* is computed the image is put in the
state a viewer shows: EXIF orientation applied, embedded ICC profile converted
to sRGB, transparency composited over white. L* follows
:func:`polychrome.core.color.rgb_to_lab` exactly (sRGB, D65).

Every problem with the file itself becomes one :class:`ImageLoadError` whose
message names the file and says in plain words what is wrong; the caller never
sees a decoder's traceback.

16-bit data keeps its precision into L*: 16-bit TIFF is read with tifffile and
16-bit colour PNG with imagecodecs (Pillow would reduce both to 8 bits); 16-bit
gray PNG is exact in Pillow's ``I;16`` mode. Without imagecodecs a 16-bit colour
PNG or a compressed 16-bit colour TIFF is read at 8-bit precision, with a notice.
"""

from __future__ import annotations

import errno
import io
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import tifffile
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from .color import WHITE_D65, XYZ_FROM_RGB, cie_f, linear_to_srgb, rgb_to_lab, srgb_to_linear

try:  # optional: exact 16-bit colour PNG, and LZW/JPEG-compressed TIFF for tifffile
    import imagecodecs
except ImportError:  # pragma: no cover - depends on the environment
    imagecodecs = None

MAX_PIXELS = 200_000_000  # refuse larger images: decoding one would need several GB
SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".bmp")
COLOR_CHROMA_THRESHOLD = 3.0  # mean chroma (ab units) above which an input counts as colour
COLOR_NOTICE = "This photo is already in colour; Polychrome uses only its brightness and replaces its colour."

# Pillow format name -> the name a user knows. MPO is the multi-picture JPEG many cameras write.
_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "WEBP": "WebP", "BMP": "BMP"}
_FORMAT_LIST = "JPEG, PNG, TIFF, WebP and BMP"
_BAND_PIXELS = 1 << 20  # full-res pixels converted at a time: bounds float temporaries
_CHROMA_SAMPLES = 1 << 18  # pixels looked at to decide whether an image is colour

# Pillow's own bomb check fires first (it warns above MAX_IMAGE_PIXELS and refuses
# above twice that, ~179 MP by default). Let our limit be the one that applies.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_ORIENTATION = ExifTags.Base.Orientation
# IFD0 tags of a TIFF that describe the photo rather than the file's layout:
# only these may travel into another file's EXIF.
_TIFF_DESCRIPTIVE_TAGS = (
    ExifTags.Base.ImageDescription,
    ExifTags.Base.Make,
    ExifTags.Base.Model,
    ExifTags.Base.Software,
    ExifTags.Base.DateTime,
    ExifTags.Base.Artist,
    ExifTags.Base.Copyright,
)
# How decoders word "the data stopped early" (Pillow, libpng via imagecodecs, tifffile).
_TRUNCATION_WORDS = ("truncat", "too small", "premature", "unexpected end", "failed to read")
_decode_lock = threading.Lock()


class ImageLoadError(Exception):
    """A file could not be opened as a photograph; ``str(err)`` is a sentence for the user."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Cannot open '{self.path.name}': {reason}.")

    def __reduce__(self) -> tuple[type[ImageLoadError], tuple[Path, str]]:
        return (type(self), (self.path, self.reason))


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


@dataclass
class _Pixels:
    """Decoded pixels before L* is taken.

    ``data`` is gray ``(H, W)`` or RGB ``(H, W, 3)``, uint8, uint16 or float32 in
    [0, 1] (sRGB-encoded once the profile is applied); ``alpha`` ``(H, W)`` in
    the same scale (``associated`` for premultiplied colour), or None.
    """

    data: np.ndarray
    alpha: np.ndarray | None = None
    associated: bool = False


# ------------------------------------------------------------ public API ---


def load_image(path: Path | str) -> LoadedImage:
    """Decode ``path`` to full-resolution L* and metadata.

    Raises:
        ImageLoadError: the file is missing, unreadable, empty, not a supported
            image, truncated or damaged, too large, or has no pixels.
    """
    p = Path(path).expanduser()
    _check_file(p)
    try:
        with _strict_decoding():
            return _load(p)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as e:
        reason = f"the image is too large to open safely (the limit is {_mp(MAX_PIXELS)})"
        raise ImageLoadError(p, reason) from e
    except MemoryError as e:
        raise ImageLoadError(p, "there is not enough memory to open an image this large") from e
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            raise ImageLoadError(p, "permission to read the file was denied") from e
        raise ImageLoadError(p, _damaged_reason(e)) from e
    except Exception as e:  # noqa: BLE001 - decoders raise anything on hostile input
        raise ImageLoadError(p, _damaged_reason(e)) from e


def is_probably_color(rgb: np.ndarray, threshold: float = COLOR_CHROMA_THRESHOLD) -> bool:
    """True when sRGB ``(..., 3)`` has mean chroma above ``threshold`` (ab units).

    Float input is taken as [0, 1]; uint8/uint16 as their full range. Large
    arrays are judged on an even subsample, which is plenty for a mean.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"rgb must have shape (..., 3), got {rgb.shape}")
    return _mean_chroma(rgb) > threshold


# --------------------------------------------------------------- loading ---


def _check_file(p: Path) -> None:
    if not p.exists():
        raise ImageLoadError(p, "the file does not exist")
    if p.is_dir():
        raise ImageLoadError(p, "it is a folder, not a file")
    try:
        size = p.stat().st_size
        with p.open("rb"):
            pass
    except PermissionError as e:
        raise ImageLoadError(p, "permission to read the file was denied") from e
    except OSError as e:
        raise ImageLoadError(p, f"the file cannot be read ({e.strerror or e})") from e
    if size == 0:
        raise ImageLoadError(p, "the file is empty (0 bytes)")


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Make Pillow refuse truncated files for the duration of one load.

    ``LOAD_TRUNCATED_IMAGES`` is process-wide; if anything set it, a cut-off
    file would load half gray without complaint. Loads are serialised so that
    the flag is restored correctly.
    """
    with _decode_lock:
        saved = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.3g} megapixels"


def _check_size(p: Path, w: int, h: int) -> None:
    if w <= 0 or h <= 0:
        raise ImageLoadError(p, f"the image has no pixels ({w} x {h})")
    if w * h > MAX_PIXELS:
        raise ImageLoadError(
            p, f"the image is too large: {w} x {h} pixels ({_mp(w * h)}); the limit is {_mp(MAX_PIXELS)}"
        )


def _damaged_reason(e: BaseException) -> str:
    detail = str(e).strip() or type(e).__name__
    if len(detail) > 120:
        detail = detail[:117] + "..."
    if isinstance(e, EOFError) or any(k in detail.lower() for k in _TRUNCATION_WORDS):
        return f"the file is incomplete (truncated); perhaps it was not fully copied or downloaded ({detail})"
    return f"the file is damaged or uses a variant of its format that cannot be decoded ({detail})"


def _read_head(p: Path, n: int = 32) -> bytes:
    with p.open("rb") as f:
        return f.read(n)


def _load(p: Path) -> LoadedImage:
    head = _read_head(p)
    try:
        im = Image.open(p)
    except UnidentifiedImageError as e:
        if head.startswith(_TIFF_MAGIC):  # a TIFF layout Pillow does not know (float RGB...)
            return _load_tiff(p, None)
        if kind := _sniff_format(head):
            raise ImageLoadError(p, f"the file starts like a {kind} image but is damaged") from e
        raise ImageLoadError(p, f"it is not an image, or not in a supported format ({_FORMAT_LIST})") from e
    with im:
        fmt = im.format or ""
        if fmt not in _FORMATS:
            raise ImageLoadError(p, f"{fmt} images are not supported (Polychrome reads {_FORMAT_LIST})")
        _check_size(p, *im.size)
        if fmt == "TIFF":
            return _load_tiff(p, im)
        if fmt == "PNG" and _png_is_16bit_colour(head):
            return _load_png16_colour(p, im)
        return _load_pillow(p, im)


def _sniff_format(head: bytes) -> str | None:
    """The supported format a file's first bytes announce, if any."""
    if head.startswith(_PNG_MAGIC):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"BM"):
        return "BMP"
    return None


def _frames_notice(im: Image.Image | None, n: int | None = None) -> list[str]:
    n = n if n is not None else getattr(im, "n_frames", 1)
    return [f"The file holds {n} images; only the first one is used."] if n > 1 else []


def _load_pillow(p: Path, im: Image.Image, bit_depth: int | None = None) -> LoadedImage:
    """Everything Pillow decodes at full precision: 8-bit images and 16-bit gray."""
    notices = _frames_notice(im)
    im.load()  # full decode now, so that truncation is an error, not a gray band
    exif = _exif_after_transpose(im, notices, from_tiff=im.format == "TIFF")
    icc = im.info.get("icc_profile") or None
    mode = im.mode
    px, depth = _pixels_from_pillow(im, icc, notices)
    return _finish(p, im.format or "", mode, bit_depth or depth, px, exif, icc, notices)


def _exif_after_transpose(im: Image.Image, notices: list[str], *, from_tiff: bool) -> bytes | None:
    """Apply the EXIF orientation in place; return the EXIF to keep (orientation 1), or None."""
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop the photo from opening
        notices.append("The photo's orientation tag could not be read; it is shown as stored.")
    try:
        return _clean_exif(im.getexif(), from_tiff=from_tiff)
    except Exception:  # noqa: BLE001
        notices.append("The photo's EXIF metadata is damaged and will not be copied to exports.")
        return None


def _clean_exif(exif: Image.Exif, *, from_tiff: bool) -> bytes | None:
    """EXIF bytes with orientation 1; a TIFF's layout tags (strips, bits...) are dropped."""
    if from_tiff:
        clean = Image.Exif()
        for tag in _TIFF_DESCRIPTIVE_TAGS:
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
    exif[_ORIENTATION] = 1
    return exif.tobytes()


def _pixels_from_pillow(im: Image.Image, icc: bytes | None, notices: list[str]) -> tuple[_Pixels, int]:
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
    elif mode == "RGBX":
        im = im.convert("RGB")
    elif mode in ("YCbCr", "HSV"):
        im = im.convert("RGB")
    if im.mode in ("LA", "RGBA"):
        alpha = im.getchannel("A")
        im = im.convert(im.mode[:-1])
    mode = im.mode

    if mode == "LAB":
        return _Pixels(np.asarray(im)), 8  # handled in _finish via mode
    if mode.startswith("I;16") or mode == "I":
        data = np.asarray(im)
        if mode == "I":  # 32-bit integer TIFF/PNG: 16-bit samples stored wide
            data = np.clip(data, 0, 65535)
        px = _Pixels(data.astype(np.uint16), alpha=_alpha(alpha))
        return _apply_icc_array(px, icc, notices), 16
    if mode == "F":
        px = _Pixels(_float_unit(np.asarray(im, dtype=np.float32)), alpha=_alpha(alpha))
        return _apply_icc_array(px, icc, notices), 32
    if mode == "CMYK":
        im = _cmyk_to_rgb(im, icc, notices)
        return _Pixels(np.asarray(im), alpha=_alpha(alpha)), 8
    if mode not in ("L", "RGB"):
        im = im.convert("RGB")
    if icc:
        im = _apply_icc_pillow(im, icc, notices)
    return _Pixels(np.asarray(im), alpha=_alpha(alpha)), 8


def _alpha(a: Image.Image | None) -> np.ndarray | None:
    return None if a is None else np.asarray(a)


def _float_unit(x: np.ndarray) -> np.ndarray:
    """Float samples -> [0, 1]. Nominal range is [0, 1]; files that store 0..255 or 0..65535 are rescaled."""
    x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)
    top = float(x.max()) if x.size else 0.0
    if top > 1.0 + 1e-3:
        x = x / (255.0 if top <= 255.0 else 65535.0 if top <= 65535.0 else top)
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def _png_is_16bit_colour(head: bytes) -> bool:
    """16-bit RGB, RGBA or gray+alpha PNG (IHDR bit depth 16, colour type 2, 4 or 6).

    Pillow reduces these to 8 bits; 16-bit gray (type 0) it reads exactly.
    """
    return len(head) >= 26 and head.startswith(_PNG_MAGIC) and head[24] == 16 and head[25] in (2, 4, 6)


def _load_png16_colour(p: Path, im: Image.Image) -> LoadedImage:
    if imagecodecs is None:
        loaded = _load_pillow(p, im, bit_depth=16)
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
        orientation = int(exif_obj.get(_ORIENTATION, 1) or 1)
        exif = _clean_exif(exif_obj, from_tiff=False)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop the photo from opening
        orientation, exif = 1, None
        notices.append("The photo's EXIF metadata is damaged and will not be copied to exports.")
    data = _orient_array(data, orientation)
    channels = data.shape[2]
    if channels == 2:  # gray + alpha
        px, mode = _Pixels(data[..., 0], alpha=data[..., 1]), "LA;16"
    elif channels == 4:
        px, mode = _Pixels(data[..., :3], alpha=data[..., 3]), "RGBA;16"
    else:
        px, mode = _Pixels(data), "RGB;16"
    px = _apply_icc_array(px, icc, notices)
    return _finish(p, "PNG", mode, 16, px, exif, icc, notices)


def _load_tiff(p: Path, im: Image.Image | None) -> LoadedImage:
    """TIFF: 8-bit through Pillow (it knows every photometric); deeper samples through tifffile."""
    try:
        tif = tifffile.TiffFile(p)
    except Exception as e:  # noqa: BLE001
        if im is not None:
            return _load_pillow(p, im)
        raise ImageLoadError(p, _damaged_reason(e)) from e
    with tif:
        if not tif.pages:
            raise ImageLoadError(p, "the TIFF file contains no image")
        page = tif.pages.first
        bits = int(page.bitspersample)
        if bits <= 8 and im is not None:
            return _load_pillow(p, im)
        if page.photometric not in (
            tifffile.PHOTOMETRIC.MINISBLACK,
            tifffile.PHOTOMETRIC.MINISWHITE,
            tifffile.PHOTOMETRIC.RGB,
        ):
            if im is not None:
                loaded = _load_pillow(p, im, bit_depth=bits)
                loaded.notices.insert(0, f"This {bits}-bit TIFF was read with 8-bit precision.")
                return loaded
            kind = f"{page.photometric.name}, {bits}-bit"
            raise ImageLoadError(p, f"this kind of TIFF ({kind}) is not supported")
        h, w = int(page.imagelength), int(page.imagewidth)
        _check_size(p, w, h)
        try:
            data = page.asarray()
        except ValueError as e:
            if "imagecodecs" in str(e) and im is not None:
                # Compression tifffile cannot decode on its own (LZW...): Pillow can, at 8 bits for colour.
                loaded = _load_pillow(p, im, bit_depth=bits)
                if im.mode not in ("I;16", "I;16B", "I;16L", "I", "F"):
                    loaded.notices.insert(0, f"This {bits}-bit TIFF was read with 8-bit precision.")
                return loaded
            raise
        notices = _frames_notice(None, len(tif.pages))
        px, mode = _tiff_pixels(p, page, data)
        icc_tag = page.tags.get(34675)
        icc = bytes(icc_tag.value) if icc_tag is not None else None
        orient_tag = page.tags.get(274)
        orientation = int(orient_tag.value) if orient_tag is not None else 1
    px.data = _orient_array(px.data, orientation)
    if px.alpha is not None:
        px.alpha = _orient_array(px.alpha, orientation)
    exif = None
    if im is not None:
        try:
            exif = _clean_exif(im.getexif(), from_tiff=True)
        except Exception:  # noqa: BLE001
            notices.append("The photo's EXIF metadata is damaged and will not be copied to exports.")
    px = _apply_icc_array(px, icc, notices)
    depth = 8 if bits <= 8 else 16 if bits <= 16 else 32
    return _finish(p, "TIFF", mode, depth, px, exif, icc, notices)


def _tiff_pixels(p: Path, page: tifffile.TiffPage, data: np.ndarray) -> tuple[_Pixels, str]:
    """tifffile's array -> gray or RGB (+ alpha) in a nominal [0, max] scale."""
    axes = page.axes
    bits = int(page.bitspersample)
    if axes.startswith("S") and data.ndim == 3:  # planar configuration: samples first
        data, axes = np.moveaxis(data, 0, -1), axes[1:] + "S"
    if axes not in ("YX", "YXS"):
        raise ImageLoadError(p, f"TIFF images laid out as {page.axes!r} are not supported")
    if data.dtype.kind == "f":
        data = _float_unit(data.astype(np.float32))
    elif (data.dtype, bits) not in ((np.uint8, 8), (np.uint16, 16)):
        # 12-, 14-, 32-bit or signed samples: to float over the nominal range (negatives clip to black).
        top = float((1 << (bits - 1)) - 1 if data.dtype.kind == "i" else (1 << bits) - 1)
        data = np.clip(data.astype(np.float32) / np.float32(top), 0.0, 1.0)
    top = 1.0 if data.dtype == np.float32 else float(np.iinfo(data.dtype).max)
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
    return _Pixels(np.ascontiguousarray(color), alpha=alpha, associated=associated), mode


def _orient_array(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF/TIFF orientation (1..8) to ``(H, W, ...)``, as ``ImageOps.exif_transpose`` does."""
    ops: dict[int, Callable[[np.ndarray], np.ndarray]] = {
        2: lambda x: x[:, ::-1],
        3: lambda x: x[::-1, ::-1],
        4: lambda x: x[::-1],
        5: lambda x: np.swapaxes(x, 0, 1),
        6: lambda x: np.rot90(x, -1),
        7: lambda x: np.swapaxes(x[::-1, ::-1], 0, 1),
        8: lambda x: np.rot90(x, 1),
    }
    op = ops.get(orientation)
    return a if op is None else np.ascontiguousarray(op(a))


# ------------------------------------------------------------ colour mgmt ---


@lru_cache(maxsize=1)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _open_profile(icc: bytes) -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(io.BytesIO(icc))


_PROFILE_IGNORED = "The embedded colour profile could not be used; the image is treated as sRGB."


def _apply_icc_pillow(im: Image.Image, icc: bytes, notices: list[str]) -> Image.Image:
    """8-bit L or RGB with an embedded profile -> RGB in sRGB (littleCMS, perceptual intent)."""
    try:
        return ImageCms.profileToProfile(im, _open_profile(icc), _srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        notices.append(_PROFILE_IGNORED)
        return im


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None, notices: list[str]) -> Image.Image:
    if icc:
        try:
            out = ImageCms.profileToProfile(im, _open_profile(icc), _srgb_profile(), outputMode="RGB")
            notices.append("This CMYK image was converted to RGB with its embedded colour profile.")
            return out
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass
    notices.append(
        "This CMYK image has no usable colour profile and was converted to RGB with a generic formula; "
        "tones may differ slightly from other programs."
    )
    return im.convert("RGB")


def _apply_icc_array(px: _Pixels, icc: bytes | None, notices: list[str]) -> _Pixels:
    """16-bit or float pixels with an embedded profile -> float32 sRGB, keeping the precision.

    Matrix/TRC and gray-TRC profiles (almost every camera, scanner and working
    space profile) are evaluated exactly in float. Anything else goes through
    littleCMS at 8 bits, with a notice.
    """
    if not icc:
        return px
    shaper = _parse_shaper_profile(icc)
    gray = px.data.ndim == 2
    if shaper is not None and shaper.gray == gray:
        px.data = _map_bands(px.data, shaper.to_srgb)
        return px
    if gray:
        # 1-D tone curve: sample it through littleCMS on a 256-step ramp, interpolate the rest.
        ramp = Image.fromarray(np.arange(256, dtype=np.uint8)[None])
        try:
            out = ImageCms.profileToProfile(ramp, _open_profile(icc), _srgb_profile(), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            notices.append(_PROFILE_IGNORED)
            return px
        rgb = np.asarray(out, dtype=np.float32)[0] / 255.0
        curve = linear_to_srgb(srgb_to_linear(rgb) @ XYZ_FROM_RGB[1].astype(np.float32))
        xs = np.linspace(0.0, 1.0, 256, dtype=np.float32)
        px.data = _map_bands(px.data, lambda band: np.interp(band, xs, curve).astype(np.float32))
    else:
        top = 1.0 if px.data.dtype == np.float32 else float(np.iinfo(px.data.dtype).max)
        im8 = Image.fromarray((px.data.astype(np.float32) * (255.0 / top) + 0.5).astype(np.uint8), "RGB")
        before = len(notices)
        out = _apply_icc_pillow(im8, icc, notices)
        if len(notices) > before:  # profile unusable: keep the full-precision data as sRGB
            return px
        px.data = np.asarray(out)
        if px.alpha is not None:
            px.alpha = (px.alpha.astype(np.float32) * (255.0 / top) + 0.5).astype(np.uint8)
    notices.append("The embedded colour profile was applied with 8-bit precision.")
    return px


def _map_bands(data: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``fn`` (float32 in [0, 1] -> float32) over row bands of ``(H, W[, C])`` data."""
    top = 1.0 if data.dtype == np.float32 else float(np.iinfo(data.dtype).max)
    out = np.empty(data.shape, dtype=np.float32)
    for rows in _row_bands(data.shape[0], data.shape[1]):
        out[rows] = fn(data[rows].astype(np.float32) / np.float32(top))
    return out


@dataclass
class _ShaperProfile:
    """An ICC matrix/TRC (RGB) or gray-TRC profile, evaluated in float."""

    curves: list[Callable[[np.ndarray], np.ndarray]]
    matrix: np.ndarray | None  # (3, 3) device linear RGB -> PCS XYZ (D50); None for gray

    @property
    def gray(self) -> bool:
        return self.matrix is None

    def to_srgb(self, v: np.ndarray) -> np.ndarray:
        """Device values ``(..., 3)`` or gray ``(...)`` in [0, 1] -> sRGB-encoded float32, same shape."""
        if self.matrix is None:
            # Gray maps to the neutral axis: linear sRGB = Y on every channel.
            return linear_to_srgb(np.clip(self.curves[0](v), 0.0, 1.0))
        lin = np.stack([self.curves[c](v[..., c]) for c in range(3)], axis=-1)
        m = (_SRGB_FROM_PCS @ self.matrix).astype(np.float32)
        return linear_to_srgb(np.clip(lin @ m.T, 0.0, 1.0))


def _bradford(src_white: np.ndarray, dst_white: np.ndarray) -> np.ndarray:
    b = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
    return np.linalg.inv(b) @ np.diag((b @ dst_white) / (b @ src_white)) @ b


_D50 = np.array([0.9642, 1.0, 0.8249])
# PCS XYZ (D50) -> linear sRGB: ICC profiles store D50-adapted colorants (Bradford).
_SRGB_FROM_PCS = np.linalg.inv(_bradford(WHITE_D65, _D50) @ XYZ_FROM_RGB)


def _parse_shaper_profile(icc: bytes) -> _ShaperProfile | None:
    """Read a matrix/TRC or gray-TRC profile; None for anything else (LUT-based, CMYK, broken)."""
    try:
        if len(icc) < 132 or icc[36:40] != b"acsp" or icc[20:24] != b"XYZ ":
            return None
        space = icc[16:20]
        (count,) = struct.unpack(">I", icc[128:132])
        tags: dict[bytes, bytes] = {}
        for i in range(min(count, 100)):
            sig, off, size = struct.unpack(">4sII", icc[132 + 12 * i : 144 + 12 * i])
            tags[sig] = icc[off : off + size]
        if any(t in tags for t in (b"A2B0", b"A2B1", b"A2B2")):
            return None  # littleCMS would use the LUT for our intent, not the shaper
        if space == b"GRAY" and b"kTRC" in tags:
            return _ShaperProfile([_parse_curve(tags[b"kTRC"])], None)
        xyz_tags, trc_tags = (b"rXYZ", b"gXYZ", b"bXYZ"), (b"rTRC", b"gTRC", b"bTRC")
        if space == b"RGB " and all(t in tags for t in xyz_tags + trc_tags):
            cols = [_parse_xyz(tags[t]) for t in xyz_tags]
            curves = [_parse_curve(tags[t]) for t in trc_tags]
            return _ShaperProfile(curves, np.array(cols).T)
    except (struct.error, ValueError, IndexError, ZeroDivisionError):
        return None
    return None


def _s15(b: bytes) -> float:
    return struct.unpack(">i", b)[0] / 65536.0


def _parse_xyz(tag: bytes) -> list[float]:
    if tag[:4] != b"XYZ ":
        raise ValueError("not an XYZ tag")
    return [_s15(tag[8 + 4 * i : 12 + 4 * i]) for i in range(3)]


def _parse_curve(tag: bytes) -> Callable[[np.ndarray], np.ndarray]:
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


# ------------------------------------------------------------ L* and chroma ---


def _row_bands(h: int, w: int) -> Iterator[slice]:
    step = max(1, _BAND_PIXELS // max(1, w))
    for r0 in range(0, h, step):
        yield slice(r0, min(h, r0 + step))


def _to_unit_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.float32:
        return x
    return x.astype(np.float32) / np.float32(np.iinfo(x.dtype).max)


def _composite_on_white(px: _Pixels) -> np.ndarray:
    """Flatten alpha over white in sRGB-encoded values, as viewers display it -> float32 [0, 1]."""
    data, alpha = px.data, px.alpha
    assert alpha is not None
    out = np.empty(data.shape, dtype=np.float32)
    for rows in _row_bands(data.shape[0], data.shape[1]):
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


def _lstar_from_y(y: np.ndarray) -> np.ndarray:
    """Relative luminance Y (white = 1) -> L*, the same formula as ``rgb_to_lab``."""
    return (116.0 * cie_f(y) - 16.0).astype(np.float32)


def _lightness(data: np.ndarray) -> np.ndarray:
    """sRGB gray ``(H, W)`` or RGB ``(H, W, 3)`` (uint8, uint16, float32 [0, 1]) -> L* ``(H, W)`` float32.

    Integer data goes through lookup tables (exactly ``rgb_to_lab``'s numbers for
    gray, its linearisation for colour), which is several times faster than
    the float path on a 24 MP photo.
    """
    H, W = data.shape[:2]
    L = np.empty((H, W), dtype=np.float32)
    wy = XYZ_FROM_RGB[1].astype(np.float32)  # Y row; D65 white has Y = 1
    if data.ndim == 2 and data.dtype != np.float32:
        lut = _gray_lut(int(np.iinfo(data.dtype).max) + 1)
        for rows in _row_bands(H, W):
            L[rows] = lut[data[rows]]
        return L
    for rows in _row_bands(H, W):
        band = data[rows]
        if band.dtype != np.float32:
            lin = _linear_lut(int(np.iinfo(band.dtype).max) + 1)[band]
        else:
            lin = srgb_to_linear(np.clip(band, 0.0, 1.0))
        y = lin if lin.ndim == 2 else lin @ wy
        L[rows] = _lstar_from_y(y)
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


def _finish(
    p: Path,
    fmt: str,
    mode: str,
    bit_depth: int,
    px: _Pixels,
    exif: bytes | None,
    icc: bytes | None,
    notices: list[str],
) -> LoadedImage:
    data = px.data
    H, W = data.shape[:2]
    _check_size(p, W, H)
    if mode == "LAB":
        # Pillow's LAB: L* scaled to 0..255, a* and b* offset by 128.
        L = data[..., 0].astype(np.float32) * np.float32(100.0 / 255.0)
        ab = data[..., 1:].astype(np.float32) - 128.0
        chroma = float(np.hypot(ab[..., 0], ab[..., 1]).mean())
        if chroma > COLOR_CHROMA_THRESHOLD:
            notices.append(COLOR_NOTICE)
        return LoadedImage(
            p, L, (W, H), chroma > COLOR_CHROMA_THRESHOLD, bit_depth, mode, exif, icc, notices, _FORMATS[fmt]
        )
    if px.alpha is not None:
        amax = 1.0 if px.alpha.dtype == np.float32 else np.iinfo(px.alpha.dtype).max
        if float(px.alpha.min()) < amax:
            data = _composite_on_white(px)
            notices.append("Transparent areas were placed on a white background.")
    was_color = data.ndim == 3 and _mean_chroma(data) > COLOR_CHROMA_THRESHOLD
    if was_color:
        notices.append(COLOR_NOTICE)
    L = _lightness(data)
    return LoadedImage(p, L, (W, H), was_color, bit_depth, mode, exif, icc, notices, _FORMATS.get(fmt, fmt))
