"""Learning-rate schedules: value for value as ``keras.optimizers.schedules``, validation, text.

The oracle is the installed Keras: each schedule's ``to_keras()`` object called with the same
integer steps, and Keras's SGD stepping ``keras.Variable``s with that schedule. Every schedule
agrees with Keras bit for bit (0 float32 ulp): the same float32 operations in the same order,
and the C library's ``powf``/``logf``/``cosf``, which TensorFlow calls on scalars.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import surfaces
from engine.optimizers.schedules import (
    SCHEDULES,
    Constant,
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    Schedule,
    describe,
    schedule_from,
    values,
)
from engine.params import HyperParamError
from tests import procs

STEPS = 501  # steps 0..500

CASES = [
    ExponentialDecay(0.1, 10, 0.9),
    ExponentialDecay(0.1, 7, 0.96, staircase=True),
    ExponentialDecay(0.37, 3, 0.5),  # reaches float32 subnormals: Keras flushes them to 0
    ExponentialDecay(2.5, 1, 0.999),
    InverseTimeDecay(0.1, 10, 0.5),
    InverseTimeDecay(0.3, 7, 2.0, staircase=True),
    InverseTimeDecay(1e-3, 1, 0.0),
    PiecewiseConstantDecay((0, 10, 250), (0.1, 0.05, 0.01, 0.001)),
    PiecewiseConstantDecay((100,), (0.3, 0.1)),
    PiecewiseConstantDecay((499, 500), (1e-2, 1e-3, 1e-4)),
    CosineDecay(0.1, 300),
    CosineDecay(0.1, 123, alpha=0.1),
    CosineDecay(0.0, 200, alpha=0.05, warmup_target=0.2, warmup_steps=50),
    CosineDecay(0.01, 200, warmup_target=0.2),  # warmup_steps 0: decays from the target
    CosineDecay(0.05, 77, alpha=0.3, warmup_target=0.01, warmup_steps=33),  # "warms" down
    CosineDecay(0.02, 1000, warmup_target=0.1, warmup_steps=700),  # still decaying at 500
    PolynomialDecay(0.1, 100),  # linear to 1e-4, then flat
    PolynomialDecay(0.1, 37, 0.001, 0.5),
    PolynomialDecay(0.3, 50, 0.01, 2.0, cycle=True),  # restarts at 50, 100, 150, ...
    PolynomialDecay(0.05, 7, 0.0, 3.3, cycle=True),
    PolynomialDecay(1e-3, 200, 0.02, 1.0),  # rises: end above the start
    CosineDecayRestarts(0.1, 50),  # periods 50, 100, 200
    CosineDecayRestarts(0.1, 30, 1.0, 0.9, 0.1),  # equal periods, peaks × 0.9
    CosineDecayRestarts(0.2, 13, 1.5, 0.7, 0.05),
    CosineDecayRestarts(0.5, 3, 1.0, 0.5),  # 166 restarts: peaks reach float32 subnormals
    CosineDecayRestarts(0.01, 7, 3.0, 1.0, 0.2),
]


def _keras_values(schedule, steps=STEPS):
    keras_schedule = schedule.to_keras()
    return np.array([float(keras_schedule(k)) for k in range(steps)])


@pytest.mark.keras
@pytest.mark.parametrize("schedule", CASES, ids=repr)
def test_matches_the_keras_schedule_bit_for_bit(schedule):
    # 0 ulp: float32 + - × ÷ are IEEE-rounded on both sides, and pow/log/cos are the C
    # library's functions TensorFlow calls (before, a float64 cosine rounded to float32 was
    # 1 ulp off cosf on 1.5 % of arguments).
    np.testing.assert_array_equal(values(schedule, STEPS), _keras_values(schedule))


@pytest.mark.keras
def test_random_polynomial_and_restart_schedules_are_bit_for_bit_keras():
    rng = np.random.default_rng(15)
    for _ in range(12):
        lr0, end = (float(v) for v in 10 ** rng.uniform(-4, 0, 2))
        polynomial = PolynomialDecay(lr0, int(rng.integers(1, 120)), end,
                                     float(rng.uniform(0.1, 5)), bool(rng.integers(2)))
        restarts = CosineDecayRestarts(lr0, int(rng.integers(1, 60)),
                                       float(rng.choice([1.0, rng.uniform(1, 4)])),
                                       float(rng.uniform(0, 1)), float(rng.uniform(0, 1)))
        for schedule in (polynomial, restarts):
            np.testing.assert_array_equal(values(schedule, 250), _keras_values(schedule, 250),
                                          err_msg=repr(schedule))


def test_a_schedules_table_is_kept_and_each_caller_gets_its_own_copy():
    """A race rebuilds every racer's kernel plan on each surface change; a cosine table of
    100,000 C ``cosf`` values took 17 ms each time. It is kept per schedule and budget, and
    a caller that writes into its copy changes nobody else's."""
    from engine.optimizers import schedules

    schedule = CosineDecay(initial_learning_rate=0.1, decay_steps=5000)
    first = values(schedule, 3000)
    first[:] = -1.0
    hits = schedules._kept_values.cache_info().hits
    again = values(schedule, 3000)
    assert schedules._kept_values.cache_info().hits == hits + 1  # not computed again
    assert np.all(again > 0) and again is not first
    fresh = CosineDecay(initial_learning_rate=0.1, decay_steps=5000)._rates(np.arange(3000))
    np.testing.assert_array_equal(again, fresh.astype(np.float64))
    assert values(CosineDecay(initial_learning_rate=0.2, decay_steps=5000), 3000)[0] == np.float32(0.2)
    assert len(values(schedule, 3001)) == 3001


