"""``--self-test``: the packaged app checks itself end to end, then exits through its real path.

With the main window shown it runs a short race, trains the lesson's MLP for one epoch on a
small slice of the bundled MNIST, writes a PNG and a GIF export to a temporary folder, then
closes the window. Any failure prints one line to stderr and the exit status is 1.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

RACE_STEPS = 200
TRAIN_LIMIT = 600
TRAIN_TIMEOUT_S = 300.0


def _say(stream, text: str) -> None:
    if stream is not None:  # a windowed build has no console
        stream.write(text)
        stream.flush()


class SelfTestError(RuntimeError):
    """A self-test check failed."""


def _wait(app, condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SelfTestError(f"{what}: not done after {timeout_s:g} s")
        app.processEvents()
        time.sleep(0.01)


def _race(window) -> str:
    tab = window.landscape
    tab.seek(RACE_STEPS)
    points = [track.points(RACE_STEPS) for track in tab.race.tracks.values()]
    if not points or not all(np.isfinite(p).all() for p in points):
        raise SelfTestError("race: no racer, or a path that is not finite")
    moved = sum(bool(len(p) > 1 and not np.array_equal(p[0], p[-1])) for p in points)
    if moved == 0:
        raise SelfTestError("race: no racer moved")
    return f"race: {len(points)} racers, {moved} moved in {RACE_STEPS} steps"


def _exports(window, folder: Path) -> str:
    png = window.exporter.view_picture(folder / "race.png", width=800)
    gif = window.exporter.race_animation(folder / "race.gif", frames=10)
    sizes = {path.name: path.stat().st_size for path in (png, gif)}
    if not all(sizes.values()):
        raise SelfTestError(f"export: empty file(s) {sizes}")
    return "exports: " + ", ".join(f"{name} {size:,} B" for name, size in sizes.items())


def _train(app, window) -> str:
    training = window.training
    training.dataset.setCurrentIndex(training.dataset.findData("bundled"))
    training.epochs.setValue(1)
    training.limit.setValue(TRAIN_LIMIT)
    keys = list(training.racers)
    for key in keys[:-1]:
        training._racer_removed(key)  # one optimizer (the last: Adam) proves Keras works
    training.start()
    if not training.is_running():
        raise SelfTestError(f"training: did not start ({training.error.text()})")
    _wait(app, lambda: training.worker is None, TRAIN_TIMEOUT_S, "training")
    statuses = [result.status for result in training.results]
    if statuses != ["completed"]:
        raise SelfTestError(f"training: expected one completed run, got {statuses} "
                            f"{training.error.text()}")
    accuracy = training.results[0].history["accuracy"][-1]
    return f"training: 1 epoch on {TRAIN_LIMIT} bundled samples, accuracy {accuracy:.1%}"


def run(app: QApplication, window) -> int:
    """Every check in turn; the exit status (0 or 1). Closes the window in any case."""
    status = 0
    try:
        app.processEvents()
        with tempfile.TemporaryDirectory(prefix="optiscope-self-test-") as folder:
            for check in (lambda: _race(window), lambda: _exports(window, Path(folder)),
                          lambda: _train(app, window)):
                _say(sys.stdout, f"self-test: {check()}\n")
        _say(sys.stdout, "self-test: passed\n")
    except Exception as error:  # noqa: BLE001 - any failure is the answer
        _say(sys.stderr, f"optiscope: self-test failed: {error}\n")
        status = 1
    window.close()
    return status
