"""Colour hints: brush strokes, a global palette and saturation (DESIGN section 4).

A stroke is a polyline with a brush radius, painted at full resolution. At the
working (marginal) resolution it becomes a mask ``m_s(x)`` in [0, 1]: the
antialiased brush footprint, then spread *edge-aware*: influence decays as
``exp(-(D(x) / (spread * reach))^2)`` with ``D`` the geodesic distance from the paint
and ``reach`` the brush radius, but at least 1/16 of the working short side,
over the L* image, where a step between neighbours costs its length ``l`` plus
``dL^2 / (l * EDGE_SIGMA^2)``: gentle shading (a few L* per pixel) barely slows the
spread, a luminance edge stops it. A stroke on a coat colours the coat, not the
wall behind it.

Re-weighting of the marginals (log space, per pixel ``x`` and bin ``k`` with centre ``c_k``)::

    logits'(x, k) = max(logits(x, k), lse_x + log(FLOOR * mu(x)))
                    - sum_s beta_s m_s(x) |c_k - h_s|^2 / (2 HINT_SIGMA^2)
                    + gamma * pi(k)

i.e. ``p'_x(k) ∝ max(p_x(k), FLOOR mu(x)) * prod_s exp(-beta_s m_s(x) |c_k - h_s|^2 / (2 sigma_h^2)) * ...``

- ``h_s``: the stroke's target ab; ``beta_s = BETA_MAX * strength_s``.
- ``mu(x) = min(1, sum_s strength_s m_s(x))``: the *floor*. Inside a stroke every bin keeps
  at least ``FLOOR * mu`` of probability before the Gaussian re-weighting, so a colour the
  network gave (numerically) zero probability can still be imposed: at full strength a bin
  ``d`` ab units from the target is down-weighted by ``exp(-d^2 / 50)`` relative to it,
  which beats any network confidence beyond ~20 ab units (two bins).
- ``pi(k) = log(PALETTE_FLOOR + max_j exp(-|c_k - palette_j|^2 / (2 PALETTE_SIGMA^2)))`` (<= 0):
  a mild, image-wide preference for the palette colours, ``gamma = palette_strength``.
- Pixels where a stroke's influence is below ``MASK_CUTOFF`` are not touched by it; with
  no strokes and no palette the logits come back unchanged.

Everything but the global saturation acts on the logits. The saturation multiplies
the ab of the results; it reaches the sampler through
:meth:`HintDocument.sampler_settings` (``settings.saturation * doc.saturation``).

:class:`HintEngine` caches each stroke's mask (the expensive part: rasterising and
the geodesic spread) keyed by the stroke's id and geometry, so adding, editing or
removing one stroke recomputes only that stroke; combining the cached masks is one
``(Q, S) @ (S, hw)`` product.
"""

from __future__ import annotations

import copy
import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import numpy as np
import torch
import torch.nn.functional as F

from .color import lab_to_linear_rgb, lab_to_rgb, rgb_to_lab

if TYPE_CHECKING:
    from .sampler import SamplerSettings

FORMAT_VERSION = 1
HINT_SIGMA = 10.0  # sigma_h of the hint kernel, ab units
BETA_MAX = 4.0  # beta at strength 1 (effective sigma 10 / sqrt(4) = 5 ab units)
FLOOR = 0.05  # probability floor inside a stroke's reach, at full strength
EDGE_SIGMA = 4.0  # L*: a step of dL costs dL^2 / EDGE_SIGMA^2 extra pixels (dL = 4 -> +1, dL = 20 -> +25)
MASK_CUTOFF = 1e-3  # influence below this is set to exactly 0
MIN_RADIUS = 0.75  # working-res pixels: even a point hint covers the pixel it falls in
# The reach is measured from at least this fraction of the working image's short side, so a
# small dab still floods the region it lands in (edges stop it). Chosen on the dev set with
# `polychrome eval`: 50 point hints gained +0.4 dB over none with no floor, +4.1 dB with 1/16.
MIN_REACH_FRACTION = 1.0 / 16.0
PALETTE_SIGMA = 15.0
PALETTE_FLOOR = 0.1  # bins far from every palette colour lose at most gamma * log(1 / 0.1)
CACHE_SIZE = 512  # stroke masks kept by a HintEngine


