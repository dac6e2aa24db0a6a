"""File in, colourised files out: the path `polychrome colorize` takes.

Ties the pipeline stages together for batch use:
load -> L -> marginals (once) -> hints -> sampler -> upsample -> export.
Every file written records its provenance (model, seed, number of hints) in
EXIF and XMP; see :mod:`polychrome.core.provenance`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .export import default_export_name, export_image
from .hints import HintDocument
from .imageio import load_image
from .models import MarginalModel, load_model
from .prepared import PreparedImage
from .provenance import Provenance
from .sampler import MEAN_SEED, SamplerSettings


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

    def results(self, prepared: PreparedImage, options: ColorizeOptions) -> tuple[torch.Tensor, list[int]]:
        """ab ``(N, 2, h, w)`` and each result's seed (:data:`MEAN_SEED` for the best guess)."""
        if options.n == 1:
            return prepared.best_guess(options.hints), [MEAN_SEED]
        settings = SamplerSettings(n=options.n, seed=options.seed, diversity=options.diversity)
        if options.temperature is not None:
            settings.temperature = options.temperature
        samples = prepared.sample(settings, options.hints)
        return samples.ab, [int(s) for s in samples.seeds]

    def colorize_file(self, path: Path, out_dir: Path, options: ColorizeOptions) -> ColorizeResult:
        t0 = time.perf_counter()
        image = load_image(path)
        t1 = time.perf_counter()
        prepared = PreparedImage.predict(self.model, image.L)
        t2 = time.perf_counter()
        abs_, seeds = self.results(prepared, options)
        t3 = time.perf_counter()
        n_hints = len(options.hints.strokes) if options.hints is not None else 0
        outputs = []
        for i in range(abs_.shape[0]):
            rgb = prepared.compose(abs_[i])
            name = default_export_name(Path(path), i if options.n > 1 else None, options.fmt)
            made = Provenance(model=self.model.name, seed=seeds[i], hints=n_hints, result=i)
            outputs.append(
                export_image(
                    rgb,
                    out_dir / name,
                    options.fmt,
                    options.quality,
                    image,
                    overwrite=options.overwrite,
                    provenance=made,
                )
            )
        t4 = time.perf_counter()
        timings = {"load": t1 - t0, "network": t2 - t1, "sampler": t3 - t2, "upsample_export": t4 - t3}
        return ColorizeResult(outputs, list(image.notices), timings)
