"""Entry point of the desktop editor (plain ``polychrome``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from . import qt_compat
from .icons import icon
from .jobs import ModelLoader
from .main_window import MainWindow
from .settings import AppSettings


def create_application() -> QApplication:
    """The QApplication, set up once: names for QSettings, HiDPI rounding, app icon."""
    qt_compat.apply()
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName("Polychrome")
        QCoreApplication.setApplicationName("Polychrome")
        # Fractional scale factors (150 %) stay fractional: image pixmaps carry their own DPR.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
        app.setApplicationDisplayName("Polychrome")
    app.setWindowIcon(icon("app"))
    return app


def run_app(
    argv: Sequence[str] | None = None,
    settings: AppSettings | None = None,
    model_loader: ModelLoader | None = None,
) -> int:
    """Open the editor and block until it closes; returns the exit code.

    ``argv``: paths to open (the first photo or session is opened); defaults to none,
    as plain ``polychrome`` takes no arguments.
    """
    app = create_application()
    window = MainWindow(settings=settings, model_loader=model_loader)
    window.show()
    paths = [a for a in (argv or []) if not a.startswith("-")]
    if paths:
        window.open_path(paths[0], ask=False)
    return int(app.exec())
