"""Maps that cannot be misread: every colour named, minima numbered, only what a mode shows."""

from __future__ import annotations

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import maps, status, surfaces
from gui.maps.colouring import COLOURINGS, colour
from gui.palette import CELL_COLORS, MINIMUM_COLORS, RACER_COLORS

pytestmark = pytest.mark.gui


def _start_map(surface_id="himmelblau", optimizer_id="momentum", steps=200, grid=24, **kw):
    surface = surfaces.get(surface_id)
    return surface, maps.start_map(surface, optimizers.get(optimizer_id, **kw), grid=grid,
                                   steps=steps)


def test_minimum_colours_share_nothing_with_racers_or_outcomes():
    assert not set(MINIMUM_COLORS) & set(RACER_COLORS)
    assert not set(MINIMUM_COLORS) & set(CELL_COLORS.values())
    assert len(set(CELL_COLORS.values())) == len(CELL_COLORS)  # each outcome its own colour


def test_every_cell_colour_is_named_in_the_legend_with_its_count():
    surface, result = _start_map(learning_rate=0.05)  # some diverge, most converge
    shown = colour(result, "minimum", surface.minima, 0.0)
    counts = np.bincount(result.status.ravel(), minlength=len(status.IDS))
    texts = [e.text for e in shown.legend]
    assert any("diverged" in t for t in texts) and counts[status.DIVERGED] > 0
    assert sum(e.count for e in shown.legend) == result.status.size  # every cell, once
    colours = {tuple(c) for c in shown.rgba[..., :3].reshape(-1, 3)}
    named = {tuple(int(e.color[i:i + 2], 16) for i in (1, 3, 5)) for e in shown.legend}
    assert colours <= named  # no colour on the map that the legend does not name
    numbered = [t for t in texts if t[0].isdigit()]
    assert [t.split(":")[0] for t in numbered] == ["1", "2", "3", "4"]  # as on the map


def test_diverged_and_not_converged_cells_are_told_apart():
    surface, result = _start_map("rosenbrock", "sgd", steps=50, learning_rate=2e-3)
    shown = colour(result, "steps", surface.minima, 0.0)
    not_converged = result.status == status.NOT_CONVERGED
    diverged = result.status == status.DIVERGED
    assert not_converged.any() and diverged.any()
    assert not np.array_equal(shown.rgba[not_converged][0], shown.rgba[diverged][0])
    assert shown.hatch[diverged].all() and not shown.hatch[not_converged].any()


def test_hyperparameter_maps_offer_only_what_they_can_show():
    assert "minimum" not in [value for _, value in COLOURINGS["hyper"]]
    assert "minimum" in [value for _, value in COLOURINGS["starts"]]


@pytest.fixture
def view(maps_view):
    return maps_view("himmelblau", (0.0, 0.0), 150)


def test_the_view_numbers_the_minima_and_names_its_colours(qtbot, view):
    view.colour_by.setCurrentIndex(view.colour_by.findData("minimum"))
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None and view.result is not None, timeout=60_000)
    assert [label.toPlainText() for label in view._minima_labels] == ["1", "2", "3", "4"]
    assert any(text.startswith("1: minimum at (3, 2)") for text in view.legend.texts())
    assert not view.colorbar.isVisible()  # categories: no colour bar


def test_switching_modes_clears_the_map_and_log_axes_read_powers_of_ten(qtbot, view):
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None and view.result is not None, timeout=60_000)
    view.mode.setCurrentIndex(view.mode.findData("hyper"))
    assert view.result is None and view.image.image is None  # the old map is gone
    assert view.colour_by.findData("minimum") < 0  # not offered for a hyper map
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None and view.result is not None, timeout=60_000)
    axis = view.plot.getPlotItem().getAxis("bottom")
    assert view.result.x.name == "learning_rate" and axis.logMode
    assert axis.tickStrings([-3.0, -2.0], 1.0, 1.0) == ["10⁻³", "0.01"]  # not "-3", "-2"


def test_on_arrival_the_view_computes_the_selected_racers_map(qtbot):
    from gui.landscape.tab import LandscapeTab

    tab = LandscapeTab()
    qtbot.addWidget(tab)
    tab.resize(1400, 900)
    tab.show()
    try:
        tab.maps.grid.setCurrentIndex(tab.maps.grid.findData(32))
        tab.views.setCurrentWidget(tab.maps)
        qtbot.waitUntil(lambda: tab.maps.result is not None and tab.maps.thread is None,
                        timeout=60_000)
        result = tab.maps.result
        selected = tab.racer_panel.current_key()
        assert result.optimizer_id == tab.race.tracks[selected].racer.optimizer_id
        assert result.steps == tab.race.budget
    finally:
        tab.shutdown()
