"""Safe user formulas f(x, y) for custom loss surfaces, with exact symbolic gradients.

User text is only *parsed* (``ast.parse(..., mode="eval")``), never run: the Python syntax tree
is checked against a small whitelist and converted into this module's own tree of frozen
dataclasses (:mod:`engine.landscape.symbolic`), which is differentiated symbolically and evaluated with
NumPy, with the C library's elementary functions (:mod:`engine.landscape.libm`).

Accepted: int/float literals, ``x``, ``y``, ``pi``, ``e``, ``+ - * / **``, unary ``-``/``+``,
parentheses and one-argument calls of the functions in :data:`FUNCTIONS` (``atan``, ``asin``,
``acos`` and ``ln`` are aliases, printed under their canonical name). ``^`` is refused with the
hint "use ** for powers" rather than silently re-read, since in Python it means XOR.
A constant sub-expression must be a finite number (``9**9**9``, ``1/0``, ``log(0)`` are
refused); evaluation itself never warns: nan/inf come back for callers to detect.
Limits (:data:`MAX_LENGTH`, :data:`MAX_DEPTH`, :data:`MAX_NODES`) keep every check to a few
milliseconds; refusals are :class:`ExpressionError` with the 0-based position of the leftmost
problem.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from engine.landscape.symbolic import (
    FUNCTIONS,
    UFUNCS,
    Binary,
    Call,
    Const,
    Node,
    Program,
    Unary,
    Var,
    differentiate,
    is_number,
    to_text,
)

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "MAX_NODES", "Binary", "Call", "Const",
           "Expression", "ExpressionError", "Unary", "Var", "differentiate", "parse", "to_text"]

MAX_LENGTH = 1000  #: longest accepted text, in characters
MAX_DEPTH = 100  #: deepest accepted nesting of the syntax tree
MAX_NODES = 500  #: most accepted syntax-tree nodes (numbers, names, operations, calls)


_ALIASES = {"atan": "arctan", "asin": "arcsin", "acos": "arccos", "ln": "log"}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_BAD_OPS = {
    ast.BitXor: "use ** for powers ('^' is not supported)", ast.FloorDiv: "'//' is not supported",
    ast.Mod: "'%' is not supported", ast.MatMult: "'@' is not supported",
    ast.BitAnd: "'&' is not supported", ast.BitOr: "'|' is not supported",
    ast.LShift: "'<<' is not supported", ast.RShift: "'>>' is not supported",
    ast.Not: "'not' is not supported", ast.Invert: "'~' is not supported",
}
_REFUSED = {
    ast.Attribute: "attribute access ('.') is not allowed",
    ast.Subscript: "indexing ('[...]') is not allowed",
    ast.Lambda: "'lambda' is not allowed",
    ast.IfExp: "conditional expressions ('if ... else') are not allowed",
    ast.Compare: "comparisons are not allowed", ast.BoolOp: "'and'/'or' are not allowed",
    ast.NamedExpr: "':=' is not allowed", ast.Starred: "'*' unpacking is not allowed",
    ast.Tuple: "tuples (commas or empty parentheses) are not allowed",
    ast.List: "lists are not allowed", ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed", ast.JoinedStr: "text in quotes is not allowed",
    **dict.fromkeys((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
                    "comprehensions are not allowed"),
}
# Nodes whose error is best shown at the operator after their first operand.
_OPERATOR_AFTER = {ast.Attribute: lambda n: n.value, ast.Subscript: lambda n: n.value,
                   ast.Compare: lambda n: n.left, ast.IfExp: lambda n: n.body,
                   ast.NamedExpr: lambda n: n.target}


class ExpressionError(ValueError):
    """Raised for any refused formula.

    Parameters
    ----------
    message
        What is wrong, e.g. ``"unknown name 'z' (allowed: x, y, pi, e)"``.
    position
        0-based character offset into the original text, or None when there is no one place.
    """

    def __init__(self, message: str, position: int | None = None):
        self.message = message
        self.position = position
        super().__init__(message if position is None else f"column {position + 1}: {message}")


@dataclass(frozen=True)
class Expression:
    """A checked formula f(x, y): vectorised value and exact gradient.

    Attributes
    ----------
    text : str
        The formula re-printed from the tree (normalised spacing, minimal parentheses).
    tree, dx_tree, dy_tree : Node
        The formula and its partial derivatives as trees.
    """

    text: str
    tree: Node = field(repr=False, compare=False)
    dx_tree: Node = field(repr=False, compare=False)
    dy_tree: Node = field(repr=False, compare=False)
    _program: Program = field(repr=False, compare=False)
    #: The gradient ``(df/dx, df/dy)`` as steps: what :meth:`grad` evaluates with NumPy and
    #: the compiled kernels interpret (:mod:`engine.landscape.kernels.program`).
    gradient_program: Program = field(repr=False, compare=False)

    @cached_property
    def dx(self) -> str:
        """The partial derivative df/dx as formula text."""
        return to_text(self.dx_tree)

    @cached_property
    def dy(self) -> str:
        """The partial derivative df/dy as formula text."""
        return to_text(self.dy_tree)

    def value(self, xy: np.ndarray) -> np.ndarray:
        """Evaluate f at points ``xy`` of shape (..., 2); returns float64 of shape (...)."""
        return self._program.run(xy, (0,))[0]

    def grad(self, xy: np.ndarray) -> np.ndarray:
        """The exact gradient at ``xy`` (..., 2); returns float64 (..., 2)."""
        return np.stack(self.gradient_program.run(xy, (0, 1)), axis=-1)

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both :meth:`value` and :meth:`grad`, sharing the common work."""
        f, fx, fy = self._program.run(xy, (0, 1, 2))
        return f, np.stack([fx, fy], axis=-1)

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------- parsing


