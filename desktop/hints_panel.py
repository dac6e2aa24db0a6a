"""The list of painted hint strokes, with remove / clear and the overlay toggle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from polychrome.core.hints import Stroke

from .brush import rgb_to_color, swatch_icon
from .icons import set_icon


class HintsPanel(QWidget):
    """Stroke list. Emits ``remove_requested(ids)``, ``clear_requested()``, ``overlay_toggled(bool)``
    and ``selection(ids)``."""

    remove_requested = Signal(list)
    clear_requested = Signal()
    overlay_toggled = Signal(bool)
    selection = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_overlay = QCheckBox("Show hints on the photo  (H)")
        self.show_overlay.setChecked(True)
        self.show_overlay.toggled.connect(self.overlay_toggled)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setIconSize(QSize(16, 16))
        self.list.setMinimumHeight(80)
        self.list.setToolTip("Painted hints, oldest first. Select and press Delete to remove.")
        self.list.itemSelectionChanged.connect(lambda: self.selection.emit(self.selected_ids()))
        self.remove = QPushButton("Remove")
        set_icon(self.remove, "trash")
        self.remove.setToolTip("Remove the selected hints (one undo step)")
        self.remove.clicked.connect(self._remove_selected)
        self.clear = QPushButton("Clear All")
        self.clear.setToolTip("Remove every hint (one undo step)")
        self.clear.clicked.connect(self.clear_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove)
        buttons.addWidget(self.clear)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.show_overlay)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        for key in (QKeySequence.StandardKey.Delete, QKeySequence(Qt.Key.Key_Backspace)):
            sc = QShortcut(key, self.list)
            sc.setContext(Qt.ShortcutContext.WidgetShortcut)
            sc.activated.connect(self._remove_selected)
        self._update_buttons()

    def set_strokes(self, strokes: Sequence[Stroke]) -> None:
        selected = set(self.selected_ids())
        blocked = self.list.blockSignals(True)
        try:
            self.list.clear()
            border = self.palette().color(QPalette.ColorRole.Mid)
            for k, s in enumerate(strokes):
                color = rgb_to_color(s.color)
                n = len(s.points)
                item = QListWidgetItem(
                    swatch_icon(color, 16, border, self.devicePixelRatioF()),
                    f"Hint {k + 1}  ·  {color.name()}  ·  {n} point{'s' if n != 1 else ''}",
                )
                item.setData(Qt.ItemDataRole.UserRole, s.id)
                self.list.addItem(item)
                item.setSelected(s.id in selected)
        finally:
            self.list.blockSignals(blocked)
        self._update_buttons()

    def selected_ids(self) -> list[Any]:
        return [it.data(Qt.ItemDataRole.UserRole) for it in self.list.selectedItems()]

    def _remove_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.remove_requested.emit(ids)

    def _update_buttons(self) -> None:
        self.clear.setEnabled(self.list.count() > 0)
        self.remove.setEnabled(self.list.count() > 0)
