"""The grid of sampled colourisations: thumbnails with lock / star badges."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from .icons import icon
from .qimage import qimage_from_rgb

MIN_THUMB = 130  # logical pixels: below this a second column is not worth it
MAX_COLUMNS = 3
GAP = 6


def thumbnail(rgb: np.ndarray, box: QSize, dpr: float) -> QPixmap:
    """A crisp thumbnail fitting ``box``: scaled in device pixels, tagged with the device pixel ratio."""
    img = qimage_from_rgb(rgb)
    bw, bh = max(1, round(box.width() * dpr)), max(1, round(box.height() * dpr))
    mode = Qt.TransformationMode.SmoothTransformation
    scaled = img.scaled(bw, bh, Qt.AspectRatioMode.KeepAspectRatio, mode)
    pix = QPixmap.fromImage(scaled)
    pix.setDevicePixelRatio(dpr)
    return pix


ALT_CLICK_TIP = (
    "Click a result to view it large. Alt+click a spot to give that object this result's colour"
    " (a hint). Right-click to lock, star or export it."
)
FRAME = 3  # logical pixels: the selection frame around the thumbnail on show


class FramedSelectionDelegate(QStyledItemDelegate):
    """Draws the selected result with a frame around it instead of the style's tint over it:
    a grid for judging colour must show every thumbnail's own colours."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        opt = QStyleOptionViewItem(option)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        opt.state &= ~QStyle.StateFlag.State_Selected
        opt.state &= ~QStyle.StateFlag.State_HasFocus  # no dotted focus rectangle over the picture
        super().paint(painter, opt, index)
        if not selected:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pen = painter.pen()
        pen.setColor(option.palette.color(QPalette.ColorRole.Highlight))
        pen.setWidth(FRAME)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = (FRAME + 1) // 2
        painter.drawRect(option.rect.adjusted(half, half, -half, -half))
        painter.restore()


