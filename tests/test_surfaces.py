"""Tests for engine.landscape.surfaces: exact minima, analytic gradients, vectorisation, the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.landscape import expressions, surfaces
from engine.landscape.surfaces import PARAMETERS, Minimum, Surface, UnknownSurfaceError

REQUIRED = {
    "rosenbrock", "beale", "himmelblau", "booth", "matyas", "three_hump_camel",
    "six_hump_camel", "goldstein_price", "rastrigin", "ackley", "styblinski_tang", "mccormick",
    "saddle", "monkey_saddle", "ravine", "plateau",
}
CATALOG = surfaces.catalog()
BY_ID = {s.id: s for s in CATALOG}
MINIMA = [(s.id, i) for s in CATALOG for i in range(len(s.minima))]


def _fd_grad(surface: Surface, points: np.ndarray, h: float) -> np.ndarray:
    """Central finite differences of ``surface.value`` at ``points`` (N, 2)."""
    ex = np.array([h, 0.0])
    ey = np.array([0.0, h])
    return np.stack([
        (surface.value(points + ex) - surface.value(points - ex)) / (2 * h),
        (surface.value(points + ey) - surface.value(points - ey)) / (2 * h),
    ], axis=-1)


def _assert_grad_matches_fd(surface: Surface, points: np.ndarray) -> None:
    if surface.id == "ackley":  # a cone at the origin: not differentiable there
        points = points[np.hypot(points[:, 0], points[:, 1]) > 1e-3]
        if len(points) == 0:
            return
    h = 1e-6 * max(1.0, *(abs(v) for v in surface.domain))
    analytic = surface.grad(points)
    numeric = _fd_grad(surface, points, h)
    # Truncation error O(h²) plus rounding error ~ eps·|f|/h.
    scale = np.abs(analytic) + 1.0 + 1e-10 * np.abs(surface.value(points))[:, None] / h
    worst = np.max(np.abs(numeric - analytic) / scale)
    assert worst < 1e-5, f"{surface.id}: analytic and numeric gradients differ ({worst:.2e})"


def _domain_points(surface: Surface, n: int, seed: int) -> np.ndarray:
    x0, x1, y0, y1 = surface.domain
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=-1)


def _grid(surface: Surface, n: int) -> np.ndarray:
    x0, x1, y0, y1 = surface.domain
    return np.stack(np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n)), axis=-1)


def _fd_hessian(surface: Surface, point: tuple[float, float], h: float = 1e-5) -> np.ndarray:
    p = np.array(point, dtype=np.float64)
    cols = [(surface.grad(p + e) - surface.grad(p - e)) / (2 * h) for e in np.eye(2) * h]
    hessian = np.stack(cols, axis=-1)
    return 0.5 * (hessian + hessian.T)


# --------------------------------------------------------------------------- metadata


def test_catalog_has_the_required_unique_ids_in_order():
    ids = surfaces.ids()
    assert len(ids) == len(set(ids)) >= 18
    assert REQUIRED <= set(ids)
    assert ids == tuple(s.id for s in CATALOG)
    assert all(isinstance(s, Surface) for s in CATALOG)


@pytest.mark.parametrize("surface", CATALOG, ids=lambda s: s.id)
def test_metadata_is_sane(surface):
    x0, x1, y0, y1 = surface.domain
    assert x0 < x1 and y0 < y1
    assert surface.name.strip() and surface.formula.strip() and surface.lesson.strip()
    assert "\n" not in surface.lesson
    assert isinstance(surface.log_scale, bool)
    sx, sy = surface.start
    assert x0 <= sx <= x1 and y0 <= sy <= y1
    margin_x, margin_y = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
    for m in surface.minima:
        assert m.kind in ("global", "local")
        assert x0 - margin_x <= m.point[0] <= x1 + margin_x
        assert y0 - margin_y <= m.point[1] <= y1 + margin_y
    if surface.minima:
        assert surface.minima[0].kind == "global"
        assert [m.kind for m in surface.minima] == sorted(
            (m.kind for m in surface.minima), key=("global", "local").index
        )


@pytest.mark.parametrize("surface", CATALOG, ids=lambda s: s.id)
def test_the_start_makes_a_race(surface):
    start = np.array(surface.start)
    assert np.linalg.norm(surface.grad(start)) > 1e-3  # not at a stationary point
    for m in surface.minima:
        assert np.linalg.norm(start - m.point) > 0.3


def test_unbounded_surfaces_list_no_minima_and_the_rest_do():
    assert BY_ID["saddle"].minima == () and BY_ID["monkey_saddle"].minima == ()
    assert all(s.minima for s in CATALOG if s.id not in ("saddle", "monkey_saddle"))
    # The saddles really are unbounded below.
    assert BY_ID["saddle"].value(np.array([0.0, 1e3])) < -1e5
    assert BY_ID["monkey_saddle"].value(np.array([-1e3, 0.0])) < -1e8


def test_log_scale_marks_the_surfaces_spanning_many_decades():
    for surface_id in ("rosenbrock", "beale", "goldstein_price"):
        assert BY_ID[surface_id].log_scale
    for surface_id in ("saddle", "bowl", "styblinski_tang", "six_hump_camel"):
        assert not BY_ID[surface_id].log_scale


# ----------------------------------------------------------------------------- minima


@pytest.mark.parametrize(("surface_id", "index"), MINIMA, ids=[f"{s}-{i}" for s, i in MINIMA])
def test_minimum_value_is_exact_and_stationary(surface_id, index):
    surface = BY_ID[surface_id]
    m = surface.minima[index]
    point = np.array(m.point)
    value = float(surface.value(point))
    assert value == pytest.approx(m.value, rel=1e-12, abs=1e-12)
    assert np.linalg.norm(surface.grad(point)) < 1e-8
    # A local minimum: every nearby point is at least as high.
    rng = np.random.default_rng(index)
    angles = rng.uniform(0, 2 * np.pi, 64)
    for radius in (1e-4, 1e-3, 1e-2):
        ring = point + radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
        assert np.all(surface.value(ring) >= value - 1e-12 * (1 + abs(value)))


@pytest.mark.parametrize("surface", [s for s in CATALOG if s.minima], ids=lambda s: s.id)
def test_global_minima_are_lowest_on_the_whole_view(surface):
    glob = [m.value for m in surface.minima if m.kind == "global"]
    local = [m.value for m in surface.minima if m.kind == "local"]
    assert max(glob) - min(glob) <= 1e-12 * (1 + abs(glob[0]))
    assert all(v > glob[0] for v in local)
    lowest = float(np.min(surface.value(_grid(surface, 401))))
    assert lowest >= glob[0] - 1e-12 * (1 + abs(glob[0]))


def test_known_values_from_the_literature():
    assert BY_ID["six_hump_camel"].minima[0].value == pytest.approx(-1.0316284534898774, abs=1e-15)
    assert BY_ID["styblinski_tang"].minima[0].point[0] == pytest.approx(-2.903534, abs=1e-6)
    assert BY_ID["styblinski_tang"].minima[0].value == pytest.approx(-78.33233, abs=1e-5)
    mc = BY_ID["mccormick"].minima[0]
    assert mc.point == pytest.approx((-0.54719, -1.54719), abs=1e-5)
    assert mc.value == pytest.approx(-1.9133, abs=1e-4)
    assert len(BY_ID["himmelblau"].minima) == 4
    assert BY_ID["goldstein_price"].minima[0] == Minimum((0.0, -1.0), 3.0)
    assert float(BY_ID["goldstein_price"].value(np.array([0.0, 0.0]))) == 600.0
    assert float(BY_ID["rosenbrock"].value(np.array([-1.0, 1.0]))) == 4.0
    assert float(BY_ID["beale"].value(np.array([0.0, 0.0]))) == pytest.approx(14.203125)
    assert float(BY_ID["ackley"].value(np.array([1.0, 1.0]))) == pytest.approx(3.6253849384)


def test_ackley_is_exactly_zero_with_zero_gradient_at_the_origin():
    ackley = BY_ID["ackley"]
    origin = np.zeros(2)
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        assert float(ackley.value(origin)) == 0.0
        np.testing.assert_array_equal(ackley.grad(origin), [0.0, 0.0])
        tiny = np.array([5e-324, 0.0])  # no overflow in x / r for the smallest subnormal
        assert np.all(np.isfinite(ackley.grad(tiny)))


# -------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("surface", CATALOG, ids=lambda s: s.id)
def test_gradient_matches_central_differences(surface):
    points = np.vstack([_domain_points(surface, 300, seed=7), [surface.start]])
    _assert_grad_matches_fd(surface, points)


@settings(max_examples=150, deadline=None)
@given(
    surface_id=st.sampled_from(surfaces.ids()),
    u=st.floats(0.0, 1.0),
    v=st.floats(0.0, 1.0),
)
def test_gradient_matches_central_differences_anywhere_in_the_view(surface_id, u, v):
    surface = BY_ID[surface_id]
    x0, x1, y0, y1 = surface.domain
    _assert_grad_matches_fd(surface, np.array([[x0 + u * (x1 - x0), y0 + v * (y1 - y0)]]))


@pytest.mark.parametrize("surface", CATALOG, ids=lambda s: s.id)
def test_no_floating_point_trouble_on_the_view(surface):
    grid = _grid(surface, 65)
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        values, grads = surface.value_and_grad(grid)
    assert values.dtype == np.float64 and grads.dtype == np.float64
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(grads))


# --------------------------------------------------------------------- vectorisation


@pytest.mark.parametrize("surface", CATALOG, ids=lambda s: s.id)
@pytest.mark.parametrize("shape", [(2,), (5, 2), (3, 4, 2)])
def test_any_leading_shape_matches_pointwise_evaluation(surface, shape):
    points = _domain_points(surface, math.prod(shape[:-1]), seed=3).reshape(shape)
    values = surface.value(points)
    grads = surface.grad(points)
    assert np.shape(values) == shape[:-1] and np.shape(grads) == shape
    flat_points = points.reshape(-1, 2)
    one_by_one_v = np.array([surface.value(p) for p in flat_points])
    one_by_one_g = np.array([surface.grad(p) for p in flat_points])
    np.testing.assert_allclose(np.reshape(values, -1), one_by_one_v, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grads.reshape(-1, 2), one_by_one_g, rtol=1e-13, atol=1e-13)
    both = surface.value_and_grad(points)
    np.testing.assert_array_equal(both[0], values)
    np.testing.assert_array_equal(both[1], grads)


def test_plain_sequences_and_integers_are_accepted_and_bad_shapes_refused():
    rosenbrock = BY_ID["rosenbrock"]
    assert float(rosenbrock.value([0, 0])) == 1.0
    np.testing.assert_array_equal(rosenbrock.grad((1, 1)), [0.0, 0.0])
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        rosenbrock.value(np.zeros((4, 3)))


# --------------------------------------------------------------------- get and params


def test_get_returns_the_catalog_defaults():
    for surface in CATALOG:
        assert surfaces.get(surface.id) is surface
    assert BY_ID["ravine"].params == (("condition_number", 50.0), ("angle", 0.0))
    assert BY_ID["bowl"].params == ()


def test_unknown_id_lists_the_valid_ones():
    with pytest.raises(UnknownSurfaceError) as info:
        surfaces.get("rosenbrok")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "'rosenbrok'" in message and "rosenbrock" in message and "himmelblau" in message
    with pytest.raises(UnknownSurfaceError, match="text"):
        surfaces.get(None)


@pytest.mark.parametrize(
    ("surface_id", "params", "pattern"),
    [
        ("ravine", {"condition_number": 0.5},
         r"condition_number: must be in \[1, 10000\], got 0\.5"),
        ("ravine", {"condition_number": 2e4},
         r"condition_number: must be in \[1, 10000\], got 20000"),
        ("ravine", {"angle": 91}, r"angle: must be in \[-90, 90\]"),
        ("ravine", {"angle": float("nan")}, r"angle: must be a finite number"),
        ("ravine", {"angle": "45"}, r"angle: must be a number"),
        ("ravine", {"condition_number": True}, r"condition_number: must be a number"),
        ("ravine", {"conditon_number": 3.0}, r"conditon_number.*condition_number"),
        ("bowl", {"scale": 2.0}, r"scale: bowl has no such parameter"),
        ("rosenbrock", {"b": 0.0}, r"b: must be in \[1, 1000\]"),
        ("expr:x**2", {"b": 1.0}, r"custom expressions take no parameters"),
    ],
)
def test_bad_parameters_are_refused_by_name(surface_id, params, pattern):
    with pytest.raises(ValueError, match=pattern):
        surfaces.get(surface_id, **params)


def test_parameter_specs_are_consistent():
    assert set(PARAMETERS) <= set(surfaces.ids())
    assert {p.name for p in PARAMETERS["ravine"]} == {"condition_number", "angle"}
    cond = next(p for p in PARAMETERS["ravine"] if p.name == "condition_number")
    assert (cond.default, cond.low, cond.high) == (50.0, 1.0, 1e4)
    for surface_id, specs in PARAMETERS.items():
        assert BY_ID[surface_id].params == tuple((p.name, p.default) for p in specs)
        for spec in specs:
            assert spec.low <= spec.default <= spec.high and spec.doc
            for value in (spec.low, spec.high):
                surface = surfaces.get(surface_id, **{spec.name: value})
                assert dict(surface.params)[spec.name] == value
                _assert_grad_matches_fd(surface, _domain_points(surface, 50, seed=11))
                for m in surface.minima:
                    assert float(surface.value(np.array(m.point))) == pytest.approx(m.value)
                    assert np.linalg.norm(surface.grad(np.array(m.point))) < 1e-8


@pytest.mark.parametrize("condition_number", [1.0, 7.0, 50.0, 1e3])
@pytest.mark.parametrize("angle", [0.0, 30.0, -60.0, 90.0])
def test_ravine_condition_number_and_angle_shape_the_hessian(condition_number, angle):
    ravine = surfaces.get("ravine", condition_number=condition_number, angle=angle)
    hessian = _fd_hessian(ravine, (0.7, -0.4))
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    np.testing.assert_allclose(eigenvalues, [1.0, condition_number], rtol=1e-6)
    if condition_number > 1:
        # The flat direction (the valley floor) points along the angle.
        floor = eigenvectors[:, 0]
        theta = math.radians(angle)
        assert abs(floor @ [math.cos(theta), math.sin(theta)]) == pytest.approx(1.0, abs=1e-6)
    theta = math.radians(angle)
    along = np.array([math.cos(theta), math.sin(theta)]) * 3.0
    across = np.array([-math.sin(theta), math.cos(theta)]) * 3.0
    assert float(ravine.value(along)) == pytest.approx(4.5)
    assert float(ravine.value(across)) == pytest.approx(4.5 * condition_number)
    assert f"{condition_number:g}" in ravine.formula


def test_other_parameters_change_the_function():
    assert float(surfaces.get("rosenbrock", b=10).value(np.array([0.0, 1.0]))) == 11.0
    assert "10·(y − x²)²" in surfaces.get("rosenbrock", b=10).formula
    rastrigin = surfaces.get("rastrigin", amplitude=3)
    assert float(rastrigin.value(np.array([0.5, 0.0]))) == pytest.approx(0.25 + 6.0)
    assert float(surfaces.get("rastrigin", amplitude=0).value(np.array([0.5, 0.5]))) == 0.5


def test_plateau_is_nearly_flat_away_from_its_well():
    plateau = BY_ID["plateau"]
    angles = np.linspace(0, 2 * np.pi, 37)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    far = np.linalg.norm(plateau.grad(4.5 * circle), axis=-1)
    wall = np.linalg.norm(plateau.grad(1.0 * circle), axis=-1)
    assert np.all(far < 0.02) and np.all(wall > 0.5)
    assert np.linalg.norm(plateau.start) > 4.5
    values = plateau.value(5.0 * circle)
    assert np.ptp(values) < 1e-12 and np.all((values > 1.0) & (values < 1.1))


# ------------------------------------------------------------------ custom surfaces


def test_from_expression_wraps_the_parsed_formula():
    surface = surfaces.from_expression("  x**2 + 3*y**2  ")
    expr = expressions.parse("x**2 + 3*y**2")
    assert surface.id == "expr:x**2 + 3*y**2"
    assert (surface.name, surface.formula, surface.lesson) == ("Custom", expr.text,
                                                               "Your own function.")
    assert surface.domain == (-3.0, 3.0, -3.0, 3.0) and surface.start == (-2.0, 2.0)
    assert surface.minima == () and surface.log_scale is False
    points = _domain_points(surface, 20, seed=5)
    np.testing.assert_allclose(surface.value(points), points[:, 0] ** 2 + 3 * points[:, 1] ** 2)
    np.testing.assert_allclose(surface.grad(points), points * [2.0, 6.0])
    same = surfaces.get("expr:x**2 + 3*y**2")
    assert (same.id, same.formula) == (surface.id, surface.formula)


def test_from_expression_uses_the_expression_module(monkeypatch):
    class Fake:
        text = "FAKE"

        @staticmethod
        def value(xy):
            return np.full(np.shape(xy)[:-1], 7.0)

        @staticmethod
        def grad(xy):
            return np.ones(np.shape(xy))

    seen = []
    monkeypatch.setattr(expressions, "parse", lambda text: seen.append(text) or Fake)
    surface = surfaces.from_expression("anything", domain=(0, 6, 10, 22))
    assert seen == ["anything"] and surface.formula == "FAKE"
    assert float(surface.value(np.zeros(2))) == 7.0
    assert surface.domain == (0.0, 6.0, 10.0, 22.0)
    x0, x1, y0, y1 = surface.domain
    assert x0 < surface.start[0] < x1 and y0 < surface.start[1] < y1


def test_expression_errors_propagate_unchanged():
    with pytest.raises(expressions.ExpressionError) as info:
        surfaces.from_expression("x ^ 2")
    assert info.value.position is not None
    with pytest.raises(expressions.ExpressionError):
        surfaces.get("expr:__import__('os')")


@pytest.mark.parametrize(
    "domain", [(1, 0, 0, 1), (0, 1, 2, 2), (0, 1, 0, float("inf")), (0, 1, 0), ("a", 1, 0, 1)]
)
def test_from_expression_refuses_bad_domains(domain):
    with pytest.raises(ValueError, match="domain"):
        surfaces.from_expression("x + y", domain=domain)
