"""Exports and saves on a full disk, a read-only folder, a folder as target, a missing folder
(issue 16, point 5): every failure is reported with the path and the reason, and the previous
file stays intact; temporary files of a killed save are removed by the next save.

The full and read-only disks are a 64 KiB tmpfs mounted for the test, so these run as root
only (skipped otherwise). Before the fix: the view and side-plot PNGs "succeeded" with a
truncated 61,440-byte file in place of the old one (pyqtgraph's exporter ignores Qt's write
result), MNIST's "Plot PNG" left a 0-byte file, and MNIST's CSV/JSON/PNG exports raised a
raw OSError out of the button's slot.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from engine.files import atomic, scenario
from engine.mnist.training import RunResult
from gui import exports

pytestmark = pytest.mark.gui
OLD = b"the previous file, intact\n"


@pytest.fixture
def window(quiet_window):
    quiet_window.landscape.seek(40)
    # A finished run to export: an empty result is refused before any file is touched
    # ("Nothing to export yet"), which would hide the write failures tested here.
    quiet_window.training.results = [RunResult("sgd", {}, history={"accuracy": [0.5]})]
    return quiet_window


@contextlib.contextmanager
def _tmpfs(folder: Path, size: str = "64k"):
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a 64 KiB disk; :func:`_fill` takes what is left."""
    with _tmpfs(tmp_path / "disk") as folder:
        yield folder


def _fill(folder: Path) -> None:
    with open(folder / "filler", "wb", buffering=0) as stream:
        with contextlib.suppress(OSError):
            while True:
                stream.write(b"\0" * 512)


@pytest.fixture
def read_only(tmp_path):
    with _tmpfs(tmp_path / "ro") as folder:
        for name in ("old.png", "old.svg", "old.csv", "old.json", "old.gif", "old.mp4"):
            (folder / name).write_bytes(OLD)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder


def _exports(window):
    """(name, suffix, write(path) -> None, raising on failure) for every export and save."""
    exporter, training = window.exporter, window.training

    def mnist(method):
        def write(path):
            if not method(str(path)):
                raise OSError(training.error.text())
        return write

    return [
        ("view PNG", ".png", lambda p: exporter.shown_picture(p, 3000)),
        ("view SVG", ".svg", lambda p: exporter.shown_picture(p)),
        ("side plots PNG", ".png", lambda p: exporter.side_plots_picture(p, 3000)),
        ("trajectories CSV", ".csv", exporter.trajectories),
        ("trajectories JSON", ".json", exporter.trajectories),
        ("race GIF", ".gif", lambda p: exporter.race_animation(p, frames=4)),
        ("race MP4", ".mp4", lambda p: exporter.race_animation(p, frames=4)),
        ("scenario", ".json", window.scenarios.save_to),
        ("MNIST CSV", ".csv", mnist(training.export_csv)),
        ("MNIST JSON", ".json", mnist(training.export_json)),
        ("MNIST plots PNG", ".png", mnist(training.export_png)),
    ]


def _fails_keeping_the_old_file(write, target: Path, reason: str) -> str:
    with pytest.raises((OSError, ValueError)) as caught:
        write(target)
    message = str(caught.value)
    assert str(target) in message or target.name in message, message
    assert reason in message, message
    return message


def test_every_export_on_a_full_disk_fails_saying_why_and_keeps_the_old_file(window, full_disk):
    cases = [(name, full_disk / f"old-{uuid.uuid4().hex[:6]}{suffix}", write)
             for name, suffix, write in _exports(window)]
    for _name, target, _write in cases:
        target.write_bytes(OLD)
    _fill(full_disk)
    for name, target, write in cases:
        _fails_keeping_the_old_file(write, target, "No space left on device")
        assert target.read_bytes() == OLD, name
        leftovers = [p.name for p in full_disk.iterdir() if p.name.startswith(".")]
        assert leftovers == [], (name, leftovers)


def test_every_export_to_a_read_only_folder_fails_saying_why(window, read_only):
    for name, suffix, write in _exports(window):
        target = read_only / f"old{suffix}"
        _fails_keeping_the_old_file(write, target, "Read-only file system")
        assert target.read_bytes() == OLD, name


def test_a_folder_as_target_or_a_missing_folder_is_refused_naming_it(window, tmp_path):
    for name, suffix, write in _exports(window):
        folder = tmp_path / f"a-folder{suffix}"
        folder.mkdir(exist_ok=True)
        message = _fails_keeping_the_old_file(write, folder, "")
        assert "folder" in message, (name, message)
        missing = tmp_path / "missing" / f"x{suffix}"
        message = _fails_keeping_the_old_file(write, missing, "")
        assert "no such folder" in message.lower() or "No such file" in message, (name, message)


def test_mnist_export_buttons_report_inline_instead_of_raising(window, tmp_path):
    training = window.training
    assert training.export_csv(str(tmp_path / "missing" / "r.csv")) is False
    assert not training.error.isHidden() and "r.csv" in training.error.text()
    assert training.export_json(str(tmp_path / "ok.json")) is True
    runs = json.loads((tmp_path / "ok.json").read_text())["runs"]
    assert [(r["optimizer"], r["status"]) for r in runs] == [("sgd", "completed")]


def test_a_short_write_is_caught_before_the_rename(tmp_path, monkeypatch):
    target = tmp_path / "lesson.json"
    target.write_bytes(OLD)
    real_fstat = os.fstat

    class Short:
        def __init__(self, result):
            self._result = result

        def __getattr__(self, name):
            value = getattr(self._result, name)
            return value // 2 if name == "st_size" else value

    monkeypatch.setattr(atomic.os, "fstat", lambda fd: Short(real_fstat(fd)))
    with pytest.raises(OSError, match="only .* bytes were written"):
        atomic.write_text(target, "x" * 1000)
    assert target.read_bytes() == OLD


def test_temporary_files_of_a_killed_save_are_removed_by_the_next_save(tmp_path):
    target = tmp_path / "lesson.json"
    dead = subprocess.run(["true"]).args and _a_dead_pid()
    stale = tmp_path / f".lesson.json.{dead}.abcd1234.tmp"
    stale.write_text("half a file")
    mine = tmp_path / f".lesson.json.{os.getpid()}.abcd1234.tmp"  # a live process's: kept
    mine.write_text("in progress")
    other = tmp_path / f".other.json.{dead}.abcd1234.tmp"  # another file's: not ours to judge
    other.write_text("x")
    scenario.save(scenario.Scenario(), target)
    assert not stale.exists() and mine.exists() and other.exists()
    assert scenario.load(target) == scenario.Scenario()


def _a_dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_exports_never_write_a_picture_the_encoder_refused(tmp_path):
    from PySide6.QtGui import QImage

    target = tmp_path / "x.png"
    target.write_bytes(OLD)
    with pytest.raises(exports.ExportError, match="could not be drawn"):
        exports.save_image(QImage(), target)
    assert target.read_bytes() == OLD