@pytest.mark.parametrize("schedule", CASES, ids=repr)
def test_a_call_equals_the_tabulated_value(schedule):
    table = values(schedule, STEPS)
    assert [schedule(k) for k in range(0, STEPS, 7)] == list(table[::7])
    assert table.dtype == np.float64 and np.all(np.isfinite(table)) and np.all(table >= 0)


def test_piecewise_boundaries_belong_to_the_earlier_piece():
    # Keras: values[0] while step <= boundaries[0], values[1] while step <= boundaries[1], ...
    schedule = PiecewiseConstantDecay((2, 4), (1.0, 0.5, 0.25))
    assert [schedule(k) for k in range(7)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_warmup_is_linear_then_cosine_then_flat():
    schedule = CosineDecay(0.0, 100, alpha=0.1, warmup_target=1.0, warmup_steps=10)
    lr = values(schedule, 200)
    np.testing.assert_allclose(lr[:11], np.arange(11) / 10, rtol=1e-6)  # step 10: the peak
    np.testing.assert_allclose(lr[60], 0.1 + 0.9 * 0.5, rtol=1e-6)  # half-way down the cosine
    np.testing.assert_allclose(lr[110:], 0.1, rtol=1e-6)  # alpha * peak from then on
    assert np.all(np.diff(lr[10:111]) <= 0)


def test_polynomial_decay_reaches_the_end_rate_and_cycle_restarts_it_slower():
    lr = values(PolynomialDecay(1.0, 10, 0.0, 1.0), 15)
    np.testing.assert_allclose(lr[:11], 1 - np.arange(11) / 10, atol=1e-7)
    assert np.all(lr[10:] == 0)
    cycled = values(PolynomialDecay(1.0, 10, 0.0, 1.0, cycle=True), 41)
    # Step 11 lies in the second period (10, 20]: 1 − 11/20, not back at the start.
    np.testing.assert_allclose(cycled[[0, 5, 10, 11, 20, 21, 30, 40]],
                               [1, 0.5, 0, 1 - 11 / 20, 0, 1 - 21 / 30, 0, 0], atol=1e-7)


def test_cosine_restarts_at_the_geometric_period_boundaries():
    lr = values(CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5), 80)
    # Periods of 10, 20, 40 steps start at 0, 10, 30, 70 with peaks 1, 0.5, 0.25, 0.125.
    np.testing.assert_allclose(lr[[0, 10, 30, 70]], [1, 0.5, 0.25, 0.125], rtol=1e-6)
    np.testing.assert_allclose(lr[[5, 20, 50]], [0.5, 0.25, 0.125], rtol=1e-6)  # half-way
    assert np.all(np.diff(lr[10:30]) < 0) and lr[29] < 0.01


def test_exponential_staircase_steps_once_per_period():
    lr = values(ExponentialDecay(1.0, 10, 0.5, staircase=True), 30)
    np.testing.assert_array_equal(lr, np.repeat([1.0, 0.5, 0.25], 10))


def test_constant_stays_an_exact_float():
    # Keras keeps a plain-float learning rate in the variables' dtype: no float32 rounding.
    assert Constant(0.1)(12345) == 0.1
    assert Constant(0.1).to_keras() == 0.1


