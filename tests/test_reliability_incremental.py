"""What one control changes, the GUI thread redoes; nothing more (issue 16, point 4).

``bench/gui_limits.py`` found each action with 20 racers costing 50-200 ms of the GUI thread,
most of it rebuilding what had not changed: every row of the racer list with its icon, the
editor form, every legend entry (each new widget relaid the side plots out again), the
lesson's text, and a 128-step lookahead that a paused screen does not show. These tests check
the structure (what is made again, what is computed), never the clock.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _panel_widgets(panel):
    items = [panel.list.item(i) for i in range(panel.list.count())]
    return items, dict(panel._editors)


def test_adding_a_racer_keeps_the_other_racers_rows_and_the_form(tab):
    panel = tab.racer_panel
    panel.select(tab.model.first_key("adam"))
    items, editors = _panel_widgets(panel)
    icons = [item.icon().cacheKey() for item in items]
    panel.add("adam")  # the new Adam is selected: the Adam form shows its values
    assert panel.list.count() == len(items) + 1
    for row, item in enumerate(items):  # the same rows, not new ones with the same words
        assert panel.list.item(row) is item
        assert item.icon().cacheKey() == icons[row]  # its icon was not drawn again
    new_key = list(tab.race.tracks)[-1]
    assert panel.current_key() == new_key
    assert panel._form_racer is tab.model.racer(new_key)
    assert panel._editors == editors  # the same boxes, not a new form
    assert all(panel._editors[name] is editor for name, editor in editors.items())


def test_a_reused_form_shows_what_a_new_one_would(tab):
    panel = tab.racer_panel
    first = tab.model.first_key("adam")
    panel.select(first)
    panel._editors["learning_rate"].setValue(0.25)
    panel._editors["amsgrad"].setChecked(True)
    panel.schedule.combo.setCurrentIndex(panel.schedule.combo.findData("cosine_decay"))
    edited = tab.model.racer(first)
    assert edited.schedule is not None and edited.settings["amsgrad"] is True
    editors = dict(panel._editors)
    panel.add("adam")  # Keras's defaults, no schedule
    assert panel._editors["learning_rate"] is editors["learning_rate"]
    assert panel._editors["learning_rate"].value() == 0.001
    assert panel._editors["learning_rate"].isEnabled()  # no schedule replaces it
    assert "Replaced" not in panel._editors["learning_rate"].toolTip()
    assert panel._editors["amsgrad"].isChecked() is False
    assert tab.model.racer(first) == edited  # showing another racer changed nothing
    panel.select(first)  # and back: the edited values, the rate replaced by the schedule
    assert panel._editors["learning_rate"].value() == 0.25
    assert panel._editors["amsgrad"].isChecked() is True
    assert not panel._editors["learning_rate"].isEnabled()
    assert tab.model.racer(first) == edited


def test_the_rows_follow_a_removed_racer(tab):
    panel = tab.racer_panel
    keys = list(tab.race.tracks)
    panel.select(keys[0])
    tab.model.remove_racer(keys[0])
    rows = range(panel.list.count())
    assert [panel.list.item(i).data(Qt.ItemDataRole.UserRole) for i in rows] == keys[1:]
    assert [panel.list.item(i).text() for i in rows] == [tab.labels[k] for k in keys[1:]]
    assert panel.current_key() == keys[1]
    assert panel._form_racer is tab.model.racer(keys[1])  # its form, not the removed one's
    assert "momentum" in panel._editors  # Momentum's boxes, not SGD's


def test_the_selection_is_still_announced_as_before(tab):
    panel = tab.racer_panel
    keys = list(tab.race.tracks)
    seen = []
    panel.selection_changed.connect(seen.append)
    panel.select(keys[1])
    assert seen == [keys[1]]
    seen.clear()
    panel.add("sgd")  # the list says its selection, then the new racer is selected
    assert seen == [keys[1], list(tab.race.tracks)[-1]]


def test_a_changed_label_keeps_the_legend_entries(tab):
    legend = tab.side_plots.legend
    entries = list(legend._widgets)
    assert len(entries) == len(tab.race.tracks)
    key = next(iter(tab.race.tracks))
    tab.racer_panel.select(key)
    tab.racer_panel.noise_scale.setValue(3.0)  # the label gains "noise 3"
    tab.flush_side_plots()  # set in the next turn of the event loop
    assert any("noise 3" in label for _, label, _ in legend.entries())
    assert legend._widgets == entries  # the same widgets, their text changed in place
    assert "noise 3" in entries[0][2].text()
    tab.racer_panel.add("adam")
    tab.flush_side_plots()
    assert legend._widgets[:len(entries)] == entries
    assert len(legend._widgets) == len(entries) + 1


def test_a_racer_edited_in_the_panel_is_named_the_same_in_its_list_row_and_the_legend(tab):
    """The panel's own edit keeps its form as the user left it, but its list row must say
    the new label too ("Adam #7" stayed while the legend said "Adam · noise 3")."""
    panel = tab.racer_panel
    key = next(iter(tab.race.tracks))
    panel.select(key)
    form = panel.noise_scale
    form.setValue(3.0)
    label = tab.labels[key]
    assert "noise 3" in label
    row = next(panel.list.item(i) for i in range(panel.list.count())
               if panel.list.item(i).data(Qt.ItemDataRole.UserRole) == key)
    assert row.text() == label and row.toolTip().startswith(label)
    tab.flush_side_plots()
    assert any(text == label for _, text, _ in tab.side_plots.legend.entries())
    assert panel.noise_scale is form and panel.current_key() == key  # the form stayed


def test_the_lesson_text_is_not_set_again_unchanged(tab, monkeypatch):
    from gui.landscape.lesson_panel import LessonPanel

    set_again = []
    set_html = LessonPanel.setHtml

    def counted(self, html):
        set_again.append(html)
        set_html(self, html)

    monkeypatch.setattr(LessonPanel, "setHtml", counted)
    key = tab.model.first_key("adam")
    tab.racer_panel.select(key)
    set_again.clear()
    tab.racer_panel.add("adam")  # a new Adam with Keras's defaults: the same text
    assert set_again == []
    assert tab.race.tracks[key].stepper.optimizer.spec.name in tab.lesson.toPlainText()


def test_a_paused_redraw_computes_to_the_step_shown_not_ahead(tab):
    tab.set_playing(False)
    key = tab.model.add_racer("adam")
    # What the screen shows at step 0 needs no step computed; the idle slices compute the
    # rest, and playback asks for its own lookahead.
    assert tab.race.tracks[key].stepper.step == 0


def test_presentation_mode_repaints_in_new_colours_only_when_the_theme_changes(
        quiet_window, monkeypatch):
    from gui.palette import DARK, LIGHT

    themed = []
    set_theme = type(quiet_window.landscape).set_theme
    monkeypatch.setattr(type(quiet_window.landscape), "set_theme",
                        lambda tab, theme: themed.append(theme) or set_theme(tab, theme))
    quiet_window.set_theme(LIGHT)
    themed.clear()
    quiet_window.set_presentation(True)  # light already: nothing to repaint in new colours
    quiet_window.set_presentation(False)
    assert themed == []
    assert quiet_window.theme is LIGHT
    quiet_window.set_theme(DARK)
    themed.clear()
    quiet_window.set_presentation(True)  # projectors get the light theme, and dark back after
    assert themed == [LIGHT] and quiet_window.theme is LIGHT
    quiet_window.set_presentation(False)
    assert themed == [LIGHT, DARK] and quiet_window.theme is DARK


def test_the_end_marks_are_set_again_only_when_they_change(tab, monkeypatch):
    import pyqtgraph as pg

    set_ends = []
    set_data = pg.ScatterPlotItem.setData
    monkeypatch.setattr(pg.ScatterPlotItem, "setData",
                        lambda item, *a, **k: set_ends.append(item) or set_data(item, *a, **k))
    tab.seek(40)
    tab.flush_side_plots()
    ends = set(tab.side_plots.ends.values())
    set_ends.clear()
    tab._render(full=True)  # a paused redraw: every mark where it was
    tab.flush_side_plots()
    assert not ends & set(set_ends)
    tab.seek(41)  # one step on: each end mark moves, and is set again
    tab.flush_side_plots()
    assert ends <= set(set_ends)
    spots = tab.side_plots.ends["loss"].data
    assert len(spots) == len(tab.race.tracks)
    assert {int(x) for x in spots["x"]} == {41}


def test_the_map_keeps_its_place_from_surface_to_surface(tab, qtbot):
    # Tick text as wide as each surface's numbers resized the map on every choice: it moved
    # left and right under the students' eyes, and was painted twice.
    from PySide6.QtWidgets import QApplication

    tab.resize(1280, 720)
    box = tab.view.getPlotItem().getViewBox()

    def settled_geometry():
        for _ in range(5):
            QApplication.processEvents()
        return box.sceneBoundingRect().getRect()

    combo = tab.surface_combo
    for surface_id in ("rosenbrock", "booth", "goldstein_price", "beale"):  # widest ticks
        combo.setCurrentIndex(combo.findData(surface_id))
        settled_geometry()
    placed = settled_geometry()
    for surface_id in ("rosenbrock", "booth", "rastrigin", "bowl", "ravine", "goldstein_price"):
        combo.setCurrentIndex(combo.findData(surface_id))
        assert settled_geometry() == placed, surface_id
    tab.view.set_line_scale(2.0, 16)  # presentation mode: bigger text, wider tick text
    big = settled_geometry()
    tab.view.set_line_scale(1.0, None)  # back at the desk the text space is measured afresh,
    desk = settled_geometry()           # not kept at the projector's width
    assert big[2] < desk[2] and abs(desk[2] - placed[2]) < 20


def test_the_table_fits_its_new_rows_before_the_race_is_painted(tab, qtbot):
    # Fitted in the next turn, the table, the race and the plots were painted at the old
    # sizes and then again at the new ones (two full paints per preset).
    from PySide6.QtWidgets import QApplication

    tab.resize(1280, 720)
    for _ in range(5):
        QApplication.processEvents()
    before, race_height = tab.middle.sizes()[1], tab.views.height()
    for _ in range(3):
        tab.model.add_racer("adam")  # no event loop turn in between
    row = tab.table.verticalHeader().defaultSectionSize()
    assert tab.middle.sizes()[1] == before + 3 * row
    assert tab.views.height() == race_height - 3 * row  # and the race laid out already


def test_a_redraw_sums_up_only_the_paths_that_changed(tab, monkeypatch):
    # Which points of a long path to draw, and their distances to the minima, were worked
    # out again for every racer on every redraw: a third of a redraw at step 100,000.
    from gui.landscape import tab as tab_module

    summed = []
    drawn_index = tab_module.drawn_index
    monkeypatch.setattr(tab_module, "drawn_index",
                        lambda points, domain, *moved: summed.append(len(points))
                        or drawn_index(points, domain, *moved))
    tab.race.ensure(64)  # every path past step 51: no slice left to compute in a redraw
    tab.seek(50)
    summed.clear()
    tab._render(full=True)  # nothing changed
    assert summed == []
    key = list(tab.race.tracks)[1]
    tab.racer_panel.select(key)
    tab.racer_panel._editors["learning_rate"].setValue(0.02)  # one racer's path is new
    assert len(summed) == 1
    summed.clear()
    tab.seek(51)  # every path one row longer
    assert len(summed) == len(tab.race.tracks)
    for key, track in tab.race.tracks.items():  # what is kept is what a fresh summary gives
        points = track.points(51)
        np.testing.assert_array_equal(tab._summaries[key][3],
                                      drawn_index(points, tab.race.surface.domain))
        np.testing.assert_array_equal(tab._summaries[key][4], tab.model.distances(points))


def test_the_side_plots_make_no_step_axis_per_curve(monkeypatch):
    # 20 racers at step 100,000 made 40 arrays of step numbers per redraw, and the y range
    # took the log of every value shown: both grew with the step budget.
    from gui.landscape import side_plots
    from gui.landscape.side_plots import Series, SidePlots
    from gui.palette import style_for

    plots = SidePlots()
    steps = np.arange(5000)
    series = [Series(f"r{n}", f"R{n}", style_for(n), np.exp(-steps / (100 + n)) + 1e-3,
                     np.exp(-steps / 50) + 1e-6, np.exp(-steps / 70) + 1e-4, "moving", None)
              for n in range(20)]
    plots.set_series(series)
    made = []
    arange = np.arange
    monkeypatch.setattr(side_plots.np, "arange",
                        lambda *a, **k: made.append(a) or arange(*a, **k))
    plots.set_series(series)
    plots.set_series([Series(**{**vars(s), "loss": s.loss[:4000]}) for s in series])
    assert made == []
    curve = plots.curves("r3")["loss"]
    np.testing.assert_array_equal(curve.xData, np.arange(4000))
    np.testing.assert_array_equal(curve.yData, series[3].loss[:4000])
    low, high = plots.plots["loss"].getViewBox().viewRange()[1]
    values = np.log10(np.concatenate([s.loss[:4000] for s in series]))
    pad = 0.05 * (values.max() - values.min())
    assert low == pytest.approx(values.min() - pad) and high == pytest.approx(values.max() + pad)
    plots.deleteLater()


def test_a_curve_whose_revision_is_the_same_is_kept_without_reading_it(qtbot):
    # Two sums over every value told a kept curve from a changed one: with 20 racers at step
    # 100,000 each redraw read 60 curves of 100,000 values (half of a paused redraw).
    from gui.landscape.side_plots import Series, SidePlots
    from gui.palette import style_for

    plots = SidePlots()
    qtbot.addWidget(plots)
    steps = np.arange(3000)
    kept = Series("a", "A", style_for(0), np.exp(-steps / 100) + 1e-3, np.exp(-steps / 50) + 1e-6,
                  None, "moving", None, revision=("stepper a", 3000))
    plots.set_series([kept])
    # The same revision: taken as the same values, which are not read (here they differ).
    plots.set_series([Series(**{**vars(kept), "loss": np.full(3000, 7.0)})])
    np.testing.assert_array_equal(plots.curves("a")["loss"].yData, kept.loss)
    assert plots.plots["loss"].getViewBox().viewRange()[1][0] < np.log10(kept.loss.min())
    # Another revision: read and shown, the y range and the end mark with it.
    plots.set_series([Series(**{**vars(kept), "loss": np.full(3000, 7.0),
                                "revision": ("stepper b", 3000)})])
    np.testing.assert_array_equal(plots.curves("a")["loss"].yData, 7.0)
    low, high = plots.plots["loss"].getViewBox().viewRange()[1]
    assert low < np.log10(7.0) < high
    assert plots.ends["loss"].data["y"][0] == pytest.approx(np.log10(7.0))


def test_a_redraw_reads_the_curves_of_the_racers_that_changed_only(tab, monkeypatch):
    from gui.landscape.side_plots import SidePlots
    from gui.widgets.log_axis import LOG_FLOOR

    read = []
    show_values = SidePlots._show_values
    monkeypatch.setattr(SidePlots, "_show_values",
                        lambda plots, entry, *a: read.append(entry.key)
                        or show_values(plots, entry, *a))
    tab.race.ensure(64)
    tab.seek(50)
    tab.flush_side_plots()
    read.clear()
    tab._render(full=True)  # nothing changed
    tab.flush_side_plots()
    assert read == []
    key = list(tab.race.tracks)[1]
    tab.racer_panel.select(key)
    tab.racer_panel._editors["learning_rate"].setValue(0.02)  # one racer's path is new
    tab.flush_side_plots()
    assert read == [key]
    read.clear()
    tab.seek(51)  # every path one row longer
    tab.flush_side_plots()
    assert sorted(read) == sorted(tab.race.tracks)
    offset = min(m.value for m in tab.race.surface.minima)
    for key, track in tab.race.tracks.items():  # what is shown is each racer's path to 51
        np.testing.assert_array_equal(tab.side_plots.curves(key)["loss"].yData,
                                      np.maximum(track.losses(51) - offset, LOG_FLOOR))


def _trails_drawn(tab, monkeypatch) -> list[dict[str, int]]:
    """Each time the 2-D view's trails are set: per racer, the last step drawn."""
    drawn: list[dict[str, int]] = []
    view_class = type(tab.view)
    set_trails = view_class.set_trails
    monkeypatch.setattr(view_class, "set_trails",
                        lambda view, trails: drawn.append({t.key: int(t.steps[-1])
                                                           for t in trails})
                        or set_trails(view, trails))
    return drawn


