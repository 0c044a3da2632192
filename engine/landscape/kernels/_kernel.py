"""The compiled runner: blocks of starts advanced through all their steps in one call.

A kernel (:func:`kernel`: one per optimizer rule, set of options and surface) takes the
starts listed in ``active`` from step ``k0`` to ``k1`` (a
:class:`engine.landscape.simulate.Stepper`'s rules, see its docstring), a block of starts
at a time, so each block's points, gradients and optimizer state stay in the CPU cache for
every step. One loop per step does the update, the gradient (a custom formula's program runs
over the block after it) and the cheap status checks, which settle almost every point:

* a point is inside the box, or it is not (exact comparisons);
* ``hypot(dx, dy) <= tol`` is certainly true when ``|dx|, |dy| <= tol/2`` and certainly
  false when either is ``> tol`` (the C ``hypot`` is faithfully rounded).

The rare rest (near a tolerance, outside the box, a huge or non-finite gradient) gets the
exact checks with the C ``hypot``, as NumPy's side does. Stopped points leave the block (its
last point takes their place). Each call covers the blocks ``first, first + stride, ...``,
so threads can share the work; starts never interact. Imported only once numba is loaded.

Each kernel is a copy of one template whose globals are that kernel's constants, and numba
drops every branch on a constant before it compiles: an Adam kernel without noise, clipping
or paths compiles none of that code, which halves its compile time.
"""

from __future__ import annotations

import threading
import types as types_module

import numba

from engine.landscape.kernels import _parts, _surfaces, codes
from engine.landscape.kernels._parts import (
    classify,
    clip_pair,
    noise_pair,
)
from engine.landscape.kernels.plan import slot_count, velocity_row

#: A block's loading and storing: inlined into each kernel before it is typed, so a kernel
#: is one compilation. The exact checks, rarely run and as costly to compile as the rest of
#: a kernel, are compiled once for all kernels (:mod:`._exact`) and called through a pointer.
_helper = numba.njit(error_model="numpy", inline="always")


@_helper
def _load(active, start, n, k0, X, G, SL, since_out, work, sl, ints):
    """Copy starts ``active[start:start+n]`` into a block's scratch arrays; a point's
    ``since`` (the first step of its stretch within the tolerance, -1 outside at step
    ``k0``) becomes the last step it was outside (``ints`` row 0)."""
    for i in range(n):
        j = active[start + i]
        ints[1, i] = j
        work[0, i], work[1, i], work[2, i], work[3, i] = X[0, j], X[1, j], G[0, j], G[1, j]
        for r in range(SL.shape[0]):  # the rows the rule uses
            sl[r, i] = SL[r, j]
        s = since_out[j]
        ints[0, i] = s - 1 if s >= 0 else k0


@_helper
def _store(n, k1, work, sl, ints, X, G, SL, since_out):
    """Copy a block's points that are still going (at step ``k1``) back into the (N,)
    arrays, with their ``since``: the step after the last one outside, -1 if that is k1."""
    for i in range(n):
        j = ints[1, i]
        X[0, j], X[1, j], G[0, j], G[1, j] = work[0, i], work[1, i], work[2, i], work[3, i]
        for r in range(SL.shape[0]):
            SL[r, j] = sl[r, i]
        last = ints[0, i]
        since_out[j] = last + 1 if last < k1 else -1


