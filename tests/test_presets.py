"""The teaching presets: each loads and round-trips, and its live measure makes its point."""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace

import numpy as np
import pytest

from engine import optimizers
from engine.files.presets import list_presets, load_preset, preset_paths, presets_dir
from engine.files.scenario import ScenarioError, dumps, load, loads
from engine.landscape import measures, surfaces
from engine.landscape.measures import fmt, measure, measure_training
from engine.landscape.race import Race, Racer
from engine.mnist.training import RunResult


def outcome(name: str, **changes):
    """The preset's scenario (with ``changes``), its race run to the end and its measure."""
    scenario = load_preset(name)
    if changes:
        scenario = replace(scenario, **changes)
    race = scenario.race()
    result = measure(scenario.measure, race, scenario.steps)
    return race, result, [row.value for row in result.rows]


# ------------------------------------------------------------------------------- catalog


def test_at_least_eight_presets_in_teaching_order():
    listed = list_presets()
    assert len(listed) >= 8
    names = [path.name for path, _ in listed]
    assert names == sorted(names)
    assert [name[:3] for name in names[:8]] == [f"{i:02d}-" for i in range(1, 9)]
    for path, title in listed:
        scenario = load(path)
        assert title == scenario.title and title != "Untitled"
        assert len(scenario.explanation) > 300, path.name  # one real paragraph
        assert scenario.measure is not None, path.name


@pytest.mark.parametrize("path", preset_paths(), ids=lambda p: p.stem)
def test_every_preset_round_trips(path):
    scenario = load(path)
    assert loads(dumps(scenario)) == scenario


def test_presets_load_by_name_with_or_without_the_suffix():
    assert load_preset("01-ravine-momentum") == load_preset("01-ravine-momentum.json")


@pytest.mark.parametrize("name", ["99-missing", "../engine/scenario", ""])
def test_an_unknown_preset_name_is_refused(name):
    with pytest.raises(ScenarioError, match=r"no preset named .*available: 01-ravine-momentum"):
        load_preset(name)


def test_a_frozen_app_reads_its_own_copy(monkeypatch, tmp_path):
    folder = tmp_path / "resources" / "presets"
    folder.mkdir(parents=True)
    shutil.copy(preset_paths()[0], folder / "01-only.json")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert presets_dir() == folder
    assert [path.name for path, _ in list_presets()] == ["01-only.json"]
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "elsewhere"))
    assert len(list_presets()) >= 8  # no copy there: the source tree's folder


# ------------------------------------------------------------------------- each lesson


def test_01_momentum_converges_many_times_faster_than_sgd_in_the_ravine():
    race, result, (sgd, momentum) = outcome("01-ravine-momentum")
    assert sgd == 1008 and momentum == 170  # deterministic; the claim is the ratio
    assert momentum < sgd / 5
    assert result.headline == "Momentum converged in 5.9× fewer steps than SGD"
    zigzag = np.sign(race.tracks["sgd-1"].points(20)[:, 1])
    assert np.count_nonzero(zigzag[1:] != zigzag[:-1]) >= 15  # SGD bounces across the valley


def test_02_noise_keeps_sgd_wandering_and_a_decaying_rate_calms_it():
    race, result, (exact, noisy, decayed) = outcome("02-sgd-noise")
    assert exact < 1e-40  # converged, at rest
    assert result.rows[0].text == "spread of last 50 steps: < 1e-9 (at rest)"
    assert noisy > 0.1
    assert decayed < noisy / 10
    assert race.tracks["sgd-2"].status_at(1000)[0] == "not_converged"  # never settles
    assert "spread 0.14 over the last 50 steps" in result.headline


def test_03_rmsprop_scales_each_parameter_where_sgd_cannot():
    race, result, (sgd, sgd_faster, rmsprop) = outcome("03-rmsprop-scaling")
    assert (sgd, rmsprop) == (2731, 310)
    assert sgd_faster is None and race.tracks["sgd-2"].status_at(3000)[0] == "diverged"
    assert rmsprop < sgd / 5
    # Named by what it measures: neither converges by the table's rule in 3000 steps.
    assert result.headline == ("RMSProp got within 0.05 of (0, 0) in 8.8× fewer steps than "
                               "SGD · lr 0.0019")
    # The explanation's aside: turned 45°, the valley no longer follows one parameter.
    _, _, (sgd, _, rmsprop) = outcome("03-rmsprop-scaling",
                                      surface_params={"condition_number": 1000, "angle": 45})
    assert rmsprop > sgd / 2


def test_04_rmsprop_oscillates_with_a_too_large_learning_rate():
    race, result, (small, large) = outcome("04-rmsprop-learning-rate")
    losses = {key: t.stepper.losses[901:1001, 0] for key, t in race.tracks.items()}
    steady, jumping = losses["rmsprop-1"], losses["rmsprop-2"]
    assert small == steady.max() < 1e-3 and steady.max() < 1.1 * steady.min()
    assert large == jumping.max() > 10 and jumping.max() > 1000 * jumping.min()
    assert all(t.status_at(1000)[0] == "not_converged" for t in race.tracks.values())
    assert result.headline.startswith("RMSProp · lr 0.5: loss still reaches 23.2")


