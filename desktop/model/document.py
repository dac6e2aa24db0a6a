"""The editor's document: image, marginals, hints, sampler settings, results, locks, stars, dirty.

A plain object (no Qt) and the only writer of its fields: they read like attributes
but assigning one raises, so every change goes through a method, which fires the
matching :class:`~polychrome.desktop.model.events.Event`. The controller runs the
jobs and writes their outcomes here; views listen to the events.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import numpy as np
import torch

from polychrome.core.hints import HintDocument, Stroke
from polychrome.core.imageio import LoadedImage
from polychrome.core.models import Marginals
from polychrome.core.prepared import PreparedImage
from polychrome.core.sampler import SamplerSettings

from .events import Event

T = TypeVar("T")


@dataclass
class ResultItem:
    """One colourisation: ab at working resolution and its RGB renderings.

    ``thumb`` exists for every result (the grid); ``preview`` (large view) only for
    the results that were on show, so a refresh after a stroke composes one
    preview instead of N.
    """

    index: int
    ab: torch.Tensor  # (2, h, w) float32, CPU
    seed: int
    thumb: np.ndarray  # (h', w', 3) uint8 sRGB, long side <= THUMB_LONG_SIDE
    preview: np.ndarray | None = None  # (h'', w'', 3) uint8 sRGB, long side <= PREVIEW_LONG_SIDE


@dataclass
class ImageDisplay:
    """Grayscale renderings and downscaled L of the loaded photo, prepared off the GUI thread.

    ``gray_full`` is in the display's native layout (``core.display.gray_to_bgrx``), so the
    view wraps it without converting 24 million pixels on the GUI thread.
    """

    gray_full: np.ndarray  # (H, W, 4) uint8 B, G, R, 255 at full resolution
    L_preview: np.ndarray  # (h', w') float32 L*, long side <= PREVIEW_LONG_SIDE
    L_thumb: np.ndarray  # (h'', w'') float32 L*, long side <= THUMB_LONG_SIDE


@dataclass
class Timings:
    network_ms: float = 0.0
    sampler_ms: float = 0.0
    compose_ms: float = 0.0
    device: str = ""
    model: str = ""


def default_sampler_settings(n: int = 8) -> SamplerSettings:
    return dataclasses.replace(SamplerSettings(), n=n)


class _Field(Generic[T]):
    """A field the document's own methods write (``self._name``) and everyone else only reads."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.private = name, "_" + name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Field[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        return self if obj is None else getattr(obj, self.private)

    def __set__(self, obj: object, value: T) -> None:
        raise AttributeError(f"{self.name} is written only by EditorDocument's methods")


