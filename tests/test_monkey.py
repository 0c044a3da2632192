"""A GUI monkey: thousands of random actions on the real window (issue 16, point 8).

Random clicks on every visible button and check box, keys (playback, presentation mode),
garbage typed into every text and number box, combo boxes and sliders moved anywhere, menu
actions (exports and scenario files included, their dialogs answered), presets and hostile
scenario files opened, maps computed and cancelled, MNIST training started and stopped. An
exception hook records any exception a slot raises; a watchdog thread dumps every stack and
records a hang when the GUI thread has not ticked for :data:`HANG_S`. Slow (``make
test-slow``); ``OPTISCOPE_MONKEY_ACTIONS`` sets the number of actions (default 2000).
"""

from __future__ import annotations

import collections
import faulthandler
import json
import os
import random
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSlider,
)

from engine.files import presets

# A click that opens a combo's list or a menu asks the offscreen platform to raise it and
# grab the keyboard, which it cannot: its own limits, said as warnings, not the app's.
pytestmark = [pytest.mark.gui, pytest.mark.slow,
              pytest.mark.qt_log_ignore("^This plugin does not support raise\\(\\)$",
                                        "^This plugin does not support grabbing the keyboard$")]
#: A hang, not a slow moment: on a loaded 2-core machine with Keras training and a map worker
#: running, a contour trace that takes 0.2 s alone was seen to take 20 s.
HANG_S = float(os.environ.get("OPTISCOPE_MONKEY_HANG_S", "60"))
GARBAGE = ["", "nan", "-inf", "1e999", "1e-999", "-1", "0", "1", "2**64", "18446744073709551616",
           "<img src='/dev/zero'>", "abc", "1,2,3", "0.5", "100000", "1e300", " ", "\u202e1",
           "x**2+y**2", "sin(x)*" * 30 + "1", "9" * 40, "0.000001", "all", "none", "true"]
KEYS = [Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Home, Qt.Key.Key_Plus,
        Qt.Key.Key_Minus, Qt.Key.Key_E, Qt.Key.Key_F5, Qt.Key.Key_F11]
SKIPPED_ACTIONS = ("&Quit", "&About", "&Keyboard")


