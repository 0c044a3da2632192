"""MNIST training: fair runs, reports, cancel, divergence and failures (tiny real Keras runs)."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest

from engine.cli.train import run_json
from engine.mnist import training
from engine.mnist.training import (
    ConfigError,
    EpochLog,
    NullReporter,
    RunResult,
    TrainConfig,
    TrainEntry,
)
from engine.optimizers import UnknownOptimizerError
from engine.params import HyperParamError


class Recorder(NullReporter):
    """Records every report as ``(name, args)``, with the batch reports' arrival times."""

    def __init__(self):
        self.calls = []
        self.batch_times = []

    def dataset_loaded(self, info):
        self.calls.append(("dataset_loaded", info))

    def run_started(self, index, optimizer_id, epochs, batches_per_epoch):
        self.calls.append(("run_started", (index, optimizer_id, epochs, batches_per_epoch)))

    def batch_finished(self, index, epoch, batch, accuracy, loss):
        import time

        self.batch_times.append(time.monotonic())
        assert all(type(v) is float for v in (accuracy, loss))
        self.calls.append(("batch_finished", (index, epoch, batch)))

    def epoch_finished(self, index, log):
        self.calls.append(("epoch_finished", (index, log)))

    def run_finished(self, index, result):
        self.calls.append(("run_finished", (index, result)))

    def named(self, name):
        return [args for call, args in self.calls if call == name]


def _finite_history(result: RunResult) -> bool:
    return all(type(v) is float and math.isfinite(v)
               for values in result.history.values() for v in values)


# --- configuration (no TensorFlow) ------------------------------------------------------------
@pytest.mark.parametrize(("changes", "field"), [
    ({"epochs": 0}, "epochs"), ({"epochs": 1001}, "epochs"), ({"epochs": 2.0}, "epochs"),
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 8193}, "batch_size"),
    ({"validation_split": 1.0}, "validation_split"),
    ({"validation_split": -0.1}, "validation_split"),
    ({"validation_split": float("nan")}, "validation_split"),
    ({"seed": -1}, "seed"), ({"seed": True}, "seed"), ({"limit": 9}, "limit"),
    ({"optimizers": ()}, "optimizers"), ({"optimizers": ("adam",)}, "optimizers"),
    ({"dataset": ""}, "dataset"),
])
def test_config_refusals_name_the_field(changes, field):
    with pytest.raises(ConfigError) as caught:
        TrainConfig(**changes).validate()
    assert caught.value.field == field and str(caught.value).startswith(f"{field}: ")


def test_config_passes_registry_errors_through():
    TrainConfig().validate()
    TrainConfig(optimizers=(TrainEntry("adam", {}, "0.01"),), limit=10).validate()
    with pytest.raises(UnknownOptimizerError, match="unknown optimizer 'adamx'"):
        TrainConfig(optimizers=(TrainEntry("adamx"),)).validate()
    with pytest.raises(HyperParamError, match="learning_rate"):
        TrainConfig(optimizers=(TrainEntry("sgd", learning_rate=-1),)).validate()


def test_a_train_entry_takes_a_rate_or_a_schedule_as_one_argument():
    from engine.optimizers import schedules

    entry = TrainEntry("sgd", {"momentum": 0.9, "learning_rate": 0.1})
    assert entry.learning_rate == 0.1 and entry.settings == {"momentum": 0.9}
    assert entry.schedule is None
    assert entry.keras_settings() == {"momentum": 0.9, "learning_rate": 0.1}
    assert entry.optimizer().config["learning_rate"] == 0.1
    with pytest.raises(TypeError):
        entry.settings["momentum"] = 0.5  # frozen, as the entry itself
    decay = schedules.schedule_from("exponential_decay", initial_learning_rate=0.1)
    scheduled = TrainEntry("sgd", {"momentum": 0.9}, decay)
    assert scheduled.schedule is decay and scheduled.keras_settings() == {"momentum": 0.9}
    assert TrainEntry("adam").optimizer().config["learning_rate"] == 0.001  # Keras's default
    with pytest.raises(ConfigError, match="give the learning rate once"):
        TrainEntry("sgd", {"learning_rate": 0.1}, decay)
    with pytest.raises(ConfigError, match="optimizers: expected TrainEntry"):
        TrainConfig(optimizers=(("sgd", {}),)).validate()  # the untyped tuples of old
    with pytest.raises(ConfigError, match="learning_rate must be a number or a schedule"):
        TrainConfig(optimizers=(TrainEntry("sgd", learning_rate=True),)).validate()
    assert TrainConfig(optimizers=(scheduled, entry)).schedules() == [decay, None]


