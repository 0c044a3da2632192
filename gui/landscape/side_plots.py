"""Loss, gradient norm and distance to the nearest minimum against step, one curve per racer.

Three stacked plots share the step axis and have log y axes, so decades gained show as slopes.
``set_series`` runs every animation frame: curves are kept per racer key and only their data
changes. Values are clipped at :data:`LOG_FLOOR`; losses are first shifted by the surface's
minimum value when known (``loss − f*``), else non-positive losses turn the loss axis linear.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.palette import LIGHT, Theme
from gui.widgets.log_axis import LOG_FLOOR, DecadeAxis

NO_MINIMUM_TEXT = "no known minimum"
_ANY_MAGNITUDE = ((0.0, float("inf")),)
_DOWNSAMPLE_FROM = 1000  #: steps from which a curve is drawn downsampled (peak per pixel)
_PLOTS = (  # attribute of Series, title, y-axis label
    ("loss", "Loss", "loss"),
    ("grad_norm", "Gradient norm", "‖∇f‖"),
    ("distance", "Distance to the nearest known minimum", "distance"),
)
_TITLES = {name: title for name, title, _ in _PLOTS}


def _pen(color: str, width: float = 1.0):
    # 1 px: Qt's fast path for antialiased lines. A 2 px antialiased noisy curve of 2000
    # steps took 180 ms to paint (1 px: 9 ms), too slow for an animation frame; presentation
    # mode accepts that cost for readability.
    return pg.mkPen(color, width=width)


@dataclass(frozen=True, eq=False)
class Series:
    """One racer's history up to the shown step.

    Attributes
    ----------
    key, label, color : str
        Racer key, display name and hex colour.
    loss, grad_norm : ndarray
        Per step ``0..k``, finite floats.
    distance : ndarray or None
        Distance to the nearest known minimum per step; None where the surface has none.
    """

    key: str
    label: str
    color: str
    loss: np.ndarray
    grad_norm: np.ndarray
    distance: np.ndarray | None


class SidePlots(QWidget):
    """Loss, ‖∇f‖ and distance to the nearest known minimum against step, stacked.

    The step axes are linked; every y axis is logarithmic; a dashed vertical line marks the
    current step. The racers' names and colours are listed above the plots, so no legend
    covers a curve.

    Parameters
    ----------
    parent : QWidget, optional
        Qt parent.
    theme : Theme
        Background and text colours.
    """

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setContentsMargins(6, 2, 6, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(2, 2, 16, 2)
        self.graphics.ci.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.legend)
        layout.addWidget(self.graphics, 1)
        self.setMinimumSize(220, 300)
        self.plots: dict[str, pg.PlotItem] = {}
        self.cursors: dict[str, pg.InfiniteLine] = {}
        for row, (name, _, label) in enumerate(_PLOTS):
            plot = self.graphics.addPlot(row=row, col=0,
                                         axisItems={"left": DecadeAxis("left")})
            plot.setMenuEnabled(False)
            plot.hideButtons()
            # Long curves draw each pixel column's extremes only (see set_series).
            plot.setDownsampling(auto=False, mode="peak")
            plot.setClipToView(True)
            plot.setLogMode(x=False, y=True)
            plot.setLabel("left", label, siPrefixEnableRanges=())
            plot.getAxis("left").setWidth(58)
            for side in ("left", "bottom"):  # "(x1e+15)" by a log axis reads as a value
                plot.getAxis(side).enableAutoSIPrefix(False)
            plot.getAxis("bottom").setStyle(hideOverlappingLabels=16)  # the last step's too
            if row:
                plot.setXLink(self.plots["loss"])
            cursor = pg.InfiniteLine(pos=0, angle=90, movable=False)
            cursor.setZValue(50)
            plot.addItem(cursor, ignoreBounds=True)
            self.plots[name], self.cursors[name] = plot, cursor
        self.plots["distance"].setLabel("bottom", "step")
        self.no_minimum = pg.TextItem(NO_MINIMUM_TEXT, anchor=(0.5, 0.5))
        self.no_minimum.setParentItem(self.plots["distance"].getViewBox())
        self.no_minimum.hide()
        self._no_minimum_shown = False
        self.plots["distance"].getViewBox().sigResized.connect(self._place_no_minimum)
        self._curves: dict[str, tuple[str, dict[str, pg.PlotDataItem]]] = {}
        self._legend_entries: tuple[tuple[str, str], ...] = ()
        self._loss_axis: tuple[str, bool] | None = None
        self._longest = -1
        self.step = 0
        self.line_width = 1.0
        self.set_theme(theme)
        self._set_loss_axis(offset=False, log=True)

    def set_series(self, series: list[Series], loss_offset: float | None = None) -> None:
        """Show ``series``, reusing each racer's curves; curves of absent keys are removed.

        Parameters
        ----------
        series
            One entry per racer, in drawing order.
        loss_offset
            The surface's minimum value f* when known: the loss plot shows ``loss − f*``
            (clipped at :data:`LOG_FLOOR`). Without it, losses are clipped the same way unless
            some are zero or negative, in which case the loss axis turns linear.
        """
        for key in set(self._curves) - {s.key for s in series}:
            for name, item in self._curves.pop(key)[1].items():
                self.plots[name].removeItem(item)
        if loss_offset is None:
            log_loss = all(s.loss.size == 0 or float(np.min(s.loss)) > 0 for s in series)
        else:
            log_loss = True
        self._set_loss_axis(offset=loss_offset is not None, log=log_loss)
        any_distance = False
        longest = max((s.loss.size for s in series), default=0)
        for entry in series:
            curves = self._curves_for(entry.key, entry.color)
            steps = np.arange(entry.loss.size)
            loss = entry.loss if loss_offset is None else entry.loss - loss_offset
            if log_loss:
                loss = np.maximum(loss, LOG_FLOOR)
            curves["loss"].setData(steps, loss)
            curves["grad_norm"].setData(steps, np.maximum(entry.grad_norm, LOG_FLOOR))
            if entry.distance is None:
                curves["distance"].setData([], [])
            else:
                any_distance = True
                distance = np.maximum(entry.distance, LOG_FLOOR)
                curves["distance"].setData(np.arange(distance.size), distance)
            # pyqtgraph sizes downsampling bins from the view's width in steps (the longest
            # run): a run that diverged early would get zero bins and vanish.
            downsample = entry.loss.size >= max(_DOWNSAMPLE_FROM, longest // 2)
            if curves["loss"].opts["autoDownsample"] != downsample:
                for item in curves.values():
                    item.setDownsampling(auto=downsample)
        if longest != self._longest:  # not autorange: downsampling drops a curve's last bin
            self._longest = longest
            self.plots["loss"].setXRange(0, max(longest - 1, 1), padding=0.02)
        no_minimum = bool(series) and not any_distance
        if no_minimum != self._no_minimum_shown:
            self._no_minimum_shown = no_minimum
            self.no_minimum.setVisible(no_minimum)
            self.plots["distance"].getAxis("left").setStyle(showValues=not no_minimum)
        self._set_legend(tuple((s.label, s.color) for s in series))

    def _curves_for(self, key: str, color: str) -> dict[str, pg.PlotDataItem]:
        entry = self._curves.get(key)
        if entry is None:
            curves = {}
            for name, plot in self.plots.items():
                item = pg.PlotDataItem(pen=_pen(color, self.line_width), antialias=True,
                                       autoDownsampleFactor=1.0)
                plot.addItem(item)
                curves[name] = item
            self._curves[key] = (color, curves)
            return curves
        old_color, curves = entry
        if old_color != color:
            for item in curves.values():
                item.setPen(_pen(color, self.line_width))
            self._curves[key] = (color, curves)
        return curves

    def curves(self, key: str) -> dict[str, pg.PlotDataItem]:
        """The curves drawn for racer ``key``, by plot: ``loss``, ``grad_norm``, ``distance``."""
        return dict(self._curves[key][1])

    def keys(self) -> list[str]:
        """Keys of the racers drawn."""
        return list(self._curves)

    def set_cursor(self, step: int) -> None:
        """Move the vertical line marking the current step to ``step``."""
        self.step = int(step)
        for cursor in self.cursors.values():
            cursor.setValue(self.step)

    def clear(self) -> None:
        """Remove every curve and the legend; the cursor goes back to step 0."""
        self.set_series([])
        self.set_cursor(0)

    def set_line_scale(self, width: float, font_points: int | None = None) -> None:
        """Curve width in pixels and axis text size (presentation mode); None: default."""
        self.line_width = float(width)
        for color, curves in self._curves.values():
            for item in curves.values():
                item.setPen(_pen(color, self.line_width))
        font = QFont()
        if font_points:
            font.setPointSize(font_points)
        for plot in self.plots.values():
            for side in ("left", "bottom"):
                plot.getAxis(side).setTickFont(font)
                plot.getAxis(side).label.setFont(font)

    def set_theme(self, theme: Theme) -> None:
        """Redraw backgrounds, axes, grid, cursor and legend in ``theme``'s colours."""
        self.theme = theme
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(theme.background))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.foreground))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self.graphics.setBackground(theme.background)
        cursor_pen = pg.mkPen(theme.foreground, width=1, style=Qt.PenStyle.DashLine)
        for name, plot in self.plots.items():
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(theme.foreground)
                axis.setTextPen(theme.foreground)
            plot.showGrid(x=False, y=True, alpha=theme.grid_alpha)
            plot.setTitle(_TITLES[name], size="9pt", color=theme.foreground)
            self.cursors[name].setPen(cursor_pen)
        self.no_minimum.setColor(theme.foreground)
        self._render_legend()

    def _set_loss_axis(self, offset: bool, log: bool) -> None:
        label = "loss − f*" if offset else "loss"
        if (label, log) == self._loss_axis:
            return
        self._loss_axis = (label, log)
        plot, axis = self.plots["loss"], self.plots["loss"].getAxis("left")
        # Linear: "-4 … 0" and "(x1e+06)" in the label; log: no such factor (it would read as
        # part of the values). Labels change while the axis is linear: on a log axis
        # pyqtgraph computes 10**range, which overflows on the linear range it just had.
        ranges = () if log else _ANY_MAGNITUDE
        if log and not axis.logMode:
            axis.setLabel(label, siPrefixEnableRanges=ranges)  # resets the factor to 1 …
            axis.enableAutoSIPrefix(False)  # … which disabling alone would leave stale
            plot.setLogMode(x=False, y=True)
        elif not log and axis.logMode:
            plot.setLogMode(x=False, y=False)
            axis.setLabel(label, siPrefixEnableRanges=ranges)
            axis.enableAutoSIPrefix(True)
        else:
            axis.setLabel(label, siPrefixEnableRanges=ranges)

    def _set_legend(self, entries: tuple[tuple[str, str], ...]) -> None:
        if entries != self._legend_entries:
            self._legend_entries = entries
            self._render_legend()

    def _render_legend(self) -> None:
        items = [f'<span style="color:{escape(color)}; font-size:13pt">■</span>&nbsp;'
                 f"{escape(label)}" for label, color in self._legend_entries]
        joined = "&nbsp;&nbsp; ".join(items)
        self.legend.setText(f'<span style="color:{self.theme.foreground}">{joined}</span>')
        self.legend.setVisible(bool(items))

    @Slot(object)
    def _place_no_minimum(self, view_box) -> None:
        self.no_minimum.setPos(view_box.boundingRect().center())
