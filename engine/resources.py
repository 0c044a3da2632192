"""Where the data the app ships lives: ``resources/`` (the MNIST subset, presets, icons).

One home for that answer, whichever way the app runs: from a checkout (``resources/`` beside
``engine/``), pip-installed (the wheel carries the folder as the ``optiscope_resources``
package) or frozen by PyInstaller (``sys._MEIPASS/resources``).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["path", "root"]


def root() -> Path:
    """The ``resources`` folder; the checkout's path when none is found (files then missing)."""
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller's unpack folder
    if frozen is not None and (Path(frozen) / "resources").is_dir():
        return Path(frozen) / "resources"
    checkout = Path(__file__).resolve().parents[1] / "resources"
    if checkout.is_dir():
        return checkout
    try:  # an installed wheel: the folder is the package ``optiscope_resources``
        import importlib.util

        spec = importlib.util.find_spec("optiscope_resources")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return checkout


def path(*parts: str) -> Path:
    """A file or folder under :func:`root`, e.g. ``path("presets")``."""
    return root().joinpath(*parts)