def test_the_2d_view_is_drawn_only_while_it_is_shown(tab, monkeypatch):
    # With the Maps page shown, every redraw (the race computing on in idle slices, a racer
    # edited) drew the hidden 2-D view's trails too.
    drawn = _trails_drawn(tab, monkeypatch)
    tab.race.ensure(64)
    tab.views.setCurrentWidget(tab.view3d)
    drawn.clear()
    tab.seek(30)
    tab.seek(40)
    tab.racer_panel._editors["learning_rate"].setValue(0.02)
    assert drawn == []
    tab.views.setCurrentWidget(tab.view)  # back: drawn at once, as the race is at step 40
    assert drawn[-1] == {key: track.at(40) for key, track in tab.race.tracks.items()}
    tab.seek(41)
    assert drawn[-1] == {key: track.at(41) for key, track in tab.race.tracks.items()}


def test_an_export_of_the_2d_view_draws_it_while_another_page_is_shown(quiet_window, tmp_path,
                                                                        monkeypatch):
    tab = quiet_window.landscape
    drawn = _trails_drawn(tab, monkeypatch)
    tab.race.ensure(64)
    tab.views.setCurrentWidget(tab.view3d)
    tab.seek(40)
    drawn.clear()
    quiet_window.exporter.view_picture(tmp_path / "race.png", width=600)
    assert drawn and drawn[0] == {key: track.at(40) for key, track in tab.race.tracks.items()}