def test_fit_samples_follows_keras_and_refuses_an_empty_split():
    assert training.fit_samples(300, 0.2) == 240
    assert training.fit_samples(300, 0.0) == 300
    with pytest.raises(ConfigError, match="validation_split"):
        training.fit_samples(10, 0.95)


def test_monitor_throttles_batch_reports_by_time():
    now = [0.0]
    recorder = Recorder()
    monitor = training._RunMonitor(0, recorder, None, 1000, clock=lambda: now[0])
    monitor.epoch_began(0)
    for batch in range(1000):  # 1,000 batches in one simulated second
        now[0] += 0.001
        assert not monitor.batch_ended(batch, {"loss": 2.0, "accuracy": 0.5})
    assert 19 <= len(recorder.named("batch_finished")) <= 21


def test_monitor_drops_non_finite_epochs_and_stops():
    recorder = Recorder()
    monitor = training._RunMonitor(0, recorder, None, 2)
    monitor.epoch_began(0)
    monitor.batch_ended(0, {"loss": 2.0, "accuracy": 0.5})
    monitor.batch_ended(1, {"loss": 1.9, "accuracy": 0.6})
    logs = {"loss": 1.9, "accuracy": 0.6, "val_loss": 1.8, "val_accuracy": 0.7}
    assert not monitor.epoch_ended(0, logs)
    monitor.epoch_began(1)
    assert monitor.batch_ended(0, {"loss": math.nan, "accuracy": 0.1})  # stop at once
    assert monitor.epoch_ended(1, {**logs, "loss": math.nan})
    assert monitor.status() == "diverged"
    assert monitor.history == {"accuracy": [0.6], "val_accuracy": [0.7], "loss": [1.9],
                               "val_loss": [1.8]}
    assert len(recorder.named("epoch_finished")) == 1 and len(monitor.epoch_seconds) == 1


# --- real training (TensorFlow) -----------------------------------------------------------------
@pytest.mark.keras
@pytest.mark.parametrize("lockstep", [True, False], ids=["lockstep", "one-by-one"])
def test_every_optimizer_starts_from_the_same_weights_and_sees_the_same_batches(monkeypatch,
                                                                               lockstep):
    starts = []
    monkeypatch.setattr(training._RunMonitor, "train_began",
                        lambda self, model: starts.append(model.get_weights()))
    recorder = Recorder()
    config = TrainConfig(optimizers=(TrainEntry("sgd"), TrainEntry("sgd"), TrainEntry("adam")),
                         epochs=1, lockstep=lockstep,
                         limit=300, dataset="bundled", seed=3)
    sgd, sgd_again, adam = training.train(config, reporter=recorder)

    assert [r.status for r in (sgd, sgd_again, adam)] == ["completed"] * 3
    expected = training.build_model(3).get_weights()
    for weights in starts:
        assert all(np.array_equal(a, b) for a, b in zip(weights, expected, strict=True))
    # Same start, same batch order: the same optimizer gives the very same history.
    assert sgd.history == sgd_again.history and sgd.history != adam.history
    for result in (sgd, adam):
        assert _finite_history(result) and all(len(v) == 1 for v in result.history.values())
        assert 0.0 <= result.test_accuracy <= 1.0 and result.seconds_per_epoch > 0
        assert result.n_params == 784 * 128 + 128 + 128 * 10 + 10 and result.error is None
    assert sgd.optimizer_state_bytes == 0
    assert adam.optimizer_state_bytes == 2 * 4 * adam.n_params  # m and v, float32
    assert adam.params["learning_rate"] == 0.001 and adam.params["beta_1"] == 0.9

    info = recorder.named("dataset_loaded")[0]
    assert info.n_train == 300 and info.source == "bundled" and "first 300" in info.note
    assert recorder.named("run_started") == [(0, "sgd", 1, 8), (1, "sgd", 1, 8),
                                             (2, "adam", 1, 8)]
    index, log = recorder.named("epoch_finished")[2]
    assert index == 2 and isinstance(log, EpochLog) and log.epoch == 0
    assert log.val_accuracy == adam.history["val_accuracy"][0]
    assert [name for name, _ in recorder.calls][-1] == "run_finished"
    json.dumps([run_json(r) for r in (sgd, adam)], allow_nan=False)


