"""The main window opens, closes cleanly, and the app starts without TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert menus == ["&File", "&View", "&Race", "&Help"]


def test_app_starts_without_tensorflow_and_exits_cleanly():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    code = (
        "import sys, main\n"
        "status = main.main(['--self-test'])\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "print('loaded:' + ','.join(loaded))\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert "loaded:\n" in done.stdout
    for bad in ("Traceback", "none_dealloc", "Segmentation", "Destroyed while thread"):
        assert bad not in done.stderr
