"""The lesson banner above the race: a preset's title, its explanation and the live number.

Hidden until a scenario with a title is opened. The explanation folds away (or shows large
in presentation mode, on request); the measured line is updated as the race plays, so the
claim of the preset is proved by a number on screen, not asserted.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class LessonBanner(QFrame):
    """Title, explanation (toggle) and measured result of the open scenario."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("lessonBanner")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        top = QHBoxLayout()
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # a file's title, never HTML
        self.toggle = QPushButton("Explain")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Show or hide the explanation (E)")
        self.toggle.toggled.connect(self.set_explanation_visible)
        self.close_button = QPushButton("×")
        self.close_button.setFixedWidth(28)
        self.close_button.setToolTip("Hide this banner")
        self.close_button.clicked.connect(self.hide)
        top.addWidget(self.title, 1)
        top.addWidget(self.toggle)
        top.addWidget(self.close_button)
        layout.addLayout(top)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation.hide()
        layout.addWidget(self.explanation)
        self.measure = QLabel()
        self.measure.setWordWrap(True)
        self.measure.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.measure)
        self._large = False
        self.set_large(False)
        self.hide()

    def set_content(self, title: str, explanation: str) -> None:
        """Show the banner for a scenario (hidden when ``title`` is empty)."""
        self.title.setText(title)
        self.explanation.setText(explanation)
        self.toggle.setEnabled(bool(explanation))
        self.measure.setText("")
        self.setVisible(bool(title))
        self._fit()

    def set_measure(self, headline: str, lines: list[str]) -> None:
        """The live number(s): a headline and one line per racer (the headline alone when
        large: the per-racer numbers are in the results table too)."""
        parts = [f"<b>{escape(headline)}</b>"] if headline else []
        if not self._large or not headline:
            parts += [escape(line) for line in lines]
        text = " &nbsp;·&nbsp; ".join(parts)
        if text != self.measure.text():
            self.measure.setText(text)
            self._fit()

    def _fit(self) -> None:
        """Never clip a wrapped line: the banner is as tall as its text needs at its width."""
        layout = self.layout()
        if self.width() > 0 and layout.hasHeightForWidth():
            self.setMinimumHeight(layout.totalHeightForWidth(self.width()))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit()

    @Slot(bool)
    def set_explanation_visible(self, visible: bool) -> None:
        self.explanation.setVisible(visible and bool(self.explanation.text()))
        if self.toggle.isChecked() != visible:
            self.toggle.setChecked(visible)
        self._fit()

    def toggle_explanation(self) -> None:
        self.set_explanation_visible(not self.explanation.isVisible())

    def set_large(self, large: bool) -> None:
        """Presentation mode: text readable from the back of a room."""
        self._large = large
        base = QFont().pointSize()
        base = base if base > 0 else 10
        sizes = (int(base * 2.0), int(base * 1.6), int(base * 1.6)) if large else (
            int(base * 1.25), base, base)
        for label, size, bold in zip((self.title, self.explanation, self.measure), sizes,
                                     (True, False, False), strict=True):
            font = QFont(label.font())
            font.setPointSize(size)
            font.setBold(bold)
            label.setFont(font)
        self._fit()
