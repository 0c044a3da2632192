"""What the class sees in class mode: the question and choices over the map, the predicted
ends as marks on it, and, after the reveal, the predictions against the results.

:class:`ClassOverlay` is a frame laid over the top of the 2-D view (it never moves the layout);
:class:`PredictionMarks` draws "where will it end" predictions on the map and, once revealed,
a dashed line from each to where the racer really ended; :class:`ClickCatcher` takes the
presenter's clicks on the map while such a prediction is being recorded, so they do not move
the start. All text is plain text.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication, QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from engine.landscape.predict import FIRST, PREDICT, QUESTIONS, REVEALED, ClassSession
from gui.palette import LIGHT, STATUS_COLORS, Theme

HINTS = {
    PREDICT: "←/→ or PageUp/PageDown: choose · B: reveal · Q: other question · C: leave",
    "where": "Click the map for each racer · ←/→: which racer · B: reveal · Q: other question",
    "racing": "The race plays… · B: skip to the result · C: leave",
    REVEALED: "B or PageDown: next round · C: leave class mode",
}


PER_ROW = 3  #: choices per row of the overlay; a longer name is cut with "…" to its cell


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class ClassOverlay(QFrame):
    """The class mode's banner over the top of ``host`` (the 2-D view)."""

    def __init__(self, host: QWidget, theme: Theme = LIGHT) -> None:
        super().__init__(host)
        self.setObjectName("classOverlay")
        self.host = host
        self.theme = theme
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        self.question = _plain()
        self.choice_box = QWidget()
        self.choices = QGridLayout(self.choice_box)  # swatch and name, PER_ROW choices a row
        self.choices.setContentsMargins(0, 0, 0, 0)
        self.choices.setHorizontalSpacing(6)
        self.result = _plain()
        self.tally = _plain()
        self.hint = _plain()
        layout.addWidget(self.question)
        layout.addWidget(self.choice_box)
        layout.addWidget(self.result)
        layout.addWidget(self.tally)
        layout.addWidget(self.hint)
        self._choice_labels: list[QLabel] = []
        self._avoid: list[tuple[float, float]] = []  # points of the map not to cover (pixels)
        host.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.host and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        """Along the top of the map, or along the bottom when that covers fewer of the points
        the class must see (the start, the minima, where the racers ended)."""
        width = max(int(self.host.width() * 0.86), 200)
        for label in self.findChildren(QLabel):  # style sheets (borders, padding) count
            label.ensurePolished()
        layout = self.layout()
        self.choices.invalidate()  # the choices changed: no cached heights
        self.choice_box.updateGeometry()
        layout.invalidate()
        height = (layout.totalHeightForWidth(width) if layout.hasHeightForWidth()
                  else layout.totalSizeHint().height())
        self.setFixedSize(width, height)
        left = (self.host.width() - width) // 2
        top, bottom = 8, max(8, self.host.height() - height - 36)  # above the x axis

        def covered(y0: int) -> int:
            return sum(left <= x <= left + width and y0 <= y <= y0 + height
                       for x, y in self._avoid)

        self.move(left, bottom if covered(bottom) < covered(top) else top)

    def set_avoid(self, points: list[tuple[float, float]]) -> None:
        """Pixels of the host (the map) the banner should not cover, where it can help it."""
        self._avoid = list(points)

    def _fonts(self) -> None:
        base = QApplication.font().pointSizeF()
        base = base if base > 0 else 10.0
        for label, scale, bold in ((self.question, 1.35, True), (self.result, 1.15, True),
                                   (self.tally, 1.0, False), (self.hint, 0.85, False)):
            font = QFont(QApplication.font())
            font.setPointSizeF(base * scale)
            font.setBold(bold)
            label.setFont(font)
        cell = int(self.host.width() * 0.86 - 40) // PER_ROW - 48  # minus swatch and padding
        for label in self._choice_labels:
            font = QFont(QApplication.font())
            font.setPointSizeF(base * 1.15)
            label.setFont(font)
            full = label.property("full_text")
            if full:
                label.setText(QFontMetrics(font).elidedText(
                    full, Qt.TextElideMode.ElideRight, max(cell, 40)))

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme

    def show_session(self, session: ClassSession, colors: dict[str, str],
                     stage_hint: str) -> None:
        """Show ``session``'s stage: question and choices, or the result and the tally."""
        if session.stage == "off":
            self.hide()
            return
        dark = self.theme.background.lower() != "#ffffff"
        ground = "rgba(21, 23, 28, 225)" if dark else "rgba(255, 255, 255, 225)"
        self.setStyleSheet(f"QFrame#classOverlay {{ background: {ground}; border: 2px solid "
                           f"{self.theme.foreground}; border-radius: 6px; }} "
                           f"QLabel {{ color: {self.theme.foreground}; }}")
        self.question.setText(QUESTIONS[session.kind])
        self.question.setVisible(session.stage != REVEALED)
        self._set_choices(session, colors)
        words = STATUS_COLORS[dark]
        if session.stage == REVEALED and session.rounds:
            last = session.rounds[-1]
            mark = "✓" if last.right == last.asked else "✗" if last.right == 0 else "~"
            text = f"{mark} Predicted: {last.predicted}.  Result: {last.result}."
            if last.misses:
                text += "\n" + "  ·  ".join(f"{label} {'✓' if hit else '✗'} {miss:.2g} away"
                                           for label, miss, hit in last.misses)
            self.result.setText(text)
            colour = words["converged"] if last.right == last.asked else words["diverged"]
            self.result.setStyleSheet(f"color: {colour};")
            self.result.show()
        else:
            self.result.hide()
        self.tally.setText(session.tally_text())
        self.tally.setVisible(session.stage != REVEALED)
        self.hint.setText(f"{session.tally_text()}  ·  {stage_hint}" if session.stage == REVEALED
                          else stage_hint)
        self._fonts()
        self.show()
        self.raise_()
        self._place()
        # New labels have their final sizes (style sheet, font) only once polished and laid
        # out by the event loop: place the banner again then.
        QTimer.singleShot(0, self._place)

    def _set_choices(self, session: ClassSession, colors: dict[str, str]) -> None:
        while self.choices.count():
            item = self.choices.takeAt(0)
            if item.widget() is not None:  # gone from the screen now, deleted later
                item.widget().hide()
                item.widget().setParent(None)
                item.widget().deleteLater()
        self._choice_labels = []
        self.choice_box.setVisible(session.stage == PREDICT)
        if session.stage != PREDICT:
            return
        chosen = session.chosen()
        options = session.options() if session.kind == FIRST else session.racers
        for index, (key, text) in enumerate(options):
            row, column = divmod(index, PER_ROW)
            if key in colors:  # a swatch in the racer's colour; the words stay legible
                swatch = _plain("■")
                swatch.setStyleSheet(f"color: {colors[key]};")
                self._choice_labels.append(swatch)
                self.choices.addWidget(swatch, row, 2 * column)
            placed = session.kind != FIRST and key in session.ends
            label = _plain(("✔ " if placed else "") + text)
            label.setWordWrap(False)
            label.setToolTip(text)
            label.setProperty("full_text", label.text())  # elided to its cell in _fonts
            border = (f"3px solid {self.theme.foreground}" if key == chosen
                      else "3px solid transparent")
            label.setStyleSheet(f"QLabel {{ border: {border}; border-radius: 4px; padding: 2px "
                                f"6px; color: {self.theme.foreground}; }}")
            self._choice_labels.append(label)
            self.choices.addWidget(label, row, 2 * column + 1)
        for column in range(PER_ROW):
            self.choices.setColumnStretch(2 * column + 1, 1)


