"""Hint editing on the document through the undo stack (QUndoStack), and the eraser's hit test.

The document itself is driven without Qt in ``test_editor_model.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtGui import QUndoStack

from polychrome.core.hints import Stroke
from polychrome.desktop.model import EditorDocument, ResultItem
from polychrome.desktop.model.strokes import make_stroke, strokes_touching
from polychrome.desktop.undo_commands import AddStrokeCommand, RemoveStrokesCommand


@pytest.fixture
def state(qtbot) -> EditorDocument:
    st = EditorDocument()
    st.set_results(
        [
            ResultItem(i, torch.full((2, 3, 4), float(i)), 100 + i, np.zeros((3, 4, 3), np.uint8))
            for i in range(8)
        ]
    )
    return st


def test_stroke_commands_are_single_undo_steps(qtbot, state):
    stack = QUndoStack()
    a = make_stroke([(1, 1), (5, 5)], 3, (1, 0, 0), 1.0, 0.5)
    b = make_stroke([(20, 20)], 3, (0, 0, 1), 1.0, 0.5)
    c = make_stroke([(40, 5), (45, 5)], 3, (0, 1, 0), 1.0, 0.5)
    for s in (a, b, c):
        stack.push(AddStrokeCommand(state, s))
    assert [s.id for s in state.strokes()] == [a.id, b.id, c.id]
    stack.push(RemoveStrokesCommand(state, [c.id, a.id]))
    assert [s.id for s in state.strokes()] == [b.id]
    stack.undo()  # both come back, in their original order
    assert [s.id for s in state.strokes()] == [a.id, b.id, c.id]
    stack.undo()
    assert [s.id for s in state.strokes()] == [a.id, b.id]
    stack.redo()
    stack.redo()
    assert [s.id for s in state.strokes()] == [b.id]


def test_eraser_hits_only_strokes_it_sweeps_over():
    near = Stroke(points=[(0.0, 0.0), (100.0, 0.0)], radius=5.0, color=(1, 0, 0), id="near")
    far = Stroke(points=[(0.0, 50.0), (100.0, 50.0)], radius=5.0, color=(0, 1, 0), id="far")
    dot = Stroke(points=[(200.0, 200.0)], radius=2.0, color=(0, 0, 1), id="dot")
    # Reach = stroke radius + eraser radius = 9: a drag ending 8 px from "near" touches it, 12 px does not.
    assert strokes_touching([near, far, dot], [(50, 30), (50, 8)], 4) == ["near"]
    assert strokes_touching([near, far, dot], [(50, 30), (50, 12)], 4) == []
    # Sparse eraser points far apart still sweep the segment between them.
    assert strokes_touching([near, far, dot], [(190, 190), (210, 210)], 1) == ["dot"]
    assert strokes_touching([near, far, dot], [(150, 120)], 3) == []
