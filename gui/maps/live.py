"""Sliders for what a map holds fixed: drag one and the map recomputes while it moves.

A hyperparameter map varies two settings along its axes and holds the others fixed, and it
runs every cell from one start; a start map varies the start and holds every setting fixed.
:class:`FixedSettings` gives each of those fixed values a slider on the parameter's own
scale (log for rates and epsilons) within the range the registry allows, and, for a
hyperparameter map, the start's x and y within the surface's map. While the mouse drags a
slider, ``changed(True)`` asks for a quick coarse map; letting go (or a key press) sends
``changed(False)`` for the full one. The values are the map's alone until a cell is
clicked, which races with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QSlider, QWidget

from engine.params import Param, short_number

TICKS = 1000  #: slider positions from the low end to the high end of a range
COLUMNS = 2  #: sliders side by side (a map page on a 720-px screen has little height)


@dataclass(frozen=True)
class Field:
    """One slider: a name, its range and scale, and the value it starts at."""

    name: str
    low: float
    high: float
    log: bool
    value: float

    def to_position(self, value: float) -> int:
        if self.log:
            low, high, value = math.log10(self.low), math.log10(self.high), math.log10(value)
        else:
            low, high = self.low, self.high
        share = 0.0 if high == low else (value - low) / (high - low)
        return round(min(max(share, 0.0), 1.0) * TICKS)

    def from_position(self, position: int) -> float:
        share = position / TICKS
        if self.log:
            return 10 ** (math.log10(self.low) + share * (math.log10(self.high)
                                                            - math.log10(self.low)))
        return self.low + share * (self.high - self.low)


def slider_range(param: Param) -> tuple[float, float]:
    """The range a map's slider (or axis) spans for ``param``: its valid range, log scales
    clipped to [1e-5, 10], open ends kept 1% inside (the same span a map's axis takes)."""
    low = float(param.low) if param.low is not None else 0.0
    high = float(param.high) if param.high is not None else 1.0
    if param.log:
        return max(low, 1e-5), min(high, 10.0)
    if param.high_open:
        high = high - 0.01 * (high - low)
    if param.low_open:
        low = low + 0.01 * (high - low)
    return low, high


def field_for(param: Param, value: float) -> Field:
    """A slider for ``param`` starting at exactly ``value``: the range widens to hold a value
    outside the usual span (Adam's epsilon of 1e-7 below a log slider's 1e-5), so the map
    holds the racer's own setting until the slider is moved, never a clipped one."""
    low, high = slider_range(param)
    value = float(value)
    return Field(param.name, min(low, value), max(high, value), param.log, value)


class FixedSettings(QWidget):
    """One slider per value a map holds fixed. ``changed(dragging)`` after any move."""

    changed = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(2)
        self._fields: list[Field] = []
        self._sliders: list[QSlider] = []
        self._labels: list[QLabel] = []
        self._values: dict[str, float] = {}
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_fields(self, fields: list[Field]) -> None:
        """Show these sliders (no signal); an empty list hides the widget."""
        while self._grid.count():
            widget = self._grid.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self._fields, self._sliders, self._labels = list(fields), [], []
        self._values = {f.name: f.value for f in fields}
        for index, field in enumerate(fields):
            row, column = divmod(index, COLUMNS)
            name = QLabel(field.name)
            name.setTextFormat(Qt.TextFormat.PlainText)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, TICKS)
            slider.setValue(field.to_position(field.value))
            slider.setMinimumWidth(60)
            slider.setToolTip(f"{field.name}: held fixed by the map, "
                              f"{short_number(field.low)} to {short_number(field.high)}"
                              f"{' (log scale)' if field.log else ''}; drag to see the map "
                              "change")
            value = QLabel(short_number(field.value))
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("0.0001") + 4)
            slider.sliderMoved.connect(lambda position, i=index: self._moved(i, position, True))
            slider.valueChanged.connect(lambda position, i=index: self._stepped(i, position))
            slider.sliderReleased.connect(self._released)
            self._grid.addWidget(name, row, 3 * column)
            self._grid.addWidget(slider, row, 3 * column + 1)
            self._grid.addWidget(value, row, 3 * column + 2)
            self._sliders.append(slider)
            self._labels.append(value)
        for column in range(COLUMNS):
            self._grid.setColumnStretch(3 * column + 1, 1)
        self.setVisible(bool(fields))

    def values(self) -> dict[str, float]:
        """Each slider's value by name."""
        return dict(self._values)

    def set_value(self, name: str, value: float) -> None:
        """Move slider ``name`` to ``value`` (no signal; nothing if there is none)."""
        for index, field in enumerate(self._fields):
            if field.name == name:
                value = min(max(float(value), field.low), field.high)
                self._values[name] = value
                self._sliders[index].blockSignals(True)
                self._sliders[index].setValue(field.to_position(value))
                self._sliders[index].blockSignals(False)
                self._labels[index].setText(short_number(value))

    def names(self) -> list[str]:
        return [f.name for f in self._fields]

    def slider(self, name: str) -> QSlider:
        """The slider of ``name`` (``KeyError`` if none)."""
        for field, slider in zip(self._fields, self._sliders, strict=True):
            if field.name == name:
                return slider
        raise KeyError(name)

    def _moved(self, index: int, position: int, dragging: bool) -> None:
        field = self._fields[index]
        value = field.from_position(position)
        if self._values.get(field.name) == value:
            return
        self._values[field.name] = value
        self._labels[index].setText(short_number(value))
        self.changed.emit(dragging)

    @Slot(int)
    def _stepped(self, index: int, position: int) -> None:
        """A key press, a click on the groove or a wheel turn: the full map at once."""
        if not self._sliders[index].isSliderDown():
            self._moved(index, position, False)

    @Slot()
    def _released(self) -> None:
        self.changed.emit(False)
