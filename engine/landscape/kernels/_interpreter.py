"""The interpreter of compiled gradient programs (:mod:`engine.landscape.kernels.program`).

Each instruction runs over the ``n`` points of a block; registers are rows of ``R``. Every
opcode computes what its NumPy step computes (:class:`engine.landscape.symbolic.Program` with
the exact functions): ``math`` is the C library, as in :mod:`engine.landscape.libm`.
Imported only once numba is loaded.
"""

from __future__ import annotations

import math

import numba

from engine.landscape.kernels import program as p
from engine.landscape.kernels._parts import sign

_LOGE2 = 0.693147180559945309417232121458176568  # NumPy's NPY_LOGE2


@numba.njit
def _logaddexp(a, b):
    """NumPy's ``npy_logaddexp`` (C ``exp`` and ``log1p``)."""
    if a == b:
        return a + _LOGE2
    t = a - b
    if t > 0:
        return a + math.log1p(math.exp(-t))
    if t <= 0:
        return b + math.log1p(math.exp(t))
    return t


@numba.njit(cache=True, nogil=True, error_model="numpy", no_cpython_wrapper=True,
            no_cfunc_wrapper=True)
def _unary(op, R, d, a, n):
    """The one-argument functions (opcodes 20 and up)."""
    if op == p.SIN:
        for i in range(n):
            R[d, i] = math.sin(R[a, i])
    elif op == p.COS:
        for i in range(n):
            R[d, i] = math.cos(R[a, i])
    elif op == p.TAN:
        for i in range(n):
            R[d, i] = math.tan(R[a, i])
    elif op == p.EXP:
        for i in range(n):
            R[d, i] = math.exp(R[a, i])
    elif op == p.LOG:
        for i in range(n):
            R[d, i] = math.log(R[a, i])
    elif op == p.LOG10:
        for i in range(n):
            R[d, i] = math.log10(R[a, i])
    elif op == p.LOG2:
        for i in range(n):
            R[d, i] = math.log2(R[a, i])
    elif op == p.SQRT:
        for i in range(n):
            R[d, i] = math.sqrt(R[a, i])
    elif op == p.ABS:
        for i in range(n):
            R[d, i] = abs(R[a, i])
    elif op == p.SIGN:
        for i in range(n):
            R[d, i] = sign(R[a, i])
    elif op == p.TANH:
        for i in range(n):
            R[d, i] = math.tanh(R[a, i])
    elif op == p.SINH:
        for i in range(n):
            R[d, i] = math.sinh(R[a, i])
    elif op == p.COSH:
        for i in range(n):
            R[d, i] = math.cosh(R[a, i])
    elif op == p.ARCTAN:
        for i in range(n):
            R[d, i] = math.atan(R[a, i])
    elif op == p.ARCSIN:
        for i in range(n):
            R[d, i] = math.asin(R[a, i])
    elif op == p.ARCCOS:
        for i in range(n):
            R[d, i] = math.acos(R[a, i])
    elif op == p.SIGMOID:  # exp(-logaddexp(0, -u))
        for i in range(n):
            R[d, i] = math.exp(-_logaddexp(0.0, -R[a, i]))


@numba.njit(cache=True, nogil=True, error_model="numpy", no_cpython_wrapper=True,
            no_cfunc_wrapper=True)
def run_program(n, x, y, R, code, outputs, gx, gy):
    """Evaluate the gradient program at the block's points ``x, y`` into ``gx, gy``."""
    for row in range(code.shape[0]):
        op, d, a, b = code[row, 0], code[row, 1], code[row, 2], code[row, 3]
        if op == p.X:
            for i in range(n):
                R[d, i] = x[i]
        elif op == p.Y:
            for i in range(n):
                R[d, i] = y[i]
        elif op == p.NEG:
            for i in range(n):
                R[d, i] = -R[a, i]
        elif op == p.ADD:
            for i in range(n):
                R[d, i] = R[a, i] + R[b, i]
        elif op == p.SUB:
            for i in range(n):
                R[d, i] = R[a, i] - R[b, i]
        elif op == p.MUL:
            for i in range(n):
                R[d, i] = R[a, i] * R[b, i]
        elif op == p.DIV:
            for i in range(n):
                R[d, i] = R[a, i] / R[b, i]
        elif op == p.POW:
            for i in range(n):
                R[d, i] = math.pow(R[a, i], R[b, i])
        elif op == p.POW_M1:
            for i in range(n):
                R[d, i] = 1.0 / R[a, i]
        elif op == p.POW_0:
            for i in range(n):
                R[d, i] = 1.0
        elif op == p.POW_HALF:
            for i in range(n):
                R[d, i] = math.sqrt(R[a, i])
        elif op == p.POW_1:
            for i in range(n):
                R[d, i] = R[a, i]
        elif op == p.POW_2:
            for i in range(n):
                v = R[a, i]
                R[d, i] = v * v
        else:
            _unary(op, R, d, a, n)
    ox, oy = outputs[0], outputs[1]
    for i in range(n):
        gx[i] = R[ox, i]
        gy[i] = R[oy, i]
