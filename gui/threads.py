"""A registry of the QThreads the app starts, so shutdown and tests can find them all."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QThread

_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def track(thread: QThread) -> QThread:
    """Remember ``thread`` (weakly) and return it."""
    _THREADS.add(thread)
    return thread


def live_threads() -> list[QThread]:
    """Every tracked thread that still exists."""
    return list(_THREADS)
