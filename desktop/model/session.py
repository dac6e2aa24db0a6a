"""Session rules: what a saved session holds, and how one is brought back into a document.

The parts of a session arrive in two steps: hints and settings as soon as its photo is
open, locked and starred results once the network has run (their arrays must fit the
marginals' shape). Each function returns the notices the user should read.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from polychrome.core.hints import HintDocument
from polychrome.core.sampler import SamplerSettings
from polychrome.core.session import Session

from .document import EditorDocument

BRUSH_KEYS = ("radius", "hardness", "strength", "reach")


def build_session(doc: EditorDocument, model_name: str, extra: dict[str, Any] | None = None) -> Session:
    """The document as a :class:`~polychrome.core.session.Session` (the photo must be open)."""
    assert doc.image is not None
    return Session(
        image_path=Path(doc.image.path),
        model=model_name,
        sampler=dataclasses.asdict(doc.settings),
        hints=doc.hints.to_dict(),
        locked={i: ab.numpy() for i, ab in doc.locked.items()},
        locked_seeds=dict(doc.locked_seeds),
        starred=sorted(doc.starred),
        selected=doc.selected,
        extra=extra or {},
    )


def apply_session_document(doc: EditorDocument, session: Session, model_name: str) -> list[str]:
    """Hints and settings: available as soon as the image is. Unreadable parts fall back to
    defaults (with a notice) rather than refusing the whole session."""
    notices = []
    try:
        hints = HintDocument.from_dict(session.hints) if session.hints else HintDocument()
    except (KeyError, TypeError, ValueError) as e:
        notices.append(f"The session's hints could not be read ({e}); starting without hints.")
        hints = HintDocument()
    fields = {f.name for f in dataclasses.fields(SamplerSettings)}
    values = {k: v for k, v in session.sampler.items() if k in fields}
    try:
        settings = dataclasses.replace(doc.settings, **values)
    except (TypeError, ValueError):
        settings = doc.settings
    doc.set_hints(hints, mark_dirty=False)
    doc.replace_settings(settings)
    if session.model and session.model != model_name:
        notices.append(
            f"The session was made with model “{session.model}”; using “{model_name}” (Preferences)."
        )
    return notices


def apply_session_results(doc: EditorDocument, session: Session, path: Path) -> list[str]:
    """Locked/starred results and the selection, once the marginals exist: a stored array that
    does not fit their shape (another model or image size) is not restored."""
    assert doc.marginals is not None
    shape = doc.marginals.shape
    locked = {i: torch.from_numpy(ab) for i, ab in session.locked.items() if tuple(ab.shape[-2:]) == shape}
    notices = []
    if len(locked) != len(session.locked):
        notices.append("Some locked results could not be restored (different model or image size).")
    n = doc.settings.n
    starred = {int(i) for i in session.starred if 0 <= int(i) < n}  # stars stand on their own
    doc.restore_flags(locked, {i: session.locked_seeds.get(i, 0) for i in locked}, starred, session.selected)
    doc.set_session_path(path)
    doc.mark_clean()
    return notices


def release_mismatched_locks(doc: EditorDocument) -> list[str]:
    """After a new network run: locks from another model's working resolution go."""
    if doc.marginals is None or not doc.locked:
        return []
    if doc.release_locks_not_of_shape(doc.marginals.shape):
        return ["Locked results from the previous model were released."]
    return []


def brush_from_session(session: Session, current: dict[str, float]) -> tuple[dict[str, float], str | None]:
    """The brush a session was saved with (``extra["brush"]``), over ``current``; and its colour
    name if one was stored. A hand-edited session with odd values gives ``current`` back."""
    b = session.extra.get("brush") if isinstance(session.extra, dict) else None
    if not isinstance(b, dict):
        return dict(current), None
    try:
        values = {k: float(b.get(k, current[k])) for k in BRUSH_KEYS}
    except (TypeError, ValueError):
        return dict(current), None
    color = b.get("color")
    return values, (str(color) if isinstance(color, str) and color else None)


def session_extra(brush: dict[str, float], color_name: str) -> dict[str, Any]:
    """What the editor stores beside the document: the brush, so a resumed edit paints alike."""
    return {"brush": {**{k: float(brush[k]) for k in BRUSH_KEYS}, "color": color_name}}