@pytest.fixture
def float64_keras():
    import keras

    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield keras
    keras.config.set_floatx(previous)


def _paths(keras, optimizer, schedule, surface, starts, steps=100):
    x, state, ours = starts.copy(), optimizer.init(starts), [starts]
    for _ in range(steps):
        x, state = optimizer.update(surface.grad(x), state, x)
        ours.append(x)
    # One Keras variable per start, all stepped by one Keras optimizer with the Keras schedule.
    variables = [keras.Variable(s[None, :], dtype="float64") for s in starts]
    keras_optimizer = optimizer.to_keras(learning_rate=schedule.to_keras())
    theirs = [np.vstack([v.numpy() for v in variables])]
    for _ in range(steps):
        keras_optimizer.apply([surface.grad(v.numpy()) for v in variables], variables)
        theirs.append(np.vstack([v.numpy() for v in variables]))
    return np.array(ours), np.array(theirs)


@pytest.mark.keras
@pytest.mark.parametrize("schedule", [
    ExponentialDecay(1e-3, 10, 0.9),
    ExponentialDecay(2e-3, 25, 0.5, staircase=True),
    CosineDecay(0.0, 60, alpha=0.1, warmup_target=2e-3, warmup_steps=20),
    PiecewiseConstantDecay((30, 60), (2e-3, 1e-3, 5e-4)),
    PolynomialDecay(2e-3, 30, 1e-4, 2.0, cycle=True),
    CosineDecayRestarts(2e-3, 10, 2.0, 0.8, 0.1),
], ids=repr)
def test_sgd_with_a_schedule_follows_keras_sgd_for_100_steps(float64_keras, schedule):
    surface = surfaces.get("rosenbrock")
    starts = np.array([surface.start, [0.0, 0.0], [1.5, -0.5]])
    optimizer = optimizers.get("sgd", learning_rate_schedule=schedule)
    ours, theirs = _paths(float64_keras, optimizer, schedule, surface, starts)
    assert np.max(np.abs(ours[-1] - ours[0])) > 1e-3, "the path must actually move"
    # The same float32 learning rates, so the float64 paths agree bit for bit.
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.keras
def test_momentum_with_exponential_decay_follows_keras(float64_keras):
    surface = surfaces.get("ravine")
    schedule = ExponentialDecay(1e-2, 20, 0.7)
    optimizer = optimizers.get("momentum", momentum=0.8, learning_rate_schedule=schedule)
    starts = np.array([surface.start, [0.5, 0.5]])
    ours, theirs = _paths(float64_keras, optimizer, schedule, surface, starts)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_the_optimizer_uses_step_zero_first():
    schedule = PiecewiseConstantDecay((0,), (1.0, 0.5))
    optimizer = optimizers.get("sgd", learning_rate_schedule=schedule)
    params = np.zeros((1, 2))
    state = optimizer.init(params)
    for expected in (-1.0, -1.5, -2.0):
        params, state = optimizer.update(np.ones_like(params), state, params)
        assert params[0, 0] == expected


