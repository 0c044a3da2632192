"""Tests for engine.landscape.expressions: safe parsing, exact gradients, refusals with positions."""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.landscape.expressions as ex
from engine.landscape.expressions import MAX_DEPTH, MAX_LENGTH, Expression, ExpressionError, parse

RNG_SEED = 20240607


def _sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


# (formula, NumPy reference, (low, high) of the sampled domain for both coordinates)
VALID = [
    ("x**2 + 3*y**2 + sin(x*y)", lambda x, y: x**2 + 3 * y**2 + np.sin(x * y), (-2, 2)),
    ("exp(-(x**2+y**2))", lambda x, y: np.exp(-(x**2 + y**2)), (-2, 2)),
    ("sqrt(x**2 + y**2 + 1)", lambda x, y: np.sqrt(x**2 + y**2 + 1), (-2, 2)),
    ("x**y", lambda x, y: x**y, (0.3, 2.5)),
    ("abs(x) + tanh(y)", lambda x, y: np.abs(x) + np.tanh(y), (-2, 2)),
    ("-x", lambda x, y: -x, (-2, 2)),
    ("+x - -y", lambda x, y: x + y, (-2, 2)),
    ("3", lambda x, y: np.full_like(x, 3.0), (-2, 2)),
    ("(x - 1)**2 + 100*(y - x**2)**2", lambda x, y: (x - 1) ** 2 + 100 * (y - x**2) ** 2, (-2, 2)),
    ("log(x**2 + 1)*cos(y)/(2 + sin(x))",
     lambda x, y: np.log(x**2 + 1) * np.cos(y) / (2 + np.sin(x)), (-2, 2)),
    ("arctan(x*y) + sigmoid(x - y) + cosh(y/3) - sinh(x/4)",
     lambda x, y: np.arctan(x * y) + _sigmoid(x - y) + np.cosh(y / 3) - np.sinh(x / 4), (-2, 2)),
    ("tan(x/3) + asin(y/4) + acos(x/5) + log10(x**2 + 1) + log2(y**2 + 1) + atan(y)",
     lambda x, y: (np.tan(x / 3) + np.arcsin(y / 4) + np.arccos(x / 5) + np.log10(x**2 + 1)
                   + np.log2(y**2 + 1) + np.arctan(y)), (-2, 2)),
    ("2**x + e**y + pi*x - ln(y)", lambda x, y: 2**x + np.e**y + np.pi * x - np.log(y), (0.3, 2)),
    ("x**(1/3) + 1/x + y**-2", lambda x, y: np.cbrt(x) + 1 / x + y**-2.0, (0.3, 2)),
    ("(x**y)**2 / (1 + x*y)**0.5", lambda x, y: (x**y) ** 2 / np.sqrt(1 + x * y), (0.3, 2)),
    ("1e-3*x**3 - 2.5e1*y", lambda x, y: 1e-3 * x**3 - 25 * y, (-2, 2)),
]
IDS = [case[0] for case in VALID]


def _points(low, high, n=25):
    return np.random.default_rng(RNG_SEED).uniform(low, high, size=(n, 2))


def _central_differences(expr: Expression, xy: np.ndarray) -> np.ndarray:
    h = 1e-6 * (1.0 + np.abs(xy))
    grad = np.empty_like(xy)
    for k in range(2):
        step = np.zeros_like(xy)
        step[:, k] = h[:, k]
        grad[:, k] = (expr.value(xy + step) - expr.value(xy - step)) / (2 * h[:, k])
    return grad