def test_05_adam_settles_where_rmsprop_rattles():
    race, result, (momentum, rmsprop, adam) = outcome("05-adam-momentum-rmsprop")
    assert momentum == 1677 and adam == 1476
    assert rmsprop is None
    rattling = race.tracks["rmsprop-2"]
    assert rattling.losses(2500)[-100:].min() > 1e-3  # never settles...
    assert np.hypot(*(rattling.points(2500)[-1] - 1.0)) > 0.4  # ...stalled halfway down
    assert result.headline == ("Adam: converged at step 1476; "
                               "RMSProp: not converged in 2500 steps")
    # The explanation: "at 0.003 it flies off".
    scenario = load_preset("05-adam-momentum-rmsprop")
    faster = scenario.race()
    faster.set_racer(Racer("momentum-1", "momentum", {"learning_rate": 0.003}))
    faster.ensure(100)
    assert faster.tracks["momentum-1"].status_at(100)[0] == "diverged"


def test_06_plain_sgd_lingers_at_the_saddle():
    _, result, (sgd, momentum, rmsprop, adam) = outcome("06-saddle-point")
    assert (sgd, momentum, rmsprop, adam) == (259, 55, 0, 0)
    assert momentum < sgd / 3
    assert result.headline == ("SGD spent 259 steps within 0.5 of the saddle point; "
                               "RMSProp 0")


def test_07_one_start_three_different_minima():
    _, result, found = outcome("07-four-minima")
    # RMSProp (constant rate 0.05) keeps swaying within 0.1 of minimum #3 and never settles:
    # the table says "not converged", so the measure counts it for no minimum and says so.
    assert found == [4, 1, None, 3]
    assert result.headline == ("3 different minima from one start: SGD → #4, Momentum → #1, "
                               "Adam → #3")
    assert result.rows[1].text == "reached minimum #1 (3, 2)"
    assert result.rows[2].text == "ended near minimum #3 (-3.78, -3.28), not converged"


def test_08_mnist_preset_trains_sgd_rmsprop_and_adam_for_five_epochs():
    scenario = load_preset("08-mnist-optimizers")
    assert scenario.tab == "training" and scenario.measure == {"kind": "val_accuracy"}
    config = scenario.training
    assert [entry.optimizer_id for entry in config.optimizers] == ["sgd", "rmsprop", "adam"]
    assert all(entry.keras_settings() == {} for entry in config.optimizers)  # Keras's defaults
    assert (config.epochs, config.batch_size, config.validation_split) == (5, 32, 0.2)


@pytest.mark.slow
@pytest.mark.keras
def test_08_adaptive_optimizers_beat_sgd_on_the_bundled_digits():
    from engine.mnist import datasets, training

    scenario = load_preset("08-mnist-optimizers")
    results = training.train(scenario.training, dataset=datasets.bundled())
    sgd, rmsprop, adam = measure_training(scenario.measure, results).rows
    assert all(r.status == "completed" for r in results)
    assert rmsprop.value > sgd.value + 0.03 and adam.value > sgd.value + 0.03


def test_09_the_network_landscape_preset_races_three_optimizers_in_lockstep():
    scenario = load_preset("09-network-landscape")
    assert scenario.title == "Training is a path on a landscape too"
    assert scenario.tab == "training" and scenario.measure == {"kind": "distance_from_start"}
    config = scenario.training
    assert [e.optimizer_id for e in config.optimizers] == ["sgd", "momentum", "adam"]
    assert config.lockstep and config.epochs == 5
    assert "random-walk control" in scenario.explanation  # the warning comes with the picture


@pytest.mark.slow
@pytest.mark.keras
def test_09_adaptive_and_momentum_steps_carry_the_weights_farther():
    from engine.mnist import datasets, training

    scenario = load_preset("09-network-landscape")
    results = training.train(scenario.training, dataset=datasets.bundled(),
                             record_snapshots=True)
    result = measure_training(scenario.measure, results)
    sgd, momentum, adam = (row.value for row in result.rows)
    # Measured: SGD 2.60, Momentum 5.77, Adam 10.12 (bundled data, seed 0).
    assert sgd < momentum < adam and adam > 3 * sgd
    assert result.headline.startswith("Adam's weights moved farthest: ")


