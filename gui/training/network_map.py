"""The network's loss on a plane, with every optimizer's path on it (the map of the view).

The loss grid is a heat map of log₁₀(loss) with contour lines; each optimizer's snapshots
are drawn in its colour and marker shape, joined in order, up to the current position.
Markers shrink and fade with their distance from the plane (the plane shows two of
101,770 directions; what lies off it is not drawn), and hovering one reads out its true loss
beside the surface's loss at its projected point. In "random walk" mode the map shows the
control instead: a random walk with the same step lengths, on its own PCA plane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem

from gui.palette import LIGHT, Theme
from gui.widgets import markers
from gui.widgets.contours import contour_lines
from gui.widgets.log_axis import log_tick_label

CONTOUR_LEVELS = 12
MARKER_SIZES = (4.0, 10.0)  #: farthest from the plane, nearest to it (pixels)
MARKER_ALPHAS = (0.25, 1.0)
HEAD_SIZE = 18.0
HOVER_PIXELS = 12.0


#: Line styles by run order, so paths and curves differ by dash as well as colour and marker.
DASHES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
          Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine)


@dataclass(frozen=True)
class PathStyle:
    """How one run is drawn: its label, hex colour, pyqtgraph marker shape and line style
    (an index into :data:`DASHES`)."""

    label: str
    color: str
    marker: str
    dash: int = 0

    @property
    def symbol(self):
        """What pyqtgraph draws for :attr:`marker` (gui.widgets.markers)."""
        return markers.symbol(self.marker)

    @classmethod
    def of(cls, label: str, style) -> PathStyle:
        """The path style of a racer with :class:`gui.palette.RacerStyle` ``style``."""
        dash = DASHES.index(Qt.PenStyle(style.dash)) if Qt.PenStyle(style.dash) in DASHES else 0
        return cls(label, style.color, style.marker, dash)

    def pen(self, width: float = 2.5):
        """A pen in this run's colour and dash."""
        return pg.mkPen(self.color, width=width, style=DASHES[self.dash % len(DASHES)])


