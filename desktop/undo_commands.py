"""Undoable hint edits. One painted stroke, one erase gesture, one "clear" = one undo step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtGui import QUndoCommand

from polychrome.core.hints import Stroke

from .model import EditorDocument


class AddStrokeCommand(QUndoCommand):
    """Adds one stroke at the end of the hint document."""

    def __init__(self, state: EditorDocument, stroke: Stroke, text: str = "Paint Hint") -> None:
        super().__init__(text)
        self.state = state
        self.stroke = stroke
        self.position: int | None = None

    def redo(self) -> None:
        self.state.insert_stroke(self.stroke, self.position)
        position = self.state.stroke_position(self.stroke.id)
        self.position = self.position if position is None else position

    def undo(self) -> None:
        self.state.remove_stroke(self.stroke.id)


class RemoveStrokesCommand(QUndoCommand):
    """Removes several strokes at once (eraser gesture, stroke list, clear all)."""

    def __init__(self, state: EditorDocument, stroke_ids: Iterable[Any], text: str = "Erase Hints") -> None:
        super().__init__(text)
        self.state = state
        self.ids = list(stroke_ids)
        self.removed: list[tuple[int, Stroke]] = []

    def redo(self) -> None:
        # Remember original positions so undo restores the exact order (later strokes win overlaps).
        positions = {s.id: i for i, s in enumerate(self.state.hints.strokes)}
        self.removed = []
        for sid in sorted(self.ids, key=lambda i: positions.get(i, -1), reverse=True):
            got = self.state.remove_stroke(sid)
            if got is not None:
                self.removed.append(got)

    def undo(self) -> None:
        for pos, stroke in sorted(self.removed, key=lambda ps: ps[0]):
            self.state.insert_stroke(stroke, pos)
        self.removed = []
