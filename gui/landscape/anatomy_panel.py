"""The anatomy panel: the selected racer's step at the shown step, term by term, with numbers.

Lists every :class:`engine.optimizers.anatomy.Term` of the step (Keras's names, the formula,
the value). ``A`` reveals the next term and ``Shift+A`` hides it again, as a teacher talks
through the update; the revealed terms are drawn on the map by
:class:`gui.landscape.anatomy_overlay.AnatomyOverlay`, the current one highlighted here.
Text from the engine only, shown as plain text.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.optimizers.anatomy import PER_COORDINATE, SCALAR, StepAnatomy, Term

HINT = "A: next term · Shift+A: back · the arrows follow the timeline"


def quiet(label: QLabel) -> QLabel:
    """Grey, secondary text by the palette (a style sheet would keep a stale font size when
    presentation mode changes the application's font)."""
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(128, 128, 128))
    label.setPalette(palette)
    return label


def value_text(term: Term) -> str:
    """A term's value as a student reads it: ``0.0123``, ``x 0.5 · y 2``, ``(−0.3, 1.2)``."""
    if term.kind == SCALAR:
        return f"{term.value:.4g}"
    x, y = (float(v) for v in np.asarray(term.value))
    if term.kind == PER_COORDINATE:
        return f"x {x:.4g} · y {y:.4g}"
    return f"({x:.4g}, {y:.4g})"


class AnatomyPanel(QWidget):
    """Terms of one step; ``revealed`` of them are shown on the map (0: none).

    Signals
    -------
    revealed_changed(int)
        The number of revealed terms changed (by the buttons or :meth:`reveal`).
    """

    revealed_changed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.parts: StepAnatomy | None = None
        self.revealed = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel("Select a racer to see the anatomy of its step.")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["term", "value"])
        self.table.setMinimumHeight(60)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        # Two equal columns whose text wraps: readable in a narrow side column too.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        layout.addWidget(self.table, 1)
        self.meaning = QLabel()
        self.meaning.setTextFormat(Qt.TextFormat.PlainText)
        self.meaning.setWordWrap(True)
        layout.addWidget(self.meaning)
        row = QHBoxLayout()
        self.back_button = QPushButton("◀ Shift+A")
        self.back_button.setMinimumWidth(10)
        self.back_button.setToolTip("Hide the last revealed term")
        self.back_button.clicked.connect(lambda: self.reveal(-1))
        self.next_button = QPushButton("A ▶")
        self.next_button.setToolTip("Reveal the next term on the map")
        self.next_button.clicked.connect(lambda: self.reveal(1))
        self.next_button.setMinimumWidth(10)
        row.addWidget(self.back_button)
        row.addWidget(self.next_button)
        layout.addLayout(row)
        hint = QLabel(HINT)
        hint.setWordWrap(True)
        quiet(hint)
        layout.addWidget(hint)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # A header hidden in another tab missed presentation mode's font change once (xcb):
        # keep it in step with the panel.
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.table.horizontalHeader().setFont(self.font())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.table.horizontalHeader().setFont(self.font())
    def show_anatomy(self, parts: StepAnatomy | None, label: str, step: int, why: str = "") -> None:
        """Show ``parts`` (the step from the point at ``step``) of the racer called ``label``."""
        self.parts = parts
        if parts is None:
            self.title.setText(why or f"{label}: no step to show at step {step}.")
            self.table.setRowCount(0)
            self.meaning.clear()
            return
        self.title.setText(f"{label} · step {step}")
        self.title.setToolTip(f"The update from the point at step {step} to the next one "
                              f"(Keras's optimizer.iterations = {parts.iterations}).")
        terms = parts.terms
        if self.table.rowCount() != len(terms):
            self.table.setRowCount(len(terms))
        for row, term in enumerate(terms):
            texts = (term.name + (" (slot)" if term.slot else ""), value_text(term))
            for col, text in enumerate(texts):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                if item.text() != text:
                    item.setText(text)
                item.setToolTip(f"{term.formula}\n{term.meaning}")
        self.revealed = min(self.revealed, len(terms))
        self.table.resizeRowsToContents()
        self._style_rows()

    def reveal(self, delta: int) -> None:
        """Reveal ``delta`` more terms (negative: hide), within 0 … the number of terms."""
        count = len(self.parts.terms) if self.parts is not None else 0
        revealed = max(0, min(self.revealed + delta, count))
        if revealed != self.revealed:
            self.revealed = revealed
            self._style_rows()
            self.revealed_changed.emit(revealed)

    def current(self) -> Term | None:
        """The last revealed term, or None."""
        if self.parts is None or self.revealed == 0:
            return None
        return self.parts.terms[self.revealed - 1]

    def _style_rows(self) -> None:
        palette = self.palette()
        normal = palette.color(QPalette.ColorRole.Text)
        faded = palette.color(QPalette.ColorRole.PlaceholderText)
        highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
        highlight.setAlpha(70)
        for row in range(self.table.rowCount()):
            shown = row < self.revealed or self.revealed == 0
            for col in range(2):
                item = self.table.item(row, col)
                if item is None:
                    continue
                item.setForeground(QBrush(normal if shown else faded))
                font = item.font()
                font.setBold(row == self.revealed - 1)
                item.setFont(font)
                item.setBackground(QBrush(highlight) if row == self.revealed - 1
                                   else QBrush(Qt.BrushStyle.NoBrush))
        term = self.current()
        if term is not None:
            self.table.scrollToItem(self.table.item(self.revealed - 1, 0))
            self.meaning.setText(f"{term.name} = {term.formula}\n{term.meaning}")
        else:
            self.meaning.setText("Press A to draw the terms on the map one at a time.")
