"""Drawing a trail stays bounded whatever the step budget (gui/landscape/trail_thinning.py).

A noisy 100,000-step trail that crosses the map each step held the GUI thread for minutes in
Qt's stroker (bench/gui_limits.py, "noise 100"); SGD's jitter around its minimum would have
filled any budget meant for chaos and cut away the descent students came to see.
"""

from __future__ import annotations

import numpy as np
import pytest

from gui.landscape.trail_thinning import TRAILS_DRAW_PX, Thinned, runs, share, to_draw

SCALE, OFFSET = np.array([100.0, -100.0]), np.array([400.0, 300.0])  # 100 px per unit, y up


def _screen_length(points, index, connect) -> float:
    device = points[index] * SCALE + OFFSET
    joined = np.flatnonzero(connect[:-1])
    return float(np.hypot(*(device[joined + 1] - device[joined]).T).sum())


def _jitter_after_descent(rng, steps=100_000, spread=0.004):
    descent = np.linspace([-3.0, 2.0], [0.0, 0.0], 300)
    # Around a minimum on a cell's edge (y = 0 is pixel 300, and cells are 3 px), crossing it
    # at nearly every step: thinning by "same cell as the step before" keeps half the steps.
    jitter = rng.normal(0.0, spread, (steps - len(descent), 2))
    return np.vstack([descent, jitter])


# Jitter within a pixel, and SGD's noise: 5 px at each step (its segments all but one over
# the outline's width), which with a budget alone cut away the descent.
@pytest.mark.parametrize("spread", [0.004, 0.05])
def test_a_trail_jittering_at_its_minimum_keeps_its_whole_descent_in_a_few_segments(spread):
    rng = np.random.default_rng(1)
    points = _jitter_after_descent(rng, spread=spread)
    thinned = Thinned()
    thinned.update(points, SCALE, OFFSET)
    index, connect, first = to_draw(thinned.drawn, thinned.lengths,
                                    share([thinned.drawn_length()]))
    assert first == 0  # drawn whole: the descent is on screen
    assert index[0] == 0 and index[-1] == len(points) - 1
    assert np.all(np.isin(np.arange(300), index))  # every step of the descent
    assert len(index) < 2_000  # of 100,000 points
    # Nothing of the jitter is lost: every cell it visits is still drawn through.
    cells = {tuple(c) for c in np.floor((points * SCALE + OFFSET) / 3.0).astype(int)}
    drawn = {tuple(c) for c in np.floor((points[index] * SCALE + OFFSET) / 3.0).astype(int)}
    assert drawn == cells


def test_a_chaotic_trail_is_drawn_from_a_later_step_within_the_budget():
    rng = np.random.default_rng(2)
    points = rng.uniform(-4.0, 4.0, (100_000, 2))  # noise 100: across the map at every step
    thinned = Thinned()
    thinned.update(points, SCALE, OFFSET)
    most = share([thinned.drawn_length()])
    assert most == TRAILS_DRAW_PX
    index, connect, first = to_draw(thinned.drawn, thinned.lengths, most)
    assert 90_000 < first < len(points) - 1 and index[0] == first
    assert index[-1] == len(points) - 1  # it still reaches the racer's marker
    assert _screen_length(points, index, connect) <= TRAILS_DRAW_PX


def test_growing_a_trail_step_by_step_decides_as_drawing_it_at_once():
    rng = np.random.default_rng(3)
    points = np.vstack([_jitter_after_descent(rng, 4_000), rng.uniform(-1, 1, (500, 2))])
    whole = Thinned()
    whole.update(points, SCALE, OFFSET)
    grown = Thinned()
    for end in (1, 2, 7, 300, 301, 2_000, 4_000, 4_001, 4_500):
        grown.update(points[:end], SCALE, OFFSET)
    np.testing.assert_array_equal(grown.drawn, whole.drawn)
    np.testing.assert_allclose(grown.lengths, whole.lengths)
    # Another zoom, or another trail with the same length, starts over.
    grown.update(points, SCALE * 2, OFFSET)
    assert grown.drawn_length() > whole.drawn_length()
    other = points.copy()
    other[10] += 1.0
    grown.update(other, SCALE, OFFSET)
    fresh = Thinned()
    fresh.update(other, SCALE, OFFSET)
    np.testing.assert_array_equal(grown.drawn, fresh.drawn)


