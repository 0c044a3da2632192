"""The Maps view: computed off the GUI thread, read by hovering, clicked into the race."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests import procs

pytestmark = pytest.mark.gui


@pytest.fixture
def view(maps_view):
    return maps_view("himmelblau", (0.0, 0.0), 200)


def _scene_point(view, x, y):
    return view.plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))


def test_start_map_is_computed_in_a_thread_and_clicking_races_from_the_cell(qtbot, view):
    view.optimizer.setCurrentIndex(view.optimizer.findData("momentum"))
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None, timeout=60_000)
    result = view.result
    assert result.status.shape == (32, 32)
    assert view.image.image.shape == (32, 32, 4)  # RGBA: numbers and outcomes coloured here
    assert "converged" in view.progress.format()
    scene = _scene_point(view, 3.0, 2.0)
    row, col = view.cell_at(scene)
    assert abs(result.xs[col] - 3.0) < 0.4 and abs(result.ys[row] - 2.0) < 0.4
    assert "start (" in view.describe(row, col)
    with qtbot.waitSignal(view.start_chosen, timeout=2000) as chosen:
        widget_point = view.plot.mapFromScene(scene)
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    x, y = chosen.args
    assert (x, y) == (float(result.xs[col]), float(result.ys[row]))


def test_hyperparameter_map_offers_settings(qtbot, view):
    view.mode.setCurrentIndex(view.mode.findData("hyper"))
    view.optimizer.setCurrentIndex(view.optimizer.findData("momentum"))
    view.x_param.setCurrentIndex(view.x_param.findData("learning_rate"))
    view.y_param.setCurrentIndex(view.y_param.findData("momentum"))
    view.compute()
    qtbot.waitUntil(lambda: view.thread is None, timeout=60_000)
    result = view.result
    assert result.x.name == "learning_rate" and result.x.log
    assert np.all(np.isfinite(result.final_loss))
    row, col = 5, 7
    with qtbot.waitSignal(view.settings_chosen, timeout=2000) as chosen:
        point = QPointF(np.log10(result.xs[col]), result.ys[row])
        scene = view.plot.getPlotItem().getViewBox().mapViewToScene(point)
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.plot.mapFromScene(scene))
    optimizer_id, settings = chosen.args
    assert optimizer_id == "momentum"
    assert settings["learning_rate"] == pytest.approx(result.xs[col])
    assert settings["momentum"] == pytest.approx(result.ys[row])


def test_same_parameter_twice_is_refused_inline(qtbot, view):
    view.mode.setCurrentIndex(view.mode.findData("hyper"))
    view.x_param.setCurrentIndex(0)
    view.y_param.setCurrentIndex(0)
    view.compute()
    assert view.error.isVisible() and view.thread is None


def test_cancel_stops_a_big_map(qtbot, view):
    view.grid.setCurrentIndex(view.grid.findData(256))
    view.steps.setValue(5000)
    view.compute()
    view.cancel()
    qtbot.waitUntil(lambda: view.thread is None, timeout=30_000)
    assert view.progress.format() == "cancelled"


_DESTROYED_WHILE_RUNNING = """
import sys
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QThread
app = QApplication(sys.argv)
from engine.landscape import surfaces
from gui import threads
from gui.maps.view import MapsView
view = MapsView()
view.set_surface(surfaces.get("himmelblau"), (0.0, 0.0))
view.grid.setCurrentIndex(view.grid.findData(256))
view.steps.setValue(2000)
view.compute()
thread, worker = view.thread, view.worker
import shiboken6
shiboken6.delete(view)      # the widget goes while its map is still being computed
assert threads.live_threads(), "the thread must outlive the widget, not be destroyed"
worker.cancel_event.set()
thread.quit()
assert thread.wait(60_000)
app.processEvents()
print("clean")
"""


def test_closing_a_view_mid_computation_does_not_destroy_its_running_thread():
    """Qt aborts the process when a running QThread is destroyed; the view must not own it."""
    done = procs.run([sys.executable, "-c", _DESTROYED_WHILE_RUNNING], timeout=180,
                     env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "clean" in done.stdout
    assert "Destroyed while thread" not in done.stderr


def test_colour_bar_numbers_within_a_decade_read_as_numbers(view):
    import math

    view.colorbar.axis.range = [math.log10(650), math.log10(1100)]
    assert view._bar_labels([math.log10(700), math.log10(900), 3.0], None, None) == [
        "700", "900", "1000"]  # never "1e+03"