def test_distance_from_start_reads_the_snapshots():
    from engine.mnist import snapshots

    def run(optimizer_id, end, status="completed"):
        trajectory = snapshots.Trajectory(snapshots.plan(2, 1, n_params=3))
        trajectory.record(0, [np.zeros(3)])
        trajectory.record(2, [np.array(end, dtype=float)])
        result = RunResult(optimizer_id, {}, status=status)
        result.trajectory = trajectory
        return result

    spec = {"kind": "distance_from_start"}
    result = measure_training(spec, [run("sgd", [3, 4, 0]), run("adam", [0, 0, 10], "stopped"),
                                     RunResult("rmsprop", {})])
    assert [row.value for row in result.rows] == [5.0, 10.0, None]
    assert result.rows[1].text == "moved 10.00 from the initial weights (stopped)"
    assert result.rows[2].text == "no weights recorded"
    assert result.headline == ("Adam's weights moved farthest: 10.00 from the start, vs 5.00 "
                               "for SGD (2.0× farther)")
    assert measure_training(spec, []).headline == "The paths are drawn when training ends"


# ------------------------------------------------------------------------------ measures


def bowl_race(*settings, budget=300) -> Race:
    surface = surfaces.get("bowl")
    race = Race(surface, surface.start, budget)
    for i, (optimizer_id, kwargs) in enumerate(settings):
        race.set_racer(Racer(f"{optimizer_id}-{i + 1}", optimizer_id, kwargs))
    return race


def test_numbers_are_short():
    assert [fmt(v) for v in (0, 137, 0.031, 1.2e-5, 12345.0, -2.5e-7)] == \
        ["0", "137", "0.031", "1.2e-5", "1.2e4", "-2.5e-7"]


def test_the_measure_follows_playback_and_computes_what_it_needs():
    race = bowl_race(("sgd", {"learning_rate": 0.1}), ("sgd", {"learning_rate": 2.0}))
    spec = {"kind": "steps_to_converge"}
    early = measure(spec, race, 5)  # nothing computed before: measure asks the race
    assert [r.text for r in early.rows] == ["not converged yet", "not converged yet"]
    assert early.headline == "No optimizer has converged yet"
    late = measure(spec, race, 10_000)  # clamped to the budget
    assert late.rows[0].text == f"converged at step {int(late.rows[0].value)}"
    assert late.rows[1].value is None and late.rows[1].text.startswith("diverged at step ")
    assert late.headline.startswith("SGD · lr 0.1 converged first, at step ")


def test_a_racer_that_never_arrives_says_so_at_the_end():
    race = bowl_race(("sgd", {"learning_rate": 1e-4}), ("sgd", {"learning_rate": 0.1}),
                     budget=50)
    result = measure({"kind": "steps_to_converge"}, race, 50)
    assert result.rows[0].text == "not converged in 50 steps"
    assert result.headline == (f"SGD · lr 0.1: converged at step {int(result.rows[1].value)}"
                               "; SGD · lr 1e-4: not converged in 50 steps")


def test_final_loss_and_minimum_reached_texts():
    race = bowl_race(("sgd", {"learning_rate": 0.1}), ("adam", {"learning_rate": 0.1}))
    running = measure({"kind": "final_loss"}, race, 3)
    assert all(r.text.startswith("loss ") for r in running.rows)
    done = measure({"kind": "final_loss"}, race, 300)
    assert done.rows[0].text.startswith("final loss ")
    reached = measure({"kind": "minimum_reached"}, race, 300)
    assert reached.headline == "All at minimum #1 (0, 0)"
    assert measure({"kind": "minimum_reached"}, race, 1).rows[0].text == "on its way"


def test_a_training_kind_is_not_a_landscape_measure():
    with pytest.raises(ValueError, match="not a landscape measure"):
        measure({"kind": "val_accuracy"}, bowl_race(("sgd", {})), 1)
    with pytest.raises(ValueError, match="not a training measure"):
        measure_training({"kind": "final_loss"}, [])


def run_result(optimizer_id, val_accuracy, status="completed", **settings):
    params = dict(optimizers.get(optimizer_id, **settings).config)
    history = {"accuracy": list(val_accuracy), "val_accuracy": list(val_accuracy),
               "loss": [], "val_loss": []}
    return RunResult(optimizer_id, params, status=status, history=history)


def test_training_measure_reads_the_last_validation_accuracy():
    result = measure_training({"kind": "val_accuracy"}, [
        run_result("sgd", [0.7, 0.85]),
        run_result("adam", [0.9, 0.931], learning_rate=0.01),
        run_result("rmsprop", [], status="failed"),
    ])
    sgd, adam, rmsprop = result.rows
    assert (sgd.value, sgd.text) == (0.85, "val accuracy 85.0% after 2 epochs")
    assert adam.label == "Adam · lr 0.01"
    assert (rmsprop.value, rmsprop.text) == (None, "failed")
    assert result.headline == ("Adam · lr 0.01: val accuracy 93.1% after 2 epochs, "
                               "vs 85.0% for SGD")


def test_every_measure_kind_has_parameters_described():
    assert set(measures.PARAMETERS) == set(measures.KINDS)
    assert all(p.doc for params in measures.PARAMETERS.values() for p in params)
