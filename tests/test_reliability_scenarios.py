"""Hostile scenario files against the real window (issue 16, required points 2 and 3).

What the loader accepts, the window opens, and saves back value for value; what it cannot
open, the loader refuses with the JSON path; applying is all or nothing (a failure leaves the
window as it was and never affects a later open); a remembered last scenario that no longer
opens is dropped with a status-bar line; Save never writes what Open refuses.

Before these fixes: a ``{"id": "constant"}`` schedule raised ``KeyError: None`` in the
schedule editor, a boundary >= 2**63 ``OverflowError``, seeds past 2**31 - 1 overflowed the
spin boxes, ``limit 10`` with ``validation_split 0.9`` raised out of a Qt slot, each leaving
the window half-applied, after which every Open failed; Save wrote 0 or 21 racers and turned
0.95 into 0.9 and 60,001 into 60,000.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings

from engine import optimizers
from engine.files import presets, scenario
from engine.landscape import limits, surfaces
from engine.optimizers import schedules
from tests.test_scenario import _settings

pytestmark = pytest.mark.gui

COUNTS = {"accepted": 0, "refused": 0}


@pytest.fixture
def window(quiet_window):
    return quiet_window


# --------------------------------------------------------------------------- documents

_TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("<>&\"'/"),
                max_size=60) | st.sampled_from([
                    '<img src="/dev/zero">', "<table><tr><td>x</td></tr></table>", "<b>&amp;",
                    "", " ", "\u202eRTL", "a" * 200])


def _rarely(usual: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly ``usual``, one time in eight ``odd`` (values just past a limit)."""
    return st.integers(0, 7).flatmap(lambda i: odd if i == 0 else usual)


def _number(low: float, high: float) -> st.SearchStrategy:
    return st.floats(low, high, allow_nan=False, allow_infinity=False) | st.sampled_from(
        [low, high, (low + high) / 2])


@st.composite
def _schedule(draw) -> dict:
    schedule_id = draw(st.sampled_from(sorted(schedules.SCHEDULES)))
    params = {}
    for param in schedules.SCHEDULES[schedule_id].params:
        if not draw(st.booleans()):
            continue
        if param.kind == "float":
            params[param.name] = draw(_rarely(_number(1e-4, 1.0),
                                              st.sampled_from([None, 100.0, -1.0])))
        elif param.kind == "int":
            params[param.name] = draw(_rarely(st.integers(1, 10_000), st.sampled_from(
                [2**63, schedules.MAX_STEP, schedules.MAX_STEP + 1])))
        elif param.kind == "bool":
            params[param.name] = draw(st.booleans())
        elif param.kind == "ints":
            params[param.name] = draw(st.lists(_rarely(st.integers(0, 5000),
                                                       st.integers(0, 2**64)),
                                               max_size=3, unique=True).map(sorted))
        else:
            params[param.name] = draw(st.lists(_number(0.0, 1.0), min_size=1, max_size=4))
    return {"id": schedule_id, "params": params}


@st.composite
def _racer(draw, point) -> dict:
    optimizer_id = draw(st.sampled_from(optimizers.ids()))
    entry: dict = {"optimizer": optimizer_id, "settings": draw(_settings(optimizer_id))}
    if draw(st.integers(0, 3)) == 0:
        clip = draw(st.sampled_from(optimizers.CLIPS))
        entry["settings"][clip] = draw(_rarely(st.sampled_from([None, 0.5, 1e6]),
                                               st.sampled_from([1e7, 0.0])))
    if draw(st.booleans()):
        entry["start"] = draw(point)
    if draw(st.booleans()):
        entry["schedule"] = draw(st.none() | _schedule())
    if draw(st.integers(0, 3)) == 0:
        entry["noise"] = {"scale": draw(_rarely(_number(0.0, 100.0), st.just(100.5))),
                          "seed": draw(_rarely(st.integers(0, 2**64 - 1), st.just(2**64)))}
    return entry


