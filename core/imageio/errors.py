"""What goes wrong with a photo file, said in plain words: :class:`ImageLoadError` and its checks."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageFile

MAX_PIXELS = 200_000_000  # refuse larger images: decoding one would need several GB

# Pillow's own bomb check fires first (it warns above MAX_IMAGE_PIXELS and refuses
# above twice that, ~179 MP by default). Let our limit be the one that applies.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

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


def check_file(p: Path) -> None:
    """Raise :class:`ImageLoadError` unless ``p`` is a readable, non-empty file."""
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


def megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.3g} megapixels"


def too_large_reason(e: BaseException) -> str:
    """For Pillow's DecompressionBombError, whose message gives the image's pixel count."""
    found = re.search(r"\((\d+) pixels\)", str(e))
    size = f" ({megapixels(int(found.group(1)))})" if found else ""
    return f"the image is too large to open safely{size}; the limit is {megapixels(MAX_PIXELS)}"


def check_size(p: Path, w: int, h: int) -> None:
    """Raise :class:`ImageLoadError` for an image with no pixels or more than :data:`MAX_PIXELS`."""
    if w <= 0 or h <= 0:
        raise ImageLoadError(p, f"the image has no pixels ({w} x {h})")
    if w * h > MAX_PIXELS:
        raise ImageLoadError(
            p,
            f"the image is too large: {w} x {h} pixels ({megapixels(w * h)}); "
            f"the limit is {megapixels(MAX_PIXELS)}",
        )


def damaged_reason(e: BaseException) -> str:
    """A decoder's exception -> "truncated" or "damaged", with its own words in brackets."""
    detail = str(e).strip() or type(e).__name__
    if len(detail) > 120:
        detail = detail[:117] + "..."
    if isinstance(e, EOFError) or any(k in detail.lower() for k in _TRUNCATION_WORDS):
        return f"the file is incomplete (truncated); perhaps it was not fully copied or downloaded ({detail})"
    return f"the file is damaged or uses a variant of its format that cannot be decoded ({detail})"


@contextmanager
def strict_decoding() -> Iterator[None]:
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
