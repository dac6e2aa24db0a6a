"""Regions that are likely one object, at two scales, for object-level draws.

A region of one gray is not an object, and an object is rarely one gray. Objects
are built bottom-up at working resolution:

1. **superpixels**: Felzenszwalb-Huttenlocher on L* at a small scale, so their
   borders follow luminance edges, cut by a coarse grid so equal grays start apart;
2. **merging by agreement**: neighbouring superpixels are merged greedily (lowest
   cost first, costs recomputed after each merge) where their *pooled* marginals
   agree (Jensen-Shannon divergence of the mean distributions) and the luminance
   step across their shared border is small. Two thresholds of the same merge
   sequence give two nested levels: ``coarse`` (whole objects: a sky, a coat) and
   ``fine`` (their parts), so a part whose own marginals reject the object's colour
   can still choose its own.

Everything here is on CPU numpy: the graph has a few hundred nodes.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from skimage.segmentation import felzenszwalb

SUPERPIXEL_SCALE = 12.0  # Felzenszwalb scale on L*/100 at about 64 x 86 px: ~150-300 superpixels
SUPERPIXEL_MIN = 6
GRID = 8  # superpixels never span more than one GRID x GRID cell
EDGE_SCALE = 80.0  # L* step across a border that costs as much as total disagreement (JS = 1 bit)
# Merge cost thresholds of the two levels (JS in bits + edge term), chosen by looking at the
# objects of dev photos: parts (a sleeve, a patch of sky) and whole objects (a coat, the sky).
FINE_COST = 0.10
COARSE_COST = 0.25

_CACHE: OrderedDict[tuple, ObjectRegions] = OrderedDict()
_CACHE_SIZE = 8


@dataclass(frozen=True)
class ObjectRegions:
    """Two nested segmentations of the working-resolution image.

    fine: ``(h, w)`` int64 labels ``0..F-1``.
    coarse_of_fine: ``(F,)`` int64, the coarse region (``0..C-1``) each fine region lies in.
    """

    fine: torch.Tensor
    coarse_of_fine: torch.Tensor

    @property
    def n_fine(self) -> int:
        return int(self.coarse_of_fine.shape[0])

    @property
    def n_coarse(self) -> int:
        return int(self.coarse_of_fine.max()) + 1 if self.n_fine else 0

    @property
    def coarse(self) -> torch.Tensor:
        """``(h, w)`` coarse labels."""
        return self.coarse_of_fine.to(self.fine.device)[self.fine]


def _entropy_bits(p: np.ndarray) -> np.ndarray:
    """Entropy (bits) of distributions ``(..., Q)``."""
    return -(p * np.log2(np.maximum(p, 1e-12))).sum(-1)


def _border_stats(labels: np.ndarray, L: np.ndarray) -> dict[tuple[int, int], list[float]]:
    """Per pair of touching labels ``(i < j)``: [sum of |ΔL| over border pixel pairs, count]."""
    out: dict[tuple[int, int], list[float]] = {}
    for a, b, la, lb in (
        (labels[:, :-1], labels[:, 1:], L[:, :-1], L[:, 1:]),
        (labels[:-1, :], labels[1:, :], L[:-1, :], L[1:, :]),
    ):
        m = a != b
        i, j = np.minimum(a[m], b[m]), np.maximum(a[m], b[m])
        d = np.abs(la[m] - lb[m])
        key = i.astype(np.int64) * (labels.max() + 1) + j
        uniq, inv = np.unique(key, return_inverse=True)
        sums = np.bincount(inv, weights=d)
        counts = np.bincount(inv)
        n = labels.max() + 1
        for k, s, c in zip(uniq, sums, counts, strict=True):
            e = out.setdefault((int(k // n), int(k % n)), [0.0, 0.0])
            e[0] += float(s)
            e[1] += float(c)
    return out


def merge_levels(
    sp: np.ndarray, probs: np.ndarray, L: np.ndarray, thresholds: tuple[float, ...]
) -> list[np.ndarray]:
    """Greedy average-linkage merging of superpixels, read at several cost thresholds.

    Args:
        sp: ``(h, w)`` superpixel labels ``0..S-1``.
        probs: ``(h*w, Q)`` per-pixel marginals (rows sum to 1).
        L: ``(h, w)`` L*.
        thresholds: increasing merge costs; level ``t`` merges every pair cheaper than ``t``.
    Returns:
        One ``(S,)`` array per threshold: the compact region label of each superpixel.
    """
    s = int(sp.max()) + 1
    flat = sp.reshape(-1)
    size = np.bincount(flat, minlength=s).astype(np.float64)
    pooled = np.zeros((s, probs.shape[1]))
    np.add.at(pooled, flat, probs)
    border = _border_stats(sp, L)
    nbrs: list[dict[int, list[float]]] = [{} for _ in range(s)]
    for (i, j), st in border.items():
        nbrs[i][j] = st
        nbrs[j][i] = st

    dist = pooled / size[:, None]
    ent = _entropy_bits(dist)

    def costs(i: int, others: list[int]) -> np.ndarray:
        """Merge costs of ``i`` with each of ``others`` (vectorised: one call per merge)."""
        k = np.asarray(others, dtype=np.int64)
        js = _entropy_bits(0.5 * (dist[i] + dist[k])) - 0.5 * (ent[i] + ent[k])
        edge = np.array([nbrs[i][j][0] / max(nbrs[i][j][1], 1.0) for j in others]) / EDGE_SCALE
        return js + edge

    parent = np.arange(s)
    alive = np.ones(s, dtype=bool)
    version = np.zeros(s, dtype=np.int64)
    heap = []
    for i in range(s):
        up = [j for j in nbrs[i] if j > i]
        if up:
            heap += [(float(c), i, j, 0, 0) for c, j in zip(costs(i, up), up, strict=True)]
    heapq.heapify(heap)
    levels: list[np.ndarray] = []
    pending = list(thresholds)

    def snapshot() -> np.ndarray:
        root = parent.copy()
        while True:
            nxt = root[root]
            if np.array_equal(nxt, root):
                break
            root = nxt
        return np.unique(root, return_inverse=True)[1].astype(np.int64)

    while heap and pending:
        c, i, j, vi, vj = heapq.heappop(heap)
        if not (alive[i] and alive[j]) or vi != version[i] or vj != version[j]:
            continue
        while pending and c >= pending[0]:
            levels.append(snapshot())
            pending.pop(0)
        if not pending:
            break
        # Merge j into i: pooled mass, size and border statistics add up.
        pooled[i] += pooled[j]
        size[i] += size[j]
        alive[j] = False
        parent[j] = i
        for k, st in nbrs[j].items():
            if k == i:
                continue
            e = nbrs[i].setdefault(k, [0.0, 0.0])
            if e is not st:
                e[0] += st[0]
                e[1] += st[1]
            nbrs[k].pop(j, None)
            nbrs[k][i] = e
        nbrs[i].pop(j, None)
        nbrs[j] = {}
        version[i] += 1
        dist[i] = pooled[i] / size[i]
        ent[i] = _entropy_bits(dist[i])
        others = list(nbrs[i])
        if others:
            for c, k in zip(costs(i, others), others, strict=True):
                a, b = (i, k) if i < k else (k, i)
                heapq.heappush(heap, (float(c), a, b, int(version[a]), int(version[b])))
    while pending:
        levels.append(snapshot())
        pending.pop(0)
    return levels


def superpixels(L: np.ndarray) -> np.ndarray:
    """Superpixels ``(h, w)`` int64 ``0..S-1`` of L* ``(h, w)``: luminance segments cut by a grid.

    The grid (cells of :data:`GRID` px) bounds their size, so two areas of the same gray
    (a red and a green cloth) start apart and only merge if their marginals agree.
    """
    seg = felzenszwalb(
        np.ascontiguousarray(L / 100.0), scale=SUPERPIXEL_SCALE, sigma=0.5, min_size=SUPERPIXEL_MIN
    )
    h, w = L.shape
    cell = (np.arange(h)[:, None] // GRID) * (w // GRID + 1) + np.arange(w)[None, :] // GRID
    key = seg.astype(np.int64) * int(cell.max() + 1) + cell
    return np.unique(key, return_inverse=True)[1].reshape(L.shape).astype(np.int64)


def colour_families(centres: torch.Tensor) -> torch.Tensor:
    """``(Q, 25)`` one-hot family of every bin: neutral, or one of 12 hues x 2 chroma bands."""
    c = centres.detach().float().cpu()
    chroma = c.norm(dim=1)
    hue = torch.atan2(c[:, 1], c[:, 0]) % (2 * math.pi)
    sector = (hue / (2 * math.pi / 12)).long().clamp_max(11)
    fam = 1 + sector * 2 + (chroma >= 25.0).long()
    fam = torch.where(chroma < 8.0, torch.zeros_like(fam), fam)
    return torch.nn.functional.one_hot(fam, 25).float()


def object_regions(probs: torch.Tensor, centres: torch.Tensor, L_work: torch.Tensor) -> ObjectRegions:
    """Objects of one image from its marginals and L*.

    Args:
        probs: ``(h*w, Q)`` per-pixel marginals at T = 1 (pixels-major), any device.
        centres: ``(Q, 2)`` ab bin centres.
        L_work: ``(1, 1, h, w)`` L* at working resolution.
    Returns:
        :class:`ObjectRegions` on ``L_work``'s device. Cached by content (the editor
        samples the same image again after every change of settings).
    """
    if L_work.ndim != 4 or L_work.shape[:2] != (1, 1):
        raise ValueError(f"L_work must have shape (1, 1, h, w), got {tuple(L_work.shape)}")
    h, w = L_work.shape[-2:]
    if probs.ndim != 2 or probs.shape[0] != h * w:
        raise ValueError(f"probs must have shape ({h * w}, Q), got {tuple(probs.shape)}")
    L = L_work[0, 0].detach().float().cpu().numpy()
    # Agreement is judged on colour families (neutral, 12 hues x 2 chroma bands), not on
    # single bins: a light and a slightly darker blue agree, blue and orange do not.
    p = (probs.detach().float().cpu() @ colour_families(centres)).numpy()
    key = (
        hashlib.blake2b(L.tobytes() + p[::7].tobytes(), digest_size=16).hexdigest(),
        L.shape,
        p.shape,
        str(L_work.device),
    )
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    sp = superpixels(L)
    fine_of_sp, coarse_of_sp = merge_levels(sp, p.astype(np.float64), L, (FINE_COST, COARSE_COST))
    fine = fine_of_sp[sp]
    coarse_of_fine = np.zeros(int(fine_of_sp.max()) + 1, dtype=np.int64)
    coarse_of_fine[fine_of_sp] = coarse_of_sp  # nested: every superpixel of a fine region agrees
    dev = L_work.device
    out = ObjectRegions(torch.from_numpy(fine).to(dev), torch.from_numpy(coarse_of_fine).to(dev))
    _CACHE[key] = out
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out
