"""The symbolic side of custom formulas: a small expression tree, exact derivatives,
and compiled NumPy evaluation.

Trees are frozen dataclasses (:class:`Const`, :class:`Var`, :class:`Unary`, :class:`Binary`,
:class:`Call`), built only by :mod:`engine.landscape.expressions` from checked user text.
:func:`differentiate` applies the textbook rules with light simplification; :class:`Program`
evaluates trees as one list of NumPy steps, computing shared parts once, with the C
library's elementary functions (:data:`FUNCTIONS`), which compiled kernels reproduce bit for
bit (:mod:`engine.landscape.kernels.program`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.landscape import libm

#: The functions a formula may call. Where NumPy's float64 loops differ from the C library
#: (exp, log, tan, tanh, arctan, ... and ``**``), the C library's results are used
#: (:mod:`engine.landscape.libm`), so a formula's value and gradient are the same numbers in
#: NumPy and in a compiled kernel; sin, cos, sqrt, abs and sign are NumPy's (equal to C's).
FUNCTIONS: dict[str, Callable] = {
    "sin": np.sin, "cos": np.cos, "tan": libm.tan, "exp": libm.exp, "log": libm.log,
    "log10": libm.log10, "log2": libm.log2, "sqrt": np.sqrt, "abs": np.abs, "sign": np.sign,
    "tanh": libm.tanh, "sinh": libm.sinh, "cosh": libm.cosh, "arctan": libm.arctan,
    "arcsin": libm.arcsin, "arccos": libm.arccos, "sigmoid": libm.sigmoid,
}
#: The function for each binary operator.
UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": libm.power}


# ----------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Const:
    """A number; ``name`` is ``"pi"`` or ``"e"`` for the named constants."""

    value: float
    name: str | None = None


@dataclass(frozen=True)
class Var:
    """The variable ``x`` or ``y``."""

    name: str


@dataclass(frozen=True)
class Unary:
    """Negation (``op`` is always ``"-"``)."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    """``left op right`` with ``op`` one of ``+ - * / **``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """``func(arg)`` with ``func`` a key of :data:`FUNCTIONS`."""

    func: str
    arg: Node


Node = Const | Var | Unary | Binary | Call
ZERO, ONE, TWO = Const(0.0), Const(1.0), Const(2.0)
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}


def _negative(value: float) -> bool:
    """True for numbers below zero and for -0.0 (``x/-0`` is not ``x/0``)."""
    return math.copysign(1.0, value) < 0


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    if isinstance(node, Unary) or (isinstance(node, Const) and _negative(node.value)):
        return 3
    return 5


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return "-0" if value == 0 and _negative(value) else str(int(value))
    return repr(float(value))


def to_text(node: Node) -> str:
    """Print a tree as a formula with minimal parentheses; parsing it gives the same tree."""
    if isinstance(node, Const):
        return node.name or _number(node.value)
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Call):
        return f"{node.func}({to_text(node.arg)})"
    if isinstance(node, Unary):
        inner = to_text(node.operand)
        return f"-({inner})" if _precedence(node.operand) <= 3 else f"-{inner}"
    p, lp, rp = _PRECEDENCE[node.op], _precedence(node.left), _precedence(node.right)
    left, right = to_text(node.left), to_text(node.right)
    if lp < p or (node.op == "**" and lp == p):
        left = f"({left})"
    if (rp < 3) if node.op == "**" else (rp <= p):
        right = f"({right})"
    sep = " " if p == 1 else ""
    return f"{left}{sep}{node.op}{sep}{right}"


# --------------------------------------------------------- simplifying constructors


def is_number(node: Node) -> bool:
    """True for a plain numeric constant (not ``pi`` or ``e``)."""
    return isinstance(node, Const) and node.name is None


def _is(node: Node, value: float) -> bool:
    return is_number(node) and node.value == value


def _fold(op: str, a: Node, b: Node) -> Node | None:
    """Fold two plain numbers with float arithmetic; None if not numbers or not finite."""
    if not (is_number(a) and is_number(b)):
        return None
    with np.errstate(all="ignore"):
        r = UFUNCS[op](np.float64(a.value), np.float64(b.value))
    return Const(float(r)) if np.isfinite(r) else None


def _leads_with_minus(node: Node) -> bool:
    """True for ``-a``, ``-2``, and products/quotients whose first factor is one of those."""
    while isinstance(node, Binary) and node.op in "*/":
        node = node.left
    return isinstance(node, Unary) or (is_number(node) and node.value < 0)


