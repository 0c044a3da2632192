"""The MNIST tab's widgets on their own: live training plots and the results table."""

from __future__ import annotations

import csv
import io
import math
import os

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette

from gui.palette import DARK, LIGHT

pytestmark = pytest.mark.gui

ADAM, SGD = "#4363d8", "#e6194b"


# --- plots -----------------------------------------------------------------------------------
@pytest.fixture
def plots(qtbot):
    from gui.training.plots import TrainingPlots

    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.resize(900, 450)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _feed(plots, key, epochs=2, batches=10, seed=0):
    """Batch reports for ``epochs`` epochs; returns the raw (accuracy, loss) arrays."""
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(0.5, 1.0, epochs * batches)
    loss = rng.uniform(0.05, 2.0, epochs * batches)
    for index in range(epochs * batches):
        plots.add_batch(key, index // batches, index % batches, accuracy[index], loss[index])
    return accuracy, loss


def _size(curve):
    return 0 if curve.xData is None else len(curve.xData)


def _lines(plot):
    return [item for item in plot.items if isinstance(item, pg.InfiniteLine)]


def test_batches_are_drawn_at_fractional_epochs_on_reused_curves(plots):
    plots.start_run("adam-1", "Adam", ADAM, batches_per_epoch=4)
    curves = plots.curves("adam-1")
    plots.add_batch("adam-1", 0, 0, 0.50, 2.0)
    plots.add_batch("adam-1", 0, 2, 0.75, 1.0)
    plots.add_batch("adam-1", 1, 1, 0.90, 0.5)
    assert plots.curves("adam-1") == curves  # the same items, only their data changed
    np.testing.assert_allclose(curves["train_accuracy"].xData, [0.0, 0.5, 1.25])
    np.testing.assert_allclose(curves["train_accuracy"].yData, [0.50, 0.75, 0.90])
    np.testing.assert_allclose(curves["train_loss"].xData, [0.0, 0.5, 1.25])
    np.testing.assert_allclose(curves["train_loss"].yData, [2.0, 1.0, 0.5])
    for plot in plots.plots.values():
        assert len(plot.listDataItems()) == 2  # training and validation curve of one run


def test_buffers_grow_past_their_first_size(plots):
    plots.start_run("sgd-1", "SGD", SGD, batches_per_epoch=100)
    accuracy, _ = _feed(plots, "sgd-1", epochs=7, batches=100)  # 700 reports
    curve = plots.curves("sgd-1")["train_accuracy"]
    np.testing.assert_allclose(curve.xData, np.arange(700) / 100)
    np.testing.assert_allclose(curve.yData, accuracy)


def test_smoothing_changes_the_curves_and_zero_restores_the_raw_data(plots):
    from gui.training.plots import exponential_moving_average

    plots.start_run("adam-1", "Adam", ADAM, batches_per_epoch=10)
    accuracy, loss = _feed(plots, "adam-1", epochs=1)
    curves = plots.curves("adam-1")
    plots.set_smoothing(0.9)
    smoothed = curves["train_accuracy"].yData
    assert not np.allclose(smoothed, accuracy)
    np.testing.assert_allclose(smoothed, exponential_moving_average(accuracy, 0.9))
    assert np.std(np.diff(smoothed)) < np.std(np.diff(accuracy))
    # Reports arriving while smoothing continue the same average as a full recomputation.
    more = _feed(plots, "adam-1", epochs=1, seed=1)
    for name, raw, later in (("train_accuracy", accuracy, more[0]), ("train_loss", loss, more[1])):
        full = np.concatenate([raw, later])
        np.testing.assert_allclose(curves[name].yData, exponential_moving_average(full, 0.9))
        plots.set_smoothing(0.0)
        np.testing.assert_array_equal(curves[name].yData, full)
        plots.set_smoothing(0.9)
    plots.set_smoothing(0.0)
    assert "EMA" not in plots.legend.text()
    plots.set_smoothing(5.0)
    assert plots.smoothing == 0.99
    assert "EMA 0.99" in plots.legend.text()


def test_moving_average_starts_at_the_first_value_and_skips_gaps():
    from gui.training.plots import exponential_moving_average

    result = exponential_moving_average(np.array([math.nan, 1.0, math.inf, 3.0]), 0.5)
    np.testing.assert_allclose(result, [math.nan, 1.0, math.nan, 2.0])
    np.testing.assert_array_equal(exponential_moving_average(np.array([1.0, 5.0]), 0.0),
                                  [1.0, 5.0])


def test_non_finite_reports_leave_gaps(plots):
    plots.start_run("sgd-1", "SGD", SGD, batches_per_epoch=10)
    plots.set_smoothing(0.5)
    plots.add_batch("sgd-1", 0, 0, 0.5, 1.0)
    plots.add_batch("sgd-1", 0, 1, 0.5, math.inf)
    plots.add_batch("sgd-1", 0, 2, 0.5, 3.0)
    plots.add_epoch("sgd-1", 0, 0.5, None, math.nan, None)  # no validation data
    plots.add_epoch("sgd-1", 1, 0.5, 0.6, math.nan, math.inf)
    curves = plots.curves("sgd-1")
    np.testing.assert_allclose(curves["train_loss"].yData, [1.0, math.nan, 2.0])
    np.testing.assert_allclose(curves["val_accuracy"].xData, [2.0])
    assert _size(curves["val_loss"]) == 0
    plots.start_run("lion-2", "Lion", "#9a6324", batches_per_epoch=10)
    plots.add_batch("lion-2", 0, 0, math.nan, math.nan)  # diverged at once
    plots.add_batch("lion-2", 0, 1, math.nan, math.inf)
    plots.grab()  # painted and auto-ranged without a warning


def test_validation_markers_sit_at_epoch_ends_and_epoch_lines_are_drawn_once(plots):
    for key, color in (("sgd-1", SGD), ("adam-2", ADAM)):
        plots.start_run(key, key, color, batches_per_epoch=10)
        for epoch, (accuracy, loss) in enumerate(((0.93, 0.25), (0.96, 0.12), (0.97, 0.09))):
            plots.add_epoch(key, epoch, 0.9, accuracy, 0.3, loss)
    plots.add_epoch("adam-2", 2, 0.95, 0.975, 0.15, 0.08)  # a repeated epoch replaces
    curves = plots.curves("adam-2")
    np.testing.assert_allclose(curves["val_accuracy"].xData, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(curves["val_accuracy"].yData, [0.93, 0.96, 0.975])
    np.testing.assert_allclose(curves["val_loss"].xData, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(curves["val_loss"].yData, [0.25, 0.12, 0.08])
    assert curves["val_accuracy"].opts["symbol"] == "o"  # a bare colour: circles
    assert curves["val_loss"].opts["pen"].widthF() > curves["train_loss"].opts["pen"].widthF()
    assert plots.boundary_epochs() == [1, 2, 3]
    for plot in plots.plots.values():
        lines = _lines(plot)
        assert sorted(line.value() for line in lines) == [1, 2, 3]
        assert all(line.pen.style() == Qt.PenStyle.DashLine for line in lines)


def test_clear_removes_every_run_and_line(plots):
    plots.start_run("sgd-1", "SGD", SGD, batches_per_epoch=10)
    _feed(plots, "sgd-1")
    plots.add_epoch("sgd-1", 0, 0.9, 0.9, 0.3, 0.3)
    assert plots.legend.isVisible() and plots.racer_legend.isVisible()
    plots.clear()
    for plot in plots.plots.values():
        assert plot.listDataItems() == []
        assert _lines(plot) == []
    assert plots.boundary_epochs() == []
    assert not plots.legend.isVisible() and not plots.racer_legend.isVisible()
    with pytest.raises(KeyError):
        plots.add_batch("sgd-1", 0, 0, 0.5, 1.0)
    plots.start_run("sgd-1", "SGD", SGD, batches_per_epoch=10)  # usable again
    plots.add_epoch("sgd-1", 0, 0.9, 0.9, 0.3, 0.3)
    assert plots.boundary_epochs() == [1]


def test_a_stopped_run_is_dashed_until_restarted_on_the_same_items(plots):
    plots.start_run("sgd-1", "SGD", SGD, batches_per_epoch=10)
    plots.start_run("adam-2", "Adam", ADAM, batches_per_epoch=10)
    _feed(plots, "adam-2")
    plots.add_epoch("adam-2", 0, 0.9, 0.9, 0.3, 0.3)
    plots.mark_stopped("adam-2")
    styles = {key: {c.opts["pen"].style() for c in plots.curves(key).values()}
              for key in ("sgd-1", "adam-2")}
    assert styles == {"sgd-1": {Qt.PenStyle.SolidLine}, "adam-2": {Qt.PenStyle.DashLine}}
    assert plots.legend_labels() == ["SGD", "Adam (stopped)"]
    curves = plots.curves("adam-2")
    plots.start_run("adam-2", "Adam (learning_rate=0.01)", "#123456", batches_per_epoch=5)
    assert plots.curves("adam-2") == curves
    assert all(_size(curve) == 0 for curve in curves.values())
    assert {c.opts["pen"].style() for c in curves.values()} == {Qt.PenStyle.SolidLine}
    assert curves["val_loss"].opts["pen"].color().name() == "#123456"
    assert plots.legend_labels() == ["SGD", "Adam (learning_rate=0.01)"]
    plots.add_batch("adam-2", 1, 1, 0.5, 1.0)
    np.testing.assert_allclose(curves["train_accuracy"].xData, [1.2])


def test_each_run_has_its_landscape_marker_on_the_curves_and_in_the_legend(plots):
    from gui.palette import styles_for
    from gui.widgets import markers

    adam, sgd = styles_for(["adam", "sgd"])
    assert adam.marker != sgd.marker  # told apart by shape, not only colour
    plots.start_run("adam-1", "Adam", adam, batches_per_epoch=4)
    plots.start_run("sgd-2", "SGD", sgd, batches_per_epoch=4)
    for key, style in (("adam-1", adam), ("sgd-2", sgd)):
        curves = plots.curves(key)
        for name in ("val_accuracy", "val_loss"):
            assert curves[name].opts["symbol"] == markers.symbol(style.marker)
            assert pg.mkBrush(curves[name].opts["symbolBrush"]).color().name() == style.color.lower()
    legend = plots.racer_legend.entries()
    assert [(s.color, s.marker) for s, _, _ in legend] == [(adam.color, adam.marker),
                                                           (sgd.color, sgd.marker)]
    assert plots.legend_labels() == ["Adam", "SGD"]


def test_themes_recolour_background_axes_lines_and_legend(plots):
    plots.start_run("sgd-1", "SGD", SGD, batches_per_epoch=10)
    plots.add_epoch("sgd-1", 0, 0.9, 0.9, 0.3, 0.3)
    for theme in (DARK, LIGHT):
        plots.set_theme(theme)
        assert plots.graphics.backgroundBrush().color().name() == theme.background
        for plot in plots.plots.values():
            assert plot.getAxis("left").textPen().color().name() == theme.foreground
            assert _lines(plot)[0].pen.color().name() == theme.foreground
        symbol_pen = plots.curves("sgd-1")["val_accuracy"].opts["symbolPen"]
        assert pg.mkPen(symbol_pen).color().name() == theme.background
        assert theme.foreground in plots.legend.text()


def test_plots_stack_in_a_narrow_widget(plots):
    layout, accuracy, loss = plots.graphics.ci, plots.plots["accuracy"], plots.plots["loss"]
    assert (layout.getItem(0, 0), layout.getItem(0, 1)) == (accuracy, loss)
    plots.resize(400, 700)
    assert (layout.getItem(0, 0), layout.getItem(1, 0)) == (accuracy, loss)
    plots.resize(900, 450)
    assert (layout.getItem(0, 0), layout.getItem(0, 1)) == (accuracy, loss)


def test_export_png_writes_the_widget_and_no_temporary_file(plots, tmp_path):
    plots.start_run("sgd-1", "SGD", SGD, batches_per_epoch=10)
    _feed(plots, "sgd-1")
    target = tmp_path / "curves.png"
    target.write_bytes(b"old")
    plots.export_png(str(target))
    image = QImage(str(target))
    assert not image.isNull()
    assert (image.width(), image.height()) == (plots.width(), plots.height())
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_export_png_to_a_missing_folder_fails_cleanly(plots, tmp_path):
    with pytest.raises(OSError):
        plots.export_png(str(tmp_path / "missing" / "curves.png"))
    assert list(tmp_path.iterdir()) == []


# --- results table ---------------------------------------------------------------------------
@pytest.fixture
def table(qtbot):
    from gui.training.results import TrainingResults

    widget = TrainingResults()
    qtbot.addWidget(widget)
    widget.resize(900, 200)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _row(key, status="completed", state=814_160, **changes):
    from gui.training.results import TrainingRow

    values = dict(key=key, label=key.split("-")[0].upper(), color=ADAM, status=status,
                  train_accuracy=0.98123, val_accuracy=0.97534, test_accuracy=0.9749,
                  seconds_per_epoch=3.456, n_params=101_770, optimizer_state_bytes=state)
    values.update(changes)
    return TrainingRow(**values)


def _unknown(key, status):
    return _row(key, status, state=None, train_accuracy=None, val_accuracy=None,
                test_accuracy=None, seconds_per_epoch=None, n_params=None)


def _texts(table, row):
    return [table.item(row, column).text() for column in range(table.columnCount())]


def test_rows_show_formatted_values_and_exact_sizes_in_tooltips(table):
    from gui.training.results import COLUMNS, STATE_COLUMN, VERSUS_SGD_COLUMN

    table.set_rows([_row("adam-1"), _unknown("nadam-2", "waiting")])
    assert _texts(table, 0)[:VERSUS_SGD_COLUMN] == [
        "ADAM", "completed", "98.12%", "97.53%", "97.49%", "3.46", "101,770", "795.1 KB"]
    assert table.item(0, STATE_COLUMN).toolTip() == "814,160 bytes"
    assert table.item(0, 0).toolTip() == "ADAM"
    assert not table.item(0, 0).icon().isNull()
    assert _texts(table, 1)[2:VERSUS_SGD_COLUMN] == ["—"] * 6
    assert table.item(1, STATE_COLUMN).toolTip() == ""
    assert table.isColumnHidden(VERSUS_SGD_COLUMN)  # no SGD run to compare with
    assert [table.horizontalHeaderItem(c).text() for c in range(len(COLUMNS))] == list(COLUMNS)
    assert not table.item(0, 2).flags() & Qt.ItemFlag.ItemIsEditable


def test_optimizer_state_is_compared_with_sgd(table):
    from gui.training.results import VERSUS_SGD_COLUMN

    table.set_rows([_row("sgd-1", state=407_080), _row("adam-2")])
    assert not table.isColumnHidden(VERSUS_SGD_COLUMN)
    assert table.item(0, VERSUS_SGD_COLUMN).text() == "×1.0 of SGD"
    assert table.item(1, VERSUS_SGD_COLUMN).text() == "×2.0 of SGD"
    # Plain SGD keeps only a step counter: a ratio to 8 bytes says nothing, a difference does.
    table.set_rows([_row("sgd-1", state=8), _row("adam-2", state=8 + 814_160)])
    assert table.item(0, VERSUS_SGD_COLUMN).text() == "same"
    assert table.item(1, VERSUS_SGD_COLUMN).text() == "+795.1 KB"
    assert table.item(1, VERSUS_SGD_COLUMN).toolTip() == "795.1 KB more than SGD"


def test_set_rows_updates_cells_in_place(table):
    table.set_rows([_row("sgd-1", status="running", test_accuracy=None), _row("adam-2")])
    first = table.item(0, 1)
    table.set_rows([_row("sgd-1"), _row("adam-2")])
    assert table.item(0, 1) is first and first.text() == "completed"
    assert table.item(0, 4).text() == "97.49%"
    table.set_rows([_row("adam-2")])
    assert table.rowCount() == 1 and table.item(0, 0).text() == "ADAM"


def test_status_colours_follow_light_and_dark_palettes(table):
    from gui.training.results import _STATUS_COLORS

    statuses = ("waiting", "running", "completed", "stopped", "failed", "diverged")
    table.set_rows([_row(f"adam-{i}", status=status) for i, status in enumerate(statuses)])
    for dark in (False, True):
        palette = table.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor("#1e2027" if dark else "#ffffff"))
        table.setPalette(palette)
        table.set_theme(DARK if dark else LIGHT)
        for index, status in enumerate(statuses):
            colour = table.item(index, 1).foreground().color()
            assert colour.name() == _STATUS_COLORS[dark][status]
            # Contrast with the base colour: the lightness differs by a good margin.
            assert abs(colour.lightness() - (30 if dark else 255)) > 70


def test_to_csv_parses_back_to_the_plain_numbers(table):
    rows = [_row("sgd-1", state=407_080, seconds_per_epoch=np.float64(2.5)),
            _row("adam-2", label='Adam "fast", β₁=0.9', val_accuracy=np.float32(0.96875)),
            _unknown("nadam-3", "failed")]
    table.set_rows(rows)
    text = table.to_csv()
    assert "\r" not in text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["key"] for r in parsed] == ["sgd-1", "adam-2", "nadam-3"]
    assert parsed[1]["optimizer"] == 'Adam "fast", β₁=0.9'
    assert (float(parsed[0]["train_accuracy"]), float(parsed[0]["seconds_per_epoch"])) == (
        0.98123, 2.5)
    assert float(parsed[1]["val_accuracy"]) == 0.96875
    names = ("n_params", "optimizer_state_bytes", "state_minus_sgd_bytes", "state_over_sgd")
    plain = {k: parsed[1][k] for k in names}
    assert plain == {"n_params": "101770", "optimizer_state_bytes": "814160",
                     "state_minus_sgd_bytes": "407080", "state_over_sgd": "2.0"}
    assert parsed[2]["status"] == "failed"
    assert all(parsed[2][name] == "" for name in ("train_accuracy", "test_accuracy",
                                                  "n_params", "optimizer_state_bytes"))


def test_the_csv_says_what_the_table_says_when_sgd_keeps_almost_nothing(table):
    # Plain SGD keeps a step counter only: the table shows "+795.1 KB", not a ratio.
    rows = [_row("sgd-1", state=8), _row("adam-2", state=814_168)]
    table.set_rows(rows)
    parsed = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert table.item(1, table.columnCount() - 1).text() == "+795.1 KB"
    assert parsed[1]["state_minus_sgd_bytes"] == "814160"  # the table's +795.1 KB
    assert parsed[1]["state_over_sgd"] == ""  # a ratio to 8 bytes would say nothing


def test_human_size_uses_binary_multiples():
    from gui.training.results import human_size

    sizes = (0, 1023, 1024, 411_546, 1024**2 - 1, 3 * 1024**3)
    assert [human_size(n) for n in sizes] == ["0 B", "1023 B", "1.0 KB", "401.9 KB", "1.0 MB",
                                              "3.0 GB"]


def test_a_session_fixes_the_epoch_axis_and_clear_lets_it_fit_again(plots, qtbot):
    plots.set_epochs(5)
    plots.start_run("adam", "Adam", ADAM, 10)
    _feed(plots, "adam", epochs=1)
    for name in ("accuracy", "loss"):  # the loss plot follows through the link
        x0, x1 = plots.plots[name].viewRange()[0]
        assert x0 == pytest.approx(0.0, abs=0.11) and 5.0 <= x1 <= 5.2
    plots.clear()
    plots.start_run("adam", "Adam", ADAM, 10)
    _feed(plots, "adam", epochs=2)
    qtbot.wait(50)
    x0, x1 = plots.plots["accuracy"].viewRange()[0]
    assert x1 < 3.0  # fits two epochs, no longer five


def test_the_epoch_axis_has_whole_epochs_only(qtbot):
    """Before training the empty plots read "0.2 0.4 0.6 0.8" (epochs that do not exist),
    and at presentation size those ran into one another: ticks sit at whole epochs."""
    from gui.training.plots import EpochAxis, TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    for plot in plots.plots.values():
        axis = plot.getAxis("bottom")
        assert isinstance(axis, EpochAxis)
        for low, high in ((0.0, 1.0), (0.0, 5.0), (0.0, 1000.0)):
            for spacing, _ in axis.tickSpacing(low, high, 300):
                assert spacing >= 1 and float(spacing).is_integer()
            values = [v for _, ticks in axis.tickValues(low, high, 300) for v in ticks]
            assert values and all(float(v).is_integer() for v in values)
