"""engine.landscape.libm: the C library's elementary functions on both paths.

The C library is called here through ctypes (independent of the engine), on random values
over wide ranges and on the special ones (0, -0, ±inf, nan, poles, domain edges, overflow).
Both ways the engine evaluates them must equal it bit for bit: Python's math module (small
arrays, or no numba) and the compiled loop (large arrays). The NumPy functions the engine
keeps (sin, cos, sqrt, hypot, abs, sign) are checked against the C library too: if a NumPy
release changes one, this test says which, and kernels would no longer match NumPy.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np
import pytest

from engine.landscape import libm

_C = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
C_NAMES = {"exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "log10": "log10",
           "log2": "log2", "tan": "tan", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh",
           "arctan": "atan", "arcsin": "asin", "arccos": "acos", "sin": "sin", "cos": "cos",
           "sqrt": "sqrt"}
for _name in (*C_NAMES.values(), "hypot", "pow"):
    getattr(_C, _name).restype = ctypes.c_double
    getattr(_C, _name).argtypes = [ctypes.c_double] * (2 if _name in ("hypot", "pow") else 1)

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-300, -1e-300, 5e-324, 1e300, -1e300,
           709.78, 710.0, -745.2, 1e-8, math.pi / 2, math.pi, np.inf, -np.inf, np.nan]


def _values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(-3, 3, 3000), rng.uniform(-60, 60, 2000),
                           np.exp(rng.uniform(-30, 30, 2000)), rng.uniform(-1, 1, 2000),
                           SPECIAL])


def _c(name: str, values: np.ndarray) -> np.ndarray:
    function = getattr(_C, C_NAMES[name])
    return np.array([function(v) for v in values.tolist()])


def _same_bits(a: np.ndarray, b: np.ndarray, label: str) -> None:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    nan = np.isnan(a) & np.isnan(b)  # any NaN is NaN
    bad = np.flatnonzero((a.view(np.uint64) != b.view(np.uint64)) & ~nan)
    assert bad.size == 0, f"{label}: {bad.size} differ, e.g. {a[bad[:3]]} vs {b[bad[:3]]}"


@pytest.mark.parametrize("name", list(libm.CODES))
def test_each_function_is_the_c_librarys_on_both_paths(name, monkeypatch):
    values = _values(len(name))
    want = _c(name, values)
    function = getattr(libm, name)
    from engine.landscape import kernels

    if kernels.available():  # loads numba: large arrays take the compiled loop
        _same_bits(function(values), want, f"{name}, compiled loop")
    small = [function(values[i : i + libm.SMALL]) for i in range(0, values.size, libm.SMALL)]
    _same_bits(np.concatenate(small), want, f"{name}, Python's math")
    monkeypatch.setattr(libm, "_compiled", lambda: None)  # as without numba
    _same_bits(function(values), want, f"{name}, no numba")
    assert function(0.5).shape == () and function(values.reshape(-1, 1)).shape == (values.size, 1)


def test_the_numpy_functions_kept_equal_the_c_library():
    values = _values(7)
    for name, function in (("sin", np.sin), ("cos", np.cos), ("sqrt", np.sqrt)):
        with np.errstate(all="ignore"):
            _same_bits(function(values), _c(name, values), f"NumPy {name}")
    other = np.roll(values, 1)
    want = np.array([_C.hypot(a, b) for a, b in zip(values.tolist(), other.tolist(), strict=True)])
    _same_bits(np.hypot(values, other), want, "NumPy hypot")


def test_power_keeps_numpys_exact_shortcuts_and_is_c_pow_otherwise():
    rng = np.random.default_rng(3)
    base = np.concatenate([rng.uniform(-5, 5, 3000), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    with np.errstate(all="ignore"):
        for exponent in (-1.0, 0.0, 0.5, 1.0, 2.0, -0.0):
            _same_bits(libm.power(base, np.float64(exponent)), np.power(base, exponent),
                       f"x**{exponent}")
        for exponent in (3.0, -2.5, 0.25, 1e-3):
            want = np.array([_C.pow(b, exponent) for b in base.tolist()])
            _same_bits(libm.power(base, np.float64(exponent)), want, f"x**{exponent}")
        powers = rng.uniform(-3, 3, base.size)
        want = np.array([_C.pow(b, e) for b, e in zip(base.tolist(), powers.tolist(),
                                                      strict=True)])
        _same_bits(libm.power(base, powers), want, "x**y")
        _same_bits(libm.power(np.abs(base[:40]), powers[:40]),
                   [_C.pow(b, e) for b, e in zip(np.abs(base[:40]).tolist(), powers[:40].tolist(),
                                                 strict=True)], "small arrays")


def test_sigmoid_is_exp_of_minus_logaddexp():
    u = _values(5)
    with np.errstate(all="ignore"):
        want = np.array([_C.exp(v) for v in (-np.logaddexp(0.0, -u)).tolist()])
    _same_bits(libm.sigmoid(u), want, "sigmoid")
    assert libm.sigmoid(1000.0) == 1.0 and libm.sigmoid(-1000.0) == 0.0
