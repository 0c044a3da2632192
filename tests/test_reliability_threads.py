"""Thread stress and shutdown: start/stop cycles, closes at random moments, the real exit path.

Every test here ends with no QThread alive (the autouse fixture in conftest.py fails any
test that leaves one running), no Qt warning (pytest-qt fails on those), and subprocess runs
end with status 0 and a clean stderr.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

from gui import threads
from tests import procs

ROOT = Path(__file__).resolve().parents[1]
BAD_OUTPUT = ("Destroyed while thread", "Traceback", "none_dealloc", "Segmentation",
              "Fatal Python error", "QObject::")
pytestmark = [pytest.mark.gui, pytest.mark.keras]


@pytest.fixture
def tab(qtbot):
    from gui.training.tab import TrainingTab

    widget = TrainingTab()
    qtbot.addWidget(widget)
    widget.show()
    widget.dataset.setCurrentIndex(widget.dataset.findData("bundled"))
    for key in list(widget.racers)[1:]:
        widget._racer_removed(key)  # SGD alone: each cycle is about loading and stopping
    widget.limit.setValue(300)
    widget.epochs.setValue(2)
    yield widget
    widget.shutdown()


def test_fifty_start_stop_cycles_leave_no_thread_and_a_working_tab(qtbot, tab):
    rng = random.Random(7)  # stop at varied moments: before data, mid-epoch, after a run
    outcomes = set()
    for cycle in range(50):
        tab.start()
        assert tab.is_running(), f"cycle {cycle}: {tab.error.text()}"
        moment = rng.choice(("at once", "first batch", "later"))
        if moment == "first batch":
            qtbot.waitUntil(lambda: any(r.status == "running" for r in tab.rows.values())
                            or tab.worker is None, timeout=60_000)
        elif moment == "later":
            qtbot.wait(rng.randint(1, 60))
        tab.stop()
        qtbot.waitUntil(lambda: tab.worker is None and tab.thread is None, timeout=60_000)
        assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
        outcomes.update(row.status for row in tab.rows.values())
        # The work is over; its thread winds down (what closing the window waits for).
        assert threads.wait_all(10_000), f"cycle {cycle}: a thread is still running"
    assert outcomes <= {"stopped", "completed", "waiting"}
    assert "stopped" in outcomes
    # After all that, a full run still works.
    tab.start()
    qtbot.waitUntil(lambda: tab.worker is None, timeout=120_000)
    assert [r.status for r in tab.results] == ["completed"]


_CLOSE_AT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
window = MainWindow(); window.show()
training = window.training
training.dataset.setCurrentIndex(training.dataset.findData("bundled"))
training.limit.setValue(1000); training.batch_size.setValue(16)
window.tabs.setCurrentWidget(training)
training.start()
window.landscape.set_playing(True)   # the race animates too


def close():
    training_then = training.is_running()
    window.close()
    # The window goes at once, even while a batch (or TensorFlow's import) is still running.
    print("hidden at once:", not window.isVisible(), "while training:", training_then)


QTimer.singleShot(int(sys.argv[1]), close)
app.exec()
print("thread running:", training.is_running())
"""


# Two moments in the regular run (before TensorFlow has loaded, and mid-epoch); the other
# three repeat the same path in a new process and run with `make test-slow`.
@pytest.mark.parametrize("delay_ms", [0, 1800, *(pytest.param(d, marks=pytest.mark.slow)
                                                 for d in (150, 700, 3500))])
