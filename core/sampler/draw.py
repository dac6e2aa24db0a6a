"""Drawing colour fields from per-pixel marginals with spatially smooth Gumbel noise.

Gumbel-max: with independent Gumbel(0, 1) variables ``g_k``,
``argmax_k [log p(k) / T + g_k]`` is an exact sample of ``p^(1/T)`` (renormalised).
Here every bin ``k`` gets a *random field* ``g_k(x)`` whose marginal at every
pixel is exactly Gumbel(0, 1) but which varies smoothly over the image, so each
pixel is still an exact sample of its own marginal while neighbouring pixels
tend to make the same choice (one object, one colour).

Noise construction, per bin and per candidate:

- i.i.d. N(0, 1) values on the nodes of a coarse grid of spacing ``correlation`` pixels;
- bilinear interpolation to the pixels, divided by the interpolation's exact
  per-pixel standard deviation, so that ``z(x)`` is exactly N(0, 1) at every pixel;
- ``E = -log Phi(z)`` is then exactly Exp(1) and ``g = -log E`` exactly Gumbel(0, 1)
  (a monotone map of one smooth Gaussian keeps the field as smooth as ``z``).

Since ``argmax_k [log p_k + g_k] = argmin_k E_k / p_k`` (the exponential race),
the draw only needs ``E``, one ``erfc`` and one logarithm per evaluated (bin, pixel).

Only the ``K`` most probable bins of a pixel (at most ``max_bins``) get their own
smooth field; the rest of the distribution competes as one extra "tail" entrant
with mass ``p_tail`` and its own smooth Exp(1) field. If the tail wins, the bin is
drawn from the tail distribution by inverse CDF (bins in index order) with a
smooth uniform field. By max-stability of the Gumbel distribution this two-stage
draw is still an *exact* sample of ``p^(1/T)`` at every pixel, whatever ``K``; a
larger ``K`` only makes more of the choice bin-coherent between neighbours.

Each candidate has its own integer seed; its coarse noise comes from a CPU
``torch.Generator`` with that seed, so a draw is reproducible on any device and
does not depend on which other candidates were drawn with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

MAX_BINS = 16  # default number of bins per pixel with their own smooth field
BLOCK = 4  # pixels share their list of such bins in tiles of BLOCK x BLOCK
# Floats per band of the (pixels, bins, candidates) noise tensor: 1 MB, cache-sized.
_BAND_ELEMS = 1 << 18


def check_logits(logits: torch.Tensor, centres: torch.Tensor) -> None:
    """Raise ValueError unless logits are ``(1, Q, h, w)`` and centres ``(Q, 2)``."""
    if centres.ndim != 2 or centres.shape[1] != 2:
        raise ValueError(f"bin centres must have shape (Q, 2), got {tuple(centres.shape)}")
    if logits.ndim != 4 or logits.shape[0] != 1 or logits.shape[1] != centres.shape[0]:
        raise ValueError(f"logits must have shape (1, {centres.shape[0]}, h, w), got {tuple(logits.shape)}")


def candidate_seeds(seed: int, count: int, start: int = 0) -> list[int]:
    """Per-candidate seeds ``[start, start + count)`` derived from one user seed.

    Uses numpy's SeedSequence so nearby user seeds give unrelated streams.
    Seeds are non-negative and below 2**63 (valid for ``torch.Generator.manual_seed``).
    """
    out = []
    for j in range(start, start + count):
        state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, (int(seed) >> 32) & 0xFFFFFFFF, j])
        out.append(int(state.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return out


# ------------------------------------------------------------- noise ---


@dataclass(frozen=True)
class _Axis:
    """Bilinear interpolation of one axis from a coarse grid, rows normalised to unit L2 norm."""

    coarse: int  # number of coarse nodes
    i0: torch.Tensor  # (n,) int64, left node
    i1: torch.Tensor  # (n,) int64, right node
    w0: torch.Tensor  # (n,) float32
    w1: torch.Tensor  # (n,) float32


def _axis_plan(n: int, spacing: float, device: torch.device) -> _Axis:
    if spacing <= 1.0:
        # One independent node per pixel: per-pixel i.i.d. noise.
        i = torch.arange(n, device=device)
        return _Axis(n, i, i, torch.ones(n, device=device), torch.zeros(n, device=device))
    coarse = int(math.floor((n - 1) / spacing)) + 2
    # Centre the coarse grid on the image so both borders are treated alike.
    offset = ((coarse - 1) * spacing - (n - 1)) / 2.0
    pos = (torch.arange(n, device=device, dtype=torch.float64) + offset) / spacing
    i0 = pos.floor().clamp(0, coarse - 2)
    f = pos - i0
    w0, w1 = 1.0 - f, f
    # Var of w0 z0 + w1 z1 is w0^2 + w1^2: normalising makes every pixel exactly N(0, 1).
    norm = torch.sqrt(w0**2 + w1**2)
    i0 = i0.long()
    return _Axis(coarse, i0, i0 + 1, (w0 / norm).float(), (w1 / norm).float())


class _Interp:
    """Noise lookup of every pixel: flat noise-cell indices and weights ``(c, hw)``.

    Four bilinear corners of the coarse grid and, with ``regions``, a fifth cell shared
    by the whole region of the pixel. Weights have unit L2 norm per pixel, so a pixel's
    value, a weighted sum of i.i.d. N(0, 1) cells, is exactly N(0, 1).
    """

    def __init__(
        self,
        h: int,
        w: int,
        correlation: float,
        device: torch.device,
        regions: torch.Tensor | None = None,
        region_share: float = 0.0,
    ) -> None:
        ay, ax = _axis_plan(h, correlation, device), _axis_plan(w, correlation, device)
        self.shape = (ay.coarse, ax.coarse)
        self.cells = ay.coarse * ax.coarse
        idx, wts = [], []
        for iy, wy in ((ay.i0, ay.w0), (ay.i1, ay.w1)):
            for ix, wx in ((ax.i0, ax.w0), (ax.i1, ax.w1)):
                idx.append((iy[:, None] * ax.coarse + ix[None, :]).reshape(-1))
                wts.append((wy[:, None] * wx[None, :]).reshape(-1))
        if regions is not None and region_share > 0.0:
            if tuple(regions.shape) != (h, w):
                raise ValueError(f"regions must have shape ({h}, {w}), got {tuple(regions.shape)}")
            # Var = (1 - share) * 1 + share * 1: the mix stays exactly N(0, 1).
            wts = [x * math.sqrt(1.0 - region_share) for x in wts]
            idx.append(self.cells + regions.reshape(-1).to(device=device, dtype=torch.long))
            wts.append(torch.full((h * w,), math.sqrt(region_share), device=device))
            self.cells += int(regions.max()) + 1
        self.index = torch.stack(idx)
        self.weight = torch.stack(wts)


def coarse_noise(seeds: list[int], slots: int, cells: int, device: torch.device) -> torch.Tensor:
    """i.i.d. N(0, 1) values ``(slots * cells, M)``, candidate ``j`` from ``seeds[j]``.

    Drawn on the CPU with one generator per candidate, so values do not depend on the device
    or on the other candidates.
    """
    out = torch.empty(len(seeds), slots * cells)
    gen = torch.Generator()
    for j, s in enumerate(seeds):
        gen.manual_seed(int(s))
        out[j] = torch.randn(slots * cells, generator=gen)
    return out.T.contiguous().to(device)


def exp_from_normal(z: torch.Tensor) -> torch.Tensor:
    """Map N(0, 1) values to Exp(1): ``-log Phi(z)``, in place, any shape.

    ``Phi(z) = erfc(-z / sqrt 2) / 2`` keeps full precision in the lower tail (large E,
    a losing entrant); in the far upper tail ``z > ~5`` E is tiny and only good to float32
    spacing near 1 (a certain winner either way), which changes no draw in practice.
    """
    return z.mul_(-1.0 / math.sqrt(2.0)).erfc_().mul_(0.5).log_().neg_()


def _interpolate(z: torch.Tensor, rows: torch.Tensor, wts: torch.Tensor) -> torch.Tensor:
    """Bilinear lookup: coarse ``(R, C)`` at corner rows ``(c, P)`` with weights ``(c, P)`` -> ``(P, C)``."""
    # F.embedding is a row gather several times faster than index_select on CPU.
    out = F.embedding(rows[0], z).mul_(wts[0, :, None])
    for corner in range(1, rows.shape[0]):
        out.addcmul_(F.embedding(rows[corner], z), wts[corner, :, None])
    return out


def smooth_gumbel_noise(
    seeds: list[int],
    q: int,
    h: int,
    w: int,
    correlation: float,
    device: torch.device | str = "cpu",
    regions: torch.Tensor | None = None,
    region_share: float = 0.0,
) -> torch.Tensor:
    """Smooth noise fields ``(M, q, h, w)`` with exact Gumbel(0, 1) marginals at every pixel.

    These are the fields bins ``0..q-1`` get in :func:`draw_bins` for the same seeds and
    ``q = Q``. Memory grows as ``M * q * h * w``: for small problems and tests.
    """
    device = torch.device(device)
    interp = _Interp(h, w, correlation, device, regions, region_share)
    z = coarse_noise(seeds, q + _TAIL_SLOTS, interp.cells, device)
    c = interp.index.shape[0]
    rows = (torch.arange(q, device=device)[None, :, None] * interp.cells + interp.index[:, None, :]).reshape(
        c, -1
    )
    e = exp_from_normal(_interpolate(z, rows, interp.weight.repeat(1, q)))  # (q * hw, M)
    return (-e.log()).T.reshape(len(seeds), q, h, w)


# -------------------------------------------------------------- draws ---

_TAIL_SLOTS = 2  # extra noise slots after the Q bins: the tail's race field, the tail's uniform field


@dataclass
class Draws:
    """Result of :func:`draw_bins` for ``M`` candidates at ``h x w`` pixels.

    bins: ``(M, h, w)`` int64 drawn bin index per pixel.
    loglik: ``(M,)`` mean over pixels of ``log p_x(k*(x))`` under the T = 1 marginals.
    """

    bins: torch.Tensor
    loglik: torch.Tensor


def candidate_bins(
    p_t: torch.Tensor, h: int, w: int, max_bins: int = MAX_BINS, eps: float = 1e-3, block: int = BLOCK
) -> torch.Tensor:
    """The bins with their own noise field: the most probable ones of each ``block x block`` tile.

    Choosing per tile rather than per pixel is cheaper and makes neighbours compete with the
    same bins; a pixel's own leading bins that miss its tile's list still compete through
    the tail, so the draw stays exact.

    Args:
        p_t: ``(hw, Q)`` probabilities ``p^(1/T)``, pixels in row-major order.
    Returns:
        ``idx (hw, K)``: per pixel its tile's ``K <= max_bins`` most probable bins, ``K``
        the smallest count holding ``1 - eps`` of the tile mass everywhere.
    """
    q = p_t.shape[1]
    tw = -(-w // block)
    ty = torch.arange(h, device=p_t.device) // block
    tx = torch.arange(w, device=p_t.device) // block
    tile_of = (ty[:, None] * tw + tx[None, :]).reshape(-1)  # (hw,)
    # Summed (not averaged) probabilities rank the bins of a tile the same way.
    tiles = p_t.new_zeros(-(-h // block) * tw, q).index_add_(0, tile_of, p_t)
    tiles /= tiles.sum(1, keepdim=True)
    vals, idx = tiles.topk(max(1, min(int(max_bins), q)), dim=1)
    needed = int((vals.cumsum(1) < 1.0 - eps).sum(1).max()) + 1
    idx = idx[:, : min(vals.shape[1], needed)]
    return idx[tile_of].contiguous()


_NOISE_CACHE: dict[tuple, torch.Tensor] = {}


def _cached_noise(seeds: list[int], slots: int, cells: int, device: torch.device) -> torch.Tensor:
    # Interactive use redraws with the same seeds after every hint: keep the last noise.
    key = (tuple(seeds), slots, cells, str(device))
    z = _NOISE_CACHE.get(key)
    if z is None:
        z = coarse_noise(seeds, slots, cells, device)
        _NOISE_CACHE.clear()
        _NOISE_CACHE[key] = z
    return z


def draw_bins(
    logits: torch.Tensor,
    seeds: list[int],
    T: float,
    correlation: float,
    max_bins: int = MAX_BINS,
    regions: torch.Tensor | None = None,
    region_share: float = 0.0,
) -> Draws:
    """Draw ``M = len(seeds)`` bin fields by Gumbel-max with spatially smooth noise.

    Args:
        logits: ``(1, Q, h, w)`` marginal logits (already hint-reweighted).
        seeds: one seed per candidate.
        T: temperature; each pixel is an exact sample of ``p^(1/T)``.
        correlation: coarse-grid spacing of the noise in pixels (``<= 1``: independent pixels).
            The coarse noise has ``(Q + 2) * M * (h / correlation) * (w / correlation)`` values,
            so very small spacings above 1 are slow.
        max_bins: bins per pixel with their own smooth field (speed/coherence trade-off only).
        regions: optional ``(h, w)`` labels of luminance regions (:mod:`.regions`); a share
            ``region_share`` of every field's variance is then one value per region, so a
            whole region tends to choose together. Marginals stay exact either way.
    Returns:
        :class:`Draws` on the logits' device.
    """
    if logits.ndim != 4 or logits.shape[0] != 1:
        raise ValueError(f"logits must have shape (1, Q, h, w), got {tuple(logits.shape)}")
    _, q, h, w = logits.shape
    hw, m, device = h * w, len(seeds), logits.device
    if T <= 0:
        raise ValueError("temperature must be positive")
    # Pixels-major layout (hw, Q): reductions over bins run along contiguous memory.
    lt = logits[0].reshape(q, -1).T.float().contiguous()
    p_t = torch.softmax(lt / T, dim=1)
    idx = candidate_bins(p_t, h, w, max_bins)  # (hw, K)
    k = idx.shape[1]
    p_top = p_t.gather(1, idx)
    if m == 0:
        return Draws(torch.empty(0, h, w, dtype=torch.long, device=device), torch.empty(0, device=device))

    lse = torch.logsumexp(lt, dim=1, keepdim=True)  # log-partition at T = 1, for the log-likelihood
    # The tail: p^(1/T) without each pixel's top-K, as a CDF over bins in index order.
    tail_cdf = p_t.scatter_(1, idx, 0.0).cumsum_(1)  # (hw, Q); p_t is ours to overwrite
    tail_mass = tail_cdf[:, -1:].contiguous()  # (hw, 1)
    inv_top = (1.0 / p_top.clamp_min(1e-30)).unsqueeze(-1)  # (hw, K, 1)
    inv_tail = torch.where(tail_mass > 1e-12, 1.0 / tail_mass.clamp_min(1e-30), torch.inf)

    if correlation <= 1.0:
        # Independent pixels: draw only the noise that is used, (pixel, K + 2) per candidate,
        # instead of a full (Q + 2) x hw field per candidate.
        z_all = coarse_noise(seeds, hw, k + _TAIL_SLOTS, device)  # (hw * (K + 2), M)
        one = torch.ones(1, hw * k, device=device)
        rows = torch.arange(hw * (k + _TAIL_SLOTS), device=device).view(hw, -1)
        rows, rows_race, rows_unif = rows[:, :k].reshape(1, -1), rows[:, k][None], rows[:, k + 1][None]
        wts, wts_tail = one, one[:, :hw]
    else:
        interp = _Interp(h, w, correlation, device, regions, region_share)
        cells = interp.cells
        corners = interp.index.shape[0]
        rows = (idx * cells + interp.index.unsqueeze(-1)).reshape(corners, -1)  # (c, hw*K)
        wts = interp.weight.repeat_interleave(k, dim=1)  # (c, hw*K)
        rows_race, rows_unif = interp.index + q * cells, interp.index + (q + 1) * cells
        wts_tail = interp.weight
        z_all = _cached_noise(seeds, q + _TAIL_SLOTS, cells, device)  # (slots * cells, M)

    # Exponential race among each pixel's K bins: argmin_k E_k / p_k with E_k = -log Phi(z_k),
    # in bands of pixels small enough for the (pixels, K, M) intermediate to stay in cache.
    best = p_top.new_empty(hw, m)
    top_bin = idx.new_empty(hw, m)
    band = max(1, _BAND_ELEMS // (k * m))
    for p0 in range(0, hw, band):
        p1 = min(hw, p0 + band)
        z = _interpolate(z_all, rows[:, p0 * k : p1 * k], wts[:, p0 * k : p1 * k])
        race = exp_from_normal(z).view(p1 - p0, k, m).mul_(inv_top[p0:p1])  # (band, K, M)
        torch.min(race, 1, out=(best[p0:p1], top_bin[p0:p1]))
    top_bin = idx.gather(1, top_bin)
    # The tail entrant, then a bin from the tail distribution (inverse CDF) where it wins.
    zt = _interpolate(z_all, rows_race, wts_tail)
    tail_wins = exp_from_normal(zt).mul_(inv_tail) < best
    u = torch.special.ndtr(_interpolate(z_all, rows_unif, wts_tail))
    tail_bin = torch.searchsorted(tail_cdf, u.mul_(tail_mass)).clamp_max_(q - 1)
    b = torch.where(tail_wins, tail_bin, top_bin)  # (hw, M)
    loglik = (lt.gather(1, b) - lse).mean(0)
    return Draws(b.T.reshape(m, h, w).contiguous(), loglik)


# -------------------------------------------------------- independent ---


def independent_samples(
    logits: torch.Tensor, centres: torch.Tensor, n: int, T: float = 1.0, seed: int = 0
) -> torch.Tensor:
    """Per-pixel independent samples of ``p^(1/T)``, the evaluation baseline.

    Args:
        logits: ``(1, Q, h, w)``; centres ``(Q, 2)``.
    Returns:
        ab ``(n, 2, h, w)``: bin centres drawn by inverse-CDF sampling, independently per pixel.
    """
    check_logits(logits, centres)
    if T <= 0:
        raise ValueError("temperature must be positive")
    _, q, h, w = logits.shape
    with torch.no_grad():
        p = torch.softmax(logits[0].reshape(q, -1).float() / T, dim=0).T.contiguous()  # (hw, Q)
        cdf = p.cumsum(1)
        gen = torch.Generator().manual_seed(int(seed))
        u = torch.rand(h * w, n, generator=gen).to(logits.device) * cdf[:, -1:]
        k = torch.searchsorted(cdf, u).clamp_max(q - 1)  # (hw, n)
        ab = centres.float().to(logits.device)[k.T]  # (n, hw, 2)
    return ab.permute(0, 2, 1).reshape(n, 2, h, w).contiguous()
