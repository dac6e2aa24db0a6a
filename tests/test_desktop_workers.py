"""desktop.workers: generation ids, cancellation, and "restart rather than queue"."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThreadPool

from polychrome.desktop.workers import Job, LatestOnlyRunner


@pytest.fixture
def pool(qtbot):
    p = QThreadPool()
    p.setMaxThreadCount(2)
    yield p
    p.waitForDone(5000)


def test_newest_request_replaces_pending_and_cancels_running(qtbot, pool):
    runner = LatestOnlyRunner(pool)
    release = threading.Event()
    started: list[str] = []
    results: list[tuple[int, str]] = []

    def make(gen: int, name: str) -> Job:
        def fn(job: Job) -> str:
            started.append(name)
            if name == "A":
                release.wait(5)
            job.check()
            return name

        j = Job(gen, fn, name)
        j.signals.result.connect(lambda g, v: results.append((g, v)))
        return j

    a = make(1, "A")
    runner.submit(a)
    qtbot.waitUntil(lambda: started == ["A"], timeout=3000)
    runner.submit(make(2, "B"))
    runner.submit(make(3, "C"))
    assert runner.busy and a.cancelled
    release.set()
    with qtbot.waitSignal(runner.busy_changed, timeout=5000) as blocker:
        pass
    assert blocker.args == [False]
    assert started == ["A", "C"]  # B was replaced before it ever started
    assert results == [(3, "C")]  # A noticed its cancellation and reported nothing


def test_failure_reports_exception_and_traceback(qtbot, pool):
    runner = LatestOnlyRunner(pool)

    def boom(job: Job) -> None:
        raise ValueError("bad pixels")

    job = Job(7, boom)
    with qtbot.waitSignal(job.signals.failed, timeout=3000) as blocker:
        runner.submit(job)
    gen, exc, tb = blocker.args
    assert gen == 7 and isinstance(exc, ValueError) and "bad pixels" in tb


def test_cancel_forgets_pending(qtbot, pool):
    runner = LatestOnlyRunner(pool)
    release = threading.Event()
    ran: list[str] = []

    def slow(job: Job) -> None:
        ran.append("slow")
        release.wait(5)

    runner.submit(Job(1, slow))
    qtbot.waitUntil(lambda: ran == ["slow"], timeout=3000)
    runner.submit(Job(2, lambda j: ran.append("pending")))
    runner.cancel()
    release.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert ran == ["slow"]
