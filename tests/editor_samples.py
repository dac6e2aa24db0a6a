"""A tiny two-region photo the editor tests open (made here, milliseconds to colourise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

W, H = 96, 64


def two_region_photo(path: Path, dark: int = 60, bright: int = 200) -> Path:
    """Left half dark gray, right half bright gray (a luminance edge the hints must respect)."""
    a = np.full((H, W), bright, np.uint8)
    a[:, : W // 2] = dark
    Image.fromarray(a, "L").save(path)
    return path
