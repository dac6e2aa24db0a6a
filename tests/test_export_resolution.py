"""A scan's print resolution (600 dpi...) survives into every export format, in its own unit."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from polychrome.core.export import export_image
from polychrome.core.imageio import load_image
from polychrome.core.imageio.resolution import Resolution, read_resolution


def _gray(h: int = 40, w: int = 60) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return ((xx * 4 + yy * 2) % 256).astype(np.uint8)


def _scan(tmp_path, kind: str):
    g = _gray()
    if kind == "tif-inch":
        p = tmp_path / "scan.tif"
        tifffile.imwrite(p, g, resolution=(600, 600), resolutionunit=2)
        return p, Resolution(600, 600, "inch")
    if kind == "tif-cm":
        p = tmp_path / "scan.tif"
        tifffile.imwrite(p, g, resolution=(236.0, 236.0), resolutionunit=3)
        return p, Resolution(236.0, 236.0, "cm")
    if kind == "jpg":
        p = tmp_path / "scan.jpg"
        Image.fromarray(g).save(p, dpi=(600, 600), quality=95)
        return p, Resolution(600, 600, "inch")
    p = tmp_path / "scan.png"
    Image.fromarray(g).save(p, dpi=(300, 300))
    return p, Resolution(300, 300, "inch")


@pytest.mark.parametrize("kind", ["tif-inch", "tif-cm", "jpg", "png"])
def test_the_loader_reads_the_scans_resolution_and_unit(tmp_path, kind):
    p, want = _scan(tmp_path, kind)
    got = load_image(p).resolution
    assert got is not None and got.unit == want.unit
    assert got.x == pytest.approx(want.x, abs=0.05) and got.y == pytest.approx(want.y, abs=0.05)


@pytest.mark.parametrize("kind", ["tif-inch", "tif-cm", "jpg", "png"])
@pytest.mark.parametrize("fmt", ["tif", "png", "jpg"])
def test_every_export_format_keeps_the_print_resolution(tmp_path, kind, fmt):
    p, want = _scan(tmp_path, kind)
    src = load_image(p)
    rgb = np.repeat(src.L[..., None] / 100.0, 3, axis=2).astype(np.float32)
    out = export_image(rgb, tmp_path / f"out.{fmt}", fmt, source=src)
    with Image.open(out) as im:
        got = read_resolution(im)
    assert got is not None
    # TIFF keeps the unit; JFIF and PNG hold dots per inch (JFIF as integers, PNG per metre).
    if fmt == "tif":
        assert got.unit == want.unit
        assert got.x == pytest.approx(want.x, rel=1e-3)
    else:
        assert got.dpi()[0] == pytest.approx(want.dpi()[0], abs=0.6)
        assert got.dpi()[1] == pytest.approx(want.dpi()[1], abs=0.6)


def test_a_scan_without_a_resolution_gets_none_invented(tmp_path):
    p = tmp_path / "plain.png"
    Image.fromarray(_gray()).save(p)
    src = load_image(p)
    assert src.resolution is None
    rgb = np.zeros((*src.L.shape, 3), np.float32)
    with Image.open(export_image(rgb, tmp_path / "o.png", "png", source=src)) as im:
        assert "dpi" not in im.info


def test_resolution_rejects_nonsense():
    with pytest.raises(ValueError):
        Resolution(0, 300)
    with pytest.raises(ValueError):
        Resolution(300, 300, "furlong")
