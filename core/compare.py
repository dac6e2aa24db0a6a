"""Comparing marginal models on one folder, in one run (the research brief's Q1).

For every model: the annealed mean's PSNR / SSIM / AuC / colourfulness at each
temperature of a sweep (the temperature is then *chosen on this folder*: the
highest PSNR whose colourfulness ratio is at least ``min_colourfulness``), the
plain soft-encoded cross-entropy and the expected calibration error (ECE) of the
bin probabilities, best-of-N of the sampler, the network's time at 256 px, and
the skin row on faces found in the ground truth (:mod:`.skin`).

Loss variants without retraining: a model trained with plain CE estimates p(k|x);
the population minimiser of the *rebalanced* loss with weights w is q ∝ w·p (the
weight depends only on the true bin). So ``logits + log w_λ`` shows what
rebalancing by λ does to the same network's marginals; the model card's
``bin_prior`` gives w. Ground truth and network input are at short side ``size``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import metrics as M
from .bins import nearest_bin, point_estimate, rebalance_weights
from .color import lab_to_rgb, rgb_to_lab
from .evaluate import list_images, load_ground_truth
from .models import MarginalModel
from .pipeline import compose_rgb, predict_marginals
from .sampler import SamplerSettings, l_at_working_res, sample
from .skin import detect_faces, face_warmth_contrast, skin_fraction
from .train import rebalanced_ce

DEFAULT_TEMPERATURES = (0.2, 0.3, 0.38, 0.5, 0.7, 1.0)


@dataclass
class CompareConfig:
    size: int = 256
    n: int = 8
    temperatures: tuple[float, ...] = DEFAULT_TEMPERATURES
    min_colourfulness: float = 0.8
    lams: tuple[float, ...] = (0.5, 0.8, 0.85)  # rebalancing variants of models whose card has a prior
    chromas: tuple[str, ...] = ("mean", "expected")  # point estimates (bins.point_estimate)
    gains: tuple[float, ...] = (1.5, 2.0, 2.5)  # chroma gains on the own marginals' annealed mean
    limit: int | None = None
    seed: int = 0
    ece_bins: int = 15


@dataclass
class Entry:
    """Accumulated metrics of one model (or loss variant) over the images."""

    name: str
    by_t: dict[float, dict[str, list[float]]] = field(default_factory=dict)
    scalars: dict[str, list[float]] = field(default_factory=dict)
    conf_hist: np.ndarray | None = None  # (bins, 3): count, sum confidence, sum correct

    def add(self, key: str, v: float, t: float | None = None) -> None:
        d = self.scalars if t is None else self.by_t.setdefault(t, {})
        d.setdefault(key, []).append(float(v))

    def mean(self, key: str, t: float | None = None) -> float:
        d = self.scalars if t is None else self.by_t.get(t, {})
        vals = [v for v in d.get(key, []) if np.isfinite(v)]
        return float(np.mean(vals)) if vals else math.nan

    def ece(self) -> float:
        h = self.conf_hist
        if h is None or h[:, 0].sum() == 0:
            return math.nan
        n = h[:, 0]
        gap = np.abs(h[:, 1] - h[:, 2])  # |sum conf - sum correct| per bin = n·|conf - acc|
        return float(gap.sum() / n.sum())


def _accumulate_calibration(
    e: Entry, logits: torch.Tensor, centres: torch.Tensor, gt_ab: np.ndarray, nb: int
) -> None:
    """Top-1 bin confidence vs. whether the GT's nearest bin is that bin, at the logits' resolution."""
    tgt = F.adaptive_avg_pool2d(torch.from_numpy(gt_ab)[None], (logits.shape[-2], logits.shape[-1])).to(
        logits
    )
    true_bin = nearest_bin(tgt, centres)[0]
    p = logits[0].float().softmax(0)
    conf, top = p.max(0)
    correct = (top == true_bin).double()
    idx = (conf.double() * nb).long().clamp(max=nb - 1)
    h = np.zeros((nb, 3))
    h[:, 0] = torch.bincount(idx.flatten(), minlength=nb).numpy()
    h[:, 1] = torch.bincount(idx.flatten(), weights=conf.double().flatten(), minlength=nb).numpy()
    h[:, 2] = torch.bincount(idx.flatten(), weights=correct.flatten(), minlength=nb).numpy()
    e.conf_hist = h if e.conf_hist is None else e.conf_hist + h


def network_ms(model: MarginalModel, size: int = 256, repeats: int = 5) -> float:
    """Median forward time (ms) on a ``size`` x ``size`` L, after one warm-up."""
    x = torch.full((1, 1, size, size), 50.0, device=model.device)
    times = []
    with torch.inference_mode():
        model(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            if model.device.type == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


@dataclass(frozen=True)
class Variant:
    """One best-guess rule of one model: a logit correction (rebalancing λ) and a chroma rule."""

    model: str
    label: str
    offset: torch.Tensor | None  # (Q,) added to the logits; None = the model's own marginals
    lam: float | None
    chroma: str
    gain: float = 1.0

    @property
    def plain_mean(self) -> bool:
        """The annealed mean of its logits as is (no expected chroma, no gain): the variant that
        carries the logits' own measures (CE, calibration), the others reading the same logits."""
        return self.chroma == "mean" and self.gain == 1.0


