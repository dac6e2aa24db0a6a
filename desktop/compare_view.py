"""The central compare view: the original and the result side by side (or stacked), zoom in sync,
the zoom buttons and the before/after slider, which the line on the image moves too."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSplitter, QToolButton, QVBoxLayout, QWidget

from .image_view import ImageView

PLACEHOLDER = "Open a photo (Ctrl+O), drop one here, or paste one (Ctrl+V)"


class ViewSync:
    """Keeps zoom and scroll position identical across several views."""

    def __init__(self, *views: ImageView) -> None:
        self.views = list(views)
        self._busy = False
        for v in self.views:
            v.view_changed.connect(lambda v=v: self._sync_from(v))

    def _sync_from(self, source: ImageView) -> None:
        if self._busy or not source.isVisible():
            return
        self._busy = True
        try:
            zoom, center, fit = source.view_state()
            for v in self.views:
                if v is not source and v.has_image() and v.image_size == source.image_size:
                    v.apply_view_state(zoom, center, fit)
        finally:
            self._busy = False


class CompareSplitter(QSplitter):
    """Holds the original and the result side by side, or one above the other for wide photos.

    The orientation that shows the photo larger is chosen on every resize and whenever a
    pane is shown or hidden, so a panorama is not squeezed into two tall, narrow views.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._aspect: float | None = None

    def image_aspect(self) -> float | None:
        return self._aspect

    def set_image_aspect(self, aspect: float | None) -> None:
        self._aspect = aspect
        self.relayout()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.relayout()

    def relayout(self) -> None:
        """Choose the orientation again (after a pane was shown or hidden)."""
        visible = [self.widget(i) for i in range(self.count()) if not self.widget(i).isHidden()]
        if not self._aspect or len(visible) < 2:
            return
        W, H = max(1, self.width()), max(1, self.height())
        side_by_side = min(W / 2 / self._aspect, H)  # photo height each layout allows
        stacked = min(W / self._aspect, H / 2)
        want = Qt.Orientation.Horizontal if side_by_side >= stacked else Qt.Orientation.Vertical
        if want != self.orientation():
            self.setOrientation(want)
            half = (W if want == Qt.Orientation.Horizontal else H) // 2
            self.setSizes([half, half])


def _titled(label: QLabel, view: QWidget) -> QWidget:
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    label.setContentsMargins(6, 2, 6, 0)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    lay.addWidget(label)
    lay.addWidget(view, 1)
    return w


class CompareView(QWidget):
    """Original | result views, the zoom bar and the before/after slider (0..100)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original_view = ImageView("Original")
        self.result_view = ImageView(PLACEHOLDER)
        self.sync = ViewSync(self.result_view, self.original_view)
        self.original_box = _titled(QLabel("Original"), self.original_view)
        self.result_title = QLabel("Result")
        result_box = _titled(self.result_title, self.result_view)

        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setRange(0, 100)
        self.split_slider.setValue(0)
        self.split_slider.setToolTip(
            "Before / after: drag here or the line on the photo to reveal the grayscale original on the left"
        )
        self.split_slider.setMinimumWidth(120)
        self.split_slider.setMaximumWidth(260)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(70)
        self.fit_button = QToolButton()
        self.actual_button = QToolButton()
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.actual_button)
        bar.addWidget(self.zoom_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("Before"))
        bar.addWidget(self.split_slider)
        bar.addWidget(QLabel("After"))

        self.splitter = CompareSplitter()
        self.splitter.addWidget(self.original_box)
        self.splitter.addWidget(result_box)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.splitter, 1)
        lay.addLayout(bar)

        self.split_slider.valueChanged.connect(lambda v: self.result_view.set_split(v / 100.0))
        self.result_view.split_changed.connect(self._on_line_dragged)
        self.result_view.zoom_changed.connect(self._on_zoom_changed)

    @property
    def views(self) -> tuple[ImageView, ImageView]:
        return self.result_view, self.original_view

    def _on_line_dragged(self, fraction: float) -> None:
        blocked = self.split_slider.blockSignals(True)  # the view already shows it
        self.split_slider.setValue(round(fraction * 100))
        self.split_slider.blockSignals(blocked)

    def toggle_split(self) -> None:
        self.split_slider.setValue(0 if self.split_slider.value() else 50)

    def show_original(self, on: bool) -> None:
        self.original_box.setVisible(on)
        self.splitter.relayout()
        if on and self.result_view.has_image():
            z, c, fit = self.result_view.view_state()
            # After the layout settled: the original's viewport has its size only then.
            QTimer.singleShot(0, lambda: self.original_view.apply_view_state(z, c, fit))

    def set_image_aspect(self, aspect: float) -> None:
        self.splitter.set_image_aspect(aspect)

    def fit(self) -> None:
        for v in self.views:
            v.fit()

    def _on_zoom_changed(self, device_zoom: float) -> None:
        fit = " (fit)" if self.result_view.is_fit() else ""
        self.zoom_label.setText(f"{device_zoom * 100:.0f} %{fit}")
