"""Smaller untruths the screen used to tell: each now says what happened."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engine import optimizers
from engine.files.presets import list_presets
from engine.landscape import maps, simulate, surfaces

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def window(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow

    widget = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    widget.show()
    yield widget
    widget.landscape.shutdown()


@pytest.mark.gui
def test_the_status_bar_says_racing_paused_and_over(qtbot, window):
    tab = window.landscape
    tab.set_playing(True)
    assert window.statusBar().currentMessage().startswith("Racing")
    tab.set_playing(False)
    assert window.statusBar().currentMessage().startswith("Paused at step")
    tab.race.set_budget(50)
    tab.set_playing(True)
    qtbot.waitUntil(lambda: not tab.playing, timeout=20_000)
    assert window.statusBar().currentMessage().startswith("Race over at step")


@pytest.mark.gui
def test_training_exports_before_any_training_write_nothing_and_say_so(window, tmp_path):
    training = window.training
    for export, name in ((training.export_csv, "r.csv"), (training.export_json, "r.json"),
                         (training.export_png, "r.png")):
        export(str(tmp_path / name))
        assert not (tmp_path / name).exists()
        assert window.statusBar().currentMessage().startswith("Nothing to export yet")


@pytest.mark.gui
def test_a_catalog_surface_shows_its_own_formula_not_stale_custom_text(window):
    tab = window.landscape
    tab.expression.setText("x**2 + 3*y**2")
    tab._expression_applied()
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("himmelblau"))
    assert not tab.expression.isVisible()
    assert tab.formula.isVisible() and "(x² + y − 11)²" in tab.formula.text()
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("custom"))
    assert tab.expression.isVisible() and tab.expression.text() == "x**2 + 3*y**2"


def test_the_four_minima_preset_is_named_for_what_it_shows():
    titles = [title for _, title in list_presets()]
    assert not any(title.lower().startswith("local minima") for title in titles)
    assert any("equally deep" in title for title in titles)


def _readme_command(start: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"python main\.py " + re.escape(start) + r"[^\n`]*(?:\\\n[^\n`]*)*", text)
    assert block, f"the README has no `{start}` example"
    return block.group(0).replace("\\\n", " ").split()[2:]


def test_the_readme_render_example_shows_racers_arriving():
    words = _readme_command("render")
    value = dict(zip(words, words[1:], strict=False))
    surface = surfaces.get(value["--surface"])
    start = tuple(map(float, (value.get("--start", "") or "").removeprefix("=").split(",")
                      )) if "--start" in value else surface.start
    for option in words:
        if option.startswith("--start="):
            start = tuple(map(float, option.removeprefix("--start=").split(",")))
    steps = int(value.get("--steps", 500))
    converged = 0
    for optimizer_id in value["--optimizers"].split(","):
        result = simulate.run(surface, optimizers.get(optimizer_id), start, steps)
        assert result.status_name(0) != "diverged", optimizer_id
        converged += result.status_name(0) == "converged"
    assert converged >= 2


def test_the_readme_map_example_converges_from_most_starts():
    words = _readme_command("map")
    value = dict(zip(words, words[1:], strict=False))
    settings = dict(item.split("=") for opt, item in zip(words, words[1:], strict=False)
                    if opt == "--set")
    surface = surfaces.get(value["--surface"])
    optimizer = optimizers.get(value["--optimizer"],
                               **{k: float(v) for k, v in settings.items()})
    result = maps.start_map(surface, optimizer, grid=32, steps=int(value["--steps"]))
    assert np.mean(result.status == simulate.CONVERGED) > 0.5
