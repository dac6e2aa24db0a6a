"""Global, edge-aware propagation of hint colours (Levin et al. 2004 with a prior).

At working resolution ``(h, w)``, with ``n = h w`` pixels, the hints are spread by one
sparse system (per right-hand side)::

    (G + diag(rho) + diag(alpha)) X = alpha * Y

- ``G = I - W`` with Levin et al.'s row-stochastic weights of the 8-neighbour grid (the
  authors' locally adaptive ``exp(-(L_x - L_y)^2 / (0.6 var))``) raised to ``EDGE_POWER``,
  cut by ``REGION_CUT`` between two of the sampler's objects (merged on the network's
  marginals and on L* edges), rows renormalised: "same object" counts for more than "same
  gray". An object whose painted colours span more than ``SPLIT_SPREAD`` is also cut at
  its parts' borders (the sampler's fine objects): two clearly different colours in one
  object say it has parts. Optionally also times the marginals' Bhattacharyya coefficient
  ``BC(p_x, p_y)^MARGINAL_POWER``; with the cut in place it changed neither the hint table
  nor the recolour probe on dev (to 0.01 dB / 0.002) and cost ~150 ms per photo, so it is
  off by default. (``affinity="gauss"``: the graph Laplacian ``D - W`` of fixed-width
  Gaussian weights instead.)
- ``alpha`` is the hint weight: large where paint is (``HINT_WEIGHT`` times paint x
  strength), 0 elsewhere; ``Y`` the hints' colours (columns), read where ``alpha > 0``.
- ``rho = ABSORB / reach^2 * (PRIOR_FLOOR + conf(x))`` is the network's prior: a weak pull
  of every pixel back to the network's own prediction, stronger where the network is
  confident (``conf``: the annealed mean's probability mass within one bin radius).
  With ``Y = 1`` the solution ``c(x)`` in [0, 1] is the *confidence* of the hints at
  ``x`` (the chance that a random walk from ``x`` meets paint before the prior absorbs
  it); ``X / c`` is their colour there. The answer at ``x`` is then
  ``c t + (1 - c) (network)``: Levin's solution where the hints are, the network's
  elsewhere; pixels across a luminance or semantic edge get little of ``c``.
- The network's own colours under the paint are spread as two more columns of ``Y``; the
  hints' engine adds ``detail`` times the network's colour minus that spread to ``t``, so
  the target is not flat between hints (:class:`PropagationParams`).

The constants (:class:`PropagationParams`) were chosen on the dev set with the hint table
of ``polychrome eval`` (docs/RESULTS.md, section *Hints*).

The factorisation (sparse LU in a nested-dissection order, as in :mod:`levin`) takes a
few ms at the usual working size (64 x 85); grids larger than :data:`MAX_SOLVE_PIXELS`
are solved on a coarser grid and the solution is upsampled bilinearly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import sparse
from scipy.sparse.linalg import splu

from .levin import affinity_matrix, nested_dissection_order

MAX_SOLVE_PIXELS = 40_000  # above this the solve runs on a coarser grid


@dataclass(frozen=True)
class PropagationParams:
    """Constants of the propagation (chosen on the dev set with ``polychrome eval``)."""

    affinity: str = "levin"  # "levin": the authors' locally adaptive weights; "gauss": fixed sigma_l
    sigma_l: float = 4.0  # "gauss": L* difference at which the affinity falls to exp(-1/2)
    marginal_power: float = 0.0  # exponent of the marginals' Bhattacharyya coefficient (see below)
    # Prior absorption per pixel at reach 1, chosen on dev with the hint table *and* the
    # recolour probe (core/eval_recolour.py): 1e-5 scored best on PSNR against random GT
    # patches but let one stroke turn 28 % of the rest of a photo its colour.
    absorb: float = 3e-5
    prior_floor: float = 0.05  # absorption where the network is not confident at all
    hint_weight: float = 1e3  # alpha at full paint and strength
    # "levin": exponent of the authors' weights before the rows are renormalised; > 1 cuts the
    # weak links across edges (Levin's weights give every edge about the same 5e-4) much more
    # than the links inside a region, so a far-reaching hint does not leak into its neighbours.
    edge_power: float = 1.5  # chosen on dev
    # Non-local links: each pixel to its KNN nearest pixels in (marginals, L*, position) space,
    # so a hint also reaches parts of its kind of object that an edge or occluder cuts off.
    knn: int = 0
    knn_weight: float = 0.2  # weight of each non-local link relative to a grid neighbour's
    knn_l_scale: float = 10.0  # L* units per feature unit
    knn_xy_scale: float = 0.5  # image short sides per feature unit
    knn_dims: int = 8  # principal components of sqrt(marginals)
    # Links between two of the sampler's objects (core/sampler/objects.py: merged on marginal
    # agreement and L* edges) are weakened by this factor, so a hint fills its object and stops
    # at the object's border even where the lightness runs on; 1 = no cut.
    region_cut: float = 1e-2
    region_level: str = "coarse"  # "coarse" (whole objects) or "fine" (their parts)
    # An object painted in colours further apart than this (saturation ab units: ab / L*^0.25,
    # about ab / 2.7 at mid-gray; hint_geometry.saturation_ab) is cut at its parts' borders
    # too (the sampler's fine objects): two clearly different colours in one object say it
    # has parts. Chosen on dev (8: −0.1 dB at 5 hints; 12-16 best at every count; 32 ≈ off).
    # 0 = never.
    split_spread: float = 16.0
    # Share of the network's own colour variation kept under the hints: the target is the
    # hints' blend plus ``detail`` times (the network's plain mean minus what the same
    # propagation makes of that mean under the paint), in saturation ab. The blend alone is
    # flat between hints; chosen on dev (0.6: +0.17 dB at 20 and 50 hints; 1: -0.6 dB).
    detail: float = 0.6


_OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))  # each undirected 8-neighbour edge once


def _pairs(h: int, w: int, dy: int, dx: int) -> tuple[slice, slice, slice, slice]:
    ys0, ys1 = slice(0, h - dy), slice(dy, h)
    xs0 = slice(max(0, -dx), w - max(0, dx))
    xs1 = slice(max(0, dx), w - max(0, -dx))
    return ys0, xs0, ys1, xs1


def laplacian(L: np.ndarray, probs: np.ndarray | None, params: PropagationParams) -> sparse.csr_matrix:
    """Graph Laplacian ``(n, n)`` of the 8-neighbour grid of ``L`` ``(h, w)`` (L*).

    ``probs`` ``(Q, h, w)``: network marginals for the semantic affinity (or None).
    Diagonal edges weigh ``1 / sqrt(2)``.
    """
    h, w = L.shape
    idx = np.arange(h * w).reshape(h, w)
    sq = np.sqrt(probs) if probs is not None and params.marginal_power > 0 else None
    rows, cols, vals = [], [], []
    for dy, dx in _OFFSETS:
        ys0, xs0, ys1, xs1 = _pairs(h, w, dy, dx)
        dL = L[ys0, xs0] - L[ys1, xs1]
        wt = np.exp(-(dL * dL) / (2.0 * params.sigma_l**2))
        if sq is not None:
            bc = np.clip((sq[:, ys0, xs0] * sq[:, ys1, xs1]).sum(0), 0.0, 1.0)
            wt = wt * bc**params.marginal_power
        if dy and dx:
            wt = wt / math.sqrt(2.0)
        rows.append(idx[ys0, xs0].ravel())
        cols.append(idx[ys1, xs1].ravel())
        vals.append(wt.ravel())
    r, c, v = (np.concatenate(x) for x in (rows, cols, vals))
    Wm = sparse.coo_matrix((v, (r, c)), shape=(h * w, h * w)).tocsr()
    Wm = Wm + Wm.T
    deg = np.asarray(Wm.sum(1)).ravel()
    return (sparse.diags(deg) - Wm).tocsc()


def _levin_links(
    L: np.ndarray, probs: np.ndarray | None, params: PropagationParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levin's links of ``L`` ``(h, w)`` (L*): rows, columns and weights (``edge_power`` and the
    marginals' term applied, not yet cut or renormalised)."""
    Wm = affinity_matrix(L / 100.0).tocoo()
    v = Wm.data**params.edge_power
    if probs is not None and params.marginal_power > 0:
        sq = np.sqrt(probs.reshape(probs.shape[0], -1))
        bc = np.clip(np.einsum("qi,qi->i", sq[:, Wm.row], sq[:, Wm.col]), 1e-12, 1.0)
        v = v * bc**params.marginal_power
    return Wm.row, Wm.col, v


