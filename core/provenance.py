"""What an export says about itself: "colourised by Polychrome", model, seed, hints.

Archivists ask for provenance in standard metadata rather than a watermark, so
every export carries it twice, in the fields other programs show:

- EXIF (IFD0) ``ImageDescription`` (the source's own description first, if it
  had one) and ``Software``;
- an XMP packet: ``dc:description``, ``xmp:CreatorTool``, ``dc:source`` (the
  original's file name) and the details as ``polychrome:Model``, ``Seed``,
  ``Hints`` and ``Result``.

The source's EXIF is kept, with orientation reset to 1 (the pixels are upright).
For TIFF, whose writer (tifffile) has no EXIF option, :func:`embed_tiff_exif`
appends the Exif and GPS sub-IFDs to the written file and points IFD0 at them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from PIL import ExifTags, Image, TiffImagePlugin

NAMESPACE = "urn:polychrome:provenance:1.0#"
SUB_IFDS = (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo)
_LONG = 4  # TIFF type of an IFD pointer


@lru_cache(maxsize=1)
def software() -> str:
    """``'Polychrome 0.1.0'``: the installed version, for EXIF ``Software`` and XMP ``CreatorTool``."""
    try:
        return f"Polychrome {metadata.version('polychrome')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "Polychrome"


@dataclass(frozen=True)
class Provenance:
    """How a result was made.

    Attributes:
        model: registry name of the marginal model, or None when unknown.
        seed: the result's sampling seed; None (or negative, as the sampler
            reports it) for the deterministic best guess.
        hints: number of hint strokes applied.
        result: index among the results drawn (0 = the best guess), or None.
    """

    model: str | None = None
    seed: int | None = None
    hints: int = 0
    result: int | None = None

    def description(self) -> str:
        """One sentence: ``'Colourised by Polychrome 0.1.0 (model polychrome-lite0, seed 7, 2 hints)'``."""
        parts = [f"model {self.model}"] if self.model else []
        parts.append("best guess" if self._seed is None else f"seed {self._seed}")
        parts.append(f"{self.hints} hint" + ("" if self.hints == 1 else "s"))
        return f"Colourised by {software()} ({', '.join(parts)})"

    @property
    def _seed(self) -> int | None:
        return None if self.seed is None or self.seed < 0 else int(self.seed)

    def xmp(self, source_name: str | None = None) -> bytes:
        """An XMP packet (UTF-8) with the description, the tool, the source's name and the details."""
        attrs = {"xmp:CreatorTool": software(), "polychrome:Hints": str(self.hints)}
        if source_name:
            attrs["dc:source"] = source_name
        if self.model:
            attrs["polychrome:Model"] = self.model
        if self._seed is not None:
            attrs["polychrome:Seed"] = str(self._seed)
        if self.result is not None:
            attrs["polychrome:Result"] = str(self.result)
        fields = "".join(f"\n    {k}={quoteattr(v)}" for k, v in attrs.items())
        text = escape(self.description())
        packet = (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about=""\n'
            '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
            f"    xmlns:polychrome={quoteattr(NAMESPACE)}{fields}>\n"
            f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{text}</rdf:li></rdf:Alt>'
            "</dc:description>\n"
            "  </rdf:Description>\n"
            " </rdf:RDF>\n"
            "</x:xmpmeta>\n"
            '<?xpacket end="w"?>'
        )
        return packet.encode("utf-8")


def export_exif(source_exif: bytes | None, provenance: Provenance) -> Image.Exif:
    """The source's EXIF (if readable) with orientation 1, the provenance description and Software."""
    exif = Image.Exif()
    if source_exif:
        try:
            exif.load(source_exif[6:] if source_exif.startswith(b"Exif\x00\x00") else source_exif)
            exif[ExifTags.Base.Orientation] = 1
            for ifd in SUB_IFDS:  # read them now: they must not point into the source file
                if ifd in exif:
                    exif[ifd] = _sub_ifd(exif, ifd)
        except Exception:  # noqa: BLE001 - damaged metadata must not block the export
            exif = Image.Exif()
    ours = provenance.description()
    theirs = exif.get(ExifTags.Base.ImageDescription)
    theirs = theirs.strip() if isinstance(theirs, str) else ""
    keep = theirs and "Polychrome" not in theirs  # an export of an export says it once
    exif[ExifTags.Base.ImageDescription] = f"{theirs}\n{ours}" if keep else ours
    exif[ExifTags.Base.Software] = software()
    return exif


def provenance_only(exif: Image.Exif) -> Image.Exif:
    """Just the description and Software of ``exif`` (for a JPEG whose source EXIF is too long)."""
    small = Image.Exif()
    for tag in (ExifTags.Base.ImageDescription, ExifTags.Base.Software):
        small[tag] = exif[tag]
    return small


def _sub_ifd(exif: Image.Exif, tag: int) -> dict[int, object]:
    sub = dict(exif.get_ifd(tag))
    sub.pop(ExifTags.IFD.Interop, None)  # a pointer into the source file; says nothing about the photo
    return sub


def ascii_text(value: object) -> str | None:
    """An EXIF ASCII value as text TIFF writers accept (non-ASCII as ``?``), or None if not text."""
    if not isinstance(value, str):
        return None
    return value.encode("ascii", "replace").decode("ascii")


def tiff_pointer_tags(exif: Image.Exif) -> list[tuple[int, int, int, int, bool]]:
    """tifffile ``extratags`` placeholders for the sub-IFDs :func:`embed_tiff_exif` fills in.

    tifffile refuses the pointer tags themselves, so each is written under the
    unused code just below it (which keeps IFD0 sorted) and renamed afterwards.
    """
    return [(tag - 1, _LONG, 1, 0, True) for tag in SUB_IFDS if isinstance(exif.get(tag), dict) and exif[tag]]


def embed_tiff_exif(f: BinaryIO, exif: Image.Exif) -> None:
    """Append ``exif``'s Exif and GPS sub-IFDs to the little-endian classic TIFF in ``f`` (read-write).

    IFD0 must carry the placeholder tags of :func:`tiff_pointer_tags`; each
    becomes the pointer to its sub-IFD, written at the end of the file.
    """
    f.seek(0)
    head = f.read(8)
    if head[:4] != b"II*\x00":
        return  # BigTIFF or big-endian: not what tifffile writes for an export; leave the file as is
    (ifd0,) = struct.unpack("<I", head[4:8])
    f.seek(ifd0)
    (count,) = struct.unpack("<H", f.read(2))
    entries = f.read(12 * count)
    slots = {}
    for i in range(count):
        code, typ = struct.unpack_from("<HH", entries, 12 * i)
        if code + 1 in SUB_IFDS and typ == _LONG:
            slots[code + 1] = ifd0 + 2 + 12 * i
    for tag, entry in slots.items():
        end = f.seek(0, 2)
        pos = end + (end & 1)  # IFDs start on a word boundary
        ifd = TiffImagePlugin.ImageFileDirectory_v2(ifh=b"II*\x00\x00\x00\x00\x00", group=tag)
        for key, value in exif[tag].items():
            ifd[key] = value
        f.write(b"\0" * (pos - end) + ifd.tobytes(pos))
        f.seek(entry)
        f.write(struct.pack("<HHII", tag, _LONG, 1, pos))