@pytest.mark.parametrize(("schedule_id", "params", "field", "text"), [
    ("exponential_decay", {"decay_steps": 0}, "decay_steps", "decay_steps: must be in [1, 1000000000], got 0"),
    ("exponential_decay", {"decay_steps": 2.5}, "decay_steps", "whole number"),
    ("exponential_decay", {"decay_rate": 0.0}, "decay_rate", "in (0, 1]"),
    ("exponential_decay", {"initial_learning_rate": -0.1}, "initial_learning_rate", "got -0.1"),
    ("exponential_decay", {"initial_learning_rate": float("nan")}, "initial_learning_rate",
     "number"),
    ("exponential_decay", {"staircase": "maybe"}, "staircase", "true or false"),
    ("exponential_decay", {"decay_step": 10}, "decay_step", "not a parameter"),
    ("inverse_time_decay", {"decay_rate": -1}, "decay_rate", "in [0, 1000]"),
    ("inverse_time_decay", {"decay_steps": "ten"}, "decay_steps", "whole number"),
    ("piecewise_constant_decay", {"boundaries": (), "values": (0.1,)}, "boundaries", "at least"),
    ("piecewise_constant_decay", {"boundaries": (5, 5)}, "boundaries", "increase"),
    ("piecewise_constant_decay", {"boundaries": (-1, 5)}, "boundaries", "in [0, 1000000000]"),
    ("piecewise_constant_decay", {"boundaries": (5, 10), "values": (0.1, 0.2)}, "values",
     "needs 3 entries"),
    ("piecewise_constant_decay", {"values": (0.1, -0.2, 0.3)}, "values", "got -0.2"),
    ("piecewise_constant_decay", {"values": 0.1}, "values", "list"),
    ("cosine_decay", {"alpha": 1.5}, "alpha", "in [0, 1]"),
    ("cosine_decay", {"warmup_steps": 10}, "warmup_steps", "warmup_target"),
    ("cosine_decay", {"warmup_steps": -1, "warmup_target": 0.1}, "warmup_steps", "in [0, 1000000000]"),
    ("cosine_decay", {"warmup_target": 0.0}, "warmup_target", "(0, 100]"),
    ("cosine_decay", {"initial_learning_rate": 0.0}, "initial_learning_rate", "warmup_target"),
    ("constant", {"learning_rate": 0}, "learning_rate", "in (0, 100]"),
    ("polynomial_decay", {"decay_steps": 0}, "decay_steps", "in [1, 1000000000]"),
    ("polynomial_decay", {"power": 0.0}, "power", "in (0, 100]"),
    ("polynomial_decay", {"end_learning_rate": -1e-3}, "end_learning_rate", "[0, 100]"),
    ("polynomial_decay", {"cycle": "sometimes"}, "cycle", "true or false"),
    ("cosine_decay_restarts", {"first_decay_steps": 0}, "first_decay_steps", "in [1, 1000000000]"),
    ("cosine_decay_restarts", {"decay_steps": 10}, "decay_steps", "not a parameter"),
    ("cosine_decay_restarts", {"t_mul": 0.5}, "t_mul", "in [1, 10]"),
    ("cosine_decay_restarts", {"m_mul": 1.5}, "m_mul", "in [0, 1]"),
    ("cosine_decay_restarts", {"alpha": -0.1}, "alpha", "in [0, 1]"),
])
def test_bad_parameters_are_refused_naming_the_field(schedule_id, params, field, text):
    with pytest.raises(HyperParamError) as caught:
        schedule_from(schedule_id, **params)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ") and text in str(caught.value)


def test_direct_construction_validates_too():
    with pytest.raises(ValueError, match="decay_steps: must be in \\[1, 1000000000\\], got 0"):
        ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        schedule_from("linear")


def test_values_are_coerced_from_text_and_round_trip():
    schedule = schedule_from("piecewise_constant_decay", boundaries="10, 20",
                             values=["0.1", 0.01, np.float32(0.5)])
    assert schedule == PiecewiseConstantDecay((10, 20), (0.1, 0.01, 0.5))
    assert isinstance(schedule.boundaries[0], int) and isinstance(schedule.values[2], float)
    exponential = schedule_from("exponential_decay", decay_steps="50", staircase="True")
    assert exponential.decay_steps == 50 and exponential.staircase is True
    for schedule in CASES:
        assert schedule_from(schedule.id, **schedule.config()) == schedule
        assert hash(schedule) == hash(schedule_from(schedule.id, **schedule.config()))


@pytest.mark.parametrize("schedule_id", list(SCHEDULES))
def test_registry_describes_every_parameter(schedule_id):
    cls = SCHEDULES[schedule_id]
    assert issubclass(cls, Schedule) and cls.id == schedule_id and cls.title
    field_names = [f.name for f in dataclasses.fields(cls)]
    assert [p.name for p in cls.params] == field_names
    default = schedule_from(schedule_id)  # the defaults are valid
    assert all(p.doc and p.range_text() for p in cls.params)
    json.dumps([p.to_json() for p in cls.params])
    assert describe(default) and values(default, 3).shape == (3,)


