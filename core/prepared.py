"""One photo after its single network run: the object every caller of the pipeline uses.

    file -> L (full res) -> marginals (network, once) -> PreparedImage
        .logits(hints)   hint re-weighting at working resolution
        .sample(...)     N diverse results (index 0: the best guess)
        .best_guess(...) the single most likely colourisation
        .compose(ab)     edge-aware upsampling under full-res L -> sRGB

``colorize``, ``eval``, ``bench`` and the editor's jobs go through this object, so
the wiring (L at working resolution, the hint engine with the full-resolution size,
the global saturation folded into the sampler settings, the model's best-guess rule)
is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch

from .bins import annealed_mean
from .color import lab_to_rgb
from .hints import HintDocument, HintEngine, suggest_colors
from .models.base import MarginalModel, Marginals
from .pipeline import compose_rgb, predict_marginals
from .sampler import (
    ObjectRegions,
    SamplerSettings,
    SampleSet,
    l_at_working_res,
    sample,
)


@dataclass
class PreparedImage:
    """Marginals, L at working resolution and the hint engine of one photo.

    ``L_full`` is the full-resolution L* ``(H, W)``; ``L_work`` ``(1, 1, h, w)`` lives on
    the marginals' device; ``engine`` caches stroke masks across calls.
    """

    marginals: Marginals
    L_full: np.ndarray
    L_work: torch.Tensor
    engine: HintEngine
    _own: torch.Tensor | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_marginals(cls, marginals: Marginals, L_full: np.ndarray) -> PreparedImage:
        L_full = np.asarray(L_full)
        with torch.inference_mode():
            L_work = l_at_working_res(L_full, marginals.shape).to(marginals.logits.device)
            H, W = L_full.shape
            engine = HintEngine(marginals.logits, marginals.centres, L_work, (W, H))
        return cls(marginals, L_full, L_work, engine)

    @classmethod
    def predict(
        cls, model: MarginalModel, L_full: np.ndarray, short_side: int | None = None
    ) -> PreparedImage:
        """Run the network once on ``L_full`` and prepare the cheap stages after it."""
        return cls.from_marginals(predict_marginals(model, L_full, short_side), L_full)

    # -- sizes ---------------------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        """``(W, H)`` of the full-resolution photo (stroke coordinates refer to it)."""
        H, W = self.L_full.shape
        return W, H

    @property
    def shape(self) -> tuple[int, int]:
        """``(h, w)`` of the working resolution (the marginals')."""
        return self.marginals.shape

    @property
    def device(self) -> torch.device:
        return self.marginals.logits.device

    @property
    def centres(self) -> torch.Tensor:
        return self.marginals.centres

    def to_working(self, x: float, y: float) -> tuple[int, int]:
        """Full-resolution point -> the working-resolution pixel ``(xw, yw)`` it falls in."""
        h, w = self.shape
        W, H = self.size
        return min(w - 1, max(0, int(x * w / W))), min(h - 1, max(0, int(y * h / H)))

    # -- stages --------------------------------------------------------------------------------
    def logits(self, hints: HintDocument | None = None) -> torch.Tensor:
        """Logits ``(1, Q, h, w)`` re-weighted by ``hints`` (the network's own without)."""
        if hints is None:
            return self.marginals.logits
        with torch.inference_mode():
            return self.engine.apply(hints)

    @staticmethod
    def settings_for(settings: SamplerSettings, hints: HintDocument | None) -> SamplerSettings:
        """``settings`` with the document's global saturation folded in (multiplied)."""
        return settings if hints is None else hints.sampler_settings(settings)

    def sample(
        self,
        settings: SamplerSettings,
        hints: HintDocument | None = None,
        locked: dict[int, torch.Tensor] | None = None,
        locked_seeds: dict[int, int] | None = None,
        logits: torch.Tensor | None = None,
    ) -> SampleSet:
        """``settings.n`` results under ``hints`` (``logits``: already re-weighted ones, to reuse)."""
        first = None if 0 in (locked or {}) else self.hinted_best_guess(settings, hints)
        settings = self.settings_for(settings, hints)
        if logits is None:
            logits = self.logits(hints)
        locked_dev = {i: ab.to(self.device) for i, ab in (locked or {}).items()} or None
        with torch.inference_mode():
            ss = sample(
                logits,
                self.centres,
                self.L_work,
                settings,
                locked=locked_dev,
                locked_seeds=locked_seeds,
                best_guess=self.marginals.best_guess,
                regions=self.objects() if settings.method == "objects" else None,
                # Result 0 under hints is the network's own best guess blended toward them (not
                # the sampler's, drawn and regularised only to be replaced).
                first=first,
            )
            if hints is not None:
                # Full-strength paint holds its colour in every new result (locked ones stay;
                # the blended best guess is already held).
                skip = set(locked_dev or {}) | ({0} if first is not None else set())
                ss.ab = self.engine.constrain(ss.ab, hints, skip=skip)
        return ss

    def hinted_best_guess(self, settings: SamplerSettings, hints: HintDocument | None) -> torch.Tensor | None:
        """Result 0 under ``hints`` ``(2, h, w)``: the network's own best guess at the saturation
        of ``settings`` (the document's folded in), blended toward the hints
        (:meth:`HintEngine.blend`); None without an active stroke (the sampler's own best guess)."""
        if hints is None:
            return None
        with torch.inference_mode():
            if self.engine.field(hints) is None:
                return None
            sat = float(self.settings_for(settings, hints).saturation)
            return self.engine.blend(self.network_best_guess() * sat, hints)[0]

    def network_best_guess(self) -> torch.Tensor:
        """The network's own best guess ``(1, 2, h, w)`` (the model's rule, no hints), cached."""
        if self._own is None:
            with torch.inference_mode():
                self._own = self.marginals.best_guess.ab(self.marginals.logits, self.centres)
        return self._own

    def objects(self) -> ObjectRegions:
        """Objects of the photo for object-level draws (the hint engine's, computed once)."""
        with torch.inference_mode():
            return self.engine.objects()

    def best_guess(self, hints: HintDocument | None = None, T: float | None = None) -> torch.Tensor:
        """Best-guess ab ``(1, 2, h, w)``, saturation included: the model's own rule (or the plain
        annealed mean at ``T``) on the network's marginals, blended toward the hints with their
        pull (:meth:`HintEngine.blend`: ``P t + (1 - P) ab``, full-strength paint held)."""
        with torch.inference_mode():
            if T is None:
                ab = self.network_best_guess()
            else:
                ab = annealed_mean(self.marginals.logits, self.centres, T)
            if hints is None:
                return ab
            ab = ab if hints.saturation == 1.0 else ab * float(hints.saturation)
            return self.engine.blend(ab, hints)

    def compose(
        self,
        ab: torch.Tensor | np.ndarray,
        out_dtype: npt.DTypeLike = np.float32,
        L: np.ndarray | None = None,
    ) -> np.ndarray:
        """ab at working resolution -> sRGB ``(H, W, 3)`` under full-res L (or under ``L``, e.g. a
        downscaled copy for a preview)."""
        return compose_rgb(self.L_full if L is None else L, ab, out_dtype, guide=self.guide)

    @property
    def guide(self) -> np.ndarray:
        """L* at working resolution ``(h, w)`` float32, numpy: the upsampler's guide for any
        rendering of this photo's results (no resize of the full-resolution L per render)."""
        return self.engine.L_np  # the hint engine's copy: one array, two uses

    def pick_colour(self, ab: torch.Tensor, x: float, y: float) -> tuple[float, float, float]:
        """The colour one result gives the object under full-resolution point ``(x, y)``.

        ``ab``: that result, ``(2, h, w)`` or ``(1, 2, h, w)`` at working resolution. The result's
        ab and L* are averaged over the fine object region under the point (the same regions
        object draws use), so one click takes the object's colour, not one pixel's texture.
        Returns sRGB in [0, 1], clipped to the gamut (a hint reads it as hue and saturation).
        """
        ab = ab.reshape(2, *self.shape).float().cpu()
        xw, yw = self.to_working(x, y)
        fine = self.objects().fine.cpu()
        inside = fine == fine[yw, xw]
        a, b = (float(ab[i][inside].mean()) for i in range(2))
        L = float(self.L_work.reshape(self.shape).float().cpu()[inside].mean())
        rgb = np.clip(lab_to_rgb(np.array([[L, a, b]], np.float32))[0], 0.0, 1.0)
        return float(rgb[0]), float(rgb[1]), float(rgb[2])

    def suggestions(self, x: float, y: float, k: int = 6) -> list:
        """The ``k`` most likely colours at full-resolution point ``(x, y)``: ``[(rgb, p), ...]``."""
        H, W = self.L_full.shape
        L_value = float(self.L_full[min(H - 1, max(0, int(y))), min(W - 1, max(0, int(x)))])
        xw, yw = self.to_working(x, y)
        return suggest_colors(self.marginals.logits, self.centres, L_value, xw, yw, k)
