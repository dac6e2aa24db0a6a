"""A scan's print resolution (e.g. 600 dpi), read from the file and written back on export.

A restorer prints at the scan's size; an export without it opens at 72 dpi, a fraction of the
intended print. TIFF keeps its unit (inch or centimetre); JFIF can too; PNG stores pixels per
metre, which Pillow presents in dots per inch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

CM_PER_INCH = 2.54
TIFF_UNITS = {2: "inch", 3: "cm"}  # TIFF ResolutionUnit; 1 (none) is an aspect ratio, not a size


@dataclass(frozen=True)
class Resolution:
    """Pixels per ``unit`` along x and y; ``unit`` is ``"inch"`` or ``"cm"``."""

    x: float
    y: float
    unit: str = "inch"

    def __post_init__(self) -> None:
        if self.unit not in ("inch", "cm"):
            raise ValueError(f"unit must be 'inch' or 'cm', got {self.unit!r}")
        if not (self.x > 0 and self.y > 0):
            raise ValueError(f"resolution must be positive, got {self.x!r} x {self.y!r}")

    def dpi(self) -> tuple[float, float]:
        """Dots per inch, whatever the unit."""
        k = CM_PER_INCH if self.unit == "cm" else 1.0
        return (self.x * k, self.y * k)

    @property
    def tiff_unit(self) -> int:
        return 3 if self.unit == "cm" else 2


def _ratio(v: object) -> float | None:
    try:
        f = float(v[0]) / float(v[1]) if isinstance(v, tuple) else float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    return f if f > 0 else None


def _make(x: object, y: object, unit: str) -> Resolution | None:
    fx, fy = _ratio(x), _ratio(y)
    if fx is None:
        return None
    return Resolution(fx, fy if fy is not None else fx, unit)


def read_resolution(im: Image.Image) -> Resolution | None:
    """The resolution an opened Pillow image declares, or None (no unit, or none stored)."""
    if im.format == "TIFF":
        tags = getattr(im, "tag_v2", {})
        unit = TIFF_UNITS.get(int(tags.get(296, 2) or 0))
        return _make(tags.get(282), tags.get(283), unit) if unit and 282 in tags else None
    if im.format == "JPEG" and "jfif_density" in im.info:
        unit = {1: "inch", 2: "cm"}.get(int(im.info.get("jfif_unit", 0)))
        x, y = im.info["jfif_density"]
        return _make(x, y, unit) if unit else None
    if "dpi" in im.info:  # PNG (from pixels per metre), WebP, BMP
        x, y = im.info["dpi"]
        return _make(x, y, "inch")
    return None


def read_tiff_resolution(path: Path) -> Resolution | None:
    """The same for a TIFF that only tifffile can read (float RGB...)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tf:
            tags = tf.pages.first.tags
            unit_tag = tags.get("ResolutionUnit")
            unit = TIFF_UNITS.get(int(unit_tag.value) if unit_tag is not None else 2)
            xr, yr = tags.get("XResolution"), tags.get("YResolution")
            if unit is None or xr is None:
                return None
            return _make(xr.value, yr.value if yr is not None else xr.value, unit)
    except Exception:  # noqa: BLE001 - the resolution is a nicety; the pixels loaded already
        return None
