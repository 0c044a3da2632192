"""The lockstep race: every optimizer trains together, batch by batch, on the same batches.

Each optimizer has its own Keras model (the same initial weights) compiled with the real
Keras optimizer; every batch is cut once and each model takes one Keras ``train_step`` on it
(the very step ``keras.Model.fit`` takes, in a ``tf.function``), so the live curves grow side
by side as in the landscape race. Batches are drawn per epoch from a permutation seeded by
``config.seed``, and the last ``validation_split`` of the samples is held out, as ``fit``
does. Each run keeps its own status: a diverged or failed run leaves the race, the others go
on; a cancel stops them all after the batch. Seconds per epoch are each model's own (its
steps and its validation, timed one by one), not the shared wall clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine import optimizers
from engine.mnist import training
from engine.mnist.config import TrainConfig, fit_samples
from engine.mnist.snapshots import SnapshotPlan, Trajectory
from engine.optimizers import schedules, tensorflow_loader


class _Racer:
    """One optimizer in the race: its model, step function, monitor and result."""

    def __init__(self, index: int, optimizer: optimizers.Optimizer, schedule: Any,
                 monitor: training._RunMonitor) -> None:
        self.index = index
        self.optimizer = optimizer
        self.monitor = monitor
        self.result = training.RunResult(optimizer.id, dict(optimizer.config))
        if schedule is not None:
            self.result.params["schedule"] = schedules.describe(schedule)
        self.schedule = schedule
        self.model: Any = None
        self.keras_optimizer: Any = None
        self.step: Any = None
        self.seconds = 0.0  # this epoch's own time
        self.logs: dict[str, float] = {}

    def fail(self, error: Exception) -> None:
        self.result.status = "failed"
        self.result.error = str(error) or type(error).__name__


def train_together(config: TrainConfig, chosen: Sequence[optimizers.Optimizer],
                   reporter: training.Reporter, cancel: threading.Event | None,
                   initial_weights: list, batches: int, plan: SnapshotPlan | None,
                   train_data: tuple[np.ndarray, np.ndarray],
                   test_data: tuple[np.ndarray, np.ndarray]) -> list[training.RunResult]:
    """Train every optimizer of ``config`` in lockstep (called by :func:`training.train`,
    which has validated the config, loaded the data and built the initial weights).

    Returns one :class:`~engine.mnist.training.RunResult` per optimizer, in order.
    """
    tf = tensorflow_loader.load()

    x_all, y_all = train_data
    split_at = fit_samples(len(x_all), config.validation_split)
    x_train, y_train = x_all[:split_at], y_all[:split_at]
    x_val, y_val = x_all[split_at:], y_all[split_at:]
    racers = []
    for index, (optimizer, schedule) in enumerate(zip(chosen, config.schedules(), strict=True)):
        trajectory = None if plan is None else Trajectory(plan)
        monitor = training._RunMonitor(index, reporter, cancel, batches, trajectory=trajectory)
        racer = _Racer(index, optimizer, schedule, monitor)
        racers.append(racer)
        try:
            reporter.run_started(index, optimizer.id, config.epochs, batches)
            racer.keras_optimizer = optimizer.to_keras(
                None if schedule is None else schedule.to_keras())
            racer.model = training.build_model(config.seed, racer.keras_optimizer)
            racer.model.set_weights(initial_weights)
            racer.result.n_params = int(racer.model.count_params())
            racer.step = _step_function(tf, racer.model, index, x_train, y_train)
            monitor.train_began(racer.model)
            monitor.record(racer.model)
        except Exception as error:  # noqa: BLE001 - one failing optimizer must not end the race
            racer.fail(error)
    active = [r for r in racers if r.result.status != "failed"]
    for racer in racers:
        if racer not in active:
            _finish(racer, reporter, None)
    order = np.random.default_rng(config.seed)
    interval = 1.0 / training.BATCH_REPORTS_PER_SECOND
    last_report = -math.inf
    for epoch in range(config.epochs):
        if not active:
            break
        for racer in active:
            racer.monitor.epoch_began(epoch)
            racer.model.reset_metrics()
            racer.seconds = 0.0
        permutation = order.permutation(split_at)
        for batch in range(batches):
            chosen_rows = permutation[batch * config.batch_size:(batch + 1) * config.batch_size]
            data = (tf.constant(x_train[chosen_rows]), tf.constant(y_train[chosen_rows]))
            # At most BATCH_REPORTS_PER_SECOND rounds of reports, all racers in each: the
            # clock restarts once every racer has reported.
            report = time.monotonic() - last_report >= interval
            leaving = []
            for racer in active:
                if not _step(racer, batch, data, report):
                    leaving.append(racer)
            if report:
                last_report = time.monotonic()
            for racer in leaving:
                active.remove(racer)
                _end_epoch(racer, epoch, (x_val, y_val))
                _finish(racer, reporter, test_data)
            if cancel is not None and cancel.is_set() and active:
                for racer in active:  # every racer stops after this same batch
                    racer.monitor.stopped = True
                    _end_epoch(racer, epoch, (x_val, y_val))
                    _finish(racer, reporter, test_data)
                active = []
            if not active:
                break
        for racer in list(active):
            if not _end_epoch(racer, epoch, (x_val, y_val)):
                active.remove(racer)
                _finish(racer, reporter, test_data)
    for racer in active:
        _finish(racer, reporter, test_data)
    return [racer.result for racer in racers]


def _step_function(tf: Any, model: Any, index: int, x: np.ndarray, y: np.ndarray) -> Any:
    """Keras's train step of ``model`` (the step ``fit`` takes) as a ``tf.function`` traced
    once: any batch size, and a code object named for the racer's place. TensorFlow counts
    retracing per code object; one shared by every racer would be "retraced" by each new
    model and draw its "excessive retracing" warning at five optimizers."""

    def one_step(data: Any) -> Any:
        return model.train_step(data)

    one_step.__code__ = one_step.__code__.replace(co_name=f"lockstep_train_step_{index}")
    signature = ((tf.TensorSpec((None, *x.shape[1:]), tf.as_dtype(x.dtype)),
                  tf.TensorSpec((None,), tf.as_dtype(y.dtype))),)
    return tf.function(one_step, input_signature=signature)


def scores(model: Any, x: np.ndarray, y: np.ndarray, block: int = 4096) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)``, as ``model.evaluate`` computes
    them (the loss from the logits), run eagerly: nothing to trace for each new model."""
    tensorflow_loader.load()
    import keras

    loss = correct = 0.0
    for start in range(0, len(x), block):
        labels = y[start:start + block]
        probabilities = model(x[start:start + block], training=False)
        loss += float(keras.ops.sum(
            keras.losses.sparse_categorical_crossentropy(labels, probabilities)))
        correct += float(np.sum(np.argmax(keras.ops.convert_to_numpy(probabilities), -1)
                                == labels))
    return {"loss": loss / len(x), "accuracy": correct / len(x)}


