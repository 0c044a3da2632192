"""The compiled kernels against the NumPy reference: equal results, bit for bit.

Every optimizer id and option (momentum, Nesterov, centered, AMSGrad, the three clippings,
weight decay, schedules, gradient noise, per-cell settings of maps and sweeps), every catalog
surface and custom formulas over the whole function whitelist run both ways
(``compiled=False`` is the NumPy reference) from starts that hit every outcome: converged
(also points that land between x_tol/2 and x_tol of a minimum, where only the exact hypot
decides), not converged, diverged, escaped, undefined, outside the box at the start.
Statuses, steps, final points, final losses and minima must be equal bit for bit (floats
compared as their bit patterns, so -0.0 is not 0.0); with paths, every recorded row too
(points, losses, gradient norms, gradients, velocities). A kernel is compiled once per optimizer
rule and options and a surface pass once per surface, so the cases combine options to keep
the number of compilations down (they are cached on disk after the first run).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")

from engine import optimizers  # noqa: E402
from engine.landscape import kernels, maps, simulate, surfaces  # noqa: E402
from engine.landscape.kernels.runner import FUSED_STARTS  # noqa: E402
from engine.optimizers import schedules  # noqa: E402

FIELDS = ("status", "stop_step", "final_point", "final_loss", "minimum_index")


def _bits(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    return array.view(np.uint64) if array.dtype == np.float64 else array


def assert_same(reference, compiled, label: str = "") -> None:
    """Two RunResults (or maps) agree bit for bit on every summary field."""
    for name in FIELDS:
        if not hasattr(reference, name):
            continue
        want, got = _bits(getattr(reference, name)), _bits(getattr(compiled, name))
        mismatch = np.flatnonzero(np.asarray(want != got).reshape(-1))
        assert mismatch.size == 0, (
            f"{label}: {name} differs at {mismatch[:5].tolist()}: "
            f"{np.asarray(getattr(reference, name)).reshape(-1)[mismatch[:3]].tolist()} (NumPy) vs "
            f"{np.asarray(getattr(compiled, name)).reshape(-1)[mismatch[:3]].tolist()} (kernel)")


def both(surface, optimizer, starts, steps, **options):
    reference = simulate.run(surface, optimizer, starts, steps, keep_path=False,
                             compiled=False, **options)
    compiled = simulate.run(surface, optimizer, starts, steps, keep_path=False, compiled=True,
                            **options)
    return reference, compiled


def starts_for(surface, rng: np.random.Generator) -> np.ndarray:
    """Starts that reach every outcome: the view, around each minimum (some landing in the
    band x_tol/2 .. x_tol, some right on it), far outside the view and outside the box."""
    x0, x1, y0, y1 = surface.domain
    view = rng.uniform((x0, y0), (x1, y1), size=(40, 2))
    parts = [view]
    for minimum in surface.minima:
        centre = np.array(minimum.point)
        angles = rng.uniform(0, 2 * math.pi, 8)
        radii = rng.choice([2e-4, 6e-4, 8e-4, 1.2e-3, 5e-2], 8)
        parts += [centre + np.column_stack([np.cos(angles), np.sin(angles)]) * radii[:, None],
                  centre[None]]
    span = max(abs(v) for v in surface.domain)
    parts.append(np.array([[span * 30, -span * 20], [-span * 900, span * 900],
                           [span * 2e3, 0.5], [0.5, -span * 5e3]]))
    return np.concatenate(parts)


def _rate(rng, low, high):
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


# (optimizer id, settings from a seeded generator, surface id): every optimizer, every
# option and every catalog surface at least once, options combined per case.
CASES = [
    ("sgd", lambda r: {"learning_rate": _rate(r, 1e-4, 0.05)}, "rosenbrock"),
    ("sgd", lambda r: {"learning_rate": _rate(r, 1e-3, 0.3), "clipnorm": _rate(r, 0.1, 5)},
     "saddle"),
    ("momentum", lambda r: {"learning_rate": _rate(r, 1e-4, 1e-2), "momentum": r.uniform(0, 1),
                            "clipvalue": _rate(r, 0.1, 10)}, "beale"),
    ("nesterov", lambda r: {"learning_rate": _rate(r, 1e-3, 3e-2), "weight_decay": r.uniform(0, 1)},
     "himmelblau"),
    ("rmsprop", lambda r: {"learning_rate": _rate(r, 1e-3, 0.5), "rho": r.uniform(0, 0.99)},
     "booth"),
    ("rmsprop", lambda r: {"learning_rate": _rate(r, 1e-3, 0.1), "centered": True,
                           "momentum": r.uniform(0, 0.99), "global_clipnorm": _rate(r, 0.1, 5)},
     "matyas"),
    ("adagrad", lambda r: {"learning_rate": _rate(r, 1e-2, 1), "clipvalue": _rate(r, 0.1, 5),
                           "initial_accumulator_value": r.uniform(0, 2)}, "three_hump_camel"),
    ("adadelta", lambda r: {"learning_rate": _rate(r, 0.1, 50), "rho": r.uniform(0.5, 0.99)},
     "six_hump_camel"),
    ("adam", lambda r: {"learning_rate": _rate(r, 1e-3, 0.3), "beta_1": r.uniform(0, 0.99),
                        "beta_2": r.uniform(0.5, 0.9999)}, "goldstein_price"),
    ("amsgrad", lambda r: {"learning_rate": _rate(r, 1e-3, 0.3), "clipnorm": _rate(r, 0.1, 5)},
     "rastrigin"),
    ("adamw", lambda r: {"learning_rate": _rate(r, 1e-3, 0.3), "weight_decay": r.uniform(0, 1)},
     "ackley"),
    ("adamax", lambda r: {"learning_rate": _rate(r, 1e-3, 0.5), "global_clipnorm": _rate(r, 1, 20)},
     "styblinski_tang"),
    ("nadam", lambda r: {"learning_rate": _rate(r, 1e-3, 0.3), "beta_1": r.uniform(0, 0.99)},
     "mccormick"),
    ("lion", lambda r: {"learning_rate": _rate(r, 1e-4, 0.05), "weight_decay": r.uniform(0, 1)},
     "levi"),
    ("lion", lambda r: {"learning_rate": _rate(r, 1e-3, 0.2), "weight_decay": r.uniform(0, 1)},
     "monkey_saddle"),
    ("adam", lambda r: {"learning_rate": _rate(r, 1e-2, 1)}, "ravine"),
    ("momentum", lambda r: {"learning_rate": _rate(r, 1e-2, 3)}, "plateau"),
    ("adam", lambda r: {"learning_rate": _rate(r, 1e-3, 2)}, "bowl"),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("optimizer_id, make, surface_id", CASES,
                         ids=[f"{o}-{s}" for o, _, s in CASES])
def test_every_optimizer_option_and_surface_matches_numpy(optimizer_id, make, surface_id, seed):
    """Both kinds of kernel: one that calls the surface's pass (a few starts) and one fused
    with the surface (a map's many starts, runner.FUSED_STARTS)."""
    rng = np.random.default_rng([seed, len(optimizer_id), len(surface_id)])
    surface = surfaces.get(surface_id, **({"angle": 30.0} if surface_id == "ravine" else {}))
    optimizer = optimizers.get(optimizer_id, **make(rng))
    starts = starts_for(surface, rng)
    x0, x1, y0, y1 = surface.domain
    many = np.concatenate([starts, rng.uniform((x0, y0), (x1, y1), size=(FUSED_STARTS, 2))])
    for points, fused in ((starts, False), (many, True)):
        stepper = simulate.Stepper(surface, optimizer, points, 150, keep_path=False,
                                   compiled=True)
        assert stepper._backend.fused is fused
        reference, compiled = both(surface, optimizer, points, 150)
        assert_same(reference, compiled,
                    f"{optimizer_id} {dict(optimizer.config)} on {surface_id}, {fused=}")


def test_the_cases_reach_every_outcome():
    """The starts above are worth their compilations: all five outcomes occur."""
    seen = set()
    for optimizer_id, make, surface_id in CASES:
        rng = np.random.default_rng([0, len(optimizer_id), len(surface_id)])
        surface = surfaces.get(surface_id, **({"angle": 30.0} if surface_id == "ravine" else {}))
        result = simulate.run(surface, optimizers.get(optimizer_id, **make(rng)),
                              starts_for(surface, rng), 150, keep_path=False, compiled=False)
        seen |= set(result.status.tolist())
    assert seen >= {simulate.CONVERGED, simulate.NOT_CONVERGED, simulate.DIVERGED,
                    simulate.ESCAPED}


FORMULAS = [
    "(1 - x)**2 + 100*(y - x**2)**2",
    "sin(x)*cos(y) + tan(x/4) + exp(-x**2) + log(1 + y**2) + log10(2 + x) + log2(3 + y)",
    "sqrt(1 + x**2) + abs(y) + sign(x)*x + tanh(x*y) + sinh(x/3) + cosh(y/3)",
    "arctan(x) + arcsin(y/3) + arccos(x/3) + sigmoid(x - y) + x**3 + 2**y + x**0.5",
    "1/(x**2 + 0.1) + y**-1 + x**0 + (x*y)**1 + ln(x)",  # undefined left of x = 0
    "x**2 - y**2",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_custom_formulas_match_numpy(formula):
    surface = surfaces.get("expr:" + formula)
    rng = np.random.default_rng(len(formula))
    starts = np.concatenate([rng.uniform(-3, 3, size=(60, 2)), [[0.0, 0.0], [-1.0, 2.0]]])
    for optimizer in (optimizers.get("adam", learning_rate=0.05),
                      optimizers.get("sgd", learning_rate=0.01)):
        reference, compiled = both(surface, optimizer, starts, 120)
        assert_same(reference, compiled, f"{optimizer.id} on {formula}")


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.05, 20, 0.5),
    schedules.ExponentialDecay(0.05, 20, 0.5, staircase=True),
    schedules.InverseTimeDecay(0.1, 10, 1.0),
    schedules.PiecewiseConstantDecay((30, 80), (0.1, 0.01, 0.001)),
    schedules.CosineDecay(0.05, 100, alpha=0.1, warmup_target=0.1, warmup_steps=20),
], ids=lambda s: s.id)
def test_learning_rate_schedules_match_numpy(schedule):
    surface = surfaces.get("himmelblau")
    starts = starts_for(surface, np.random.default_rng(3))
    optimizer = optimizers.get("adam", learning_rate_schedule=schedule)
    assert_same(*both(surface, optimizer, starts, 150), schedule.id)


