"""Change notification with plain callbacks (the model must not need Qt to be observed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """A list of callbacks, called in connection order on :meth:`emit`.

    Spelled like a Qt signal (``connect`` / ``disconnect`` / ``emit``) so views read the
    same either way. Emission is synchronous and in the caller's thread: the document is
    written from the GUI thread only (the controller delivers workers' outcomes there).
    """

    __slots__ = ("_callbacks", "name")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any] | None = None) -> None:
        """Remove ``callback`` (every callback when None); unknown callbacks are ignored."""
        if callback is None:
            self._callbacks.clear()
        else:
            self._callbacks = [c for c in self._callbacks if c != callback]

    def emit(self, *args: Any) -> None:
        # A copy: a callback may connect or disconnect others while we iterate.
        for callback in list(self._callbacks):
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} callbacks)"
