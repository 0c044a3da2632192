"""Keras 3 update rules as pure, vectorized NumPy function pairs.

Each factory closes over hyperparameters and returns an :class:`UpdateRule`, a pair of
``init(params) -> state`` and ``update(grads, state, params) -> (new_params, state)``
(the optax shape, see ``optax/_src/base.py``). ``params`` and ``grads`` have shape
``(N, 2)``: N independent starts advance in one NumPy pass. State is a small NamedTuple of
arrays plus the 0-based step count, which plays the role of Keras's ``optimizer.iterations``.

The factories take every hyperparameter by keyword and have no defaults of their own: Keras's
defaults live once, in the registry's parameter descriptions (:mod:`engine.optimizers`).

Every rule follows the installed Keras source (``keras/src/optimizers/*.py`` and
``base_optimizer.py``) operation for operation, including the order of floating-point
operations, so that the NumPy path and Keras on a ``float64`` variable agree to rounding:

* gradients are clipped first (``clipnorm``/``global_clipnorm`` per start, ``clipvalue``),
* decoupled weight decay ``w -= w * weight_decay * lr`` is applied before the step,
* the update uses ``local_step = iterations + 1`` for bias corrections,
* the learning rate may be a schedule, called with the 0-based ``iterations``.

Numeric hyperparameters may also be ``(N, 1)`` arrays, one value per start; each start
does exactly the arithmetic of its scalar run (SGD's momentum 0 as ``0·v − lr·g``: same values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

LearningRate = float | Callable[[int], float]


class UpdateRule(NamedTuple):
    """A pure optimizer: ``init`` builds the state, ``update`` advances one step."""

    init: Callable[[np.ndarray], Any]
    update: Callable[[np.ndarray, Any, np.ndarray], tuple[np.ndarray, Any]]


class EmptyState(NamedTuple):
    step: int


class MomentumState(NamedTuple):
    step: int
    momentum: np.ndarray


class RMSpropState(NamedTuple):
    step: int
    velocity: np.ndarray
    momentum: np.ndarray | None
    average_gradient: np.ndarray | None


class AccumulatorState(NamedTuple):
    step: int
    accumulator: np.ndarray


class AdadeltaState(NamedTuple):
    step: int
    accumulated_grad: np.ndarray
    accumulated_delta_var: np.ndarray


class AdamState(NamedTuple):
    step: int
    momentum: np.ndarray
    velocity: np.ndarray
    velocity_hat: np.ndarray | None


class AdamaxState(NamedTuple):
    step: int
    momentum: np.ndarray
    norm: np.ndarray


class NadamState(NamedTuple):
    step: int
    momentum: np.ndarray
    velocity: np.ndarray
    u_product: float


def _zeros(params: np.ndarray) -> np.ndarray:
    return np.zeros_like(params)


def _cast(value: Any) -> Any:
    """A Python float as Keras's ``ops.cast(value, dtype)`` sees it (elementwise for arrays).

    ``ops.cast`` converts a Python float to a float32 tensor before casting, so Keras
    rounds those hyperparameters to float32 even on float64 variables. Only the ones the
    Keras source passes through ``ops.cast`` are rounded here; the rest stay exact.
    """
    rounded = np.float32(value)
    return rounded.astype(np.float64) if isinstance(value, np.ndarray) else float(rounded)


def _powers(base: Any) -> Callable[[int], Any]:
    """``k -> base ** k`` as C ``pow`` gives it (NumPy's SIMD power may not), also for arrays."""
    if not isinstance(base, np.ndarray):
        return lambda k: base**k
    levels, codes = np.unique(base, return_inverse=True)
    return lambda k: np.array([float(v) ** k for v in levels])[codes].reshape(base.shape)


def _preprocess(
    step_fn: Callable[[np.ndarray, Any, np.ndarray, float], tuple[np.ndarray, Any]],
    learning_rate: LearningRate,
    weight_decay: float | None,
    clipnorm: float | None,
    clipvalue: float | None,
    global_clipnorm: float | None,
) -> Callable[[np.ndarray, Any, np.ndarray], tuple[np.ndarray, Any]]:
    """Wrap a bare update step with Keras's base-optimizer pipeline.

    Order as in ``BaseOptimizer._backend_apply_gradients``: clip the gradients, apply
    weight decay to the variables, then run the optimizer's own ``update_step``.
    """
    schedule = learning_rate if callable(learning_rate) else None
    wd = None if weight_decay is None else _cast(weight_decay)
    array_lr = isinstance(learning_rate, np.ndarray)
    constant_lr = None if schedule else learning_rate if array_lr else float(learning_rate)
    # Per-start arrays count as set; a scalar None or 0 is off (Keras: ``if self.clipnorm``).
    clipnorm, clipvalue, global_clipnorm = (c if isinstance(c, np.ndarray) or c else None
                                            for c in (clipnorm, clipvalue, global_clipnorm))

    def update(grads: np.ndarray, state: Any, params: np.ndarray) -> tuple[np.ndarray, Any]:
        lr = float(schedule(state.step)) if schedule else constant_lr
        if clipnorm is not None:
            # keras: values * clipnorm / maximum(l2norm, clipnorm), per variable (per start).
            l2norm = np.sqrt(np.sum(np.square(grads), axis=-1, keepdims=True))
            grads = grads * clipnorm / np.maximum(l2norm, clipnorm)
        elif global_clipnorm is not None:
            # keras clip_by_global_norm: scale = c * min(1 / norm, 1 / c); one variable here.
            use_norm = np.sqrt(np.sum(np.square(grads), axis=-1, keepdims=True))
            with np.errstate(divide="ignore"):
                inverse = 1.0 / use_norm
            scale = global_clipnorm * np.minimum(inverse, 1.0 / global_clipnorm)
            grads = grads * (scale + (use_norm - use_norm))
        elif clipvalue is not None:
            grads = np.clip(grads, -clipvalue, clipvalue)
        if weight_decay is not None:
            params = params - params * wd * lr
        return step_fn(grads, state, params, lr)

    return update


def sgd(
    *, learning_rate: LearningRate, momentum: float, nesterov: bool, **base
) -> UpdateRule:
    """Gradient descent with optional (Nesterov) momentum, as ``keras.optimizers.SGD``.

    ``velocity = momentum * velocity - lr * g``; ``w += velocity`` or, with Nesterov,
    ``w += momentum * velocity - lr * g`` (Sutskever et al., 2013).
    """
    mu = _cast(momentum)
    if not isinstance(momentum, np.ndarray) and momentum == 0:

        def init(params: np.ndarray) -> EmptyState:
            return EmptyState(0)

        def step(g, state, w, lr):
            return w - g * lr, EmptyState(state.step + 1)

    else:

        def init(params: np.ndarray) -> MomentumState:
            return MomentumState(0, _zeros(params))

        def step(g, state, w, lr):
            m = state.momentum * mu - g * lr
            if nesterov:
                w = w + (m * mu - g * lr)
            else:
                w = w + m
            return w, MomentumState(state.step + 1, m)

    return UpdateRule(init, _preprocess(step, learning_rate, **base))


def rmsprop(
    *,
    learning_rate: LearningRate,
    rho: float,
    momentum: float,
    epsilon: float,
    centered: bool,
    **base,
) -> UpdateRule:
    """RMSprop as ``keras.optimizers.RMSprop`` (Hinton, 2012, lecture 6e).

    ``v = rho v + (1 - rho) g²``; ``w -= lr g / sqrt(v + eps)`` (centered: ``v - ḡ² + eps``),
    with optional plain momentum on the increment.
    """
    with_momentum = isinstance(momentum, np.ndarray) or momentum > 0

    def init(params: np.ndarray) -> RMSpropState:
        return RMSpropState(
            0,
            _zeros(params),
            _zeros(params) if with_momentum else None,
            _zeros(params) if centered else None,
        )

    def step(g, state, w, lr):
        velocity = rho * state.velocity + (1 - rho) * np.square(g)
        average_grad = state.average_gradient
        if centered:
            average_grad = rho * average_grad + (1 - rho) * g
            denominator = velocity - np.square(average_grad) + epsilon
        else:
            denominator = velocity + epsilon
        increment = (lr * g) / np.sqrt(denominator)
        mom = state.momentum
        if with_momentum:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
        return w, RMSpropState(state.step + 1, velocity, mom, average_grad)

    return UpdateRule(init, _preprocess(step, learning_rate, **base))


def adagrad(
    *,
    learning_rate: LearningRate,
    initial_accumulator_value: float,
    epsilon: float,
    **base,
) -> UpdateRule:
    """Adagrad as ``keras.optimizers.Adagrad`` (Duchi et al., 2011).

    ``acc += g²``; ``w -= lr g / sqrt(acc + eps)``.
    """

    def init(params: np.ndarray) -> AccumulatorState:
        # keras.initializers.Constant also goes through ops.cast.
        return AccumulatorState(0, np.zeros_like(params) + _cast(initial_accumulator_value))

    def step(g, state, w, lr):
        accumulator = state.accumulator + np.square(g)
        w = w - (lr * g) / np.sqrt(accumulator + epsilon)
        return w, AccumulatorState(state.step + 1, accumulator)

    return UpdateRule(init, _preprocess(step, learning_rate, **base))


def adadelta(*, learning_rate: LearningRate, rho: float, epsilon: float, **base) -> UpdateRule:
    """Adadelta as ``keras.optimizers.Adadelta`` (Zeiler, 2012).

    ``E[g²] = rho E[g²] + (1 - rho) g²``; ``Δ = -sqrt(E[Δ²] + eps) g / sqrt(E[g²] + eps)``;
    ``E[Δ²] = rho E[Δ²] + (1 - rho) Δ²``; ``w += lr Δ``.
    """

    def init(params: np.ndarray) -> AdadeltaState:
        return AdadeltaState(0, _zeros(params), _zeros(params))

    def step(g, state, w, lr):
        accumulated_grad = rho * state.accumulated_grad + (1 - rho) * np.square(g)
        delta = -(
            (np.sqrt(state.accumulated_delta_var + epsilon) * g) / np.sqrt(accumulated_grad + epsilon)
        )
        accumulated_delta = rho * state.accumulated_delta_var + (1 - rho) * np.square(delta)
        w = w + lr * delta
        return w, AdadeltaState(state.step + 1, accumulated_grad, accumulated_delta)

    return UpdateRule(init, _preprocess(step, learning_rate, **base))


def adam(
    *,
    learning_rate: LearningRate,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    amsgrad: bool,
    **base,
) -> UpdateRule:
    """Adam as ``keras.optimizers.Adam`` (Kingma & Ba, 2014; AMSGrad: Reddi et al., 2018).

    ``m += (g - m)(1 - β1)``; ``v += (g² - v)(1 - β2)``;
    ``w -= m · lr sqrt(1 - β2ᵗ) / (1 - β1ᵗ) / (sqrt(v) + eps)`` ("epsilon hat" form).
    AdamW is this rule with Keras's decoupled ``weight_decay`` applied first.
    """

    def init(params: np.ndarray) -> AdamState:
        return AdamState(0, _zeros(params), _zeros(params), _zeros(params) if amsgrad else None)

    beta_1_powers, beta_2_powers = _powers(_cast(beta_1)), _powers(_cast(beta_2))

    def step(g, state, w, lr):
        local_step = state.step + 1
        beta_1_power = beta_1_powers(local_step)
        beta_2_power = beta_2_powers(local_step)
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m = state.momentum + (g - state.momentum) * (1 - beta_1)
        v = state.velocity + (np.square(g) - state.velocity) * (1 - beta_2)
        v_hat = state.velocity_hat
        denominator_v = v
        if amsgrad:
            v_hat = np.maximum(v_hat, v)
            denominator_v = v_hat
        w = w - (m * alpha) / (np.sqrt(denominator_v) + epsilon)
        return w, AdamState(local_step, m, v, v_hat)

    return UpdateRule(init, _preprocess(step, learning_rate, **base))


def adamax(
    *,
    learning_rate: LearningRate,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    **base,
) -> UpdateRule:
    """Adamax as ``keras.optimizers.Adamax`` (Kingma & Ba, 2014, section 7.1).

    ``m += (g - m)(1 - β1)``; ``u = max(β2 u, |g|)``; ``w -= lr m / ((1 - β1ᵗ)(u + eps))``.
    """

    def init(params: np.ndarray) -> AdamaxState:
        return AdamaxState(0, _zeros(params), _zeros(params))

    beta_1_powers = _powers(_cast(beta_1))

    def step(g, state, w, lr):
        local_step = state.step + 1
        beta_1_power = beta_1_powers(local_step)
        m = state.momentum + (g - state.momentum) * (1 - beta_1)
        u = np.maximum(beta_2 * state.norm, np.abs(g))
        w = w - (lr * m) / ((1 - beta_1_power) * (u + epsilon))
        return w, AdamaxState(local_step, m, u)

    return UpdateRule(init, _preprocess(step, learning_rate, **base))


def nadam(
    *,
    learning_rate: LearningRate,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    **base,
) -> UpdateRule:
    """Nadam as ``keras.optimizers.Nadam`` (Dozat, 2016), with its momentum schedule.

    ``μₜ = β1 (1 - ½ · 0.96ᵗ)``; the running product ``Πμ`` is advanced once per step
    before the update (Keras's ``_u_product``);
    ``m̂ = μₜ₊₁ m / (1 - Πμ·μₜ₊₁) + (1 - μₜ) g / (1 - Πμ)``; ``w -= lr m̂ / (sqrt(v / (1 - β2ᵗ)) + eps)``.
    """

    def init(params: np.ndarray) -> NadamState:
        return NadamState(0, _zeros(params), _zeros(params), 1.0)

    decay, b1, b2 = _cast(0.96), _cast(beta_1), _cast(beta_2)
    beta_2_powers = _powers(b2)

    def step(g, state, w, lr):
        local_step = state.step + 1
        # Nadam._backend_update_step advances the product once per step, with exact floats.
        u_product = state.u_product * beta_1 * (1.0 - 0.5 * 0.96**local_step)
        # update_step then works with the ops.cast (float32-rounded) constants.
        u_t = b1 * (1.0 - 0.5 * decay**local_step)
        u_t_1 = b1 * (1.0 - 0.5 * decay ** (local_step + 1))
        u_product_t_1 = u_product * u_t_1
        beta_2_power = beta_2_powers(local_step)
        m = state.momentum + (g - state.momentum) * (1 - b1)
        v = state.velocity + (np.square(g) - state.velocity) * (1 - b2)
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product)
        v_hat = v / (1 - beta_2_power)
        w = w - (m_hat * lr) / (np.sqrt(v_hat) + epsilon)
        return w, NadamState(local_step, m, v, u_product)

    return UpdateRule(init, _preprocess(step, learning_rate, **base))


def lion(*, learning_rate: LearningRate, beta_1: float, beta_2: float, **base) -> UpdateRule:
    """Lion as ``keras.optimizers.Lion`` (Chen et al., 2023, "Symbolic Discovery...").

    ``w -= lr sign(β1 m + (1 - β1) g)``; then ``m = β2 m + (1 - β2) g``.
    """

    def init(params: np.ndarray) -> MomentumState:
        return MomentumState(0, _zeros(params))

    b1, b2 = _cast(beta_1), _cast(beta_2)

    def step(g, state, w, lr):
        w = w - lr * np.sign(state.momentum * b1 + g * (1.0 - b1))
        m = state.momentum * b2 + g * (1.0 - b2)
        return w, MomentumState(state.step + 1, m)

    return UpdateRule(init, _preprocess(step, learning_rate, **base))
