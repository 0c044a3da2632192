"""Application start-up: the QApplication, the main window, a clean exit."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from engine import resources
from gui import threads
from gui.main_window import MainWindow

SELF_TEST_MS = 500


def icon_path() -> Path:
    """The app icon, from the source tree or a PyInstaller bundle (``sys._MEIPASS``)."""
    return resources.path("icons", "optiscope.png")


def run_app(self_test: bool = False, scenario=None) -> int:
    """Open the main window (showing ``scenario``, an already validated
    :class:`engine.files.scenario.Scenario`, if given) and run the event loop; return the exit
    status. ``self_test`` runs :mod:`gui.self_test` in the loop and exits with its status."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    threads.collect_garbage_in_gui_thread()  # before any thread starts (see gui/threads.py)
    # A map never waits for a kernel to compile: NumPy draws it meanwhile (same numbers),
    # and the kernel, once compiled (or loaded from the disk cache), draws the next ones.
    from engine.landscape import kernels

    kernels.set_compile_policy("background")
    # A race steps in compiled kernels only once numba is loaded, and never waits for its
    # import: so it is imported here, before the window shows (0.15-0.2 s). Left to a first
    # map, races ran NumPy's steps, 50-100 times slower; imported in the background, it took
    # the GIL from the GUI thread's first actions (a 0.47 s block measured).
    kernels.available()
    app.setApplicationName("Optiscope")
    app.setOrganizationName("Optiscope")
    if icon_path().is_file():
        app.setWindowIcon(QIcon(str(icon_path())))
    window = MainWindow()
    if scenario is not None:
        from engine.files.scenario import ScenarioError

        try:
            window.scenarios.show(scenario)
        except ScenarioError as error:  # said in the status bar; the app opens with defaults
            window.statusBar().showMessage(f"Scenario not opened: {error}")
    elif not self_test:  # the self-test checks the defaults, not the user's last set-up
        window.scenarios.reopen_last()
    window.show()
    threads.freeze_long_lived()
    outcome = {"status": 0}
    if self_test:
        from gui import self_test as checks

        def run_checks(shown=window) -> None:
            outcome["status"] = checks.run(app, shown)

        QTimer.singleShot(SELF_TEST_MS, run_checks)
    status = app.exec() or outcome["status"]
    # Delete widgets (and any pyqtgraph items) before the interpreter tears down
    # (pyqtgraph + PySide6 crashed at shutdown when image items outlived the app).
    window.deleteLater()
    del window
    app.processEvents()
    return status
