"""The pieces of a compiled step (imported once numba is loaded).

A kernel is compiled for one family, set of option flags and surface
(:func:`engine.landscape.kernels._kernel.kernel`): it calls only its family's update rule
(:data:`UPDATES`, :data:`STEPS`), and numba inlines these helpers into it before typing,
so each kernel is one compilation; LLVM drops the branches on option flags that the
kernel's constants rule out.

Every formula repeats :mod:`engine.optimizers.rules` operation for operation (the same
operands in the same order, the same float32-rounded constants, which the Python side
precomputes), so a kernel and the NumPy rules round identically. ``math`` functions are
the C library's.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import overload

from engine.landscape import libm
from engine.landscape.kernels import codes as c

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31, _S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO_PI_2_32 = 2 * np.pi * 2.0**-32
MAX_MINIMA = 8  #: known minima a kernel checks (a surface with more runs with NumPy)

#: Small helpers, inlined into each kernel before it is typed (one compilation, no calls).
_inline = numba.njit(error_model="numpy", inline="always")


# The C library's functions where the shared gradients (engine.landscape.gradients) ask
# for them through engine.landscape.libm.
@overload(libm.exp)
def _exp(x):
    return lambda x: math.exp(x)


@overload(libm.where)
def _where(condition, a, b):
    return lambda condition, a, b: a if condition else b


@_inline
def maximum(a, b):
    """``np.maximum``: NaN if either is NaN, else the larger."""
    if a != a:
        return a
    return a if a > b else b


@_inline
def minimum(a, b):
    """``np.minimum``: NaN if either is NaN, else the smaller."""
    if a != a:
        return a
    return a if a < b else b


@_inline
def sign(v):
    """``np.sign``: 1, -1, 0 (also for -0) or NaN."""
    if v > 0.0:
        return 1.0
    if v < 0.0:
        return -1.0
    return v if v != v else 0.0


@_inline
def classify(minima, qx, qy, px, py, hx, hy, centres, box, half, x_tol, g_half, grad_tol):
    """The cheap checks of a point after a step: ``(away, unsure)``, ``away`` when it is
    certainly not within the tolerance, ``unsure`` when the exact checks must decide (near a
    tolerance, outside the box, or a gradient too large to be sure it is finite).

    ``centres`` is a tuple ``(x0, y0, x1, y1, ...)`` of which the first ``minima`` points
    count, ``box`` ``(x_min, x_max, y_min, y_max)``: values, not arrays, so nothing is
    reference-counted and the loop over a constant number of minima unrolls. Few vector
    operations, as they, not the divider, bound a fused kernel's loop: maxima of absolute
    values, one sum for both gradient coordinates (NaN or inf fails it, and a sum over
    1e300 only sends the point to the exact checks).
    """
    ax, ay = abs(hx), abs(hy)
    g_max = max(ax, ay)
    ok = (ax + ay < 1e300) & (qx >= box[0]) & (qx <= box[1]) & (qy >= box[2]) & (qy <= box[3])
    s_max = max(abs(qx - px), abs(qy - py))
    yes = (g_max <= g_half) & (s_max <= half)
    no = (g_max > grad_tol) | (s_max > x_tol)
    for m in range(minima):
        d_max = max(abs(qx - centres[2 * m]), abs(qy - centres[2 * m + 1]))
        yes |= d_max <= half
        no &= d_max > x_tol
    return no, not (ok & (yes | no))


# The caller records classify's result itself, in its own loop:
#     flag[i] = unsure
#     if away:
#         last_out[i] = k
#     unsure_any |= unsure
# Written there, the conditional store vectorizes as a masked store; the same lines in an
# inlined helper (or a select between the old and new value) left the loop 4x slower.


@_inline
def _mix64(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_inline
def noise_pair(gx, gy, keys, j, step, scale):
    """The gradient the optimizer sees for start ``j``: ``g + noise``, the draw of
    simulate.GradientNoise at 0-based ``step`` (two Box-Muller normals × scale)."""
    draw = _mix64(keys[j] + np.uint64(step + 1) * _GOLDEN)
    radius = math.sqrt(-2.0 * math.log(((draw >> _S32) + 1.0) * 2.0**-32))
    angle = (draw & _LOW32) * _TWO_PI_2_32
    return gx + scale * (radius * math.cos(angle)), gy + scale * (radius * math.sin(angle))


@_inline
def clip_pair(flags, gx, gy, clip, clip_inv):
    """Keras's gradient clipping, as rules._preprocess does it."""
    if flags & c.CLIPNORM:  # values * clipnorm / maximum(l2norm, clipnorm)
        d = maximum(math.sqrt(gx * gx + gy * gy), clip)
        return gx * clip / d, gy * clip / d
    if flags & c.GLOBAL_CLIPNORM:  # clip_by_global_norm: scale = c · min(1/norm, 1/c)
        norm = math.sqrt(gx * gx + gy * gy)
        factor = clip * minimum(1.0 / norm, clip_inv) + (norm - norm)
        return gx * factor, gy * factor
    if flags & c.CLIPVALUE:
        return minimum(maximum(gx, -clip), clip), minimum(maximum(gy, -clip), clip)
    return gx, gy


# What depends only on the step (and the beta levels), from this step's table values
# ``t0..t3`` (plan.OptimizerPlan): bias corrections, Nadam's momentum schedule; computed once
# per step when every start shares them. One function per family, as the update rules.

@_inline
def step_none(t0, t1, t2, t3, lr):
    return 0.0, 0.0, 0.0, 0.0, 0.0


