"""The one optimizer registry both tabs use.

Each :class:`OptimizerSpec` knows its id, the Keras class it mirrors and that class's
argument names, defaults and valid ranges, the update rule as a formula, its lesson text,
its NumPy implementation (:mod:`engine.optimizers.rules`) and how to build the real Keras
optimizer. ``get(id, **keras_kwargs)`` validates the arguments and returns an
:class:`Optimizer` whose ``init``/``update`` run the Keras rule on ``(N, 2)`` arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from engine.optimizers import rules as update_rules
from engine.optimizers import tensorflow_loader
from engine.optimizers.hyperparams import base_options, decay_rate, epsilon, flag, learning_rate
from engine.params import HyperParamError, Param, ParamError

__all__ = [
    "CLIPS",
    "HyperParamError",
    "Optimizer",
    "OptimizerSpec",
    "UnknownOptimizerError",
    "catalog",
    "get",
    "ids",
    "one_clip",
]

#: Keras's gradient-clipping options, of which at most one may be set.
CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")


def one_clip(config: Mapping[str, Any]) -> None:
    """Refuse a config with more than one clipping option set (Keras allows one).

    A value counts as set as Keras's ``if self.clipnorm`` sees it (None and 0 are off); a
    per-start array (maps) always counts.

    Raises
    ------
    ParamError
        Naming the second clipping option set.
    """
    clips = [name for name in CLIPS if isinstance(config.get(name), np.ndarray)
             or config.get(name)]
    if len(clips) > 1:
        raise ParamError(clips[1], f"only one of {', '.join(clips)} can be set (Keras)")


class UnknownOptimizerError(ValueError):
    """An optimizer id that is not in the registry."""


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry: everything the app knows about one optimizer."""

    id: str
    name: str
    keras_class: str
    hyperparams: tuple[Param, ...]
    rule: Callable[..., update_rules.UpdateRule]
    formula: str
    intuition: str
    pros: tuple[str, ...]
    cons: tuple[str, ...]
    reference: str

    def param(self, name: str) -> Param:
        """The hyperparameter called ``name``; :class:`HyperParamError` if there is none."""
        for hyperparam in self.hyperparams:
            if hyperparam.name == name:
                return hyperparam
        valid = ", ".join(h.name for h in self.hyperparams)
        raise HyperParamError(name, f"is not a hyperparameter of {self.id} (valid: {valid})")

    def defaults(self) -> dict[str, Any]:
        """Keras's defaults for this entry, keyed by Keras argument name."""
        return {h.name: h.default for h in self.hyperparams}

    def validate(self, **keras_kwargs: Any) -> dict[str, Any]:
        """Defaults overlaid with ``keras_kwargs``, each value checked; a full config."""
        config = self.defaults()
        for name, value in keras_kwargs.items():
            config[name] = self.param(name).validate(value)
        one_clip(config)
        return config

    def memory_slots(self, config: Mapping[str, Any] | None = None) -> int:
        """Numbers Keras keeps per weight besides the weight itself, with these settings
        (Keras's defaults when None): the arrays of the rule's state, counted.

        SGD keeps none (one with momentum), RMSProp one (plus one for momentum, one when
        centered), Adam two (three with AMSGrad).
        """
        full = self.validate(**dict(config or {}))
        rule_kwargs = {k: v for k, v in full.items() if k not in _BASE_NAMES}
        rule = self.rule(**rule_kwargs, **{k: full[k] for k in _BASE_NAMES})
        params = np.zeros((1, 2))
        state = rule.init(params)
        return sum(isinstance(part, np.ndarray) and part.shape == params.shape for part in state)

    def to_json(self) -> dict[str, Any]:
        """A plain-dict description for ``main.py optimizers --json``."""
        return {
            "id": self.id,
            "name": self.name,
            "keras_class": f"keras.optimizers.{self.keras_class}",
            "formula": self.formula,
            "intuition": self.intuition,
            "pros": list(self.pros),
            "cons": list(self.cons),
            "reference": self.reference,
            "state_slots_per_weight": self.memory_slots(),
            "hyperparameters": [h.to_json() for h in self.hyperparams],
        }


