"""The app's worker threads: started in one way, kept alive until finished, findable.

Two crashes this module prevents:

- A running ``QThread`` must never be destroyed: Qt aborts the process ("QThread: Destroyed
  while thread is still running"). Threads are created without a Qt parent (a closing widget
  cannot delete them) and held here until they have finished.
- A worker ``QObject`` created in Python and moved to a thread must not be deleted while that
  thread still uses it: if the GUI dropped the last Python reference early, shiboken deleted it
  from the GUI thread mid-work (segfaults, bus errors and aborts under start/stop stress). So
  the worker is held here until its thread has finished.

And two deadlocks it prevents. The first: a worker deleted *in its own thread* (``deleteLater``
there, as Qt's examples do) runs ``~QObject`` there, which holds one of Qt's connection locks
(a pool of mutexes shared by address) while it asks shiboken for a Python override of
``disconnectNotify``, which waits for the GIL. The GUI thread, holding the GIL, connecting or
disconnecting any object whose lock is the same one from the pool, then waits for ever (CI hung
so in ``set_landscape``; ``py-spy dump --native`` showed both stacks). So a worker is never
deleted in its thread: once the thread has finished, the GUI thread drops it here.

The second: Python's cyclic garbage collector runs in whichever thread happens
to allocate when a threshold is crossed, often the training thread (TensorFlow allocates a
lot). Collected there, a widget's wrapper has its C++ object destroyed in that thread, which
takes Qt's connection lock and then waits for the GIL, while the GUI thread holds the GIL and
waits for the same lock: both wait for ever (seen in CI, and reproduced here with the start/stop
stress test). So while the app runs worker threads, automatic collection is off and the GUI
thread collects on a timer, with the thresholds Python itself uses (pyqtgraph does the same,
``pyqtgraph.util.garbage_collector``).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from engine import gil

_RUNNING: list[tuple[QThread, QObject]] = []
#: How often the GUI thread checks whether a collection is due. A collection walks what every
#: thread allocated since the last one: at 0.5 s, a worker loading numba kernels (a map) left
#: enough for one generation-1 collection to hold the GUI thread 65-116 ms; at 0.1 s the same
#: work comes in pieces of a few ms (bench/gui_limits.py).
COLLECT_EVERY_MS = 100
_collector: QTimer | None = None


def collect_garbage_in_gui_thread() -> None:
    """Turn Python's automatic garbage collection off and collect in the GUI thread instead,
    every ``COLLECT_EVERY_MS`` (once per process; needs a QCoreApplication)."""
    global _collector
    app = QCoreApplication.instance()
    if _collector is not None or app is None:
        return
    _collector = QTimer(app)
    _collector.setInterval(COLLECT_EVERY_MS)
    _collector.timeout.connect(collect_due)
    gc.disable()
    _collector.start()


_THRESHOLDS = gc.get_threshold()


FULL_SHARE = 0.01  #: full collections take at most this share of the GUI thread's time
FULL_GAP_S = 5.0  #: and come at least this far apart
_next_full = [0.0]


def collect_due() -> None:
    """Collect the oldest generation whose count passed Python's own threshold, if any (call
    from the GUI thread).

    A full collection walks every object (about 0.1 s with TensorFlow or numba loaded), and
    the GUI thread waits meanwhile: Python itself runs one only when the objects that survived
    since the last grew by a quarter, which it does not tell. Here the next one waits at least
    100 times as long as the last one took (and 5 s at least), so they never take more than
    1% of the time.
    """
    counts = gc.get_count()
    if counts[2] > _THRESHOLDS[2] and time.monotonic() >= _next_full[0]:
        started = time.monotonic()
        gc.collect(2)
        took = time.monotonic() - started
        _next_full[0] = time.monotonic() + max(FULL_GAP_S, took / FULL_SHARE)
        return
    for generation in (1, 0):
        if counts[generation] > _THRESHOLDS[generation]:
            gc.collect(generation)
            return


def freeze_long_lived() -> None:
    """Leave every object alive now out of all later collections (the window, its widgets,
    imported modules): they live as long as the app, and full collections get cheaper."""
    gc.freeze()


def _alive(thread: QThread) -> bool:
    try:
        return not thread.isFinished()
    except RuntimeError:  # its C++ object was already deleted (deleteLater after finishing)
        return False


RELEASE_RETRY_MS = 20  #: how soon to look again at a thread that said finished but still ends


def release_finished() -> None:
    """Drop the workers (and threads) whose thread has finished: their last reference goes in
    the GUI thread, so they are deleted there, never in their worker thread (call from the GUI
    thread)."""
    _RUNNING[:] = [(t, w) for t, w in _RUNNING if _alive(t)]


def _release_once_ended(thread: QThread):
    """The slot for ``thread.finished`` (queued to the GUI thread, where the thread object
    lives): ``finished`` comes a moment before the thread has ended, so look until it has."""
    def check() -> None:
        if _alive(thread):
            QTimer.singleShot(RELEASE_RETRY_MS, check)
        else:
            release_finished()
    return check


def start_worker(worker: QObject) -> QThread:
    """Run ``worker.run()`` in a new thread; ``worker.finished`` ends the thread.

    ``worker`` needs a ``run`` slot and a ``finished`` signal emitted last (also on errors).
    Once the thread has finished, the thread object is deleted later and the worker dropped,
    both in the GUI thread.
    """
    collect_garbage_in_gui_thread()
    release_finished()
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    thread.finished.connect(_release_once_ended(thread))
    thread.finished.connect(thread.deleteLater)
    _RUNNING.append((thread, worker))
    thread.start()
    return thread


def live_threads() -> list[QThread]:
    """Every thread started here that has not finished yet."""
    return [t for t, _ in _RUNNING if _alive(t)]


def wait_all(timeout_ms: int = 30000) -> bool:
    """Ask every live thread to quit and wait for each (window close, tests); True when none
    is left running. A worker still working must have been cancelled first.

    A thread's work can be over (the GUI saw its ``finished``) while the thread itself is
    still winding down for a moment: exiting then, without waiting, would destroy it while
    running.
    """
    for thread in live_threads():
        thread.quit()
        thread.wait(timeout_ms)
    return not live_threads()


class CancellableWorker(QObject):
    """A worker for :func:`start_worker` that can be asked to stop: its work checks
    ``cancel_event`` (a ``threading.Event``, safe to set from any thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Stop at the work's next check (safe from any thread)."""
        self.cancel_event.set()


class JobWorker(CancellableWorker):
    """Runs ``job(cancel_event, progress)`` once when its thread starts (:func:`start_worker`).

    Signals
    -------
    progressed(float)
        Fraction done, 0 to 1, as the job reports it.
    computed(object)
        What the job returned.
    failed(str)
        ``"cancelled"`` when the job raised one of ``cancelled``; otherwise a message for the
        user.
    finished()
        Always emitted last.
    """

    progressed = Signal(float)
    computed = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job: Callable, cancelled: tuple[type[BaseException], ...] = ()) -> None:
        super().__init__()
        self.job = job
        self.cancelled = cancelled

    @Slot()
    def run(self) -> None:
        try:
            with gil.short_turns():  # the GUI thread gets the GIL back within 0.5 ms
                result = self.job(self.cancel_event, self.progressed.emit)
            self.computed.emit(result)
        except self.cancelled:
            self.failed.emit("cancelled")
        except Exception as error:  # noqa: BLE001 - every failure must reach the user
            self.failed.emit(str(error) or type(error).__name__)
        finally:
            self.finished.emit()
