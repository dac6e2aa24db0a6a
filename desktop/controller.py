"""Runs the editor's background work and writes the outcomes into the :class:`EditorDocument`.

Open -> load (worker) -> show the original -> network (worker, once per image)
-> sampling (worker, on every hint or setting change) -> previews; plus a
full-resolution render of the result on show and exports. Every job carries
a generation id; results whose id is stale are dropped, so opening another
image, cancelling, or painting again can never be overwritten by late work.

Scheduling only: debouncing, the stale-result counters and the workers. The rules
(what a session holds, where exports go) live in :mod:`polychrome.desktop.model`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from polychrome.core.hints import Stroke
from polychrome.core.models import DEFAULT_MODEL, load_model
from polychrome.core.session import Session, load_session

from . import jobs
from .model import EditorDocument, ExportItem, errors
from .model import session as session_rules
from .model.errors import ErrorKind
from .workers import Job, LatestOnlyRunner, drain

SLIDER_DEBOUNCE_MS = 40  # settings: coalesce slider drags, still feels immediate
DRAG_DEBOUNCE_MS = 120  # strokes in progress: refresh when the brush pauses this long
DETAIL_DELAY_MS = 250  # full-resolution render of the result on show, once things settle

log = logging.getLogger(__name__)


@dataclass
class PendingSession:
    """Parts of a session that can only be applied once the marginals exist."""

    path: Path
    session: Session


class EditorController(QObject):
    """Owns the workers; the GUI calls its methods and listens to its signals and the state's."""

    error = Signal(str, str, str)  # kind, message, technical detail
    notice = Signal(str)  # non-fatal information for the status bar
    busy_changed = Signal(str, bool)  # task ("load", "network", "sampling", "export"), busy
    detail_ready = Signal(int, object)  # result index, preview (h, w, 3) RGB or full-res (H, W, 4) BGRX
    export_progress = Signal(int, int)
    export_finished = Signal(list)  # written paths
    image_opened = Signal(str)  # path, once the original is on show
    session_opened = Signal(object)  # core.session.Session, once its photo is on show

    def __init__(
        self,
        state: EditorDocument,
        model_loader: jobs.ModelLoader | None = None,
        model_name: str = DEFAULT_MODEL,
        device: str = "auto",
        pool: QThreadPool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.model_name = model_name
        self.device_pref = device
        self._device_override: str | None = None  # "cpu" after an out-of-memory retry
        self._loader: jobs.ModelLoader = model_loader or (lambda name, dev: load_model(name, dev))
        self._model: Any = None
        self._model_key: tuple[str, str] | None = None
        self.pool = pool or QThreadPool(self)
        self.pool.setMaxThreadCount(3)
        # Every torch job (load + network, sampling) runs on this one thread: a torch OpenMP
        # op started on a second thread while another thread's run leaves every later torch
        # op of the process several times slower (docs/RESULTS.md, Latency). Renders and
        # exports (numpy, OpenCV, Pillow) use the other pool.
        self.torch_pool = QThreadPool(self)
        self.torch_pool.setMaxThreadCount(1)
        self._image_runner = LatestOnlyRunner(self.torch_pool, self)
        self._sample_runner = LatestOnlyRunner(self.torch_pool, self)
        self._detail_runner = LatestOnlyRunner(self.pool, self)
        self._export_runner = LatestOnlyRunner(self.pool, self)
        self._sample_runner.busy_changed.connect(lambda b: self.busy_changed.emit("sampling", b))
        self._export_runner.busy_changed.connect(lambda b: self.busy_changed.emit("export", b))
        self._image_gen = 0
        self._sample_gen = 0
        self._detail_gen = 0
        self._export_gen = 0
        self._loading_path: Path | None = None
        self._task: str | None = None  # "load" / "network" while the image runner works
        self._pending_session: PendingSession | None = None
        self._provisional: Stroke | None = None
        self._closed = False  # after shutdown(): no new work

        self._sample_timer = QTimer(self)
        self._sample_timer.setSingleShot(True)
        self._sample_timer.timeout.connect(self._launch_sampling)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.timeout.connect(self._launch_detail)

        state.hints_changed.connect(lambda: self.resample(0))
        state.settings_changed.connect(lambda: self.resample(SLIDER_DEBOUNCE_MS))
        state.selection_changed.connect(lambda _i: self._schedule_detail(0))

    # -- status --------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return self._device_override or self.device_pref

    def is_busy(self, task: str | None = None) -> bool:
        if task in (None, "load", "network") and self._task is not None and task in (None, self._task):
            return True
        if task in (None, "sampling") and (self._sample_runner.busy or self._sample_timer.isActive()):
            return True
        return task in (None, "export") and self._export_runner.busy

    def _set_task(self, task: str | None) -> None:
        if task == self._task:
            return
        previous, self._task = self._task, task  # listeners read is_busy(): update first
        if previous is not None:
            self.busy_changed.emit(previous, False)
        if task is not None:
            self.busy_changed.emit(task, True)

    # -- opening -------------------------------------------------------------------------------
    def open_image(self, path: str | Path, session: PendingSession | None = None) -> None:
        """Load ``path`` in the background; stale work for any previous image is cancelled."""
        if self._closed:
            return
        self._image_gen += 1
        gen = self._image_gen
        self._sample_gen += 1
        self._detail_gen += 1
        self._sample_timer.stop()
        self._sample_runner.cancel()
        self._detail_runner.cancel()
        path = Path(path)
        self._loading_path = path
        self._pending_session = session
        job = Job(gen, lambda j: jobs.load_photo(j, path), "load")
        job.signals.result.connect(self._on_loaded)
        job.signals.failed.connect(self._on_load_failed)
        self._set_task("load")
        self._image_runner.submit(job)

    def open_session(self, path: str | Path) -> bool:
        try:
            session = load_session(path)
        except Exception as e:  # noqa: BLE001 - shown to the user
            self.error.emit(ErrorKind.SESSION, f"Could not open the session “{Path(path).name}”.", str(e))
            return False
        self.open_image(session.image_path, PendingSession(Path(path), session))
        return True

    @Slot(int, object)
    def _on_loaded(self, gen: int, loaded: jobs.Loaded) -> None:
        if gen != self._image_gen:
            return
        self.state.set_image(loaded.image, loaded.display)
        if self._pending_session is not None:
            session = self._pending_session.session
            for line in session_rules.apply_session_document(self.state, session, self.model_name):
                self.notice.emit(line)
            self.session_opened.emit(session)
        for line in loaded.image.notices:
            self.notice.emit(line)
        self.image_opened.emit(str(loaded.image.path))
        self._start_network(gen)

    @Slot(int, object, str)
    def _on_load_failed(self, gen: int, exc: BaseException, tb: str) -> None:
        if gen != self._image_gen:
            return
        self._set_task(None)
        self._pending_session = None
        name = self._loading_path.name if self._loading_path else "the file"
        self.error.emit(*errors.load_failure(exc, name, tb))

    # -- network -------------------------------------------------------------------------------
    def rerun_network(self) -> None:
        """Predict the marginals again (after cancel, a model/device change or an error)."""
        if self.state.image is None:
            return
        self._image_gen += 1
        self._start_network(self._image_gen)

    def _start_network(self, gen: int) -> None:
        image = self.state.image
        assert image is not None
        if self._closed:
            return
        key = (self.model_name, self.device)
        cached = self._model if self._model_key == key else None
        loader = self._loader
        L = image.L
        job = Job(gen, lambda j: jobs.run_network(j, L, key, loader, cached), "network")
        job.signals.result.connect(self._on_network)
        job.signals.failed.connect(self._on_network_failed)
        self._set_task("network")
        self._image_runner.submit(job)

    @Slot(int, object)
    def _on_network(self, gen: int, out: jobs.NetworkOutcome) -> None:
        if gen != self._image_gen:
            return
        self._model, self._model_key = out.model, out.model_key
        self.state.set_prepared(out.prepared)
        self.state.set_timings(network_ms=out.ms, device=out.device, model=out.model_key[0])
        pending, self._pending_session = self._pending_session, None
        if pending is not None:
            notices = session_rules.apply_session_results(self.state, pending.session, pending.path)
        else:
            notices = session_rules.release_mismatched_locks(self.state)
        for line in notices:
            self.notice.emit(line)
        self._set_task(None)
        self.resample(0)

    @Slot(int, object, str)
    def _on_network_failed(self, gen: int, exc: BaseException, tb: str) -> None:
        if gen != self._image_gen:
            return
        self._set_task(None)
        self.error.emit(*errors.network_failure(exc, self.model_name, tb))

    def cancel(self) -> None:
        """Stop loading / the network run; the original stays on show, hints are kept."""
        if self._task is None:
            return
        self._image_gen += 1
        self._image_runner.cancel()
        self._set_task(None)
        self.notice.emit("Cancelled. Results ▸ Colourise Again (Ctrl+R) runs the network.")

    def set_model(self, name: str, device: str) -> None:
        """Switch model/device; re-runs the network for the open image when that changes anything."""
        changed = (name, device) != (self.model_name, self.device_pref)
        self.model_name, self.device_pref = name, device
        if changed:
            self._device_override = None
            self._model, self._model_key = None, None
            if self.state.image is not None:
                self.rerun_network()

    def retry_on_cpu(self) -> None:
        """After running out of GPU memory: run this session on the CPU."""
        self._device_override = "cpu"
        self._model, self._model_key = None, None
        # The marginals (and the hint engine built on them) live on the GPU too: run again on the CPU.
        self.rerun_network()

    # -- sampling ------------------------------------------------------------------------------
    def resample(self, delay_ms: int = 0) -> None:
        """Request fresh results; the newest request wins, older ones are dropped."""
        if self.state.marginals is None or self._closed:
            return
        self._sample_gen += 1  # anything in flight is now stale
        self._detail_gen += 1
        # A full-resolution render of the old results would only take CPU from the new ones.
        self._detail_timer.stop()
        self._detail_runner.cancel()
        self._sample_timer.start(max(0, delay_ms))

    def set_provisional_stroke(self, stroke: Stroke | None) -> None:
        """A stroke still being painted: refresh the results with it once the brush pauses.

        Debounced: every move restarts the timer, so a steady drag does not start
        sampling runs that the next move would cancel anyway; a pause of
        DRAG_DEBOUNCE_MS (or the release) shows the effect.
        """
        self._provisional = stroke
        if stroke is not None:
            self.resample(DRAG_DEBOUNCE_MS)

    def shuffle(self) -> None:
        """New seed: everything not locked is drawn again."""
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        self.state.update_settings(seed=seed)

    @Slot()
    def _launch_sampling(self) -> None:
        st = self.state
        if st.prepared is None or st.display is None:
            return
        gen = self._sample_gen
        doc = st.hints.copy()
        if self._provisional is not None:
            doc.add(self._provisional)
        prepared, display, settings, selected = st.prepared, st.display, st.settings, st.selected
        locked, seeds = dict(st.locked), dict(st.locked_seeds)
        job = Job(
            gen,
            lambda j: jobs.run_sampling(j, prepared, display, doc, settings, locked, seeds, selected),
            "sample",
        )
        job.signals.result.connect(self._on_sampled)
        job.signals.failed.connect(self._on_sampling_failed)
        self._sample_runner.submit(job)

    @Slot(int, object)
    def _on_sampled(self, gen: int, out: jobs.SampleOutcome) -> None:
        if gen != self._sample_gen:
            return
        self.state.set_results(out.results)
        self.state.set_timings(sampler_ms=out.sampler_ms, compose_ms=out.compose_ms)
        log.debug("%d results sampled in %.0f ms", len(out.results), out.sampler_ms)
        self._schedule_detail(DETAIL_DELAY_MS)

    @Slot(int, object, str)
    def _on_sampling_failed(self, gen: int, exc: BaseException, tb: str) -> None:
        if gen != self._sample_gen:
            return
        self.error.emit(*errors.sampling_failure(exc, tb))

    def wait_idle(self, msecs: int = 30000) -> bool:
        return self._wait_pools(msecs, self.pool.waitForDone)

    def _wait_pools(self, msecs: int, wait_other: Callable[[int], bool]) -> bool:
        """The torch pool, then ``wait_other(ms left)`` for the other one, within one deadline."""
        deadline = time.monotonic() + msecs / 1000
        torch_done = self.torch_pool.waitForDone(msecs)
        return wait_other(max(0, int((deadline - time.monotonic()) * 1000))) and torch_done

    def shutdown(self, msecs: int = 120000) -> bool:
        """The window closes: cancel loading, the network, sampling and renders, let exports finish,
        and wait until no worker runs. Nothing new starts afterwards. True when all stopped in time."""
        self._closed = True
        self._sample_timer.stop()
        self._detail_timer.stop()
        self._image_gen += 1
        self._sample_gen += 1
        self._detail_gen += 1
        for runner in (self._image_runner, self._sample_runner, self._detail_runner):
            runner.cancel()
        self._set_task(None)
        # A queued export starts only when the one before it reports back (an event): drain runs those.
        return self._wait_pools(msecs, lambda left: drain(self.pool, lambda: self._export_runner.busy, left))

    # -- large view of the result on show ----------------------------------------------------
    def _schedule_detail(self, delay_ms: int = 0) -> None:
        """Preview (if missing) then full resolution (if bigger) of the selected result."""
        self._detail_gen += 1
        disp, image = self.state.display, self.state.image
        if self._closed:
            return
        item = self.state.result(self.state.selected)
        if image is None or disp is None or item is None:
            self._detail_timer.stop()
            return
        if item.preview is not None and disp.L_preview.shape == image.L.shape:
            return  # the preview already is full resolution
        self._detail_timer.start(delay_ms)

    def _guide(self) -> np.ndarray | None:
        """The upsampler's guide for renders of the photo on show (its working-resolution L*),
        or None (renders resize the photo's L) when the prepared stages are not this photo's."""
        prepared, image = self.state.prepared, self.state.image
        if prepared is None or image is None or prepared.L_full.shape != image.L.shape:
            return None
        return prepared.guide

    @Slot()
    def _launch_detail(self) -> None:
        st = self.state
        item, image, display = st.result(st.selected), st.image, st.display
        if item is None or image is None or display is None:
            return
        gen, index, ab, L, need = self._detail_gen, item.index, item.ab, image.L, item.preview is None
        guide = self._guide()
        job = Job(gen, lambda j: (index, jobs.compose_views(j, index, L, display, ab, need, guide)), "detail")
        job.signals.progress.connect(self._on_detail_preview)
        job.signals.result.connect(self._on_detail)
        self._detail_runner.submit(job)

    @Slot(int, object)
    def _on_detail_preview(self, gen: int, value: tuple[int, np.ndarray]) -> None:
        if gen == self._detail_gen:
            self.state.set_preview(*value)
            self.detail_ready.emit(*value)

    @Slot(int, object)
    def _on_detail(self, gen: int, value: tuple[int, np.ndarray | None]) -> None:
        if gen == self._detail_gen and value[1] is not None:
            self.detail_ready.emit(*value)

    # -- export --------------------------------------------------------------------------------
    def export(self, items: list[ExportItem], fmt: str, quality: int) -> None:
        image = self.state.image
        if image is None or not items:
            return
        self._export_gen += 1
        # The results on show were drawn by the model that made the marginals, under these hints.
        model = self._model_key[0] if self._model_key else self.model_name
        hints = len(self.state.hints.strokes)
        guide = self._guide()
        job = Job(
            self._export_gen,
            lambda j: jobs.run_export(j, image, items, fmt, quality, model, hints, guide),
            "export",
        )
        job.signals.progress.connect(self._on_export_progress)
        job.signals.result.connect(self._on_exported)
        job.signals.failed.connect(self._on_export_failed)
        self._export_runner.submit(job)

    @Slot(int, object)
    def _on_export_progress(self, gen: int, value: tuple[int, int]) -> None:
        if gen == self._export_gen:
            self.export_progress.emit(*value)

    @Slot(int, object)
    def _on_exported(self, gen: int, paths: list[Path]) -> None:
        if gen == self._export_gen:
            self.export_finished.emit([str(p) for p in paths])

    @Slot(int, object, str)
    def _on_export_failed(self, gen: int, exc: BaseException, tb: str) -> None:
        if gen == self._export_gen:
            self.error.emit(*errors.export_failure(exc, tb))
