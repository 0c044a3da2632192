"""One parameter description: its checks, and that every default and limit has one home.

These fail on the code before issue 11's parameter description: four description classes
with other field names, static memory slots, clip exclusivity checked twice, and step caps
of 100,000 (scenario), 1,000,000 (trajectory), 20,000 (maps view) and 100,000 (render).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from engine import optimizers
from engine.files import scenario
from engine.landscape import limits, maps, measures, surfaces
from engine.mnist import settings as training_settings
from engine.optimizers import rules, schedules
from engine.params import REQUIRED, HyperParamError, Param, ParamError


def test_one_description_class_and_one_refusal_class_everywhere():
    described = [h for spec in optimizers.catalog() for h in spec.hyperparams]
    described += [p for cls in schedules.SCHEDULES.values() for p in cls.params]
    described += [p for params in measures.PARAMETERS.values() for p in params]
    described += [p for params in surfaces.PARAMETERS.values() for p in params]
    described += list(training_settings.FIELDS)
    described += [limits.STEPS, limits.RACERS, limits.GRID, limits.NOISE_SEED]
    assert described and all(type(p) is Param for p in described)
    from engine.files.scenario import ScenarioError
    from engine.mnist.training import ConfigError

    assert HyperParamError is ParamError and ConfigError is ParamError
    assert issubclass(ScenarioError, ParamError)


@pytest.mark.parametrize(("param", "value", "expected"), [
    (Param("a", "float", 1.0, 0.0, 1.0, low_open=True), "0.5", 0.5),
    (Param("a", "float", 1.0, 0.0, 1.0, low_open=True), 1, 1.0),
    (Param("n", "int", 1, 0, 2**64 - 1), "18446744073709551615", 2**64 - 1),
    (Param("n", "int", 1, 0, 2**64 - 1), 2**63 + 1, 2**63 + 1),
    (Param("n", "int", 1, 0, 10), 5.0, 5),
    (Param("o", "float", None, 0.0, 1.0, optional=True, none_text="all"), "all", None),
    (Param("b", "bool", False), "yes", True),
    (Param("l", "ints", (1,), 0, 9), "1, 2;3", (1, 2, 3)),
])
def test_lenient_values_are_read_exactly(param, value, expected):
    checked = param.validate(value)
    assert checked == expected and type(checked) is type(expected)


@pytest.mark.parametrize(("param", "value", "words"), [
    (Param("a", "float", 1.0, 0.0, 1.0, low_open=True), 0, "a: must be in (0, 1], got 0"),
    (Param("a", "float", 1.0, 0.0, 1.0, high_open=True), 1.0, "must be in [0, 1), got 1"),
    (Param("a", "float", 1.0, 1.0, None), 0.5, "must be >= 1, got 0.5"),
    (Param("a", "float", 1.0), "nan", "must be a finite number"),
    (Param("a", "float", 1.0), "1e999", "must be a finite number"),
    (Param("n", "int", 1, 0, 2**64 - 1), 2**64, "must be in [0, 18446744073709551615]"),
    (Param("n", "int", 1, 0, 10), 2.5, "must be a whole number, got 2.5"),
    (Param("b", "bool", False), "maybe", "must be true or false"),
    (Param("t", "text", "", 1, 5), "toolong", "too long (7 characters, at most 5)"),
    (Param("t", "text", "", 1, 5), "  ", "must not be empty"),
])
def test_refusals_name_the_field_and_say_what_is_valid(param, value, words):
    with pytest.raises(ParamError) as caught:
        param.validate(value)
    assert caught.value.field == param.name and words in str(caught.value)


@pytest.mark.parametrize("value", [True, "0.1", [0.1], None, {"a": 1}])
def test_json_is_strict_about_types(value):
    with pytest.raises(ParamError) as caught:
        Param("x", "float", 0.1, 0.0, 1.0).check_json(value, "a.b[2].x")
    assert caught.value.field == "a.b[2].x"


def test_an_editor_shows_compactly_and_steps_along_the_scale_inside_the_range():
    rate = optimizers.spec("adam").param("learning_rate")
    assert rate.text(1.234567891e-4) == "0.000123457" and rate.text(0.001) == "0.001"
    assert rate.stepped(0.001, 10) == pytest.approx(0.01)  # a decade per ten log steps
    assert rate.stepped(100.0, 1) == 100.0  # the top end is closed: stays
    beta = optimizers.spec("adam").param("beta_1")
    assert beta.stepped(0.99, 1) == 0.99  # [0, 1): never steps onto 1
    assert beta.arrow_step() == 0.01
    seed = limits.NOISE_SEED
    assert seed.stepped(2**64 - 1, 1) == 2**64 - 1 and seed.stepped(5, -1) == 4


def test_keras_defaults_live_only_in_the_registry():
    """The update rules take every hyperparameter by keyword, with no default of their own."""
    for name in ("sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam", "lion"):
        signature = inspect.signature(getattr(rules, name))
        for parameter in signature.parameters.values():
            if parameter.kind is parameter.KEYWORD_ONLY:
                assert parameter.default is inspect.Parameter.empty, (name, parameter.name)


def test_memory_slots_are_counted_from_the_rules_state():
    cases = [("sgd", {}, 0), ("sgd", {"momentum": 0.5}, 1), ("momentum", {}, 1),
             ("rmsprop", {}, 1), ("rmsprop", {"centered": True}, 2),
             ("rmsprop", {"momentum": 0.9, "centered": True}, 3), ("adagrad", {}, 1),
             ("adadelta", {}, 2), ("adam", {}, 2), ("adam", {"amsgrad": True}, 3),
             ("amsgrad", {}, 3), ("adamw", {}, 2), ("adamax", {}, 2), ("nadam", {}, 2),
             ("lion", {}, 1)]
    for optimizer_id, settings, slots in cases:
        assert optimizers.spec(optimizer_id).memory_slots(settings) == slots, optimizer_id


@pytest.mark.keras
@pytest.mark.parametrize(("optimizer_id", "settings"), [
    ("sgd", {}), ("momentum", {}), ("rmsprop", {}), ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.5, "centered": True}), ("adagrad", {}), ("adadelta", {}),
    ("adam", {}), ("amsgrad", {}), ("adamw", {}), ("adamax", {}), ("nadam", {}), ("lion", {}),
])
def test_memory_slots_equal_the_variables_keras_keeps_per_weight(optimizer_id, settings):
    from engine.optimizers import tensorflow_loader

    tensorflow_loader.load()
    import keras

    weight = keras.Variable(np.zeros((3, 4), dtype="float32"))
    keras_optimizer = optimizers.get(optimizer_id, **settings).to_keras()
    keras_optimizer.build([weight])
    per_weight = sum(1 for v in keras_optimizer.variables if tuple(v.shape) == (3, 4))
    assert optimizers.spec(optimizer_id).memory_slots(settings) == per_weight


def test_clipping_exclusivity_has_one_home():
    with pytest.raises(ParamError, match="only one of clipnorm, clipvalue"):
        optimizers.get("adam", clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ParamError, match="only one of clipnorm, clipvalue"):
        maps.batched_optimizer("adam", {"clipvalue": [0.5, 1.0]}, clipnorm=1.0)
    source = inspect.getsource(maps.batched_optimizer)
    assert "one_clip" in source and "only one of" not in source


def test_every_step_cap_and_count_is_one_fact():
    from engine.cli import main as cli_main
    from engine.cli import maps as cli_maps
    from gui import render
    from gui.landscape import playback

    assert scenario.MAX_STEPS == playback.MAX_BUDGET == render.MAX_STEPS == limits.MAX_STEPS
    assert cli_main.MAX_TRAJECTORY_STEPS == cli_maps.MAX_MAP_STEPS == limits.MAX_STEPS
    assert scenario.MAX_RACERS == limits.RACERS.high
    assert maps.MAX_GRID == limits.GRID.high
    assert scenario.DEFAULT_STEPS == limits.STEPS.default


@pytest.mark.gui
def test_gui_ranges_come_from_the_descriptions(qtbot):
    from gui.maps.view import MapsView
    from gui.training.tab import TrainingTab

    maps_view = MapsView()
    qtbot.addWidget(maps_view)
    assert (maps_view.steps.minimum(), maps_view.steps.maximum()) == (
        limits.RUN_STEPS.low, limits.RUN_STEPS.high)
    training = TrainingTab()
    qtbot.addWidget(training)
    for edit, param in ((training.epochs, training_settings.EPOCHS),
                        (training.batch_size, training_settings.BATCH_SIZE),
                        (training.validation_split, training_settings.VALIDATION_SPLIT),
                        (training.seed, training_settings.SEED),
                        (training.limit, training_settings.LIMIT)):
        assert edit.param is param and edit.value() == param.default


def test_measure_parameters_know_what_is_required():
    required = [p.name for params in measures.PARAMETERS.values() for p in params
                if p.default is REQUIRED]
    assert required == ["point"]


def test_schedule_steps_are_bounded_so_no_arithmetic_overflows():
    with pytest.raises(ParamError, match="boundaries"):
        schedules.schedule_from("piecewise_constant_decay", boundaries=(2**63, 2**64),
                                values=(0.1, 0.01, 0.001))
    top = schedules.MAX_STEP
    late = schedules.schedule_from("piecewise_constant_decay", boundaries=(5, top),
                                   values=(0.1, 0.01, 0.001))
    assert late(top + 1) == pytest.approx(0.001) and math.isfinite(late(10))
