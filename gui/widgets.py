"""Small building blocks both tabs use for their control panels."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QGroupBox, QLabel, QScrollArea, QVBoxLayout, QWidget

ERROR_STYLE = "color: #d0342c;"


def scroll_panel(content: QWidget) -> QScrollArea:
    """``content`` in a vertical scroll area exactly wide enough never to clip it."""
    scroll = QScrollArea()
    scroll.setWidget(content)
    scroll.setWidgetResizable(True)
    scroll.setMinimumWidth(content.sizeHint().width()
                           + scroll.verticalScrollBar().sizeHint().width() + 4)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return scroll


def group(title: str, widget: QWidget) -> QGroupBox:
    """A titled box around one widget."""
    box = QGroupBox(title)
    QVBoxLayout(box).addWidget(widget)
    return box


def error_label() -> QLabel:
    """A hidden, word-wrapped label for inline error messages (red in both themes)."""
    label = QLabel()
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
