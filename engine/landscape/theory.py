"""Theory for quadratic surfaces: curvatures, heavy-ball stability and optimal settings, rates.

On f(w) = ½ (w − w*)ᵀ H (w − w*) with curvatures (eigenvalues of H) λmin ≤ λmax and condition
number κ = λmax / λmin, gradient descent and Keras's SGD with (Nesterov) momentum are linear
iterations, so everything is known in closed form (Polyak 1964; Goh, "Why Momentum Really
Works", Distill 2017):

* plain gradient descent converges iff 0 < α·λmax < 2, fastest at α = 2 / (λmin + λmax),
  contracting by (κ − 1) / (κ + 1) per step;
* heavy-ball momentum (Keras ``SGD(momentum=β)``: v ← βv − α∇f, w ← w + v) converges iff
  0 ≤ β < 1 and 0 < α·λmax < 2(1 + β); it is fastest at α* = (2 / (√λmin + √λmax))²,
  β* = ((√κ − 1) / (√κ + 1))², contracting by √β* = (√κ − 1) / (√κ + 1) per step;
* the contraction rate of any (α, β) is the largest root modulus of z² − T z + D over the
  curvatures: T = 1 + β − αλ, D = β for heavy ball; T = (1 + β)(1 − αλ), D = β(1 − αλ) for
  Keras's Nesterov form (w ← w + βv − α∇f after v ← βv − α∇f).

:func:`quadratic` finds H: analytically for the ravine (curvatures 1 and its condition number),
from the symbolic second derivatives of a custom formula, otherwise by exact evaluation of the
gradient (a surface whose gradient is affine to rounding everywhere tried). NumPy only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import optimizers
from engine.landscape import expressions
from engine.landscape.surfaces import Surface
from engine.landscape.symbolic import differentiate, is_number

MEASURE_FLOOR = 1e-13  #: distances below this (× the scale of w*) are rounding, not progress


@dataclass(frozen=True)
class Quadratic:
    """A surface's constant Hessian, its curvatures and its minimum."""

    hessian: np.ndarray  # (2, 2)
    curvatures: tuple[float, float]  # λmin, λmax
    minimum: tuple[float, float]
    source: str  # how the curvatures were found, in words

    @property
    def condition_number(self) -> float:
        return self.curvatures[1] / self.curvatures[0]


@dataclass(frozen=True)
class Optima:
    """The closed-form optimal settings and rates of :class:`Quadratic`'s curvatures."""

    gd_learning_rate: float  # 2 / (λmin + λmax)
    gd_rate: float  # (κ − 1) / (κ + 1)
    learning_rate: float  # α* of heavy-ball momentum
    momentum: float  # β*
    rate: float  # √β*


def _ravine(surface: Surface) -> Quadratic:
    params = dict(surface.params) or {"condition_number": 50.0, "angle": 0.0}
    kappa, theta = float(params["condition_number"]), math.radians(float(params["angle"]))
    c, s = math.cos(theta), math.sin(theta)
    rotation = np.array([[c, -s], [s, c]])  # columns: the valley floor u and the wall v
    hessian = rotation @ np.diag([1.0, kappa]) @ rotation.T
    return Quadratic(hessian, (1.0, kappa), (0.0, 0.0),
                     f"analytic: the ravine's curvatures are 1 and its condition number {kappa:g}")


def _symbolic_hessian(surface: Surface) -> np.ndarray | None:
    """H from the custom formula's second derivatives, when all four are plain numbers."""
    try:
        parsed = expressions.parse(surface.id[len("expr:"):])
    except expressions.ExpressionError:
        return None
    entries = [differentiate(first, var) for first in (parsed.dx_tree, parsed.dy_tree)
               for var in ("x", "y")]
    if not all(is_number(e) for e in entries):
        return None
    return np.array([e.value for e in entries], dtype=np.float64).reshape(2, 2)


def _evaluated_hessian(surface: Surface) -> np.ndarray | None:
    """H from the exact gradient when it is affine on a spread of points, else None."""
    x0, x1, y0, y1 = surface.domain
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    scale = max(x1 - x0, y1 - y0) / 2
    points = centre + scale * np.array([[0, 0], [1, 0], [0, 1], [0.37, -0.81], [-0.93, 0.55],
                                        [0.61, 0.29], [-0.44, -0.67], [1.7, -2.3]])
    with np.errstate(all="ignore"):
        grads = surface.grad(points)
    if not np.all(np.isfinite(grads)):
        return None
    hessian = np.column_stack([(grads[1] - grads[0]), (grads[2] - grads[0])]) / scale
    predicted = grads[0] + (points - centre) @ hessian.T
    size = max(float(np.max(np.abs(grads))), 1e-300)
    if np.max(np.abs(predicted - grads)) > 1e-9 * size:
        return None
    return (hessian + hessian.T) / 2


