"""The Landscape tab: optimizers racing on a 2-D loss surface, with live controls.

The race is computed by :class:`engine.landscape.race.Race` in chunks ahead of playback; a ``QTimer``
in the GUI thread advances the shown step and pulls what it needs (the pyqtgraph
``isocurve.py`` pattern). Changing a hyperparameter or the start recomputes the affected
paths from the start and playback goes on.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.files import scenario
from engine.landscape import limits, surfaces
from engine.landscape.expressions import ExpressionError
from engine.landscape.race import Race, Racer
from engine.params import HyperParamError
from gui.landscape import setup
from gui.landscape.lesson_panel import LessonPanel
from gui.landscape.playback import PlaybackBar
from gui.landscape.results_table import ResultRow, ResultsTable
from gui.landscape.side_plots import Series, SidePlots
from gui.landscape.surface_view import SurfaceView, TrailData, VectorData
from gui.landscape.trails import drawn
from gui.landscape.view3d import Surface3DView
from gui.maps.view import MapsView
from gui.palette import LIGHT, Theme, color_for
from gui.widgets import ERROR_STYLE, controls_beside, error_label, group, scroll_panel
from gui.widgets.banner import LessonBanner
from gui.widgets.param_edit import ParamEdit
from gui.widgets.racer_panel import RacerPanel

# The defaults a scenario file without a landscape section gets are the tab's own.
DEFAULT_SURFACE, DEFAULT_RACERS = scenario.DEFAULT_SURFACE, scenario.DEFAULT_RACERS
DEFAULT_BUDGET = scenario.DEFAULT_STEPS
FRAME_MS = 16
LOOKAHEAD = 128
AHEAD_S = 0.008  #: the GUI thread's work per idle slice computing the race ahead
#: The most the GUI thread computes per event-loop turn: seeking far along the timeline (or
#: changing a racer while far along) computes in bounded slices; the rest follows in idle
#: slices while the step label says how far the computation is.
SLICE_S = 0.02
TABLE_EVERY_S = 0.2


class LandscapeTab(QWidget):
    """The race screen. ``status_message`` carries one-line news for the status bar."""

    status_message = Signal(str)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        surface = surfaces.get(DEFAULT_SURFACE)
        self.race = Race(surface, surface.start, DEFAULT_BUDGET)
        self.colors: dict[str, str] = {}
        self.step = 0
        self._step_float = 0.0
        self.playing = False
        self._last_table = 0.0
        #: The open scenario's live measure (engine.landscape.measures spec), shown in the banner.
        self.measure_spec: dict | None = None
        self._build()
        for optimizer_id in DEFAULT_RACERS:
            self._add_racer(optimizer_id, refresh=False)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        # Computes the rest of the race in small slices while the GUI is idle, so every
        # outcome ("converged at k" needs the whole run) is known long before it is shown.
        self.ahead = QTimer(self)
        self.ahead.setInterval(0)
        self.ahead.timeout.connect(self._compute_ahead)
        self._clock = QElapsedTimer()
        self._surface_changed_to(surface)
        self._racers_changed()

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.view = SurfaceView(theme=self.theme)
        self.view.start_requested.connect(self._start_requested)
        controls = QWidget()
        column = QVBoxLayout(controls)
        column.addWidget(self._surface_box())
        column.addWidget(self._start_box())
        self.racer_panel = RacerPanel()
        self.racer_panel.set_budget(self.race.budget)
        self.racer_panel.racer_added.connect(self._racer_added)
        self.racer_panel.racer_removed.connect(self._racer_removed)
        self.racer_panel.racer_changed.connect(self._racer_changed)
        self.racer_panel.selection_changed.connect(self._racer_selected)
        column.addWidget(group("Optimizers", self.racer_panel))
        column.addWidget(self._show_box())
        column.addStretch(1)
        scroll = self.controls = scroll_panel(controls)

        self.view3d = Surface3DView(theme=self.theme)
        self.views = QTabWidget()
        self.views.addTab(self.view, "2-D")
        self.views.addTab(self.view3d, "3-D")
        self.maps = MapsView(theme=self.theme)
        self.maps.start_chosen.connect(self._map_start_chosen)
        self.maps.settings_chosen.connect(self._map_settings_chosen)
        self.maps.rates_chosen.connect(self._map_rates_chosen)
        self.views.addTab(self.maps, "Maps")
        self.views.currentChanged.connect(lambda _: self._render(full=True))
        self.playback = PlaybackBar(self.race.budget)
        self.playback.play_toggled.connect(self.set_playing)
        self.playback.step_requested.connect(self.step_by)
        self.playback.reset_requested.connect(self.reset)
        self.playback.seek_requested.connect(self.seek)
        self.playback.budget_changed.connect(self._budget_changed)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        self.banner = LessonBanner()
        centre_layout.addWidget(self.banner)
        centre_layout.addWidget(self.views, 1)
        centre_layout.addWidget(self.playback)
        self.table = ResultsTable()
        self.table.row_selected.connect(self._table_selected)
        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(centre)
        middle.addWidget(self.table)
        middle.setStretchFactor(0, 4)
        middle.setStretchFactor(1, 1)
        middle.setSizes([660, 190])

        self.side_plots = SidePlots(theme=self.theme)
        self.lesson = LessonPanel()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.side_plots)
        right.addWidget(self.lesson)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)

        controls_beside(self, scroll, middle, right, sizes=(820, 380))

    def _surface_box(self) -> QGroupBox:
        box = QGroupBox("Surface")
        form = QFormLayout(box)
        self.surface_combo = QComboBox()
        for surface in surfaces.catalog():
            self.surface_combo.addItem(surface.name, surface.id)
        self.surface_combo.addItem("Custom f(x, y)", "custom")
        self.surface_combo.setCurrentIndex(self.surface_combo.findData(DEFAULT_SURFACE))
        self.surface_combo.currentIndexChanged.connect(self._surface_picked)
        form.addRow(self.surface_combo)
        self.condition_slider = QSlider(Qt.Orientation.Horizontal)
        self.condition_slider.setRange(0, 40)  # condition number 10^(v/10): 1 … 10⁴
        self.condition_slider.setValue(17)
        self.condition_slider.setToolTip("Condition number of the ravine (ratio of curvatures)")
        self.condition_label = QLabel("50")
        self.condition_label.setMinimumWidth(40)
        self.condition_slider.valueChanged.connect(self._condition_changed)
        self._condition_row = QWidget()
        row = QHBoxLayout(self._condition_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("condition"))
        row.addWidget(self.condition_slider, 1)
        row.addWidget(self.condition_label)
        form.addRow(self._condition_row)
        self.expression = QLineEdit()
        self.expression.setPlaceholderText("f(x, y), e.g. x**2 + 3*y**2 + sin(x*y)")
        self.expression.textChanged.connect(self._expression_typed)
        self.expression.returnPressed.connect(self._expression_applied)
        form.addRow(self.expression)
        self.expression_error = error_label()
        form.addRow(self.expression_error)
        return box

    def _start_box(self) -> QGroupBox:
        box = QGroupBox("Start (click or drag on the map)")
        row = QHBoxLayout(box)
        # Exact coordinates: editing x keeps y as it is (a rounding box changed both).
        self.start_x = ParamEdit(limits.COORDINATE.with_(name="x", step=0.1))
        self.start_y = ParamEdit(limits.COORDINATE.with_(name="y", step=0.1))
        self.start_x.value_edited.connect(self._start_x_typed)
        self.start_y.value_edited.connect(self._start_y_typed)
        for edit, name in ((self.start_x, "x"), (self.start_y, "y")):
            edit.refused.connect(self.status_message)
            row.addWidget(QLabel(name))
            row.addWidget(edit)
        default = QPushButton("Reset")
        default.setToolTip("The surface's suggested start")
        default.clicked.connect(lambda: self._start_requested(*self.race.surface.start))
        row.addWidget(default)
        return box

    def _show_box(self) -> QGroupBox:
        box = QGroupBox("Show")
        column = QVBoxLayout(box)
        self.show_descent = QCheckBox("−gradient (solid)")
        self.show_update = QCheckBox("update step (dashed)")
        self.show_velocity = QCheckBox("velocity / momentum (dotted)")
        self.show_field = QCheckBox("gradient field")
        for box_ in (self.show_descent, self.show_update, self.show_velocity):
            box_.toggled.connect(lambda _: self._render(full=True))
            column.addWidget(box_)
        self.show_field.toggled.connect(self.view.set_gradient_field)
        column.addWidget(self.show_field)
        note = QLabel("Arrows show directions and relative sizes, not to scale.")
        note.setWordWrap(True)
        note.setStyleSheet("color: gray;")
        column.addWidget(note)
        return box

    # --- surface --------------------------------------------------------------------------
    @Slot(int)
    def _surface_picked(self, _index: int) -> None:
        surface_id = self.surface_combo.currentData()
        self._condition_row.setVisible(surface_id == "ravine")
        if surface_id == "custom":
            self.expression.setFocus()
            if self.expression.text().strip():
                self._expression_applied()
            return
        params = {"condition_number": self._condition()} if surface_id == "ravine" else {}
        self._surface_changed_to(surfaces.get(surface_id, **params))

    def _condition(self) -> float:
        return float(f"{10 ** (self.condition_slider.value() / 10):.2g}")

    @Slot(int)
    def _condition_changed(self, _value: int) -> None:
        self.condition_label.setText(f"{self._condition():g}")
        if self.surface_combo.currentData() == "ravine":
            self._surface_changed_to(surfaces.get("ravine", condition_number=self._condition()),
                                     keep_start=True)

    @Slot(str)
    def _expression_typed(self, text: str) -> None:
        if not text.strip():
            self.expression_error.hide()
            return
        try:
            surfaces.from_expression(text)
        except ExpressionError as error:
            self.expression_error.setText(str(error))
            self.expression_error.show()
            return
        self.expression_error.setText("Press Enter to race on this surface.")
        self.expression_error.setStyleSheet("color: gray;")
        self.expression_error.show()

    @Slot()
    def _expression_applied(self) -> None:
        try:
            surface = surfaces.from_expression(self.expression.text())
        except ExpressionError as error:
            self.expression_error.setStyleSheet(ERROR_STYLE)
            self.expression_error.setText(str(error))
            self.expression_error.show()
            return  # the old surface stays
        self.expression_error.hide()
        self.surface_combo.blockSignals(True)
        self.surface_combo.setCurrentIndex(self.surface_combo.findData("custom"))
        self.surface_combo.blockSignals(False)
        self._surface_changed_to(surface)

    def _surface_changed_to(self, surface: surfaces.Surface, keep_start: bool = False) -> None:
        start = self.race.start if keep_start else surface.start
        self.race.set_surface(surface, start)
        self.view.set_surface(surface)
        self.view3d.set_surface(surface)
        self.maps.set_surface(surface, self.race.start)
        self.lesson.show_surface(surface)
        self._condition_row.setVisible(surface.id == "ravine")
        self._show_start()
        self.reset()
        self.status_message.emit(f"{surface.name}: {surface.lesson}")

    # --- start -----------------------------------------------------------------------------
    @Slot(float, float)
    def _start_requested(self, x: float, y: float) -> None:
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        self.race.set_start((x, y))
        self.maps.set_surface(self.race.surface, self.race.start)
        self._show_start()
        self._restart_playback()

    @Slot(object)
    def _start_x_typed(self, x: float) -> None:
        self._start_requested(x, self.race.start[1])

    @Slot(object)
    def _start_y_typed(self, y: float) -> None:
        self._start_requested(self.race.start[0], y)

    def _show_start(self) -> None:
        x, y = self.race.start
        self.view.set_start(x, y)
        self.start_x.set_value(x)
        self.start_y.set_value(y)

    @Slot(float, float)
    def _map_start_chosen(self, x: float, y: float) -> None:
        """A start-map cell was clicked: race from there, on the 2-D view."""
        self.views.setCurrentWidget(self.view)
        self._start_requested(x, y)
        self.reset()
        self.set_playing(True)

    @Slot(str, object)
    def _map_settings_chosen(self, optimizer_id: str, settings: dict) -> None:
        """A hyperparameter-map cell was clicked: race a racer with those settings."""
        key = next((k for k, t in self.race.tracks.items()
                    if t.racer.optimizer_id == optimizer_id), None)
        if key is None:
            self._add_racer(optimizer_id, refresh=False)
            key = list(self.race.tracks)[-1]
        self._racer_changed(Racer(key, optimizer_id, settings))
        self._racers_changed(select=key)
        self.views.setCurrentWidget(self.view)
        self.reset()
        self.set_playing(True)

    @Slot(object)
    def _map_rates_chosen(self, rates: dict) -> None:
        """Learning rates from the sweep (``{racer key: rate}``): race with them."""
        changed = None
        for key, rate in rates.items():
            track = self.race.tracks.get(key)
            if track is None:
                continue
            racer = track.racer
            settings = {**racer.settings, "learning_rate": float(rate)}
            try:
                # The sweep's rates are constant ones: a schedule would override them.
                self.race.set_racer(Racer(key, racer.optimizer_id, settings, racer.start,
                                          None, racer.noise))
            except HyperParamError as error:
                self.status_message.emit(str(error))
                continue
            changed = key
        if changed is None:
            return
        self._racers_changed(select=changed)
        self.status_message.emit("Learning rates: " + ", ".join(
            f"{self.race.tracks[k].racer.label()}" for k in rates if k in self.race.tracks))
        self.views.setCurrentWidget(self.view)
        self.reset()
        self.set_playing(True)

    # --- racers ----------------------------------------------------------------------------
    def _add_racer(self, optimizer_id: str, refresh: bool = True) -> None:
        key = self.race.new_key(optimizer_id)
        same = sum(t.racer.optimizer_id == optimizer_id for t in self.race.tracks.values())
        self.colors[key] = color_for(optimizer_id, same)
        self.race.set_racer(Racer(key, optimizer_id))
        if refresh:
            self._racers_changed(select=key)

    @Slot(str)
    def _racer_added(self, optimizer_id: str) -> None:
        self._add_racer(optimizer_id)

    @Slot(str)
    def _racer_removed(self, key: str) -> None:
        self.race.remove(key)
        self.colors.pop(key, None)
        self._racers_changed()

    @Slot(object)
    def _racer_changed(self, racer: Racer) -> None:
        try:
            self.race.set_racer(racer)
        except HyperParamError as error:
            self.status_message.emit(str(error))
            return
        self._racers_changed(select=racer.key, rebuild_panel=False)
        self._show_lesson(racer.key)

    @Slot(str)
    def _racer_selected(self, key: str) -> None:
        self._show_lesson(key)

    @Slot(str)
    def _table_selected(self, key: str) -> None:
        self.racer_panel.select(key)
        self._show_lesson(key)

    def _racers_changed(self, select: str | None = None, rebuild_panel: bool = True) -> None:
        labels = {k: t.racer.label() for k, t in self.race.tracks.items()}
        self.maps.set_racers([(t.racer, labels[k], self.colors[k])
                              for k, t in self.race.tracks.items()])
        if rebuild_panel:
            self.racer_panel.set_racers(self.race.racers(), self.colors, labels)
            if select:
                self.racer_panel.select(select)
        self.race.ensure_within(self.step + LOOKAHEAD, SLICE_S)
        self._render(full=True)

    def _show_lesson(self, key: str | None) -> None:
        track = self.race.tracks.get(key) if key else None
        if track is not None:
            self.lesson.show_optimizer(track.stepper.optimizer.spec, track.stepper.optimizer.config)

    # --- playback -----------------------------------------------------------------------
    @Slot(bool)
    def set_playing(self, playing: bool) -> None:
        if playing and self.step >= self.race.budget:
            self.seek(0)
        self.playing = playing
        self.playback.set_playing(playing)
        if playing:
            self._step_float = float(self.step)
            self._clock.start()
            self.timer.start()
        else:
            self.timer.stop()

    def toggle_playing(self) -> None:
        self.set_playing(not self.playing)

    @Slot(int)
    def step_by(self, delta: int) -> None:
        self.set_playing(False)
        self.seek(self.step + delta)

    @Slot()
    def reset(self) -> None:
        self.set_playing(False)
        self.seek(0)

    @Slot(int)
    def seek(self, step: int) -> None:
        """Show ``step``: what is computed at once (at most :data:`SLICE_S` of work), the
        rest in idle slices, the paths growing until they reach it."""
        self.step = max(0, min(int(step), self.race.budget))
        self._step_float = float(self.step)
        self.race.ensure_within(self.step + LOOKAHEAD, SLICE_S)
        self._render(full=True)

    def _restart_playback(self) -> None:
        self.race.ensure_within(self.step + LOOKAHEAD, SLICE_S)
        self._render(full=True)

    @Slot(int)
    def _budget_changed(self, budget: int) -> None:
        self.race.set_budget(budget)
        self.racer_panel.set_budget(budget)
        self.seek(min(self.step, budget))

    @Slot()
    def _tick(self) -> None:
        elapsed = self._clock.restart() / 1000.0
        self._step_float += self.playback.steps_per_second() * min(elapsed, 0.25)
        target = min(int(self._step_float), self.race.budget)
        if not self.race.ensure_within(target + LOOKAHEAD, SLICE_S):
            target = max(self.step, min(target, self.race.computed_to()))  # wait for it
            self._step_float = float(target)
        finished = self.race.finished_step()
        if target != self.step:
            self.step = target
            self._render()
        if self.step >= min(finished, self.race.budget):
            self.set_playing(False)
            self._render(full=True)

    # --- drawing ----------------------------------------------------------------------------
    def _render(self, full: bool = False) -> None:
        step = self.step
        trails, vectors, series, rows = [], [], [], []
        offset = min((m.value for m in self.race.surface.minima), default=None)
        for key, track in self.race.tracks.items():
            color = self.colors[key]
            status, stop = track.status_at(step)
            points = track.points(step)
            # Drawn: a bounded number of points however long the path (gui.landscape.trails).
            trails.append(TrailData(key, drawn(points, self.race.surface.domain), color, status))
            vectors.append(VectorData(
                key, points[-1], color,
                -track.gradient(step) if self.show_descent.isChecked() else None,
                track.update(step) if self.show_update.isChecked() else None,
                track.velocity(step) if self.show_velocity.isChecked() else None,
            ))
            series.append(Series(key, track.racer.label(), color, track.losses(step),
                                 track.grad_norms(step), self._distances(points)))
            rows.append(self._result_row(key, track, step, status, stop))
        self.view.set_trails(trails)
        self.view.set_vectors(vectors)
        if self.views.currentWidget() is self.view3d:
            self.view3d.set_trails([(t.key, t.points, t.color) for t in trails])
        self.side_plots.set_series(series, loss_offset=offset)
        self.side_plots.set_cursor(step)
        now = time.monotonic()
        if full or now - self._last_table > TABLE_EVERY_S:
            self._last_table = now
            self.table.set_rows(rows)
            self.racer_panel.set_step(step)
            measured = setup.measurement_text(self)
            if measured is not None:
                self.banner.set_measure(*measured)
        computed = self.race.computed_to()
        self.playback.show_step(step, self.race.budget,
                                computing=computed if computed < step else None)
        if not self.race.complete and not self.ahead.isActive():
            self.ahead.start()

    @Slot()
    def _compute_ahead(self) -> None:
        """One slice (a few ms) of the race's remaining steps; the table learns outcomes.
        While the step shown is not computed yet, the paths grow towards it as it is."""
        behind = self.race.computed_to() < self.step
        if self.race.compute_within(AHEAD_S):
            self.ahead.stop()
            self._render(full=True)
        elif behind:
            reached = self.race.computed_to() >= self.step
            if reached or time.monotonic() - self._last_table > TABLE_EVERY_S:
                self._render(full=True)

    def _distances(self, points: np.ndarray) -> np.ndarray | None:
        minima = self.race.surface.minima
        if not minima:
            return None
        centres = np.array([m.point for m in minima])
        d = np.hypot(points[:, None, 0] - centres[None, :, 0],
                     points[:, None, 1] - centres[None, :, 1])
        return d.min(axis=1)

    def _result_row(self, key, track, step, status, stop) -> ResultRow:
        optimizer = track.stepper.optimizer
        defaults = optimizer.spec.defaults()
        settings = ", ".join(f"{h.name}={optimizer.config[h.name]:g}"
                             if isinstance(optimizer.config[h.name], float)
                             else f"{h.name}={optimizer.config[h.name]}"
                             for h in optimizer.spec.hyperparams
                             if not h.advanced or optimizer.config[h.name] != defaults[h.name])
        point = track.points(step)[-1]
        loss = float(track.losses(step)[-1])
        minimum = None
        distances = self._distances(point[None, :])
        if distances is not None and distances[0] <= self.race.tolerances.x_tol:
            index = int(np.argmin(np.hypot(*(np.array([m.point for m in self.race.surface.minima])
                                             - point).T)))
            m = self.race.surface.minima[index]
            minimum = f"{m.kind} ({m.point[0]:.4g}, {m.point[1]:.4g})"
        return ResultRow(key, track.racer.label(), self.colors[key], settings, status, stop,
                         stop if status == "converged" else None, loss,
                         (float(point[0]), float(point[1])), minimum, self.race.budget)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.view.set_theme(theme)
        self.view3d.set_theme(theme)
        self.maps.set_theme(theme)
        self.side_plots.set_theme(theme)
        self.table.set_theme(theme)
        self._render(full=True)

    def capture_setup(self) -> dict:
        """What a scenario file keeps of this tab (:func:`gui.landscape.setup.capture`)."""
        return setup.capture(self)

    def apply_setup(self, **kwargs) -> None:
        """Show a scenario's set-up (:func:`gui.landscape.setup.apply`)."""
        setup.apply(self, **kwargs)

    def set_presentation(self, on: bool) -> None:
        """Thicker lines, bigger axis text, a large banner and the race given the room of
        the control panel (the keyboard drives playback), for a projector."""
        self.controls.setVisible(not on)
        self.view.set_line_scale(2.0 if on else 1.0, 16 if on else None)
        self.side_plots.set_line_scale(2.0 if on else 1.0, 13 if on else None)
        self.banner.set_large(on)
        self._render(full=True)

    def shutdown(self) -> None:
        """Stop the clock and release OpenGL before the window goes."""
        self.timer.stop()
        self.ahead.stop()
        self.maps.shutdown()
        self.view3d.close_gl()

