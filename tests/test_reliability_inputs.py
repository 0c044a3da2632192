"""Bad values in every input: the GUI cannot put the engine into an invalid state, and the
command line refuses the same values with exit status 2 and one line naming the field."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox

from engine import optimizers
from tests import procs

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_TEXT = ("nan", "NaN", "inf", "-inf", "1e999", "1e-999", "", "abc", "--1", "1..2")



def _valid(racer):
    """The racer's settings pass the registry, with finite numbers only."""
    config = optimizers.spec(racer.optimizer_id).validate(**racer.settings)
    for value in config.values():
        if isinstance(value, float):
            assert math.isfinite(value)
    return config


@pytest.mark.gui
@pytest.mark.parametrize("optimizer_id", optimizers.ids())
def test_no_spin_box_value_or_pasted_text_makes_an_invalid_optimizer(tab, optimizer_id):
    panel = tab.racer_panel
    tab._racer_added(optimizer_id)
    key = list(tab.race.tracks)[-1]
    panel.select(key)
    from gui.widgets.param_edit import ParamEdit

    spec = optimizers.spec(optimizer_id)
    edits = [(name, e) for name, e in panel._editors.items() if isinstance(e, ParamEdit)]
    assert edits, "every optimizer has a number box (learning_rate at least)"
    for name, editor in edits:
        h = spec.param(name)
        # Beyond both ends, at the ends (beta_1 = 1, epsilon = 0, learning_rate = 0) ...
        for value in (-1e12, -1.0, 0.0, h.low or 0.0, h.high if h.high is not None else 1e12,
                      1.0, 1e12):
            editor.setValue(value)
            _valid(tab.race.tracks[key].racer)
        # ... and hostile text typed or pasted into the box: refused, the value kept.
        for text in HOSTILE_TEXT:
            shown = editor.value()
            editor.lineEdit().setText(text)
            editor.interpretText()
            editor.editingFinished.emit()
            assert math.isfinite(editor.value())
            _valid(tab.race.tracks[key].racer)
            try:
                accepted = h.validate(text)  # "1e-999" is 0, which momentum may be
            except ValueError:
                assert editor.value() == shown  # refused: the exact value is kept
                assert name in panel.error.text() and not panel.error.isHidden()
            else:
                assert editor.value() == accepted
    tab.seek(50)  # the race still runs, finite
    points = tab.race.tracks[key].points(50)
    assert all(math.isfinite(v) for v in points.ravel())


@pytest.mark.gui
@pytest.mark.parametrize("text, field", [
    ("clipnorm=nan", "clipnorm"), ("clipnorm=-1", "clipnorm"), ("weight_decay=-0.1", "weight_decay"),
    ("global_clipnorm=inf", "global_clipnorm"), ("nonsense=1", "nonsense"),
    ("clipnorm", "options"), ("clipnorm=1, clipvalue=1", ""),
])
def test_bad_options_are_refused_inline_naming_the_field(tab, text, field):
    panel = tab.racer_panel
    key = next(iter(tab.race.tracks))
    panel.select(key)
    before = tab.race.tracks[key].racer
    options = panel._editors["__advanced__"]
    options.setText(text)
    options.editingFinished.emit()
    assert not panel.error.isHidden() and field in panel.error.text()
    assert tab.race.tracks[key].racer == before


@pytest.mark.gui
def test_noise_start_and_training_boxes_stay_in_range(qtbot, tab):
    from gui.training.tab import TrainingTab

    panel = tab.racer_panel
    panel.select(next(iter(tab.race.tracks)))
    for value in (-5.0, 1e12, "nan"):
        panel.noise_scale.setValue(value)
        noise = next(iter(tab.race.tracks.values())).racer.noise
        assert noise is None or 0 < noise.scale <= 100
    for value in (-1, 2**64, "3.5"):
        panel.noise_seed.setValue(value)
        assert panel.noise_seed.value() == 0
    for text in (*HOSTILE_TEXT, "2.5"):
        tab.start_x.lineEdit().setText(text)
        tab.start_x.editingFinished.emit()
        assert all(math.isfinite(v) for v in tab.race.start)
    assert tab.race.start[0] == 2.5  # the one good value was taken
    training = TrainingTab()
    qtbot.addWidget(training)
    for spin, value in ((training.epochs, 0), (training.batch_size, -3),
                        (training.validation_split, 1.0), (training.limit, -1),
                        (training.seed, -1)):
        spin.setValue(value)
    training.config().validate()  # whatever the boxes hold is a valid session
    for checkbox in training.findChildren(QCheckBox):
        checkbox.setChecked(not checkbox.isChecked())
    training.config().validate()


@pytest.mark.parametrize("setting, field", [
    ("beta_1=1", "beta_1"), ("epsilon=-1e-7", "epsilon"), ("learning_rate=0", "learning_rate"),
    ("learning_rate=nan", "learning_rate"), ("learning_rate=inf", "learning_rate"),
    ("beta_2=1.5", "beta_2"), ("amsgrad=maybe", "amsgrad"), ("clipnorm=-1", "clipnorm"),
])
def test_the_command_line_refuses_the_same_values_with_exit_2(setting, field):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for argv in (["trajectory", "--surface", "rosenbrock", "--optimizer", "adam", "--set", setting],
                 ["map", "--surface", "rosenbrock", "--optimizer", "adam", "--set", setting,
                  "--grid", "8", "--steps", "5", "--out", "unused.npz"]):
        done = procs.run([sys.executable, "main.py", *argv], timeout=60, cwd=ROOT, env=env)
        assert done.returncode == 2, (argv, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and field in lines[0] and "Traceback" not in done.stderr
    assert not (ROOT / "unused.npz").exists()
