"""What every learning-rate schedule shares: parameter descriptions, the base class, and the
float32 library functions TensorFlow's kernels call.

Keras computes a schedule on float32 scalar tensors; TensorFlow's CPU kernels then call the C
library's ``powf``, ``logf`` and ``cosf`` on each element of such a scalar and flush subnormal
results to 0. :func:`powf`, :func:`logf` and :func:`cosf` call the same C functions through
``ctypes`` (checked against TensorFlow: equal on 3,000 random arguments each), so a schedule
here repeats Keras's value bit for bit; where no C library can be loaded they fall back to the
float64 function rounded to float32 (within one float32 ulp).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from engine.optimizers import tensorflow_loader
from engine.params import HyperParamError

F32 = np.float32  #: Keras's schedules compute in float32


def flush(x: np.ndarray) -> np.ndarray:
    """Subnormal float32 results as 0, as TensorFlow's CPU kernels flush them."""
    if x.dtype != F32:
        return x
    return np.where(np.abs(x) < np.finfo(F32).tiny, F32(0), x)


def _libm_function(name: str, arity: int) -> Any:
    """The C library's float32 function ``name`` through ctypes, or None where unavailable."""
    try:
        library = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        function = getattr(library, name)
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_float
    function.argtypes = [ctypes.c_float] * arity
    return function


_POWF, _LOGF, _COSF = (_libm_function("powf", 2), _libm_function("logf", 1),
                       _libm_function("cosf", 1))


def _elementwise(function: Any, fallback: Any, *arrays: np.ndarray) -> np.ndarray:
    """``function`` of float32 arrays element by element (C float in, C float out), flushed."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=F32) for a in arrays))
    shape = arrays[0].shape
    if function is None:
        return flush(fallback(*(a.astype(np.float64) for a in arrays)).astype(F32))
    # Each distinct argument tuple once (floored exponents repeat): one C call per tuple.
    stacked = np.stack([a.ravel() for a in arrays], axis=1)
    distinct, inverse = np.unique(stacked, axis=0, return_inverse=True)
    results = np.array([function(*row) for row in distinct.tolist()], dtype=F32)
    return flush(results[inverse.reshape(-1)].reshape(shape))


def powf(base: Any, exponents: Any) -> np.ndarray:
    """float32 ``base ** exponents`` by the C library's ``powf``, as TensorFlow computes it
    (NumPy's vectorized SIMD power may differ in the last bit)."""
    return _elementwise(_POWF, np.power, base, exponents)


def logf(x: Any) -> np.ndarray:
    """float32 natural logarithm by ``logf``, as TensorFlow computes it on a scalar."""
    with np.errstate(all="ignore"):
        return _elementwise(_LOGF, np.log, x)


def cosf(x: Any) -> np.ndarray:
    """float32 cosine by ``cosf``, as TensorFlow computes it on a scalar."""
    return _elementwise(_COSF, np.cos, x)


@dataclass(frozen=True)
class ScheduleParam:
    """One schedule argument as the app exposes it (Keras's argument name).

    ``kind`` is ``"float"``, ``"optional_float"`` (``None`` allowed), ``"int"``, ``"bool"``,
    ``"ints"`` or ``"floats"`` (tuples, each entry checked against ``low``/``high``).
    ``low``/``high`` bound the value (``None``: unbounded); ``low_open`` excludes ``low``.
    """

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    doc: str = ""

    def range_text(self) -> str:
        """The valid range as text, e.g. ``in (0, 100]`` or ``>= 1``."""
        if self.kind == "bool":
            return "true or false"
        if self.high is None:
            text = f"{'>' if self.low_open else '>='} {self.low:g}"
        else:
            text = f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"
        return text + (" or none" if self.kind == "optional_float" else "")

    def validate(self, value: Any) -> Any:
        """Coerce and check ``value``; :class:`HyperParamError` names the field."""
        if self.kind == "bool":
            text = str(value).strip().lower()  # str(True) == "True"
            if text in ("true", "false"):
                return text == "true"
            raise HyperParamError(self.name, f"must be true or false, got {value!r}")
        if self.kind == "optional_float" and (value is None or str(value).strip() in ("", "none")):
            return None
        if self.kind in ("ints", "floats"):
            if isinstance(value, str):
                value = [v for v in value.replace(";", ",").split(",") if v.strip()]
            if not isinstance(value, list | tuple | np.ndarray):
                raise HyperParamError(self.name, f"must be a list of numbers, got {value!r}")
            return tuple(self._number(v, self.kind == "ints") for v in value)
        return self._number(value, self.kind == "int")

    def _number(self, value: Any, whole: bool) -> float | int:
        kind = "a whole number" if whole else "a number"
        if isinstance(value, bool | np.bool_):
            raise HyperParamError(self.name, f"must be {kind}, got {value!r}")
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise HyperParamError(self.name, f"must be {kind}, got {value!r}") from None
        if not math.isfinite(number) or (whole and not number.is_integer()):
            raise HyperParamError(self.name, f"must be {kind}, got {value!r}")
        too_low = self.low is not None and (number < self.low or self.low_open and number == self.low)
        if too_low or (self.high is not None and number > self.high):
            raise HyperParamError(self.name, f"must be {self.range_text()}, got {number:g}")
        return int(number) if whole else number

    def to_json(self) -> dict[str, Any]:
        """A plain-dict description for catalogs."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        default = list(self.default) if isinstance(self.default, tuple) else self.default
        return data | {"default": default, "range": self.range_text()}


def rate_param(name: str, default: float | None, *, zero_ok: bool = False,
               optional: bool = False, doc: str = "") -> ScheduleParam:
    """A learning-rate argument in (0, 100] (``zero_ok``: [0, 100]; ``optional``: or none)."""
    kind = "optional_float" if optional else "float"
    return ScheduleParam(name, kind, default, 0.0, 100.0, low_open=not zero_ok, doc=doc)


def decay_steps_param(default: int, name: str = "decay_steps",
                      doc: str = "Steps per decay period.") -> ScheduleParam:
    """A whole number of steps >= 1 (Keras refuses ``decay_steps <= 0``)."""
    return ScheduleParam(name, "int", default, 1, None, doc=doc)


STAIRCASE = ScheduleParam("staircase", "bool", False, doc="Decay in whole periods (floor).")


class Schedule:
    """Base of the schedule dataclasses: validation, ``schedule(step)``, config, Keras."""

    id: ClassVar[str]
    title: ClassVar[str]
    keras_class: ClassVar[str]
    params: ClassVar[tuple[ScheduleParam, ...]]

    def __post_init__(self) -> None:
        for param in self.params:
            object.__setattr__(self, param.name, param.validate(getattr(self, param.name)))
        self._check()

    def _check(self) -> None:
        """Checks that involve more than one field."""

    def __call__(self, step: int) -> float:
        """The learning rate at 0-based ``step``, as Keras computes it."""
        return float(flush(self._rates(np.array([step], dtype=np.int64)))[0])

    def _rates(self, steps: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """Field values, so that ``schedule_from(s.id, **s.config()) == s``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def to_keras(self) -> Any:
        """The equivalent ``keras.optimizers.schedules`` object (imports Keras)."""
        tensorflow_loader.load()
        import keras

        config = {k: list(v) if isinstance(v, tuple) else v for k, v in self.config().items()}
        return getattr(keras.optimizers.schedules, self.keras_class)(**config)