def _variants(name: str, model: MarginalModel, card: dict, cfg: CompareConfig) -> list[Variant]:
    """The model's own marginals and its rebalanced variants, each with every chroma rule, and
    the own marginals' annealed mean with each chroma gain."""
    base: list[tuple[str, torch.Tensor | None, float | None]] = [(name, None, None)]
    prior = card.get("bin_prior")
    if prior is not None and len(prior) == model.num_bins:
        for lam in cfg.lams:
            w = rebalance_weights(np.asarray(prior, np.float64), lam)
            base.append(
                (f"{name} + rebalancing λ={lam:g}", torch.log(torch.as_tensor(w, dtype=torch.float32)), lam)
            )
    out = [
        Variant(name, label if chroma == "mean" else f"{label}, expected chroma", offset, lam, chroma)
        for chroma in cfg.chromas
        for label, offset, lam in base
    ]
    out += [Variant(name, f"{name}, chroma gain {g:g}", None, None, "mean", g) for g in cfg.gains if g != 1.0]
    return out


def compare(
    models: dict[str, tuple[MarginalModel, dict]], folder: Path, cfg: CompareConfig, progress: bool = True
) -> dict:
    """Run every model on ``folder``; returns entries, gray/GT references and face counts."""
    from tqdm import tqdm

    paths = list_images(folder, cfg.limit)
    if not paths:
        raise FileNotFoundError(f"no images in {folder}")
    gray, gt_ref = Entry("gray"), Entry("ground truth")
    entries: dict[str, Entry] = {}
    faces_total = 0
    plan = {n: _variants(n, m, c, cfg) for n, (m, c) in models.items()}
    for i, p in enumerate(tqdm(paths, unit="img", disable=not progress, desc="compare")):
        gt = load_ground_truth(p, cfg.size)
        lab = rgb_to_lab(gt.astype(np.float32) / 255.0)
        L = lab[..., 0]
        gt_ab = M.rgb_to_ab(gt)
        faces = detect_faces(L)
        faces_total += len(faces)
        g = M.to_uint8(lab_to_rgb(np.dstack([L, np.zeros_like(L), np.zeros_like(L)])))
        gray.add("psnr", M.psnr(g, gt))
        gray.add("ssim", M.ssim(g, gt))
        gray.add("auc", M.ab_auc(M.rgb_to_ab(g), gt_ab))
        gt_ref.add("colourfulness", M.colourfulness(gt))
        gt_ref.add("skin", skin_fraction(gt_ab, faces))
        gt_ref.add("warmth", face_warmth_contrast(gt_ab, faces))
        for name, (model, _card) in models.items():
            marg = predict_marginals(model, L, cfg.size)
            for v in plan[name]:
                e = entries.setdefault(v.label, Entry(v.label))
                logits = (
                    marg.logits if v.offset is None else marg.logits + v.offset.to(marg.logits)[:, None, None]
                )
                if v.plain_mean:  # the other rules read the same marginals
                    ce = rebalanced_ce(logits, torch.from_numpy(gt_ab)[None].to(logits), marg.centres, None)
                    e.add("ce", float(ce))
                    _accumulate_calibration(e, logits, marg.centres, gt_ab, cfg.ece_bins)
                for T in cfg.temperatures:
                    u8 = M.to_uint8(compose_rgb(L, point_estimate(logits, marg.centres, T, v.chroma, v.gain)))
                    ab = M.rgb_to_ab(u8)
                    e.add("psnr", M.psnr(u8, gt), T)
                    e.add("ssim", M.ssim(u8, gt), T)
                    e.add("auc", M.ab_auc(ab, gt_ab), T)
                    e.add("colourfulness", M.colourfulness(u8), T)
                    e.add("skin", skin_fraction(ab, faces), T)
                    e.add("warmth", face_warmth_contrast(ab, faces), T)
                if v.offset is None and v.plain_mean:  # best-of-N: the own marginals, once
                    L_work = l_at_working_res(L, marg.shape).to(marg.logits.device)
                    ss = sample(
                        marg.logits, marg.centres, L_work, SamplerSettings(n=cfg.n, seed=cfg.seed + i)
                    )
                    preds = np.stack([M.to_uint8(compose_rgb(L, a)) for a in ss.ab])
                    e.add("best_of_n", M.best_of_n_psnr(preds, gt))
    for name, (model, _card) in models.items():
        entries[name].add("network_ms", network_ms(model, 256))
    return {
        "gray": gray,
        "gt": gt_ref,
        "entries": entries,
        "images": len(paths),
        "faces": faces_total,
        "models": list(models),
        "variants": {v.label: v for vs in plan.values() for v in vs},
    }


