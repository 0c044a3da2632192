"""Every optimizer on every surface at learning rates from 1e-4 to 10: no NaN, no warning.

Divergence is a result, never an error: whatever the rate, ``simulate.run`` returns finite
paths, losses and gradient norms with consistent statuses; the CLI's trajectory JSON stays
strict; the maps report finite final losses. pytest turns any NumPy warning into an error.
"""

from __future__ import annotations

import io
import json
import math
import warnings

import numpy as np
import pytest

from engine import optimizers
from engine.cli.main import run_command
from engine.landscape import maps, simulate, surfaces
from engine.landscape.simulate import (
    CONVERGED,
    DIVERGED,
    ESCAPED,
    NOT_CONVERGED,
    Tolerances,
)

RATES = np.geomspace(1e-4, 10.0, 6)
SLOW_RATES = np.geomspace(1e-4, 10.0, 16)
STEPS, SLOW_STEPS = 200, 1000
# Starts as fractions of the default view; (0.5, 0.5) is the minimum of several surfaces.
RELATIVE_STARTS = np.array([[0.5, 0.5], [0.1, 0.9], [0.9, 0.15], [0.3, 0.7]])
OPTIMIZER_IDS = [spec.id for spec in optimizers.catalog()]
SURFACE_IDS = [surface.id for surface in surfaces.catalog()]
# Custom formulas that overflow, or are undefined on part of the view, inside the box.
HOSTILE_FORMULAS = ("exp(x**2 + y**2)", "log(x) + y**2", "1/(x**2 + y**2)", "x**y",
                    "sqrt(abs(x)) + tan(y)")


def _starts(surface: surfaces.Surface, relative: np.ndarray = RELATIVE_STARTS) -> np.ndarray:
    x0, x1, y0, y1 = surface.domain
    inside = np.column_stack([x0 + relative[:, 0] * (x1 - x0), y0 + relative[:, 1] * (y1 - y0)])
    return np.vstack([surface.start, inside])


def _check_result(surface: surfaces.Surface, result: simulate.RunResult, starts: np.ndarray,
                  steps: int, label: str, tol: Tolerances | None = None) -> None:
    """Everything ``run`` promises about a result with ``keep_path=True``."""
    tol = tol or Tolerances()
    n = len(starts)
    assert result.steps == steps, label
    assert result.paths.shape == (steps + 1, n, 2), label
    for name in ("paths", "losses", "grad_norms", "final_point", "final_loss"):
        assert np.all(np.isfinite(getattr(result, name))), f"{label}: non-finite {name}"
    assert set(np.unique(result.status)) <= {NOT_CONVERGED, CONVERGED, DIVERGED, ESCAPED}, label
    running = result.status == NOT_CONVERGED
    assert np.all(result.stop_step[running] == -1), label
    assert np.all((result.stop_step[~running] >= 0) & (result.stop_step[~running] <= steps)), label
    np.testing.assert_array_equal(result.paths[0], starts, err_msg=label)
    # Losses and gradient norms are those of the recorded points, rows after a stop included.
    np.testing.assert_allclose(result.losses, surface.value(result.paths), rtol=1e-12,
                               atol=0, err_msg=label)
    grads = surface.grad(result.paths)
    np.testing.assert_allclose(result.grad_norms, np.hypot(grads[..., 0], grads[..., 1]),
                               rtol=1e-12, atol=0, err_msg=label)
    np.testing.assert_allclose(result.final_loss, surface.value(result.final_point),
                               rtol=1e-12, atol=0, err_msg=label)
    bound = tol.bound_for(surface)
    for i in range(n):
        where = f"{label}, start {i} {starts[i].tolist()}"
        last = result.last_index(i)
        kept = result.path(i)
        assert len(kept) == last + 1, where
        # After the trajectory stopped, its rows repeat the stopping point.
        assert np.all(result.paths[last:, i] == result.paths[max(last, 0), i]), where
        if result.status[i] in (DIVERGED, ESCAPED):
            stop = int(result.stop_step[i])
            assert stop >= 1, f"{where}: a start inside the view stopped at step 0"
            np.testing.assert_array_equal(result.final_point[i], kept[-1], err_msg=where)
            assert np.all(np.abs(kept) <= bound), where
        elif result.status[i] == CONVERGED:
            point = result.final_point[i]
            np.testing.assert_array_equal(point, kept[-1], err_msg=where)
            near = [math.dist(point, m.point) <= tol.x_tol for m in surface.minima]
            stationary = math.hypot(*surface.grad(point)) <= tol.grad_tol
            assert any(near) or stationary, f"{where}: converged far from any minimum"
            assert (result.minimum_index[i] >= 0) == any(near), where
        else:
            assert last == steps and np.all(np.abs(kept) <= bound), where


