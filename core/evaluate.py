"""The evaluation protocol of DESIGN.md section 5, on a folder of colour photos.

Every photo is loaded as sRGB, scaled so that its short side is ``size``
(the network input size; Lanczos, never enlarged) and this scaled image *is*
the ground truth: its L* goes into the network, predictions are composed at
the same resolution (ab from the network's 1/4-res output, upsampled
edge-aware exactly as the app does) and compared with it. Evaluating at the
network resolution rather than the original keeps a 100-image run to minutes
on 2 CPU cores; luminance is the GT's own in every method, so it only
affects how much upsampling the ab has to survive.

All metrics are computed on 8-bit sRGB results (what a user saves):
PSNR/SSIM on RGB, AuC/diversity/coherence on the ab of the 8-bit images.
Baselines, measured in the same run: gray (ab = 0), independent per-pixel
sampling (for the N-sample figures) and Levin et al. 2004 (for the hints
curve). Simulated hints: per image a fixed-seed list of ``max(hints)``
patches (6 x 6 px, uniform positions); ``k`` hints are the first ``k`` of
that list, so the curve is nested and every method gets the same hints.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import metrics as M
from .color import lab_to_rgb, rgb_to_lab
from .eval_hints import DEFAULT_HINTS, DEFAULT_REACHES, hint_curve, hints_markdown
from .eval_recolour import recolour_markdown, recolour_probe
from .eval_samples import format_table as samples_table
from .eval_samples import gt_objects
from .eval_samples import set_metrics as sample_set_metrics
from .formats import SUPPORTED_SUFFIXES
from .models import MarginalModel
from .pipeline import predict_marginals
from .prepared import PreparedImage
from .sampler import SamplerSettings, independent_samples

WORK_MIN_REGION = 8  # smallest region at working (1/4) resolution, ~ 128 px at the evaluated one


@dataclass
class EvalConfig:
    """Settings of one evaluation run (everything that changes the numbers)."""

    size: int = 256  # short side of the GT / network input
    n: int = 8  # samples per image
    hints: tuple[int, ...] = DEFAULT_HINTS
    limit: int | None = None  # first K images in sorted order
    seed: int = 0
    patch: int = 6  # simulated hint patch side (px)
    hint_radius: float = 3.0  # Polychrome stroke radius (px)
    hint_reaches: tuple[float, ...] = DEFAULT_REACHES  # stroke Reach, one curve each (1 = default brush)
    levin_short_side: int = 256  # Levin working resolution
    temperature: float | None = None  # best-guess temperature; None: the model's own rule (its card)


@dataclass
class EvalResult:
    """Per-image metrics, their means and stage timings of one run."""

    config: EvalConfig
    images: list[str]
    per_image: list[dict[str, float]]
    timings_ms: dict[str, float]
    device: str
    model: str
    wall_s: float
    sampler_settings: dict = field(default_factory=dict)
    command: str = ""

    def mean(self, key: str) -> float:
        vals = [r[key] for r in self.per_image if key in r and np.isfinite(r[key])]
        return float(np.mean(vals)) if vals else math.nan

    def ratio_of_means(self, num: str, den: str) -> float:
        a = sum(r[num] for r in self.per_image)
        b = sum(r[den] for r in self.per_image)
        return a / b if b > 0 else math.nan

    def to_markdown(self) -> str:
        return format_markdown(self)


# ------------------------------------------------------------- inputs ---


def list_images(folder: Path, limit: int | None = None) -> list[Path]:
    """Image files directly in ``folder``, sorted by name, at most ``limit``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file())
    return files[:limit] if limit else files


def load_ground_truth(path: Path, size: int) -> np.ndarray:
    """Colour photo -> sRGB uint8 ``(H, W, 3)`` with short side ``size`` (never enlarged)."""
    with Image.open(path) as f:
        im: Image.Image = f.convert("RGB")
        s = size / min(im.size)
        if s < 1.0:
            w, h = max(1, round(im.width * s)), max(1, round(im.height * s))
            im = im.resize((w, h), Image.Resampling.LANCZOS)
        return np.asarray(im, dtype=np.uint8).copy()


# ------------------------------------------------------------- timing ---


