"""Renderings for a screen: L* as gray through the Lab -> sRGB curve, downscaled L for
previews, the 32-bit pixel layout a display draws without converting, and the mapping of
full-resolution points onto a smaller rendering.

Qt-free, so the editor's workers can prepare full-size images off the GUI thread and the
GUI only wraps the finished buffer.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .color import lab_to_rgb
from .resize import resize_l, short_side_size

GRAY_STEPS = 1000  # L* in steps of 0.1: finer than 8-bit gray can show


@lru_cache(maxsize=1)
def gray_table() -> np.ndarray:
    """``(GRAY_STEPS + 1,)`` uint8: 8-bit sRGB gray for L* = 0, 0.1, ... 100 (core's Lab -> sRGB)."""
    lab = np.zeros((GRAY_STEPS + 1, 3), dtype=np.float32)
    lab[:, 0] = np.linspace(0.0, 100.0, GRAY_STEPS + 1, dtype=np.float32)
    table = np.clip(lab_to_rgb(lab)[:, 0] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    table.setflags(write=False)
    return table


def _gray_index(L: np.ndarray) -> np.ndarray:
    scale = GRAY_STEPS / 100.0
    return np.clip(np.rint(np.asarray(L, dtype=np.float32) * scale), 0, GRAY_STEPS).astype(np.intp)


def gray_display(L: np.ndarray) -> np.ndarray:
    """L* ``(H, W)`` -> ``(H, W)`` uint8 sRGB gray."""
    return gray_table()[_gray_index(L)]


def gray_to_bgrx(L: np.ndarray) -> np.ndarray:
    """L* ``(H, W)`` -> ``(H, W, 4)`` uint8 ``B, G, R, 255``: 32-bit ``0xffRRGGBB`` pixels in
    little-endian memory, the layout a raster display draws as it is."""
    g = gray_table()
    table = np.stack([g, g, g, np.full_like(g, 255)], axis=1)
    return table[_gray_index(L)]


def rgb_to_bgrx(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 sRGB -> ``(H, W, 4)`` uint8 ``B, G, R, 255`` (see :func:`gray_to_bgrx`)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    out = np.empty((*rgb.shape[:2], 4), dtype=np.uint8)
    out[..., 0] = rgb[..., 2]
    out[..., 1] = rgb[..., 1]
    out[..., 2] = rgb[..., 0]
    out[..., 3] = 255
    return out


def preview_L(L: np.ndarray, long_side: int) -> np.ndarray:
    """Downscaled L* for previews: long side at most ``long_side`` (aspect kept, never enlarged)."""
    H, W = np.asarray(L).shape
    target_short = max(1, round(long_side * min(H, W) / max(H, W)))
    return resize_l(L, short_side_size((H, W), target_short))[0, 0].numpy()


def point_to_pixel(x: float, y: float, size: tuple[int, int], shape: tuple[int, ...]) -> tuple[int, int]:
    """Full-resolution point ``(x, y)`` of an image of ``size = (W, H)`` -> the ``(row, col)`` it
    falls in on a rendering of ``shape = (h, w, ...)`` of the same image (clamped)."""
    W, H = size
    h, w = shape[:2]
    return min(h - 1, max(0, int(y * h / H))), min(w - 1, max(0, int(x * w / W)))