class ClickCatcher(pg.GraphicsObject):
    """An invisible item over the whole map that takes left clicks (``clicked(x, y)``)."""

    clicked = Signal(float, float)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(-1e9, -1e9, 2e9, 2e9)

    def paint(self, *_args) -> None:
        pass

    def mouseClickEvent(self, event) -> None:  # noqa: N802 - pyqtgraph override
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            point = event.pos()
            self.clicked.emit(float(point.x()), float(point.y()))


class PredictionMarks:
    """Predicted ends on the map (hollow rings in the racer's colour), and after the reveal a
    dashed line from each to the racer's real end."""

    def __init__(self, view, theme: Theme = LIGHT) -> None:
        self.view = view
        self.theme = theme
        self._items: list = []

    def clear(self) -> None:
        plot = self.view.getPlotItem()
        for item in self._items:
            plot.removeItem(item)
        self._items = []

    def show(self, ends: dict[str, tuple[float, float]], colors: dict[str, str],
             actual: dict[str, np.ndarray] | None = None) -> None:
        self.clear()
        plot = self.view.getPlotItem()
        for key, point in ends.items():
            color = colors.get(key, self.theme.foreground)
            if actual is not None and key in actual:
                end = actual[key]
                line = pg.PlotDataItem([point[0], end[0]], [point[1], end[1]],
                                       pen=pg.mkPen(color, width=3, style=Qt.PenStyle.DashLine))
                line.setZValue(44)
                plot.addItem(line)
                self._items.append(line)
            for pen_color, width in ((self.theme.outline, 7), (color, 4)):
                ring = pg.ScatterPlotItem([point[0]], [point[1]], symbol="o", size=26,
                                          pen=pg.mkPen(pen_color, width=width),
                                          brush=pg.mkBrush(None))
                ring.setZValue(45)
                plot.addItem(ring)
                self._items.append(ring)
