"""Colour hints: strokes re-weight the marginals along a global, edge-aware propagation.

A stroke (``hint_document.Stroke``: a polyline with radius, colour, strength, hardness,
reach) is rasterised at working resolution into its paint ``m_s(x)`` in [0, 1]. All
strokes are then spread together by :class:`~polychrome.core.propagation.Propagator`
(Levin-style affinities from L* and the network's marginals, the network as a weak prior),
which gives per pixel a *pull* ``P(x)`` in [0, 1] (the hints' confidence times their
strength) and a target colour ``t(x)``: the strokes' hue and saturation, plus
``PropagationParams.detail`` of the network's own variation around what the same solve
makes of the network's colours under the paint (so shading and texture of colour that a
blend of the hints cannot know survive between them), re-lit at the pixel's own L* and
kept inside the sRGB gamut there. The pull acts as a probability: each
pixel's marginal becomes a mixture of the network's and the hint's own narrow distribution
``q_t(k) ∝ exp(-|c_k - t(x)|^2 / 2 HINT_SIGMA^2)`` around the target, with weight
``w = P^MIX_POWER``::

    p'(x, k) = (1 - w(x)) p(x, k) + w(x) q_t(k)     (+ gamma pi(k) in log space)

- A pixel the hints reach with ``P = 0.1`` keeps 99 % of its own distribution, so a far,
  faint pull does not turn results the hint's colour (a Gaussian re-weighting of
  strength ``P`` would: it suppresses colours 60 ab away 30-fold already at ``P = 0.05``).
- ``pi(k)`` (palette, ``gamma = palette_strength``): a mild image-wide preference.
- Pixels with ``P < MASK_CUTOFF`` are not touched; with no strokes and no palette the
  logits come back unchanged (the best guess at k = 0 is the network's own).

The sampler still draws several results from these marginals; the best guess under hints
is the network's own best guess blended toward the target with the pull,
``P t + (1 - P) ab`` (:meth:`HintEngine.blend`). Every result, the best guess included, is
then kept within a trust region around the target that narrows as the pull grows
(:meth:`HintEngine.constrain`), and on top comes a guarantee: wherever a full-strength
stroke's paint covers at least half a pixel, every result's ab is projected into a disc of
:data:`HOLD_RADIUS` around the target, so the painted colour holds within CIEDE2000
``HOLD_DELTA_E`` (tested).

:class:`HintEngine` caches each stroke's paint (keyed by id and geometry) and the last
propagation (keyed by the set of strokes), so only what changed is recomputed.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import torch

from .color import lab_to_linear_rgb_torch
from .hint_document import FORMAT_VERSION, READABLE_VERSIONS, HintDocument, Stroke
from .hint_geometry import (
    MIN_RADIUS,
    SAT_EXPONENT,
    SAT_L_FLOOR,
    color_saturation,
    gamut_scale,
    paint_mask,
    palette_log_weights,
    relit_ab,
    saturation_ab,
    target_ab,
)
from .hint_suggest import suggest_colors
from .propagation import PropagationParams, Propagator
from .sampler.confidence import ab_confidence, near_bins
from .sampler.objects import ObjectRegions, object_regions

__all__ = [
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "HintDocument",
    "HintEngine",
    "HintField",
    "Stroke",
    "apply_hints",
    "paint_mask",
    "suggest_colors",
    "target_ab",
]

HINT_SIGMA = 5.0  # ab: width of the hint's own distribution q_t around the target
HINT_REACH = 4.0  # q_t is 0 beyond this many HINT_SIGMA from the target (exp(-8) of its peak)
PULL_FLOOR = 0.05  # propagated confidence below this counts as no hint (leak across edges)
MASK_CUTOFF = 1e-3  # pull below this is set to exactly 0
HOLD_PAINT = 0.5  # paint coverage from which a full-strength stroke's colour is guaranteed
HOLD_RADIUS = 2.0  # ab: results are projected into this disc around the target there
TRUST_RADIUS = 10.0  # ab: growth of the trust region around the target as the pull falls
HOLD_DELTA_E = 5.0  # the stated CIEDE2000 bound over such pixels (tests/test_hints.py, README)
PAINT_PRIORITY = 1e3  # strokes of different reach: weight of a group's paint over its pull
# The drawn results' mixture weight is pull^MIX_POWER: where the pull is weak (a few per cent
# across an edge or through a large merged object) the hint's colour gets a much smaller share
# of the marginal, so the sampler rarely draws it there. Chosen on dev with the recolour probe
# (drawn results fill / leak 0.88 / 0.17 at 1, 0.85 / 0.13 at 2, 0.84 / 0.13 at 3); the best
# guess (and so the hint table) uses the pull itself.
MIX_POWER = 2.0
CONFIDENCE_RADIUS = 15.0  # ab: the network's confidence = its mass this close to its mean
CACHE_SIZE = 512  # stroke paints kept by a HintEngine


class HintField:
    """The propagated hints of one document at working resolution.

    pull: ``(h, w)`` in [0, 1]; target: ``(2, h, w)`` ab; hold: ``(h, w)`` bool, pixels where
    the colour is guaranteed (full-strength paint >= :data:`HOLD_PAINT`); L: ``(h, w)`` L*.
    """

    def __init__(self, pull: torch.Tensor, target: torch.Tensor, hold: torch.Tensor, L: torch.Tensor) -> None:
        self.pull, self.target, self.hold, self.L = pull, target, hold, L


class HintEngine:
    """Re-weights the cached logits of one image by a :class:`HintDocument`, incrementally.

    Args:
        logits: ``(1, Q, h, w)`` network logits (un-hinted).
        centres: ``(Q, 2)`` ab bin centres.
        L_work: ``(1, 1, h, w)`` L* at working resolution.
        image_size: ``(W, H)`` of the full-resolution image the stroke coordinates refer to.
    """

    def __init__(
        self,
        logits: torch.Tensor,
        centres: torch.Tensor,
        L_work: torch.Tensor,
        image_size: tuple[int, int],
        params: PropagationParams | None = None,
    ) -> None:
        centres = torch.as_tensor(centres)
        if centres.ndim != 2 or centres.shape[1] != 2:
            raise ValueError(f"bin centres must have shape (Q, 2), got {tuple(centres.shape)}")
        if logits.ndim != 4 or logits.shape[0] != 1 or logits.shape[1] != centres.shape[0]:
            raise ValueError(
                f"logits must have shape (1, {centres.shape[0]}, h, w), got {tuple(logits.shape)}"
            )
        h, w = logits.shape[-2:]
        if L_work.ndim != 4 or tuple(L_work.shape) != (1, 1, h, w):
            raise ValueError(f"L_work must have shape (1, 1, {h}, {w}), got {tuple(L_work.shape)}")
        if len(image_size) != 2 or min(image_size) <= 0:
            raise ValueError(f"image_size must be (W, H) with positive entries, got {image_size}")
        self.logits = logits.detach().float()
        self.centres = centres.to(device=logits.device, dtype=torch.float32)
        self.L_work = L_work.detach().to(device=logits.device, dtype=torch.float32)
        self._L = self.L_work[0, 0]  # (h, w)
        # (h, w) float32 numpy copy: the propagation's L* and the upsampler's guide (PreparedImage.guide).
        self.L_np = self._L.cpu().numpy().astype(np.float32)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.size = (int(h), int(w))
        self.params = params or PropagationParams()
        self._softmax: tuple[torch.Tensor, torch.Tensor] | None = None  # probs, logsumexp
        self._mean: torch.Tensor | None = None
        self._own_sat: np.ndarray | None = None
        self._prop: Propagator | None = None
        self._objects: ObjectRegions | None = None
        self._paints: OrderedDict[tuple, tuple[torch.Tensor, float]] = OrderedDict()
        self._field_key: tuple | None = None
        self._field: HintField | None = None

    @property
    def scale(self) -> tuple[float, float]:
        """Working-res pixels per full-res pixel, ``(sx, sy)``."""
        return self.size[1] / self.image_size[0], self.size[0] / self.image_size[1]

    # -- per stroke ----------------------------------------------------------------------------
    def _key(self, s: Stroke) -> tuple:
        pts = tuple((float(x), float(y)) for x, y in s.points)
        return (s.id, pts, float(s.radius), float(s.hardness))

    def stroke_paint(self, stroke: Stroke) -> tuple[torch.Tensor, float]:
        """Paint ``(h, w)`` in [0, 1] of a stroke and the mean L* under it (cached)."""
        key = self._key(stroke)
        hit = self._paints.get(key)
        if hit is not None:
            self._paints.move_to_end(key)
            return hit
        sx, sy = self.scale
        dev = self._L.device
        pts = torch.tensor(stroke.points, dtype=torch.float32, device=dev) * torch.tensor(
            [sx, sy], device=dev
        )
        r = max(float(stroke.radius) * 0.5 * (sx + sy), MIN_RADIUS)
        paint = paint_mask(pts, r, float(stroke.hardness), self.size)
        paint = torch.where(paint >= MASK_CUTOFF, paint, 0.0)
        total = float(paint.sum())
        L_paint = float((paint * self._L).sum()) / total if total > 0 else 50.0
        self._paints[key] = (paint, L_paint)
        while len(self._paints) > CACHE_SIZE:
            self._paints.popitem(last=False)
        return paint, L_paint

    def stroke_saturation(self, stroke: Stroke) -> tuple[float, float]:
        """The stroke's hue and saturation as ``ab / L*`` (from ``ab`` at the painted L*, or its colour)."""
        if stroke.ab is not None:
            return saturation_ab(stroke.ab, self.stroke_paint(stroke)[1])
        return color_saturation(stroke.color)

    def stroke_target(self, stroke: Stroke) -> tuple[float, float]:
        """Target ab of a stroke at the mean L* under its paint (in gamut there)."""
        sat = np.asarray(self.stroke_saturation(stroke), np.float32)[:, None]
        ab = relit_ab(sat, np.array([self.stroke_paint(stroke)[1]], np.float32))
        return float(ab[0, 0]), float(ab[1, 0])

    def network_probs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The network's marginals ``(1, Q, h, w)`` and the logits' logsumexp ``(1, 1, h, w)``
        (softmax = ``exp(logits - lse)``), cached."""
        if self._softmax is None:
            lse = torch.logsumexp(self.logits, dim=1, keepdim=True)
            self._softmax = (torch.exp(self.logits - lse), lse)
        return self._softmax

    # -- propagation ---------------------------------------------------------------------------
    def network_mean(self) -> torch.Tensor:
        """The network's plain mean (annealed at T = 1), ab ``(2, hw)``, cached."""
        if self._mean is None:
            probs = self.network_probs()[0][0]  # (Q, h, w)
            self._mean = self.centres.T @ probs.reshape(probs.shape[0], -1)
        return self._mean

    def network_saturation(self) -> np.ndarray:
        """:meth:`network_mean` as saturation ab ``(2, h, w)`` float64, cached."""
        if self._own_sat is None:
            mean = self.network_mean().reshape(2, *self.size).cpu().numpy().astype(np.float64)
            d = np.maximum(self.L_np.astype(np.float64), SAT_L_FLOOR) ** SAT_EXPONENT
            self._own_sat = mean / d[None]
        return self._own_sat

    def objects(self) -> ObjectRegions:
        """The photo's objects (:func:`~.sampler.objects.object_regions`) from the network's own
        marginals, computed once: the sampler's object draws and the propagation's cut share them,
        and a hint changes which colour an object takes, not where the object is."""
        if self._objects is None:
            probs = self.network_probs()[0][0]  # (Q, h, w)
            flat = probs.reshape(probs.shape[0], -1).T  # (hw, Q)
            self._objects = object_regions(flat, self.centres, self.L_work)
        return self._objects

    def propagator(self) -> Propagator:
        """The image's hint system (built on first use: Laplacian from L* and the objects)."""
        if self._prop is None:
            probs = self.network_probs()[0][0]  # (Q, h, w)
            flat = probs.reshape(probs.shape[0], -1).T  # (hw, Q)
            conf = ab_confidence(flat, self.centres, self.network_mean()[None], CONFIDENCE_RADIUS)
            conf = conf.reshape(self.size)
            regions = parts = None
            if self.params.region_cut != 1.0:
                objs = self.objects()
                lab = objs.coarse if self.params.region_level == "coarse" else objs.fine
                regions = lab.cpu().numpy()
                if self.params.region_level == "coarse" and self.params.split_spread > 0:
                    parts = objs.fine.cpu().numpy()
            uses_probs = self.params.marginal_power > 0 or self.params.knn > 0
            self._prop = Propagator(
                self.L_np,
                probs.cpu().double().numpy() if uses_probs else None,
                conf.cpu().double().numpy(),
                self.params,
                regions,
                parts,
            )
        return self._prop

    def field(self, doc: HintDocument) -> HintField | None:
        """Pull, target and hold mask of the document's strokes (None without active strokes)."""
        strokes = [s for s in doc.strokes if s.strength > 0]
        if not strokes:
            return None
        key = tuple((self._key(s), float(s.strength), float(s.reach), s.ab, tuple(s.color)) for s in strokes)
        if key == self._field_key and self._field is not None:
            return self._field
        h, w = self.size
        groups: dict[float, list[Stroke]] = {}
        for s in strokes:
            groups.setdefault(float(s.reach), []).append(s)
        pulls, sats, paints = [], [], []
        hold = np.zeros((h, w), bool)
        detail = self.params.detail
        own = self.network_saturation() if detail > 0 else None
        for reach, group in groups.items():
            paint_sum = np.zeros((h, w))
            y = np.zeros((3, h, w))  # paint-weighted strength, strength * saturation a, b
            for s in group:
                paint = self.stroke_paint(s)[0].cpu().numpy().astype(np.float64)
                sat = self.stroke_saturation(s)
                st = float(s.strength)
                paint_sum += paint
                y += paint[None] * np.array([st, st * sat[0], st * sat[1]])[:, None, None]
                if st >= 1.0:
                    hold |= paint >= HOLD_PAINT
            painted = paint_sum > 0
            y[:, painted] /= paint_sum[painted]
            if reach <= 0:  # paint only
                x = y * np.minimum(1.0, paint_sum)[None]
            else:
                colours = y[1:] / np.maximum(y[0], 1e-12)[None]
                rhs = np.concatenate([y, y[:1] * own]) if own is not None else y
                x = self.propagator().solve(self.params.hint_weight * paint_sum, rhs, reach, colours)
                x = x.astype(np.float64)
            pull = np.clip(x[0], 0.0, 1.0)
            if reach > 0:
                # The few per cent a far-reaching solve carries across an edge into a small
                # region are no hint there: the pull is re-scaled to start at PULL_FLOOR.
                pull = np.clip((pull - PULL_FLOOR) / (1.0 - PULL_FLOOR), 0.0, 1.0)
            inv = 1.0 / np.maximum(x[0], 1e-12)[None]
            sat_g = x[1:3] * inv
            if reach > 0 and own is not None:
                # The network's own variation around what the same propagation makes of its
                # colours under the paint: shading and texture the hints' blend cannot know.
                sat_g = sat_g + detail * (own - x[3:5] * inv)
            pulls.append(pull)
            sats.append(sat_g)
            paints.append(np.minimum(paint_sum, 1.0))
        pulls_a = np.stack(pulls)
        total = 1.0 - np.prod(1.0 - pulls_a, axis=0)  # independent groups: either may pull
        # Groups mix by pull, but a group's own paint wins over colour flowing in from another.
        wts = pulls_a * (1.0 + PAINT_PRIORITY * np.stack(paints))
        wsum = wts.sum(0)
        sat = (wts[:, None] * np.stack(sats)).sum(0) / np.maximum(wsum, 1e-12)[None]
        target = relit_ab(sat.astype(np.float32), self.L_np)
        total = np.where(total >= MASK_CUTOFF, total, 0.0)
        dev = self.logits.device
        f = HintField(
            torch.from_numpy(total.astype(np.float32)).to(dev),
            torch.from_numpy(target.astype(np.float32)).to(dev),
            torch.from_numpy(hold).to(dev),
            self._L,
        )
        self._field_key, self._field = key, f
        return f

    # -- application ---------------------------------------------------------------------------
    def apply(self, doc: HintDocument) -> torch.Tensor:
        """Re-weighted logits ``(1, Q, h, w)`` for the document (a new tensor)."""
        doc.validate()
        use_palette = bool(doc.palette) and doc.palette_strength > 0
        f = self.field(doc)
        if f is None and not use_palette:
            return self.logits.clone()
        q = self.centres.shape[0]
        h, w = self.size
        out = self.logits
        if f is not None:
            # Only the pixels the hints reach (often a part of the photo): flat (Q, m) views.
            idx = torch.nonzero(f.pull.reshape(-1) >= MASK_CUTOFF).squeeze(1)
            out = self.logits.clone(memory_format=torch.contiguous_format)
            out.view(q, -1)[:, idx] = self._mixed(f, idx)
        if use_palette:
            pal = palette_log_weights(self.centres, doc.palette) * float(doc.palette_strength)
            out = out + pal.view(1, q, 1, 1)
        return out

    def _mixed(self, f: HintField, idx: torch.Tensor) -> torch.Tensor:
        """Logits ``(Q, m)`` of ``(1 - w) p + w q_t`` at the flat pixels ``idx`` ``(m,)``.

        ``q_t`` is cut at :data:`HINT_REACH` sigma from the target (it holds all but ~3e-4 of
        its mass there), so only a pixel's couple of dozen bins near its target need the
        mixture's log; every other bin is the network's own logit plus ``log(1 - w)``.
        """
        q = self.centres.shape[0]
        _, lse_all = self.network_probs()
        lse = lse_all.reshape(1, -1)[:, idx]  # (1, m)
        logits = self.logits.reshape(q, -1)[:, idx]  # (Q, m)
        w = f.pull.reshape(1, -1)[:, idx].clamp(0.0, 1.0)
        if MIX_POWER != 1.0:
            w = w.pow(MIX_POWER)
        floor = math.log(1e-30)  # the mixture's probabilities are clamped here (w = 1: p is gone)
        out = torch.maximum(logits + torch.log1p(-w), lse + floor)  # bins q_t does not reach
        bins, d2 = near_bins(self.centres, f.target.reshape(2, -1)[:, idx].T, HINT_REACH * HINT_SIGMA)
        qt = torch.where(d2 <= (HINT_REACH * HINT_SIGMA) ** 2, torch.exp(d2 * (-0.5 / HINT_SIGMA**2)), 0.0)
        qt = qt / qt.sum(1, keepdim=True).clamp_min(1e-30)  # (m, J)
        valid = bins < q
        # Padding entries (index Q) repeat the row's first entry, so they write what it writes.
        first = torch.where(valid[:, :1], bins[:, :1], 0)
        bins = torch.where(valid, bins, first)
        p = torch.exp(logits.T.gather(1, bins) - lse.T)  # (m, J)
        near = torch.log((p * (1.0 - w.T) + qt * w.T).clamp_min(1e-30)) + lse.T
        first_val = torch.where(valid[:, :1], near[:, :1], out.T.gather(1, first))
        near = torch.where(valid, near, first_val)
        return out.scatter_(0, bins.T, near.T)

    def blend(self, ab: torch.Tensor, doc: HintDocument) -> torch.Tensor:
        """The best guess under the hints: ``P t + (1 - P) ab`` per pixel, ``ab`` ``(N, 2, h, w)``
        being the network's own best guess (pull ``P``, target ``t`` of :meth:`field`), then
        held like every result (:meth:`constrain`'s guarantee on full-strength paint).

        A point estimate reads the hints' confidence directly; the re-weighted marginals,
        sharpened by a low best-guess temperature, would turn a weak pull into all or nothing.
        """
        f = self.field(doc)
        if f is None:
            return ab
        P = f.pull.to(ab)
        mixed = P * f.target.to(ab)[None] + (1.0 - P) * ab
        return self._hold(mixed, f, self._trust_radius(P))

    def constrain(self, ab: torch.Tensor, doc: HintDocument, skip: set[int] | None = None) -> torch.Tensor:
        """Results ``(N, 2, h, w)`` kept within a trust region around the hints' target.

        A pixel's ab may lie at most ``R(x) = HOLD_RADIUS + TRUST_RADIUS (1 - P) / P`` from the
        target (projected onto that disc otherwise): ``HOLD_RADIUS`` where the pull ``P`` is 1
        and on every full-strength painted pixel (the guarantee), unbounded where no hint
        reaches. Indices in ``skip`` (locked results) are kept as they are.
        """
        f = self.field(doc)
        if f is None:
            return ab
        out = self._hold(ab, f, self._trust_radius(f.pull.to(ab)))
        for i in skip or ():
            if 0 <= i < ab.shape[0]:
                out[i] = ab[i]
        return out

    @staticmethod
    def _trust_radius(P: torch.Tensor) -> torch.Tensor:
        """``(h, w)``: how far (ab) a result may stray from the target where the pull is ``P``."""
        return HOLD_RADIUS + TRUST_RADIUS * (1.0 - P) / P.clamp_min(1e-6)

    @staticmethod
    def _hold(ab: torch.Tensor, f: HintField, R: torch.Tensor | None = None) -> torch.Tensor:
        """``ab`` projected into the disc of radius ``R`` (default: none) around the target,
        :data:`HOLD_RADIUS` on the held pixels."""
        hold = f.hold.to(ab.device)
        if R is None:
            R = torch.where(hold, HOLD_RADIUS, torch.inf).to(ab)
        else:
            R = torch.where(hold, torch.full_like(R, HOLD_RADIUS), R)
        t = f.target.to(ab)[None]
        d = ab - t
        n = d.norm(dim=1, keepdim=True)
        R = R[None, None] if R.ndim == 2 else R
        out = t + d * torch.where(n > R, R / n.clamp_min(1e-12), 1.0)
        return HintEngine._into_gamut(out, f)

    @staticmethod
    def _into_gamut(ab: torch.Tensor, f: HintField) -> torch.Tensor:
        """Chroma of hinted pixels outside the sRGB gamut at their L* reduced onto it (hue kept):
        a disc around an in-gamut target can cross the gamut's edge in deep shadows."""
        n = ab.shape[0]
        L = f.L.to(ab).expand(n, 1, -1, -1)
        rgb = lab_to_linear_rgb_torch(torch.cat([L, ab], dim=1))  # all pixels at once: cheap
        outside = ((rgb < -1e-4) | (rgb > 1.0 + 1e-4)).any(1) & (f.pull > 0).to(ab.device)  # (N, h, w)
        if not bool(outside.any()):
            return ab
        Ls, a, b = (
            x.detach().cpu().numpy() for x in (L[:, 0][outside], ab[:, 0][outside], ab[:, 1][outside])
        )
        scale = torch.from_numpy(gamut_scale(Ls, a, b, iters=20)).to(ab)
        out = ab.clone()
        out[:, 0][outside] = ab[:, 0][outside] * scale
        out[:, 1][outside] = ab[:, 1][outside] * scale
        return out


def apply_hints(
    logits: torch.Tensor,
    centres: torch.Tensor,
    doc: HintDocument,
    L_work: torch.Tensor,
    image_size: tuple[int, int],
) -> torch.Tensor:
    """From-scratch re-weighting: ``(1, Q, h, w)`` -> ``(1, Q, h, w)``.

    ``image_size = (W, H)`` of the full-res image, to map stroke coordinates to working res.
    Use :class:`HintEngine` for interactive editing.
    """
    return HintEngine(logits, centres, L_work, image_size).apply(doc)