class ResultsGrid(QListWidget):
    """Shows the results; emits ``activated_index`` on click and lock/star/export requests."""

    activated_index = Signal(int)
    lock_requested = Signal(int)
    star_requested = Signal(int)
    export_requested = Signal(int)
    colour_taken = Signal(int, float, float)  # Alt+click: result, (u, v) in the photo, 0..1 each

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(MIN_THUMB, MIN_THUMB))
        self.setItemDelegate(FramedSelectionDelegate(self))
        self._aspect = 1.5
        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.timeout.connect(self._relayout)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.currentRowChanged.connect(self._row_changed)
        self._locked: set[int] = set()
        self._starred: set[int] = set()
        self._previews: list[np.ndarray] = []
        self._thumb_sizes: dict[int, QSizeF] = {}  # logical size of each drawn thumbnail
        self._stale = False
        self._placeholder = "Results appear here"
        self.setToolTip(ALT_CLICK_TIP)

    def set_aspect(self, aspect: float) -> None:
        """Width / height of the photo: thumbnails are laid out for it."""
        self._aspect = max(0.2, min(5.0, aspect))
        self._relayout()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._relayout_timer.start(60)  # re-rendering icons on every pixel of a drag is wasteful

    def _relayout(self) -> None:
        """As many columns as fit (up to MAX_COLUMNS), thumbnails filling the width."""
        # Reserve the scrollbar's width even while it is hidden: it appears once the items do.
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        avail = self.contentsRect().width() - bar - GAP
        cols = max(1, min(MAX_COLUMNS, avail // (MIN_THUMB + GAP)))
        w = max(48, avail // cols - GAP - 2)
        h = round(w / self._aspect)
        if h > 1.3 * w:  # portrait: cap the height, narrow the thumbnail instead
            h = round(1.3 * w)
        icon_size = QSize(round(min(w, h * self._aspect)), h)
        text_h = self.fontMetrics().height() + 6
        grid = QSize(w + GAP, h + text_h + GAP)
        if icon_size == self.iconSize() and grid == self.gridSize():
            return
        self.setIconSize(icon_size)
        self.setGridSize(grid)
        for i in range(min(self.count(), len(self._previews))):
            self._refresh_item(i)

    def set_results(self, previews: list[np.ndarray], selected: int) -> None:
        self._previews = list(previews)
        blocked = self.blockSignals(True)
        try:
            if self.count() != len(previews):
                self.clear()
                for i in range(len(previews)):
                    item = QListWidgetItem(self._label(i))
                    item.setData(Qt.ItemDataRole.UserRole, i)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
                    self.addItem(item)
            for i in range(len(previews)):
                self._refresh_item(i)
            if previews:
                self.setCurrentRow(min(selected, len(previews) - 1))
        finally:
            self.blockSignals(blocked)
        self.viewport().update()

    def set_flags(self, locked: set[int], starred: set[int]) -> None:
        self._locked, self._starred = set(locked), set(starred)
        for i in range(min(self.count(), len(self._previews))):
            self._refresh_item(i)

    def set_stale(self, stale: bool) -> None:
        """Dim the thumbnails while newer results are being computed."""
        if stale != self._stale:
            self._stale = stale
            self.viewport().update()

    def select(self, index: int) -> None:
        blocked = self.blockSignals(True)
        self.setCurrentRow(index)
        self.blockSignals(blocked)

    @staticmethod
    def _label(i: int) -> str:
        return "Best guess" if i == 0 else f"Result {i + 1}"

    def _refresh_item(self, i: int) -> None:
        item = self.item(i)
        if item is None:
            return
        dpr = self.devicePixelRatioF()
        pix = thumbnail(self._previews[i], self.iconSize(), dpr)
        pix = self._badged(pix, i in self._locked, i in self._starred)
        self._thumb_sizes[i] = pix.deviceIndependentSize()
        item.setIcon(QIcon(pix))
        flags = []
        if i in self._starred:
            flags.append("starred")
        if i in self._locked:
            flags.append("locked")
        # The label stays short (it must fit under the thumbnail); the badges and the tooltip carry the flags.
        described = self._label(i) + (f" ({', '.join(flags)})" if flags else "")
        item.setText(self._label(i))
        item.setToolTip(f"{described}. Alt+click: take this object's colour from it. L: lock, S: star.")
        item.setData(Qt.ItemDataRole.AccessibleTextRole, described)

    def _badged(self, pix: QPixmap, locked: bool, starred: bool) -> QPixmap:
        if not (locked or starred):
            return pix
        out = QPixmap(pix)
        p = QPainter(out)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        dpr = out.devicePixelRatio()
        w = out.width() / dpr
        size = 22
        x = w - size - 4
        pal = self.palette()
        for name, on in (("star", starred), ("lock", locked)):
            if not on:
                continue
            rect = QRectF(x, 4, size, size)
            bg = QColor(pal.color(QPalette.ColorRole.Window))
            bg.setAlpha(220)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(bg)
            p.drawRoundedRect(rect, 5, 5)
            color = (
                pal.color(QPalette.ColorRole.Highlight)
                if name == "star"
                else pal.color(QPalette.ColorRole.WindowText)
            )
            icon(name, color).paint(p, rect.adjusted(3, 3, -3, -3).toRect())
            x -= size + 4
        p.end()
        return out

    def set_placeholder(self, text: str) -> None:
        """What the empty grid says (e.g. "Colourising…")."""
        self._placeholder = text
        self.viewport().update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().paintEvent(event)
        if not self.count() and self._placeholder:
            p = QPainter(self.viewport())
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            p.drawText(self.viewport().rect().adjusted(12, 12, -12, -12), flags, self._placeholder)
            p.end()
        if self._stale and self.count():
            p = QPainter(self.viewport())
            veil = QColor(self.palette().color(QPalette.ColorRole.Base))
            veil.setAlpha(90)
            p.fillRect(self.viewport().rect(), veil)
            p.end()

    def thumbnail_rect(self, i: int) -> QRectF | None:
        """Where result ``i``'s picture is drawn, in viewport coordinates."""
        item = self.item(i)
        if item is None or i >= len(self._previews):
            return None
        index = self.indexFromItem(item)
        opt = QStyleOptionViewItem()
        self.initViewItemOption(opt)
        self.itemDelegate().initStyleOption(opt, index)
        opt.rect = self.visualRect(index)
        box = self.style().subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, opt, self)
        size = self._thumb_sizes.get(i, self.iconSize())
        w, h = min(size.width(), box.width()), min(size.height(), box.height())
        c = QRectF(box).center()  # the icon is drawn centred in its box
        return QRectF(c.x() - w / 2, c.y() - h / 2, w, h)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        """Alt+click: take the colour of the object under the point from that result."""
        alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if event.button() == Qt.MouseButton.LeftButton and alt:
            event.accept()
            pos = event.position()
            item = self.itemAt(pos.toPoint())
            i = -1 if item is None else int(item.data(Qt.ItemDataRole.UserRole))
            rect = self.thumbnail_rect(i) if i >= 0 else None
            if rect is not None and rect.contains(pos):
                u = (pos.x() - rect.left()) / rect.width()
                v = (pos.y() - rect.top()) / rect.height()
                self.colour_taken.emit(i, u, v)
            return
        super().mousePressEvent(event)

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.activated_index.emit(row)

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        i = int(item.data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        lock = QAction(icon("lock"), "Unlock" if i in self._locked else "Lock (keep through Shuffle)", menu)
        lock.triggered.connect(lambda: self.lock_requested.emit(i))
        star = QAction(icon("star"), "Unstar" if i in self._starred else "Star for export", menu)
        star.triggered.connect(lambda: self.star_requested.emit(i))
        export = QAction(icon("export"), "Export This Result…", menu)
        export.triggered.connect(lambda: self.export_requested.emit(i))
        menu.addActions([star, lock, export])
        menu.exec(self.viewport().mapToGlobal(pos))