def test_a_path_that_grew_is_summed_up_as_a_fresh_one_would_be():
    # A redraw while the race computes on (or plays) summed up every path whole again: the
    # cells each point leaves are now worked out for the new points only.
    from gui.landscape.trails import MOST, drawn_index, moves

    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(scale=0.01, size=(30_000, 2)), axis=0)
    walk[12_345] = np.nan  # a point where nothing is defined moves too
    domain = (-2.0, 2.0, -1.0, 1.0)
    done = 5000
    moved = moves(walk[:done], domain)
    for end in (5001, MOST + 1, 12_000, 12_346, 20_000, 30_000):
        moved = np.concatenate([moved, moves(walk[:end], domain, start=done)])
        done = end
        np.testing.assert_array_equal(drawn_index(walk[:end], domain, moved),
                                      drawn_index(walk[:end], domain))
        np.testing.assert_array_equal(moved, moves(walk[:end], domain))


def test_a_longer_or_shorter_path_is_summed_up_as_a_fresh_one_would_be(tab):
    tab.race.ensure(200)
    for step in (50, 120, 200, 80, 3, 150):  # on and back, as playback and seeks go
        tab.seek(step)
        for key, track in tab.race.tracks.items():
            points = track.points(step)
            shown, distances = tab._path_summary(key, track, points)
            np.testing.assert_array_equal(shown,
                                          drawn_index_fresh(points, tab.race.surface.domain))
            np.testing.assert_array_equal(distances, tab.model.distances(points))


