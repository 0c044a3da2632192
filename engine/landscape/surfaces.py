"""The catalog of 2-D loss surfaces the optimizers race on.

Every :class:`Surface` is a pure, vectorised function of points ``xy`` of shape ``(..., 2)``
(any leading shape) with its exact analytic gradient, a default view, its known minima, a
default start and a one-line lesson. ``get(id, **params)`` returns a catalog entry, with
parameters where :data:`PARAMETERS` lists some; ``from_expression(text)`` wraps a user
formula (:mod:`engine.landscape.expressions`).

The functions never wrap themselves in ``np.errstate``: for finite points inside the default
view they do not warn; far outside it they may overflow, and callers silence that.

Minima without a closed form (Himmelblau, six-hump camel, Styblinski–Tang) are stored as the
double nearest to the true point, found by Newton's method in 60-digit decimal arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from engine.landscape import expressions, gradients
from engine.landscape.gradients import PointGradient
from engine.params import Param

__all__ = [
    "PARAMETERS",
    "Minimum",
    "Surface",
    "UnknownSurfaceError",
    "catalog",
    "from_expression",
    "get",
    "ids",
]

Field = Callable[[np.ndarray], np.ndarray]


class UnknownSurfaceError(ValueError):
    """A surface id that is not in the catalog."""


@dataclass(frozen=True)
class Minimum:
    """A known minimum: where it is, its value, and whether it is ``"global"`` or ``"local"``."""

    point: tuple[float, float]
    value: float
    kind: str = "global"


@dataclass(frozen=True)
class Surface:
    """A 2-D test function with its exact gradient and what the app needs to show it.

    Attributes
    ----------
    id, name, formula : str
        Catalog id, display name and the formula as readable text.
    value, grad : callable
        ``xy (..., 2) -> (...)`` and ``xy (..., 2) -> (..., 2)``, float64. A catalog
        surface's ``grad`` is a :class:`~engine.landscape.gradients.PointGradient`, whose point
        function the compiled kernels run too.
    domain : tuple of float
        Default view ``(x_min, x_max, y_min, y_max)``.
    minima : tuple of Minimum
        Known global minima, then notable local ones; empty when unbounded below.
    start : tuple of float
        Default start point, inside the domain and away from stationary points.
    lesson : str
        What the surface teaches, in one line.
    log_scale : bool
        True when the values span many decades, so a log colour map (of value minus the
        lowest minimum) shows the shape better.
    params : tuple of (str, float)
        The parameters this instance was built with, in :data:`PARAMETERS` order.
    bounded_below : bool or None
        False for a surface that falls without end (the saddles): a path that leaves its map
        going downhill has escaped, the lesson's good outcome. None when unknown (a custom
        formula).
    """

    id: str
    name: str
    formula: str
    value: Field
    grad: Field
    domain: tuple[float, float, float, float]
    minima: tuple[Minimum, ...]
    start: tuple[float, float]
    lesson: str
    log_scale: bool
    params: tuple[tuple[str, float], ...] = ()
    bounded_below: bool | None = True

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(value(xy), grad(xy))``.

        Parameters
        ----------
        xy
            Points of shape ``(..., 2)``.

        Returns
        -------
        tuple of ndarray
            Values of shape ``(...)`` and gradients of shape ``(..., 2)``.
        """
        return self.value(xy), self.grad(xy)


