"""The hint brush: its settings panel, colour swatches and the colour it paints with."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

MIN_RADIUS, MAX_RADIUS = 1, 2000


def color_to_rgb(c: QColor) -> tuple[float, float, float]:
    return (c.redF(), c.greenF(), c.blueF())


def rgb_to_color(rgb: Sequence[float]) -> QColor:
    r, g, b = (min(1.0, max(0.0, float(v))) for v in rgb[:3])
    return QColor.fromRgbF(r, g, b)


def swatch_icon(color: QColor, size: int, border: QColor, dpr: float = 1.0) -> QIcon:
    px = max(1, round(size * dpr))
    pix = QPixmap(px, px)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(border)
    p.setBrush(color)
    p.drawRoundedRect(1, 1, px - 2, px - 2, px * 0.2, px * 0.2)
    p.end()
    pix.setDevicePixelRatio(dpr)
    return QIcon(pix)


class SwatchButton(QToolButton):
    """A flat button showing one colour."""

    def __init__(self, color: QColor, size: int = 22, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size = size
        self.setAutoRaise(True)
        self.setIconSize(QSize(size, size))
        self.set_color(color)

    def color(self) -> QColor:
        return QColor(self._color)

    def set_color(self, color: QColor) -> None:
        self._color = QColor(color)
        border = self.palette().color(QPalette.ColorRole.Mid)
        self.setIcon(swatch_icon(self._color, self._size, border, self.devicePixelRatioF()))


class SwatchRow(QWidget):
    """A row of colour swatches; clicking one emits ``picked``."""

    picked = Signal(QColor)

    def __init__(self, empty_text: str, slots: int = 8, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slots = slots
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._empty = QLabel(empty_text)
        self._empty.setEnabled(False)
        self._layout.addWidget(self._empty, 1)
        self._layout.addStretch(0)
        self._buttons: list[SwatchButton] = []
        self.setMinimumHeight(28)

    def set_colors(self, colors: Sequence[QColor], tooltips: Sequence[str] | None = None) -> None:
        for b in self._buttons:
            # Out of the layout and hidden now; deleted when the event loop gets to it.
            self._layout.removeWidget(b)
            b.hide()
            b.deleteLater()
        self._buttons = []
        for i, c in enumerate(list(colors)[: self.slots]):
            b = SwatchButton(c, 20, self)
            tip = tooltips[i] if tooltips and i < len(tooltips) else c.name()
            b.setToolTip(tip)
            b.clicked.connect(lambda _=False, b=b: self.picked.emit(b.color()))
            self._layout.insertWidget(i, b)
            self._buttons.append(b)
        self._empty.setVisible(not self._buttons)

    def colors(self) -> list[QColor]:
        return [b.color() for b in self._buttons]


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return s


class BrushPanel(QWidget):
    """Brush size / hardness / strength, the paint colour, recent colours and suggestions."""

    brush_changed = Signal()
    color_changed = Signal(QColor)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(MIN_RADIUS, MAX_RADIUS)
        self.size_spin.setSuffix(" px")
        self.size_spin.setValue(24)
        self.size_spin.setToolTip("Brush radius in image pixels  ([ and ] change it)")
        self.hardness = _slider(0, 100, 50)
        self.hardness.setToolTip("Soft edges fade the hint out; hard edges stop it at the brush border")
        self.strength = _slider(5, 100, 80)
        self.strength.setToolTip("How strongly the hint pulls the colours towards the paint colour")
        self.reach = _slider(0, 400, 100)
        self.reach.setToolTip(
            "How far a hint flows beyond the paint into areas of similar brightness, in brush sizes. "
            "It stops at strong edges either way."
        )
        form.addRow("Size", self.size_spin)
        form.addRow("Hardness", self.hardness)
        form.addRow("Strength", self.strength)
        form.addRow("Reach", self.reach)

        self.color_button = SwatchButton(QColor(200, 60, 40), 28)
        self.color_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.color_button.setText("Choose…")
        self.color_button.setToolTip("Paint colour: click to choose any colour")
        self.color_button.clicked.connect(self.choose_color)
        form.addRow("Colour", self.color_button)

        self.recent = SwatchRow("Colours you use appear here", 10)
        self.recent.picked.connect(self.set_color)
        self.suggestions = SwatchRow("Hover over the photo for likely colours", 6)
        self.suggestions.picked.connect(self.set_color)
        self.suggestions.setToolTip("The most probable colours under the cursor")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(QLabel("Recent"))
        layout.addWidget(self.recent)
        layout.addWidget(QLabel("Likely here"))
        layout.addWidget(self.suggestions)

        self.size_spin.valueChanged.connect(lambda _v: self.brush_changed.emit())
        self.hardness.valueChanged.connect(lambda _v: self.brush_changed.emit())
        self.strength.valueChanged.connect(lambda _v: self.brush_changed.emit())
        self.reach.valueChanged.connect(lambda _v: self.brush_changed.emit())

    # -- values --------------------------------------------------------------------------------
    def radius(self) -> float:
        return float(self.size_spin.value())

    def set_radius(self, r: float) -> None:
        self.size_spin.setValue(round(min(MAX_RADIUS, max(MIN_RADIUS, r))))

    def grow(self, factor: float) -> None:
        r = self.radius()
        new = r * factor
        if round(new) == round(r):  # small brushes still change by at least one pixel
            new = r + (1 if factor > 1 else -1)
        self.set_radius(new)

    def hardness_value(self) -> float:
        return self.hardness.value() / 100.0

    def strength_value(self) -> float:
        return self.strength.value() / 100.0

    def reach_value(self) -> float:
        return self.reach.value() / 100.0

    def set_values(self, radius: float, hardness: float, strength: float, reach: float | None = None) -> None:
        self.set_radius(radius)
        self.hardness.setValue(round(hardness * 100))
        self.strength.setValue(round(strength * 100))
        if reach is not None:
            self.reach.setValue(round(reach * 100))

    def color(self) -> QColor:
        return self.color_button.color()

    def set_color(self, color: QColor) -> None:
        if not color.isValid():
            return
        self.color_button.set_color(color)
        self.color_changed.emit(QColor(color))

    def choose_color(self) -> None:
        c = QColorDialog.getColor(self.color(), self, "Hint colour")
        if c.isValid():
            self.set_color(c)

    def remember_color(self, color: QColor) -> None:
        """Put ``color`` first in the recent row (after it was used for a stroke)."""
        colors = [color] + [c for c in self.recent.colors() if c.name() != color.name()]
        self.recent.set_colors(colors[: self.recent.slots])

    def set_suggestions(self, items: Sequence[tuple[QColor, float]]) -> None:
        self.suggestions.set_colors(
            [c for c, _ in items], [f"{c.name()} — {p:.0%} likely here" for c, p in items]
        )
