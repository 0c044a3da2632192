"""Learning-rate schedules: ``keras.optimizers.schedules`` as small NumPy objects.

A schedule is a frozen dataclass called as ``schedule(step) -> float`` with the 0-based
iteration count, as Keras calls it with ``optimizer.iterations``; pass one to
:func:`engine.optimizers.get` as ``learning_rate_schedule``. The arithmetic is Keras's,
operation for operation, in float32: Keras turns a Python-float learning rate into a float32
tensor and computes in float32 even when ``floatx`` is ``"float64"`` (the optimizer then casts
the result); ``pow``, ``log`` and ``cos`` are the C library's, as TensorFlow's
(:mod:`engine.optimizers.schedule_base`). :class:`Constant` stays an exact float, as Keras
keeps a plain-float learning rate in the variables' dtype. ``to_keras()`` builds the real Keras
object; ``SCHEDULES`` maps ids to classes with their parameter descriptions (``params``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from engine.optimizers.schedule_base import (
    F32,
    MAX_STEP,
    STAIRCASE,
    Schedule,
    cosf,
    decay_steps_param,
    flush,
    logf,
    powf,
    rate_param,
    steps_param,
)
from engine.params import HyperParamError, Param

__all__ = [
    "SCHEDULES", "Constant", "CosineDecay", "CosineDecayRestarts", "ExponentialDecay",
    "InverseTimeDecay", "MAX_STEP", "PiecewiseConstantDecay", "PolynomialDecay", "Schedule",
    "describe", "sample", "schedule_from", "values",
]


@dataclass(frozen=True)
class Constant(Schedule):
    """A constant learning rate (Keras takes a plain float; ``to_keras`` returns it)."""

    learning_rate: float

    id: ClassVar[str] = "constant"
    title: ClassVar[str] = "Constant"
    keras_class: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = (rate_param("learning_rate", 0.01, doc="Step size."),)

    def _rates(self, steps: np.ndarray) -> np.ndarray:
        return np.full(steps.shape, self.learning_rate)

    def to_keras(self) -> float:
        """Keras's optimizers take a constant learning rate as a float."""
        return self.learning_rate


@dataclass(frozen=True)
class _PeriodDecay(Schedule):
    """The fields that the exponential and inverse-time decays share."""

    initial_learning_rate: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False

    def _periods(self, steps: np.ndarray) -> np.ndarray:
        p = steps.astype(F32) / F32(self.decay_steps)
        return np.floor(p) if self.staircase else p


@dataclass(frozen=True)
class ExponentialDecay(_PeriodDecay):
    """``lr₀ · rate^(step / decay_steps)`` (floored exponent with ``staircase``).

    Keras: ``keras.optimizers.schedules.ExponentialDecay``.
    """

    id: ClassVar[str] = "exponential_decay"
    title: ClassVar[str] = "Exponential decay"
    keras_class: ClassVar[str] = "ExponentialDecay"
    params: ClassVar[tuple[Param, ...]] = (
        rate_param("initial_learning_rate", 0.01, doc="Learning rate at step 0."),
        decay_steps_param(100),
        Param("decay_rate", "float", 0.5, 0.0, 1.0, low_open=True,
                      doc="Factor applied once per decay period (1 = constant)."),
        STAIRCASE,
    )

    def _rates(self, steps: np.ndarray) -> np.ndarray:
        decay = powf(F32(self.decay_rate), self._periods(steps))
        return F32(self.initial_learning_rate) * decay


@dataclass(frozen=True)
class InverseTimeDecay(_PeriodDecay):
    """``lr₀ / (1 + rate · step / decay_steps)`` (floored with ``staircase``).

    Keras: ``keras.optimizers.schedules.InverseTimeDecay``.
    """

    id: ClassVar[str] = "inverse_time_decay"
    title: ClassVar[str] = "Inverse time decay"
    keras_class: ClassVar[str] = "InverseTimeDecay"
    params: ClassVar[tuple[Param, ...]] = (
        rate_param("initial_learning_rate", 0.01, doc="Learning rate at step 0."),
        decay_steps_param(100),
        Param("decay_rate", "float", 1.0, 0.0, 1000.0,
                      doc="How fast 1/t falls per decay period (0 = constant)."),
        STAIRCASE,
    )

    def _rates(self, steps: np.ndarray) -> np.ndarray:
        denominator = F32(1) + F32(self.decay_rate) * self._periods(steps)
        return F32(self.initial_learning_rate) / denominator


