"""An installable package: the wheel carries every package and the data the app ships, and
the installed app finds them from any folder."""

from __future__ import annotations

import os
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests import procs

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return project["tool"]["setuptools"]["packages"]


def test_every_package_of_the_app_is_declared():
    found = sorted(".".join(path.parent.relative_to(ROOT).parts)
                   for top in ("engine", "gui") for path in (ROOT / top).rglob("__init__.py")
                   if "__pycache__" not in path.parts)
    assert sorted(p for p in _declared() if not p.startswith("optiscope_resources")) == found


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from this checkout, unpacked as pip would install it."""
    out = tmp_path_factory.mktemp("wheel")
    done = procs.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                      "-q", "-w", str(out), str(ROOT)], timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = out.glob("optiscope-*.whl")
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def test_the_wheel_carries_presets_mnist_and_icons(installed):
    data = installed / "optiscope_resources"
    assert (data / "mnist_subset.npz").stat().st_size > 500_000
    assert len(list((data / "presets").glob("*.json"))) >= 8
    assert (data / "icons" / "optiscope.png").is_file()


_USE_IT = """
import sys
from engine import resources
from engine.files import presets
from engine.mnist import datasets
from gui.app import icon_path
import engine
assert engine.__file__.startswith(sys.argv[1]), engine.__file__  # the installed copy
print(resources.root())
assert str(resources.root()).startswith(sys.argv[1])
assert len(presets.list_presets()) >= 8
assert datasets.bundled().info.n_train == 4000
assert icon_path().is_file()
from main import main
assert main(["map", "--surface", "booth", "--optimizer", "sgd", "--grid", "8", "--steps", "20",
             "--out", sys.argv[2]]) == 0
print("ok")
"""


@pytest.mark.gui
def test_the_installed_app_works_from_any_folder(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed), "QT_QPA_PLATFORM": "offscreen"}
    picture = elsewhere / "map.png"
    done = procs.run([sys.executable, "-c", _USE_IT, str(installed), str(picture)],
                     timeout=300, cwd=elsewhere, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
