"""The exact status checks of a block, compiled once for every kernel.

A kernel's cheap checks (:func:`engine.landscape.kernels._parts.classify`) settle almost
every point after a step; the rest (near a tolerance, perhaps outside the box, a huge or
non-finite gradient) get these, with the C library's ``hypot`` as NumPy's side does. They
run rarely, but compiling them inside each kernel took 0.6-0.8 s of its 2.2 s: compiled
here once (a C callback with a fixed signature, cached on disk like the kernels), every
kernel calls them through a function pointer, as it calls a surface's pass. Imported only
once numba is loaded.
"""

from __future__ import annotations

import math
import threading

import numba
from numba.core import types

from engine.landscape.kernels import codes

_helper = numba.njit(error_model="numpy", inline="always")
_array2 = types.float64[:, ::1]
SIGNATURE = types.int64(types.int64, types.int64, _array2, _array2, types.int64[:, ::1],
                        types.uint8[::1], _array2, types.float64[::1], types.float64,
                        types.float64, types.int8[::1], types.int64[::1], types.int64[::1],
                        _array2, _array2)
FUNCTION_TYPE = types.FunctionType(SIGNATURE)


@_helper
def _at_most(dx, dy, tol):
    """The C library's ``hypot(dx, dy) <= tol``."""
    return math.hypot(dx, dy) <= tol


@_helper
def _settle(i, k, x, y, gx, gy, ox, oy, last_out, centres, box, x_tol, grad_tol):
    """The exact status checks for point ``i`` after step ``k``; returns a stop code or 0.
    ``last_out[i]`` becomes k when the point is not within the tolerance."""
    qx, qy = x[i], y[i]
    inside = box[0] <= qx <= box[1] and box[2] <= qy <= box[3]
    ok = math.hypot(gx[i], gy[i]) < math.inf
    if not inside:
        return codes.LEFT if ok else codes.DIVERGED
    if not ok:
        return codes.DIVERGED
    within = False
    for j in range(centres.shape[0]):
        if _at_most(qx - centres[j, 0], qy - centres[j, 1], x_tol):
            within = True
    if not within and _at_most(gx[i], gy[i], grad_tol):
        within = _at_most(qx - ox[i], qy - oy[i], x_tol)
    if not within:
        last_out[i] = k
    return 0


def settle_block(n, k, work, sl, ints, flag, centres, box, x_tol, grad_tol, status, stop,
                 since_out, X, out):  # pragma: no cover - compiled
    """The exact checks for the flagged points after step ``k``; stopped points leave the
    block. Returns the new n."""
    x, y, gx, gy, ox, oy = work[0], work[1], work[2], work[3], work[4], work[5]
    last_out, idx = ints[0], ints[1]
    for i in range(n - 1, -1, -1):
        if flag[i] == 0:
            continue
        code = _settle(i, k, x, y, gx, gy, ox, oy, last_out, centres, box, x_tol, grad_tol)
        if code == 0:
            continue
        j = idx[i]
        status[j], stop[j], since_out[j] = code, k, -1
        X[0, j], X[1, j] = ox[i], oy[i]
        if code == codes.LEFT:
            out[0, j], out[1, j] = x[i], y[i]
        n -= 1  # the last point takes this one's place (it was settled already)
        for r in range(6):
            work[r, i] = work[r, n]
            sl[r, i] = sl[r, n]
        last_out[i], idx[i] = last_out[n], idx[n]
    return n



_lock = threading.Lock()
_compiled: list[object] = []


def exact_checks() -> object:
    """The compiled :func:`settle_block` (compiled on first use, loaded from the disk cache
    after)."""
    with _lock:
        if not _compiled:
            _compiled.append(numba.cfunc(SIGNATURE, cache=True, nogil=True,
                                         error_model="numpy")(settle_block))
        return _compiled[0]
