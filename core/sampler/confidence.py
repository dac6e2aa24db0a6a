"""Confidence of a colour under a pixel's marginal: its probability mass within an ab radius.

Bins whose centres lie within :data:`CONFIDENCE_RADIUS` of a colour count towards its
confidence; on the step-10 grid of Zhang et al.'s bins that is the nearest bin and its 8
neighbours. Both functions are exact sums over those bins; they differ in what they are
asked about (a drawn bin, or any ab value).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

CONFIDENCE_RADIUS = 15.0
# Lookup cells of ab_confidence, as a fraction of the radius: smaller cells list fewer
# candidate bins per cell (less to gather) but make a bigger table.
_CELL_FRACTION = 1.0 / 3.0
_TABLES: dict[tuple, tuple[torch.Tensor, torch.Tensor, torch.Tensor, float, int]] = {}


def neighbour_table(centres: torch.Tensor, radius: float = CONFIDENCE_RADIUS) -> torch.Tensor:
    """For every bin, the bins within ``radius`` in ab: ``(Q, J)`` int64, padded with ``Q``."""
    d2 = torch.cdist(centres.float(), centres.float()).square()
    near = d2 <= radius**2
    j = int(near.sum(1).max())
    q = centres.shape[0]
    # Sort so True entries come first, then replace the padding by the index Q (a zero row).
    order = near.float().argsort(dim=1, descending=True, stable=True)[:, :j]
    valid = near.gather(1, order)
    return torch.where(valid, order, torch.full_like(order, q))


def bin_confidence(probs: torch.Tensor, bins: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Probability mass near each drawn bin.

    Args:
        probs: ``(hw, Q)`` T = 1 marginals, pixels-major.
        bins: ``(M, hw)`` drawn bin per pixel.
        table: ``(Q, J)`` from :func:`neighbour_table`.
    Returns:
        ``(M, hw)``: ``sum_{k': |c_k' - c_k*| <= r} p_x(k')``.
    """
    m, hw = bins.shape
    padded = F.pad(probs, (0, 1))  # column Q is the zero padding the table points to
    nb = table[bins.T].reshape(hw, -1)  # (hw, M * J)
    return padded.gather(1, nb).view(hw, m, -1).sum(-1).T


def _cell_table(
    centres: torch.Tensor, radius: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float, int]:
    """Candidate bins of every cell of a square grid over the bins' ab range +- ``radius``.

    Returns ``(table (cells, J) int64 padded with Q, their centres (cells, 2 J) (a then b,
    padding at infinity), origin (2,), cell side, cells along b)``.
    A cell lists every bin within ``radius`` of *some* point of the cell (a superset), so an
    exact distance test over its list finds every bin within ``radius`` of a point in it.
    """
    key = (str(centres.device), tuple(centres.shape), float(radius), centres.cpu().numpy().tobytes())
    hit = _TABLES.get(key)
    if hit is not None:
        return hit
    c = centres.float()
    side = radius * _CELL_FRACTION
    lo = c.min(0).values - radius
    n = torch.ceil((c.max(0).values + radius - lo) / side).long() + 1
    na, nb = int(n[0]), int(n[1])
    ia, ib = torch.meshgrid(
        torch.arange(na, device=c.device), torch.arange(nb, device=c.device), indexing="ij"
    )
    mid = torch.stack([ia, ib], -1).reshape(-1, 2).float().add_(0.5).mul_(side).add_(lo)  # (cells, 2)
    reach = radius + side * math.sqrt(0.5) + 1e-3  # the farthest point of a cell from its middle
    near = torch.cdist(mid, c) <= reach  # (cells, Q)
    j = max(1, int(near.sum(1).max()))
    order = near.float().argsort(dim=1, descending=True, stable=True)[:, :j]
    valid = near.gather(1, order)
    table = torch.where(valid, order, torch.full_like(order, c.shape[0]))
    # The candidates' centres, (cells, 2 J): a and then b; padding infinitely far away.
    far = torch.full_like(order, 0, dtype=c.dtype).fill_(float("inf"))
    coords = torch.cat([torch.where(valid, c[order, i], far) for i in (0, 1)], 1)
    out = (table, coords, lo, side, nb)
    if len(_TABLES) >= 8:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[key] = out
    return out


def near_bins(centres: torch.Tensor, x: torch.Tensor, radius: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Candidate bins of ab values ``x`` ``(n, 2)``: a superset of the bins within ``radius``.

    Returns ``(bins (n, J) int64, d2 (n, J))``: padded with the index ``Q`` at squared distance
    ``inf``; NaN or infinite values have only such padding within reach.
    """
    table, coords, lo, side, nb = _cell_table(centres, radius)
    na, j = table.shape[0] // nb, table.shape[1]
    x = torch.nan_to_num(x.float(), nan=1e6, posinf=1e6, neginf=-1e6)
    cell = ((x - lo) / side).floor_().long()
    # Outside the grid no bin is within the radius; the clamped cell's distances say so.
    cell = cell[:, 0].clamp_(0, na - 1) * nb + cell[:, 1].clamp_(0, nb - 1)
    bins = torch.index_select(table, 0, cell)  # (n, J); index_select: no advanced indexing
    cxy = torch.index_select(coords, 0, cell).view(-1, 2, j)  # (n, 2, J)
    return bins, cxy.sub_(x[:, :, None]).square_().sum(1)


def ab_confidence(
    probs: torch.Tensor, centres: torch.Tensor, ab: torch.Tensor, radius: float
) -> torch.Tensor:
    """Probability mass within ``radius`` of arbitrary ab values (exact).

    Each value only looks at the dozen or so bins its lookup cell lists, not at all ``Q``.

    Args:
        probs: ``(hw, Q)``; centres ``(Q, 2)``; ab ``(M, 2, hw)``.
    Returns:
        ``(M, hw)``: ``sum_{k: |c_k - ab| <= radius} p(k)``.
    """
    q = centres.shape[0]
    if probs.ndim != 2 or probs.shape[1] != q or ab.ndim != 3 or ab.shape[1] != 2:
        raise ValueError(
            f"probs must be (hw, {q}) and ab (M, 2, hw), got {tuple(probs.shape)}, {tuple(ab.shape)}"
        )
    m, _, hw = ab.shape
    bins, d2 = near_bins(centres, ab.permute(2, 0, 1).reshape(-1, 2), radius)  # (hw M, J), pixels-major
    mass = F.pad(probs, (0, 1)).gather(1, bins.view(hw, -1)).view_as(d2)  # column Q: zero mass
    return torch.where(d2 <= radius**2, mass, 0.0).sum(1).view(hw, m).T