def test_idle_slices_sum_up_the_paths_ahead_of_the_step_shown(tab, qtbot, monkeypatch):
    """While the race computes on, the idle slices sum up each path's new rows, so a seek
    far along finds them done: 20 racers' tens of thousands of new rows took 20 ms of a
    100 ms seek. A seek back reads the start of the kept summary, which stays."""
    from gui.landscape import tab as tab_module

    tab.playback.budget.setValue(3000)
    tab.seek(10)
    qtbot.waitUntil(lambda: tab.race.complete, timeout=120_000)
    qtbot.wait(50)
    for key, track in tab.race.tracks.items():
        assert tab._summaries[key][1] == len(track.points(3000))  # summed up to its end
    rows = []
    moves = tab_module.moves
    monkeypatch.setattr(tab_module, "moves", lambda points, domain, start=0:
                        rows.append(len(points) - start) or moves(points, domain, start))
    tab.seek(3000)
    tab.seek(20)
    assert rows == []  # nothing left to sum up in the seeks' own calls
    for key, track in tab.race.tracks.items():
        assert tab._summaries[key][1] == len(track.points(3000))


def drawn_index_fresh(points, domain):
    from gui.landscape.trails import drawn_index

    return drawn_index(points, domain)


def test_a_full_redraw_sets_the_side_plots_in_the_next_turn_once(tab, qtbot, monkeypatch):
    """An action's own call (a racer added, a surface changed) redraws the map and leaves
    the side plots to the event loop's next turn, with their own paint: 20 racers' curves
    and their paint no longer add to the map's in one block of the GUI thread. Several full
    redraws in one turn set them once, to the last state; playback sets them at once."""
    calls = []
    set_series = tab.side_plots.set_series
    monkeypatch.setattr(tab.side_plots, "set_series",
                        lambda series, **kw: calls.append([s.key for s in series])
                        or set_series(series, **kw))
    tab.racer_panel.add("adam")
    tab.racer_panel.add("sgd")
    tab.seek(7)
    assert calls == []  # not within the actions' own calls
    # One setting is due, the last redraw's (idle slices may redraw again later).
    assert [s.key for s in tab._side_due[0]] == list(tab.race.tracks) and tab._side_due[3] == 7
    qtbot.waitUntil(lambda: bool(calls), timeout=3000)
    assert calls[0] == list(tab.race.tracks)  # showing every racer
    assert tab.side_plots.cursors["loss"].value() == 7
    tab.flush_side_plots()
    calls.clear()
    tab._ticking = True  # as the playback clock redraws a frame
    try:
        tab.seek(8)
    finally:
        tab._ticking = False
    assert calls == [list(tab.race.tracks)]  # at once
    calls.clear()
    tab.seek(3)
    tab.flush_side_plots()  # an export reads them at once
    assert calls == [list(tab.race.tracks)] and tab.side_plots.cursors["loss"].value() == 3
    assert tab._side_due is None and not tab._side_timer.isActive()  # nothing left