def _finite(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


def _in_range(x: Any, name: str, lo: float, hi: float = math.inf) -> float:
    v = _finite(x, name)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {v}")
    return v


def _rgb(x: Any, name: str) -> tuple[float, float, float]:
    if not isinstance(x, list | tuple) or len(x) != 3:
        raise ValueError(f"{name} must be 3 sRGB values in [0, 1], got {x!r}")
    r, g, b = (_in_range(v, name, 0.0, 1.0) for v in x)
    return r, g, b


# ------------------------------------------------------------ document ---


@dataclass
class Stroke:
    """One brush stroke: a polyline in full-resolution image pixels.

    ``color`` is sRGB in [0, 1]; its hue and chroma are applied at the L* of the
    painted pixels (chroma reduced into the sRGB gamut there). ``ab``, when given,
    is the target ab itself and takes precedence over ``color``.
    """

    points: list[tuple[float, float]]
    radius: float
    color: tuple[float, float, float]
    strength: float = 1.0  # 0..1, scales beta and the floor
    hardness: float = 0.5  # 0 = soft brush edge, 1 = hard
    spread: float = 1.0  # edge-aware reach beyond the paint, in brush radii (0 = paint only)
    id: str = field(default_factory=lambda: uuid4().hex)
    ab: tuple[float, float] | None = None

    def validate(self) -> None:
        """Raise ValueError on malformed fields."""
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("stroke id must be a non-empty string")
        if not isinstance(self.points, list | tuple) or not self.points:
            raise ValueError(f"stroke {self.id}: points must be a non-empty list of (x, y)")
        for pt in self.points:
            if not isinstance(pt, list | tuple) or len(pt) != 2:
                raise ValueError(f"stroke {self.id}: every point must be (x, y), got {pt!r}")
            _finite(pt[0], "x"), _finite(pt[1], "y")
        if _finite(self.radius, "radius") <= 0:
            raise ValueError(f"stroke {self.id}: radius must be positive")
        _rgb(self.color, "color")
        _in_range(self.strength, "strength", 0.0, 1.0)
        _in_range(self.hardness, "hardness", 0.0, 1.0)
        _in_range(self.spread, "spread", 0.0)
        if self.ab is not None:
            if not isinstance(self.ab, list | tuple) or len(self.ab) != 2:
                raise ValueError(f"stroke {self.id}: ab must be (a, b) or None")
            _finite(self.ab[0], "a"), _finite(self.ab[1], "b")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "points": [[float(x), float(y)] for x, y in self.points],
            "radius": float(self.radius),
            "color": [float(v) for v in self.color],
            "strength": float(self.strength),
            "hardness": float(self.hardness),
            "spread": float(self.spread),
            "ab": None if self.ab is None else [float(v) for v in self.ab],
        }

    @classmethod
    def from_dict(cls, d: Any) -> Stroke:
        if not isinstance(d, dict):
            raise ValueError(f"a stroke must be a JSON object, got {type(d).__name__}")
        missing = {"points", "radius", "color"} - d.keys()
        if missing:
            raise ValueError(f"stroke is missing {sorted(missing)}")
        pts = d["points"]
        if not isinstance(pts, list) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in pts):
            raise ValueError("stroke points must be a list of [x, y]")
        color = d["color"]
        ab = d.get("ab")
        stroke = cls(
            points=[(p[0], p[1]) for p in pts],
            radius=d["radius"],
            color=tuple(color) if isinstance(color, list | tuple) else color,
            strength=d.get("strength", 1.0),
            hardness=d.get("hardness", 0.5),
            spread=d.get("spread", 1.0),
            id=d.get("id") or uuid4().hex,
            ab=tuple(ab) if isinstance(ab, list | tuple) else ab,
        )
        stroke.validate()
        return stroke


