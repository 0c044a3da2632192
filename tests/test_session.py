"""The Qt-free session model (gui/session.py): state, events, refusals that change nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.landscape import surfaces
from engine.landscape.race import Racer
from engine.params import HyperParamError
from gui.palette import RACER_COLORS, style_for
from gui.session import (
    Event,
    LandscapeModel,
    NothingToRace,
    StartRefused,
    TrainingModel,
)


def computed(model) -> int:
    """The step every racer is computed to (or stopped at)."""
    return min((t.stepper.step for t in model.race.tracks.values()), default=0)


class Recorder:
    """Every event a model emits, in order, with its arguments."""

    def __init__(self, model) -> None:
        self.seen: list[tuple] = []
        for name, event in vars(model.events).items():
            event.connect(lambda *args, name=name: self.seen.append((name, *args)))

    def names(self) -> list[str]:
        return [entry[0] for entry in self.seen]


@pytest.fixture
def model():
    return LandscapeModel(surfaces.get("ravine"), 300, ["sgd", "momentum", "adam"])


def test_the_module_imports_no_qt():
    code = ("import sys; import gui.session; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_event_calls_in_order_blocks_and_disconnects():
    event, calls = Event("x"), []
    first = event.connect(lambda v: calls.append(("a", v)))
    event.connect(lambda v: calls.append(("b", v)))
    event.emit(1)
    with event.blocked():
        event.emit(2)
    event.disconnect(first)
    event.disconnect(first)  # twice: no error
    event.emit(3)
    assert calls == [("a", 1), ("b", 1), ("b", 3)]


def test_racers_get_keys_and_the_styles_the_palette_gives(model):
    assert model.keys() == ["sgd-1", "momentum-2", "adam-3"]
    taken = []
    for key in model.keys():
        taken.append(style_for(model.racer(key).optimizer_id, taken))
        assert model.styles[key] == taken[-1]
    assert len({s.color for s in model.styles.values()}) == 3
    assert computed(model) == 0  # the model computes nothing: views do, in bounded slices


def test_a_removed_racers_colour_is_free_for_the_next(model):
    freed = model.styles["momentum-2"].color
    events = Recorder(model)
    model.remove_racer("momentum-2")
    assert "momentum-2" not in model.styles
    key = model.add_racer("momentum")
    assert key not in ("sgd-1", "adam-3", "momentum-2")  # keys are never reused
    assert model.styles[key].color == freed
    assert events.seen == [("racers", None), ("racers", key)]


def test_a_refused_setting_changes_nothing_and_announces_nothing(model):
    before = (model.racers(), dict(model.styles))
    events = Recorder(model)
    with pytest.raises(HyperParamError, match="learning_rate"):
        model.set_racer(Racer("adam-3", "adam", {"learning_rate": -1.0}))
    with pytest.raises(HyperParamError):
        model.set_racer(Racer("new-9", "adam", {"beta_1": 2.0}))  # a new key, refused
    with pytest.raises(HyperParamError):  # one bad racer among good ones: none changes
        model.set_racers([Racer("sgd-1", "sgd", {"learning_rate": 0.5}),
                          Racer("adam-3", "adam", {"epsilon": -1.0})])
    assert (model.racers(), dict(model.styles)) == before
    assert events.seen == []


def test_set_racers_changes_all_with_one_event(model):
    events = Recorder(model)
    model.set_racers([Racer("sgd-1", "sgd", {"learning_rate": 0.5}),
                      Racer("adam-3", "adam", {"learning_rate": 0.25})], select="sgd-1")
    assert model.racer("sgd-1").settings == {"learning_rate": 0.5}
    assert model.racer("adam-3").settings == {"learning_rate": 0.25}
    assert events.seen == [("racers", "sgd-1")]


def test_start_refusals_name_why_and_leave_the_start(model):
    log = LandscapeModel(surfaces.from_expression("log(x) + y**2"), 100, ["sgd"])
    before = log.start
    events = Recorder(log)
    with pytest.raises(StartRefused, match="log"):
        log.set_start(-1.0, 0.0)
    with pytest.raises(StartRefused, match="finite"):
        log.set_start(float("nan"), 0.0)
    assert log.start == before and events.seen == []
    model.set_start(0.5, -0.5)
    assert model.start == (0.5, -0.5)
    assert model.racers()[0].start is None
    assert model.race.tracks["sgd-1"].points(0)[0].tolist() == [0.5, -0.5]


def test_a_surface_defined_nowhere_is_refused_and_an_undefined_start_moves(model):
    before = model.surface
    with pytest.raises(NothingToRace, match="nothing to race on"):
        model.set_surface(surfaces.from_expression("log(-x**2 - y**2 - 1)"))
    assert model.surface is before
    model.seek(40)
    events = Recorder(model)
    surface = surfaces.from_expression("sqrt(x) + y**2")
    note = model.set_surface(surface)
    assert surface.start == (-2.0, 2.0)  # its own start is undefined: moved, and said
    assert "sqrt" in note and "instead" in note
    assert model.start[0] >= 0 and abs(model.start[1] - 2.0) < 0.1
    assert model.surface is surface and model.step == 0
    assert events.names() == ["surface"]


def test_seek_and_budget_keep_the_step_within_the_race(model):
    events = Recorder(model)
    model.seek(10_000)
    assert model.step == 300
    model.seek(-5)
    assert model.step == 0
    model.seek(250)
    model.set_budget(100)
    assert model.step == 100 and model.budget == 100
    assert events.names() == ["step", "step", "step", "budget"]


def test_replace_is_all_or_nothing(model):
    before = (model.surface, model.start, model.budget, model.racers(), dict(model.styles))
    events = Recorder(model)
    beale = surfaces.get("beale")
    with pytest.raises(HyperParamError):
        model.replace(beale, (1.0, 1.0), 50, [Racer("a", "adam"),
                                              Racer("b", "sgd", {"learning_rate": -1.0})])
    assert (model.surface, model.start, model.budget, model.racers(),
            dict(model.styles)) == before
    assert events.seen == []
    model.seek(30)
    model.replace(beale, (1.0, 1.0), 50, [Racer("x", "adam", {"learning_rate": 0.1}),
                                          Racer("y", "adam")], {"kind": "final_loss"})
    assert model.keys() == ["adam-1", "adam-2"]
    assert model.racer("adam-1").settings == {"learning_rate": 0.1}
    assert model.styles["adam-1"].color != model.styles["adam-2"].color
    assert (model.step, model.budget, model.start) == (0, 50, (1.0, 1.0))
    assert model.capture() == {
        "surface_id": "beale", "surface_params": {}, "start": (1.0, 1.0), "steps": 50,
        "racers": tuple(model.racers()), "measure": {"kind": "final_loss"}}
    assert events.names()[-1] == "scenario"


def test_minimum_at_names_a_minimum_only_within_the_convergence_distance():
    model = LandscapeModel(surfaces.get("rosenbrock"), 10, [])
    assert model.minimum_at((1.0, 1.0)) == "global (1, 1)"
    assert model.minimum_at((1.5, 1.0)) is None
    assert model.distances([[1.0, 1.0], [1.0, 2.0]]).tolist() == [0.0, 1.0]


def test_a_minimum_among_several_is_named_with_its_number():
    """The four-minima headline says "SGD → #4": the table's Minimum column and the map
    number the minima the same way (found by a fresh-eyes review)."""
    surface = surfaces.get("himmelblau")
    model = LandscapeModel(surface, 10, [])
    for number, minimum in enumerate(surface.minima, 1):
        assert model.minimum_at(minimum.point).startswith(f"#{number} {minimum.kind} (")


def test_training_model_keys_styles_and_refusals():
    training = TrainingModel(["sgd", "rmsprop", "adam"])
    assert training.keys() == ["sgd-1", "rmsprop-2", "adam-3"]
    events = Recorder(training)
    training.remove_racer("rmsprop-2")
    key = training.add_racer("adagrad")
    assert key == "adagrad-4"
    assert len(set(s.color for s in training.styles.values())) == 3
    assert set(training.styles) == set(training.keys())
    training.set_racer(Racer("sgd-1", "sgd", {"learning_rate": 0.1}))
    with pytest.raises(KeyError):
        training.set_racer(Racer("nope-1", "sgd"))
    before = training.racers()
    with pytest.raises(HyperParamError):
        training.replace([Racer("a", "adam"), Racer("b", "sgd", {"momentum": 2.0})])
    assert training.racers() == before
    training.replace([Racer("a", "adam"), Racer("b", "adam")], {"kind": "final_accuracy"})
    assert training.keys() == ["adam-5", "adam-6"]
    assert training.styles["adam-5"].color == RACER_COLORS[training_index("adam")]
    assert events.names() == ["racers"] * 4


def training_index(optimizer_id: str) -> int:
    from gui.palette import PREFERRED_COLOR

    return PREFERRED_COLOR.get(optimizer_id, 0)
