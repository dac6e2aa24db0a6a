"""The one antialiased resize of L* that every stage shares (network input, working
resolution, the upsampler's guide, Levin's working resolution)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def resize_l(L: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """L* ``(H, W)`` -> ``(1, 1, h, w)`` float32 at ``size = (h, w)``.

    Antialiased bilinear (half-pixel centres), which approximates an area average when
    shrinking. The same size gives a copy, never a view of ``L``.
    """
    L = np.asarray(L)
    if L.ndim != 2:
        raise ValueError(f"L must have shape (H, W), got {L.shape}")
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"size must be (h, w) with positive entries, got {size}")
    t = torch.from_numpy(np.ascontiguousarray(L, dtype=np.float32))[None, None]
    if tuple(t.shape[-2:]) == tuple(size):
        return t.clone()
    with torch.no_grad():
        return F.interpolate(t, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)


def resize_l_np(L: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """:func:`resize_l` without torch: L* ``(H, W)`` -> ``(h, w)`` float32 (Pillow's antialiased
    bilinear, the filter torch's ``antialias=True`` reproduces; they agree to ~1e-4 L*).

    For the compose path, which runs on worker threads: torch's OpenMP parallel ops started
    from a second thread while another thread's are running leave every later torch op of
    the process several times slower (measured: the sampler's regularisation 30 -> 250 ms).
    """
    L = np.asarray(L, dtype=np.float32)
    if L.ndim != 2:
        raise ValueError(f"L must have shape (H, W), got {L.shape}")
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"size must be (h, w) with positive entries, got {size}")
    if tuple(L.shape) == tuple(size):
        return L.copy()
    img = Image.fromarray(np.ascontiguousarray(L))  # float32 (H, W): mode "F"
    return np.asarray(img.resize((int(size[1]), int(size[0])), Image.Resampling.BILINEAR), dtype=np.float32)


def short_side_size(shape: tuple[int, int], short_side: int) -> tuple[int, int]:
    """``(h, w)`` of an ``(H, W)`` image scaled so its short side is ``short_side`` (never enlarged)."""
    H, W = shape
    s = min(1.0, short_side / min(H, W))
    return (max(1, round(H * s)), max(1, round(W * s))) if s < 1.0 else (H, W)
