"""The Maps view: from where, and with which settings, does an optimizer get there?

A map over start points (or over two hyperparameters from the race's start), or the race's
learning-rate sweep (:mod:`gui.maps.sweep`), computed by :mod:`engine.landscape.maps` in a
worker thread with progress and cancel. The map is always the one its controls describe:
changing a control clears it (and, when the tab computes on its own, recomputes it), and on
arrival the tab computes a default map for the race's surface, selected racer and budget.
Its colours are named in a legend with counts (:mod:`gui.maps.colouring`). Hovering reads a
cell out; clicking it sends that start (or those settings) to the race.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QFont
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
from gui.maps.colouring import COLOURINGS, colour, hatch_overlay
from gui.maps.legend import CategoryLegend
from gui.maps.live import FixedSettings, field_for, slider_range
from gui.maps.sweep import SweepLine, SweepPlot
from gui.maps.theory_overlay import TheoryOverlay
from gui.maps.worker import MapWorker
from gui.palette import LIGHT, RacerStyle, Theme
from gui.widgets import error_label
from gui.widgets.log_axis import DecadeAxis, log_tick_label

GRID_SIZES = (32, 64, 128, 256)
DEFAULT_GRID = 64  #: the map computed on arrival: quick, and fine enough to read
SWEEP_RATES = (1e-4, 10.0, 41)  #: the sweep's log grid of learning rates: low, high, count
RECOMPUTE_DELAY_MS = 300  #: after the last change of a control, when computing on its own
SETTLE_MS = 200  #: a dragged slider resting this long gets its full map (coarse before)
COARSE_DIVISOR = 2  #: while a slider is dragged the map has grid / 2 cells a side
MIN_COARSE_GRID = 16


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
        self.racers: list[tuple[Racer, str, RacerStyle]] = []  # (racer, label, style)
        self.result = None
        self.worker: MapWorker | None = None
        self.thread: QThread | None = None
        #: Compute on arrival and after every change (the landscape tab sets it).
        self.auto_compute = False
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(RECOMPUTE_DELAY_MS)
        self._pending.timeout.connect(self._auto)
        # Live maps: a slider moved while a map computes waits here (the latest move wins).
        self._live_wanted: bool | None = None  # None: nothing waiting; True: coarse; False: full
        self._running_coarse = False
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(lambda: self._live(False))
        self._build()
        self._optimizer_changed()
        self._mode_changed()
        self.set_theme(theme)

    # --- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.mode = QComboBox()
        self.mode.addItem("Start points", "starts")
        self.mode.addItem("Hyperparameters", "hyper")
        self.mode.addItem("Learning-rate sweep", "sweep")
        self.mode.setToolTip("Start points: from where does it get there? Hyperparameters: with "
                             "which settings? Learning-rate sweep: every racer over 41 rates")
        self.optimizer = QComboBox()
        self.optimizer.setToolTip("A racer (with its settings) or an optimizer with Keras's "
                                  "defaults")
        self._fill_optimizers()
        self.x_param, self.y_param = QComboBox(), QComboBox()
        self.grid = QComboBox()
        for size in GRID_SIZES:
            self.grid.addItem(f"{size}×{size}", size)
        self.grid.setCurrentIndex(GRID_SIZES.index(DEFAULT_GRID))
        self.steps = QSpinBox()  # the map's steps: the limit every headless run has
        self.steps.setRange(limits.RUN_STEPS.low, limits.RUN_STEPS.high)
        self.steps.setValue(limits.RUN_STEPS.default)
        self.steps.setPrefix("steps ")
        self.steps.setKeyboardTracking(False)
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.colour_by = QComboBox()
        self.colour_by.setToolTip("What the colours show")
        for combo in (self.mode, self.optimizer, self.x_param, self.y_param, self.colour_by,
                      self.grid):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        row.addWidget(self.mode, 2)
        row.addWidget(self.optimizer, 3)
        # The controls in one block: in presentation mode they keep the desk's font size
        # (they are for the teacher), so the map, its axes and legend get the projector's room.
        self.controls = QWidget()
        controls = QVBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addLayout(row)
        second = QHBoxLayout()
        for widget, stretch in ((QLabel("x"), 0), (self.x_param, 2), (QLabel("y"), 0),
                                (self.y_param, 2), (self.grid, 1), (self.steps, 1)):
            second.addWidget(widget, stretch)
        controls.addLayout(second)
        third = QHBoxLayout()
        for widget, stretch in ((QLabel("colour"), 0), (self.colour_by, 2),
                                (self.compute_button, 0), (self.cancel_button, 0)):
            third.addWidget(widget, stretch)
        third.addStretch(1)
        controls.addLayout(third)
        self.fixed = FixedSettings()
        self.fixed.changed.connect(self._live)
        controls.addWidget(self.fixed)
        layout.addWidget(self.controls)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("choose a map and press Compute")
        layout.addWidget(self.progress)
        self.error = error_label()
        layout.addWidget(self.error)
        self.plot = pg.PlotWidget(axisItems={"bottom": DecadeAxis("bottom"),
                                             "left": DecadeAxis("left")})
        plot = self.plot.getPlotItem()
        plot.setMenuEnabled(False)
        for name in ("bottom", "left"):
            plot.getAxis(name).enableAutoSIPrefix(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.hatch = pg.ImageItem(axisOrder="row-major")
        self.hatch.setZValue(5)
        plot.addItem(self.hatch)
        self.colorbar = pg.ColorBarItem(interactive=False, width=14, colorMap="viridis")
        # A stand-in image: the map is composed as RGBA here, the bar only shows its scale.
        self.colorbar.setImageItem(pg.ImageItem(), insert_in=plot)
        self.colorbar.axis.setWidth(None)  # sized to its ticks and label (pyqtgraph fixes 45 px)
        self.colorbar.axis.setLogMode(True)  # its values are log10: ticks read 10ⁿ
        self.colorbar.axis.logTickStrings = self._bar_labels
        self.minima_marks = pg.ScatterPlotItem(symbol="o", size=22, pen=pg.mkPen("#000", width=1.5),
                                               brush=pg.mkBrush("#ffffff"))
        self.minima_marks.setZValue(20)
        plot.addItem(self.minima_marks)
        self._minima_labels: list[pg.TextItem] = []
        self.theory = TheoryOverlay(self.plot.getPlotItem())  # issue 15: theory on lr × momentum
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.legend = CategoryLegend()
        map_page = QWidget()
        map_layout = QVBoxLayout(map_page)
        map_layout.setContentsMargins(0, 0, 0, 0)
        map_layout.addWidget(self.plot, 1)
        map_layout.addWidget(self.legend)
        self.map_page = map_page
        self.sweep_plot = SweepPlot(theme=self.theme)
        self.sweep_plot.rates_chosen.connect(self.rates_chosen)
        self.stack = QStackedWidget()
        self.stack.addWidget(map_page)
        self.stack.addWidget(self.sweep_plot)
        layout.addWidget(self.stack, 1)
        self.readout = QLabel("Hover a cell to read it; click it to race from there.")
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.readout)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.optimizer.currentIndexChanged.connect(self._optimizer_changed)
        self.colour_by.currentIndexChanged.connect(lambda _: self._draw())
        for combo in (self.x_param, self.y_param):
            combo.currentIndexChanged.connect(self._axes_changed)
        self.grid.currentIndexChanged.connect(self._controls_changed)
        self.steps.valueChanged.connect(self._controls_changed)

    def _fill_optimizers(self, selected: str | None = None) -> None:
        """The race's racers first (with their settings), then every optimizer."""
        current = selected or self.optimizer.currentData()
        self.optimizer.blockSignals(True)
        self.optimizer.clear()
        for racer, label, _style in self.racers:
            self.optimizer.addItem(f"{label} (racer)", f"racer:{racer.key}")
        if self.racers:
            self.optimizer.insertSeparator(self.optimizer.count())
        for spec in optimizers.catalog():
            self.optimizer.addItem(f"{spec.name} (Keras defaults)", spec.id)
        index = self.optimizer.findData(current) if current is not None else -1
        if index < 0:
            index = self.optimizer.findData("adam")
        self.optimizer.setCurrentIndex(index)
        self.optimizer.blockSignals(False)

    # --- inputs -----------------------------------------------------------------------------
    def set_surface(self, surface: Surface, start: tuple[float, float]) -> None:
        """The surface and the fixed start (for hyperparameter maps) of the race."""
        if surface is self.surface and tuple(start) == tuple(self.start):
            return
        start_only = surface is self.surface
        self.surface = surface
        self.start = tuple(start)
        mode = self.mode.currentData()
        if start_only and mode == "starts":
            return  # a start map covers every start: the race's start changes nothing
        if start_only and mode == "hyper" and self.result is not None:
            self.fixed.set_value("start x", start[0])  # dragged on the race: the map follows
            self.fixed.set_value("start y", start[1])
            self._live(True)
            return
        self._fill_colourings()
        self._show_fixed()
        self._controls_changed()

    def set_racers(self, racers: list[tuple[Racer, str, RacerStyle]],
                   selected: str | None = None) -> None:
        """The race's racers as ``(racer, label, style)``: what a sweep sweeps and what the
        optimizer list offers first; ``selected`` (a key) becomes the map's optimizer."""
        before, before_all = self._racer(), [r for r, _, _ in self.racers]
        self.racers = list(racers)
        self._fill_optimizers(f"racer:{selected}" if selected else None)
        if self._racer() != before:
            self._optimizer_changed()  # the map's racer changed: clear (and recompute)
        elif self.mode.currentData() == "sweep" and before_all != [r for r, _, _ in racers]:
            self._controls_changed()  # a sweep sweeps every racer

    def set_budget(self, steps: int) -> None:
        """The race's step budget becomes the map's (within ``limits.RUN_STEPS``)."""
        self.steps.setValue(max(limits.RUN_STEPS.low, min(int(steps), limits.RUN_STEPS.high)))

    def _racer(self) -> Racer | None:
        data = self.optimizer.currentData()
        if isinstance(data, str) and data.startswith("racer:"):
            key = data.removeprefix("racer:")
            return next((r for r, _, _ in self.racers if r.key == key), None)
        return None

    def _optimizer_id(self) -> str:
        racer = self._racer()
        return racer.optimizer_id if racer is not None else self.optimizer.currentData()

    @Slot()
    def _optimizer_changed(self, *_args) -> None:
        if self._optimizer_id() is None:  # a separator between racers and the catalog
            return
        spec = optimizers.spec(self._optimizer_id())
        numeric = [h for h in spec.hyperparams if h.kind == "float" and not h.advanced]
        for combo, preferred in ((self.x_param, 0), (self.y_param, 1)):
            combo.blockSignals(True)
            combo.clear()
            for h in numeric:
                combo.addItem(h.name, h.name)
            combo.setCurrentIndex(min(preferred, combo.count() - 1))
            combo.blockSignals(False)
        self._show_fixed()
        self._controls_changed()

    def _fill_colourings(self) -> None:
        mode = self.mode.currentData()
        current = self.colour_by.currentData()
        self.colour_by.blockSignals(True)
        self.colour_by.clear()
        for text, value in COLOURINGS.get(mode, ()):
            if value == "minimum" and (self.surface is None or not self.surface.minima):
                continue
            self.colour_by.addItem(text, value)
        index = self.colour_by.findData(current)
        self.colour_by.setCurrentIndex(max(index, 0))
        self.colour_by.setEnabled(self.colour_by.count() > 1)
        self.colour_by.blockSignals(False)

    @Slot()
    def _mode_changed(self, *_args) -> None:
        mode = self.mode.currentData()
        self.x_param.setEnabled(mode == "hyper")
        self.y_param.setEnabled(mode == "hyper")
        for widget in (self.optimizer, self.grid, self.colour_by):
            widget.setEnabled(mode != "sweep")
        self._fill_colourings()
        self.stack.setCurrentWidget(self.sweep_plot if mode == "sweep" else self.map_page)
        self._show_fixed()
        self.readout.setText(
            "Click a point to race that optimizer at that rate; ★ marks each tuned rate, "
            "○ the current one." if mode == "sweep"
            else "Hover a cell to read it; click it to race from there.")
        self._controls_changed()

    @Slot()
    def _controls_changed(self, *_args) -> None:
        """The map on screen no longer matches the controls: clear it, and recompute it when
        the view computes on its own and is on screen."""
        self.clear()
        if self.auto_compute and self.isVisible():
            self._pending.start()

    def clear(self) -> None:
        """Remove the map (and the sweep) from the screen."""
        self.result = None
        self.image.clear()
        self.hatch.clear()
        self.legend.set_entries(())
        self.minima_marks.clear()
        for label in self._minima_labels:
            self.plot.getPlotItem().removeItem(label)
        self._minima_labels = []
        self.colorbar.hide()
        self.theory.clear()
        self.sweep_plot.set_lines([], 0.0)
        if self.thread is None:
            self.progress.setValue(0)
            self.progress.setFormat("press Compute" if not self.auto_compute else "computing soon…")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.auto_compute and self.result is None and self.thread is None:
            self._pending.start(0)

    @Slot()
    def _auto(self) -> None:
        if self.thread is not None:  # a change during a computation: cancel, then redo
            self.cancel()
            self._pending.start()
            return
        if self.isVisible():
            self.compute()

    def _axis(self, name: str, count: int) -> maps.Axis:
        h = optimizers.spec(self._optimizer_id()).param(name)
        low, high = slider_range(h)  # the span a slider for it takes too
        return maps.Axis(name, low, high, count, h.log)

    # --- what the map holds fixed, and live maps ---------------------------------------------
    @Slot()
    def _axes_changed(self, *_args) -> None:
        self._show_fixed()
        self._controls_changed()

    def _show_fixed(self) -> None:
        """Sliders for what the map holds fixed: every numeric setting not on an axis (at the
        racer's values, or Keras's defaults), and a hyperparameter map's start."""
        mode = self.mode.currentData()
        if mode == "sweep" or self.surface is None:
            self.fixed.set_fields([])
            return
        spec = optimizers.spec(self._optimizer_id())
        racer = self._racer()
        config = spec.validate(**(racer.settings if racer is not None else {}))
        axes = (self.x_param.currentData(), self.y_param.currentData()) if mode == "hyper" else ()
        fields = [field_for(h, config[h.name]) for h in spec.hyperparams
                  if h.kind == "float" and not h.advanced and h.name not in axes
                  and config[h.name] is not None
                  and not (h.name == "learning_rate" and racer is not None
                           and racer.schedule is not None)]
        if mode == "hyper":
            x0, x1, y0, y1 = self.surface.domain
            fields += [field_for(_coordinate("start x", x0, x1), self.start[0]),
                       field_for(_coordinate("start y", y0, y1), self.start[1])]
        self.fixed.set_fields(fields)

    def _fixed_settings(self) -> dict[str, float]:
        return {k: v for k, v in self.fixed.values().items() if not k.startswith("start ")}

    def _fixed_start(self) -> tuple[float, float]:
        values = self.fixed.values()
        return (values.get("start x", self.start[0]), values.get("start y", self.start[1]))

    @Slot(bool)
    def _live(self, coarse: bool) -> None:
        """A fixed value moved: a coarse map at once while dragging (then the full one when
        the slider rests), the full map when let go. A map still computing is left to
        finish if coarse, else cancelled; the latest request runs next."""
        if coarse:
            self._settle.start()
        else:
            self._settle.stop()
        if self.thread is not None:
            self._live_wanted = coarse if self._live_wanted is None else (
                coarse and self._live_wanted)
            if not self._running_coarse:
                self.cancel()  # a full map of old values: not worth finishing
            return
        if self.isVisible() or not coarse:
            self.compute(live=True, coarse=coarse)

    # --- computing --------------------------------------------------------------------------
    @Slot()
    def compute(self, live: bool = False, coarse: bool = False) -> None:
        """Compute the map the controls describe (in a worker thread). ``live``: keep the
        map on screen until the new one arrives; ``coarse``: half the cells a side."""
        if self.surface is None or self.thread is not None:
            return
        self._pending.stop()
        surface, steps = self.surface, self.steps.value()
        size, racer = self.grid.currentData(), self._racer()
        if coarse:
            size = max(MIN_COARSE_GRID, size // COARSE_DIVISOR)
        optimizer_id = self._optimizer_id()
        settings = {**(dict(racer.settings) if racer is not None else {}),
                    **self._fixed_settings()}
        if self.mode.currentData() == "sweep":
            if not self.racers:
                self._show_error("Add an optimizer to the race to sweep its learning rate.")
                return
            job = self._sweep_job(surface, self.start, steps)
        elif self.mode.currentData() == "starts":
            schedule = racer.schedule if racer is not None else None
            optimizer = optimizers.get(optimizer_id, learning_rate_schedule=schedule, **settings)
            noise = racer.noise if racer is not None else None

            def job(cancel, progress):
                return maps.start_map(surface, optimizer, grid=size, steps=steps,
                                      cancel=cancel, progress=progress, noise=noise)
        else:
            x_name, y_name = self.x_param.currentData(), self.y_param.currentData()
            if x_name == y_name:
                self._show_error("Choose two different hyperparameters for x and y.")
                return
            x, y, start = self._axis(x_name, size), self._axis(y_name, size), self._fixed_start()
            # The racer's schedule stays, unless the map varies the learning rate itself.
            schedule = (racer.schedule if racer is not None
                        and "learning_rate" not in (x_name, y_name) else None)
            settings.pop(x_name, None)
            settings.pop(y_name, None)

            def job(cancel, progress):
                return maps.hyper_map(surface, optimizer_id, x, y, start, steps=steps,
                                      base_settings=settings, cancel=cancel,
                                      progress=progress, learning_rate_schedule=schedule)
        self.error.hide()
        if not live:
            self.clear()
        self._running_coarse = coarse
        self.worker = MapWorker(job)
        self.worker.progressed.connect(self._progressed)
        self.worker.computed.connect(self._computed)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._finished)
        self.thread = threads.start_worker(self.worker)
        self.compute_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        if not live:
            self.progress.setValue(0)
            self.progress.setFormat("computing… %p%")

    def _sweep_job(self, surface: Surface, start: tuple[float, float], steps: int):
        """A job sweeping each racer's learning rate, its other settings kept."""
        racers = list(self.racers)
        low, high, count = SWEEP_RATES

        def job(cancel, progress):
            lines = []
            for done, (racer, _label, style) in enumerate(racers):
                settings = {k: v for k, v in racer.settings.items() if k != "learning_rate"}
                sweep, = maps.lr_sweep(surface, [racer.optimizer_id], start, steps=steps,
                                       low=low, high=high, count=count,
                                       base_settings={racer.optimizer_id: settings},
                                       cancel=cancel)
                rate = float(optimizers.get(racer.optimizer_id, **racer.settings)
                             .config["learning_rate"])
                plain = dataclasses.replace(racer, schedule=None, noise=None)
                lines.append(SweepLine(racer.key, plain.label(), style, rate, sweep))
                progress((done + 1) / len(racers))
            return lines
        return job

    @Slot()
    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel_event.set()

    def shutdown(self) -> None:
        """Cancel and wait for a map in progress (window close)."""
        self._pending.stop()
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
        if self._live_wanted is not None:  # a slider moved meanwhile: its map next
            coarse, self._live_wanted = self._live_wanted, None
            self.compute(live=True, coarse=coarse)

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
            f"{counts[code]:,} {status.WORDS[name]}" for code, name in enumerate(status.IDS)
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

    # --- drawing ----------------------------------------------------------------------------
    def _draw(self) -> None:
        """Colour the map by what ``colour_by`` asks, with its legend and colour bar."""
        result = self.result
        if result is None:
            return
        hyper = isinstance(result, maps.HyperMap)
        by = self.colour_by.currentData() or "steps"
        if hyper and by == "minimum":
            by = "steps"
        minima = self.surface.minima if self.surface is not None else ()
        floor = min((m.value for m in minima), default=None)
        shown = colour(result, by, minima, floor)
        x0, x1, y0, y1 = self._extent(result)
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.image.setImage(shown.rgba, autoLevels=False, levels=(0, 255))
        self.image.setRect(rect)
        self.hatch.setImage(hatch_overlay(shown.hatch), autoLevels=False, levels=(0, 255))
        self.hatch.setRect(rect)
        self.legend.set_entries(shown.legend)
        if shown.scale is not None:
            self.colorbar.setLevels(shown.scale)
            self.colorbar.axis.setLabel(shown.scale_label)
            self.colorbar.show()
        else:
            self.colorbar.hide()
        self._mark_minima(None if hyper or by != "minimum" else minima)
        plot = self.plot.getPlotItem()
        if hyper:
            plot.getAxis("bottom").setLogMode(result.x.log)
            plot.getAxis("left").setLogMode(result.y.log)
            plot.setLabel("bottom", result.x.name)
            plot.setLabel("left", result.y.name)
        else:
            plot.getAxis("bottom").setLogMode(False)
            plot.getAxis("left").setLogMode(False)
            plot.setLabel("bottom", "start x")
            plot.setLabel("left", "start y")
        plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.theory.update(result, self.surface)  # issue 15
        self.legend.set_notes(self.theory.texts())

    def _bar_labels(self, values, _scale, _spacing) -> list[str]:
        """10ⁿ labels on the colour bar; within one decade every tick is labelled (70 80 90
        100), since a tall bar has room and a narrow range needs the numbers."""
        low, high = self.colorbar.axis.range
        if high - low < 1.0:
            return [f"{10**v:.4g}" for v in values]  # 1000, never 1e+03
        return [log_tick_label(v) for v in values]

    def _mark_minima(self, minima) -> None:
        """Number each known minimum on a start map, as the legend numbers them."""
        plot = self.plot.getPlotItem()
        for label in self._minima_labels:
            plot.removeItem(label)
        self._minima_labels = []
        if not minima:
            self.minima_marks.clear()
            return
        self.minima_marks.setData(pos=[m.point for m in minima])
        for i, minimum in enumerate(minima):
            label = pg.TextItem(str(i + 1), color="#000000", anchor=(0.5, 0.5))
            label.setZValue(21)
            label.setPos(*minimum.point)
            plot.addItem(label)
            self._minima_labels.append(label)

    @staticmethod
    def _extent(result) -> tuple[float, float, float, float]:
        xs, ys = result.xs, result.ys
        if isinstance(result, maps.HyperMap):
            xs = np.log10(xs) if result.x.log else xs
            ys = np.log10(ys) if result.y.log else ys
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        return xs[0] - dx / 2, xs[-1] + dx / 2, ys[0] - dy / 2, ys[-1] + dy / 2

    def caption(self):
        """What a picture of this map says about itself: what was mapped, and its legend."""
        from gui.figure import Caption

        surface = self.surface.name if self.surface is not None else ""
        if self.mode.currentData() == "sweep":
            lines = self.sweep_plot.lines
            return Caption(f"Learning-rate sweep on {surface}",
                           f"{self.steps.value()} steps",
                           tuple((line.style, line.label) for line in lines))
        r = self.result
        if r is None:
            return Caption(f"{self.mode.currentText()} on {surface}")
        name = optimizers.spec(r.optimizer_id).name
        what = self.colour_by.currentText()
        where = (f"over {r.x.name} × {r.y.name} from ({r.start[0]:g}, {r.start[1]:g})"
                 if isinstance(r, maps.HyperMap) else "from every start")
        return Caption(f"{name} on {surface}: {what} {where}", f"{r.steps} steps",
                       tuple((e.color, f"{e.text} ({e.count:,})")
                             for e in self.legend.entries))

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
        """One cell in words: where it is, what happened there, its final loss."""
        r = self.result
        outcome = simulate.STATUS_NAMES[int(r.status[row, col])]
        steps = int(r.steps_to_converge[row, col])
        where = (f"{r.x.name}={r.xs[col]:.4g}, {r.y.name}={r.ys[row]:.4g}"
                 if isinstance(r, maps.HyperMap) else f"start ({r.xs[col]:.4g}, {r.ys[row]:.4g})")
        verdict = status.phrase(outcome, steps if steps >= 0 else None, r.steps)
        if not isinstance(r, maps.HyperMap) and r.minimum_index[row, col] >= 0:
            index = int(r.minimum_index[row, col])
            m = self.surface.minima[index]
            verdict += f" to minimum {index + 1} ({m.point[0]:.3g}, {m.point[1]:.3g})"
        if outcome == "undefined":
            return f"{where}: f is not defined there"
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
        if r.status[row, col] == simulate.UNDEFINED:
            self.readout.setText(self.describe(row, col) + ": no race from there")
            return
        if isinstance(r, maps.HyperMap):
            settings = {**r.base_config, r.x.name: float(r.xs[col]), r.y.name: float(r.ys[row])}
            self.settings_chosen.emit(r.optimizer_id, settings)
            if tuple(r.start) != tuple(self.start):  # its start slider was moved: race there
                self.start_chosen.emit(*map(float, r.start))
            return
        racer = self._racer()
        given = dict(racer.settings) if racer is not None else {}
        held = optimizers.spec(r.optimizer_id).validate(**given)
        fixed = self._fixed_settings()
        if any(held.get(name) != value for name, value in fixed.items()):
            # The map held other values than the racer's (sliders moved): race with them.
            self.settings_chosen.emit(r.optimizer_id, {**given, **fixed})
        self.start_chosen.emit(float(r.xs[col]), float(r.ys[row]))

    def set_presentation(self, on: bool, desk_font: QFont | None = None) -> None:
        """In presentation mode the controls keep ``desk_font`` (the size before the app's
        font grew), so the map keeps the projector's room; off: they follow the app again."""
        self.controls.setFont(desk_font if on and desk_font is not None else QFont())

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.sweep_plot.set_theme(theme)
        self.plot.setBackground(theme.background)
        for name in ("bottom", "left"):
            axis = self.plot.getPlotItem().getAxis(name)
            axis.setPen(theme.foreground)
            axis.setTextPen(theme.foreground)
        self.colorbar.axis.setPen(theme.foreground)
        self.colorbar.axis.setTextPen(theme.foreground)


def _coordinate(name: str, low: float, high: float):
    """A start coordinate as a parameter, for its slider (within the surface's map)."""
    from engine.params import Param

    return Param(name, "float", (low + high) / 2, low, high)
