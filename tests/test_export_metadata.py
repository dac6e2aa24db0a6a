"""Export metadata read back with Pillow and tifffile: EXIF in every format, provenance in EXIF and XMP."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import ExifTags, Image

from polychrome.core.export import export_image
from polychrome.core.imageio import LoadedImage, load_image
from polychrome.core.provenance import NAMESPACE, Provenance, software

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
XMP = "{http://ns.adobe.com/xap/1.0/}"
PC = "{" + NAMESPACE + "}"
PROVENANCE = Provenance(model="polychrome-lite0", seed=7, hints=2, result=3)


def source_with_exif(tmp_path: Path, description: str | None = None) -> LoadedImage:
    """A JPEG original with camera EXIF, capture time, GPS and orientation 6."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Artist] = "A. Photographer"
    exif[ExifTags.Base.Orientation] = 6
    if description is not None:
        exif[ExifTags.Base.ImageDescription] = description
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "1931:05:06 07:08:09"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    path = tmp_path / "original.jpg"
    Image.fromarray(np.full((16, 24), 100, np.uint8)).save(path, exif=exif.tobytes(), quality=90)
    return load_image(path)


def rgb() -> np.ndarray:
    y, x = np.mgrid[0:24, 0:16].astype(np.float32)
    return np.stack([x / 15, y / 23, np.full_like(x, 0.5)], -1)


def read_exif(path: Path) -> Image.Exif:
    with Image.open(path) as im:
        exif = im.getexif()
        for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
            exif.get_ifd(ifd)  # read now: a TIFF's sub-IFDs are read lazily from the open file
        return exif


def read_xmp(path: Path) -> ET.Element:
    """The rdf:Description of the file's XMP packet."""
    if path.suffix == ".tif":
        with tifffile.TiffFile(path) as tif:
            packet = bytes(tif.pages.first.tags[700].value)
    else:
        with Image.open(path) as im:
            packet = im.info.get("xmp") or im.info["XML:com.adobe.xmp"]
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    root = ET.fromstring(packet[packet.index(b"<x:xmpmeta") : packet.rindex(b"</x:xmpmeta>") + 12])
    desc = root.find(f"{RDF}RDF/{RDF}Description")
    assert desc is not None
    return desc


@pytest.mark.parametrize("fmt", ["png", "jpg", "tif"])
def test_source_exif_kept_in_every_format(tmp_path: Path, fmt: str) -> None:
    out = export_image(rgb(), tmp_path / f"o.{fmt}", fmt, source=source_with_exif(tmp_path))
    exif = read_exif(out)
    assert exif[ExifTags.Base.Make] == "TestCam"
    assert exif[ExifTags.Base.Artist] == "A. Photographer"
    assert exif.get(ExifTags.Base.Orientation, 1) == 1
    assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "1931:05:06 07:08:09"
    assert exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"


def test_tiff_exif_and_icc_read_back_with_tifffile(tmp_path: Path) -> None:
    source = source_with_exif(tmp_path)
    source.icc_profile = b"any profile: the export is tagged sRGB"
    out = export_image(rgb(), tmp_path / "o.tif", "tif", source=source)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages.first
        assert page.dtype == np.uint16 and page.shape == (24, 16, 3)
        assert 34675 in page.tags  # ICC
        assert page.tags["ExifTag"].value["DateTimeOriginal"] == "1931:05:06 07:08:09"
        assert page.tags["GPSTag"].value["GPSLatitudeRef"] == "N"
        assert page.tags["Make"].value == "TestCam"
        assert page.tags["Software"].value == software()
        assert page.tags["ImageDescription"].value.startswith("Colourised by Polychrome")
    # And the loader, reading our TIFF as a new source, finds the same EXIF.
    again = load_image(out)
    exif = Image.Exif()
    exif.load(again.exif)
    assert exif[ExifTags.Base.Make] == "TestCam"
    assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "1931:05:06 07:08:09"


@pytest.mark.parametrize("fmt", ["png", "jpg", "tif"])
def test_provenance_in_exif_and_xmp(tmp_path: Path, fmt: str) -> None:
    source = source_with_exif(tmp_path)
    out = export_image(rgb(), tmp_path / f"o.{fmt}", fmt, source=source, provenance=PROVENANCE)
    exif = read_exif(out)
    text = exif[ExifTags.Base.ImageDescription]
    assert text.startswith("Colourised by Polychrome")
    assert "polychrome-lite0" in text and "seed 7" in text and "2 hints" in text
    assert exif[ExifTags.Base.Software] == software()
    desc = read_xmp(out)
    assert desc.get(f"{XMP}CreatorTool") == software()
    assert desc.get(f"{DC}source") == "original.jpg"
    assert desc.get(f"{PC}Model") == "polychrome-lite0"
    assert (desc.get(f"{PC}Seed"), desc.get(f"{PC}Hints"), desc.get(f"{PC}Result")) == ("7", "2", "3")
    li = desc.find(f"{DC}description/{RDF}Alt/{RDF}li")
    assert li is not None and li.text == text


def test_png_text_chunks_name_the_tool(tmp_path: Path) -> None:
    out = export_image(rgb(), tmp_path / "o.png", "png", provenance=PROVENANCE)
    with Image.open(out) as im:
        assert im.info["Software"] == software()
        assert im.info["Description"] == PROVENANCE.description()


def test_best_guess_has_no_seed(tmp_path: Path) -> None:
    best = Provenance(model="polychrome-small", seed=-1, hints=1, result=0)
    assert best.description().endswith("(model polychrome-small, best guess, 1 hint)")
    out = export_image(rgb(), tmp_path / "o.jpg", "jpg", provenance=best)
    desc = read_xmp(out)
    assert desc.get(f"{PC}Seed") is None and desc.get(f"{PC}Result") == "0"


def test_source_description_comes_first(tmp_path: Path) -> None:
    source = source_with_exif(tmp_path, description="Grandmother at the lake, 1931")
    out = export_image(rgb(), tmp_path / "o.png", "png", source=source, provenance=PROVENANCE)
    first, ours = read_exif(out)[ExifTags.Base.ImageDescription].split("\n")
    assert first == "Grandmother at the lake, 1931" and ours == PROVENANCE.description()


def test_xmp_escapes_names(tmp_path: Path) -> None:
    odd = Provenance(model='my "<model>" & co', seed=1)
    out = export_image(rgb(), tmp_path / "o.jpg", "jpg", provenance=odd)
    assert read_xmp(out).get(f"{PC}Model") == 'my "<model>" & co'


def test_jpeg_with_oversized_source_exif_keeps_provenance(tmp_path: Path) -> None:
    source = source_with_exif(tmp_path)
    exif = Image.Exif()
    exif.load(source.exif)
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = b"ASCII\0\0\0" + b"x" * 70_000
    source.exif = exif.tobytes()
    out = export_image(rgb(), tmp_path / "o.jpg", "jpg", source=source, provenance=PROVENANCE)
    exif = read_exif(out)
    assert ExifTags.Base.Make not in exif  # too long for a JPEG APP1 segment: dropped...
    assert exif[ExifTags.Base.ImageDescription] == PROVENANCE.description()  # ...but not the provenance


def test_damaged_source_exif_still_gets_provenance(tmp_path: Path) -> None:
    source = source_with_exif(tmp_path)
    source.exif = b"Exif\0\0garbage that is no TIFF structure"
    out = export_image(rgb(), tmp_path / "o.tif", "tif", source=source, provenance=PROVENANCE)
    assert read_exif(out)[ExifTags.Base.ImageDescription] == PROVENANCE.description()
