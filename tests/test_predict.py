"""Predict, then reveal (engine.landscape.predict): choices, judging and the tally, without Qt."""

from __future__ import annotations

import pytest

from engine.files import presets
from engine.landscape import surfaces
from engine.landscape.predict import (
    FIRST,
    NOBODY,
    OFF,
    PREDICT,
    RACING,
    REVEALED,
    WHERE,
    ClassSession,
)
from engine.landscape.race import Race, Racer


def _preset_race(name):
    scenario = presets.load_preset(name)
    race = scenario.race()
    labels = [(k, t.racer.label()) for k, t in race.tracks.items()]
    return race, labels, scenario.title


def test_choices_cycle_through_the_racers_and_none_of_them():
    session = ClassSession()
    assert session.stage == OFF and session.chosen() is None
    session.start([("a", "SGD"), ("b", "Adam")], "t")
    assert session.stage == PREDICT and session.chosen() == "a"
    session.next_option()
    assert session.chosen() == "b"
    session.next_option()
    assert session.chosen() == NOBODY and session.prediction_text() == "none of them converges first"
    session.next_option()
    assert session.chosen() == "a"
    session.previous_option()
    assert session.chosen() == NOBODY


def test_the_ravine_preset_judges_momentum_first_right_and_sgd_wrong():
    race, labels, title = _preset_race("01-ravine-momentum")
    session = ClassSession()
    session.start(labels, title)
    keys = [k for k, _ in labels]
    momentum = next(k for k in keys if k.startswith("momentum"))
    while session.chosen() != momentum:
        session.next_option()
    assert session.reveal() and session.stage == RACING
    judged = session.judge(race)
    assert session.stage == REVEALED and judged.right == 1 and judged.asked == 1
    step = race.tracks[momentum].outcome()[1]
    assert judged.result == f"{dict(labels)[momentum]} converged at step {step}, first"
    assert all(t.outcome()[1] > step for k, t in race.tracks.items() if k != momentum)
    session.end_round()
    assert session.stage == PREDICT  # the next round: same racers, a new prediction
    sgd = next(k for k in keys if k.startswith("sgd"))
    while session.chosen() != sgd:
        session.next_option()
    session.reveal()
    assert session.judge(race).right == 0
    assert session.tally() == (1, 2)
    assert session.tally_text() == "Session: 1 of 2 predictions right over 2 rounds"


def test_none_of_them_is_right_when_nobody_converges():
    surface = surfaces.get("rosenbrock")
    race = Race(surface, surface.start, budget=50)
    race.set_racer(Racer("s", "sgd", {"learning_rate": 1e-5}))
    session = ClassSession()
    session.start([("s", "SGD")])
    session.next_option()
    assert session.chosen() == NOBODY
    session.reveal()
    judged = session.judge(race)
    assert judged.right == 1 and judged.result == "none of them converged in 50 steps"


def test_where_predictions_are_judged_by_distance_to_each_end():
    race, labels, title = _preset_race("07-four-minima")
    session = ClassSession()
    session.start(labels, title)
    session.set_kind(WHERE)
    assert not session.can_reveal()  # nothing placed yet
    race.ensure(race.budget)
    first, second = labels[0][0], labels[1][0]
    end = race.tracks[first].points(race.budget)[-1]
    session.place((end[0] + 0.1, end[1]))  # close: right
    assert session.chosen() == second  # the next click is for the next racer
    session.place((end[0] + 100.0, end[1]))  # far: wrong
    assert session.ends.keys() == {first, second}
    assert session.reveal()
    judged = session.judge(race)
    assert (judged.right, judged.asked) == (1, 2)
    assert judged.lines[0].startswith(labels[0][1] + ": ✓")
    assert "✗" in judged.lines[1] and "converged at step" in judged.lines[1]
    assert [hit for _, _, hit in judged.misses] == [True, False]
    assert judged.misses[0][1] == pytest.approx(0.1) and judged.predicted == "where 2 racers end"


def test_nothing_is_recorded_outside_the_prediction_stage():
    session = ClassSession()
    session.place((1.0, 2.0))
    session.next_option()
    assert not session.reveal() and session.ends == {} and session.choice == 0
    session.start([("a", "A")])
    session.set_kind(WHERE)
    session.place((float("nan"), 0.0))
    assert session.ends == {}
    with pytest.raises(ValueError, match="question"):
        session.set_kind("why")
    session.set_kind(FIRST)
    session.stop()
    assert session.stage == OFF and not session.can_reveal()


@pytest.mark.parametrize("name", [p.stem for p in presets.preset_paths()
                                  if "mnist" not in p.stem])
def test_every_landscape_preset_can_be_predicted_and_judged(name):
    race, labels, title = _preset_race(name)
    session = ClassSession()
    session.start(labels, title)
    session.reveal()
    judged = session.judge(race)
    assert judged.asked == 1 and judged.result and judged.title == title
