"""Theory drawn on a learning_rate × momentum map of SGD/momentum on a quadratic surface.

Over the map's cells: the stability boundary α·λmax = 2(1 + β) (Nesterov: 2(1 + β)/(1 + 2β))
as a white-outlined line, Polyak's optimum (α*, β*) as a ring (heavy ball only) and gradient
descent's optimum α = 2/(λmin + λmax) at β = 0 as a diamond; the boundary carries its formula.
The marks' numbers and the curvatures go in the legend row under the map (:meth:`texts`), so
no label lands on another, on a mark or on the map's edge, whatever the map's size. The Maps view calls :meth:`TheoryOverlay.update` after drawing a
map; nothing is drawn for other maps or surfaces. Values from :mod:`engine.landscape.theory`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication

from engine import optimizers
from engine.landscape import maps, theory

Z = 30
LINE, OPTIMUM = "#ffffff", "#ffffff"  #: white, outlined in black: reads on viridis
AXES = {"learning_rate", "momentum"}


def applies(result, surface) -> tuple[theory.Quadratic | None, bool]:
    """The quadratic and the Nesterov flag when ``result`` is an SGD map over learning_rate
    and momentum on a quadratic ``surface`` with a constant rate; (None, False) otherwise."""
    if not isinstance(result, maps.HyperMap) or surface is None:
        return None, False
    if {result.x.name, result.y.name} != AXES or result.schedule is not None:
        return None, False
    if optimizers.spec(result.optimizer_id).keras_class != "SGD":
        return None, False
    config = result.base_config
    if config.get("weight_decay") is not None or any(
            config.get(c) for c in ("clipnorm", "clipvalue", "global_clipnorm")):
        return None, False
    q, _ = theory.quadratic(surface)
    return q, bool(config.get("nesterov"))


class TheoryOverlay:
    """Lines, points and labels of the theory on a Maps plot item."""

    def __init__(self, plot_item) -> None:
        self.plot = plot_item
        self._items: list = []
        self._texts: list[str] = []
        self.shown = False
        self._result = self._surface = None  # the map shown and the surface it was computed on

    def clear(self) -> None:
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        self.shown = False

    def update(self, result, surface) -> None:
        """Draw the theory for ``result`` (a map of the Maps view) on ``surface``, or nothing.

        A map keeps the surface it was first drawn with: a map computed before the ravine's
        condition number changed keeps that ravine's theory.
        """
        self.clear()
        if result is not self._result:
            self._result, self._surface = result, surface
        q, nesterov = applies(result, self._surface)
        if q is None:
            return

        def place(alpha, beta):
            alpha, beta = np.asarray(alpha, dtype=float), np.asarray(beta, dtype=float)
            x = np.log10(alpha) if result.x.log else alpha
            if result.x.name == "learning_rate":
                return x, beta
            y = np.log10(alpha) if result.y.log else alpha
            return beta, y

        momentum_axis = result.y if result.y.name == "momentum" else result.x
        betas = np.linspace(momentum_axis.low, momentum_axis.high, 200)
        limit = theory.stability_limit(q, betas, nesterov)
        x, y = place(limit, betas)
        name = "Nesterov" if nesterov else "heavy ball"
        for pen in (pg.mkPen("#000000", width=5), pg.mkPen(LINE, width=2.5)):
            self._add(pg.PlotDataItem(x, y, pen=pen))
        formula = ("α·λmax = 2(1+β)/(1+2β)" if nesterov else "α·λmax = 2(1+β)")
        self._label(f"stable ← {formula}", float(x[len(x) // 2]),
                    float(y[len(y) // 2]), anchor=(1.03, 0.5))
        best = theory.optima(q)
        low, high = q.curvatures  # short words: the legend row must not eat the map's height
        self._texts = [f"{name}: κ = {high / low:.3g} (λ {low:.3g} to {high:.3g})"]
        if not nesterov:
            self._marker(*place(best.learning_rate, best.momentum), "o")
            self._texts.append(f"○ optimum α* = {best.learning_rate:.3g}, "
                               f"β* = {best.momentum:.3g}: rate {best.rate:.3g}/step")
        self._marker(*place(best.gd_learning_rate, max(0.0, momentum_axis.low)), "d")
        self._texts.append(f"◇ GD optimum α = {best.gd_learning_rate:.3g}: "
                           f"rate {best.gd_rate:.3g}/step")
        self.shown = True

    def texts(self) -> list[str]:
        """What the marks mean, with their numbers, for the legend row (empty when nothing
        is drawn)."""
        return list(self._texts) if self.shown else []

    def _add(self, item) -> None:
        item.setZValue(Z)
        self.plot.addItem(item, ignoreBounds=True)
        self._items.append(item)

    def _marker(self, x, y, symbol: str) -> None:
        self._add(pg.ScatterPlotItem([float(x)], [float(y)], symbol=symbol, size=18,
                                     pen=pg.mkPen("#000000", width=2.5),
                                     brush=pg.mkBrush(OPTIMUM)))

    def _label(self, text: str, x: float, y: float, anchor=(0, 1)) -> None:
        label = pg.TextItem(text, color="#000000", anchor=anchor,
                            fill=pg.mkBrush(QColor(255, 255, 255, 215)),
                            border=pg.mkPen("#000000", width=1))
        font = QFont(QApplication.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0))
        label.setFont(font)
        label.setPos(x, y)
        self._add(label)

