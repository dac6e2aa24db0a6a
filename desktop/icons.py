"""Icons from resources/icons/*.svg, drawn in the palette's text colour (light and dark schemes).

The SVGs use ``currentColor``; it is replaced with the palette colour before
rendering, and a disabled variant is rendered too. Pixmaps are rendered at
the screen's device pixel ratio so icons are crisp on HiDPI displays.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer


@lru_cache(maxsize=64)
def _svg_text(name: str) -> str:
    return (resources.files("polychrome.resources") / "icons" / f"{name}.svg").read_text()


def _render(svg: str, size: int, dpr: float) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    px = max(1, round(size * dpr))
    pix = QPixmap(px, px)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    renderer.render(p, QRectF(0, 0, px, px))
    p.end()
    pix.setDevicePixelRatio(dpr)
    return pix


def icon(name: str, color: QColor | None = None) -> QIcon:
    """``resources/icons/<name>.svg`` as a QIcon tinted for the current palette."""
    try:
        svg = _svg_text(name)
    except FileNotFoundError:
        return QIcon()
    pal = QGuiApplication.palette()
    normal = color or pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
    disabled = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    screen = QGuiApplication.primaryScreen()
    dpr = screen.devicePixelRatio() if screen else 1.0
    out = QIcon()
    for size in (16, 24, 32):
        out.addPixmap(_render(svg.replace("currentColor", normal.name()), size, dpr), QIcon.Mode.Normal)
        out.addPixmap(_render(svg.replace("currentColor", disabled.name()), size, dpr), QIcon.Mode.Disabled)
    return out


ICON_PROPERTY = "polychrome_icon"


def set_icon(target, name: str) -> None:
    """Give an action or button the named icon, remembered so :func:`refresh_icons` can redraw it."""
    target.setIcon(icon(name))
    target.setProperty(ICON_PROPERTY, name)


def refresh_icons(root) -> None:
    """Redraw every remembered icon under ``root`` (after a light/dark scheme change)."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QAbstractButton

    for obj in [*root.findChildren(QAction), *root.findChildren(QAbstractButton)]:
        name = obj.property(ICON_PROPERTY)
        if name:
            obj.setIcon(icon(str(name)))
