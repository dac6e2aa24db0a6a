"""File operations of the window: open (dialog, recent, drop, paste), sessions and export.

The rules (what a session holds, where exports go, how conflicts are settled) are the
model's (:mod:`polychrome.desktop.model`); this module asks the questions and hands
the work to the controller.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QMenu

from polychrome.core.imageio import SUPPORTED_SUFFIXES
from polychrome.core.session import SESSION_SUFFIX, save_session

from . import dialogs
from .export_dialog import ExportDialog
from .model import default_export_folder, plan_export, resolve_conflicts
from .model import session as session_rules
from .model.errors import ErrorKind

if TYPE_CHECKING:
    from .main_window import MainWindow


def pasted_dir() -> Path:
    """Where pasted images are saved before they are opened (the user cache)."""
    return Path(platformdirs.user_cache_dir("polychrome", appauthor=False)) / "pasted"


def image_filter() -> str:
    patterns = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
    return f"Photos ({patterns});;All files (*)"


SESSION_FILTER = f"Polychrome sessions (*{SESSION_SUFFIX})"


class FileOps(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.state, self.controller, self.settings = window.state, window.controller, window.settings
        self.recent_menu: QMenu | None = None
        self.controller.image_opened.connect(self._on_image_opened)
        self.controller.session_opened.connect(self._on_session_opened)
        self.controller.export_finished.connect(self._on_exported)

    def _status(self, text: str, ms: int = 0) -> None:
        self.w.statusBar().showMessage(text, ms)

    # -- open ----------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(
            self.w, "Open Photo", self.settings.last_folder(), image_filter()
        )
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
        self._status(f"Opening {p.name}…")

    def open_session_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(
            self.w, "Open Session", self.settings.last_folder(), SESSION_FILTER
        )
        if path:
            self.open_path(path, ask=False)

    def add_recent_menu(self, parent: QMenu) -> None:
        self.recent_menu = parent.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self.fill_recent)

    def fill_recent(self) -> None:
        menu = self.recent_menu
        assert menu is not None
        menu.clear()
        files = self.settings.recent_files()
        for f in files:
            a = menu.addAction(Path(f).name)
            a.setToolTip(f)
            a.setStatusTip(f)
            a.triggered.connect(lambda _=False, f=f: self._open_recent(f))
        if not files:
            menu.addAction("No recent photos").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Menu", self.settings.clear_recent_files)

    def _open_recent(self, f: str) -> None:
        if not Path(f).exists():
            dialogs.warn(
                self.w, "Cannot Open Photo", f"“{f}” no longer exists. It was removed from the list."
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
        b = self.w.brush
        current = {"radius": b.radius(), "hardness": b.hardness_value(), "strength": b.strength_value()}
        current["reach"] = b.reach_value()
        values, color = session_rules.brush_from_session(session, current)
        b.set_values(values["radius"], values["hardness"], values["strength"], values["reach"])
        if color is not None and QColor.isValidColorName(color):
            b.set_color(QColor(color))

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
        self._status("The clipboard holds no image.", 5000)

    def open_qimage(self, img: QImage) -> Path | None:
        if not self.maybe_save():
            return None
        folder = pasted_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{int(time.time() * 1000) % 1000:03d}.png"
        if not img.save(str(path), "PNG"):
            dialogs.warn(self.w, "Cannot Paste", f"Could not save the pasted image to {path}.")
            return None
        self.controller.open_image(path)
        return path

    def accepts_drop(self, e: QDragEnterEvent | QDropEvent) -> bool:
        return self._dropped_path(e) is not None or e.mimeData().hasImage()

    def drop(self, e: QDropEvent) -> None:
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
        return self.save_session_to(self.state.session_path)

    def save_session_as(self) -> bool:
        image = self.state.image
        if image is None:
            return False
        suggested = Path(image.path).with_suffix(SESSION_SUFFIX)
        if Path(image.path).parent == pasted_dir():
            suggested = Path(self.settings.last_folder()) / suggested.name
        path, _ = QFileDialog.getSaveFileName(self.w, "Save Session", str(suggested), SESSION_FILTER)
        if not path:
            return False
        if not path.endswith(SESSION_SUFFIX):
            path += SESSION_SUFFIX
        return self.save_session_to(path)

    def save_session_to(self, path: str | Path) -> bool:
        """Write the session (and the brush beside it); False, after telling the user, on failure."""
        if self.state.image is None:
            return False
        b = self.w.brush
        brush = {"radius": b.radius(), "hardness": b.hardness_value(), "strength": b.strength_value()}
        brush["reach"] = b.reach_value()
        extra = session_rules.session_extra(brush, b.color().name())
        try:
            save_session(path, session_rules.build_session(self.state, self.controller.model_name, extra))
        except OSError as e:
            dialogs.show_error(
                self.w, ErrorKind.SESSION, f"Could not save the session to “{path}”.\n\n{e}", ""
            )
            return False
        self.state.set_session_path(Path(path))
        self.state.mark_clean()
        self._status(f"Session saved to {path}", 5000)
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved hints/settings. False means the user cancelled."""
        if not (self.state.dirty and self.state.has_image):
            return True
        answer = dialogs.ask_save(self.w)
        if answer == "save":
            return self.save_session()
        return answer == "discard"

    # -- export --------------------------------------------------------------------------------
    def export_dialog(self, index: int | None = None, starred: bool = False) -> None:
        st = self.state
        if not st.results or st.image is None:
            return
        current = st.selected if index is None else index
        folder = default_export_folder(
            Path(st.image.path), self.settings.export_folder(), self.settings.last_folder(), pasted_dir()
        )
        dlg = ExportDialog(
            current,
            sorted(st.starred),
            str(folder),
            self.settings.export_format(),
            self.settings.export_quality(),
            self.w,
            only_current=index is not None and not starred,
        )
        if starred:
            dlg.all_starred.setChecked(True)
        if dlg.exec():
            self.export_with(dlg.options())

    def export_starred(self) -> None:
        if not self.state.starred:
            dialogs.inform(
                self.w, "Nothing Starred", "Star the results you want to keep (S, or the Star button) first."
            )
            return
        self.export_dialog(starred=True)

    def export_with(self, opts) -> None:
        """Plan names, settle conflicts (asking if wanted), then export in the background."""
        image = self.state.image
        if image is None:
            return
        opts.folder.mkdir(parents=True, exist_ok=True)
        self.settings.set_export_folder(opts.folder)
        self.settings.set_export_format(opts.fmt)
        self.settings.set_export_quality(opts.quality)
        items = plan_export(self.state, opts.indices, opts.folder, opts.fmt)
        if opts.policy == "ask":
            yes_all = False
            for it in items:
                if not it.dest.exists():
                    continue
                if yes_all:
                    it.overwrite = True
                    continue
                answer = dialogs.ask_replace(self.w, it.dest)
                if answer == "cancel":
                    return
                yes_all = answer == "yes_all"
                it.overwrite = answer in ("yes", "yes_all")
        items = resolve_conflicts(items, Path(image.path))
        self.controller.export(items, opts.fmt, opts.quality)
        self._status(f"Exporting {len(items)} result{'s' if len(items) != 1 else ''}…")

    @Slot(list)
    def _on_exported(self, paths: list[str]) -> None:
        if len(paths) == 1:
            self._status(f"Exported {paths[0]}", 10000)
        elif paths:
            self._status(f"Exported {len(paths)} files to {Path(paths[0]).parent}", 10000)
