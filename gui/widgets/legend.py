"""A racer legend for panels: each racer's line sample, marker and short name, never split.

Entries flow onto the next line as a whole when the panel is narrow (a name never wraps
inside itself); the height the entries need at the current width is the widget's height, so
nothing is clipped and nothing overlaps the plots below.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QSizePolicy, QWidget, QWidgetItem

from gui.palette import RacerStyle
from gui.widgets.markers import marker_icon


class FlowLayout(QLayout):
    """Items left to right, wrapping to a new row when the next one does not fit."""

    def __init__(self, parent=None, spacing: int = 12) -> None:
        super().__init__(parent)
        self._items: list[QWidgetItem] = []
        self._spacing = spacing
        self.setContentsMargins(6, 2, 6, 2)

    def addItem(self, item) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self):  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        left, top, right, bottom = self.getContentsMargins()
        return size + QSize(left + right, top + bottom)

    def _place(self, rect: QRect, move: bool) -> int:
        left, top, right, bottom = self.getContentsMargins()
        x, y = rect.x() + left, rect.y() + top
        row_height = 0
        limit = rect.right() - right
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > limit and row_height > 0:
                x, y = rect.x() + left, y + row_height + 2
                row_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            row_height = max(row_height, hint.height())
        return y + row_height + bottom - rect.y()


class RacerLegend(QWidget):
    """Line sample, marker and name of every racer; tooltips carry the full settings."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._flow = FlowLayout(self)
        self._entries: tuple = ()
        self._icon_size = 16
        self._widgets: list[tuple[QWidget, QLabel, QLabel]] = []  # (entry, icon, text)
        self._shown: list[tuple] = []  # ((style, icon size), label, tooltip) per entry
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_entries(self, entries: list[tuple[RacerStyle, str, str]]) -> None:
        """``(style, short label, tooltip)`` per racer, in racer order."""
        entries = tuple(entries)
        if entries == self._entries:
            return
        self._entries = entries
        self._rebuild()

    def entries(self) -> tuple:
        """The ``(style, label, tooltip)`` entries shown."""
        return self._entries

    def set_icon_size(self, size: int) -> None:
        """Marker height in pixels (presentation mode: larger)."""
        if size != self._icon_size:
            self._icon_size = size
            self._rebuild()

    def _rebuild(self) -> None:
        """Entries changed in place: an entry whose look and words are unchanged is left
        alone, a changed one gets its new icon or text, and only the surplus is created or
        removed (a new entry widget is laid out, shown and polished: with 20 racers, making
        all of them again for one changed label made the side plots relayout four times)."""
        for index, (style, label, tooltip) in enumerate(self._entries):
            if index == len(self._widgets):
                self._widgets.append(self._new_entry())
                self._flow.addWidget(self._widgets[index][0])
                before = None
            else:
                before = self._shown[index]
            entry, icon, text = self._widgets[index]
            if before is None or before[0] != (style, self._icon_size):
                icon.setPixmap(marker_icon(style, self._icon_size, line=True).pixmap(
                    2 * self._icon_size, self._icon_size))
            if before is None or before[1] != label:
                text.setText(label)
            if before is None or before[2] != tooltip:
                entry.setToolTip(tooltip)
        while len(self._widgets) > len(self._entries):
            entry = self._widgets.pop()[0]
            self._flow.takeAt(self._flow.count() - 1)  # the last item is the last entry
            entry.hide()  # gone from the screen now, deleted later
            entry.deleteLater()
        self._shown = [((style, self._icon_size), label, tooltip)
                       for style, label, tooltip in self._entries]
        self.setVisible(bool(self._entries))
        self.updateGeometry()

    @staticmethod
    def _new_entry() -> tuple[QWidget, QLabel, QLabel]:
        entry = QWidget()
        row = QHBoxLayout(entry)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        icon = QLabel()
        text = QLabel()
        text.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(icon)
        row.addWidget(text)
        return entry, icon, text

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._flow.heightForWidth(width)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        width = max(self.width(), 200)
        return QSize(width, self._flow.heightForWidth(width))
