"""The hints curve of the evaluation protocol: PSNR vs. number of simulated point hints.

Per image a fixed-seed list of ``max(counts)`` GT patches (``patch`` x ``patch`` px at
uniform positions, with their mean Lab colour); ``k`` hints are the first ``k`` of that
list, so the curve is nested and every method gets the same hints. Polychrome gets one
point stroke per patch with the editor's default brush reach (full strength, hard edge,
target = the patch's mean ab) and is scored on its best guess under the hints (the network's
best guess blended toward the hints' target with their pull); Levin et al. 2004 gets the
same patches filled with their mean ab, solved in the same run. With ``k = 0`` Polychrome's
value is its un-hinted best guess and Levin's is gray.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import levin
from . import metrics as M
from .color import lab_to_rgb
from .hints import HintDocument, Stroke
from .prepared import PreparedImage

DEFAULT_HINTS = (0, 1, 2, 5, 10, 20, 50)
DEFAULT_REACHES = (1.0,)  # 1 = the editor's default brush


@dataclass(frozen=True)
class SimulatedHint:
    """A GT patch: top-left ``(y, x)``, side ``size`` and its mean Lab colour."""

    y: int
    x: int
    size: int
    lab: tuple[float, float, float]

    @property
    def centre_xy(self) -> tuple[float, float]:
        """Patch centre in pixel coordinates (pixel i covers [i, i + 1))."""
        return (self.x + self.size / 2.0, self.y + self.size / 2.0)

    @property
    def rgb(self) -> tuple[float, float, float]:
        """sRGB in [0, 1] of the patch's mean Lab (what a user would pick)."""
        c = lab_to_rgb(np.asarray(self.lab, dtype=np.float32))
        return (float(c[0]), float(c[1]), float(c[2]))


def simulate_hints(
    gt_lab: np.ndarray, count: int, patch: int, rng: np.random.Generator
) -> list[SimulatedHint]:
    """``count`` patches at uniform random places of GT Lab ``(H, W, 3)``, with their mean colour."""
    H, W = gt_lab.shape[:2]
    p = min(patch, H, W)
    out = []
    for _ in range(count):
        y = int(rng.integers(0, H - p + 1))
        x = int(rng.integers(0, W - p + 1))
        m = gt_lab[y : y + p, x : x + p].reshape(-1, 3).mean(0)
        out.append(SimulatedHint(y, x, p, (float(m[0]), float(m[1]), float(m[2]))))
    return out


def levin_hint_maps(hints: Sequence[SimulatedHint], shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Hint mask ``(H, W)`` and ab ``(2, H, W)``: every patch filled with its mean ab (later wins)."""
    mask = np.zeros(shape, dtype=bool)
    ab = np.zeros((2, *shape), dtype=np.float32)
    for h in hints:
        sl = (slice(h.y, h.y + h.size), slice(h.x, h.x + h.size))
        mask[sl] = True
        ab[0][sl] = h.lab[1]
        ab[1][sl] = h.lab[2]
    return mask, ab


def hint_strokes(hints: Sequence[SimulatedHint], radius: float, reach: float = 1.0) -> list[Stroke]:
    """One point stroke per simulated hint (full-res px), full strength, hard edge.

    ``color`` is the patch's sRGB colour; ``ab`` pins the target to the patch's mean ab at
    the painted lightness (the value Levin gets). ``reach``: the brush's Reach (1 = default).
    """
    return [
        Stroke(
            points=[h.centre_xy],
            radius=radius,
            color=h.rgb,
            strength=1.0,
            hardness=1.0,
            reach=reach,
            ab=(h.lab[1], h.lab[2]),
        )
        for h in hints
    ]


def _lab_image(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    lab = np.concatenate([L[..., None], np.moveaxis(ab, 0, -1)], axis=-1)
    return lab_to_rgb(lab)


def hint_curve(
    prepared: PreparedImage,
    gt: np.ndarray,
    gt_lab: np.ndarray,
    counts: Sequence[int],
    reaches: Sequence[float],
    patch: int,
    radius: float,
    rng: np.random.Generator,
    temperature: float | None = None,
    levin_short_side: int | None = 256,
    timed: Callable | None = None,
) -> dict[str, float]:
    """PSNR per hint count for Polychrome (one curve per reach) and Levin, same patches.

    ``gt`` ``(H, W, 3)`` uint8 and ``gt_lab`` its Lab; ``prepared`` was made from its L*.
    ``timed(stage, fn, *args)`` runs and times a stage (default: just runs it).
    Keys: ``hints/polychrome-r{reach:g}/{k}`` and ``hints/levin/{k}``.
    """
    run = timed or (lambda _stage, fn, *a: fn(*a))
    counts = sorted(set(counts))
    r: dict[str, float] = {}
    if not counts:
        return r
    H, W = gt.shape[:2]
    L = gt_lab[..., 0]
    sim = simulate_hints(gt_lab, max(counts), patch, rng)
    best_ab = prepared.best_guess(T=temperature)
    for reach in reaches:
        strokes = hint_strokes(sim, radius, reach)
        for k in counts:  # the prepared image's hint engine caches paints: nested k reuse them
            if k == 0:
                ab = best_ab
            else:
                doc = HintDocument(strokes=strokes[:k])
                run("hints", prepared.logits, doc)  # the propagation and re-weighting, timed
                ab = prepared.best_guess(doc, T=temperature)
            r[f"hints/polychrome-r{reach:g}/{k}"] = M.psnr(prepared.compose(ab), gt)
    for k in counts:
        mask, hab = levin_hint_maps(sim[:k], (H, W))
        if k == 0:
            lev = np.zeros((2, H, W), np.float32)  # Levin with no hints is gray
        else:
            lev = run("levin", levin.colorize, L, mask, hab, levin_short_side)
        r[f"hints/levin/{k}"] = M.psnr(_lab_image(L, lev), gt)
    return r


def hints_markdown(
    means: Callable[[str], float],
    counts: Sequence[int],
    reaches: Sequence[float],
    patch: int,
    radius: float,
    levin_short_side: int | None,
    fmt: Callable[[float], str],
) -> list[str]:
    """The hint table (markdown lines); ``means(key)`` is the mean over images of a key."""
    counts = sorted(set(counts))
    if not counts:
        return []
    lines = [
        "",
        f"**PSNR (dB) vs. number of simulated point hints** ({patch} x {patch} px GT patches at "
        "random places, fixed seed; Polychrome: one point stroke per patch, radius "
        f"{radius:g} px, full strength, hard edge, target = the patch's mean ab, *reach* as the brush's "
        "Reach (1 = the editor's default), best guess under the hints; Levin et al. 2004 "
        f"on the same patches, same run, at short side {levin_short_side}; Δ = Polychrome − Levin)",
        "",
        "| Method | " + " | ".join(str(k) for k in counts) + " |",
        "|---|" + "---:|" * len(counts),
    ]
    rows = [(f"polychrome-r{r:g}", f"Polychrome + hints, reach {r:g}") for r in reaches]
    for key, name in rows + [("levin", "Levin et al. 2004")]:
        lines.append(f"| {name} | " + " | ".join(fmt(means(f"hints/{key}/{k}")) for k in counts) + " |")
    for r in reaches:
        lines.append(
            f"| Δ reach {r:g} | "
            + " | ".join(
                f"{means(f'hints/polychrome-r{r:g}/{k}') - means(f'hints/levin/{k}'):+.2f}" for k in counts
            )
            + " |"
        )
    return lines
