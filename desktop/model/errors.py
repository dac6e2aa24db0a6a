"""What the user is told when background work fails: a kind (which decides the follow-up the
window offers), a sentence, and technical detail only where it helps."""

from __future__ import annotations

import torch

from polychrome.core.imageio import ImageLoadError
from polychrome.core.models import ModelNotFoundError

Failure = tuple[str, str, str]  # kind, message, detail


class ErrorKind:
    LOAD = "load"
    MODEL_MISSING = "model_missing"
    OUT_OF_MEMORY = "oom"
    NETWORK = "network"
    SAMPLING = "sampling"
    EXPORT = "export"
    SESSION = "session"


def is_out_of_memory(e: BaseException) -> bool:
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom is not None and isinstance(e, oom)) or "out of memory" in str(e).lower()


def load_failure(exc: BaseException, name: str, tb: str) -> Failure:
    if isinstance(exc, ImageLoadError):
        return ErrorKind.LOAD, str(exc), ""  # already a sentence for the user
    if isinstance(exc, OSError):
        return ErrorKind.LOAD, f"Could not open “{name}”: {exc.strerror or exc}.", ""
    return ErrorKind.LOAD, f"Could not open “{name}”.", tb


def network_failure(exc: BaseException, model_name: str, tb: str) -> Failure:
    if isinstance(exc, ModelNotFoundError | KeyError):
        return ErrorKind.MODEL_MISSING, f"The model “{model_name}” is not available.\n\n{exc}", ""
    if is_out_of_memory(exc):
        return ErrorKind.OUT_OF_MEMORY, "The graphics card ran out of memory.", str(exc)
    return ErrorKind.NETWORK, f"Colourisation failed: {exc}", tb


def sampling_failure(exc: BaseException, tb: str) -> Failure:
    if is_out_of_memory(exc):
        return ErrorKind.OUT_OF_MEMORY, "The graphics card ran out of memory while sampling.", str(exc)
    return ErrorKind.SAMPLING, f"Sampling failed: {exc}", tb


def export_failure(exc: BaseException, tb: str) -> Failure:
    return ErrorKind.EXPORT, f"Export failed: {exc}", "" if isinstance(exc, OSError) else tb
