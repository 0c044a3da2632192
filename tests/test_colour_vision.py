"""Every racer is told apart by colour for everyone, and by shape and dash as well.

Thresholds (CIEDE2000): any two racer colours at least 10 apart (the palette's worst pair,
orange and reddish purple under tritanopia, is 10.9; 2.3 is a just-noticeable difference);
the lesson's four default racers at least 12; every racer colour at least 15 from the light
and the dark plot backgrounds, for normal vision and simulated protanopia, deuteranopia and
tritanopia (Machado et al. 2009, severity 1).
"""

from __future__ import annotations

import itertools

import pytest

from gui.palette import (
    DARK,
    DASHES,
    LIGHT,
    MARKERS,
    RACER_COLORS,
    style_for,
    styles_for,
)
from tests.colour_vision import VISIONS, delta_e_2000, difference

PAIR_THRESHOLD, DEFAULT_THRESHOLD, BACKGROUND_THRESHOLD = 10.0, 12.0, 15.0
DEFAULT_RACE = ("sgd", "momentum", "rmsprop", "adam")


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [  # Sharma, Wu & Dalal, table 1
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.694), (23.0331, 14.973, -42.5619), 2.0373),
])
def test_the_colour_difference_is_ciede2000(lab1, lab2, expected):
    assert delta_e_2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("vision", VISIONS)
def test_any_two_racer_colours_stay_apart(vision):
    worst = min((difference(a, b, vision), a, b)
                for a, b in itertools.combinations(RACER_COLORS, 2))
    assert worst[0] >= PAIR_THRESHOLD, worst  # so any six of them are apart as well


@pytest.mark.parametrize("vision", VISIONS)
def test_the_default_racers_stay_well_apart(vision):
    colors = [s.color for s in styles_for(DEFAULT_RACE)]
    assert len(set(colors)) == 4
    for a, b in itertools.combinations(colors, 2):
        assert difference(a, b, vision) >= DEFAULT_THRESHOLD, (a, b)


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_racer_colours_stand_out_on_both_backgrounds(vision, theme):
    for color in RACER_COLORS:
        assert difference(color, theme.background, vision) >= BACKGROUND_THRESHOLD, color


def test_all_twelve_optimizers_have_their_own_marker_shape():
    from engine import optimizers

    assert set(MARKERS) == set(optimizers.ids())
    assert len(set(MARKERS.values())) == len(MARKERS) == 12
    assert "x" not in MARKERS.values()  # ✕ says "diverged"


def test_racers_of_one_race_never_share_colour_and_dash():
    race = ["adam"] * 10 + ["sgd", "momentum", "rmsprop"] * 3
    styles = styles_for(race)
    assert len({(s.color, s.dash) for s in styles}) == len(race)
    assert styles_for(DEFAULT_RACE) == [style_for(o) for o in DEFAULT_RACE]  # preferred ones
    assert {s.dash for s in styles_for(["sgd", "momentum", "rmsprop", "adam", "nadam",
                                        "adagrad", "adadelta", "adamax"])} == {DASHES[0]}


def test_racers_of_one_optimizer_differ_by_dash_as_well_as_colour():
    """Racers of one optimizer share its marker: three SGD circles on one map (a preset
    comparing learning rates) were told apart by colour alone. Each gets its own dash, and
    its own colour while there are free ones."""
    styles = styles_for(["sgd", "sgd", "sgd", "adam", "sgd"])
    sgd = [s for s in styles if s.marker == styles[0].marker]
    assert [s.dash for s in sgd] == list(DASHES[:4])
    assert len({s.color for s in styles}) == 5
    assert styles[3].dash == DASHES[0]  # another optimizer keeps its solid line
    many = styles_for(["adam"] * 7)
    assert [s.dash for s in many] == [*DASHES, DASHES[0], DASHES[1]]  # dashes run out
    assert len({(s.color, s.dash) for s in many}) == 7


def test_a_racer_keeps_its_style_when_another_leaves():
    styles = dict(zip("abcd", styles_for(DEFAULT_RACE), strict=True))
    del styles["b"]
    newcomer = style_for("momentum", styles.values())
    assert newcomer == styles_for(DEFAULT_RACE)[1]  # the freed colour comes back
    assert [styles[k] for k in "acd"] == [styles_for(DEFAULT_RACE)[i] for i in (0, 2, 3)]
