"""Fetch or import the official Zhang et al. weights and convert them to safetensors.

The authors publish PyTorch ``.pth`` files (URLs from ``richzhang/colorization``,
``colorizers/eccv16.py`` and ``colorizers/siggraph17.py``). Their names follow the
torch.hub convention ``NAME-HASH.pth``, where ``HASH`` is the first hex digits of
the file's sha256. We check that prefix, load the file with
``torch.load(weights_only=True)`` (no arbitrary unpickling), check every key and
shape against the architecture, load it strictly, and write
``NAME.safetensors`` + ``NAME.json`` (model card) into the user model folder, where
:func:`~polychrome.core.models.registry.available_models` finds them.

Without a network, download the ``.pth`` elsewhere and use :func:`import_official`
(``polychrome weights import NAME FILE``): same checks, same conversion.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from . import registry
from .base import MarginalModel

log = logging.getLogger(__name__)

LICENCE = (
    "BSD-2-Clause, Copyright (c) Richard Zhang et al. (github.com/richzhang/colorization, LICENSE). "
    "Weights redistributed unchanged apart from the format (PyTorch .pth -> safetensors)."
)

# torch.hub's convention: the part between the last "-" and the extension.
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{6,64})\.[^.]+$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class OfficialRelease:
    """One published weights file."""

    name: str
    url: str
    paper: str
    citation: str

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def sha256_prefix(self) -> str:
        prefix = hash_prefix_in_name(self.file_name)
        if prefix is None:  # pragma: no cover - guarded by a test over OFFICIAL
            raise ValueError(f"{self.file_name} carries no hash")
        return prefix


OFFICIAL: dict[str, OfficialRelease] = {
    "eccv16": OfficialRelease(
        name="eccv16",
        url="https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
        paper="Zhang, Isola, Efros. Colorful Image Colorization. ECCV 2016. arXiv:1603.08511",
        citation=(
            "@inproceedings{zhang2016colorful, title={Colorful Image Colorization}, "
            "author={Zhang, Richard and Isola, Phillip and Efros, Alexei A}, booktitle={ECCV}, year={2016}}"
        ),
    ),
    "siggraph17": OfficialRelease(
        name="siggraph17",
        url="https://colorizers.s3.us-east-2.amazonaws.com/siggraph17-df00044c.pth",
        paper=(
            "Zhang, Zhu, Isola, Geng, Lin, Yu, Efros. Real-Time User-Guided Image Colorization "
            "with Learned Deep Priors. SIGGRAPH 2017. arXiv:1705.02999"
        ),
        citation=(
            "@article{zhang2017real, title={Real-Time User-Guided Image Colorization with Learned Deep "
            "Priors}, author={Zhang, Richard and Zhu, Jun-Yan and Isola, Phillip and Geng, Xinyang and "
            "Lin, Angela S and Yu, Tianhe and Efros, Alexei A}, journal={ACM Transactions on Graphics "
            "(TOG)}, volume={36}, number={4}, year={2017}}"
        ),
    ),
}


class WeightsError(ValueError):
    """A weights file that fails verification: wrong hash, unreadable, or wrong layout."""


class DownloadError(RuntimeError):
    """The official weights could not be downloaded (network, server, truncation)."""


def _release(name: str) -> OfficialRelease:
    if name not in OFFICIAL:
        raise KeyError(f"no official weights called {name!r}; known: {', '.join(OFFICIAL)}")
    return OFFICIAL[name]


def hash_prefix_in_name(file_name: str) -> str | None:
    """The sha256 prefix in a torch.hub-style name (``x-9b330a0b.pth`` -> ``9b330a0b``), else None."""
    m = _HASH_IN_NAME.search(Path(file_name).name)
    return m.group(1) if m else None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _import_advice(name: str) -> str:
    return (
        f"You can download {_release(name).url} on another machine and run "
        f"`polychrome weights import {name} FILE.pth`."
    )


def _load_pth(path: Path) -> dict[str, torch.Tensor]:
    """Safe load of a ``.pth`` holding a flat state dict (str -> tensor)."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling refusals, truncated or foreign files: all mean "not usable"
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise WeightsError(f"{path} is not a PyTorch weights file that can be loaded safely: {first}") from e
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise WeightsError(f"{path} does not hold a state dict (a mapping of names to tensors)")
    return dict(obj)


