"""The catalog surfaces' exact gradients, written once, point by point, for two engines.

Each function here takes the coordinates ``x, y`` (NumPy arrays or plain floats) and the
surface's constants, and returns ``(df/dx, df/dy)`` using only arithmetic, NumPy's
``sin``/``cos``/``hypot`` and :mod:`engine.landscape.libm`. NumPy runs them on whole arrays
(:class:`PointGradient`, the ``grad`` of a catalog :class:`~engine.landscape.surfaces.Surface`);
the compiled kernels (:mod:`engine.landscape.kernels`) compile the same functions for one
point at a time, so both do the same floating-point operations in the same order and agree
bit for bit. Keep them that way: no reductions, no in-place tricks, one expression order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.landscape import libm


@dataclass(frozen=True)
class PointGradient:
    """A surface gradient ``xy (..., 2) -> (..., 2)`` from a point function of this module."""

    function: Callable
    constants: tuple[float, ...] = ()

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        points = np.asarray(xy, dtype=np.float64)
        if points.shape[-1:] != (2,):
            raise ValueError(f"xy: expected shape (..., 2), got {points.shape}")
        gx, gy = self.function(points[..., 0], points[..., 1], *self.constants)
        return np.stack([gx, gy], axis=-1)


def rosenbrock(x, y, b):
    bd2 = 2.0 * b * (y - x * x)
    return 2.0 * (x - 1.0) - 2.0 * x * bd2, bd2


def beale(x, y):
    y2 = y * y
    y3 = y2 * y
    t1 = 2.0 * (1.5 - x + x * y)
    t2 = 2.0 * (2.25 - x + x * y2)
    t3 = 2.0 * (2.625 - x + x * y3)
    gx = t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0)
    gy = x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
    return gx, gy


def himmelblau(x, y):
    t1 = 2.0 * (x * x + y - 11.0)
    t2 = 2.0 * (x + y * y - 7.0)
    return 2.0 * x * t1 + t2, t1 + 2.0 * y * t2


def booth(x, y):
    t1 = 2.0 * (x + 2.0 * y - 7.0)
    t2 = 2.0 * (2.0 * x + y - 5.0)
    return t1 + 2.0 * t2, 2.0 * t1 + t2


def matyas(x, y):
    return 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x


def three_hump_camel(x, y):
    x2 = x * x
    return x * (4.0 + x2 * (-4.2 + x2)) + y, x + 2.0 * y


def six_hump_camel(x, y):
    x2 = x * x
    return x * (8.0 + x2 * (-8.4 + 2.0 * x2)) + y, x + y * (16.0 * y * y - 8.0)


def goldstein_price(x, y):
    # f = P·Q with P = 1 + s²·a and Q = 30 + t²·b; a has equal partials in x and y.
    s = x + y + 1.0
    s2 = s * s
    a = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
    p = 1.0 + s2 * a
    p_x = 2.0 * s * a + s2 * (6.0 * (x + y) - 14.0)  # == dP/dy
    t = 2.0 * x - 3.0 * y
    t2 = t * t
    b = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
    q = 30.0 + t2 * b
    c = 24.0 * x - 36.0 * y  # db/dx = c − 32, db/dy = 48 − 1.5·c
    q_x = 4.0 * t * b + t2 * (c - 32.0)
    q_y = -6.0 * t * b + t2 * (48.0 - 1.5 * c)
    p_x_q = p_x * q
    return p_x_q + p * q_x, p_x_q + p * q_y


def rastrigin(x, y, amplitude):
    tau = 2.0 * math.pi
    k = amplitude * tau
    return 2.0 * x + k * np.sin(tau * x), 2.0 * y + k * np.sin(tau * y)


ACKLEY_A, ACKLEY_B, ACKLEY_C = 20.0, 0.2, 2.0 * math.pi
ACKLEY_K = ACKLEY_B / math.sqrt(2.0)  # b·√(½(x² + y²)) == K·hypot(x, y)


def ackley(x, y):
    r = np.hypot(x, y)
    safe_r = libm.where(r > 0.0, r, 1.0)  # at the origin the cone's gradient is defined as 0
    radial = (ACKLEY_A * ACKLEY_K) * libm.exp(-ACKLEY_K * r)
    cx = ACKLEY_C * x
    cy = ACKLEY_C * y
    wave = (0.5 * ACKLEY_C) * libm.exp(0.5 * (np.cos(cx) + np.cos(cy)))
    return radial * (x / safe_r) + wave * np.sin(cx), radial * (y / safe_r) + wave * np.sin(cy)


def styblinski_tang(x, y):
    return x * (2.0 * x * x - 16.0) + 2.5, y * (2.0 * y * y - 16.0) + 2.5


def mccormick(x, y):
    c = np.cos(x + y)
    d2 = 2.0 * (x - y)
    return c + d2 - 1.5, c - d2 + 2.5


def levi(x, y):
    s3y = np.sin(3.0 * math.pi * y)
    s2y = np.sin(2.0 * math.pi * y)
    dx = x - 1.0
    dy = y - 1.0
    # d/dt sin²(kt) = k·sin(2kt)
    gx = 3.0 * math.pi * np.sin(6.0 * math.pi * x) + 2.0 * dx * (1.0 + s3y * s3y)
    gy = (3.0 * math.pi * dx * dx * np.sin(6.0 * math.pi * y) + 2.0 * dy * (1.0 + s2y * s2y)
          + 2.0 * math.pi * dy * dy * np.sin(4.0 * math.pi * y))
    return gx, gy


def bowl(x, y):
    return 2.0 * x, 2.0 * y


def saddle(x, y):
    return 2.0 * x, -2.0 * y


def monkey_saddle(x, y):
    return 3.0 * (x * x - y * y), -6.0 * x * y


def ravine(x, y, c, s, k):
    u = c * x + s * y
    kv = k * (c * y - s * x)
    return c * u - s * kv, s * u + c * kv


PLATEAU_TILT = 1e-3


def plateau(x, y):
    k = libm.exp(-0.5 * (x * x + y * y)) + 2.0 * PLATEAU_TILT
    return k * x, k * y


#: Every point function above, in a fixed order (the kernels number them by it).
FUNCTIONS = (rosenbrock, beale, himmelblau, booth, matyas, three_hump_camel, six_hump_camel,
             goldstein_price, rastrigin, ackley, styblinski_tang, mccormick, levi, bowl, saddle,
             monkey_saddle, ravine, plateau)
