"""The lesson's MNIST model, trained once per optimizer, reporting through a plain object.

:func:`train` runs every optimizer of a :class:`TrainConfig` on the same data, from the same
initial weights and in the same batch order (so only the optimizer differs), and reports
through a :class:`Reporter` (plain method calls with plain values; the GUI's worker turns
them into signals). A ``threading.Event`` cancels it after the current batch. TensorFlow is
imported inside functions only; nothing here prints (windowed builds have no stdout).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from engine import optimizers
from engine.mnist import datasets, settings
from engine.mnist.datasets import Dataset, DatasetInfo
from engine.optimizers import schedules, tensorflow_loader
from engine.optimizers.schedules import Schedule
from engine.params import ParamError, describe_value

HISTORY_KEYS = ("accuracy", "val_accuracy", "loss", "val_loss")
STATUSES = ("completed", "stopped", "failed", "diverged")
MAX_EPOCHS = settings.EPOCHS.high
MAX_BATCH_SIZE = settings.BATCH_SIZE.high
MIN_LIMIT = settings.MIN_SAMPLES
MAX_SEED = settings.SEED.high
BATCH_REPORTS_PER_SECOND = 20.0
#: A training loss above this (100x the loss of a uniform guess over 10 digits) means the
#: weights blew up: the run is "diverged" (Keras computes the loss from the logits, so it can
#: grow without bound long before it becomes NaN).
DIVERGED_LOSS = 100 * math.log(10)
TEST_BATCH_SIZE = 1024


#: A :class:`TrainConfig` field was refused; ``field`` names it (the one refusal class).
ConfigError = ParamError


@dataclass(frozen=True)
class TrainConfig:
    """One session: ``optimizers`` are ``(registry id, Keras kwargs)`` pairs, trained in order
    (or ``(id, kwargs, schedule)`` triples: a per-optimizer learning-rate schedule or None);
    ``epochs``, ``batch_size``, ``validation_split`` as in ``keras.Model.fit``; ``seed`` fixes
    the initial weights and batch order; ``dataset`` is ``"auto"``, ``"bundled"`` or a path
    (:func:`engine.mnist.datasets.resolve`); ``limit`` keeps the first N training samples."""

    optimizers: tuple[tuple[str, Mapping[str, Any]], ...] = tuple(
        (optimizer_id, MappingProxyType({})) for optimizer_id in settings.DEFAULT_OPTIMIZERS)
    epochs: int = settings.EPOCHS.default
    batch_size: int = settings.BATCH_SIZE.default
    validation_split: float = settings.VALIDATION_SPLIT.default
    seed: int = settings.SEED.default
    dataset: str = settings.DATASET.default
    limit: int | None = settings.LIMIT.default
    #: A Keras-exact learning-rate schedule used instead of the constant ``learning_rate`` by
    #: every optimizer without its own (per batch, as Keras steps it), or None.
    schedule: Schedule | None = None

    def validate(self) -> None:
        """Check every field: :class:`ConfigError` names it; the registry's
        ``UnknownOptimizerError``/``HyperParamError`` (both ValueErrors) pass through."""
        for param in (settings.EPOCHS, settings.BATCH_SIZE, settings.SEED, settings.LIMIT):
            _check_int(param, getattr(self, param.name))
        settings.VALIDATION_SPLIT.check_json(self.validation_split, "validation_split")
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise ConfigError("dataset", "must be 'auto', 'bundled' or a path to an .npz file")
        settings.DATASET.check_json(self.dataset, "dataset")
        if self.limit is not None:  # the samples are known: both parts must be non-empty
            fit_samples(self.limit, self.validation_split)
        settings.OPTIMIZERS.check_json(len(self.optimizers), "optimizers")
        if self.schedule is not None and not isinstance(self.schedule, Schedule):
            raise ConfigError("schedule", f"expected a learning-rate schedule, got {self.schedule!r}")
        self.resolved_optimizers()

    def resolved_optimizers(self) -> list[optimizers.Optimizer]:
        """The validated registry optimizers, in order (errors as in :meth:`validate`)."""
        if not self.optimizers:
            raise ConfigError("optimizers", "name at least one optimizer")
        chosen = []
        for entry in self.optimizers:
            if not (isinstance(entry, tuple | list) and len(entry) in (2, 3)
                    and isinstance(entry[0], str) and isinstance(entry[1], Mapping)
                    and (len(entry) == 2 or entry[2] is None or isinstance(entry[2], Schedule))):
                raise ConfigError("optimizers", "expected (id, settings) pairs or (id, settings, "
                                  f"schedule) triples, got {entry!r}")
            chosen.append(optimizers.get(entry[0], **dict(entry[1])))
        return chosen

    def schedules(self) -> list[Schedule | None]:
        """The learning-rate schedule of each optimizer (its own, else ``schedule``)."""
        return [entry[2] if len(entry) == 3 and entry[2] is not None else self.schedule
                for entry in self.optimizers]


@dataclass
class EpochLog:
    """One finished epoch (``epoch`` counts from 0, like Keras's callbacks).

    ``val_accuracy``/``val_loss`` are None when ``validation_split`` is 0. The last epoch of
    a stopped or diverged run may be partial (its training metrics cover the batches run).
    """

    epoch: int
    accuracy: float
    loss: float
    val_accuracy: float | None
    val_loss: float | None
    seconds: float


@dataclass
class RunResult:
    """One optimizer's run. ``params``: its full Keras config. ``status``: ``"completed"``,
    ``"stopped"`` (cancelled), ``"failed"`` (see ``error``) or ``"diverged"`` (loss non-finite
    or above :data:`DIVERGED_LOSS`). ``history``: per-epoch finite floats (an epoch with a
    non-finite value is dropped; ``val_*`` empty without a validation split).
    ``test_accuracy``: completed runs only. ``seconds_per_epoch``: mean over the complete
    epochs, validation included. ``optimizer_state_bytes``: per-weight optimizer state after
    training (SGD 0, Adam 2 x 4 x n_params); scalars (iteration counter, learning rate) are
    not counted. ``n_params``: the model's trainable parameters (101,770)."""

    optimizer_id: str
    params: dict[str, Any]
    status: str = "completed"
    history: dict[str, list[float]] = field(
        default_factory=lambda: {key: [] for key in HISTORY_KEYS})
    test_accuracy: float | None = None
    seconds_per_epoch: float | None = None
    optimizer_state_bytes: int = 0
    n_params: int = 0
    error: str | None = None


class Reporter(Protocol):
    """What :func:`train` calls, in its own thread, with plain values.

    ``dataset_loaded(info)`` once (``info.n_train`` counts the samples used, after ``limit``);
    then per optimizer ``run_started(index, optimizer_id, epochs, batches_per_epoch)``,
    ``batch_finished(index, epoch, batch, accuracy, loss)`` (0-based epoch and batch; running
    means over the epoch so far; throttled to at most :data:`BATCH_REPORTS_PER_SECOND` calls
    a second), ``epoch_finished(index, log)`` per :class:`EpochLog` and
    ``run_finished(index, result)`` with its :class:`RunResult`. An exception raised by a
    reporter method fails that run.
    """

    def dataset_loaded(self, info: DatasetInfo) -> None: ...
    def run_started(self, index: int, optimizer_id: str, epochs: int,
                    batches_per_epoch: int) -> None: ...
    def batch_finished(self, index: int, epoch: int, batch: int, accuracy: float,
                       loss: float) -> None: ...
    def epoch_finished(self, index: int, log: EpochLog) -> None: ...
    def run_finished(self, index: int, result: RunResult) -> None: ...


class NullReporter:
    """A :class:`Reporter` that ignores everything; subclass it and override what you need."""

    def dataset_loaded(self, info: DatasetInfo) -> None:
        """The data is ready."""

    def run_started(self, index: int, optimizer_id: str, epochs: int,
                    batches_per_epoch: int) -> None:
        """Run ``index`` starts."""

    def batch_finished(self, index: int, epoch: int, batch: int, accuracy: float,
                       loss: float) -> None:
        """A batch ended (throttled)."""

    def epoch_finished(self, index: int, log: EpochLog) -> None:
        """An epoch ended."""

    def run_finished(self, index: int, result: RunResult) -> None:
        """Run ``index`` ended."""


def configure_threads(cores_for_gui: int = 1) -> None:
    """Leave ``cores_for_gui`` cores to the GUI: TensorFlow's intra-op threads are
    ``max(1, os.cpu_count() - cores_for_gui)``, inter-op 1. Takes effect before TensorFlow's
    first operation; later calls are ignored, so it is safe before every session."""
    tf = tensorflow_loader.load()

    intra = max(1, (os.cpu_count() or 1) - max(0, cores_for_gui))
    for setter, count in ((tf.config.threading.set_intra_op_parallelism_threads, intra),
                          (tf.config.threading.set_inter_op_parallelism_threads, 1)):
        try:
            setter(count)
        except RuntimeError:  # "cannot be modified after initialization"
            pass


def build_model(seed: int, optimizer: Any = None) -> Any:
    """The lesson's MLP: 28x28 -> Flatten -> Dense(128, relu) -> Dense(10, softmax).

    ``keras.utils.set_random_seed(seed)`` first (same seed, same initial weights); compiled
    with ``optimizer`` (Keras's, a registry :class:`~engine.optimizers.Optimizer`, or None for
    the registry's SGD), sparse categorical cross-entropy and the ``accuracy`` metric.
    """
    tensorflow_loader.load()
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    if optimizer is None:
        optimizer = optimizers.get("sgd")
    if isinstance(optimizer, optimizers.Optimizer):
        optimizer = optimizer.to_keras()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def optimizer_state_bytes(keras_optimizer: Any) -> int:
    """Bytes held by a built Keras optimizer's per-weight variables (scalars not counted)."""
    total = 0
    for variable in keras_optimizer.variables:
        shape = tuple(int(n) for n in variable.shape)
        if shape:
            total += math.prod(shape) * np.dtype(str(variable.dtype)).itemsize
    return total


def train(
    config: TrainConfig,
    reporter: Reporter | None = None,
    cancel: threading.Event | None = None,
    dataset: Dataset | None = None,
) -> list[RunResult]:
    """Train the model once per optimizer of ``config``; fair, cancellable, reported.

    Every run starts from the same initial weights (built once with ``config.seed``) and
    sees the same batches in the same order (the seed is set again before each ``fit``,
    which reshuffles every epoch). Inputs are scaled to [0, 1] float32.

    Parameters
    ----------
    config
        What to train; validated first (errors as in :meth:`TrainConfig.validate`).
    reporter
        Receives progress (see :class:`Reporter`); None for none.
    cancel
        When set, the current run stops after its batch (status ``"stopped"``, partial
        history kept) and no further optimizer runs.
    dataset
        Data to use instead of resolving ``config.dataset`` (which may raise
        :class:`~engine.mnist.datasets.DatasetError`).

    Returns
    -------
    list of RunResult
        One per optimizer that ran, in order; a run that raises is ``"failed"`` and the
        next one still runs.
    """
    config.validate()
    chosen = config.resolved_optimizers()
    reporter = reporter if reporter is not None else NullReporter()
    data = dataset if dataset is not None else datasets.resolve(config.dataset, cancel=cancel)
    data = datasets.first_training_samples(data, config.limit)
    batches = math.ceil(fit_samples(data.info.n_train, config.validation_split)
                        / config.batch_size)
    reporter.dataset_loaded(data.info)
    results: list[RunResult] = []
    if cancel is not None and cancel.is_set():
        return results
    x_train = data.x_train.astype(np.float32)
    x_train /= 255  # in place: no second float copy of the full MNIST
    x_test = data.x_test.astype(np.float32)
    x_test /= 255
    initial_weights = build_model(config.seed).get_weights()
    for index, (optimizer, schedule) in enumerate(zip(chosen, config.schedules(), strict=True)):
        if cancel is not None and cancel.is_set():
            break
        reporter.run_started(index, optimizer.id, config.epochs, batches)
        monitor = _RunMonitor(index, reporter, cancel, batches)
        result = _run(config, optimizer, schedule, initial_weights, (x_train, data.y_train),
                      (x_test, data.y_test), monitor)
        results.append(result)
        reporter.run_finished(index, result)
        if result.status == "stopped":
            break
    return results


def fit_samples(n_samples: int, validation_split: float) -> int:
    """How many samples ``keras.Model.fit(validation_split=...)`` trains on (Keras's rule)."""
    if validation_split == 0:
        return n_samples
    split_at = math.floor(n_samples * (1.0 - validation_split))
    if split_at in (0, n_samples):
        raise ConfigError("validation_split", f"{validation_split:g} of {n_samples} samples "
                          "leaves no training or no validation samples")
    return split_at


def _run(config: TrainConfig, optimizer: optimizers.Optimizer, schedule: Schedule | None,
         initial_weights: list, train_data: tuple, test_data: tuple,
         monitor: _RunMonitor) -> RunResult:
    tensorflow_loader.load()
    import keras

    result = RunResult(optimizer.id, dict(optimizer.config))
    if schedule is not None:
        result.params["schedule"] = schedules.describe(schedule)
    keras_optimizer = None
    try:
        keras_optimizer = optimizer.to_keras(None if schedule is None else schedule.to_keras())
        model = build_model(config.seed, keras_optimizer)
        model.set_weights(initial_weights)
        result.n_params = int(model.count_params())
        keras.utils.set_random_seed(config.seed)  # the same shuffling for every optimizer
        model.fit(*train_data, batch_size=config.batch_size, epochs=config.epochs,
                  validation_split=config.validation_split, shuffle=True, verbose=0,
                  callbacks=[_keras_callback(monitor)])
        result.status = monitor.status()
        cancelled = monitor.cancel is not None and monitor.cancel.is_set()
        if result.status == "completed" and not cancelled:
            scores = model.evaluate(*test_data, batch_size=TEST_BATCH_SIZE, verbose=0,
                                    return_dict=True)
            accuracy = float(scores["accuracy"])
            result.test_accuracy = accuracy if math.isfinite(accuracy) else None
    except Exception as error:  # noqa: BLE001 - one failing optimizer must not end the session
        result.status = "failed"
        result.error = str(error) or type(error).__name__
    if keras_optimizer is not None:
        result.optimizer_state_bytes = optimizer_state_bytes(keras_optimizer)
    result.history = monitor.history
    if monitor.epoch_seconds:
        result.seconds_per_epoch = float(np.mean(monitor.epoch_seconds))
    return result


class _RunMonitor:
    """The callback's logic, without Keras: timing, throttling, cancel and divergence."""

    def __init__(self, index: int, reporter: Reporter, cancel: threading.Event | None,
                 batches_per_epoch: int, clock: Callable[[], float] = time.monotonic):
        self.index = index
        self.reporter = reporter
        self.cancel = cancel
        self.batches_per_epoch = batches_per_epoch
        self.clock = clock
        self.interval = 1.0 / BATCH_REPORTS_PER_SECOND
        self.last_report = -math.inf
        self.epoch = self.batches_done = 0
        self.epoch_started = clock()
        self.epoch_seconds: list[float] = []
        self.history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
        self.stopped = self.diverged = False

    def status(self) -> str:
        return "diverged" if self.diverged else "stopped" if self.stopped else "completed"

    def train_began(self, model: Any) -> None:
        """Called with the model before the first batch (a hook for tests)."""

    def epoch_began(self, epoch: int) -> None:
        self.epoch = epoch
        self.batches_done = 0
        self.epoch_started = self.clock()

    def batch_ended(self, batch: int, logs: Mapping[str, Any]) -> bool:
        """Report (throttled); True when training must stop."""
        self.batches_done = batch + 1
        loss = float(logs.get("loss", math.nan))
        accuracy = float(logs.get("accuracy", math.nan))
        if not (math.isfinite(loss) and math.isfinite(accuracy)) or loss > DIVERGED_LOSS:
            self.diverged = True
            return True
        if self.cancel is not None and self.cancel.is_set():
            self.stopped = True
            return True
        now = self.clock()
        if now - self.last_report >= self.interval:
            self.last_report = now
            self.reporter.batch_finished(self.index, self.epoch, batch, accuracy, loss)
        return False

    def epoch_ended(self, epoch: int, logs: Mapping[str, Any]) -> bool:
        """Record and report the epoch if all its values are finite; True to stop."""
        seconds = self.clock() - self.epoch_started
        values = {key: float(logs[key]) for key in HISTORY_KEYS if key in logs}
        if not all(math.isfinite(value) for value in values.values()):
            self.diverged = True
            return True
        for key, value in values.items():
            self.history[key].append(value)
        if self.batches_done == self.batches_per_epoch and not (self.stopped or self.diverged):
            self.epoch_seconds.append(seconds)
        self.reporter.epoch_finished(self.index, EpochLog(
            epoch, values.get("accuracy", math.nan), values.get("loss", math.nan),
            values.get("val_accuracy"), values.get("val_loss"), seconds))
        return self.stopped or self.diverged


def _keras_callback(monitor: _RunMonitor) -> Any:
    tensorflow_loader.load()
    import keras

    class ProgressCallback(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            monitor.train_began(self.model)

        def on_epoch_begin(self, epoch, logs=None):
            monitor.epoch_began(epoch)

        def on_train_batch_end(self, batch, logs=None):
            if monitor.batch_ended(batch, logs or {}):
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if monitor.epoch_ended(epoch, logs or {}):
                self.model.stop_training = True

    return ProgressCallback()


def _check_int(param: Any, value: Any) -> None:
    """``value`` is a whole number (not a float) in ``param``'s range, or None if optional."""
    if value is None and param.optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(param.name, f"must be a whole number, got {describe_value(value)}")
    param.check_json(int(value), param.name)