def _stochastic_operator(
    row: np.ndarray, col: np.ndarray, v: np.ndarray, n: int, renormalise: bool
) -> sparse.csc_matrix:
    if renormalise:
        rs = np.bincount(row, weights=v, minlength=n)
        v = v / np.maximum(rs[row], 1e-300)
    Wn = sparse.csc_matrix((v, (row, col)), shape=(n, n))
    return (sparse.identity(n, format="csc") - Wn).tocsc()


def levin_operator(
    L: np.ndarray,
    probs: np.ndarray | None,
    params: PropagationParams,
    regions: np.ndarray | None = None,
) -> sparse.csc_matrix:
    """``I - W`` ``(n, n)`` with Levin's row-stochastic weights from ``L`` ``(h, w)`` (L*), each
    optionally times the marginals' Bhattacharyya coefficient and, between two of the
    ``regions`` ``(h, w)`` (int labels), times ``params.region_cut`` (rows renormalised)."""
    row, col, v = _levin_links(L, probs, params)
    cut = regions is not None and params.region_cut != 1.0
    if cut:
        lab = np.asarray(regions).reshape(-1)
        v = np.where(lab[row] != lab[col], v * params.region_cut, v)
    renorm = cut or params.edge_power != 1.0 or (probs is not None and params.marginal_power > 0)
    return _stochastic_operator(row, col, v, L.size, renorm)