def _template(surface_pass, exact, X, G, SL, status, stop, since_out, out, active, first,
              stride, work, sl, ints, flag, R, HP, levels, table, rates, keys, noise_scale,
              params, program, constant_registers, constants, outputs, centres, box, paths,
              grads, velocities, k0, k1):  # pragma: no cover - compiled
    """Advance the starts ``active`` (indices into the (N,) arrays) from step k0 to k1.

    Compiled per copy (:func:`kernel`), whose globals fix the rule (``UPDATE``, ``STEP``),
    its options (``FLAGS``) and the surface: a catalog surface's ``GRADIENT`` with
    ``MINIMA`` known minima computed in the update's own loop (``FUSED``), or
    ``surface_pass`` (a function pointer, :mod:`engine.landscape.kernels._surfaces`) called
    on the block after it. ``exact`` (a function pointer, :mod:`._exact`) runs the exact
    checks on the points the cheap ones leave unsure.

    With the ``RECORD`` flag, row k of ``paths``, ``grads`` and ``velocities`` (T+1, N, 2)
    gets each point still going after step k, its gradient and its velocity (the state slot
    Keras calls ``momentum``); the Python side fills the rest (runner.Backend).

    ``params`` holds the surface constants, tolerances, box and centres (``_surfaces``
    indices); ``centres`` (M, 2) and ``box`` serve the exact checks. ``work`` (6, B:
    points, gradients, previous points), ``sl`` (6, B), ``ints`` (2, B), ``flag`` (B,) and
    ``R`` (registers, B) are this call's scratch for blocks of B starts.
    """
    # FLAGS, PER_START and the rest are constants of each compiled copy; numba drops a branch
    # on a constant before compiling it, so a kernel compiles only the code it runs.
    flags = FLAGS  # noqa: F821
    x, y, gx, gy, ox, oy = work[0], work[1], work[2], work[3], work[4], work[5]
    last_out, idx = ints[0], ints[1]
    block = flag.size
    hp = HP[:, 0]
    lr, clip, clip_inv = hp[codes.LR], hp[codes.CLIP], hp[codes.CLIP_INV]
    wd, eps, p1, p2 = hp[codes.WD], hp[codes.EPS], hp[codes.P1], hp[codes.P2]
    p3, p4 = hp[codes.P3], hp[codes.P4]
    S = _surfaces
    c0, c1, c2 = params[S.C0], params[S.C0 + 1], params[S.C0 + 2]
    half, x_tol = params[S.HALF], params[S.X_TOL]
    g_half, grad_tol = params[S.G_HALF], params[S.GRAD_TOL]
    bounds = (params[S.BOX], params[S.BOX + 1], params[S.BOX + 2], params[S.BOX + 3])
    m = S.CENTRES
    points = (params[m], params[m + 1], params[m + 2], params[m + 3], params[m + 4],
              params[m + 5], params[m + 6], params[m + 7], params[m + 8], params[m + 9],
              params[m + 10], params[m + 11], params[m + 12], params[m + 13], params[m + 14],
              params[m + 15])
    blocks = (active.size + block - 1) // block
    for b in range(first, blocks, stride):
        n = active.size - b * block
        if n > block:
            n = block
        _load(active, b * block, n, k0, X, G, SL, since_out, work, sl, ints)
        if not FUSED:  # noqa: F821 - a custom formula's constants, in their registers
            for r in range(constant_registers.size):
                R[constant_registers[r], :n] = constants[r]
        for k in range(k0 + 1, k1 + 1):
            if n == 0:
                break
            t = k - 1
            l1, l2 = levels[0, 0], levels[1, 0]
            a = STEP(table[0, l1, t], table[1, l1, t], table[2, l1, t],  # noqa: F821
                     table[3, l2, t], rates[t])
            if not PER_START:  # noqa: F821
                lr = rates[t]
            unsure = 0
            for i in range(n):
                j = idx[i]
                if PER_START:  # noqa: F821
                    lr, clip, clip_inv, wd, eps = (HP[codes.LR, j], HP[codes.CLIP, j],
                                                   HP[codes.CLIP_INV, j], HP[codes.WD, j],
                                                   HP[codes.EPS, j])
                    p1, p2 = HP[codes.P1, j], HP[codes.P2, j]
                    p3, p4 = HP[codes.P3, j], HP[codes.P4, j]
                    l1, l2 = levels[0, j], levels[1, j]
                    a = STEP(table[0, l1, t], table[1, l1, t], table[2, l1, t],  # noqa: F821
                             table[3, l2, t], lr)
                px, py = x[i], y[i]
                ux, uy = gx[i], gy[i]
                if NOISE:  # noqa: F821
                    ux, uy = noise_pair(ux, uy, keys, j, t, noise_scale)
                if CLIP:  # noqa: F821
                    ux, uy = clip_pair(flags, ux, uy, clip, clip_inv)
                # the state slots this rule uses (SLOTS is a constant: no code for the rest)
                s0x = sl[0, i] if SLOTS > 0 else 0.0  # noqa: F821
                s0y = sl[1, i] if SLOTS > 0 else 0.0  # noqa: F821
                s1x = sl[2, i] if SLOTS > 1 else 0.0  # noqa: F821
                s1y = sl[3, i] if SLOTS > 1 else 0.0  # noqa: F821
                s2x = sl[4, i] if SLOTS > 2 else 0.0  # noqa: F821
                s2y = sl[5, i] if SLOTS > 2 else 0.0  # noqa: F821
                qx, s0x, s1x, s2x = UPDATE(flags, ux, px, s0x, s1x, s2x, lr, a,  # noqa: F821
                                           p1, p2, p3, p4, eps, wd)
                qy, s0y, s1y, s2y = UPDATE(flags, uy, py, s0y, s1y, s2y, lr, a,  # noqa: F821
                                           p1, p2, p3, p4, eps, wd)
                if SLOTS > 0:  # noqa: F821
                    sl[0, i], sl[1, i] = s0x, s0y
                if SLOTS > 1:  # noqa: F821
                    sl[2, i], sl[3, i] = s1x, s1y
                if SLOTS > 2:  # noqa: F821
                    sl[4, i], sl[5, i] = s2x, s2y
                ox[i], oy[i], x[i], y[i] = px, py, qx, qy
                if FUSED:  # noqa: F821 - the catalog surface's gradient and cheap checks
                    hx, hy = GRADIENT(qx, qy, c0, c1, c2)  # noqa: F821
                    gx[i], gy[i] = hx, hy
                    away, doubt = classify(MINIMA, qx, qy, px, py, hx, hy,  # noqa: F821
                                          points, bounds, half, x_tol, g_half, grad_tol)
                    flag[i] = doubt
                    if away:
                        last_out[i] = k
                    unsure |= doubt
            if not FUSED:  # noqa: F821
                unsure = surface_pass(n, k, work, ints, flag, params, R, program, outputs)
            if unsure:
                n = exact(n, k, work, sl, ints, flag, centres, box, x_tol, grad_tol, status,
                          stop, since_out, X, out)
            if RECORD:  # noqa: F821
                for i in range(n):
                    j = idx[i]
                    paths[k, j, 0], paths[k, j, 1] = x[i], y[i]
                    grads[k, j, 0], grads[k, j, 1] = gx[i], gy[i]
                    if VELOCITY >= 0:  # noqa: F821
                        velocities[k, j, 0] = sl[VELOCITY, i]  # noqa: F821
                        velocities[k, j, 1] = sl[VELOCITY + 1, i]  # noqa: F821
        _store(n, k1, work, sl, ints, X, G, SL, since_out)


