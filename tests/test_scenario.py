"""Scenario files: defaults, engine objects, round trips, and every refusal named by its path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import optimizers
from engine.files.scenario import (
    DEFAULT_VIEW,
    MAX_BYTES,
    MAX_RACERS,
    Scenario,
    ScenarioError,
    dumps,
    load,
    loads,
    save,
)
from engine.landscape import surfaces
from engine.landscape.race import Racer
from engine.landscape.simulate import GradientNoise
from engine.mnist.training import TrainConfig, TrainEntry
from engine.optimizers import schedules
from engine.optimizers.schedules import ExponentialDecay

PRESET = Path(__file__).resolve().parents[1] / "resources" / "presets" / "01-ravine-momentum.json"


def doc(**sections) -> str:
    """A scenario file with ``schema_version`` 1 and the given sections."""
    return json.dumps({"schema_version": 1, **sections})


def racers(*entries) -> dict:
    return {"racers": list(entries)}


def refused(text: str | bytes, path: str, *fragments: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        loads(text)
    error = caught.value
    assert error.field == path, str(error)
    if path:
        assert str(error).startswith(f"{path}: "), str(error)
    for fragment in fragments:
        assert fragment in str(error), str(error)
    return error


# ------------------------------------------------------------------------------ reading


def test_a_file_with_only_the_version_takes_the_apps_defaults():
    scenario = loads('{"schema_version": 1}')
    assert (scenario.title, scenario.tab, scenario.surface_id) == ("Untitled", "landscape", "ravine")
    assert scenario.surface_params == {"condition_number": 50.0, "angle": 0.0}
    assert scenario.start == surfaces.get("ravine").start
    assert scenario.steps == 2000
    assert [r.key for r in scenario.racers] == ["sgd-1", "momentum-2", "rmsprop-3", "adam-4"]
    assert all(r.settings == {} and r.schedule is None and r.noise is None
               for r in scenario.racers)
    assert scenario.view == DEFAULT_VIEW
    assert scenario.training == TrainConfig()
    assert scenario.measure is None
    assert scenario == Scenario()


def test_a_full_file_becomes_validated_engine_objects():
    scenario = loads(doc(
        title="Custom bowl", explanation="One paragraph.", tab="landscape",
        landscape={
            "surface": "expr:x**2+3*y**2", "start": [-2.5, 2], "steps": 300,
            "racers": [
                {"optimizer": "adam", "settings": {"learning_rate": 0.05, "beta_1": 0.8,
                                                   "amsgrad": True}},
                {"optimizer": "sgd", "settings": {"learning_rate": 1}, "start": [1, 1],
                 "schedule": {"id": "exponential_decay",
                              "params": {"initial_learning_rate": 0.1, "decay_steps": 50}},
                 "noise": {"scale": 0.5, "seed": 3}},
            ],
            "view": {"mode": "3d", "show_field": True, "speed": 2, "x_range": [-3, 3]},
        },
        training={"optimizers": [{"optimizer": "nadam", "settings": {"epsilon": 1e-6}}],
                  "epochs": 2, "limit": 500, "dataset": "bundled",
                  "schedule": {"id": "cosine_decay", "params": {"decay_steps": 100}}},
        measure={"kind": "final_loss"},
    ))
    adam, sgd = scenario.racers
    assert adam == Racer("adam-1", "adam", {"learning_rate": 0.05, "beta_1": 0.8, "amsgrad": True})
    assert isinstance(sgd.settings["learning_rate"], float)
    assert sgd.start == (1.0, 1.0)
    assert isinstance(sgd.schedule, ExponentialDecay)
    assert sgd.schedule == schedules.schedule_from("exponential_decay", initial_learning_rate=0.1,
                                                   decay_steps=50)
    assert sgd.noise == GradientNoise(0.5, 3)
    assert scenario.surface().formula == surfaces.get("expr:x**2+3*y**2").formula
    assert scenario.view["mode"] == "3d" and scenario.view["x_range"] == (-3.0, 3.0)
    assert scenario.view["y_range"] is None and scenario.view["speed"] == 2.0
    config = scenario.training
    # The section's schedule is the rate of every optimizer without its own.
    cosine = schedules.schedule_from("cosine_decay", decay_steps=100)
    assert config.optimizers == (TrainEntry("nadam", {"epsilon": 1e-6}, cosine),)
    assert (config.epochs, config.limit, config.dataset) == (2, 500, "bundled")
    assert scenario.measure == {"kind": "final_loss", "window": 1}
    race = scenario.race()
    assert list(race.tracks) == ["adam-1", "sgd-2"] and race.budget == 300
    assert loads(dumps(scenario)) == scenario


def test_a_byte_order_mark_and_bytes_are_read():
    assert loads(b'\xef\xbb\xbf{"schema_version": 1}') == Scenario()


def test_training_optimizers_may_carry_their_own_schedule():
    scenario = loads(doc(training={"optimizers": [
        {"optimizer": "sgd", "schedule": {"id": "inverse_time_decay", "params": {}}},
        {"optimizer": "adam"}]}))
    own, adam = scenario.training.optimizers
    assert own.learning_rate == schedules.schedule_from("inverse_time_decay")
    assert adam == TrainEntry("adam")
    assert loads(dumps(scenario)) == scenario


def test_a_training_rate_is_one_value_read_from_old_files_as_they_meant_it():
    decay = {"id": "exponential_decay", "params": {"initial_learning_rate": 0.1}}
    scenario = loads(doc(training={"schedule": decay, "optimizers": [
        {"optimizer": "sgd", "settings": {"learning_rate": 0.5, "momentum": 0.9}},
        {"optimizer": "adam", "settings": {"learning_rate": 0.01},
         "schedule": {"id": "inverse_time_decay", "params": {}}}]}))
    sgd, adam = scenario.training.optimizers
    # A schedule replaces the constant rate: the section's for sgd, adam's own for adam.
    assert sgd == TrainEntry("sgd", {"momentum": 0.9},
                             schedules.schedule_from("exponential_decay", initial_learning_rate=0.1))
    assert adam == TrainEntry("adam", {}, schedules.schedule_from("inverse_time_decay"))
    written = json.loads(dumps(scenario))["training"]
    assert "schedule" not in written  # each entry carries its own rate now
    assert written["optimizers"][0] == {"optimizer": "sgd", "settings": {"momentum": 0.9},
                                        "schedule": {"id": "exponential_decay", "params": {
                                            "initial_learning_rate": 0.1, "decay_steps": 100,
                                            "decay_rate": 0.5, "staircase": False}}}
    assert loads(dumps(scenario)) == scenario
    constant = loads(doc(training={"optimizers": [
        {"optimizer": "sgd", "settings": {"learning_rate": 0.5}}]}))
    assert constant.training.optimizers == (TrainEntry("sgd", learning_rate=0.5),)
    assert json.loads(dumps(constant))["training"]["optimizers"] == [
        {"optimizer": "sgd", "settings": {"learning_rate": 0.5}}]  # the format of old


# ------------------------------------------------------------------------------ writing


def test_dumps_is_strict_readable_json():
    scenario = load(PRESET)
    text = dumps(scenario)
    assert text.startswith('{\n  "schema_version": 1,\n  "title": ')
    assert text.endswith("}\n")
    assert '"start": [-9.0, 3.0],' in text  # short number lists stay on one line
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in strict JSON"))
    assert list(data) == ["schema_version", "title", "explanation", "tab", "landscape",
                          "training", "measure"]
    assert list(data["landscape"]["racers"][0]) == ["optimizer", "settings"]  # no nulls


def test_brackets_inside_text_are_left_alone():
    scenario = Scenario(title="[1,\n 2]", explanation="a [ 3 , 4 ] b")
    again = loads(dumps(scenario))
    assert (again.title, again.explanation) == ("[1,\n 2]", "a [ 3 , 4 ] b")


def test_save_writes_a_file_that_loads_back(tmp_path):
    target = tmp_path / "lesson.json"
    scenario = load(PRESET)
    save(scenario, target)
    save(scenario, target)  # replacing an existing file
    assert load(target) == scenario
    assert [p.name for p in tmp_path.iterdir()] == ["lesson.json"]  # no temporary left


def test_a_failed_save_leaves_the_old_file(tmp_path):
    target = tmp_path / "lesson.json"
    save(Scenario(), target)
    before = target.read_bytes()
    broken = Scenario(view={"speed": float("nan")})
    with pytest.raises(ValueError):
        save(broken, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["lesson.json"]


def test_the_constructor_normalises_what_the_gui_may_hand_it():
    scenario = Scenario(surface_id="ravine", surface_params={"condition_number": 80},
                        racers=(Racer("sgd-7", "sgd", {"learning_rate": 0.02}),),
                        view={"x_range": [-1, 1]},
                        training=TrainConfig(optimizers=[TrainEntry("sgd", {}, None)]),
                        measure={"kind": "steps_near_point", "point": [0, 0]})
    assert scenario.surface_params == {"condition_number": 80.0, "angle": 0.0}
    assert scenario.racers[0].key == "sgd-1"
    assert scenario.view["x_range"] == (-1.0, 1.0)
    assert scenario.training.optimizers == (TrainEntry("sgd"),)
    assert scenario.measure == {"kind": "steps_near_point", "point": (0.0, 0.0),
                                "radius": 0.5, "label": ""}
    assert loads(dumps(scenario)) == scenario


# ------------------------------------------------------------------- hypothesis round trip


def _hyperparam(h) -> st.SearchStrategy:
    if h.kind == "bool":
        return st.booleans()
    numbers = st.floats(h.low, min(h.high, 1e3), exclude_min=h.low_open,
                        exclude_max=h.high_open, allow_nan=False)
    return st.none() | numbers if h.optional else numbers


@st.composite
def _settings(draw, optimizer_id: str) -> dict:
    editable = [h for h in optimizers.spec(optimizer_id).hyperparams if not h.advanced]
    chosen = draw(st.lists(st.sampled_from(editable), unique_by=lambda h: h.name, max_size=3))
    return {h.name: draw(_hyperparam(h)) for h in chosen}


@st.composite
def _schedule(draw) -> dict:
    schedule_id = draw(st.sampled_from(sorted(schedules.SCHEDULES)))
    params = {}
    for param in schedules.SCHEDULES[schedule_id].params:
        if param.name.endswith("learning_rate") and draw(st.booleans()):
            params[param.name] = draw(st.floats(1e-4, 1.0))
        if param.name == "decay_steps" and draw(st.booleans()):
            params[param.name] = draw(st.integers(1, 10_000))
    return {"id": schedule_id, "params": params}


def _optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


@st.composite
def scenario_documents(draw) -> dict:
    surface_id = draw(st.sampled_from([*surfaces.ids(), "expr:x**2+3*y**2",
                                       "expr:sin(x)*cos(y)+0.1*x**2"]))
    params = {p.name: draw(st.floats(p.low, p.high))
              for p in surfaces.PARAMETERS.get(surface_id, ()) if draw(st.booleans())}
    surface = surfaces.get(surface_id, **params)
    x0, x1, y0, y1 = surface.domain
    point = st.tuples(st.floats(x0, x1), st.floats(y0, y1)).map(list)
    optimizer_id = st.sampled_from(optimizers.ids())
    entries = []
    for oid in draw(st.lists(optimizer_id, min_size=1, max_size=4)):
        entry = {"optimizer": oid, "settings": draw(_settings(oid))}
        for key, strategy in (("start", point), ("schedule", _schedule()),
                              ("noise", st.fixed_dictionaries(
                                  {"scale": st.floats(0, 5), "seed": st.integers(0, 2**64 - 1)}))):
            if draw(st.booleans()):
                entry[key] = draw(_optional(strategy))
        entries.append(entry)
    trainers = [{"optimizer": oid, "settings": draw(_settings(oid))}
                for oid in draw(st.lists(optimizer_id, min_size=1, max_size=3))]
    tab = draw(st.sampled_from(["landscape", "training"]))
    kinds = (["val_accuracy", "distance_from_start"] if tab == "training" else
             ["steps_to_converge", "last_steps_spread", "steps_near_point", "final_loss"]
             + (["minimum_reached"] if surface.minima else []))
    kind = draw(st.sampled_from(kinds))
    measure = {"kind": kind, **{
        "steps_to_converge": {"baseline": draw(st.integers(0, len(entries) - 1)),
                              "radius": draw(_optional(st.floats(0.01, 1))), "point": draw(point)},
        "last_steps_spread": {"window": draw(st.integers(2, 500))},
        "steps_near_point": {"point": draw(point), "label": draw(st.text(max_size=20))},
        "minimum_reached": {"radius": draw(st.floats(0.01, 1))},
        "final_loss": {"window": draw(st.integers(1, 500))},
        "val_accuracy": {},
        "distance_from_start": {},
    }[kind]}
    return {
        "schema_version": 1,
        "title": draw(st.text(max_size=40)),
        "explanation": draw(st.text(max_size=200)),
        "tab": tab,
        "landscape": {
            "surface": surface_id, "surface_params": params, "start": draw(_optional(point)),
            "steps": draw(st.integers(1, 100_000)), "racers": entries,
            "view": {"mode": draw(st.sampled_from(["2d", "3d"])),
                     "show_velocity": draw(st.booleans()),
                     "speed": draw(st.sampled_from([0.1, 0.25, 1, 10])),
                     "y_range": draw(_optional(st.just([-1.5, 2.5])))},
        },
        "training": {
            "optimizers": trainers, "epochs": draw(st.integers(1, 1000)),
            "batch_size": draw(st.integers(1, 8192)),
            # None of 100+ samples may end up with no training or no validation sample.
            "validation_split": draw(st.just(0.0) | st.floats(0.05, 0.95)),
            "seed": draw(st.integers(0, 2**32 - 1)),
            "dataset": draw(st.sampled_from(["auto", "bundled", "/data/mnist.npz"])),
            "limit": draw(_optional(st.integers(100, 120_000))),
            "lockstep": draw(st.booleans()),
            "schedule": draw(_optional(_schedule())),
        },
        "measure": draw(_optional(st.just(measure))),
    }


@settings(max_examples=60, deadline=None)
@given(scenario_documents())
def test_every_valid_document_round_trips(document):
    scenario = loads(json.dumps(document))
    text = dumps(scenario)
    again = loads(text)
    assert again == scenario
    assert dumps(again) == text


# ----------------------------------------------------------------------------- refusals


REFUSALS = [
    # (document, JSON path, words the message must contain)
    ({"schema_version": 2}, "schema_version",
     "made by a newer Optiscope: schema_version 2, this version reads 1"),
    ({"schema_version": "1"}, "schema_version", "must be a whole number, got '1'"),
    ({"schema_version": 0}, "schema_version", "must be 1, got 0"),
    ({"schema_version": True}, "schema_version", "got true"),
    ({"titel": "typo"}, "titel", "unknown key (valid: schema_version, title"),
    ({"title": 5}, "title", "must be text, got 5"),
    ({"title": "x" * 201}, "title", "too long"),
    ({"tab": "maps"}, "tab", "must be one of 'landscape', 'training'"),
    ({"landscape": []}, "landscape", "must be an object"),
    ({"landscape": {"surface": "rosenbrok"}}, "landscape.surface", "unknown surface 'rosenbrok'"),
    ({"landscape": {"surface": "expr:__import__('os').system('true')"}}, "landscape.surface",
     "unknown function '__import__'"),
    ({"landscape": {"surface": "expr:x**2", "surface_params": {"b": 1}}},
     "landscape.surface_params", "custom expressions take no parameters"),
    ({"landscape": {"surface_params": 5}}, "landscape.surface_params", "must be an object"),
    ({"title": "\ud800"}, "title", "must be valid Unicode text"),
    ({"landscape": {"surface": "ravine", "surface_params": {"condition_number": 0}}},
     "landscape.surface_params.condition_number", "must be in [1, 10000], got 0"),
    ({"landscape": {"surface": "ravine", "surface_params": {"angle": True}}},
     "landscape.surface_params.angle", "must be a number, got true"),
    ({"landscape": {"surface": "bowl", "surface_params": {"steepness": 2}}},
     "landscape.surface_params.steepness", "bowl has no such parameter (it has none)"),
    ({"landscape": {"surface": "expr:log(x)", "start": [-1, 1]}}, "landscape.start",
     "the surface is not defined at (-1, 1)"),
    ({"landscape": {"start": [1e9, 0]}}, "landscape.start", "outside the box"),
    ({"landscape": {"start": [1, 2, 3]}}, "landscape.start", "a list of two numbers"),
    ({"landscape": {"start": "1,2"}}, "landscape.start", "a list of two numbers"),
    ({"landscape": {"start": [1, "2"]}}, "landscape.start[1]", "must be a number, got '2'"),
    ({"landscape": {"steps": True}}, "landscape.steps", "must be a whole number, got true"),
    ({"landscape": {"steps": 2.5}}, "landscape.steps", "whole number"),
    ({"landscape": {"steps": 0}}, "landscape.steps", "in [1, 100000], got 0"),
    ({"landscape": {"steps": 100_001}}, "landscape.steps", "in [1, 100000]"),
    ({"landscape": {"racers": "sgd"}}, "landscape.racers", "must be a list [...], got 'sgd'"),
    ({"landscape": {"racers": None}}, "landscape.racers", "got null"),
    ({"landscape": {"racers": []}}, "landscape.racers", "needs 1 to 20 entries, got 0"),
    ({"landscape": racers(*[{"optimizer": "sgd"}] * (MAX_RACERS + 1))}, "landscape.racers",
     "got 21"),
    ({"landscape": racers("sgd")}, "landscape.racers[0]", "must be an object"),
    ({"landscape": racers({"settings": {}})}, "landscape.racers[0].optimizer", "missing"),
    ({"landscape": racers({"optimizer": "adamm"})}, "landscape.racers[0].optimizer",
     "unknown optimizer 'adamm'"),
    ({"landscape": racers({"optimizer": "sgd", "setting": {}})}, "landscape.racers[0].setting",
     "unknown key (valid: optimizer, settings, start, schedule, noise)"),
    ({"landscape": racers({"optimizer": "sgd"}, {"optimizer": "adam",
                                                 "settings": {"beta_1": 1.0}})},
     "landscape.racers[1].settings.beta_1", "must be in [0, 1), got 1"),
    ({"landscape": racers({"optimizer": "adam", "settings": {"betta_1": 0.5}})},
     "landscape.racers[0].settings.betta_1", "unknown key (valid: learning_rate, beta_1"),
    ({"landscape": racers({"optimizer": "sgd", "settings": {"learning_rate": True}})},
     "landscape.racers[0].settings.learning_rate", "must be a number, got true"),
    ({"landscape": racers({"optimizer": "sgd", "settings": {"learning_rate": "0.1"}})},
     "landscape.racers[0].settings.learning_rate", "must be a number, got '0.1'"),
    ({"landscape": racers({"optimizer": "sgd", "settings": {"learning_rate": 0}})},
     "landscape.racers[0].settings.learning_rate", "must be in (0, 100], got 0"),
    ({"landscape": racers({"optimizer": "sgd", "settings": {"nesterov": "yes"}})},
     "landscape.racers[0].settings.nesterov", "must be true or false, got 'yes'"),
    ({"landscape": racers({"optimizer": "sgd", "settings": {"clipnorm": 1, "clipvalue": 1}})},
     "landscape.racers[0].settings.clipvalue", "only one of clipnorm, clipvalue"),
    ({"landscape": racers({"optimizer": "sgd", "start": [float("1e300"), 0]})},
     "landscape.racers[0].start", "not defined"),
    ({"landscape": racers({"optimizer": "sgd", "schedule": {"id": "step_decay"}})},
     "landscape.racers[0].schedule.id", "must be one of 'constant'"),
    ({"landscape": racers({"optimizer": "sgd", "schedule": {"params": {}}})},
     "landscape.racers[0].schedule.id", "missing"),
    ({"landscape": racers({"optimizer": "sgd", "schedule": {
        "id": "exponential_decay", "params": {"decay_rate": 0}}})},
     "landscape.racers[0].schedule.params.decay_rate", "got 0"),
    ({"landscape": racers({"optimizer": "sgd", "schedule": {
        "id": "exponential_decay", "params": {"rate": 0.5}}})},
     "landscape.racers[0].schedule.params.rate", "unknown key (valid: initial_learning_rate"),
    ({"landscape": racers({"optimizer": "sgd", "schedule": {
        "id": "exponential_decay", "params": {"decay_steps": 1.5}}})},
     "landscape.racers[0].schedule.params.decay_steps", "whole number"),
    ({"landscape": racers({"optimizer": "sgd", "schedule": {
        "id": "piecewise_constant_decay", "params": {"boundaries": [10], "values": [1, 2, 3]}}})},
     "landscape.racers[0].schedule.params.values", "needs 2 entries"),
    ({"landscape": racers({"optimizer": "sgd", "schedule": {
        "id": "piecewise_constant_decay", "params": {"boundaries": [10, "20"]}}})},
     "landscape.racers[0].schedule.params.boundaries[1]", "whole number"),
    ({"landscape": racers({"optimizer": "sgd", "noise": {"scale": -1}})},
     "landscape.racers[0].noise.scale", "must be in [0, 100], got -1"),
    ({"landscape": racers({"optimizer": "sgd", "noise": {"scale": 1, "seed": False}})},
     "landscape.racers[0].noise.seed", "whole number"),
    ({"landscape": racers({"optimizer": "sgd", "noise": {"seed": 1}})},
     "landscape.racers[0].noise.scale", "missing"),
    ({"landscape": racers({"optimizer": "sgd", "noise": 0.5})},
     "landscape.racers[0].noise", "must be an object"),
    ({"landscape": {"view": {"shw_field": True}}}, "landscape.view.shw_field", "unknown key"),
    ({"landscape": {"view": {"mode": "4d"}}}, "landscape.view.mode", "one of '2d', '3d'"),
    ({"landscape": {"view": {"show_field": "yes"}}}, "landscape.view.show_field",
     "true or false"),
    ({"landscape": {"view": {"speed": 3}}}, "landscape.view.speed", "one of 0.1, 0.25"),
    ({"landscape": {"view": {"x_range": [1, 0]}}}, "landscape.view.x_range", "low < high"),
    ({"training": {"epoch": 5}}, "training.epoch", "unknown key"),
    ({"training": {"epochs": 0}}, "training.epochs", "got 0"),
    ({"training": {"batch_size": "32"}}, "training.batch_size", "whole number"),
    ({"training": {"validation_split": 1.0}}, "training.validation_split",
     "must be in [0, 1), got 1"),
    ({"training": {"limit": 5}}, "training.limit", "in [10, 120000], got 5"),
    ({"training": {"lockstep": "yes"}}, "training.lockstep", "true or false"),
    ({"training": {"dataset": " "}}, "training.dataset", "must not be empty"),
    ({"training": {"optimizers": []}}, "training.optimizers", "needs 1 to 20 entries"),
    ({"training": {"optimizers": [{"optimizer": "sgd", "settings": {"momentum": 2}}]}},
     "training.optimizers[0].settings.momentum", "must be in [0, 1], got 2"),
    ({"training": {"schedule": {"id": "cosine_decay", "params": {"warmup_steps": 10}}}},
     "training.schedule.params.warmup_steps", "needs a warmup_target"),
    ({"measure": 5}, "measure", "must be an object"),
    ({"measure": {}}, "measure.kind", "must be one of 'steps_to_converge'"),
    ({"measure": {"kind": "speed"}}, "measure.kind", "got 'speed'"),
    ({"measure": {"kind": "final_loss", "windw": 3}}, "measure.windw", "unknown key"),
    ({"measure": {"kind": "final_loss", "window": 0}}, "measure.window", "got 0"),
    ({"measure": {"kind": "last_steps_spread", "window": 1}}, "measure.window", "got 1"),
    ({"measure": {"kind": "steps_near_point"}}, "measure.point", "missing"),
    ({"measure": {"kind": "steps_near_point", "point": [0, 0], "radius": 0}}, "measure.radius",
     "must be > 0, got 0"),
    ({"measure": {"kind": "steps_to_converge", "baseline": 4}}, "measure.baseline",
     "one of the 4 racers (0 to 3), got 4"),
    ({"landscape": {"surface": "saddle"}, "measure": {"kind": "minimum_reached"}}, "measure.kind",
     "Saddle has none"),
    ({"landscape": {"surface": "expr:x**2"}, "measure": {"kind": "steps_to_converge",
                                                         "radius": 0.1}},
     "measure.point", "no known minimum"),
    ({"tab": "training", "measure": {"kind": "final_loss"}}, "measure.kind",
     "final_loss measures the landscape tab, but tab is 'training'"),
    ({"measure": {"kind": "val_accuracy"}}, "measure.kind", "measures the training tab"),
]


@pytest.mark.parametrize(("document", "path", "words"), REFUSALS,
                         ids=[f"{i}-{case[1]}" for i, case in enumerate(REFUSALS)])
def test_refusals_name_the_json_path(document, path, words):
    refused(json.dumps({"schema_version": 1, **document}), path, words)


def test_a_file_without_schema_version_is_refused():
    refused('{"title": "no version"}', "schema_version", "missing")


@pytest.mark.parametrize(("text", "path", "words"), [
    ('{"schema_version": 1, "landscape": {"start": [NaN, 0]}}', "landscape.start[0]",
     "must be a number, got NaN"),
    ('{"schema_version": 1, "landscape": {"start": [0, -Infinity]}}', "landscape.start[1]",
     "got -Infinity"),
    ('{"schema_version": 1, "landscape": {"racers": [{"optimizer": "sgd", "settings": '
     '{"learning_rate": Infinity}}]}}', "landscape.racers[0].settings.learning_rate",
     "got Infinity"),
    ('{"schema_version": 1, "landscape": {"start": [0, 1e999]}}', "landscape.start[1]",
     "must be a finite number, got inf"),
    ('{"schema_version": 1, "title": "a", "title": "b"}', "title", "given twice"),
    ('{"schema_version": 1, "landscape": {"view": {"speed": 1, "speed": 2}}}',
     "landscape.view.speed", "given twice"),
    ("[1, 2]", "top level", "must be a JSON object {...}, got a list"),
    ('"scenario"', "top level", "got 'scenario'"),
])
def test_what_python_json_would_accept_is_refused(text, path, words):
    refused(text, path, words)


def test_invalid_json_reports_line_and_column():
    refused('{"schema_version": 1,\n  "title": }', "",
            "invalid JSON at line 2, column 12: Expecting value")


def test_a_truncated_file_is_refused():
    text = PRESET.read_text(encoding="utf-8")
    for cut in (len(text) // 3, len(text) // 2, len(text) - 3):
        refused(text[:cut], "", "invalid JSON at line")


@pytest.mark.parametrize("text", ["", "  \n"])
def test_an_empty_file_is_refused(text):
    refused(text, "", "empty")


def test_deep_nesting_is_refused_not_a_crash():
    refused("[" * 100_000 + "]" * 100_000, "", "nested too deeply")
    refused('{"schema_version": 1, "title": ' + "[" * 50_000 + "]" * 50_000 + "}", "",
            "nested too deeply")


def test_an_integer_with_thousands_of_digits_is_refused():
    refused('{"schema_version": 1, "landscape": {"steps": ' + "9" * 5000 + "}}", "",
            "invalid JSON")


def test_text_over_the_size_limit_is_refused_before_parsing():
    refused(" " * (MAX_BYTES + 1), "", "larger than 1 MB")
    refused(b"{" * (MAX_BYTES + 1), "", "larger than 1 MB")


def test_text_that_is_not_utf8_is_refused():
    refused(b'{"schema_version": 1, "title": "caf\xe9"}', "", "not UTF-8", "0xe9", "offset 35")


# --------------------------------------------------------------------------------- files


def test_errors_from_a_file_name_it(tmp_path):
    path = tmp_path / "lesson.json"
    path.write_text(doc(landscape={"steps": -1}), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value).startswith("lesson.json: landscape.steps: must be in [1, 100000]")
    assert caught.value.source == "lesson.json" and caught.value.field == "landscape.steps"


def test_a_missing_file_a_folder_and_a_pipe_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load(tmp_path / "absent.json")
    with pytest.raises(ScenarioError, match="is a folder"):
        load(tmp_path)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        load(fifo)  # never opened: reading a pipe would block


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * (MAX_BYTES + 1))
    with pytest.raises(ScenarioError, match="larger than 1 MB"):
        load(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads any file; needs POSIX permissions")
def test_an_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "locked.json"
    path.write_text('{"schema_version": 1}', encoding="utf-8")
    path.chmod(0)
    try:
        with pytest.raises(ScenarioError, match="permission denied"):
            load(path)
    finally:
        path.chmod(0o600)
