"""Zoomable, pannable image view with a before/after split, hint overlay and painting tools.

Scene coordinates are full-resolution image pixels whatever the resolution of
the pixmap on show (previews are smaller than the photo), so strokes, the
eyedropper and zoom sync all speak one coordinate system.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPalette,
    QPen,
    QPixmap,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QSplitter,
    QStyleOptionGraphicsItem,
    QWidget,
)

MIN_ZOOM = 0.02
MAX_ZOOM = 32.0


class Tool:
    MOVE = "move"
    BRUSH = "brush"
    ERASER = "eraser"
    EYEDROPPER = "eyedropper"


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


class ImageView(QGraphicsView):
    """One image (or nothing), zoom/pan, and the painting tools.

    Signals speak image pixels: ``stroke_moved(points)`` while dragging a brush,
    ``stroke_finished(points)`` on release, ``erase_finished(points)`` for the
    eraser, ``color_picked(x, y)`` for the eyedropper, ``cursor_moved(x, y)``
    (``-1, -1`` when off the image), and ``view_changed()`` on zoom or scroll.
    """

    stroke_moved = Signal(list)
    stroke_finished = Signal(list)
    erase_finished = Signal(list)
    color_picked = Signal(float, float)
    cursor_moved = Signal(float, float)
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
        self._pixmap_item = QGraphicsPixmapItem()
        self._pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._pixmap_item)
        # The "before" image sits on top, clipped to the left part of the split.
        self._before_clip = QGraphicsRectItem()
        self._before_clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._before_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self._before_item = QGraphicsPixmapItem(self._before_clip)
        self._before_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._before_clip.setZValue(5)
        self.scene().addItem(self._before_clip)
        self._split_line = QGraphicsLineItem()
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2)
        pen.setCosmetic(True)
        self._split_line.setPen(pen)
        self._split_line.setZValue(20)
        self.scene().addItem(self._split_line)
        self._overlay = HintOverlayItem()
        self.scene().addItem(self._overlay)
        self._cursor = QGraphicsEllipseItem()
        cpen = QPen(QColor(255, 255, 255, 220), 1.5)
        cpen.setCosmetic(True)
        self._cursor.setPen(cpen)
        self._cursor.setZValue(30)
        self._cursor.setVisible(False)
        self.scene().addItem(self._cursor)
        self._cursor_shadow = QGraphicsEllipseItem(self._cursor)
        spen = QPen(QColor(0, 0, 0, 180), 3)
        spen.setCosmetic(True)
        self._cursor_shadow.setPen(spen)
        self._cursor_shadow.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)

        self._split = 0.0
        self._tool = Tool.MOVE
        self._brush_radius = 24.0
        self._paint_color = QColor(200, 60, 40)
        self._fit_mode = True
        self._drag_points: list[tuple[float, float]] | None = None
        self._pan_from: QPointF | None = None
        self._paint_enabled = True

        self.horizontalScrollBar().valueChanged.connect(self._emit_view_changed)
        self.verticalScrollBar().valueChanged.connect(self._emit_view_changed)
        self._apply_tool_cursor()

    # -- content -------------------------------------------------------------------------------
    @property
    def image_size(self) -> tuple[int, int] | None:
        return self._image_size

    def has_image(self) -> bool:
        return self._image_size is not None

    def pixmap_size(self) -> tuple[int, int]:
        """Pixels of the image on show (may be fewer than the photo's while a preview is shown)."""
        pix = self._pixmap_item.pixmap()
        return pix.width(), pix.height()

    def set_image(self, image: QImage | QPixmap | None, full_size: tuple[int, int] | None = None) -> None:
        """Show ``image`` stretched over ``full_size`` (W, H) image pixels (defaults to its own size)."""
        if image is None or (isinstance(image, QImage | QPixmap) and image.isNull()):
            self._pixmap_item.setPixmap(QPixmap())
            self._before_item.setPixmap(QPixmap())
            self._image_size = None
            self._overlay.set_strokes([])
            self._update_split()
            self.viewport().update()
            return
        pix = image if isinstance(image, QPixmap) else QPixmap.fromImage(image)
        new_size = full_size or (pix.width(), pix.height())
        size_changed = new_size != self._image_size
        self._image_size = new_size
        self._place(self._pixmap_item, pix)
        rect = QRectF(0, 0, *new_size)
        self.scene().setSceneRect(rect)
        self._overlay.set_scene_rect(rect)
        self._update_split()
        if size_changed:
            self._fit_mode = True
        if self._fit_mode:
            self.fit()

    def set_before_image(self, image: QImage | QPixmap | None) -> None:
        """The image shown left of the split line (the grayscale original)."""
        if image is None:
            self._before_item.setPixmap(QPixmap())
        else:
            self._place(self._before_item, image if isinstance(image, QPixmap) else QPixmap.fromImage(image))
        self._update_split()

    def _place(self, item: QGraphicsPixmapItem, pix: QPixmap) -> None:
        item.setPixmap(pix)
        if self._image_size and pix.width() > 0:
            item.setScale(self._image_size[0] / pix.width())

    def set_split(self, fraction: float) -> None:
        """0 shows only the main image; 1 only the before image; in between, a vertical split."""
        self._split = min(1.0, max(0.0, float(fraction)))
        self._update_split()

    def split(self) -> float:
        return self._split

    def _update_split(self) -> None:
        if not self._image_size or self._before_item.pixmap().isNull() or self._split <= 0:
            self._before_clip.setVisible(False)
            self._split_line.setVisible(False)
            return
        W, H = self._image_size
        x = W * self._split
        self._before_clip.setRect(QRectF(0, 0, x, H))
        self._before_clip.setVisible(True)
        self._split_line.setLine(x, 0, x, H)
        self._split_line.setVisible(0 < self._split < 1)

    def set_strokes(self, strokes: Sequence[OverlayStroke]) -> None:
        self._overlay.set_strokes(strokes)

    def set_overlay_visible(self, visible: bool) -> None:
        self._overlay.setVisible(visible)

    def overlay_visible(self) -> bool:
        return self._overlay.isVisible()

    # -- tools ---------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        self._tool = tool
        self._drag_points = None
        self._overlay.set_live(None)
        self._apply_tool_cursor()

    def tool(self) -> str:
        return self._tool

    def set_paint_enabled(self, enabled: bool) -> None:
        """Views that cannot take strokes yet (no marginals) still pan and zoom."""
        self._paint_enabled = enabled

    def set_brush_radius(self, radius: float) -> None:
        self._brush_radius = max(0.5, float(radius))
        self._update_cursor_item(None)

    def set_paint_color(self, color: QColor) -> None:
        self._paint_color = QColor(color)

    def _apply_tool_cursor(self) -> None:
        shapes = {
            Tool.MOVE: Qt.CursorShape.OpenHandCursor,
            Tool.BRUSH: Qt.CursorShape.CrossCursor,
            Tool.ERASER: Qt.CursorShape.CrossCursor,
            Tool.EYEDROPPER: Qt.CursorShape.PointingHandCursor,
        }
        self.viewport().setCursor(shapes.get(self._tool, Qt.CursorShape.ArrowCursor))
        self._cursor.setVisible(False)

    def _update_cursor_item(self, scene_pos: QPointF | None) -> None:
        show = self._tool in (Tool.BRUSH, Tool.ERASER) and self.has_image()
        if scene_pos is None:
            scene_pos = self._cursor.rect().center()
        r = self._brush_radius
        rect = QRectF(scene_pos.x() - r, scene_pos.y() - r, 2 * r, 2 * r)
        self._cursor.setRect(rect)
        self._cursor_shadow.setRect(rect)
        self._cursor.setVisible(show and self.underMouse())

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

    # -- mouse ---------------------------------------------------------------------------------
    def _image_point(self, pos: QPointF) -> tuple[float, float] | None:
        p = self.mapToScene(pos.toPoint())
        if not self._image_size:
            return None
        W, H = self._image_size
        return (min(max(p.x(), 0.0), W - 1.0), min(max(p.y(), 0.0), H - 1.0))

    def _inside(self, pos: QPointF) -> bool:
        if not self._image_size:
            return False
        p = self.mapToScene(pos.toPoint())
        W, H = self._image_size
        return 0 <= p.x() < W and 0 <= p.y() < H

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        button = event.button()
        if button in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton) or (
            button == Qt.MouseButton.LeftButton and self._tool == Tool.MOVE
        ):
            self._pan_from = pos
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button != Qt.MouseButton.LeftButton or not self.has_image():
            return
        if self._tool == Tool.EYEDROPPER:
            if self._inside(pos):
                x, y = self._image_point(pos)
                self.color_picked.emit(x, y)
            event.accept()
            return
        if self._tool in (Tool.BRUSH, Tool.ERASER) and self._paint_enabled and self._inside(pos):
            self._drag_points = [self._image_point(pos)]
            self._show_live()
            if self._tool == Tool.BRUSH:
                self.stroke_moved.emit(list(self._drag_points))
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            self._fit_mode = False
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(d.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(d.y()))
            event.accept()
            return
        scene_pos = self.mapToScene(pos.toPoint())
        self._update_cursor_item(scene_pos)
        if self._inside(pos):
            x, y = self._image_point(pos)
            self.cursor_moved.emit(x, y)
        else:
            self.cursor_moved.emit(-1.0, -1.0)
        if self._drag_points is not None:
            p = self._image_point(pos)
            last = self._drag_points[-1]
            # Keep points about a quarter radius apart: dense enough, and bounded in count.
            if math.hypot(p[0] - last[0], p[1] - last[1]) >= max(1.0, self._brush_radius / 4):
                self._drag_points.append(p)
                self._show_live()
                if self._tool == Tool.BRUSH:
                    self.stroke_moved.emit(list(self._drag_points))
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._pan_from is not None:
            self._pan_from = None
            self._apply_tool_cursor()
            event.accept()
            return
        if self._drag_points is not None and event.button() == Qt.MouseButton.LeftButton:
            points, self._drag_points = self._drag_points, None
            p = self._image_point(event.position())
            if p is not None and p != points[-1]:
                points.append(p)
            self._overlay.set_live(None)
            if self._tool == Tool.BRUSH:
                self.stroke_finished.emit(points)
            elif self._tool == Tool.ERASER:
                self.erase_finished.emit(points)
            event.accept()

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._cursor.setVisible(False)
        self.cursor_moved.emit(-1.0, -1.0)
        super().leaveEvent(event)

    def enterEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().enterEvent(event)
        self._cursor.setVisible(self._tool in (Tool.BRUSH, Tool.ERASER) and self.has_image())

    def _show_live(self) -> None:
        if self._drag_points is None:
            return
        if self._tool == Tool.BRUSH:
            color = self._paint_color
        else:
            color = self.palette().color(QPalette.ColorRole.Highlight)
        self._overlay.set_live(
            OverlayStroke(self._drag_points, self._brush_radius, color, self._tool == Tool.ERASER)
        )
        if not self._overlay.isVisible() and self._tool == Tool.BRUSH:
            self._overlay.setVisible(True)

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

    The orientation that shows the photo larger is chosen on every resize, so a
    panorama is not squeezed into two tall, narrow views.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._aspect: float | None = None

    def set_image_aspect(self, aspect: float | None) -> None:
        self._aspect = aspect
        self._choose_orientation()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._choose_orientation()

    def _choose_orientation(self) -> None:
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