_lock = threading.Lock()
_kernels: dict[tuple[int, int, int, int], object] = {}


def kernel(family: int, flags: int, surface: int = 0, minima: int = 0) -> object:
    """The numba dispatcher of :func:`_template` for this rule and options, made once per
    process: fused with catalog surface ``surface`` (and its ``minima`` known minima), or,
    with ``surface`` 0, calling the surface pass it is given (any surface, custom formulas
    too; see :mod:`engine.landscape.kernels._surfaces`).

    A copy of the template's code with its own globals, not a closure: numba keys a cached
    closure by its captured values (a function would not hash the same twice), and by the
    name given here each kernel gets its own file in the disk cache.
    """
    fused = surface != 0
    key = (family, flags, surface, minima if fused else 0)
    with _lock:
        if key not in _kernels:
            name = "advance_{}_{}_{}_{}".format(*key)
            names = dict(_template.__globals__, FLAGS=flags, FUSED=fused,
                         PER_START=bool(flags & codes.PER_START),
                         RECORD=bool(flags & codes.RECORD), NOISE=bool(flags & codes.NOISE),
                         CLIP=bool(flags & (codes.CLIPNORM | codes.GLOBAL_CLIPNORM
                                            | codes.CLIPVALUE)),
                         SLOTS=slot_count(family, flags), VELOCITY=velocity_row(family, flags),
                         UPDATE=_parts.UPDATES[family], STEP=_parts.STEPS[family], MINIMA=key[3],
                         GRADIENT=_surfaces.gradient(surface) if fused else _surfaces.no_gradient)
            function = types_module.FunctionType(_template.__code__, names, name)
            function.__qualname__ = name
            _kernels[key] = numba.njit(cache=True, nogil=True, error_model="numpy")(function)
        return _kernels[key]
