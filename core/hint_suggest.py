"""Colour suggestions under the cursor: the most probable distinct colours of one pixel."""

from __future__ import annotations

import numpy as np
import torch

from .color import lab_to_rgb


def suggest_colors(
    logits: torch.Tensor,
    centres: torch.Tensor,
    L_value: float,
    x: int,
    y: int,
    k: int = 6,
    min_separation: float = 15.0,
) -> list[tuple[tuple[float, float, float], float]]:
    """The ``k`` most probable distinct colours at working-res pixel ``(x, y)``.

    Bins are taken by decreasing probability, skipping any closer than ``min_separation``
    (ab) to one already taken. Each bin within ``min_separation`` of a taken one joins the
    nearest; a suggestion's colour is the probability-weighted mean ab of its group (as
    sRGB at ``L_value``) and its probability the group's mass. Sorted by probability.
    """
    centres = torch.as_tensor(centres).float().to(logits.device)
    if logits.ndim != 4 or logits.shape[0] != 1 or logits.shape[1] != centres.shape[0]:
        raise ValueError(f"logits must have shape (1, {centres.shape[0]}, h, w), got {tuple(logits.shape)}")
    h, w = logits.shape[-2:]
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"pixel ({x}, {y}) outside the {w} x {h} working image")
    if k < 1:
        raise ValueError("k must be >= 1")
    # One pixel: a few hundred bins, simplest in numpy.
    p = torch.softmax(logits[0, :, int(y), int(x)].float(), dim=0).cpu().numpy().astype(np.float64)
    c = centres.cpu().numpy().astype(np.float64)
    picked: list[int] = []
    for j in np.argsort(-p, kind="stable"):
        if all(np.hypot(*(c[j] - c[i])) >= min_separation for i in picked):
            picked.append(int(j))
            if len(picked) == k:
                break
    d = np.linalg.norm(c[:, None, :] - c[None, picked, :], axis=-1)  # (Q, k)
    owner, member = d.argmin(1), d.min(1) < min_separation
    out = []
    for g, j in enumerate(picked):
        sel = member & (owner == g)
        mass = float(p[sel].sum())
        ab = (p[sel, None] * c[sel]).sum(0) / mass if mass > 0 else c[j]
        rgb = lab_to_rgb(np.array([L_value, ab[0], ab[1]], dtype=np.float32))
        out.append(((float(rgb[0]), float(rgb[1]), float(rgb[2])), mass))
    out.sort(key=lambda t: -t[1])
    return out
