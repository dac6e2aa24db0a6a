"""The one table of file formats: what Polychrome reads and what it exports.

Used by the loader (:mod:`polychrome.core.imageio`), the writer
(:mod:`polychrome.core.export`), the evaluation's folder listing and the
editor's open and export dialogs, so a format is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- reading -----------------------------------------------------------------------------------
SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".bmp")
# Pillow format name -> the name a user knows. MPO is the multi-picture JPEG many cameras write.
READ_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "WEBP": "WebP", "BMP": "BMP"}
READ_FORMAT_LIST = "JPEG, PNG, TIFF, WebP and BMP"


# -- exporting ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportFormat:
    """One export format: its key (``--format``), the label a dialog shows, its file suffix."""

    key: str
    label: str
    suffix: str
    aliases: tuple[str, ...] = ()


EXPORT_FORMATS = (
    ExportFormat("png", "PNG (8-bit, lossless)", ".png"),
    ExportFormat("jpg", "JPEG", ".jpg", ("jpeg", "jpe")),
    ExportFormat("tif", "TIFF (16-bit)", ".tif", ("tiff",)),
)
EXPORT_KEYS = tuple(f.key for f in EXPORT_FORMATS)
_BY_NAME = {name: f for f in EXPORT_FORMATS for name in (f.key, *f.aliases)}


def export_format(fmt: str) -> ExportFormat:
    """``'PNG'``, ``'jpeg'``, ``'.tiff'``... -> its :class:`ExportFormat`; ValueError otherwise."""
    key = str(fmt).lower().lstrip(".")
    if key not in _BY_NAME:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_KEYS)}")
    return _BY_NAME[key]