@pytest.mark.parametrize("optimizer_id, surface_id", [("adam", "ravine"), ("sgd", "saddle"),
                                                      ("adadelta", "six_hump_camel")])
def test_gradient_noise_matches_numpy(optimizer_id, surface_id):
    surface = surfaces.get(surface_id)
    starts = starts_for(surface, np.random.default_rng(4))
    optimizer = optimizers.get(optimizer_id, learning_rate=0.02 if optimizer_id == "sgd" else 1.0)
    for noise in (simulate.GradientNoise(0.5, seed=7), simulate.GradientNoise(3.0, seed=2**64 - 1)):
        assert_same(*both(surface, optimizer, starts, 150, noise=noise), f"{noise}")


def _map_fields(result) -> dict:
    return {k: getattr(result, k) for k in ("status", "steps_to_converge", "final_loss",
                                            "minimum_index")}


@pytest.mark.parametrize("optimizer_id, x, y", [
    ("momentum", maps.Axis("learning_rate", 1e-4, 0.5, 9, log=True), maps.Axis("momentum", 0, 0.99, 7)),
    ("adam", maps.Axis("beta_1", 0.0, 0.99, 8), maps.Axis("beta_2", 0.5, 0.9999, 6)),
    ("nadam", maps.Axis("learning_rate", 1e-3, 1.0, 7, log=True), maps.Axis("beta_1", 0, 0.99, 6)),
    ("rmsprop", maps.Axis("rho", 0.0, 0.99, 6), maps.Axis("epsilon", 1e-7, 1.0, 5, log=True)),
    ("adagrad", maps.Axis("initial_accumulator_value", 0.0, 2.0, 5),
     maps.Axis("clipnorm", 0.01, 10, 6, log=True)),
    ("lion", maps.Axis("beta_1", 0.01, 0.99, 6), maps.Axis("weight_decay", 0.0, 1.0, 5)),
])
def test_hyper_maps_with_per_cell_settings_match_numpy(optimizer_id, x, y):
    surface = surfaces.get("rosenbrock")
    reference = maps.hyper_map(surface, optimizer_id, x, y, surface.start, steps=200,
                               compiled=False)
    compiled = maps.hyper_map(surface, optimizer_id, x, y, surface.start, steps=200,
                              compiled=True)
    for name, values in _map_fields(reference).items():
        np.testing.assert_array_equal(_bits(values), _bits(getattr(compiled, name)), err_msg=name)


