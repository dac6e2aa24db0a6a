"""Model architectures by name, shipped and downloaded weights, and loading.

Weights are safetensors files with a JSON model card beside them
(``NAME.safetensors`` + ``NAME.json``). Shipped models live in the package's
``models/`` folder; downloaded ones in the user cache (platformdirs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import platformdirs
import torch
from safetensors.torch import load_file, save_file

from .base import BestGuess, MarginalModel
from .polynet import PolyNet

DEFAULT_MODEL = "polychrome-lite0"

# name -> factory(centres or None) -> MarginalModel; other modules register theirs.
ARCHITECTURES: dict[str, Callable[..., MarginalModel]] = {
    "polychrome-small": lambda **kw: PolyNet(**kw),
}


class ModelNotFoundError(FileNotFoundError):
    """A model name with no weights on this machine."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    weights: Path
    card: dict

    @property
    def arch(self) -> str:
        return str(self.card.get("arch", self.name))


def register_architecture(name: str, factory: Callable[..., MarginalModel]) -> None:
    ARCHITECTURES[name] = factory


def shipped_models_dir() -> Path:
    """The ``models/`` folder installed with the package."""
    return Path(str(resources.files("polychrome.models")))


def user_models_dir() -> Path:
    """Where downloaded weights go (created on demand)."""
    return Path(platformdirs.user_cache_dir("polychrome", appauthor=False)) / "models"


def _scan(folder: Path) -> dict[str, ModelInfo]:
    found: dict[str, ModelInfo] = {}
    if not folder.is_dir():
        return found
    for w in sorted(folder.glob("*.safetensors")):
        card_path = w.with_suffix(".json")
        card = json.loads(card_path.read_text()) if card_path.is_file() else {}
        found[w.stem] = ModelInfo(w.stem, w, card)
    return found


def available_models() -> dict[str, ModelInfo]:
    """Every model with weights on this machine, shipped first, then downloaded."""
    found = _scan(shipped_models_dir())
    for name, info in _scan(user_models_dir()).items():
        found.setdefault(name, info)
    return found


def save_model(model: MarginalModel, path: Path, card: dict) -> None:
    """Write ``path`` (safetensors) and ``path.with_suffix('.json')`` (model card)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    card = dict(card)
    card.setdefault("arch", model.name)
    card["bin_centres"] = model.centres.cpu().numpy().round(4).tolist()
    tmp = path.with_suffix(".safetensors.tmp")
    save_file(state, str(tmp), metadata={"arch": card["arch"]})
    tmp.replace(path)
    path.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")


def pack_model(
    src: Path, dest_dir: Path, name: str | None = None, fp16: bool = False, card_updates: dict | None = None
) -> Path:
    """Copy trained weights ``src`` (+ its card) to ``dest_dir/NAME.safetensors`` for shipping.

    ``fp16`` stores floating tensors as float16 (half the size; they load into float32
    parameters); ``card_updates`` are merged into the card (e.g. the prior, the best-guess
    temperature chosen on dev). The result must load strictly into its architecture.
    """
    src = Path(src)
    card_path = src.with_suffix(".json")
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    if "arch" not in card:
        raise ValueError(f"{card_path} has no 'arch': not weights written by `polychrome train`")
    card.update(card_updates or {})
    state = load_file(str(src))
    if fp16:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        card["storage"] = "float16"
    dest = Path(dest_dir) / f"{name or src.stem}.safetensors"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".safetensors.tmp")
    save_file(state, str(tmp), metadata={"arch": card["arch"]})
    load_weights_file(tmp, card["arch"], card)  # raises if it does not load strictly
    tmp.replace(dest)
    dest.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    return dest


def build_model(arch: str, centres: np.ndarray | None = None) -> MarginalModel:
    if arch not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    return ARCHITECTURES[arch](centres=centres) if centres is not None else ARCHITECTURES[arch]()


def load_weights_file(path: Path, arch: str, card: dict | None = None) -> MarginalModel:
    """Build ``arch`` and load a safetensors file into it (strict)."""
    card = card or {}
    centres = np.asarray(card["bin_centres"], dtype=np.float32) if "bin_centres" in card else None
    model = build_model(arch, centres)
    state = load_file(str(path))
    model.load_state_dict(state, strict=True)
    model.best_guess = BestGuess.from_card(card)
    return model.eval()


def pick_device(preference: str = "auto") -> torch.device:
    """``auto`` -> cuda, then mps, else cpu; or exactly what was asked for (checked)."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(preference)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA was requested but no CUDA device is available")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("MPS was requested but it is not available on this machine")
    return dev


def load_model(name: str = DEFAULT_MODEL, device: str | torch.device = "auto") -> MarginalModel:
    """Load a model by name (shipped or downloaded) onto ``device``, in eval mode."""
    models = available_models()
    if name not in models:
        hint = ""
        if name in ("eccv16", "siggraph17"):
            hint = f" Run `polychrome weights download {name}` first (needs the network once)."
        raise ModelNotFoundError(
            f"no weights for model {name!r} on this machine.{hint} Available: {', '.join(models) or 'none'}"
        )
    info = models[name]
    model = load_weights_file(info.weights, info.arch, info.card)
    dev = device if isinstance(device, torch.device) else pick_device(device)
    return model.to(dev)
