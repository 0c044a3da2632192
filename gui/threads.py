"""The app's worker threads: started in one way, kept alive until finished, findable.

Two crashes this module prevents:

- A running ``QThread`` must never be destroyed: Qt aborts the process ("QThread: Destroyed
  while thread is still running"). Threads are created without a Qt parent (a closing widget
  cannot delete them) and held here until they have finished.
- A worker ``QObject`` created in Python and moved to a thread is deleted there by
  ``deleteLater`` when its work ends. If the GUI dropped the last Python reference first,
  shiboken would delete the same object again from the GUI thread while the worker thread
  still used it (segfaults, bus errors and aborts under start/stop stress). So the worker
  is held here as well, until its thread has finished: by then Qt has run the deferred
  delete in the worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread

_RUNNING: list[tuple[QThread, QObject]] = []


def _alive(thread: QThread) -> bool:
    try:
        return not thread.isFinished()
    except RuntimeError:  # its C++ object was already deleted (deleteLater after finishing)
        return False


def start_worker(worker: QObject) -> QThread:
    """Run ``worker.run()`` in a new thread; ``worker.finished`` ends the thread.

    ``worker`` needs a ``run`` slot and a ``finished`` signal emitted last (also on errors).
    Both objects are deleted later, each in its own thread, once the work is done.
    """
    _RUNNING[:] = [(t, w) for t, w in _RUNNING if _alive(t)]
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    worker.finished.connect(worker.deleteLater)
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