@pytest.mark.keras
def test_cancel_stops_after_the_batch_and_runs_no_further_optimizer():
    cancel = threading.Event()

    class CancelAtFirstBatch(Recorder):
        def batch_finished(self, *args):
            super().batch_finished(*args)
            cancel.set()

    recorder = CancelAtFirstBatch()
    config = TrainConfig(optimizers=(TrainEntry("sgd"), TrainEntry("adam")), epochs=3, batch_size=4,
                         limit=400, dataset="bundled", lockstep=False)
    results = training.train(config, reporter=recorder, cancel=cancel)

    assert len(results) == 1 and results[0].status == "stopped"
    assert results[0].test_accuracy is None and results[0].seconds_per_epoch is None
    assert [args[0] for args in recorder.named("run_started")] == [0]
    assert len(recorder.named("batch_finished")) == 1
    assert all(len(v) <= 1 for v in results[0].history.values())  # the partial epoch
    assert _finite_history(results[0])


@pytest.mark.keras
def test_batch_reports_stay_under_twenty_a_second_and_no_split_means_no_val():
    recorder = Recorder()
    config = TrainConfig(optimizers=(TrainEntry("sgd"),), epochs=1, batch_size=1, limit=600,
                         validation_split=0.0, dataset="bundled")
    (result,) = training.train(config, reporter=recorder)

    times = recorder.batch_times
    assert result.status == "completed" and len(times) >= 2
    assert min(np.diff(times)) >= 1 / training.BATCH_REPORTS_PER_SECOND - 1e-3
    assert len(times) <= (times[-1] - times[0]) * training.BATCH_REPORTS_PER_SECOND + 1
    assert recorder.named("run_started") == [(0, "sgd", 1, 600)]
    _, log = recorder.named("epoch_finished")[0]
    assert log.val_accuracy is None and log.val_loss is None
    assert result.history["val_accuracy"] == [] and len(result.history["accuracy"]) == 1


