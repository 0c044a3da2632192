"""The network landscape view: computed in a worker thread, cancellable, scrubbed in step
with the training curves, honest on hover; and in the MNIST tab after a real lockstep run."""

from __future__ import annotations

import numpy as np
import pytest

from engine.mnist import datasets, loss_plane, snapshots
from engine.mnist import network_landscape as nl
from gui.palette import style_for

pytestmark = pytest.mark.gui


def test_a_path_is_drawn_with_its_racers_marker_colour_and_dash():
    from gui.training.network_map import PathStyle

    racer = style_for("nadam")
    path = PathStyle.of("Nadam", racer)
    assert (path.color, path.marker, path.dash) == (racer.color, "plus", 0)
    assert not isinstance(path.symbol, str)  # a drawn shape pyqtgraph has no name for


def _session(runs: int = 3, snaps: int = 9) -> nl.Session:
    """Paths of random steps from one start (no training needed), 200 real images."""
    rng = np.random.default_rng(0)
    start = snapshots.flatten([0.05 * rng.standard_normal(s) for s in snapshots.LAYER_SHAPES])
    built = []
    for index, optimizer_id in enumerate(["sgd", "adam", "rmsprop"][:runs]):
        steps = 0.002 * rng.standard_normal((snaps - 1, start.size)).astype(np.float32)
        steps += 0.004 * (index + 1) * rng.standard_normal(start.size).astype(np.float32)
        path = np.concatenate([start[None], start + np.cumsum(steps, axis=0)])
        built.append(nl.Run(optimizer_id, optimizer_id.upper(), path.astype(np.float32),
                            np.arange(snaps) * 5, "completed", index))
    data = datasets.bundled()
    return nl.Session(tuple(built), loss_plane.images_as_inputs(data.x_train[:200]),
                      data.y_train[:200].astype(np.int64), batches_per_epoch=20)


def _styles(count: int = 3):
    from gui.training.network_map import PathStyle

    ids = ["sgd", "adam", "rmsprop"][:count]
    taken = []
    for optimizer_id in ids:
        taken.append(style_for(optimizer_id, taken))
    return [PathStyle.of(i.upper() + " <b>", style) for i, style in zip(ids, taken, strict=True)]


@pytest.fixture
def view(qtbot):
    from gui.training.network_view import NetworkView

    widget = NetworkView()
    qtbot.addWidget(widget)
    widget.resize(700, 600)
    widget.show()
    widget.grid.setValue(11)
    yield widget
    widget.shutdown()


def _computed(qtbot, view):
    qtbot.waitUntil(lambda: view.landscape is not None and view.worker is None, timeout=60_000)


def test_the_view_computes_in_a_thread_then_plays_in_step_with_the_curves(qtbot, view):
    positions = []
    view.position_changed.connect(positions.append)
    assert not view.slider.isEnabled() and not view.play_button.isEnabled()
    view.set_session(_session(), _styles(), seed=1)
    assert view.thread is not None and view.cancel_button.isEnabled()
    assert view.progress.isVisible()
    _computed(qtbot, view)
    assert view.pages.currentWidget() is view.views
    assert not view.progress.isVisible() and view.slider.isEnabled()
    # It plays from the start: the curves' cursor follows, epoch by epoch.
    assert view.timer.isActive()
    qtbot.waitUntil(lambda: not view.timer.isActive(), timeout=10_000)
    assert positions[0] == 0 and positions[-1] == pytest.approx(40 / 20)
    assert positions == sorted(positions)
    assert view.position_label.text() == "epoch 2, batch 20/20"
    # Names are escaped in the legend (they carry user settings); each shape is there.
    assert "SGD &lt;b&gt;" in view.legend.text() and "◆" in view.legend.text()
    assert "200 training images" in view.readout.text() and "off the plane" in view.readout.toolTip()


