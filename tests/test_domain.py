"""Formulas outside their domain: the GUI says why, does not race from there, shows where."""

from __future__ import annotations

import numpy as np
import pytest

from engine.landscape import domain, surfaces


@pytest.mark.parametrize(("formula", "point", "words"), [
    ("log(x) + y**2", (-2, 2), "log(x) is not defined at (-2, 2): its argument x = -2 must be > 0"),
    ("sqrt(y - 1) + x**2", (0, 0), "sqrt(y - 1) is not defined at (0, 0): its argument y - 1 = -1"),
    ("x**2 + 1/y", (1, 0), "1/y is not defined at (1, 0): it divides by y = 0"),
    ("arcsin(x) + y", (2, 0), "must be between -1 and 1"),
    ("x**0.5 + y**2", (-1, 1), "a negative base (x = -1) to a fractional power"),
    ("sqrt(x) + y**2", (0, 1), "f has no gradient at (0, 1)"),
])
def test_why_a_formula_is_undefined_names_the_part_and_what_it_needs(formula, point, words):
    surface = surfaces.from_expression(formula)
    assert words in domain.why_undefined(surface, *point)


def test_a_defined_point_has_no_reason_and_a_catalog_surface_a_generic_one():
    assert domain.why_undefined(surfaces.from_expression("log(x) + y**2"), 1, 1) is None
    assert domain.why_undefined(surfaces.get("rosenbrock"), 0, 0) is None


def test_the_nearest_defined_start_keeps_a_margin_from_the_edge():
    surface = surfaces.from_expression("log(x) + y**2")
    x, y = domain.nearest_defined(surface, -2.0, 2.0)
    assert x > 0.2 and abs(y - 2.0) < 0.1 and domain.defined(surface, x, y)
    assert domain.nearest_defined(surfaces.from_expression("log(-x*x - 1)"), 0, 0) is None


@pytest.fixture
def tab(qtbot):
    from gui.landscape.tab import LandscapeTab

    widget = LandscapeTab()
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    yield widget
    widget.shutdown()


@pytest.mark.gui
def test_the_gui_says_why_inline_and_does_not_race_from_an_undefined_start(tab):
    tab.expression.setText("log(x) + y**2")
    tab._expression_applied()
    start = tab.race.start
    assert domain.defined(tab.race.surface, *start)  # the default (-2, 2) was moved
    assert "log(x) is not defined at (-2, 2)" in tab.start_error.text()
    tab._start_requested(-2.0, 1.0)  # a click in the undefined half
    assert tab.race.start == start  # no race from there
    assert tab.start_error.isVisible()
    assert "log(x) is not defined at (-2, 1): its argument x = -2" in tab.start_error.text()
    for track in tab.race.tracks.values():  # nobody "diverged at 0" with "final loss 0"
        assert track.status_at(0)[0] == "not_started"
    assert tab.view.undefined.isVisible() and tab.view.undefined_label.isVisible()
    assert "not defined" in tab.view.undefined_label.toPlainText()
    overlay = tab.view.undefined.image
    x0, x1, _, _ = tab.race.surface.domain
    left = int(overlay.shape[0] * (-1 - x0) / (x1 - x0))  # x = -1: hatched
    right = int(overlay.shape[0] * (1 - x0) / (x1 - x0))  # x = 1: clear
    assert overlay[left, :, 3].min() == 255 and overlay[right, :, 3].max() == 0


@pytest.mark.gui
def test_a_formula_defined_nowhere_on_the_map_is_refused_and_the_old_surface_stays(tab):
    before = tab.race.surface
    tab.expression.setText("log(-x*x - 1)")
    tab._expression_applied()
    assert tab.race.surface is before
    assert tab.expression_error.isVisible()
    assert "not defined anywhere" in tab.expression_error.text()
    assert np.isfinite(before.value(np.array(tab.race.start)))
