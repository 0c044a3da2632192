"""The network landscape's worker: :func:`engine.mnist.network_landscape.compute` in a
``QThread``, with progress and cancel (the same worker-object pattern as training)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot


class LandscapeWorker(QObject):
    """Runs ``job(cancel_event, progress)`` once when its thread starts.

    Signals
    -------
    progressed(float)
        Fraction done, 0 to 1 (the engine reports a few hundred times per landscape).
    computed(object)
        The :class:`engine.mnist.network_landscape.NetworkLandscape`.
    failed(str)
        ``"cancelled"``, or a message for the user (e.g. a plane that cannot be built).
    finished()
        Always emitted last.
    """

    progressed = Signal(float)
    computed = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job: Callable) -> None:
        super().__init__()
        self.job = job
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Stop at the next chunk (safe from any thread)."""
        self.cancel_event.set()

    @Slot()
    def run(self) -> None:
        from engine.mnist import network_landscape

        try:
            self.computed.emit(self.job(self.cancel_event, self.progressed.emit))
        except network_landscape.Cancelled:
            self.failed.emit("cancelled")
        except Exception as error:  # noqa: BLE001 - every failure must reach the user
            self.failed.emit(str(error) or type(error).__name__)
        finally:
            self.finished.emit()