class _Locator:
    """Maps the parser's UTF-8 byte columns to character offsets in the original text."""

    def __init__(self, text: str, lead: int):
        self.text, self.lead = text, lead
        body = text[lead:]
        self._chars = None if body.isascii() else \
            [i for i, ch in enumerate(body) for _ in ch.encode("utf-8")] + [len(body)]

    def char(self, col: int) -> int:
        return self.lead + (col if self._chars is None else self._chars[col])

    def start(self, node: ast.AST) -> int:
        return self.char(node.col_offset)

    def after(self, node: ast.AST) -> int:
        """Position of the first character after ``node`` that is not a space or ')'."""
        pos = self.char(node.end_col_offset)
        while pos < len(self.text) and self.text[pos] in " )":
            pos += 1
        return pos


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _problem(node: ast.expr, loc: _Locator) -> tuple[int, str] | None:
    """What is wrong with ``node`` itself (not its children), and where; None if fine."""
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, int | float) and not isinstance(v, bool):
            return None
        kind = {complex: "complex numbers like 1j are", str: "text in quotes is"}
        what = kind.get(type(v), kind[str] if isinstance(v, bytes) else f"{v!r} is")
        return loc.start(node), f"{what} not allowed (numbers only)"
    if isinstance(node, ast.Name):
        if node.id in ("x", "y") or node.id in _CONSTANTS:
            return None
        if node.id in FUNCTIONS or node.id in _ALIASES:
            return loc.start(node), f"'{node.id}' is a function: write {node.id}(...)"
        return loc.start(node), f"unknown name '{_short(node.id)}' (allowed: x, y, pi, e)"
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        if type(node.op) in _BINARY or isinstance(node.op, ast.USub | ast.UAdd):
            return None
        where = loc.after(node.left) if isinstance(node, ast.BinOp) else loc.start(node)
        return where, _BAD_OPS.get(type(node.op), "operator not supported")
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            return loc.after(func), "only named functions can be called, like sin(x)"
        name = _ALIASES.get(func.id, func.id)
        if func.id in ("x", "y") or func.id in _CONSTANTS:
            return loc.after(func), f"'{func.id}' is not a function: write {func.id}*(...)"
        if name not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            return loc.start(func), f"unknown function '{_short(func.id)}' (allowed: {allowed})"
        if node.keywords:
            return loc.start(node.keywords[0]), "keyword arguments are not allowed"
        if len(node.args) != 1:
            where = loc.start(node.args[1]) if node.args else loc.after(func)
            return where, f"{func.id}() takes exactly one argument ({len(node.args)} given)"
        return None
    operand = _OPERATOR_AFTER.get(type(node))
    where = loc.after(operand(node)) if operand else loc.start(node)
    return where, _REFUSED.get(type(node), f"'{type(node).__name__}' is not allowed")


def _check(root: ast.expr, loc: _Locator) -> None:
    """Refuse the leftmost problem of the syntax tree, or a too large/deep tree (iteratively)."""
    stack, count, worst = [(root, 1)], 0, None
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"formula is too long (more than {MAX_NODES} parts)")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"formula is nested too deeply (over {MAX_DEPTH} levels)",
                                  loc.start(node))
        problem = _problem(node, loc)
        if problem is not None and (worst is None or problem[0] < worst[0]):
            worst = problem
        children = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        if isinstance(node, ast.Call):
            children = [k.value for k in node.keywords] + list(node.args)
            children += [] if isinstance(node.func, ast.Name) else [node.func]
        stack.extend((child, depth + 1) for child in children)
    if worst is not None:
        raise ExpressionError(worst[1], worst[0])


