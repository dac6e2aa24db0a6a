"""The two docks beside the photo: the results grid (left) and the controls (right).

Splitter-aware: the docks give way when the window is narrow, so the photo keeps at
least :data:`PHOTO_SHARE` of the width (a dock's separator can still be dragged, and
F7 / F8 collapse a dock entirely); each dock's content scrolls rather than insisting on
its natural width.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDockWidget,
    QGroupBox,
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from .brush import BrushPanel
from .controls_panel import ControlsPanel
from .hints_panel import HintsPanel
from .icons import set_icon
from .results_grid import ResultsGrid
from .settings import AppSettings

PHOTO_SHARE = 0.5  # of the window's width, at least, once the docks have given way
RESULTS_WIDTH = (170, 370)  # the results dock: narrowest it gives way to, and its default width
CONTROLS_MIN_WIDTH = 220


class Docks(QObject):
    """Builds the docks into ``window`` and keeps them from crowding out the photo."""

    def __init__(self, window: QMainWindow, settings: AppSettings) -> None:
        super().__init__(window)
        self.window = window
        self.grid = ResultsGrid()
        self.grid.setMinimumWidth(RESULTS_WIDTH[0])
        self.results_dock = QDockWidget("Results", window)
        self.results_dock.setObjectName("results_dock")
        self.results_dock.setWidget(self.grid)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.results_dock)

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
        b = settings.brush()
        self.brush.set_values(b["radius"], b["hardness"], b["strength"], b["reach"])
        self.brush.recent.set_colors([QColor(c) for c in settings.recent_colors()])
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
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(panel)
        # Its natural width is only a wish: narrow windows scroll the controls instead.
        self.scroll.setMinimumWidth(CONTROLS_MIN_WIDTH)
        self.controls_width = max(CONTROLS_MIN_WIDTH, panel.sizeHint().width() + 20)
        self.controls_dock = QDockWidget("Controls", window)
        self.controls_dock.setObjectName("controls_dock")
        self.controls_dock.setWidget(self.scroll)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.controls_dock)
        # After the resize: the docks have their new widths only once the layout ran.
        self._give_way_timer = QTimer(self)
        self._give_way_timer.setSingleShot(True)
        self._give_way_timer.timeout.connect(self.give_way)
        window.installEventFilter(self)
        self._last_width = 0

    def docks(self) -> dict[str, QDockWidget]:
        return {"results": self.results_dock, "controls": self.controls_dock}

    def toggle(self, name: str) -> None:
        dock = self.docks()[name]
        dock.setVisible(not dock.isVisible())

    def more_results(self, d: int) -> None:
        self.controls.samples.setValue(self.controls.samples.value() + d)

    def default_sizes(self) -> None:
        """The first start's widths (no saved layout)."""
        self.window.resizeDocks(
            [self.results_dock, self.controls_dock],
            [RESULTS_WIDTH[1], self.controls_width],
            Qt.Orientation.Horizontal,
        )
        self.give_way()

    def give_way(self) -> None:
        """Shrink the docks (the wider first) until the photo has PHOTO_SHARE of the width."""
        width = self.window.width()
        docks = [d for d in (self.results_dock, self.controls_dock) if d.isVisible() and not d.isFloating()]
        if width <= 0 or not docks:
            return
        sizes = [d.width() for d in docks]
        # Measured on the photo itself: the dock separators and frames take width too.
        central = self.window.centralWidget()
        photo = central.width() if central is not None else width - sum(sizes)
        excess = int(width * PHOTO_SHARE) - photo
        if excess <= 0:
            return
        floors = [d.widget().minimumWidth() for d in docks]
        for _ in range(len(docks)):  # take from the widest, down to each dock's floor
            order = sorted(range(len(docks)), key=lambda i: sizes[i] - floors[i], reverse=True)
            for i in order:
                take = min(excess, sizes[i] - floors[i])
                if take > 0:
                    sizes[i] -= take
                    excess -= take
            if excess <= 0:
                break
        self.window.resizeDocks(docks, sizes, Qt.Orientation.Horizontal)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.window and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            width = self.window.width()
            if width < self._last_width or event.type() == QEvent.Type.Show:
                self._give_way_timer.start(0)  # only narrowing: a wider window leaves the user's widths be
            self._last_width = width
        return False
