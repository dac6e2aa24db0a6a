"""The editor window: assembles the parts and keeps the views in step with the document.

Parts, each with one job: the compare view (:mod:`.compare_view`), the docks
(:mod:`.docks`), the action table with the menus and toolbar built from it
(:mod:`.actions`), file operations (:mod:`.file_ops`), painting (:mod:`.painting`) and
the message boxes (:mod:`.dialogs`). State lives in the Qt-free document
(:mod:`.model`); the controller runs the background work.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QUndoStack
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QToolButton, QWidget

from polychrome.core.models import DEFAULT_MODEL

from . import dialogs
from .actions import ACTIONS, ActionTable, build_menus, build_toolbar, tool_button
from .compare_view import CompareView
from .controller import EditorController
from .docks import Docks
from .file_ops import FileOps
from .icons import icon, refresh_icons
from .jobs import ModelLoader
from .model import EditorDocument
from .painting import TOOLS, Painting
from .preferences import PreferencesDialog
from .qimage import qimage_from_rgb, wrap_bgrx
from .settings import AppSettings

APP_NAME = "Polychrome"


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: AppSettings | None = None,
        model_loader: ModelLoader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.state = EditorDocument()
        self.controller = EditorController(
            self.state,
            model_loader=model_loader,
            model_name=self.settings.model(DEFAULT_MODEL),
            device=self.settings.device(),
            parent=self,
        )
        self.undo_stack = QUndoStack(self)
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.compare = CompareView()
        self.setCentralWidget(self.compare)
        self.result_view, self.original_view = self.compare.result_view, self.compare.original_view
        self.result_title, self.split_slider = self.compare.result_title, self.compare.split_slider
        self.docks = Docks(self, self.settings)
        d = self.docks
        self.grid, self.controls, self.brush, self.hints_panel = d.grid, d.controls, d.brush, d.hints_panel
        self.lock_button, self.star_button = d.lock_button, d.star_button
        self.results_dock, self.controls_dock = d.results_dock, d.controls_dock
        self._ending = False  # end_session: closing without the unsaved-changes prompt
        self.files = FileOps(self)
        self.painting = Painting(
            self.state,
            self.controller,
            self.compare.views,
            self.brush,
            self.hints_panel,
            self.undo_stack,
            action=lambda action_id: self.action_table[action_id],
            status=lambda text, ms: self.statusBar().showMessage(text, ms),
            parent=self,
        )
        self.action_table = ActionTable(self, ACTIONS)
        for action_id, action in self.action_table.actions.items():
            setattr(self, f"act_{action_id}", action)
        build_menus(self, self.action_table, {"recent": self.files.add_recent_menu})
        self.toolbar = build_toolbar(self, self.action_table)
        self.compare.fit_button.setDefaultAction(self.action_table["fit"])
        self.compare.actual_button.setDefaultAction(self.action_table["100"])
        for action_id in TOOLS.values():
            d.tool_row.addWidget(tool_button(self.action_table[action_id]))
        d.tool_row.addStretch(1)
        self._build_status_bar()
        self._connect()
        self._restore()
        self._update_enabled()

    # -- parts the tests and the launcher reach ---------------------------------------------------
    @property
    def recent_menu(self):
        return self.files.recent_menu

    def open_path(self, path: str | Path, ask: bool = True) -> None:
        self.files.open_path(path, ask)

    def open_qimage(self, img: QImage) -> Path | None:
        return self.files.open_qimage(img)

    def export_with(self, opts) -> None:
        self.files.export_with(opts)

    # -- build ---------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.busy_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # indeterminate: the network gives no progress
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(self.action_table["cancel"])
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.timing_label = QLabel("")
        self.device_label = QLabel("")
        for w in (self.busy_label, self.progress, self.cancel_button, self.timing_label, self.device_label):
            sb.addPermanentWidget(w)
        self._set_busy_ui()

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
        # Straight to the actions: the stack also signals while it is being destroyed.
        self.undo_stack.canUndoChanged.connect(self.action_table["undo"].setEnabled)
        self.undo_stack.canRedoChanged.connect(self.action_table["redo"].setEnabled)
        undo, redo = self.action_table["undo"], self.action_table["redo"]
        self.undo_stack.undoTextChanged.connect(lambda t: undo.setText(f"&Undo {t}".strip()))
        self.undo_stack.redoTextChanged.connect(lambda t: redo.setText(f"&Redo {t}".strip()))

        self.controls.changed.connect(lambda changes: st.update_settings(**changes))
        self.controls.shuffle_requested.connect(ctl.shuffle)
        self.lock_button.clicked.connect(lambda on: st.set_locked(st.selected, on))
        self.star_button.clicked.connect(lambda on: st.set_starred(st.selected, on))
        self.grid.activated_index.connect(st.select)
        self.grid.lock_requested.connect(st.toggle_lock)
        self.grid.star_requested.connect(st.toggle_star)
        self.grid.export_requested.connect(lambda i: self.files.export_dialog(index=i))
        self.grid.colour_taken.connect(self._take_colour_from_grid)
        self.hints_panel.overlay_toggled.connect(self.action_table["show_hints"].setChecked)

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
            self.docks.default_sizes()
        if (sp := s.splitter_state("views")) is not None:
            self.compare.splitter.restoreState(sp)
        self.action_table["show_original"].setChecked(s.show_original())
        self.compare.original_box.setVisible(s.show_original())
        n = s.samples()
        if n != self.state.settings.n:
            self.state.update_settings(n=n)
            self.state.mark_clean()
        self.controls.show_settings(self.state.settings)

    def _save_layout(self) -> None:
        s = self.settings
        s.set_window_layout(self.saveGeometry(), self.saveState())
        s.set_splitter_state("views", self.compare.splitter.saveState())
        s.set_show_original(self.action_table["show_original"].isChecked())
        s.set_samples(self.state.settings.n)
        b = self.brush
        s.set_brush(b.radius(), b.hardness_value(), b.strength_value(), b.reach_value())
        s.set_recent_colors([c.name() for c in self.brush.recent.colors()])
        s.sync()

    # -- document -> views -----------------------------------------------------------------------
    def _on_image_changed(self) -> None:
        st = self.state
        self.undo_stack.clear()
        self.painting.set_shown(None)
        if st.image is None or st.display is None:
            for v in self.compare.views:
                v.set_image(None)
            self.setWindowTitle(APP_NAME)
        else:
            size = tuple(st.image.size)
            gray_pixels = st.display.gray_full  # made by the loading worker in the display's layout
            gray = wrap_bgrx(gray_pixels)
            self.original_view.set_image(gray, size, gray_pixels)
            self.result_view.set_image(gray, size, gray_pixels)
            self.result_view.set_before_image(gray, gray_pixels)
            self.compare.fit()
            self.setWindowTitle(f"{Path(st.image.path).name}[*] — {APP_NAME}")
            W, H = size
            self.result_title.setText(f"Result  ·  {W} × {H}")
            self.grid.set_aspect(W / H)
            self.compare.set_image_aspect(W / H)
        self.grid.set_results([], 0)
        self._update_placeholder()
        self._update_enabled()

    def _on_results_changed(self) -> None:
        st = self.state
        self.grid.set_results([r.thumb for r in st.results], st.selected)
        self.grid.set_flags(set(st.locked), st.starred)
        self._show_selected()
        self._update_enabled()

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
        self.painting.set_shown(shown)
        self.result_view.set_image(qimage_from_rgb(shown), tuple(st.image.size))
        label = "Best guess" if item.index == 0 else f"Result {item.index + 1}"
        W, H = st.image.size
        self.result_title.setText(f"{label}  ·  {W} × {H}")
        self._on_flags_changed()

    @Slot(int, object)
    def _on_detail(self, index: int, pixels: np.ndarray) -> None:
        """A rendering of the result on show: the preview (RGB) or full resolution (BGRX, from a
        worker, shown without a copy)."""
        st = self.state
        if index != st.selected or st.image is None:
            return
        size = tuple(st.image.size)
        if pixels.ndim == 3 and pixels.shape[2] == 4:
            self.painting.set_shown(pixels, bgrx=True)
            self.result_view.set_image(wrap_bgrx(pixels), size, pixels)
        else:
            self.painting.set_shown(pixels)
            self.result_view.set_image(qimage_from_rgb(pixels), size)

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

    def _on_hints_changed(self) -> None:
        self.hints_panel.set_strokes(self.state.strokes())
        self.painting.refresh_overlay()
        self._update_enabled()

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
        self.action_table.update_enabled()
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
        self.action_table.update_enabled()
        has_res = bool(self.state.results)
        self.lock_button.setEnabled(has_res)
        self.star_button.setEnabled(has_res)
        self.painting.set_paint_enabled(self.state.marginals is not None)

    def _take_colour_from_grid(self, index: int, u: float, v: float) -> None:
        if self.state.image is not None:
            W, H = self.state.image.size
            self.painting.take_colour(index, u * W, v * H)

    # -- commands the action table names ---------------------------------------------------------
    def toggle_star(self) -> None:
        if self.state.results:
            self.state.toggle_star(self.state.selected)

    def toggle_lock(self) -> None:
        if self.state.results:
            self.state.toggle_lock(self.state.selected)

    def preferences(self) -> None:
        dlg = PreferencesDialog(self.controller.model_name, self.controller.device_pref, self)
        if dlg.exec():
            name, device = dlg.values()
            self.settings.set_model(name)
            self.settings.set_device(device)
            self.controller.set_model(name, device)

    def show_shortcuts(self) -> None:
        dialogs.show_shortcuts(self, self.action_table.actions.values())

    def about(self) -> None:
        dialogs.about(self)

    @Slot(str, str, str)
    def _on_error(self, kind: str, message: str, detail: str) -> None:
        follow_up = dialogs.show_error(self, kind, message, detail)
        if follow_up == "retry_cpu":
            self.controller.retry_on_cpu()
        elif follow_up == "preferences":
            self.preferences()

    # -- Qt events -------------------------------------------------------------------------------
    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if self.files.accepts_drop(e):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802 - Qt API
        self.files.drop(e)

    def changeEvent(self, e: QEvent) -> None:  # noqa: N802 - Qt API
        # The system switched between light and dark: icons are drawn in the palette's colours.
        if e.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            refresh_icons(self)
        super().changeEvent(e)

    def end_session(self) -> None:
        """The process is asked to end (Ctrl+C, SIGTERM): close as the user would, minus the
        unsaved-changes prompt that nobody is there to answer."""
        self._ending = True
        self.close()

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self._ending and not self.files.maybe_save():
            e.ignore()
            return
        self._save_layout()
        # Cancel and wait for the workers, so none is still running (and emitting) as the app exits.
        # An export in flight is finished, not abandoned: the user asked for those files.
        self.controller.shutdown(120000)
        e.accept()
