"""The lesson banner above the race: a preset's title and its live number, at a fixed height.

Hidden until a scenario with a title is opened. The banner has a fixed number of lines
(title; headline; in normal mode one line of per-racer numbers), each elided with its whole
text in a tooltip, so it never grows or shrinks while the race plays and nothing below it
moves. The explanation is never shown above the race, where it would shrink it: "Explain"
(E) opens it in an :class:`ExplanationDrawer` that the tab shows in place of its side panel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtGui import QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

#: Type sizes relative to the app's font: (title, headline, details); presentation mode uses
#: LARGE. At 1280×720 on a 3 m projected image a pixel is about 2.4 mm: a 15 pt body (the
#: app's font in presentation mode) is about 20 px ≈ 5 cm tall, the 1.5× headline (22 pt)
#: about 7 cm, readable from 10 m (the usual rule: 2.5 cm of letter height per 4 m).
NORMAL = (1.25, 1.1, 1.0)
LARGE = (1.3, 1.5, 1.0)


#: A line too long for its width is drawn in smaller type, down to this fraction of its
#: font, before it is cut short: "Four equally deep minima: where does each optimizer en…"
#: lost the question's last word on a 1280-px screen for want of 5 % of its width.
SHRINK_TO = 0.8


class ElidedLabel(QWidget):
    """One line of plain text that never wraps: too long, it is drawn in smaller type (down
    to :data:`SHRINK_TO` of its font), and if that is not enough it ends in "…" and the
    tooltip holds it all. Its height is one line of its font, whatever the text."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - reads like QLabel's
        text = " ".join(str(text).split())  # one line: newlines and tabs become spaces
        if text != self._text:
            self._text = text
            self._update_tooltip()
            self.update()

    def _update_tooltip(self) -> None:
        elided = self.fontMetrics().horizontalAdvance(self._text) * SHRINK_TO > self.width()
        self.setToolTip(self._text if elided else "")

    def shown_font(self) -> QFont:
        """The font the text is drawn in: the label's, or smaller (to :data:`SHRINK_TO` of
        it) where that makes the text fit its width."""
        font = QFont(self.font())
        wide = self.fontMetrics().horizontalAdvance(self._text)
        if wide <= self.width() or wide <= 0:
            return font
        scale = max(SHRINK_TO, self.width() / wide)
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * scale * 0.99)
        elif font.pixelSize() > 0:
            font.setPixelSize(max(1, int(font.pixelSize() * scale)))
        return font

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.fontMetrics().horizontalAdvance(self._text), self._line_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(0, self._line_height())

    def _line_height(self) -> int:
        return self.fontMetrics().height() + 2

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.setFixedHeight(self._line_height())
            self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        font = self.shown_font()
        painter.setFont(font)
        shown = QFontMetrics(font).elidedText(self._text, Qt.TextElideMode.ElideRight,
                                              self.width())
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         shown)


class ExplanationDrawer(QWidget):
    """A preset's explanation as a panel of its own (the tab shows it beside the race)."""

    closed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        top = QHBoxLayout()
        self.heading = ElidedLabel("Explanation")
        font = QFont(self.heading.font())
        font.setBold(True)
        self.heading.setFont(font)
        close = QPushButton("×")
        close.setFixedWidth(28)
        close.setToolTip("Close the explanation (E)")
        close.clicked.connect(self.closed)
        top.addWidget(self.heading, 1)
        top.addWidget(close)
        layout.addLayout(top)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidget(self.text)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(scroll, 1)

    def set_text(self, title: str, explanation: str) -> None:
        self.heading.setText(title or "Explanation")
        self.text.setText(explanation)


class LessonBanner(QFrame):
    """Title, live headline and per-racer numbers of the open scenario, at a fixed height.

    Signals
    -------
    explanation_toggled(bool)
        The explanation should be shown (True) or hidden (in :attr:`drawer`).
    """

    explanation_toggled = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("lessonBanner")
        self.drawer = ExplanationDrawer()
        self.drawer.closed.connect(lambda: self.set_explanation_visible(False))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.setSpacing(1)
        top = QHBoxLayout()
        self.title = ElidedLabel()
        self.toggle = QPushButton("Explain")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Show or hide the explanation beside the race (E)")
        self.toggle.toggled.connect(self.set_explanation_visible)
        self.close_button = QPushButton("×")
        self.close_button.setFixedWidth(28)
        self.close_button.setToolTip("Hide this banner")
        self.close_button.clicked.connect(self._close)
        top.addWidget(self.title, 1)
        top.addWidget(self.toggle)
        top.addWidget(self.close_button)
        layout.addLayout(top)
        self.measure = ElidedLabel()  # the headline
        layout.addWidget(self.measure)
        self.details = ElidedLabel()  # one line of per-racer numbers (normal mode only)
        layout.addWidget(self.details)
        self._explanation = ""
        self._large = False
        self.set_large(False)
        self.hide()

    @property
    def explanation(self) -> QLabel:
        """The label holding the explanation (in the drawer)."""
        return self.drawer.text

    def set_content(self, title: str, explanation: str) -> None:
        """Show the banner for a scenario (hidden when ``title`` is empty)."""
        self.title.setText(title)
        self._explanation = explanation
        self.drawer.set_text(title, explanation)
        self.toggle.setEnabled(bool(explanation))
        self.measure.setText("")
        self.details.setText("")
        self.setVisible(bool(title))
        if not explanation:
            self.set_explanation_visible(False)

    def set_measure(self, headline: str, lines: list[str]) -> None:
        """The live number: a headline, and the per-racer numbers on one line below."""
        self.measure.setText(headline)
        self.details.setText("  ·  ".join(lines))

    @Slot(bool)
    def set_explanation_visible(self, visible: bool) -> None:
        visible = bool(visible and self._explanation and self.isVisible())
        if self.toggle.isChecked() != visible:
            self.toggle.blockSignals(True)
            self.toggle.setChecked(visible)
            self.toggle.blockSignals(False)
        self.explanation_toggled.emit(visible)

    def explanation_visible(self) -> bool:
        return self.toggle.isChecked()

    def toggle_explanation(self) -> None:
        self.set_explanation_visible(not self.toggle.isChecked())

    @Slot()
    def _close(self) -> None:
        self.set_explanation_visible(False)
        self.hide()

    def set_large(self, large: bool) -> None:
        """Presentation mode: the title and headline in large type (see :data:`LARGE`), and
        the per-racer line left to the results table."""
        self._large = large
        base = QFont()
        points = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
        for label, scale, bold in zip((self.title, self.measure, self.details),
                                      LARGE if large else NORMAL, (True, True, False),
                                      strict=True):
            font = QFont(base)
            font.setPointSizeF(points * scale)
            font.setBold(bold)
            label.setFont(font)
        self.details.setVisible(not large)
        drawer_font = QFont(base)
        drawer_font.setPointSizeF(points * (1.15 if large else 1.0))
        self.drawer.text.setFont(drawer_font)
