"""The zoom and pan half of the image view: fit, 100 %, wheel zoom about the cursor, view sync state,
and the palette-derived background with a placeholder while nothing is shown."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QPainter, QPalette, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

MIN_ZOOM = 0.02
MAX_ZOOM = 32.0


class ZoomView(QGraphicsView):
    """A scene of ``image_size`` (W, H) image pixels, zoomed and panned. ``view_changed()`` on zoom
    or scroll, ``zoom_changed(device_zoom)`` on zoom."""

    view_changed = Signal()
    zoom_changed = Signal(float)

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = placeholder
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setMouseTracking(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMinimumSize(160, 120)
        self.setAcceptDrops(False)  # drops go to the main window
        self._image_size: tuple[int, int] | None = None
        self._fit_mode = True
        self.horizontalScrollBar().valueChanged.connect(self._emit_view_changed)
        self.verticalScrollBar().valueChanged.connect(self._emit_view_changed)

    @property
    def image_size(self) -> tuple[int, int] | None:
        return self._image_size

    def has_image(self) -> bool:
        return self._image_size is not None

    # -- zoom ----------------------------------------------------------------------------------
    def zoom(self) -> float:
        """Logical screen pixels per image pixel."""
        return self.transform().m11()

    def device_zoom(self) -> float:
        """Device pixels per image pixel (1.0 is "100 %")."""
        return self.zoom() * self.devicePixelRatioF()

    def set_zoom(self, z: float, anchor: QPointF | None = None) -> None:
        z = min(MAX_ZOOM, max(MIN_ZOOM, z))
        center = anchor if anchor is not None else self.center()
        self.setTransform(QTransform.fromScale(z, z))
        self.centerOn(center)
        self.zoom_changed.emit(self.device_zoom())
        self._emit_view_changed()

    def center(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def fit(self) -> None:
        self._fit_mode = True
        if not self._image_size:
            return
        W, H = self._image_size
        vp = self.viewport().rect()
        if vp.width() < 2 or vp.height() < 2:
            return
        z = min((vp.width() - 8) / W, (vp.height() - 8) / H)
        self.setTransform(QTransform.fromScale(z, z))
        self.centerOn(QPointF(W / 2, H / 2))
        self.zoom_changed.emit(self.device_zoom())
        self._emit_view_changed()

    def actual_size(self) -> None:
        """One image pixel per device pixel (HiDPI aware)."""
        self._fit_mode = False
        self.set_zoom(1.0 / self.devicePixelRatioF())

    def zoom_by(self, factor: float) -> None:
        self._fit_mode = False
        self.set_zoom(self.zoom() * factor)

    def is_fit(self) -> bool:
        return self._fit_mode

    def view_state(self) -> tuple[float, QPointF, bool]:
        return self.zoom(), self.center(), self._fit_mode

    def apply_view_state(self, zoom: float, center: QPointF, fit: bool) -> None:
        """Match another view (zoom sync); signals are blocked so sync never loops."""
        blocked = self.blockSignals(True)
        try:
            if fit:
                self.fit()
            else:
                self._fit_mode = False
                self.setTransform(QTransform.fromScale(zoom, zoom))
                self.centerOn(center)
        finally:
            self.blockSignals(blocked)
        self.zoom_changed.emit(self.device_zoom())

    def _emit_view_changed(self) -> None:
        self.view_changed.emit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        if not self.has_image():
            return
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            super().wheelEvent(event)
            return
        self._fit_mode = False
        anchor = self.mapToScene(event.position().toPoint())
        before = event.position()
        z = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * math.pow(1.2, steps)))
        self.setTransform(QTransform.fromScale(z, z))
        # Keep the image point under the cursor where it was.
        after = self.mapFromScene(anchor)
        delta = after.toPointF() - before
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(delta.x()))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(delta.y()))
        self.zoom_changed.emit(self.device_zoom())
        self._emit_view_changed()
        event.accept()

    # -- look ----------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt API
        # Palette-derived so it follows the system light/dark scheme.
        painter.fillRect(rect, QBrush(self.palette().color(QPalette.ColorRole.Window).darker(115)))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt API
        if self.has_image() or not self.placeholder:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        painter.setFont(font)
        painter.drawText(
            self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder
        )
        painter.restore()
