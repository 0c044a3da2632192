"""The PolynomialDecay and CosineDecayRestarts schedules wherever a schedule goes: the race,
both kinds of map, scenario files, the schedule editor and MNIST training.

Their values against Keras are in ``tests/test_schedules.py``; here each place that takes a
schedule is checked to run with exactly those values.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import optimizers
from engine.files import scenario
from engine.landscape import maps, simulate, surfaces
from engine.landscape.race import Race, Racer
from engine.optimizers.schedules import (
    CosineDecayRestarts,
    ExponentialDecay,
    PolynomialDecay,
    values,
)
from engine.params import HyperParamError

NEW = [PolynomialDecay(0.02, 40, 0.001, 2.0, cycle=True), CosineDecayRestarts(0.03, 25, 1.5, 0.8)]


@pytest.mark.parametrize("schedule", NEW, ids=repr)
def test_a_racer_runs_the_schedule_step_for_step(schedule):
    surface = surfaces.get("ravine")
    race = Race(surface, surface.start, budget=150)
    racer = Racer("m", "momentum", {"learning_rate": 0.5}, schedule=schedule)
    race.set_racer(racer)
    race.ensure(150)
    optimizer = optimizers.get("momentum", learning_rate_schedule=schedule)
    x, state = np.array([surface.start]), optimizer.init(np.array([surface.start]))
    for _ in range(150):  # by hand: the rate at iteration k is schedule(k)
        x, state = optimizer.update(surface.grad(x), state, x)
    np.testing.assert_array_equal(race.tracks["m"].points(150)[-1], x[0])
    np.testing.assert_array_equal(racer.learning_rates(150), values(schedule, 150))
    assert schedule.id.replace("_", " ") in racer.label()


@pytest.mark.parametrize("schedule", NEW, ids=repr)
def test_every_start_map_cell_is_the_single_run_with_the_schedule(schedule):
    surface = surfaces.get("himmelblau")
    optimizer = optimizers.get("adam", learning_rate_schedule=schedule)
    result = maps.start_map(surface, optimizer, grid=4, steps=120)
    for row, col in ((0, 0), (1, 2), (3, 3)):
        start = (result.xs[col], result.ys[row])
        single = simulate.run(surface, optimizer, start, 120, keep_path=False)
        assert result.final_loss[row, col] == single.final_loss[0]
        assert result.status[row, col] == single.status[0]


# Every kind: a compiled map once dropped the schedule of any hyperparameter map.
@pytest.mark.parametrize("schedule", [*NEW, ExponentialDecay(0.02, 10, 0.9)], ids=repr)
def test_every_hyper_map_cell_is_the_single_run_with_the_schedule(schedule):
    surface = surfaces.get("ravine")
    x = maps.Axis("momentum", 0.5, 0.9, 3)
    y = maps.Axis("clipnorm", 0.5, 5.0, 2)
    result = maps.hyper_map(surface, "momentum", x, y, surface.start, steps=100,
                            learning_rate_schedule=schedule)
    assert result.schedule == schedule
    for row in range(2):
        for col in range(3):
            optimizer = optimizers.get("momentum", learning_rate_schedule=schedule,
                                       momentum=float(result.xs[col]),
                                       clipnorm=float(result.ys[row]))
            single = simulate.run(surface, optimizer, surface.start, 100, keep_path=False)
            assert result.final_loss[row, col] == single.final_loss[0]


def test_a_schedule_cannot_share_a_map_with_a_learning_rate_axis():
    x = maps.Axis("learning_rate", 0.01, 0.1, 2, log=True)
    y = maps.Axis("momentum", 0.5, 0.9, 2)
    with pytest.raises(HyperParamError, match="learning_rate: is set by the schedule"):
        maps.hyper_map(surfaces.get("ravine"), "momentum", x, y, (1.0, 1.0), steps=5,
                       learning_rate_schedule=NEW[0])


def test_scenario_files_keep_both_schedules_under_kerass_names():
    racers = [Racer("sgd-1", "sgd", schedule=NEW[0]), Racer("adam-2", "adam", schedule=NEW[1])]
    written = scenario.dumps(scenario.Scenario(racers=tuple(racers)))
    entries = json.loads(written)["landscape"]["racers"]
    assert entries[0]["schedule"] == {"id": "polynomial_decay", "params": {
        "initial_learning_rate": 0.02, "decay_steps": 40, "end_learning_rate": 0.001,
        "power": 2.0, "cycle": True}}
    assert entries[1]["schedule"]["params"] == {
        "initial_learning_rate": 0.03, "first_decay_steps": 25, "t_mul": 1.5, "m_mul": 0.8,
        "alpha": 0.0}
    read = scenario.loads(written)
    assert [r.schedule for r in read.racers] == NEW
    bad = written.replace('"t_mul": 1.5', '"t_mul": 0.5')
    with pytest.raises(scenario.ScenarioError,
                       match=r"landscape\.racers\[1\]\.schedule\.params\.t_mul: must be in"):
        scenario.loads(bad)


@pytest.mark.gui
@pytest.mark.parametrize("schedule", NEW, ids=repr)
def test_the_schedule_editor_builds_their_fields_and_round_trips(qtbot, schedule):
    from gui.widgets.schedule_editor import ScheduleEditor

    editor = ScheduleEditor()
    qtbot.addWidget(editor)
    assert editor.combo.findData(schedule.id) >= 0
    editor.combo.setCurrentIndex(editor.combo.findData(schedule.id))
    assert list(editor._editors) == [p.name for p in type(schedule).params]
    emitted = []
    editor.schedule_changed.connect(emitted.append)
    for name, value in schedule.config().items():
        field = editor._editors[name]
        if isinstance(value, bool):
            field.setChecked(value)
        else:  # as a user types it
            field.lineEdit().setText(str(value))
            field.editingFinished.emit()
    assert emitted[-1] == schedule and editor.schedule == schedule
    editor.set_state(schedule, 0.01, 300)  # shown again from the racer: the same values

    def shown(field):
        return field.isChecked() if hasattr(field, "isChecked") else field.value()

    assert {n: shown(e) for n, e in editor._editors.items()} == schedule.config()
    _x, y = editor.curve.getData()
    np.testing.assert_array_equal(y, values(schedule, 300))


@pytest.mark.keras
def test_mnist_training_steps_the_keras_optimizer_with_both_schedules(monkeypatch):
    from engine.mnist import training
    from engine.mnist.training import TrainConfig, TrainEntry

    seen = []
    real = training.optimizer_state_bytes

    def record(keras_optimizer):
        seen.append((int(keras_optimizer.iterations), float(keras_optimizer.learning_rate)))
        return real(keras_optimizer)

    monkeypatch.setattr(training, "optimizer_state_bytes", record)
    poly, restarts = PolynomialDecay(0.1, 3, 0.01, cycle=True), CosineDecayRestarts(0.1, 3)
    config = TrainConfig(optimizers=(TrainEntry("sgd", learning_rate=poly),
                                     TrainEntry("sgd", learning_rate=restarts)),
                         epochs=1, limit=300, dataset="bundled")
    results = training.train(config)
    assert [r.status for r in results] == ["completed", "completed"]
    # 8 batches: Keras's learning rate afterwards is the schedule at iteration 8, as here.
    assert seen == [(8, poly(8)), (8, restarts(8))]