@dataclass(frozen=True)
class Optimizer:
    """A validated optimizer: registry entry, full Keras config and its pure update rule."""

    spec: OptimizerSpec
    config: Mapping[str, Any]
    rule: update_rules.UpdateRule = field(repr=False)
    #: The ``step -> learning rate`` callable the rule uses instead of the constant
    #: ``config["learning_rate"]``, or None (compiled kernels precompute its values).
    learning_rate_schedule: Any = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.spec.id

    def init(self, params: np.ndarray) -> Any:
        """Optimizer state for ``params`` of shape ``(N, 2)`` (step count 0)."""
        return self.rule.init(np.asarray(params, dtype=np.float64))

    def update(self, grads: np.ndarray, state: Any, params: np.ndarray) -> tuple[np.ndarray, Any]:
        """One Keras step: ``(new_params, new_state)``; inputs are left untouched."""
        return self.rule.update(grads, state, params)

    def keras_kwargs(self) -> dict[str, Any]:
        """Arguments for the Keras constructor, typed as Keras checks them."""
        kwargs: dict[str, Any] = {}
        for hyperparam in self.spec.hyperparams:
            value = self.config[hyperparam.name]
            if value is None:  # an option switched off: Keras's own default (None)
                continue
            kwargs[hyperparam.name] = float(value) if hyperparam.kind != "bool" else bool(value)
        return kwargs

    def to_keras(self, learning_rate: Any = None) -> Any:
        """Build the real ``keras.optimizers`` object (imports Keras on first use).

        ``learning_rate`` may override the configured float, e.g. with a Keras schedule.
        """
        tensorflow_loader.load()
        import keras

        kwargs = self.keras_kwargs()
        if learning_rate is not None:
            kwargs["learning_rate"] = learning_rate
        return getattr(keras.optimizers, self.spec.keras_class)(**kwargs)


def _sgd_params(momentum: float, nesterov: bool) -> tuple[Param, ...]:
    return (
        learning_rate(0.01),
        Param("momentum", "float", momentum, 0.0, 1.0,
              doc="Fraction of the previous velocity kept each step."),
        flag("nesterov", nesterov, "Evaluate the momentum step 'ahead' (Nesterov)."),
        *base_options(),
    )


def _adam_params(amsgrad: bool, weight_decay: float | None = None) -> tuple[Param, ...]:
    return (
        learning_rate(0.001),
        decay_rate("beta_1", 0.9, "Decay of the first-moment (mean gradient) average."),
        decay_rate("beta_2", 0.999, "Decay of the second-moment (squared gradient) average."),
        epsilon(),
        flag("amsgrad", amsgrad, "Use the running maximum of v (AMSGrad)."),
        *base_options(weight_decay),
    )


_SGD_PROS = ("Simplest rule; least memory (no state).", "Generalises well when tuned.")
_ADAM_FORMULA = (
    "m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  "
    "w ← w − lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε)"
)

