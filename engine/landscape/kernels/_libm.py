"""The compiled loop behind :mod:`engine.landscape.libm` (imported only once numba is loaded).

``apply(code, a, b, out)`` writes ``f(a[i])`` (or ``pow(a[i], b[i])`` for code 0) into
``out``; each ``math`` function here is the C library's, as in every kernel.
"""

from __future__ import annotations

import math

import numba

from engine.landscape.libm import CODES

_EXP, _EXPM1, _LOG, _LOG1P, _LOG10, _LOG2, _TAN, _TANH, _SINH, _COSH, _ATAN, _ASIN, _ACOS = (
    CODES[name] for name in ("exp", "expm1", "log", "log1p", "log10", "log2", "tan", "tanh",
                             "sinh", "cosh", "arctan", "arcsin", "arccos"))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def unary(code, x):  # pragma: no cover - compiled
    """``f(x)`` for the function ``code`` of :data:`engine.landscape.libm.CODES`."""
    if code == _EXP:
        return math.exp(x)
    if code == _EXPM1:
        return math.expm1(x)
    if code == _LOG:
        return math.log(x)
    if code == _LOG1P:
        return math.log1p(x)
    if code == _LOG10:
        return math.log10(x)
    if code == _LOG2:
        return math.log2(x)
    if code == _TAN:
        return math.tan(x)
    if code == _TANH:
        return math.tanh(x)
    if code == _SINH:
        return math.sinh(x)
    if code == _COSH:
        return math.cosh(x)
    if code == _ATAN:
        return math.atan(x)
    if code == _ASIN:
        return math.asin(x)
    if code == _ACOS:
        return math.acos(x)
    return math.nan


@numba.njit(cache=True, nogil=True, error_model="numpy")
def apply(code, a, b, out):  # pragma: no cover - compiled
    """``out[i] = f(a[i])``, or ``pow(a[i], b[i])`` for code 0."""
    if code == 0:
        for i in range(a.size):
            out[i] = math.pow(a[i], b[i])
    else:
        for i in range(a.size):
            out[i] = unary(code, a[i])
