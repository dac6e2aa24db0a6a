"""What the N results differ by: in-object coherence, diversity and best-of-N (the brief's Q2).

Objects of the ground truth are a segmentation of its *colour* image: Felzenszwalb-
Huttenlocher on the GT's CIE Lab at object scale (a coat, a wall, a sky; shading and
texture stay inside). Inside every object, the spread of a result's ab (RMS distance from
the object's mean, pixel-weighted over objects) is compared with the GT's own spread in
the same objects: a result whose object takes one colour, shaded like the photo, scores
about 1×; blotches (an orange patch in a blue sky) score far more.

For each set of N results (index 0 the best guess, as in the app's grid) this reports
the **worst** drawn result's spread ratio (the one a photographer would reject first),
the mean over the drawn results, diversity (mean pairwise ab distance) and best-of-N
PSNR, so the new sampler, the previous one and independent per-pixel sampling are
compared in one run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from skimage.segmentation import felzenszwalb

from . import metrics as M
from .color import rgb_to_lab

OBJECT_SCALE = 400.0  # Felzenszwalb scale on Lab / 100 at 256 px short side: object-sized segments
OBJECT_MIN = 64  # px; smaller segments (edges, texture) are not objects
METHODS = (
    ("objects", "Polychrome sampler, object draws (default)"),
    ("field", "Polychrome sampler, per-pixel field draws (previous)"),
    ("independent", "Independent per-pixel sampling"),
)


def gt_objects(gt: np.ndarray) -> np.ndarray:
    """Objects of a GT sRGB image ``(H, W, 3)`` uint8: labels ``(H, W)`` int64, -1 = none."""
    lab = rgb_to_lab(gt.astype(np.float32) / 255.0) / 100.0
    seg = felzenszwalb(lab, scale=OBJECT_SCALE, sigma=0.8, min_size=OBJECT_MIN, channel_axis=-1)
    sizes = np.bincount(seg.ravel())
    keep = sizes >= OBJECT_MIN
    remap = np.full(sizes.size, -1, dtype=np.int64)
    remap[keep] = np.arange(int(keep.sum()))
    return remap[seg]


def set_metrics(prefix: str, rgbs: Sequence[np.ndarray], gt: np.ndarray, objects: np.ndarray) -> dict:
    """Metrics of one set of results (sRGB ``(H, W, 3)``, index 0 the best guess) against ``gt``."""
    u8 = np.stack([M.to_uint8(x) for x in rgbs])
    abs_ = np.stack([M.rgb_to_ab(x) for x in u8])
    gt_spread = M.region_ab_spread(M.rgb_to_ab(gt), objects)
    spreads = [M.region_ab_spread(a, objects) for a in abs_[1:]]
    ok = math.isfinite(gt_spread) and gt_spread > 0
    return {
        f"samples/{prefix}/best_psnr": M.best_of_n_psnr(u8, gt),
        f"samples/{prefix}/diversity": M.mean_pairwise_ab_distance(abs_),
        f"samples/{prefix}/worst_spread": max(spreads) if ok else math.nan,
        f"samples/{prefix}/mean_spread": float(np.mean(spreads)) if ok else math.nan,
        "samples/gt_spread": gt_spread if ok else math.nan,
    }


def format_table(mean, ratio_of_means, n: int, best_psnr: float) -> list[str]:
    """Markdown lines of the samples table; ``mean(key)`` and ``ratio_of_means(a, b)`` read results."""
    lines = [
        "",
        f"**What the {n} results differ by** (objects = Felzenszwalb segments of the GT's Lab, scale "
        f"{OBJECT_SCALE:g}, ≥ {OBJECT_MIN} px; in-object spread of the drawn results as a ratio to the "
        "GT's own spread in the same objects, ratio of means over images: ≈ 1 is one colour per "
        "object shaded like the photo, more is blotches; targets: worst ≤ 1.3×, diversity ≥ 8 ab, "
        f"best-of-{n} ≥ best guess + 1.5 dB; best guess here {best_psnr:.2f} dB)",
        "",
        f"| Method | Worst result's in-object spread (× GT) | Mean in-object spread (× GT) | "
        f"Diversity (ab) | Best-of-{n} PSNR (dB) | Best-of-{n} − best guess (dB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, name in METHODS:
        worst = ratio_of_means(f"samples/{key}/worst_spread", "samples/gt_spread")
        avg = ratio_of_means(f"samples/{key}/mean_spread", "samples/gt_spread")
        best = mean(f"samples/{key}/best_psnr")
        lines.append(
            f"| {name} | {worst:.2f} | {avg:.2f} | {mean(f'samples/{key}/diversity'):.2f} | "
            f"{best:.2f} | {best - best_psnr:+.2f} |"
        )
    return lines
