"""File in, colourised files out: the path `polychrome colorize` takes.

Ties the pipeline stages together for batch use:
load -> L -> marginals (once) -> hints -> sampler -> upsample -> export.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .export import default_export_name, export_image
from .hints import HintDocument, apply_hints
from .imageio import load_image
from .models import MarginalModel, Marginals, load_model
from .pipeline import best_guess_ab, compose_rgb, predict_marginals
from .sampler import SamplerSettings, l_at_working_res, sample


@dataclass
class ColorizeOptions:
    n: int = 1
    seed: int = 0
    diversity: float = 1.0
    temperature: float | None = None
    fmt: str = "png"
    quality: int = 92
    overwrite: bool = False
    hints: HintDocument | None = None


@dataclass
class ColorizeResult:
    outputs: list[Path]
    notices: list[str]
    timings: dict[str, float] = field(default_factory=dict)


class Colorizer:
    """Holds one loaded model; colourises files one after another."""

    def __init__(self, model: MarginalModel) -> None:
        self.model = model.eval()

    @classmethod
    def from_name(cls, name: str, device: str = "auto") -> Colorizer:
        return cls(load_model(name, device))

    @staticmethod
    def read_hints(path: Path) -> HintDocument:
        """A hint document: its own JSON, or the hints inside a saved editor session."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, dict) and "strokes" not in data and isinstance(data.get("hints"), dict):
            data = data["hints"]  # a .polychrome session file
        return HintDocument.from_dict(data)

    def results_ab(self, marginals: Marginals, L_full, options: ColorizeOptions) -> torch.Tensor:
        """ab ``(N, 2, h, w)`` at working resolution; index 0 is the best guess."""
        h, w = marginals.shape
        L_work = l_at_working_res(L_full, (h, w)).to(marginals.logits.device)
        logits = marginals.logits
        if options.hints is not None:
            H, W = L_full.shape
            logits = apply_hints(logits, marginals.centres, options.hints, L_work, (W, H))
        saturation = options.hints.saturation if options.hints is not None else 1.0
        if options.n == 1:
            return best_guess_ab(Marginals(logits, marginals.centres, marginals.best_guess)) * saturation
        settings = SamplerSettings(
            n=options.n, seed=options.seed, diversity=options.diversity, saturation=saturation
        )
        if options.temperature is not None:
            settings.temperature = options.temperature
        with torch.inference_mode():
            return sample(logits, marginals.centres, L_work, settings, best_guess=marginals.best_guess).ab

    def colorize_file(self, path: Path, out_dir: Path, options: ColorizeOptions) -> ColorizeResult:
        t0 = time.perf_counter()
        image = load_image(path)
        t1 = time.perf_counter()
        marginals = predict_marginals(self.model, image.L)
        t2 = time.perf_counter()
        abs_ = self.results_ab(marginals, image.L, options)
        t3 = time.perf_counter()
        outputs = []
        for i in range(abs_.shape[0]):
            rgb = compose_rgb(image.L, abs_[i])
            name = default_export_name(Path(path), i if options.n > 1 else None, options.fmt)
            outputs.append(
                export_image(
                    rgb, out_dir / name, options.fmt, options.quality, image, overwrite=options.overwrite
                )
            )
        t4 = time.perf_counter()
        timings = {"load": t1 - t0, "network": t2 - t1, "sampler": t3 - t2, "upsample_export": t4 - t3}
        return ColorizeResult(outputs, list(image.notices), timings)