class _SplitCuts:
    """Levin's links with the object cut, where chosen objects are also cut at their parts'
    borders: ``operator(split)`` for a boolean ``split`` over the coarse labels."""

    def __init__(
        self,
        L: np.ndarray,
        probs: np.ndarray | None,
        params: PropagationParams,
        coarse: np.ndarray,
        fine: np.ndarray,
    ) -> None:
        self.row, self.col, self.v = _levin_links(L, probs, params)
        self.n, self.cut = L.size, params.region_cut
        self.coarse = np.asarray(coarse).reshape(-1)
        fine_ = np.asarray(fine).reshape(-1)
        self.across = self.coarse[self.row] != self.coarse[self.col]
        self.parts = ~self.across & (fine_[self.row] != fine_[self.col])

    def operator(self, split: np.ndarray | None = None) -> sparse.csc_matrix:
        cut = self.across if split is None else self.across | (self.parts & split[self.coarse[self.row]])
        return _stochastic_operator(
            self.row, self.col, np.where(cut, self.v * self.cut, self.v), self.n, True
        )

    def split_objects(self, alpha: np.ndarray, colours: np.ndarray, spread: float) -> np.ndarray:
        """Boolean ``(labels,)``: objects whose painted colours ``(2, h, w)`` (where ``alpha > 0``)
        span more than ``spread`` in either direction of ab (the bounding box's diagonal)."""
        painted = np.asarray(alpha).reshape(-1) > 0
        lab = self.coarse[painted]
        m = int(self.coarse.max()) + 1
        c = np.asarray(colours, np.float64).reshape(2, -1)[:, painted]
        lo = np.full((2, m), np.inf)
        hi = np.full((2, m), -np.inf)
        for k in range(2):
            np.minimum.at(lo[k], lab, c[k])
            np.maximum.at(hi[k], lab, c[k])
        box = np.where(np.isfinite(lo), hi - lo, 0.0)
        return np.hypot(box[0], box[1]) > spread