@_inline
def step_adam(t0, t1, t2, t3, lr):  # t0 = beta_1^t, t3 = beta_2^t
    return lr * math.sqrt(1 - t3) / (1 - t0), 0.0, 0.0, 0.0, 0.0


@_inline
def step_adamax(t0, t1, t2, t3, lr):  # t0 = beta_1^t
    return 1 - t0, 0.0, 0.0, 0.0, 0.0


@_inline
def step_nadam(t0, t1, t2, t3, lr):  # t0 = running product, t1 = u_t, t2 = u_(t+1), t3 = beta_2^t
    return t2, 1 - t0 * t2, 1 - t1, 1 - t0, 1 - t3


# One coordinate of one step per family: weight decay, then the family's rule. ``a`` holds
# the per-step scalars of the family's step function (:data:`STEPS`), ``p1..p4`` the
# hyperparameters noted per rule (plan.optimizer_plan). Each returns ``(w, s0, s1, s2)``.
# One function per family, so that a kernel compiles only its own rule.

@_inline
def _decayed(flags, w, wd, lr):
    return w - w * wd * lr if flags & c.WEIGHT_DECAY else w


@_inline
def update_sgd(flags, g, w, s0, s1, s2, lr, a, p1, p2, p3, p4, eps, wd):
    w = _decayed(flags, w, wd, lr)
    if flags & c.MOMENTUM:  # p1: float32-rounded momentum
        s0 = s0 * p1 - g * lr
        w = w + (s0 * p1 - g * lr) if flags & c.NESTEROV else w + s0
    else:
        w = w - g * lr
    return w, s0, s1, s2


@_inline
def update_rmsprop(flags, g, w, s0, s1, s2, lr, a, p1, p2, p3, p4, eps, wd):
    w = _decayed(flags, w, wd, lr)  # p1: rho, p2: 1 - rho, p3: momentum
    s0 = p1 * s0 + p2 * (g * g)
    if flags & c.CENTERED:
        s2 = p1 * s2 + p2 * g
        denominator = s0 - s2 * s2 + eps
    else:
        denominator = s0 + eps
    increment = (lr * g) / math.sqrt(denominator)
    if flags & c.MOMENTUM:
        s1 = p3 * s1 + increment
        w = w - s1
    else:
        w = w - increment
    return w, s0, s1, s2


@_inline
def update_adagrad(flags, g, w, s0, s1, s2, lr, a, p1, p2, p3, p4, eps, wd):
    w = _decayed(flags, w, wd, lr)
    s0 = s0 + g * g
    return w - (lr * g) / math.sqrt(s0 + eps), s0, s1, s2


@_inline
def update_adadelta(flags, g, w, s0, s1, s2, lr, a, p1, p2, p3, p4, eps, wd):
    w = _decayed(flags, w, wd, lr)  # p1: rho, p2: 1 - rho
    s0 = p1 * s0 + p2 * (g * g)
    delta = -((math.sqrt(s1 + eps) * g) / math.sqrt(s0 + eps))
    s1 = p1 * s1 + p2 * (delta * delta)
    return w + lr * delta, s0, s1, s2


@_inline
def update_adam(flags, g, w, s0, s1, s2, lr, a, p1, p2, p3, p4, eps, wd):
    w = _decayed(flags, w, wd, lr)  # p1: 1 - beta_1, p2: 1 - beta_2; a[0]: alpha
    s0 = s0 + (g - s0) * p1
    s1 = s1 + (g * g - s1) * p2
    if flags & c.AMSGRAD:
        s2 = maximum(s2, s1)
        return w - (s0 * a[0]) / (math.sqrt(s2) + eps), s0, s1, s2
    return w - (s0 * a[0]) / (math.sqrt(s1) + eps), s0, s1, s2


@_inline
def update_adamax(flags, g, w, s0, s1, s2, lr, a, p1, p2, p3, p4, eps, wd):
    w = _decayed(flags, w, wd, lr)  # p1: 1 - beta_1, p2: beta_2; a[0]: 1 - beta_1^t
    s0 = s0 + (g - s0) * p1
    s1 = maximum(p2 * s1, abs(g))
    return w - (lr * s0) / (a[0] * (s1 + eps)), s0, s1, s2


@_inline
def update_nadam(flags, g, w, s0, s1, s2, lr, a, p1, p2, p3, p4, eps, wd):
    w = _decayed(flags, w, wd, lr)  # p1, p2: 1 - the float32-rounded betas
    s0 = s0 + (g - s0) * p1
    s1 = s1 + (g * g - s1) * p2
    m_hat = (a[0] * s0) / a[1] + (a[2] * g) / a[3]
    v_hat = s1 / a[4]
    return w - (m_hat * lr) / (math.sqrt(v_hat) + eps), s0, s1, s2


@_inline
def update_lion(flags, g, w, s0, s1, s2, lr, a, p1, p2, p3, p4, eps, wd):
    w = _decayed(flags, w, wd, lr)  # p1, p3: float32-rounded betas; p2, p4: 1 - them
    w = w - lr * sign(s0 * p1 + g * p2)
    return w, s0 * p3 + g * p4, s1, s2


STEPS = {c.SGD: step_none, c.RMSPROP: step_none, c.ADAGRAD: step_none, c.ADADELTA: step_none,
         c.ADAM: step_adam, c.ADAMAX: step_adamax, c.NADAM: step_nadam, c.LION: step_none}
UPDATES = {c.SGD: update_sgd, c.RMSPROP: update_rmsprop, c.ADAGRAD: update_adagrad,
           c.ADADELTA: update_adadelta, c.ADAM: update_adam, c.ADAMAX: update_adamax,
           c.NADAM: update_nadam, c.LION: update_lion}
