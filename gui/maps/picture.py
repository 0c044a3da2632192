"""``main.py map --out FILE.png``: the map drawn as the Maps view draws it, without a window.

One home for what a map looks like: the PNG is the Maps view's own plot (its colours, legend,
numbered minima, 10ⁿ axes), with the figure's title and legend bands (:mod:`gui.figure`),
drawn on Qt's offscreen platform. No matplotlib: the installed app needs nothing more.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.files import atomic

PICTURE_SIZE = (1000, 760)  #: the map picture's size in pixels


def write_map_png(target: Path, result: Any, surface: Any, meta: dict[str, Any]) -> None:
    """Draw ``result`` (a start or hyperparameter map of ``surface``) to ``target`` atomically.

    Start maps of surfaces with known minima are coloured by the minimum reached (steps to
    converge otherwise), hyperparameter maps by steps to converge.
    """
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from engine.landscape import maps
    from gui.figure import compose, render_item
    from gui.maps.view import MapsView

    app = QApplication.instance() or QApplication(["optiscope-map"])
    view = MapsView()
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)  # laid out, never on a screen
    try:
        view.resize(*PICTURE_SIZE)
        view.set_surface(surface, getattr(result, "start", surface.start))
        hyper = isinstance(result, maps.HyperMap)
        view.mode.setCurrentIndex(view.mode.findData("hyper" if hyper else "starts"))
        colouring = "minimum" if not hyper and surface.minima else "steps"
        view.colour_by.setCurrentIndex(max(view.colour_by.findData(colouring), 0))
        view.steps.setValue(result.steps)
        view.show()
        view._computed(result)  # shown as a computed map is
        for _ in range(5):
            app.processEvents()
        image = compose(render_item(view.plot.getPlotItem(), PICTURE_SIZE[0]), view.caption())
        with atomic.replacing(target, suffix=".png") as temporary:
            if not image.save(temporary, "PNG"):
                raise OSError(f"could not write a PNG to {temporary}")
    finally:
        view.shutdown()
        view.close()
        view.deleteLater()
        app.processEvents()
