"""numpy <-> QImage: copies for small images (the QImage owns its pixels), a shared view for big ones."""

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


def wrap_bgrx(bgrx: np.ndarray) -> QImage:
    """(H, W, 4) uint8 B, G, R, X (``core.display``) -> a QImage RGB32 that *shares* the pixels.

    No copy and no conversion, so it costs the GUI thread nothing whatever the size; the
    caller keeps ``bgrx`` alive as long as the QImage is used (``ImageView.set_image(buffer=)``).
    """
    if bgrx.ndim != 3 or bgrx.shape[2] != 4 or bgrx.dtype != np.uint8 or not bgrx.flags.c_contiguous:
        raise ValueError(f"expected C-contiguous (H, W, 4) uint8, got {bgrx.shape} {bgrx.dtype}")
    h, w, _ = bgrx.shape
    return QImage(bgrx.data, w, h, 4 * w, QImage.Format.Format_RGB32)