class EditorDocument:
    """Observable editing state. Mutate it only through its methods, so its events fire."""

    image: _Field[LoadedImage | None] = _Field()
    display: _Field[ImageDisplay | None] = _Field()
    marginals: _Field[Marginals | None] = _Field()
    prepared: _Field[PreparedImage | None] = _Field()  # marginals, L at working res, hint engine
    hints: _Field[HintDocument] = _Field()
    settings: _Field[SamplerSettings] = _Field()
    results: _Field[list[ResultItem]] = _Field()
    locked: _Field[dict[int, torch.Tensor]] = _Field()
    locked_seeds: _Field[dict[int, int]] = _Field()
    starred: _Field[set[int]] = _Field()
    selected: _Field[int] = _Field()
    dirty: _Field[bool] = _Field()
    session_path: _Field[Path | None] = _Field()
    timings: _Field[Timings] = _Field()

    def __init__(self) -> None:
        self.image_changed = Event("image_changed")
        self.marginals_changed = Event("marginals_changed")
        self.results_changed = Event("results_changed")
        self.hints_changed = Event("hints_changed")
        self.settings_changed = Event("settings_changed")
        self.flags_changed = Event("flags_changed")  # locked / starred sets
        self.selection_changed = Event("selection_changed")  # (index)
        self.dirty_changed = Event("dirty_changed")  # (dirty)
        self.timings_changed = Event("timings_changed")
        self._image: LoadedImage | None = None
        self._display: ImageDisplay | None = None
        self._marginals: Marginals | None = None
        self._prepared: PreparedImage | None = None
        self._hints = HintDocument()
        self._settings = default_sampler_settings()
        self._results: list[ResultItem] = []
        self._locked: dict[int, torch.Tensor] = {}
        self._locked_seeds: dict[int, int] = {}
        self._starred: set[int] = set()
        self._selected = 0
        self._dirty = False
        self._session_path: Path | None = None
        self._timings = Timings()

    # -- image ---------------------------------------------------------------------------------
    @property
    def has_image(self) -> bool:
        return self._image is not None

    def set_image(self, image: LoadedImage | None, display: ImageDisplay | None) -> None:
        """A new photo: everything derived from the previous one is dropped."""
        self._image = image
        self._display = display
        self._marginals = None
        self._prepared = None
        self._hints = HintDocument()
        self._results = []
        self._locked = {}
        self._locked_seeds = {}
        self._starred = set()
        self._selected = 0
        self._session_path = None
        self.image_changed.emit()
        self.hints_changed.emit()
        self.results_changed.emit()
        self.flags_changed.emit()
        self._set_dirty(False)

    def set_prepared(self, prepared: PreparedImage | None) -> None:
        """The network's outcome for the open photo (None: not colourised)."""
        self._prepared = prepared
        self._marginals = prepared.marginals if prepared is not None else None
        self.marginals_changed.emit()

    def set_session_path(self, path: Path | None) -> None:
        """Where the session was opened from or saved to (Save writes there again)."""
        self._session_path = None if path is None else Path(path)

    # -- results -------------------------------------------------------------------------------
    def set_results(self, results: list[ResultItem]) -> None:
        self._results = list(results)
        if self._selected >= len(self._results):
            self._selected = max(0, len(self._results) - 1)
        self.results_changed.emit()

    def set_preview(self, index: int, preview: np.ndarray) -> None:
        """Attach the large-view rendering of a result (computed in the background)."""
        item = self.result(index)
        if item is not None:
            item.preview = preview

    def result(self, index: int) -> ResultItem | None:
        return self._results[index] if 0 <= index < len(self._results) else None

    def select(self, index: int) -> None:
        if index == self._selected or not (0 <= index < max(1, len(self._results))):
            return
        self._selected = index
        self.selection_changed.emit(index)

    def step_selection(self, d: int) -> None:
        """Next (``d > 0``) or previous result, wrapping around."""
        if self._results:
            self.select((self._selected + d) % len(self._results))

    def set_timings(self, **values: Any) -> None:
        self._timings = dataclasses.replace(self._timings, **values)
        self.timings_changed.emit()

    # -- settings ------------------------------------------------------------------------------
    def update_settings(self, **changes: Any) -> bool:
        """Change sampler settings; returns False (and stays quiet) when nothing changed."""
        new = dataclasses.replace(self._settings, **changes)
        if new == self._settings:
            return False
        self._settings = new
        # Locks and stars on results that no longer exist would be invisible traps.
        n = new.n
        gone = [i for i in self._locked if i >= n]
        for i in gone:
            self._locked.pop(i, None)
            self._locked_seeds.pop(i, None)
        if gone or any(i >= n for i in self._starred):
            self._starred = {i for i in self._starred if i < n}
            self.flags_changed.emit()
        self.settings_changed.emit()
        self._set_dirty(True)
        return True

    def replace_settings(self, settings: SamplerSettings) -> None:
        """Settings read from a session: not an edit, so the document stays clean."""
        self._settings = settings
        self.settings_changed.emit()

    # -- lock / star ---------------------------------------------------------------------------
    def set_locked(self, index: int, locked: bool) -> None:
        item = self.result(index)
        if locked and item is not None:
            self._locked[index] = item.ab.detach().cpu().clone()
            self._locked_seeds[index] = int(item.seed)
        elif not locked:
            self._locked.pop(index, None)
            self._locked_seeds.pop(index, None)
        else:
            return
        self.flags_changed.emit()
        self._set_dirty(True)

    def toggle_lock(self, index: int) -> None:
        self.set_locked(index, index not in self._locked)

    def set_starred(self, index: int, starred: bool) -> None:
        if starred == (index in self._starred) or self.result(index) is None:
            return
        # Star and lock are independent: a star marks a result for export, only a lock keeps it.
        if starred:
            self._starred.add(index)
        else:
            self._starred.discard(index)
        self.flags_changed.emit()
        self._set_dirty(True)

    def toggle_star(self, index: int) -> None:
        self.set_starred(index, index not in self._starred)

    def restore_flags(
        self,
        locked: dict[int, torch.Tensor],
        seeds: dict[int, int],
        starred: set[int],
        selected: int | None = None,
    ) -> None:
        """Locks, stars (and the selection) from a session, or after releasing some."""
        self._locked = dict(locked)
        self._locked_seeds = dict(seeds)
        self._starred = set(starred)
        if selected is not None:
            self._selected = max(0, min(int(selected), self._settings.n - 1))
        self.flags_changed.emit()

    def release_locks_not_of_shape(self, shape: tuple[int, int]) -> list[int]:
        """Drop locks whose ab maps no longer fit the working resolution (another model or
        image size); returns the released indices."""
        bad = [i for i, ab in self._locked.items() if tuple(ab.shape[-2:]) != tuple(shape)]
        if bad:
            self.restore_flags(
                {i: a for i, a in self._locked.items() if i not in bad},
                {i: s for i, s in self._locked_seeds.items() if i not in bad},
                {i for i in self._starred if i not in bad},
            )
        return bad

    # -- hints ---------------------------------------------------------------------------------
    def strokes(self) -> list[Stroke]:
        return list(self._hints.strokes)

    def insert_stroke(self, stroke: Stroke, position: int | None = None) -> None:
        strokes = self._hints.strokes
        strokes.insert(len(strokes) if position is None else position, stroke)
        self._hints_edited()

    def remove_stroke(self, stroke_id: Any) -> tuple[int, Stroke] | None:
        """Remove a stroke by id; returns (position, stroke) so undo can put it back."""
        for pos, s in enumerate(self._hints.strokes):
            if s.id == stroke_id:
                del self._hints.strokes[pos]
                self._hints_edited()
                return pos, s
        return None

    def stroke_position(self, stroke_id: Any) -> int | None:
        return next((i for i, s in enumerate(self._hints.strokes) if s.id == stroke_id), None)

    def set_hints(self, doc: HintDocument, mark_dirty: bool = True) -> None:
        self._hints = doc
        self.hints_changed.emit()
        if mark_dirty:
            self._set_dirty(True)

    def _hints_edited(self) -> None:
        self.hints_changed.emit()
        self._set_dirty(True)

    # -- dirty ---------------------------------------------------------------------------------
    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)

    def mark_clean(self) -> None:
        self._set_dirty(False)

    def mark_dirty(self) -> None:
        self._set_dirty(True)
