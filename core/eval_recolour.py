"""The recolour probe of the evaluation protocol: one stroke of another hue on one object.

PSNR against random GT patches rewards a hint that floods the whole photo with its colour
(with a weak network prior, one GT colour everywhere is often closer than the network's
guess), so the hint table alone cannot tell "fills the object" from "fills the photo".
The probe asks what a photographer recolouring a coat asks: per image, one object of the
ground truth (:func:`~.eval_samples.gt_objects`, 4-40 % of the image, drawn with the
image's seed) gets one point stroke at its most interior pixel, in the hue *opposite* its
own (chroma at least 30, at the object's mean L*), with the editor's default reach. Then,
over the final 8-bit results:

- **fill**: the share of the object's pixels that take the hint's hue (within
  :data:`HUE_TOLERANCE` degrees, chroma at least :data:`MIN_CHROMA`);
- **leak**: the share of the *other* pixels that take it, minus the share that had it
  before the stroke (same seed and settings): how much of the rest of the photo the
  stroke turned its colour.

Both for the best guess and for the drawn results (mean over results 1..N-1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from . import metrics as M
from .color import lab_to_rgb, rgb_to_lab
from .hints import HintDocument, Stroke
from .prepared import PreparedImage
from .sampler import SamplerSettings

HUE_TOLERANCE = 30.0  # degrees
MIN_CHROMA = 8.0  # ab: greyer pixels have no hue to take
MIN_STROKE_CHROMA = 30.0
OBJECT_SHARE = (0.04, 0.40)  # of the image's pixels
STROKE_RADIUS = (2.0, 6.0)  # px at the protocol's 256 px short side: half the inscribed radius, clipped


def takes_hue(ab: np.ndarray, hue: float) -> np.ndarray:
    """``ab`` ``(N, H, W, 2)`` -> ``(N, H, W)`` bool: the colour has hue ``hue`` (degrees)."""
    h = np.degrees(np.arctan2(ab[..., 1], ab[..., 0]))
    off = np.abs((h - hue + 180.0) % 360.0 - 180.0)
    return (off <= HUE_TOLERANCE) & (np.hypot(ab[..., 0], ab[..., 1]) >= MIN_CHROMA)


def recolour_stroke(gt_lab: np.ndarray, inside: np.ndarray) -> tuple[Stroke, float]:
    """The probe's stroke on object ``inside`` ``(H, W)`` bool of GT Lab ``(H, W, 3)``, and its hue."""
    dt = ndimage.distance_transform_edt(inside)
    y, x = np.unravel_index(int(np.argmax(dt)), dt.shape)
    px = gt_lab[inside]
    a, b = float(px[:, 1].mean()), float(px[:, 2].mean())
    hue = math.atan2(b, a) + math.pi
    chroma = max(math.hypot(a, b), MIN_STROKE_CHROMA)
    lab = np.array([float(px[:, 0].mean()), chroma * math.cos(hue), chroma * math.sin(hue)], np.float32)
    rgb = np.clip(lab_to_rgb(lab), 0.0, 1.0).astype(np.float32)
    shown = rgb_to_lab(rgb)  # the hue of the colour the user can actually pick
    radius = float(np.clip(0.5 * dt.max(), *STROKE_RADIUS))
    stroke = Stroke(
        points=[(x + 0.5, y + 0.5)], radius=radius, color=(float(rgb[0]), float(rgb[1]), float(rgb[2]))
    )
    return stroke, math.degrees(math.atan2(float(shown[2]), float(shown[1])))


def _abs(prepared: PreparedImage, abs_work) -> np.ndarray:
    """ab of the final 8-bit results ``(N, H, W, 2)``."""
    return np.stack([np.moveaxis(M.rgb_to_ab(M.to_uint8(prepared.compose(a))), 0, -1) for a in abs_work])


def recolour_probe(
    prepared: PreparedImage,
    gt_lab: np.ndarray,
    objects: np.ndarray,
    settings: SamplerSettings,
    before_best: np.ndarray,
    before_samples: Sequence[np.ndarray],
    rng: np.random.Generator,
) -> dict[str, float]:
    """Fill and leak of one recolour stroke (keys ``recolour/{best,samples}/{fill,leak}``).

    ``objects``: GT object labels ``(H, W)`` (-1 = none); ``before_*``: the 8-bit sRGB best
    guess and drawn results without hints (``settings`` drew them). Empty when the image
    has no object of the probe's size.
    """
    H, W = objects.shape
    sizes = np.bincount(objects[objects >= 0].ravel())
    share = sizes / float(H * W)
    ok = np.flatnonzero((share >= OBJECT_SHARE[0]) & (share <= OBJECT_SHARE[1]))
    if ok.size == 0:
        return {}
    inside = objects == int(rng.choice(ok))
    stroke, hue = recolour_stroke(gt_lab, inside)
    doc = HintDocument(strokes=[stroke])
    after_best = _abs(prepared, prepared.best_guess(doc))
    after_samples = _abs(prepared, prepared.sample(settings, doc).ab[1:])
    r: dict[str, float] = {}
    for key, before, after in (
        ("best", [before_best], after_best),
        ("samples", list(before_samples), after_samples),
    ):
        was = takes_hue(np.stack([np.moveaxis(M.rgb_to_ab(u), 0, -1) for u in before]), hue)
        now = takes_hue(after, hue)
        r[f"recolour/{key}/fill"] = float(now[:, inside].mean())
        r[f"recolour/{key}/leak"] = float(now[:, ~inside].mean() - was[:, ~inside].mean())
    return r


def recolour_markdown(mean) -> list[str]:
    """The probe's table from ``mean(key)`` over images."""
    lo, hi = (round(100 * s) for s in OBJECT_SHARE)
    return [
        "",
        f"**Recolour one object** (one point stroke, default reach, on a GT object of {lo}-{hi} % of the "
        "image, in the hue opposite its own; fill = share of the object that takes the stroke's hue "
        f"(±{HUE_TOLERANCE:g}°, chroma ≥ {MIN_CHROMA:g}), leak = share of the rest of the photo that "
        "newly takes it; core/eval_recolour.py)",
        "",
        "| Result | Fill | Leak |",
        "|---|---:|---:|",
        f"| Best guess | {mean('recolour/best/fill'):.2f} | {mean('recolour/best/leak'):.3f} |",
        f"| Drawn results (mean of 7) | {mean('recolour/samples/fill'):.2f} | "
        f"{mean('recolour/samples/leak'):.3f} |",
        "",
    ]
