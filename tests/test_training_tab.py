"""The MNIST tab: a real (tiny) training run in a QThread, stop, and close mid-run."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests import procs

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.gui, pytest.mark.keras]


@pytest.fixture
def tab(qtbot):
    from gui.training.tab import TrainingTab

    widget = TrainingTab()
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    widget.dataset.setCurrentIndex(widget.dataset.findData("bundled"))
    yield widget
    widget.shutdown()


def _keep_only(tab, *optimizer_ids):
    for key, racer in list(tab.racers.items()):
        if racer.optimizer_id not in optimizer_ids:
            tab._racer_removed(key)


def test_a_short_run_trains_each_optimizer_and_fills_the_table(qtbot, tab):
    _keep_only(tab, "sgd", "adam")
    tab.limit.setValue(400)
    tab.epochs.setValue(1)
    ticks = []
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    formats = []
    set_format = tab.progress.setFormat
    tab.progress.setFormat = lambda text: (formats.append(text), set_format(text))
    tab.start_button.click()
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not tab.is_running() and tab.start_button.isEnabled(),
                    timeout=180_000)
    timer.stop()
    statuses = [row.status for row in tab.rows.values()]
    assert statuses == ["completed", "completed"], tab.error.text()
    sgd, adam = tab.results
    assert sgd.optimizer_id == "sgd" and adam.optimizer_id == "adam"
    assert adam.optimizer_state_bytes > sgd.optimizer_state_bytes
    assert 0.0 <= adam.test_accuracy <= 1.0
    assert "bundled" in tab.dataset_label.text().lower()
    # Each run says it started before its first batch: the text never names a finished run
    # while the next one is setting up.
    starts = [i for i, text in enumerate(formats) if ": starting (epoch 1/1)" in text]
    assert [formats[i].split(":")[0] for i in starts] == ["SGD", "Adam"]
    assert formats[-1] == "done"
    # The event loop kept ticking while Keras trained (how evenly: bench/responsiveness.py).
    assert len(ticks) > 20


@pytest.mark.parametrize("lockstep", [True, False], ids=["lockstep", "one-by-one"])
def test_stop_cancels_within_a_batch_and_keeps_partial_results(qtbot, tab, lockstep):
    _keep_only(tab, "sgd", "adam")
    tab.lockstep.setChecked(lockstep)
    tab.limit.setValue(3000)
    tab.batch_size.setValue(8)
    tab.epochs.setValue(3)
    tab.start_button.click()
    qtbot.waitUntil(lambda: any(r.status == "running" for r in tab.rows.values()),
                    timeout=120_000)
    qtbot.waitSignal(tab.worker.batch_finished, timeout=60_000)
    tab.stop_button.click()
    qtbot.waitUntil(lambda: not tab.is_running() and tab.start_button.isEnabled(),
                    timeout=60_000)
    rows = list(tab.rows.values())
    assert rows[0].status == "stopped"
    if lockstep:  # both stop after the same batch
        assert rows[1].status == "stopped" and len(tab.results) == 2
    else:
        assert rows[1].status in ("stopped", "waiting")  # the next optimizer never ran
        assert len(tab.results) <= 1


def test_closing_the_window_during_training_exits_cleanly():
    script = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gui.main_window import MainWindow\n"
        "w = MainWindow(); w.show()\n"
        "t = w.training\n"
        "t.dataset.setCurrentIndex(t.dataset.findData('bundled'))\n"
        "t.limit.setValue(2000); t.batch_size.setValue(8)\n"
        "t.start()\n"
        "def close_when_training():\n"
        "    if any(r.status == 'running' for r in t.rows.values()):\n"
        "        w.close(); return\n"
        "    QTimer.singleShot(50, close_when_training)\n"
        "QTimer.singleShot(50, close_when_training)\n"
        "app.exec()\n"
        "print('thread running:', t.is_running())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = procs.run([sys.executable, "-c", script], timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "thread running: False" in done.stdout
    for bad in ("Destroyed while thread", "Traceback", "none_dealloc", "Segmentation"):
        assert bad not in done.stderr


def test_a_removed_optimizer_frees_its_colour_and_keys_stay_unique(tab):
    # Before: keys were "<id>-<number of styles + 1>" and a removed optimizer kept its style,
    # so its colour stayed taken for the rest of the session.
    first = list(tab.racers)
    freed = tab.styles[first[1]].color
    tab.racer_panel.select(first[1])
    tab.racer_panel.remove_button.click()
    assert first[1] not in tab.styles and first[1] not in tab.racers
    tab.racer_panel.add("adam")  # Adam's own colour is taken: the first free one, the freed
    keys = list(tab.racers)
    assert len(keys) == len(set(keys)) == 3 and set(tab.styles) == set(keys)
    assert tab.styles[keys[-1]].color == freed


def test_an_optimizer_removed_while_training_still_names_its_run(qtbot, tab):
    """The racer list is the user's to edit during a session: a run whose racer is removed
    keeps its name and look to the end (its end of session raised KeyError before, caught by
    the GUI monkey)."""
    _keep_only(tab, "sgd", "adam")
    tab.limit.setValue(400)
    tab.epochs.setValue(1)
    tab.start_button.click()
    adam = next(key for key, racer in tab.racers.items() if racer.optimizer_id == "adam")
    tab._racer_removed(adam)
    assert adam not in tab.racers
    qtbot.waitUntil(lambda: not tab.is_running() and tab.start_button.isEnabled(),
                    timeout=180_000)
    assert [row.label for row in tab.rows.values()] == ["SGD", "Adam"]
    assert [row.status for row in tab.rows.values()] == ["completed", "completed"]


def test_before_training_the_plots_span_the_session_in_whole_epochs(tab):
    """The empty plots read 0 to 1 in fifths of an epoch; they span the epochs chosen, and
    follow the setting until a session draws its curves."""
    view = tab.plots.plots["accuracy"].getViewBox()
    low, high = view.viewRange()[0]
    epochs = tab.epochs.value()
    assert low <= 0 < epochs <= high < epochs * 1.1
    tab.epochs.setValue(7)
    tab.epochs.value_edited.emit(7)
    low, high = view.viewRange()[0]
    assert low <= 0 and 7 <= high < 7.7
