"""No GUI-thread work grows with a size the user chooses (issue 16, point 4).

Before: dragging the timeline to the end of a 100,000-step budget computed every step in the
GUI thread (4-5 s frozen), and MNIST's 1000 epochs x batch size 1 made the schedule plot
compute 48 million rates (37-64 s frozen, 2.4-2.7 GB). These tests check the structure (how
much is computed per call), not the clock; ``bench/gui_limits.py`` measures the time.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.landscape import limits
from engine.mnist import settings as mnist
from engine.optimizers import schedules
from gui.landscape import trails

pytestmark = pytest.mark.gui


@pytest.fixture
def numpy_steps(monkeypatch):
    """Racers take NumPy's steps (about 100 µs each), as before a kernel is loaded: with
    kernels (loaded by earlier tests in the same process) 6,000 steps fit in one slice, and
    what these tests check is how the slow path is sliced."""
    from engine.landscape import kernels

    monkeypatch.setattr(kernels, "backend", lambda stepper, required=False: None)


def test_seeking_far_computes_in_slices_and_the_paths_grow_to_the_step(qtbot, numpy_steps,
                                                                        tab):
    budget = 6000
    tab.playback.budget.setValue(budget)
    tab.seek(budget)
    assert tab.step == budget
    assert tab.race.computed_to() < budget  # not all computed in the call
    assert "computing" in tab.playback.step_label.text()
    qtbot.waitUntil(lambda: tab.race.computed_to() >= budget, timeout=120_000)
    qtbot.waitUntil(lambda: "computing" not in tab.playback.step_label.text(), timeout=10_000)
    for track in tab.race.tracks.values():
        assert len(track.points(budget)) == track.last_index() + 1


def test_changing_a_racer_far_along_recomputes_in_slices(qtbot, numpy_steps, tab):
    tab.playback.budget.setValue(4000)
    tab.seek(4000)
    qtbot.waitUntil(lambda: tab.race.computed_to() >= 4000, timeout=120_000)
    key = next(iter(tab.race.tracks))
    tab.racer_panel.select(key)
    tab.racer_panel._editors["learning_rate"].setValue(0.02)
    assert tab.race.tracks[key].stepper.step < 4000  # the changed racer starts over, sliced


def test_the_race_computes_within_a_time_budget_however_many_racers(numpy_steps):
    from engine.landscape import surfaces
    from engine.landscape.race import Race, Racer

    surface = surfaces.get("rosenbrock")
    race = Race(surface, surface.start, budget=limits.MAX_STEPS)
    for n in range(limits.MAX_RACERS):
        race.set_racer(Racer(f"adam-{n}", "adam"))
    ticks = iter(range(10**6))
    clock = lambda: next(ticks) * 0.001  # noqa: E731 - one millisecond per reading
    race.compute_within(0.005, chunk=16, clock=clock)
    assert sum(t.stepper.step for t in race.tracks.values()) <= 16 * 6  # ~one chunk per ms
    assert not race.ensure_within(limits.MAX_STEPS, 0.005, chunk=16, clock=clock)


def test_the_schedule_plot_samples_its_curve(qtbot):
    from gui.training.tab import TrainingTab

    training = TrainingTab()
    qtbot.addWidget(training)
    training.epochs.setValue(mnist.EPOCHS.high)
    training.batch_size.setValue(1)
    panel = training.racer_panel
    assert panel._budget == 1000 * 48_000  # epochs x batches of the 60,000 digits assumed
    editor = panel.schedule
    editor.combo.setCurrentIndex(editor.combo.findData("piecewise_constant_decay"))
    x, y = editor.curve.getData()
    assert len(x) <= schedules.SAMPLES + 8 and x[-1] == panel._budget - 1
    np.testing.assert_array_equal(y, [editor.schedule(int(k)) for k in x])
    for boundary in editor.schedule.boundaries:  # the steps of a piecewise curve are drawn
        assert boundary in x and boundary + 1 in x


def test_long_trails_are_drawn_with_a_bounded_number_of_points():
    rng = np.random.default_rng(0)
    wander = np.cumsum(rng.normal(size=(limits.MAX_STEPS + 1, 2)), axis=0) * 0.01
    shown = trails.drawn(wander, (-3.0, 3.0, -3.0, 3.0))
    assert len(shown) <= trails.MOST
    np.testing.assert_array_equal(shown[0], wander[0])
    np.testing.assert_array_equal(shown[-trails.TAIL:], wander[-trails.TAIL:])
    settled = np.zeros((limits.MAX_STEPS + 1, 2))  # converged: the tail and one point more
    assert len(trails.drawn(settled, (-3.0, 3.0, -3.0, 3.0))) == trails.TAIL + 1
    short = wander[:100]
    assert trails.drawn(short, (-3.0, 3.0, -3.0, 3.0)) is short


def test_a_preset_or_a_racer_edit_redraws_the_race_once(quiet_window, monkeypatch):
    # A set-up arriving asked for a full redraw two to four times (the surface, the racers,
    # the view's check boxes), each with its own slice of steps: about 0.1 s more of the GUI
    # thread per preset with 20 racers (bench/gui_limits.py).
    from engine.files import presets, scenario
    from engine.landscape.race import Race
    from gui.landscape.tab import LandscapeTab

    tab = quiet_window.landscape
    calls = {"render": 0, "slice": 0}
    render, ensure = LandscapeTab._render, Race.ensure_within

    def counted_render(self, full=False):
        calls["render"] += full
        return render(self, full)

    def counted_slice(self, step, seconds):
        calls["slice"] += 1
        return ensure(self, step, seconds)

    monkeypatch.setattr(LandscapeTab, "_render", counted_render)
    monkeypatch.setattr(Race, "ensure_within", counted_slice)
    for path in presets.preset_paths()[:7]:
        loaded = scenario.load(path)
        if loaded.tab != "landscape":
            continue
        calls.update(render=0, slice=0)
        quiet_window.scenarios.show(loaded)
        assert calls == {"render": 1, "slice": 1}, path.name
        assert tab.table.rowCount() == len(loaded.racers)  # and it did redraw
    calls.update(render=0, slice=0)
    editor = tab.racer_panel._editors["learning_rate"]
    editor.setValue(editor.value() * 2)
    assert calls == {"render": 1, "slice": 1}