@dataclass
class HintDocument:
    """All hints of one image: strokes, global saturation, palette. Saved as versioned JSON."""

    strokes: list[Stroke] = field(default_factory=list)
    saturation: float = 1.0  # multiplies the ab of every result (see sampler_settings)
    palette: list[tuple[float, float, float]] = field(default_factory=list)  # sRGB favoured image-wide
    palette_strength: float = 0.5

    def validate(self) -> None:
        """Raise ValueError on malformed fields or duplicate stroke ids."""
        ids = set()
        for s in self.strokes:
            if not isinstance(s, Stroke):
                raise ValueError(f"strokes must be Stroke objects, got {type(s).__name__}")
            s.validate()
            if s.id in ids:
                raise ValueError(f"duplicate stroke id {s.id!r}")
            ids.add(s.id)
        _in_range(self.saturation, "saturation", 0.0)
        _in_range(self.palette_strength, "palette_strength", 0.0)
        for c in self.palette:
            _rgb(c, "palette colour")

    # -- editing
    def add(self, stroke: Stroke) -> None:
        """Append a stroke (ValueError if invalid or its id is taken)."""
        stroke.validate()
        if any(s.id == stroke.id for s in self.strokes):
            raise ValueError(f"duplicate stroke id {stroke.id!r}")
        self.strokes.append(stroke)

    def remove(self, stroke_id: str) -> Stroke:
        """Remove and return the stroke with this id (KeyError if absent)."""
        for i, s in enumerate(self.strokes):
            if s.id == stroke_id:
                return self.strokes.pop(i)
        raise KeyError(stroke_id)

    def copy(self) -> HintDocument:
        """Deep copy (for undo stacks)."""
        return copy.deepcopy(self)

    def sampler_settings(self, settings: SamplerSettings) -> SamplerSettings:
        """``settings`` with this document's saturation folded in (multiplied)."""
        return replace(settings, saturation=settings.saturation * self.saturation)

    # -- serialisation
    def to_dict(self) -> dict:
        return {
            "version": FORMAT_VERSION,
            "saturation": float(self.saturation),
            "palette": [[float(v) for v in c] for c in self.palette],
            "palette_strength": float(self.palette_strength),
            "strokes": [s.to_dict() for s in self.strokes],
        }

    @classmethod
    def from_dict(cls, d: Any) -> HintDocument:
        if not isinstance(d, dict):
            raise ValueError(f"a hint document must be a JSON object, got {type(d).__name__}")
        if "version" not in d:
            raise ValueError("hint document has no 'version' key")
        if d["version"] != FORMAT_VERSION:
            raise ValueError(
                f"unsupported hint document version {d['version']!r} (expected {FORMAT_VERSION})"
            )
        strokes, palette = d.get("strokes", []), d.get("palette", [])
        if not isinstance(strokes, list) or not isinstance(palette, list):
            raise ValueError("'strokes' and 'palette' must be lists")
        doc = cls(
            strokes=[Stroke.from_dict(s) for s in strokes],
            saturation=d.get("saturation", 1.0),
            palette=[_rgb(c, "palette colour") for c in palette],
            palette_strength=d.get("palette_strength", 0.5),
        )
        doc.validate()
        return doc

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | Path) -> HintDocument:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from e
        return cls.from_dict(data)


# ------------------------------------------------------------ geometry ---


def _smoothstep(t: torch.Tensor) -> torch.Tensor:
    return t * t * (3.0 - 2.0 * t)


def paint_mask(points: torch.Tensor, radius: float, hardness: float, size: tuple[int, int]) -> torch.Tensor:
    """Antialiased brush footprint of a polyline at working resolution.

    Args:
        points: ``(P, 2)`` polyline ``(x, y)`` in working-res pixel units (pixel ``j`` spans
            ``[j, j + 1)``, its centre is ``j + 0.5``).
        radius: brush radius in working-res pixels.
        hardness: 0 = the brush fades from the centre line, 1 = hard edge (1 px antialiasing).
        size: ``(h, w)``.
    Returns:
        ``(h, w)`` float32 in [0, 1] on the device of ``points``.
    """
    h, w = size
    dev = points.device
    r = max(float(radius), MIN_RADIUS)
    ramp = max(1.0, (1.0 - hardness) * r)
    out = torch.zeros(h, w, device=dev)
    # Only the bounding box of the stroke can be painted.
    lo = (points.amin(0) - r - 1.0).floor().long()
    hi = (points.amax(0) + r + 1.0).ceil().long()
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(w, int(hi[0])), min(h, int(hi[1]))
    if x0 >= x1 or y0 >= y1:
        return out
    ys = torch.arange(y0, y1, device=dev, dtype=torch.float32) + 0.5
    xs = torch.arange(x0, x1, device=dev, dtype=torch.float32) + 0.5
    pix = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)  # (n, 2) as (x, y)
    a = points[:-1] if len(points) > 1 else points
    b = points[1:] if len(points) > 1 else points
    d2 = torch.full((pix.shape[0],), torch.inf, device=dev)
    for s0 in range(0, a.shape[0], 64):  # segments in chunks: long strokes stay cheap in memory
        sa, sb = a[s0 : s0 + 64], b[s0 : s0 + 64]
        ab = sb - sa
        t = ((pix[:, None] - sa) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)
        nearest = sa + t.clamp(0.0, 1.0)[..., None] * ab
        d2 = torch.minimum(d2, (pix[:, None] - nearest).square().sum(-1).amin(1))
    m = _smoothstep(((r + 0.5 - d2.sqrt()) / ramp).clamp(0.0, 1.0))
    out[y0:y1, x0:x1] = m.reshape(y1 - y0, x1 - x0)
    return out