def test_scrubbing_draws_each_path_up_to_the_batch(qtbot, view):
    view.set_session(_session(), _styles())
    _computed(qtbot, view)
    view.toggle_play()  # pause
    view.slider.setValue(2)  # batch 10
    assert view.position_label.text() == "epoch 1, batch 10/20"
    for line in view.map._lines:
        assert len(line.getData()[0]) == 3  # batches 0, 5 and 10
    view.slider.setValue(0)
    assert view.position_label.text() == "start (initial weights)"


def test_hovering_a_marker_reads_its_true_and_surface_loss(qtbot, view):
    view.set_session(_session(), _styles())
    _computed(qtbot, view)
    view.toggle_play()  # pause, and show every snapshot
    view.slider.setValue(view.slider.maximum())
    landscape = view.landscape
    x, y = landscape.paths[1][-1]
    text = view.map.readout(float(x), float(y))
    assert text.startswith("ADAM <b>, epoch 2, batch 20/20: true loss ")
    assert f"{landscape.path_loss[1][-1]:.3f}" in text
    assert f"surface {landscape.surface_loss[1][-1]:.3f} under it" in text
    assert f"{landscape.off_plane[1][-1]:.2f} off the plane" in text
    far = view.map.readout(float(landscape.alpha[0]), float(landscape.beta[-1]))
    assert far.startswith("surface at (") and "loss" in far


def test_faint_small_markers_lie_far_from_the_plane(qtbot, view):
    view.set_session(_session(), _styles())
    _computed(qtbot, view)
    view.toggle_play()
    view.slider.setValue(view.slider.maximum())
    landscape = view.landscape
    for index, markers in enumerate(view.map._markers):
        sizes = markers.data["size"]
        off = landscape.off_plane[index]
        assert np.all(np.diff(sizes[np.argsort(off)]) <= 1e-9)  # farther: never bigger
        alphas = [brush.color().alphaF() for brush in markers.data["brush"]]
        assert alphas[int(np.argmax(off))] == pytest.approx(min(alphas))


def test_the_random_walk_control_replaces_the_map_and_back(qtbot, view):
    view.set_session(_session(), _styles())
    _computed(qtbot, view)
    view.walk.setChecked(True)
    assert view.map.walk_line.isVisible() and not view.map.image.isVisible()
    assert "walk's PC1" in view.map.getPlotItem().getAxis("bottom").labelText
    view.walk.setChecked(False)
    assert view.map.image.isVisible() and not view.map.walk_line.isVisible()
    assert "PC1" in view.map.getPlotItem().getAxis("bottom").labelText


def test_cancel_stops_the_computation_and_a_bad_plane_is_said_inline(qtbot, view):
    view.grid.setValue(201)
    view.set_session(_session(), _styles())
    view.cancel()
    qtbot.waitUntil(lambda: view.worker is None, timeout=60_000)
    assert view.landscape is None and view.error.isHidden()
    one = _session(runs=1)
    view.plane.setCurrentIndex(view.plane.findData("endpoints"))
    view.grid.setValue(11)
    view.set_session(one, _styles(1))
    qtbot.waitUntil(lambda: view.worker is None, timeout=60_000)
    assert not view.error.isHidden() and "needs two optimizers" in view.error.text()


def test_a_new_session_clears_the_view_and_nothing_starts_after_shutdown(qtbot, view):
    view.set_session(_session(), _styles())
    _computed(qtbot, view)
    view.training_started("Recording…")
    assert view.landscape is None and view.pages.currentWidget() is view.message
    assert not view.slider.isEnabled() and view.legend.text() == ""
    view.shutdown()
    view.set_session(_session(), _styles())
    assert view.worker is None and view.thread is None


