"""The test suite's own safety nets: bounded child processes, Xvfb without xvfb-run, and the
summary ``make test`` prints when a run crashes or hangs."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests import crash_summary, procs


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_timeout_kills_the_grandchildren_that_hold_the_pipes(tmp_path):
    pid_file = tmp_path / "pid"
    # The grandchild keeps stdout open: subprocess.run(timeout=...) would wait on it for ever.
    script = f"sleep 600 & echo $! > {pid_file}; wait"
    with pytest.raises(pytest.fail.Exception, match="did not finish in 1 s"):
        procs.run(["bash", "-c", script], timeout=1)
    grandchild = int(pid_file.read_text())
    # SIGKILL is delivered asynchronously: on a loaded machine the process may take a moment.
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_a_child_gets_no_stdin_and_its_output_back():
    done = procs.run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()));"
                      "sys.stderr.write('e'); sys.exit(3)"], timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (3, "''\n", "e")
    done = procs.run([sys.executable, "-c", "print(input())"], timeout=60, input="typed\n")
    assert done.stdout == "typed\n"


@pytest.fixture
def sigusr1_ignored():
    """As under a runner that ignores SIGUSR1: xvfb-run then waits for ever."""
    previous = signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGUSR1, previous)


def test_xvfb_starts_even_with_sigusr1_ignored(sigusr1_ignored):
    code = ("from PySide6.QtWidgets import QApplication, QLabel\n"
            "app = QApplication([]); label = QLabel('x'); label.show(); app.processEvents()\n"
            "print(app.platformName(), label.isVisible())\n")
    with procs.xvfb() as display:
        assert display.startswith(":")
        done = procs.run([sys.executable, "-c", code], timeout=120, env=procs.xcb_env(display))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["xcb", "True"]


def _pytest_log(tmp_path, body: str, *args: str) -> str:
    test = tmp_path / "test_it.py"
    test.write_text(textwrap.dedent(body))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = procs.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      "-o", "addopts=", "-o", "filterwarnings=", "--rootdir", str(tmp_path),
                      *args, str(test)], timeout=120, cwd=tmp_path, env=env)
    assert done.returncode != 0
    return done.stdout + done.stderr


def test_the_summary_names_the_hung_test_and_the_line(tmp_path):
    log = _pytest_log(tmp_path, """
        import time

        def wait_for_ever():
            time.sleep(600)

        def test_hangs():
            wait_for_ever()
        """, "--timeout", "2", "--timeout-method", "thread")
    lines = crash_summary.summary(log, root=tmp_path)
    assert lines[0] == "a test hung and was stopped after the timeout"
    assert "  test_it.py:8 in test_hangs" in lines
    assert "  test_it.py:5 in wait_for_ever" in lines
    assert not any("_pytest" in line or "pluggy" in line or "<" in line for line in lines)


def test_a_hang_that_holds_the_gil_still_ends_with_every_stack(tmp_path):
    # pytest-timeout's thread cannot wake while the GIL is held (a deadlock in C++ seen in CI);
    # faulthandler's watchdog is a C thread: it dumps the stacks and ends the run.
    log = _pytest_log(tmp_path, """
        import ctypes

        def hold_the_gil():
            ctypes.PyDLL(None).sleep(600)

        def test_hangs():
            hold_the_gil()
        """, "--timeout", "1", "--timeout-method", "thread",
        "-o", "faulthandler_timeout=3", "-o", "faulthandler_exit_on_timeout=true")
    lines = crash_summary.summary(log, root=tmp_path)
    assert lines[0] == "a test hung and was stopped after the timeout"
    assert "  test_it.py:8 in test_hangs" in lines
    assert "  test_it.py:5 in hold_the_gil" in lines


def test_the_summary_names_the_library_frame_a_thread_is_stuck_in(tmp_path):
    # A deadlock sits in library code the project called (CI hung in pyqtgraph's
    # AxisItem._updateLabel, called from gui/training/network_map.py): name that frame too.
    log = _pytest_log(tmp_path, """
        import queue

        def wait_for_ever():
            queue.Queue().get()

        def test_hangs():
            wait_for_ever()
        """, "--timeout", "2", "--timeout-method", "thread")
    lines = crash_summary.summary(log, root=tmp_path)
    at = lines.index("  test_it.py:5 in wait_for_ever")
    assert lines[at - 1] == "  test_it.py:8 in test_hangs"
    assert lines[at + 1].startswith("  innermost: threading.py:") and "in wait" in lines[at + 1]
    # faulthandler's dump lists the newest frame first.
    dump = ("Timeout (0:05:30)!\nThread 0x01 (most recent call first):\n"
            '  File "/v/lib/python3.11/site-packages/pyqtgraph/AxisItem.py", line 531 in label\n'
            f'  File "{tmp_path}/gui/map.py", line 190 in set_landscape\n'
            '  File "/v/lib/python3.11/site-packages/_pytest/main.py", line 9 in main\n')
    assert crash_summary.summary(dump, root=tmp_path) == [
        "a test hung and was stopped after the timeout", "Thread 0x01 (most recent call first):",
        "  innermost: pyqtgraph/AxisItem.py:531 in label", "  gui/map.py:190 in set_landscape"]


def test_the_summary_names_a_fatal_error_and_nothing_for_a_plain_failure(tmp_path):
    log = _pytest_log(tmp_path, """
        import os

        def test_crashes():
            os.abort()
        """)
    lines = crash_summary.summary(log, root=tmp_path)
    assert lines[0].startswith("Fatal Python error: Aborted")
    assert "  test_it.py:5 in test_crashes" in lines
    plain = _pytest_log(tmp_path, "def test_fails():\n    assert 1 == 2\n")
    assert crash_summary.summary(plain, root=tmp_path) == []


def test_a_leaked_qthread_or_qtimer_fails_the_test_naming_where_it_started(tmp_path):
    test = tmp_path / "test_leak.py"
    test.write_text(textwrap.dedent("""
        import time

        from PySide6.QtCore import QObject, QTimer, Signal, Slot
        from PySide6.QtWidgets import QWidget

        from gui import threads


        class Busy(QObject):
            finished = Signal()

            @Slot()
            def run(self):
                time.sleep(4)
                self.finished.emit()


        def test_leaks_a_thread(qtbot):
            threads.start_worker(Busy())


        KEPT = []


        def test_leaks_a_timer(qtbot):
            window = QWidget()
            window.show()
            timer = QTimer(window)
            timer.start(10)
            KEPT.append(window)  # a window left open, its timer ticking


        def test_tidy(qtbot):
            worker = Busy()
            worker.run = lambda: worker.finished.emit()
            thread = threads.start_worker(worker)
            qtbot.waitUntil(lambda: not threads.live_threads(), timeout=5000)
    """))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "QT_QPA_PLATFORM": "offscreen"}
    done = procs.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      "-p", "tests.conftest", "-o", "addopts=", "-o", "filterwarnings=",
                      "--rootdir", str(tmp_path), str(test)], timeout=180,
                     cwd=Path(__file__).resolve().parents[1], env=env)
    log = done.stdout + done.stderr
    assert "3 passed, 2 errors" in log, log[-3000:]  # teardown errors of the two leaks
    assert "QThread started at" in log and "test_leak.py:20 in test_leaks_a_thread" in log
    assert "QTimer started at" in log and "test_leak.py:30 in test_leaks_a_timer" in log
