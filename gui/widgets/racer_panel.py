"""The racers list and the hyperparameter editor of the selected racer.

Hyperparameters appear under Keras's own names, each in a :class:`ParamEdit` that takes its
range and scale from the registry's parameter description and keeps the exact value it was
given. An edit changes that one field and nothing else (a value equal to Keras's default is
kept as given, not dropped); what the registry refuses is shown inline in red, naming the
field, leaving the racer unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine import optimizers
from engine.landscape import limits
from engine.landscape.race import Racer
from engine.landscape.simulate import GradientNoise
from engine.params import Param, ParamError
from gui.palette import RacerStyle, color_for, marker_for
from gui.widgets import error_label, group
from gui.widgets.markers import marker_icon
from gui.widgets.param_edit import ParamEdit
from gui.widgets.schedule_editor import ScheduleEditor

MAX_NOISE = limits.NOISE_SCALE.high
ADVANCED = "__advanced__"


class RacerPanel(QWidget):
    """Add/remove racers and edit the selected one's Keras arguments.

    Signals
    -------
    racer_added(str)
        An optimizer id to add.
    racer_removed(str)
        The key of the racer to remove.
    racer_changed(object)
        A new :class:`Racer` (validated) to replace the one with its key.
    selection_changed(str)
        The key of the racer now selected.
    """

    racer_added = Signal(str)
    racer_removed = Signal(str)
    racer_changed = Signal(object)
    selection_changed = Signal(str)

    def __init__(self, parent=None, has_noise: bool = True, steps_label: str = "step",
                 max_racers: int = limits.MAX_RACERS) -> None:
        super().__init__(parent)
        self.max_racers = max_racers
        self._racers: dict[str, Racer] = {}
        self._editors: dict[str, QWidget] = {}
        self._rows: list[tuple[str, RacerStyle, str]] = []  # (key, style, label) per list row
        self._form_racer: Racer | None = None  # the racer object the form was built for
        self._announced = False  # selection_changed was emitted (set_racers says it once)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setMaximumHeight(130)
        self.list.setIconSize(QSize(32, 16))
        self.list.currentItemChanged.connect(self._current_changed)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        # A menu, not a combo: a combo would keep showing the last type added, which reads
        # as the selected racer's type.
        self.add_menu = QMenu(self)
        for spec in optimizers.catalog():
            action = self.add_menu.addAction(
                marker_icon(RacerStyle(color_for(spec.id), marker_for(spec.id)), 16),
                spec.name)
            action.setData(spec.id)
        self.add_menu.triggered.connect(self._add_chosen)
        self.add_button = QPushButton("Add optimizer…")
        self.add_button.setMenu(self.add_menu)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_clicked)
        row.addWidget(self.add_button, 1)
        row.addWidget(self.remove_button)
        layout.addLayout(row)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.form_host)
        self.error = error_label()
        layout.addWidget(self.error)
        self.defaults_button = QPushButton("Keras defaults")
        self.defaults_button.setToolTip("Reset the selected optimizer to Keras's defaults")
        self.defaults_button.clicked.connect(self._defaults_clicked)
        layout.addWidget(self.defaults_button)
        self.schedule = ScheduleEditor(steps_label=steps_label)
        self.schedule.schedule_changed.connect(self._schedule_changed)
        layout.addWidget(group("Learning-rate schedule", self.schedule))
        noise = QWidget()
        noise_form = QFormLayout(noise)
        noise_form.setContentsMargins(0, 0, 0, 0)
        self.noise_scale = ParamEdit(limits.NOISE_SCALE)
        self.noise_seed = ParamEdit(limits.NOISE_SEED, sample="18446744073709551615")
        for edit in (self.noise_scale, self.noise_seed):
            edit.value_edited.connect(self._noise_changed)
            edit.refused.connect(self._show_error)
        noise_form.addRow("scale", self.noise_scale)
        noise_form.addRow("seed", self.noise_seed)
        self.noise_box = group("Gradient noise", noise)
        self.noise_box.setVisible(has_noise)
        layout.addWidget(self.noise_box)
        self._budget = 1000

    # --- the list ------------------------------------------------------------------------
    def set_racers(self, racers: list[Racer], styles: dict[str, RacerStyle],
                   labels: dict[str, str]) -> None:
        """Show ``racers`` with their markers; keeps the selection when its key is still
        there.

        The list changes in place: a row whose racer, look and label are unchanged is left
        alone (its icon is not drawn again), and the form is rebuilt only when the selected
        racer changed, so adding the 20th racer costs about what adding the 2nd did.
        """
        current = self.current_key()
        self._racers = {r.key: r for r in racers}
        self._show_rows([(r.key, styles[r.key], labels[r.key]) for r in racers])
        keys = [r.key for r in racers]
        self.add_button.setEnabled(len(keys) < self.max_racers)
        self.add_button.setToolTip("" if len(keys) < self.max_racers else
                                   f"At most {self.max_racers} optimizers at once")
        self.remove_button.setEnabled(len(keys) > 1)
        if keys:
            key = current if current in keys else keys[0]
            self._announced = False
            self.select(key)
            if not self._announced:  # the row stayed: say so all the same, as a new list did
                self.selection_changed.emit(key)
        else:
            self._build_form(None)

    def relabel(self, styles: dict[str, RacerStyle], labels: dict[str, str]) -> None:
        """The rows' markers and labels as ``styles`` and ``labels`` now say, the form left as
        it is (the panel's own edit changed a label, e.g. "Adam · noise 3": the list said the
        old one while the legend and table said the new)."""
        self._show_rows([(key, styles[key], labels[key]) for key, _style, _label in self._rows
                         if key in styles and key in labels])

    def _show_rows(self, shown: list[tuple[str, RacerStyle, str]]) -> None:
        """One row per ``(key, style, label)``, changed in place (see :meth:`set_racers`)."""
        with QSignalBlocker(self.list):
            for row, (key, style, label) in enumerate(shown):
                before = self._rows[row] if row < len(self._rows) else None
                if before == (key, style, label):
                    continue
                item = self.list.item(row)
                if item is None:
                    item = QListWidgetItem()
                    self.list.addItem(item)
                if before is None or before[1] != style:
                    item.setIcon(marker_icon(style, 16, line=True))
                item.setText(label)
                item.setToolTip(f"{label}: {style.describe()}")
                item.setData(Qt.ItemDataRole.UserRole, key)
            while self.list.count() > len(shown):
                self.list.takeItem(self.list.count() - 1)  # dropped: deleted
        self._rows = shown

    def current_key(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def select(self, key: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.list.setCurrentRow(i)  # a new row builds the form (_current_changed)
                self._show_form(self._racers[key])  # the same row: the form if it changed
                return

    @Slot(QListWidgetItem, QListWidgetItem)
    def _current_changed(self, current, _previous) -> None:
        if current is None:
            return
        key = current.data(Qt.ItemDataRole.UserRole)
        self._show_form(self._racers.get(key))
        self._announced = True
        self.selection_changed.emit(key)

    @Slot(QAction)
    def _add_chosen(self, action: QAction) -> None:
        self.add(action.data())

    def add(self, optimizer_id: str) -> None:
        """Add a racer of ``optimizer_id``, as choosing it from the Add menu does (nothing
        once :attr:`max_racers` race)."""
        if len(self._racers) < self.max_racers:
            self.racer_added.emit(optimizer_id)

    @Slot()
    def _remove_clicked(self) -> None:
        key = self.current_key()
        if key is not None and len(self._racers) > 1:  # a race needs a racer (Save, Open)
            self.racer_removed.emit(key)

    @Slot()
    def _defaults_clicked(self) -> None:
        key = self.current_key()
        if key is not None:
            racer = self._racers[key]
            new = Racer(key, racer.optimizer_id, {}, racer.start)
            self._racers[key] = new
            self._build_form(new)  # the boxes show Keras's defaults at once
            self.racer_changed.emit(new)

    def set_theme(self, theme) -> None:
        """Plot colours for ``theme`` (the schedule's mini-plot)."""
        self.schedule.set_theme(theme)

    # --- schedule and noise ---------------------------------------------------------------
    def set_budget(self, budget: int) -> None:
        """The race's step budget: how far the schedule plot reaches."""
        self._budget = int(budget)
        self.schedule.set_steps(self._budget)

    def set_step(self, step: int) -> None:
        """The playback step, for the effective learning rate shown."""
        self.schedule.set_cursor(step)

    def _show_extras(self, racer: Racer | None) -> None:
        """Schedule and noise editors showing ``racer`` (no signals)."""
        for widget in (self.schedule, self.noise_scale, self.noise_seed):
            widget.setEnabled(racer is not None)
        if racer is None:
            return
        rate = optimizers.get(racer.optimizer_id, **racer.settings).config["learning_rate"]
        self.schedule.set_state(racer.schedule, rate, self._budget)
        noise = racer.noise or GradientNoise(limits.NOISE_SCALE.default, limits.NOISE_SEED.default)
        self.noise_scale.set_value(noise.scale)
        self.noise_seed.set_value(noise.seed)
        learning_rate = self._editors.get("learning_rate")
        if learning_rate is not None:
            learning_rate.setEnabled(racer.schedule is None)
            learning_rate.setToolTip(learning_rate.toolTip() if racer.schedule is None
                                     else "Replaced by the learning-rate schedule below")

    @Slot(object)
    def _schedule_changed(self, schedule) -> None:
        key = self.current_key()
        if key is None:
            return
        self._replace(key, schedule=schedule)
        learning_rate = self._editors.get("learning_rate")
        if learning_rate is not None:
            learning_rate.setEnabled(schedule is None)

    @Slot(object)
    def _noise_changed(self, _value: Any) -> None:
        key = self.current_key()
        if key is None:
            return
        self.error.hide()
        scale, seed = self.noise_scale.value(), self.noise_seed.value()
        self._replace(key, noise=GradientNoise(scale, seed) if scale > 0 else None)

    @Slot(str)
    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _replace(self, key: str, **changes: Any) -> None:
        new = dataclasses.replace(self._racers[key], **changes)
        self._racers[key] = new
        self.racer_changed.emit(new)

    # --- the form ----------------------------------------------------------------------------
    def _show_form(self, racer: Racer | None) -> None:
        """The form for ``racer``; built again only when it shows another racer object (an
        edit replaces the racer, so the form always follows the racer it edits)."""
        if racer is not None and racer is self._form_racer:
            self.error.hide()  # as a rebuild would
            return
        self._build_form(racer)

    def _build_form(self, racer: Racer | None) -> None:
        before, self._form_racer = self._form_racer, racer
        self.error.hide()
        if (racer is not None and before is not None and ADVANCED in self._editors
                and before.optimizer_id == racer.optimizer_id):
            self._fill_form(racer)  # the same boxes: new values, no new widgets
            return
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors = {}
        if racer is None:
            self._show_extras(None)
            return
        spec = optimizers.spec(racer.optimizer_id)
        config = spec.validate(**racer.settings)
        for hyperparam in spec.hyperparams:
            if hyperparam.advanced:
                continue
            editor = self._editor_for(hyperparam, config[hyperparam.name])
            editor.setMinimumWidth(80)  # a narrow panel on a 1024-px projector
            editor.setToolTip(f"{hyperparam.doc}\nValid: {hyperparam.range_text()}")
            self._editors[hyperparam.name] = editor
            self.form.addRow(hyperparam.name, editor)
        advanced = QLineEdit(_options_text(spec, config))
        advanced.setPlaceholderText("e.g. clipnorm=1.0, weight_decay=0.01")
        advanced.setToolTip("Keras base options: " + ", ".join(
            f"{h.name} {h.range_text()}" for h in spec.hyperparams if h.advanced))
        advanced.editingFinished.connect(self._options_edited)
        self._editors[ADVANCED] = advanced
        self.form.addRow("options", advanced)
        self._show_extras(racer)

    def _fill_form(self, racer: Racer) -> None:
        """The form of another racer of the same optimizer shows ``racer``: each box takes
        its value as a new form's would (no signal), and its tooltip, which a schedule may
        have replaced; the rows stay, so the panel is not laid out again."""
        spec = optimizers.spec(racer.optimizer_id)
        config = spec.validate(**racer.settings)
        for hyperparam in spec.hyperparams:
            if hyperparam.advanced:
                continue
            editor = self._editors[hyperparam.name]
            editor.setEnabled(True)
            editor.setToolTip(f"{hyperparam.doc}\nValid: {hyperparam.range_text()}")
            if isinstance(editor, QCheckBox):
                with QSignalBlocker(editor):
                    editor.setChecked(bool(config[hyperparam.name]))
            else:
                text = editor.text_shown()
                editor.set_value(config[hyperparam.name])
                if editor.text_shown() != text:
                    editor.updateGeometry()  # its size hint follows its text
        self._editors[ADVANCED].setText(_options_text(spec, config))
        self._show_extras(racer)

    def _editor_for(self, hyperparam: Param, value: Any) -> QWidget:
        if hyperparam.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.setToolTip(f"{hyperparam.doc}\nValid: {hyperparam.range_text()}")
            box.toggled.connect(lambda checked, name=hyperparam.name:
                                self._field_edited(name, checked))
            return box
        edit = ParamEdit(hyperparam, value)
        edit.value_edited.connect(lambda new, name=hyperparam.name: self._field_edited(name, new))
        edit.refused.connect(self._show_error)
        return edit

    def _field_edited(self, name: str, value: Any) -> None:
        """One field changed: that field, and only that field, takes the new value."""
        key = self.current_key()
        if key is None:
            return
        racer = self._racers[key]
        self._set_settings(key, {**racer.settings, name: value})

    @Slot()
    def _options_edited(self) -> None:
        """The options text was edited: the options it names take its values (an option whose
        text is unchanged keeps its exact value); options left out go back to Keras's."""
        key = self.current_key()
        if key is None:
            return
        racer = self._racers[key]
        spec = optimizers.spec(racer.optimizer_id)
        current = spec.validate(**racer.settings)
        try:
            given = _parse_options(self._editors[ADVANCED].text())
            options = {}
            for name, text in given.items():
                param = spec.param(name)
                if not param.advanced:
                    raise ParamError(name, "has its own box above; options are "
                                     + ", ".join(h.name for h in spec.hyperparams if h.advanced))
                options[name] = (current[name] if text == param.text(current[name])
                                 else param.validate(text))
        except ParamError as error:
            self._show_error(str(error))
            return
        advanced = {h.name for h in spec.hyperparams if h.advanced}
        kept = {k: v for k, v in racer.settings.items() if k not in advanced}
        self._set_settings(key, {**kept, **options})

    def _set_settings(self, key: str, settings: dict[str, Any]) -> None:
        racer = self._racers[key]
        try:
            optimizers.spec(racer.optimizer_id).validate(**settings)  # clipping: one at most
        except ParamError as error:
            self._show_error(str(error))
            return
        self.error.hide()
        self._replace(key, settings=settings)
        if racer.schedule is None:  # the plot's constant rate follows the learning_rate box
            self.schedule.set_state(None, self._racers[key].optimizer().config["learning_rate"],
                                    self._budget)


def _options_text(spec: optimizers.OptimizerSpec, config: dict[str, Any]) -> str:
    return ", ".join(f"{h.name}={h.text(config[h.name])}" for h in spec.hyperparams
                     if h.advanced and config[h.name] is not None)


def _parse_options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise ParamError("options", f"expected NAME=VALUE, got {part!r}")
        options[name.strip()] = value.strip()
    return options
