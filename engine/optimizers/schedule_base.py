"""What every learning-rate schedule shares: its parameters (:class:`engine.params.Param`), the base class, and the
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
import threading
from collections import OrderedDict
from dataclasses import fields
from typing import Any, ClassVar

import numpy as np

from engine.optimizers import tensorflow_loader
from engine.params import Param

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


#: Tables of at least this many elements are kept (:data:`KEPT_TABLES` of them, the latest
#: used): a cosine schedule's 100,000 C ``cosf`` calls take 30 ms, and editing a schedule's
#: rate, warm-up target or floor asks for the same cosines again.
KEPT_MIN_SIZE = 4096
KEPT_TABLES = 4
_kept: OrderedDict[tuple, np.ndarray] = OrderedDict()
_kept_lock = threading.Lock()  # the GUI thread and a map's worker both compute schedules


def _elementwise(function: Any, fallback: Any, *arrays: np.ndarray) -> np.ndarray:
    """``function`` of float32 arrays element by element (C float in, C float out), flushed."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=F32) for a in arrays))
    shape = arrays[0].shape
    if function is None:
        return flush(fallback(*(a.astype(np.float64) for a in arrays)).astype(F32))
    if arrays[0].size < KEPT_MIN_SIZE:
        return _c_elementwise(function, arrays)
    # Keyed by the function's name (a ctypes function is unhashable), the arguments' bytes
    # (bits, so -0.0 is not 0.0) and shape: equal keys are equal arguments, so a kept table
    # is exactly what the C calls would give.
    key = (function.__name__, shape, *(a.tobytes() for a in arrays))
    with _kept_lock:
        table = _kept.get(key)
        if table is not None:
            _kept.move_to_end(key)
            return table.copy()
    table = _c_elementwise(function, arrays)
    with _kept_lock:
        _kept[key] = table.copy()
        while len(_kept) > KEPT_TABLES:
            _kept.popitem(last=False)
    return table


def _c_elementwise(function: Any, arrays: list[np.ndarray]) -> np.ndarray:
    """:func:`_elementwise` by C calls: ``arrays`` are float32 and of one shape."""
    shape = arrays[0].shape
    # Each distinct argument tuple once (floored exponents repeat): one C call per tuple.
    # Arguments are told apart by their bits (-0.0 is not 0.0). An argument that is the same
    # everywhere (a schedule's base or power) is left out of the search: sorting rows of a
    # (100,000, 1) array took 38 ms of a 64 ms cosine table, sorting the bits 2 ms.
    bits = [np.ascontiguousarray(a).reshape(-1).view(np.uint32) for a in arrays]
    varying = [i for i, b in enumerate(bits) if b.size and (b != b[0]).any()]
    if len(varying) > 1:
        stacked = np.stack(bits, axis=1)
        distinct, inverse = np.unique(stacked, axis=0, return_inverse=True)
        rows = distinct.view(F32).tolist()
        results = np.array([function(*row) for row in rows], dtype=F32)
    else:
        column = varying[0] if varying else 0
        distinct, inverse = np.unique(bits[column], return_inverse=True)
        values = distinct.view(F32).tolist()
        if len(arrays) == 1:
            results = np.array(list(map(function, values)), dtype=F32)
        else:
            same = [float(b[:1].view(F32)[0]) if b.size else 0.0 for b in bits]
            results = np.array([function(*same[:column], v, *same[column + 1:])
                                for v in values], dtype=F32)
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


#: The largest step a schedule argument may name: far beyond any run (the race's budget, or
#: epochs × batches of MNIST training), and small enough for exact float32/int64 arithmetic.
MAX_STEP = 10**9


def rate_param(name: str, default: float | None, *, zero_ok: bool = False,
               optional: bool = False, doc: str = "") -> Param:
    """A learning-rate argument in (0, 100] (``zero_ok``: [0, 100]; ``optional``: or none)."""
    return Param(name, "float", default, 0.0, 100.0, low_open=not zero_ok, optional=optional,
                 scale="log", doc=doc)


def steps_param(name: str, default: int, low: int, doc: str) -> Param:
    """A whole number of steps in ``[low, MAX_STEP]``."""
    return Param(name, "int", default, low, MAX_STEP, doc=doc)


def decay_steps_param(default: int, name: str = "decay_steps",
                      doc: str = "Steps per decay period.") -> Param:
    """A whole number of steps >= 1 (Keras refuses ``decay_steps <= 0``)."""
    return steps_param(name, default, 1, doc)


STAIRCASE = Param("staircase", "bool", False, doc="Decay in whole periods (floor).")


class Schedule:
    """Base of the schedule dataclasses: validation, ``schedule(step)``, config, Keras."""

    id: ClassVar[str]
    title: ClassVar[str]
    keras_class: ClassVar[str]
    params: ClassVar[tuple[Param, ...]]

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

    def breakpoints(self) -> tuple[int, ...]:
        """Steps where the curve changes its form (a plot that samples it includes them)."""
        return ()

    def config(self) -> dict[str, Any]:
        """Field values, so that ``schedule_from(s.id, **s.config()) == s``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def to_keras(self) -> Any:
        """The equivalent ``keras.optimizers.schedules`` object (imports Keras)."""
        tensorflow_loader.load()
        import keras

        config = {k: list(v) if isinstance(v, tuple) else v for k, v in self.config().items()}
        return getattr(keras.optimizers.schedules, self.keras_class)(**config)
