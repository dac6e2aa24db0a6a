"""Zoomable, pannable image view with a draggable before/after split, hint overlay and painting tools.

Scene coordinates are full-resolution image pixels whatever the resolution of
the image on show (previews are smaller than the photo), so strokes, the
eyedropper and zoom sync all speak one coordinate system.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsRectItem,
    QWidget,
)

from .overlay import HintOverlayItem, ImageItem, OverlayStroke
from .zoom_view import ZoomView

__all__ = ["ImageView", "OverlayStroke", "Tool"]

SPLIT_GRAB_PX = 6  # logical pixels either side of the before/after line that grab it


class Tool:
    MOVE = "move"
    BRUSH = "brush"
    ERASER = "eraser"
    EYEDROPPER = "eyedropper"


class ImageView(ZoomView):
    """One image (or nothing), zoom/pan, and the painting tools.

    Signals speak image pixels: ``stroke_moved(points)`` while dragging a brush,
    ``stroke_finished(points)`` on release, ``erase_finished(points)`` for the
    eraser, ``color_picked(x, y)`` for the eyedropper, ``colour_taken(x, y)`` for Alt+click
    (take the object's colour from the result on show, any tool), ``cursor_moved(x, y)``
    (``-1, -1`` when off the image), ``view_changed()`` on zoom or scroll, and
    ``split_changed(fraction)`` when the user drags the before/after line (any tool).
    """

    stroke_moved = Signal(list)
    stroke_finished = Signal(list)
    erase_finished = Signal(list)
    color_picked = Signal(float, float)
    colour_taken = Signal(float, float)
    cursor_moved = Signal(float, float)
    split_changed = Signal(float)

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(placeholder, parent)
        self._image_item = ImageItem()
        self.scene().addItem(self._image_item)
        # The "before" image sits on top, clipped to the left part of the split.
        self._before_clip = QGraphicsRectItem()
        self._before_clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._before_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self._before_item = ImageItem(self._before_clip)
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
        self._drag_points: list[tuple[float, float]] | None = None
        self._pan_from: QPointF | None = None
        self._split_drag = False
        self._paint_enabled = True
        self._apply_tool_cursor()

    # -- content -------------------------------------------------------------------------------
    def pixmap_size(self) -> tuple[int, int]:
        """Pixels of the image on show (may be fewer than the photo's while a preview is shown)."""
        img = self._image_item.image()
        return img.width(), img.height()

    def set_image(
        self,
        image: QImage | QPixmap | None,
        full_size: tuple[int, int] | None = None,
        buffer: np.ndarray | None = None,
    ) -> None:
        """Show ``image`` stretched over ``full_size`` (W, H) image pixels (defaults to its own size).

        ``buffer``: the array a wrapping QImage points into (``qimage.wrap_bgrx``), kept alive here.
        """
        if image is None or image.isNull():
            self._image_item.set_image(None, None)
            self._before_item.set_image(None, None)
            self._image_size = None
            self._overlay.set_strokes([])
            self._update_split()
            self.viewport().update()
            return
        img = image.toImage() if isinstance(image, QPixmap) else image
        new_size = full_size or (img.width(), img.height())
        size_changed = new_size != self._image_size
        self._image_size = new_size
        self._image_item.set_image(img, new_size, buffer)
        self._before_item.set_size(new_size)
        rect = QRectF(0, 0, *new_size)
        self.scene().setSceneRect(rect)
        self._overlay.set_scene_rect(rect)
        self._update_split()
        if size_changed:
            self._fit_mode = True
        if self._fit_mode:
            self.fit()

    def set_before_image(self, image: QImage | None, buffer: np.ndarray | None = None) -> None:
        """The image shown left of the split line (the grayscale original)."""
        self._before_item.set_image(image, self._image_size, buffer)
        self._update_split()

    def set_split(self, fraction: float) -> None:
        """0 shows only the main image; 1 only the before image; in between, a vertical split."""
        self._split = min(1.0, max(0.0, float(fraction)))
        self._update_split()

    def split_line_x(self) -> float | None:
        """Viewport x of the before/after line, None while it is not on show."""
        if not self._split_line.isVisible() or not self._image_size:
            return None
        return self.mapFromScene(QPointF(self._image_size[0] * self._split, 0)).x()

    def _near_split_line(self, pos: QPointF) -> bool:
        x = self.split_line_x()
        return x is not None and abs(pos.x() - x) <= SPLIT_GRAB_PX and self._inside(pos)

    def _drag_split_to(self, pos: QPointF) -> None:
        W = self._image_size[0] if self._image_size else 1
        # Stay strictly inside: at 0 or 1 the line would vanish and could not be grabbed again.
        fraction = min(0.99, max(0.01, self.mapToScene(pos.toPoint()).x() / W))
        self.set_split(fraction)
        self.split_changed.emit(fraction)

    def split(self) -> float:
        return self._split

    def _update_split(self) -> None:
        if not self._image_size or self._before_item.is_null() or self._split <= 0:
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
        if button == Qt.MouseButton.LeftButton and self._near_split_line(pos):
            self._split_drag = True  # the line wins over every tool: it is grabbed where it is drawn
            event.accept()
            return
        alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if button == Qt.MouseButton.LeftButton and alt and self.has_image():
            if self._inside(pos):
                self.colour_taken.emit(*self._image_point(pos))
            event.accept()
            return
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
        if self._split_drag:
            self._drag_split_to(pos)
            event.accept()
            return
        if self._drag_points is None and self._pan_from is None:
            near = self._near_split_line(pos)
            if near != (self.viewport().cursor().shape() == Qt.CursorShape.SplitHCursor):
                if near:
                    self.viewport().setCursor(Qt.CursorShape.SplitHCursor)
                else:
                    self._apply_tool_cursor()
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
        if self._split_drag:
            self._split_drag = False
            self._drag_split_to(event.position())
            event.accept()
            return
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