def knn_laplacian(L: np.ndarray, probs: np.ndarray, params: PropagationParams) -> sparse.csc_matrix:
    """Laplacian ``(n, n)`` of the non-local KNN graph (weights ``knn_weight * exp(-d^2)``)."""
    from scipy.spatial import cKDTree

    h, w = L.shape
    n = h * w
    sq = np.sqrt(probs.reshape(probs.shape[0], -1)).T  # (n, Q): Hellinger geometry
    sq = sq - sq.mean(0)
    _, _, vt = np.linalg.svd(sq[:: max(1, n // 4000)], full_matrices=False)
    feats = [sq @ vt[: params.knn_dims].T]
    yy, xx = np.mgrid[0:h, 0:w]
    short = min(h, w)
    feats.append((L.reshape(-1, 1)) / params.knn_l_scale)
    feats.append(np.stack([yy.ravel(), xx.ravel()], 1) / (params.knn_xy_scale * short))
    f = np.concatenate(feats, 1)
    d, j = cKDTree(f).query(f, k=params.knn + 1)
    d, j = d[:, 1:], j[:, 1:]
    i = np.repeat(np.arange(n), params.knn)
    v = params.knn_weight * np.exp(-(d.ravel() ** 2))
    Wm = sparse.coo_matrix((v, (i, j.ravel())), shape=(n, n)).tocsr()
    Wm = 0.5 * (Wm + Wm.T)
    deg = np.asarray(Wm.sum(1)).ravel()
    return (sparse.diags(deg) - Wm).tocsc()


class Propagator:
    """The hint system of one image at working resolution (Laplacian built once).

    Args:
        L: ``(h, w)`` L* at working resolution.
        probs: ``(Q, h, w)`` network marginals (semantic affinity) or None.
        confidence: ``(h, w)`` network confidence in [0, 1] (prior strength) or None.
        regions: ``(h, w)`` int object labels whose borders the hints cross weakly, or None.
        parts: ``(h, w)`` int labels of the objects' parts (each within one of ``regions``):
            an object painted in colours further apart than ``params.split_spread`` is cut
            at these borders too (:meth:`solve` with ``colours``), or None.
    """

    def __init__(
        self,
        L: np.ndarray,
        probs: np.ndarray | None = None,
        confidence: np.ndarray | None = None,
        params: PropagationParams | None = None,
        regions: np.ndarray | None = None,
        parts: np.ndarray | None = None,
    ) -> None:
        self.params = params or PropagationParams()
        L = np.asarray(L, np.float64)
        self.shape = L.shape
        h, w = L.shape
        self.factor = max(1, math.ceil(math.sqrt(h * w / MAX_SOLVE_PIXELS)))
        conf = np.zeros_like(L) if confidence is None else np.asarray(confidence, np.float64)
        if self.factor > 1:  # coarse grid: area averages
            L, conf = self._down(L), self._down(conf)
            probs = None if probs is None else np.stack([self._down(p) for p in probs])
            regions = None  # labels do not average; the coarse grid goes without the cut
        self.coarse_shape = L.shape
        self._split: _SplitCuts | None = None
        self._split_cache: dict[bytes, sparse.csc_matrix] = {}
        if (
            self.params.affinity == "levin"
            and regions is not None
            and parts is not None
            and self.params.split_spread > 0
            and self.params.region_cut != 1.0
        ):
            self._split = _SplitCuts(L, probs, self.params, regions, parts)
            self.lap = self._split.operator()
        elif self.params.affinity == "levin":
            self.lap = levin_operator(L, probs, self.params, regions)
        else:
            self.lap = laplacian(L, probs, self.params)
        if self.params.knn > 0 and probs is not None:
            self.lap = (self.lap + knn_laplacian(L, probs, self.params)).tocsc()
        self.prior = (self.params.prior_floor + conf).ravel()
        self.order = nested_dissection_order(*L.shape)
        self._perm = sparse.csc_matrix(
            (np.ones(self.order.size), (np.arange(self.order.size), self.order)),
            shape=(self.order.size, self.order.size),
        )
        self._lap_perm = (self._perm @ self.lap @ self._perm.T).tocsc()

    def _down(self, x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(x, np.float64))[None, None]
        ch = math.ceil(x.shape[0] / self.factor)
        cw = math.ceil(x.shape[1] / self.factor)
        return F.adaptive_avg_pool2d(t, (ch, cw))[0, 0].numpy()

    def _up(self, x: np.ndarray) -> np.ndarray:
        """``(C, ch, cw)`` coarse -> ``(C, h, w)`` bilinear."""
        t = torch.from_numpy(np.ascontiguousarray(x))[None]
        return F.interpolate(t, size=self.shape, mode="bilinear", align_corners=False)[0].numpy()

    def solve(
        self, alpha: np.ndarray, rhs: np.ndarray, reach: float = 1.0, colours: np.ndarray | None = None
    ) -> np.ndarray:
        """``X = (G + diag(rho / reach^2) + diag(alpha))^-1 (alpha * rhs)``.

        Args:
            alpha: ``(h, w)`` hint weights >= 0 (not all 0).
            rhs: ``(C, h, w)`` hint values, read where ``alpha > 0``.
            reach: propagation length multiplier (> 0).
            colours: ``(2, h, w)`` the painted colours (saturation ab, read where ``alpha > 0``):
                objects painted in several colours are cut at their parts' borders in ``G``.
        Returns:
            ``(C, h, w)`` float32.
        """
        alpha = np.asarray(alpha, np.float64)
        rhs = np.asarray(rhs, np.float64)
        lap_perm = self._lap_perm
        if self._split is not None and colours is not None:
            split = self._split.split_objects(alpha, colours, self.params.split_spread)
            if split.any():
                key = np.packbits(split).tobytes()
                if key not in self._split_cache:
                    if len(self._split_cache) >= 8:
                        self._split_cache.pop(next(iter(self._split_cache)))
                    op = self._split.operator(split)
                    self._split_cache[key] = (self._perm @ op @ self._perm.T).tocsc()
                lap_perm = self._split_cache[key]
        if self.factor > 1:
            # Paint keeps its total weight on the coarse grid (sums, not averages).
            a_sum = self._down(alpha) * self.factor**2
            rhs = np.stack([self._down(alpha * r) for r in rhs]) * self.factor**2 / np.maximum(a_sum, 1e-30)
            alpha = a_sum
        rho = self.params.absorb / max(reach, 1e-3) ** 2 * self.prior
        diag = (rho + alpha.ravel())[self.order]
        A = (lap_perm + sparse.diags(diag)).tocsc()
        b = (alpha.ravel()[None] * rhs.reshape(rhs.shape[0], -1)).T[self.order]  # (n, C)
        # Diagonally dominant M-matrix: no pivoting needed, keep the nested-dissection order.
        lu = splu(A, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        x = np.empty_like(b)
        x[self.order] = lu.solve(np.ascontiguousarray(b))
        out = x.T.reshape(rhs.shape[0], *self.coarse_shape).astype(np.float32)
        return self._up(out) if self.factor > 1 else out
