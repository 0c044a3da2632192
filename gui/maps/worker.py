"""The worker that computes one map or sweep in its own thread, with progress and cancel."""

from __future__ import annotations

from collections.abc import Callable

from engine.landscape import maps
from gui.threads import JobWorker


class MapWorker(JobWorker):
    """Runs ``job(cancel_event, progress)`` once; ``progressed`` carries fractions, and a
    cancelled map (:class:`engine.landscape.maps.MapCancelled`) fails with "cancelled"."""

    def __init__(self, job: Callable) -> None:
        super().__init__(job, cancelled=(maps.MapCancelled,))
