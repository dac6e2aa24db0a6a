"""Marginal models: one interface, several architectures, safetensors weights."""

from . import semantic, zhang  # noqa: F401  (register their architectures)
from .base import MarginalModel, Marginals
from .registry import (
    DEFAULT_MODEL,
    ModelNotFoundError,
    available_models,
    build_model,
    load_model,
    pick_device,
    save_model,
)

__all__ = [
    "DEFAULT_MODEL",
    "MarginalModel",
    "Marginals",
    "ModelNotFoundError",
    "available_models",
    "build_model",
    "load_model",
    "pick_device",
    "save_model",
]
