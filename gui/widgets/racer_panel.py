"""The racers list and the hyperparameter editor of the selected racer.

Hyperparameters appear under Keras's own names with the registry's ranges; values outside a
range cannot be typed into a spin box, and anything the registry still refuses is shown
inline in red, leaving the racer unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import optimizers
from engine.landscape.race import Racer
from engine.landscape.simulate import GradientNoise
from engine.params import HyperParam, HyperParamError
from gui.palette import RacerStyle, color_for, marker_for
from gui.widgets import group
from gui.widgets.markers import marker_icon
from gui.widgets.schedule_editor import ScheduleEditor

MAX_NOISE = 100.0


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

    def __init__(self, parent=None, has_noise: bool = True, steps_label: str = "step") -> None:
        super().__init__(parent)
        self._racers: dict[str, Racer] = {}
        self._editors: dict[str, QWidget] = {}
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
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d0342c;")
        self.error.hide()
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
        self.noise_scale = QDoubleSpinBox()
        self.noise_scale.setRange(0.0, MAX_NOISE)
        self.noise_scale.setDecimals(3)
        self.noise_scale.setSingleStep(0.1)
        self.noise_scale.setSpecialValueText("off")
        self.noise_scale.setKeyboardTracking(False)
        self.noise_scale.setToolTip("Standard deviation of Gaussian noise added to each gradient "
                                    "coordinate (like a minibatch's); 0 = exact gradients")
        self.noise_seed = QSpinBox()
        self.noise_seed.setRange(0, 2**31 - 1)
        self.noise_seed.setKeyboardTracking(False)
        self.noise_seed.setToolTip("The same seed gives the same noise, run after run")
        for spin in (self.noise_scale, self.noise_seed):
            spin.valueChanged.connect(self._noise_changed)
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
        there."""
        current = self.current_key()
        self._racers = {r.key: r for r in racers}
        self.list.blockSignals(True)
        self.list.clear()
        for racer in racers:
            item = QListWidgetItem(marker_icon(styles[racer.key], 16, line=True),
                                   labels[racer.key])
            item.setToolTip(f"{labels[racer.key]}: {styles[racer.key].describe()}")
            item.setData(Qt.ItemDataRole.UserRole, racer.key)
            self.list.addItem(item)
        self.list.blockSignals(False)
        keys = [r.key for r in racers]
        if keys:
            self.select(current if current in keys else keys[0])
        else:
            self._build_form(None)

    def current_key(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def select(self, key: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.list.setCurrentRow(i)
                self._build_form(self._racers[key])
                return

    @Slot(QListWidgetItem, QListWidgetItem)
    def _current_changed(self, current, _previous) -> None:
        if current is None:
            return
        key = current.data(Qt.ItemDataRole.UserRole)
        self._build_form(self._racers.get(key))
        self.selection_changed.emit(key)

    @Slot(QAction)
    def _add_chosen(self, action: QAction) -> None:
        self.racer_added.emit(action.data())

    def add(self, optimizer_id: str) -> None:
        """Add a racer of ``optimizer_id``, as choosing it from the Add menu does."""
        self.racer_added.emit(optimizer_id)

    @Slot()
    def _remove_clicked(self) -> None:
        key = self.current_key()
        if key is not None:
            self.racer_removed.emit(key)

    @Slot()
    def _defaults_clicked(self) -> None:
        key = self.current_key()
        if key is not None:
            racer = self._racers[key]
            self.racer_changed.emit(Racer(key, racer.optimizer_id, {}, racer.start))

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
        noise = racer.noise or GradientNoise(0.0, 0)
        for spin, value in ((self.noise_scale, noise.scale), (self.noise_seed, noise.seed)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
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

    @Slot()
    def _noise_changed(self, *_args) -> None:
        key = self.current_key()
        if key is None:
            return
        scale = self.noise_scale.value()
        noise = GradientNoise(scale, self.noise_seed.value()) if scale > 0 else None
        self._replace(key, noise=noise)

    def _replace(self, key: str, **changes: Any) -> None:
        new = dataclasses.replace(self._racers[key], **changes)
        self._racers[key] = new
        self.racer_changed.emit(new)

    # --- the form ----------------------------------------------------------------------------
    def _build_form(self, racer: Racer | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors = {}
        self.error.hide()
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
        advanced = QLineEdit(", ".join(
            f"{h.name}={config[h.name]}" for h in spec.hyperparams
            if h.advanced and config[h.name] is not None))
        advanced.setPlaceholderText("e.g. clipnorm=1.0, weight_decay=0.01")
        advanced.setToolTip("Keras base options: " + ", ".join(
            f"{h.name} {h.range_text()}" for h in spec.hyperparams if h.advanced))
        advanced.editingFinished.connect(self._edited)
        self._editors["__advanced__"] = advanced
        self.form.addRow("options", advanced)
        self._show_extras(racer)

    def _editor_for(self, hyperparam: HyperParam, value: Any) -> QWidget:
        if hyperparam.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(self._edited)
            return box
        spin = QDoubleSpinBox()
        spin.setDecimals(7 if hyperparam.log else 4)
        low = hyperparam.low if hyperparam.low is not None else -1e9
        high = hyperparam.high if hyperparam.high is not None else 1e9
        step = 10.0 ** -spin.decimals()
        spin.setRange(low + step if hyperparam.low_open else low,
                      high - step if hyperparam.high_open else high)
        spin.setSingleStep(0.001 if hyperparam.log else 0.01)
        if hyperparam.log:
            spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        spin.setKeyboardTracking(False)
        spin.setValue(float(value))
        spin.valueChanged.connect(self._edited)
        return spin

    def _settings_from_form(self, racer: Racer) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        for name, editor in self._editors.items():
            if name == "__advanced__":
                text = editor.text().strip()
                for part in filter(None, (p.strip() for p in text.split(","))):
                    option, sep, value = part.partition("=")
                    if not sep:
                        raise HyperParamError("options", f"expected NAME=VALUE, got {part!r}")
                    settings[option.strip()] = value.strip()
            elif isinstance(editor, QCheckBox):
                settings[name] = editor.isChecked()
            else:
                settings[name] = editor.value()
        spec = optimizers.spec(racer.optimizer_id)
        config = spec.validate(**settings)  # raises HyperParamError naming the field
        defaults = spec.defaults()
        return {k: v for k, v in config.items()
                if not _same(v, defaults[k])}

    @Slot()
    def _edited(self, *_args) -> None:
        key = self.current_key()
        if key is None:
            return
        racer = self._racers[key]
        try:
            settings = self._settings_from_form(racer)
        except HyperParamError as error:
            self.error.setText(str(error))
            self.error.show()
            return
        self.error.hide()
        self._replace(key, settings=settings)
        if racer.schedule is None:  # the plot's constant rate follows the learning_rate box
            self.schedule.set_state(None, self._racers[key].optimizer().config["learning_rate"],
                                    self._budget)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    return a == b
