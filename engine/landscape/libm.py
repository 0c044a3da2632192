"""Elementary functions with the C library's results, for gradients that kernels must match.

NumPy 2.4 evaluates ``exp``, ``log``, ``tan``, ``tanh``, ``arctan``, ``power`` and most other
float64 functions with its own SIMD loops (AVX-512 here) that differ from the C library
(``libm``) in the last bit for 0.1–50 % of arguments, and they differ by machine: a CPU
without AVX-512 gets ``libm``'s values. A compiled kernel (:mod:`engine.landscape.kernels`)
can only call ``libm``. So every gradient the simulation uses (catalog surfaces, custom
formulas, gradient noise) takes its elementary functions from here, where they are the C
library's on every machine and on both paths:

* arrays of more than :data:`SMALL` elements go through one compiled loop once numba is
  loaded (:mod:`engine.landscape.kernels._libm`, compiled on first use, cached on disk);
* small arrays, and every array before numba is loaded or without it, go element by element
  through Python's :mod:`math` module, which calls the same C functions. Where :mod:`math` raises instead of
  returning (overflow, a pole, outside the domain) the C result is ±inf, nan or ±0, which is
  exactly what NumPy returns there, so NumPy's value is used.

``sin``, ``cos``, ``sqrt``, ``hypot``, ``abs`` and ``sign`` are left to NumPy: its ``sin`` and
``cos`` call the C library for float64, ``hypot`` is the C function, ``sqrt`` is correctly
rounded everywhere (tested in ``tests/test_libm.py``). Surface *values* (contours, final
losses) keep NumPy's fast functions: kernels never evaluate them.

Every function takes scalars or arrays and returns float64 of the broadcast shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["CODES", "SMALL", "arccos", "arcsin", "arctan", "cosh", "exp", "expm1", "log",
           "log10", "log1p", "log2", "power", "sigmoid", "sinh", "tan", "tanh", "where"]

SMALL = 64  #: arrays up to this size go through Python's math module (no compile needed)

#: Unary function codes shared with the compiled loop (engine.landscape.kernels._libm).
CODES = {"exp": 1, "expm1": 2, "log": 3, "log1p": 4, "log10": 5, "log2": 6, "tan": 7,
         "tanh": 8, "sinh": 9, "cosh": 10, "arctan": 11, "arcsin": 12, "arccos": 13}
_MATH = {1: math.exp, 2: math.expm1, 3: math.log, 4: math.log1p, 5: math.log10, 6: math.log2,
         7: math.tan, 8: math.tanh, 9: math.sinh, 10: math.cosh, 11: math.atan, 12: math.asin,
         13: math.acos}
_NUMPY = {1: np.exp, 2: np.expm1, 3: np.log, 4: np.log1p, 5: np.log10, 6: np.log2, 7: np.tan,
          8: np.tanh, 9: np.sinh, 10: np.cosh, 11: np.arctan, 12: np.arcsin, 13: np.arccos}


def _compiled() -> Callable | None:
    """The compiled loop ``apply(code, a, b, out)`` once numba is loaded, else None: the GUI
    thread never waits for numba's import (maps, or a warm-up thread, load it)."""
    from engine.landscape import kernels
    from engine.landscape.kernels import cache

    return kernels.libm_loop() if cache.loaded() else None


def _by_math(code: int, values: np.ndarray) -> np.ndarray:
    func, fallback = _MATH[code], _NUMPY[code]
    flat = values.reshape(-1).tolist()
    try:
        result = list(map(func, flat))
    except (OverflowError, ValueError):  # where math raises, the C result is NumPy's too
        result = []
        with np.errstate(all="ignore"):
            for v in flat:
                try:
                    result.append(func(v))
                except (OverflowError, ValueError):
                    result.append(float(fallback(v)))
    return np.array(result, dtype=np.float64).reshape(values.shape)


def _unary(code: int, x: object) -> np.ndarray:
    values = np.asarray(x, dtype=np.float64)
    if values.size > SMALL and (loop := _compiled()) is not None:
        flat = np.ascontiguousarray(values).reshape(-1)
        out = np.empty(flat.shape)
        loop(code, flat, flat, out)
        return out.reshape(values.shape)
    return _by_math(code, values)


def _make(name: str) -> Callable[[object], np.ndarray]:
    code = CODES[name]

    def function(x: object) -> np.ndarray:
        return _unary(code, x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}`` as the C library computes it (float64)."
    return function


exp = _make("exp")
expm1 = _make("expm1")
log = _make("log")
log1p = _make("log1p")
log10 = _make("log10")
log2 = _make("log2")
tan = _make("tan")
tanh = _make("tanh")
sinh = _make("sinh")
cosh = _make("cosh")
arctan = _make("arctan")
arcsin = _make("arcsin")
arccos = _make("arccos")


def _pow_math(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (OverflowError, ValueError):
        with np.errstate(all="ignore"):
            return float(np.power(a, b))


def power(base: object, exponent: object) -> np.ndarray:
    """``base ** exponent``: NumPy's exact shortcuts for a single exponent, else C ``pow``.

    For one exponent of -1, 0, 0.5, 1 or 2 NumPy computes ``1/x``, ``1``, ``sqrt(x)``, ``x``
    or ``x*x`` (exact, correctly rounded operations); this keeps those. Every other
    power is the C library's ``pow``, element by element.
    """
    a = np.asarray(base, dtype=np.float64)
    b = np.asarray(exponent, dtype=np.float64)
    if b.ndim == 0 and float(b) in (-1.0, 0.0, 0.5, 1.0, 2.0):
        with np.errstate(all="ignore"):
            return np.power(a, b)  # NumPy's exact shortcuts (tests/test_libm.py checks them)
    a, b = np.broadcast_arrays(a, b)
    if a.size > SMALL and (loop := _compiled()) is not None:
        out = np.empty(a.shape)
        loop(0, np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1),
             out.reshape(-1))
        return out
    flat = [_pow_math(x, y) for x, y in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist(),
                                            strict=True)]
    return np.array(flat, dtype=np.float64).reshape(a.shape)


def sigmoid(u: object) -> np.ndarray:
    """``1 / (1 + exp(-u))`` as ``exp(-logaddexp(0, -u))``, without overflow.

    NumPy's ``logaddexp`` calls the C library's ``exp`` and ``log1p`` (its formula is
    repeated in the kernels and checked against it); the outer ``exp`` is :func:`exp`.
    """
    with np.errstate(all="ignore"):
        return exp(-np.logaddexp(0.0, -np.asarray(u, dtype=np.float64)))


def where(condition: object, a: object, b: object) -> np.ndarray:
    """``np.where`` (a compiled kernel reads it as ``a if condition else b``)."""
    return np.where(condition, a, b)
