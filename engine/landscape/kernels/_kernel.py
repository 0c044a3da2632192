"""The compiled runner: blocks of starts advanced through all their steps in one call.

``advance`` takes the starts listed in ``active`` from step ``k0`` to ``k1`` (a
:class:`engine.landscape.simulate.Stepper`'s rules, see its docstring), a block of starts
at a time, so each block's points, gradients and optimizer state stay in the CPU cache for
every step. One loop per step does the update, the gradient (a custom formula's program runs
over the block in between) and the cheap status checks, which settle almost every point:

* a point is inside the box, or it is not (exact comparisons);
* ``hypot(dx, dy) <= tol`` is certainly true when ``|dx|, |dy| <= tol/2`` and certainly
  false when either is ``> tol`` (the C ``hypot`` is faithfully rounded).

The rare rest (near a tolerance, outside the box, a huge or non-finite gradient) gets the
exact checks with the C ``hypot``, as NumPy's side does. Stopped points leave the block (its
last point takes their place). Each call covers the blocks ``first, first + stride, ...``,
so threads can share the work; starts never interact. Imported only once numba is loaded.
"""

from __future__ import annotations

import math

import numba

from engine.landscape.kernels import _parts, _surfaces, codes
from engine.landscape.kernels._parts import (
    clip_pair,
    noise_pair,
    slot_count,
    step_scalars,
    update,
    velocity_row,
)

_BIG = 1e300  # |g| below this in both coordinates: hypot(g) is certainly finite


#: Internal functions: cached on disk, no Python or C wrappers (faster to compile).
_helper = numba.njit(cache=True, nogil=True, error_model="numpy", no_cpython_wrapper=True,
                     no_cfunc_wrapper=True)


@numba.njit
def _at_most(dx, dy, tol):
    """The C library's ``hypot(dx, dy) <= tol``."""
    return math.hypot(dx, dy) <= tol


@_helper
def _settle(i, k, x, y, gx, gy, ox, oy, since, centres, box, x_tol, grad_tol):
    """The exact status checks for point ``i`` after step ``k``; returns a stop code or 0."""
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
    s = since[i]
    since[i] = (s if s >= 0 else k) if within else -1
    return 0


@_helper
def _load(active, start, n, X, G, SL, since_out, work, sl, ints, R, constant_registers,
          constants):
    """Copy starts ``active[start:start+n]`` into a block's scratch arrays."""
    for i in range(n):
        j = active[start + i]
        ints[1, i] = j
        work[0, i], work[1, i], work[2, i], work[3, i] = X[0, j], X[1, j], G[0, j], G[1, j]
        for r in range(SL.shape[0]):  # the rows the rule uses
            sl[r, i] = SL[r, j]
        ints[0, i] = since_out[j]
    for r in range(constant_registers.size):
        R[constant_registers[r], :n] = constants[r]


@_helper
def _store(n, work, sl, ints, X, G, SL, since_out):
    """Copy a block's points that are still going back into the (N,) arrays."""
    for i in range(n):
        j = ints[1, i]
        X[0, j], X[1, j], G[0, j], G[1, j] = work[0, i], work[1, i], work[2, i], work[3, i]
        for r in range(SL.shape[0]):
            SL[r, j] = sl[r, i]
        since_out[j] = ints[0, i]


@_helper
def _settle_block(n, k, work, sl, ints, flag, centres, box, x_tol, grad_tol, status, stop,
                  since_out, X, out):
    """The exact checks for the flagged points after step ``k``; stopped points leave the
    block. Returns the new n."""
    x, y, gx, gy, ox, oy = work[0], work[1], work[2], work[3], work[4], work[5]
    since, idx = ints[0], ints[1]
    for i in range(n - 1, -1, -1):
        if flag[i] < 2:
            continue
        code = _settle(i, k, x, y, gx, gy, ox, oy, since, centres, box, x_tol, grad_tol)
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
        since[i], idx[i] = since[n], idx[n]
    return n


