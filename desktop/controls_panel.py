"""Sampler controls: number of results, variety, region size, saturation, seed and Shuffle."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible, QLabeledDoubleSlider

from polychrome.core.sampler import SamplerSettings

from .icons import icon, set_icon

MAX_SAMPLES = 32


def _slider(lo: float, hi: float, value: float, decimals: int, tip: str) -> QLabeledDoubleSlider:
    s = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(10**-decimals)
    s.setValue(value)
    s.setToolTip(tip)
    # Updating on release would feel sluggish; the controller debounces instead.
    s.setTracking(True)
    return s


class ControlsPanel(QWidget):
    """Edits sampler settings; emits ``changed(dict)`` with only the fields the user touched."""

    changed = Signal(dict)
    shuffle_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        d = SamplerSettings()
        self.samples = QSpinBox()
        self.samples.setRange(1, MAX_SAMPLES)
        self.samples.setValue(d.n)
        self.samples.setToolTip("How many colourisations to show (the first is the single best guess)")
        self.variety = _slider(
            0.2,
            1.5,
            d.temperature,
            2,
            "Low: safe, muted colours close to the best guess. High: bolder, less likely colours.",
        )
        self.distinct = _slider(
            0.0,
            1.0,
            d.diversity,
            2,
            "How different the results should be from each other (more candidates, far-apart ones kept)",
        )
        self.saturation = _slider(0.0, 2.0, d.saturation, 2, "Scales the colourfulness of every new result")
        self.correlation = _slider(
            1.0,
            32.0,
            d.correlation,
            1,
            "Size of the regions that choose a colour together. Small: patchy; large: whole objects.",
        )
        self.smoothness = _slider(
            0.0, 3.0, d.smoothness, 2, "How strongly colour is kept flat inside regions"
        )
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(d.seed)
        self.seed.setToolTip("Random seed: the same seed, hints and settings give the same results")
        self.shuffle = QPushButton("Shuffle")
        set_icon(self.shuffle, "shuffle")
        self.shuffle.setToolTip("Draw new results for everything not locked  (Space)")
        self.shuffle.clicked.connect(self.shuffle_requested)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Results", self.samples)
        form.addRow("Variety", self.variety)
        form.addRow("Difference", self.distinct)
        form.addRow("Saturation", self.saturation)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.shuffle)
        form.addRow("Seed", seed_row)

        # superqt's default arrows point up when collapsed; a disclosure triangle points right (closed)
        # and down (open), as everywhere else.
        more = QCollapsible(
            "More", collapsedIcon=icon("disclosure-closed"), expandedIcon=icon("disclosure-open")
        )
        self.more = more
        more_w = QWidget()
        more_form = QFormLayout(more_w)
        more_form.setContentsMargins(0, 0, 0, 0)
        more_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        more_form.addRow("Region size", self.correlation)
        more_form.addRow("Smoothness", self.smoothness)
        more.addWidget(more_w)
        more.collapse(animate=False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(more)

        self.samples.valueChanged.connect(lambda v: self._emit(n=int(v)))
        self.variety.valueChanged.connect(lambda v: self._emit(temperature=float(v)))
        self.distinct.valueChanged.connect(lambda v: self._emit(diversity=float(v)))
        self.saturation.valueChanged.connect(lambda v: self._emit(saturation=float(v)))
        self.correlation.valueChanged.connect(lambda v: self._emit(correlation=float(v)))
        self.smoothness.valueChanged.connect(lambda v: self._emit(smoothness=float(v)))
        self.seed.valueChanged.connect(lambda v: self._emit(seed=int(v)))
        self._updating = False

    def _emit(self, **changes: Any) -> None:
        if not self._updating:
            self.changed.emit(changes)

    def show_settings(self, s: SamplerSettings) -> None:
        """Reflect ``s`` without emitting ``changed`` (state -> view)."""
        self._updating = True
        try:
            for widget, value in (
                (self.samples, s.n),
                (self.variety, s.temperature),
                (self.distinct, s.diversity),
                (self.saturation, s.saturation),
                (self.correlation, s.correlation),
                (self.smoothness, s.smoothness),
                (self.seed, s.seed),
            ):
                if widget.value() != value:
                    widget.setValue(value)
        finally:
            self._updating = False
