"""What the background workers run: thin glue over core, no Qt.

Each function takes a :class:`~polychrome.desktop.workers.Job`-like object with
``check()`` (raises when cancelled) and ``report(value)``; all numerics are
core's (loading, network, hints, sampler, upsampling, display renderings, export).
Everything the size of the photo is made here, in the display's own pixel layout,
so the GUI thread only wraps finished buffers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from polychrome.core.display import gray_to_bgrx, preview_L, rgb_to_bgrx
from polychrome.core.export import export_image, normalize_format
from polychrome.core.hints import HintDocument
from polychrome.core.imageio import LoadedImage, load_image
from polychrome.core.models import MarginalModel
from polychrome.core.pipeline import compose_many, compose_rgb, predict_marginals
from polychrome.core.prepared import PreparedImage
from polychrome.core.provenance import Provenance
from polychrome.core.sampler import SamplerSettings

from .model import ExportItem, ImageDisplay, ResultItem

PREVIEW_LONG_SIDE = 1280  # the large view is composed at this size first (full resolution follows)
THUMB_LONG_SIDE = 384  # grid thumbnails: sharp at 2x HiDPI, cheap enough to compose N of after each stroke


class JobLike(Protocol):
    def check(self) -> None: ...
    def report(self, value: Any) -> None: ...


# -- loading -----------------------------------------------------------------------------------
@dataclass
class Loaded:
    image: LoadedImage
    display: ImageDisplay
    ms: float


def load_photo(job: JobLike, path: Path) -> Loaded:
    t0 = time.perf_counter()
    image = load_image(path)
    job.check()
    display = ImageDisplay(
        gray_full=gray_to_bgrx(image.L),
        L_preview=preview_L(image.L, PREVIEW_LONG_SIDE),
        L_thumb=preview_L(image.L, THUMB_LONG_SIDE),
    )
    return Loaded(image, display, (time.perf_counter() - t0) * 1000)


# -- network -----------------------------------------------------------------------------------
ModelLoader = Callable[[str, str], MarginalModel]


@dataclass
class NetworkOutcome:
    model: MarginalModel
    model_key: tuple[str, str]
    prepared: PreparedImage
    ms: float
    device: str


def run_network(
    job: JobLike,
    L_full: np.ndarray,
    model_key: tuple[str, str],
    loader: ModelLoader,
    cached: MarginalModel | None,
) -> NetworkOutcome:
    """Load the model if needed, predict the marginals once, set up the hint engine."""
    model = cached if cached is not None else loader(*model_key)
    job.check()
    t0 = time.perf_counter()
    model.eval()
    with torch.inference_mode():
        marginals = predict_marginals(model, L_full)
        if marginals.logits.device.type == "cuda":
            torch.cuda.synchronize()
    ms = (time.perf_counter() - t0) * 1000
    job.check()
    prepared = PreparedImage.from_marginals(marginals, L_full)
    return NetworkOutcome(model, model_key, prepared, ms, str(marginals.logits.device))


# -- sampling ----------------------------------------------------------------------------------
@dataclass
class SampleOutcome:
    results: list[ResultItem]
    sampler_ms: float
    compose_ms: float


def run_sampling(
    job: JobLike,
    prepared: PreparedImage,
    display: ImageDisplay,
    hints: HintDocument,
    settings: SamplerSettings,
    locked: dict[int, torch.Tensor],
    locked_seeds: dict[int, int],
    selected: int,
) -> SampleOutcome:
    """Hints -> re-weighted logits -> N samples -> thumbnails + the selected result's preview.

    Cancellable between stages, so a newer request never waits for a stale one to finish.
    """
    t0 = time.perf_counter()
    logits = prepared.logits(hints)
    job.check()
    n = prepared.settings_for(settings, hints).n
    samples = prepared.sample(
        settings,
        hints,  # a document's own saturation (e.g. from the CLI) is folded in
        locked={i: ab for i, ab in locked.items() if i < n},
        locked_seeds={i: s for i, s in locked_seeds.items() if i < n},
        logits=logits,
    )
    with torch.inference_mode():
        ab = samples.ab.detach().float().cpu()
    t1 = time.perf_counter()
    job.check()
    guide = prepared.guide
    thumbs = compose_many(display.L_thumb, list(ab), np.uint8, guide=guide)
    results = [ResultItem(i, ab[i].clone(), int(samples.seeds[i]), thumbs[i]) for i in range(ab.shape[0])]
    if 0 <= selected < len(results):
        job.check()
        results[selected].preview = compose_rgb(display.L_preview, ab[selected], np.uint8, guide=guide)
    t2 = time.perf_counter()
    return SampleOutcome(results, (t1 - t0) * 1000, (t2 - t1) * 1000)


def compose_views(
    job: JobLike,
    index: int,
    image_L: np.ndarray,
    display: ImageDisplay,
    ab: torch.Tensor,
    need_preview: bool,
    guide: np.ndarray | None = None,
) -> np.ndarray | None:
    """Large-view renderings of result ``index``: the preview (sRGB), reported as ``(index, rgb)``
    first, then full resolution in the display's layout (``core.display.rgb_to_bgrx``;
    returned; None when the preview already is full resolution). ``guide``: the photo's
    :attr:`PreparedImage.guide`."""
    if need_preview:
        job.check()
        job.report((index, compose_rgb(display.L_preview, ab, np.uint8, guide=guide)))
    if display.L_preview.shape == image_L.shape:
        return None
    rgb = compose_rgb(image_L, ab, np.uint8, check=job.check, guide=guide)  # cancellable band by band
    job.check()
    return rgb_to_bgrx(rgb)


# -- export ------------------------------------------------------------------------------------
def run_export(
    job: JobLike,
    image: LoadedImage,
    items: list[ExportItem],
    fmt: str,
    quality: int,
    model: str | None = None,
    hints: int = 0,
    guide: np.ndarray | None = None,
) -> list[Path]:
    """Compose each result at full resolution and write it (EXIF/ICC kept by core.export), with
    its provenance: ``model`` and the number of ``hints`` it was drawn under, its seed and index.
    ``guide``: the photo's :attr:`PreparedImage.guide`."""
    written: list[Path] = []
    for k, item in enumerate(items):
        job.check()
        job.report((k, len(items)))
        # Integers straight from compose_rgb: no full-size float image; 16 bits for TIFF.
        dtype = np.uint16 if normalize_format(fmt) == "tif" else np.uint8
        rgb = compose_rgb(image.L, item.ab, dtype, check=job.check, guide=guide)
        made = Provenance(model=model, seed=item.seed, hints=hints, result=item.index)
        written.append(
            export_image(rgb, item.dest, fmt, quality, image, overwrite=item.overwrite, provenance=made)
        )
    job.report((len(items), len(items)))
    return written
