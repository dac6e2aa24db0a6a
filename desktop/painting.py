"""Painting on the photo: the tools, strokes (one undo step each), the eraser, the eyedropper,
the "likely here" palette under the cursor and the hint overlay.

Tools are rows of :data:`TOOLS`; a view reports gestures in full-resolution image
pixels and the handler for the active tool turns them into document edits. A new tool
(e.g. taking a region's colour from another result with Alt+click) is one more row and
one more handler here: the views and the action table need nothing but its id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QColor, QUndoStack

from polychrome.core.display import point_to_pixel
from polychrome.core.hints import Stroke

from .brush import BrushPanel, color_to_rgb, rgb_to_color
from .controller import EditorController
from .image_view import ImageView, OverlayStroke, Tool
from .model import EditorDocument
from .model.strokes import make_stroke, strokes_touching
from .undo_commands import AddStrokeCommand, RemoveStrokesCommand

if TYPE_CHECKING:
    from .hints_panel import HintsPanel

SUGGEST_DELAY_MS = 90  # palette under the cursor: refresh a few times a second, not on every mouse event

# Tool id -> the action that selects it (``act_<id>`` in the action table).
TOOLS: dict[str, str] = {
    Tool.MOVE: "move",
    Tool.BRUSH: "brush",
    Tool.ERASER: "eraser",
    Tool.EYEDROPPER: "picker",
}


class Painting(QObject):
    """Connects the views' gestures to the document (through the undo stack) and the brush."""

    def __init__(
        self,
        state: EditorDocument,
        controller: EditorController,
        views: tuple[ImageView, ...],
        brush: BrushPanel,
        hints_panel: HintsPanel,
        undo_stack: QUndoStack,
        action: Callable[[str], Any],
        status: Callable[[str, int], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state, self.controller, self.views = state, controller, views
        self.brush, self.hints_panel, self.undo_stack = brush, hints_panel, undo_stack
        self._action, self._status = action, status
        self.shown_rgb: np.ndarray | None = None  # the result on show (eyedropper), RGB or BGRX
        self.shown_is_bgrx = False
        self._cursor_xy: tuple[float, float] | None = None
        self._selected_stroke_ids: list[Any] = []
        self._suggest_timer = QTimer(self)
        self._suggest_timer.setSingleShot(True)
        self._suggest_timer.timeout.connect(self._update_suggestions)

        brush.brush_changed.connect(self._on_brush_changed)
        brush.color_changed.connect(self._on_color_changed)
        hints_panel.remove_requested.connect(self.remove_strokes)
        hints_panel.clear_requested.connect(self.clear_hints)
        hints_panel.selection.connect(self._on_stroke_selection)
        for v in views:
            v.stroke_moved.connect(self._on_stroke_moved)
            v.stroke_finished.connect(self._on_stroke_finished)
            v.erase_finished.connect(self._on_erase_finished)
            v.color_picked.connect(self._on_color_picked)
            v.colour_taken.connect(lambda x, y: self.take_colour(self.state.selected, x, y))
            v.cursor_moved.connect(self._on_cursor_moved)
        self._on_brush_changed()
        self._on_color_changed(brush.color())

    # -- tools ---------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        for v in self.views:
            v.set_tool(tool)
        action = self._action(TOOLS[tool])
        if not action.isChecked():
            action.setChecked(True)
        show_hints = self._action("show_hints")
        if tool == Tool.BRUSH and not show_hints.isChecked():
            show_hints.setChecked(True)  # painting blind would be confusing

    def show_hints(self, on: bool) -> None:
        for v in self.views:
            v.set_overlay_visible(on)
        if self.hints_panel.show_overlay.isChecked() != on:
            self.hints_panel.show_overlay.setChecked(on)

    def set_paint_enabled(self, enabled: bool) -> None:
        for v in self.views:
            v.set_paint_enabled(enabled)

    def _on_brush_changed(self) -> None:
        for v in self.views:
            v.set_brush_radius(self.brush.radius())

    def _on_color_changed(self, color: QColor) -> None:
        for v in self.views:
            v.set_paint_color(color)

    # -- strokes -------------------------------------------------------------------------------
    def _new_stroke(self, points: list) -> Stroke:
        b = self.brush
        return make_stroke(
            points,
            b.radius(),
            color_to_rgb(b.color()),
            b.strength_value(),
            b.hardness_value(),
            b.reach_value(),
        )

    @Slot(list)
    def _on_stroke_moved(self, points: list) -> None:
        if self.state.marginals is not None:
            self.controller.set_provisional_stroke(self._new_stroke(points))

    @Slot(list)
    def _on_stroke_finished(self, points: list) -> None:
        self.controller.set_provisional_stroke(None)
        if self.state.marginals is None or not points:
            return
        self.undo_stack.push(AddStrokeCommand(self.state, self._new_stroke(points)))
        self.brush.remember_color(self.brush.color())

    @Slot(list)
    def _on_erase_finished(self, points: list) -> None:
        ids = strokes_touching(self.state.strokes(), points, self.brush.radius())
        if ids:
            self.remove_strokes(ids, "Erase Hints")

    def remove_strokes(self, ids: list, text: str = "Remove Hints") -> None:
        if ids:
            self.undo_stack.push(RemoveStrokesCommand(self.state, ids, text))

    def clear_hints(self) -> None:
        self.remove_strokes([s.id for s in self.state.strokes()], "Clear Hints")

    def take_colour(self, index: int, x: float, y: float) -> bool:
        """Alt+click: a one-point hint at full-resolution ``(x, y)`` in result ``index``'s colour of
        the object there (core's ``PreparedImage.pick_colour``), strength 1, the brush's radius
        and hardness, the default reach, so it fills the object. One undo step."""
        prepared, item, image = self.state.prepared, self.state.result(index), self.state.image
        if prepared is None or item is None or image is None:
            return False
        W, H = image.size
        x, y = min(max(float(x), 0.0), W - 1.0), min(max(float(y), 0.0), H - 1.0)
        colour = prepared.pick_colour(item.ab, x, y)
        b = self.brush
        stroke = make_stroke([(x, y)], b.radius(), colour, 1.0, b.hardness_value())
        label = "Best Guess" if index == 0 else f"Result {index + 1}"
        self.undo_stack.push(AddStrokeCommand(self.state, stroke, f"Take Colour from {label}"))
        self._status(f"Took {rgb_to_color(colour).name()} from {label.lower()} for this object", 4000)
        return True

    # -- overlay -------------------------------------------------------------------------------
    def refresh_overlay(self) -> None:
        selected = set(self._selected_stroke_ids)
        overlay = [
            OverlayStroke(s.points, s.radius, rgb_to_color(s.color), s.id in selected)
            for s in self.state.strokes()
        ]
        for v in self.views:
            v.set_strokes(overlay)

    def _on_stroke_selection(self, ids: list) -> None:
        self._selected_stroke_ids = ids
        self.refresh_overlay()

    # -- eyedropper and the palette under the cursor -------------------------------------------
    def set_shown(self, pixels: np.ndarray | None, bgrx: bool = False) -> None:
        """The pixels of the result on show (what the eyedropper picks from)."""
        self.shown_rgb, self.shown_is_bgrx = pixels, bgrx

    @Slot(float, float)
    def _on_color_picked(self, x: float, y: float) -> None:
        pixels, image = self.shown_rgb, self.state.image
        if pixels is None or image is None:
            return
        px = pixels[point_to_pixel(x, y, image.size, pixels.shape)]
        r, g, b = (px[2], px[1], px[0]) if self.shown_is_bgrx else (px[0], px[1], px[2])
        color = QColor(int(r), int(g), int(b))
        self.brush.set_color(color)
        self._status(f"Picked {color.name()} — painting with it (B)", 4000)
        self.set_tool(Tool.BRUSH)

    @Slot(float, float)
    def _on_cursor_moved(self, x: float, y: float) -> None:
        if x < 0 or self.state.marginals is None:
            return
        self._cursor_xy = (x, y)
        if not self._suggest_timer.isActive():
            self._suggest_timer.start(SUGGEST_DELAY_MS)

    def _update_suggestions(self) -> None:
        prepared = self.state.prepared
        if self._cursor_xy is None or prepared is None:
            return
        try:
            items = prepared.suggestions(*self._cursor_xy, 6)
        except Exception as e:  # noqa: BLE001 - a palette failure must not disturb painting
            self._status(f"No colour suggestions here: {e}", 3000)
            return
        self.brush.set_suggestions([(rgb_to_color(rgb), float(p)) for rgb, p in items])
