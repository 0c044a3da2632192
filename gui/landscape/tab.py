"""The Landscape tab: optimizers racing on a 2-D loss surface, with live controls.

The tab is a view of :class:`gui.session.LandscapeModel` (the race, each racer's look, the
shown step): controls call the model's methods, the model's events redraw the views, and the
tab keeps no copy of the state.

The race is computed by :class:`engine.landscape.race.Race` in chunks ahead of playback; a ``QTimer``
in the GUI thread advances the shown step and pulls what it needs (the pyqtgraph
``isocurve.py`` pattern). Changing a hyperparameter or the start recomputes the affected
paths from the start and playback goes on.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np
from PySide6.QtCore import (
    QCoreApplication,
    QElapsedTimer,
    QEvent,
    QSignalBlocker,
    Qt,
    QTimer,
    Signal,
    Slot,
)
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
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.files import scenario
from engine.landscape import kernels, limits, surfaces
from engine.landscape.expressions import ExpressionError
from engine.landscape.race import Race, Racer
from engine.params import HyperParamError
from gui.landscape import setup, teaching
from gui.landscape.lesson_panel import LessonPanel
from gui.landscape.playback import PlaybackBar
from gui.landscape.results_table import ResultRow, ResultsTable
from gui.landscape.side_plots import Series, SidePlots
from gui.landscape.surface_view import SurfaceView, TrailData, VectorData
from gui.landscape.trails import drawn_index, moves
from gui.landscape.view3d import Surface3DView
from gui.maps.view import MapsView
from gui.palette import LIGHT, RacerStyle, Theme
from gui.session import LandscapeModel, NothingToRace, StartRefused
from gui.widgets import ERROR_STYLE, controls_beside, error_label, group, scroll_panel
from gui.widgets.banner import LessonBanner
from gui.widgets.param_edit import ParamEdit
from gui.widgets.racer_panel import RacerPanel

# The defaults a scenario file without a landscape section gets are the tab's own.
DEFAULT_SURFACE, DEFAULT_RACERS = scenario.DEFAULT_SURFACE, scenario.DEFAULT_RACERS
DEFAULT_BUDGET = scenario.DEFAULT_STEPS
FRAME_MS = 16
LOOKAHEAD = 128
COMPACT_WIDTH = 1150  #: a tab narrower than this with its controls (at 96 dpi): side is a page
AHEAD_S = 0.008  #: the GUI thread's work per idle slice computing the race ahead
#: The most the GUI thread computes per event-loop turn: seeking far along the timeline (or
#: changing a racer while far along) computes in bounded slices; the rest follows in idle
#: slices while the step label says how far the computation is.
SLICE_S = 0.02
TABLE_EVERY_S = 0.2


class LandscapeTab(QWidget):
    """The race screen. ``status_message`` carries one-line news for the status bar."""

    status_message = Signal(str)
    #: The open lesson's banner was closed: the user raced on another surface than the one
    #: its title, explanation and measure were written for.
    lesson_closed = Signal()

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        #: What this tab shows (the race, each racer's look, the step): see gui.session.
        self.model = LandscapeModel(surfaces.get(DEFAULT_SURFACE), DEFAULT_BUDGET,
                                    DEFAULT_RACERS)
        self._step_float = 0.0
        self.playing = False
        self._last_table = 0.0
        self._ticking = False  # the playback clock moves the step: a light redraw
        self._panel_edit = False  # the racer panel made the change: its form stays as it is
        self._redraw_batch: bool | None = None  # inside _one_redraw: whether one was asked
        self._fit_after_redraw = False  # the racers changed: fit the table after the redraw
        self._summaries: dict[str, tuple] = {}  # per racer: its path summed up (_path_summary)
        self._export_2d = 0  # inside drawing_2d(): redraws draw the 2-D view, shown or not
        self._kernels_seen = -1  # kernels.loaded_count() when racers last moved onto kernels
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        # Computes the rest of the race in small slices while the GUI is idle, so every
        # outcome ("converged at k" needs the whole run) is known long before it is shown.
        self.ahead = QTimer(self)
        self.ahead.setInterval(0)
        self.ahead.timeout.connect(self._compute_ahead)
        # A full redraw sets the side plots in the event loop's next turn (see _render).
        self._side_due: tuple | None = None
        self._side_timer = QTimer(self)
        self._side_timer.setSingleShot(True)
        self._side_timer.setInterval(0)
        self._side_timer.timeout.connect(self.flush_side_plots)
        self._clock = QElapsedTimer()
        events = self.model.events
        events.surface.connect(self._surface_shown)
        events.start.connect(self._start_shown)
        events.racers.connect(self._racers_shown)
        events.budget.connect(self._budget_shown)
        events.step.connect(self._step_shown)
        events.scenario.connect(self._scenario_shown)
        self._surface_shown()
        self._racers_shown(None)
        self.flush_side_plots()  # a new tab is drawn whole

    # --- the model's state, read through (no copies) ----------------------------------------
    @property
    def race(self) -> Race:
        """The race shown (:attr:`model`'s)."""
        return self.model.race

    @property
    def styles(self) -> dict[str, RacerStyle]:
        """Each racer's colour, marker and dash (see gui.palette)."""
        return self.model.styles

    @property
    def labels(self) -> dict[str, str]:
        """Each racer's short, unique label (engine.landscape.race.Race.labels)."""
        return self.model.labels()

    @property
    def step(self) -> int:
        """The step shown."""
        return self.model.step

    @property
    def measure_spec(self) -> dict | None:
        """The open scenario's live measure (engine.landscape.measures spec), in the banner."""
        return self.model.measure

    @property
    def colors(self) -> dict[str, str]:
        """Each racer's colour (its whole look is in :attr:`styles`)."""
        return {key: style.color for key, style in self.styles.items()}

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.view = SurfaceView(theme=self.theme)
        self.view.start_requested.connect(self._start_requested)
        controls = QWidget()
        column = QVBoxLayout(controls)
        column.addWidget(self._surface_box())
        column.addWidget(self._start_box())
        self.racer_panel = RacerPanel()
        self.racer_panel.set_theme(self.theme)
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
        self.maps.auto_compute = True  # on arrival, and after every change of its controls
        self.maps.set_budget(self.race.budget)
        self.maps.start_chosen.connect(self._map_start_chosen)
        self.maps.settings_chosen.connect(self._map_settings_chosen)
        self.maps.rates_chosen.connect(self._map_rates_chosen)
        self.views.addTab(self.maps, "Maps")
        self.views.currentChanged.connect(lambda _: self._render(full=True))
        self.views.currentChanged.connect(lambda _: self._fit_table())
        self.presenting = False
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
        middle = self.middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(centre)
        middle.addWidget(self.table)
        middle.setStretchFactor(0, 1)
        middle.setStretchFactor(1, 0)

        self.side_plots = SidePlots(theme=self.theme)
        self.lesson = LessonPanel()
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.side_plots)
        side.addWidget(self.lesson)
        side.setStretchFactor(0, 3)
        side.setStretchFactor(1, 2)
        # The explanation opens here, in place of the side panel: never above the race.
        self.side = QStackedWidget()
        self.side.addWidget(side)
        self.side.addWidget(self.banner.drawer)
        self.banner.explanation_toggled.connect(self._show_explanation)

        self.splitter = controls_beside(self, scroll, middle, self.side, sizes=(820, 320))
        # Compact until the first resize finds room for the side panel: a window opened on a
        # 1024-px screen then never asks for more width than the screen has.
        self.compact = False
        self._set_compact(True)
        self._layout_timer = QTimer(self)
        self._layout_timer.setSingleShot(True)
        self._layout_timer.timeout.connect(self._fit_layout)
        # issue 15: Anatomy, Theory and Class panels beside the lesson (gui/landscape/teaching.py)
        self.teaching = teaching.attach(self)
        side.setSizes([3000, 2000])  # in proportion: the plots keep most of the column
        self.side_plots.setMinimumHeight(240)  # the window still fits an 800×600 screen

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
        self.formula = QLabel()
        self.formula.setTextFormat(Qt.TextFormat.PlainText)
        self.formula.setWordWrap(True)
        self.formula.setToolTip("The surface's formula (choose Custom f(x, y) to type your own)")
        form.addRow(self.formula)
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
        row = QHBoxLayout()
        # Exact coordinates: editing x keeps y as it is (a rounding box changed both).
        self.start_x = ParamEdit(limits.COORDINATE.with_(name="x", step=0.1))
        self.start_y = ParamEdit(limits.COORDINATE.with_(name="y", step=0.1))
        self.start_x.value_edited.connect(self._start_x_typed)
        self.start_y.value_edited.connect(self._start_y_typed)
        for edit, name in ((self.start_x, "x"), (self.start_y, "y")):
            edit.refused.connect(self._show_start_note)
            edit.setMinimumWidth(70)
            row.addWidget(QLabel(name))
            row.addWidget(edit, 1)
        default = QPushButton("Reset")
        default.setToolTip("The surface's suggested start")
        default.clicked.connect(lambda: self._start_requested(*self.race.surface.start))
        row.addWidget(default)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        self.start_error = error_label()
        column.addWidget(self.start_error)
        box.setLayout(column)
        return box

    def _show_box(self) -> QGroupBox:
        box = QGroupBox("Show")
        column = QVBoxLayout(box)
        self.show_descent = QCheckBox("−gradient (solid)")
        self.show_update = QCheckBox("update step (dashed)")
        self.show_velocity = QCheckBox("velocity / momentum (dotted)")
        self.show_field = QCheckBox("gradient field")
        for box_ in (self.show_descent, self.show_update, self.show_velocity):
            box_.toggled.connect(lambda _: self._full_redraw())
            column.addWidget(box_)
        self.show_field.toggled.connect(self.view.set_gradient_field)
        column.addWidget(self.show_field)
        note = QLabel("Arrows keep one scale for the whole race: the longest −gradient and "
                      "update of any racer, and each racer's longest velocity, span an eighth "
                      "of the map.")
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
            self._show_formula(custom=True)
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
            self._show_expression_error(str(error))
            return  # the old surface stays
        self.expression_error.hide()
        if not self._surface_changed_to(surface):
            return  # defined nowhere: the old surface stays
        self.surface_combo.blockSignals(True)
        self.surface_combo.setCurrentIndex(self.surface_combo.findData("custom"))
        self.surface_combo.blockSignals(False)

    def _surface_changed_to(self, surface: surfaces.Surface, keep_start: bool = False) -> bool:
        """Race on ``surface``; False (the old surface stays) when f is defined nowhere on
        its map. A start where f is not defined moves to the nearest point where it is, and
        the start box says so."""
        previous = self.model.surface
        try:
            note = self.model.set_surface(surface, keep_start)
        except NothingToRace as error:
            self._show_expression_error(str(error))
            return False
        self._show_start_note(note, error=False)
        lesson = self.banner.title.text()
        if lesson and surface.id != previous.id:
            # "Four equally deep minima" over Beale would be false: the lesson's banner and
            # its measure go, and the status bar says why.
            self.model.measure = None
            self.banner.set_content("", "")
            self.lesson_closed.emit()
            self.status_message.emit(f"The lesson “{lesson}” was written for {previous.name}: "
                                     f"its banner is closed on {surface.name}. "
                                     f"Open it again to get it back.")
        else:
            self.status_message.emit(f"{surface.name}: {surface.lesson}")
        return True

    def _surface_shown(self) -> None:
        """The model's surface, in every view and control (at step 0, paused)."""
        surface = self.model.surface
        self.view.set_surface(surface)
        self.view3d.set_surface(surface)
        self.maps.set_surface(surface, self.model.start)
        self.lesson.show_surface(surface)
        self._condition_row.setVisible(surface.id == "ravine")
        self._show_formula(custom=surface.id.startswith("expr:"), text=surface.formula)
        self._show_start()
        self.reset()

    def _show_formula(self, custom: bool, text: str = "") -> None:
        """The formula box for a custom surface; a catalog surface shows its own formula
        instead (the last custom text is kept for when Custom is chosen again)."""
        self.expression.setVisible(custom)
        self.formula.setVisible(not custom and bool(text))
        if not custom:
            self.formula.setText(f"f(x, y) = {text}")
            self.expression_error.hide()

    def _show_start_note(self, text: str | None, error: bool = True) -> None:
        """An inline line under the start box (red for a refusal, grey for a note)."""
        self.start_error.setStyleSheet(ERROR_STYLE if error else "color: gray;")
        self.start_error.setText(text or "")
        self.start_error.setVisible(bool(text))

    def _show_expression_error(self, text: str) -> None:
        self.expression_error.setStyleSheet(ERROR_STYLE)
        self.expression_error.setText(text)
        self.expression_error.show()

    # --- start -----------------------------------------------------------------------------
    @Slot(float, float)
    def _start_requested(self, x: float, y: float) -> None:
        try:
            self.model.set_start(x, y)
        except StartRefused as error:  # no race from there: the start stays where it was
            self._show_start_note(str(error))
            self._show_start()
            return
        self._show_start_note(None)

    def _start_shown(self) -> None:
        self.maps.set_surface(self.model.surface, self.model.start)
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
        key = self.model.first_key(optimizer_id) or self.model.add_racer(optimizer_id)
        try:
            self.model.set_racer(Racer(key, optimizer_id, settings))
        except HyperParamError as error:
            self.status_message.emit(str(error))
            return
        self._show_lesson(key)
        self.views.setCurrentWidget(self.view)
        self.reset()
        self.set_playing(True)

    @Slot(object)
    def _map_rates_chosen(self, rates: dict) -> None:
        """Learning rates from the sweep (``{racer key: rate}``): race with them (all of
        them, or none if one is refused)."""
        racers = []
        for key, rate in rates.items():
            if key not in self.race.tracks:
                continue
            racer = self.model.racer(key)
            settings = {**racer.settings, "learning_rate": float(rate)}
            # The sweep's rates are constant ones: a schedule would override them.
            racers.append(Racer(key, racer.optimizer_id, settings, racer.start, None,
                                racer.noise))
        if not racers:
            return
        try:
            self.model.set_racers(racers)
        except HyperParamError as error:
            self.status_message.emit(str(error))
            return
        self.status_message.emit("Learning rates: " + ", ".join(
            self.model.racer(r.key).label() for r in racers))
        self.views.setCurrentWidget(self.view)
        self.reset()
        self.set_playing(True)

    # --- racers ----------------------------------------------------------------------------
    def _add_racer(self, optimizer_id: str) -> str:
        """A racer of ``optimizer_id`` with Keras's defaults joins; its key."""
        return self.model.add_racer(optimizer_id)

    @Slot(str)
    def _racer_added(self, optimizer_id: str) -> None:
        self._add_racer(optimizer_id)

    @Slot(str)
    def _racer_removed(self, key: str) -> None:
        self.model.remove_racer(key)

    @Slot(object)
    def _racer_changed(self, racer: Racer) -> None:
        """The racer panel edited a racer: the model takes it (or refuses, and says why)."""
        self._panel_edit = True
        try:
            with self._one_redraw():
                self.model.set_racer(racer)
        except HyperParamError as error:
            self.status_message.emit(str(error))
            return
        finally:
            self._panel_edit = False
        self._show_lesson(racer.key)

    @Slot(str)
    def _racer_selected(self, key: str) -> None:
        self._show_lesson(key)
        self.maps.set_racers(self.maps.racers, selected=key)

    @Slot(str)
    def _table_selected(self, key: str) -> None:
        self.racer_panel.select(key)
        self._show_lesson(key)

    def _racers_shown(self, select: str | None = None) -> None:
        """The model's racers in the maps, the panel (unless it made the change), the views
        and the table."""
        labels = self.labels
        self.maps.set_racers([(t.racer, labels[k], self.styles[k])
                              for k, t in self.race.tracks.items()],
                             selected=select or self.racer_panel.current_key())
        if not self._panel_edit:
            self.racer_panel.set_racers(self.model.racers(), self.styles, labels)
            if select:
                self.racer_panel.select(select)
        else:  # its form stays as the user left it; its rows say what the legend says
            self.racer_panel.relabel(self.styles, labels)
        self._fit_after_redraw = True  # the table's rows change with the redraw
        self._full_redraw()
        QTimer.singleShot(0, self._fit_table)  # and once laid out (no change: no relayout)

    def _racers_changed(self, select: str | None = None) -> None:
        """Redraw everything that shows the racers (as the model's ``racers`` event does)."""
        self._racers_shown(select)

    def _scenario_shown(self) -> None:
        """A whole set-up arrived (:meth:`gui.session.LandscapeModel.replace`)."""
        with self._one_redraw():
            self._budget_controls()
            self._show_start_note(None)
            self._surface_shown()
            self._racers_shown(next(iter(self.race.tracks), None))

    def _show_lesson(self, key: str | None) -> None:
        track = self.race.tracks.get(key) if key else None
        if track is not None:
            self.lesson.show_optimizer(track.stepper.optimizer.spec, track.stepper.optimizer.config)

    # --- playback -----------------------------------------------------------------------
    @Slot(bool)
    def set_playing(self, playing: bool, finished: bool = False) -> None:
        """Play or pause; the status bar says which, and what the keys do."""
        if playing and not self.teaching.allows_play():  # issue 15: class mode predicts first
            self.playback.set_playing(False)
            return
        if playing and self.step >= self.model.over_at():
            self.seek(0)  # a race that is over starts again
        was_playing, self.playing = self.playing, playing
        self.playback.set_playing(playing)
        if playing:
            self._step_float = float(self.step)
            self._clock.start()
            self.timer.start()
            if not was_playing:
                self.status_message.emit("Racing: Space pauses, ←/→ step, Home goes back "
                                         "to the start.")
        else:
            self.timer.stop()
            if finished:
                self.status_message.emit(f"Race over at step {self.step}: every racer's "
                                         "outcome is in the table. Space plays it again.")
            elif was_playing:
                self.status_message.emit(f"Paused at step {self.step}: Space plays on.")

    def toggle_playing(self) -> None:
        self.set_playing(not self.playing)

    @Slot(int)
    def step_by(self, delta: int) -> None:
        if self.teaching.takes_step_keys(delta):  # issue 15: ←/→ choose in class mode
            return
        self.set_playing(False)
        self.seek(self.step + delta)

    @Slot()
    def reset(self) -> None:
        self.set_playing(False)
        self.seek(0)

    @Slot(int)
    def seek(self, step: int) -> None:
        """Show ``step`` (the model's step; its event redraws)."""
        self.model.seek(step)

    def _step_shown(self) -> None:
        if self._ticking:  # playback: a light redraw, the clock keeps its fraction
            self._render()
            return
        self._step_float = float(self.step)
        self._full_redraw()

    def _restart_playback(self) -> None:
        self._full_redraw()

    def _full_redraw(self) -> None:
        """Compute a slice ahead of the shown step and redraw everything; inside
        :meth:`_one_redraw`, once at its end."""
        if self._redraw_batch is not None:
            self._redraw_batch = True
            return
        # What the redraw shows needs the paths to the shown step; the lookahead is for the
        # playback clock, which asks for it itself (paused, the idle slices compute on).
        self.race.ensure_within(self.step + (LOOKAHEAD if self.playing else 0), SLICE_S)
        self._render(full=True)
        if self._fit_after_redraw:
            # The racers changed: the table's height follows its rows now, and what changed
            # size (the table, the legends, the banner) is laid out once, before the paint.
            # Left to the next turn, the race was painted at the old sizes, then again.
            self._fit_after_redraw = False
            self._fit_table()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

    @contextmanager
    def drawing_2d(self):
        """Inside, every redraw draws the 2-D view even while another page is shown (an
        export of the view); outside, only the page shown is drawn."""
        self._export_2d += 1
        try:
            yield
        finally:
            self._export_2d -= 1

    @contextmanager
    def _one_redraw(self):
        """Full redraws asked for inside happen once, at the end: a set-up arriving or a
        racer edited asked for two to four, each with its slice of steps (a preset took
        about 0.1 s more of the GUI thread)."""
        if self._redraw_batch is not None:  # nested: the outer one redraws
            yield
            return
        self._redraw_batch = False
        try:
            yield
        finally:
            asked, self._redraw_batch = self._redraw_batch, None
            if asked:
                self._full_redraw()

    @Slot(int)
    def _budget_changed(self, budget: int) -> None:
        self.model.set_budget(budget)

    def _budget_controls(self) -> None:
        """The budget box, the schedule plots and the maps follow the model's budget."""
        budget = self.model.budget
        with QSignalBlocker(self.playback.budget):
            self.playback.budget.setValue(budget)
        self.racer_panel.set_budget(budget)
        self.maps.set_budget(budget)

    def _budget_shown(self) -> None:
        self._budget_controls()
        self._step_shown()

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
            self._ticking = True
            try:
                self.model.seek(target)
            finally:
                self._ticking = False
        if self.step >= min(finished, self.race.budget):
            self.set_playing(False, finished=True)
            self._render(full=True)

    # --- drawing ----------------------------------------------------------------------------
    def _render(self, full: bool = False) -> None:
        step = self.step
        trails, vectors, series, rows = [], [], [], []
        offset = min((m.value for m in self.race.surface.minima), default=None)
        labels = self.labels
        for gone in self._summaries.keys() - self.race.tracks.keys():
            del self._summaries[gone]
        for key, track in self.race.tracks.items():
            style = self.styles[key]
            color = style.color
            status, stop = track.status_at(step)
            points = track.points(step)
            # Drawn: a bounded number of points however long the path (gui.landscape.trails).
            shown, distances = self._path_summary(key, track, points)
            trails.append(TrailData(key, points[shown], style, status, steps=shown,
                                    label=labels.get(key, key)))
            vectors.append(VectorData(
                key, points[-1], color,
                -track.gradient(step) if self.show_descent.isChecked() else None,
                track.update(step) if self.show_update.isChecked() else None,
                track.velocity(step) if self.show_velocity.isChecked() else None,
            ))
            # Rows once computed never change: the same stepper, rows and surface are the
            # same curves, which the side plots then keep without reading them again.
            series.append(Series(key, labels.get(key, key), style, track.losses(step),
                                 track.grad_norms(step), distances, status, stop,
                                 revision=(track.stepper, len(points), self.race.surface)))
            rows.append(self._result_row(key, labels.get(key, key), track, step, status, stop))
        if self._export_2d or self.views.currentWidget() is self.view:
            self.view.set_trails(trails)
            self.view.set_vectors(vectors, self._longest_vectors())
        # Another page shown (Maps, 3-D): the 2-D view is drawn when it comes back
        # (views.currentChanged redraws); drawn unseen, it cost each redraw there 10-15 ms.
        if self.views.currentWidget() is self.view3d:
            self.view3d.set_trails([(t.key, t.points, t.color) for t in trails])
        last_step = self.race.finished_step() if self.race.complete else self.race.budget
        if full:
            # The side plots follow in the next turn of the event loop, with their own paint:
            # a set-up, surface or racer change no longer blocks the GUI thread for the map's
            # redraw and paint plus the side plots' (20 racers' 60 curves, 15-40 ms and a
            # 10-35 ms paint). Several full redraws in one turn set them once, to the last.
            self._side_due = (series, offset, last_step, step)
            self._side_timer.start()
        else:  # playback's light redraw: at once (a frame's new points are few)
            self._side_due = None
            self._side_timer.stop()
            self._show_side(series, offset, last_step, step)
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
        self.teaching.step_shown(step)  # issue 15: anatomy, theory and class mode follow
        if not self.race.complete and not self.ahead.isActive():
            self.ahead.start()

    def _show_side(self, series: list[Series], offset: float | None, last_step: int,
                   step: int) -> None:
        self.side_plots.set_series(series, loss_offset=offset, last_step=last_step)
        self.side_plots.set_cursor(step)

    @Slot()
    def flush_side_plots(self) -> None:
        """Set the side plots now if a full redraw left them for the next turn (an export,
        or a test, that reads them at once)."""
        due, self._side_due = self._side_due, None
        self._side_timer.stop()
        if due is not None:
            self._show_side(*due)

    @Slot()
    def _compute_ahead(self) -> None:
        """One slice (a few ms) of the race's remaining steps; the table learns outcomes.
        While the step shown is not computed yet, the paths grow towards it as it is."""
        if self._side_due is not None:
            return  # the side plots of the last redraw first, in a turn of their own
        loaded = kernels.loaded_count()
        if loaded != self._kernels_seen:  # a kernel loaded: racers on NumPy's steps move to it
            before = {key: track.stepper for key, track in self.race.tracks.items()}
            moved, finished = self.race.upgrade(AHEAD_S)
            for key in moved:  # the same rows: their summaries stay (20 ms per 100,000 rows)
                kept = self._summaries.get(key)
                if kept is not None and kept[0] is before[key]:
                    self._summaries[key] = (self.race.tracks[key].stepper, *kept[1:])
            if finished:
                self._kernels_seen = loaded
            return
        behind = self.race.computed_to() < self.step
        finished = self.race.compute_within(AHEAD_S)
        self._summarize_ahead()
        if finished:
            self.ahead.stop()
            self._render(full=True)
        elif behind:
            reached = self.race.computed_to() >= self.step
            if reached or time.monotonic() - self._last_table > TABLE_EVERY_S:
                self._render(full=True)

    def _distances(self, points: np.ndarray) -> np.ndarray | None:
        return self.model.distances(points)

    def _path_summary(self, key: str, track, points: np.ndarray, drawn: bool = True):
        """Which of ``points`` to draw (:func:`drawn_index`) and their distances to the
        nearest minimum, kept while the racer's path is the one summed up: the same stepper
        on the same surface, whose rows once computed never change. With 20 racers at step
        100,000, summing up every unchanged path again took a third of each redraw, growing
        with the step budget; a path that grew (the race computing on, playback) is summed
        up for its new rows only, one cut shorter (a seek back) is read from the start of the
        kept one, which stays. ``drawn=False`` (the idle slices summing up ahead) leaves out
        which points to draw (None)."""
        surface = self.race.surface
        count = len(points)
        kept = self._summaries.get(key)
        if kept is not None and kept[0] is track.stepper and kept[2] is surface:
            if kept[1] == count and (kept[3] is not None or not drawn):
                return kept[3], kept[4]
            moved, distances = kept[5], kept[4]
            if count <= kept[1]:
                moved = moved[:np.searchsorted(moved, count)]
                distances = None if distances is None else distances[:count]
                shown = drawn_index(points, surface.domain, moved) if drawn else None
                if count == kept[1]:
                    self._summaries[key] = (*kept[:3], shown, *kept[4:])
                return shown, distances
            moved = np.concatenate([moved, moves(points, surface.domain, kept[1])])
            if distances is not None:
                distances = np.concatenate([distances, self._distances(points[kept[1]:])])
        else:
            moved, distances = moves(points, surface.domain), self._distances(points)
        shown = drawn_index(points, surface.domain, moved) if drawn else None
        self._summaries[key] = (track.stepper, count, surface, shown, distances, moved)
        return shown, distances

    def _summarize_ahead(self) -> None:
        """Sum up each path as far as it is computed (an idle slice's new rows): a seek far
        along then finds its rows summed up, instead of 20 racers' tens of thousands of new
        rows in its own call (20 ms of a 100 ms block)."""
        for key, track in self.race.tracks.items():
            self._path_summary(key, track, track.points(self.race.budget), drawn=False)

    def _longest_vectors(self) -> dict[str, float]:
        """The scales of the arrows shown (see :meth:`SurfaceView.set_vectors`): the longest
        −gradient and update of any racer at any step, and each racer's own longest velocity
        (Momentum's velocity is a step, Adam's a running average of gradients: no one scale
        fits both). Racers that diverged or escaped are left out (their last steps are of
        another size altogether). Drawn to the longest at the shown step instead, the ravine
        preset's velocity arrow kept one length from the first step to the last."""
        longest: dict[str, float] = {}
        for kind, box in (("descent", self.show_descent), ("update", self.show_update)):
            if box.isChecked():
                longest[kind] = max((t.longest(kind) for t in self.race.tracks.values()
                                     if t.outcome()[0] not in ("diverged", "escaped")),
                                    default=0.0)
        if self.show_velocity.isChecked():
            for key, track in self.race.tracks.items():
                if track.outcome()[0] not in ("diverged", "escaped"):
                    longest[f"velocity:{key}"] = track.longest("velocity")
        return longest

    def _result_row(self, key, label, track, step, status, stop) -> ResultRow:
        optimizer = track.stepper.optimizer
        defaults = optimizer.spec.defaults()
        settings = ", ".join(f"{h.name}={optimizer.config[h.name]:g}"
                             if isinstance(optimizer.config[h.name], float)
                             else f"{h.name}={optimizer.config[h.name]}"
                             for h in optimizer.spec.hyperparams
                             if not h.advanced or optimizer.config[h.name] != defaults[h.name])
        point = track.points(step)[-1]
        loss = float(track.losses(step)[-1])
        minimum = self.model.minimum_at(point)
        return ResultRow(key, label, self.styles[key], settings, status,
                         stop,
                         stop if status == "converged" else None, loss,
                         (float(point[0]), float(point[1])), minimum, self.race.budget,
                         minima_known=bool(self.race.surface.minima))

    @Slot(bool)
    def _show_explanation(self, shown: bool) -> None:
        self.side.setCurrentIndex(1 if shown else 0)
        if self.compact and shown:
            self.views.setCurrentWidget(self.side)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._layout_timer.start(0)

    @Slot()
    def _fit_layout(self) -> None:
        """Below :data:`COMPACT_WIDTH` (a 1024-px projector) the side plots, lesson and
        explanation become a page beside 2-D, 3-D and Maps, so the race keeps the width;
        above it they sit beside the race."""
        room = self.width() - (self.controls.width() if self.controls.isVisible() else 0)
        self._set_compact(room < (COMPACT_WIDTH - 320) * self.logicalDpiX() / 96)

    def _set_compact(self, compact: bool) -> None:
        if compact == self.compact:
            return
        self.compact = compact
        if compact:
            self.views.addTab(self.side, "Plots && notes")
        else:
            self.views.removeTab(self.views.indexOf(self.side))
            self.splitter.addWidget(self.side)
            self.side.show()
            self.splitter.setSizes([self.controls.minimumWidth(),
                                    max(400, self.width() - self.controls.minimumWidth() - 340),
                                    320])

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.racer_panel.set_theme(theme)
        self.view.set_theme(theme)
        self.view3d.set_theme(theme)
        self.maps.set_theme(theme)
        self.side_plots.set_theme(theme)
        self.table.set_theme(theme)
        self.teaching.set_theme(theme)  # issue 15
        self._render(full=True)

    def capture_setup(self) -> dict:
        """What a scenario file keeps of this tab (:func:`gui.landscape.setup.capture`)."""
        return setup.capture(self)

    def apply_setup(self, **kwargs) -> None:
        """Show a scenario's set-up (:func:`gui.landscape.setup.apply`), redrawn once."""
        with self._one_redraw():
            setup.apply(self, **kwargs)

    def set_presentation(self, on: bool, desk_font=None) -> None:
        """Thicker lines, bigger axis text, a large banner and the race given the room of
        the control panel and the lesson panel (the keyboard drives playback; E opens the
        explanation beside the race), for a projector."""
        if on and not self.presenting:
            self._desk_sizes = self.splitter.sizes()  # given back by restore_desk_sizes
        self.presenting = on
        self.controls.setVisible(not on)
        # The lesson's prose is for reading at a desk: its panel folds away on a projector,
        # unless the teacher is showing the anatomy, the theory or the class mode there.
        panels = self.teaching.panels
        panels.setVisible(not on or panels.currentWidget() is not self.lesson)
        self._layout_timer.start(0)  # without the controls there may be room for the side
        self.view.set_line_scale(2.0 if on else 1.0, 16 if on else None)
        self.side_plots.set_line_scale(2.0 if on else 1.0, 13 if on else None)
        self.banner.set_large(on)
        self.maps.set_presentation(on, desk_font)  # its controls keep ``desk_font``
        self._render(full=True)
        QTimer.singleShot(0, self._fit_table)

    def restore_desk_sizes(self) -> None:
        """After presentation mode, the control panel, the race and the side panel as wide as
        they were before it (the panel came back at presentation mode's width, and the side
        panel gave up 46 px for it)."""
        sizes = getattr(self, "_desk_sizes", None)
        if sizes and not self.presenting and len(sizes) == len(self.splitter.sizes()):
            sizes = list(sizes)
            sizes[0] = max(sizes[0], self.controls.minimumWidth())
            self.splitter.setSizes(sizes)

    @Slot()
    def _fit_table(self) -> None:
        """The results table exactly as tall as its rows (2 to 8 of them): every row shows,
        and the race gets the rest. Set with the racers, never while the race plays. In
        presentation mode the Maps page takes the table's room too (the table describes the
        race, which that page does not show); the other views get it back."""
        if self.presenting and self.views.currentWidget() is self.maps:
            self.middle.setSizes([sum(self.middle.sizes()), 0])
            return
        rows = max(2, min(self.table.rowCount(), 8))
        height = (self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
                  + rows * self.table.verticalHeader().defaultSectionSize() + 2)
        total = sum(self.middle.sizes())
        if total > height:
            self.middle.setSizes([total - height, height])

    def shutdown(self) -> None:
        """Stop the clock and release OpenGL before the window goes."""
        self.timer.stop()
        self.ahead.stop()
        self._side_timer.stop()
        self.maps.shutdown()
        self.view3d.close_gl()

