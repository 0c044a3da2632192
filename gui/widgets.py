"""Small building blocks both tabs use for their control panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
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