@numba.njit(cache=True, nogil=True, error_model="numpy")
def advance(family, flags, surface_pass, X, G, SL, status, stop, since_out, out, active, first,
            stride, work, sl, ints, flag, R, HP, levels, table, rates, keys, noise_scale, params,
            program, constant_registers, constants, outputs, centres, box, paths, grads,
            velocities, k0, k1):  # pragma: no cover - compiled
    """Advance the starts ``active`` (indices into the (N,) arrays) from step k0 to k1.

    With the ``RECORD`` flag, row k of ``paths``, ``grads`` and ``velocities`` (T+1, N, 2)
    gets each point still going after step k, its gradient and its velocity (the state slot
    Keras calls ``momentum``); the Python side fills the rest (runner.Backend).

    ``surface_pass`` computes the gradients and the cheap checks of a block
    (:mod:`engine.landscape.kernels._surfaces`, with ``params``, ``R``, ``program`` and
    ``outputs``); ``centres`` (M, 2) and ``box`` serve the exact checks. ``work`` (6, B:
    points, gradients, previous points), ``sl`` (6, B), ``ints`` (2, B), ``flag`` (B,) and
    ``R`` (registers, B) are this call's scratch for blocks of B starts.
    """
    per_start = (flags & codes.PER_START) != 0  # constants: the compiler drops the rest
    record = (flags & codes.RECORD) != 0
    slots = slot_count(family, flags)
    velocity = velocity_row(family, flags)
    x, y, gx, gy, ox, oy = work[0], work[1], work[2], work[3], work[4], work[5]
    idx = ints[1]
    block = flag.size
    hp = HP[:, 0]
    lr, clip, clip_inv = hp[codes.LR], hp[codes.CLIP], hp[codes.CLIP_INV]
    wd, eps, p1, p2 = hp[codes.WD], hp[codes.EPS], hp[codes.P1], hp[codes.P2]
    p3, p4 = hp[codes.P3], hp[codes.P4]
    x_tol, grad_tol = params[_surfaces.X_TOL], params[_surfaces.GRAD_TOL]
    blocks = (active.size + block - 1) // block
    for b in range(first, blocks, stride):
        n = active.size - b * block
        if n > block:
            n = block
        _load(active, b * block, n, X, G, SL, since_out, work, sl, ints, R, constant_registers,
              constants)
        for k in range(k0 + 1, k1 + 1):
            if n == 0:
                break
            t = k - 1
            l1, l2 = levels[0, 0], levels[1, 0]
            a = step_scalars(family, table[0, l1, t], table[1, l1, t], table[2, l1, t],
                             table[3, l2, t], rates[t])
            if not per_start:
                lr = rates[t]
            for i in range(n):
                j = idx[i]
                if per_start:
                    lr, clip, clip_inv, wd, eps = (HP[codes.LR, j], HP[codes.CLIP, j],
                                                   HP[codes.CLIP_INV, j], HP[codes.WD, j],
                                                   HP[codes.EPS, j])
                    p1, p2 = HP[codes.P1, j], HP[codes.P2, j]
                    p3, p4 = HP[codes.P3, j], HP[codes.P4, j]
                    l1, l2 = levels[0, j], levels[1, j]
                    a = step_scalars(family, table[0, l1, t], table[1, l1, t], table[2, l1, t],
                                     table[3, l2, t], lr)
                px, py = x[i], y[i]
                ux, uy = noise_pair(flags, gx[i], gy[i], keys, j, t, noise_scale)
                ux, uy = clip_pair(flags, ux, uy, clip, clip_inv)
                # the state slots this rule uses (slots is a constant: no code for the rest)
                s0x = sl[0, i] if slots > 0 else 0.0
                s0y = sl[1, i] if slots > 0 else 0.0
                s1x = sl[2, i] if slots > 1 else 0.0
                s1y = sl[3, i] if slots > 1 else 0.0
                s2x = sl[4, i] if slots > 2 else 0.0
                s2y = sl[5, i] if slots > 2 else 0.0
                qx, s0x, s1x, s2x = update(family, flags, ux, px, s0x, s1x, s2x, lr, a, p1, p2,
                                           p3, p4, eps, wd)
                qy, s0y, s1y, s2y = update(family, flags, uy, py, s0y, s1y, s2y, lr, a, p1, p2,
                                           p3, p4, eps, wd)
                if slots > 0:
                    sl[0, i], sl[1, i] = s0x, s0y
                if slots > 1:
                    sl[2, i], sl[3, i] = s1x, s1y
                if slots > 2:
                    sl[4, i], sl[5, i] = s2x, s2y
                ox[i], oy[i], x[i], y[i] = px, py, qx, qy
            if surface_pass(n, k, work, ints, flag, params, R, program, outputs):
                n = _settle_block(n, k, work, sl, ints, flag, centres, box, x_tol, grad_tol,
                                  status, stop, since_out, X, out)
            if record:
                for i in range(n):
                    j = idx[i]
                    paths[k, j, 0], paths[k, j, 1] = x[i], y[i]
                    grads[k, j, 0], grads[k, j, 1] = gx[i], gy[i]
                    if velocity >= 0:
                        velocities[k, j, 0] = sl[velocity, i]
                        velocities[k, j, 1] = sl[velocity + 1, i]
        _store(n, work, sl, ints, X, G, SL, since_out)


_ = _parts  # the helpers must be registered before advance compiles