def cpu_threads_label() -> str:
    """``'1 thread'`` / ``'2 threads'``: torch's intra-op CPU threads, for timing tables."""
    n = torch.get_num_threads()
    return f"{n} thread" + ("s" if n != 1 else "")


class StageTimer:
    """Accumulates wall time per stage; synchronises CUDA so GPU work is counted."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.total: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def run(self, stage: str, fn, *args, **kwargs):
        self._sync()
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        self._sync()
        self.total[stage] += time.perf_counter() - t
        self.count[stage] += 1
        return out

    def mean_ms(self) -> dict[str, float]:
        return {k: 1000.0 * v / self.count[k] for k, v in self.total.items()}


# ----------------------------------------------------------- the run ---


def _lab_image(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """L ``(H, W)`` + ab ``(2, H, W)`` at the same resolution -> sRGB float ``(H, W, 3)``."""
    lab = np.concatenate([L[..., None], np.moveaxis(ab, 0, -1)], axis=-1)
    return lab_to_rgb(lab)


def _set_metrics(
    prefix: str, rgbs: Sequence[np.ndarray], gt: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """best-of-N PSNR, diversity, coherence and colourfulness of N final results (8-bit sRGB)."""
    u8 = np.stack([M.to_uint8(x) for x in rgbs])
    abs_ = np.stack([M.rgb_to_ab(x) for x in u8])
    return {
        f"{prefix}/best_psnr": M.best_of_n_psnr(u8, gt),
        f"{prefix}/diversity": M.mean_pairwise_ab_distance(abs_),
        f"{prefix}/coherence": _mean_spread(abs_, labels),
        f"{prefix}/colourfulness": float(np.mean([M.colourfulness(x) for x in u8])),
    }


def _mean_spread(abs_: np.ndarray, labels: np.ndarray) -> float:
    """Mean over results ``(N, 2, H, W)`` of the region ab spread; nan without regions."""
    if not (labels >= 0).any():
        return math.nan
    return float(np.mean([M.region_ab_spread(a, labels) for a in abs_]))


def _raw_metrics(prefix: str, ab_work: torch.Tensor, labels_work: np.ndarray) -> dict[str, float]:
    """Diversity and coherence of raw working-res ab ``(N, 2, h, w)``, before upsampling."""
    a = ab_work.detach().float().cpu().numpy()
    return {
        f"{prefix}/diversity_raw": M.mean_pairwise_ab_distance(a),
        f"{prefix}/coherence_raw": _mean_spread(a, labels_work),
    }


def evaluate_image(
    model: MarginalModel, gt: np.ndarray, cfg: EvalConfig, seed: int, timer: StageTimer
) -> dict[str, float]:
    """All metrics of one GT image ``(H, W, 3)`` uint8; ``seed`` fixes sampler and hints."""
    H, W = gt.shape[:2]
    gt_lab = rgb_to_lab(gt.astype(np.float32) / 255.0)
    L = gt_lab[..., 0]
    gt_ab = M.rgb_to_ab(gt)
    labels = M.constant_colour_regions(gt_ab)
    r: dict[str, float] = {
        "gt/colourfulness": M.colourfulness(gt),
        "gt/coherence": M.region_ab_spread(gt_ab, labels),
    }

    def single(prefix: str, rgb: np.ndarray) -> None:
        u8 = M.to_uint8(rgb)
        ab = M.rgb_to_ab(u8)
        r[f"{prefix}/psnr"] = M.psnr(u8, gt)
        r[f"{prefix}/ssim"] = M.ssim(u8, gt)
        r[f"{prefix}/auc"] = M.ab_auc(ab, gt_ab)
        r[f"{prefix}/colourfulness"] = M.colourfulness(u8)
        r[f"{prefix}/coherence"] = M.region_ab_spread(ab, labels)

    single("gray", _lab_image(L, np.zeros((2, H, W), np.float32)))

    with torch.inference_mode():
        marg = timer.run("network", predict_marginals, model, L, cfg.size)
        prepared = PreparedImage.from_marginals(marg, L)
        logits, centres = marg.logits, marg.centres
        best_ab = prepared.best_guess(T=cfg.temperature)
        single("best", timer.run("upsample", prepared.compose, best_ab))

        # N samples from the sampler vs. independent per-pixel draws; index 0 of both
        # sets is the best guess, as in the app's grid.
        settings = SamplerSettings(n=cfg.n, seed=seed)
        ss = timer.run("sampler", prepared.sample, settings)
        rgb_ss = [prepared.compose(a) for a in ss.ab]
        r.update(_set_metrics("sampler", rgb_ss, gt, labels))
        ind = timer.run(
            "independent", independent_samples, logits, centres, cfg.n - 1, settings.temperature, seed
        )
        ind = torch.cat([best_ab.to(ind), ind])
        rgb_ind = [prepared.compose(a) for a in ind]
        r.update(_set_metrics("independent", rgb_ind, gt, labels))
        # What the results differ by, in the GT's objects: object draws, field draws, independent.
        field_set = timer.run("sampler_field", prepared.sample, replace(settings, method="field"))
        objects = gt_objects(gt)
        r.update(sample_set_metrics(settings.method, rgb_ss, gt, objects))
        r.update(sample_set_metrics("field", [prepared.compose(a) for a in field_set.ab], gt, objects))
        r.update(sample_set_metrics("independent", rgb_ind, gt, objects))
        # The same before the edge-aware upsampling (which smooths per-pixel noise):
        # regions of the GT ab area-averaged to the working resolution.
        gt_ab_work = F.interpolate(torch.from_numpy(gt_ab)[None], size=marg.shape, mode="area")[0].numpy()
        labels_work = M.constant_colour_regions(gt_ab_work, min_size=WORK_MIN_REGION)
        r.update(_raw_metrics("sampler", ss.ab, labels_work))
        r.update(_raw_metrics("independent", ind, labels_work))

        # Hints curve: same patches for Polychrome and Levin (core/eval_hints.py).
        rng = np.random.default_rng([cfg.seed, seed])
        hint_cfg = (cfg.hints, cfg.hint_reaches, cfg.patch, cfg.hint_radius, rng, cfg.temperature)
        r.update(hint_curve(prepared, gt, gt_lab, *hint_cfg, cfg.levin_short_side, timer.run))
        if any(k > 0 for k in cfg.hints):
            # One stroke of another hue on one GT object: fills it, or the photo? (eval_recolour.py)
            before = [M.to_uint8(x) for x in rgb_ss]
            probe_rng = np.random.default_rng([cfg.seed, seed, 1])
            r.update(recolour_probe(prepared, gt_lab, objects, settings, before[0], before[1:], probe_rng))
    return r


def evaluate(
    model: MarginalModel,
    images: Path | Iterable[Path],
    cfg: EvalConfig | None = None,
    progress: bool = True,
    model_name: str | None = None,
) -> EvalResult:
    """Run the protocol over a folder (or a list of files) with an already loaded ``model``."""
    from tqdm import tqdm

    cfg = cfg or EvalConfig()
    if cfg.n < 2:
        raise ValueError("n must be at least 2 (diversity compares samples)")
    paths = list_images(images, cfg.limit) if isinstance(images, str | Path) else list(images)[: cfg.limit]
    if not paths:
        raise FileNotFoundError("no images to evaluate")
    model.eval()
    device = model.device
    timer = StageTimer(device)
    rows = []
    t0 = time.perf_counter()
    for i, p in enumerate(tqdm(paths, unit="img", disable=not progress, desc="eval")):
        gt = load_ground_truth(p, cfg.size)
        rows.append(evaluate_image(model, gt, cfg, cfg.seed * 100003 + i, timer))
    wall = time.perf_counter() - t0
    dev = str(device)
    if device.type == "cuda":
        dev += f" ({torch.cuda.get_device_name(device)})"
    else:
        dev += f" ({cpu_threads_label()})"
    return EvalResult(
        config=cfg,
        images=[p.name for p in paths],
        per_image=rows,
        timings_ms=timer.mean_ms(),
        device=dev,
        model=model_name or model.name,
        wall_s=wall,
        sampler_settings=asdict(SamplerSettings(n=cfg.n, seed=cfg.seed)),
    )


# ------------------------------------------------------------ report ---


def _f(x: float, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "∞"
    return f"{x:.{digits}f}"


def format_markdown(res: EvalResult) -> str:
    """The result tables as GitHub markdown."""
    c = res.config
    m = res.mean
    lines = [f"Command: `{res.command}`", ""] if res.command else []
    lines += [
        f"Images: {len(res.images)} · model `{res.model}` · GT and network input at short side {c.size} px · "
        f"N = {c.n} · seed {c.seed} · device {res.device} · wall time {res.wall_s:.0f} s",
        "",
        "**Single best guess** (means over images; colourfulness ratio = mean colourfulness of the "
        "results / mean of the GT; coherence = ab spread inside near-constant GT regions, lower is better)",
        "",
        "| Method | PSNR (dB) | SSIM | AuC | Colourfulness ratio | Coherence (ab) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rule = "the model's best-guess rule" if c.temperature is None else f"annealed mean (T = {c.temperature})"
    for key, name in (("gray", "Gray (ab = 0)"), ("best", f"Polychrome, {rule}")):
        lines.append(
            f"| {name} | {_f(m(key + '/psnr'))} | {_f(m(key + '/ssim'), 4)} | {_f(m(key + '/auc'), 4)} | "
            f"{_f(res.ratio_of_means(key + '/colourfulness', 'gt/colourfulness'), 3)} | "
            f"{_f(m(key + '/coherence'))} |"
        )
    lines.append(f"| Ground truth (reference) | ∞ | 1.0000 | 1.0000 | 1.000 | {_f(m('gt/coherence'))} |")
    lines += [
        "",
        f"**N = {c.n} results per image** (index 0 of each set is the best guess, as in the app's grid; "
        "diversity = mean pairwise ab distance, higher is more diverse; coherence as above, lower is better; "
        "*raw* = at working resolution before the edge-aware upsampling; sampler settings: "
        + ", ".join(f"{k} {v}" for k, v in res.sampler_settings.items() if k not in ("n", "seed"))
        + ")",
        "",
        f"| Method | Best-of-{c.n} PSNR (dB) | Diversity (ab) | Coherence (ab) | Diversity, raw | "
        "Coherence, raw | Colourfulness ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, name in (("sampler", "Polychrome sampler"), ("independent", "Independent per-pixel sampling")):
        lines.append(
            f"| {name} | {_f(m(key + '/best_psnr'))} | {_f(m(key + '/diversity'))} | "
            f"{_f(m(key + '/coherence'))} | {_f(m(key + '/diversity_raw'))} | "
            f"{_f(m(key + '/coherence_raw'))} | "
            f"{_f(res.ratio_of_means(key + '/colourfulness', 'gt/colourfulness'), 3)} |"
        )
    lines += samples_table(m, res.ratio_of_means, c.n, m("best/psnr"))
    lines += hints_markdown(m, c.hints, c.hint_reaches, c.patch, c.hint_radius, c.levin_short_side, _f)
    if any(k > 0 for k in c.hints):
        lines += recolour_markdown(m)
    t = res.timings_ms
    stage_names = [
        ("network", f"Network ({c.size} px short side)"),
        ("sampler", f"Sampler (N = {c.n}, working res)"),
        ("sampler_field", f"Sampler, field draws (N = {c.n})"),
        ("independent", f"Independent sampling (N = {c.n - 1})"),
        ("upsample", "Upsample + compose (one result)"),
        ("hints", "Hint re-weighting (one update)"),
        ("levin", "Levin solve (one hint set)"),
    ]
    lines += [
        "",
        f"**Time per stage** on {res.device} (mean ms per call)",
        "",
        "| Stage | ms |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {t[k]:.1f} |" for k, name in stage_names if k in t]
    return "\n".join(lines) + "\n"


def write_section(path: Path, key: str, body: str) -> None:
    """Write ``body`` into ``path`` between ``<!-- key:begin -->`` / ``<!-- key:end -->`` markers.

    The markers are replaced in place when the file has them (so a results page
    can hold several generated tables and hand-written text); otherwise the
    section is appended (the file is created if missing).
    """
    path = Path(path)
    begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.is_file() else ""
    i, j = text.find(begin), text.find(end)
    if i >= 0 and j > i:
        text = text[:i] + block + text[j + len(end) :]
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
