"""`polychrome colorize` end to end with the shipped model on small images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from polychrome.core.color import rgb_to_lab
from polychrome.desktop.cli import main


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A gray 120 x 90 'photo': bright sky over darker ground, with some texture."""
    rng = np.random.default_rng(0)
    g = np.zeros((90, 120), np.float32)
    g[:40] = 200
    g[40:] = 90
    g += rng.normal(0, 4, g.shape)
    p = tmp_path / "scan.png"
    Image.fromarray(np.clip(g, 0, 255).astype(np.uint8), mode="L").save(p)
    return p


def test_best_guess_full_resolution_keeps_luminance(photo: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["colorize", str(photo), "-o", str(out), "--device", "cpu"]) == 0
    written = out / "scan_colour.png"
    assert written.is_file() and str(written) in capsys.readouterr().out
    res = np.asarray(Image.open(written).convert("RGB"), np.float32) / 255.0
    assert res.shape == (90, 120, 3)
    src = np.asarray(Image.open(photo), np.float32) / 255.0
    L_src = rgb_to_lab(np.repeat(src[..., None], 3, -1))[..., 0]
    L_res = rgb_to_lab(res)[..., 0]
    # The original L* is kept (up to 8-bit rounding and gamut clipping).
    assert np.median(np.abs(L_res - L_src)) < 1.0
    assert photo.is_file()  # input untouched


def test_n_samples_seed_and_refusal_to_overwrite(photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "colorize",
        str(photo),
        "-o",
        str(out),
        "-n",
        "3",
        "--seed",
        "5",
        "--format",
        "jpg",
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    files = sorted(out.glob("scan_colour_*.jpg"))
    assert len(files) == 3
    first = [f.read_bytes() for f in files]
    assert len({hash(b) for b in first}) == 3  # different results
    # Same command again: outputs exist and are not overwritten without --overwrite.
    assert main(args) == 1
    assert [f.read_bytes() for f in files] == first
    assert main(args + ["--overwrite"]) == 0
    assert [f.read_bytes() for f in files] == first  # same seed -> same results


def test_hints_file_moves_colour(photo: Path, tmp_path: Path) -> None:
    doc = {
        "version": 1,
        "strokes": [
            {
                "points": [[10, 60], [110, 60], [110, 80], [10, 80]],
                "radius": 12,
                "color": [0.1, 0.2, 0.9],
                "strength": 1.0,
                "hardness": 0.8,
                "spread": 2.0,
            }
        ],
    }
    hints = tmp_path / "h.json"
    hints.write_text(json.dumps(doc))
    assert main(["colorize", str(photo), "-o", str(tmp_path / "a"), "--device", "cpu"]) == 0
    assert (
        main(["colorize", str(photo), "-o", str(tmp_path / "b"), "--hints", str(hints), "--device", "cpu"])
        == 0
    )
    a = rgb_to_lab(np.asarray(Image.open(tmp_path / "a" / "scan_colour.png"), np.float32) / 255.0)
    b = rgb_to_lab(np.asarray(Image.open(tmp_path / "b" / "scan_colour.png"), np.float32) / 255.0)
    # The ground turned blue: its hue is the hint's, which the random-init test model does not
    # give it by itself (its own colour there is reddish).
    hint_hue = np.degrees(np.arctan2(*rgb_to_lab(np.array([[0.1, 0.2, 0.9]], np.float32))[0, [2, 1]]))
    for img, near in ((b, True), (a, False)):
        ga, gb = img[60:80, 20:100, 1].mean(), img[60:80, 20:100, 2].mean()
        off = abs((np.degrees(np.arctan2(gb, ga)) - hint_hue + 180) % 360 - 180)
        assert (off < 15 and np.hypot(ga, gb) > 30) if near else off > 15, (near, off, ga, gb)
    assert (
        np.abs(b[5:25, :, 1:].mean((0, 1)) - a[5:25, :, 1:].mean((0, 1))).max() < 5
    )  # sky, across an L edge


def test_bad_files_reported_rest_done(photo: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    missing = tmp_path / "nope.png"
    code = main(
        ["colorize", str(broken), str(photo), str(missing), "-o", str(tmp_path / "o"), "--device", "cpu"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "broken.jpg" in err and "nope.png" in err and "2 of 3" in err
    assert "Traceback" not in err
    assert (tmp_path / "o" / "scan_colour.png").is_file()


def test_bad_hints_and_model_messages(photo: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["colorize", str(photo), "-o", str(tmp_path), "--hints", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["colorize", str(photo), "-o", str(tmp_path), "--model", "no-such-model"]) == 2
    assert "no-such-model" in capsys.readouterr().err


def test_outputs_record_provenance(photo: Path, tmp_path: Path) -> None:
    """Model, seed and hints in EXIF and XMP of every output, read back with Pillow and tifffile."""
    import tifffile
    from PIL import ExifTags

    from polychrome.core.models import DEFAULT_MODEL

    hints = tmp_path / "h.json"
    stroke = {"points": [[10, 60], [110, 60]], "radius": 8, "color": [0.9, 0.1, 0.1]}
    hints.write_text(json.dumps({"version": 1, "strokes": [stroke]}))
    out = tmp_path / "out"
    args = ["colorize", str(photo), "-o", str(out), "-n", "2", "--seed", "4", "--hints", str(hints)]
    assert main(args + ["--format", "tif", "--device", "cpu"]) == 0
    first, second = sorted(out.glob("scan_colour_*.tif"))
    with tifffile.TiffFile(first) as tif:
        text = tif.pages.first.tags["ImageDescription"].value
        xmp = bytes(tif.pages.first.tags[700].value).decode("utf-8")
    assert text.startswith("Colourised by Polychrome") and DEFAULT_MODEL in text
    assert "best guess" in text and "1 hint)" in text  # result 0 is the deterministic best guess
    assert 'polychrome:Result="0"' in xmp and 'dc:source="scan.png"' in xmp
    with Image.open(second) as im:
        text = im.getexif()[ExifTags.Base.ImageDescription]
    assert "seed " in text and "1 hint)" in text
    assert photo.is_file() and photo.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # original untouched
