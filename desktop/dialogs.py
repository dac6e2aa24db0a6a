"""The editor's message boxes: errors (with their follow-up choice), questions, shortcuts, about.

Each function shows one box and returns what the user chose, so callers hold no
QMessageBox code and tests can answer through QMessageBox's static methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from .model.errors import ErrorKind

SB = QMessageBox.StandardButton


def show_error(parent: QWidget, kind: str, message: str, detail: str) -> str | None:
    """Tell the user; returns the follow-up they chose: ``"retry_cpu"``, ``"preferences"`` or None."""
    if kind == ErrorKind.OUT_OF_MEMORY:
        answer = QMessageBox.question(
            parent,
            "Out of GPU Memory",
            f"{message}\n\nRun this photo on the CPU instead? It is slower but has more memory. "
            "Your hints are kept.",
            SB.Retry | SB.Cancel,
            SB.Retry,
        )
        return "retry_cpu" if answer == SB.Retry else None
    if kind == ErrorKind.MODEL_MISSING:
        answer = QMessageBox.question(
            parent,
            "Model Not Available",
            f"{message}\n\nChoose another model in Preferences?",
            SB.Yes | SB.No,
            SB.Yes,
        )
        return "preferences" if answer == SB.Yes else None
    more = f"\n\n{detail}" if detail else ""
    if kind == ErrorKind.LOAD:
        QMessageBox.warning(parent, "Cannot Open Photo", message + more)
    elif kind == ErrorKind.SESSION:
        QMessageBox.warning(parent, "Session", message + more)
    else:
        title = {ErrorKind.EXPORT: "Export Failed", ErrorKind.SAMPLING: "Sampling Failed"}.get(kind, "Error")
        QMessageBox.critical(parent, title, message + (f"\n\nDetails:\n{detail[-1500:]}" if detail else ""))
    return None


def ask_save(parent: QWidget) -> str:
    """Unsaved hints or settings: ``"save"``, ``"discard"`` or ``"cancel"``."""
    answer = QMessageBox.question(
        parent,
        "Unsaved Changes",
        "This photo has hints or settings that are not saved in a session.\nSave them first?",
        SB.Save | SB.Discard | SB.Cancel,
        SB.Save,
    )
    return {SB.Save: "save", SB.Discard: "discard"}.get(answer, "cancel")


def ask_replace(parent: QWidget, dest: Path) -> str:
    """A file of that name exists: ``"yes"``, ``"yes_all"``, ``"no"`` (rename) or ``"cancel"``."""
    answer = QMessageBox.question(
        parent,
        "Replace File?",
        f"“{dest.name}” already exists in {dest.parent}.\n"
        "Replace it? (No keeps it and writes the new file under another name.)",
        SB.Yes | SB.YesToAll | SB.No | SB.Cancel,
        SB.No,
    )
    return {SB.Yes: "yes", SB.YesToAll: "yes_all", SB.Cancel: "cancel"}.get(answer, "no")


def warn(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def inform(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def show_shortcuts(parent: QWidget, actions: Iterable[QAction]) -> None:
    rows = []
    for a in actions:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
        if keys and a.text():
            name = a.text().replace("&", "").replace("…", "")
            rows.append(f"<tr><td>{name}</td><td><b>{keys}</b></td></tr>")
    QMessageBox.information(
        parent,
        "Keyboard Shortcuts",
        "<table cellspacing=4>" + "".join(rows) + "</table>"
        "<p>Mouse: wheel zooms, right- or middle-drag pans, left-drag paints with the brush; "
        "drag the before/after line on the photo to move it.</p>",
    )


def about(parent: QWidget) -> None:
    QMessageBox.about(
        parent,
        "About Polychrome",
        "<h3>Polychrome</h3><p>Several plausible colourisations of a grayscale photograph, "
        "steered with painted colour hints.</p>",
    )
