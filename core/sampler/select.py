"""Choosing a diverse, plausible subset of candidate draws.

Candidates are first ranked by their mean log-likelihood under the marginals and
the least likely part is dropped; the rest are picked greedily by farthest-point
selection in ab: each step takes the candidate whose distance to the nearest
already-chosen result (the annealed mean, locked results, earlier picks) is the
largest. Distances are mean per-pixel ab distances at a low resolution, so
they measure "which colours went where", not pixel noise.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOWRES_FACTOR = 4  # distances are computed on ab average-pooled by this factor
DROP_FRACTION = 0.4  # share of the surplus candidates (beyond those needed) dropped as least likely


def lowres(ab: torch.Tensor, factor: int = LOWRES_FACTOR) -> torch.Tensor:
    """Average-pool ab ``(M, 2, h, w)`` -> ``(M, 2, ceil(h/f), ceil(w/f))``."""
    if ab.ndim != 4 or ab.shape[1] != 2:
        raise ValueError(f"ab must have shape (M, 2, h, w), got {tuple(ab.shape)}")
    h, w = ab.shape[-2:]
    size = (max(1, math.ceil(h / factor)), max(1, math.ceil(w / factor)))
    return F.adaptive_avg_pool2d(ab.float(), size)


def pairwise_ab_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean per-pixel Euclidean ab distance: ``(M, 2, h, w)`` x ``(K, 2, h, w)`` -> ``(M, K)``."""
    if x.ndim != 4 or y.ndim != 4 or x.shape[1] != 2 or x.shape[1:] != y.shape[1:]:
        raise ValueError(
            f"ab maps must be (M, 2, h, w) of equal size, got {tuple(x.shape)}, {tuple(y.shape)}"
        )
    d = (x.unsqueeze(1) - y.unsqueeze(0)).square().sum(2).sqrt()  # (M, K, h, w)
    return d.mean(dim=(2, 3))


def farthest_point(candidates: torch.Tensor, fixed: torch.Tensor | None, k: int) -> list[int]:
    """Greedy farthest-point selection of ``k`` candidate indices, in pick order.

    Args:
        candidates: ``(M, 2, h, w)`` low-res ab, in preference order (ties go to the earlier one).
        fixed: ``(F, 2, h, w)`` results already chosen, or None. With none, the first
            candidate is picked first.
        k: how many to pick (``<= M``).
    """
    m = candidates.shape[0]
    if not 0 <= k <= m:
        raise ValueError(f"cannot pick {k} of {m} candidates")
    if k == 0:
        return []
    d_cc = pairwise_ab_distance(candidates, candidates)
    if fixed is not None and fixed.shape[0] > 0:
        nearest = pairwise_ab_distance(candidates, fixed.to(candidates)).amin(1)
        picked: list[int] = []
    else:
        picked = [0]
        nearest = d_cc[0].clone()
    taken = torch.zeros(m, dtype=torch.bool, device=candidates.device)
    taken[picked] = True
    while len(picked) < k:
        # argmax returns the first maximum, so ties go to the more likely candidate.
        j = int(nearest.masked_fill(taken, -1.0).argmax())
        picked.append(j)
        taken[j] = True
        nearest = torch.minimum(nearest, d_cc[j])
    return picked


def n_candidates(k: int, diversity: float) -> int:
    """Candidates drawn for ``k`` results: ``k`` at diversity 0, ``4k`` at diversity 1."""
    if diversity < 0:
        raise ValueError("diversity must be >= 0")
    return k + int(round(3.0 * diversity * k))


def select_diverse(
    candidates: torch.Tensor, loglik: torch.Tensor, fixed: torch.Tensor | None, k: int, diversity: float
) -> list[int]:
    """Indices of ``k`` candidates: likely ones, far apart from each other and from ``fixed``.

    Args:
        candidates: ``(M, 2, h, w)`` ab of the candidate draws (any resolution; pooled here).
        loglik: ``(M,)`` mean log-likelihood of each candidate.
        fixed: ``(F, 2, h, w)`` results already shown (annealed mean, locked ones), or None.
        k: results wanted.
        diversity: 0 keeps the first ``k`` candidates in order.
    Returns:
        ``k`` indices into ``candidates``, in the order the results should be shown.
    """
    m = candidates.shape[0]
    if loglik.shape != (m,):
        raise ValueError(f"loglik must have shape ({m},), got {tuple(loglik.shape)}")
    if k > m:
        raise ValueError(f"cannot pick {k} of {m} candidates")
    if diversity <= 0 or k == m:
        return list(range(k))
    keep = max(k, m - int(round(DROP_FRACTION * min(1.0, diversity) * (m - k))))
    order = torch.argsort(loglik, descending=True, stable=True)[:keep]
    small = lowres(candidates[order])
    fixed_small = lowres(fixed) if fixed is not None and fixed.shape[0] > 0 else None
    return [int(order[j]) for j in farthest_point(small, fixed_small, k)]