def test_lr_sweeps_and_start_maps_match_numpy():
    surface = surfaces.get("himmelblau")
    ids = ["sgd", "adadelta", "adamax", "amsgrad"]
    reference = maps.lr_sweep(surface, ids, surface.start, steps=150, compiled=False)
    compiled = maps.lr_sweep(surface, ids, surface.start, steps=150, compiled=True)
    for a, b in zip(reference, compiled, strict=True):
        for name in ("status", "steps_to_converge", "final_loss"):
            np.testing.assert_array_equal(_bits(getattr(a, name)), _bits(getattr(b, name)))
        assert a.tuned_learning_rate == b.tuned_learning_rate
    adam = optimizers.get("adam", learning_rate=0.05)
    reference = maps.start_map(surface, adam, grid=40, steps=150, compiled=False)
    compiled = maps.start_map(surface, adam, grid=40, steps=150, compiled=True)
    for name, values in _map_fields(reference).items():
        np.testing.assert_array_equal(_bits(values), _bits(getattr(compiled, name)), err_msg=name)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-6, 6), st.floats(-6, 6)), min_size=1, max_size=40),
    st.floats(1e-4, 2.0), st.floats(0.0, 0.999), st.sampled_from(["rosenbrock", "expr"]),
)
def test_random_starts_and_settings_match_numpy(points, rate, beta_1, which):
    surface = surfaces.get("rosenbrock" if which == "rosenbrock"
                           else "expr:(1 - x)**2 + 100*(y - x**2)**2 + exp(x/5)")
    optimizer = optimizers.get("adam", learning_rate=rate, beta_1=beta_1)
    assert_same(*both(surface, optimizer, np.array(points), 60), f"{rate=}, {beta_1=}")