def test_runs_stroke_every_joined_segment_once_and_keep_their_bounds_as_the_trail_grows():
    # Qt fills a stroked path as one polygon, superlinearly: 170 crossing segments took 247 ms
    # as one path and 18 ms one by one. Runs that stay put as a trail grows can be cached.
    rng = np.random.default_rng(5)
    points = np.vstack([_jitter_after_descent(rng, 3_000), rng.uniform(-4, 4, (300, 2))])
    thinned = Thinned()
    thinned.update(points, SCALE, OFFSET)
    index, connect, _ = to_draw(thinned.drawn, thinned.lengths)
    first, last, along = runs(index, connect, thinned.lengths)
    covered = np.zeros(len(index) - 1, dtype=int)
    for a, b in zip(first, last, strict=True):
        covered[a:b] += 1
    np.testing.assert_array_equal(covered[connect[:-1]], 1)  # each joined segment, once
    # One run per 64 points or 150 px: the 300 jumps across the map are one run each.
    drawn_px = thinned.lengths[index[:-1]][connect[:-1]].sum()
    assert len(first) <= len(index) / 64 + drawn_px / 150 + 1
    assert along[0] == 0 and np.all(np.diff(along) >= 0)
    longer = Thinned()
    longer.update(np.vstack([points, rng.uniform(-4, 4, (50, 2))]), SCALE, OFFSET)
    more = runs(*to_draw(longer.drawn, longer.lengths)[:2], longer.lengths)
    np.testing.assert_array_equal(more[0][:len(first) - 1], first[:-1])
    np.testing.assert_array_equal(more[1][:len(first) - 1], last[:-1])


@pytest.mark.parametrize(("lengths", "expected"), [
    ([100.0, 200.0], float("inf")),  # all fit: drawn whole
    ([10_000.0, 90_000.0], 50_000.0),  # the short one gives the long one its unused share
    ([1e6, 1e6, 1e6], 20_000.0),
])
def test_trails_under_an_equal_share_give_the_rest_to_the_longer_ones(lengths, expected):
    most = share(lengths)
    assert most == expected
    assert sum(min(length, most) for length in lengths) <= TRAILS_DRAW_PX


def test_the_map_names_a_trail_drawn_from_a_later_step(qtbot):
    from engine.landscape import surfaces
    from gui.landscape.surface_view import SurfaceView, TrailData
    from gui.palette import RacerStyle

    view = SurfaceView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.set_surface(surfaces.get("himmelblau"))
    qtbot.waitExposed(view)
    rng = np.random.default_rng(4)
    calm = TrailData("a", np.linspace([-4.0, -4.0], [3.0, 2.0], 50), RacerStyle("#1f77b4", "o"),
                     "converged", label="Adam")
    wild = TrailData("b", rng.uniform(-5.0, 5.0, (100_000, 2)), RacerStyle("#d62728", "star", 2),
                     "running", label="SGD · noise 100")
    view.set_trails([calm, wild])
    assert [(c.index, c.steps) for c in view.trails.cuts] == [(1, 99_999)]
    text = view.cut_label.textItem.toPlainText()
    assert view.cut_label.isVisible()
    # Named as the table names it, with the step as the table writes numbers.
    assert text == (f"SGD · noise 100: trail from step {view.trails.cuts[0].first} "
                    f"(too long to draw whole)")
    # The tab draws a selection of a long path's steps: the label names real step numbers.
    every_third = TrailData("b", wild.points, wild.style, "running",
                            steps=np.arange(0, 300_000, 3), label="SGD · noise 100")
    view.set_trails([calm, every_third])
    (cut,) = view.trails.cuts
    assert cut.steps == 299_997 and cut.first % 3 == 0 and cut.first > 3 * 90_000
    assert f"trail from step {cut.first} " in view.cut_label.textItem.toPlainText()
    view.set_trails([calm])
    assert not view.trails.cuts and not view.cut_label.isVisible()