def _examples(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


def check_layout(state: Mapping[str, torch.Tensor], arch: str, source: str = "the file") -> None:
    """Raise :class:`WeightsError` unless ``state`` has exactly ``arch``'s keys and shapes.

    ``num_batches_tracked`` counters may be absent (files saved by PyTorch < 0.4.1).
    """
    with torch.device("meta"):  # shapes only: no memory, no initialisation time
        reference = registry.build_model(arch)
    expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} {tuple(state[k].shape)} instead of {expected[k]}"
        for k in expected
        if k in state and tuple(state[k].shape) != expected[k]
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys ({_examples(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys ({_examples(unexpected)})")
    if wrong:
        problems.append(f"{len(wrong)} tensors of the wrong shape ({_examples(wrong)})")
    if problems:
        raise WeightsError(f"{source} does not match the {arch} architecture: " + "; ".join(problems))


def _build_loaded(state: dict[str, torch.Tensor], arch: str, source: str) -> MarginalModel:
    check_layout(state, arch, source)
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(f"{source} holds non-finite values (in {_examples(bad)}); the file is damaged")
    model = registry.build_model(arch)
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            state.setdefault(k, v)
    model.load_state_dict(state, strict=True)
    return model.eval()


def _convert(pth: Path, name: str, sha256: str, dest_dir: Path, card_extra: dict) -> Path:
    """Load, validate and write ``dest_dir/NAME.safetensors`` + card; returns the safetensors path."""
    release = _release(name)
    model = _build_loaded(_load_pth(pth), name, str(pth))
    card = {
        "name": name,
        "arch": name,
        "source_url": release.url,
        "file_name": release.file_name,
        "sha256": sha256,
        "licence": LICENCE,
        "paper": release.paper,
        "citation": release.citation,
        "logit_scale": model.logit_scale,
        **card_extra,
    }
    dest = Path(dest_dir) / f"{name}.safetensors"
    registry.save_model(model, dest, card)
    log.info("wrote %s", dest)
    return dest


def _verify_hash(sha256: str, file_name: str, name: str, allow_unofficial: bool) -> bool:
    """Check the hash against the name's torch.hub prefix and the official release.

    Returns whether the file is the official release.
    """
    named = hash_prefix_in_name(file_name)
    if named is not None and not sha256.startswith(named):
        raise WeightsError(
            f"{file_name}: its name says the sha256 starts with {named} but it is {sha256[: len(named)]}; "
            "the file is damaged or incomplete"
        )
    official = sha256.startswith(_release(name).sha256_prefix)
    if not official and not allow_unofficial:
        raise WeightsError(
            f"{file_name} is not the official {name} release (sha256 {sha256[:8]}..., expected "
            f"{_release(name).sha256_prefix}...). To import a compatible retrained file on purpose, "
            "pass --allow-unofficial."
        )
    return official


def import_official(
    name: str, file: Path, dest_dir: Path | None = None, *, allow_unofficial: bool = False
) -> Path:
    """Verify and convert a local copy of the official ``name`` weights; returns the safetensors path.

    The sha256 must match the official release (and the torch.hub prefix in the file
    name, if it has one). ``allow_unofficial`` accepts other files with the same layout,
    marked ``"official": false`` in the model card.
    """
    _release(name)
    file = Path(file)
    if not file.is_file():
        raise FileNotFoundError(f"no such file: {file}")
    sha = sha256_file(file)
    official = _verify_hash(sha, file.name, name, allow_unofficial)
    dest_dir = Path(dest_dir) if dest_dir is not None else registry.user_models_dir()
    extra = {"source": "imported", "imported_from": str(file.resolve()), "official": official}
    return _convert(file, name, sha, dest_dir, extra)


def _stream_to(response, out, total: int | None, progress: bool, label: str) -> tuple[int, str]:
    """Copy an HTTP response body to ``out``; returns (bytes, sha256 hex)."""
    h = hashlib.sha256()
    n = 0
    with tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, disable=not progress
    ) as bar:
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            h.update(chunk)
            n += len(chunk)
            bar.update(len(chunk))
    return n, h.hexdigest()


def download_official(name: str, dest_dir: Path | None = None, progress: bool = True) -> Path:
    """Download, verify and convert the official ``name`` weights; returns the safetensors path.

    Raises :class:`DownloadError` when the file can't be fetched (with the offline
    alternative in the message) and :class:`WeightsError` when it fails verification.
    """
    release = _release(name)
    dest_dir = Path(dest_dir) if dest_dir is not None else registry.user_models_dir()
    url = release.url
    try:
        response = urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as e:
        raise DownloadError(
            f"the server refused {url}: HTTP {e.code} {e.reason}. {_import_advice(name)}"
        ) from e
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(
            f"no network connection: could not reach {url} ({reason}). {_import_advice(name)}"
        ) from e

    # Stream into the destination folder so nothing half-written ever sits under a final name.
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}-", suffix=".pth.part", dir=dest_dir)
    except OSError:
        response.close()
        raise
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, response:
            length = response.headers.get("Content-Length") if response.headers else None
            total = int(length) if length and length.isdigit() else None
            try:
                n, sha = _stream_to(response, out, total, progress, release.file_name)
            except (urllib.error.URLError, OSError) as e:
                raise DownloadError(
                    f"the download of {url} was interrupted ({e}). {_import_advice(name)}"
                ) from e
        if total is not None and n != total:
            raise DownloadError(
                f"the download of {url} stopped after {n} of {total} bytes. {_import_advice(name)}"
            )
        if not sha.startswith(release.sha256_prefix):
            raise WeightsError(
                f"the file downloaded from {url} has sha256 {sha[:16]}..., not {release.sha256_prefix}...; "
                "it was damaged in transit or changed on the server, so it was not used"
            )
        return _convert(tmp, name, sha, dest_dir, {"source": "downloaded", "official": True})
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
