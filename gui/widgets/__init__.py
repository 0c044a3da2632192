"""Small building blocks both tabs use for their control panels."""

from __future__ import annotations

from functools import cache
from html import escape

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

ERROR_STYLE = "color: #d0342c;"


class _Panel(QScrollArea):
    """A vertical scroll area as wide as its content needs, measured again when the type
    size changes: measured once, presentation mode's larger type cut the MNIST tab's
    controls off under the scroll bar ("Add optimizer", the options box). Only a change of
    font re-measures it: content that changes while a race plays never moves the layout."""

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            QTimer.singleShot(0, self, self._fit_width)  # once the content is laid out

    def _fit_width(self) -> None:
        if self.widget() is None:
            return
        width = (self.widget().minimumSizeHint().width()
                 + self.verticalScrollBar().sizeHint().width() + 4)
        if width == self.minimumWidth():
            return
        self.setMinimumWidth(width)
        splitter = self.parentWidget()
        if isinstance(splitter, QSplitter) and self.isVisible():  # narrower again: the
            sizes = splitter.sizes()                             # next pane gets the rest
            index = splitter.indexOf(self)
            if 0 <= index < len(sizes) - 1 and sizes[index] > width:
                sizes[index + 1] += sizes[index] - width
                sizes[index] = width
                splitter.setSizes(sizes)


def paint_settled(widget: QWidget) -> None:
    """Before ``widget.grab()``: a window that holds its paint while presentation mode
    settles (:meth:`gui.main_window.MainWindow.settle`) paints again first."""
    settle = getattr(widget.window(), "settle", None)
    if settle is not None:
        settle()


def scroll_panel(content: QWidget) -> QScrollArea:
    """``content`` in a vertical scroll area exactly wide enough never to clip it."""
    scroll = _Panel()
    scroll.setWidget(content)
    scroll.setWidgetResizable(True)
    scroll._fit_width()
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return scroll


def controls_beside(owner: QWidget, controls: QScrollArea, *views: QWidget,
                    sizes: tuple[int, ...]) -> QSplitter:
    """Lay ``owner`` out as a tab: the control panel (never collapsed) beside ``views``, the
    first of which takes the extra width; ``sizes`` are the views' starting widths."""
    splitter = QSplitter(Qt.Orientation.Horizontal)
    for widget in (controls, *views):
        splitter.addWidget(widget)
    splitter.setStretchFactor(1, 1)
    splitter.setSizes([controls.minimumWidth(), *sizes])
    splitter.setCollapsible(0, False)
    layout = QHBoxLayout(owner)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(splitter)
    return splitter


def plain_tooltip(text: str) -> str:
    """``text`` as a tooltip shows it: Qt guesses a tooltip's format, so text that looks
    like HTML (a file named ``<b>x</b>.json``) is escaped inside an explicit rich-text tag."""
    return "<qt>" + escape(text).replace("\n", "<br>") + "</qt>"


def plain_action_text(text: str) -> str:
    """``text`` as a menu item shows it (a lone ``&`` would underline the next letter)."""
    return text.replace("&", "&&")


def group(title: str, widget: QWidget) -> QGroupBox:
    """A titled box around one widget."""
    box = QGroupBox(title)
    QVBoxLayout(box).addWidget(widget)
    return box


def error_label() -> QLabel:
    """A hidden, word-wrapped label for inline error messages (red in both themes)."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote what the user or a file gave
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


@cache
def swatch(color: str, size: int = 12) -> QIcon:
    """A square icon in ``color`` with a dark frame (visible on a highlight of its own hue)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor("#202020"))
    painter = QPainter(pixmap)
    painter.fillRect(1, 1, size - 2, size - 2, QColor(color))
    painter.end()
    return QIcon(pixmap)


def is_dark(widget: QWidget) -> bool:
    """True when ``widget``'s palette has a dark base (the dark theme)."""
    return widget.palette().color(widget.palette().ColorRole.Base).lightness() < 128


class StatusTable(QTableWidget):
    """A results table whose status column is coloured for the current theme.

    Subclasses set ``status_column``, ``status_colors`` ({dark: {status: colour}}) and
    ``swatch_size``, and keep their rows in ``self._rows`` (objects with a ``status``).
    """

    status_column = 1
    status_colors: dict[bool, dict[str, str]] = {}
    swatch_size = 12

    def _set_up(self, columns) -> None:
        """Read-only, one selected row, no wrapping, rows and columns sized to contents."""
        self.setHorizontalHeaderLabels(columns)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def _status_brush(self, status: str) -> QBrush:
        color = self.status_colors[is_dark(self)].get(status)
        return QBrush(QColor(color)) if color else QBrush()

    def _icon(self, color: str) -> QIcon:
        return swatch(color, self.swatch_size)

    def set_theme(self, theme) -> None:
        """Recolour the status column for ``theme`` (the rest follows the Qt palette)."""
        self.theme = theme
        self._recolour()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._recolour()

    def _recolour(self) -> None:
        for index, row in enumerate(getattr(self, "_rows", ())):
            item = self.item(index, self.status_column)
            if item is not None:
                item.setForeground(self._status_brush(row.status))


class ProgressLine(QWidget):
    """A progress bar with its words beside it, not on it: text drawn over the bar is cut in
    two colours where the fill ends ("stopped" half on blue, half on grey)."""

    def __init__(self, parent=None) -> None:
        from PySide6.QtWidgets import QProgressBar

        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setMinimumWidth(120)
        row.addWidget(self.label, 2)
        row.addWidget(self.bar, 3)
        self._format = ""

    def setRange(self, low: int, high: int) -> None:  # noqa: N802 - QProgressBar's API
        self.bar.setRange(low, high)

    def setValue(self, value: int) -> None:  # noqa: N802
        self.bar.setValue(value)
        self._show()

    def value(self) -> int:
        return self.bar.value()

    def setFormat(self, text: str) -> None:  # noqa: N802
        self._format = text
        self._show()

    def format(self) -> str:
        return self._format

    def setTextVisible(self, visible: bool) -> None:  # noqa: N802
        self.label.setVisible(visible)

    def _show(self) -> None:
        low, high = self.bar.minimum(), self.bar.maximum()
        percent = 0 if high <= low else round(100 * (self.bar.value() - low) / (high - low))
        self.label.setText(self._format.replace("%p", str(percent)))