def test_points_at_the_tolerance_edge_decide_as_hypot_does():
    """Points whose distance to the minimum is x_tol to the last bit, or one ulp more: the
    cheap tests cannot decide them, both paths must use the C hypot the same way."""
    surface = surfaces.get("bowl")
    tol = simulate.Tolerances(x_tol=5e-4)
    starts = []
    for dx, dy in [(3e-4, 4e-4), (4e-4, 3e-4), (5e-4, 0.0), (0.0, -5e-4),
                   (np.nextafter(3e-4, 1), 4e-4), (3.5355339059327376e-4, 3.5355339059327376e-4)]:
        starts += [[dx, dy], [np.nextafter(dx, 0), dy], [dx, np.nextafter(dy, 1)]]
    optimizer = optimizers.get("sgd", learning_rate=1e-30)  # steps round away: stays put
    reference, compiled = both(surface, optimizer, np.array(starts), 5, tolerances=tol)
    assert_same(reference, compiled, "tolerance edge")
    assert len(set(reference.status.tolist())) == 2  # some converged, some not


def test_chunks_threads_and_one_call_give_the_same_results():
    surface = surfaces.get("six_hump_camel")
    starts = starts_for(surface, np.random.default_rng(9))
    starts = np.concatenate([starts] * 20)  # enough work for several threads
    optimizer = optimizers.get("nadam", learning_rate=0.05)
    reference = simulate.run(surface, optimizer, starts, 200, keep_path=False, compiled=False)
    for count in (1, 2, 3):
        kernels.set_threads(count)
        try:
            stepper = simulate.Stepper(surface, optimizer, starts, 200, keep_path=False,
                                       compiled=True)
            while not stepper.complete:
                stepper.advance(37)
            assert_same(reference, stepper.result(), f"{count} threads, chunks of 37")
        finally:
            kernels.set_threads(max(1, __import__("os").cpu_count() or 1))


