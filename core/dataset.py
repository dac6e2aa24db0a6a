"""Training data: a folder of colour photographs held in memory at reduced size.

Images are decoded once, resized to a fixed short side and cached as uint8 RGB
(``.npz`` in the user cache, keyed by the file list), so training epochs cost
no JPEG decoding. Near-grayscale and tiny images are skipped and counted.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
import torch
import torch.nn.functional as F
from PIL import Image

from .color import rgb_to_lab, rgb_to_lab_torch
from .formats import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(SUPPORTED_SUFFIXES)  # one table: what load_image reads
MIN_SHORT_SIDE = 128
MIN_CHROMA = 3.0  # mean Lab chroma below this counts as near-grayscale


def list_images(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


@dataclass
class ImageFolderCache:
    """RGB uint8 images ``(H, W, 3)`` with short side ``short_side``."""

    images: list[np.ndarray]
    names: list[str]
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)


def _resize_short(img: Image.Image, short: int) -> Image.Image:
    w, h = img.size
    s = short / min(w, h)
    return img.resize((max(short, round(w * s)), max(short, round(h * s))), Image.Resampling.BICUBIC)


def load_folder(folder: Path, short_side: int = 192, use_cache: bool = True) -> ImageFolderCache:
    """Decode every usable colour photo of ``folder`` at ``short_side``."""
    paths = list_images(folder)
    if not paths:
        raise FileNotFoundError(f"no images in {folder}")
    key = hashlib.sha256(
        (
            "\n".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in paths) + f"|{short_side}"
        ).encode()
    ).hexdigest()[:16]
    cache = Path(platformdirs.user_cache_dir("polychrome", appauthor=False)) / "datasets" / f"{key}.npz"
    if use_cache and cache.is_file():
        z = np.load(cache, allow_pickle=False)
        n = int(z["count"])
        images = [z[f"i{i}"] for i in range(n)]
        names = [str(s) for s in z["names"]]
        skipped = {"tiny": int(z["tiny"]), "gray": int(z["gray"]), "unreadable": int(z["unreadable"])}
        return ImageFolderCache(images, names, skipped)
    images, names = [], []
    skipped = {"tiny": 0, "gray": 0, "unreadable": 0}
    for p in paths:
        try:
            with Image.open(p) as im:
                im.load()
                rgb = im.convert("RGB")
        except (OSError, ValueError) as e:
            log.warning("skipping unreadable %s: %s", p, e)
            skipped["unreadable"] += 1
            continue
        if min(rgb.size) < MIN_SHORT_SIDE:
            skipped["tiny"] += 1
            continue
        small = np.asarray(_resize_short(rgb, short_side), dtype=np.uint8)
        lab = rgb_to_lab(small[::4, ::4].astype(np.float32) / 255.0)
        if float(np.hypot(lab[..., 1], lab[..., 2]).mean()) < MIN_CHROMA:
            skipped["gray"] += 1
            continue
        images.append(small)
        names.append(p.name)
    if use_cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")  # several ranks may write at once
        arrays: dict[str, Any] = {f"i{i}": a for i, a in enumerate(images)}
        arrays.update({k: np.array(v) for k, v in skipped.items()})
        np.savez(tmp, count=len(images), names=np.array(names), **arrays)
        tmp.replace(cache)
    return ImageFolderCache(images, names, skipped)


class CropSampler:
    """Random crops with rescale and horizontal flip, returned as Lab tensors.

    ``probs`` ``(N,)`` optionally weights the images (e.g. to mix folders).

    ``sample(n)`` -> L ``(n, 1, crop, crop)`` and ab ``(n, 2, crop, crop)``.
    """

    def __init__(
        self,
        data: ImageFolderCache,
        crop: int = 128,
        scale: tuple[float, float] = (0.67, 1.0),
        seed: int = 0,
        probs: np.ndarray | None = None,
    ) -> None:
        if len(data) == 0:
            raise ValueError("no usable training images")
        if probs is not None and (len(probs) != len(data) or not np.isclose(float(np.sum(probs)), 1.0)):
            raise ValueError("probs must give one probability per image, summing to 1")
        self.data, self.crop, self.scale, self.probs = data, crop, scale, probs
        self.rng = np.random.default_rng(seed)

    def _one(self) -> torch.Tensor:
        n = len(self.data)
        i = int(self.rng.integers(n)) if self.probs is None else int(self.rng.choice(n, p=self.probs))
        img = self.data.images[i]
        h, w = img.shape[:2]
        s = float(self.rng.uniform(*self.scale))
        short = max(self.crop, round(min(h, w) * s))
        t = torch.from_numpy(np.array(img)).permute(2, 0, 1).float().div_(255.0)[None]
        if short != min(h, w):
            nh, nw = (
                max(self.crop, round(h * short / min(h, w))),
                max(self.crop, round(w * short / min(h, w))),
            )
            t = F.interpolate(t, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
        _, _, H, W = t.shape
        y = int(self.rng.integers(H - self.crop + 1))
        x = int(self.rng.integers(W - self.crop + 1))
        t = t[..., y : y + self.crop, x : x + self.crop]
        if self.rng.random() < 0.5:
            t = t.flip(-1)
        return t.clamp_(0, 1)

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        lab = rgb_to_lab_torch(torch.cat([self._one() for _ in range(n)]))
        return lab[:, :1], lab[:, 1:]
