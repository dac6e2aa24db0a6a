"""Entry point of the desktop editor (plain ``polychrome``)."""

from __future__ import annotations

import logging
import signal
import socket
import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QSocketNotifier, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from .icons import icon
from .jobs import ModelLoader
from .main_window import MainWindow
from .settings import AppSettings

log = logging.getLogger(__name__)


def create_application() -> QApplication:
    """The QApplication, set up once: names for QSettings, HiDPI rounding, app icon."""
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
    end_on_signals(app, window)
    paths = [a for a in (argv or []) if not a.startswith("-")]
    if paths:
        window.open_path(paths[0], ask=False)
    return int(app.exec())


def end_on_signals(app: QApplication, window: MainWindow) -> None:
    """Ctrl+C (SIGINT) and SIGTERM close the window cleanly: workers cancelled and awaited, no
    unsaved-changes prompt, no traceback.

    Python runs its signal handlers only between bytecodes, and Qt's event loop is C++; the
    wake-up fd (a socket pair watched by a QSocketNotifier) brings control back to Python at
    once. The handler only queues the close, so it never runs inside another slot.
    """
    if getattr(app, "_polychrome_signal_socks", None) is not None:
        return
    rsock, wsock = socket.socketpair()
    for s in (rsock, wsock):
        s.setblocking(False)
    try:
        signal.set_wakeup_fd(wsock.fileno())
    except ValueError:  # not the main thread (an embedding host): leave its handlers alone
        rsock.close(), wsock.close()
        return
    notifier = QSocketNotifier(rsock.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        try:
            rsock.recv(256)
        except OSError:
            pass

    notifier.activated.connect(drain)

    def handler(signum: int, _frame: object) -> None:
        log.info("received %s: closing the editor", signal.Signals(signum).name)
        QTimer.singleShot(0, window.end_session)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    app._polychrome_signal_socks = (rsock, wsock, notifier)  # type: ignore[attr-defined]
    log.debug("Ctrl+C and SIGTERM close the editor")
