"""The Landscape tab driven like a user would: clicks, playback, edits, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from engine.landscape import surfaces

pytestmark = pytest.mark.gui


@pytest.fixture
def tab(qtbot):
    from gui.landscape.tab import LandscapeTab

    widget = LandscapeTab()
    qtbot.addWidget(widget)
    widget.resize(1400, 850)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def _click_map(qtbot, tab, x, y):
    view = tab.view
    box = view.getPlotItem().getViewBox()
    scene_point = box.mapViewToScene(QPointF(x, y))
    widget_point = view.mapFromScene(scene_point)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)


def test_defaults_race_four_optimizers_from_the_surface_start(tab):
    ids = [t.racer.optimizer_id for t in tab.race.tracks.values()]
    assert ids == ["sgd", "momentum", "rmsprop", "adam"]
    assert tab.race.start == surfaces.get("ravine").start
    assert tab.table.rowCount() == 4


def test_clicking_the_map_sets_the_start(qtbot, tab):
    _click_map(qtbot, tab, 4.0, -2.0)
    x, y = tab.race.start
    assert x == pytest.approx(4.0, abs=0.1) and y == pytest.approx(-2.0, abs=0.1)
    assert tab.start_x.value() == pytest.approx(x, abs=1e-4)
    for track in tab.race.tracks.values():
        np.testing.assert_allclose(track.points(0)[0], (x, y))


def test_typing_the_start_moves_every_racer(tab):
    tab.start_x.setValue(-1.0)
    tab.start_y.setValue(0.5)
    for track in tab.race.tracks.values():
        np.testing.assert_allclose(track.points(0)[0], (-1.0, 0.5))


def test_play_advances_and_step_back_rewinds(qtbot, tab):
    tab.set_playing(True)
    qtbot.waitUntil(lambda: tab.step >= 20, timeout=5000)
    tab.set_playing(False)
    shown = tab.step
    assert tab.playback.slider.value() == shown
    tab.step_by(-1)
    assert tab.step == shown - 1
    tab.step_by(1)
    assert tab.step == shown
    tab.reset()
    assert tab.step == 0


def test_changing_a_learning_rate_mid_run_recomputes_that_path(qtbot, tab):
    tab.seek(100)
    # A seek computes in bounded slices (the idle ones go on): on a busy machine the paths
    # may not have reached step 100 yet when the seek returns.
    tab.race.ensure(100)
    key = next(k for k, t in tab.race.tracks.items() if t.racer.optimizer_id == "adam")
    other = next(k for k, t in tab.race.tracks.items() if t.racer.optimizer_id == "rmsprop")
    before, other_before = tab.race.tracks[key].points(100).copy(), \
        tab.race.tracks[other].points(100).copy()
    tab.racer_panel.select(key)
    tab.racer_panel._editors["learning_rate"].setValue(0.05)
    tab.race.ensure(100)
    after = tab.race.tracks[key].points(100)
    assert tab.race.tracks[key].racer.settings["learning_rate"] == 0.05
    assert not np.allclose(before[-1], after[-1])
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(tab.race.tracks[other].points(100), other_before)
    assert tab.step == 100


def test_invalid_expression_shows_inline_error_and_keeps_the_surface(qtbot, tab):
    surface_before = tab.race.surface
    tab.expression.setText("x + ")
    assert tab.expression_error.isVisible()
    assert "column" in tab.expression_error.text()
    qtbot.keyClick(tab.expression, Qt.Key.Key_Return)
    assert tab.race.surface is surface_before
    tab.expression.setText("x**2 + 3*y**2 + sin(x*y)")
    qtbot.keyClick(tab.expression, Qt.Key.Key_Return)
    assert tab.race.surface.id == "expr:x**2 + 3*y**2 + sin(x*y)"


def test_diverging_settings_end_in_diverged(qtbot, tab):
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("rosenbrock"))
    key = next(k for k, t in tab.race.tracks.items() if t.racer.optimizer_id == "sgd")
    tab.racer_panel.select(key)
    tab.racer_panel._editors["learning_rate"].setValue(1.0)
    tab.seek(200)
    status, stop = tab.race.tracks[key].status_at(200)
    assert status == "diverged" and stop is not None
    row = next(r for r in range(tab.table.rowCount())
               if "diverged" in tab.table.item(r, 1).text())
    assert row is not None
    assert np.all(np.isfinite(tab.race.tracks[key].points(200)))


def test_add_and_remove_racers(tab):
    lion = next(a for a in tab.racer_panel.add_menu.actions() if a.data() == "lion")
    lion.trigger()
    assert [t.racer.optimizer_id for t in tab.race.tracks.values()][-1] == "lion"
    assert tab.table.rowCount() == 5
    tab.racer_panel.remove_button.click()
    assert len(tab.race.tracks) == 4


def test_switching_surfaces_and_the_ravine_condition(tab):
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("ravine"))
    assert tab.race.surface.id == "ravine"
    assert tab._condition_row.isVisibleTo(tab)
    tab.condition_slider.setValue(30)
    assert dict(tab.race.surface.params)["condition_number"] == 1000.0


def test_arrows_of_a_kind_share_one_scale_over_the_race(qtbot, tab):
    """Each step's arrows were scaled so that the longest at that step filled an eighth of
    the map: Momentum's velocity arrow kept one length from its first swing to long after it
    had settled, while the ravine preset asked students to watch it (found by a fresh-eyes
    review). One scale per kind for the whole race: an arrow is as long as its vector."""
    from gui.landscape.surface_view import ARROW_FRACTION

    tab.show_velocity.setChecked(True)
    tab.seek(tab.race.budget)
    qtbot.waitUntil(lambda: tab.race.complete, timeout=20_000)
    key = next(k for k, t in tab.race.tracks.items() if t.racer.optimizer_id == "momentum")
    track = tab.race.tracks[key]
    x0, x1, _, _ = tab.race.surface.domain
    longest = track.longest("velocity")  # its own: Adam's is a gradient average
    assert longest == pytest.approx(max(np.hypot(*track.velocity(k)) for k in
                                        range(track.computed + 1)))
    gradients = max(t.longest("descent") for t in tab.race.tracks.values())
    assert gradients == pytest.approx(max(np.hypot(*t.gradient(k))
                                          for t in tab.race.tracks.values()
                                          for k in range(t.computed + 1)))
    drawn = {}
    for step in (3, 100):
        tab.seek(step)
        qtbot.wait(20)
        x, y = tab.view._arrows[f"velocity:{key}"].getData()
        drawn[step] = float(np.hypot(x[1] - x[0], y[1] - y[0]))
        expected = np.hypot(*track.velocity(step)) * ARROW_FRACTION * (x1 - x0) / longest
        assert drawn[step] == pytest.approx(expected, rel=1e-9)
    assert drawn[3] > 20 * drawn[100]  # it swung hard, then settled