def _finite(value: np.float64, node: ast.expr, tree: Node, operands: tuple, loc) -> float:
    """Refuse a constant part whose value is not finite, saying why; else return it."""
    if np.isfinite(value):
        return float(value)
    if isinstance(tree, Binary) and ((tree.op == "/" and operands[1] == 0) or (
            tree.op == "**" and operands[0] == 0 and operands[1] < 0)):
        raise ExpressionError("division by zero", loc.start(node))
    if np.isinf(value) and (isinstance(tree, Binary) or tree.func in ("exp", "sinh", "cosh")):
        raise ExpressionError("number too large", loc.start(node))
    raise ExpressionError(f"'{_short(to_text(tree))}' is not a finite number", loc.start(node))


def _build(node: ast.expr, loc: _Locator) -> tuple[Node, float | None]:
    """Convert a checked syntax tree; also return the value of constant parts (else None)."""
    if isinstance(node, ast.Constant):
        try:
            value = float(node.value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise ExpressionError("number too large", loc.start(node))
        return Const(value), value
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return Const(_CONSTANTS[node.id], node.id), _CONSTANTS[node.id]
        return Var(node.id), None
    if isinstance(node, ast.UnaryOp):
        operand, value = _build(node.operand, loc)
        if isinstance(node.op, ast.UAdd):
            return operand, value
        if is_number(operand):
            return Const(-operand.value), -value
        return Unary("-", operand), (None if value is None else -value)
    if isinstance(node, ast.BinOp):
        (left, lv), (right, rv) = _build(node.left, loc), _build(node.right, loc)
        tree = Binary(_BINARY[type(node.op)], left, right)
        if lv is None or rv is None:
            return tree, None
        with np.errstate(all="ignore"):
            value = UFUNCS[tree.op](np.float64(lv), np.float64(rv))
        return tree, _finite(value, node, tree, (lv, rv), loc)
    arg, av = _build(node.args[0], loc)
    tree = Call(_ALIASES.get(node.func.id, node.func.id), arg)
    if av is None:
        return tree, None
    with np.errstate(all="ignore"):
        value = FUNCTIONS[tree.func](np.float64(av))
    return tree, _finite(value, node, tree, (av,), loc)


def _syntax_error(err: SyntaxError, text: str, lead: int) -> ExpressionError:
    message = (err.msg or "invalid syntax").replace(" (detected at line 1)", "")
    if not err.offset:  # the parser reports an unexpected end as offset 0
        return ExpressionError("formula is incomplete", len(text.rstrip()))
    if message.startswith("invalid syntax. Perhaps you forgot a comma"):
        message = "missing operator between two terms"
    position = min(max(lead + err.offset - 1, 0), len(text))
    return ExpressionError(f"syntax error: {message}", position)


def parse(text: str) -> Expression:
    """Check and compile a user formula f(x, y).

    Parameters
    ----------
    text
        The formula, e.g. ``"x**2 + 3*y**2 + sin(x*y)"``.

    Returns
    -------
    Expression
        The checked formula with its exact partial derivatives.

    Raises
    ------
    ExpressionError
        For anything but the accepted grammar (see the module docstring), with the position
        of the first problem where there is one.
    """
    if not isinstance(text, str):
        raise ExpressionError("formula must be text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"formula is too long (over {MAX_LENGTH} characters)", MAX_LENGTH)
    chars = []
    for i, ch in enumerate(text):
        if ch.isspace():
            ch = " "  # one line for the parser; keeps every offset
        elif not ch.isprintable() or ch == "#":
            raise ExpressionError(f"character {ch!r} is not allowed", i)
        chars.append(ch)
    text = "".join(chars)
    body = text.lstrip()
    if not body:
        raise ExpressionError("formula is empty", 0)
    lead = len(text) - len(body)
    try:
        root = ast.parse(body, mode="eval").body
    except SyntaxError as err:
        raise _syntax_error(err, text, lead) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("formula is too complex for the parser") from None
    loc = _Locator(text, lead)
    _check(root, loc)
    tree, _ = _build(root, loc)
    try:
        dx, dy = differentiate(tree, "x"), differentiate(tree, "y")
        return Expression(to_text(tree), tree, dx, dy, Program((tree, dx, dy)),
                          Program((dx, dy)))
    except RecursionError:  # only if the caller's own stack is already very deep
        raise ExpressionError("formula is too complex") from None
