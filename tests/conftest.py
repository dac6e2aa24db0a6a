"""Shared test set-up: offscreen Qt, deterministic and lean torch, and the editor's window fixtures."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))

WAIT_MS = 30000  # an upper bound for waits that end as soon as their condition holds


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# -- the editor window (Qt is imported only by the tests that use these) ----------------------------
@pytest.fixture(scope="session")
def model():
    """A random-init PolyNet: fast, and quality is irrelevant to the editor's tests."""
    from polychrome.core.models.registry import build_model

    torch.manual_seed(0)
    return build_model("polychrome-small").eval()


@pytest.fixture
def qsettings(tmp_path):
    """Settings in a temporary INI file: the user's own are never touched."""
    from PySide6.QtCore import QSettings

    from polychrome.desktop.settings import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


class MessageLog(list):
    """(kind, title, text) of every message box; ``answers`` are popped by questions, then
    ``default_answer`` (No unless a test module says otherwise)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list = []
        self.default_answer = None


@pytest.fixture
def messages(monkeypatch):
    """Every QMessageBox shown, as (kind, title, text); nothing blocks on a modal box."""
    from PySide6.QtWidgets import QMessageBox

    log = MessageLog()
    log.default_answer = QMessageBox.StandardButton.No

    def record(kind):
        def show(parent, title, text, *args, **kwargs):
            log.append((kind, title, text))
            if kind == "question":
                return log.answers.pop(0) if log.answers else log.default_answer
            return QMessageBox.StandardButton.Ok

        return show

    for kind in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(record(kind)))
    return log


@pytest.fixture
def make_window(qtbot, qsettings, model, tmp_path, monkeypatch, messages):
    """``make_window(loader=None, settings=None)``: a shown 1200 x 800 editor with the test model;
    pasted images go to ``tmp_path / "pasted"``. Teardown cancels and waits for its workers."""
    from polychrome.desktop import file_ops
    from polychrome.desktop.main_window import MainWindow

    monkeypatch.setattr(file_ops, "pasted_dir", lambda: tmp_path / "pasted")
    windows = []

    def make(loader=None, settings=None) -> MainWindow:
        w = MainWindow(settings=settings or qsettings, model_loader=loader or (lambda name, dev: model))
        qtbot.addWidget(w)
        w.resize(1200, 800)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.controller.cancel()
        w.controller.wait_idle(WAIT_MS)
