"""The editor's document: image, marginals, hints, sampler settings and results.

A QObject with signals so views can observe it, but it holds no widgets and
does no work itself: the controller runs jobs and writes their outcomes here.
Everything is testable with a bare QCoreApplication.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from polychrome.core.hints import HintDocument, Stroke
from polychrome.core.imageio import LoadedImage
from polychrome.core.models import Marginals
from polychrome.core.prepared import PreparedImage
from polychrome.core.sampler import SamplerSettings


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
    """Grayscale renderings and downscaled L of the loaded photo, prepared off the GUI thread."""

    gray_full: np.ndarray  # (H, W) uint8 sRGB gray, full resolution
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


class EditorState(QObject):
    """Observable editing state. Mutate it only through its methods so signals fire."""

    image_changed = Signal()
    marginals_changed = Signal()
    results_changed = Signal()
    hints_changed = Signal()
    settings_changed = Signal()
    flags_changed = Signal()  # locked / starred sets
    selection_changed = Signal(int)
    dirty_changed = Signal(bool)
    timings_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.image: LoadedImage | None = None
        self.display: ImageDisplay | None = None
        self.marginals: Marginals | None = None
        self.prepared: PreparedImage | None = None  # marginals, L at working res, hint engine
        self.hints = HintDocument()
        self.settings = default_sampler_settings()
        self.results: list[ResultItem] = []
        self.locked: dict[int, torch.Tensor] = {}
        self.locked_seeds: dict[int, int] = {}
        self.starred: set[int] = set()
        self.selected = 0
        self.dirty = False
        self.session_path: Path | None = None
        self.timings = Timings()

    # -- image ---------------------------------------------------------------------------------
    @property
    def has_image(self) -> bool:
        return self.image is not None

    def set_image(self, image: LoadedImage | None, display: ImageDisplay | None) -> None:
        """A new photo: everything derived from the previous one is dropped."""
        self.image = image
        self.display = display
        self.marginals = None
        self.prepared = None
        self.hints = HintDocument()
        self.results = []
        self.locked = {}
        self.locked_seeds = {}
        self.starred = set()
        self.selected = 0
        self.session_path = None
        self.image_changed.emit()
        self.hints_changed.emit()
        self.results_changed.emit()
        self.flags_changed.emit()
        self._set_dirty(False)

    def set_prepared(self, prepared: PreparedImage | None) -> None:
        """The network's outcome for the open photo (None: not colourised)."""
        self.prepared = prepared
        self.marginals = prepared.marginals if prepared is not None else None
        self.marginals_changed.emit()

    # -- results -------------------------------------------------------------------------------
    def set_results(self, results: list[ResultItem]) -> None:
        self.results = list(results)
        if self.selected >= len(self.results):
            self.selected = max(0, len(self.results) - 1)
        self.results_changed.emit()

    def set_preview(self, index: int, preview: np.ndarray) -> None:
        """Attach the large-view rendering of a result (computed in the background)."""
        item = self.result(index)
        if item is not None:
            item.preview = preview

    def result(self, index: int) -> ResultItem | None:
        return self.results[index] if 0 <= index < len(self.results) else None

    def select(self, index: int) -> None:
        if index == self.selected or not (0 <= index < max(1, len(self.results))):
            return
        self.selected = index
        self.selection_changed.emit(index)

    def set_timings(self, **values: Any) -> None:
        self.timings = dataclasses.replace(self.timings, **values)
        self.timings_changed.emit()

    # -- settings ------------------------------------------------------------------------------
    def update_settings(self, **changes: Any) -> bool:
        """Change sampler settings; returns False (and stays quiet) when nothing changed."""
        new = dataclasses.replace(self.settings, **changes)
        if new == self.settings:
            return False
        self.settings = new
        # Locks and stars on results that no longer exist would be invisible traps.
        n = self.settings.n
        gone = [i for i in self.locked if i >= n]
        for i in gone:
            self.locked.pop(i, None)
            self.locked_seeds.pop(i, None)
        if gone or any(i >= n for i in self.starred):
            self.starred = {i for i in self.starred if i < n}
            self.flags_changed.emit()
        self.settings_changed.emit()
        self._set_dirty(True)
        return True

    def replace_settings(self, settings: SamplerSettings) -> None:
        self.settings = settings
        self.settings_changed.emit()

    # -- lock / star ---------------------------------------------------------------------------
    def set_locked(self, index: int, locked: bool) -> None:
        item = self.result(index)
        if locked and item is not None:
            self.locked[index] = item.ab.detach().cpu().clone()
            self.locked_seeds[index] = int(item.seed)
        elif not locked:
            self.locked.pop(index, None)
            self.locked_seeds.pop(index, None)
        else:
            return
        self.flags_changed.emit()
        self._set_dirty(True)

    def toggle_lock(self, index: int) -> None:
        self.set_locked(index, index not in self.locked)

    def set_starred(self, index: int, starred: bool) -> None:
        if starred == (index in self.starred) or self.result(index) is None:
            return
        # Star and lock are independent: a star marks a result for export, only a lock keeps it.
        if starred:
            self.starred.add(index)
        else:
            self.starred.discard(index)
        self.flags_changed.emit()
        self._set_dirty(True)

    def toggle_star(self, index: int) -> None:
        self.set_starred(index, index not in self.starred)

    def restore_flags(
        self, locked: dict[int, torch.Tensor], seeds: dict[int, int], starred: set[int]
    ) -> None:
        self.locked = dict(locked)
        self.locked_seeds = dict(seeds)
        self.starred = set(starred)
        self.flags_changed.emit()

    # -- hints ---------------------------------------------------------------------------------
    def strokes(self) -> list[Stroke]:
        return list(self.hints.strokes)

    def insert_stroke(self, stroke: Stroke, position: int | None = None) -> None:
        strokes = self.hints.strokes
        strokes.insert(len(strokes) if position is None else position, stroke)
        self._hints_edited()

    def remove_stroke(self, stroke_id: Any) -> tuple[int, Stroke] | None:
        """Remove a stroke by id; returns (position, stroke) so undo can put it back."""
        for pos, s in enumerate(self.hints.strokes):
            if s.id == stroke_id:
                del self.hints.strokes[pos]
                self._hints_edited()
                return pos, s
        return None

    def set_hints(self, doc: HintDocument, mark_dirty: bool = True) -> None:
        self.hints = doc
        self.hints_changed.emit()
        if mark_dirty:
            self._set_dirty(True)

    def _hints_edited(self) -> None:
        self.hints_changed.emit()
        self._set_dirty(True)

    # -- dirty ---------------------------------------------------------------------------------
    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)

    def mark_clean(self) -> None:
        self._set_dirty(False)

    def mark_dirty(self) -> None:
        self._set_dirty(True)