@pytest.mark.keras
def test_a_lockstep_run_in_the_tab_ends_with_its_paths_on_the_landscape(qtbot):
    from gui.training.tab import TrainingTab

    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.resize(1280, 720)
    tab.show()
    tab.dataset.setCurrentIndex(tab.dataset.findData("bundled"))
    for key, racer in list(tab.racers.items()):
        if racer.optimizer_id == "rmsprop":
            tab._racer_removed(key)
    tab.limit.setValue(400)
    tab.epochs.setValue(2)
    tab.network.grid.setValue(11)
    formats = []
    set_format = tab.progress.setFormat
    tab.progress.setFormat = lambda text: (formats.append(text), set_format(text))
    assert tab.lockstep.isChecked() and tab.config().lockstep
    tab.start_button.click()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=180_000)
    assert [row.status for row in tab.rows.values()] == ["completed", "completed"]
    assert any(text.startswith("all 2 together: epoch 2/2") for text in formats)
    network = tab.network
    qtbot.waitUntil(lambda: network.landscape is not None and network.worker is None,
                    timeout=120_000)
    landscape = network.landscape
    assert landscape.optimizer_ids == ("sgd", "adam")
    np.testing.assert_array_equal(landscape.paths[0][0], landscape.paths[1][0])
    assert landscape.batches[0][-1] == 2 * 10  # 320 training samples, batches of 32
    network.toggle_play()
    network.slider.setValue(network.slider.maximum() // 2)
    cursor = tab.plots._cursors[0]
    assert cursor.isVisible() and cursor.value() == pytest.approx(
        network._timeline[network.slider.value()] / 10)
    tab.shutdown()


@pytest.mark.keras
def test_a_stopped_session_keeps_its_paths_for_compute(qtbot):
    from gui.training.tab import TrainingTab

    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.show()
    tab.dataset.setCurrentIndex(tab.dataset.findData("bundled"))
    tab.limit.setValue(2000)
    tab.batch_size.setValue(8)
    tab.network.grid.setValue(11)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.worker is not None and tab.progress.value() > 20,
                    timeout=120_000)
    tab.stop_button.click()
    qtbot.waitUntil(lambda: tab.worker is None, timeout=60_000)
    network = tab.network
    assert network.worker is None and network.landscape is None  # a stop stops
    assert "Compute draws the paths" in network.message.text()
    assert network.compute_button.isEnabled()
    network.compute_button.click()
    qtbot.waitUntil(lambda: network.landscape is not None and network.worker is None,
                    timeout=120_000)
    assert all(status == "stopped" for status in network.landscape.statuses)
    assert "(stopped)" in network.legend.text()
    tab.shutdown()


def test_choosing_another_plane_recomputes_the_paths_on_it(qtbot, view):
    view.set_session(_session(), _styles())
    _computed(qtbot, view)
    assert view.landscape.plane.kind == "pca"
    view.plane.setCurrentIndex(view.plane.findData("endpoints"))
    assert view.worker is not None
    qtbot.waitUntil(lambda: view.worker is None, timeout=60_000)
    assert view.landscape.plane.kind == "endpoints"
    # Names carry user settings: pyqtgraph's rich-text labels get them escaped.
    view.session = _session()
    view.session = type(view.session)(
        tuple(type(r)(r.optimizer_id, r.label + " <i>", r.weights, r.batches, r.status, r.index)
              for r in view.session.runs), view.session.inputs, view.session.labels, 20)
    view.compute()
    qtbot.waitUntil(lambda: view.worker is None, timeout=60_000)
    assert "towards SGD &lt;i&gt;&#x27;s final weights" in view.map.getPlotItem().getAxis(
        "bottom").labelText
    assert "&lt;b&gt;" in view.lines.between_plot.titleLabel.text


def test_the_curves_cursor_follows_the_landscape_and_survives_clear(qtbot):
    import pyqtgraph as pg

    from gui.training.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)

    def cursors():
        return [[item for item in plot.items if isinstance(item, pg.InfiniteLine)
                 and item.isVisible()] for plot in plots.plots.values()]

    assert cursors() == [[], []]  # nothing until the landscape asks for it
    plots.set_cursor(1.5)
    assert [[line.value() for line in lines] for lines in cursors()] == [[1.5], [1.5]]
    plots.set_cursor(-1.0)
    assert cursors() == [[], []]
    plots.set_cursor(0.25)
    plots.clear()  # a new session
    assert cursors() == [[], []]
    plots.set_cursor(2.0)
    assert [[line.value() for line in lines] for lines in cursors()] == [[2.0], [2.0]]
