"""Issue 15's screens: the step's anatomy on the map, theory beside the race and on the
learning_rate × momentum map, class mode driven by the keys a clicker sends, lesson links."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSettings, Qt, QUrl

from engine.landscape import maps, surfaces, theory
from engine.landscape.anatomy import TrackAnatomy
from engine.landscape.predict import FIRST, OFF, PREDICT, RACING, REVEALED, WHERE

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path):
    from gui.main_window import MainWindow

    main = MainWindow(settings=QSettings(str(tmp_path / "o.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(main)
    main.resize(1400, 900)
    main.show()
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow, timeout=2000)
    yield main
    main.landscape.shutdown()
    main.training.shutdown()


def _key(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.landscape.view, key, modifier)


def _select(tab, optimizer_id):
    key = next(k for k, t in tab.race.tracks.items() if t.racer.optimizer_id == optimizer_id)
    tab.racer_panel.select(key)
    return key


def test_a_reveals_the_terms_one_at_a_time_on_the_map_and_follows_the_timeline(qtbot, window):
    tab = window.landscape
    teaching = tab.teaching
    key = _select(tab, "adam")
    tab.seek(25)
    plot_items = len(tab.view.getPlotItem().items)
    _key(qtbot, window, Qt.Key.Key_A)
    assert teaching.panels.currentWidget() is teaching.anatomy and teaching.anatomy.revealed == 1
    assert teaching.anatomy.current().name == "gradient"
    assert len(tab.view.getPlotItem().items) > plot_items  # the −gradient arrow and its label
    for _ in range(3):
        _key(qtbot, window, Qt.Key.Key_A)
    assert teaching.anatomy.current().name == "velocity"  # gradient, lr, momentum, velocity
    _key(qtbot, window, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert teaching.anatomy.revealed == 3 and teaching.anatomy.current().name == "momentum"
    expected = TrackAnatomy(tab.race.tracks[key]).at(25)
    shown = teaching.anatomy.parts
    assert shown.iterations == 25 and shown.names() == expected.names()
    np.testing.assert_array_equal(shown.term("velocity").value, expected.term("velocity").value)
    assert teaching.anatomy.table.item(0, 1).text().startswith("(")
    tab.step_by(1)  # the timeline moves: the same terms, one step later
    assert teaching.anatomy.parts.iterations == 26 and teaching.anatomy.revealed == 3
    # Every term can be drawn: arrows, bars and labels for all of them.
    for _ in range(len(shown.terms)):
        teaching.next_term(1)
    assert teaching.anatomy.revealed == len(shown.terms)
    assert teaching.anatomy.current().name == "update"
    for _ in range(len(shown.terms)):
        teaching.next_term(-1)
    assert teaching.anatomy.revealed == 0 and teaching.overlay._items == []


@pytest.mark.parametrize("optimizer_id", ["sgd", "rmsprop", "adagrad", "adadelta", "amsgrad",
                                          "adamw", "adamax", "nadam", "lion", "nesterov"])
def test_every_optimizers_terms_draw_on_the_map(window, optimizer_id):
    tab = window.landscape
    tab._add_racer(optimizer_id)
    _select(tab, optimizer_id)
    tab.seek(10)
    teaching = tab.teaching
    count = len(TrackAnatomy(tab.race.tracks[tab.racer_panel.current_key()]).at(10).terms)
    for revealed in range(1, count + 1):
        teaching.next_term(1)
        assert teaching.anatomy.revealed == revealed
        assert teaching.overlay._items, teaching.anatomy.current().name  # at least a label


def test_the_theory_panel_shows_curvatures_and_each_racers_rates(window):
    tab = window.landscape
    teaching = tab.teaching
    teaching.panels.setCurrentWidget(teaching.theory)
    tab.seek(600)
    text = teaching.theory.summary.text()
    assert "λmin = 1, λmax = 50, κ = 50" in text and "β* = 0.5658" in text
    rows = {teaching.theory.table.item(r, 0).text().split("\n")[0]: r
            for r in range(teaching.theory.table.rowCount())}
    momentum = rows[next(t.racer.label() for t in tab.race.tracks.values()
                         if t.racer.optimizer_id == "momentum")]
    assert teaching.theory.table.item(momentum, 0).text().endswith("α 0.01, β 0.9")
    theory_rate = float(teaching.theory.table.item(momentum, 1).text())
    measured = float(teaching.theory.table.item(momentum, 2).text())
    assert theory_rate == pytest.approx(theory.rate(
        theory.quadratic(tab.race.surface)[0], 0.01, 0.9), rel=1e-3)
    assert measured == pytest.approx(theory_rate, rel=0.03)
    adam = rows[next(t.racer.label() for t in tab.race.tracks.values()
                     if t.racer.optimizer_id == "adam")]
    assert teaching.theory.table.item(adam, 1).text() == "—"
    tab.surface_combo.setCurrentIndex(tab.surface_combo.findData("rosenbrock"))
    assert "not quadratic" in teaching.theory.summary.text()
    assert teaching.theory.table.rowCount() == 0


def test_the_lr_momentum_map_carries_the_theory_lines(qtbot, window):
    tab = window.landscape
    view = tab.maps
    view.optimizer.setCurrentIndex(view.optimizer.findData("momentum"))
    view.mode.setCurrentIndex(view.mode.findData("hyper"))
    view.x_param.setCurrentIndex(view.x_param.findData("learning_rate"))
    view.y_param.setCurrentIndex(view.y_param.findData("momentum"))
    view.grid.setCurrentIndex(view.grid.findData(32))
    view.steps.setValue(200)
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None, timeout=30000)
    assert view.theory.shown and len(view.theory._items) >= 4
    on_map = [i.textItem.toPlainText() for i in view.theory._items if hasattr(i, "textItem")]
    assert on_map == ["stable ← α·λmax = 2(1+β)"]  # the marks' words are in the legend row
    texts = view.legend.notes
    assert texts == tuple(view.theory.texts()) and len(texts) == 3
    assert texts[0] == "heavy ball: κ = 50 (λ 1 to 50)"
    assert texts[1] == "○ optimum α* = 0.0614, β* = 0.566: rate 0.752/step"
    assert texts[2].startswith("◇ GD optimum α = 0.0392: rate 0.96")
    line = view.theory._items[1]
    xs, ys = line.getData()
    q, _ = theory.quadratic(tab.race.surface)
    np.testing.assert_allclose(10 ** xs, theory.stability_limit(q, ys))
    # Not for Adam, nor on a surface that is not quadratic.
    view.optimizer.setCurrentIndex(view.optimizer.findData("adam"))
    view.x_param.setCurrentIndex(view.x_param.findData("learning_rate"))
    view.y_param.setCurrentIndex(view.y_param.findData("beta_1"))
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None, timeout=30000)
    assert not view.theory.shown and view.theory._items == [] and view.legend.notes == ()


def test_class_mode_waits_for_the_prediction_then_reveals_and_keeps_a_tally(qtbot, window):
    tab = window.landscape
    klass = tab.teaching.klass
    tab._budget_changed(400)
    page_down = next(a for a in window.actions() if a.shortcut().toString() == "PgDown")
    assert not page_down.isEnabled()  # a spin box keeps PageDown outside class mode
    _key(qtbot, window, Qt.Key.Key_B)
    assert klass.session.stage == PREDICT and tab.step == 0 and page_down.isEnabled()
    assert klass.overlay.isVisible() and "converges first" in klass.overlay.question.text()
    _key(qtbot, window, Qt.Key.Key_Space)  # no peeking: the race waits at the start
    assert not tab.playing and tab.step == 0
    _key(qtbot, window, Qt.Key.Key_Right)  # the arrows choose instead of stepping
    assert tab.step == 0 and klass.session.chosen().startswith("momentum")
    _key(qtbot, window, Qt.Key.Key_PageDown)
    _key(qtbot, window, Qt.Key.Key_PageUp)
    assert klass.session.chosen().startswith("momentum")
    _key(qtbot, window, Qt.Key.Key_B)  # reveal: the race plays
    assert klass.session.stage == RACING and tab.playing
    _key(qtbot, window, Qt.Key.Key_B)  # skip to the result
    assert klass.session.stage == REVEALED and not tab.playing
    judged = klass.session.rounds[-1]
    assert judged.right == 1 and "Momentum converged at step" in judged.result
    assert klass.overlay.result.text().startswith("✓ Predicted: Momentum first")
    assert "1 of 1" in klass.overlay.hint.text()  # the tally, with the next keys
    _key(qtbot, window, Qt.Key.Key_PageDown)  # the next round
    assert klass.session.stage == PREDICT and tab.step == 0
    _key(qtbot, window, Qt.Key.Key_Left)
    assert klass.session.chosen() == "none"
    _key(qtbot, window, Qt.Key.Key_B)
    tab.playback.change_speed(1)
    qtbot.waitUntil(lambda: klass.session.stage == REVEALED, timeout=20000)  # plays to the end
    assert klass.session.tally() == (1, 2)
    assert "Session: 1 of 2" in tab.teaching.class_panel.stage.text()
    _key(qtbot, window, Qt.Key.Key_C)
    assert klass.session.stage == OFF and not klass.overlay.isVisible()
    _key(qtbot, window, Qt.Key.Key_Space)
    assert tab.playing  # out of class mode the race plays again


def test_a_where_prediction_is_clicked_on_the_map_without_moving_the_start(qtbot, window):
    tab = window.landscape
    klass = tab.teaching.klass
    tab._budget_changed(300)
    start = tab.race.start
    _key(qtbot, window, Qt.Key.Key_B)
    _key(qtbot, window, Qt.Key.Key_Q)
    assert klass.session.kind == WHERE and "Where will each" in klass.overlay.question.text()
    vb = tab.view.getPlotItem().getViewBox()
    for x, y in ((0.0, 0.0), (2.0, 1.0)):
        pixel = tab.view.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
        qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=pixel)
    assert tab.race.start == start  # the clicks placed predictions, not the start
    placed = list(klass.session.ends.values())
    assert len(placed) == 2
    np.testing.assert_allclose(placed[0], (0.0, 0.0), atol=0.1)
    assert klass.marks._items  # the rings on the map
    _key(qtbot, window, Qt.Key.Key_B)
    _key(qtbot, window, Qt.Key.Key_B)
    judged = klass.session.rounds[-1]
    assert judged.asked == 2 and len(judged.lines) == 2
    assert any(isinstance(i, type(klass.marks._items[0])) for i in klass.marks._items)
    klass.stop()
    assert klass.session.kind == WHERE and klass.marks._items == []


def test_the_lesson_links_an_optimizer_to_its_anatomy_and_theory(window):
    tab = window.landscape
    _select(tab, "momentum")
    tab._show_lesson(tab.racer_panel.current_key())
    html = tab.lesson.toHtml()
    assert "optiscope:anatomy" in html and "optiscope:theory" in html
    tab.lesson.anchorClicked.emit(QUrl("optiscope:theory"))
    assert tab.teaching.panels.currentWidget() is tab.teaching.theory
    tab.lesson.anchorClicked.emit(QUrl("optiscope:anatomy"))
    assert tab.teaching.panels.currentWidget() is tab.teaching.anatomy
    assert tab.teaching.anatomy.revealed == 1
    _select(tab, "adam")
    tab._show_lesson(tab.racer_panel.current_key())
    html = tab.lesson.toHtml()
    assert "optiscope:anatomy" in html and "optiscope:theory" not in html


def test_the_keys_are_listed_in_the_shortcuts(window):
    from gui.main_window import SHORTCUTS

    keys = " ".join(k for k, _ in SHORTCUTS)
    for key in ("A / Shift+A", "B", "PageDown", "Q", "C"):
        assert key in keys
    assert FIRST != WHERE and surfaces.get("bowl") and maps.Axis
