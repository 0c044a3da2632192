"""A kernel's surface: a catalog gradient in the update's own loop, or a surface pass.

Two ways for a kernel (:func:`engine.landscape.kernels._kernel.kernel`) to get a block's
gradients and cheap status checks after an update:

* **fused**: a catalog surface's gradient (:data:`engine.landscape.gradients.FUNCTIONS`) is
  compiled into the kernel, so a point's gradient and checks follow its update in one loop:
  the fastest code, one kernel per optimizer rule, options *and surface* (maps, sweeps);
* **a surface pass** (``pass(n, k, work, ints, flag, params, R, program, outputs)``), a
  compiled C callback per catalog surface, or one for every custom formula that runs its
  gradient program (``R``, ``program``, ``outputs``) over the block; the kernel takes it as a
  function pointer, so kernels are compiled per rule and options and passes per surface, and
  their numbers add instead of multiplying (races: a few racers, any surface).

A pass computes the gradient at the block's new points (``work`` rows 0–1) into rows 2–3,
classifies each point (:func:`engine.landscape.kernels._parts.classify`), records the step
(``ints`` row 0: the last step it was outside the tolerance) where the cheap checks say it
is outside, flags the points they cannot settle, and returns 1
when some point needs the exact checks.

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
def program_pass(n, k, work, ints, flag, params, R, program, outputs):
    """A custom formula's gradient program over the block's ``n`` new points (``work`` rows
    0–1) into rows 2–3, then the cheap checks of each point (``ints`` row 0: the last step it
    was outside the tolerance; ``flag``: 1 if the exact checks must decide); returns 1 when some point needs the exact checks."""
    x, y, gx, gy, ox, oy = work[0], work[1], work[2], work[3], work[4], work[5]
    last_out = ints[0]
    half, x_tol = params[HALF], params[X_TOL]
    g_half, grad_tol = params[G_HALF], params[GRAD_TOL]
    box = (params[BOX], params[BOX + 1], params[BOX + 2], params[BOX + 3])
    run_program(n, x, y, R, program, outputs, gx, gy)
    unsure = 0
    for i in range(n):
        away, doubt = classify(0, x[i], y[i], ox[i], oy[i], gx[i], gy[i], box, box, half,
                              x_tol, g_half, grad_tol)
        flag[i] = doubt
        if away:
            last_out[i] = k
        unsure |= doubt
    return unsure


def _catalog_template(n, k, work, ints, flag, params, R, program, outputs):
    """The pass of one catalog surface; ``GRADIENT`` and ``MINIMA`` are the surface's (see
    :func:`surface_pass`)."""
    x, y, gx, gy, ox, oy = work[0], work[1], work[2], work[3], work[4], work[5]
    last_out = ints[0]
    c0, c1, c2 = params[C0], params[C0 + 1], params[C0 + 2]
    half, x_tol = params[HALF], params[X_TOL]
    g_half, grad_tol = params[G_HALF], params[GRAD_TOL]
    box = (params[BOX], params[BOX + 1], params[BOX + 2], params[BOX + 3])
    m = CENTRES
    centres = (params[m], params[m + 1], params[m + 2], params[m + 3], params[m + 4],
               params[m + 5], params[m + 6], params[m + 7], params[m + 8], params[m + 9],
               params[m + 10], params[m + 11], params[m + 12], params[m + 13], params[m + 14],
               params[m + 15])
    unsure = 0
    for i in range(n):
        qx, qy = x[i], y[i]
        hx, hy = GRADIENT(qx, qy, c0, c1, c2)  # noqa: F821 - set per surface
        gx[i], gy[i] = hx, hy
        away, doubt = classify(MINIMA, qx, qy, ox[i], oy[i], hx, hy, centres, box,  # noqa: F821
                              half, x_tol, g_half, grad_tol)
        flag[i] = doubt
        if away:
            last_out[i] = k
        unsure |= doubt
    return unsure


_lock = threading.Lock()
_passes: dict[tuple[int, int], object] = {}


def surface_pass(code: int, minima: int) -> object:
    """The compiled pass for catalog surface ``code`` with ``minima`` known minima
    (``codes.PROGRAM``: every custom formula), compiled on first use and loaded from the disk
    cache after.

    A catalog pass is a copy of the template's code with its own globals, not a closure: numba
    keys a cached closure by its captured values (a function would not hash the same twice),
    and by the name given here each surface gets its own cache file.
    """
    from engine.landscape.kernels import codes

    key = (code, minima if code != codes.PROGRAM else 0)
    with _lock:
        if key not in _passes:
            if code == codes.PROGRAM:
                function = program_pass.py_func
            else:
                names = dict(_catalog_template.__globals__, GRADIENT=_AT[code - 1],
                             MINIMA=minima)
                function = types_module.FunctionType(_catalog_template.__code__, names,
                                                     f"surface_pass_{code}_{minima}")
                function.__qualname__ = function.__name__
            _passes[key] = numba.cfunc(SIGNATURE, cache=True, nogil=True,
                                       error_model="numpy")(function)
        return _passes[key]