_SPECS: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        "sgd", "SGD", "SGD", _sgd_params(0.0, False), update_rules.sgd,
        "w ← w − lr·g",
        "Step straight downhill, by a fixed fraction of the slope.",
        _SGD_PROS,
        ("One learning rate for every direction: crawls in flat directions, "
         "zig-zags in steep ones.", "May be slow; stalls near saddles."),
        "Robbins & Monro (1951), A Stochastic Approximation Method.",
    ),
    OptimizerSpec(
        "momentum", "Momentum", "SGD", _sgd_params(0.9, False), update_rules.sgd,
        "v ← μ·v − lr·g;  w ← w + v",
        "A heavy ball: velocity builds up along consistent directions and cancels across "
        "oscillating ones.",
        ("Accelerates along ravines.", "Damps zig-zagging.", "One extra state slot."),
        ("Can overshoot and orbit the minimum.", "Adds a hyperparameter (momentum)."),
        "Polyak (1964), Some methods of speeding up the convergence of iteration methods.",
    ),
    OptimizerSpec(
        "nesterov", "Nesterov", "SGD", _sgd_params(0.9, True), update_rules.sgd,
        "v ← μ·v − lr·g;  w ← w + μ·v − lr·g",
        "Momentum that looks ahead: corrects course before it overshoots.",
        ("Less overshoot than plain momentum.", "Same cost as momentum."),
        ("Still one learning rate for all directions.",),
        "Nesterov (1983); Sutskever et al. (2013), On the importance of initialization and "
        "momentum in deep learning.",
    ),
    OptimizerSpec(
        "rmsprop", "RMSProp", "RMSprop",
        (
            learning_rate(0.001),
            decay_rate("rho", 0.9, "Decay of the squared-gradient average."),
            Param("momentum", "float", 0.0, 0.0, 1.0, high_open=True,
                  doc="Momentum on the scaled step (0 = none)."),
            epsilon(),
            flag("centered", False, "Normalise by the gradient's variance, not its raw second moment."),
            *base_options(),
        ),
        update_rules.rmsprop,
        "v ← ρ·v + (1−ρ)·g²;  w ← w − lr·g / √(v + ε)",
        "Divide each coordinate's step by its recent gradient size: every direction moves "
        "at a similar pace.",
        ("Adapts the step per parameter.", "Handles badly scaled problems."),
        ("Sensitive to the learning rate.", "One extra state slot (two if centered)."),
        "Hinton, Srivastava & Swersky (2012), Neural Networks for Machine Learning, lecture 6e.",
    ),
    OptimizerSpec(
        "adagrad", "Adagrad", "Adagrad",
        (
            learning_rate(0.001),
            Param("initial_accumulator_value", "float", 0.1, 0.0, 1e3,
                  doc="Starting value of the squared-gradient sum."),
            epsilon(),
            *base_options(),
        ),
        update_rules.adagrad,
        "a ← a + g²;  w ← w − lr·g / √(a + ε)",
        "Per-parameter steps that shrink with the total gradient seen so far.",
        ("No decay rate to tune.", "Good for sparse features."),
        ("Steps shrink forever: may stop before the minimum.",),
        "Duchi, Hazan & Singer (2011), Adaptive Subgradient Methods, JMLR 12.",
    ),
    OptimizerSpec(
        "adadelta", "Adadelta", "Adadelta",
        (
            learning_rate(0.001),
            decay_rate("rho", 0.95, "Decay of both running averages."),
            epsilon(),
            *base_options(),
        ),
        update_rules.adadelta,
        "E[g²] ← ρ·E[g²] + (1−ρ)·g²;  Δ = −√(E[Δ²]+ε)/√(E[g²]+ε)·g;  "
        "E[Δ²] ← ρ·E[Δ²] + (1−ρ)·Δ²;  w ← w + lr·Δ",
        "Adagrad with a moving window, whose step has the units of the parameters.",
        ("Does not decay to zero like Adagrad.",),
        ("Slow start with Keras's default learning rate.", "Two extra state slots."),
        "Zeiler (2012), ADADELTA: An Adaptive Learning Rate Method, arXiv:1212.5701.",
    ),
    OptimizerSpec(
        "adam", "Adam", "Adam", _adam_params(False), update_rules.adam, _ADAM_FORMULA,
        "Momentum plus RMSProp, with bias correction for the first steps.",
        ("Works well with defaults on many problems.", "Per-parameter steps with momentum."),
        ("Two extra state slots (more memory than SGD).",
         "May generalise worse than tuned SGD."),
        "Kingma & Ba (2014), Adam: A Method for Stochastic Optimization, arXiv:1412.6980.",
    ),
    OptimizerSpec(
        "amsgrad", "AMSGrad", "Adam", _adam_params(True), update_rules.adam,
        _ADAM_FORMULA.replace("(√v + ε)", "(√max(v) + ε)"),
        "Adam that never lets its step-size denominator shrink.",
        ("Fixes Adam's non-convergence counter-examples.",),
        ("Three extra state slots.", "Often no better than Adam in practice."),
        "Reddi, Kale & Kumar (2018), On the Convergence of Adam and Beyond, ICLR.",
    ),
    OptimizerSpec(
        "adamw", "AdamW", "AdamW", _adam_params(False, weight_decay=0.004), update_rules.adam,
        "w ← w − lr·λ·w;  then Adam",
        "Adam with weight decay applied directly to the weights, not through the gradient.",
        ("Regularisation that does not fight the adaptive scaling.",),
        ("Pulls every weight towards 0: the minimum moves unless λ = 0.",
         "Two extra state slots."),
        "Loshchilov & Hutter (2019), Decoupled Weight Decay Regularization, ICLR.",
    ),
    OptimizerSpec(
        "adamax", "Adamax", "Adamax",
        (
            learning_rate(0.001),
            decay_rate("beta_1", 0.9, "Decay of the first-moment average."),
            decay_rate("beta_2", 0.999, "Decay of the infinity-norm average."),
            epsilon(),
            *base_options(),
        ),
        update_rules.adamax,
        "m ← β1·m + (1−β1)·g;  u ← max(β2·u, |g|);  w ← w − lr/(1−β1ᵗ) · m / (u + ε)",
        "Adam with the infinity norm in place of the squared average.",
        ("Robust to rare large gradients.",),
        ("Two extra state slots.",),
        "Kingma & Ba (2014), Adam, section 7.1.",
    ),
    OptimizerSpec(
        "nadam", "Nadam", "Nadam",
        (
            learning_rate(0.001),
            decay_rate("beta_1", 0.9, "Decay of the first-moment average."),
            decay_rate("beta_2", 0.999, "Decay of the second-moment average."),
            epsilon(),
            *base_options(),
        ),
        update_rules.nadam,
        "μₜ = β1(1 − ½·0.96ᵗ);  m̂ = μₜ₊₁·m/(1−Πμ₁..ₜ₊₁) + (1−μₜ)·g/(1−Πμ₁..ₜ);  "
        "w ← w − lr·m̂ / (√(v/(1−β2ᵗ)) + ε)",
        "Adam with Nesterov's look-ahead momentum.",
        ("Often a little faster than Adam.",),
        ("Two extra state slots.",),
        "Dozat (2016), Incorporating Nesterov Momentum into Adam, ICLR workshop.",
    ),
    OptimizerSpec(
        "lion", "Lion", "Lion",
        (
            learning_rate(0.001),
            Param("beta_1", "float", 0.9, 0.0, 1.0, low_open=True,
                  doc="Interpolation between momentum and gradient for the step's sign."),
            Param("beta_2", "float", 0.99, 0.0, 1.0, doc="Decay of the momentum average."),
            *base_options(),
        ),
        update_rules.lion,
        "w ← w − lr·sign(β1·m + (1−β1)·g);  m ← β2·m + (1−β2)·g",
        "Every step has the same size per coordinate; only its sign comes from the gradient.",
        ("One state slot (half of Adam's).", "Found by program search."),
        ("Needs a smaller learning rate than Adam.", "Never settles exactly: steps keep size lr."),
        "Chen et al. (2023), Symbolic Discovery of Optimization Algorithms, arXiv:2302.06675.",
    ),
)

