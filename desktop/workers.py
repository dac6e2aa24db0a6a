"""Background jobs on a QThreadPool, with generation ids and cooperative cancellation.

Every job carries the generation id it was started with. The owner bumps its
generation whenever the request becomes stale (another image opened, a newer
hint or setting) and drops results whose id no longer matches, so late work
can never overwrite newer state. Jobs also check a cancel flag between stages
so stale work stops early instead of burning the CPU.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class Cancelled(Exception):
    """Raised inside a job when it notices it was cancelled."""


class JobSignals(QObject):
    """Signals of one job. Lives in the GUI thread; emitted from the worker thread (queued)."""

    result = Signal(int, object)  # generation, value
    failed = Signal(int, object, str)  # generation, exception, formatted traceback
    progress = Signal(int, object)  # generation, anything the job reports (e.g. (done, total))
    finished = Signal(int)  # always, after result/failed/cancel


class Job(QRunnable):
    """Runs ``fn(job)`` in the pool. ``fn`` may call :meth:`check` and :meth:`report`."""

    def __init__(self, gen: int, fn: Callable[[Job], Any], name: str = "job") -> None:
        super().__init__()
        self.gen = gen
        self.fn = fn
        self.name = name
        self.signals = JobSignals()
        self._cancel = threading.Event()
        # Python keeps the job alive (the runner holds it); Qt must not delete it under us.
        self.setAutoDelete(False)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if this job was cancelled (call between stages)."""
        if self._cancel.is_set():
            raise Cancelled

    def report(self, value: Any) -> None:
        self.signals.progress.emit(self.gen, value)

    def run(self) -> None:  # runs in a pool thread
        try:
            self.check()
            value = self.fn(self)
            self.check()
        except Cancelled:
            pass
        except Exception as e:  # noqa: BLE001 - every failure goes back to the GUI as a message
            if not self._cancel.is_set():
                self.signals.failed.emit(self.gen, e, traceback.format_exc())
        else:
            self.signals.result.emit(self.gen, value)
        finally:
            self.signals.finished.emit(self.gen)


class LatestOnlyRunner(QObject):
    """Runs at most one job at a time; submitting cancels the running job and replaces the pending one.

    This is what "restart rather than queue" means: while the user drags a
    slider or paints, only the newest request is ever started after the one
    in flight stops.
    """

    busy_changed = Signal(bool)

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._running: Job | None = None
        self._pending: Job | None = None
        # Finished jobs are kept a little longer: the pool thread may still be returning
        # from run() when the queued `finished` arrives here.
        self._recent: list[Job] = []

    @property
    def busy(self) -> bool:
        return self._running is not None or self._pending is not None

    @property
    def running(self) -> Job | None:
        return self._running

    def submit(self, job: Job) -> None:
        was_busy = self.busy
        if self._running is not None:
            self._running.cancel()
            if self._pending is not None:
                self._pending.cancel()
            self._pending = job
        else:
            self._start(job)
        if not was_busy:
            self.busy_changed.emit(True)

    def cancel(self) -> None:
        """Cancel the running job and forget the pending one."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._running is not None:
            self._running.cancel()

    def _start(self, job: Job) -> None:
        self._running = job
        job.signals.finished.connect(self._on_finished)
        self.pool.start(job)

    @Slot(int)
    def _on_finished(self, _gen: int) -> None:
        if self._running is not None:
            self._recent = (self._recent + [self._running])[-4:]
        self._running = None
        if self._pending is not None:
            job, self._pending = self._pending, None
            self._start(job)
        else:
            self.busy_changed.emit(False)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (tests and shutdown)."""
        return self.pool.waitForDone(msecs)