@pytest.mark.parametrize(("text", "reference", "domain"), VALID, ids=IDS)
def test_values_match_numpy(text, reference, domain):
    xy = _points(*domain)
    got = parse(text).value(xy)
    assert got.dtype == np.float64 and got.shape == (len(xy),)
    np.testing.assert_allclose(got, reference(xy[:, 0], xy[:, 1]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("text", "reference", "domain"), VALID, ids=IDS)
def test_gradient_matches_finite_differences(text, reference, domain):
    expr = parse(text)
    xy = _points(*domain)
    grad = expr.grad(xy)
    assert grad.dtype == np.float64 and grad.shape == xy.shape
    np.testing.assert_allclose(grad, _central_differences(expr, xy), rtol=1e-6, atol=1e-6)
    value, both = expr.value_and_grad(xy)
    np.testing.assert_array_equal(value, expr.value(xy))
    np.testing.assert_array_equal(both, grad)


@pytest.mark.parametrize(("text", "reference", "domain"), VALID, ids=IDS)
def test_printed_texts_parse_back_to_the_same_functions(text, reference, domain):
    expr = parse(text)
    xy = _points(*domain)
    again = parse(expr.text)
    assert again.text == expr.text and again == expr
    np.testing.assert_array_equal(again.value(xy), expr.value(xy))
    # The derivative texts are formulas of their own, equal to the gradient's components.
    np.testing.assert_allclose(parse(expr.dx).value(xy), expr.grad(xy)[:, 0], rtol=1e-12)
    np.testing.assert_allclose(parse(expr.dy).value(xy), expr.grad(xy)[:, 1], rtol=1e-12)


@pytest.mark.parametrize(("text", "normalized", "dx", "dy"), [
    ("x**2", "x**2", "2*x", "0"),
    ("x**2 + 3*y**2", "x**2 + 3*y**2", "2*x", "6*y"),
    ("sin( x )", "sin(x)", "cos(x)", "0"),
    ("exp(-(x**2+y**2))", "exp(-(x**2 + y**2))", "-2*x*exp(-(x**2 + y**2))",
     "-2*y*exp(-(x**2 + y**2))"),
    ("x**y", "x**y", "y*x**(y - 1)", "x**y*log(x)"),
    ("atan(x) + ln(y)", "arctan(x) + log(y)", "1/(1 + x**2)", "1/y"),
    ("(-3)**2 + -3**2*x", "(-3)**2 + -3**2*x", "-3**2", "0"),
    ("x*(y*x) - (x - y)", "x*(y*x) - (x - y)", "y*x + x*y - 1", "x*x + 1"),
])
def test_normalized_and_derivative_texts(text, normalized, dx, dy):
    expr = parse(text)
    assert (expr.text, expr.dx, expr.dy, str(expr)) == (normalized, dx, dy, normalized)


def test_output_shapes_and_no_aliasing():
    for text in ("x", "y", "3", "x*y"):
        expr = parse(text)
        for shape in [(), (4,), (3, 5)]:
            xy = np.arange(np.prod(shape, dtype=int) * 2, dtype=np.float64).reshape(*shape, 2)
            before = xy.copy()
            value, grad = expr.value(xy), expr.grad(xy)
            assert value.shape == shape and grad.shape == (*shape, 2)
            assert value.dtype == grad.dtype == np.float64
            value[...] = -7.0  # the result is the caller's own array, never a view of xy
            np.testing.assert_array_equal(xy, before)
    np.testing.assert_array_equal(parse("3").grad(np.ones((2, 2))), np.zeros((2, 2)))
    np.testing.assert_array_equal(parse("x").value([[1.5, 2.0]]), [1.5])
    with pytest.raises(ValueError, match="shape"):
        parse("x").value(np.zeros((4, 3)))


def test_expression_is_frozen():
    expr = parse("x + y")
    with pytest.raises(dataclasses.FrozenInstanceError):
        expr.text = "z"  # type: ignore[misc]


def test_numeric_trouble_gives_nan_or_inf_without_warnings():
    xy = np.array([[-1.0, 0.0], [0.0, 0.0], [np.inf, np.nan], [1e300, 1e300]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = parse("log(x)").value(xy)
        grad = parse("log(x)").grad(xy)
        assert np.isnan(value[0]) and value[1] == -np.inf
        assert grad[1, 0] == np.inf and value[2] == np.inf
        assert np.isinf(parse("exp(x*y)").value(xy)[3])
        assert np.isnan(parse("sqrt(x) + x**0.5").grad(xy)[0, 0])
        assert np.isinf(parse("1/x").value(xy)[1])
        assert parse("sigmoid(x)").value(np.array([[-1000.0, 0.0]]))[0] == 0.0
    assert np.geterr()["divide"] != "ignore"  # the error state was only changed locally


HOSTILE = [
    ("__import__('os').system('echo hi')", "unknown function '__import__'", 0),
    ("x.real", "attribute access", 1),
    ("().__class__.__bases__", "tuples", 0),
    ("lambda: 1", "'lambda' is not allowed", 0),
    ("[a for a in x]", "comprehensions", 0),
    ("open('f')", "unknown function 'open'", 0),
    ("z + 1", "unknown name 'z' (allowed: x, y, pi, e)", 0),
    ("x + X", "unknown name 'X'", 4),
    ("9**9**9", "number too large", 0),
    ("x + 10**400", "number too large", 4),
    ("1e400*x", "number too large", 0),
    ("9" * 400, "number too large", 0),
    ("x" * 2000, "too long", MAX_LENGTH),
    ("(" * 500 + "x" + ")" * 500, "too long", MAX_LENGTH),
    ("(" * 300 + "x" + ")" * 300, "syntax error", None),
    ("sin(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), "nested too deeply", None),
    ("-" * 900 + "x", "nested too deeply", MAX_DEPTH),
    ("+".join(["(" + "+".join(["x*y"] * 8) + ")"] * 20), "too long", None),
    ("sin(x, y)", "exactly one argument (2 given)", 7),
    ("sin()", "exactly one argument (0 given)", 3),
    ("sin(x=1)", "keyword arguments", 4),
    ("sin(*x)", "unpacking", 4),
    ("x if y else 1", "conditional", 2),
    ("x < y", "comparisons", 2),
    ("x and y", "'and'/'or'", 0),
    ("not x", "'not'", 0),
    ("'abc'", "text in quotes", 0),
    ("f'{x}'", "text in quotes", 0),
    ("b'x'", "text in quotes", 0),
    ("1j", "complex numbers", 0),
    ("True", "True is not allowed", 0),
    ("None", "None is not allowed", 0),
    ("x @ y", "'@'", 2),
    ("x // y", "'//'", 2),
    ("x % y", "'%'", 2),
    ("(x) ^ 2", "use ** for powers", 4),
    ("x | y", "'|'", 2),
    ("[x]", "lists", 0),
    ("{x: y}", "dicts", 0),
    ("x[0]", "indexing", 1),
    ("x, y", "tuples", 0),
    ("(y := 2)", "':='", 3),
    ("", "empty", 0),
    ("   ", "empty", 0),
    ("x +", "incomplete", 3),
    ("sin(x", "'(' was never closed", 3),
    ("x y", "syntax error", 2),
    ("sin", "'sin' is a function: write sin(...)", 0),
    ("sin(x)(y)", "only named functions", 6),
    ("(lambda: 1)()", "'lambda'", 1),
    ("x(y + 1)", "'x' is not a function", 1),
    ("1/0 + x", "division by zero", 0),
    ("log(0)", "'log(0)' is not a finite number", 0),
    ("x # comment", "'#'", 2),
    ("x\x00", "'\\x00'", 1),
    ("  2 * z", "unknown name 'z'", 6),
    ("\uff58 + z", "unknown name 'z'", 4),  # fullwidth x: character, not byte, offsets
    ("x\u00b2 + y", "syntax error", 1),
]


@pytest.mark.parametrize(("text", "fragment", "position"), HOSTILE,
                         ids=[repr(case[0][:30]) for case in HOSTILE])
def test_hostile_input_is_refused_with_message_and_position(text, fragment, position):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert fragment in err.message
    if position is not None:
        assert err.position == position
        assert str(err) == f"column {position + 1}: {err.message}"
    assert isinstance(err, ValueError)


def test_error_without_position_reads_as_plain_message():
    err = ExpressionError("formula is too long", None)
    assert (str(err), err.position) == ("formula is too long", None)


def test_non_text_is_refused():
    with pytest.raises(ExpressionError):
        parse(42)  # type: ignore[arg-type]


def test_limits_are_generous_enough_for_real_formulas():
    deep = "sin(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1)
    powers = "x**(" * 45 + "y" + ")" * 45
    chain = "/".join(["(x + 2)"] * 60)
    for text in (deep, powers, chain, "+".join(f"{i}*x*y" for i in range(60))):
        start = time.perf_counter()
        expr = parse(text)
        assert time.perf_counter() - start < 0.1
        assert np.all(np.isfinite(expr.grad(_points(0.5, 0.9, n=4))))


def test_module_source_never_runs_code():
    source = Path(ex.__file__).read_text(encoding="utf-8")
    for banned in ("eval(", "exec(", "__import__", "compile(", "getattr(", "importlib"):
        assert banned not in source


TOKENS = [
    "__import__", "open", "os", "system", "exec", "eval", "compile", "globals", "getattr",
    "__class__", "__bases__", "__subclasses__", "__builtins__", "lambda", "for", "in", "if",
    "else", "not", "and", "import", "yield", "await", "(", ")", "(", ")", ".", ",", ":", ";", "=",
    "[", "]", "{", "}", "'", '"', "\\", "#", "@", "*", "**", "+", "-", "/", "//", "%", "^", "~",
    "<", "==", ":=", " ", " ", "x", "y", "z", "pi", "e", "sin", "exp", "log", "sqrt", "abs",
    "0", "1", "2", "9", "1e308", "1j", "0.5", "10", "é", "\n", "\t",
]


@pytest.fixture(scope="module")
def canary(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("canary") / "canary.txt"


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_canary_random_dangerous_text_is_only_ever_parsed(canary, data):
    target = str(canary)
    payloads = [f"open('{target}', 'w').write('x')", f"'{target}'",
                f"__import__('os').system('touch {target}')",
                f"__import__('pathlib').Path('{target}').touch()"]
    pieces = data.draw(st.lists(st.sampled_from(TOKENS + payloads), max_size=40))
    text = "".join(pieces)
    start = time.perf_counter()
    try:
        expr = parse(text)
    except ExpressionError as err:
        assert err.position is None or 0 <= err.position <= len(text)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert expr.value(np.ones((3, 2))).shape == (3,)
            assert expr.grad(np.ones((3, 2))).shape == (3, 2)
    assert time.perf_counter() - start < 0.1
    assert not canary.exists()
