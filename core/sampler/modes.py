"""Object-level draws: one colour mode per object, drawn from the object's pooled marginal.

A colour must be likely for a region *as a whole*, not for one pixel of it, so draws
are made on pooled distributions ``P_R = mean over pixels of p(k | x)``:

- **modes**: the neutral bins form one mode; the chromatic bins are grouped by hue
  sector, and neighbouring sectors merge into one hue mode up to a local maximum of
  mass. A mode's mass is its summed probability, its colour the probability-weighted
  mean of its bins (the chroma the marginals expect given that hue). Modes lighter than
  :data:`MIN_MODE_MASS` are never drawn.
- **draw**: a coarse region (a whole object) draws one mode with probability
  ``mass^(1/T)`` (renormalised over the eligible modes), so ``T`` controls how
  adventurous the draws are. Each fine region inside it (a part) takes that colour, in
  its own shade, when its own pooled marginal gives it at least :data:`ACCEPT_RATIO` of
  its favourite mode's mass; otherwise (a part the merge got wrong) it draws its own.
- **pixels**: every pixel's marginal is re-weighted toward its region's drawn colour,
  ``p'(k) ∝ p(k) (ε + exp(-|c_k - c|² / 2σ²))``, the same soft pull a hint applies,
  and the pixel takes the mean of ``p'``: the region's colour with the pixel's own
  shading of it, and the pixel's own marginal where it has nothing near the draw.

Draws use a CPU ``torch.Generator`` per candidate seed, so a seed reproduces its
result on any device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .objects import ObjectRegions

MIN_MODE_MASS = 0.08  # pooled probability below which a mode is never drawn
MODE_RADIUS = 20.0  # a part's mode this close (ab) to its object's drawn colour is "the same colour"
ACCEPT_RATIO = 0.4  # a part follows its object's colour if it has this share of its top mode's mass
NEUTRAL_CHROMA = 8.0  # bins closer than this to gray form the neutral mode
HUE_SECTORS = 12  # hue sectors of 30 degrees, merged into hue modes
# Where a shade lies between its mode's mean (0) and the drawn bin (1); on dev 0.6 adds ~0 ab
# of diversity to the results, 1.0 adds ~5 ab and +0.6 dB best-of-8.
SHADE_SHARE = 1.0
PULL_SIGMA = 12.0  # ab width of the pull toward the drawn colour
PULL_FLOOR = 1e-3  # keeps a pixel's own marginal where it has no mass near the draw


@dataclass(frozen=True)
class RegionModes:
    """Modes of the pooled marginals of ``R`` regions (``M`` = most modes of any region).

    colour: ``(R, M, 2)`` ab; mass: ``(R, M)`` pooled probability, 0 where a region has
    fewer modes; heaviest first; pooled: ``(R, Q)`` the pooled distributions; key: ``(R, M)``
    int64, which mode it is (0 neutral, 1 + the hue sector it peaks in): the order draws
    lay the modes out in, so a small change of the masses moves few draws (see :func:`_choose`);
    member: ``(R, Q)`` int64, the key of the mode each bin belongs to.
    """

    colour: torch.Tensor
    mass: torch.Tensor
    pooled: torch.Tensor
    key: torch.Tensor
    member: torch.Tensor


def neighbour_matrix(centres: torch.Tensor, radius: float) -> torch.Tensor:
    """``(Q, Q)`` bool: bins within ``radius`` of each other (self included)."""
    c = centres.float()
    return torch.cdist(c, c) <= radius


def pooled_marginals(probs: torch.Tensor, labels: torch.Tensor, n: int) -> torch.Tensor:
    """Mean distribution per region: probs ``(hw, Q)``, labels ``(hw,)`` in ``0..n-1`` -> ``(n, Q)``."""
    out = torch.zeros(n, probs.shape[1], device=probs.device, dtype=probs.dtype)
    out.index_add_(0, labels, probs)
    count = torch.bincount(labels, minlength=n).clamp_min(1).to(probs)
    return out / count[:, None]


def bin_groups(centres: torch.Tensor) -> torch.Tensor:
    """Group of every bin ``(Q,)``: 0 = neutral (chroma below :data:`NEUTRAL_CHROMA`),
    ``1..HUE_SECTORS`` = hue sector of the chromatic bins."""
    c = centres.float()
    chroma = c.norm(dim=1)
    hue = torch.atan2(c[:, 1], c[:, 0]) % (2 * math.pi)
    sector = (hue / (2 * math.pi / HUE_SECTORS)).long().clamp_max(HUE_SECTORS - 1) + 1
    return torch.where(chroma < NEUTRAL_CHROMA, torch.zeros_like(sector), sector)


def region_modes(pooled: torch.Tensor, centres: torch.Tensor) -> RegionModes:
    """Colour modes of each pooled distribution ``(R, Q)``.

    The neutral bins are one mode; the chromatic bins are binned by hue sector and
    every sector climbs to its heavier neighbouring sector (circularly, on lightly
    smoothed masses) until a local maximum: sectors reaching the same maximum form
    one hue mode. A mode's colour is the probability-weighted mean of its bins, so its
    chroma is what the marginals expect *given* that hue (the mean of the whole
    distribution mixes hues and is greyer than any of them).
    """
    r, q = pooled.shape
    dev = pooled.device
    groups = bin_groups(centres).to(dev)
    g = HUE_SECTORS + 1
    onehot = F.one_hot(groups, g).to(pooled)  # (Q, G)
    gmass = pooled @ onehot  # (R, G)
    hue = gmass[:, 1:]
    # Light smoothing joins a hue split across two sectors; an empty sector between two
    # hues stays a valley (0.25 * 2 peaks < 1 peak), so they stay two modes.
    smooth = hue + 0.25 * (hue.roll(1, 1) + hue.roll(-1, 1))
    idx = torch.arange(HUE_SECTORS, device=dev)
    # Self first: argmax takes the first maximum, so a sector only climbs to a strictly heavier one.
    cand = torch.stack([idx, idx.roll(1), idx.roll(-1)], 1)  # (S, 3): self, left, right
    parent = (
        cand[None].expand(r, -1, -1).gather(2, smooth[:, cand].argmax(-1, keepdim=True)).squeeze(-1)
    )  # (R, S)
    for _ in range(HUE_SECTORS):
        nxt = parent.gather(1, parent)
        if torch.equal(nxt, parent):
            break
        parent = nxt
    # Mode of every group: 0 for neutral, 1 + root sector for the hue sectors.
    mode_of_group = torch.cat([torch.zeros(r, 1, dtype=torch.long, device=dev), parent + 1], 1)  # (R, G)
    mode_of_bin = mode_of_group[:, groups]  # (R, Q)
    mass = torch.zeros(r, g, device=dev, dtype=pooled.dtype).scatter_add_(1, mode_of_bin, pooled)
    c = centres.float().to(dev)
    num = torch.zeros(r, g, 2, device=dev).index_put_(
        (torch.arange(r, device=dev)[:, None].expand(r, q), mode_of_bin),
        pooled[..., None] * c[None],
        accumulate=True,
    )
    col = num / mass.clamp_min(1e-12)[..., None]
    most = int((mass > 0).sum(1).max())
    order = torch.argsort(mass, dim=1, descending=True, stable=True)[:, :most]
    return RegionModes(
        col.gather(1, order[..., None].expand(-1, -1, 2)), mass.gather(1, order), pooled, order, mode_of_bin
    )


def _choose(modes: RegionModes, T: float, u: torch.Tensor) -> torch.Tensor:
    """Mode index per region with probability ∝ mass^(1/T) over the eligible modes
    (mass >= :data:`MIN_MODE_MASS`).

    ``u`` ``(R,)`` or ``(D, R)`` (one row per draw) uniform in [0, 1) -> indices of the same
    shape. Rows with no eligible mode take their heaviest mode.
    The modes are laid out along ``u`` by their key (hue order), not by mass: a hint
    elsewhere that nudges this region's masses (or swaps two near-equal ones) then changes
    the draw only for the seeds whose ``u`` falls near a boundary, not for most of them.
    """
    mass = modes.mass
    ok = mass >= MIN_MODE_MASS
    ok[:, 0] |= ~ok.any(1)
    w = torch.where(ok, mass.clamp_min(1e-12) ** (1.0 / T), torch.zeros_like(mass))
    by_key = torch.argsort(modes.key, dim=1, stable=True)
    cdf = w.gather(1, by_key).cumsum(1)  # (R, M): the same for every draw
    uu = u.reshape(-1, mass.shape[0]).T  # (R, D)
    v = (uu * cdf[:, -1:]).contiguous()
    j = torch.searchsorted(cdf, v, right=True).clamp_max(mass.shape[1] - 1)  # skips empty modes
    return by_key.gather(1, j).T.reshape(u.shape)


def _shade(
    modes: RegionModes, centres: torch.Tensor, k: torch.Tensor, T: float, u: torch.Tensor
) -> torch.Tensor:
    """A shade inside each region's chosen mode ``k``: ab ``(..., R, 2)``.

    One bin of the mode is drawn with probability ∝ p^(1/T) and the result lies
    :data:`SHADE_SHARE` of the way from the mode's mean to it: navy or royal blue for a
    blue coat, not just the one blue every draw shares. ``k`` and ``u`` (uniform in
    [0, 1)) are ``(R,)`` or ``(D, R)``, one row per draw.
    """
    r, m = modes.mass.shape
    kk = k.reshape(-1, r)  # (D, R)
    rows = torch.arange(r, device=k.device).expand_as(kk)
    # Per region and mode, the cumulative p^(1/T) over the mode's bins (bins in index order).
    inside = modes.member[:, None, :] == modes.key[:, :, None]  # (R, M, Q)
    p = modes.pooled.clamp_min(1e-12) ** (1.0 / T)
    cdf = torch.where(inside, p[:, None, :], torch.zeros_like(p)[:, None, :]).cumsum(2).reshape(r * m, -1)
    cdf = cdf.index_select(0, (rows * m + kk).reshape(-1))  # (D R, Q)
    v = (u.reshape(-1, 1) * cdf[:, -1:]).contiguous()
    b = torch.searchsorted(cdf, v, right=True).clamp_max(cdf.shape[1] - 1).squeeze(1)
    mean = modes.colour[rows.reshape(-1), kk.reshape(-1)]  # (D R, 2)
    out = mean + SHADE_SHARE * (centres[b] - mean)
    return out.reshape(*k.shape, 2)


@dataclass(frozen=True)
class ObjectDraws:
    """``D`` candidate draws: colour per fine region ``(D, F, 2)``, log-likelihood ``(D,)``."""

    fine_colour: torch.Tensor
    loglik: torch.Tensor


def draw_objects(
    probs: torch.Tensor,
    centres: torch.Tensor,
    regions: ObjectRegions,
    seeds: list[int],
    T: float,
) -> ObjectDraws:
    """One colour per object for every candidate seed.

    Args:
        probs: ``(hw, Q)`` marginals at T = 1 (already hint-reweighted).
        centres: ``(Q, 2)`` ab bin centres.
        regions: :func:`~.objects.object_regions` of the image.
        seeds: one integer per candidate.
        T: draw temperature.
    Returns:
        :class:`ObjectDraws`; the log-likelihood is the area-weighted mean log pooled mass
        of the modes drawn for the fine regions.
    """
    if T <= 0:
        raise ValueError("temperature must be positive")
    dev = probs.device
    fine = regions.fine.reshape(-1).to(dev)
    c_of_f = regions.coarse_of_fine.to(dev)
    nf, nc = regions.n_fine, regions.n_coarse
    cm = region_modes(pooled_marginals(probs, c_of_f[fine], nc), centres)
    fm = region_modes(pooled_marginals(probs, fine, nf), centres)
    area_f = torch.bincount(fine, minlength=nf).to(probs) / fine.numel()
    rows_f = torch.arange(nf, device=dev)
    c = centres.float().to(dev)
    # Modes (C, F), then shades (C, F) per draw: one generator per seed, so a seed's draw does
    # not depend on which others are drawn with it; the draws are then made all at once.
    u = torch.stack(
        [torch.rand(2 * (nc + nf), generator=torch.Generator().manual_seed(int(sd))) for sd in seeds]
    ).to(dev)  # (D, 2 (C + F))
    kc = _choose(cm, T, u[:, :nc])  # (D, C)
    mode_c = cm.colour[torch.arange(nc, device=dev), kc]  # (D, C, 2)
    u_shade = u[:, nc + nf : 2 * nc + nf]  # one shade quantile per object, shared by its parts
    # A part takes its object's colour (in its own shade: its nearest mode, at the object's
    # shade quantile) when its own pooled marginal finds that colour nearly as likely as
    # its favourite; otherwise (fruit merged with the wall behind it) it draws its own.
    dist = (fm.colour[None] - mode_c[:, c_of_f][:, :, None, :]).norm(dim=-1)  # (D, F, M)
    dist = torch.where(fm.mass >= MIN_MODE_MASS, dist, torch.full_like(dist, torch.inf))
    dist[..., 0] = torch.where(torch.isinf(dist).all(-1), 0.0, dist[..., 0])  # no eligible mode
    match = dist.argmin(-1)  # (D, F)
    accept = (dist.gather(-1, match[..., None]).squeeze(-1) <= MODE_RADIUS) & (
        fm.mass[rows_f, match] >= ACCEPT_RATIO * fm.mass[:, 0]
    )
    own = _choose(fm, T, u[:, nc : nc + nf])
    kf = torch.where(accept, match, own)
    # One shade per part: at its object's quantile when it follows, at its own otherwise.
    colours = _shade(fm, c, kf, T, torch.where(accept, u_shade[:, c_of_f], u[:, 2 * nc + nf :]))
    logliks = (area_f * fm.mass[rows_f, kf].clamp_min(1e-12).log()).sum(-1)
    return ObjectDraws(colours, logliks)


def colour_maps(draws: ObjectDraws, regions: ObjectRegions, h: int, w: int) -> torch.Tensor:
    """Per-pixel drawn colour ``(D, 2, h, w)`` (flat within each fine region)."""
    fine = regions.fine.reshape(-1).to(draws.fine_colour.device)
    return draws.fine_colour[:, fine].permute(0, 2, 1).reshape(-1, 2, h, w)


def pull_toward(
    probs: torch.Tensor, centres: torch.Tensor, colours: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Pixel colours consistent with their region's drawn colour and their own marginal.

    Args:
        probs: ``(hw, Q)`` marginals; centres ``(Q, 2)``.
        colours: ``(D, F, 2)`` drawn ab per draw and region (:attr:`ObjectDraws.fine_colour`).
        labels: ``(hw,)`` int64 region of every pixel, ``0..F-1``.
    Returns:
        ``(D, 2, hw)``: mean ab of ``p(k) (ε + exp(-|c_k - colour|² / 2σ²))``.
    """
    d, f, _ = colours.shape
    hw, q = probs.shape
    dev = probs.device
    c = centres.float().to(dev)
    # The pull kernel is flat within a region, so each region's pixels need one product with
    # its (Q, 3D) table of kernel-weighted [a, b, 1]: every marginal is read once for all draws.
    kern = torch.cdist(colours.float(), c[None].expand(d, -1, -1)).square_()  # (D, F, Q)
    kern = kern.mul_(-0.5 / PULL_SIGMA**2).exp_().add_(PULL_FLOOR)
    c1 = torch.cat([c, torch.ones(q, 1, device=dev)], 1)  # (Q, 3)
    table = (kern.permute(1, 2, 0)[..., None] * c1[None, :, None, :]).reshape(f, q, 3 * d)
    order = torch.argsort(labels, stable=True)
    sorted_probs = probs[order]
    acc = torch.empty(hw, 3 * d, device=dev)
    start = 0
    for region, n in enumerate(torch.bincount(labels, minlength=f).tolist()):
        if n:
            torch.mm(sorted_probs[start : start + n], table[region], out=acc[start : start + n])
            start += n
    sums = torch.empty_like(acc)
    sums[order] = acc
    sums = sums.view(hw, d, 3).transpose(0, 1)  # (D, hw, 3)
    return (sums[..., :2] / sums[..., 2:].clamp_min(1e-20)).transpose(1, 2)
