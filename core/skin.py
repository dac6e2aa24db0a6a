"""Skin on faces: where the faces are, and whether a colourisation paints them as skin.

Faces are found on the *luminance* of the ground truth with OpenCV 4.x's frontal
Haar cascade (5.x dropped the cascades; it is the detector the colour result
cannot influence). Skin is judged in CIE Lab: human skin of every tone sits in a
narrow band of hue angles (reds to yellows) with moderate chroma, so a face pixel
"reads as skin" when its hue angle h = atan2(b*, a*) lies in ``SKIN_HUE_DEG`` and its
chroma in ``SKIN_CHROMA``. Warmth = the ab projection on the skin axis (hue 50°):
a face painted as skin is warmer than the ring of pixels around it, a global warm
tint is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SKIN_HUE_DEG = (15.0, 85.0)
SKIN_CHROMA = (6.0, 50.0)
SKIN_AXIS_DEG = 50.0


@dataclass(frozen=True)
class Face:
    """A face box in pixels: ``x, y`` top-left, ``w, h`` size."""

    x: int
    y: int
    w: int
    h: int


def detect_faces(L: np.ndarray, min_size: int = 32) -> list[Face]:
    """Faces in a luminance image ``(H, W)`` float32 L* in [0, 100]; needs opencv-python-headless 4.x."""
    import cv2

    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's face cascade could not be loaded from {path} (OpenCV 4.x ships it)")
    gray = np.clip(L * 2.55, 0, 255).astype(np.uint8)
    found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=8, minSize=(min_size, min_size))
    return [Face(int(x), int(y), int(w), int(h)) for x, y, w, h in np.asarray(found).reshape(-1, 4)]


def _inner(face: Face) -> tuple[slice, slice]:
    # The cascade's box includes hair and background at its corners; its centre is skin.
    mx, my = face.w // 5, face.h // 5
    return slice(face.y + my, face.y + face.h - my), slice(face.x + mx, face.x + face.w - mx)


def skin_fraction(ab: np.ndarray, faces: list[Face]) -> float:
    """Fraction of the face-centre pixels whose ab ``(2, H, W)`` reads as skin; NaN without faces."""
    hits, total = 0, 0
    for f in faces:
        ys, xs = _inner(f)
        a, b = ab[0, ys, xs], ab[1, ys, xs]
        hue = np.degrees(np.arctan2(b, a))
        chroma = np.hypot(a, b)
        ok = (hue >= SKIN_HUE_DEG[0]) & (hue <= SKIN_HUE_DEG[1])
        ok &= (chroma >= SKIN_CHROMA[0]) & (chroma <= SKIN_CHROMA[1])
        hits += int(ok.sum())
        total += ok.size
    return hits / total if total else math.nan


def face_warmth_contrast(ab: np.ndarray, faces: list[Face]) -> float:
    """Mean warmth of face centres minus that of a ring around each face (ab units); NaN without faces."""
    if not faces:
        return math.nan
    ax = math.radians(SKIN_AXIS_DEG)
    warmth = ab[0] * math.cos(ax) + ab[1] * math.sin(ax)
    H, W = warmth.shape
    diffs = []
    for f in faces:
        ys, xs = _inner(f)
        inside = warmth[ys, xs].mean()
        pad = max(f.w, f.h) // 2
        y0, y1 = max(0, f.y - pad), min(H, f.y + f.h + pad)
        x0, x1 = max(0, f.x - pad), min(W, f.x + f.w + pad)
        ring = np.ones((y1 - y0, x1 - x0), bool)
        ring[f.y - y0 : f.y - y0 + f.h, f.x - x0 : f.x - x0 + f.w] = False
        if ring.any():
            diffs.append(float(inside - warmth[y0:y1, x0:x1][ring].mean()))
    return float(np.mean(diffs)) if diffs else math.nan
