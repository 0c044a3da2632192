"""Issue 5's GUI: schedule and noise per racer with the effective rate, and the LR sweep."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import optimizers
from engine.landscape import maps
from engine.optimizers import schedules

pytestmark = pytest.mark.gui


@pytest.fixture
def tab(qtbot):
    from gui.landscape.tab import LandscapeTab

    widget = LandscapeTab()
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    yield widget
    widget.shutdown()


def _select(tab, optimizer_id):
    key = next(k for k, t in tab.race.tracks.items() if t.racer.optimizer_id == optimizer_id)
    tab.racer_panel.select(key)
    return key


def test_choosing_a_schedule_races_with_it_and_shows_the_rate_per_step(tab):
    key = _select(tab, "sgd")
    editor = tab.racer_panel.schedule
    editor.combo.setCurrentIndex(editor.combo.findData("exponential_decay"))
    racer = tab.race.tracks[key].racer
    assert isinstance(racer.schedule, schedules.ExponentialDecay)
    assert racer.schedule.initial_learning_rate == pytest.approx(0.01)  # SGD's current rate
    editor._editors["decay_steps"].lineEdit().setText("10")
    editor._editors["decay_steps"].editingFinished.emit()
    racer = tab.race.tracks[key].racer
    assert racer.schedule.decay_steps == 10
    assert not tab.racer_panel._editors["learning_rate"].isEnabled()  # replaced by the schedule
    tab.seek(20)
    expected = 0.01 * 0.5 ** (20 / 10)
    assert f"{expected:.4g}" in editor.now.text() and "step 20" in editor.now.text()
    x, y = editor.curve.getData()
    np.testing.assert_allclose(y, [racer.schedule(int(k)) for k in x])
    # The plot samples the curve: a few hundred points from step 0 to the last, however many
    # steps the budget has (drawing every step froze the window at 48 M steps).
    assert x[0] == 0 and x[-1] == tab.race.budget - 1 and len(x) <= schedules.SAMPLES + 8


def test_a_refused_schedule_value_is_shown_inline_and_the_racer_keeps_its_schedule(tab):
    key = _select(tab, "sgd")
    editor = tab.racer_panel.schedule
    editor.combo.setCurrentIndex(editor.combo.findData("exponential_decay"))
    before = tab.race.tracks[key].racer
    for bad in ("2", "nan", "-1", "abc"):
        editor._editors["decay_rate"].lineEdit().setText(bad)
        editor._editors["decay_rate"].editingFinished.emit()
        assert not editor.error.isHidden()
        assert "decay_rate" in editor.error.text()
        assert tab.race.tracks[key].racer == before


def test_back_to_a_constant_rate_and_noise_on_and_off(tab):
    key = _select(tab, "sgd")
    panel = tab.racer_panel
    panel.schedule.combo.setCurrentIndex(panel.schedule.combo.findData("cosine_decay"))
    panel.schedule.combo.setCurrentIndex(0)
    assert tab.race.tracks[key].racer.schedule is None
    assert panel._editors["learning_rate"].isEnabled()
    panel.noise_scale.setValue(0.5)
    panel.noise_seed.setValue(3)
    noise = tab.race.tracks[key].racer.noise
    assert (noise.scale, noise.seed) == (0.5, 3)
    tab.seek(100)
    noisy = tab.race.tracks[key].points(100).copy()
    panel.noise_scale.setValue(0.0)
    assert tab.race.tracks[key].racer.noise is None
    tab.seek(100)
    assert not np.array_equal(noisy, tab.race.tracks[key].points(100))
    # Selecting another racer and coming back shows the racer's own extras.
    panel.noise_scale.setValue(0.25)
    _select(tab, "adam")
    assert panel.noise_scale.value() == 0.0
    tab.racer_panel.select(key)
    assert panel.noise_scale.value() == 0.25


def test_the_sweep_plots_each_racer_and_one_click_applies_the_tuned_rates(qtbot, tab):
    view = tab.maps
    tab.views.setCurrentWidget(view)
    view.mode.setCurrentIndex(view.mode.findData("sweep"))
    view.steps.setValue(200)
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None, timeout=60_000)
    plot = view.sweep_plot
    assert [line.key for line in plot.lines] == list(tab.race.tracks)
    tuned = plot.tuned_rates()
    # The plot's tuned rates are the engine's, racer by racer.
    for line in plot.lines:
        racer = tab.race.tracks[line.key].racer
        expected, = maps.lr_sweep(tab.race.surface, [racer.optimizer_id], tab.race.start,
                                  steps=200, low=1e-4, high=10.0, count=41)
        assert line.sweep.tuned_learning_rate == expected.tuned_learning_rate
    assert tuned
    plot.apply_button.click()
    for key, rate in tuned.items():
        assert tab.race.tracks[key].racer.optimizer().config["learning_rate"] == rate
    assert tab.views.currentWidget() is tab.view and tab.timer.isActive()
    tab.set_playing(False)
    # Back on the Maps page, the sweep is computed again for the racers' new settings.
    tab.views.setCurrentWidget(view)
    qtbot.waitUntil(lambda: bool(plot.lines) and view.thread is None, timeout=60_000)
    plot.defaults_button.click()
    for track in tab.race.tracks.values():
        default = optimizers.spec(track.racer.optimizer_id).param("learning_rate").default
        assert track.racer.optimizer().config["learning_rate"] == default
    tab.set_playing(False)


def test_clicking_a_sweep_point_races_that_rate(qtbot, tab):
    view = tab.maps
    view.mode.setCurrentIndex(view.mode.findData("sweep"))
    view.steps.setValue(100)
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None, timeout=60_000)
    plot = view.sweep_plot
    line = plot.lines[0]
    curve = next(item for item in plot.plot.getPlotItem().listDataItems()
                 if item.property("racer_key") == line.key)
    point = curve.scatter.points()[3]
    expected = float(plot._plotted_rates[line.key][3])
    with qtbot.waitSignal(view.rates_chosen) as chosen:
        plot._points_clicked(curve, [point])
    assert chosen.args[0] == {line.key: pytest.approx(expected)}
    tab.set_playing(False)


def test_a_sweep_without_racers_is_refused_inline(tab):
    for key in list(tab.race.tracks):
        tab._racer_removed(key)
    view = tab.maps
    view.mode.setCurrentIndex(view.mode.findData("sweep"))
    view.compute()
    assert view.thread is None
    assert "Add an optimizer" in view.error.text()


def test_the_mnist_tab_trains_with_a_schedule_per_optimizer(qtbot):
    from gui.training.tab import TrainingTab

    training = TrainingTab()
    qtbot.addWidget(training)
    panel = training.racer_panel
    assert panel.noise_box.isHidden()  # Keras's minibatches are the noise there
    first = next(iter(training.racers))
    panel.select(first)
    panel.schedule.combo.setCurrentIndex(panel.schedule.combo.findData("cosine_decay"))
    config = training.config()
    own = [entry.schedule for entry in config.optimizers]
    assert isinstance(own[0], schedules.CosineDecay) and own[1:] == [None, None]
    config.validate()
    # The plot spans the session: epochs × batches (60,000 samples until data has loaded).
    training.limit.setValue(1000)
    training.epochs.setValue(2)
    _x, y = panel.schedule.curve.getData()
    assert len(y) == 2 * math.ceil(800 / 32)
