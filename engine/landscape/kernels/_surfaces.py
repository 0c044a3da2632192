"""Surface passes: a block's gradients and cheap status checks, one compiled pass per surface.

After the update of a step, ``pass(n, k, work, ints, flag, params, R, code, outputs)``
computes the gradient at the block's new points (``work`` rows 0–1) into rows 2–3 and
classifies each point (:func:`engine.landscape.kernels._parts.classify`), updating its
``since`` (``ints`` row 0) where the cheap checks settle it and flagging the rest; it
returns 1 when some point needs the exact checks. A catalog surface's pass is compiled for
that surface and its number of known minima (a C callback, cached on disk under its own
name); every custom formula shares one pass that runs the formula's gradient program
(``R``, ``code``, ``outputs``). A kernel takes the pass as a function pointer, so kernels
are compiled per optimizer rule and passes per surface: their counts add, not multiply.

``params`` holds, at the indices below, the surface constants, the tolerances, the box and
up to ``MAX_MINIMA`` centres. Imported only once numba is loaded.
"""

from __future__ import annotations

import threading
import types as types_module

import numba
from numba.core import types

from engine.landscape import gradients
from engine.landscape.kernels._interpreter import run_program
from engine.landscape.kernels._parts import MAX_MINIMA, classify

C0, HALF, X_TOL, G_HALF, GRAD_TOL, BOX, CENTRES = 0, 3, 4, 5, 6, 7, 11
PARAMS = CENTRES + 2 * MAX_MINIMA
SIGNATURE = types.int64(types.int64, types.int64, types.float64[:, ::1], types.int64[:, ::1],
                        types.uint8[::1], types.float64[::1], types.float64[:, ::1],
                        types.int64[:, ::1], types.int64[::1])
FUNCTION_TYPE = types.FunctionType(SIGNATURE)


def _normalized(function):
    """``function`` (a point gradient of engine.landscape.gradients) as ``(x, y, c0, c1, c2)``."""
    point = numba.njit(error_model="numpy")(function)
    arity = function.__code__.co_argcount - 2
    if arity == 0:
        return numba.njit(lambda x, y, c0, c1, c2: point(x, y))
    if arity == 1:
        return numba.njit(lambda x, y, c0, c1, c2: point(x, y, c0))
    return numba.njit(lambda x, y, c0, c1, c2: point(x, y, c0, c1, c2))


#: The catalog gradients in gradients.FUNCTIONS order, all with one signature.
_AT = tuple(_normalized(function) for function in gradients.FUNCTIONS)
_lock = threading.Lock()
_passes: dict[tuple[int, int], object] = {}


@numba.njit(error_model="numpy")
def _record(i, k, f, flag, since):
    """Store point i's check result; update its ``since`` when settled; 1 if unsure."""
    flag[i] = f
    s = since[i]
    since[i] = s if f >= 2 else ((s if s >= 0 else k) if f == 1 else -1)
    return f >> 1


def _catalog_template(n, k, work, ints, flag, params, R, program, outputs):
    """The pass of one catalog surface; ``GRADIENT`` and ``MINIMA`` are the surface's (see
    :func:`_catalog_pass`)."""
    x, y, gx, gy, ox, oy = work[0], work[1], work[2], work[3], work[4], work[5]
    since = ints[0]
    c0, c1, c2 = params[C0], params[C0 + 1], params[C0 + 2]
    half, x_tol = params[HALF], params[X_TOL]
    g_half, grad_tol = params[G_HALF], params[GRAD_TOL]
    box = (params[BOX], params[BOX + 1], params[BOX + 2], params[BOX + 3])
    centres = (params[CENTRES], params[CENTRES + 1], params[CENTRES + 2], params[CENTRES + 3],
               params[CENTRES + 4], params[CENTRES + 5], params[CENTRES + 6], params[CENTRES + 7],
               params[CENTRES + 8], params[CENTRES + 9], params[CENTRES + 10],
               params[CENTRES + 11], params[CENTRES + 12], params[CENTRES + 13],
               params[CENTRES + 14], params[CENTRES + 15])
    unsure = 0
    for i in range(n):
        qx, qy = x[i], y[i]
        hx, hy = GRADIENT(qx, qy, c0, c1, c2)  # noqa: F821 - set per surface
        gx[i], gy[i] = hx, hy
        f = classify(MINIMA, qx, qy, ox[i], oy[i], hx, hy, centres, box, half,  # noqa: F821
                     x_tol, g_half, grad_tol)
        unsure |= _record(i, k, f, flag, since)
    return unsure


def _catalog_pass(code: int, minima: int):
    """The template as its own function for catalog surface ``code`` (1-based in
    gradients.FUNCTIONS) with ``minima`` known minima, both constants of the compiled pass.

    A copy of the template's code with its own globals, not a closure: numba keys a cached
    closure by its captured values (a function would not hash the same twice), and by the
    name given here each surface gets its own cache file.
    """
    names = dict(_catalog_template.__globals__, GRADIENT=_AT[code - 1], MINIMA=minima)
    function = types_module.FunctionType(_catalog_template.__code__, names,
                                         f"surface_pass_{code}_{minima}")
    function.__qualname__ = function.__name__
    return function


def _program_pass(n, k, work, ints, flag, params, R, program, outputs):
    """The pass of every custom formula: its gradient program over the block, then checks."""
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
        unsure |= _record(i, k, f, flag, since)
    return unsure


def surface_pass(code: int, minima: int) -> object:
    """The compiled pass for surface ``code`` (``codes.PROGRAM`` for custom formulas) with
    ``minima`` known minima: compiled on first use, loaded from the disk cache after."""
    from engine.landscape.kernels import codes

    key = (code, minima if code != codes.PROGRAM else 0)
    with _lock:
        if key not in _passes:
            function = _program_pass if code == codes.PROGRAM else _catalog_pass(code, minima)
            _passes[key] = numba.cfunc(SIGNATURE, cache=True, nogil=True,
                                       error_model="numpy")(function)
        return _passes[key]