def _records(stepper) -> dict:
    names = ("paths", "losses", "grad_norms", "grads", "velocities", "status", "stop_step",
             "within_since", "final")
    return {name: getattr(stepper, name) for name in names if hasattr(stepper, name)}


@pytest.mark.parametrize("optimizer_id, settings, surface_id, noise", [
    ("momentum", {"learning_rate": 0.02}, "himmelblau", None),
    ("adam", {"learning_rate": 0.3}, "saddle", None),
    ("rmsprop", {"learning_rate": 0.05, "momentum": 0.5}, "ackley",
     simulate.GradientNoise(0.3, seed=5)),
    ("adagrad", {"learning_rate": 0.5}, "expr:-1e306*x**2 - y**2", None),  # -inf loss
    ("sgd", {"learning_rate": 1e-307}, "expr:-1e306*x**2 - y**2", None),
    ("lion", {"learning_rate": 0.05}, "rosenbrock", None),
])
def test_paths_gradients_and_velocities_match_numpy(optimizer_id, settings, surface_id, noise):
    """With paths (a race: gradients and velocities too) the kernel writes every row the
    NumPy stepper writes, also after a stop and when a loss stops being finite."""
    surface = surfaces.get(surface_id)
    starts = np.concatenate([starts_for(surface, np.random.default_rng(11))[:30],
                             [[5.0, 0.5], [12.0, -1.0], [-1.0, 0.0]]])
    optimizer = optimizers.get(optimizer_id, **settings)
    reference = simulate.Stepper(surface, optimizer, starts, 300, keep_vectors=True,
                                 noise=noise, compiled=False)
    compiled = simulate.Stepper(surface, optimizer, starts, 300, keep_vectors=True,
                                noise=noise, compiled=True)
    for stepper in (reference, compiled):
        while not stepper.complete:
            stepper.advance(77)
    for name, values in _records(reference).items():
        got = _records(compiled)[name]
        bad = np.flatnonzero((_bits(values) != _bits(got)).reshape(-1))
        assert bad.size == 0, f"{name} differs at {bad[:5]}"
    assert_same(reference.result(), compiled.result(), "result")
    plain = simulate.run(surface, optimizer, starts, 300, noise=noise, compiled=True)
    for name in ("paths", "losses", "grad_norms"):
        np.testing.assert_array_equal(_bits(getattr(plain, name)), _bits(getattr(reference, name)))


def test_a_race_uses_kernels_once_loaded_and_compiled_and_stays_exact():
    from engine.landscape import race

    surface = surfaces.get("rosenbrock")
    contest = race.Race(surface, surface.start, budget=400)
    contest.set_racer(race.Racer("a", "adam", {"learning_rate": 0.01}))
    kernels.wait_for_background(300)  # the first race compiles its kernel in the background
    contest.set_racer(race.Racer("b", "adam", {"learning_rate": 0.01}))
    assert contest.tracks["b"].stepper.compiled
    contest.ensure(400)
    reference = simulate.Stepper(surface, optimizers.get("adam", learning_rate=0.01),
                                 np.array([surface.start]), 400, keep_vectors=True,
                                 compiled=False)
    reference.advance()
    for name, values in _records(reference).items():
        np.testing.assert_array_equal(_bits(values),
                                      _bits(_records(contest.tracks["b"].stepper)[name]))
