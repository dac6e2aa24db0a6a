"""Scene items of the image view: the photo itself (a QImage drawn as it is) and the hint overlay.

The photo item paints a QImage in the display's native 32-bit layout, prepared by a
worker (``core.display``), so showing a 24-megapixel photo costs the GUI thread no
conversion: a QPixmap would be converted from it on the GUI thread, all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget


class ImageItem(QGraphicsItem):
    """A QImage stretched over ``size`` scene units (full-resolution image pixels).

    Keeps the numpy buffer a wrapping QImage points into alive for as long as it is shown.
    """

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._buffer: np.ndarray | None = None
        self._rect = QRectF()
        self.smooth = True
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # exposedRect

    def set_image(
        self, image: QImage | None, size: tuple[int, int] | None, buffer: np.ndarray | None = None
    ) -> None:
        self.prepareGeometryChange()
        self._image = QImage() if image is None else image
        self._buffer = buffer
        w, h = size or (self._image.width(), self._image.height())
        self._rect = QRectF(0, 0, w, h) if not self._image.isNull() else QRectF()
        self.update()

    def image(self) -> QImage:
        return self._image

    def set_size(self, size: tuple[int, int] | None) -> None:
        """Stretch the image over ``size`` scene units (the photo's full resolution)."""
        if size is not None and not self._image.isNull():
            self.prepareGeometryChange()
            self._rect = QRectF(0, 0, *size)
            self.update()

    def is_null(self) -> bool:
        return self._image.isNull()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._image.isNull():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        # Only the exposed part: the raster engine then samples just the pixels it draws.
        exposed = (
            option.exposedRect.intersected(self._rect) if not option.exposedRect.isNull() else self._rect
        )
        if exposed.isEmpty():
            return
        sx = self._image.width() / max(1e-9, self._rect.width())
        sy = self._image.height() / max(1e-9, self._rect.height())
        source = QRectF(exposed.x() * sx, exposed.y() * sy, exposed.width() * sx, exposed.height() * sy)
        painter.drawImage(exposed, self._image, source)


@dataclass
class OverlayStroke:
    """What the overlay needs to draw one stroke (image px)."""

    points: Sequence[tuple[float, float]]
    radius: float
    color: QColor
    selected: bool = False


def stroke_path(points: Sequence[tuple[float, float]]) -> QPainterPath:
    path = QPainterPath()
    if not points:
        return path
    path.moveTo(QPointF(*points[0]))
    if len(points) == 1:
        path.lineTo(QPointF(points[0][0] + 0.01, points[0][1]))  # a dot still gets round caps
    for x, y in points[1:]:
        path.lineTo(QPointF(x, y))
    return path


class HintOverlayItem(QGraphicsItem):
    """Draws hint strokes as translucent paint with a thin outline (visible on any colour)."""

    def __init__(self) -> None:
        super().__init__()
        self._strokes: list[OverlayStroke] = []
        self._live: OverlayStroke | None = None
        self._rect = QRectF()
        self.setZValue(10)

    def set_scene_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect)

    def set_strokes(self, strokes: Sequence[OverlayStroke]) -> None:
        self._strokes = list(strokes)
        self.update()

    def set_live(self, stroke: OverlayStroke | None) -> None:
        self._live = stroke
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for s in [*self._strokes, *([self._live] if self._live else [])]:
            path = stroke_path(s.points)
            stroker = QPainterPathStroker()
            stroker.setWidth(max(1.0, 2 * s.radius))
            stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
            stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            shape = stroker.createStroke(path).simplified()
            fill = QColor(s.color)
            fill.setAlphaF(0.35)
            painter.fillPath(shape, fill)
            # Two cosmetic outlines (dark under light) so white or black hints stay visible.
            width = 2.5 if s.selected else 1.0
            for color, w in ((QColor(0, 0, 0, 160), width + 1.5), (QColor(255, 255, 255, 200), width)):
                pen = QPen(color, w)
                pen.setCosmetic(True)
                if s.selected:
                    pen.setStyle(Qt.PenStyle.DashLine)
                painter.strokePath(shape, pen)