def _sweep(surface: surfaces.Surface, optimizer_id: str, rates: np.ndarray, starts: np.ndarray,
           steps: int) -> list[int]:
    statuses = []
    for rate in rates:
        optimizer = optimizers.get(optimizer_id, learning_rate=float(rate))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # also outside pytest's own filter
            result = simulate.run(surface, optimizer, starts, steps)
        _check_result(surface, result, starts, steps, f"{optimizer_id} lr={rate:.3g} on "
                      f"{surface.id}")
        statuses.extend(result.status.tolist())
    return statuses


@pytest.mark.parametrize("surface_id", SURFACE_IDS)
def test_every_optimizer_and_rate_gives_finite_results(surface_id):
    surface = surfaces.get(surface_id)
    starts = _starts(surface)
    statuses = []
    for optimizer_id in OPTIMIZER_IDS:
        statuses += _sweep(surface, optimizer_id, RATES, starts, STEPS)
    # The sweep reaches both ends: SGD at lr=10 leaves every view but the plateau's (its
    # gradient is bounded by about 0.6).
    assert NOT_CONVERGED in statuses and (DIVERGED in statuses or surface_id == "plateau")


def test_sgd_at_the_largest_rate_diverges_on_the_classic_surfaces():
    for surface_id in ("rosenbrock", "beale", "goldstein_price", "himmelblau"):
        surface = surfaces.get(surface_id)
        result = simulate.run(surface, optimizers.get("sgd", learning_rate=10.0),
                              [surface.start], 50)
        assert result.status_name(0) == "diverged" and result.stop_step[0] >= 1, surface_id


@pytest.mark.parametrize("formula", HOSTILE_FORMULAS)
def test_custom_formulas_that_overflow_or_are_undefined_stay_finite(formula):
    surface = surfaces.from_expression(formula)
    starts = _starts(surface, np.vstack([RELATIVE_STARTS, [[0.7, 0.6], [0.95, 0.95], [0.6, 0.2]]]))
    starts = starts[np.isfinite(surface.value(starts)) & np.all(
        np.isfinite(surface.grad(starts)), axis=1)]
    assert len(starts) >= 3
    for optimizer_id in ("sgd", "momentum", "adam", "adagrad", "lion"):
        _sweep(surface, optimizer_id, RATES[::2], starts, 100)


def test_a_start_where_the_formula_is_undefined_is_undefined_without_nan():
    surface = surfaces.from_expression("log(x) + y**2")
    result = simulate.run(surface, optimizers.get("adam"), [(-1.0, 1.0), (1.0, 1.0)], 10)
    assert [result.status_name(0), int(result.stop_step[0])] == ["undefined", 0]
    assert len(result.path(0)) == 0 and len(result.path(1)) == 11
    for name in ("paths", "losses", "grad_norms", "final_point", "final_loss"):
        assert np.all(np.isfinite(getattr(result, name))), name


def _strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"non-strict JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _trajectory(*argv: str) -> dict:
    out = io.StringIO()
    assert run_command(["trajectory", *argv, "--json"], out) == 0
    data = _strict_json(out.getvalue())
    json.dumps(data, allow_nan=False)
    return data


@pytest.mark.parametrize("optimizer_id", OPTIMIZER_IDS)
def test_cli_trajectory_json_is_strict_when_the_run_diverges(optimizer_id):
    data = _trajectory("--surface", "rosenbrock", "--optimizer", optimizer_id,
                       "--set", "learning_rate=10", "--start=-1.5,2", "--steps", "300")
    assert data["status"] in ("diverged", "not_converged", "converged", "escaped")
    n = len(data["points"])
    assert n == len(data["losses"]) == len(data["grad_norms"])
    if data["status"] == "diverged":
        assert data["stop_step"] == n >= 1
        assert data["final_point"] == data["points"][-1]
    assert all(math.isfinite(v) for row in data["points"] for v in row)
    assert all(math.isfinite(v) for v in data["losses"] + data["grad_norms"])
    assert math.isfinite(data["final_loss"])


