"""A kernel's surface: a catalog gradient computed in the update's loop, or a custom
formula's gradient program run over a block (imported only once numba is loaded).

A catalog surface's gradient (:data:`engine.landscape.gradients.FUNCTIONS`) is compiled
into each kernel that uses it (:func:`engine.landscape.kernels._kernel.kernel`), so the
gradient and the cheap status checks of a point follow its update in one loop. Every custom
formula shares :func:`program_pass`, which runs the formula's gradient program over a block
(``R``, ``program``, ``outputs``) after the update, then classifies each point.

``params`` holds, at the indices below, the surface constants, the tolerances, the box and
up to ``MAX_MINIMA`` centres.
"""

from __future__ import annotations

import numba

from engine.landscape import gradients
from engine.landscape.kernels._interpreter import run_program
from engine.landscape.kernels._parts import MAX_MINIMA, classify, record_check

C0, HALF, X_TOL, G_HALF, GRAD_TOL, BOX, CENTRES = 0, 3, 4, 5, 6, 7, 11
PARAMS = CENTRES + 2 * MAX_MINIMA

_inline = numba.njit(error_model="numpy", inline="always")


def _normalized(function):
    """``function`` (a point gradient of engine.landscape.gradients) as ``(x, y, c0, c1, c2)``."""
    point = _inline(function)
    arity = function.__code__.co_argcount - 2
    if arity == 0:
        return _inline(lambda x, y, c0, c1, c2: point(x, y))
    if arity == 1:
        return _inline(lambda x, y, c0, c1, c2: point(x, y, c0))
    return _inline(lambda x, y, c0, c1, c2: point(x, y, c0, c1, c2))


#: The catalog gradients in gradients.FUNCTIONS order, all with one signature.
_AT = tuple(_normalized(function) for function in gradients.FUNCTIONS)


def gradient(code: int):
    """The compiled point gradient of catalog surface ``code`` (1-based in
    gradients.FUNCTIONS), as ``(x, y, c0, c1, c2) -> (gx, gy)``."""
    return _AT[code - 1]


@_inline
def no_gradient(x, y, c0, c1, c2):
    """Stands in for a catalog gradient in a custom formula's kernel (never called)."""
    return x, y


@_inline
def no_pass(n, k, work, ints, flag, params, R, program, outputs):
    """Stands in for :func:`program_pass` in a catalog surface's kernel (never called)."""
    return 0


@_inline
def program_pass(n, k, work, ints, flag, params, R, program, outputs):
    """A custom formula's gradient program over the block's ``n`` new points (``work`` rows
    0–1) into rows 2–3, then the cheap checks of each point (``ints`` row 0: its ``since``;
    ``flag``: the result); returns 1 when some point needs the exact checks."""
    x, y, gx, gy, ox, oy = work[0], work[1], work[2], work[3], work[4], work[5]
    since = ints[0]
    half, x_tol = params[HALF], params[X_TOL]
    g_half, grad_tol = params[G_HALF], params[GRAD_TOL]
    box = (params[BOX], params[BOX + 1], params[BOX + 2], params[BOX + 3])
    run_program(n, x, y, R, program, outputs, gx, gy)
    unsure = 0
    for i in range(n):
        f = classify(0, x[i], y[i], ox[i], oy[i], gx[i], gy[i], box, box, half, x_tol, g_half,
                     grad_tol)
        unsure |= record_check(i, k, f, flag, since)
    return unsure
