"""The teaching presets shipped in ``resources/presets/``: scenario files, one lesson each.

File names start with a number (``01-ravine-momentum.json``), so the lessons are listed in
teaching order. In a PyInstaller build the folder is looked up under ``sys._MEIPASS``.
"""

from __future__ import annotations

from pathlib import Path

from engine import resources
from engine.files import scenario
from engine.files.scenario import Scenario, ScenarioError

__all__ = ["list_presets", "load_preset", "preset_paths", "presets_dir"]


def presets_dir() -> Path:
    """The folder holding the preset files (the frozen app's copy when there is one)."""
    return resources.path("presets")


def preset_paths() -> list[Path]:
    """Every preset file, in file-name (teaching) order."""
    return sorted(presets_dir().glob("*.json"))


def list_presets() -> list[tuple[Path, str]]:
    """``(path, title)`` of every preset, in file order.

    Raises
    ------
    ScenarioError
        When a shipped preset does not load (a packaging bug, never a user error).
    """
    return [(path, scenario.load(path).title) for path in preset_paths()]


def load_preset(name: str) -> Scenario:
    """The preset called ``name``: its file name, with or without ``.json``.

    Raises
    ------
    ScenarioError
        For a name that is not a shipped preset (the message lists them).
    """
    stem = name.removesuffix(".json")
    for path in preset_paths():
        if path.stem == stem:
            return scenario.load(path)
    available = ", ".join(path.stem for path in preset_paths())
    raise ScenarioError("", f"no preset named {name!r} (available: {available})")