@pytest.mark.keras
@pytest.mark.parametrize("lockstep", [True, False], ids=["lockstep", "one-by-one"])
def test_a_diverging_run_is_flagged_and_a_failing_run_does_not_end_the_session(lockstep):
    class FailAdamEpochs(Recorder):
        def epoch_finished(self, index, log):
            if index == 1:
                raise RuntimeError("reporter broke")
            super().epoch_finished(index, log)

    config = TrainConfig(optimizers=(TrainEntry("sgd", learning_rate=100.0), TrainEntry("adam"),
                                     TrainEntry("sgd")), epochs=2, limit=300, dataset="bundled",
                         lockstep=lockstep)
    diverged, failed, completed = training.train(config, reporter=FailAdamEpochs())

    assert diverged.status == "diverged" and diverged.test_accuracy is None
    assert _finite_history(diverged) and len(diverged.history["loss"]) <= 1
    assert failed.status == "failed" and failed.error == "reporter broke"
    assert completed.status == "completed"
    text = json.dumps([run_json(r) for r in (diverged, failed, completed)], allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.keras
def test_configure_threads_is_idempotent_after_tensorflow_started():
    training.configure_threads(cores_for_gui=1)
    training.build_model(0)
    training.configure_threads(cores_for_gui=1)  # ignored, no error


@pytest.mark.keras
def test_a_schedule_drives_the_keras_learning_rate_batch_by_batch(monkeypatch):
    from engine.optimizers import schedules

    seen = []
    real = training.optimizer_state_bytes

    def record(keras_optimizer):
        seen.append((int(keras_optimizer.iterations), float(keras_optimizer.learning_rate)))
        return real(keras_optimizer)

    monkeypatch.setattr(training, "optimizer_state_bytes", record)
    decay = schedules.schedule_from("exponential_decay", initial_learning_rate=0.1,
                                    decay_steps=2, decay_rate=0.5)
    config = TrainConfig(optimizers=(TrainEntry("sgd", learning_rate=decay), TrainEntry("sgd")),
                         epochs=1, limit=300,
                         dataset="bundled")
    assert config.schedules() == [decay, None]
    scheduled, constant = training.train(config)
    assert seen[0] == (8, pytest.approx(decay(8)))  # 0.1 · 0.5^(8/2), as Keras stepped it
    assert seen[1] == (8, pytest.approx(0.01))
    assert scheduled.params["schedule"] == schedules.describe(decay)
    assert "schedule" not in constant.params
    assert scheduled.history != constant.history
    with pytest.raises(HyperParamError, match="learning_rate"):
        TrainConfig(optimizers=(TrainEntry("sgd", learning_rate="exponential"),)).validate()


@pytest.mark.keras
def test_in_lockstep_a_cancel_stops_every_optimizer_after_the_same_batch():
    cancel = threading.Event()

    class CancelAtSecondRound(Recorder):
        def batch_finished(self, index, epoch, batch, accuracy, loss):
            super().batch_finished(index, epoch, batch, accuracy, loss)
            if index == 1:
                cancel.set()  # Adam reported: SGD has already taken this batch too

    recorder = CancelAtSecondRound()
    config = TrainConfig(optimizers=(TrainEntry("sgd"), TrainEntry("adam")), epochs=3,
                         batch_size=4, limit=400, dataset="bundled")
    results = training.train(config, reporter=recorder, cancel=cancel, record_snapshots=True)

    assert [r.status for r in results] == ["stopped", "stopped"]
    assert [args[0] for args in recorder.named("run_started")] == [0, 1]  # together
    assert [args[0] for args in recorder.named("batch_finished")] == [0, 1]
    assert [args[0] for args in recorder.named("run_finished")] == [0, 1]
    for result in results:
        assert result.test_accuracy is None and result.seconds_per_epoch is None
        assert _finite_history(result) and all(len(v) <= 1 for v in result.history.values())
        # The initial weights and those after the one batch both took (SGD took it too).
        assert result.trajectory.batches.tolist() == [0, 1]


@pytest.mark.keras
def test_lockstep_races_report_side_by_side_and_time_each_optimizer_on_its_own():
    recorder = Recorder()
    config = TrainConfig(optimizers=(TrainEntry("sgd"), TrainEntry("rmsprop"), TrainEntry("sgd")),
                         epochs=2, limit=300, dataset="bundled", seed=5)
    sgd, rmsprop, sgd_again = training.train(config, reporter=recorder, record_snapshots=True)

    # Rounds of reports: every optimizer reports the same batches, in order.
    batches = recorder.named("batch_finished")
    assert [index for index, _, _ in batches] == [0, 1, 2] * (len(batches) // 3)
    assert [b[1:] for b in batches[0::3]] == [b[1:] for b in batches[2::3]]
    assert [index for index, _ in recorder.named("epoch_finished")] == [0, 1, 2, 0, 1, 2]
    # The same optimizer on the same batches from the same weights: the very same run.
    assert sgd.history == sgd_again.history and sgd.history != rmsprop.history
    assert np.array_equal(sgd.trajectory.weights, sgd_again.trajectory.weights)
    assert sgd.trajectory.batches[-1] == 2 * 8  # 240 training samples in batches of 32
    for result in (sgd, rmsprop):
        assert result.status == "completed" and 0 < result.test_accuracy <= 1
        assert result.seconds_per_epoch > 0 and len(result.history["val_loss"]) == 2
    assert rmsprop.optimizer_state_bytes == 4 * rmsprop.n_params  # one number per weight
