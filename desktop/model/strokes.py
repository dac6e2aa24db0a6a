"""Building hint strokes from brush input, and finding the strokes an eraser gesture touches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from polychrome.core.hints import Stroke


def make_stroke(
    points: Sequence[tuple[float, float]],
    radius: float,
    color: tuple[float, float, float],
    strength: float,
    hardness: float,
    reach: float = 1.0,
) -> Stroke:
    """A new stroke (fresh id) (points and radius in full-resolution image pixels)."""
    return Stroke(
        points=[(float(x), float(y)) for x, y in points],
        radius=float(radius),
        color=tuple(float(c) for c in color),
        strength=float(strength),
        hardness=float(hardness),
        reach=float(reach),
    )


def _densify(points: np.ndarray, step: float) -> np.ndarray:
    """Insert points so consecutive ones are at most ``step`` apart (an eraser drag is a swept disc)."""
    if len(points) < 2:
        return points
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / step)))
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.concatenate(out)


def _distance_to_polyline(q: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance from each query point ``(m, 2)`` to a polyline ``(n, 2)`` -> ``(m,)``."""
    if len(poly) == 1:
        return np.hypot(*(q - poly[0]).T)
    a, b = poly[:-1], poly[1:]
    ab = b - a
    denom = np.maximum((ab**2).sum(1), 1e-12)
    t = np.clip(((q[:, None, :] - a[None]) * ab[None]).sum(-1) / denom[None], 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((q[:, None, :] - nearest) ** 2).sum(-1)).min(1)


def strokes_touching(
    strokes: Sequence[Stroke], eraser: Sequence[tuple[float, float]], radius: float
) -> list[Any]:
    """Ids of the strokes whose painted area the eraser's swept disc overlaps."""
    if not eraser:
        return []
    e = _densify(np.asarray(eraser, dtype=np.float64), max(0.5, radius / 2))
    hit = []
    for s in strokes:
        pts = np.asarray(s.points, dtype=np.float64).reshape(-1, 2)
        if len(pts) and _distance_to_polyline(e, pts).min() <= radius + float(s.radius):
            hit.append(s.id)
    return hit
