"""Latency and memory of the pipeline stages, with same-run baselines (``polychrome bench``).

Machines here are noisy (shared cores, a training job in the background), so
every timed stage is reported next to a simple baseline measured in the same
run, and the ratio is the figure to compare across machines:

- network                        vs. Zhang et al.'s ECCV16 architecture (random weights);
- sampler (N results)            vs. independent per-pixel sampling (N maps);
- hint -> N refreshed results    vs. hint re-weighting + independent sampling;
- 12 MP upsample + compose       vs. plain bilinear upsample + the same compose;
- 12 MP upsample + compose + export vs. bilinear + compose + the same export.

Timings are medians over ``repeats`` calls after one warm-up call; CUDA work
is synchronised before the clock stops. Upsampling, composing and exporting
are numpy/Pillow work on the CPU whatever the device, so they are measured in
the CPU pass only. The input is a synthetic photograph (smooth shading, hard
edged shapes, grain) built from a fixed seed.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .color import lab_to_rgb
from .evaluate import cpu_threads_label
from .export import export_image
from .hints import HintDocument, Stroke
from .models import MarginalModel, Marginals, build_model
from .pipeline import compose_rgb, network_input
from .prepared import PreparedImage
from .sampler import SamplerSettings, independent_samples
from .upsample import upsample_ab_bilinear

HINT_TARGET_MS = 150.0
EXPORT_TARGET_MS = 2000.0


@dataclass
class BenchConfig:
    """What to measure. The defaults are the documented benchmark; ``quick()`` is for tests."""

    net_size: int = 256  # network input short side
    n: int = 8  # results per refresh
    repeats: int = 5
    export_hw: tuple[int, int] = (3000, 4000)  # (H, W): 12 MP
    export_fmt: str = "png"
    seed: int = 0

    @classmethod
    def quick(cls) -> BenchConfig:
        return cls(net_size=64, n=3, repeats=1, export_hw=(240, 320))


@dataclass
class BenchRow:
    """One timed stage: median ms, its same-run baseline and the target if there is one."""

    stage: str
    device: str
    ms: float
    baseline: str = ""
    baseline_ms: float | None = None
    target_ms: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.ms / self.baseline_ms if self.baseline_ms else None


@dataclass
class BenchResult:
    rows: list[BenchRow] = field(default_factory=list)
    memory: dict[str, float] = field(default_factory=dict)  # label -> MB
    notes: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        return format_markdown(self)


def synthetic_l(H: int, W: int, seed: int = 0) -> np.ndarray:
    """A photograph-like L* ``(H, W)`` float32: shading, hard-edged discs and boxes, grain."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, W, dtype=np.float32)[None, :]
    L = 35.0 + 30.0 * x + 15.0 * np.sin(6.0 * y + 2.0 * x)
    for _ in range(6):
        cy, cx, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.2)
        L = np.where((y - cy) ** 2 + ((x - cx) * W / H) ** 2 < r * r, rng.uniform(10, 90), L)
    for _ in range(4):
        y0, x0 = rng.uniform(0, 0.8, 2)
        L = np.where((y > y0) & (y < y0 + 0.15) & (x > x0) & (x < x0 + 0.2), rng.uniform(10, 90), L)
    L = L + rng.normal(0.0, 1.5, (H, W)).astype(np.float32)
    return np.clip(L, 0.0, 100.0).astype(np.float32)


