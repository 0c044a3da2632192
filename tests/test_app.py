"""The main window opens, closes cleanly, and the app starts without TensorFlow."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests import procs

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.gui


def test_main_window_has_the_two_tabs_and_menus(qtbot):
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert "Optiscope" in window.windowTitle()
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Landscape", "MNIST training"]
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["&File", "&View", "&Race", "&Teach", "&Help"]


def test_app_starts_without_tensorflow():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gui.main_window import MainWindow\n"
        "window = MainWindow(); window.show(); app.processEvents()\n"
        "window.landscape.seek(50); app.processEvents()\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "print('loaded:' + ','.join(loaded))\n"
        "window.close(); window.deleteLater(); app.processEvents()\n"
    )
    done = procs.run([sys.executable, "-c", code], timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert "loaded:\n" in done.stdout


def test_the_app_loads_numba_before_its_window_shows():
    """A race steps in compiled kernels only once numba is loaded and never waits for its
    import: the app imports it before the window shows, so races do not run NumPy's steps
    (50-100 times slower) until a first map happens to load it."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    code = (
        "import sys, main\n"
        "from gui import main_window, self_test\n"
        "from engine.landscape.kernels import cache\n"
        "seen = []\n"
        "made = main_window.MainWindow.__init__\n"
        "def recording(self, *args, **kwargs):\n"
        "    seen.append(cache.loaded())\n"
        "    made(self, *args, **kwargs)\n"
        "main_window.MainWindow.__init__ = recording\n"
        "def report(app, window):\n"
        "    print('loaded before the window:', seen)\n"
        "    app.quit()\n"
        "    return 0\n"
        "self_test.run = report\n"
        "sys.exit(main.main(['--self-test']))\n"
    )
    done = procs.run([sys.executable, "-c", code], timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert "loaded before the window: [True]" in done.stdout


def test_self_test_races_trains_exports_and_exits_cleanly():
    """The packaged app's --self-test, through the real exit path (stderr checked)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = procs.run([sys.executable, "main.py", "--self-test"], timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "race", "exports", "training", "passed"]
    assert "race.gif" in done.stdout and "accuracy" in done.stdout
    for bad in ("Traceback", "none_dealloc", "Segmentation", "Destroyed while thread"):
        assert bad not in done.stderr


def test_a_failing_self_test_exits_1_with_one_line(tmp_path):
    """A broken check (no bundled data here) fails the self-test with a message, not a hang."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    code = (
        "import sys, main\n"
        "from gui import self_test\n"
        "def broken(window):\n"
        "    raise self_test.SelfTestError('race: broken on purpose')\n"
        "self_test._race = broken\n"
        "sys.exit(main.main(['--self-test']))\n"
    )
    done = procs.run([sys.executable, "-c", code], timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 1
    assert "self-test failed: race: broken on purpose" in done.stderr
    assert "Traceback" not in done.stderr
