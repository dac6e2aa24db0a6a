"""Alt+click takes an object's colour from another result (issue 10): on a thumbnail of the grid
or on the large view, it adds one ordinary hint stroke, a single point in that result's colour
of the object there (core's ``PreparedImage.pick_colour``), strength 1, the brush's radius and
the default reach. One undo step, listed in the hints panel, saved in the session."""

from __future__ import annotations

from pathlib import Path

import pytest
from editor_samples import H, W, two_region_photo
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QMessageBox

from polychrome.core.hints import Stroke
from polychrome.core.session import load_session

WAIT_MS = 30000
ALT, LEFT = Qt.KeyboardModifier.AltModifier, Qt.MouseButton.LeftButton


@pytest.fixture
def photo(tmp_path) -> Path:
    return two_region_photo(tmp_path / "photo.png")  # two objects: dark left, bright right


@pytest.fixture(autouse=True)
def discard_unsaved(messages):
    messages.default_answer = QMessageBox.StandardButton.Discard


def settled(qtbot, w) -> None:
    def done() -> bool:
        n = w.state.settings.n
        return not w.controller.is_busy() and len(w.state.results) == n and w.grid.count() == n

    qtbot.waitUntil(done, timeout=WAIT_MS)


def only_stroke(w) -> Stroke:
    assert len(w.state.hints.strokes) == 1
    return w.state.hints.strokes[0]


def test_alt_click_on_a_thumbnail_adds_one_stroke_in_that_results_colour(qtbot, make_window, photo, tmp_path):
    w = make_window()
    w.open_path(photo, ask=False)
    settled(qtbot, w)
    j, u, v = 2, 0.75, 0.5  # result 3, a point in the bright right half
    rect = w.grid.thumbnail_rect(j)
    assert rect is not None and rect.width() > 20
    ab_j = w.state.results[j].ab.clone()
    want = w.state.prepared.pick_colour(ab_j, u * W, v * H)
    qtbot.mouseClick(
        w.grid.viewport(),
        LEFT,
        ALT,
        QPoint(round(rect.left() + u * rect.width()), round(rect.top() + v * rect.height())),
    )
    s = only_stroke(w)
    assert len(s.points) == 1
    x, y = s.points[0]
    assert abs(x - u * W) <= 2 and abs(y - v * H) <= 2  # full-resolution position of the click
    assert s.color == pytest.approx(w.state.prepared.pick_colour(ab_j, x, y), abs=1e-6)
    assert s.color == pytest.approx(want, abs=0.05)
    assert s.strength == 1.0 and s.radius == pytest.approx(w.brush.radius())
    assert s.reach == Stroke(points=[(0, 0)], radius=1, color=(0, 0, 0)).reach  # the default reach
    assert w.state.selected == 0  # taking a colour does not switch the result on show
    assert w.hints_panel.list.count() == 1
    assert w.undo_stack.count() == 1 and "Result 3" in w.undo_stack.undoText()

    settled(qtbot, w)
    path = tmp_path / "take.polychrome"
    assert w.files.save_session_to(path)  # an ordinary stroke: saved like any other
    saved = load_session(path).hints["strokes"]
    assert len(saved) == 1 and saved[0]["color"] == pytest.approx(list(s.color))
    assert saved[0]["points"] == [pytest.approx([x, y])]

    w.undo_stack.undo()  # one undo step removes it
    assert w.state.hints.strokes == [] and w.hints_panel.list.count() == 0
    w.undo_stack.redo()
    assert only_stroke(w).color == s.color

    w2 = make_window()
    w2.open_path(path, ask=False)
    settled(qtbot, w2)
    assert only_stroke(w2).color == pytest.approx(s.color) and w2.hints_panel.list.count() == 1


def test_alt_click_on_the_large_view_takes_the_colour_of_the_result_on_show(qtbot, make_window, photo):
    w = make_window()
    w.open_path(photo, ask=False)
    settled(qtbot, w)
    w.state.select(1)
    settled(qtbot, w)
    w.act_brush.trigger()  # whatever the tool, Alt+click takes a colour instead of painting
    ab_1 = w.state.results[1].ab.clone()
    pos = w.result_view.mapFromScene(QPointF(W * 0.25, H * 0.5))
    qtbot.mouseClick(w.result_view.viewport(), LEFT, ALT, pos)
    s = only_stroke(w)
    x, y = s.points[0]
    assert abs(x - W * 0.25) <= 2 and abs(y - H * 0.5) <= 2
    assert s.color == pytest.approx(w.state.prepared.pick_colour(ab_1, x, y), abs=1e-6)
    assert s.strength == 1.0 and w.undo_stack.count() == 1


def test_alt_click_beside_the_thumbnails_adds_nothing(qtbot, make_window, photo):
    w = make_window()
    w.open_path(photo, ask=False)
    settled(qtbot, w)
    vp = w.grid.viewport()
    qtbot.mouseClick(vp, LEFT, ALT, QPoint(vp.width() - 2, vp.height() - 2))
    assert w.state.hints.strokes == [] and w.undo_stack.count() == 0
