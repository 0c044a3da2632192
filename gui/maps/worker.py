"""The worker that computes one map or sweep in its own thread, with progress and cancel."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal, Slot

from engine.landscape import maps


class MapWorker(QObject):
    """Runs ``job(cancel_event, progress)`` once; ``progressed`` carries fractions."""

    progressed = Signal(float)
    computed = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job) -> None:
        super().__init__()
        self.job = job
        self.cancel_event = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            self.computed.emit(self.job(self.cancel_event, self.progressed.emit))
        except maps.MapCancelled:
            self.failed.emit("cancelled")
        except Exception as error:  # noqa: BLE001 - every failure must reach the user
            self.failed.emit(str(error) or type(error).__name__)
        finally:
            self.finished.emit()