def geodesic_spread(
    paint: torch.Tensor, L: torch.Tensor, length: float, edge_sigma: float = EDGE_SIGMA
) -> torch.Tensor:
    """Edge-aware reach of a painted mask.

    ``exp(-(D / length)^2)`` with ``D`` the geodesic distance to the paint, where paint of
    value ``m`` starts at ``D0 = length * sqrt(-log m)`` and a step to one of the 8 neighbours
    costs its length ``l`` plus ``dL^2 / (l * edge_sigma^2)``. The Gaussian fall-off keeps the
    reach close to ``length``: the hint kernel is steep for far colours, so even small
    influence values recolour and an exponential tail would reach several times further.

    Computed by min-plus (Bellman-Ford) relaxation in a window around the paint; ``R``
    sweeps make every ``D <= R`` exact because each step costs at least 1.

    Args:
        paint: ``(h, w)`` in [0, 1]; L: ``(h, w)`` L*; length: decay length in pixels (> 0).
    Returns:
        ``(h, w)`` influence in [0, 1], ``>= paint``, exactly 0 below ``MASK_CUTOFF``.
    """
    h, w = paint.shape
    reach = length * math.sqrt(math.log(1.0 / MASK_CUTOFF))
    nz = (paint > 0).nonzero()
    if nz.numel() == 0:
        return torch.zeros_like(paint)
    pad = int(math.ceil(reach)) + 1
    y0, x0 = (nz.amin(0) - pad).clamp_min(0).tolist()
    y1, x1 = (nz.amax(0) + pad + 1).tolist()
    y1, x1 = min(h, y1), min(w, x1)
    win_p, win_L = paint[y0:y1, x0:x1], L[y0:y1, x0:x1].float()
    wh, ww = win_p.shape
    D = torch.where(win_p > 0, length * (-win_p.clamp(1e-30, 1.0).log()).sqrt(), torch.inf)
    # Step costs to the 3x3 neighbours, in unfold order; outside the window: inf.
    Lp = F.pad(win_L[None, None], (1, 1, 1, 1), mode="replicate")
    L_nb = F.unfold(Lp, 3)[0]  # (9, wh*ww)
    offs = torch.tensor([[dy, dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)], device=paint.device)
    step = offs.float().norm(dim=1)[:, None]
    dL = L_nb - win_L.reshape(1, -1)
    cost = step + dL.square() / (step.clamp_min(1.0) * edge_sigma**2)  # centre entry: step 0, dL 0
    inside = F.unfold(F.pad(torch.ones(1, 1, wh, ww, device=paint.device), (1, 1, 1, 1)), 3)[0] > 0
    cost = torch.where(inside, cost, torch.inf)
    D = D.reshape(1, -1)
    for it in range(int(math.ceil(reach)) + 1):
        D_nb = F.unfold(F.pad(D.view(1, 1, wh, ww), (1, 1, 1, 1), value=math.inf), 3)[0]
        new = (D_nb + cost).amin(0, keepdim=True)
        if it % 8 == 7 and torch.equal(new, D):
            break
        D = new
    infl = torch.exp(-(D.view(wh, ww) / length).square())
    out = torch.zeros_like(paint)
    out[y0:y1, x0:x1] = torch.where(infl >= MASK_CUTOFF, infl, 0.0)
    return torch.maximum(out, torch.where(paint >= MASK_CUTOFF, paint, 0.0))


def target_ab(color: tuple[float, float, float], L: float) -> tuple[float, float]:
    """ab of an sRGB colour applied at lightness ``L``: its hue and chroma, chroma reduced
    (hue kept) until ``(L, a, b)`` is inside the sRGB gamut."""
    lab = rgb_to_lab(np.asarray(color, dtype=np.float32))
    a, b = float(lab[1]), float(lab[2])
    t = np.linspace(1.0, 0.0, 65, dtype=np.float32)
    cand = np.stack([np.full_like(t, np.clip(L, 0.0, 100.0)), a * t, b * t], -1)
    rgb = lab_to_linear_rgb(cand)
    ok = np.all((rgb >= -1e-3) & (rgb <= 1.0 + 1e-3), axis=-1)
    s = float(t[int(np.argmax(ok))]) if ok.any() else 0.0
    return a * s, b * s


def palette_log_weights(centres: torch.Tensor, palette: list[tuple[float, float, float]]) -> torch.Tensor:
    """``pi(k)`` ``(Q,)`` <= 0: log of a floored Gaussian affinity to the nearest palette colour."""
    ab = torch.as_tensor(rgb_to_lab(np.asarray(palette, dtype=np.float32))[:, 1:], device=centres.device)
    d2 = torch.cdist(centres.float(), ab).square()
    aff = torch.exp(-d2 / (2.0 * PALETTE_SIGMA**2)).amax(1)
    return torch.log(PALETTE_FLOOR + aff) - math.log(PALETTE_FLOOR + 1.0)


