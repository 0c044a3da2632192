"""Loss, gradient norm and distance to the nearest minimum against step, one curve per racer.

Three stacked plots share the step axis and have log y axes, so decades gained show as slopes.
``set_series`` runs every animation frame: curves are kept per racer key and only their data
changes. Values are clipped at :data:`LOG_FLOOR`; losses are first shifted by the surface's
minimum value when known (``f − f*``), else non-positive losses turn the loss axis linear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.palette import LIGHT, RacerStyle, Theme
from gui.widgets import markers
from gui.widgets.legend import RacerLegend
from gui.widgets.log_axis import LOG_FLOOR, DecadeAxis
from gui.widgets.peaks import peaks
from gui.widgets.step_axis import StepAxis

NO_MINIMUM_TEXT = "no known minimum"
_ANY_MAGNITUDE = ((0.0, float("inf")),)
_DOWNSAMPLE_FROM = 1000  #: steps from which a curve is drawn downsampled (peak per pixel)
_PLOTS = (  # attribute of Series, title, y-axis label
    ("loss", "Loss", "loss"),
    ("grad_norm", "Gradient norm", "‖∇f‖"),
    ("distance", "Distance to nearest minimum", "distance"),
)
_TITLES = {name: title for name, title, _ in _PLOTS}
TITLES_FROM_HEIGHT = 420  #: a shorter panel leaves the plots untitled (their y axes say it)
#: What the y range and the end marks need of a curve: its least, greatest and last value
#: as plotted, and how many values it has.
Extent = tuple[float, float, float, int]


def _left_axis_width(font: QFont) -> int:
    """A y axis wide enough for its title beside its longest tick label ("10⁻¹⁵") in ``font``
    (58 px at the default 9 points; a fixed 58 let the title cover the ticks in presentation
    mode's 13 points)."""
    metrics = QFontMetrics(font)
    return metrics.horizontalAdvance("10⁻¹⁵") + metrics.height() + 13


def _let_title_narrow(title: pg.LabelItem) -> None:
    """A title no longer asks its text's width of the layout: "Distance to nearest minimum"
    in presentation mode's 13 points made the plots wider than their column, which cut off
    their right ends (where each curve's end mark sits). The text stays centred above."""
    base = title.updateMin

    def update_min() -> None:
        base()
        title.setMinimumWidth(0)

    title.updateMin = update_min
    update_min()


def _pen(style: RacerStyle, width: float = 1.0):
    # 1 px: Qt's fast path for antialiased lines. A 2 px antialiased noisy curve of 2000
    # steps took 180 ms to paint (1 px: 9 ms), too slow for an animation frame; presentation
    # mode accepts that cost for readability.
    return pg.mkPen(style.color, width=width, style=Qt.PenStyle(style.dash))


@dataclass(frozen=True, eq=False)
class Series:
    """One racer's history up to the shown step.

    Attributes
    ----------
    key, label : str
        Racer key and short name.
    style : RacerStyle
        Its colour, marker and dash.
    loss, grad_norm : ndarray
        Per step ``0..k``, finite floats.
    distance : ndarray or None
        Distance to the nearest known minimum per step; None where the surface has none.
    status, stop : str, int or None
        Its status at the shown step and the step of it (engine.landscape.status).
    revision : object, optional
        Equal only while ``loss``, ``grad_norm`` and ``distance`` hold the same values (the
        Landscape tab passes the racer's stepper, its number of rows and the surface): a
        racer whose revision is unchanged keeps its curves without its values being read
        again. None: the values themselves are compared.
    """

    key: str
    label: str
    style: RacerStyle
    loss: np.ndarray
    grad_norm: np.ndarray
    distance: np.ndarray | None
    status: str = "moving"
    stop: int | None = None
    revision: object = None

    @property
    def color(self) -> str:
        return self.style.color


class SidePlots(QWidget):
    """Loss, ‖∇f‖ and distance to the nearest known minimum against step, stacked.

    The step axes are linked; every y axis is logarithmic; a dashed vertical line marks the
    current step. The racers' markers and names are listed above the plots, so no legend
    covers a curve; each curve has its racer's dash and ends in its marker. The y ranges
    follow the racers that did not diverge: a diverged racer's curve leaves the plot at its
    edge and ends in a ✕ at its divergence step, so it never flattens the others.

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
        self.legend = RacerLegend()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(2, 2, 20, 2)
        self.graphics.ci.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.legend)
        layout.addWidget(self.graphics, 1)
        self.setMinimumSize(220, 240)
        self.plots: dict[str, pg.PlotItem] = {}
        self.cursors: dict[str, pg.InfiniteLine] = {}
        #: Per plot, each curve's marker at its last point (a ✕ where it diverged).
        self.ends: dict[str, pg.ScatterPlotItem] = {}
        for row, (name, _, label) in enumerate(_PLOTS):
            plot = self.graphics.addPlot(row=row, col=0,
                                         axisItems={"left": DecadeAxis("left"),
                                                    "bottom": StepAxis("bottom")})
            plot.setMenuEnabled(False)
            plot.hideButtons()
            # Long curves draw each pixel column's extremes only (see set_series).
            plot.setDownsampling(auto=False, mode="peak")
            plot.setClipToView(True)
            plot.setLogMode(x=False, y=True)
            _let_title_narrow(plot.titleLabel)
            plot.setLabel("left", label, siPrefixEnableRanges=())
            plot.getAxis("left").setWidth(_left_axis_width(QFont()))
            for side in ("left", "bottom"):  # "(x1e+15)" by a log axis reads as a value
                plot.getAxis(side).enableAutoSIPrefix(False)
            plot.getAxis("bottom").setStyle(hideOverlappingLabels=16)  # the last step's too
            if row:
                plot.setXLink(self.plots["loss"])
            cursor = pg.InfiniteLine(pos=0, angle=90, movable=False)
            cursor.setZValue(50)
            plot.addItem(cursor, ignoreBounds=True)
            ends = pg.ScatterPlotItem(pxMode=True)
            ends.setZValue(40)
            plot.addItem(ends, ignoreBounds=True)
            self.plots[name], self.cursors[name], self.ends[name] = plot, cursor, ends
        self.plots["distance"].setLabel("bottom", "step")
        self.no_minimum = pg.TextItem(NO_MINIMUM_TEXT, anchor=(0.5, 0.5))
        self.no_minimum.setParentItem(self.plots["distance"].getViewBox())
        self.no_minimum.hide()
        self._no_minimum_shown = False
        self.plots["distance"].getViewBox().sigResized.connect(self._place_no_minimum)
        self._curves: dict[str, tuple[RacerStyle, dict[str, pg.PlotDataItem]]] = {}
        self._loss_axis: tuple[str, bool] | None = None
        self._longest = -1
        self._shown_data: dict[tuple[str, str], tuple] = {}  #: what each curve shows (a mark)
        #: Per racer: (revision, loss offset, log loss axis) and, per plot, the extremes and
        #: the last value of what its curve shows (see Series.revision).
        self._extents: dict[str, tuple[tuple, dict[str, Extent]]] = {}
        self._lowest: dict[str, tuple[object, float]] = {}  #: per racer: revision, least loss
        self._ends_shown: dict[str, list[tuple]] = {}  #: the end marks each plot shows
        self._step_numbers = np.arange(0)  #: 0, 1, 2, ... for the curves' x (see _steps)
        self.step = 0
        self.line_width = 1.0
        self.title_points = 9
        self._titled = True
        self.set_theme(theme)
        self._set_loss_axis(offset=False, log=True)

    def set_series(self, series: list[Series], loss_offset: float | None = None,
                   last_step: int | None = None) -> None:
        """Show ``series``, reusing each racer's curves; curves of absent keys are removed.

        Parameters
        ----------
        series
            One entry per racer, in drawing order.
        loss_offset
            The surface's minimum value f* when known: the loss plot shows ``f − f*``
            (clipped at :data:`LOG_FLOOR`). Without it, losses are clipped the same way unless
            some are zero or negative, in which case the loss axis turns linear.
        last_step
            The step axis spans ``0 .. last_step`` (the race's end): curves grow across a
            still frame instead of the axis stretching as they play. None: the longest curve.
        """
        for key in set(self._curves) - {s.key for s in series}:
            for name, item in self._curves.pop(key)[1].items():
                self.plots[name].removeItem(item)
                self._shown_data.pop((key, name), None)
            self._extents.pop(key, None)
            self._lowest.pop(key, None)
        if loss_offset is None:
            log_loss = all(s.loss.size == 0 or self._lowest_loss(s) > 0 for s in series)
        else:
            log_loss = True
        self._set_loss_axis(offset=loss_offset is not None, log=log_loss)
        longest = max((s.loss.size for s in series), default=0)
        shown: dict[str, list[tuple[Series, Extent]]] = {
            name: [] for name in self.plots}
        for entry in series:
            curves = self._curves_for(entry.key, entry.style)
            signature = (entry.revision, loss_offset, log_loss)
            kept = self._extents.get(entry.key)
            if entry.revision is not None and kept is not None and kept[0] == signature:
                extents = kept[1]  # the same values as shown: nothing to read or set
            else:
                extents = self._show_values(entry, curves, loss_offset, log_loss)
                self._extents[entry.key] = (signature, extents)
            for name, extent in extents.items():
                shown[name].append((entry, extent))
            # pyqtgraph sizes downsampling bins from the view's width in steps (the longest
            # run): a run that diverged early would get zero bins and vanish.
            downsample = entry.loss.size >= max(_DOWNSAMPLE_FROM, longest // 2)
            if curves["loss"].opts["autoDownsample"] != downsample:
                for item in curves.values():
                    item.setDownsampling(auto=downsample)
        span = max(last_step if last_step is not None else longest - 1, 1)
        # Not autorange: downsampling drops a curve's last bin. Set again when anything else
        # moved the range (a layout change in presentation mode left it at -150..150).
        low, high = self.plots["loss"].getViewBox().viewRange()[0]
        if span != self._longest or not (low <= 0 <= high and high >= span):
            self._longest = span
            self.plots["loss"].setXRange(0, span, padding=0.02)
        no_minimum = bool(series) and all(s.distance is None for s in series)
        if no_minimum != self._no_minimum_shown:
            self._no_minimum_shown = no_minimum
            self.no_minimum.setVisible(no_minimum)
            self.plots["distance"].getAxis("left").setStyle(showValues=not no_minimum)
        for name, curves in shown.items():
            self._fit_range(name, curves)
        self.legend.set_entries([(s.style, s.label, f"{s.label}: {s.style.describe()}")
                                 for s in series])

    def _show_values(self, entry: Series, curves: dict, loss_offset: float | None,
                     log_loss: bool) -> dict[str, Extent]:
        """Set ``entry``'s curves to its values as plotted (shifted, clipped at the floor);
        per plot with values, their :data:`Extent`."""
        steps = self._steps(entry.loss.size)
        loss = entry.loss if loss_offset is None else entry.loss - loss_offset
        if log_loss:
            loss = np.maximum(loss, LOG_FLOOR)
        grad_norm = np.maximum(entry.grad_norm, LOG_FLOOR)
        plotted = {"loss": loss, "grad_norm": grad_norm}
        compare = entry.revision is None  # a new revision: new values, no need to compare
        self._set_data(entry.key, curves, "loss", steps, loss, compare)
        self._set_data(entry.key, curves, "grad_norm", steps, grad_norm, compare)
        if entry.distance is None:
            self._set_data(entry.key, curves, "distance", steps[:0], grad_norm[:0])
        else:
            distance = np.maximum(entry.distance, LOG_FLOOR)
            self._set_data(entry.key, curves, "distance", self._steps(distance.size), distance,
                           compare)
            plotted["distance"] = distance
        return {name: (float(values.min()), float(values.max()), float(values[-1]), values.size)
                for name, values in plotted.items() if values.size}

    def _steps(self, count: int) -> np.ndarray:
        """``0 .. count-1``, a read-only view of one array kept for every curve: 20 racers
        at step 100,000 made 40 arrays of 100,000 steps per redraw."""
        if self._step_numbers.size < count:
            self._step_numbers = np.arange(max(count, 2 * self._step_numbers.size))
            self._step_numbers.flags.writeable = False
        return self._step_numbers[:count]

    def _set_data(self, key: str, curves: dict, name: str, steps: np.ndarray,
                  values: np.ndarray, compare: bool = True) -> None:
        """``setData`` unless the curve already shows these values: a racer edited or a
        redraw of a paused race left 19 of 20 racers' 60 curves as they were, and each
        ``setData`` of 100,000 points costs about half a millisecond. Two sums over all the
        values tell (NaN never equals, so a diverged curve is always set); without
        ``compare`` the values are set as new. A long curve is set as its :func:`peaks`."""
        if not compare:
            self._shown_data.pop((key, name), None)
            curves[name].setData(*peaks(steps, values))
            return
        with np.errstate(all="ignore"):
            mark = (values.size, float(values.sum()), float(values[::7].sum()))
        if self._shown_data.get((key, name)) == mark:
            return
        self._shown_data[(key, name)] = mark
        curves[name].setData(*peaks(steps, values))

    def _lowest_loss(self, entry: Series) -> float:
        """The least of ``entry.loss`` (kept while its revision is the same)."""
        kept = self._lowest.get(entry.key)
        if entry.revision is not None and kept is not None and kept[0] == entry.revision:
            return kept[1]
        lowest = float(np.min(entry.loss))
        self._lowest[entry.key] = (entry.revision, lowest)
        return lowest

    def _fit_range(self, name: str, curves: list[tuple[Series, Extent]]):
        """The y range of the racers that did not diverge; each curve's end marker, and a ✕
        at the edge for a diverged curve that left the range (on the divergence step: a
        diverged path has no rows after its last finite point). ``curves``: each racer with
        values in this plot, and their :data:`Extent`."""
        plot = self.plots[name]
        log = plot.getAxis("left").logMode
        kept = [extent for entry, extent in curves if entry.status != "diverged"]
        low = high = None
        if kept:
            # Each curve's extremes, then log10 of two numbers (it is monotonic): joining and
            # taking the log of every value of 20 racers at step 100,000 cost 10 ms a plot.
            low = min(extent[0] for extent in kept)
            high = max(extent[1] for extent in kept)
            if log:
                low, high = float(np.log10(low)), float(np.log10(high))
            pad = 0.05 * (high - low) if high > low else (0.5 if log else max(abs(high), 1.0))
            low, high = low - pad, high + pad
            plot.setYRange(low, high, padding=0)
        else:
            plot.enableAutoRange(axis="y")
        marks = []
        for entry, (_, _, last, count) in curves:
            step = count - 1
            if entry.status == "diverged" and entry.stop is not None:
                step = entry.stop  # its last row is the step before
            value = float(np.log10(last) if log else last)
            if high is not None:
                value = min(max(value, low), high)
            y = value  # a scatter item is placed in view coordinates: log10 on a log axis
            if entry.status == "diverged":
                marks.append((step, y, "x", 14 * self.line_width, "#e53935", "#000000"))
            else:
                marks.append((step, y, markers.symbol(entry.style.marker),
                              9 * self.line_width, entry.color, "#202020"))
        # The same marks again (a paused redraw, or 19 of 20 racers unchanged and the edited
        # one ending where it did) are not set again: setting them draws every symbol anew,
        # which was half of a 20-racer redraw.
        if self._ends_shown.get(name) == marks:
            return
        self._ends_shown[name] = marks
        self.ends[name].setData([{"pos": (step, y), "symbol": symbol, "size": size,
                                  "brush": pg.mkBrush(fill), "pen": pg.mkPen(outline)}
                                 for step, y, symbol, size, fill, outline in marks])

    def _curves_for(self, key: str, style: RacerStyle) -> dict[str, pg.PlotDataItem]:
        entry = self._curves.get(key)
        if entry is None:
            curves = {}
            for name, plot in self.plots.items():
                item = pg.PlotDataItem(pen=_pen(style, self.line_width), antialias=True,
                                       autoDownsampleFactor=1.0)
                plot.addItem(item)
                curves[name] = item
            self._curves[key] = (style, curves)
            return curves
        old_style, curves = entry
        if old_style != style:
            for item in curves.values():
                item.setPen(_pen(style, self.line_width))
            self._curves[key] = (style, curves)
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
        for style, curves in self._curves.values():
            for item in curves.values():
                item.setPen(_pen(style, self.line_width))
        font = QFont()
        if font_points:
            font.setPointSize(font_points)
        self.title_points = font_points or 9
        # Room on the right for half of the last step label, which sits on the edge.
        self.graphics.ci.setContentsMargins(2, 2, 2 * (font_points or 10), 2)
        for plot in self.plots.values():
            for side in ("left", "bottom"):
                plot.getAxis(side).setTickFont(font)
                plot.getAxis(side).label.setFont(font)
            plot.getAxis("left").setWidth(_left_axis_width(font))
        self.legend.set_icon_size(24 if font_points else 16)
        self.set_theme(self.theme)

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
            plot.setTitle(_TITLES[name] if self._titled else None,
                          size=f"{self.title_points}pt", color=theme.foreground)
            self.cursors[name].setPen(cursor_pen)
        self.no_minimum.setColor(theme.foreground)

    def _set_loss_axis(self, offset: bool, log: bool) -> None:
        # "f − f*" as the map's colour bar says it; "loss − f*" was longer than a plot is
        # tall at the desk on a 720-px screen, and read "loss − f", cut at the top.
        label = "f − f*" if offset else "loss"
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

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """On a short column the titles go (the y axes name the same quantities), so each
        plot keeps room for its curves."""
        super().resizeEvent(event)
        titled = self.height() >= TITLES_FROM_HEIGHT
        if titled != self._titled:
            self._titled = titled
            self.set_theme(self.theme)

    @Slot(object)
    def _place_no_minimum(self, view_box) -> None:
        self.no_minimum.setPos(view_box.boundingRect().center())