def test_describe_gives_one_line():
    texts = {
        describe(0.01): "constant 0.01",
        describe(Constant(0.5)): "constant 0.5",
        describe(ExponentialDecay(0.1, 100, 0.5)): "0.1 × 0.5^(step / 100)",
        describe(ExponentialDecay(0.1, 100, 0.5, True)): "0.1 × 0.5^(⌊step / 100⌋)",
        describe(InverseTimeDecay(0.1, 10, 2)): "0.1 / (1 + 2 · step / 10)",
        describe(PiecewiseConstantDecay((5,), (0.1, 0.01))): "0.1 to step 5, then 0.01",
        describe(CosineDecay(0.1, 50, 0.1)): "cosine 0.1 → 0.01 over 50 steps",
        describe(CosineDecay(0, 50, 0, 1.0, 5)):
            "warmup 0 → 1 over 5 steps, then cosine 1 → 0 over 50 steps",
        describe(PolynomialDecay(0.1, 100)): "linear 0.1 → 0.0001 over 100 steps",
        describe(PolynomialDecay(0.1, 100, 0.01, 2, True)):
            "power 2 0.1 → 0.01 over 100 steps, restarting slower each time",
        describe(CosineDecayRestarts(0.1, 50)):
            "cosine 0.1 → 0 over 50 steps, then restarts, each period × 2",
        describe(CosineDecayRestarts(0.1, 50, 1.0, 0.5, 0.1)):
            "cosine 0.1 → 0.01 over 50 steps, then restarts, each peak × 0.5",
    }
    for text, expected in texts.items():
        assert text == expected and "\n" not in text
    assert describe(lambda step: 0.1).startswith("custom schedule")


def test_values_of_plain_numbers_and_callables():
    np.testing.assert_array_equal(values(0.25, 4), [0.25] * 4)
    np.testing.assert_allclose(values(lambda k: 1 / (k + 1), 3), [1, 0.5, 1 / 3])
    assert values(ExponentialDecay(0.1, 10, 0.5), 0).shape == (0,)
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="steps"):
            values(0.1, bad)


def test_schedules_import_no_tensorflow():
    code = ("import sys; from engine import schedules; s = schedules.schedule_from("
            "'cosine_decay'); schedules.values(s, 10); print('tensorflow' in sys.modules)")
    root = Path(__file__).resolve().parents[1]
    out = procs.run([sys.executable, "-c", code], cwd=root, timeout=120,
                    env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_the_c_functions_tell_arguments_apart_by_their_bits():
    """A table calls the C function once per distinct argument: -0.0 and 0.0 are distinct
    arguments to powf (a negative odd power gives -inf and inf), and an argument that is the
    same everywhere is passed as it is."""
    from engine.optimizers.schedule_base import F32, cosf, powf

    bases = np.array([-0.0, 0.0, -0.0, 2.0], dtype=F32)
    assert powf(bases, F32(-1.0)).tolist() == [-np.inf, np.inf, -np.inf, 0.5]
    assert powf(F32(2.0), np.array([1.0, 3.0, 1.0], dtype=F32)).tolist() == [2.0, 8.0, 2.0]
    mixed = powf(np.array([2.0, 3.0, 2.0], dtype=F32), np.array([2.0, 2.0, 3.0], dtype=F32))
    assert mixed.tolist() == [4.0, 9.0, 8.0]
    assert cosf(np.zeros(0, dtype=F32)).shape == (0,)
    assert cosf(np.array([[0.0, 0.0]], dtype=F32)).tolist() == [[1.0, 1.0]]


def test_a_large_c_table_is_kept_by_its_arguments_bits(monkeypatch):
    """A cosine schedule's 100,000 C ``cosf`` calls took 30 ms of the GUI thread, and
    editing its rate or warm-up target asks for the same cosines again: a table is kept by
    its arguments' bits (never handed out to be written into), and other bits are computed."""
    from engine.optimizers import schedule_base
    from engine.optimizers.schedule_base import F32, cosf

    size = schedule_base.KEPT_MIN_SIZE
    args = np.linspace(0.0, 3.0, size, dtype=F32)
    kept = cosf(args)  # the C library's own cosf
    np.testing.assert_array_equal(cosf(args), kept)
    np.testing.assert_allclose(kept, np.cos(args.astype(np.float64)), rtol=1e-6, atol=1e-7)
    calls = []

    def counted(x):
        calls.append(x)
        return np.cos(np.float32(x))

    monkeypatch.setattr(schedule_base, "_COSF", counted)
    first = cosf(args)
    assert len(calls) == size
    first[:] = 7.0
    again = cosf(args.copy())
    assert len(calls) == size  # kept: no C call
    np.testing.assert_array_equal(again, np.cos(args))
    signed = args.copy()
    signed[0] = -0.0  # other bits (0.0 became -0.0): a table of its own
    assert cosf(signed)[0] == 1.0 and len(calls) == 2 * size
    small = args[:size - 1]
    cosf(small)
    cosf(small)
    assert len(calls) == 2 * size + 2 * (size - 1)  # small tables are not kept