@dataclass(frozen=True)
class PiecewiseConstantDecay(Schedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``; ``values[-1]`` after the
    last boundary. Keras: ``keras.optimizers.schedules.PiecewiseConstantDecay``.
    """

    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    id: ClassVar[str] = "piecewise_constant_decay"
    title: ClassVar[str] = "Piecewise constant"
    keras_class: ClassVar[str] = "PiecewiseConstantDecay"
    params: ClassVar[tuple[Param, ...]] = (
        Param("boundaries", "ints", (200, 400), 0, MAX_STEP,
              doc="Last step of each piece but the final one, strictly increasing."),
        Param("values", "floats", (0.01, 0.005, 0.001), 0.0, 100.0, scale="log",
              doc="Learning rate of each piece (one more than boundaries)."),
    )

    def _check(self) -> None:
        if not self.boundaries:
            raise HyperParamError("boundaries", "needs at least one boundary")
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:], strict=False)):
            raise HyperParamError("boundaries", f"must increase strictly, got {self.boundaries}")
        if len(self.values) != len(self.boundaries) + 1:
            raise HyperParamError(
                "values", f"needs {len(self.boundaries) + 1} entries (one more than "
                f"boundaries), got {len(self.values)}")

    def breakpoints(self) -> tuple[int, ...]:
        return tuple(b + d for b in self.boundaries for d in (0, 1))

    def _rates(self, steps: np.ndarray) -> np.ndarray:
        # Number of boundaries strictly below the step: Keras's "step <= boundary" pieces.
        piece = np.searchsorted(np.array(self.boundaries, dtype=np.int64), steps, side="left")
        return np.array(self.values, dtype=F32)[piece]


@dataclass(frozen=True)
class CosineDecay(Schedule):
    """Optional linear warmup ``lr₀ → warmup_target`` over ``warmup_steps``, then a cosine
    from the peak to ``alpha · peak`` over ``decay_steps``; constant afterwards
    (Loshchilov & Hutter, 2017, SGDR; warmup: Goyal et al., 2017).

    Keras: ``keras.optimizers.schedules.CosineDecay``.
    """

    initial_learning_rate: float
    decay_steps: int
    alpha: float = 0.0
    warmup_target: float | None = None
    warmup_steps: int = 0

    id: ClassVar[str] = "cosine_decay"
    title: ClassVar[str] = "Cosine decay"
    keras_class: ClassVar[str] = "CosineDecay"
    params: ClassVar[tuple[Param, ...]] = (
        rate_param("initial_learning_rate", 0.01, zero_ok=True,
                   doc="Learning rate at step 0 (start of the warmup, if any)."),
        decay_steps_param(1000),
        Param("alpha", "float", 0.0, 0.0, 1.0,
                      doc="Final learning rate as a fraction of the peak."),
        rate_param("warmup_target", None, optional=True,
                   doc="Peak learning rate reached by the warmup (none: no warmup)."),
        steps_param("warmup_steps", 0, 0, "Steps of linear warmup."),
    )

    def _check(self) -> None:
        if self.warmup_target is None and self.warmup_steps:
            raise HyperParamError("warmup_steps", "needs a warmup_target (Keras ignores it)")
        if self.warmup_target is None and self.initial_learning_rate == 0:
            raise HyperParamError("initial_learning_rate", "must be > 0 without warmup_target")

    def breakpoints(self) -> tuple[int, ...]:
        return (self.warmup_steps, self.warmup_steps + self.decay_steps)

    def _rates(self, steps: np.ndarray) -> np.ndarray:
        lr0, decay_steps = F32(self.initial_learning_rate), F32(self.decay_steps)
        step = steps.astype(F32)
        if self.warmup_target is None:
            return self._decay(np.minimum(step, decay_steps), decay_steps, lr0)
        target, warmup_steps = F32(self.warmup_target), F32(self.warmup_steps)
        step = np.minimum(step, decay_steps + warmup_steps)
        warming = step < warmup_steps  # never true for warmup_steps == 0
        rates = np.empty(step.shape, dtype=F32)
        # Each step is computed by its piece only (a warm-up over the whole budget needs no
        # cosine: 100,000 C cosf calls were 30 ms of the GUI thread).
        rates[~warming] = self._decay(step[~warming] - warmup_steps, decay_steps, target)
        if warming.any():
            rates[warming] = (target - lr0) * (step[warming] / warmup_steps) + lr0
        return rates

    def _decay(self, step: np.ndarray, decay_steps: np.float32, peak: np.float32) -> np.ndarray:
        cosine = F32(0.5) * (F32(1) + cosf(F32(math.pi) * (step / decay_steps)))
        return peak * (F32(1 - self.alpha) * cosine + F32(self.alpha))


@dataclass(frozen=True)
class PolynomialDecay(Schedule):
    """``(lr₀ − end) · (1 − step / decay_steps)^power + end``, then ``end``; with ``cycle`` the
    decay restarts from lr₀ over the next multiple of ``decay_steps`` instead.

    Keras: ``keras.optimizers.schedules.PolynomialDecay``.
    """

    initial_learning_rate: float
    decay_steps: int
    end_learning_rate: float = 0.0001
    power: float = 1.0
    cycle: bool = False

    id: ClassVar[str] = "polynomial_decay"
    title: ClassVar[str] = "Polynomial decay"
    keras_class: ClassVar[str] = "PolynomialDecay"
    params: ClassVar[tuple[Param, ...]] = (
        rate_param("initial_learning_rate", 0.01, doc="Learning rate at step 0."),
        decay_steps_param(1000, doc="Steps from the initial to the end learning rate."),
        rate_param("end_learning_rate", 0.0001, zero_ok=True,
                   doc="Learning rate reached after decay_steps."),
        Param("power", "float", 1.0, 0.0, 100.0, low_open=True,
                      doc="Exponent of the polynomial (1: a straight line)."),
        Param("cycle", "bool", False,
                      doc="Restart the decay at each multiple of decay_steps, each time slower."),
    )

    def _rates(self, steps: np.ndarray) -> np.ndarray:
        lr0, end, power = F32(self.initial_learning_rate), F32(self.end_learning_rate), F32(self.power)
        step, decay_steps = steps.astype(F32), F32(self.decay_steps)
        if self.cycle:  # the first multiple of decay_steps not below the step (1 at step 0)
            multiplier = np.where(step == 0, F32(1), np.ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = np.minimum(step, decay_steps)
        p = step / decay_steps
        return flush((lr0 - end) * powf(F32(1) - p, power)) + end


@dataclass(frozen=True)
class CosineDecayRestarts(Schedule):
    """SGDR: a cosine from lr₀ to ``alpha · lr₀`` over ``first_decay_steps``, then restarts,
    each period ``t_mul`` times longer and its peak ``m_mul`` times lower (Loshchilov &
    Hutter, 2017, SGDR: Stochastic Gradient Descent with Warm Restarts).

    Keras: ``keras.optimizers.schedules.CosineDecayRestarts``.
    """

    initial_learning_rate: float
    first_decay_steps: int
    t_mul: float = 2.0
    m_mul: float = 1.0
    alpha: float = 0.0

    id: ClassVar[str] = "cosine_decay_restarts"
    title: ClassVar[str] = "Cosine decay restarts"
    keras_class: ClassVar[str] = "CosineDecayRestarts"
    params: ClassVar[tuple[Param, ...]] = (
        rate_param("initial_learning_rate", 0.01, doc="Learning rate at step 0 and first peak."),
        decay_steps_param(200, "first_decay_steps", "Steps of the first cosine period."),
        # Keras takes any t_mul, but below 1 the periods shrink to nothing and log() of a
        # negative number makes the rate NaN after a few periods.
        Param("t_mul", "float", 2.0, 1.0, 10.0,
                      doc="Each period is t_mul times longer than the one before."),
        Param("m_mul", "float", 1.0, 0.0, 1.0,
                      doc="Each restart's peak is m_mul times the one before."),
        Param("alpha", "float", 0.0, 0.0, 1.0,
                      doc="Lowest learning rate of a period as a fraction of its peak."),
    )

    def _rates(self, steps: np.ndarray) -> np.ndarray:
        lr0, first = F32(self.initial_learning_rate), F32(self.first_decay_steps)
        alpha, t_mul, m_mul = F32(self.alpha), F32(self.t_mul), F32(self.m_mul)
        fraction = steps.astype(F32) / first
        if t_mul == F32(1):
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:  # periods 1, t, t², ...: the restart index from the geometric sum
            restart = np.floor(logf(F32(1) - fraction * (F32(1) - t_mul)) / logf(t_mul))
            done = (F32(1) - powf(t_mul, restart)) / (F32(1) - t_mul)
            fraction = (fraction - done) / powf(t_mul, restart)
        peak = flush(F32(0.5) * powf(m_mul, restart))
        cosine = flush(peak * (F32(1) + cosf(F32(math.pi) * fraction)))
        decayed = flush((F32(1) - alpha) * cosine) + alpha
        return lr0 * decayed


SCHEDULES: Mapping[str, type[Schedule]] = MappingProxyType({
    cls.id: cls
    for cls in (Constant, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay,
                PolynomialDecay, CosineDecayRestarts)
})


def schedule_from(schedule_id: str, **params: Any) -> Schedule:
    """A validated schedule from the registry; missing parameters take their defaults.

    Raises
    ------
    ValueError
        For an unknown id; :class:`HyperParamError` (a ``ValueError`` whose ``field`` names
        the argument) for an unknown parameter or a refused value.
    """
    try:
        cls = SCHEDULES[schedule_id]
    except KeyError:
        raise ValueError(f"unknown schedule {schedule_id!r} "
                         f"(valid: {', '.join(SCHEDULES)})") from None
    names = [p.name for p in cls.params]
    if unknown := sorted(set(params) - set(names)):
        raise HyperParamError(unknown[0], f"is not a parameter of {schedule_id} "
                              f"(valid: {', '.join(names)})")
    return cls(**{p.name: params.get(p.name, p.default) for p in cls.params})


def values(schedule: float | Callable[[int], float], steps: int) -> np.ndarray:
    """The effective learning rate at steps ``0 .. steps-1`` as float64, for plotting.

    ``schedule`` is one of this module's schedules (computed in one vectorized pass), any
    callable ``step -> learning rate``, or a plain float (constant).
    """
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps: must be a whole number >= 0, got {steps!r}")
    if isinstance(schedule, Schedule):
        try:
            return _kept_values(schedule, int(steps)).copy()
        except TypeError:  # an unhashable field: computed afresh
            return _rates_of(schedule, int(steps))
    if not callable(schedule):
        return np.full(steps, float(schedule))
    return np.array([float(schedule(k)) for k in range(steps)], dtype=np.float64)


def _rates_of(schedule: Schedule, steps: int) -> np.ndarray:
    return flush(schedule._rates(np.arange(steps, dtype=np.int64))).astype(np.float64)


@functools.lru_cache(maxsize=16)
def _kept_values(schedule: Schedule, steps: int) -> np.ndarray:
    """:func:`values` of a schedule, kept per schedule and budget: a race rebuilds every
    racer's kernel plan on each surface or start change, and a cosine schedule's 100,000
    C ``cosf`` values took 17 ms of the GUI thread each time (schedules are frozen)."""
    return _rates_of(schedule, steps)


SAMPLES = 512  #: points a plot of a schedule draws, however many steps it spans


def sample(schedule: float | Schedule, steps: int, points: int = SAMPLES
           ) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``points`` steps in ``0 .. steps-1`` and the rate at each, for a plot:
    evenly spaced, plus every breakpoint (a piece's boundary, the end of a warmup), so the
    work does not grow with ``steps``.

    Returns
    -------
    (steps, rates)
        int64 and float64 arrays of equal length (empty when ``steps`` is 0).
    """
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps: must be a whole number >= 0, got {steps!r}")
    if steps == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    picked = np.linspace(0, steps - 1, min(points, steps)).round().astype(np.int64)
    if isinstance(schedule, Schedule):
        extra = np.array([b for b in schedule.breakpoints() if 0 <= b < steps], dtype=np.int64)
        at = np.unique(np.concatenate([picked, extra]))
        return at, flush(schedule._rates(at)).astype(np.float64)
    at = np.unique(picked)
    return at, np.full(at.shape, float(schedule))


def describe(schedule: float | Callable[[int], float]) -> str:
    """One line of text, e.g. ``"0.01 × 0.5^(step / 100)"``."""
    if not callable(schedule):
        return f"constant {float(schedule):g}"
    s: Any = schedule
    if isinstance(s, Constant):
        return f"constant {s.learning_rate:g}"
    if isinstance(s, _PeriodDecay):
        fraction = f"⌊step / {s.decay_steps}⌋" if s.staircase else f"step / {s.decay_steps}"
        if isinstance(s, ExponentialDecay):
            return f"{s.initial_learning_rate:g} × {s.decay_rate:g}^({fraction})"
        return f"{s.initial_learning_rate:g} / (1 + {s.decay_rate:g} · {fraction})"
    if isinstance(s, PiecewiseConstantDecay):
        pieces = [f"{v:g} to step {b}" for b, v in zip(s.boundaries, s.values, strict=False)]
        return ", ".join(pieces) + f", then {s.values[-1]:g}"
    if isinstance(s, CosineDecay):
        peak = s.initial_learning_rate if s.warmup_target is None else s.warmup_target
        warmup = "" if s.warmup_target is None else (
            f"warmup {s.initial_learning_rate:g} → {peak:g} over {s.warmup_steps} steps, then ")
        return warmup + f"cosine {peak:g} → {peak * s.alpha:g} over {s.decay_steps} steps"
    if isinstance(s, PolynomialDecay):
        shape = "linear" if s.power == 1 else f"power {s.power:g}"
        return (f"{shape} {s.initial_learning_rate:g} → {s.end_learning_rate:g} over "
                f"{s.decay_steps} steps" + (", restarting slower each time" if s.cycle else ""))
    if isinstance(s, CosineDecayRestarts):
        longer = "" if s.t_mul == 1 else f", each period × {s.t_mul:g}"
        lower = "" if s.m_mul == 1 else f", each peak × {s.m_mul:g}"
        return (f"cosine {s.initial_learning_rate:g} → "
                f"{s.initial_learning_rate * s.alpha:g} over {s.first_decay_steps} steps, "
                f"then restarts{longer}{lower}")
    return f"custom schedule {getattr(s, '__name__', type(s).__name__)}"
