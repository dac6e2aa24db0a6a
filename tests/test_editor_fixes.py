"""Editor problems a photographer hit (issue 11), each pinned by a test.

Export of the result on show, star without lock, a selection frame instead of a tint,
labels that fit, the grid's placeholder while a photo is computed, the "More" arrow,
and closing while a job runs. A random-init PolyNet and a tiny photo keep it fast.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from editor_samples import H, W, two_region_photo
from PIL import Image
from PySide6.QtCore import QCoreApplication, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QMessageBox, QToolButton

from polychrome.desktop import controller as controller_module
from polychrome.desktop import file_ops
from polychrome.desktop.controls_panel import ControlsPanel
from polychrome.desktop.export_dialog import ExportDialog
from polychrome.desktop.main_window import MainWindow
from polychrome.desktop.model.session import build_session
from polychrome.desktop.results_grid import ResultsGrid

WAIT_MS = 30000  # an upper bound for waits that end as soon as their condition holds


@pytest.fixture
def photo(tmp_path) -> Path:
    return two_region_photo(tmp_path / "photo.png")


@pytest.fixture(autouse=True)
def discard_unsaved(messages):
    """ "Unsaved changes?" -> Discard, so closing a window is never held up by a question."""
    messages.default_answer = QMessageBox.StandardButton.Discard


def open_and_wait(qtbot, w: MainWindow, path: Path) -> None:
    w.open_path(path, ask=False)

    def done() -> bool:
        n = w.state.settings.n
        return not w.controller.is_busy() and len(w.state.results) == n and w.grid.count() == n

    qtbot.waitUntil(done, timeout=WAIT_MS)


# -- export ----------------------------------------------------------------------------------------
def test_export_action_toolbar_and_menu_export_the_result_on_show(qtbot, make_window, photo, monkeypatch):
    w = make_window()
    open_and_wait(qtbot, w, photo)
    w.state.select(2)
    shown: list[ExportDialog] = []
    accept = [False]

    class Recording(ExportDialog):
        def exec(self) -> int:
            shown.append(self)
            self.folder.setText(str(photo.parent / "out"))
            return int(accept[0])

    monkeypatch.setattr(file_ops, "ExportDialog", Recording)
    file_menu = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == "File")
    button = w.toolbar.widgetForAction(w.act_export)
    assert isinstance(button, QToolButton) and w.act_export in file_menu.actions()

    w.act_export.trigger()  # Ctrl+E and File -> Export are this action
    button.click()  # the toolbar's Export
    assert len(shown) == 2
    for dlg in shown:
        assert dlg.current == 2 and "Result 3" in dlg.only_current.text()
        assert "best guess" not in dlg.only_current.text()
        assert dlg.options().indices == [2]

    accept[0] = True
    with qtbot.waitSignal(w.controller.export_finished, timeout=WAIT_MS) as blocker:
        w.act_export.trigger()
    assert [Path(p).name for p in blocker.args[0]] == ["photo_colour_3.png"]  # result 3, not 1


def test_an_export_records_its_provenance_model_seed_hints_and_result(qtbot, make_window, photo, monkeypatch):
    from PIL import ExifTags

    w = make_window()
    open_and_wait(qtbot, w, photo)
    assert w.painting.take_colour(1, W * 0.7, H * 0.5)  # one hint
    qtbot.waitUntil(
        lambda: not w.controller.is_busy() and len(w.state.results) == w.state.settings.n, timeout=WAIT_MS
    )
    w.state.select(2)
    seed = w.state.results[2].seed
    assert seed >= 0

    class Accepting(ExportDialog):
        def exec(self) -> int:
            self.folder.setText(str(photo.parent / "out"))
            return 1

    monkeypatch.setattr(file_ops, "ExportDialog", Accepting)
    with qtbot.waitSignal(w.controller.export_finished, timeout=WAIT_MS) as blocker:
        w.act_export.trigger()
    (path,) = blocker.args[0]
    with Image.open(path) as im:
        text = im.getexif()[ExifTags.Base.ImageDescription]
        xmp = im.info["xmp"]
    xmp = xmp.decode("utf-8") if isinstance(xmp, bytes) else xmp
    model = w.controller.model_name
    assert text.startswith("Colourised by Polychrome")
    assert f"model {model}" in text and f"seed {seed}" in text and "1 hint)" in text
    for key, value in (("Model", model), ("Seed", seed), ("Hints", 1), ("Result", 2)):
        assert f'polychrome:{key}="{value}"' in xmp, (key, xmp)


def test_export_dialog_names_the_best_guess_when_it_is_on_show(qtbot):
    dlg = ExportDialog(0, [], "/tmp", "png", 90)
    qtbot.addWidget(dlg)
    assert "best guess" in dlg.only_current.text()


# -- star and lock ---------------------------------------------------------------------------------
def test_star_does_not_lock_and_lock_does_not_star(qtbot, make_window, photo):
    w = make_window()
    open_and_wait(qtbot, w, photo)
    w.state.select(3)
    w.star_button.click()
    assert w.state.starred == {3} and 3 not in w.state.locked
    assert w.star_button.isChecked() and not w.lock_button.isChecked()
    w.lock_button.click()
    assert w.state.starred == {3} and set(w.state.locked) == {3}
    w.star_button.click()  # unstarring keeps the lock
    assert w.state.starred == set() and set(w.state.locked) == {3}
    w.state.toggle_star(5)
    session = build_session(w.state, w.controller.model_name)
    assert session.starred == [5] and set(session.locked) == {3}


def test_a_session_restores_stars_without_locks(qtbot, make_window, photo, tmp_path):
    w = make_window()
    open_and_wait(qtbot, w, photo)
    w.state.toggle_star(4)
    path = tmp_path / "s.polychrome"
    assert w.files.save_session_to(path)
    w2 = make_window()
    w2.open_path(path, ask=False)
    qtbot.waitUntil(lambda: len(w2.state.results) == w2.state.settings.n, timeout=WAIT_MS)
    assert w2.state.starred == {4} and not w2.state.locked


# -- the results grid ------------------------------------------------------------------------------
FLAT = (150, 90, 40)


def grid_with_results(qtbot, n: int = 4) -> ResultsGrid:
    grid = ResultsGrid()
    qtbot.addWidget(grid)
    grid.resize(420, 600)
    grid.show()
    grid.set_aspect(1.5)
    grid.set_results([np.full((40, 60, 3), FLAT, np.uint8) for _ in range(n)], 0)
    return grid


def test_selected_thumbnail_is_framed_not_tinted(qtbot):
    grid = grid_with_results(qtbot)
    grid.select(1)
    img = grid.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    dpr = img.devicePixelRatio()
    highlight = grid.palette().color(QPalette.ColorRole.Highlight)
    for row in (0, 1):
        rect = grid.visualItemRect(grid.item(row))
        icon_centre = rect.center().x(), rect.top() + grid.iconSize().height() // 2 + 2
        c = QColor(img.pixel(round(icon_centre[0] * dpr), round(icon_centre[1] * dpr)))
        assert (c.red(), c.green(), c.blue()) == FLAT  # the picture's own colour, selected or not
    selected, other = grid.visualItemRect(grid.item(1)), grid.visualItemRect(grid.item(0))
    mid = selected.center().y()
    edge = QColor(img.pixel(round((selected.left() + 1) * dpr), round(mid * dpr)))
    assert edge.rgb() == highlight.rgb()  # a frame in the highlight colour marks the selection
    plain = QColor(img.pixel(round((other.left() + 1) * dpr), round(other.center().y() * dpr)))
    assert plain.rgb() != highlight.rgb()


def test_labels_fit_under_their_thumbnails_with_flags(qtbot):
    grid = grid_with_results(qtbot, 12)
    grid.resize(200, 600)  # the narrowest the dock allows
    grid._relayout()
    grid.set_flags({2, 11}, {2, 11})
    fm = grid.fontMetrics()
    for i in range(grid.count()):
        item = grid.item(i)
        assert fm.horizontalAdvance(item.text()) <= grid.gridSize().width() - 4, item.text()
    assert "starred" in grid.item(2).toolTip() and "locked" in grid.item(11).toolTip()


def test_grid_never_asks_to_open_a_photo_while_one_is_open(qtbot, make_window, photo, model):
    gate = threading.Event()

    def slow_loader(name, dev):
        gate.wait(WAIT_MS / 1000)
        return model

    w = make_window(loader=slow_loader)
    seen: list[tuple[bool, int, str]] = []

    def record(*_args) -> None:
        seen.append((w.state.has_image, w.grid.count(), w.grid._placeholder))

    # Connected after the window's own slots: each record sees the grid as the window left it.
    w.controller.busy_changed.connect(record)
    w.state.image_changed.connect(record)
    w.state.marginals_changed.connect(record)
    w.state.results_changed.connect(record)
    w.open_path(photo, ask=False)
    qtbot.waitUntil(lambda: w.controller.is_busy("network"), timeout=WAIT_MS)
    assert "Open a photo" not in w.grid._placeholder
    gate.set()
    qtbot.waitUntil(
        lambda: w.grid.count() == w.state.settings.n and not w.controller.is_busy(), timeout=WAIT_MS
    )
    with_photo = [p for has, count, p in seen if has and count == 0]
    assert with_photo and not [p for p in with_photo if "Open a photo" in p]


# -- the "More" arrow ------------------------------------------------------------------------------
def ink(icon) -> np.ndarray:
    img = icon.pixmap(24, 24).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    a = np.array([[img.pixelColor(x, y).alpha() for x in range(img.width())] for y in range(img.height())])
    return a.astype(float)


def test_more_arrow_points_right_when_collapsed_and_down_when_open(qtbot):
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    closed, opened = ink(panel.more.collapsedIcon()), ink(panel.more.expandedIcon())
    h, w = closed.shape
    # A right-pointing triangle: mirror-symmetric top to bottom, its broad side on the left.
    assert closed.sum() > 0 and np.abs(closed - closed[::-1]).sum() < 0.05 * closed.sum()
    assert closed[:, : w // 2].sum() > closed[:, w // 2 :].sum()
    # A down-pointing one: symmetric left to right, broad side on top.
    assert opened.sum() > 0 and np.abs(opened - opened[:, ::-1]).sum() < 0.05 * opened.sum()
    assert opened[: h // 2].sum() > opened[h // 2 :].sum()
    assert not panel.more.isExpanded()


# -- closing while a job runs ----------------------------------------------------------------------
def test_closing_mid_sampling_cancels_and_waits_and_starts_nothing(qtbot, make_window, photo, monkeypatch):
    w = make_window()
    open_and_wait(qtbot, w, photo)
    original = controller_module.jobs.run_sampling
    inside, seen_cancel = threading.Event(), []

    def held_sampling(job, *args, **kwargs):
        inside.set()
        stop = threading.Event()
        for _ in range(WAIT_MS // 10):  # until the job is cancelled (bounded, never a fixed delay)
            if job.cancelled:
                break
            stop.wait(0.01)
        seen_cancel.append(job.cancelled)
        return original(job, *args, **kwargs)

    monkeypatch.setattr(controller_module.jobs, "run_sampling", held_sampling)
    w.controller.shuffle()
    qtbot.waitUntil(inside.is_set, timeout=WAIT_MS)
    assert w.close()
    assert seen_cancel == [True]  # the close cancelled the sampling instead of waiting it out
    pools = (w.controller.pool, w.controller.torch_pool)
    assert all(p.activeThreadCount() == 0 for p in pools)
    w.controller.shuffle()  # a late request after closing starts no worker
    QCoreApplication.processEvents()
    assert not w.controller.is_busy() and all(p.activeThreadCount() == 0 for p in pools)


# -- the before/after line and the layout -----------------------------------------------------------
def test_the_before_after_line_can_be_dragged_on_the_photo(qtbot, make_window, photo):
    w = make_window()
    open_and_wait(qtbot, w, photo)
    view = w.result_view
    assert view.split_line_x() is None  # no split yet: nothing to grab
    w.act_compare.trigger()
    assert w.split_slider.value() == 50 and view.split() == 0.5
    w.act_brush.trigger()  # even with the brush, grabbing the line moves the line, not paint
    x, y = view.split_line_x(), view.viewport().height() / 2
    target = view.mapFromScene(QPointF(W * 0.8, H / 2)).x()
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    qtbot.mouseMove(vp, pos=QPoint(round((x + target) / 2), round(y)))
    qtbot.mouseMove(vp, pos=QPoint(round(target), round(y)))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(round(target), round(y)))
    assert view.split() == pytest.approx(0.8, abs=0.05)
    assert w.split_slider.value() == round(view.split() * 100)  # the slider follows the line
    assert not w.state.hints.strokes and w.undo_stack.count() == 0
    # Away from the line the brush paints as before.
    left = view.mapFromScene(QPointF(W * 0.2, H / 2))
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=left)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=left + QPoint(3, 0))
    assert len(w.state.hints.strokes) == 1
    w.split_slider.setValue(30)  # and the slider still moves the line
    assert view.split() == pytest.approx(0.3)


def test_a_small_window_keeps_the_photo_large_and_the_docks_collapse(qtbot, make_window, photo):
    w = make_window()
    open_and_wait(qtbot, w, photo)
    w.resize(1024, 680)
    # The docks give way once the layout has run: at least half the width stays the photo's.
    qtbot.waitUntil(lambda: w.compare.width() >= 1024 * 0.5 - 8, timeout=WAIT_MS)
    assert w.results_dock.isVisible() and w.controls_dock.isVisible()
    assert w.results_dock.width() >= 150 and w.controls_dock.width() >= 200  # still usable
    before = w.compare.width()
    w.act_toggle_controls.trigger()  # F8: the controls collapse, the photo takes the room
    qtbot.waitUntil(lambda: w.compare.width() > before + 150, timeout=WAIT_MS)
    w.act_toggle_controls.trigger()
    qtbot.waitUntil(lambda: w.controls_dock.isVisible(), timeout=WAIT_MS)
    w.act_show_original.setChecked(False)
    qtbot.waitUntil(lambda: w.result_view.width() >= 1024 * 0.5 - 8, timeout=WAIT_MS)


QUIT_MID_JOB = r"""
import sys, threading, time
import numpy as np, torch
from PIL import Image
from PySide6.QtCore import QSettings, QTimer
torch.set_num_threads(2)
from polychrome.core.models.registry import build_model
from polychrome.desktop.app import create_application
from polychrome.desktop.main_window import MainWindow
from polychrome.desktop.settings import AppSettings