# -------------------------------------------------------------- engine ---


class HintEngine:
    """Re-weights the cached logits of one image by a :class:`HintDocument`, incrementally.

    Args:
        logits: ``(1, Q, h, w)`` network logits (un-hinted).
        centres: ``(Q, 2)`` ab bin centres.
        L_work: ``(1, 1, h, w)`` L* at working resolution.
        image_size: ``(W, H)`` of the full-resolution image the stroke coordinates refer to.
    """

    def __init__(
        self, logits: torch.Tensor, centres: torch.Tensor, L_work: torch.Tensor, image_size: tuple[int, int]
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
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.size = (int(h), int(w))
        self._lse: torch.Tensor | None = None
        self._masks: OrderedDict[tuple, tuple[torch.Tensor, float]] = OrderedDict()

    @property
    def scale(self) -> tuple[float, float]:
        """Working-res pixels per full-res pixel, ``(sx, sy)``."""
        return self.size[1] / self.image_size[0], self.size[0] / self.image_size[1]

    def _key(self, s: Stroke) -> tuple:
        pts = tuple((float(x), float(y)) for x, y in s.points)
        return (s.id, pts, float(s.radius), float(s.hardness), float(s.spread))

    def stroke_mask(self, stroke: Stroke) -> tuple[torch.Tensor, float]:
        """Influence ``(h, w)`` of a stroke and the mean L* under its paint (cached)."""
        key = self._key(stroke)
        hit = self._masks.get(key)
        if hit is not None:
            self._masks.move_to_end(key)
            return hit
        sx, sy = self.scale
        pts = torch.tensor(stroke.points, dtype=torch.float32, device=self._L.device) * torch.tensor(
            [sx, sy], device=self._L.device
        )
        r = float(stroke.radius) * 0.5 * (sx + sy)
        paint = paint_mask(pts, r, float(stroke.hardness), self.size)
        total = float(paint.sum())
        L_paint = float((paint * self._L).sum()) / total if total > 0 else 50.0
        if stroke.spread > 0:
            base = max(r, MIN_RADIUS, MIN_REACH_FRACTION * min(self.size))
            m = geodesic_spread(paint, self._L, float(stroke.spread) * base)
        else:
            m = torch.where(paint >= MASK_CUTOFF, paint, 0.0)
        self._masks[key] = (m, L_paint)
        while len(self._masks) > CACHE_SIZE:
            self._masks.popitem(last=False)
        return m, L_paint

    def stroke_target(self, stroke: Stroke) -> tuple[float, float]:
        """Target ab of a stroke (its ``ab`` or its colour at the painted L*)."""
        if stroke.ab is not None:
            return float(stroke.ab[0]), float(stroke.ab[1])
        return target_ab(stroke.color, self.stroke_mask(stroke)[1])

    def apply(self, doc: HintDocument) -> torch.Tensor:
        """Re-weighted logits ``(1, Q, h, w)`` for the document (a new tensor)."""
        doc.validate()
        use_palette = bool(doc.palette) and doc.palette_strength > 0
        strokes = [s for s in doc.strokes if s.strength > 0]
        if not strokes and not use_palette:
            return self.logits.clone()
        q = self.centres.shape[0]
        h, w = self.size
        out = self.logits
        if strokes:
            masks = torch.stack([self.stroke_mask(s)[0] for s in strokes]).reshape(len(strokes), -1)
            targets = torch.tensor([self.stroke_target(s) for s in strokes], device=self.centres.device)
            strength = torch.tensor([float(s.strength) for s in strokes], device=self.centres.device)
            # kernel[k, s] = -beta_s |c_k - h_s|^2 / (2 sigma_h^2); the field is one product.
            kernel = -torch.cdist(self.centres, targets).square() * (
                BETA_MAX * strength / (2.0 * HINT_SIGMA**2)
            )
            field_ = (kernel @ masks).view(1, q, h, w)
            mu = (strength @ masks).clamp_max_(1.0).view(1, 1, h, w)
            if self._lse is None:
                self._lse = torch.logsumexp(self.logits, dim=1, keepdim=True)
            floor = torch.where(
                mu >= MASK_CUTOFF, self._lse + torch.log(FLOOR * mu.clamp_min(1e-30)), -torch.inf
            )
            out = torch.maximum(out, floor) + field_
        if use_palette:
            pal = palette_log_weights(self.centres, doc.palette) * float(doc.palette_strength)
            out = out + pal.view(1, q, 1, 1)
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


# ---------------------------------------------------------- suggestions ---


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
