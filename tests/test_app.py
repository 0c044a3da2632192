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
