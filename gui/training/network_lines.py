"""1-D slices of the network's loss (Goodfellow et al., 2015): along the straight line from
the initial weights to each optimizer's final weights, and between two final weights."""

from __future__ import annotations

from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.palette import LIGHT, Theme


class InterpolationPlots(pg.GraphicsLayoutWidget):
    """Two plots, one above the other: loss against t on each straight line.

    Left: t = 0 is the initial weights, t = 1 each run's final weights (one curve per run in
    its colour, its marker at both ends). Right: t = 0 is the first run's final weights,
    t = 1 the second's. Dotted lines mark t = 0 and t = 1 (beyond them the line goes on).
    """

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        self.ci.setContentsMargins(2, 2, 6, 2)
        self.start_plot = self.addPlot(row=0, col=0)
        self.between_plot = self.addPlot(row=1, col=0)
        for plot in (self.start_plot, self.between_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.getAxis("left").setWidth(44)
            for name in ("left", "bottom"):  # loss values as they are, never "(x0.001)"
                plot.getAxis(name).enableAutoSIPrefix(False)
        self._content = None
        self.set_theme(theme)

    def clear_lines(self) -> None:
        """Empty both plots."""
        self._content = None
        for plot in (self.start_plot, self.between_plot):
            plot.clear()
            plot.setTitle("")

    def set_lines(self, landscape, styles) -> None:
        """Draw ``landscape``'s 1-D slices with one ``PathStyle`` per run."""
        self._content = (landscape, list(styles))
        self._draw()

    def _draw(self) -> None:
        for plot in (self.start_plot, self.between_plot):
            plot.clear()
        if self._content is None:
            return
        landscape, styles = self._content
        t = landscape.line_t
        ends = [int(np.argmin(np.abs(t))), int(np.argmin(np.abs(t - 1.0)))]
        for curve, style in zip(landscape.start_to_final, styles, strict=False):
            self.start_plot.plot(t, curve, pen=style.pen(), antialias=True)
            self.start_plot.plot(t[ends], curve[ends], pen=None, symbol=style.symbol,
                                 symbolSize=11, symbolBrush=style.color,
                                 symbolPen=pg.mkPen(self.theme.outline, width=1))
        self.start_plot.setTitle("start (t = 0) → each final point (t = 1)", size="10pt",
                                 color=self.theme.foreground)
        if landscape.between_finals is not None and landscape.between is not None:
            first, second = (styles[i] for i in landscape.between)
            curve = landscape.between_finals
            self.between_plot.plot(t, curve, pen=pg.mkPen(self.theme.foreground, width=2.5),
                                   antialias=True)
            for index, style in ((ends[0], first), (ends[-1], second)):
                self.between_plot.plot([t[index]], [curve[index]], pen=None,
                                       symbol=style.symbol, symbolSize=13,
                                       symbolBrush=style.color,
                                       symbolPen=pg.mkPen(self.theme.outline, width=1))
            self.between_plot.setTitle(escape(f"{first.label}'s final point (t = 0) → "
                                              f"{second.label}'s (t = 1)"), size="10pt",
                                       color=self.theme.foreground)
        for plot in (self.start_plot, self.between_plot):
            for x in (0.0, 1.0):
                plot.addItem(pg.InfiniteLine(x, angle=90, pen=pg.mkPen(
                    self.theme.foreground, width=1, style=Qt.PenStyle.DotLine)))
            plot.setLabel("bottom", "t")
            plot.setLabel("left", "loss")

    def set_theme(self, theme: Theme) -> None:
        """Background, axes and curves in ``theme``."""
        self.theme = theme
        self.setBackground(theme.background)
        for plot in (self.start_plot, self.between_plot):
            for name in ("left", "bottom"):
                plot.getAxis(name).setPen(theme.foreground)
                plot.getAxis(name).setTextPen(theme.foreground)
        self._draw()
