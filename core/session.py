"""Editing sessions on disk: which image, which settings, which hints, which results kept.

A session is a small JSON file (``*.polychrome``) plus, when results are locked,
a sidecar ``*.polychrome.npz`` next to it. The sidecar holds the locked
results' ab maps (working resolution, float32) exactly as they were shown.
Storing the arrays rather than re-deriving them from seeds is deliberate: a
locked result must survive later changes to hints, sampler settings and even
the sampler's code, which a seed alone cannot guarantee.

Nothing here imports Qt or torch; hints and sampler settings are stored as the
plain dicts their owners produce (``HintDocument.to_dict()``,
``dataclasses.asdict(SamplerSettings)``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SESSION_SUFFIX = ".polychrome"
FORMAT = "polychrome-session"
VERSION = 1


class SessionError(ValueError):
    """A session file that cannot be read (missing, malformed, or from a newer version)."""


@dataclass
class Session:
    """Everything needed to reopen an edit where it was left.

    image_path: the photograph (absolute when saved; resolved on load).
    model: marginal model name the results came from.
    sampler: sampler settings as a plain dict (seed included).
    hints: hint document as a plain dict.
    locked: result index -> ab map ``(2, h, w)`` float32 at working resolution.
    locked_seeds: result index -> the seed that drew it (informative only).
    starred: result indices marked for export.
    selected: the result shown large.
    extra: free-form view state (zoom, brush...) the app may want back.
    """

    image_path: Path
    model: str = ""
    sampler: dict[str, Any] = field(default_factory=dict)
    hints: dict[str, Any] = field(default_factory=dict)
    locked: dict[int, np.ndarray] = field(default_factory=dict)
    locked_seeds: dict[int, int] = field(default_factory=dict)
    starred: list[int] = field(default_factory=list)
    selected: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def sidecar_path(path: Path) -> Path:
    """Where the locked results of session ``path`` are stored."""
    path = Path(path)
    return path.with_name(path.name + ".npz")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_session(path: Path | str, session: Session) -> Path:
    """Write ``session`` to ``path`` (JSON) and its sidecar (only when results are locked)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Path(session.image_path).expanduser().resolve()
    try:
        relative = os.path.relpath(image, path.parent.resolve())
    except ValueError:  # different drive on Windows
        relative = None
    shapes = {str(i): list(np.asarray(ab).shape) for i, ab in session.locked.items()}
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "image": {"path": str(image), "relative": relative},
        "model": session.model,
        "sampler": session.sampler,
        "hints": session.hints,
        "locked": {
            "file": sidecar_path(path).name if session.locked else None,
            "shapes": shapes,
            "seeds": {str(i): int(s) for i, s in session.locked_seeds.items()},
        },
        "starred": sorted(int(i) for i in session.starred),
        "selected": int(session.selected),
        "extra": session.extra,
    }
    side = sidecar_path(path)
    if session.locked:
        import io

        buf = io.BytesIO()
        arrays: dict[str, Any] = {
            f"ab_{int(i)}": np.asarray(ab, np.float32) for i, ab in session.locked.items()
        }
        np.savez_compressed(buf, **arrays)
        _atomic_write_bytes(side, buf.getvalue())
    elif side.exists():
        side.unlink()  # a stale sidecar would resurrect results the user unlocked
    _atomic_write_bytes(path, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
    return path


def _resolve_image(path: Path, image: dict[str, Any]) -> Path:
    """The absolute path if it still exists, else the one relative to the session (moved folders)."""
    absolute = Path(image.get("path") or "")
    if absolute.is_file():
        return absolute
    rel = image.get("relative")
    if rel:
        candidate = (path.parent / rel).resolve()
        if candidate.is_file():
            return candidate
    return absolute


def load_session(path: Path | str) -> Session:
    """Read a session written by :func:`save_session`. Raises :class:`SessionError`."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SessionError(f"session file not found: {path}") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SessionError(f"not a readable session file: {path} ({e})") from e
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SessionError(f"not a Polychrome session: {path}")
    if int(doc.get("version", 0)) > VERSION:
        raise SessionError(
            f"session {path.name} was written by a newer Polychrome (version {doc['version']})"
        )
    try:
        image = _resolve_image(path, doc["image"])
        locked_meta = doc.get("locked") or {}
        locked: dict[int, np.ndarray] = {}
        if locked_meta.get("file"):
            side = path.parent / locked_meta["file"]
            if not side.is_file():
                raise SessionError(f"the locked results file {side.name} is missing next to the session")
            with np.load(side) as npz:
                for key in npz.files:
                    if key.startswith("ab_"):
                        locked[int(key[3:])] = np.asarray(npz[key], dtype=np.float32)
        return Session(
            image_path=image,
            model=str(doc.get("model", "")),
            sampler=dict(doc.get("sampler") or {}),
            hints=dict(doc.get("hints") or {}),
            locked=locked,
            locked_seeds={int(k): int(v) for k, v in (locked_meta.get("seeds") or {}).items()},
            starred=[int(i) for i in doc.get("starred", [])],
            selected=int(doc.get("selected", 0)),
            extra=dict(doc.get("extra") or {}),
        )
    except SessionError:
        raise
    except (KeyError, TypeError, ValueError, OSError) as e:
        raise SessionError(f"damaged session file {path.name}: {e}") from e
