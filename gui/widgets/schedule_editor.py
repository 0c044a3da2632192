"""A learning-rate schedule editor with the effective rate drawn per step.

Used for a racer (the race's steps) and for MNIST training (the optimizer's batch steps).
"None" keeps the optimizer's constant ``learning_rate``; otherwise one of Keras's schedules
(:data:`engine.optimizers.schedules.SCHEDULES`, the ``constant`` schedule included) with its
arguments under Keras's names, each in an editor that keeps the exact value it was given and
is checked by the engine as it is typed: a refused value is shown inline, naming the field,
and the last valid schedule stays in force. The small plot shows the rate the optimizer will
use at each step, sampled (:func:`engine.optimizers.schedules.sample`: a few hundred points
however many steps the session has), with a cursor at the step being shown.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.optimizers import schedules
from engine.optimizers.schedules import Schedule
from engine.params import ParamError, short_number
from gui.palette import LIGHT, Theme
from gui.widgets import error_label
from gui.widgets.param_edit import ParamEdit
from gui.widgets.step_axis import StepAxis

PLOT_HEIGHT = 90
NO_SCHEDULE = "constant learning_rate"


class ScheduleEditor(QWidget):
    """Pick and edit a schedule; ``schedule_changed`` carries a valid Schedule or None.

    Parameters
    ----------
    steps_label
        What a step is, for the plot's axis ("step" or "batch step").
    """

    schedule_changed = Signal(object)

    def __init__(self, parent=None, steps_label: str = "step", theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.schedule: Schedule | None = None
        self.base_rate = 0.01
        self.steps = 1000
        self._editors: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.addItem(NO_SCHEDULE, None)
        for schedule_id, cls in schedules.SCHEDULES.items():
            self.combo.addItem(cls.title + (" (schedule)" if schedule_id == "constant" else ""),
                               schedule_id)
        self.combo.setToolTip("A keras.optimizers.schedules learning-rate schedule")
        self.combo.currentIndexChanged.connect(self._kind_changed)
        layout.addWidget(self.combo)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form_host)
        self.error = error_label()
        layout.addWidget(self.error)
        self.formula = QLabel()
        self.formula.setWordWrap(True)
        self.formula.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.formula)
        # Its step axis reads "48M", not "48000000" cut off at the panel's edge.
        self.plot = pg.PlotWidget(axisItems={"bottom": StepAxis("bottom")})
        self.plot.setFixedHeight(PLOT_HEIGHT)
        self.plot.setMinimumWidth(160)  # a PlotWidget's size hint (640 px) would widen the panel
        self.plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        item.setLabel("bottom", steps_label)
        item.getAxis("left").setWidth(42)
        self.curve = item.plot([], [])
        self.cursor = pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#d0342c", width=1))
        item.addItem(self.cursor)
        layout.addWidget(self.plot)
        self.now = QLabel()
        self.now.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.now)
        self._cursor_step = 0
        self.set_theme(theme)
        self._refresh()

    # --- state ----------------------------------------------------------------------------
    def set_state(self, schedule: Schedule | None, base_rate: float, steps: int) -> None:
        """Show ``schedule`` (None: constant ``base_rate``) over ``steps`` steps; no signal."""
        self.schedule, self.base_rate, self.steps = schedule, float(base_rate), max(int(steps), 1)
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self.combo.findData(schedule.id if schedule else None))
        self.combo.blockSignals(False)
        self._build_form(schedule.config() if schedule else None)
        self._refresh()

    def set_steps(self, steps: int) -> None:
        self.steps = max(int(steps), 1)
        self._refresh()

    def set_cursor(self, step: int) -> None:
        """Mark ``step`` and show the rate there."""
        self._cursor_step = max(int(step), 0)
        self.cursor.setValue(self._cursor_step)
        self.now.setText(f"effective learning rate at step {self._cursor_step}: "
                         f"{self.rate_at(self._cursor_step):.4g}")

    def rate_at(self, step: int) -> float:
        return self.schedule(step) if self.schedule is not None else self.base_rate

    # --- editing ------------------------------------------------------------------------
    @Slot()
    def _kind_changed(self, *_args) -> None:
        schedule_id = self.combo.currentData()
        if schedule_id is None:
            self._accept(None)
            self._build_form(None)
            return
        cls = schedules.SCHEDULES[schedule_id]
        values = {p.name: p.default for p in cls.params}
        first = cls.params[0].name  # initial_learning_rate / values: start from today's rate
        if first in ("initial_learning_rate", "learning_rate"):
            values[first] = self.base_rate
        self._build_form(values)
        self._edited()

    def _build_form(self, values: dict[str, Any] | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors = {}
        self.error.hide()
        if values is None:
            return
        cls = schedules.SCHEDULES[self.combo.currentData()]
        for param in cls.params:
            value = values.get(param.name, param.default)
            if param.kind == "bool":
                editor: QWidget = QCheckBox()
                editor.setChecked(bool(value))
                editor.setToolTip(f"{param.doc}\nValid: {param.range_text()}")
                editor.toggled.connect(self._edited)
            else:
                editor = ParamEdit(param, value)
                editor.value_edited.connect(self._edited)
                editor.refused.connect(self._refused)
            self._editors[param.name] = editor
            self.form.addRow(param.name, editor)

    def values(self) -> dict[str, Any]:
        """The exact values in the form."""
        return {name: editor.isChecked() if isinstance(editor, QCheckBox) else editor.value()
                for name, editor in self._editors.items()}

    @Slot(str)
    def _refused(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    @Slot()
    def _edited(self, *_args) -> None:
        schedule_id = self.combo.currentData()
        if schedule_id is None:
            return
        try:
            schedule = schedules.schedule_from(schedule_id, **self.values())
        except ParamError as error:  # fields that disagree, e.g. boundaries and values
            self._refused(str(error))
            return
        self.error.hide()
        if schedule != self.schedule:
            self._accept(schedule)

    def _accept(self, schedule: Schedule | None) -> None:
        self.schedule = schedule
        self._refresh()
        self.schedule_changed.emit(schedule)

    def _refresh(self) -> None:
        steps, rates = schedules.sample(
            self.schedule if self.schedule is not None else self.base_rate, self.steps)
        self.curve.setData(steps, rates)
        top = float(rates.max()) if rates.size else 1.0
        self.plot.getPlotItem().setYRange(0.0, top * 1.1 if top > 0 else 1.0, padding=0)
        # Two labels on a plot this short: 0 and the top rate, written out ("0.001", never a
        # column of crammed ticks or a top rate rounded to "0").
        self.plot.getPlotItem().getAxis("left").setTicks(
            [[(0.0, "0"), (top, short_number(top))] if top > 0 else [(0.0, "0")], []])
        self.formula.setText("lr = " + schedules.describe(
            self.schedule if self.schedule is not None else self.base_rate))
        self.set_cursor(min(self._cursor_step, self.steps - 1))

    def set_theme(self, theme: Theme) -> None:
        self.plot.setBackground(theme.background)
        self.curve.setPen(pg.mkPen(theme.foreground, width=2))
        item = self.plot.getPlotItem()
        for name in ("bottom", "left"):
            axis = item.getAxis(name)
            axis.setPen(theme.foreground)
            axis.setTextPen(theme.foreground)