def quadratic(surface: Surface) -> tuple[Quadratic | None, str]:
    """The surface as a quadratic bowl, or None and the reason the theory does not apply."""
    if surface.id == "ravine":
        return _ravine(surface), ""
    hessian, source = None, ""
    if surface.id.startswith("expr:"):
        hessian = _symbolic_hessian(surface)
        source = "the formula's second derivatives are constant"
    if hessian is None:
        hessian = _evaluated_hessian(surface)
        source = "its gradient is affine: the Hessian is the same at every point"
    if hessian is None:
        return None, (f"{surface.name} is not quadratic: its curvature changes from place to "
                      "place, so these closed forms do not apply.")
    curvatures = np.linalg.eigvalsh(hessian)
    low, high = float(curvatures[0]), float(curvatures[1])
    if not low > 0:
        return None, (f"{surface.name} is quadratic but has no minimum: its curvatures are "
                      f"{low:.4g} and {high:.4g} (a saddle or a trough, not a bowl).")
    with np.errstate(all="ignore"):
        g0 = surface.grad(np.zeros((1, 2)))[0]
    minimum = -np.linalg.solve(hessian, g0)
    point = (float(minimum[0]) + 0.0, float(minimum[1]) + 0.0)  # no -0
    return Quadratic(hessian, (low, high), point, source), ""


def optima(q: Quadratic) -> Optima:
    """Gradient descent's and heavy-ball momentum's best settings and rates for ``q``."""
    low, high = q.curvatures
    kappa = high / low
    root = math.sqrt(kappa)
    return Optima(2.0 / (low + high), (kappa - 1) / (kappa + 1),
                  (2.0 / (math.sqrt(low) + math.sqrt(high))) ** 2,
                  ((root - 1) / (root + 1)) ** 2, (root - 1) / (root + 1))


def stability_limit(q: Quadratic, momentum: Any, nesterov: bool = False) -> Any:
    """The largest stable learning rate for ``momentum`` β (arrays too): heavy ball
    2(1 + β) / λmax; Nesterov 2(1 + β) / ((1 + 2β) λmax)."""
    beta = np.asarray(momentum, dtype=np.float64)
    limit = 2.0 * (1.0 + beta) / q.curvatures[1]
    return limit / (1.0 + 2.0 * beta) if nesterov else limit


def rate(q: Quadratic, learning_rate: Any, momentum: Any = 0.0, nesterov: bool = False) -> Any:
    """The asymptotic contraction of the distance to the minimum per step (arrays too).

    Below 1: converges at that rate; at or above 1: does not converge (above: diverges).
    """
    alpha = np.asarray(learning_rate, dtype=np.float64)
    beta = np.asarray(momentum, dtype=np.float64)
    worst = np.zeros(np.broadcast(alpha, beta).shape)
    for curvature in q.curvatures:
        h = alpha * curvature
        if nesterov:
            trace, det = (1.0 + beta) * (1.0 - h), beta * (1.0 - h)
        else:
            trace, det = 1.0 + beta - h, beta + 0.0 * h
        root = np.sqrt((trace * trace - 4.0 * det).astype(np.complex128))
        modulus = np.maximum(np.abs((trace + root) / 2), np.abs((trace - root) / 2))
        worst = np.maximum(worst, modulus)
    return float(worst) if worst.ndim == 0 else worst


def racer_rate(q: Quadratic, optimizer_id: str, config: Mapping[str, Any],
               schedule: Any = None, noise: Any = None) -> float | None:
    """Theory's rate for a race's racer, or None where the theory has no closed form
    (not SGD/momentum, a schedule, noise, weight decay or clipping)."""
    if optimizers.spec(optimizer_id).keras_class != "SGD" or schedule is not None:
        return None
    if (noise is not None and noise.scale > 0) or config.get("weight_decay") is not None:
        return None
    if any(config.get(c) for c in ("clipnorm", "clipvalue", "global_clipnorm")):
        return None
    return rate(q, float(config["learning_rate"]), float(config["momentum"]),
                bool(config["nesterov"]) and float(config["momentum"]) > 0)


def measured_rate(points: np.ndarray, minimum: Any, min_steps: int = 10) -> float | None:
    """The distance to ``minimum`` shrank by this factor per step over the second half of
    ``points`` (the geometric mean, so momentum's oscillations average out), stopping where
    the distance reaches rounding level; None for fewer than ``min_steps`` usable steps."""
    centre = np.asarray(minimum, dtype=np.float64)
    distance = np.hypot(*(np.asarray(points, dtype=np.float64) - centre).T)
    floor = MEASURE_FLOOR * (1.0 + float(np.hypot(*centre)))
    below = np.flatnonzero(~(distance > floor))
    end = (int(below[0]) - 1) if below.size else len(distance) - 1
    start = end // 2
    if end - start < min_steps or distance[start] <= 0:
        return None
    return float(np.exp((math.log(distance[end]) - math.log(distance[start])) / (end - start)))
