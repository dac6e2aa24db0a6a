"""Background jobs on a QThreadPool, with generation ids and cooperative cancellation.

Every job carries the generation id it was started with. The owner bumps its
generation whenever the request becomes stale (another image opened, a newer
hint or setting) and drops results whose id no longer matches, so late work
can never overwrite newer state. Jobs also check a cancel flag between stages
so stale work stops early instead of burning the CPU.

A job's outcome reaches the GUI thread as one queued event, in which the runner
first lets go of the job, then ``result`` and ``finished`` are emitted, and last
the runner reports ``busy_changed(False)`` if nothing else is waiting. So whoever
receives a result already sees the runner as idle: there is no moment in which the
result is known but the job still counts as running. A failure is reported after
``finished`` (and the runner's "not busy"), because its handlers open dialogs,
whose nested event loops would otherwise hold the busy display up behind them.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QRunnable, QThreadPool, Signal, Slot


class Cancelled(Exception):
    """Raised inside a job when it notices it was cancelled."""


class JobSignals(QObject):
    """Signals of one job. Lives in the GUI thread, where all of them are emitted.

    ``progress`` is queued from the worker thread as it comes. The end of a job is
    queued as one event (``_outcome``) and taken apart here: ``released``, then
    ``result``, then ``finished`` (then ``failed``, for a failure), all in that one
    event. Two separately queued signals (the result, then "finished") would leave a
    gap in which an event loop that waited for the result could return while the job
    still counted as running (an export reported done while ``is_busy("export")`` was
    still true).
    """

    released = Signal(int)  # generation; first: the job no longer runs (its runner lets go)
    result = Signal(int, object)  # generation, value
    failed = Signal(int, object, str)  # generation, exception, formatted traceback; after finished
    progress = Signal(int, object)  # generation, anything the job reports (e.g. (done, total))
    finished = Signal(int)  # always: after result, on cancel, and before failed
    _outcome = Signal(int, str, object, str)  # from the pool thread: generation, kind, value, traceback

    def __init__(self) -> None:
        super().__init__()
        # Emitted in a pool thread, received by this GUI-thread object: a queued connection.
        self._outcome.connect(self._deliver)

    @Slot(int, str, object, str)
    def _deliver(self, gen: int, kind: str, value: Any, tb: str) -> None:
        self.released.emit(gen)
        if kind == "result":
            self.result.emit(gen, value)
        self.finished.emit(gen)
        if kind == "failed":
            # Last: the editor answers a failure with a modal dialog (a nested event loop),
            # and the runner has said "not busy" by now, so the busy display is not held up.
            self.failed.emit(gen, value, tb)


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
        kind, value, tb = "cancelled", None, ""
        try:
            self.check()
            value = self.fn(self)
            self.check()
        except Cancelled:
            value = None
        except Exception as e:  # noqa: BLE001 - every failure goes back to the GUI as a message
            value = None
            if not self._cancel.is_set():
                kind, value, tb = "failed", e, traceback.format_exc()
        else:
            kind = "result"
        finally:
            # One event carries the whole outcome to the GUI thread (see JobSignals).
            self.signals._outcome.emit(self.gen, kind, value, tb)


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
        self._announced = False  # the last busy_changed said True
        # Finished jobs are kept a little longer: the pool thread may still be returning
        # from run() when its queued outcome arrives here.
        self._recent: list[Job] = []

    @property
    def busy(self) -> bool:
        return self._running is not None or self._pending is not None

    @property
    def running(self) -> Job | None:
        return self._running

    def submit(self, job: Job) -> None:
        if self._running is not None:
            self._running.cancel()
            if self._pending is not None:
                self._pending.cancel()
            self._pending = job
        else:
            self._start(job)
        if not self._announced:
            self._announced = True
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
        job.signals.released.connect(self._on_released)
        job.signals.finished.connect(self._on_finished)
        self.pool.start(job)

    @Slot(int)
    def _on_released(self, _gen: int) -> None:
        """The running job ended; its result is delivered right after this, in the same event."""
        if self._running is not None:
            self._recent = (self._recent + [self._running])[-4:]
        self._running = None
        if self._pending is not None:
            job, self._pending = self._pending, None
            self._start(job)

    @Slot(int)
    def _on_finished(self, _gen: int) -> None:
        """After the job's result went out: say so once nothing is left to run."""
        if self._announced and not self.busy:
            self._announced = False
            self.busy_changed.emit(False)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (tests and shutdown)."""
        return self.pool.waitForDone(msecs)


def drain(pool: QThreadPool, busy: Callable[[], bool], msecs: int) -> bool:
    """Wait until no job of ``pool`` runs and ``busy()`` is false, handling the outcome events
    (which may start a queued job) but no user input meanwhile. True when it got there in time."""
    deadline = time.monotonic() + msecs / 1000
    loop = QEventLoop()  # its processEvents: PySide6 6.12's QCoreApplication one leaks a ref to None
    while True:
        left = max(0, int((deadline - time.monotonic()) * 1000))
        done = pool.waitForDone(left)
        loop.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        if done and not busy() and pool.activeThreadCount() == 0:
            return True
        if not done or not left:
            return False