@st.composite
def hostile_documents(draw) -> dict:
    surface_id = draw(st.sampled_from([*surfaces.ids(), "expr:x**2+3*y**2",
                                       "expr:sin(x)*cos(y)+0.1*x**2"]))
    params = {p.name: draw(_number(p.low, p.high))
              for p in surfaces.PARAMETERS.get(surface_id, ()) if draw(st.booleans())}
    x0, x1, y0, y1 = surfaces.get(surface_id, **params).domain
    point = st.tuples(_number(x0, x1), _number(y0, y1)).map(list)
    racers = draw(_rarely(st.lists(_racer(point), min_size=1, max_size=4),
                          st.lists(_racer(point), min_size=20, max_size=21) | st.just([])))
    trainers = [{"optimizer": r["optimizer"], "settings": r["settings"],
                 **({"schedule": r["schedule"]} if "schedule" in r else {})}
                for r in draw(st.lists(_racer(point), min_size=1, max_size=3))]
    training = {
        "optimizers": trainers,
        "epochs": draw(_rarely(st.integers(1, 1000), st.just(1001))),
        "batch_size": draw(st.integers(1, 8192)),
        "validation_split": draw(_rarely(_number(0.0, 0.9), st.sampled_from([0.95, 0.9999]))),
        "seed": draw(_rarely(st.integers(0, 2**32 - 1), st.sampled_from([2**31, 2**32]))),
        "dataset": draw(st.sampled_from(["auto", "bundled", "/data/<b>mnist</b>.npz", "file"])),
        "limit": draw(_rarely(st.none() | st.integers(100, 120_000),
                              st.sampled_from([9, 10, 60_001, 120_001]))),
    }
    if draw(st.booleans()):
        training["schedule"] = draw(_schedule())
    return {
        "schema_version": 1,
        "title": draw(_TEXT.filter(lambda t: len(t) <= 200)),
        "explanation": draw(_TEXT),
        "tab": draw(st.sampled_from(["landscape", "training"])),
        "landscape": {
            "surface": surface_id, "surface_params": params, "start": draw(st.none() | point),
            "steps": draw(_rarely(st.integers(1, 3000), st.sampled_from([limits.MAX_STEPS, 0]))),
            "racers": racers,
            "view": {"mode": draw(st.sampled_from(["2d", "3d"])),
                     "show_gradient": draw(st.booleans()), "show_field": draw(st.booleans()),
                     "speed": draw(st.sampled_from([0.1, 1.0, 10.0])),
                     "x_range": draw(st.none() | st.just([x0, x1 * 0.5 + x0 * 0.5]))},
        },
        "training": training,
    }


# ----------------------------------------------------------------------------- the tests


_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
#: No "explain" phase: its line tracing makes pyqtgraph's contour tracing crawl.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]


def _opens_and_saves_back(window, document) -> None:
    try:
        loaded = scenario.loads(json.dumps(document))
    except scenario.ScenarioError as error:
        COUNTS["refused"] += 1
        assert error.field or error.message  # refused with a path (or the file as a whole)
        return
    COUNTS["accepted"] += 1
    window.scenarios.show(loaded)  # any exception here fails the test
    saved = window.scenarios.checked_current()
    assert scenario.to_dict(saved) == scenario.to_dict(loaded)
    assert scenario.loads(scenario.dumps(saved)) == saved


@settings(max_examples=150, deadline=None, suppress_health_check=_HEALTH, phases=_PHASES)
@given(document=hostile_documents())
def test_any_accepted_scenario_opens_and_saves_back_value_for_value(window, document):
    _opens_and_saves_back(window, document)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=_HEALTH, phases=_PHASES,
          derandomize=False)
@given(document=hostile_documents())
def test_many_more_scenarios_open_and_save_back(window, document):
    _opens_and_saves_back(window, document)


def test_the_generator_exercises_both_sides():
    # Run after the property test in this module: both accepted and refused files were seen.
    print("scenarios generated:", COUNTS)
    if COUNTS["accepted"] + COUNTS["refused"]:
        assert COUNTS["accepted"] > 5 and COUNTS["refused"] > 5, COUNTS


@pytest.mark.parametrize(("document", "path"), [
    ({"landscape": {"racers": [{"optimizer": "sgd", "schedule": {
        "id": "piecewise_constant_decay",
        "params": {"boundaries": [5, 2**63], "values": [0.1, 0.01, 0.001]}}}]}},
     "landscape.racers[0].schedule.params.boundaries[1]"),
    ({"training": {"limit": 10, "validation_split": 0.9}}, "training.validation_split"),
    ({"training": {"limit": 60_000_000}}, "training.limit"),
    ({"training": {"seed": 2**32}}, "training.seed"),
    ({"landscape": {"racers": [{"optimizer": "sgd", "noise": {"scale": 1e3}}]}},
     "landscape.racers[0].noise.scale"),
    ({"landscape": {"racers": []}}, "landscape.racers"),
    ({"landscape": {"racers": [{"optimizer": "sgd"}] * 21}}, "landscape.racers"),
])
def test_what_the_window_cannot_show_is_refused_with_its_path(document, path):
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.loads(json.dumps({"schema_version": 1, **document}))
    assert caught.value.field == path


def test_a_constant_schedule_opens_and_shows_in_the_editor(window):
    document = {"schema_version": 1, "landscape": {"racers": [
        {"optimizer": "sgd", "schedule": {"id": "constant", "params": {"learning_rate": 0.3}}}]}}
    loaded = scenario.loads(json.dumps(document))
    window.scenarios.show(loaded)
    editor = window.landscape.racer_panel.schedule
    assert editor.combo.currentData() == "constant"
    assert editor.values() == {"learning_rate": 0.3}
    assert scenario.to_dict(window.scenarios.checked_current()) == scenario.to_dict(loaded)


