"""Scenario files in the window: presets, open/save round trip, refusals, recent, drop, CLI."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent

from engine.files import presets, scenario
from tests import procs

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from gui.main_window import MainWindow
    from gui.widgets import messages

    warnings = []
    monkeypatch.setattr(messages, "warn", lambda _parent, title, text: warnings.append(text))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    main = MainWindow(settings=settings)
    main.warnings = warnings
    qtbot.addWidget(main)
    main.show()
    yield main
    main.landscape.shutdown()
    main.training.shutdown()


def _state(window):
    tab = window.landscape
    return (tab.race.surface.id, tab.race.start, tab.race.budget,
            [(t.racer.optimizer_id, dict(t.racer.settings), t.racer.schedule, t.racer.noise)
             for t in tab.race.tracks.values()],
            window.training.config())


@pytest.mark.parametrize("index", range(len(presets.preset_paths())))
def test_every_preset_opens_from_the_menu_with_its_banner_and_number(window, index):
    path, title = presets.list_presets()[index]
    action = window.scenarios.preset_menu.actions()[index]
    assert title in action.text()
    action.trigger()
    loaded = scenario.load(path)
    if loaded.tab == "training":
        assert window.tabs.currentWidget() is window.training
        assert window.training.banner.title.text() == title
        assert window.training.config().optimizers == loaded.training.optimizers
        return
    tab = window.landscape
    assert window.tabs.currentWidget() is tab and tab.banner.title.text() == title
    assert tab.race.surface.id == loaded.surface_id and tab.race.budget == loaded.steps
    assert [t.racer.optimizer_id for t in tab.race.tracks.values()] == [
        r.optimizer_id for r in loaded.racers]
    tab.seek(loaded.steps)
    assert tab.banner.measure.text()  # the live number is on screen
    assert title in window.windowTitle()
    assert window.scenarios.recent() == []  # presets are not "recent files"


def test_save_then_open_restores_the_whole_set_up(window, tmp_path):
    from engine.optimizers import schedules

    tab = window.landscape
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("himmelblau"))
    tab._start_requested(1.5, -2.0)
    key = next(iter(tab.race.tracks))
    panel = tab.racer_panel
    panel.select(key)
    panel._editors["learning_rate"].setValue(0.02)
    panel.schedule.combo.setCurrentIndex(panel.schedule.combo.findData("inverse_time_decay"))
    panel.noise_scale.setValue(0.3)
    tab.show_field.setChecked(True)
    window.training.epochs.setValue(3)
    before = _state(window)
    assert isinstance(before[3][0][2], schedules.InverseTimeDecay)
    target = window.scenarios.save_to(tmp_path / "mine.json")
    text = target.read_text()
    assert json.loads(text)["schema_version"] == 1
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("rosenbrock"))
    window.training.epochs.setValue(7)
    assert _state(window) != before
    assert window.scenarios.open_path(target)
    assert _state(window) == before
    assert tab.show_field.isChecked()
    assert window.scenarios.recent() == [str(target.resolve())]
    assert window.settings.value("last_scenario") == str(target.resolve())



def test_a_resize_does_not_change_the_view_range_a_scenario_saves(qtbot, window):
    """The map is drawn to scale, so a resize widens the range it shows: that is no setting
    of the user's, and a scenario opened and saved again stays the same, value for value (a
    generated scenario failed its round trip once the window had been laid out again). A
    zoom by the user is kept."""
    loaded = scenario.load(presets.preset_paths()[6])
    assert loaded.view["x_range"] is None
    window.scenarios.show(loaded)
    window.resize(900, 700)
    qtbot.wait(50)
    window.resize(1400, 800)
    qtbot.wait(50)
    saved = window.scenarios.checked_current()
    assert scenario.to_dict(saved) == scenario.to_dict(loaded)
    box = window.landscape.view.getPlotItem().getViewBox()
    box.scaleBy((0.5, 0.5))
    box.sigRangeChangedManually.emit(box.state["mouseEnabled"])  # as a wheel zoom does
    saved = window.scenarios.checked_current()
    (x0, x1), (y0, y1) = box.viewRange()
    assert saved.view["x_range"] == pytest.approx((x0, x1))
    assert saved.view["y_range"] == pytest.approx((y0, y1))

@pytest.mark.parametrize("content, field", [
    ("{", "line 1"),
    ('{"schema_version": 2}', "schema_version"),
    ('{"schema_version": 1, "landscape": {"racers": [{"optimizer": "adam", '
     '"settings": {"beta_1": 1.0}}]}}', "landscape.racers[0].settings.beta_1"),
    ('{"schema_version": 1, "landscape": {"surface": "expr:__import__(\'os\')"}}',
     "landscape.surface"),
    ("[1, 2]", ""),
])
def test_a_refused_file_leaves_the_set_up_unchanged_and_names_the_problem(window, tmp_path,
                                                                        content, field):
    before = _state(window)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert not window.scenarios.open_path(bad)
    assert _state(window) == before
    assert len(window.warnings) == 1 and field in window.warnings[0]
    assert window.scenarios.recent() == []


def test_dropping_a_scenario_file_on_the_window_opens_it(window):
    path = presets.preset_paths()[5]
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.landscape.banner.title.text() == scenario.load(path).title


def test_recent_files_menu_lists_and_reopens(qtbot, window, tmp_path):
    paths = []
    for name in ("a.json", "b.json"):
        paths.append(window.scenarios.save_to(tmp_path / name))
    qtbot.wait(10)  # the menu is refreshed once the action that saved has returned
    actions = window.scenarios.recent_menu.actions()
    assert [a.text() for a in actions] == ["b.json", "a.json"]
    window.landscape.surface_combo.setCurrentIndex(
        window.landscape.surface_combo.findData("beale"))
    actions[1].trigger()
    assert window.landscape.race.surface.id == "ravine"


def _main(*argv):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return procs.run([sys.executable, "main.py", *argv], timeout=120, cwd=ROOT, env=env)


def test_command_line_scenario_refusals_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "future.json"
    bad.write_text('{"schema_version": 7}')
    for argv in (["--scenario", str(bad)], ["--scenario", str(tmp_path / "missing.json")],
                 ["render", "--scenario", str(bad), "--out", str(tmp_path / "x.png")]):
        done = _main(*argv)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "--scenario" in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_render_draws_a_scenario_headless(tmp_path):
    from PySide6.QtGui import QImage

    path = presets.preset_paths()[0]
    done = _main("render", "--scenario", str(path), "--out", str(tmp_path / "r.png"),
                 "--size", "640x400")
    assert done.returncode == 0, done.stderr
    assert QImage(str(tmp_path / "r.png")).size().width() == 640


def test_the_last_scenario_is_reopened_at_start_and_a_broken_one_is_skipped(qtbot, tmp_path):
    from gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.landscape.surface_combo.setCurrentIndex(
        first.landscape.surface_combo.findData("booth"))
    saved = first.scenarios.save_to(tmp_path / "last.json")
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    assert second.scenarios.reopen_last()
    assert second.landscape.race.surface.id == "booth"
    saved.write_text("{ broken")
    third = MainWindow(settings=settings)
    qtbot.addWidget(third)
    assert not third.scenarios.reopen_last()
    assert third.landscape.race.surface.id == "ravine"
    assert "not reopened" in third.statusBar().currentMessage()


@pytest.mark.parametrize("path", presets.preset_paths(), ids=lambda p: p.stem)
def test_every_preset_renders_headless(qtbot, tmp_path, path):
    from PySide6.QtGui import QImage

    import main

    target = tmp_path / f"{path.stem}.png"
    assert main.main(["render", "--scenario", str(path), "--out", str(target),
                      "--size", "400x300"]) == 0
    image = QImage(str(target))
    assert (image.width(), image.height()) == (400, 300)
    colours = {image.pixel(x, y) for x in range(0, 400, 7) for y in range(0, 300, 7)}
    assert len(colours) > 50  # a drawn map, not a blank
