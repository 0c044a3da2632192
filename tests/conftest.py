"""Test set-up: Qt offscreen, TensorFlow quiet, and no QThread or QTimer may outlive a test.

Leak checks name the culprit (as napari's conftest does): every ``QThread.start`` and
``QTimer.start`` in a Qt test records where in this project it was called, and a test that
leaves a thread running (after a short wind-down) or a timer of a still-open window ticking
fails with those places, instead of waiting for the leak to crash a later test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from weakref import WeakKeyDictionary

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Same examples on every run: CI never fails on an example no earlier run saw. The slow
# marked fuzzing runs explore with more examples.
settings.register_profile("optiscope", derandomize=True, database=None)
settings.load_profile("optiscope")


@pytest.fixture(autouse=True, scope="session")
def _private_settings(tmp_path_factory):
    """QSettings (theme, geometry, recent files) go to a temporary folder, never to the
    user's own configuration."""
    from PySide6.QtCore import QCoreApplication, QSettings

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QCoreApplication.setOrganizationName("OptiscopeTests")
    QCoreApplication.setApplicationName("Optiscope")
    yield folder


ROOT = str(Path(__file__).resolve().parents[1])
WIND_DOWN_MS = 2000  #: a thread whose work has ended stops well within this


_LIBRARIES = (sys.prefix, sys.base_prefix, "<frozen")


def _calling_place() -> str:
    """``file:line`` of the innermost frame of this project's code (not a library's, nor the
    Qt plumbing: gui/threads.py starts every worker thread, so its caller is the place)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_LIBRARIES) and not name.endswith(("conftest.py",
                                                                  "gui/threads.py")):
            shown = os.path.relpath(name, ROOT) if name.startswith(ROOT) else name
            return f"{shown}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "(outside this project)"


@pytest.fixture(autouse=True, scope="session")
def _gui_thread_collects_garbage(qapp):
    """As in the app (gui/app.py): automatic garbage collection off, the GUI thread collects,
    from the first test on. Collected in another thread (a worker, a kernel compiling in the
    background), a widget's wrapper would be destroyed there: deadlocks and crashes."""
    from gui import threads

    threads.collect_garbage_in_gui_thread()
    yield


@pytest.fixture(autouse=True)
def _garbage_collected_in_the_main_thread():
    """Between tests, what is due is collected here, in the main thread (a test that runs no
    event loop never lets the collecting timer tick)."""
    yield
    from gui import threads

    threads.collect_due()


@pytest.fixture(autouse=True)
def _no_leaked_qthreads_or_qtimers(request, monkeypatch):
    """Fail a Qt test that leaves a QThread running or a QTimer of an open window ticking,
    naming where each was started."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    from PySide6.QtCore import QThread, QTimer

    started: WeakKeyDictionary = WeakKeyDictionary()
    timers: WeakKeyDictionary = WeakKeyDictionary()
    thread_start, timer_start = QThread.start, QTimer.start

    def record_thread(self, *args):
        started[self] = _calling_place()
        return thread_start(self, *args)

    def record_timer(self, *args):
        timers[self] = _calling_place()
        return timer_start(self, *args)

    monkeypatch.setattr(QThread, "start", record_thread)
    monkeypatch.setattr(QTimer, "start", record_timer)
    yield
    leaks = []
    for thread, place in list(started.items()):
        try:
            if thread.isRunning():
                thread.quit()  # a finished worker's thread: its event loop ends at once
                if not thread.wait(WIND_DOWN_MS):
                    leaks.append(f"QThread started at {place}")
        except RuntimeError:  # its C++ object is gone: it finished
            continue
    for timer, place in list(timers.items()):
        try:
            window = timer.parent()
            while window is not None and window.parent() is not None:
                window = window.parent()
            if timer.isActive() and window is not None and getattr(window, "isVisible",
                                                                    lambda: False)():
                timer.stop()
                leaks.append(f"QTimer started at {place} (its window is still open)")
        except RuntimeError:
            continue
    if leaks:
        pytest.fail("left running after the test:\n" + "\n".join(leaks), pytrace=False)


@pytest.fixture
def tab(qtbot):
    """The Landscape tab on screen, shut down after the test."""
    from gui.landscape.tab import LandscapeTab

    widget = LandscapeTab()
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()


@pytest.fixture
def quiet_window(qtbot, tmp_path, monkeypatch):
    """The main window at 1280×720 with its own settings file; warning boxes are recorded in
    ``window.shown`` instead of waiting for a click."""
    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow
    from gui.widgets import messages

    shown: list[str] = []
    monkeypatch.setattr(messages, "warn", lambda _parent, _title, text: shown.append(text))
    main = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    main.shown = shown
    qtbot.addWidget(main)
    main.resize(1280, 720)
    main.show()
    yield main
    main.landscape.shutdown()
    main.training.shutdown()


@pytest.fixture
def maps_view(qtbot):
    """Makes a Maps view at 900×700: ``maps_view(surface_id, start, steps, racers=None)``
    races on that surface from ``start``, with 32² maps of ``steps`` steps; each is shut down
    after the test."""
    from engine.landscape import surfaces
    from gui.maps.view import MapsView

    made = []

    def make(surface_id, start, steps, racers=None, selected=None):
        widget = MapsView()
        qtbot.addWidget(widget)
        widget.resize(900, 700)
        widget.show()
        widget.set_surface(surfaces.get(surface_id), start)
        if racers is not None:
            widget.set_racers(racers, selected=selected)
        widget.grid.setCurrentIndex(widget.grid.findData(32))
        widget.steps.setValue(steps)
        made.append(widget)
        return widget

    yield make
    for widget in made:
        widget.shutdown()
