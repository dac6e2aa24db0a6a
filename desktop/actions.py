"""The editor's actions as one table, and the menus and toolbar built from it.

Each row says what an action is (id, text, shortcut, icon, tip), what it does (a handler
named as a dotted path from the window, with arguments) and when it is enabled (a
predicate name from :data:`ENABLED_WHEN`). The window gets each action as ``act_<id>``.
Menus and the toolbar list action ids; ``-`` is a separator, ``@name`` a special entry.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QToolButton

from .icons import set_icon

SK = QKeySequence.StandardKey
Key = QKeySequence.StandardKey | str


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    handler: str  # dotted path from the window, e.g. "files.open_dialog" or "controller.shuffle"
    shortcut: Sequence[Key] = ()  # every non-empty one is bound; the first is shown
    icon: str | None = None
    tip: str | None = None
    enabled_when: str | None = None  # a key of ENABLED_WHEN; None: always
    checkable: bool = False
    checked: bool = False
    group: str | None = None  # exclusive group: the handler runs when the action is checked
    args: tuple[Any, ...] = ()


A = ActionSpec
ACTIONS: tuple[ActionSpec, ...] = (
    # -- file
    A("open", "&Open Photo…", "files.open_dialog", (SK.Open,), "open", "Open a photo"),
    A("open_session", "Open &Session…", "files.open_session_dialog", ("Ctrl+Shift+O",)),
    A("save", "&Save Session", "files.save_session", (SK.Save,), "save",
      "Save hints, settings and kept results", "image"),
    A("save_as", "Save Session &As…", "files.save_session_as", (SK.SaveAs,), enabled_when="image"),
    A("export", "&Export…", "files.export_dialog", ("Ctrl+E",), "export",
      "Export the result on show at full resolution", "results"),
    A("export_starred", "Export All S&tarred…", "files.export_starred", ("Ctrl+Shift+E",),
      enabled_when="starred"),
    A("prefs", "&Preferences…", "preferences", (SK.Preferences, "Ctrl+,"), "settings"),
    A("quit", "&Quit", "close", (SK.Quit,)),
    # -- edit
    A("undo", "&Undo", "undo_stack.undo", (SK.Undo,), "undo", enabled_when="can_undo"),
    A("redo", "&Redo", "undo_stack.redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "redo", enabled_when="can_redo"),
    A("paste", "&Paste Photo", "files.paste", (SK.Paste,), tip="Open the image on the clipboard"),
    A("clear_hints", "Clear All &Hints", "painting.clear_hints", (), "trash", enabled_when="hints"),
    # -- view
    A("fit", "&Fit to Window", "compare.fit", ("F",), "fit", enabled_when="image"),
    A("100", "&100 %", "compare.result_view.actual_size", ("1",), "zoom100", "Actual pixels", "image"),
    A("zoom_in", "Zoom &In", "compare.result_view.zoom_by", (SK.ZoomIn, "="), "zoomin",
      enabled_when="image", args=(1.25,)),
    A("zoom_out", "Zoom &Out", "compare.result_view.zoom_by", (SK.ZoomOut, "-"), "zoomout",
      enabled_when="image", args=(0.8,)),
    A("show_original", "Show &Original Beside", "compare.show_original", ("O",), "original",
      "Show the original next to the result", checkable=True),
    A("compare", "&Before / After", "compare.toggle_split", ("\\",), "compare",
      "Toggle the before/after split (drag its line on the photo)", "image"),
    A("show_hints", "Show &Hints", "painting.show_hints", ("H",), "eye", "Show or hide painted hints",
      checkable=True, checked=True),
    A("toggle_results", "Results Panel", "docks.toggle", ("F7",), tip="Show or hide the results grid",
      args=("results",)),
    A("toggle_controls", "Controls Panel", "docks.toggle", ("F8",),
      tip="Show or hide the controls (more room for the photo)", args=("controls",)),
    # -- tools
    A("move", "&Move", "painting.set_tool", ("V",), "move", "Pan the photo", checkable=True,
      checked=True, group="tools", args=("move",)),
    A("brush", "&Brush", "painting.set_tool", ("B",), "brush", "Paint colour hints", checkable=True,
      group="tools", args=("brush",)),
    A("eraser", "&Eraser", "painting.set_tool", ("E",), "eraser", "Erase hints", checkable=True,
      group="tools", args=("eraser",)),
    A("picker", "Eye&dropper", "painting.set_tool", ("I",), "eyedropper",
      "Pick a colour from the result. Alt+click (any tool, or on a thumbnail): give the object there"
      " that result's colour", checkable=True, group="tools", args=("eyedropper",)),
    A("bigger", "Bigger Brush", "brush.grow", ("]",), args=(1.25,)),
    A("smaller", "Smaller Brush", "brush.grow", ("[",), args=(0.8,)),
    A("color", "Choose &Colour…", "brush.choose_color", ("C",), "palette"),
    # -- results
    A("shuffle", "S&huffle", "controller.shuffle", ("Space",), "shuffle", "Draw new unlocked results",
      "results"),
    A("star", "&Star Result", "toggle_star", ("S",), "star", enabled_when="results"),
    A("lock", "&Lock Result", "toggle_lock", ("L",), "lock", enabled_when="results"),
    A("next", "&Next Result", "state.step_selection", ("PgDown",), enabled_when="results", args=(1,)),
    A("prev", "&Previous Result", "state.step_selection", ("PgUp",), enabled_when="results", args=(-1,)),
    A("more", "&More Results", "docks.more_results", ("Ctrl+]",), args=(2,)),
    A("fewer", "&Fewer Results", "docks.more_results", ("Ctrl+[",), args=(-2,)),
    A("rerun", "Colourise &Again", "controller.rerun_network", ("Ctrl+R",), enabled_when="image"),
    A("cancel", "&Cancel", "controller.cancel", ("Esc",), "cancel", "Stop colourising this photo",
      "computing"),
    # -- help
    A("shortcuts", "&Keyboard Shortcuts", "show_shortcuts", (SK.HelpContents,)),
    A("about", "&About Polychrome", "about"),
)  # fmt: skip

MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("open", "@recent", "open_session", "-", "save", "save_as", "-", "export", "export_starred",
               "-", "prefs", "-", "quit")),
    ("&Edit", ("undo", "redo", "-", "paste", "clear_hints")),
    ("&View", ("fit", "100", "zoom_in", "zoom_out", "-", "show_original", "compare", "show_hints", "-",
               "toggle_results", "toggle_controls")),
    ("&Tools", ("move", "brush", "eraser", "picker", "-", "bigger", "smaller", "color")),
    ("&Results", ("shuffle", "star", "lock", "-", "next", "prev", "more", "fewer", "-", "rerun", "cancel")),
    ("&Help", ("shortcuts", "about")),
)  # fmt: skip

TOOLBAR = ("open", "save", "export", "-", "undo", "redo", "-", "move", "brush", "eraser", "picker", "-",
           "shuffle", "-", "show_original", "show_hints")  # fmt: skip
TOOLBAR_ICON_ONLY = {"undo", "redo", "move", "brush", "eraser", "picker", "show_original", "show_hints"}

# When each action is enabled, asked of the window whenever the document or the work changes.
ENABLED_WHEN: dict[str, Callable[[Any], bool]] = {
    "image": lambda w: w.state.has_image,
    "results": lambda w: bool(w.state.results),
    "starred": lambda w: bool(w.state.starred),
    "hints": lambda w: bool(w.state.hints.strokes),
    "can_undo": lambda w: w.undo_stack.canUndo(),
    "can_redo": lambda w: w.undo_stack.canRedo(),
    "computing": lambda w: w.controller.is_busy("load") or w.controller.is_busy("network"),
}


def _keys(spec: ActionSpec) -> list[QKeySequence]:
    keys, seen = [], set()
    for k in spec.shortcut:
        seq = QKeySequence(k)
        if not seq.isEmpty() and seq.toString() not in seen:
            seen.add(seq.toString())
            keys.append(seq)
    return keys


def _handler(root: Any, spec: ActionSpec) -> Callable[..., Any]:
    fn = operator.attrgetter(spec.handler)(root)
    # Arguments are bound here: ``triggered(bool)`` never reaches a handler as its first argument.
    return lambda *_signal_args: fn(*spec.args)


class ActionTable:
    """The built actions: ``table["open"]``; :meth:`update_enabled` applies every ``enabled_when``."""

    def __init__(self, window: QMainWindow, specs: Sequence[ActionSpec] = ACTIONS) -> None:
        self.window = window
        self.specs = {s.id: s for s in specs}
        self.actions: dict[str, QAction] = {}
        self.groups: dict[str, QActionGroup] = {}
        for spec in specs:
            self.actions[spec.id] = self._build(spec)

    def _build(self, spec: ActionSpec) -> QAction:
        w = self.window
        a = QAction(spec.text, w)
        if spec.icon:
            set_icon(a, spec.icon)
        a.setShortcuts(_keys(spec))
        a.setCheckable(spec.checkable)
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        plain = spec.text.replace("&", "").replace("…", "")
        a.setToolTip((spec.tip or plain) + (f"  ({keys})" if keys else ""))
        a.setStatusTip(spec.tip or plain)
        a.setChecked(spec.checked)  # before connecting: building runs no handler
        handler = _handler(w, spec)
        if spec.group is not None:
            group = self.groups.get(spec.group) or QActionGroup(w)
            self.groups[spec.group] = group
            group.addAction(a)
            a.toggled.connect(lambda on, h=handler: on and h())
        elif spec.checkable:
            fn = operator.attrgetter(spec.handler)(w)
            a.toggled.connect(fn)
        else:
            a.triggered.connect(handler)
        w.addAction(a)  # shortcuts work even when menus and toolbars are hidden
        return a

    def __getitem__(self, action_id: str) -> QAction:
        return self.actions[action_id]

    def update_enabled(self) -> None:
        for action_id, spec in self.specs.items():
            if spec.enabled_when is not None:
                self.actions[action_id].setEnabled(bool(ENABLED_WHEN[spec.enabled_when](self.window)))


def build_menus(window: QMainWindow, table: ActionTable, special: dict[str, Callable[[QMenu], Any]]) -> None:
    """The menu bar from :data:`MENUS`; ``special["recent"](menu)`` fills an ``@recent`` entry."""
    bar = window.menuBar()
    for title, entries in MENUS:
        menu = bar.addMenu(title)
        for entry in entries:
            if entry == "-":
                menu.addSeparator()
            elif entry.startswith("@"):
                special[entry[1:]](menu)
            else:
                menu.addAction(table[entry])


def build_toolbar(window: QMainWindow, table: ActionTable) -> QToolBar:
    tb = QToolBar("Main")
    tb.setObjectName("main_toolbar")
    tb.setIconSize(QSize(22, 22))
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for entry in TOOLBAR:
        if entry == "-":
            tb.addSeparator()
        else:
            tb.addAction(table[entry])
    for action_id in TOOLBAR_ICON_ONLY:
        button = tb.widgetForAction(table[action_id])
        if isinstance(button, QToolButton):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    window.addToolBar(tb)
    return tb


def tool_button(action: QAction, parent: QObject | None = None) -> QToolButton:
    """A flat icon-over-text button for an action (the tool row in the controls)."""
    b = QToolButton()
    b.setDefaultAction(action)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
    b.setIconSize(QSize(22, 22))
    b.setAutoRaise(True)
    return b
