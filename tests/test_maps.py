"""Maps and sweeps: every cell is exactly its own scalar run, computed in one NumPy pass."""

from __future__ import annotations

import gc
import threading
import time
import tracemalloc

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import maps, simulate, surfaces
from engine.landscape.simulate import CONVERGED, DIVERGED, NOT_CONVERGED
from engine.optimizers import rules as update_rules
from engine.params import HyperParamError


def _single(surface, optimizer, start, steps):
    """The scalar reference: one start, one optimizer, summaries as the maps keep them."""
    result = simulate.run(surface, optimizer, np.array([start]), steps, keep_path=False)
    status = int(result.status[0])
    to_converge = int(result.stop_step[0]) if status == CONVERGED else -1
    return status, to_converge, float(result.final_loss[0]), int(result.minimum_index[0])


def _cell(result, row, col):
    return (int(result.status[row, col]), int(result.steps_to_converge[row, col]),
            float(result.final_loss[row, col]), int(result.minimum_index[row, col]))


def test_start_map_cells_are_single_trajectories():
    surface = surfaces.get("himmelblau")
    optimizer = optimizers.get("momentum", learning_rate=0.01)
    result = maps.start_map(surface, optimizer, grid=24, steps=100, domain=(-6, 6, -6, 6),
                            chunk_rows=5)
    assert result.status.shape == result.final_loss.shape == (24, 24)
    assert result.status.dtype == np.int8 and result.steps_to_converge.dtype == np.int64
    assert set(np.unique(result.status)) == {NOT_CONVERGED, CONVERGED, DIVERGED}
    assert np.all(np.isfinite(result.final_loss))
    assert result.xs[0] == -6 and result.xs[-1] == 6 and result.config["momentum"] == 0.9
    rng = np.random.default_rng(3)
    cells = [tuple(np.argwhere(result.status == s)[0]) for s in (NOT_CONVERGED, CONVERGED, DIVERGED)]
    cells += [tuple(c) for c in rng.integers(0, 24, size=(6, 2))]
    for row, col in cells:
        start = (result.xs[col], result.ys[row])
        assert _cell(result, row, col) == _single(surface, optimizer, start, 100)
    converged = result.status == CONVERGED
    assert np.all(result.steps_to_converge[converged] > 0)
    assert np.all(result.steps_to_converge[~converged] == -1)
    assert np.all(result.minimum_index[converged] >= 0)


HYPER_CASES = [
    ("adam", maps.Axis("learning_rate", 1e-3, 1.0, 5, True), maps.Axis("beta_1", 0.0, 0.99, 4)),
    ("sgd", maps.Axis("learning_rate", 1e-3, 0.05, 5, True), maps.Axis("momentum", 0.0, 0.9, 4)),
    ("nesterov", maps.Axis("learning_rate", 1e-3, 0.05, 4, True), maps.Axis("momentum", 0, 0.9, 3)),
    ("nadam", maps.Axis("beta_1", 0.0, 0.95, 4), maps.Axis("beta_2", 0.5, 0.999, 3)),
    ("rmsprop", maps.Axis("rho", 0.0, 0.95, 4), maps.Axis("momentum", 0.0, 0.9, 3)),
    ("adamax", maps.Axis("learning_rate", 1e-2, 1.0, 4, True), maps.Axis("beta_1", 0.0, 0.9, 3)),
    ("adagrad", maps.Axis("initial_accumulator_value", 0.0, 1.0, 3),
     maps.Axis("epsilon", 1e-7, 0.1, 3, True)),
    ("adadelta", maps.Axis("learning_rate", 0.1, 10.0, 3, True), maps.Axis("rho", 0.0, 0.95, 3)),
    ("adamw", maps.Axis("weight_decay", 0.0, 0.5, 3), maps.Axis("learning_rate", 1e-2, 0.3, 3)),
    ("lion", maps.Axis("beta_1", 0.1, 0.99, 3), maps.Axis("beta_2", 0.0, 0.99, 3)),
    ("adam", maps.Axis("clipnorm", 0.1, 10.0, 3, True), maps.Axis("epsilon", 1e-7, 0.5, 3, True)),
]


@pytest.mark.parametrize(("optimizer_id", "x", "y"), HYPER_CASES,
                         ids=[f"{c[0]}-{c[1].name}-{c[2].name}" for c in HYPER_CASES])
def test_hyper_map_cells_are_single_runs_with_scalar_settings(optimizer_id, x, y):
    surface, start, steps = surfaces.get("himmelblau"), (0.5, -0.5), 150
    base = {"learning_rate": 0.05} if "learning_rate" not in (x.name, y.name) else {}
    result = maps.hyper_map(surface, optimizer_id, x, y, start, steps=steps,
                            base_settings=base, chunk_rows=2)
    assert result.status.shape == (y.count, x.count) and np.all(np.isfinite(result.final_loss))
    np.testing.assert_array_equal(result.xs, x.values())
    for row in range(y.count):
        for col in range(x.count):
            scalar = optimizers.get(optimizer_id, **base, **{x.name: float(result.xs[col]),
                                                             y.name: float(result.ys[row])})
            assert _cell(result, row, col) == _single(surface, scalar, start, steps), (row, col)