REGISTRY: Mapping[str, OptimizerSpec] = MappingProxyType({spec.id: spec for spec in _SPECS})

_BASE_NAMES = ("weight_decay", *CLIPS)


def ids() -> tuple[str, ...]:
    """Registry ids in display order."""
    return tuple(REGISTRY)


def catalog() -> tuple[OptimizerSpec, ...]:
    """All registry entries in display order."""
    return _SPECS


def spec(optimizer_id: str) -> OptimizerSpec:
    """The registry entry for ``optimizer_id``."""
    try:
        return REGISTRY[optimizer_id]
    except KeyError:
        raise UnknownOptimizerError(
            f"unknown optimizer {optimizer_id!r} (valid: {', '.join(REGISTRY)})"
        ) from None


def get(optimizer_id: str, learning_rate_schedule: Any = None, **keras_kwargs: Any) -> Optimizer:
    """A validated optimizer from the registry.

    Parameters
    ----------
    optimizer_id
        Registry id, e.g. ``"adam"``.
    learning_rate_schedule
        Optional callable ``step -> learning rate`` (0-based step, as Keras schedules are
        called with ``optimizer.iterations``); replaces the constant ``learning_rate``.
    **keras_kwargs
        Keras constructor arguments, e.g. ``learning_rate=0.01, beta_1=0.8``.

    Raises
    ------
    UnknownOptimizerError
        For an id not in the registry.
    HyperParamError
        For an unknown argument or a value outside its valid range (names the field).
    """
    entry = spec(optimizer_id)
    config = entry.validate(**keras_kwargs)
    rule_kwargs = {k: v for k, v in config.items() if k not in _BASE_NAMES}
    if learning_rate_schedule is not None:
        rule_kwargs["learning_rate"] = learning_rate_schedule
    rule = entry.rule(**rule_kwargs, **{k: config[k] for k in _BASE_NAMES})
    return Optimizer(entry, MappingProxyType(config), rule, learning_rate_schedule)
