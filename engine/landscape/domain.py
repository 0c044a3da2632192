"""Why a surface is not defined at a point, in words a student can act on.

:func:`why_undefined` finds the innermost part of a custom formula that stops being a finite
number at the point (its own inputs still finite) and says what that part needs, e.g.
``log(x) is not defined at (-2, 2): its argument x = -2 must be > 0``. The gradient is
checked too (``sqrt(x)`` at x = 0 has a value but no slope). :func:`nearest_defined` finds a
start where a race can begin when a formula's default start is outside its domain.
"""

from __future__ import annotations

import numpy as np

from engine.landscape.expressions import parse
from engine.landscape.surfaces import Surface
from engine.landscape.symbolic import (
    FUNCTIONS,
    UFUNCS,
    Binary,
    Call,
    Const,
    Node,
    Unary,
    Var,
)
from engine.landscape.symbolic import to_text as _text

__all__ = ["defined", "nearest_defined", "why_undefined"]

#: What each function needs of its argument, when it can fail on a finite one.
_NEEDS = {
    "log": "> 0", "log10": "> 0", "log2": "> 0", "sqrt": ">= 0",
    "arcsin": "between -1 and 1", "arccos": "between -1 and 1",
}


def _point(x: float, y: float) -> str:
    return f"({x:g}, {y:g})"


def _short(node: Node, limit: int = 40) -> str:
    text = _text(node)
    return text if len(text) <= limit else text[:limit] + "…"


def _value(node: Node, x: float, y: float) -> float:
    if isinstance(node, Const):
        return float(node.value)
    if isinstance(node, Var):
        return x if node.name == "x" else y
    if isinstance(node, Unary):
        return -_value(node.operand, x, y)
    if isinstance(node, Call):
        return float(FUNCTIONS[node.func](np.float64(_value(node.arg, x, y))))
    return float(UFUNCS[node.op](np.float64(_value(node.left, x, y)),
                                 np.float64(_value(node.right, x, y))))


def _culprit(node: Node, x: float, y: float) -> str | None:
    """Words for the innermost part of ``node`` that is not finite at (x, y), or None."""
    children = (node.arg,) if isinstance(node, Call) else (node.operand,) if isinstance(
        node, Unary) else (node.left, node.right) if isinstance(node, Binary) else ()
    for child in children:
        found = _culprit(child, x, y)
        if found is not None:
            return found
    with np.errstate(all="ignore"):
        value = _value(node, x, y)
        if np.isfinite(value):
            return None
        if isinstance(node, Call):
            arg = _value(node.arg, x, y)
            need = _NEEDS.get(node.func)
            if need is not None:
                return (f"{_short(node)} is not defined at {_point(x, y)}: its argument "
                        f"{_short(node.arg)} = {arg:.4g} must be {need}")
            if node.func in ("exp", "sinh", "cosh"):
                return f"{_short(node)} is too large to compute at {_point(x, y)}"
            return f"{_short(node)} is infinite at {_point(x, y)}"
        if isinstance(node, Binary):
            left, right = _value(node.left, x, y), _value(node.right, x, y)
            if node.op == "/" and right == 0:
                return (f"{_short(node)} is not defined at {_point(x, y)}: it divides by "
                        f"{_short(node.right)} = 0")
            if node.op == "**" and left == 0 and right < 0:
                return (f"{_short(node)} is not defined at {_point(x, y)}: 0 to a negative "
                        f"power divides by zero")
            if node.op == "**" and left < 0 and not float(right).is_integer():
                return (f"{_short(node)} is not defined at {_point(x, y)}: a negative base "
                        f"({_short(node.left)} = {left:.4g}) to a fractional power")
        return f"{_short(node)} is not a finite number at {_point(x, y)}"


def defined(surface: Surface, x: float, y: float) -> bool:
    """True when f and its gradient are finite at (x, y)."""
    point = np.array([x, y], dtype=np.float64)
    with np.errstate(all="ignore"):
        return bool(np.isfinite(surface.value(point)) and
                    np.all(np.isfinite(surface.grad(point))))


def why_undefined(surface: Surface, x: float, y: float) -> str | None:
    """Why ``surface`` cannot start a race at (x, y), or None when it can.

    For a custom formula, the part that fails and what it needs; for f's gradient, which
    partial derivative fails; otherwise "f is not defined at (x, y)".
    """
    if defined(surface, x, y):
        return None
    if surface.id.startswith("expr:"):
        expression = parse(surface.id.removeprefix("expr:"))
        found = _culprit(expression.tree, x, y)
        if found is not None:
            return found
        for name, tree in (("∂f/∂x", expression.dx_tree), ("∂f/∂y", expression.dy_tree)):
            found = _culprit(tree, x, y)
            if found is not None:
                return f"f has no gradient at {_point(x, y)}: in {name}, {found}"
    return f"f is not defined at {_point(x, y)}"


def nearest_defined(surface: Surface, x: float, y: float, resolution: int = 101,
                    margin: int = 5) -> tuple[float, float] | None:
    """The point of a ``resolution``² grid over the surface's map nearest to (x, y) where f
    and its gradient are defined, preferring points with ``margin`` defined cells all around
    (a start on the very edge of f's domain steps out of it at once); None if f is defined
    nowhere on the grid."""
    x0, x1, y0, y1 = surface.domain
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    grid = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)
    with np.errstate(all="ignore"):
        ok = np.isfinite(surface.value(grid)) & np.all(np.isfinite(surface.grad(grid)), axis=-1)
    if not ok.any():
        return None
    inner = ok.copy()
    for _ in range(margin):  # erode: a cell stays when its four neighbours are defined too
        padded = np.pad(inner, 1, constant_values=False)
        inner = (inner & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2]
                 & padded[1:-1, 2:])
    candidates = grid[inner if inner.any() else ok]
    best = int(np.argmin(np.hypot(candidates[:, 0] - x, candidates[:, 1] - y)))
    return float(candidates[best, 0]), float(candidates[best, 1])