def contour_xy(alpha: np.ndarray, beta: np.ndarray, values: np.ndarray,
               levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x, y of every contour line of ``values[i, j]`` (at ``alpha[i], beta[j]``), joined
    with NaN between lines (``connect="finite"``), on the plane's coordinates."""
    xs, ys = [], []
    for line in contour_lines(values, levels):
        xs += [np.interp(line[:, 0], np.arange(len(alpha)), alpha), [np.nan]]
        ys += [np.interp(line[:, 1], np.arange(len(beta)), beta), [np.nan]]
    if not xs:
        return np.empty(0), np.empty(0)
    return np.concatenate(xs), np.concatenate(ys)


def loss_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Colour-bar ticks at 1, 2, 5 × 10ⁿ between two log₁₀(loss) values."""
    ticks = []
    for exponent in range(math.floor(low) - 1, math.ceil(high) + 1):
        for mantissa in (1, 2, 5):
            value = math.log10(mantissa) + exponent
            if low - 1e-9 <= value <= high + 1e-9:
                ticks.append((value, log_tick_label(value)))
    if len(ticks) < 2:
        ticks = [(v, f"{10 ** v:.3g}") for v in np.linspace(low, high, 3)]
    return ticks


class NetworkMap(pg.PlotWidget):
    """The loss on the plane and the paths on it.

    Signals
    -------
    hovered(str)
        A one-line readout of the snapshot (or the surface) under the mouse; "" when none.
    """

    hovered = Signal(str)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        self.landscape = None
        self.styles: list[PathStyle] = []
        self.position = 0  # batch count shown
        self.walk_mode = False
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(interactive=False, width=14, colorMap=theme.colormap)
        self.colorbar.setImageItem(self.image, insert_in=plot)
        self.colorbar.axis.setWidth(None)
        self.colorbar.axis.enableAutoSIPrefix(False)
        self.contours = pg.PlotDataItem(connect="finite", antialias=True)
        self.contours.setZValue(5)
        plot.addItem(self.contours)
        self._outlines: list[pg.PlotDataItem] = []
        self._lines: list[pg.PlotDataItem] = []
        self._markers: list[pg.ScatterPlotItem] = []
        self.heads = pg.ScatterPlotItem()
        self.heads.setZValue(40)
        plot.addItem(self.heads)
        self.start = pg.ScatterPlotItem(symbol="o", size=22, brush=pg.mkBrush(None))
        self.start.setZValue(39)
        plot.addItem(self.start)
        self.walk_line = pg.PlotDataItem(antialias=True, symbol="o", symbolSize=6)
        self.walk_line.setZValue(30)
        plot.addItem(self.walk_line)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.set_theme(theme)

    # --- content --------------------------------------------------------------------------
    def clear_landscape(self) -> None:
        """Show nothing (a new training session has started)."""
        self.landscape = None
        self.image.clear()
        self.contours.setData([], [])
        for item in (*self._outlines, *self._lines, *self._markers):
            self.getPlotItem().removeItem(item)
        self._outlines, self._lines, self._markers = [], [], []
        self.heads.setData([])
        self.start.setData([])
        self.walk_line.setData([], [])
        self.getPlotItem().setTitle("")

    def set_landscape(self, landscape, styles: list[PathStyle]) -> None:
        """Draw ``landscape`` (:class:`engine.mnist.network_landscape.NetworkLandscape`)
        with one :class:`PathStyle` per run, at the last snapshot."""
        self.clear_landscape()
        self.landscape, self.styles = landscape, list(styles)
        plot = self.getPlotItem()
        shown = np.log10(np.maximum(landscape.loss, 1e-12))
        alpha, beta = landscape.alpha, landscape.beta
        step_a, step_b = alpha[1] - alpha[0], beta[1] - beta[0]
        self.image.setImage(shown, autoLevels=False)
        # Pixel centres on the samples: the image spans half a cell beyond the outer ones.
        self.image.setRect(QRectF(alpha[0] - step_a / 2, beta[0] - step_b / 2,
                                  step_a * len(alpha), step_b * len(beta)))
        low, high = float(shown.min()), float(shown.max())
        high = high if high > low else low + 1e-6
        self.colorbar.setLevels((low, high))
        self.colorbar.axis.setTicks([loss_ticks(low, high)])
        self._colorbar_label()
        x, y = contour_xy(alpha, beta, shown, np.linspace(low, high, CONTOUR_LEVELS + 2)[1:-1])
        self.contours.setData(x, y)
        for _ in landscape.paths:
            outline = pg.PlotDataItem(antialias=True)
            line = pg.PlotDataItem(antialias=True)
            markers = pg.ScatterPlotItem(hoverable=False)
            for item, z in ((outline, 20), (line, 21), (markers, 22)):
                item.setZValue(z)
                plot.addItem(item)
            self._outlines.append(outline)
            self._lines.append(line)
            self._markers.append(markers)
        start = landscape.paths[0][0]
        self.start.setData([start[0]], [start[1]])
        self._axis_titles(landscape)
        plot.setRange(xRange=(alpha[0], alpha[-1]), yRange=(beta[0], beta[-1]), padding=0)
        self._style()
        self.set_position(max(int(b[-1]) for b in landscape.batches))

    def set_position(self, batch: int) -> None:
        """Draw every path up to its last snapshot taken by ``batch`` batches."""
        self.position = int(batch)
        landscape = self.landscape
        if landscape is None or self.walk_mode:
            return
        farthest = max(float(np.max(o)) for o in landscape.off_plane) or 1.0
        heads_x, heads_y, symbols, brushes = [], [], [], []
        for index, style in enumerate(self.styles):
            shown = int(np.searchsorted(landscape.batches[index], self.position, side="right"))
            path = landscape.paths[index][:max(shown, 1)]
            for item in (self._outlines[index], self._lines[index]):
                item.setData(path[:, 0], path[:, 1])
            # Six steps of nearness: readable, and few distinct symbols for pyqtgraph to draw.
            nearness = np.round(5 * (1.0 - landscape.off_plane[index][:len(path)] / farthest)) / 5
            sizes = MARKER_SIZES[0] + (MARKER_SIZES[1] - MARKER_SIZES[0]) * nearness
            alphas = MARKER_ALPHAS[0] + (MARKER_ALPHAS[1] - MARKER_ALPHAS[0]) * nearness
            color = pg.mkColor(style.color)
            point_brushes = []
            for value in alphas:
                faded = pg.mkColor(color)
                faded.setAlphaF(float(value))
                point_brushes.append(pg.mkBrush(faded))
            self._markers[index].setData(path[:, 0], path[:, 1], size=sizes, symbol=style.symbol,
                                         brush=point_brushes, pen=self._marker_pen)
            heads_x.append(path[-1, 0])
            heads_y.append(path[-1, 1])
            symbols.append(style.symbol)
            brushes.append(pg.mkBrush(style.color))
        self.heads.setData(heads_x, heads_y, symbol=symbols, brush=brushes, size=HEAD_SIZE,
                           pen=pg.mkPen(self.theme.outline, width=2))

    def show_walk(self, visible: bool) -> None:
        """Show the random-walk control instead of the landscape (or back)."""
        self.walk_mode = bool(visible)
        landscape = self.landscape
        walk = landscape.walk if landscape is not None else None
        plot = self.getPlotItem()
        showing = self.walk_mode and walk is not None
        for item in (self.image, self.contours, self.heads, self.start, *self._outlines,
                     *self._lines, *self._markers):
            item.setVisible(not showing)
        self.colorbar.setVisible(not showing)
        self.walk_line.setVisible(showing)
        if showing:
            self.walk_line.setData(walk.path[:, 0], walk.path[:, 1])
            first, second = walk.explained_variance
            plot.setLabel("bottom", f"walk's PC1 ({100 * first:.1f} % of variance)")
            plot.setLabel("left", f"walk's PC2 ({100 * second:.1f} %)")
            plot.setTitle(escape(f"Random steps of {walk.source}'s lengths, seen through PCA"),
                          color=self.theme.foreground, size="10pt")
            plot.autoRange()
        elif landscape is not None:
            self._axis_titles(landscape)
            plot.setTitle("")
            plot.setRange(xRange=(landscape.alpha[0], landscape.alpha[-1]),
                          yRange=(landscape.beta[0], landscape.beta[-1]), padding=0)
            self.set_position(self.position)

    def _axis_titles(self, landscape) -> None:
        """The plane's axis titles (escaped: pyqtgraph renders labels as rich text, and the
        titles carry optimizer names with their settings)."""
        plot = self.getPlotItem()
        plot.setLabel("bottom", escape(landscape.plane.axis_titles[0]))
        plot.setLabel("left", escape(landscape.plane.axis_titles[1]))

    # --- hover ----------------------------------------------------------------------------
    def readout(self, x: float, y: float, pixel: float = HOVER_PIXELS) -> str:
        """The readout for plane point (x, y): the nearest drawn snapshot within ``pixel``
        screen pixels, else the surface's loss there."""
        landscape = self.landscape
        if landscape is None or self.walk_mode:
            return ""
        box = self.getPlotItem().vb
        mouse = box.mapViewToScene(QPointF(x, y))
        best, best_distance = None, pixel
        for index in range(len(landscape.paths)):
            shown = int(np.searchsorted(landscape.batches[index], self.position, side="right"))
            for snap in range(max(shown, 1)):
                px, py = landscape.paths[index][snap]
                point = box.mapViewToScene(QPointF(float(px), float(py)))
                distance = math.hypot(point.x() - mouse.x(), point.y() - mouse.y())
                if distance < best_distance:
                    best, best_distance = (index, snap), distance
        if best is not None:
            return snapshot_text(landscape, self.styles[best[0]].label, *best)
        alpha, beta = landscape.alpha, landscape.beta
        if not (alpha[0] <= x <= alpha[-1] and beta[0] <= y <= beta[-1]):
            return ""
        from engine.mnist.loss_plane import bilinear

        value = float(bilinear(alpha, beta, landscape.loss, np.array([[x, y]]))[0])
        return f"surface at ({x:.3g}, {y:.3g}): loss {value:.3f}"

    def _mouse_moved(self, position) -> None:
        box = self.getPlotItem().vb
        if not box.sceneBoundingRect().contains(position):
            self.hovered.emit("")
            return
        point = box.mapSceneToView(position)
        self.hovered.emit(self.readout(point.x(), point.y()))

    # --- looks ----------------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        """Background, axes, contour and outline colours of ``theme``."""
        self.theme = theme
        self.setBackground(theme.background)
        plot = self.getPlotItem()
        for name in ("left", "bottom"):
            plot.getAxis(name).setPen(theme.foreground)
            plot.getAxis(name).setTextPen(theme.foreground)
            plot.getAxis(name).enableAutoSIPrefix(False)
        self.colorbar.axis.setPen(theme.foreground)
        self.colorbar.axis.setTextPen(theme.foreground)
        self._colorbar_label()
        self._style()
        if self.landscape is not None:
            self.set_position(self.position)

    def _colorbar_label(self) -> None:
        """What the colours are, and on how many images the loss was measured."""
        images = "" if self.landscape is None else f" ({self.landscape.n_images:,} images)"
        self.colorbar.axis.setLabel(f"training loss{images}", color=self.theme.foreground)

    def _style(self) -> None:
        theme = self.theme
        self.contours.setPen(pg.mkPen((255, 255, 255, 110), width=1))
        self._marker_pen = pg.mkPen(theme.outline, width=1)
        for outline in self._outlines:
            outline.setPen(pg.mkPen(theme.outline, width=5))
        for line, style in zip(self._lines, self.styles, strict=False):
            line.setPen(style.pen())
        self.start.setPen(pg.mkPen("#ffffff", width=2.5))
        self.walk_line.setPen(pg.mkPen(theme.foreground, width=1.5))
        self.walk_line.setSymbolBrush(theme.foreground)
        self.walk_line.setSymbolPen(None)


def snapshot_text(landscape, label: str, index: int, snap: int) -> str:
    """One line on snapshot ``snap`` of run ``index``: when it was taken, its true loss,
    the surface's loss at its projected point, and how far it lies off the plane."""
    batch = int(landscape.batches[index][snap])
    when = position_text(batch, landscape.batches_per_epoch)
    return (f"{label}, {when}: true loss {landscape.path_loss[index][snap]:.3f}, surface "
            f"{landscape.surface_loss[index][snap]:.3f} under it; "
            f"{landscape.off_plane[index][snap]:.2f} off the plane, "
            f"{landscape.from_start[index][snap]:.2f} from the start")


def position_text(batch: int, batches_per_epoch: int) -> str:
    """``"start"`` for 0, else ``"epoch 2, batch 40/100"`` (1-based, the batch just done)."""
    if batch <= 0:
        return "start (initial weights)"
    epoch, within = divmod(batch - 1, max(1, batches_per_epoch))
    return f"epoch {epoch + 1}, batch {within + 1}/{batches_per_epoch}"