def test_an_idle_slice_waits_for_the_side_plots_of_the_last_redraw(tab, qtbot):
    """The side plots' turn and an idle compute slice (with its own redraw) used to run in
    the same turn of the event loop, one block: the slice now waits a turn."""
    tab.playback.budget.setValue(3000)
    tab.seek(5)  # a full redraw: side plots due in the next turn
    assert tab._side_due is not None
    computed = tab.race.computed_to()
    tab._compute_ahead()
    assert tab.race.computed_to() == computed and tab._side_due is not None
    tab.flush_side_plots()
    tab._compute_ahead()
    assert tab.race.computed_to() > computed


def test_an_idle_slice_moves_racers_onto_kernels_that_loaded_since(tab, monkeypatch):
    """When one more kernel has loaded, the next idle slice moves racers still on NumPy's
    steps onto theirs (Race.upgrade), and only then: not on every slice."""
    from engine.landscape import kernels

    calls = []
    monkeypatch.setattr(tab.race, "upgrade", lambda seconds: calls.append(seconds) or ([], True))
    tab.flush_side_plots()
    tab._kernels_seen = -1
    tab._compute_ahead()
    assert len(calls) == 1 and tab._kernels_seen == kernels.loaded_count()
    tab._compute_ahead()
    assert len(calls) == 1