class Watchdog:
    """Records the longest time the GUI thread did not tick; dumps stacks on a hang."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.longest = 0.0
        self.doing = ""  # the action under way
        self.longest_during = ""
        self.long_gaps: list = []  # (seconds, during, when) of every gap over 2 s
        self.hangs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.monotonic()
        if now - self.last > self.longest:
            self.longest, self.longest_during = now - self.last, self.doing
        if now - self.last > 2.0:
            self.long_gaps.append((round(now - self.last, 1), self.doing, round(now, 1)))
        self.last = now

    def _watch(self) -> None:
        dumped = False
        while not self._stop.wait(0.5):
            if time.monotonic() - self.last > HANG_S and not dumped:
                self.hangs += 1
                dumped = True
                faulthandler.dump_traceback(file=sys.__stderr__, all_threads=True)
            elif time.monotonic() - self.last <= HANG_S:
                dumped = False

    def __enter__(self) -> Watchdog:
        self.timer.start()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self.timer.stop()
        self._thread.join(timeout=5)


def _menu_bar_actions(window) -> list[QAction]:
    """The actions a user reaches from the menu bar (pyqtgraph's right-click menus hold
    actions that only work from a right click, which sets their context first)."""
    found, menus = [], [a.menu() for a in window.menuBar().actions() if a.menu()]
    while menus:
        menu = menus.pop()
        for action in menu.actions():
            if action.menu() is not None:
                menus.append(action.menu())
            elif action.text():
                found.append(action)
    return found


def _hostile_files(folder) -> list[str]:
    documents = [
        {"schema_version": 1, "title": "<img src='/dev/zero'>", "training": {"seed": 4e9,
                                                                             "limit": 10}},
        {"schema_version": 1, "landscape": {"steps": 100000, "racers": [
            {"optimizer": "lion", "schedule": {"id": "constant"},
             "noise": {"scale": 100, "seed": 2**64 - 1}}] * 20}},
        {"schema_version": 1, "training": {"limit": 10, "validation_split": 0.9}},
        {"schema_version": 1, "landscape": {"surface": "expr:" + "x*" * 300 + "1"}},
        {"schema_version": 1, "tab": "training", "training": {"epochs": 1000, "batch_size": 1}},
    ]
    paths = []
    for n, document in enumerate(documents):
        path = folder / f"hostile-{n}.json"
        path.write_text(json.dumps(document))
        paths.append(str(path))
    (folder / "broken.json").write_text('{"schema_version": 1, "title": ')
    return [*paths, str(folder / "broken.json"), str(folder / "missing.json")]

def _said(kind, value, tb) -> str:
    """An uncaught exception as one line, with where it was raised: the innermost four
    frames, innermost first (file and line)."""
    frames = traceback.extract_tb(tb)[-4:][::-1] if tb else []
    place = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in frames)
    return f"{kind.__name__}: {value}" + (f" (at {place})" if place else "")



def test_a_monkey_cannot_break_the_window(qtbot, tmp_path, monkeypatch):
    from gui.main_window import MainWindow
    from gui.widgets import messages

    actions = int(os.environ.get("OPTISCOPE_MONKEY_ACTIONS", "2000"))
    shipped = {p: p.read_bytes() for p in presets.preset_paths()}
    rng = random.Random(16)
    errors: list[str] = []
    previous_hook = sys.excepthook
    sys.excepthook = lambda kind, value, tb: errors.append(_said(kind, value, tb))
    targets = [str(tmp_path / name) for name in (
        "x.png", "x.svg", "x.gif", "x.csv", "x.json", "nofolder/x.png", "x.txt")]
    monkeypatch.setattr(messages, "warn", lambda *_args: None)
    monkeypatch.setattr(messages, "inform", lambda *_args: None)
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda *_a, **_k: 0))
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *_a, **_k: None))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *_a, **_k: (rng.choice(targets), "")))
    files = _hostile_files(tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *_a, **_k: (rng.choice(files), "")))
    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(
        lambda _p, _t, _l, value, low, high, _s=1: (rng.choice([low, value, min(high, 40)]),
                                                    True)))
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    window.training.dataset.setCurrentIndex(window.training.dataset.findData("bundled"))
    done: collections.Counter = collections.Counter()
    slowest: list = [0.0, ""]

    def visible(kind):
        return [w for w in window.findChildren(kind) if w.isVisible() and w.isEnabled()]

    def act() -> str:
        roll = rng.random()
        if roll < 0.25:
            buttons = [b for b in visible(QPushButton) if b.text() != "Start training"]
            if buttons:
                button = rng.choice(buttons)
                button.click()
                return f"click: {button.text() or button.toolTip()[:30]}"
            return "click"
        if roll < 0.35:
            boxes = visible(QCheckBox)
            if boxes:
                rng.choice(boxes).click()
            return "check box"
        if roll < 0.55:
            edits = visible(QLineEdit)
            if edits:
                edit = rng.choice(edits)
                edit.setText(rng.choice(GARBAGE))
                edit.editingFinished.emit()
                edit.returnPressed.emit()
            return "typed garbage"
        if roll < 0.65:
            combos = visible(QComboBox)
            if combos:
                combo = rng.choice(combos)
                model = combo.model()  # as a user can: never a separator (not enabled)
                items = [i for i in range(combo.count())
                         if model.flags(model.index(i, 0)) & Qt.ItemFlag.ItemIsEnabled]
                if items:
                    combo.setCurrentIndex(rng.choice(items))
                    return f"combo: {combo.currentText()[:40]}"
            return "combo"
        if roll < 0.72:
            sliders = visible(QSlider)
            if sliders:
                slider = rng.choice(sliders)
                slider.setValue(rng.randint(slider.minimum(), slider.maximum()))
                return f"slider: {slider.toolTip()[:40]} to {slider.value()} of {slider.maximum()}"
            return "slider"
        if roll < 0.77:
            spins = visible(QAbstractSpinBox)
            if spins:
                rng.choice(spins).stepBy(rng.choice([-100, -1, 1, 100]))
            return "spin step"
        if roll < 0.87:
            qtbot.keyClick(window, rng.choice(KEYS))
            return "key"
        if roll < 0.93:
            menu_actions = [a for a in _menu_bar_actions(window) if a.isEnabled()
                            and not a.text().startswith(SKIPPED_ACTIONS)]
            if menu_actions:
                action = rng.choice(menu_actions)
                text = action.text()  # an "Open recent" action may be replaced when it runs
                action.trigger()
                return f"menu action: {text}"
            return "menu action"
        if roll < 0.96:
            if rng.random() < 0.5:  # a preset: Save then asks for a file (never the preset)
                path = rng.choice(presets.preset_paths())
                window.scenarios.open_preset(path)
            else:
                path = rng.choice(files)
                window.scenarios.open_path(path)
            return f"scenario: {os.path.basename(str(path))}"
        if roll < 0.985:
            maps = window.landscape.maps
            window.landscape.views.setCurrentWidget(maps)
            maps.compute() if maps.thread is None else maps.cancel()
            return "map"
        if window.training.is_running():
            window.training.stop()
            return "training: stop"
        window.training.limit.setValue(200)
        window.training.epochs.setValue(1)
        window.training.start()
        return f"training: start at {time.monotonic():.1f}"

    try:
        with Watchdog() as watchdog:
            for _ in range(actions):
                began = time.monotonic()
                kind = act()
                took = time.monotonic() - began
                if took > slowest[0]:
                    slowest[:] = [took, kind]
                done[kind.split(":")[0]] += 1
                watchdog.doing = kind
                deadline = time.monotonic() + rng.uniform(0.0, 0.03)
                while time.monotonic() < deadline:
                    QApplication.processEvents()
            watchdog.doing = "shutting down"
            window.landscape.maps.cancel()
            window.training.stop()
            qtbot.waitUntil(lambda: window.landscape.maps.thread is None
                            and not window.training.is_running(), timeout=120_000)
    finally:
        sys.excepthook = previous_hook
        # A menu the monkey opened stays open after the test, and its keyboard grab warned
        # (offscreen) in whatever test ran next: make test-slow failed in the scenario tests.
        for _ in range(20):
            popup = QApplication.activePopupWidget()
            if popup is None:
                break
            popup.close()
            QApplication.processEvents()
        if window.presenting:
            window.set_presentation(False)
        window.landscape.shutdown()
        window.training.shutdown()
    print(f"\nmonkey: {sum(done.values())} actions {dict(done)}; exceptions: {len(errors)}; "
          f"hangs: {watchdog.hangs}; longest GUI-thread gap: {watchdog.longest * 1000:.0f} ms "
          f"({watchdog.longest_during}); slowest action itself: {slowest[0] * 1000:.0f} ms "
          f"({slowest[1]}); gaps over 2 s: {watchdog.long_gaps}")
    assert errors == [], errors[:10]
    assert watchdog.hangs == 0
    assert {p: p.read_bytes() for p in presets.preset_paths()} == shipped  # never overwritten
