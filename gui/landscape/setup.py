"""The Landscape tab's whole set-up, read out and put back (scenario files, presets).

:func:`capture` lists what a scenario file keeps of the tab (surface, start, step budget,
racers with their settings, schedules and noise, view); :func:`apply` puts a set-up back
through the same paths a user's clicks take, so every view, table and plot follows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QSignalBlocker

from engine.files.scenario import DEFAULT_VIEW
from engine.landscape import measures, surfaces
from engine.landscape.race import Racer
from gui.landscape.playback import SPEEDS


def _view_on_screen(tab) -> dict[str, Any]:
    plot = tab.view.getPlotItem().getViewBox()
    (x0, x1), (y0, y1) = plot.viewRange()
    return {
        "mode": "3d" if tab.views.currentWidget() is tab.view3d else "2d",
        "show_gradient": tab.show_descent.isChecked(),
        "show_update": tab.show_update.isChecked(),
        "show_velocity": tab.show_velocity.isChecked(),
        "show_field": tab.show_field.isChecked(),
        "speed": float(tab.playback.speed.currentData()),
        "x_range": (float(x0), float(x1)), "y_range": (float(y0), float(y1)),
    }


def capture(tab) -> dict[str, Any]:
    """The tab's set-up as keyword arguments of :class:`engine.files.scenario.Scenario`.

    A view setting the user has not changed since a scenario was applied is given back as
    the scenario had it (no view range when it had none; "3d" where this machine shows 2-D),
    so a scenario opened and saved again is the same scenario, value for value.
    """
    view = _view_on_screen(tab)
    applied = getattr(tab, "_applied_view", None)
    if applied is not None:
        given, shown = applied
        view = {name: given[name] if view[name] == shown[name] else value
                for name, value in view.items()}
        if not tab.view.range_changed_by_user:
            # The map is drawn to scale: a resize widens what it shows, not what was asked.
            view["x_range"], view["y_range"] = given["x_range"], given["y_range"]
    return {**tab.model.capture(), "view": view}


def apply(tab, surface: surfaces.Surface, start: tuple[float, float], steps: int,
          racers: tuple[Racer, ...], view: Mapping[str, Any],
          measure: Mapping[str, Any] | None, title: str = "", explanation: str = "") -> None:
    """Show this set-up in ``tab`` (every value already validated by the scenario loader)."""
    tab.set_playing(False)
    # The model takes the whole set-up at once (built and checked before the old one goes);
    # its event redraws every view.
    tab.model.replace(surface, tuple(start), int(steps), racers, measure)
    tab._applied_view = None
    _show_surface_controls(tab, surface)
    for box, name in ((tab.show_descent, "show_gradient"), (tab.show_update, "show_update"),
                      (tab.show_velocity, "show_velocity"), (tab.show_field, "show_field")):
        box.setChecked(bool(view.get(name, False)))
    speed = float(view.get("speed", 1.0))
    nearest = min(range(len(SPEEDS)), key=lambda i: abs(math.log(SPEEDS[i] / speed)))
    tab.playback.speed.setCurrentIndex(nearest)
    tab.views.setCurrentWidget(tab.view3d if view.get("mode") == "3d" and tab.view3d.available
                               else tab.view)
    tab.banner.set_content(title, explanation)
    if view.get("x_range") and view.get("y_range"):
        tab.view.getPlotItem().setRange(xRange=view["x_range"], yRange=view["y_range"],
                                        padding=0)
    tab.view.range_changed_by_user = False
    tab.reset()
    tab._applied_view = ({**DEFAULT_VIEW, **view}, _view_on_screen(tab))


def _show_surface_controls(tab, surface: surfaces.Surface) -> None:
    """Surface picker, ravine slider and expression box showing ``surface`` (no signals)."""
    combo = tab.surface_combo
    custom = surface.id.startswith("expr:")
    with QSignalBlocker(combo):
        combo.setCurrentIndex(combo.findData("custom" if custom else surface.id))
    if custom:
        with QSignalBlocker(tab.expression):
            tab.expression.setText(surface.id[len("expr:"):])
    condition = dict(surface.params).get("condition_number")
    if condition is not None:
        with QSignalBlocker(tab.condition_slider):
            tab.condition_slider.setValue(round(10 * math.log10(condition)))
        tab.condition_label.setText(f"{condition:g}")


def measurement_text(tab) -> tuple[str, list[str]] | None:
    """The banner's headline and per-racer lines at the shown step, or None without a
    measure."""
    if not tab.measure_spec or tab.measure_spec.get("kind") not in measures.LANDSCAPE_KINDS:
        return None
    if tab.race.computed_to() < min(tab.step, tab.race.budget):
        # Measuring would compute the race to the step in the GUI thread: say so instead,
        # until the idle slices get there.
        return f"measuring when the race is computed to step {tab.step:,}…", []
    try:
        result = measures.measure(tab.measure_spec, tab.race, tab.step)
    except (KeyError, ValueError):
        return None
    return result.headline, [f"{row.label}: {row.text}" for row in result.rows]
