"""The editor window: views, results grid, panels, menus and the wiring between them and the controller."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import platformdirs
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from polychrome.core.imageio import SUPPORTED_SUFFIXES
from polychrome.core.models import DEFAULT_MODEL
from polychrome.core.session import SESSION_SUFFIX

from .brush import BrushPanel, color_to_rgb, rgb_to_color
from .controller import EditorController, ErrorKind
from .controls_panel import ControlsPanel
from .export_dialog import ExportDialog
from .hints_panel import HintsPanel
from .icons import icon, refresh_icons, set_icon
from .image_view import CompareSplitter, ImageView, OverlayStroke, Tool, ViewSync
from .jobs import ModelLoader
from .preferences import PreferencesDialog
from .qimage import qimage_from_gray, qimage_from_rgb
from .results_grid import ResultsGrid
from .settings import AppSettings
from .state import EditorState
from .strokes import make_stroke, strokes_touching
from .undo_commands import AddStrokeCommand, RemoveStrokesCommand

APP_NAME = "Polychrome"
SUGGEST_DELAY_MS = 90  # palette under the cursor: refresh a few times a second, not on every mouse event


def image_filter() -> str:
    patterns = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
    return f"Photos ({patterns});;All files (*)"


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: AppSettings | None = None,
        model_loader: ModelLoader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.state = EditorState(self)
        self.controller = EditorController(
            self.state,
            model_loader=model_loader,
            model_name=self.settings.model(DEFAULT_MODEL),
            device=self.settings.device(),
            parent=self,
        )
        self.undo_stack = QUndoStack(self)
        self._shown_rgb: np.ndarray | None = None  # pixels of the result on show (eyedropper)
        self._cursor_xy: tuple[float, float] | None = None
        self._selected_stroke_ids: list = []
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self._build_views()
        self._build_panels()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self._connect()
        self._restore()
        self._update_enabled()

    # ===================================================================================== build
    def _build_views(self) -> None:
        self.original_view = ImageView("Original")
        self.result_view = ImageView("Open a photo (Ctrl+O), drop one here, or paste one (Ctrl+V)")
        self.sync = ViewSync(self.result_view, self.original_view)
        self.original_box = self._titled("Original", self.original_view)
        self.result_title = QLabel("Result")
        result_box = self._titled(self.result_title, self.result_view)

        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setRange(0, 100)
        self.split_slider.setValue(0)
        self.split_slider.setToolTip("Before / after: drag to reveal the grayscale original on the left")
        self.split_slider.setMinimumWidth(120)
        self.split_slider.setMaximumWidth(260)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(70)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        self.fit_button = QToolButton()
        self.actual_button = QToolButton()
        bar.addWidget(self.fit_button)
        bar.addWidget(self.actual_button)
        bar.addWidget(self.zoom_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("Before"))
        bar.addWidget(self.split_slider)
        bar.addWidget(QLabel("After"))

        self.view_splitter = CompareSplitter()
        self.view_splitter.addWidget(self.original_box)
        self.view_splitter.addWidget(result_box)
        self.view_splitter.setStretchFactor(0, 1)
        self.view_splitter.setStretchFactor(1, 1)
        self.view_splitter.setChildrenCollapsible(False)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.view_splitter, 1)
        lay.addLayout(bar)
        self.setCentralWidget(central)

    @staticmethod
    def _titled(title: str | QLabel, view: QWidget) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        label = title if isinstance(title, QLabel) else QLabel(title)
        label.setContentsMargins(6, 2, 6, 0)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        lay.addWidget(label)
        lay.addWidget(view, 1)
        return w

    def _build_panels(self) -> None:
        self.grid = ResultsGrid()
        self.grid.setMinimumWidth(200)
        self.results_dock = QDockWidget("Results", self)
        self.results_dock.setObjectName("results_dock")
        self.results_dock.setWidget(self.grid)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.results_dock)

        self.controls = ControlsPanel()
        self.lock_button = QPushButton("Lock")
        set_icon(self.lock_button, "lock")
        self.lock_button.setCheckable(True)
        self.lock_button.setToolTip("Keep this result when shuffling or painting hints  (L)")
        self.star_button = QPushButton("Star")
        set_icon(self.star_button, "star")
        self.star_button.setCheckable(True)
        self.star_button.setToolTip("Mark this result for export (Lock keeps it through Shuffle)  (S)")
        flags = QHBoxLayout()
        flags.addWidget(self.star_button)
        flags.addWidget(self.lock_button)
        results_box = QGroupBox("Results")
        rl = QVBoxLayout(results_box)
        rl.addWidget(self.controls)
        rl.addLayout(flags)

        self.brush = BrushPanel()
        b = self.settings.brush()
        self.brush.set_values(b["radius"], b["hardness"], b["strength"], b["reach"])
        self.brush.recent.set_colors([QColor(c) for c in self.settings.recent_colors()])
        brush_box = QGroupBox("Hint brush")
        self.tool_row = QHBoxLayout()
        bl = QVBoxLayout(brush_box)
        bl.addLayout(self.tool_row)
        bl.addWidget(self.brush)

        self.hints_panel = HintsPanel()
        hints_box = QGroupBox("Hints")
        hl = QVBoxLayout(hints_box)
        hl.addWidget(self.hints_panel)

        panel = QWidget()
        pl = QVBoxLayout(panel)
        pl.addWidget(results_box)
        pl.addWidget(brush_box)
        pl.addWidget(hints_box, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(panel)
        scroll.setMinimumWidth(panel.sizeHint().width() + 20)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls_dock")
        self.controls_dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.controls_dock)

    def _action(
        self,
        text: str,
        slot,
        shortcut: QKeySequence | str | list | None = None,
        icon_name: str | None = None,
        tip: str | None = None,
        checkable: bool = False,
    ) -> QAction:
        a = QAction(text, self)
        if icon_name:
            set_icon(a, icon_name)
        if shortcut is not None:
            if isinstance(shortcut, list):
                a.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        plain = text.replace("&", "").replace("…", "")
        a.setToolTip((tip or plain) + (f"  ({keys})" if keys else ""))
        a.setStatusTip(tip or plain)
        if slot is not None:
            (a.toggled if checkable else a.triggered).connect(slot)
        self.addAction(a)  # shortcuts work even when menus and toolbars are hidden
        return a

    def _build_actions(self) -> None:
        A = self._action
        SK = QKeySequence.StandardKey
        self.act_open = A("&Open Photo…", self.open_dialog, SK.Open, "open", "Open a photo")
        self.act_open_session = A("Open &Session…", self.open_session_dialog, "Ctrl+Shift+O")
        self.act_save = A(
            "&Save Session", self.save_session, SK.Save, "save", "Save hints, settings and kept results"
        )
        self.act_save_as = A("Save Session &As…", self.save_session_as, SK.SaveAs)
        # Not ``self.export_dialog`` itself: ``triggered(bool)`` would pass False as the index (result 0).
        self.act_export = A(
            "&Export…", lambda: self.export_dialog(), "Ctrl+E", "export", "Export results at full resolution"
        )
        self.act_export_starred = A("Export All S&tarred…", self.export_starred, "Ctrl+Shift+E")
        self.act_prefs = A("&Preferences…", self.preferences, SK.Preferences, "settings")
        if self.act_prefs.shortcut().isEmpty():
            self.act_prefs.setShortcut(QKeySequence("Ctrl+,"))
        self.act_quit = A("&Quit", self.close, SK.Quit)
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(SK.Undo)
        set_icon(self.act_undo, "undo")
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        set_icon(self.act_redo, "redo")
        self.addActions([self.act_undo, self.act_redo])
        self.act_paste = A("&Paste Photo", self.paste, SK.Paste, None, "Open the image on the clipboard")
        self.act_clear_hints = A("Clear All &Hints", self.clear_hints, None, "trash")

        self.act_fit = A("&Fit to Window", self.fit, "F", "fit")
        self.act_100 = A("&100 %", self.actual_size, "1", "zoom100", "Actual pixels")
        self.act_zoom_in = A("Zoom &In", lambda: self._zoom(1.25), [SK.ZoomIn, "="], "zoomin")
        self.act_zoom_out = A("Zoom &Out", lambda: self._zoom(0.8), [SK.ZoomOut, "-"], "zoomout")
        self.act_show_original = A(
            "Show &Original Beside",
            self._show_original,
            "O",
            "original",
            "Show the original next to the result",
            checkable=True,
        )
        self.act_show_hints = A(
            "Show &Hints", self._show_hints, "H", "eye", "Show or hide painted hints", True
        )
        self.act_show_hints.setChecked(True)
        self.act_compare = A(
            "&Before / After", self._toggle_split, "\\", "compare", "Toggle the before/after split"
        )

        self.tools = QActionGroup(self)
        self.act_move = A(
            "&Move", lambda on: on and self.set_tool(Tool.MOVE), "V", "move", "Pan the photo", True
        )
        self.act_brush = A(
            "&Brush", lambda on: on and self.set_tool(Tool.BRUSH), "B", "brush", "Paint colour hints", True
        )
        self.act_eraser = A(
            "&Eraser", lambda on: on and self.set_tool(Tool.ERASER), "E", "eraser", "Erase hints", True
        )
        self.act_picker = A(
            "Eye&dropper",
            lambda on: on and self.set_tool(Tool.EYEDROPPER),
            "I",
            "eyedropper",
            "Pick a colour from the result",
            True,
        )
        for a in (self.act_move, self.act_brush, self.act_eraser, self.act_picker):
            self.tools.addAction(a)
        self.act_move.setChecked(True)
        self.act_bigger = A("Bigger Brush", lambda: self.brush.grow(1.25), "]")
        self.act_smaller = A("Smaller Brush", lambda: self.brush.grow(0.8), "[")
        self.act_color = A("Choose &Colour…", self.brush.choose_color, "C", "palette")

        self.act_shuffle = A(
            "S&huffle", self.controller.shuffle, "Space", "shuffle", "Draw new unlocked results"
        )
        self.act_star = A("&Star Result", self.toggle_star, "S", "star")
        self.act_lock = A("&Lock Result", self.toggle_lock, "L", "lock")
        self.act_next = A("&Next Result", lambda: self._step(1), "PgDown")
        self.act_prev = A("&Previous Result", lambda: self._step(-1), "PgUp")
        self.act_more = A("&More Results", lambda: self._more(2), "Ctrl+]")
        self.act_fewer = A("&Fewer Results", lambda: self._more(-2), "Ctrl+[")
        self.act_rerun = A("Colourise &Again", self.controller.rerun_network, "Ctrl+R")
        self.act_cancel = A("&Cancel", self.controller.cancel, "Esc", "cancel", "Stop colourising this photo")
        self.act_shortcuts = A("&Keyboard Shortcuts", self.show_shortcuts, SK.HelpContents)
        self.act_about = A("&About Polychrome", self.about)

        self.fit_button.setDefaultAction(self.act_fit)
        self.actual_button.setDefaultAction(self.act_100)
        for a in (self.act_move, self.act_brush, self.act_eraser, self.act_picker):
            tb = QToolButton()
            tb.setDefaultAction(a)
            tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            tb.setIconSize(QSize(22, 22))
            tb.setAutoRaise(True)
            self.tool_row.addWidget(tb)
        self.tool_row.addStretch(1)

    def _build_menus_and_toolbar(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        m.addAction(self.act_open_session)
        m.addSeparator()
        m.addActions([self.act_save, self.act_save_as])
        m.addSeparator()
        m.addActions([self.act_export, self.act_export_starred])
        m.addSeparator()
        m.addAction(self.act_prefs)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])
        m.addSeparator()
        m.addActions([self.act_paste, self.act_clear_hints])
        m = mb.addMenu("&View")
        m.addActions([self.act_fit, self.act_100, self.act_zoom_in, self.act_zoom_out])
        m.addSeparator()
        m.addActions([self.act_show_original, self.act_compare, self.act_show_hints])
        m.addSeparator()
        m.addAction(self.results_dock.toggleViewAction())
        m.addAction(self.controls_dock.toggleViewAction())
        m = mb.addMenu("&Tools")
        m.addActions([self.act_move, self.act_brush, self.act_eraser, self.act_picker])
        m.addSeparator()
        m.addActions([self.act_bigger, self.act_smaller, self.act_color])
        m = mb.addMenu("&Results")
        m.addActions([self.act_shuffle, self.act_star, self.act_lock])
        m.addSeparator()
        m.addActions([self.act_next, self.act_prev, self.act_more, self.act_fewer])
        m.addSeparator()
        m.addActions([self.act_rerun, self.act_cancel])
        m = mb.addMenu("&Help")
        m.addActions([self.act_shortcuts, self.act_about])

        tb = QToolBar("Main")
        tb.setObjectName("main_toolbar")
        tb.setIconSize(QSize(22, 22))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addActions([self.act_open, self.act_save, self.act_export])
        tb.addSeparator()
        tb.addActions([self.act_undo, self.act_redo])
        tb.addSeparator()
        tb.addActions([self.act_move, self.act_brush, self.act_eraser, self.act_picker])
        tb.addSeparator()
        tb.addAction(self.act_shuffle)
        tb.addSeparator()
        tb.addActions([self.act_show_original, self.act_show_hints])
        for a in (
            self.act_undo,
            self.act_redo,
            self.act_move,
            self.act_brush,
            self.act_eraser,
            self.act_picker,
            self.act_show_original,
            self.act_show_hints,
        ):
            w = tb.widgetForAction(a)
            if isinstance(w, QToolButton):
                w.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.addToolBar(tb)
        self.toolbar = tb

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.busy_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # indeterminate: the network gives no progress
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(self.act_cancel)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.timing_label = QLabel("")
        self.device_label = QLabel("")
        for w in (self.busy_label, self.progress, self.cancel_button):
            sb.addPermanentWidget(w)
        sb.addPermanentWidget(self.timing_label)
        sb.addPermanentWidget(self.device_label)
        self._set_busy_ui()

    # ===================================================================================== wiring
    def _connect(self) -> None:
        st, ctl = self.state, self.controller
        st.image_changed.connect(self._on_image_changed)
        st.results_changed.connect(self._on_results_changed)
        st.selection_changed.connect(self._on_selection_changed)
        st.hints_changed.connect(self._on_hints_changed)
        st.flags_changed.connect(self._on_flags_changed)
        st.settings_changed.connect(lambda: self.controls.show_settings(st.settings))
        st.dirty_changed.connect(self.setWindowModified)
        st.timings_changed.connect(self._on_timings)
        st.marginals_changed.connect(self._update_enabled)
        st.marginals_changed.connect(self._update_placeholder)
        ctl.busy_changed.connect(lambda _t, _b: self._set_busy_ui())
        ctl.error.connect(self._on_error)
        ctl.notice.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        ctl.detail_ready.connect(self._on_detail)
        ctl.export_progress.connect(
            lambda done, total: self.statusBar().showMessage(f"Exporting {min(done + 1, total)} of {total}…")
        )
        ctl.export_finished.connect(self._on_exported)
        ctl.image_opened.connect(self._on_image_opened)
        ctl.session_opened.connect(self._on_session_opened)
        ctl.session_saved.connect(lambda p: self.statusBar().showMessage(f"Session saved to {p}", 5000))

        self.controls.changed.connect(lambda changes: st.update_settings(**changes))
        self.controls.shuffle_requested.connect(ctl.shuffle)
        self.lock_button.clicked.connect(lambda on: st.set_locked(st.selected, on))
        self.star_button.clicked.connect(lambda on: st.set_starred(st.selected, on))
        self.grid.activated_index.connect(st.select)
        self.grid.lock_requested.connect(st.toggle_lock)
        self.grid.star_requested.connect(st.toggle_star)
        self.grid.export_requested.connect(lambda i: self.export_dialog(index=i))

        self.brush.brush_changed.connect(self._on_brush_changed)
        self.brush.color_changed.connect(self._on_color_changed)
        self.hints_panel.remove_requested.connect(self.remove_strokes)
        self.hints_panel.clear_requested.connect(self.clear_hints)
        self.hints_panel.overlay_toggled.connect(self.act_show_hints.setChecked)
        self.hints_panel.selection.connect(self._on_stroke_selection)

        for v in (self.result_view, self.original_view):
            v.stroke_moved.connect(self._on_stroke_moved)
            v.stroke_finished.connect(self._on_stroke_finished)
            v.erase_finished.connect(self._on_erase_finished)
            v.color_picked.connect(self._on_color_picked)
            v.cursor_moved.connect(self._on_cursor_moved)
        self.result_view.zoom_changed.connect(self._on_zoom_changed)
        self.split_slider.valueChanged.connect(lambda v: self.result_view.set_split(v / 100.0))
        self._suggest_timer = QTimer(self)
        self._suggest_timer.setSingleShot(True)
        self._suggest_timer.timeout.connect(self._update_suggestions)
        self._on_brush_changed()
        self._on_color_changed(self.brush.color())

    def _restore(self) -> None:
        s = self.settings
        screen = QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen else None
        if avail is not None and avail.width() > 0:
            self.resize(min(1440, int(avail.width() * 0.92)), min(900, int(avail.height() * 0.9)))
        else:
            self.resize(1440, 900)
        if (g := s.window_geometry()) is not None:
            self.restoreGeometry(g)
        if (ws := s.window_state()) is not None:
            self.restoreState(ws)
        else:
            self.resizeDocks([self.results_dock], [370], Qt.Orientation.Horizontal)
        if (sp := s.splitter_state("views")) is not None:
            self.view_splitter.restoreState(sp)
        self.act_show_original.setChecked(s.show_original())
        self.original_box.setVisible(s.show_original())
        n = s.samples()
        if n != self.state.settings.n:
            self.state.update_settings(n=n)
            self.state.mark_clean()
        self.controls.show_settings(self.state.settings)

    def _save_layout(self) -> None:
        s = self.settings
        s.set_window_layout(self.saveGeometry(), self.saveState())
        s.set_splitter_state("views", self.view_splitter.saveState())
        s.set_show_original(self.act_show_original.isChecked())
        s.set_samples(self.state.settings.n)
        b = self.brush
        s.set_brush(b.radius(), b.hardness_value(), b.strength_value(), b.reach_value())
        s.set_recent_colors([c.name() for c in self.brush.recent.colors()])
        s.sync()

    # ===================================================================================== files
    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open Photo", self.settings.last_folder(), image_filter())
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str | Path, ask: bool = True) -> None:
        """Open a photo or a session file (by suffix)."""
        if ask and not self.maybe_save():
            return
        p = Path(path)
        self.settings.set_last_folder(p.parent)
        if p.suffix.lower() == SESSION_SUFFIX:
            self.controller.open_session(p)
        else:
            self.controller.open_image(p)
        self.statusBar().showMessage(f"Opening {p.name}…")

    def open_session_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Session", self.settings.last_folder(), f"Polychrome sessions (*{SESSION_SUFFIX})"
        )
        if path:
            self.open_path(path, ask=False)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for f in files:
            a = self.recent_menu.addAction(Path(f).name)
            a.setToolTip(f)
            a.setStatusTip(f)
            a.triggered.connect(lambda _=False, f=f: self._open_recent(f))
        if not files:
            a = self.recent_menu.addAction("No recent photos")
            a.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu", self.settings.clear_recent_files)

    def _open_recent(self, f: str) -> None:
        if not Path(f).exists():
            QMessageBox.warning(
                self, "Cannot Open Photo", f"“{f}” no longer exists. It was removed from the list."
            )
            self.settings.remove_recent_file(f)
            return
        self.open_path(f)

    @Slot(str)
    def _on_image_opened(self, path: str) -> None:
        if Path(path).parent != pasted_dir():
            self.settings.add_recent_file(path)

    def _on_session_opened(self, session) -> None:
        """Bring back the brush the session was saved with."""
        b = session.extra.get("brush") if isinstance(session.extra, dict) else None
        if not isinstance(b, dict):
            return
        try:
            cur = self.brush
            cur.set_values(
                float(b.get("radius", cur.radius())),
                float(b.get("hardness", cur.hardness_value())),
                float(b.get("strength", cur.strength_value())),
                float(b.get("reach", cur.reach_value())),
            )
            if QColor.isValidColorName(str(b.get("color", ""))):
                cur.set_color(QColor(str(b["color"])))
        except (TypeError, ValueError):
            pass  # a hand-edited session with odd brush values still opens

    def paste(self) -> None:
        """Open the clipboard's image (saved to the user cache first) or a copied file path."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return
        if mime.hasUrls():
            local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if local:
                self.open_path(local[0])
                return
        if mime.hasImage():
            img = QGuiApplication.clipboard().image()
            if not img.isNull():
                self.open_qimage(img)
                return
        self.statusBar().showMessage("The clipboard holds no image.", 5000)

    def open_qimage(self, img: QImage) -> Path | None:
        if not self.maybe_save():
            return None
        folder = pasted_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{int(time.time() * 1000) % 1000:03d}.png"
        if not img.save(str(path), "PNG"):
            QMessageBox.warning(self, "Cannot Paste", f"Could not save the pasted image to {path}.")
            return None
        self.controller.open_image(path)
        return path

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if self._dropped_path(e) is not None or e.mimeData().hasImage():
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802 - Qt API
        path = self._dropped_path(e)
        if path is not None:
            e.acceptProposedAction()
            self.open_path(path)
        elif e.mimeData().hasImage():
            e.acceptProposedAction()
            self.open_qimage(QImage(e.mimeData().imageData()))

    @staticmethod
    def _dropped_path(e: QDragEnterEvent | QDropEvent) -> str | None:
        for u in e.mimeData().urls():
            if u.isLocalFile():
                f = u.toLocalFile()
                if Path(f).suffix.lower() in {*SUPPORTED_SUFFIXES, SESSION_SUFFIX}:
                    return f
        return None

    # -- sessions ------------------------------------------------------------------------------
    def save_session(self) -> bool:
        if not self.state.has_image:
            return False
        if self.state.session_path is None:
            return self.save_session_as()
        return self.controller.save_session(self.state.session_path, self._session_extra())

    def save_session_as(self) -> bool:
        if not self.state.has_image:
            return False
        image = Path(self.state.image.path)
        suggested = image.with_suffix(SESSION_SUFFIX)
        if image.parent == pasted_dir():
            suggested = Path(self.settings.last_folder()) / suggested.name
        path, _ = QFileDialog.getSaveFileName(
            self, "Save Session", str(suggested), f"Polychrome sessions (*{SESSION_SUFFIX})"
        )
        if not path:
            return False
        if not path.endswith(SESSION_SUFFIX):
            path += SESSION_SUFFIX
        return self.controller.save_session(path, self._session_extra())

    def _session_extra(self) -> dict:
        return {
            "brush": {
                "radius": self.brush.radius(),
                "hardness": self.brush.hardness_value(),
                "strength": self.brush.strength_value(),
                "reach": self.brush.reach_value(),
                "color": self.brush.color().name(),
            }
        }

    def maybe_save(self) -> bool:
        """Ask about unsaved hints/settings. False means the user cancelled."""
        if not (self.state.dirty and self.state.has_image):
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved Changes",
            "This photo has hints or settings that are not saved in a session.\nSave them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save_session()
        return answer == QMessageBox.StandardButton.Discard

    # -- export --------------------------------------------------------------------------------
    def export_dialog(self, index: int | None = None, starred: bool = False) -> None:
        st = self.state
        if not st.results:
            return
        current = st.selected if index is None else index
        folder = self.settings.export_folder() or str(Path(st.image.path).parent)
        if Path(st.image.path).parent == pasted_dir() and not self.settings.export_folder():
            folder = self.settings.last_folder()
        dlg = ExportDialog(
            current,
            sorted(st.starred),
            folder,
            self.settings.export_format(),
            self.settings.export_quality(),
            self,
            only_current=index is not None and not starred,
        )
        if starred:
            dlg.all_starred.setChecked(True)
        if not dlg.exec():
            return
        self.export_with(dlg.options())

    def export_starred(self) -> None:
        if not self.state.starred:
            QMessageBox.information(
                self, "Nothing Starred", "Star the results you want to keep (S, or the Star button) first."
            )
            return
        self.export_dialog(starred=True)

    def export_with(self, opts) -> None:
        """Plan names, settle conflicts (asking if wanted), then export in the background."""
        opts.folder.mkdir(parents=True, exist_ok=True)
        self.settings.set_export_folder(opts.folder)
        self.settings.set_export_format(opts.fmt)
        self.settings.set_export_quality(opts.quality)
        items = self.controller.plan_export(opts.indices, opts.folder, opts.fmt)
        if opts.policy == "ask":
            yes_all = False
            for it in items:
                if not it.dest.exists():
                    continue
                if not yes_all:
                    answer = QMessageBox.question(
                        self,
                        "Replace File?",
                        f"“{it.dest.name}” already exists in {it.dest.parent}.\n"
                        "Replace it? (No keeps it and writes the new file under another name.)",
                        QMessageBox.StandardButton.Yes
                        | QMessageBox.StandardButton.YesToAll
                        | QMessageBox.StandardButton.No
                        | QMessageBox.StandardButton.Cancel,
                        QMessageBox.StandardButton.No,
                    )
                    if answer == QMessageBox.StandardButton.Cancel:
                        return
                    yes_all = answer == QMessageBox.StandardButton.YesToAll
                    it.overwrite = answer in (
                        QMessageBox.StandardButton.Yes,
                        QMessageBox.StandardButton.YesToAll,
                    )
                else:
                    it.overwrite = True
        items = self.controller.resolve_conflicts(items)
        self.controller.export(items, opts.fmt, opts.quality)
        self.statusBar().showMessage(f"Exporting {len(items)} result{'s' if len(items) != 1 else ''}…")

    @Slot(list)
    def _on_exported(self, paths: list[str]) -> None:
        if len(paths) == 1:
            self.statusBar().showMessage(f"Exported {paths[0]}", 10000)
        else:
            self.statusBar().showMessage(f"Exported {len(paths)} files to {Path(paths[0]).parent}", 10000)

    # -- preferences ---------------------------------------------------------------------------
    def preferences(self) -> None:
        dlg = PreferencesDialog(self.controller.model_name, self.controller.device_pref, self)
        if dlg.exec():
            name, device = dlg.values()
            self.settings.set_model(name)
            self.settings.set_device(device)
            self.controller.set_model(name, device)

    # ===================================================================================== state -> views
    @Slot()
    def _on_image_changed(self) -> None:
        st = self.state
        self.undo_stack.clear()
        self._shown_rgb = None
        if st.image is None or st.display is None:
            for v in (self.result_view, self.original_view):
                v.set_image(None)
            self.setWindowTitle(APP_NAME)
        else:
            size = tuple(st.image.size)
            gray = qimage_from_gray(st.display.gray_full)
            self.original_view.set_image(gray, size)
            self.result_view.set_image(gray, size)
            self.result_view.set_before_image(gray)
            self.result_view.fit()
            self.original_view.fit()
            self.setWindowTitle(f"{Path(st.image.path).name}[*] — {APP_NAME}")
            W, H = size
            self.result_title.setText(f"Result  ·  {W} × {H}")
            self.grid.set_aspect(W / H)
            self.view_splitter.set_image_aspect(W / H)
        self.grid.set_results([], 0)
        self._update_placeholder()
        self._update_enabled()

    @Slot()
    def _on_results_changed(self) -> None:
        st = self.state
        self.grid.set_results([r.thumb for r in st.results], st.selected)
        self.grid.set_flags(set(st.locked), st.starred)
        self._show_selected()
        self._update_enabled()

    @Slot(int)
    def _on_selection_changed(self, index: int) -> None:
        self.grid.select(index)
        self._show_selected()

    def _show_selected(self) -> None:
        st = self.state
        item = st.result(st.selected)
        if item is None or st.image is None:
            return
        # The thumbnail stands in (softly) for the few ms until the preview is composed.
        shown = item.preview if item.preview is not None else item.thumb
        self._shown_rgb = shown
        self.result_view.set_image(qimage_from_rgb(shown), tuple(st.image.size))
        label = "Best guess" if item.index == 0 else f"Result {item.index + 1}"
        W, H = st.image.size
        self.result_title.setText(f"{label}  ·  {W} × {H}")
        self._on_flags_changed()

    @Slot(int, object)
    def _on_detail(self, index: int, rgb: np.ndarray) -> None:
        st = self.state
        if index != st.selected or st.image is None:
            return
        self._shown_rgb = rgb
        self.result_view.set_image(qimage_from_rgb(rgb), tuple(st.image.size))

    @Slot()
    def _on_flags_changed(self) -> None:
        st = self.state
        self.grid.set_flags(set(st.locked), st.starred)
        for button, on in (
            (self.lock_button, st.selected in st.locked),
            (self.star_button, st.selected in st.starred),
        ):
            blocked = button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(blocked)
        self.lock_button.setText("Locked" if st.selected in st.locked else "Lock")
        self.star_button.setText("Starred" if st.selected in st.starred else "Star")
        self._update_enabled()

    @Slot()
    def _on_hints_changed(self) -> None:
        strokes = self.state.strokes()
        self.hints_panel.set_strokes(strokes)
        self._refresh_overlay()
        self._update_enabled()

    def _refresh_overlay(self) -> None:
        selected = set(self._selected_stroke_ids)
        overlay = [
            OverlayStroke(s.points, s.radius, rgb_to_color(s.color), s.id in selected)
            for s in self.state.strokes()
        ]
        for v in (self.result_view, self.original_view):
            v.set_strokes(overlay)

    def _on_stroke_selection(self, ids: list) -> None:
        self._selected_stroke_ids = ids
        self._refresh_overlay()

    @Slot()
    def _on_timings(self) -> None:
        t = self.state.timings
        self.device_label.setText(f"{t.model} on {t.device.upper()}" if t.device else "")
        self.timing_label.setText(
            f"network {t.network_ms:.0f} ms · sampler {t.sampler_ms:.0f} ms · preview {t.compose_ms:.0f} ms"
        )

    def _set_busy_ui(self) -> None:
        ctl = self.controller
        loading, net = ctl.is_busy("load"), ctl.is_busy("network")
        sampling, exporting = ctl.is_busy("sampling"), ctl.is_busy("export")
        if loading:
            text = "Loading photo…"
        elif net:
            text = "Colourising…"
        elif exporting:
            text = "Exporting…"
        elif sampling:
            text = "Updating results…"
        else:
            text = ""
        self.busy_label.setText(text)
        self.progress.setVisible(bool(text))
        # Enable first: a QToolButton re-syncs its visibility whenever its default action changes.
        self.act_cancel.setEnabled(loading or net)
        self.cancel_button.setVisible(loading or net)
        self.grid.set_stale(sampling or net)
        self._update_placeholder()
        if not text and self.statusBar().currentMessage().startswith("Opening"):
            self.statusBar().clearMessage()

    def _update_placeholder(self) -> None:
        """What the empty grid says; "Open a photo" only while no photo is open or loading."""
        ctl, st = self.controller, self.state
        if ctl.is_busy("load") and not st.has_image:
            text = "Loading the photo…"
        elif not st.has_image:
            text = "Open a photo to see its colourisations here."
        elif ctl.is_busy("load") or ctl.is_busy("network"):
            text = "Colourising…  the results appear here in a moment."
        elif st.marginals is None:
            text = "Not colourised. Results ▸ Colourise Again (Ctrl+R) runs it."
        else:
            text = "Drawing the results…"
        self.grid.set_placeholder(text)

    def _update_enabled(self) -> None:
        st = self.state
        has_img, has_res = st.has_image, bool(st.results)
        can_paint = st.marginals is not None
        for a in (
            self.act_save,
            self.act_save_as,
            self.act_fit,
            self.act_100,
            self.act_zoom_in,
            self.act_zoom_out,
            self.act_compare,
            self.act_rerun,
        ):
            a.setEnabled(has_img)
        for a in (
            self.act_export,
            self.act_star,
            self.act_lock,
            self.act_next,
            self.act_prev,
            self.act_shuffle,
        ):
            a.setEnabled(has_res)
        self.act_export_starred.setEnabled(bool(st.starred))
        self.act_clear_hints.setEnabled(bool(st.hints.strokes))
        self.lock_button.setEnabled(has_res)
        self.star_button.setEnabled(has_res)
        for v in (self.result_view, self.original_view):
            v.set_paint_enabled(can_paint)

    # ===================================================================================== tools
    def set_tool(self, tool: str) -> None:
        for v in (self.result_view, self.original_view):
            v.set_tool(tool)
        action = {
            Tool.MOVE: self.act_move,
            Tool.BRUSH: self.act_brush,
            Tool.ERASER: self.act_eraser,
            Tool.EYEDROPPER: self.act_picker,
        }[tool]
        if not action.isChecked():
            action.setChecked(True)
        if tool == Tool.BRUSH and not self.act_show_hints.isChecked():
            self.act_show_hints.setChecked(True)  # painting blind would be confusing

    def _on_brush_changed(self) -> None:
        for v in (self.result_view, self.original_view):
            v.set_brush_radius(self.brush.radius())

    def _on_color_changed(self, color: QColor) -> None:
        for v in (self.result_view, self.original_view):
            v.set_paint_color(color)

    def _new_stroke(self, points: list):
        return make_stroke(
            points,
            self.brush.radius(),
            color_to_rgb(self.brush.color()),
            self.brush.strength_value(),
            self.brush.hardness_value(),
            self.brush.reach_value(),
        )

    @Slot(list)
    def _on_stroke_moved(self, points: list) -> None:
        if self.state.marginals is not None:
            self.controller.set_provisional_stroke(self._new_stroke(points))

    @Slot(list)
    def _on_stroke_finished(self, points: list) -> None:
        self.controller.set_provisional_stroke(None)
        if self.state.marginals is None or not points:
            return
        self.undo_stack.push(AddStrokeCommand(self.state, self._new_stroke(points)))
        self.brush.remember_color(self.brush.color())

    @Slot(list)
    def _on_erase_finished(self, points: list) -> None:
        ids = strokes_touching(self.state.strokes(), points, self.brush.radius())
        if ids:
            self.remove_strokes(ids, "Erase Hints")

    def remove_strokes(self, ids: list, text: str = "Remove Hints") -> None:
        if ids:
            self.undo_stack.push(RemoveStrokesCommand(self.state, ids, text))

    def clear_hints(self) -> None:
        self.remove_strokes([s.id for s in self.state.strokes()], "Clear Hints")

    @Slot(float, float)
    def _on_color_picked(self, x: float, y: float) -> None:
        rgb, st = self._shown_rgb, self.state
        if rgb is None or st.image is None:
            return
        W, H = st.image.size
        h, w = rgb.shape[:2]
        px = rgb[min(h - 1, int(y * h / H)), min(w - 1, int(x * w / W))]
        color = QColor(int(px[0]), int(px[1]), int(px[2]))
        self.brush.set_color(color)
        self.statusBar().showMessage(f"Picked {color.name()} — painting with it (B)", 4000)
        self.set_tool(Tool.BRUSH)

    @Slot(float, float)
    def _on_cursor_moved(self, x: float, y: float) -> None:
        if x < 0 or self.state.marginals is None:
            return
        self._cursor_xy = (x, y)
        if not self._suggest_timer.isActive():
            self._suggest_timer.start(SUGGEST_DELAY_MS)

    def _update_suggestions(self) -> None:
        prepared = self.state.prepared
        if self._cursor_xy is None or prepared is None:
            return
        try:
            items = prepared.suggestions(*self._cursor_xy, 6)
        except Exception as e:  # noqa: BLE001 - a palette failure must not disturb painting
            self.statusBar().showMessage(f"No colour suggestions here: {e}", 3000)
            return
        self.brush.set_suggestions([(rgb_to_color(rgb), float(p)) for rgb, p in items])

    # -- results -------------------------------------------------------------------------------
    def toggle_star(self) -> None:
        if self.state.results:
            self.state.toggle_star(self.state.selected)

    def toggle_lock(self) -> None:
        if self.state.results:
            self.state.toggle_lock(self.state.selected)

    def _step(self, d: int) -> None:
        n = len(self.state.results)
        if n:
            self.state.select((self.state.selected + d) % n)

    def _more(self, d: int) -> None:
        self.controls.samples.setValue(self.controls.samples.value() + d)

    # -- view ----------------------------------------------------------------------------------
    def fit(self) -> None:
        self.result_view.fit()
        self.original_view.fit()

    def actual_size(self) -> None:
        self.result_view.actual_size()

    def _zoom(self, f: float) -> None:
        self.result_view.zoom_by(f)

    def _on_zoom_changed(self, device_zoom: float) -> None:
        self.zoom_label.setText(
            f"{device_zoom * 100:.0f} %" + (" (fit)" if self.result_view.is_fit() else "")
        )

    def _show_original(self, on: bool) -> None:
        self.original_box.setVisible(on)
        self.view_splitter.set_image_aspect(self.view_splitter._aspect)
        if on and self.result_view.has_image():
            z, c, fit = self.result_view.view_state()
            QTimer.singleShot(0, lambda: self.original_view.apply_view_state(z, c, fit))

    def _show_hints(self, on: bool) -> None:
        for v in (self.result_view, self.original_view):
            v.set_overlay_visible(on)
        if self.hints_panel.show_overlay.isChecked() != on:
            self.hints_panel.show_overlay.setChecked(on)

    def _toggle_split(self) -> None:
        self.split_slider.setValue(0 if self.split_slider.value() else 50)

    # ===================================================================================== messages
    @Slot(str, str, str)
    def _on_error(self, kind: str, message: str, detail: str) -> None:
        if kind == ErrorKind.OUT_OF_MEMORY:
            answer = QMessageBox.question(
                self,
                "Out of GPU Memory",
                f"{message}\n\nRun this photo on the CPU instead? It is slower but has more memory. "
                "Your hints are kept.",
                QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Retry,
            )
            if answer == QMessageBox.StandardButton.Retry:
                self.controller.retry_on_cpu()
        elif kind == ErrorKind.MODEL_MISSING:
            answer = QMessageBox.question(
                self,
                "Model Not Available",
                f"{message}\n\nChoose another model in Preferences?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes,
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.preferences()
        elif kind == ErrorKind.LOAD:
            QMessageBox.warning(self, "Cannot Open Photo", message + (f"\n\n{detail}" if detail else ""))
        elif kind == ErrorKind.SESSION:
            QMessageBox.warning(self, "Session", message + (f"\n\n{detail}" if detail else ""))
        else:
            title = {ErrorKind.EXPORT: "Export Failed", ErrorKind.SAMPLING: "Sampling Failed"}.get(
                kind, "Error"
            )
            QMessageBox.critical(self, title, message + (f"\n\nDetails:\n{detail[-1500:]}" if detail else ""))

    def show_shortcuts(self) -> None:
        rows = []
        for a in self.actions():
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
            if keys and a.text():
                rows.append(
                    f"<tr><td>{a.text().replace('&', '').replace('…', '')}</td><td><b>{keys}</b></td></tr>"
                )
        QMessageBox.information(
            self,
            "Keyboard Shortcuts",
            "<table cellspacing=4>" + "".join(rows) + "</table>"
            "<p>Mouse: wheel zooms, right- or middle-drag pans, left-drag paints with the brush.</p>",
        )

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Polychrome",
            "<h3>Polychrome</h3><p>Several plausible colourisations of a grayscale photograph, "
            "steered with painted colour hints.</p>",
        )

    def changeEvent(self, e: QEvent) -> None:  # noqa: N802 - Qt API
        # The system switched between light and dark: icons are drawn in the palette's colours.
        if e.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            refresh_icons(self)
        super().changeEvent(e)

    # ===================================================================================== closing
    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self.maybe_save():
            e.ignore()
            return
        self._save_layout()
        # Cancel and wait for the workers, so none is still running (and emitting) as the app exits.
        # An export in flight is finished, not abandoned: the user asked for those files.
        self.controller.shutdown(120000)
        e.accept()


def pasted_dir() -> Path:
    """Where pasted images are saved before they are opened (the user cache)."""
    return Path(platformdirs.user_cache_dir("polychrome", appauthor=False)) / "pasted"