def test_a_failed_apply_leaves_the_window_as_it_was_and_later_opens_work(window, monkeypatch):
    ravine = scenario.load(presets.preset_paths()[0])
    window.scenarios.show(ravine)
    window.landscape.seek(120)
    before = scenario.to_dict(window.scenarios.current())
    title = window.windowTitle()
    real = window.training.apply_config
    calls = []

    def broken(config, **kwargs):
        calls.append(config)
        if len(calls) == 1:
            raise RuntimeError("a bug half-way through applying")
        return real(config, **kwargs)

    monkeypatch.setattr(window.training, "apply_config", broken)
    other = scenario.load(presets.preset_paths()[5])
    with pytest.raises(scenario.ScenarioError, match="unchanged"):
        window.scenarios.show(other)
    assert scenario.to_dict(window.scenarios.current()) == before
    assert window.windowTitle() == title and window.landscape.step == 120
    # Every later open works, shipped presets included.
    for path in presets.preset_paths():
        assert window.scenarios.open_preset(path), window.shown


def test_a_refused_open_names_the_problem_and_changes_nothing(window, tmp_path):
    before = scenario.to_dict(window.scenarios.current())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "training": {"seed": 2**32}}))
    assert not window.scenarios.open_path(bad)
    assert "training.seed" in window.shown[-1]
    assert "training.seed" in window.statusBar().currentMessage()
    assert scenario.to_dict(window.scenarios.current()) == before


def test_a_remembered_scenario_that_no_longer_opens_is_dropped(qtbot, tmp_path):
    from gui.main_window import MainWindow

    path = tmp_path / "lesson.json"
    path.write_text(json.dumps({"schema_version": 1, "title": "Old"}))
    settings_ = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings_.setValue("last_scenario", str(path))
    path.write_text(json.dumps({"schema_version": 1, "training": {"limit": 10,
                                                                   "validation_split": 0.9}}))
    window = MainWindow(settings=settings_)
    qtbot.addWidget(window)
    assert not window.scenarios.reopen_last()
    assert "not reopened" in window.statusBar().currentMessage()
    assert settings_.value("last_scenario") is None  # forgotten: the next start is clean
    window.landscape.shutdown()


def test_save_refuses_what_open_would_refuse_and_writes_nothing(window, tmp_path):
    tab = window.landscape
    while len(tab.race.tracks) > 1:  # the panel keeps at least one racer ...
        tab.racer_panel.select(next(iter(tab.race.tracks)))
        tab.racer_panel.remove_button.click()
    assert len(tab.race.tracks) == 1 and not tab.racer_panel.remove_button.isEnabled()
    while tab.racer_panel.add_button.isEnabled():  # ... and at most MAX_RACERS
        tab.racer_panel.add("sgd")  # as choosing SGD from the Add menu
    assert len(tab.race.tracks) == limits.MAX_RACERS
    tab.racer_panel.add("sgd")  # one more from the menu: refused
    assert len(tab.race.tracks) == limits.MAX_RACERS
    target = tmp_path / "lesson.json"
    window.scenarios.save_to(target)
    assert len(scenario.load(target).racers) == limits.MAX_RACERS
    # A set-up Open would refuse (forced past the panel's limits) is not written.
    tab._add_racer("adam")
    assert len(tab.race.tracks) == limits.MAX_RACERS + 1
    refused = tmp_path / "refused.json"
    with pytest.raises(scenario.ScenarioError, match="landscape.racers"):
        window.scenarios.save_to(refused)
    assert not refused.exists()


def test_save_never_changes_a_value(window, tmp_path):
    document = {"schema_version": 1, "training": {"validation_split": 0.95, "limit": 60_001,
                                                  "seed": 4_000_000_000},
                "landscape": {"racers": [{"optimizer": "adam", "settings": {
                    "learning_rate": 1.234567891e-4, "epsilon": 1e-8}}]}}
    loaded = scenario.loads(json.dumps(document))
    window.scenarios.show(loaded)
    target = tmp_path / "again.json"
    window.scenarios.save_to(target)
    assert scenario.to_dict(scenario.load(target)) == scenario.to_dict(loaded)


def test_the_command_line_opens_what_the_loader_accepts(tmp_path):
    """``main.py --scenario FILE`` with a file that crashed it before: the window opens (the
    self-test path exits 0) and nothing is printed to stderr."""
    import os
    import sys
    from pathlib import Path

    from tests import procs

    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"schema_version": 1, "title": '<img src="/dev/zero">',
                                "training": {"seed": 3_000_000_000, "limit": 120_000},
                                "landscape": {"racers": [{"optimizer": "sgd", "schedule": {
                                    "id": "constant"}, "noise": {"scale": 1, "seed": 10**19}}]}}))
    root = Path(__file__).resolve().parents[1]
    code = ("import sys; from engine.files import scenario; from gui.app import run_app\n"
            "from PySide6.QtCore import QTimer\nfrom PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\nQTimer.singleShot(300, app.quit)\n"
            f"sys.exit(run_app(scenario=scenario.load({str(path)!r})))\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = procs.run([sys.executable, "-c", code], timeout=120, cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_printable_titles_only_never_matter_for_the_loader():
    # A title of every printable character is just text.
    text = string.printable[:200]
    loaded = scenario.loads(json.dumps({"schema_version": 1, "title": text}))
    assert loaded.title == text
