"""The categorical legend under a map: every colour it shows, in words, with its count."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from gui.maps.colouring import LegendEntry
from gui.widgets.legend import FlowLayout


def patch(color: str, hatched: bool, size: int = 16) -> QPixmap:
    """A framed square of ``color``, striped like the map when ``hatched``."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor("#303030"))
    painter = QPainter(pixmap)
    painter.fillRect(1, 1, size - 2, size - 2, QColor(color))
    if hatched:
        painter.setPen(QPen(Qt.PenStyle.NoPen))
        painter.setBrush(QBrush(QColor(128, 128, 128), Qt.BrushStyle.BDiagPattern))
        painter.drawRect(1, 1, size - 2, size - 2)
    painter.end()
    return pixmap


class CategoryLegend(QWidget):
    """Colour patches with words and counts, flowing onto new rows as a whole."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._flow = FlowLayout(self)
        self.entries: tuple[LegendEntry, ...] = ()
        self.notes: tuple[str, ...] = ()

    def set_entries(self, entries: tuple[LegendEntry, ...]) -> None:
        self.entries = tuple(entries)
        while self._flow.count():
            item = self._flow.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # gone from the screen now, deleted later
                item.widget().deleteLater()
        for entry in self.entries:
            widget = QWidget()
            row = QHBoxLayout(widget)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(4)
            icon = QLabel()
            icon.setPixmap(patch(entry.color, entry.hatched))
            text = QLabel(f"{entry.text} ({entry.count:,})")
            text.setTextFormat(Qt.TextFormat.PlainText)
            row.addWidget(icon)
            row.addWidget(text)
            self._flow.addWidget(widget)
        self.notes = ()
        self.setVisible(bool(self.entries))
        self.updateGeometry()

    def set_notes(self, notes) -> None:
        """Words after the entries (what a map's marks mean), each flowing as a whole; the
        next :meth:`set_entries` removes them."""
        self.notes = tuple(notes)
        for text in self.notes:
            label = QLabel(text)
            label.setTextFormat(Qt.TextFormat.PlainText)
            self._flow.addWidget(label)
        self.updateGeometry()

    def texts(self) -> list[str]:
        """The words of every entry (tests, exports)."""
        return [entry.text for entry in self.entries]

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._flow.heightForWidth(width)
