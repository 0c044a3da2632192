"""Colours and themes shared by every view: one colour per optimizer, everywhere.

The same optimizer has the same colour in the race (trail, marker, arrows), the side plots,
the tables and the MNIST tab. Hues are spread so neighbours differ, and are drawn with a
dark outline on the surface so they read on any colour map and on a projector.
"""

from __future__ import annotations

from dataclasses import dataclass

OPTIMIZER_COLORS: dict[str, str] = {
    "sgd": "#e6194b",       # red
    "momentum": "#f58231",  # orange
    "nesterov": "#ffe119",  # yellow
    "rmsprop": "#3cb44b",   # green
    "adagrad": "#42d4f4",   # cyan
    "adadelta": "#bfef45",  # lime
    "adam": "#4363d8",      # blue
    "amsgrad": "#911eb4",   # purple
    "adamw": "#f032e6",     # magenta
    "adamax": "#a9a9a9",    # grey
    "nadam": "#fabed4",     # pink
    "lion": "#9a6324",      # brown
}
_EXTRA = ("#000075", "#469990", "#800000", "#808000", "#dcbeff", "#aaffc3")


def color_for(optimizer_id: str, duplicate: int = 0) -> str:
    """Hex colour for ``optimizer_id``; ``duplicate`` > 0 picks a distinct extra colour for a
    second racer of the same optimizer."""
    if duplicate <= 0 and optimizer_id in OPTIMIZER_COLORS:
        return OPTIMIZER_COLORS[optimizer_id]
    index = (sum(map(ord, optimizer_id)) + duplicate) % len(_EXTRA)
    return _EXTRA[index]


#: One pyqtgraph marker shape per optimizer, all distinct, so racers are told apart by shape
#: as well as by colour (projectors, colour-blind students). Filled shapes first.
OPTIMIZER_MARKERS: dict[str, str] = {
    "sgd": "o",         # circle
    "momentum": "t1",   # triangle up
    "nesterov": "t",    # triangle down
    "rmsprop": "s",     # square
    "adagrad": "p",     # pentagon
    "adadelta": "h",    # hexagon
    "adam": "d",        # diamond
    "amsgrad": "star",
    "adamw": "t2",      # triangle right
    "adamax": "t3",     # triangle left
    "nadam": "+",       # plus (a filled cross)
    "lion": "x",        # cross (a filled x)
}
_EXTRA_MARKERS = ("o", "s", "d", "t1", "t", "p", "h", "star")


def marker_for(optimizer_id: str, duplicate: int = 0) -> str:
    """pyqtgraph symbol name for ``optimizer_id``; ``duplicate`` > 0 (a second racer of the
    same optimizer) picks another shape than the first's."""
    own = OPTIMIZER_MARKERS.get(optimizer_id)
    if duplicate <= 0 and own is not None:
        return own
    extras = [m for m in _EXTRA_MARKERS if m != own]
    return extras[(sum(map(ord, optimizer_id)) + duplicate) % len(extras)]


#: Colours of the outcome words (engine.landscape.status ids), by meaning: green is a good end,
#: red an error, teal an escape downhill (the good outcome on a saddle), amber "not there
#: yet", grey "no outcome"; one set readable on a light base, one on a dark base.
STATUS_COLORS: dict[bool, dict[str, str]] = {
    False: {"converged": "#1b7a2e", "diverged": "#c62828", "escaped": "#00695c",
            "not_converged": "#8a5a00", "undefined": "#6b6b6b"},
    True: {"converged": "#7ddc8f", "diverged": "#ff7b72", "escaped": "#5fd3c4",
           "not_converged": "#f0b85a", "undefined": "#a0a0a0"},
}


@dataclass(frozen=True)
class Theme:
    """Colours for one theme (plots and panels)."""

    name: str
    background: str
    foreground: str
    grid_alpha: float
    outline: str  # drawn under trails so they read on any colour map
    colormap: str  # pyqtgraph colour-map name for the surface


LIGHT = Theme("light", "#ffffff", "#202020", 0.25, "#000000", "viridis")
DARK = Theme("dark", "#15171c", "#e8e8e8", 0.25, "#000000", "viridis")
THEMES = {"light": LIGHT, "dark": DARK}
