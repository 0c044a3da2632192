"""Application start-up: the QApplication, the main window, a clean exit."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow

SELF_TEST_MS = 500


def run_app(self_test: bool = False) -> int:
    """Open the main window and run the event loop; return the exit status."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Optiscope")
    app.setOrganizationName("Optiscope")
    window = MainWindow()
    window.show()
    if self_test:
        QTimer.singleShot(SELF_TEST_MS, window.close)
    status = app.exec()
    # Delete widgets (and any pyqtgraph items) before the interpreter tears down
    # (pyqtgraph + PySide6 crashed at shutdown when image items outlived the app).
    window.deleteLater()
    del window
    app.processEvents()
    return status