def _median_ms(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Median wall time (ms) of ``repeats`` calls after one warm-up call."""

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    fn()
    sync()
    times = []
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return 1000.0 * statistics.median(times)


def _compose_bilinear(L_full: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """The baseline compose: bilinear ab ``(2, h, w)`` to L's size, then Lab -> sRGB."""
    ab_full = upsample_ab_bilinear(ab, L_full.shape)
    lab = np.empty((*L_full.shape, 3), dtype=np.float32)
    lab[..., 0] = L_full
    lab[..., 1:] = np.moveaxis(ab_full, 0, -1)
    return lab_to_rgb(lab)


def _stroke(W: int, H: int, rng: np.random.Generator) -> Stroke:
    """A short brush stroke at a random place, in full-res pixels."""
    x, y = rng.uniform(0.1, 0.9) * W, rng.uniform(0.1, 0.9) * H
    pts = [(float(x + 8 * k), float(y + 3 * k)) for k in range(4)]
    r, g, b = (float(c) for c in rng.uniform(0.1, 0.9, 3))
    colour = (r, g, b)
    return Stroke(points=pts, radius=max(2.0, 0.01 * min(W, H)), color=colour)


def bench_device(
    model: MarginalModel, device: torch.device, cfg: BenchConfig, cpu_stages: bool
) -> BenchResult:
    """Time the stages on ``device`` (the model is moved there); ``cpu_stages`` adds 12 MP compose/export."""
    res = BenchResult()
    dev = device.type if device.type != "cpu" else f"cpu ({cpu_threads_label()})"
    model = model.to(device).eval()
    H, W = cfg.export_hw
    L_full = synthetic_l(H, W, cfg.seed)
    x = network_input(L_full, cfg.net_size).to(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    with torch.inference_mode():
        net_ms = _median_ms(lambda: model(x), cfg.repeats, device)
        logits = model(x).float()
    centres = model.centres.float()
    h, w = logits.shape[-2:]
    # Baseline: Zhang et al.'s ECCV16 architecture (random weights: only its cost matters) on the same input.
    torch.manual_seed(cfg.seed)
    zhang = build_model("eccv16").to(device).eval()
    with torch.inference_mode():
        zhang_ms = _median_ms(lambda: zhang(x), cfg.repeats, device)
    res.rows.append(
        BenchRow(
            f"network `{model.name}`, {x.shape[-2]}x{x.shape[-1]} px input",
            dev,
            net_ms,
            "Zhang ECCV16 architecture, same input",
            zhang_ms,
        )
    )

    prepared = PreparedImage.from_marginals(Marginals(logits, centres), L_full)
    settings = SamplerSettings(n=cfg.n, seed=cfg.seed)
    samp_ms = _median_ms(lambda: prepared.sample(settings), cfg.repeats, device)
    ind_ms = _median_ms(
        lambda: independent_samples(logits, centres, cfg.n, settings.temperature, cfg.seed),
        cfg.repeats,
        device,
    )
    res.rows.append(
        BenchRow(
            f"sampler, N = {cfg.n} at {h}x{w}", dev, samp_ms, f"independent sampling, N = {cfg.n}", ind_ms
        )
    )

    # Interactive refresh: the user adds one stroke, the engine re-weights the marginals
    # and N results are redrawn. Each call adds a new stroke, as painting does.
    rng = np.random.default_rng(cfg.seed)
    strokes: list[Stroke] = []

    def refresh(draw: Callable[[HintDocument, torch.Tensor], object]) -> Callable[[], object]:
        def run() -> object:
            strokes.append(_stroke(W, H, rng))
            doc = HintDocument(strokes=list(strokes))
            return draw(doc, prepared.logits(doc))  # propagation + re-weighting, then the draws

        return run

    # As the editor does: the results are held to the hints (constrain) after the draws.
    hint_ms = _median_ms(refresh(lambda d, lg: prepared.sample(settings, d, logits=lg)), cfg.repeats, device)
    hint_base = _median_ms(
        refresh(lambda _d, lg: independent_samples(lg, centres, cfg.n, settings.temperature, cfg.seed)),
        cfg.repeats,
        device,
    )
    res.rows.append(
        BenchRow(
            f"hint -> {cfg.n} refreshed results",
            dev,
            hint_ms,
            "hint + independent sampling",
            hint_base,
            HINT_TARGET_MS,
        )
    )
    if device.type == "cuda":
        res.memory[f"peak CUDA memory allocated ({device.type})"] = (
            torch.cuda.max_memory_allocated(device) / 2**20
        )

    if cpu_stages:
        ab = prepared.sample(settings).ab[min(1, cfg.n - 1)].cpu().numpy()
        mp = H * W / 1e6
        up_ms = _median_ms(lambda: prepared.compose(ab), cfg.repeats, device)
        bil_ms = _median_ms(lambda: _compose_bilinear(L_full, ab), cfg.repeats, device)
        res.rows.append(
            BenchRow(f"upsample + compose, {mp:.0f} MP", dev, up_ms, "bilinear upsample + compose", bil_ms)
        )
        with tempfile.TemporaryDirectory(prefix="polychrome-bench-") as tmp:
            dest = Path(tmp) / f"bench.{cfg.export_fmt}"

            def full(compose: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[], object]:
                return lambda: export_image(compose(L_full, ab), dest, cfg.export_fmt, overwrite=True)

            tot_ms = _median_ms(full(compose_rgb), cfg.repeats, device)
            tot_base = _median_ms(full(_compose_bilinear), cfg.repeats, device)
            res.rows.append(
                BenchRow(
                    f"upsample + compose + export {cfg.export_fmt.upper()}, {mp:.0f} MP",
                    dev,
                    tot_ms,
                    "bilinear + compose + export",
                    tot_base,
                    EXPORT_TARGET_MS,
                )
            )
            # Memory in a separate, untimed pass: tracemalloc slows allocation down.
            tracemalloc.start()
            try:
                full(compose_rgb)()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            res.memory[f"peak numpy/Python allocations, {mp:.0f} MP upsample + compose + export"] = (
                peak / 2**20
            )
    return res


def run_benchmark(
    model: MarginalModel, devices: list[torch.device], cfg: BenchConfig | None = None
) -> BenchResult:
    """Benchmark ``model`` on each device in turn; compose/export stages run with the first CPU pass."""
    cfg = cfg or BenchConfig()
    out = BenchResult()
    cpu_done = False
    for dev in devices:
        r = bench_device(model, dev, cfg, cpu_stages=not cpu_done and dev.type == "cpu")
        cpu_done = cpu_done or dev.type == "cpu"
        out.rows += r.rows
        out.memory.update(r.memory)
    if not cpu_done:
        r = bench_device(model, torch.device("cpu"), cfg, cpu_stages=True)
        out.rows += [row for row in r.rows if "MP" in row.stage]
        out.memory.update(r.memory)
    # ru_maxrss is in KiB on Linux (bytes on macOS); the whole process, model included.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.memory["peak process RSS (whole run)"] = rss / 2**10 if rss < 2**40 else rss / 2**20
    return out


def _ms(x: float | None) -> str:
    return "" if x is None else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")


def format_markdown(res: BenchResult) -> str:
    """Stage table and memory as GitHub markdown."""
    lines = [
        "| Stage | Device | Median ms | Baseline (same run) | Baseline ms | Ratio | Target |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for r in res.rows:
        target = ""
        if r.target_ms is not None:
            target = f"≤ {r.target_ms:.0f} ms ({'met' if r.ms <= r.target_ms else 'missed'})"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        lines.append(
            f"| {r.stage} | {r.device} | {_ms(r.ms)} | {r.baseline} | {_ms(r.baseline_ms)} "
            f"| {ratio} | {target} |"
        )
    lines += ["", "| Memory | MB |", "|---|---:|"]
    lines += [f"| {k} | {v:.0f} |" for k, v in res.memory.items()]
    if res.notes:
        lines += [""] + [f"- {n}" for n in res.notes]
    return "\n".join(lines) + "\n"
