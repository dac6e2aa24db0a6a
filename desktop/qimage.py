"""numpy <-> QImage conversions (copies, so the QImage owns its pixels)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def qimage_from_rgb(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 sRGB -> QImage RGB888."""
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) uint8, got {a.shape}")
    h, w, _ = a.shape
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def qimage_from_gray(gray: np.ndarray) -> QImage:
    """(H, W) uint8 -> QImage Grayscale8."""
    a = np.ascontiguousarray(gray, dtype=np.uint8)
    if a.ndim != 2:
        raise ValueError(f"expected (H, W) uint8, got {a.shape}")
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
