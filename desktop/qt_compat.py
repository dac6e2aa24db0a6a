"""Work around reference-counting bugs of PySide6 6.12.0 on Python < 3.12.

``SignalInstance.emit`` returns ``True`` without taking a reference to it, and
``QCoreApplication.processEvents`` / ``QEventLoop.exec`` drop a reference to ``None`` per call,
so every emit from Python costs ``True`` one reference. The editor holds some 13,000 of them; a
long session's emits (each job's outcome, every slider move) would end in ``Fatal Python error:
bool_dealloc``.

``True``, ``False`` and ``None`` are never meant to be freed; Python 3.12 makes them immortal.
:func:`apply` does the same by hand where the probe shows the bug: it gives each a large number
of extra references, so the ones the binding drops can never reach zero. Nothing is wrapped or
replaced (``emit`` stays the binding's own, which ``signal.connect(other.emit)`` relies on).
Called when the editor's Qt modules load (workers, app).
"""

from __future__ import annotations

import ctypes
import sys

EXTRA_REFERENCES = 1 << 40  # ~10^12: a million emits a second would take twelve days to use them up
_applied: bool | None = None  # None: not checked yet


def emit_loses_a_reference() -> bool:
    """Whether an emit from Python drops a reference to ``True``."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        probe = Signal()

    p = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        p.probe.emit()
    return sys.getrefcount(True) - before <= -8


def _add_references(obj: object, n: int) -> None:
    # ob_refcnt is the first field of every object (CPython's layout): add n in one step.
    refcnt = ctypes.c_ssize_t.from_address(id(obj))
    refcnt.value += n


def apply() -> bool:
    """Make ``True``, ``False`` and ``None`` unfreeable if this PySide6 needs it (idempotent)."""
    global _applied
    if _applied is None:
        _applied = sys.version_info < (3, 12) and emit_loses_a_reference()
        if _applied:
            for obj in (True, False, None):
                _add_references(obj, EXTRA_REFERENCES)
    return _applied
