"""GUI responsiveness while Keras trains: the tick intervals of a 10 ms ``QTimer``.

Starts the MNIST tab's real training path (worker in a ``QThread``, Keras callback, queued
signals, live plots) on the bundled subset and records every tick of a 10 ms timer in the
GUI thread until training ends. Prints the median, p99 and maximum interval (targets:
p99 <= 30 ms, max <= 100 ms), from the first batch on (TensorFlow's import is excluded).
``--landscape`` also waits for the network landscape that follows (computed in its worker
thread) and prints the same figures for that time.

Run: ``.venv/bin/python bench/responsiveness.py [--epochs 2] [--limit 4000] [--landscape]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=4000)
    parser.add_argument("--optimizers", default="sgd,adam")
    parser.add_argument("--landscape", action="store_true",
                        help="also measure while the network landscape is computed")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="override sys.setswitchinterval (seconds) to compare")
    args = parser.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.training.tab import TrainingTab

    app = QApplication.instance() or QApplication([])
    tab = TrainingTab()
    tab.resize(1300, 800)
    tab.show()
    wanted = args.optimizers.split(",")
    for key, racer in list(tab.racers.items()):
        if racer.optimizer_id not in wanted:
            tab._racer_removed(key)
    tab.dataset.setCurrentIndex(tab.dataset.findData("bundled"))
    tab.epochs.setValue(args.epochs)
    tab.limit.setValue(args.limit)

    ticks: list[float] = []
    first_batch: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

    # The first batch has been shown once the progress bar moves (a widget signal of the GUI
    # thread); the run is over when the tab has let its worker go. The app's own event loop
    # runs meanwhile (app.exec(), as in the app), not a polling loop.
    def progressed(value: int) -> None:
        if value > 0 and not first_batch:
            first_batch.append(time.perf_counter())

    trained: list[float] = []

    def check_done() -> None:
        if tab.is_running() or tab.worker is not None:
            return
        if not trained:
            trained.append(time.perf_counter())
        if not args.landscape or (tab.network.worker is None
                                  and tab.network.landscape is not None):
            app.quit()

    tab.progress.valueChanged.connect(progressed)
    done = QTimer()
    done.setInterval(50)
    done.timeout.connect(check_done)
    tab.start()
    timer.start()
    done.start()
    started = time.perf_counter()
    app.exec()
    done.stop()
    timer.stop()
    wall = time.perf_counter() - started
    begin = first_batch[0] if first_batch else started
    end = trained[0] if trained else time.perf_counter()
    print(f"training {args.optimizers} for {args.epochs} epochs on {args.limit} samples: "
          f"{end - started:.1f} s; {os.cpu_count()} cores")
    spans = [("training", begin, end)]
    if args.landscape:
        spans.append(("the landscape", end, time.perf_counter()))
        print(f"then the network landscape: {wall - (end - started):.1f} s")
    for name, low, high in spans:
        intervals = np.diff([t for t in ticks if low <= t <= high]) * 1000
        if intervals.size:
            print(f"10 ms timer while {name}: median {np.median(intervals):.1f} ms, "
                  f"p99 {np.percentile(intervals, 99):.1f} ms (target <= 30), "
                  f"max {intervals.max():.1f} ms (target <= 100), {intervals.size} ticks")
    statuses = [row.status for row in tab.rows.values()]
    print("runs:", ", ".join(statuses))
    tab.shutdown()
    tab.close()
    app.processEvents()


if __name__ == "__main__":
    main()
