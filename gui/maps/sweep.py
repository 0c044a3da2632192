"""The learning-rate sweep as a plot: final loss against learning rate, one curve per racer.

Each racer of the race is swept over the same log grid of learning rates from the race's
start, with its other settings kept (:func:`engine.landscape.maps.lr_sweep`). The tuned rate
of each (one fair rule, :data:`engine.landscape.maps.CRITERION`) is starred and the racer's
current rate ringed; the rates at which a racer diverged are crosses on its own row above the
curves (one row per racer, so they never overprint). The legend sits above the plot, outside
the data. One click applies every tuned rate to the race; another puts back Keras's default
rates. Clicking a point races that racer at that rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine import optimizers
from engine.landscape import maps, simulate
from gui.palette import LIGHT, RacerStyle, Theme
from gui.widgets import markers
from gui.widgets.legend import RacerLegend
from gui.widgets.log_axis import LOG_FLOOR, DecadeAxis


@dataclass(frozen=True)
class SweepLine:
    """One racer's sweep: its key, label, style, current rate and the engine's result."""

    key: str
    label: str
    style: RacerStyle
    current_rate: float
    sweep: maps.Sweep

    @property
    def color(self) -> str:
        return self.style.color


def shown_loss(final_loss: np.ndarray, floor_value: float) -> np.ndarray:
    """``final loss − f*`` clipped to :data:`LOG_FLOOR`, for a log axis."""
    return np.maximum(np.asarray(final_loss, dtype=np.float64) - floor_value, LOG_FLOOR)


class SweepPlot(QWidget):
    """Plot of a finished sweep with "apply tuned" and "Keras defaults" buttons.

    Signals
    -------
    rates_chosen(object)
        ``{racer key: learning rate}`` to apply to the race.
    """

    rates_chosen = Signal(object)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.lines: list[SweepLine] = []
        self.floor_value = 0.0
        self._foreground = theme.foreground
        self._plotted_rates: dict[str, np.ndarray] = {}  # per racer key, the rates drawn
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(axisItems={"left": DecadeAxis("left"),
                                             "bottom": DecadeAxis("bottom")})
        item = self.plot.getPlotItem()
        item.setLogMode(x=True, y=True)
        item.setLabel("bottom", "learning rate")
        item.setLabel("left", "final loss − f*")
        for name in ("bottom", "left"):
            item.getAxis(name).enableAutoSIPrefix(False)
        item.showGrid(x=True, y=True, alpha=0.25)
        self.legend = RacerLegend()
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)
        row = QHBoxLayout()
        self.apply_button = QPushButton("Apply tuned rates")
        self.apply_button.setToolTip("Give every racer its tuned constant learning rate (★); "
                                     "a racer's schedule is switched off")
        self.apply_button.clicked.connect(self.apply_tuned)
        self.defaults_button = QPushButton("Keras default rates")
        self.defaults_button.setToolTip("Give every racer Keras's default learning rate")
        self.defaults_button.clicked.connect(self.apply_defaults)
        for button in (self.apply_button, self.defaults_button):
            button.setEnabled(False)
            row.addWidget(button)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(self.summary, 1)
        layout.addLayout(row)
        self.criterion = QLabel("Tuned (★): " + maps.CRITERION + ". Sweeps use constant rates "
                                "and exact gradients (a racer's schedule and noise are off); "
                                "× marks rates that diverged.")
        self.criterion.setWordWrap(True)
        layout.addWidget(self.criterion)
        self.set_theme(theme)

    def set_lines(self, lines: list[SweepLine], floor_value: float) -> None:
        """Draw ``lines``; losses are shown as ``final loss − floor_value``."""
        self.lines, self.floor_value = list(lines), float(floor_value)
        self._plotted_rates = {}
        item = self.plot.getPlotItem()
        item.clear()
        self.legend.set_entries([(line.style, line.label, line.label) for line in lines])
        if not lines:
            self.summary.setText("")
            self.apply_button.setEnabled(False)
            self.defaults_button.setEnabled(False)
            return
        finite = np.concatenate([shown_loss(line.sweep.final_loss, floor_value)[
            line.sweep.status != simulate.DIVERGED] for line in lines] + [np.array([1.0])])
        ceiling = float(finite.max()) * 10.0  # the rows of crosses for diverged rates
        for row, line in enumerate(lines):
            self._draw_line(line, ceiling * 4.0**row)
        if any((line.sweep.status == simulate.DIVERGED).any() for line in lines):
            label = pg.TextItem("diverged ×", color=self._foreground, anchor=(0, 1))
            label.setPos(np.log10(lines[0].sweep.learning_rates[0]), np.log10(ceiling) - 0.15)
            item.addItem(label)
        self.apply_button.setEnabled(any(line.sweep.tuned_learning_rate for line in lines))
        self.defaults_button.setEnabled(True)
        self.summary.setText("   ".join(self._summary(line) for line in lines))

    def _draw_line(self, line: SweepLine, ceiling: float) -> None:
        sweep, item = line.sweep, self.plot.getPlotItem()
        rates = sweep.learning_rates
        y = shown_loss(sweep.final_loss, self.floor_value)
        ok = sweep.status != simulate.DIVERGED
        curve = pg.PlotDataItem(rates[ok], y[ok],
                                pen=pg.mkPen(line.color, width=2,
                                             style=Qt.PenStyle(line.style.dash)),
                                symbol=markers.symbol(line.style.marker), symbolSize=8,
                                symbolBrush=line.color, symbolPen=pg.mkPen("#202020"),
                                name=escape(line.label))  # legend labels are HTML
        curve.sigPointsClicked.connect(self._points_clicked)
        curve.setProperty("racer_key", line.key)
        self._plotted_rates[line.key] = rates[ok]
        item.addItem(curve)
        # Markers are PlotDataItems too: only those follow the plot's log mode.
        if (~ok).any():
            item.addItem(pg.PlotDataItem(rates[~ok], np.full(int((~ok).sum()), ceiling),
                                         pen=None, symbol="x", symbolSize=10,
                                         symbolPen=pg.mkPen(line.color, width=2),
                                         symbolBrush=line.color))
        if sweep.tuned_learning_rate is not None:
            index = int(np.argmin(np.abs(rates - sweep.tuned_learning_rate)))
            item.addItem(pg.PlotDataItem([rates[index]], [y[index]], pen=None, symbol="star",
                                         symbolSize=20, symbolPen=pg.mkPen("#000000", width=1),
                                         symbolBrush=line.color))
        near = int(np.argmin(np.abs(np.log(rates) - np.log(line.current_rate))))
        if ok[near]:
            item.addItem(pg.PlotDataItem([line.current_rate], [y[near]], pen=None, symbol="o",
                                         symbolSize=16, symbolPen=pg.mkPen(line.color, width=2),
                                         symbolBrush=None))

    @staticmethod
    def _summary(line: SweepLine) -> str:
        rate = line.sweep.tuned_learning_rate
        name = optimizers.spec(line.sweep.optimizer_id).name
        if rate is None:
            return f"{name}: every rate diverged"
        index = int(np.argmin(np.abs(line.sweep.learning_rates - rate)))
        steps = int(line.sweep.steps_to_converge[index])
        how = f"converges in {steps} steps" if steps >= 0 else "best final loss"
        return f"{name} ★ {rate:.3g} ({how})"

    @Slot(object, object, object)
    def _points_clicked(self, curve, points, _event=None) -> None:
        key = curve.property("racer_key")
        if points is not None and len(points) and key in self._plotted_rates:
            self.rates_chosen.emit({key: float(self._plotted_rates[key][points[0].index()])})

    def tuned_rates(self) -> dict[str, float]:
        """``{racer key: tuned rate}`` for every racer with one."""
        return {line.key: float(line.sweep.tuned_learning_rate) for line in self.lines
                if line.sweep.tuned_learning_rate is not None}

    @Slot()
    def apply_tuned(self) -> None:
        rates = self.tuned_rates()
        if rates:
            self.rates_chosen.emit(rates)

    @Slot()
    def apply_defaults(self) -> None:
        self.rates_chosen.emit({line.key: float(optimizers.spec(line.sweep.optimizer_id)
                                                .param("learning_rate").default)
                                for line in self.lines})

    def set_theme(self, theme: Theme) -> None:
        self._foreground = theme.foreground
        self.plot.setBackground(theme.background)
        item = self.plot.getPlotItem()
        for name in ("bottom", "left"):
            axis = item.getAxis(name)
            axis.setPen(theme.foreground)
            axis.setTextPen(theme.foreground)