def test_a_racer_moved_onto_its_kernel_keeps_its_path_summary(tab, qtbot, monkeypatch):
    """Its rows are the same, so the summary of its path (moves and distances, about 20 ms
    per 100,000 rows) moves with it instead of being worked out again."""
    from gui.landscape import tab as tab_module

    tab.seek(300)
    qtbot.waitUntil(lambda: tab.race.complete, timeout=60_000)
    tab.flush_side_plots()
    key = next(iter(tab.race.tracks))
    old = tab.race.tracks[key].stepper
    kept = tab._summaries[key]
    assert kept[0] is old

    def upgrade(seconds):  # as Race.upgrade replaces a racer's stepper, rows unchanged
        track = tab.race.tracks[key]
        tab.race.tracks[key] = type(track)(track.racer, old.__class__.__new__(old.__class__))
        tab.race.tracks[key].stepper.__dict__.update(old.__dict__)
        return [key], True

    monkeypatch.setattr(tab.race, "upgrade", upgrade)
    tab._kernels_seen = -1
    tab._compute_ahead()
    new = tab.race.tracks[key].stepper
    assert new is not old and tab._summaries[key][0] is new
    assert tab._summaries[key][1:3] == kept[1:3] and tab._summaries[key][5] is kept[5]
    rows = []
    moves = tab_module.moves
    monkeypatch.setattr(tab_module, "moves", lambda points, domain, start=0:
                        rows.append(len(points) - start) or moves(points, domain, start))
    tab._render(full=True)
    assert rows == []  # not summed up again