def test_closing_the_window_at_any_moment_of_training_exits_cleanly(delay_ms):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = procs.run([sys.executable, "-c", _CLOSE_AT, str(delay_ms)], timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "hidden at once: True while training: True" in done.stdout
    assert "thread running: False" in done.stdout
    for bad in BAD_OUTPUT:
        assert bad not in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize("run", [0, *(pytest.param(r, marks=pytest.mark.slow) for r in (1, 2))])
def test_the_real_exit_path_is_clean_run_after_run(run):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = procs.run([sys.executable, "main.py", "--self-test"], timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("self-test: passed")
    for bad in BAD_OUTPUT:
        assert bad not in done.stderr, done.stderr[-2000:]


def test_garbage_is_collected_in_the_gui_thread_never_in_a_worker(qtbot):
    # Collected in a worker thread, a widget's wrapper is destroyed there and deadlocks with
    # the GUI thread (Qt's connection lock against the GIL): CI hung in the test above.
    import gc
    import threading

    from PySide6.QtCore import QObject, Signal, Slot

    threads.collect_garbage_in_gui_thread()
    assert not gc.isenabled()
    in_main: list[bool] = []

    class Cycle:
        def __del__(self):
            in_main.append(threading.current_thread() is threading.main_thread())

    class Allocator(QObject):
        finished = Signal()

        @Slot()
        def run(self):
            self.junk = [[] for _ in range(200_000)]  # far past the collection threshold
            self.finished.emit()

    gc.collect()
    cycle = Cycle()
    cycle.me = cycle
    del cycle
    allocator = Allocator()
    threads.start_worker(allocator)
    qtbot.waitUntil(lambda: bool(in_main), timeout=10_000)
    assert in_main == [True]
    assert threads.wait_all(10_000)


def test_a_worker_is_deleted_in_the_gui_thread_after_its_thread_ends_never_in_its_thread(qtbot):
    # Deleted in its own thread (deleteLater there), a worker's ~QObject holds one of Qt's
    # pooled connection locks while it waits for the GIL to look up a Python override; the GUI
    # thread, holding the GIL, waits for the same lock to connect anything: CI hung so.
    import threading

    from PySide6.QtCore import QObject, Qt, Signal, Slot

    deleted_in: list[str] = []
    ran_in: list[str] = []

    class Worker(QObject):
        finished = Signal()

        @Slot()
        def run(self):
            ran_in.append(threading.current_thread().name)
            self.finished.emit()

    worker = Worker()
    worker.destroyed.connect(lambda: deleted_in.append(threading.current_thread().name),
                             Qt.ConnectionType.DirectConnection)
    thread = threads.start_worker(worker)
    del worker  # the GUI lets go at once: the worker still runs, held by gui/threads.py
    qtbot.waitUntil(lambda: bool(deleted_in), timeout=10_000)
    main = threading.main_thread().name
    assert ran_in and ran_in != [main]
    assert deleted_in == [main]
    assert not threads.live_threads() and not threads._RUNNING
    del thread


def test_full_collections_take_at_most_a_small_share_of_the_gui_thread(monkeypatch):
    # Python runs a full collection only when long-lived objects grew by a quarter; counting
    # to its threshold of 10 alone would walk every object every few seconds in the GUI thread.
    import gc

    calls = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: calls.append(generation) or 0)
    monkeypatch.setattr(gc, "get_count", lambda: (800, 20, 50))
    monkeypatch.setattr(threads, "_next_full", [0.0])
    threads.collect_due()
    assert calls == [2]
    threads.collect_due()  # a full one just ran: the next waits; the younger ones go on
    assert calls == [2, 1]
    assert threads._next_full[0] > 0


def test_young_garbage_is_collected_in_small_pieces(qtbot):
    # The GUI thread collects what every thread allocated since its last look: a worker
    # loading numba kernels allocated enough in half a second that one generation-1
    # collection held the GUI thread 65-116 ms (bench/gui_limits.py, the map at its limits);
    # looking every 0.1 s, the same work comes in pieces of a few ms.
    import gc

    threads.collect_garbage_in_gui_thread()
    assert threads._collector.interval() == threads.COLLECT_EVERY_MS <= 100
    for _ in range(3000):  # cycles: only the collector frees them
        cycle: list = []
        cycle.append(cycle)
    assert gc.get_count()[0] > 700
    qtbot.waitUntil(lambda: gc.get_count()[0] < 700, timeout=3 * threads.COLLECT_EVERY_MS)
