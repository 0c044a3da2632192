"""The optimizer registry: entries, validation, and NumPy behaviour on simple problems."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import optimizers
from engine.params import HyperParamError

REQUIRED = ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adadelta", "adam",
            "amsgrad", "adamw", "adamax", "nadam", "lion")


def test_registry_holds_every_required_optimizer_once():
    assert set(REQUIRED) <= set(optimizers.ids())
    assert len(set(optimizers.ids())) == len(optimizers.ids())


@pytest.mark.parametrize("optimizer_id", REQUIRED)
def test_entry_metadata_is_complete(optimizer_id):
    spec = optimizers.spec(optimizer_id)
    assert spec.name and spec.formula and spec.intuition and spec.reference
    assert spec.pros and spec.cons
    names = [h.name for h in spec.hyperparams]
    assert names[0] == "learning_rate" and len(names) == len(set(names))
    json.dumps(spec.to_json(), allow_nan=False)  # strict JSON


def test_entries_carry_the_lesson_defaults():
    assert optimizers.get("momentum").config["momentum"] == 0.9
    assert optimizers.get("nesterov").config["nesterov"] is True
    assert optimizers.get("amsgrad").config["amsgrad"] is True
    assert optimizers.get("adamw").config["weight_decay"] == 0.004
    assert optimizers.get("sgd").config["learning_rate"] == 0.01
    assert optimizers.get("adam").config == {
        "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
        "amsgrad": False, "weight_decay": None, "clipnorm": None, "clipvalue": None,
        "global_clipnorm": None,
    }


@pytest.mark.parametrize(
    ("optimizer_id", "kwargs", "field"),
    [
        ("sgd", {"learning_rate": -0.1}, "learning_rate"),
        ("sgd", {"learning_rate": 0}, "learning_rate"),
        ("sgd", {"learning_rate": float("nan")}, "learning_rate"),
        ("sgd", {"learning_rate": "fast"}, "learning_rate"),
        ("adam", {"beta_1": 1.0}, "beta_1"),
        ("adam", {"beta_2": -0.1}, "beta_2"),
        ("adam", {"epsilon": -1e-7}, "epsilon"),
        ("adam", {"epsilon": 0}, "epsilon"),
        ("adam", {"amsgrad": "maybe"}, "amsgrad"),
        ("sgd", {"momentum": 1.5}, "momentum"),
        ("lion", {"beta_1": 0.0}, "beta_1"),
        ("adam", {"rho": 0.9}, "rho"),
        ("adam", {"clipnorm": 1.0, "clipvalue": 1.0}, "clipvalue"),
        ("adamw", {"weight_decay": "none"}, "weight_decay"),
    ],
)
def test_bad_values_are_refused_naming_the_field(optimizer_id, kwargs, field):
    with pytest.raises(HyperParamError) as caught:
        optimizers.get(optimizer_id, **kwargs)
    assert caught.value.field == field
    assert str(caught.value).startswith(field)


def test_unknown_optimizer_lists_the_valid_ids():
    with pytest.raises(optimizers.UnknownOptimizerError, match="adam"):
        optimizers.get("adamm")


def test_string_values_from_the_command_line_are_coerced():
    opt = optimizers.get("sgd", learning_rate="0.05", nesterov="true", momentum="0.5")
    assert opt.config["learning_rate"] == 0.05
    assert opt.config["nesterov"] is True
    assert optimizers.get("adam", clipnorm="none").config["clipnorm"] is None


@pytest.mark.parametrize("optimizer_id", REQUIRED)
def test_update_is_pure_and_vectorized(optimizer_id):
    opt = optimizers.get(optimizer_id)
    params = np.array([[1.0, -2.0], [0.5, 0.25], [3.0, 3.0]])
    grads = 2 * params
    state = opt.init(params)
    params_before, grads_before = params.copy(), grads.copy()
    new_params, new_state = opt.update(grads, state, params)
    np.testing.assert_array_equal(params, params_before)
    np.testing.assert_array_equal(grads, grads_before)
    assert new_state.step == 1 and state.step == 0
    # Each row advances exactly as it would alone.
    for i in range(3):
        alone, _ = opt.update(grads[i : i + 1], opt.init(params[i : i + 1]), params[i : i + 1])
        np.testing.assert_array_equal(alone[0], new_params[i])


@pytest.mark.parametrize("optimizer_id", REQUIRED)
def test_every_optimizer_descends_a_parabola(optimizer_id):
    # f = x² + y², from (1, 1): after 300 steps at a moderate rate each is much lower.
    lr = {"adadelta": 10.0, "adagrad": 0.1}.get(optimizer_id, 0.01)
    opt = optimizers.get(optimizer_id, learning_rate=lr)
    params = np.array([[1.0, 1.0]])
    state = opt.init(params)
    for _ in range(300):
        params, state = opt.update(2 * params, state, params)
    assert np.sum(params**2) < 0.25 * 2.0


def test_schedule_replaces_the_constant_learning_rate():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    opt = optimizers.get("sgd", learning_rate_schedule=schedule)
    params = np.array([[1.0, 0.0]])
    state = opt.init(params)
    for _ in range(3):
        params, state = opt.update(np.ones_like(params), state, params)
    assert seen == [0, 1, 2]
    assert params[0, 0] == pytest.approx(1 - 0.1 - 0.05 - 0.1 / 3)


def test_weight_decay_is_applied_before_the_step():
    # SGD with weight decay on a zero gradient: w <- w - w * wd * lr (Keras's decoupled rule).
    opt = optimizers.get("sgd", learning_rate=0.5, weight_decay=0.25)
    params = np.array([[2.0, -4.0]])
    new, _ = opt.update(np.zeros_like(params), opt.init(params), params)
    np.testing.assert_allclose(new, params * (1 - 0.25 * 0.5), rtol=1e-7)


def test_clipnorm_clips_each_start_separately():
    opt = optimizers.get("sgd", learning_rate=1.0, clipnorm=1.0)
    params = np.zeros((2, 2))
    grads = np.array([[3.0, 4.0], [0.3, 0.4]])
    new, _ = opt.update(grads, opt.init(params), params)
    np.testing.assert_allclose(new, [[-0.6, -0.8], [-0.3, -0.4]])
