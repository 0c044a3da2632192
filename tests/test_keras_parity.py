"""Parity with the installed Keras: every optimizer and option, 100 steps, several surfaces.

The oracle is Keras itself stepping ``keras.Variable``s with ``optimizer.apply``; both sides
get the exact gradient of the same surface at their own current point. With float64
variables the NumPy rules reproduce Keras to rounding (in practice bit for bit); with
Keras's default float32 they agree to float32 precision.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from engine import optimizers  # noqa: E402
from engine.landscape import surfaces  # noqa: E402

pytestmark = pytest.mark.keras

STEPS = 100

CASES = [
    ("sgd", {"learning_rate": 1e-3}),
    ("sgd", {"learning_rate": 1e-3, "weight_decay": 0.1}),
    ("momentum", {"learning_rate": 1e-3}),
    ("momentum", {"learning_rate": 1e-3, "momentum": 0.5}),
    ("nesterov", {"learning_rate": 1e-3}),
    ("rmsprop", {"learning_rate": 1e-2}),
    ("rmsprop", {"learning_rate": 1e-2, "centered": True}),
    ("rmsprop", {"learning_rate": 1e-2, "momentum": 0.5}),
    ("rmsprop", {"learning_rate": 1e-2, "centered": True, "momentum": 0.9, "rho": 0.8}),
    ("adagrad", {"learning_rate": 1e-1}),
    ("adagrad", {"learning_rate": 1e-1, "initial_accumulator_value": 0.5, "epsilon": 1e-4}),
    ("adadelta", {"learning_rate": 1.0}),
    ("adam", {"learning_rate": 1e-2}),
    ("adam", {"learning_rate": 1e-2, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}),
    ("adam", {"learning_rate": 1e-2, "clipnorm": 1.0}),
    ("adam", {"learning_rate": 1e-2, "clipvalue": 0.5}),
    ("amsgrad", {"learning_rate": 1e-2}),
    ("adamw", {"learning_rate": 1e-2}),
    ("adamw", {"learning_rate": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
    ("adamax", {"learning_rate": 1e-2}),
    ("nadam", {"learning_rate": 1e-2}),
    ("nadam", {"learning_rate": 1e-2, "beta_1": 0.5, "beta_2": 0.9}),
    ("lion", {"learning_rate": 1e-2}),
    ("lion", {"learning_rate": 1e-2, "beta_1": 0.5, "beta_2": 0.9, "weight_decay": 0.05}),
]
SURFACES = ("rosenbrock", "himmelblau", "ravine")


def _starts(surface):
    # The default start plus two random points from the middle half of the domain.
    x0, x1, y0, y1 = surface.domain
    cx, cy, wx, wy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 4, (y1 - y0) / 4
    rng = np.random.default_rng(7)
    random = np.column_stack([rng.uniform(cx - wx, cx + wx, 2), rng.uniform(cy - wy, cy + wy, 2)])
    return np.vstack([np.array(surface.start), random])


def _numpy_path(surface, opt, starts, steps):
    x = starts.copy()
    state = opt.init(x)
    path = [x]
    for _ in range(steps):
        x, state = opt.update(surface.grad(x), state, x)
        path.append(x)
    return np.array(path)


def _keras_path(surface, opt, starts, steps, dtype):
    # One variable per start, so per-variable options (clipnorm) act per start as in the engine.
    variables = [keras.Variable(s[None, :].astype(dtype), dtype=dtype) for s in starts]
    keras_opt = opt.to_keras()
    path = [np.vstack([v.numpy() for v in variables])]
    for _ in range(steps):
        grads = [surface.grad(v.numpy().astype(np.float64)).astype(dtype) for v in variables]
        keras_opt.apply(grads, variables)
        path.append(np.vstack([v.numpy() for v in variables]))
    return np.array(path, dtype=np.float64)


@pytest.fixture
def float64_keras():
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(previous)


@pytest.mark.parametrize("surface_id", SURFACES)
@pytest.mark.parametrize(("optimizer_id", "kwargs"), CASES, ids=lambda v: str(v))
def test_matches_keras_float64_step_for_step(float64_keras, surface_id, optimizer_id, kwargs):
    surface = surfaces.get(surface_id)
    opt = optimizers.get(optimizer_id, **kwargs)
    starts = _starts(surface)
    ours = _numpy_path(surface, opt, starts, STEPS)
    theirs = _keras_path(surface, opt, starts, STEPS, "float64")
    assert np.all(np.isfinite(theirs)), "pick settings where Keras stays finite"
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
    assert np.max(np.abs(ours[-1] - ours[0])) > 1e-4, "the race must actually move"


def test_global_clipnorm_matches_keras(float64_keras):
    # global_clipnorm spans all variables in Keras, so compare with one start (one model).
    surface = surfaces.get("rosenbrock")
    opt = optimizers.get("adam", learning_rate=1e-2, global_clipnorm=1.0)
    starts = np.array([surface.start])
    np.testing.assert_allclose(
        _numpy_path(surface, opt, starts, STEPS),
        _keras_path(surface, opt, starts, STEPS, "float64"), rtol=1e-12, atol=1e-13,
    )


@pytest.mark.parametrize("optimizer_id", optimizers.ids())
def test_matches_keras_default_float32(optimizer_id):
    # What Keras users actually run: float32 variables. Same path to float32 precision.
    surface = surfaces.get("ravine")
    kwargs = {"learning_rate": {"adadelta": 1.0, "adagrad": 0.1}.get(optimizer_id, 1e-2)}
    opt = optimizers.get(optimizer_id, **kwargs)
    starts = _starts(surface)
    ours = _numpy_path(surface, opt, starts, STEPS)
    theirs = _keras_path(surface, opt, starts, STEPS, "float32")
    scale = np.max(np.abs(ours))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4 * scale)
