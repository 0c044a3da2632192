"""``main.py render``: a PNG of the race without a window; bad arguments exit 2."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests import procs

ROOT = Path(__file__).resolve().parents[1]


def _main(*argv, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(env_extra or {})
    return procs.run([sys.executable, str(ROOT / "main.py"), *argv], timeout=120, cwd=ROOT,
                     env=env)


def test_render_writes_a_png_of_the_race(tmp_path):
    from PySide6.QtGui import QImage

    out = tmp_path / "race.png"
    done = _main("render", "--surface", "rosenbrock", "--optimizers", "sgd,momentum,adam",
                 "--start=-1.5,2", "--steps", "200", "--out", str(out), "--size", "640x480")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "none_dealloc" not in done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (640, 480)
    colours = {image.pixel(x, y) for x in range(0, 640, 16) for y in range(0, 480, 16)}
    assert len(colours) > 50  # a heat map with trails, not a blank frame
    assert [p.name for p in tmp_path.iterdir()] == ["race.png"]  # no temporary left behind


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--surface", "nope"], "--surface"),
        (["--surface", "bowl", "--optimizers", "sgd,adamm"], "--optimizer"),
        (["--surface", "bowl", "--optimizers", ","], "--optimizers"),
        (["--surface", "bowl", "--size", "10x10"], "--size"),
        (["--surface", "bowl", "--size", "big"], "--size"),
        (["--surface", "bowl", "--steps", "-1"], "--steps"),
        (["--surface", "bowl", "--start=1,nan"], "--start"),
        (["--surface", "bowl", "--view", "3d"], "--view 3d"),
    ],
)
def test_bad_render_arguments_exit_2_with_one_line(tmp_path, argv, field):
    done = _main("render", *argv, "--out", str(tmp_path / "x.png"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and field in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_render_refuses_a_missing_folder_or_wrong_suffix(tmp_path):
    assert _main("render", "--surface", "bowl", "--out", str(tmp_path / "no" / "x.png")
                 ).returncode == 2
    assert _main("render", "--surface", "bowl", "--out", str(tmp_path / "x.jpg")).returncode == 2
