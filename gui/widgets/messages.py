"""Message boxes that show their text as plain text.

``QMessageBox``'s static helpers guess the text format (``Qt.AutoText``): a message that
quotes a file's title such as ``<img src="/dev/zero">`` would be rendered as HTML, loading
whatever it names. Every message the app shows goes through :func:`warn` or :func:`inform`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def _box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str) -> QMessageBox:
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def warn(parent: QWidget | None, title: str, text: str) -> None:
    """A modal warning whose ``text`` is shown exactly as given."""
    _box(parent, QMessageBox.Icon.Warning, title, text).exec()


def inform(parent: QWidget | None, title: str, text: str) -> None:
    """A modal note whose ``text`` is shown exactly as given."""
    _box(parent, QMessageBox.Icon.Information, title, text).exec()
