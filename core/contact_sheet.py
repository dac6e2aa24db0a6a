"""Contact sheets: one row per photo, ground truth | input | each model's best guess, or
(:func:`render_results`) ground truth | input | one model's N results as the editor's grid has them.

Sources are file paths, ``skimage:NAME`` for a photo scikit-image ships (e.g.
``skimage:camera``, a real black-and-white print), and an ``aged:`` prefix that
turns the photo into an old-looking print before it is converted to L (sepia
toning, faded blacks and whites, film grain), as scans from an archive look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .color import lab_to_rgb, rgb_to_lab
from .models import MarginalModel
from .pipeline import best_guess_ab, compose_rgb, predict_marginals
from .sampler import SamplerSettings


@dataclass
class SheetRow:
    label: str
    L: np.ndarray  # (H, W) float32 L* of the input
    truth: np.ndarray | None  # (H, W, 3) uint8 sRGB, None for a real black-and-white photo
    shown: np.ndarray | None = None  # (H, W, 3) uint8: what the user has (an aged print), if not gray


def age_print(rgb: np.ndarray, seed: int = 0) -> np.ndarray:
    """sRGB uint8 ``(H, W, 3)`` -> an old-looking sepia print, uint8 (fixed-seed grain)."""
    L = rgb_to_lab(rgb.astype(np.float32) / 255.0)[..., 0]
    L = 12.0 + 0.78 * L  # faded: no deep blacks, no paper-white highlights
    L = L + np.random.default_rng(seed).normal(0.0, 2.5, L.shape).astype(np.float32)
    lab = np.stack([np.clip(L, 0, 100), np.full_like(L, 4.0), np.full_like(L, 14.0)], -1)
    return (np.clip(lab_to_rgb(lab), 0, 1) * 255 + 0.5).astype(np.uint8)


def _load(spec: str, short_side: int) -> tuple[str, np.ndarray, bool]:
    aged = spec.startswith("aged:")
    spec = spec.removeprefix("aged:")
    if spec.startswith("skimage:"):
        import skimage.data

        name = spec.removeprefix("skimage:")
        img = np.asarray(getattr(skimage.data, name)())
        label = name
    else:
        with Image.open(spec) as im:
            img = np.asarray(im.convert("RGB"))
        label = Path(spec).stem
    pil = Image.fromarray(img)
    s = short_side / min(pil.size)
    if s < 1:
        pil = pil.resize((round(pil.width * s), round(pil.height * s)), Image.Resampling.LANCZOS)
    img = np.asarray(pil)
    return label + (" (aged print)" if aged else ""), img, aged


def load_rows(specs: Sequence[str], short_side: int = 256) -> list[SheetRow]:
    rows = []
    for i, spec in enumerate(specs):
        label, img, aged = _load(spec, short_side)
        if img.ndim == 2:  # a real grayscale photo: no ground truth
            L = rgb_to_lab(np.repeat(img[..., None], 3, -1).astype(np.float32) / 255.0)[..., 0]
            rows.append(SheetRow(label, L, None))
            continue
        src = age_print(img, seed=i) if aged else img
        L = rgb_to_lab(src.astype(np.float32) / 255.0)[..., 0]
        rows.append(SheetRow(label, L, img, src if aged else None))
    return rows


def _grid(cols: list[str], rows: Sequence[SheetRow], tiles_of, cell: int) -> Image.Image:
    """Columns ``cols``; row ``i``: ground truth, input, then ``tiles_of(row)`` (uint8 RGB)."""
    head = 18
    sheet = Image.new("RGB", (cell * len(cols), head + len(rows) * (cell + head)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, c in enumerate(cols):
        draw.text((j * cell + 4, 3), c, fill="black")
    for i, row in enumerate(rows):
        y = head + i * (cell + head)
        draw.text((4, y + 2), row.label, fill="black")
        gray = np.clip(lab_to_rgb(np.dstack([row.L, np.zeros_like(row.L), np.zeros_like(row.L)])), 0, 1)
        tiles = [row.truth, row.shown if row.shown is not None else (gray * 255 + 0.5).astype(np.uint8)]
        for j, t in enumerate(tiles + list(tiles_of(row))):
            if t is None:
                draw.text((j * cell + 10, y + cell // 2), "(black-and-white original)", fill="gray")
                continue
            im = Image.fromarray(t)
            im.thumbnail((cell - 4, cell - 4), Image.Resampling.LANCZOS)
            sheet.paste(im, (j * cell + 2, y + head))
    return sheet


def render_results(
    rows: Sequence[SheetRow], model: MarginalModel, settings: SamplerSettings, cell: int = 200
) -> Image.Image:
    """Grid image: ground truth, input, then ``settings.n`` results (result 1 is the best guess)."""
    from .prepared import PreparedImage

    def tiles(row: SheetRow) -> list[np.ndarray]:
        prep = PreparedImage.predict(model, row.L)
        ss = prep.sample(settings)
        return [(np.clip(prep.compose(ab), 0, 1) * 255 + 0.5).astype(np.uint8) for ab in ss.ab]

    cols = ["ground truth", "input", "result 1: best guess"] + [
        f"result {i + 1}" for i in range(1, settings.n)
    ]
    return _grid(cols, rows, tiles, cell)


def render(
    rows: Sequence[SheetRow],
    models: dict[str, MarginalModel],
    cell: int = 200,
) -> Image.Image:
    """Grid image: columns ground truth, input, then each model's best guess (its card's rule)."""

    def rule(m: MarginalModel) -> str:
        r = m.best_guess
        return (
            f"T {r.temperature:g}"
            + ("" if r.rebalance_lambda is None else f", lambda {r.rebalance_lambda:g}")
            + ("" if r.chroma == "mean" else f", {r.chroma} chroma")
            + ("" if r.gain == 1.0 else f", gain {r.gain:g}")
        )

    cols = ["ground truth", "input"] + [f"{n} ({rule(m)})" for n, m in models.items()]

    def tiles(row: SheetRow) -> list[np.ndarray]:
        out = []
        for model in models.values():
            ab = best_guess_ab(predict_marginals(model, row.L))
            out.append((np.clip(compose_rgb(row.L, ab), 0, 1) * 255 + 0.5).astype(np.uint8))
        return out

    return _grid(cols, rows, tiles, cell)
