"""Theory for quadratic surfaces (engine.landscape.theory): curvatures, optima, rates.

The closed forms are checked against the engine's own runs: the measured contraction of the
distance to the minimum matches the theoretical rate for SGD, heavy-ball momentum and
Keras's Nesterov momentum; the lines on the learning_rate × momentum map are checked against
a brute-force map in ``tests/test_convergence_theory.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import simulate, surfaces, theory
from engine.landscape.race import Race, Racer
from engine.optimizers.schedules import ExponentialDecay


@pytest.mark.parametrize("angle", [0.0, 30.0, -75.0])
def test_the_ravines_curvatures_are_analytic_at_any_angle(angle):
    q, why = theory.quadratic(surfaces.get("ravine", condition_number=250.0, angle=angle))
    assert why == "" and q.curvatures == (1.0, 250.0) and q.condition_number == 250.0
    assert q.minimum == (0.0, 0.0) and "analytic" in q.source
    # The Hessian is the surface's: its gradient is H·w exactly (to rounding).
    w = np.array([[0.7, -1.3], [2.0, 0.5]])
    surface = surfaces.get("ravine", condition_number=250.0, angle=angle)
    np.testing.assert_allclose(surface.grad(w), w @ q.hessian.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("surface_id", "curvatures", "minimum", "source"), [
    ("bowl", (2.0, 2.0), (0.0, 0.0), "affine"),
    ("booth", (2.0, 18.0), (1.0, 3.0), "affine"),
    ("matyas", (0.04, 1.0), (0.0, 0.0), "affine"),
    ("expr:(x-1)**2 + 3*(y+2)**2", (2.0, 6.0), (1.0, -2.0), "second derivatives"),
    ("expr:2*x**2 + 3*x*y + 5*y**2 - x", (7 - math.sqrt(18), 7 + math.sqrt(18)),
     (10 / 31, -3 / 31), "second derivatives"),
])
def test_a_constant_hessian_is_found_with_its_curvatures_and_minimum(surface_id, curvatures,
                                                                     minimum, source):
    q, why = theory.quadratic(surfaces.get(surface_id))
    assert why == "" and source in q.source
    np.testing.assert_allclose(q.curvatures, curvatures, rtol=1e-9)
    np.testing.assert_allclose(q.minimum, minimum, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("surface_id", "words"), [
    ("rosenbrock", "not quadratic"), ("himmelblau", "not quadratic"),
    ("expr:x**2 + sin(y)", "not quadratic"), ("expr:x**4 + y**2", "not quadratic"),
    ("saddle", "no minimum"), ("expr:x**2", "no minimum"),
])
def test_the_theory_says_why_it_does_not_apply(surface_id, words):
    q, why = theory.quadratic(surfaces.get(surface_id))
    assert q is None and words in why


def test_the_optima_are_polyaks_and_gradient_descents():
    q, _ = theory.quadratic(surfaces.get("ravine", condition_number=100.0))
    best = theory.optima(q)
    assert best.gd_learning_rate == pytest.approx(2 / 101)
    assert best.gd_rate == pytest.approx(99 / 101)
    assert best.learning_rate == pytest.approx((2 / 11) ** 2)
    assert best.momentum == pytest.approx((9 / 11) ** 2) and best.rate == pytest.approx(9 / 11)
    assert theory.rate(q, best.learning_rate, best.momentum) == pytest.approx(9 / 11, rel=1e-6)
    assert theory.rate(q, best.gd_learning_rate) == pytest.approx(99 / 101)
    # Nearby settings are slower: the optimum is a minimum of the rate.
    for alpha, beta in ((1.1, 1.0), (0.9, 1.0), (1.0, 1.05), (1.0, 0.95)):
        assert theory.rate(q, best.learning_rate * alpha, best.momentum * beta) > best.rate
    limit = theory.stability_limit(q, np.array([0.0, 0.9]))
    np.testing.assert_allclose(limit, [0.02, 0.038])
    assert theory.stability_limit(q, 0.5, nesterov=True) == pytest.approx(3 / 2 / 100)


def _measured(surface, optimizer_id, settings, steps=400):
    q, _ = theory.quadratic(surface)
    result = simulate.run(surface, optimizers.get(optimizer_id, **settings), surface.start, steps)
    return theory.measured_rate(result.path(0), q.minimum), q


@pytest.mark.parametrize(("surface_id", "optimizer_id", "settings"), [
    ("ravine", "sgd", {"learning_rate": 0.015}),
    ("ravine", "momentum", {"learning_rate": 0.02, "momentum": 0.8}),
    ("ravine", "momentum", {"learning_rate": 0.001, "momentum": 0.5}),  # overdamped
    ("ravine", "nesterov", {"learning_rate": 0.01, "momentum": 0.9}),
    ("booth", "momentum", {"learning_rate": 0.05, "momentum": 0.6}),
    ("expr:(x-1)**2 + 3*(y+2)**2", "nesterov", {"learning_rate": 0.1, "momentum": 0.3}),
])
def test_the_measured_rate_matches_theory(surface_id, optimizer_id, settings):
    surface = surfaces.get(surface_id)
    measured, q = _measured(surface, optimizer_id, settings, steps=1500)
    config = optimizers.get(optimizer_id, **settings).config
    expected = theory.racer_rate(q, optimizer_id, config)
    assert expected < 1 and measured == pytest.approx(expected, rel=0.03)


def test_racers_without_a_closed_form_get_no_theoretical_rate():
    q, _ = theory.quadratic(surfaces.get("bowl"))
    config = dict(optimizers.get("momentum").config)
    assert theory.racer_rate(q, "momentum", config) == pytest.approx(
        theory.rate(q, 0.01, 0.9))
    assert theory.racer_rate(q, "adam", optimizers.get("adam").config) is None
    assert theory.racer_rate(q, "momentum", config, schedule=ExponentialDecay(0.1, 10, 0.5)) is None
    assert theory.racer_rate(q, "momentum", config, noise=simulate.GradientNoise(0.1)) is None
    assert theory.racer_rate(q, "momentum", {**config, "clipnorm": 1.0}) is None
    assert theory.racer_rate(q, "momentum", {**config, "weight_decay": 0.01}) is None


def test_the_measured_rate_stops_at_rounding_and_needs_enough_steps():
    q, _ = theory.quadratic(surfaces.get("bowl"))
    points = np.array([[0.5**k, 0.0] for k in range(200)])  # reaches 1e-60: floor at 1e-13
    assert theory.measured_rate(points, q.minimum) == pytest.approx(0.5)
    assert theory.measured_rate(points[:15], q.minimum) is None
    flat = np.array([[1e-20, 0.0]] * 50)
    assert theory.measured_rate(flat, q.minimum) is None


def test_a_diverging_racer_measures_above_one():
    surface = surfaces.get("ravine", condition_number=10.0)
    race = Race(surface, surface.start, budget=300)
    race.set_racer(Racer("m", "momentum", {"learning_rate": 0.25, "momentum": 0.1}))
    race.ensure(300)
    track = race.tracks["m"]
    q, _ = theory.quadratic(surface)
    measured = theory.measured_rate(track.points(300), q.minimum)
    expected = theory.racer_rate(q, "momentum", track.stepper.optimizer.config)
    assert expected > 1 and measured == pytest.approx(expected, rel=0.05)
