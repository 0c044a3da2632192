"""Test set-up: Qt offscreen, TensorFlow quiet, and no QThread may outlive a test."""

from __future__ import annotations

import os

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


@pytest.fixture(autouse=True)
def _no_leaked_qthreads(request):
    """Fail any test that leaves a QThread running (as napari's conftest does)."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    from PySide6.QtCore import QThread

    from gui import threads

    # A thread whose work just ended may take a moment to wind down; a leak does not end.
    threads.wait_all(10_000)
    alive = [t for t in threads.live_threads() if isinstance(t, QThread) and t.isRunning()]
    if alive:
        pytest.fail(f"{len(alive)} QThread(s) still running after the test: {alive}")