def test_hyper_map_with_stopping_cells_keeps_the_rest_exact():
    # Cells converge at many different steps, so the runner compacts the batch many times.
    surface, start = surfaces.get("bowl"), (2.0, -1.0)
    x, y = maps.Axis("learning_rate", 1e-3, 0.9, 12, True), maps.Axis("momentum", 0.0, 0.95, 6)
    result = maps.hyper_map(surface, "momentum", x, y, start, steps=400)
    steps = result.steps_to_converge[result.status == CONVERGED]
    assert len(np.unique(steps)) > 20 and np.any(result.status == NOT_CONVERGED)
    for row, col in [(0, 0), (0, 11), (2, 5), (5, 3), (5, 11), (3, 8)]:
        scalar = optimizers.get("momentum", learning_rate=float(result.xs[col]),
                                momentum=float(result.ys[row]))
        assert _cell(result, row, col) == _single(surface, scalar, start, 400)


def test_batched_paths_equal_scalar_paths_bit_for_bit():
    surface, start = surfaces.get("rosenbrock"), (-1.5, 2.0)
    rates = np.array([1e-4, 3e-3, 0.02, 2.0])
    batched = maps.batched_optimizer("sgd", {"learning_rate": rates, "momentum": [0.0] * 4})
    result = simulate.run(surface, batched, np.tile(start, (4, 1)), 200, keep_path=True)
    assert result.status_name(3) == "diverged"
    for i, rate in enumerate(rates):
        single = simulate.run(surface, optimizers.get("sgd", learning_rate=rate), start, 200)
        np.testing.assert_array_equal(result.path(i), single.path(0))


def test_power_is_c_pow_for_every_element():
    bases = update_rules._cast(np.linspace(0.0, 0.9999, 997)[:, None])
    powers = update_rules._powers(bases)
    for k in (1, 2, 3, 17, 500, 4321):
        assert powers(k).tolist() == [[float(b) ** k] for b in bases[:, 0]]


def test_axes_are_checked_against_the_registry_naming_the_field():
    surface = surfaces.get("rosenbrock")
    lr = maps.Axis("learning_rate", 1e-3, 1.0, 3, True)
    with pytest.raises(HyperParamError, match="^beta_1: must be in"):
        maps.hyper_map(surface, "adam", lr, maps.Axis("beta_1", 0.5, 1.0, 3), (0, 0))
    with pytest.raises(HyperParamError, match="^amsgrad: is true or false"):
        maps.hyper_map(surface, "adam", lr, maps.Axis("amsgrad", 0, 1, 2), (0, 0))
    with pytest.raises(HyperParamError, match="^momentum: is not a hyperparameter of adam"):
        maps.hyper_map(surface, "adam", lr, maps.Axis("momentum", 0, 0.5, 2), (0, 0))
    with pytest.raises(HyperParamError, match="^learning_rate: the two axes"):
        maps.hyper_map(surface, "adam", lr, lr, (0, 0))
    with pytest.raises(HyperParamError, match="^clipvalue: only one of"):
        maps.hyper_map(surface, "adam", lr, maps.Axis("clipnorm", 1, 2, 2),
                       (0, 0), base_settings={"clipvalue": 1.0})
    with pytest.raises(ValueError, match="count"):
        maps.Axis("learning_rate", 1e-3, 1.0, 0)
    with pytest.raises(ValueError, match="low > 0"):
        maps.Axis("learning_rate", 0.0, 1.0, 3, log=True)
    with pytest.raises(ValueError, match="grid"):
        maps.start_map(surface, optimizers.get("adam"), grid=1)


def test_axis_values_hit_both_ends_exactly():
    axis = maps.Axis("learning_rate", 1e-4, 3.0, 7, log=True)
    values = axis.values()
    assert values[0] == 1e-4 and values[-1] == 3.0 and np.all(np.diff(np.log(values)) > 0)
    assert maps.Axis("beta_1", 0.2, 0.2, 1).values().tolist() == [0.2]


def test_cancel_raises_quickly_and_progress_reaches_one():
    surface, optimizer = surfaces.get("rosenbrock"), optimizers.get("adam")
    cancel = threading.Event()
    cancel.set()
    started = time.perf_counter()
    with pytest.raises(maps.MapCancelled):
        maps.start_map(surface, optimizer, grid=512, steps=10_000, cancel=cancel)
    assert time.perf_counter() - started < 0.5
    fractions = []
    maps.start_map(surface, optimizer, grid=20, steps=5, progress=fractions.append, chunk_rows=6)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) == 4
    # Cancelled from the progress callback (as a GUI thread would): stops at the next chunk.
    cancel = threading.Event()
    seen = []

    def report(fraction):
        seen.append(fraction)
        cancel.set()

    with pytest.raises(maps.MapCancelled):
        maps.hyper_map(surface, "adam", maps.Axis("learning_rate", 1e-3, 1, 8, True),
                       maps.Axis("beta_1", 0, 0.9, 8), (0, 0), steps=50, cancel=cancel,
                       progress=report, chunk_rows=2)
    assert seen == [0.25]
    with pytest.raises(maps.MapCancelled):
        maps.lr_sweep(surface, ["sgd", "adam"], (0, 0), steps=10, count=3, cancel=cancel)


