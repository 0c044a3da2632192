"""The Maps view: from where, and with which settings, does an optimizer get there?

A heat map of steps to converge over start points (or over two hyperparameters from a
fixed start), or the race's learning-rate sweep (:mod:`gui.maps.sweep`), computed by
:mod:`engine.landscape.maps` in a worker thread with progress and cancel. Hovering reads a cell out;
clicking it sends that start (or those settings, or that rate) to the race.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine import optimizers
from engine.landscape import limits, maps, simulate, status
from engine.landscape.race import Racer
from engine.landscape.surfaces import Surface
from gui import threads
from gui.maps.sweep import SweepLine, SweepPlot
from gui.palette import LIGHT, Theme
from gui.widgets import error_label

GRID_SIZES = (32, 64, 128, 256)
SWEEP_RATES = (1e-4, 10.0, 41)  #: the sweep's log grid of learning rates: low, high, count
#: Distinct colours for "which minimum": one per known minimum.
_CATEGORIES = np.array([(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48),
                        (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60)],
                       dtype=np.ubyte)


class MapWorker(QObject):
    """Computes one map in a worker thread; ``progressed`` carries fractions."""

    progressed = Signal(float)
    computed = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job) -> None:
        super().__init__()
        self.job = job
        self.cancel_event = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            self.computed.emit(self.job(self.cancel_event, self.progressed.emit))
        except maps.MapCancelled:
            self.failed.emit("cancelled")
        except Exception as error:  # noqa: BLE001 - every failure must reach the user
            self.failed.emit(str(error) or type(error).__name__)
        finally:
            self.finished.emit()


class MapsView(QWidget):
    """Start-point and hyperparameter maps for the race's surface.

    Signals
    -------
    start_chosen(float, float)
        A start-map cell was clicked: race from there.
    settings_chosen(str, object)
        A hyperparameter-map cell was clicked: optimizer id and its Keras settings.
    rates_chosen(object)
        ``{racer key: learning rate}`` from the sweep (tuned, defaults or a clicked point).
    """

    start_chosen = Signal(float, float)
    settings_chosen = Signal(str, object)
    rates_chosen = Signal(object)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        self.surface: Surface | None = None
        self.start: tuple[float, float] = (0.0, 0.0)
        self.racers: list[tuple[Racer, str, str]] = []  # (racer, label, colour) for sweeps
        self.result = None
        self.worker: MapWorker | None = None
        self.thread: QThread | None = None
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.mode = QComboBox()
        self.mode.addItem("Start points", "starts")
        self.mode.addItem("Hyperparameters", "hyper")
        self.mode.addItem("Learning-rate sweep (the race's optimizers)", "sweep")
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.optimizer = QComboBox()
        for spec in optimizers.catalog():
            self.optimizer.addItem(spec.name, spec.id)
        self.optimizer.setCurrentIndex(self.optimizer.findData("adam"))
        self.optimizer.currentIndexChanged.connect(self._optimizer_changed)
        self.x_param, self.y_param = QComboBox(), QComboBox()
        self.grid = QComboBox()
        for size in GRID_SIZES:
            self.grid.addItem(f"{size}×{size}", size)
        self.grid.setCurrentIndex(GRID_SIZES.index(128))
        self.steps = QSpinBox()  # the map's steps: the limit every headless run has
        self.steps.setRange(limits.RUN_STEPS.low, limits.RUN_STEPS.high)
        self.steps.setValue(limits.RUN_STEPS.default)
        self.steps.setPrefix("steps ")
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.colour_by = QComboBox()
        for text, value in (("steps to converge", "steps"), ("minimum reached", "minimum"),
                            ("final loss", "loss")):
            self.colour_by.addItem(text, value)
        self.colour_by.setToolTip("What the colours show")
        self.colour_by.currentIndexChanged.connect(lambda _: self._draw())
        for widget in (self.mode, self.optimizer, QLabel("x"), self.x_param, QLabel("y"),
                       self.y_param):
            row.addWidget(widget)
        row.addStretch(1)
        layout.addLayout(row)
        second = QHBoxLayout()
        for widget in (self.grid, self.steps, QLabel("colour"), self.colour_by,
                       self.compute_button, self.cancel_button):
            second.addWidget(widget)
        second.addStretch(1)
        layout.addLayout(second)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("choose a map and press Compute")
        layout.addWidget(self.progress)
        self.error = error_label()
        layout.addWidget(self.error)
        self.plot = pg.PlotWidget()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(interactive=False, width=14, colorMap="viridis")
        self.colorbar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.colorbar.axis.setWidth(None)  # sized to its ticks and label (pyqtgraph fixes 45 px)
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.sweep_plot = SweepPlot(theme=theme)
        self.sweep_plot.rates_chosen.connect(self.rates_chosen)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot)
        self.stack.addWidget(self.sweep_plot)
        layout.addWidget(self.stack, 1)
        self.readout = QLabel("Hover a cell to read it; click it to race from there.")
        layout.addWidget(self.readout)
        self._optimizer_changed()
        self._mode_changed()
        self.set_theme(theme)

    # --- inputs -----------------------------------------------------------------------------
    def set_surface(self, surface: Surface, start: tuple[float, float]) -> None:
        """The surface and the fixed start (for hyperparameter maps) of the race."""
        self.surface = surface
        self.start = start

    @Slot()
    def _optimizer_changed(self, *_args) -> None:
        spec = optimizers.spec(self.optimizer.currentData())
        numeric = [h for h in spec.hyperparams if h.kind == "float" and not h.advanced]
        for combo, preferred in ((self.x_param, 0), (self.y_param, 1)):
            combo.clear()
            for h in numeric:
                combo.addItem(h.name, h.name)
            combo.setCurrentIndex(min(preferred, combo.count() - 1))

    def set_racers(self, racers: list[tuple[Racer, str, str]]) -> None:
        """The race's racers as ``(racer, label, colour)``: what a sweep sweeps."""
        self.racers = list(racers)

    @Slot()
    def _mode_changed(self, *_args) -> None:
        mode = self.mode.currentData()
        self.x_param.setEnabled(mode == "hyper")
        self.y_param.setEnabled(mode == "hyper")
        for widget in (self.optimizer, self.grid, self.colour_by):
            widget.setEnabled(mode != "sweep")
        self.stack.setCurrentWidget(self.sweep_plot if mode == "sweep" else self.plot)
        self.readout.setText(
            "Click a point to race that optimizer at that rate; ★ marks each tuned rate, "
            "○ the current one." if mode == "sweep"
            else "Hover a cell to read it; click it to race from there.")

    def _axis(self, name: str, count: int) -> maps.Axis:
        h = optimizers.spec(self.optimizer.currentData()).param(name)
        low = h.low if h.low is not None else 0.0
        high = h.high if h.high is not None else 1.0
        if h.log:
            low, high = max(low, 1e-5), min(high, 10.0)
        elif h.high_open:
            high = high - 0.01 * (high - low)
        if h.low_open and not h.log:
            low = low + 0.01 * (high - low)
        return maps.Axis(name, low, high, count, h.log)

    # --- computing --------------------------------------------------------------------------
    @Slot()
    def compute(self) -> None:
        if self.surface is None or self.thread is not None:
            return
        surface, optimizer_id = self.surface, self.optimizer.currentData()
        size, steps = self.grid.currentData(), self.steps.value()
        if self.mode.currentData() == "sweep":
            if not self.racers:
                self._show_error("Add an optimizer to the race to sweep its learning rate.")
                return
            job = self._sweep_job(surface, self.start, steps)
        elif self.mode.currentData() == "starts":
            optimizer = optimizers.get(optimizer_id)

            def job(cancel, progress):
                return maps.start_map(surface, optimizer, grid=size, steps=steps,
                                      cancel=cancel, progress=progress)
        else:
            x_name, y_name = self.x_param.currentData(), self.y_param.currentData()
            if x_name == y_name:
                self._show_error("Choose two different hyperparameters for x and y.")
                return
            x, y, start = self._axis(x_name, size), self._axis(y_name, size), self.start

            def job(cancel, progress):
                return maps.hyper_map(surface, optimizer_id, x, y, start, steps=steps,
                                      cancel=cancel, progress=progress)
        self.error.hide()
        self.worker = MapWorker(job)
        self.worker.progressed.connect(self._progressed)
        self.worker.computed.connect(self._computed)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._finished)
        self.thread = threads.start_worker(self.worker)
        self.compute_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.setFormat("computing… %p%")

    def _sweep_job(self, surface: Surface, start: tuple[float, float], steps: int):
        """A job sweeping each racer's learning rate, its other settings kept."""
        racers = list(self.racers)
        low, high, count = SWEEP_RATES

        def job(cancel, progress):
            lines = []
            for done, (racer, _label, colour) in enumerate(racers):
                settings = {k: v for k, v in racer.settings.items() if k != "learning_rate"}
                sweep, = maps.lr_sweep(surface, [racer.optimizer_id], start, steps=steps,
                                       low=low, high=high, count=count,
                                       base_settings={racer.optimizer_id: settings},
                                       cancel=cancel)
                rate = float(optimizers.get(racer.optimizer_id, **racer.settings)
                             .config["learning_rate"])
                plain = dataclasses.replace(racer, schedule=None, noise=None)
                lines.append(SweepLine(racer.key, plain.label(), colour, rate, sweep))
                progress((done + 1) / len(racers))
            return lines
        return job

    @Slot()
    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel_event.set()

    def shutdown(self) -> None:
        """Cancel and wait for a map in progress (window close)."""
        self.cancel()
        threads.wait_all(30000)  # also a thread whose work just ended

    @Slot(float)
    def _progressed(self, fraction: float) -> None:
        self.progress.setValue(int(1000 * fraction))

    @Slot(str)
    def _failed(self, message: str) -> None:
        if message == "cancelled":
            self.progress.setFormat("cancelled")
        else:
            self._show_error(message)

    @Slot()
    def _finished(self) -> None:
        self.worker = None
        self.thread = None
        self.compute_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    @Slot(object)
    def _computed(self, result) -> None:
        if isinstance(result, list):  # a sweep: SweepLines
            self._show_sweep(result)
            return
        self.result = result
        self._draw()
        counts = np.bincount(result.status.ravel(), minlength=len(status.IDS))
        self.progress.setValue(1000)
        self.progress.setFormat(", ".join(
            f"{counts[code]} {status.WORDS[name]}" for code, name in enumerate(status.IDS)
            if counts[code] or name in ("converged", "not_converged"))
            + f" after {result.steps} steps")

    def _show_sweep(self, lines: list[SweepLine]) -> None:
        minima = [m.value for m in self.surface.minima] if self.surface is not None else []
        finite = [float(np.min(line.sweep.final_loss)) for line in lines]
        floor_value = min(minima) if minima else min(finite, default=0.0)
        self.sweep_plot.set_lines(lines, floor_value)
        self.progress.setValue(1000)
        low, high, count = SWEEP_RATES
        self.progress.setFormat(f"{len(lines)} optimizer(s) × {count} learning rates "
                                f"({low:g} to {high:g}), {self.steps.value()} steps each")

    def _draw(self) -> None:
        """Colour the map by what ``show`` asks: steps, minimum reached or final loss."""
        result = self.result
        if result is None:
            return
        what = self.colour_by.currentData()
        if what == "minimum" and not isinstance(result, maps.HyperMap):
            index = result.minimum_index
            shown = np.where(index >= 0, index.astype(float), np.nan)
            levels, label = (0.0, max(float(np.nanmax(shown, initial=0.0)), 1.0)), "minimum #"
            colormap = pg.ColorMap(None, _CATEGORIES[: max(2, int(levels[1]) + 1)])
        elif what == "loss":
            loss = result.final_loss
            floor = float(np.min(loss))
            shown = np.log10(loss - floor + 1e-12 * max(1.0, abs(floor)) + 1e-300)
            levels, label, colormap = (float(shown.min()), float(shown.max())), \
                "log₁₀(final loss − min)", pg.colormap.get("viridis")
        else:
            steps = result.steps_to_converge.astype(float)
            shown = np.where(steps >= 0, np.log10(np.maximum(steps, 1)), np.nan)
            finite = shown[np.isfinite(shown)]
            levels = (0.0, max(float(finite.max()) if finite.size else 1.0, 1e-6))
            label, colormap = "log₁₀ steps (blank: not converged)", pg.colormap.get("viridis")
        if levels[1] <= levels[0]:
            levels = (levels[0], levels[0] + 1.0)
        self.colorbar.setColorMap(colormap)
        self.image.setImage(shown, autoLevels=False)
        self.colorbar.setLevels(levels)
        self.colorbar.axis.setLabel(label)
        x0, x1, y0, y1 = self._extent(result)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        plot = self.plot.getPlotItem()
        if isinstance(result, maps.HyperMap):
            plot.setLabel("bottom", result.x.name + (" (log₁₀)" if result.x.log else ""))
            plot.setLabel("left", result.y.name + (" (log₁₀)" if result.y.log else ""))
        else:
            plot.setLabel("bottom", "start x")
            plot.setLabel("left", "start y")
        plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    @staticmethod
    def _extent(result) -> tuple[float, float, float, float]:
        xs, ys = result.xs, result.ys
        if isinstance(result, maps.HyperMap):
            xs = np.log10(xs) if result.x.log else xs
            ys = np.log10(ys) if result.y.log else ys
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        return xs[0] - dx / 2, xs[-1] + dx / 2, ys[0] - dy / 2, ys[-1] + dy / 2

    # --- reading and choosing cells ---------------------------------------------------------
    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        """(row, column) of the cell under a scene position, or None."""
        if self.result is None:
            return None
        point = self.plot.getPlotItem().getViewBox().mapSceneToView(scene_pos)
        x0, x1, y0, y1 = self._extent(self.result)
        ny, nx = self.result.status.shape
        col = int((point.x() - x0) / (x1 - x0) * nx)
        row = int((point.y() - y0) / (y1 - y0) * ny)
        if 0 <= row < ny and 0 <= col < nx:
            return row, col
        return None

    def describe(self, row: int, col: int) -> str:
        r = self.result
        outcome = simulate.STATUS_NAMES[int(r.status[row, col])]
        steps = int(r.steps_to_converge[row, col])
        where = (f"{r.x.name}={r.xs[col]:.4g}, {r.y.name}={r.ys[row]:.4g}"
                 if isinstance(r, maps.HyperMap) else f"start ({r.xs[col]:.4g}, {r.ys[row]:.4g})")
        verdict = status.phrase(outcome, steps if steps >= 0 else None, r.steps)
        if not isinstance(r, maps.HyperMap) and r.minimum_index[row, col] >= 0:
            m = self.surface.minima[int(r.minimum_index[row, col])]
            verdict += f" to minimum #{int(r.minimum_index[row, col])} ({m.point[0]:.3g}, {m.point[1]:.3g})"
        return f"{where}: {verdict}, final loss {r.final_loss[row, col]:.4g}"

    @Slot(object)
    def _hovered(self, scene_pos) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None:
            self.readout.setText(self.describe(*cell))

    @Slot(object)
    def _clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is None:
            return
        row, col = cell
        r = self.result
        if isinstance(r, maps.HyperMap):
            settings = {**r.base_config, r.x.name: float(r.xs[col]), r.y.name: float(r.ys[row])}
            self.settings_chosen.emit(r.optimizer_id, settings)
        else:
            self.start_chosen.emit(float(r.xs[col]), float(r.ys[row]))

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.sweep_plot.set_theme(theme)
        self.plot.setBackground(theme.background)
        for name in ("bottom", "left"):
            axis = self.plot.getPlotItem().getAxis(name)
            axis.setPen(theme.foreground)
            axis.setTextPen(theme.foreground)