def test_cli_trajectory_sgd_at_rate_10_on_rosenbrock_diverges_with_strict_json():
    data = _trajectory("--surface", "rosenbrock", "--optimizer", "sgd",
                       "--set", "learning_rate=10", "--steps", "500")
    assert data["status"] == "diverged" and data["stop_step"] == len(data["points"])


@pytest.mark.parametrize("formula", HOSTILE_FORMULAS)
def test_cli_trajectory_on_overflowing_formulas_is_strict_json(formula):
    data = _trajectory("--surface", f"expr:{formula}", "--optimizer", "sgd",
                       "--set", "learning_rate=10", "--start=0.5,0.5", "--steps", "200")
    assert data["status"] in ("diverged", "not_converged", "converged", "escaped")
    assert math.isfinite(data["final_loss"])


def _check_map_arrays(status, steps_to_converge, final_loss, label):
    assert np.all(np.isfinite(final_loss)), f"{label}: non-finite final loss"
    assert set(np.unique(status)) <= {NOT_CONVERGED, CONVERGED, DIVERGED, ESCAPED}, label
    assert np.all((steps_to_converge >= 0) == (status == CONVERGED)), label


@pytest.mark.parametrize("surface_id", ["rosenbrock", "goldstein_price", "beale", "saddle",
                                        "monkey_saddle", "expr:exp(x**2 + y**2)"])
def test_start_maps_at_diverging_rates_have_finite_final_losses(surface_id):
    surface = surfaces.get(surface_id)
    for optimizer_id in ("sgd", "nesterov", "adam"):
        result = maps.start_map(surface, optimizers.get(optimizer_id, learning_rate=10.0),
                                grid=12, steps=60)
        _check_map_arrays(result.status, result.steps_to_converge, result.final_loss,
                          f"{optimizer_id} on {surface_id}")
        if optimizer_id == "sgd" and surface_id != "saddle":
            assert np.any(result.status == DIVERGED)


@pytest.mark.parametrize("surface_id", ["rosenbrock", "six_hump_camel", "plateau",
                                        "expr:log(x**2 + y**2)", "expr:exp(x*y)"])
def test_lr_sweeps_over_every_optimizer_have_finite_final_losses(surface_id):
    surface = surfaces.get(surface_id)
    sweeps = maps.lr_sweep(surface, OPTIMIZER_IDS, surface.start, steps=150, low=1e-4,
                           high=10.0, count=9)
    assert [s.optimizer_id for s in sweeps] == OPTIMIZER_IDS
    for sweep in sweeps:
        _check_map_arrays(sweep.status, sweep.steps_to_converge, sweep.final_loss,
                          sweep.optimizer_id)
        tuned = sweep.tuned_learning_rate
        assert tuned is None or (tuned in sweep.learning_rates
                                 and sweep.status[sweep.learning_rates == tuned][0] != DIVERGED)
        if tuned is None:
            assert np.all(sweep.status == DIVERGED)


def test_hyper_map_over_diverging_rates_and_momenta_has_finite_final_losses():
    result = maps.hyper_map(surfaces.get("rosenbrock"), "momentum",
                            maps.Axis("learning_rate", 1e-4, 10.0, 9, log=True),
                            maps.Axis("momentum", 0.0, 1.0, 5), (-1.5, 2.0), steps=150)
    _check_map_arrays(result.status, result.steps_to_converge, result.final_loss, "hyper map")
    assert np.any(result.status == DIVERGED)


# ------------------------------------------------------------------------------------ slow

SLOW_SURFACES = [*SURFACE_IDS, "rosenbrock:b=1000", "ravine:condition_number=10000,angle=30",
                 "rastrigin:amplitude=50", "ravine:condition_number=1,angle=-90"]


def _surface(text: str) -> surfaces.Surface:
    surface_id, _, params = text.partition(":")
    values = dict(item.split("=") for item in params.split(",")) if params else {}
    return surfaces.get(surface_id, **{k: float(v) for k, v in values.items()})


@pytest.mark.slow
@pytest.mark.parametrize("surface_text", SLOW_SURFACES)
def test_slow_wider_sweep_gives_finite_results(surface_text):
    surface = _surface(surface_text)
    relative = np.random.default_rng(20240607).uniform(0.02, 0.98, size=(11, 2))
    starts = _starts(surface, np.vstack([RELATIVE_STARTS, relative]))
    for optimizer_id in OPTIMIZER_IDS:
        _sweep(surface, optimizer_id, SLOW_RATES, starts, SLOW_STEPS)