def _step(racer: _Racer, batch: int, data: tuple, report: bool) -> bool:
    """One Keras train step of ``racer`` on ``data``; False when it leaves the race."""
    started = time.monotonic()
    try:
        logs = racer.step(data)
        racer.logs = {key: float(value) for key, value in logs.items()}
    except Exception as error:  # noqa: BLE001
        racer.fail(error)
        return False
    racer.seconds += time.monotonic() - started
    try:
        if racer.monitor.batch_ended(batch, racer.logs, report=report):
            return racer.monitor.stopped  # a cancelled racer stops with the others
        racer.monitor.record(racer.model)
    except Exception as error:  # noqa: BLE001 - a reporter that raises fails its run
        racer.fail(error)
        return False
    return True


def _end_epoch(racer: _Racer, epoch: int, validation: tuple) -> bool:
    """Validate and report the epoch (also a partial one); False when the racer stops."""
    if racer.result.status == "failed":
        return False
    logs = dict(racer.logs)
    started = time.monotonic()
    try:
        if len(validation[0]):
            logs.update({f"val_{key}": value
                         for key, value in scores(racer.model, *validation).items()})
        racer.seconds += time.monotonic() - started
        stop = racer.monitor.epoch_ended(epoch, logs, seconds=racer.seconds)
    except Exception as error:  # noqa: BLE001
        racer.fail(error)
        return False
    return not stop


def _finish(racer: _Racer, reporter: training.Reporter, test_data: tuple | None) -> None:
    """Complete ``racer``'s result (test accuracy when it completed) and report it."""
    result, monitor = racer.result, racer.monitor
    if result.status != "failed":
        result.status = monitor.status()
        if result.status == "completed" and test_data is not None:
            try:
                accuracy = scores(racer.model, *test_data)["accuracy"]
                result.test_accuracy = accuracy if math.isfinite(accuracy) else None
            except Exception as error:  # noqa: BLE001
                racer.fail(error)
    if racer.keras_optimizer is not None:
        result.optimizer_state_bytes = training.optimizer_state_bytes(racer.keras_optimizer)
    if racer.model is not None and result.status != "failed":
        monitor.record_final(racer.model)
    result.trajectory = monitor.trajectory
    result.history = monitor.history
    if monitor.epoch_seconds:
        result.seconds_per_epoch = float(np.mean(monitor.epoch_seconds))
    try:
        reporter.run_finished(racer.index, result)
    except Exception as error:  # noqa: BLE001
        racer.fail(error)