def chosen_temperature(e: Entry, gt_colourfulness: float, cfg: CompareConfig) -> float:
    """Highest-PSNR temperature whose colourfulness ratio is >= ``min_colourfulness``
    (else the most colourful one): a best guess may not buy PSNR by going sepia."""
    ratio = {t: e.mean("colourfulness", t) / gt_colourfulness for t in cfg.temperatures}
    ok = [t for t in cfg.temperatures if ratio[t] >= cfg.min_colourfulness]
    if ok:
        return max(ok, key=lambda t: e.mean("psnr", t))
    return max(cfg.temperatures, key=lambda t: ratio[t])


def chosen_rule(res: dict, model: str, cfg: CompareConfig) -> tuple[str, float | None, float, str, float]:
    """The best-guess rule for ``model`` chosen on this folder: (entry label, λ or None, T, chroma, gain).

    Among the model's own marginals, its rebalancing corrections and its chroma gains, with
    either chroma rule, at every swept temperature: the highest PSNR whose colourfulness ratio
    is >= ``min_colourfulness``; if none reaches it, the most colourful one.
    """
    gcol = res["gt"].mean("colourfulness")
    cands = []
    for label, v in res["variants"].items():
        if v.model != model:
            continue
        e = res["entries"][label]
        for t in cfg.temperatures:
            col = e.mean("colourfulness", t) / gcol
            cands.append((label, v.lam, t, v.chroma, v.gain, e.mean("psnr", t), col))
    ok = [c for c in cands if c[6] >= cfg.min_colourfulness]
    best = max(ok, key=lambda c: c[5]) if ok else max(cands, key=lambda c: c[6])
    return best[0], best[1], best[2], best[3], best[4]