def _neg(a: Node) -> Node:
    if is_number(a):
        return Const(-a.value)
    if isinstance(a, Unary):
        return a.operand
    if isinstance(a, Binary) and a.op in "*/" and (is_number(a.left) or _leads_with_minus(a.left)):
        return (_mul if a.op == "*" else _div)(_neg(a.left), a.right)
    return Unary("-", a)


def _add(a: Node, b: Node) -> Node:
    if _is(a, 0):
        return b
    if _is(b, 0):
        return a
    if _leads_with_minus(b) and not _leads_with_minus(minus_b := _neg(b)):
        return _sub(a, minus_b)
    return _fold("+", a, b) or Binary("+", a, b)


def _sub(a: Node, b: Node) -> Node:
    if _is(b, 0):
        return a
    if _is(a, 0):
        return _neg(b)
    if _leads_with_minus(b) and not _leads_with_minus(minus_b := _neg(b)):
        return _add(a, minus_b)
    return _fold("-", a, b) or Binary("-", a, b)


def _mul(a: Node, b: Node) -> Node:
    if _is(a, 0) or _is(b, 0):
        return ZERO
    if _is(a, 1):
        return b
    if _is(b, 1):
        return a
    if _is(a, -1):
        return _neg(b)
    if is_number(b) and not is_number(a):
        return _mul(b, a)
    if isinstance(a, Unary):
        return _neg(_mul(a.operand, b))
    if isinstance(b, Unary):
        return _neg(_mul(a, b.operand))
    if isinstance(b, Binary) and b.op == "*" and (folded := _fold("*", a, b.left)):
        return _mul(folded, b.right)
    if isinstance(b, Binary) and b.op == "/" and _is(b.left, 1):
        return _div(a, b.right)
    return _fold("*", a, b) or Binary("*", a, b)


def _div(a: Node, b: Node) -> Node:
    if _is(a, 0):
        return ZERO
    if _is(b, 1):
        return a
    return _fold("/", a, b) or Binary("/", a, b)


def _pow(a: Node, b: Node) -> Node:
    if _is(b, 0):
        return ONE
    if _is(b, 1):
        return a
    return _fold("**", a, b) or Binary("**", a, b)


# f'(u) for each function, given u and the call node f(u) itself.
_DERIVATIVES: dict[str, Callable[[Node, Node], Node]] = {
    "sin": lambda u, f: Call("cos", u),
    "cos": lambda u, f: _neg(Call("sin", u)),
    "tan": lambda u, f: _div(ONE, _pow(Call("cos", u), TWO)),
    "exp": lambda u, f: f,
    "log": lambda u, f: _div(ONE, u),
    "log10": lambda u, f: _div(ONE, _mul(u, Call("log", Const(10.0)))),
    "log2": lambda u, f: _div(ONE, _mul(u, Call("log", TWO))),
    "sqrt": lambda u, f: _div(ONE, _mul(TWO, f)),
    "abs": lambda u, f: Call("sign", u),
    "sign": lambda u, f: ZERO,
    "tanh": lambda u, f: _sub(ONE, _pow(f, TWO)),
    "sinh": lambda u, f: Call("cosh", u),
    "cosh": lambda u, f: Call("sinh", u),
    "arctan": lambda u, f: _div(ONE, _add(ONE, _pow(u, TWO))),
    "arcsin": lambda u, f: _div(ONE, Call("sqrt", _sub(ONE, _pow(u, TWO)))),
    "arccos": lambda u, f: _neg(_div(ONE, Call("sqrt", _sub(ONE, _pow(u, TWO))))),
    "sigmoid": lambda u, f: _mul(f, _sub(ONE, f)),
}


def differentiate(node: Node, var: str) -> Node:
    """The exact derivative of ``node`` with respect to ``var`` (``"x"`` or ``"y"``)."""
    if isinstance(node, Const):
        return ZERO
    if isinstance(node, Var):
        return ONE if node.name == var else ZERO
    if isinstance(node, Unary):
        return _neg(differentiate(node.operand, var))
    if isinstance(node, Call):
        du = differentiate(node.arg, var)
        return ZERO if _is(du, 0) else _mul(du, _DERIVATIVES[node.func](node.arg, node))
    u, v, op = node.left, node.right, node.op
    du, dv = differentiate(u, var), differentiate(v, var)
    if op in "+-":
        return _add(du, dv) if op == "+" else _sub(du, dv)
    if op == "*":
        return _add(_mul(du, v), _mul(u, dv))
    if op == "/":
        if _is(dv, 0):
            return _div(du, v)
        # (u' - (u/v)·v') / v, not (u'v - uv') / v²: no v² or u·v' to under- or overflow
        # where u/v itself is an ordinary number (c/(x·c) with c = 1e-170: the gradient was 0).
        return _div(_sub(du, _mul(node, dv)), v)
    power_rule = ZERO if _is(du, 0) else _mul(_mul(v, _pow(u, _sub(v, ONE))), du)
    if _is(dv, 0):
        return power_rule
    log_u = ONE if u == Const(math.e, "e") else Call("log", u)
    return _add(power_rule, _mul(_mul(node, log_u), dv))


