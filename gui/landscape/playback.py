"""Playback controls: play/pause, step, reset, timeline, speed and step budget."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QWidget,
)

from engine.files import scenario
from engine.landscape import limits

BASE_STEPS_PER_SECOND = 60.0  #: steps per second at 1×
SPEEDS = scenario.SPEEDS  # scenario files name one of these speeds
MAX_BUDGET = limits.STEPS.high


class PlaybackBar(QWidget):
    """A row of playback controls; the tab owns the clock and the current step.

    Signals
    -------
    play_toggled(bool), step_requested(int) (+1/−1), reset_requested(),
    seek_requested(int), speed_changed(float) (steps per second), budget_changed(int)
    """

    play_toggled = Signal(bool)
    step_requested = Signal(int)
    reset_requested = Signal()
    seek_requested = Signal(int)
    speed_changed = Signal(float)
    budget_changed = Signal(int)

    def __init__(self, budget: int, parent=None) -> None:
        super().__init__(parent)
        style = self.style()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.play_button = QPushButton()
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.toggled.connect(self._play_toggled)
        self._icons = (style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay),
                       style.standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        self.play_button.setIcon(self._icons[0])
        self.back_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward), "")
        self.back_button.setToolTip("Step back (Left)")
        self.back_button.clicked.connect(lambda: self.step_requested.emit(-1))
        self.forward_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward), "")
        self.forward_button.setToolTip("Step forward (Right)")
        self.forward_button.clicked.connect(lambda: self.step_requested.emit(1))
        self.reset_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), "")
        self.reset_button.setToolTip("Reset to step 0 (Home)")
        self.reset_button.clicked.connect(self.reset_requested)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, budget)
        self.slider.setToolTip("Timeline: drag to any step")
        self.slider.valueChanged.connect(self.seek_requested)
        self.step_label = QLabel()
        self.step_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.step_label.setTextFormat(Qt.TextFormat.PlainText)
        self.step_label.setToolTip("The step shown / the step budget")
        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}×", speed)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip(f"Playback speed (1× = {BASE_STEPS_PER_SECOND:g} steps per second)")
        self.speed.currentIndexChanged.connect(
            lambda _: self.speed_changed.emit(self.steps_per_second()))
        self.budget = QSpinBox()  # a step budget fits Qt's 32-bit spin box
        self.budget.setRange(limits.STEPS.low, limits.STEPS.high)
        self.budget.setValue(budget)
        self.budget.setPrefix("budget ")
        self.budget.setKeyboardTracking(False)
        self.budget.setMinimumWidth(90)
        self.budget.setToolTip(f"{limits.STEPS.doc} Valid: {limits.STEPS.range_text()}")
        self.budget.valueChanged.connect(self.budget_changed)
        for widget in (self.reset_button, self.back_button, self.play_button, self.forward_button):
            widget.setMaximumWidth(36)
            layout.addWidget(widget)
        self.slider.setMinimumWidth(120)  # a timeline to drag on the narrowest screen
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.step_label)
        layout.addWidget(self.speed)
        layout.addWidget(self.budget)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and self.step_label.text():
            self._fit_step_label(self.slider.maximum())

    def _fit_step_label(self, budget: int) -> None:
        """As wide as the widest step of this budget: the slider never jumps as digits grow."""
        # Room for "computing 99%" too (shown instead of the step while paths are computed:
        # the slider's handle still shows the step), so the label keeps its width; no wider,
        # so a 1024-px projector in presentation mode keeps a timeline to drag.
        metrics = self.step_label.fontMetrics()
        width = max(metrics.horizontalAdvance(f"{budget} / {budget}"),
                    metrics.horizontalAdvance("computing 99%")) + 8
        if self.step_label.minimumWidth() != width:
            self.step_label.setFixedWidth(width)

    def change_speed(self, direction: int) -> None:
        """One speed up (``direction`` > 0) or down, within the list."""
        index = self.speed.currentIndex() + (1 if direction > 0 else -1)
        self.speed.setCurrentIndex(max(0, min(index, self.speed.count() - 1)))

    def steps_per_second(self) -> float:
        return BASE_STEPS_PER_SECOND * float(self.speed.currentData())

    def show_step(self, step: int, budget: int, computing: int | None = None) -> None:
        """Reflect ``step`` without emitting ``seek_requested``; ``computing`` is the step the
        paths are computed to while that is still short of ``step``."""
        self.slider.blockSignals(True)
        self.slider.setMaximum(budget)
        self.slider.setValue(step)
        self.slider.blockSignals(False)
        text = f"{step} / {budget}"
        if computing is not None:  # a seek far ahead: the paths are still being computed
            text = f"computing {min(99, 100 * computing // max(step, 1))}%"
        self.step_label.setText(text)
        self._fit_step_label(budget)

    def set_playing(self, playing: bool) -> None:
        self.play_button.blockSignals(True)
        self.play_button.setChecked(playing)
        self.play_button.setIcon(self._icons[int(playing)])
        self.play_button.blockSignals(False)

    @Slot(bool)
    def _play_toggled(self, playing: bool) -> None:
        self.play_button.setIcon(self._icons[int(playing)])
        self.play_toggled.emit(playing)