folder, stage = sys.argv[1], sys.argv[2]
a = np.full((48, 64), 200, np.uint8); a[:, :32] = 60
Image.fromarray(a, "L").save(f"{folder}/photo.png")
model = build_model("polychrome-small").eval()
inside = threading.Event()

def slow_loader(name, dev):  # the network job: still running when the window closes
    inside.set()
    time.sleep(1.0)
    return model

app = create_application()
w = MainWindow(AppSettings(QSettings(f"{folder}/s.ini", QSettings.Format.IniFormat)), slow_loader)
w.show()
w.open_path(f"{folder}/photo.png", ask=False)

def close_when_busy():
    if stage == "network" and not inside.is_set():
        return QTimer.singleShot(5, close_when_busy)
    if stage == "sampling" and not w.state.results:
        return QTimer.singleShot(5, close_when_busy)
    if stage == "sampling":
        w.controller.shuffle()  # a sampling job starts now and is in flight at the close
        w.controller._sample_timer.stop(); w.controller._launch_sampling()
        w.state.mark_clean()  # no "unsaved changes?" question
    w.close()  # the last window: the app quits
QTimer.singleShot(0, close_when_busy)
rc = app.exec()
del w  # the window, its controller and the jobs' signal objects go now
print("exited", rc, flush=True)
"""


@pytest.mark.parametrize("stage", ["network", "sampling"])
def test_quitting_while_a_job_runs_waits_for_it_and_prints_no_traceback(tmp_path, stage):
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    out = subprocess.run(
        [sys.executable, "-c", QUIT_MID_JOB, str(tmp_path), stage],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0 and "exited 0" in out.stdout, out.stderr
    assert "Traceback" not in out.stderr and "Signal source has been deleted" not in out.stderr, out.stderr