# ------------------------------------------------------------------- evaluation


def _const_key(value: float) -> tuple:
    """The sharing key of a constant: -0.0 equals 0.0 as a dict key, but not as a divisor."""
    return ("c", float(value), _negative(value))


class Program:
    """Trees as one list of NumPy steps; shared parts are computed once.

    ``steps[i]`` is ``(kind, payload, args)``: kind 0 a constant (payload its value), 1 ``x``,
    2 ``y``, 3 an operation (payload the function, ``args`` earlier step indices).
    ``outputs`` are the steps of ``roots``.
    """

    def __init__(self, roots: tuple[Node, ...]):
        self.steps: list[tuple[int, object, tuple[int, ...]]] = []  # (kind, payload, args)
        self._keys: dict[tuple, int] = {}
        self._ids: dict[int, int] = {}
        self._plans: dict[tuple[int, ...], list[tuple[int, tuple[int, ...]]]] = {}
        self.outputs = tuple(self._slot(root) for root in roots)

    def _emit(self, key: tuple, kind: int, payload: object, args: tuple[int, ...] = ()) -> int:
        if kind == 3 and all(self.steps[a][0] == 0 for a in args):  # constant: fold now
            with np.errstate(all="ignore"):
                value = np.float64(payload(*(self.steps[a][1] for a in args)))
            return self._emit(_const_key(value), 0, value)
        if key not in self._keys:
            self._keys[key] = len(self.steps)
            self.steps.append((kind, payload, args))
        return self._keys[key]

    def _slot(self, node: Node) -> int:
        if id(node) in self._ids:
            return self._ids[id(node)]
        if isinstance(node, Const):
            slot = self._emit(_const_key(node.value), 0, np.float64(node.value))
        elif isinstance(node, Var):
            slot = self._emit(("v", node.name), 1 if node.name == "x" else 2, None)
        elif isinstance(node, Unary):
            a = self._slot(node.operand)
            slot = self._emit(("neg", a), 3, np.negative, (a,))
        elif isinstance(node, Call):
            a = self._slot(node.arg)
            slot = self._emit((node.func, a), 3, FUNCTIONS[node.func], (a,))
        else:
            ab = (self._slot(node.left), self._slot(node.right))
            slot = self._emit((node.op, *ab), 3, UFUNCS[node.op], ab)
        self._ids[id(node)] = slot
        return slot

    def _plan(self, which: tuple[int, ...]) -> list[tuple[int, tuple[int, ...]]]:
        """Steps needed for the outputs ``which``, each with the slots it is the last user of."""
        if which not in self._plans:
            keep = {self.outputs[i] for i in which}
            needed, stack = set(), list(keep)
            while stack:
                slot = stack.pop()
                if slot not in needed:
                    needed.add(slot)
                    stack.extend(self.steps[slot][2])
            order = sorted(needed)
            last = {a: slot for slot in order for a in self.steps[slot][2]}
            self._plans[which] = [(slot, tuple({a for a in self.steps[slot][2]
                                                if last[a] == slot and a not in keep}))
                                  for slot in order]
        return self._plans[which]

    def run(self, xy: np.ndarray, which: tuple[int, ...]) -> list[np.ndarray]:
        xy = np.asarray(xy, dtype=np.float64)
        if xy.ndim < 1 or xy.shape[-1] != 2:
            raise ValueError(f"expected an array of shape (..., 2), got {xy.shape}")
        shape = xy.shape[:-1]
        x, y = xy[..., 0].copy(), xy[..., 1].copy()  # contiguous: faster ufuncs
        values: list[object] = [None] * len(self.steps)
        with np.errstate(all="ignore"):
            for slot, done in self._plan(which):
                kind, payload, args = self.steps[slot]
                values[slot] = (payload, x, y)[kind] if kind < 3 else \
                    payload(*[values[a] for a in args])
                for a in done:
                    values[a] = None  # free intermediates early: grids can be large
        out = []
        for i in which:
            r = values[self.outputs[i]]
            if not isinstance(r, np.ndarray) or r is x or r is y or r.shape != shape:
                r = np.array(np.broadcast_to(r, shape), dtype=np.float64)
            out.append(r)
        return out
