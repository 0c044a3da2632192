"""An editor for one :class:`engine.params.Param`: compact to read, exact to keep.

``QDoubleSpinBox`` rounds what it holds to its decimals (a learning rate of 1.234567891e-4
came back as 0.0001235) and ``QSpinBox`` is 32-bit (a seed of 3,000,000,000 overflowed). A
:class:`ParamEdit` keeps the exact value it was given, a Python float or an int of any size,
and shows it compactly; only what the user types or steps changes it. Its range, scale and
refusals are the parameter's own: the arrows step along the parameter's scale (log or
linear) and stay inside its range, and typed text the parameter refuses is announced with
``refused`` (a message naming the field) while the value stays as it was.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QWidget

from engine.params import REQUIRED, Param, ParamError


class ParamEdit(QAbstractSpinBox):
    """A spin box for ``param`` holding an exact value.

    Signals
    -------
    value_edited(object)
        The user chose a new, valid value (typed and committed, or stepped).
    refused(str)
        The user typed something ``param`` refuses; the message names the field.
    """

    value_edited = Signal(object)
    refused = Signal(str)

    def __init__(self, param: Param, value: Any = REQUIRED, parent: QWidget | None = None,
                 sample: str = "-0.000123456") -> None:
        super().__init__(parent)
        self.param = param
        self._value = param.default if value is REQUIRED else param.validate(value)
        self._sample = sample
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setToolTip(f"{param.doc}\nValid: {param.range_text()}")
        if param.kind not in ("float", "int"):  # lists: typed, never stepped
            self.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.editingFinished.connect(self._commit)
        self._show()

    # --- value ---------------------------------------------------------------------------
    def value(self) -> Any:
        """The exact value held."""
        return self._value

    def set_value(self, value: Any) -> None:
        """Hold ``value`` exactly (no signal); :class:`ParamError` if ``param`` refuses it."""
        self._value = self.param.validate(value)
        self._show()

    def setValue(self, value: Any) -> None:  # noqa: N802 - Qt's name, as a user's edit
        """As if the user entered ``value``: held and announced if valid, else refused."""
        try:
            checked = self.param.validate(value)
        except ParamError as error:
            self.refused.emit(str(error))
            self._show()
            return
        self._accept(checked)

    def text_shown(self) -> str:
        return self.param.text(self._value)

    def _show(self) -> None:
        line = self.lineEdit()
        text = self.text_shown()
        if line.text() != text:
            line.setText(text)
        self.update()

    def _accept(self, value: Any) -> None:
        changed = value != self._value or type(value) is not type(self._value)
        self._value = value
        self._show()
        if changed:
            self.value_edited.emit(value)

    @Slot()
    def _commit(self) -> None:
        text = self.lineEdit().text()
        if text.strip() == self.text_shown():
            return  # untouched: keep the exact value, not its compact text
        self.setValue(text)

    # --- QAbstractSpinBox ------------------------------------------------------------------
    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        self._commit()
        current = self._value
        if current is None:
            current = self.param.default if self.param.default is not None else self.param.low
        moved = self.param.stepped(current, steps)
        if moved is not None and moved != self._value:
            self._accept(moved)

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:  # noqa: N802 - Qt override
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.isReadOnly() or self.param.kind not in ("float", "int") or self._value is None:
            return flags
        if self.param.stepped(self._value, 1) != self._value:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if self.param.stepped(self._value, -1) != self._value:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def validate(self, text: str, pos: int) -> QValidator.State:  # noqa: D102 - Qt override
        return QValidator.State.Acceptable  # checked as a whole when committed

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().sizeHint()
        metrics = self.fontMetrics()
        longest = max((self._sample, self.text_shown()), key=len)
        return QSize(max(hint.width(), metrics.horizontalAdvance(longest) + 36), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.sizeHint()
