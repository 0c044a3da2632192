"""Live maps: sliders for what a map holds fixed, coarse maps while dragging, full ones after.

No test here times anything (bench/live_maps.py measures the rates and the blocks).
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF, Qt

from engine import optimizers
from engine.landscape import maps
from engine.landscape.race import Racer
from gui.maps.live import TICKS, Field, FixedSettings, field_for, slider_range
from gui.palette import style_for

pytestmark = pytest.mark.gui


@pytest.fixture
def view(maps_view):
    adam = Racer("adam-1", "adam", {"learning_rate": 0.05, "beta_2": 0.99})
    return maps_view("rosenbrock", (-1.0, 1.5), 120,
                     racers=[(adam, "Adam · lr 0.05", style_for("adam"))], selected="adam-1")


def _click(qtbot, view, scene_point) -> list[tuple]:
    """Click the map at ``scene_point``; what it emitted, in order."""
    emitted = []
    view.settings_chosen.connect(lambda *args: emitted.append(("settings", *args)))
    view.start_chosen.connect(lambda *args: emitted.append(("start", *args)))
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.plot.mapFromScene(scene_point))
    return emitted


def _done(view):
    return view.thread is None and view.result is not None


def test_a_field_maps_positions_onto_its_scale_and_back():
    rate = field_for(optimizers.spec("adam").param("learning_rate"), 0.001)
    assert (rate.low, rate.high, rate.log) == (1e-5, 10.0, True)
    assert rate.to_position(rate.low) == 0 and rate.to_position(rate.high) == TICKS
    assert math.isclose(rate.from_position(rate.to_position(0.01)), 0.01, rel_tol=0.02)
    assert rate.to_position(1e-9) == 0  # kept inside the range
    beta = field_for(optimizers.spec("adam").param("beta_1"), 0.9)
    assert not beta.log and beta.low == 0.0 and beta.high < 1.0  # [0, 1): 1% inside
    assert slider_range(optimizers.spec("adam").param("beta_1")) == (beta.low, beta.high)
    assert math.isclose(beta.from_position(TICKS // 2), beta.high / 2)
    # A value outside the usual span widens the slider: the map holds it exactly.
    epsilon = field_for(optimizers.spec("adam").param("epsilon"), 1e-7)
    assert epsilon.value == 1e-7 and epsilon.low == 1e-7 and epsilon.to_position(1e-7) == 0


def test_the_map_holds_the_racers_own_settings_until_a_slider_moves(view, qtbot):
    # Adam's epsilon is 1e-7, below a log slider's usual 1e-5: never clipped to 1e-5.
    view.mode.setCurrentIndex(view.mode.findData("hyper"))
    view.compute()
    qtbot.waitUntil(lambda: _done(view), timeout=60_000)
    assert view.fixed.values()["epsilon"] == 1e-7
    assert view.result.base_config["epsilon"] == 1e-7
    assert view.result.base_config["beta_2"] == 0.99


def test_dragging_says_so_and_letting_go_asks_for_the_full_map(qtbot):
    fixed = FixedSettings()
    qtbot.addWidget(fixed)
    fixed.set_fields([Field("beta_2", 0.0, 0.99, False, 0.999 * 0.99)])
    seen = []
    fixed.changed.connect(seen.append)
    slider = fixed.slider("beta_2")
    slider.setSliderDown(True)
    slider.setSliderPosition(500)  # a drag
    assert seen == [True] and math.isclose(fixed.values()["beta_2"], 0.495)
    slider.setSliderDown(False)  # let go
    assert seen == [True, False]
    slider.setValue(700)  # a key press or a click on the groove: the full map at once
    assert seen == [True, False, False]
    fixed.set_value("beta_2", 5.0)  # from the program: clamped, no signal
    assert fixed.values()["beta_2"] == 0.99 and seen == [True, False, False]


def test_the_sliders_are_what_the_map_holds_fixed(qtbot, view):
    assert view.fixed.isHidden() is False
    # A start map holds every numeric setting fixed, at the racer's values.
    assert view.fixed.names() == ["learning_rate", "beta_1", "beta_2", "epsilon"]
    assert view.fixed.values()["beta_2"] == 0.99 and view.fixed.values()["learning_rate"] == 0.05
    # A hyperparameter map: the two on its axes are not fixed; its start is.
    view.mode.setCurrentIndex(view.mode.findData("hyper"))
    view.x_param.setCurrentIndex(view.x_param.findData("learning_rate"))
    view.y_param.setCurrentIndex(view.y_param.findData("beta_1"))
    assert view.fixed.names() == ["beta_2", "epsilon", "start x", "start y"]
    assert (view.fixed.values()["start x"], view.fixed.values()["start y"]) == (-1.0, 1.5)
    view.mode.setCurrentIndex(view.mode.findData("sweep"))
    assert view.fixed.isHidden()


def test_a_dragged_slider_gives_a_coarse_map_then_the_full_one(qtbot, view):
    view.mode.setCurrentIndex(view.mode.findData("hyper"))
    view.x_param.setCurrentIndex(view.x_param.findData("learning_rate"))
    view.y_param.setCurrentIndex(view.y_param.findData("beta_1"))
    view.compute()
    qtbot.waitUntil(lambda: _done(view), timeout=60_000)
    first = view.result
    assert first.status.shape == (32, 32) and first.base_config["beta_2"] == 0.99
    slider = view.fixed.slider("beta_2")
    slider.setSliderDown(True)
    slider.setSliderPosition(300)
    dragged = view.fixed.values()["beta_2"]
    assert view.result is first  # the old map stays on screen until the new one comes
    qtbot.waitUntil(lambda: _done(view) and view.result is not first, timeout=60_000)
    coarse = view.result
    assert coarse.status.shape == (16, 16) and coarse.base_config["beta_2"] == dragged
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: _done(view) and view.result.status.shape == (32, 32),
                    timeout=60_000)
    full = view.result
    assert full.base_config["beta_2"] == dragged
    # The same map as a fresh computation with that value.
    again = maps.hyper_map(view.surface, "adam", full.x, full.y, full.start, steps=120,
                           base_settings={"learning_rate": 0.05, "beta_2": dragged,
                                          "epsilon": 1e-7})
    assert (again.status == full.status).all()
    assert (again.steps_to_converge == full.steps_to_converge).all()


def test_moving_the_start_slider_maps_from_there_and_a_click_races_there(qtbot, view):
    view.mode.setCurrentIndex(view.mode.findData("hyper"))
    view.x_param.setCurrentIndex(view.x_param.findData("learning_rate"))
    view.y_param.setCurrentIndex(view.y_param.findData("beta_1"))
    slider = view.fixed.slider("start x")
    slider.setValue(TICKS)  # a key press: the full map from x = the map's right edge
    qtbot.waitUntil(lambda: _done(view), timeout=60_000)
    right = view.surface.domain[1]
    assert view.result.start == (right, 1.5)
    point = view.plot.getPlotItem().getViewBox().mapViewToScene(QPointF(-2.0, 0.5))
    emitted = _click(qtbot, view, point)
    assert emitted[0][0] == "settings" and emitted[0][2]["beta_2"] == 0.99
    assert emitted[1] == ("start", right, 1.5)


def test_a_start_map_clicked_after_moving_a_slider_races_with_the_values_it_shows(qtbot, view):
    view.compute()
    qtbot.waitUntil(lambda: _done(view), timeout=60_000)
    slider = view.fixed.slider("learning_rate")
    slider.setValue(slider.value() - 100)  # a smaller rate, from the keyboard
    qtbot.waitUntil(lambda: _done(view) and view.result.config["learning_rate"] < 0.05,
                    timeout=60_000)
    rate = view.fixed.values()["learning_rate"]
    point = view.plot.getPlotItem().getViewBox().mapViewToScene(QPointF(0.5, 0.5))
    emitted = _click(qtbot, view, point)
    assert [e[0] for e in emitted] == ["settings", "start"]
    _, optimizer_id, settings = emitted[0]
    assert optimizer_id == "adam" and settings["learning_rate"] == rate
    assert settings["beta_2"] == 0.99  # the racer's own values stay


def test_the_race_start_moving_leaves_a_start_map_alone(qtbot, view):
    view.compute()
    qtbot.waitUntil(lambda: _done(view), timeout=60_000)
    shown = view.result
    view.set_surface(view.surface, (0.5, 0.5))
    assert view.result is shown and view.thread is None  # it covers every start already
