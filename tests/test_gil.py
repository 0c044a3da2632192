"""Short GIL turns while background threads run Python beside the GUI thread (issue 16)."""

from __future__ import annotations

import sys
import threading

from engine import gil


def test_the_interval_is_short_while_any_thread_is_inside_and_restored_after_the_last():
    default = sys.getswitchinterval()
    assert gil.SWITCH_INTERVAL <= default / 10
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with gil.short_turns():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second():
        first_in.wait(10)
        with gil.short_turns():
            second_in.set()
            first_out.wait(10)  # the first left while this one is inside
            seen["after the first left"] = sys.getswitchinterval()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert seen == {"after the first left": gil.SWITCH_INTERVAL}
    assert sys.getswitchinterval() == default


def test_a_map_workers_job_runs_with_short_turns(qtbot):
    from gui.threads import JobWorker

    worker = JobWorker(lambda cancel, progress: sys.getswitchinterval())
    got = []
    worker.computed.connect(got.append)
    worker.run()
    assert got == [gil.SWITCH_INTERVAL]
    assert sys.getswitchinterval() != gil.SWITCH_INTERVAL
