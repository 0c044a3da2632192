"""Live training curves: accuracy and loss against epoch, one colour and marker per optimizer.

Training reports (every few batches, ~20 a second at most) go into growing NumPy buffers and
only call ``setData`` on curves made once per run. Validation values are drawn at each epoch's
end (``epoch + 1``) with the run's own marker shape (as on the landscape, so runs are told apart
without colour), where a dashed line marks the epoch. Names, markers and what the line styles
mean are listed above the plots, so no legend covers a curve.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.files import atomic
from gui.palette import LIGHT, RacerStyle, Theme
from gui.widgets import markers
from gui.widgets.legend import RacerLegend
from gui.widgets.log_axis import LOG_FLOOR, log_tick_label

MAX_SMOOTHING = 0.99  #: the largest EMA factor :meth:`TrainingPlots.set_smoothing` accepts
_PLOTS = (("accuracy", "Accuracy", "accuracy"), ("loss", "Loss", "loss"))
_SIDE_BY_SIDE_RATIO = 1.25  #: width / height from which the two plots sit side by side


def exponential_moving_average(values: np.ndarray, factor: float) -> np.ndarray:
    """``s[i] = factor * s[i-1] + (1 - factor) * values[i]``, from the first finite value.

    Parameters
    ----------
    values : ndarray
        1-D series; non-finite entries give NaN and leave the average unchanged.
    factor : float
        Weight of the previous average, in ``[0, 1)``; 0 returns the finite values as they are.
    """
    values = np.asarray(values, dtype=float)
    smoothed, state = np.empty_like(values), math.nan
    for index, value in enumerate(values.tolist()):
        smoothed[index], state = _ema_step(state, value, factor)
    return smoothed


def _ema_step(state: float, value: float, factor: float) -> tuple[float, float]:
    """One step of the average: ``(value drawn, new state)``; a gap draws NaN."""
    if not math.isfinite(value):
        return math.nan, state
    state = factor * state + (1.0 - factor) * value if math.isfinite(state) else value
    return state, state


def _number(value) -> float:
    """``value`` as a float; None (no validation data) and non-finite values become NaN."""
    return math.nan if value is None or not math.isfinite(value) else float(value)


def _with_alpha(color: str, alpha: float) -> QColor:
    result = QColor(color)
    result.setAlphaF(alpha)
    return result


class _LossAxis(pg.AxisItem):
    """Log-axis labels ``0.05``, ``0.1``, ``0.2`` … (as the landscape's side plots)."""

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        return [log_tick_label(v) for v in np.asarray(values, dtype=float)]


class EpochAxis(pg.AxisItem):
    """Ticks at whole epochs only: before training the empty plots read "0.2 0.4 0.6 0.8",
    epochs that do not exist, and at presentation size those ran into one another
    ("0.20.40.60.8"; found by a fresh-eyes review)."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph override)
        levels = super().tickSpacing(minVal, maxVal, size)
        whole = [(spacing, offset) for spacing, offset in levels
                 if spacing >= 1 and float(spacing).is_integer()]
        return whole or [(1.0, 0.0)]


class _Run:
    """One optimizer's buffers and its four curves (made once, then only ``setData``)."""

    def __init__(self, curves: dict, label: str, style: RacerStyle,
                 batches_per_epoch: int) -> None:
        self.curves, self.label, self.style, self.stopped = curves, label, style, False
        self.color = style.color
        self.batches_per_epoch = max(1, int(batches_per_epoch))
        self.count = 0
        # x, raw accuracy, raw loss, drawn (smoothed) accuracy, drawn loss
        self.buffers = np.full((5, 256), np.nan)
        self.states = [math.nan, math.nan]  # EMA of accuracy and of loss
        self.epochs: dict[int, tuple[float, float]] = {}  # epoch -> (val acc, val loss)

    def append(self, x: float, accuracy: float, loss: float, factor: float) -> None:
        if self.count == self.buffers.shape[1]:
            grown = np.full((5, 2 * self.count), np.nan)
            grown[:, :self.count] = self.buffers
            self.buffers = grown
        drawn_accuracy, self.states[0] = _ema_step(self.states[0], accuracy, factor)
        drawn_loss, self.states[1] = _ema_step(self.states[1], loss, factor)
        self.buffers[:, self.count] = (x, accuracy, loss, drawn_accuracy, drawn_loss)
        self.count += 1

    def resmooth(self, factor: float) -> None:
        for row in range(2):
            drawn = exponential_moving_average(self.buffers[1 + row, :self.count], factor)
            self.buffers[3 + row, :self.count] = drawn
            finite = drawn[np.isfinite(drawn)]
            self.states[row] = float(finite[-1]) if finite.size else math.nan

    def draw_batches(self) -> None:
        x, _, _, accuracy, loss = self.buffers[:, :self.count]
        self.curves["train_accuracy"].setData(x, accuracy)
        self.curves["train_loss"].setData(x, np.maximum(loss, LOG_FLOOR))

    def draw_epochs(self) -> None:
        epochs = sorted(self.epochs)
        x = np.asarray(epochs, dtype=float) + 1.0
        values = np.asarray([self.epochs[e] for e in epochs], dtype=float).reshape(-1, 2)
        values[:, 1] = np.maximum(values[:, 1], LOG_FLOOR)
        for name, column in (("val_accuracy", values[:, 0]), ("val_loss", values[:, 1])):
            known = np.isfinite(column)  # no markers for NaN (an all-NaN scatter warns)
            self.curves[name].setData(x[known], column[known])


class TrainingPlots(QWidget):
    """Accuracy and loss against epoch, live, one colour per optimizer.

    Training values (every few batches) are thin lines, optionally smoothed; validation values
    (end of each epoch) thick lines with markers. The plots share the epoch axis and sit side
    by side in a wide widget, stacked in a narrow one.

    Parameters
    ----------
    parent : QWidget, optional
        Qt parent.
    theme : Theme
        Background and text colours.
    """

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme, self.smoothing = theme, 0.0
        self.racer_legend = RacerLegend()
        self.racer_legend.setContentsMargins(6, 2, 6, 0)
        self.legend = QLabel(textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.legend.setContentsMargins(6, 0, 6, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(2, 2, 10, 2)
        self.graphics.ci.setSpacing(6)
        layout = QVBoxLayout(self, spacing=0, contentsMargins=QMargins(0, 0, 0, 0))
        layout.addWidget(self.racer_legend)
        layout.addWidget(self.legend)
        layout.addWidget(self.graphics, 1)
        self.setMinimumSize(260, 300)
        self.plots: dict[str, pg.PlotItem] = {}
        for name, _, label in _PLOTS:
            axes = {"bottom": EpochAxis("bottom")}
            if name == "loss":
                axes["left"] = _LossAxis("left")
            plot = pg.PlotItem(axisItems=axes)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setLabels(left=label, bottom="epoch")
            plot.getAxis("left").setWidth(52)
            plot.getAxis("left").enableAutoSIPrefix(False)
            self.plots[name] = plot
        # Cross-entropy spans decades (2.3 at the start, 0.05 late): a log axis shows the
        # late differences between optimizers that a linear one squashes against zero.
        self.plots["loss"].setLogMode(x=False, y=True)
        self.plots["loss"].setLimits(xMin=0.0)  # y limits would be in log10 units
        self.plots["accuracy"].setLimits(xMin=0.0, yMin=0.0, yMax=1.0)
        self.plots["loss"].setXLink(self.plots["accuracy"])
        self._side_by_side: bool | None = None
        self._arrange(side_by_side=True)
        self._runs: dict[str, _Run] = {}
        self._boundaries: dict[int, list[pg.InfiniteLine]] = {}
        self._cursors = [pg.InfiniteLine(angle=90, movable=False) for _ in self.plots]
        for cursor in self._cursors:
            cursor.setZValue(30)
        self.set_theme(theme)

    # --- data ---------------------------------------------------------------------------------
    def start_run(self, key: str, label: str, style: RacerStyle | str,
                  batches_per_epoch: int) -> None:
        """Add run ``key`` (or restart it, emptying its curves).

        Parameters
        ----------
        key, label
            Identifies the run in later calls; its name in the legend.
        style
            Its :class:`gui.palette.RacerStyle` (colour and marker, as on the landscape); a hex
            colour alone draws circles.
        batches_per_epoch
            Batch ``b`` of epoch ``e`` is drawn at ``e + b / batches_per_epoch``.
        """
        if isinstance(style, str):
            style = RacerStyle(style, "o")
        curves = self._runs[key].curves if key in self._runs else self._make_curves()
        run = self._runs[key] = _Run(curves, label, style, batches_per_epoch)
        run.draw_batches()
        run.draw_epochs()
        self._style_run(run)
        self._render_legend()

    def add_batch(self, key: str, epoch: int, batch: int, accuracy: float, loss: float) -> None:
        """Append a training report of run ``key`` at ``epoch + batch / batches_per_epoch``.

        Parameters
        ----------
        key
            A run added by :meth:`start_run` (else ``KeyError``).
        epoch, batch, accuracy, loss
            0-based epoch and batch; training values (None or non-finite: a gap).
        """
        run = self._runs[key]
        run.append(epoch + batch / run.batches_per_epoch, _number(accuracy), _number(loss),
                   self.smoothing)
        run.draw_batches()

    def add_epoch(self, key: str, epoch: int, accuracy: float, val_accuracy: float, loss: float,
                  val_loss: float) -> None:
        """Add the validation values of run ``key`` at the end of 0-based ``epoch``.

        They are drawn at ``x = epoch + 1``, where a dashed line marks the epoch's end (one line
        per epoch number, whichever run reaches it first). ``accuracy`` and ``loss`` (the
        epoch's training averages) are accepted for the caller's convenience; the thin
        training curves already show them. None or non-finite values leave a gap.
        """
        run = self._runs[key]
        run.epochs[int(epoch)] = (_number(val_accuracy), _number(val_loss))
        run.draw_epochs()
        self._add_boundary(int(epoch) + 1)

    def set_smoothing(self, factor: float) -> None:
        """Smooth the training curves (data so far included) by an exponential moving average.

        Parameters
        ----------
        factor
            Weight of the past, clipped to ``[0, 0.99]``; 0 draws the raw values.
        """
        factor = min(max(float(factor), 0.0), MAX_SMOOTHING) if math.isfinite(factor) else 0.0
        self.smoothing = factor
        for run in self._runs.values():
            run.resmooth(factor)
            run.draw_batches()
        self._render_legend()

    def mark_stopped(self, key: str) -> None:
        """Draw run ``key`` dashed and note "(stopped)" by its name in the legend."""
        self._runs[key].stopped = True
        self._style_run(self._runs[key])
        self._render_legend()

    def set_epochs(self, epochs: int | None) -> None:
        """Fix the epoch axis to ``[0, epochs]`` for a session of that many epochs (None: fit
        the data): the curves grow across a frame that shows the whole session from the first
        batch, and the axis is not re-laid out at every update."""
        plot = self.plots["accuracy"]  # the loss plot's x axis is linked to it
        if epochs is None:
            plot.enableAutoRange(x=True)
        else:
            plot.setXRange(0.0, float(epochs), padding=0.02)

    def set_cursor(self, epochs: float) -> None:
        """A vertical line at ``epochs`` in both plots (where the network landscape's paths
        are shown); a negative value hides it."""
        for cursor, plot in zip(self._cursors, self.plots.values(), strict=True):
            if epochs < 0:
                cursor.hide()
                continue
            if cursor not in plot.items:  # added when first needed (clear() removes it)
                plot.addItem(cursor, ignoreBounds=True)
            cursor.setValue(float(epochs))
            cursor.show()

    def clear(self) -> None:
        """Remove every run, curve and epoch line; the epoch axis fits the data again."""
        for plot in self.plots.values():
            plot.clear()  # every item in the plots is a run's curve, an epoch line or the cursor
        self.set_epochs(None)
        self._runs.clear()
        self._boundaries.clear()
        self._render_legend()

    def runs(self) -> list[str]:
        """The keys of the runs drawn (none before training)."""
        return list(self._runs)

    def curves(self, key: str) -> dict[str, pg.PlotDataItem]:
        """Run ``key``'s ``train_accuracy``, ``val_accuracy``, ``train_loss``, ``val_loss``."""
        return dict(self._runs[key].curves)

    def boundary_epochs(self) -> list[int]:
        """Where dashed epoch lines are drawn (whole epochs, each once)."""
        return sorted(self._boundaries)

    def _make_curves(self) -> dict[str, pg.PlotDataItem]:
        curves = {}
        for name in ("train_accuracy", "val_accuracy", "train_loss", "val_loss"):
            validation = name.startswith("val")
            curve = pg.PlotDataItem(antialias=True, connect="finite", symbolSize=10,
                                    symbol="o" if validation else None)
            curve.setZValue(20 if validation else 10)
            self.plots[name.split("_", 1)[1]].addItem(curve)
            curves[name] = curve
        return curves

    def _add_boundary(self, x: int) -> None:
        if x in self._boundaries:
            return
        lines = self._boundaries[x] = []
        for plot in self.plots.values():
            lines.append(pg.InfiniteLine(pos=x, angle=90, movable=False,
                                         pen=self._boundary_pen()))
            plot.addItem(lines[-1], ignoreBounds=True)

    def export_png(self, path: str) -> None:
        """Save the whole widget as a PNG at ``path``: encoded in memory, then written beside
        it and checked byte for byte before it replaces ``path``, so no half-written file is
        ever left. ``OSError`` (naming the file and the reason) if it can't be saved."""
        from gui.exports import ExportError, png_bytes
        from gui.widgets import paint_settled

        paint_settled(self)  # not black while presentation mode settles
        try:
            data = png_bytes(self.grab().toImage(), path)
        except ExportError as error:
            raise OSError(str(error)) from None
        atomic.write_bytes(path, data)

    # --- layout and looks ---------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._arrange(event.size().width() >= _SIDE_BY_SIDE_RATIO * event.size().height())

    def _arrange(self, side_by_side: bool) -> None:
        if side_by_side == self._side_by_side:
            return
        for index, plot in enumerate(self.plots.values()):
            if self._side_by_side is not None:
                self.graphics.ci.removeItem(plot)
            self.graphics.ci.addItem(plot, row=0 if side_by_side else index,
                                     col=index if side_by_side else 0)
        self.plots["accuracy"].getAxis("bottom").showLabel(side_by_side)  # once when stacked
        self._side_by_side = side_by_side

    def set_theme(self, theme: Theme) -> None:
        """Redraw backgrounds, axes, grid, epoch lines, markers and legend in ``theme``."""
        self.theme = theme
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(theme.background))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.foreground))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self.graphics.setBackground(theme.background)
        for (_, title, _), plot in zip(_PLOTS, self.plots.values(), strict=True):
            for axis in (plot.getAxis("left"), plot.getAxis("bottom")):
                axis.setPen(theme.foreground)
                axis.setTextPen(theme.foreground)
            plot.showGrid(x=False, y=True, alpha=theme.grid_alpha)
            plot.setTitle(title, size="11pt", color=theme.foreground)
        for line in (line for lines in self._boundaries.values() for line in lines):
            line.setPen(self._boundary_pen())
        for cursor in self._cursors:
            cursor.setPen(pg.mkPen(theme.foreground, width=2))
        for run in self._runs.values():
            self._style_run(run)
        self._render_legend()

    def _boundary_pen(self):
        return pg.mkPen(_with_alpha(self.theme.foreground, 0.45), style=Qt.PenStyle.DashLine)

    def _style_run(self, run: _Run) -> None:
        style = Qt.PenStyle.DashLine if run.stopped else Qt.PenStyle(run.style.dash)
        for name, curve in run.curves.items():
            if name.startswith("val"):  # thick; markers ringed in the background colour
                curve.setPen(pg.mkPen(run.color, width=3, style=style))
                curve.setSymbol(markers.symbol(run.style.marker))
                curve.setSymbolSize(12)
                curve.setSymbolBrush(run.color)
                curve.setSymbolPen(pg.mkPen(self.theme.background, width=1.5))
            else:  # 1 px (Qt's fast path), a little transparent under the validation line
                curve.setPen(pg.mkPen(_with_alpha(run.color, 0.7), width=1, style=style))

    def _render_legend(self) -> None:
        entries = []
        for run in self._runs.values():
            dash = int(Qt.PenStyle.DashLine.value) if run.stopped else run.style.dash
            style = RacerStyle(run.color, run.style.marker, dash)
            label = run.label + (" (stopped)" if run.stopped else "")
            entries.append((style, label, f"{label}: {style.describe()}"))
        self.racer_legend.set_entries(entries)
        smoothing = (f", smoothed (EMA {self.smoothing:.2f})" if self.smoothing > 0 else "")
        key = (f"thin line: training, every few batches{smoothing} &nbsp;·&nbsp; "
               "thick line with markers: validation, end of each epoch")
        self.legend.setText(f'<span style="color:{self.theme.foreground}">{key}</span>')
        self.legend.setVisible(bool(entries))

    def legend_labels(self) -> list[str]:
        """The names in the legend, in run order ("(stopped)" after a stopped run's)."""
        return [label for _, label, _ in self.racer_legend.entries()]
