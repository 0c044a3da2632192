"""Bugs at the seams between the engine's facts and the GUI's editors (issue 11).

Each test here failed before the fix, as noted: the racer panel re-read every editor after
any edit (spin boxes keep 7 decimals, values "equal" to defaults were stripped with
``isclose``), 32-bit spin boxes overflowed on seeds the loader accepts, and the MNIST
samples box took 1 to 9, which the engine refuses.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import optimizers
from engine.files import scenario
from engine.landscape.race import Racer
from engine.params import Param

pytestmark = pytest.mark.gui



def _racer_with(tab, optimizer_id: str, settings: dict) -> str:
    key = next(iter(tab.race.tracks))
    tab._racer_changed(Racer(key, optimizer_id, settings))
    tab._racers_changed(select=key)
    tab.racer_panel.select(key)
    return key


def test_editing_beta_1_changes_beta_1_and_nothing_else(tab):
    # Before: {learning_rate: 0.0001235, beta_1: 0.8}: epsilon went back to Keras's default
    # and the learning rate was rounded to the spin box's 7 decimals.
    key = _racer_with(tab, "adam", {"epsilon": 1e-8, "learning_rate": 1.234567891e-4})
    editor = tab.racer_panel._editors["beta_1"]
    editor.lineEdit().setText("0.8")
    editor.editingFinished.emit()
    assert dict(tab.race.tracks[key].racer.settings) == {
        "epsilon": 1e-8, "learning_rate": 1.234567891e-4, "beta_1": 0.8}


def test_a_value_equal_to_the_default_stays_as_given(tab):
    # Before: a setting equal to Keras's default was dropped (isclose) on any edit.
    key = _racer_with(tab, "adam", {"beta_2": 0.999, "learning_rate": 0.02})
    editor = tab.racer_panel._editors["learning_rate"]
    editor.lineEdit().setText("0.03")
    editor.editingFinished.emit()
    assert dict(tab.race.tracks[key].racer.settings) == {"beta_2": 0.999, "learning_rate": 0.03}


def test_an_untouched_editor_keeps_the_exact_value_it_shows_compactly(tab):
    key = _racer_with(tab, "sgd", {"learning_rate": 0.012345678912345})
    editor = tab.racer_panel._editors["learning_rate"]
    assert editor.lineEdit().text() == "0.0123457"  # compact
    editor.editingFinished.emit()  # focus left without typing: nothing changes
    options = tab.racer_panel._editors["__advanced__"]
    options.setText("clipnorm=2")
    options.editingFinished.emit()
    assert dict(tab.race.tracks[key].racer.settings) == {
        "learning_rate": 0.012345678912345, "clipnorm": 2.0}


@pytest.mark.parametrize("document", [
    {"training": {"seed": 3_000_000_000}},
    {"landscape": {"racers": [{"optimizer": "sgd", "noise": {"scale": 0.1, "seed": 10**10}}]}},
    {"landscape": {"racers": [{"optimizer": "sgd",
                               "noise": {"scale": 0.1, "seed": 2**64 - 1}}]}},
    {"training": {"limit": 120_000, "validation_split": 0.95}},
])
def test_seeds_and_limits_beyond_32_bits_open_and_save_back(qtbot, document):
    # Before: OverflowError from a 32-bit Qt spin box, and a half-applied window.
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    loaded = scenario.loads(json.dumps({"schema_version": 1, **document}))
    window.scenarios.show(loaded)
    assert scenario.to_dict(window.scenarios.checked_current()) == scenario.to_dict(loaded)
    window.landscape.shutdown()


def test_the_samples_box_refuses_what_the_engine_refuses(qtbot):
    # Before: the box took 1 to 9 and TrainConfig.validate refused them.
    from gui.training.tab import TrainingTab

    training = TrainingTab()
    qtbot.addWidget(training)
    for typed in ("1", "9", "-5", "120001", "abc"):
        training.limit.lineEdit().setText(typed)
        training.limit.editingFinished.emit()
        assert training.limit.value() is None  # "all": the refused value never got in
        assert "limit" in training.error.text() and not training.error.isHidden()
        training.config().validate()
    training.limit.lineEdit().setText("10")
    training.limit.editingFinished.emit()
    assert training.config().limit == 10


# ------------------------------------------------------------- one edit changes one field


def _value(param: Param):
    """A valid value of ``param`` drawn from its range (log-spaced where it is log)."""
    if param.kind == "bool":
        return st.booleans()
    low = param.low if param.low is not None else -1e3
    high = param.high if param.high is not None else 1e3
    if param.log and low <= 0:
        low = 1e-6
    values = st.floats(low, high, allow_nan=False, allow_infinity=False, exclude_min=param.low_open,
                       exclude_max=param.high_open)
    return values.filter(param.contains)


@st.composite
def _edit(draw):
    spec = draw(st.sampled_from(optimizers.catalog()))
    editable = [h for h in spec.hyperparams if not h.advanced]
    start = {h.name: draw(_value(h)) for h in editable if draw(st.booleans())}
    field = draw(st.sampled_from(editable))
    return spec.id, start, field.name, draw(_value(field))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_edit())
def test_an_edit_of_one_field_changes_exactly_that_field(tab, case):
    optimizer_id, start, name, new = case
    key = _racer_with(tab, optimizer_id, start)
    before = dict(tab.race.tracks[key].racer.settings)
    editor = tab.racer_panel._editors[name]
    if isinstance(new, bool):
        editor.setChecked(new)
        if editor.isChecked() == before.get(name, optimizers.spec(optimizer_id).param(name).default):
            editor.toggled.emit(new)
    else:
        assume(repr(new) != editor.text_shown())  # typing what is shown is no edit
        editor.lineEdit().setText(repr(new))
        editor.editingFinished.emit()
    after = dict(tab.race.tracks[key].racer.settings)
    assert after == {**before, name: new}


def test_keras_defaults_shows_the_defaults_in_the_boxes_at_once(tab):
    # Before: the racer went back to Keras's defaults but its boxes kept the old values, so
    # the next edit of another field sent the old value back.
    key = _racer_with(tab, "adam", {"learning_rate": 0.25, "beta_1": 0.5})
    tab.racer_panel.defaults_button.click()
    assert dict(tab.race.tracks[key].racer.settings) == {}
    assert tab.racer_panel._editors["learning_rate"].value() == 0.001
    assert tab.racer_panel._editors["beta_1"].value() == 0.9
    editor = tab.racer_panel._editors["beta_2"]
    editor.lineEdit().setText("0.99")
    editor.editingFinished.emit()
    assert dict(tab.race.tracks[key].racer.settings) == {"beta_2": 0.99}
