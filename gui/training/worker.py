"""The training worker: ``engine.mnist.training.train`` in a ``QThread``, reporting through signals.

One worker per training session (Qt's worker-object pattern): the thread body calls the
plain engine function with a reporter that turns each report into a queued signal, so the
engine stays testable without threads. Cancel is a ``threading.Event`` the engine's Keras
callback checks after every batch. Payloads are small (plain floats and dataclasses) and
batch reports are already throttled to ~20 a second by the engine.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Signal, Slot

from gui.threads import CancellableWorker


class TrainingWorker(CancellableWorker):
    """Runs one :class:`engine.mnist.training.TrainConfig` when its thread starts.

    Signals
    -------
    dataset_loaded(object)
        The :class:`engine.mnist.datasets.DatasetInfo` in use.
    run_started(int, str, int, int)
        Run index, optimizer id, epochs, batches per epoch.
    batch_finished(int, int, int, float, float)
        Run index, epoch, batch, training accuracy, training loss.
    epoch_finished(int, object)
        Run index and its :class:`engine.mnist.training.EpochLog`.
    run_finished(int, object)
        Run index and its :class:`engine.mnist.training.RunResult`.
    trained(object)
        ``(dataset, results)`` once the session has ended (every run's weight snapshots in
        ``results``), for the network landscape.
    failed(str)
        A message for the user when the session could not run (bad file, ...).
    finished()
        Always emitted last.
    """

    dataset_loaded = Signal(object)
    run_started = Signal(int, str, int, int)
    batch_finished = Signal(int, int, int, float, float)
    epoch_finished = Signal(int, object)
    run_finished = Signal(int, object)
    trained = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, config) -> None:
        super().__init__()  # cancel() stops the run after the current batch
        self.config = config

    @Slot()
    def run(self) -> None:
        try:
            # TensorFlow's C++ start-up chatter is not for the user's terminal.
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            from engine.mnist import datasets, training

            training.configure_threads(cores_for_gui=1)
            data = datasets.resolve(self.config.dataset, cancel=self.cancel_event)
            results = training.train(self.config, reporter=_SignalReporter(self),
                                     cancel=self.cancel_event, dataset=data,
                                     record_snapshots=True)
            self.trained.emit((data, results))
        except Exception as error:  # noqa: BLE001 - every failure must reach the user
            self.failed.emit(str(error) or type(error).__name__)
        finally:
            self.finished.emit()


class _SignalReporter:
    """The engine's reporter protocol, re-emitted as the worker's signals."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.worker = worker

    def dataset_loaded(self, info) -> None:
        self.worker.dataset_loaded.emit(info)

    def run_started(self, index, optimizer_id, epochs, batches_per_epoch) -> None:
        self.worker.run_started.emit(index, optimizer_id, epochs, batches_per_epoch)

    def batch_finished(self, index, epoch, batch, accuracy, loss) -> None:
        self.worker.batch_finished.emit(index, epoch, batch, float(accuracy), float(loss))

    def epoch_finished(self, index, log) -> None:
        self.worker.epoch_finished.emit(index, log)

    def run_finished(self, index, result) -> None:
        self.worker.run_finished.emit(index, result)