def _f(x: float, d: int = 2) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{d}f}"


def format_markdown(res: dict, cfg: CompareConfig, command: str = "") -> str:
    gray, gt, entries = res["gray"], res["gt"], res["entries"]
    gcol = gt.mean("colourfulness")
    lines = [f"Command: `{command}`", ""] if command else []
    lines += [
        f"Images: {res['images']} · short side {cfg.size} px · "
        f"faces found (OpenCV Haar, on L): {res['faces']} · "
        f"temperature chosen per model on this folder from {', '.join(f'{t:g}' for t in cfg.temperatures)}: "
        f"highest PSNR with colourfulness ≥ {cfg.min_colourfulness:g}× GT",
        "",
        "| Model | T | PSNR (dB) | SSIM | AuC | Colourfulness ratio | Plain CE | ECE | "
        f"Best-of-{cfg.n} (dB) | Network ms (256², this machine) | Skin on faces | Face − surround warmth |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| Gray (ab = 0) | – | {_f(gray.mean('psnr'))} | {_f(gray.mean('ssim'), 4)} | "
        f"{_f(gray.mean('auc'), 4)} | 0.00 | – | – | – | – | 0.00 | 0.0 |",
    ]
    for name, e in entries.items():
        t = chosen_temperature(e, gcol, cfg)
        lines.append(
            f"| {name} | {t:g} | {_f(e.mean('psnr', t))} | {_f(e.mean('ssim', t), 4)} | "
            f"{_f(e.mean('auc', t), 4)} | {_f(e.mean('colourfulness', t) / gcol, 3)} | "
            f"{_f(e.mean('ce'), 3)} | "
            f"{_f(e.ece(), 3)} | {_f(e.mean('best_of_n'))} | {_f(e.mean('network_ms'), 0)} | "
            f"{_f(e.mean('skin', t))} | {_f(e.mean('warmth', t), 1)} |"
        )
    lines.append(
        f"| Ground truth | – | ∞ | 1.0000 | 1.0000 | 1.000 | – | – | – | – | {_f(gt.mean('skin'))} | "
        f"{_f(gt.mean('warmth'), 1)} |"
    )
    lines += [
        "",
        "**Temperature sweep** (PSNR dB / colourfulness ratio of the annealed mean)",
        "",
        "| Model | " + " | ".join(f"T = {t:g}" for t in cfg.temperatures) + " |",
        "|---|" + "---:|" * len(cfg.temperatures),
    ]
    for name, e in entries.items():
        cells = [
            f"{_f(e.mean('psnr', t))} / {_f(e.mean('colourfulness', t) / gcol)}" for t in cfg.temperatures
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "**Best-guess rule chosen on this folder** (highest PSNR with colourfulness ≥ "
        f"{cfg.min_colourfulness:g}× GT over the corrections, gains and temperatures above; "
        "`polychrome weights pack --temperature T --rebalance-lambda λ --chroma C --gain G` "
        "keeps it in the card)",
        "",
    ]
    for model in res.get("models", []):
        label, lam, t, chroma, gain = chosen_rule(res, model, cfg)
        e = entries[label]
        lines.append(
            f"- `{model}`: "
            + ("no correction" if lam is None else f"rebalancing λ = {lam:g}")
            + f", {chroma} chroma, gain {gain:g}, T = {t:g}: PSNR {_f(e.mean('psnr', t))} dB "
            f"(gray {_f(gray.mean('psnr'))}), "
            f"colourfulness {_f(e.mean('colourfulness', t) / gcol, 3)}× GT, skin on faces "
            f"{_f(e.mean('skin', t))} (GT {_f(gt.mean('skin'))}), face − surround warmth "
            f"{_f(e.mean('warmth', t), 1)} (GT {_f(gt.mean('warmth'), 1)})"
        )
    return "\n".join(lines) + "\n"