def test_start_map_memory_does_not_grow_with_steps():
    surface, optimizer = surfaces.get("rosenbrock"), optimizers.get("adam")
    # Compiling (or loading) the kernel is once per process, not the map's memory; with the
    # tests' collection in the main thread only, its garbage would stay until the next check.
    maps.start_map(surface, optimizer, grid=32, steps=2)
    gc.collect()
    tracemalloc.start()
    try:
        maps.start_map(surface, optimizer, grid=32, steps=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # a (T+1, N, 2) path alone would be 16 MB


def _status(*names):
    return np.array([simulate.STATUS_NAMES.index(n) for n in names], dtype=np.int8)


def test_tuned_rate_follows_the_fair_rule():
    rates = np.array([0.001, 0.01, 0.1, 1.0])
    # Lowest final loss among the rates that did not diverge.
    status = _status("not_converged", "not_converged", "not_converged", "diverged")
    assert maps.tuned_rate(rates, status, [3.0, 1.0, 2.0, 0.0], [-1] * 4) == 0.01
    # Equal losses (within 1e-12 relative): fewest steps to converge, then the larger rate.
    status = _status("converged", "converged", "converged", "not_converged")
    assert maps.tuned_rate(rates, status, [1e-7, 3e-7, 2e-7, 5.0], [90, 40, 40, -1]) == 0.1
    same = 1.0 + 1e-13
    assert maps.tuned_rate(rates, _status(*["not_converged"] * 4), [1.0, same, 1.0, 2.0],
                           [-1] * 4) == 0.1
    # The best run converged: every converged rate ties with it; not converged never ties.
    status = _status("not_converged", "converged", "converged", "not_converged")
    assert maps.tuned_rate(rates, status, [1e-3, 1e-9, 1e-7, 5e-10], [-1, 80, 30, -1]) == 1.0
    assert maps.tuned_rate(rates, status, [1e-3, 1e-9, 1e-7, 2e-9], [-1, 80, 30, -1]) == 0.1
    assert maps.tuned_rate(rates, _status(*["diverged"] * 4), [1.0] * 4, [-1] * 4) is None


def test_sweep_reports_no_nan_and_matches_single_runs():
    surface, start = surfaces.get("rosenbrock"), (-1.5, 2.0)
    sweeps = maps.lr_sweep(surface, ["sgd", "adam"], start, steps=300, low=1e-4, high=100.0,
                           count=13, base_settings={"adam": {"beta_1": 0.8}})
    assert [s.optimizer_id for s in sweeps] == ["sgd", "adam"]
    sgd, adam = sweeps
    assert sgd.status[-1] == DIVERGED and adam.learning_rates[-1] == 100.0
    for sweep in sweeps:
        assert np.all(np.isfinite(sweep.final_loss)) and sweep.criterion == maps.CRITERION
        assert sweep.tuned_learning_rate in sweep.learning_rates
    for i in (0, 6, 9, 12):
        scalar = optimizers.get("adam", learning_rate=float(adam.learning_rates[i]), beta_1=0.8)
        status, to_converge, loss, _ = _single(surface, scalar, start, 300)
        assert (adam.status[i], adam.steps_to_converge[i], adam.final_loss[i]) == (
            status, to_converge, loss)
    every = maps.lr_sweep(surface, ["sgd"], start, steps=100, low=50.0, high=100.0, count=3)
    assert np.all(every[0].status == DIVERGED) and every[0].tuned_learning_rate is None
    assert np.all(np.isfinite(every[0].final_loss))
    with pytest.raises(HyperParamError, match="^learning_rate: must be in"):
        maps.lr_sweep(surface, ["sgd"], start, low=1.0, high=500.0)
    with pytest.raises(HyperParamError, match="^learning_rate: is given both"):
        maps.lr_sweep(surface, ["sgd"], start, base_settings={"sgd": {"learning_rate": 0.1}})


def test_a_cancelled_map_stops_within_a_run_not_after_it(monkeypatch):
    """The cancel flag was read only between chunks of 8,192 cells: a map of many steps ran
    on for minutes after "cancel". It is read every maps.CANCEL_POINT_STEPS point-steps."""
    surface, adam = surfaces.get("rosenbrock"), optimizers.get("adam")
    monkeypatch.setattr(maps, "CANCEL_POINT_STEPS", 256 * 10)  # 16² starts: 10 steps a piece
    cancel = threading.Event()
    calls = []
    original = simulate.Stepper.advance

    def advance(stepper, max_steps=None):
        calls.append(max_steps)
        if len(calls) == 3:
            cancel.set()  # the user cancels during the run
        return original(stepper, max_steps)

    monkeypatch.setattr(simulate.Stepper, "advance", advance)
    with pytest.raises(maps.MapCancelled):
        maps.start_map(surface, adam, grid=16, steps=1000, cancel=cancel, compiled=False)
    assert calls == [10, 10, 10]
