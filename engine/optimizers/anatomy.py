"""The anatomy of one optimizer step: every term of a Keras update, with its numbers.

:func:`decompose` takes what the update rule of :mod:`engine.optimizers.rules` takes (the
gradient, the state before the step and the weights) and redoes the step, operation for
operation in the same order, recording each intermediate as a :class:`Term` under Keras's own
names: the optimizer variables (``momentum``, ``velocity``, ``velocity_hat``, ``accumulator``,
``accumulated_grad``, ``accumulated_delta_var``, ``norm``, ``average_gradient``, Nadam's
``u_product``), the clipped gradient, the weight decay, the bias corrections, the effective
step size per coordinate and the update. Because the arithmetic is the rule's, the new weights
and state it ends with equal the rule's bit for bit (``tests/test_step_anatomy.py`` checks every
optimizer and option). NumPy only; one start, arrays of shape ``(1, 2)`` as the race uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.optimizers import Optimizer
from engine.optimizers import rules as R

VECTOR, PER_COORDINATE, SCALAR = "vector", "per_coordinate", "scalar"
#: How a kind of term is drawn: an arrow at the point, a bar per coordinate, or a number only.
KINDS = (VECTOR, PER_COORDINATE, SCALAR)


@dataclass(frozen=True)
class Term:
    """One quantity of a step.

    ``name`` is Keras's name where Keras has one (its optimizer variables keep theirs);
    ``slot`` marks Keras optimizer variables (their value after the step). ``value`` is a
    float for a scalar, else a ``(2,)`` array: a direction (``vector``) or one non-negative
    number per coordinate (``per_coordinate``). ``against`` marks a vector the weights move
    against (the gradient, Adam's momentum): drawn as ``−value`` in the direction of motion.
    """

    name: str
    kind: str
    value: Any
    formula: str
    meaning: str
    slot: bool = False
    against: bool = False

    def drawn(self) -> np.ndarray:
        """The arrow to draw for a vector: ``value``, or ``−value`` when ``against``."""
        return -self.value if self.against else self.value


@dataclass(frozen=True)
class StepAnatomy:
    """The terms of the step taken at Keras ``iterations`` (0-based) from ``point``."""

    optimizer_id: str
    iterations: int
    point: np.ndarray  # (2,) the weights before the step
    new_point: np.ndarray  # (2,) the weights after it, by the terms' own arithmetic
    terms: tuple[Term, ...]
    state: Any  # the optimizer state after the step, by the terms' own arithmetic

    @property
    def step(self) -> np.ndarray:
        """The whole change of the weights, ``new_point − point``."""
        return self.new_point - self.point

    def term(self, name: str) -> Term:
        """The term called ``name`` (``KeyError`` if this step has none)."""
        for term in self.terms:
            if term.name == name:
                return term
        raise KeyError(name)

    def names(self) -> list[str]:
        return [t.name for t in self.terms]


class _Terms:
    """Collects terms in the order a teacher would name them."""

    def __init__(self) -> None:
        self.items: list[Term] = []

    def add(self, name: str, kind: str, value: Any, formula: str, meaning: str,
            slot: bool = False, against: bool = False) -> None:
        shown = float(value) if kind == SCALAR else np.array(value, dtype=np.float64).reshape(2)
        self.items.append(Term(name, kind, shown, formula, meaning, slot, against))


def _slot_vector(terms: _Terms, name: str, value: Any, formula: str, meaning: str,
                 against: bool = False) -> None:
    terms.add(name, VECTOR, value, formula, meaning, slot=True, against=against)


def _slot_bars(terms: _Terms, name: str, value: Any, formula: str, meaning: str) -> None:
    terms.add(name, PER_COORDINATE, value, formula, meaning, slot=True)


def _step_size(terms: _Terms, value: Any, formula: str, meaning: str) -> None:
    terms.add("step size per coordinate", PER_COORDINATE,
              np.broadcast_to(value, (1, 2)), formula, meaning)


# --- the optimizers' own steps, each mirroring its function in rules.py -----------------------
def _sgd(c: Mapping[str, Any], g, state, w, lr, t: _Terms):
    mu = R._cast(c["momentum"])
    if c["momentum"] == 0:
        _step_size(t, lr, "lr", "Every coordinate moves by lr times its gradient.")
        return w - g * lr, R.EmptyState(state.step + 1)
    m = state.momentum * mu - g * lr
    _slot_vector(t, "momentum", m, "v ← μ·v − lr·g",
                 "The velocity: the previous one times μ, plus this step's −lr·g.")
    _step_size(t, lr, "lr", "The gradient's part of the step is lr times the gradient.")
    if c["nesterov"]:
        ahead = m * mu - g * lr
        t.add("look-ahead step", VECTOR, ahead, "μ·v − lr·g",
              "Nesterov steps by the new velocity once more, then the gradient again.")
        return w + ahead, R.MomentumState(state.step + 1, m)
    return w + m, R.MomentumState(state.step + 1, m)


def _rmsprop(c, g, state, w, lr, t: _Terms):
    rho, epsilon, momentum = c["rho"], c["epsilon"], c["momentum"]
    velocity = rho * state.velocity + (1 - rho) * np.square(g)
    _slot_bars(t, "velocity", velocity, "v ← ρ·v + (1−ρ)·g²",
               "A running average of the squared gradient, per coordinate.")
    average_grad = state.average_gradient
    if c["centered"]:
        average_grad = rho * average_grad + (1 - rho) * g
        _slot_vector(t, "average_gradient", average_grad, "ḡ ← ρ·ḡ + (1−ρ)·g",
                     "A running average of the gradient (centered RMSprop).", against=True)
        denominator = velocity - np.square(average_grad) + epsilon
        size_formula = "lr / √(v − ḡ² + ε)"
    else:
        denominator = velocity + epsilon
        size_formula = "lr / √(v + ε)"
    root = np.sqrt(denominator)
    _step_size(t, lr / root, size_formula,
               "Large where gradients have been small, small where they have been large.")
    increment = (lr * g) / root
    t.add("increment", VECTOR, increment, "lr·g / √(…)", "The scaled gradient step.",
          against=True)
    mom = state.momentum
    with_momentum = isinstance(momentum, np.ndarray) or momentum > 0
    if with_momentum:
        mom = momentum * mom + increment
        _slot_vector(t, "momentum", mom, "mom ← μ·mom + increment",
                     "Momentum on the scaled steps; the weights move by −mom.", against=True)
        return w - mom, R.RMSpropState(state.step + 1, velocity, mom, average_grad)
    return w - increment, R.RMSpropState(state.step + 1, velocity, mom, average_grad)


def _adagrad(c, g, state, w, lr, t: _Terms):
    accumulator = state.accumulator + np.square(g)
    _slot_bars(t, "accumulator", accumulator, "a ← a + g²",
               "Every squared gradient so far, summed per coordinate: it only grows.")
    root = np.sqrt(accumulator + c["epsilon"])
    _step_size(t, lr / root, "lr / √(a + ε)", "Shrinks for good where gradients were large.")
    return w - (lr * g) / root, R.AccumulatorState(state.step + 1, accumulator)


def _adadelta(c, g, state, w, lr, t: _Terms):
    rho, epsilon = c["rho"], c["epsilon"]
    accumulated_grad = rho * state.accumulated_grad + (1 - rho) * np.square(g)
    _slot_bars(t, "accumulated_grad", accumulated_grad, "E[g²] ← ρ·E[g²] + (1−ρ)·g²",
               "A running average of the squared gradient.")
    top, bottom = np.sqrt(state.accumulated_delta_var + epsilon), np.sqrt(accumulated_grad + epsilon)
    _step_size(t, lr * (top / bottom), "lr·√(E[Δ²] + ε) / √(E[g²] + ε)",
               "The ratio of recent step sizes to recent gradient sizes.")
    delta = -((top * g) / bottom)
    t.add("delta", VECTOR, delta, "Δ = −√(E[Δ²]+ε)·g / √(E[g²]+ε)",
          "The step before the learning rate: it has the units of the weights.")
    accumulated_delta = rho * state.accumulated_delta_var + (1 - rho) * np.square(delta)
    _slot_bars(t, "accumulated_delta_var", accumulated_delta, "E[Δ²] ← ρ·E[Δ²] + (1−ρ)·Δ²",
               "A running average of the squared steps, for the next step's numerator.")
    return w + lr * delta, R.AdadeltaState(state.step + 1, accumulated_grad, accumulated_delta)


def _adam(c, g, state, w, lr, t: _Terms):
    beta_1, beta_2, epsilon = c["beta_1"], c["beta_2"], c["epsilon"]
    local_step = state.step + 1
    beta_1_power = R._powers(R._cast(beta_1))(local_step)
    beta_2_power = R._powers(R._cast(beta_2))(local_step)
    m = state.momentum + (g - state.momentum) * (1 - beta_1)
    _slot_vector(t, "momentum", m, "m ← m + (g − m)·(1−β1)",
                 "A running average of the gradient: the direction, smoothed.", against=True)
    v = state.velocity + (np.square(g) - state.velocity) * (1 - beta_2)
    _slot_bars(t, "velocity", v, "v ← v + (g² − v)·(1−β2)",
               "A running average of the squared gradient: how steep, per coordinate.")
    t.add("1 − β1ᵗ", SCALAR, 1 - beta_1_power, f"1 − β1^{local_step}",
          "Bias correction of m: early averages start from 0 and are too small.")
    t.add("√(1 − β2ᵗ)", SCALAR, np.sqrt(1 - beta_2_power), f"√(1 − β2^{local_step})",
          "Bias correction of v, under the square root.")
    alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    t.add("corrected learning rate", SCALAR, alpha, "α = lr·√(1−β2ᵗ) / (1−β1ᵗ)",
          "Both corrections folded into the learning rate (Keras's ε-hat form).")
    v_hat, denominator_v = state.velocity_hat, v
    if c["amsgrad"]:
        v_hat = np.maximum(v_hat, v)
        _slot_bars(t, "velocity_hat", v_hat, "v̂ ← max(v̂, v)",
                   "The largest v so far: the step size can only shrink (AMSGrad).")
        denominator_v = v_hat
    root = np.sqrt(denominator_v) + epsilon
    _step_size(t, alpha / root, "α / (√v + ε)",
               "Each coordinate's own step size: about α where gradients are steady.")
    return w - (m * alpha) / root, R.AdamState(local_step, m, v, v_hat)


def _adamax(c, g, state, w, lr, t: _Terms):
    beta_1, beta_2, epsilon = c["beta_1"], c["beta_2"], c["epsilon"]
    local_step = state.step + 1
    beta_1_power = R._powers(R._cast(beta_1))(local_step)
    m = state.momentum + (g - state.momentum) * (1 - beta_1)
    _slot_vector(t, "momentum", m, "m ← m + (g − m)·(1−β1)",
                 "A running average of the gradient.", against=True)
    u = np.maximum(beta_2 * state.norm, np.abs(g))
    _slot_bars(t, "norm", u, "u ← max(β2·u, |g|)",
               "A slowly fading maximum of the gradient's size (the infinity norm).")
    t.add("1 − β1ᵗ", SCALAR, 1 - beta_1_power, f"1 − β1^{local_step}", "Bias correction of m.")
    scale = (1 - beta_1_power) * (u + epsilon)
    _step_size(t, lr / scale, "lr / ((1−β1ᵗ)·(u + ε))", "Each coordinate's own step size.")
    return w - (lr * m) / scale, R.AdamaxState(local_step, m, u)


def _nadam(c, g, state, w, lr, t: _Terms):
    beta_1, epsilon = c["beta_1"], c["epsilon"]
    decay, b1, b2 = R._cast(0.96), R._cast(beta_1), R._cast(c["beta_2"])
    local_step = state.step + 1
    u_product = state.u_product * beta_1 * (1.0 - 0.5 * 0.96**local_step)
    u_t = b1 * (1.0 - 0.5 * decay**local_step)
    u_t_1 = b1 * (1.0 - 0.5 * decay ** (local_step + 1))
    u_product_t_1 = u_product * u_t_1
    beta_2_power = R._powers(b2)(local_step)
    t.add("μₜ", SCALAR, u_t, "β1·(1 − ½·0.96ᵗ)", "This step's momentum coefficient.")
    t.add("μₜ₊₁", SCALAR, u_t_1, "β1·(1 − ½·0.96ᵗ⁺¹)", "The next step's, for the look-ahead.")
    t.add("u_product", SCALAR, u_product, "Πμ ← Πμ·μₜ", "The product of all μ so far.", True)
    m = state.momentum + (g - state.momentum) * (1 - b1)
    _slot_vector(t, "momentum", m, "m ← m + (g − m)·(1−β1)",
                 "A running average of the gradient.", against=True)
    v = state.velocity + (np.square(g) - state.velocity) * (1 - b2)
    _slot_bars(t, "velocity", v, "v ← v + (g² − v)·(1−β2)",
               "A running average of the squared gradient.")
    m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product)
    t.add("m̂ (look-ahead momentum)", VECTOR, m_hat, "μₜ₊₁·m/(1−Πμ·μₜ₊₁) + (1−μₜ)·g/(1−Πμ)",
          "Bias-corrected momentum one step ahead, plus the corrected gradient (Nesterov).",
          against=True)
    v_hat = v / (1 - beta_2_power)
    t.add("v̂ (corrected velocity)", PER_COORDINATE, v_hat, "v / (1 − β2ᵗ)",
          "The squared-gradient average corrected for its start at 0.")
    root = np.sqrt(v_hat) + epsilon
    _step_size(t, lr / root, "lr / (√v̂ + ε)", "Each coordinate's own step size.")
    return w - (m_hat * lr) / root, R.NadamState(local_step, m, v, u_product)


def _lion(c, g, state, w, lr, t: _Terms):
    b1, b2 = R._cast(c["beta_1"]), R._cast(c["beta_2"])
    blend = state.momentum * b1 + g * (1.0 - b1)
    t.add("interpolation", VECTOR, blend, "c = β1·m + (1−β1)·g",
          "A blend of momentum and gradient: only its sign is used.", against=True)
    sign = np.sign(blend)
    t.add("sign", VECTOR, sign, "sign(c)", "±1 per coordinate: every coordinate moves by lr.",
          against=True)
    _step_size(t, lr, "lr", "The same size for every coordinate, whatever the gradient.")
    w = w - lr * sign
    m = state.momentum * b2 + g * (1.0 - b2)
    _slot_vector(t, "momentum", m, "m ← β2·m + (1−β2)·g", "Updated after the step, with β2.",
                 against=True)
    return w, R.MomentumState(state.step + 1, m)


_STEPS: dict[str, Callable[..., tuple[np.ndarray, Any]]] = {
    "SGD": _sgd, "RMSprop": _rmsprop, "Adagrad": _adagrad, "Adadelta": _adadelta,
    "Adam": _adam, "AdamW": _adam, "Adamax": _adamax, "Nadam": _nadam, "Lion": _lion,
}


def decompose(optimizer: Optimizer, grads: Any, state: Any, params: Any,
              schedule: Callable[[int], float] | None = None,
              true_gradient: Any = None) -> StepAnatomy:
    """The terms of ``optimizer``'s next step, by the arithmetic of its update rule.

    Parameters
    ----------
    optimizer
        From :func:`engine.optimizers.get` (one start, scalar hyperparameters).
    grads, state, params
        What ``optimizer.update`` takes: the gradient it sees ``(1, 2)``, its state before the
        step and the weights ``(1, 2)``.
    schedule
        The learning-rate schedule the optimizer was built with, if any.
    true_gradient
        The surface's gradient when ``grads`` is noisy: shown, with the noise, as terms.

    Returns
    -------
    StepAnatomy
        Its ``new_point`` and ``state`` equal ``optimizer.update(grads, state, params)``.
    """
    c = optimizer.config
    g = np.asarray(grads, dtype=np.float64).reshape(1, 2)
    w0 = w = np.asarray(params, dtype=np.float64).reshape(1, 2)
    t = _Terms()
    if true_gradient is not None:
        t.add("true gradient", VECTOR, true_gradient, "∇f(w)", "The surface's exact gradient.",
              against=True)
        t.add("noise", VECTOR, g - np.asarray(true_gradient).reshape(1, 2), "σ·N(0, 1)",
              "Gaussian noise added to each coordinate, as in a mini-batch.", against=True)
    t.add("gradient", VECTOR, g, "g = ∇f(w)" + (" + noise" if true_gradient is not None else ""),
          "Points uphill; every optimizer starts from it (drawn as −g, downhill).", against=True)
    lr = float(schedule(state.step)) if schedule is not None else float(c["learning_rate"])
    t.add("learning rate", SCALAR, lr,
          "schedule(iterations)" if schedule is not None else "lr", "The base step size.")
    g = _clip(c, g, t)
    if c.get("weight_decay") is not None:
        decayed = w - w * R._cast(c["weight_decay"]) * lr
        t.add("weight decay", VECTOR, decayed - w, "−w·λ·lr",
              "Decoupled weight decay: pulls the weights towards 0 before the step.")
        w = decayed
    new_w, new_state = _STEPS[optimizer.spec.keras_class](c, g, state, w, lr, t)
    t.add("update", VECTOR, new_w - w, "w_new − w", "The optimizer's step: where it moves.")
    if c.get("weight_decay") is not None:
        t.add("total step", VECTOR, new_w - w0, "weight decay + update", "The whole move.")
    return StepAnatomy(optimizer.id, int(state.step), w0[0].copy(), new_w[0].copy(),
                       tuple(t.items), new_state)


def _clip(c: Mapping[str, Any], g: np.ndarray, t: _Terms) -> np.ndarray:
    """Keras's gradient clipping as ``rules._preprocess`` does it, recorded when set."""
    if c.get("clipnorm"):
        clipnorm = c["clipnorm"]
        l2norm = np.sqrt(np.sum(np.square(g), axis=-1, keepdims=True))
        g = g * clipnorm / np.maximum(l2norm, clipnorm)
        formula = "g·c / max(‖g‖, c)"
    elif c.get("global_clipnorm"):
        global_clipnorm = c["global_clipnorm"]
        use_norm = np.sqrt(np.sum(np.square(g), axis=-1, keepdims=True))
        with np.errstate(divide="ignore"):
            inverse = 1.0 / use_norm
        scale = global_clipnorm * np.minimum(inverse, 1.0 / global_clipnorm)
        g = g * (scale + (use_norm - use_norm))
        formula = "g·c·min(1/‖g‖, 1/c)"
    elif c.get("clipvalue"):
        clipvalue = c["clipvalue"]
        g = np.clip(g, -clipvalue, clipvalue)
        formula = "clip(g, −c, c)"
    else:
        return g
    t.add("clipped gradient", VECTOR, g, formula, "The gradient after Keras's clipping.",
          against=True)
    return g
