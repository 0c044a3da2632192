"""The QThreads the app starts: kept alive until they finish, and findable for shutdown.

A running ``QThread`` must never be destroyed: Qt aborts the whole process ("QThread:
Destroyed while thread is still running"). So threads are created without a Qt parent (a
closing widget cannot delete them) and this module holds a strong reference to each until
it has finished; ``finished -> deleteLater`` then frees it in the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QThread

_THREADS: list[QThread] = []


def _alive(thread: QThread) -> bool:
    try:
        return not thread.isFinished()
    except RuntimeError:  # its C++ object was already deleted (deleteLater after finishing)
        return False


def new_thread() -> QThread:
    """A parentless QThread, held here until it finishes; ``deleteLater`` when it does."""
    _THREADS[:] = [t for t in _THREADS if _alive(t)]
    thread = QThread()
    thread.finished.connect(thread.deleteLater)
    _THREADS.append(thread)
    return thread


def live_threads() -> list[QThread]:
    """Every thread started here that has not finished yet (running or not started)."""
    return [t for t in _THREADS if _alive(t)]