def _xy(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    points = np.asarray(xy, dtype=np.float64)
    if points.shape[-1:] != (2,):
        raise ValueError(f"xy: expected shape (..., 2), got {points.shape}")
    return points[..., 0], points[..., 1]


# ------------------------------------------------------------------------ classic functions


def _rosenbrock(b: float) -> Surface:
    def value(xy):
        x, y = _xy(xy)
        d = y - x * x
        return (1.0 - x) ** 2 + b * d * d

    return Surface(
        "rosenbrock", "Rosenbrock", f"(1 − x)² + {b:g}·(y − x²)²", value,
        PointGradient(gradients.rosenbrock, (b,)),
        (-2.0, 2.0, -1.0, 3.0), (Minimum((1.0, 1.0), 0.0),), (-1.5, 2.0),
        "A long, curved, flat-bottomed valley: easy to find, hard to follow to the end.",
        True,
    )


def _beale_value(xy):
    x, y = _xy(xy)
    y2 = y * y
    t1 = 1.5 - x + x * y
    t2 = 2.25 - x + x * y2
    t3 = 2.625 - x + x * y2 * y
    return t1 * t1 + t2 * t2 + t3 * t3


def _himmelblau_value(xy):
    x, y = _xy(xy)
    t1 = x * x + y - 11.0
    t2 = x + y * y - 7.0
    return t1 * t1 + t2 * t2


def _booth_value(xy):
    x, y = _xy(xy)
    t1 = x + 2.0 * y - 7.0
    t2 = 2.0 * x + y - 5.0
    return t1 * t1 + t2 * t2


def _matyas_value(xy):
    x, y = _xy(xy)
    return 0.26 * (x * x + y * y) - 0.48 * x * y


def _three_hump_value(xy):
    x, y = _xy(xy)
    x2 = x * x
    return x2 * (2.0 + x2 * (-1.05 + x2 / 6.0)) + x * y + y * y


def _six_hump_value(xy):
    x, y = _xy(xy)
    x2 = x * x
    y2 = y * y
    return x2 * (4.0 + x2 * (-2.1 + x2 / 3.0)) + x * y + y2 * (4.0 * y2 - 4.0)


def _goldstein_price_value(xy):
    x, y = _xy(xy)
    s = x + y + 1.0
    t = 2.0 * x - 3.0 * y
    a = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
    b = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
    return (1.0 + s * s * a) * (30.0 + t * t * b)


def _rastrigin(amplitude: float) -> Surface:
    a = amplitude
    tau = 2.0 * math.pi

    def value(xy):
        x, y = _xy(xy)
        return x * x + y * y + a * ((1.0 - np.cos(tau * x)) + (1.0 - np.cos(tau * y)))

    return Surface(
        "rastrigin", "Rastrigin",
        f"{2 * a:g} + x² − {a:g}·cos(2πx) + y² − {a:g}·cos(2πy)", value,
        PointGradient(gradients.rastrigin, (a,)),
        (-5.12, 5.12, -5.12, 5.12), (Minimum((0.0, 0.0), 0.0),), (-4.3, 3.7),
        "A bowl covered in ripples: a grid of local minima traps plain gradient descent.",
        False,
    )


_ACKLEY_A, _ACKLEY_C, _ACKLEY_K = gradients.ACKLEY_A, gradients.ACKLEY_C, gradients.ACKLEY_K


def _ackley_value(xy):
    x, y = _xy(xy)
    radial = np.expm1(-_ACKLEY_K * np.hypot(x, y))  # exp(...) − 1, exact near the origin
    wave = np.expm1(0.5 * (np.cos(_ACKLEY_C * x) + np.cos(_ACKLEY_C * y)) - 1.0)
    return -_ACKLEY_A * radial - math.e * wave


def _styblinski_tang_value(xy):
    x, y = _xy(xy)
    x2 = x * x
    y2 = y * y
    return 0.5 * (x2 * (x2 - 16.0) + 5.0 * x + y2 * (y2 - 16.0) + 5.0 * y)


def _mccormick_value(xy):
    x, y = _xy(xy)
    d = x - y
    return np.sin(x + y) + d * d - 1.5 * x + 2.5 * y + 1.0


def _levi_value(xy):
    x, y = _xy(xy)
    s3x = np.sin(3.0 * math.pi * x)
    s3y = np.sin(3.0 * math.pi * y)
    s2y = np.sin(2.0 * math.pi * y)
    dx = x - 1.0
    dy = y - 1.0
    return s3x * s3x + dx * dx * (1.0 + s3y * s3y) + dy * dy * (1.0 + s2y * s2y)


# ------------------------------------------------------------------ teaching surfaces


def _bowl_value(xy):
    x, y = _xy(xy)
    return x * x + y * y


def _saddle_value(xy):
    x, y = _xy(xy)
    return x * x - y * y


def _monkey_saddle_value(xy):
    x, y = _xy(xy)
    return x * (x * x - 3.0 * y * y)


def _ravine(condition_number: float, angle: float) -> Surface:
    theta = math.radians(angle)
    c, s = math.cos(theta), math.sin(theta)
    k = condition_number

    def value(xy):
        x, y = _xy(xy)
        u = c * x + s * y
        v = c * y - s * x
        return 0.5 * (u * u + k * v * v)

    if angle == 0.0:
        formula = f"½·(x² + {k:g}·y²)"
    else:
        formula = (f"½·(u² + {k:g}·v²),  u = x·cos θ + y·sin θ,  v = y·cos θ − x·sin θ,  "
                   f"θ = {angle:g}°")
    return Surface(
        "ravine", "Ravine", formula, value,
        PointGradient(gradients.ravine, (c, s, k)), (-10.0, 10.0, -5.0, 5.0),
        (Minimum((0.0, 0.0), 0.0),), (-9.0, 3.0),
        "An ill-conditioned bowl: SGD zig-zags across the steep walls, momentum runs along "
        "the floor.",
        False,
    )


_PLATEAU_TILT = gradients.PLATEAU_TILT


def _plateau_value(xy):
    x, y = _xy(xy)
    r2 = x * x + y * y
    return -np.expm1(-0.5 * r2) + _PLATEAU_TILT * r2


# ----------------------------------------------------------------------------- catalog

# Double-precision points nearest to the true minima (see the module docstring).
_HIMMELBLAU_MINIMA = (
    Minimum((3.0, 2.0), 0.0),
    Minimum((-2.805118086952745, 3.131312518250573), 0.0),
    Minimum((-3.779310253377747, -3.2831859912861696), 0.0),
    Minimum((3.5844283403304917, -1.8481265269644036), 0.0),
)
_THREE_HUMP_X = 1.7475523458302888  # √(2.1 + √0.91)
_SIX_HUMP_MINIMA = (
    Minimum((0.08984201310031806, -0.7126564030207396), -1.0316284534898774),
    Minimum((-0.08984201310031806, 0.7126564030207396), -1.0316284534898774),
    Minimum((-1.703606714969981, 0.7960835686726251), -0.21546382438371764, "local"),
    Minimum((1.703606714969981, -0.7960835686726251), -0.21546382438371764, "local"),
    Minimum((1.6071047529201972, 0.5686514548841314), 2.1042503103112584, "local"),
    Minimum((-1.6071047529201972, -0.5686514548841314), 2.1042503103112584, "local"),
)
_ST_LOW, _ST_HIGH = -2.903534027771177, 2.746802770990837  # roots of 4t³ − 32t + 5 = 0
_STYBLINSKI_TANG_MINIMA = (
    Minimum((_ST_LOW, _ST_LOW), -78.33233140754282),
    Minimum((_ST_LOW, _ST_HIGH), -64.19561235905536, "local"),
    Minimum((_ST_HIGH, _ST_LOW), -64.19561235905536, "local"),
    Minimum((_ST_HIGH, _ST_HIGH), -50.05889331056788, "local"),
)
# sin(x + y) + (x − y)² − 1.5x + 2.5y + 1 is stationary where x − y = 1 and cos(x + y) = −½.
_MCCORMICK_MINIMA = (
    Minimum((0.5 - math.pi / 3.0, -0.5 - math.pi / 3.0), -math.sqrt(3.0) / 2.0 - math.pi / 3.0),
    Minimum((0.5 + 2.0 * math.pi / 3.0, -0.5 + 2.0 * math.pi / 3.0),
            2.0 * math.pi / 3.0 - math.sqrt(3.0) / 2.0, "local"),
)


def _fixed(surface_id: str, name: str, formula: str, value: Field, grad: Field,
           domain: tuple[float, float, float, float], minima: tuple[Minimum, ...],
           start: tuple[float, float], lesson: str, log_scale: bool = False,
           bounded_below: bool = True) -> Callable[[], Surface]:
    """A builder for a surface without parameters."""
    surface = Surface(surface_id, name, formula, value, grad, domain, minima, start, lesson,
                      log_scale, bounded_below=bounded_below)
    return lambda: surface


_BUILDERS: dict[str, Callable[..., Surface]] = {
    "rosenbrock": _rosenbrock,
    "beale": _fixed(
        "beale", "Beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
        _beale_value, PointGradient(gradients.beale), (-4.5, 4.5, -4.5, 4.5),
        (Minimum((3.0, 0.5), 0.0),),
        (1.0, 1.5),
        "Steep walls and a narrow arm out to (3, 0.5): a step size that suits one region "
        "overshoots in another.",
        log_scale=True,
    ),
    "himmelblau": _fixed(
        "himmelblau", "Himmelblau", "(x² + y − 11)² + (x + y² − 7)²",
        _himmelblau_value, PointGradient(gradients.himmelblau), (-5.0, 5.0, -5.0, 5.0),
        _HIMMELBLAU_MINIMA,
        (0.0, 0.0),
        "Four equally deep minima: the start and the optimizer decide which one wins.",
        log_scale=True,
    ),
    "booth": _fixed(
        "booth", "Booth", "(x + 2y − 7)² + (2x + y − 5)²", _booth_value,
        PointGradient(gradients.booth),
        (-10.0, 10.0, -10.0, 10.0), (Minimum((1.0, 3.0), 0.0),), (-8.0, 6.0),
        "A tilted elliptical bowl (condition number 9): the gradient points off to the side.",
    ),
    "matyas": _fixed(
        "matyas", "Matyas", "0.26·(x² + y²) − 0.48·xy", _matyas_value,
        PointGradient(gradients.matyas),
        (-10.0, 10.0, -10.0, 10.0), (Minimum((0.0, 0.0), 0.0),), (-8.0, -4.0),
        "A nearly flat diagonal valley: the gradient all but vanishes long before the minimum.",
    ),
    "three_hump_camel": _fixed(
        "three_hump_camel", "Three-hump camel", "2x² − 1.05x⁴ + x⁶/6 + xy + y²",
        _three_hump_value, PointGradient(gradients.three_hump_camel), (-2.0, 2.0, -2.0, 2.0),
        (Minimum((0.0, 0.0), 0.0),
         Minimum((_THREE_HUMP_X, -0.5 * _THREE_HUMP_X), 0.2986384422368598, "local"),
         Minimum((-_THREE_HUMP_X, 0.5 * _THREE_HUMP_X), 0.2986384422368598, "local")),
        (-1.6, -1.2),
        "One global and two local minima: a cautious descent settles in the nearest hollow.",
    ),
    "six_hump_camel": _fixed(
        "six_hump_camel", "Six-hump camel", "(4 − 2.1x² + x⁴/3)·x² + xy + (4y² − 4)·y²",
        _six_hump_value, PointGradient(gradients.six_hump_camel), (-2.0, 2.0, -1.0, 1.0),
        _SIX_HUMP_MINIMA,
        (-1.2, 0.0),
        "Two global minima, four local ones and saddles between them.",
    ),
    "goldstein_price": _fixed(
        "goldstein_price", "Goldstein–Price",
        "[1 + (x + y + 1)²·(19 − 14x + 3x² − 14y + 6xy + 3y²)]·"
        "[30 + (2x − 3y)²·(18 − 32x + 12x² + 48y − 36xy + 27y²)]",
        _goldstein_price_value, PointGradient(gradients.goldstein_price), (-2.0, 2.0, -2.0, 2.0),
        (Minimum((0.0, -1.0), 3.0), Minimum((-0.6, -0.4), 30.0, "local"),
         Minimum((1.8, 0.2), 84.0, "local"), Minimum((1.2, 0.8), 840.0, "local")),
        (0.0, 0.0),
        "Values over six decades, and local minima at 30, 84 and 840 around the global 3.",
        log_scale=True,
    ),
    "rastrigin": _rastrigin,
    "ackley": _fixed(
        "ackley", "Ackley",
        "−20·exp(−0.2·√(½(x² + y²))) − exp(½(cos 2πx + cos 2πy)) + 20 + e",
        _ackley_value, PointGradient(gradients.ackley), (-5.0, 5.0, -5.0, 5.0),
        (Minimum((0.0, 0.0), 0.0),),
        (-3.6, 4.3),
        "A bumpy, nearly flat plain around one deep, sharp funnel.",
    ),
    "styblinski_tang": _fixed(
        "styblinski_tang", "Styblinski–Tang", "½·(x⁴ − 16x² + 5x + y⁴ − 16y² + 5y)",
        _styblinski_tang_value, PointGradient(gradients.styblinski_tang), (-5.0, 5.0, -5.0, 5.0),
        _STYBLINSKI_TANG_MINIMA, (4.5, 0.5),
        "Four basins of different depths: the nearest one is rarely the deepest.",
    ),
    "mccormick": _fixed(
        "mccormick", "McCormick", "sin(x + y) + (x − y)² − 1.5x + 2.5y + 1",
        _mccormick_value, PointGradient(gradients.mccormick), (-1.5, 4.0, -3.0, 4.0),
        _MCCORMICK_MINIMA,
        (-1.0, 3.5),
        "A tilted valley with a sine wave along it: two basins, the deeper one lower left.",
    ),
    "saddle": _fixed(
        "saddle", "Saddle", "x² − y²", _saddle_value, PointGradient(gradients.saddle),
        (-2.0, 2.0, -2.0, 2.0), (),
        (-1.5, 0.01),
        "A saddle point: the gradient vanishes at the origin, yet it is no minimum.",
        bounded_below=False,
    ),
    "monkey_saddle": _fixed(
        "monkey_saddle", "Monkey saddle", "x³ − 3xy²", _monkey_saddle_value,
        PointGradient(gradients.monkey_saddle), (-2.0, 2.0, -2.0, 2.0), (), (1.5, 0.1),
        "A flat saddle with three valleys: the gradient fades quadratically near the centre.",
        bounded_below=False,
    ),
    "ravine": _ravine,
    "plateau": _fixed(
        "plateau", "Plateau", f"1 − exp(−(x² + y²)/2) + {_PLATEAU_TILT:g}·(x² + y²)",
        _plateau_value, PointGradient(gradients.plateau), (-6.0, 6.0, -6.0, 6.0),
        (Minimum((0.0, 0.0), 0.0),),
        (-4.5, 3.5),
        "A wide, almost flat plateau: SGD crawls where gradients vanish, Adam's normalised "
        "step keeps moving.",
    ),
    "bowl": _fixed(
        "bowl", "Bowl", "x² + y²", _bowl_value, PointGradient(gradients.bowl),
        (-3.0, 3.0, -3.0, 3.0),
        (Minimum((0.0, 0.0), 0.0),), (-2.5, 2.0),
        "The easy case: a round bowl where every gradient points straight at the bottom.",
    ),
    "levi": _fixed(
        "levi", "Lévi N.13", "sin²(3πx) + (x − 1)²·(1 + sin²(3πy)) + (y − 1)²·(1 + sin²(2πy))",
        _levi_value, PointGradient(gradients.levi), (-4.0, 4.0, -4.0, 4.0),
        (Minimum((1.0, 1.0), 0.0),),
        (-3.0, -2.5),
        "Ripples along both axes over a smooth bowl: many small traps around (1, 1).",
    ),
}

PARAMETERS: dict[str, tuple[Param, ...]] = {
    "rosenbrock": (
        Param("b", "float", 100.0, 1.0, 1000.0, scale="log", doc="steepness of the valley walls"),
    ),
    "rastrigin": (
        Param("amplitude", "float", 10.0, 0.0, 50.0, doc="height A of the ripples"),
    ),
    "ravine": (
        Param("condition_number", "float", 50.0, 1.0, 1e4, scale="log",
              doc="ratio of the largest to the smallest curvature"),
        Param("angle", "float", 0.0, -90.0, 90.0,
              doc="direction of the valley floor, in degrees from the x axis"),
    ),
}


def _build(surface_id: str, values: dict[str, float]) -> Surface:
    surface = _BUILDERS[surface_id](**values)
    return replace(surface, params=tuple(values.items())) if values else surface


_DEFAULTS: dict[str, Surface] = {
    surface_id: _build(surface_id, {p.name: p.default for p in PARAMETERS.get(surface_id, ())})
    for surface_id in _BUILDERS
}


def ids() -> tuple[str, ...]:
    """Return the catalog ids in display order.

    Returns
    -------
    tuple of str
    """
    return tuple(_BUILDERS)


def catalog() -> tuple[Surface, ...]:
    """Return every catalog surface with its default parameters, in display order.

    Returns
    -------
    tuple of Surface
    """
    return tuple(_DEFAULTS.values())


def get(surface_id: str, **params: float) -> Surface:
    """Return a catalog surface, or a custom one for ``"expr:<formula>"``.

    Parameters
    ----------
    surface_id
        A catalog id (see :func:`ids`), or ``"expr:"`` followed by a formula in ``x`` and ``y``.
    **params
        Values for the surface's parameters (see :data:`PARAMETERS`); the rest keep their
        defaults.

    Returns
    -------
    Surface

    Raises
    ------
    UnknownSurfaceError
        For an id not in the catalog (the message lists the valid ids).
    ValueError
        For an unknown parameter or a value outside its range (the message names it).
    engine.landscape.expressions.ExpressionError
        For a refused custom formula.
    """
    if not isinstance(surface_id, str):
        raise UnknownSurfaceError(f"surface id must be text, got {surface_id!r}")
    if surface_id.startswith("expr:"):
        if params:
            raise ValueError(f"custom expressions take no parameters, got {', '.join(params)}")
        return from_expression(surface_id[len("expr:"):])
    if surface_id not in _BUILDERS:
        raise UnknownSurfaceError(
            f"unknown surface {surface_id!r} (valid: {', '.join(_BUILDERS)}, or expr:<formula>)"
        )
    if not params:
        return _DEFAULTS[surface_id]
    specs = PARAMETERS.get(surface_id, ())
    names = [spec.name for spec in specs]
    for name in params:
        if name not in names:
            valid = f"valid: {', '.join(names)}" if names else "it has none"
            raise ValueError(f"{name}: {surface_id} has no such parameter ({valid})")
    values = {spec.name: spec.check_json(params.get(spec.name, spec.default), spec.name)
              for spec in specs}
    return _build(surface_id, values)


def from_expression(text: str, domain: tuple[float, float, float, float] | None = None
                    ) -> Surface:
    """Return a custom surface for a user formula in ``x`` and ``y``.

    Parameters
    ----------
    text
        The formula, e.g. ``"x**2 + 3*y**2"`` (see :mod:`engine.landscape.expressions`).
    domain
        The view ``(x_min, x_max, y_min, y_max)``; ``(-3, 3, -3, 3)`` by default. The start is
        one sixth of the way in from the top-left corner.

    Returns
    -------
    Surface
        With no known minima and a linear colour scale.

    Raises
    ------
    engine.landscape.expressions.ExpressionError
        For a refused formula, unchanged.
    ValueError
        For a domain that is not four finite numbers with ``x_min < x_max``, ``y_min < y_max``.
    """
    expr = expressions.parse(text)
    if domain is None:
        domain = (-3.0, 3.0, -3.0, 3.0)
    try:
        x0, x1, y0, y1 = (float(v) for v in domain)
    except (TypeError, ValueError):
        raise ValueError(f"domain: expected (x_min, x_max, y_min, y_max), got {domain!r}") from None
    if not all(math.isfinite(v) for v in (x0, x1, y0, y1)) or not (x0 < x1 and y0 < y1):
        raise ValueError(
            f"domain: expected finite x_min < x_max and y_min < y_max, got {domain!r}"
        )
    start = (x0 + (x1 - x0) / 6.0, y1 - (y1 - y0) / 6.0)
    return Surface(
        "expr:" + text.strip(), "Custom", expr.text, expr.value, expr.grad, (x0, x1, y0, y1),
        (), start, "Your own function.", False, bounded_below=None,
    )
