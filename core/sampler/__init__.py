"""Diverse, spatially coherent colourisations from per-pixel marginals (DESIGN section 3).

Pipeline of :func:`sample`, all batched in torch on the device of the logits:

1. result 0 is the annealed mean (T = 0.38), lightly regularised;
2. ``draw``: candidate bin fields by Gumbel-max with spatially smooth noise
   (each pixel an exact sample of ``p^(1/T)``, neighbours correlated);
3. ``select``: drop the least likely candidates, keep far-apart ones (farthest point
   from the mean, the locked results and each other);
4. ``regularise``: luminance-guided vectorial TV (Chambolle-Pock) on the chosen
   draws, data term weighted by the confidence ``c(x)`` = marginal mass within one
   bin radius of the drawn colour;
5. ab of every new result is multiplied by ``settings.saturation`` (the global
   saturation hint; :meth:`polychrome.core.hints.HintDocument.sampler_settings` folds the
   document's saturation into it).

Only step 4 touches the chosen results, so its cost scales with ``n``, not with the
number of candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..bins import DEFAULT_T
from ..models.base import BestGuess
from ..resize import resize_l
from .confidence import CONFIDENCE_RADIUS, ab_confidence, bin_confidence, neighbour_table
from .draw import (
    MAX_BINS,
    candidate_seeds,
    check_logits,
    draw_bins,
    independent_samples,
    smooth_gumbel_noise,
)
from .modes import colour_maps, draw_objects, pull_toward
from .objects import ObjectRegions, object_regions
from .regions import luminance_regions
from .regularise import DEFAULT_LAMBDA, DEFAULT_SIGMA_L, edge_weights, energy, regularise
from .select import farthest_point, n_candidates, pairwise_ab_distance, select_diverse

__all__ = [
    "MEAN_SEED",
    "METHODS",
    "ObjectRegions",
    "SampleSet",
    "SamplerSettings",
    "draw_bins",
    "edge_weights",
    "energy",
    "farthest_point",
    "independent_samples",
    "l_at_working_res",
    "object_regions",
    "pairwise_ab_distance",
    "regularise",
    "sample",
    "sample_from_seed",
    "select_diverse",
    "smooth_gumbel_noise",
]

METHODS = ("objects", "field")
MEAN_SEED = -1  # seed reported for the annealed mean (deterministic) and for locked results of unknown seed
MEAN_SMOOTHNESS = 0.3  # the annealed mean is already smooth: regularise it with 0.3 lambda
MIN_CONFIDENCE = 0.05  # floor of the data weight, so uncertain pixels still anchor to their draw a little


@dataclass
class SamplerSettings:
    """User-facing sampler controls (see DESIGN section 3)."""

    n: int = 8  # results shown, index 0 is always the annealed mean (best guess)
    # Draw temperature T: draws take p^(1/T); on dev 0.85 gives object draws >= 8 ab of diversity.
    temperature: float = 0.85
    correlation: float = 6.0  # spatial correlation length of the draw noise, working-res pixels
    smoothness: float = 1.0  # multiplier of the TV weight lambda
    diversity: float = 1.0  # 0 = keep draws in order; 1 = draw 4x more candidates and pick far-apart ones
    saturation: float = 1.0  # scales ab of every result (global hint)
    seed: int = 0
    iterations: int = 80  # primal-dual iterations
    # Share of the draw noise's variance that is one value per region of similar luminance
    # (0 = purely spatial noise): regions tend to take one colour, marginals stay exact.
    # Used by the "field" method only.
    region_coherence: float = 0.7
    # "objects": one colour mode per object from its pooled marginal (:mod:`.modes`);
    # "field": per-pixel draws with smooth, region-shared noise (:mod:`.draw`).
    method: str = "objects"

    def validate(self) -> None:
        """Raise ValueError on out-of-range settings."""
        if self.n < 1:
            raise ValueError("n must be >= 1")
        if not self.temperature > 0:
            raise ValueError("temperature must be positive")
        for name in ("correlation", "smoothness", "diversity", "saturation"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0")
        if self.iterations < 0:
            raise ValueError("iterations must be >= 0")
        if not 0.0 <= self.region_coherence < 1.0:
            raise ValueError("region_coherence must be in [0, 1)")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")


@dataclass
class SampleSet:
    """N results at working (marginal) resolution.

    ab: ``(N, 2, h, w)`` float32; ``ab[0]`` is the annealed mean unless index 0 was locked.
    seeds: per-result seed (:data:`MEAN_SEED` for the annealed mean); pass one to
        :func:`sample_from_seed` to reproduce that result.
    settings: the settings used.
    """

    ab: torch.Tensor
    seeds: list[int]
    settings: SamplerSettings = field(default_factory=SamplerSettings)


def l_at_working_res(L_full: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """Full-res L* ``(H, W)`` -> ``(1, 1, h, w)`` float32 at ``size = (h, w)``, antialiased
    (:func:`polychrome.core.resize.resize_l`, as the network's own input resize)."""
    return resize_l(L_full, size)


def _check_inputs(logits: torch.Tensor, centres: torch.Tensor, L_work: torch.Tensor) -> None:
    check_logits(logits, centres)
    if L_work.ndim != 4 or L_work.shape[:2] != (1, 1) or L_work.shape[2:] != logits.shape[2:]:
        raise ValueError(
            f"L_work must have shape (1, 1, {logits.shape[2]}, {logits.shape[3]}), got {tuple(L_work.shape)}"
        )


def _pixels_major(logits: torch.Tensor) -> torch.Tensor:
    """``(1, Q, h, w)`` -> ``(hw, Q)`` contiguous float32: softmaxes over bins along memory."""
    return logits[0].reshape(logits.shape[1], -1).T.float().contiguous()


def _annealed_mean(lt: torch.Tensor, centres: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """:func:`polychrome.core.bins.annealed_mean` on pixels-major logits ``(hw, Q)`` -> ``(1, 2, h, w)``."""
    ab = torch.softmax(lt / DEFAULT_T, dim=1) @ centres  # (hw, 2)
    return ab.T.reshape(1, 2, h, w)


def _to_ab(bins: torch.Tensor, centres: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Bin indices ``(M, hw)`` -> ab ``(M, 2, h, w)``."""
    return centres.T[:, bins].permute(1, 0, 2).reshape(bins.shape[0], 2, h, w)


def _draw_confidence(probs: torch.Tensor, centres: torch.Tensor, bins: torch.Tensor, h: int, w: int):
    """Confidence ``(M, 1, h, w)`` of drawn bins ``(M, hw)`` under ``probs (hw, Q)``."""
    c = bin_confidence(probs, bins, neighbour_table(centres, CONFIDENCE_RADIUS))
    return c.reshape(-1, 1, h, w)


def _draw(logits: torch.Tensor, L_work: torch.Tensor, seeds: list[int], settings: SamplerSettings):
    """Candidate bin fields, region-coherent when ``settings.region_coherence > 0``."""
    regions = None
    if settings.region_coherence > 0 and settings.correlation > 1.0:
        regions = luminance_regions(L_work)
    return draw_bins(
        logits,
        seeds,
        settings.temperature,
        settings.correlation,
        MAX_BINS,
        regions,
        settings.region_coherence,
    )


def _object_results(
    probs: torch.Tensor, centres: torch.Tensor, colours: torch.Tensor, labels: torch.Tensor, h: int, w: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Drawn region colours ``(M, F, 2)`` over ``labels`` ``(h, w)`` -> per-pixel ab and
    confidence ``(M, 1, h, w)``."""
    m = colours.shape[0]
    ab = pull_toward(probs, centres, colours, labels.reshape(-1).to(probs.device))  # (M, 2, hw)
    conf = ab_confidence(probs, centres, ab, CONFIDENCE_RADIUS)
    return ab.reshape(m, 2, h, w), conf.reshape(m, 1, h, w)


def _finish(
    s: torch.Tensor, c: torch.Tensor, L_work: torch.Tensor, lam: torch.Tensor, settings: SamplerSettings
) -> torch.Tensor:
    u = regularise(s, c.clamp_min(MIN_CONFIDENCE), L_work, lam, settings.iterations, DEFAULT_SIGMA_L)
    return u * settings.saturation


def sample(
    logits: torch.Tensor,
    centres: torch.Tensor,
    L_work: torch.Tensor,
    settings: SamplerSettings,
    locked: dict[int, torch.Tensor] | None = None,
    locked_seeds: dict[int, int] | None = None,
    best_guess: BestGuess | None = None,
    regions: ObjectRegions | None = None,
    first: torch.Tensor | None = None,
) -> SampleSet:
    """Draw ``settings.n`` diverse, coherent colourisations.

    Args:
        logits: ``(1, Q, h, w)`` marginal logits, already hint-reweighted.
        centres: ``(Q, 2)`` ab bin centres.
        L_work: ``(1, 1, h, w)`` L* at working resolution (:func:`l_at_working_res`).
        settings: :class:`SamplerSettings`.
        locked: result index -> ab ``(2, h, w)``, returned unchanged (not even re-saturated);
            the other results are redrawn and chosen far from them.
        locked_seeds: optional result index -> seed of a locked result, echoed in ``seeds``.
        best_guess: the model's rule for result 0 (the marginals' ``best_guess``); default:
            the plain annealed mean at T = 0.38.
        regions: objects of the image for the "objects" method (:func:`object_regions`),
            e.g. computed once from the network's own marginals so that hints do not move
            them; default: computed from ``logits``.
        first: result 0 ``(2, h, w)`` made by the caller (e.g. the best guess under hints),
            returned as is instead of the regularised best guess of ``logits``. Either way the
            draws are chosen far from the plain annealed mean of ``logits`` (not from ``first``
            or the ``best_guess`` rule). Ignored when 0 is locked.
    Returns:
        :class:`SampleSet` with ``ab (n, 2, h, w)`` on the logits' device. Same inputs and
        settings give identical tensors.
    """
    settings.validate()
    centres = torch.as_tensor(centres).to(device=logits.device, dtype=torch.float32)
    _check_inputs(logits, centres, L_work)
    locked = dict(locked or {})
    _, q, h, w = logits.shape
    n, device = settings.n, logits.device
    for i, ab in locked.items():
        if not 0 <= i < n:
            raise ValueError(f"locked index {i} outside 0..{n - 1}")
        if tuple(ab.shape) != (2, h, w):
            raise ValueError(f"locked result {i} must have shape (2, {h}, {w}), got {tuple(ab.shape)}")
    free = [i for i in range(n) if i not in locked]
    draw_slots = [i for i in free if i != 0]
    lam = DEFAULT_LAMBDA * settings.smoothness

    with torch.no_grad():
        logits = logits.float()
        L_work = L_work.to(device=device, dtype=torch.float32)
        lt = _pixels_major(logits)
        probs = torch.softmax(lt, dim=1)  # (hw, Q) T = 1 marginals, for the confidences
        batch_s, batch_c, batch_lam, fixed = [], [], [], []
        if 0 in locked:
            fixed.append(locked[0].to(device=device, dtype=torch.float32))
        else:
            # The draws are chosen far from the marginals' own annealed mean, not from a best-guess
            # rule's boosted colours: under a hint, draws far from a chroma-gained mean are the
            # ones that paint the hint's colour where its pull is weak (recolour probe's leak).
            own = _annealed_mean(lt, centres, h, w)
            fixed.append(own[0])
            if first is None:  # result 0 is the rule's best guess, regularised like the draws
                mean = own if best_guess is None else best_guess.ab(logits, centres).reshape(1, 2, h, w)
                c0 = ab_confidence(probs, centres, mean.reshape(1, 2, -1), CONFIDENCE_RADIUS)
                batch_s.append(mean)
                batch_c.append(c0.reshape(1, 1, h, w))
                batch_lam.append(lam * MEAN_SMOOTHNESS)
        fixed += [locked[i].to(device=device, dtype=torch.float32) for i in sorted(locked) if i != 0]

        chosen_seeds: list[int] = []
        if draw_slots:
            k = len(draw_slots)
            seeds = candidate_seeds(settings.seed, n_candidates(k, settings.diversity))
            if settings.method == "objects":
                objs = regions if regions is not None else object_regions(probs, centres, L_work)
                od = draw_objects(probs, centres, objs, seeds, settings.temperature)
                maps = colour_maps(od, objs, h, w)
                pick = select_diverse(maps, od.loglik, torch.stack(fixed), k, settings.diversity)
                s_k, c_k = _object_results(probs, centres, od.fine_colour[pick], objs.fine, h, w)
            else:
                draws = _draw(logits, L_work, seeds, settings)
                bins = draws.bins.reshape(len(seeds), -1)
                pick = select_diverse(
                    _to_ab(bins, centres, h, w), draws.loglik, torch.stack(fixed), k, settings.diversity
                )
                chosen = bins[pick]
                s_k, c_k = _to_ab(chosen, centres, h, w), _draw_confidence(probs, centres, chosen, h, w)
            batch_s.append(s_k)
            batch_c.append(c_k)
            batch_lam += [lam] * k
            chosen_seeds = [seeds[j] for j in pick]

        out = torch.empty(n, 2, h, w, device=device)
        solved = free if first is None or 0 not in free else [i for i in free if i != 0]
        if batch_s:
            lam_t = torch.tensor(batch_lam, device=device)
            u = _finish(torch.cat(batch_s), torch.cat(batch_c), L_work, lam_t, settings)
            out[solved] = u
        if first is not None and 0 in free:
            out[0] = first.to(device=device, dtype=torch.float32)
        for i, ab in locked.items():
            out[i] = ab.to(device=device, dtype=torch.float32)

    seeds_out = [MEAN_SEED] * n
    for slot, sd in zip(draw_slots, chosen_seeds, strict=True):
        seeds_out[slot] = sd
    for i in locked:
        seeds_out[i] = (locked_seeds or {}).get(i, MEAN_SEED)
    return SampleSet(ab=out, seeds=seeds_out, settings=settings)


def sample_from_seed(
    logits: torch.Tensor,
    centres: torch.Tensor,
    L_work: torch.Tensor,
    settings: SamplerSettings,
    seed: int,
    regions: ObjectRegions | None = None,
) -> torch.Tensor:
    """Reproduce one result from its seed (as reported in :attr:`SampleSet.seeds`) -> ab ``(2, h, w)``.

    ``seed == MEAN_SEED`` gives the annealed mean. Same logits and settings give the
    result :func:`sample` returned for that seed, to float rounding (well under 1e-3 ab:
    object draws share one matrix product per region among all draws made together).
    """
    if seed == MEAN_SEED:
        one = SamplerSettings(**{**settings.__dict__, "n": 1})
        return sample(logits, centres, L_work, one).ab[0]
    settings.validate()
    centres = torch.as_tensor(centres).to(device=logits.device, dtype=torch.float32)
    _check_inputs(logits, centres, L_work)
    _, _, h, w = logits.shape
    with torch.no_grad():
        logits = logits.float()
        probs = torch.softmax(_pixels_major(logits), dim=1)
        L_work = L_work.to(device=logits.device, dtype=torch.float32)
        if settings.method == "objects":
            objs = regions if regions is not None else object_regions(probs, centres, L_work)
            od = draw_objects(probs, centres, objs, [int(seed)], settings.temperature)
            s, c = _object_results(probs, centres, od.fine_colour, objs.fine, h, w)
        else:
            draws = _draw(logits, L_work, [int(seed)], settings)
            bins = draws.bins.reshape(1, -1)
            s, c = _to_ab(bins, centres, h, w), _draw_confidence(probs, centres, bins, h, w)
        lam_t = torch.tensor([DEFAULT_LAMBDA * settings.smoothness], device=logits.device)
        return _finish(s, c, L_work, lam_t, settings)[0]
