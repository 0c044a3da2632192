"""Heavy-ball momentum on a quadratic ravine: maps and measured rates agree with theory.

For f = ½(u² + κ v²) (curvatures 1 and κ), Polyak's optimum is α* = (2 / (1 + √κ))²,
β* = ((√κ − 1) / (√κ + 1))², with contraction rate √β* per step (Polyak 1964; Goh, "Why
Momentum Really Works", Distill 2017). Keras's SGD with momentum is exactly this heavy ball
(``v ← β v − α g; w ← w + v``). These tests failed while "converged" meant the first step
inside the tolerance: fly-throughs made the fastest cell sit at about 0.6 α*.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import maps, simulate, surfaces

RAVINES = [(10.0, 0.0), (50.0, 0.0), (100.0, 30.0), (400.0, -60.0)]
START = (-9.0, 3.0)


def _theory(kappa: float) -> tuple[float, float, float]:
    root = math.sqrt(kappa)
    return (2 / (1 + root)) ** 2, ((root - 1) / (root + 1)) ** 2, (root - 1) / (root + 1)


def _grid(kappa: float, count: int) -> tuple[maps.Axis, maps.Axis]:
    alpha, beta, _ = _theory(kappa)
    return (maps.Axis("learning_rate", alpha / 2, alpha * 2, count, log=True),
            maps.Axis("momentum", beta - 0.2, min(0.99, beta + 0.2), count))


def _optimum_cell(result: maps.HyperMap, kappa: float) -> tuple[int, int]:
    alpha, beta, _ = _theory(kappa)
    return (int(np.argmin(np.abs(np.log(result.xs / alpha)))),
            int(np.argmin(np.abs(result.ys - beta))))


@pytest.mark.parametrize("kappa, angle", RAVINES)
def test_the_fastest_cell_of_a_learning_rate_momentum_map_is_polyaks_optimum(kappa, angle):
    surface = surfaces.get("ravine", condition_number=kappa, angle=angle)
    x, y = _grid(kappa, 21)
    result = maps.hyper_map(surface, "momentum", x, y, START, steps=3000,
                            tolerances=simulate.Tolerances(x_tol=1e-8))
    steps = np.where(result.status == simulate.CONVERGED, result.steps_to_converge, 10**9)
    row, col = np.unravel_index(np.argmin(steps), steps.shape)
    best_col, best_row = _optimum_cell(result, kappa)
    assert abs(col - best_col) <= 1 and abs(row - best_row) <= 1, (
        f"fastest at lr {result.xs[col]:.4g}, momentum {result.ys[row]:.4g}; "
        f"theory {_theory(kappa)[:2]}")


@pytest.mark.parametrize("kappa, angle", RAVINES)
def test_the_lowest_loss_after_a_fixed_budget_is_at_polyaks_optimum(kappa, angle):
    surface = surfaces.get("ravine", condition_number=kappa, angle=angle)
    _, _, rate = _theory(kappa)
    budget = round(-40 / math.log10(rate))  # the optimum gains 40 decades: no underflow
    x, y = _grid(kappa, 41)
    result = maps.hyper_map(surface, "momentum", x, y, START, steps=budget)
    row, col = np.unravel_index(np.argmin(result.final_loss), result.final_loss.shape)
    best_col, best_row = _optimum_cell(result, kappa)
    assert abs(col - best_col) <= 1 and abs(row - best_row) <= 1


def _measured_rate(kappa: float, angle: float, **settings: float) -> float:
    """Distance to the minimum shrinks by this factor per step, late in the run."""
    surface = surfaces.get("ravine", condition_number=kappa, angle=angle)
    result = simulate.run(surface, optimizers.get("sgd", **settings), START, 600)
    distance = np.linalg.norm(result.path(0), axis=1)
    return float((distance[500] / distance[300]) ** (1 / 200))


@pytest.mark.parametrize("kappa, angle", RAVINES)
def test_the_measured_contraction_rate_matches_theory(kappa, angle):
    alpha, beta, rate = _theory(kappa)
    measured = _measured_rate(kappa, angle, learning_rate=alpha, momentum=beta)
    assert measured == pytest.approx(rate, rel=0.03)
    # Underdamped momentum contracts at √β; plain SGD at its best rate at (κ − 1)/(κ + 1).
    assert _measured_rate(kappa, angle, learning_rate=alpha, momentum=0.95) == pytest.approx(
        math.sqrt(0.95), rel=0.03)
    sgd = _measured_rate(kappa, angle, learning_rate=2 / (1 + kappa))
    assert sgd == pytest.approx((kappa - 1) / (kappa + 1), rel=0.03)


@pytest.mark.parametrize(("surface_id", "params", "start"), [
    ("ravine", {"condition_number": 10.0, "angle": 20.0}, (-9.0, 3.0)),
    ("booth", {}, (-8.0, 6.0)),
    ("expr:2*x**2 + 3*x*y + 5*y**2 - x", {}, (-2.0, 2.0)),  # a custom formula: symbolic H
])
def test_the_stability_boundary_splits_a_brute_force_map(surface_id, params, start):
    """Theory (engine.landscape.theory) against every cell of a learning_rate × momentum map:
    cells inside 0 < α·λmax < 2(1 + β) whose theoretical rate reaches the tolerance within the
    budget converge; cells well outside diverge."""
    from engine.landscape import theory

    surface = surfaces.get(surface_id, **params)
    q, _ = theory.quadratic(surface)
    best = theory.optima(q)
    steps = 600
    x = maps.Axis("learning_rate", best.gd_learning_rate / 30, best.gd_learning_rate * 6, 30,
                  log=True)
    y = maps.Axis("momentum", 0.0, 0.95, 20)
    result = maps.hyper_map(surface, "momentum", x, y, start, steps=steps)
    alpha, beta = np.meshgrid(result.xs, result.ys)
    limit = theory.stability_limit(q, beta)
    # The distance the theory predicts after the budget, with a factor 100 for the transient;
    # it must be inside both convergence tests (near a known minimum, or a tiny gradient).
    distance = np.hypot(*(np.array(start) - q.minimum))
    tolerance = min(1e-3, 1e-5 / q.curvatures[1])
    with np.errstate(over="ignore"):
        reaches = theory.rate(q, alpha, beta) ** steps * distance * 100 < tolerance
    inside, outside = reaches & (alpha < 0.9 * limit), alpha > 1.1 * limit
    assert inside.sum() > 250 and outside.sum() > 100  # both regions well sampled
    assert np.all(result.status[inside] == simulate.CONVERGED)
    assert np.all(result.status[outside] == simulate.DIVERGED)
    # And on the line itself the iteration is neutrally stable: rate 1.
    assert theory.rate(q, theory.stability_limit(q, 0.5), 0.5) == pytest.approx(1.0)
