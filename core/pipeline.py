"""The one-way pipeline: L -> marginals -> (hints) -> ab -> full-res sRGB.

These are the stable entry points the CLI, the evaluation and the desktop app
share. The network runs once per image (:func:`predict_marginals`); everything
after it is cheap and re-runs on every hint or setting change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from .bins import annealed_mean
from .color import lab_to_rgb
from .models.base import MarginalModel, Marginals
from .resize import resize_l, short_side_size
from .upsample import upsample_ab_bands


def network_input(L_full: np.ndarray, short_side: int) -> torch.Tensor:
    """Full-res L ``(H, W)`` -> resized L ``(1, 1, h, w)`` with short side ``short_side``.

    The aspect ratio is kept; images smaller than ``short_side`` are not enlarged.
    """
    if L_full.ndim != 2:
        raise ValueError(f"L must have shape (H, W), got {L_full.shape}")
    return resize_l(L_full, short_side_size(L_full.shape, short_side))


BORDER_MARGIN = 16  # network-input pixels of reflected photo around the input (a multiple of 4)


def predict_marginals(model: MarginalModel, L_full: np.ndarray, short_side: int | None = None) -> Marginals:
    """Run the network once: full-res L ``(H, W)`` -> :class:`Marginals` ``(1, Q, h, w)``.

    The input is reflect-padded by :data:`BORDER_MARGIN` on every side and the logits are
    cropped back: without it the last rows and columns of the shipped models' output are
    near-uniform (entropy ≈ log Q on dev, against ≈ 3 inside), which the sampler would
    draw as neon strips along the bottom and right edges.
    """
    x = network_input(L_full, short_side or model.input_size).to(model.device)
    m = BORDER_MARGIN
    mode = "reflect" if min(x.shape[-2:]) > m else "replicate"
    model.eval()
    with torch.inference_mode():
        out = model(F.pad(x, (m, m, m, m), mode=mode)).float()
        stride = (x.shape[-2] + 2 * m) / out.shape[-2]
        q = int(round(m / stride))
        logits = out[..., q : out.shape[-2] - q, q : out.shape[-1] - q].contiguous()
    return Marginals(logits=logits, centres=model.centres.float(), best_guess=model.best_guess)


def best_guess_ab(marginals: Marginals, T: float | None = None) -> torch.Tensor:
    """Best-guess ab ``(1, 2, h, w)`` at the marginals' resolution: the model's own rule
    (:class:`~polychrome.core.models.base.BestGuess`), or the plain annealed mean at ``T``."""
    with torch.inference_mode():
        if T is None:
            return marginals.best_guess.ab(marginals.logits, marginals.centres)
        return annealed_mean(marginals.logits, marginals.centres, T)


# compose_many's images in flight; fixed (not the core count) so memory is the same everywhere.
COMPOSE_THREADS = 2
# Workers converting bands while the caller upsamples the next ones: the conversion is ~3x
# the upsampling's work, so one worker left the second core idle most of the time.
CONVERT_THREADS = 2
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(CONVERT_THREADS, thread_name_prefix="polychrome-compose")
    return _POOL


def compose_rgb(
    L_full: np.ndarray,
    ab_small: torch.Tensor | np.ndarray,
    out_dtype: npt.DTypeLike = np.float32,
    check: Callable[[], None] | None = None,
    guide: np.ndarray | None = None,
) -> np.ndarray:
    """Full-res L ``(H, W)`` + low-res ab ``(2, h, w)`` or ``(1, 2, h, w)`` -> sRGB ``(H, W, 3)``.

    ab is upsampled edge-aware under the guidance of the full-resolution L,
    so luminance detail is exactly the original's. ``out_dtype`` float32 gives
    values in [0, 1]; uint8 or uint16 give export-ready integers directly, which
    saves the full-size float image. Work is done in row bands, so peak memory
    is the output plus a few tens of MB (a 24 MP image stays well under 2 GB). ``check``
    is called before each band (a caller's cancellation point: it may raise to stop).
    ``guide``: L* ``(h, w)`` at ab's resolution if the caller has it (the working-resolution L,
    :attr:`PreparedImage.guide`); default: ``L_full`` resized (a GIL-holding copy of ``L_full``).
    """
    ab = ab_small.detach().float().cpu().numpy() if isinstance(ab_small, torch.Tensor) else ab_small
    ab = np.asarray(ab, dtype=np.float32)
    if ab.ndim == 4:
        if ab.shape[0] != 1:
            raise ValueError(f"compose_rgb takes one ab map, got a batch of {ab.shape[0]}")
        ab = ab[0]
    dtype = np.dtype(out_dtype)
    if dtype not in (np.float32, np.uint8, np.uint16):
        raise ValueError(f"out_dtype must be float32, uint8 or uint16, got {dtype}")
    L_full = np.asarray(L_full, dtype=np.float32)
    out = np.empty((*L_full.shape, 3), dtype=dtype)
    scale = 1.0 if dtype == np.float32 else float(np.iinfo(dtype).max)

    def convert(rows: slice, ab_band: np.ndarray) -> None:
        lab = np.empty((*ab_band.shape[1:], 3), dtype=np.float32)
        lab[..., 0] = L_full[rows]
        lab[..., 1] = ab_band[0]
        lab[..., 2] = ab_band[1]
        rgb = lab_to_rgb(lab)
        if dtype == np.float32:
            out[rows] = rgb
        else:
            # Round to nearest; lab_to_rgb already clipped to [0, 1].
            out[rows] = rgb * scale + 0.5

    # The colour conversion (most of the work) of a band runs on a pool thread while this
    # thread upsamples the next; numpy and OpenCV release the GIL, so the cores share it.
    # CONVERT_THREADS + 1 bands at most are in flight, which bounds the memory.
    pending: list[Future] = []
    try:
        for rows, ab_band in upsample_ab_bands(ab, L_full, guide=guide):
            if check is not None:
                check()
            if rows.start == 0 and rows.stop >= L_full.shape[0]:
                convert(rows, ab_band)  # one band (a thumbnail): nothing to overlap
                continue
            pending.append(_pool().submit(convert, rows, ab_band))
            while len(pending) > CONVERT_THREADS:
                pending.pop(0).result()
        for f in pending:
            f.result()
    finally:
        for f in pending:
            f.cancel()
    return out


def compose_many(
    L_full: np.ndarray,
    abs_small: Sequence[torch.Tensor | np.ndarray],
    out_dtype: npt.DTypeLike = np.float32,
    guide: np.ndarray | None = None,
) -> list[np.ndarray]:
    """:func:`compose_rgb` of several ab maps under the same L (e.g. a grid's thumbnails), one
    per pool thread: images too small for more than one band still use every core."""
    if len(abs_small) <= 1:
        return [compose_rgb(L_full, a, out_dtype, guide=guide) for a in abs_small]
    with ThreadPoolExecutor(min(COMPOSE_THREADS, len(abs_small))) as ex:
        return list(ex.map(lambda a: compose_rgb(L_full, a, out_dtype, guide=guide), abs_small))
