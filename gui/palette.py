"""Colours, marker shapes and themes shared by every view: one look per racer, everywhere.

A racer is told apart by three cues at once, so that nobody depends on colour alone (about
8% of boys have a colour-vision deficiency) and a projector that washes colours out still
shows who is who:

* its **marker shape** says which optimizer it is (Adam is always a star, SGD a circle), in
  the race, the side plots, the legends, the MNIST tab and every export;
* its **colour** comes from :data:`RACER_COLORS`, eight colours chosen so that every pair
  stays at least ΔE₀₀ 10 apart for normal vision and under simulated protanopia,
  deuteranopia and tritanopia (tests/test_colour_vision.py; the Okabe–Ito set plus a
  mauve). Each optimizer prefers one of them; a racer takes its optimizer's colour when no
  other racer has it, else the first free one;
* its **line dash** separates racers once all eight colours are taken.

Categories that are not racers (which minimum a map cell reached, a cell's outcome) use
their own colours, which no racer uses (:data:`MINIMUM_COLORS`, :data:`CELL_COLORS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: The racer palette, in the order free colours are handed out.
RACER_COLORS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#9F6080",  # mauve
    "#F0E442",  # yellow (last: pale on a white plot)
)
#: Each optimizer's preferred colour (an index into RACER_COLORS). The lesson's four (SGD,
#: Momentum, RMSProp, Adam) get blue, vermillion, green and purple: at least ΔE₀₀ 12 apart
#: under every simulated deficiency and 37 for normal vision.
PREFERRED_COLOR: dict[str, int] = {
    "sgd": 1, "momentum": 3, "nesterov": 5, "rmsprop": 2, "adagrad": 4, "adadelta": 7,
    "adam": 0, "amsgrad": 6, "adamw": 5, "adamax": 4, "nadam": 6, "lion": 7,
}
#: Each optimizer's marker (pyqtgraph symbol names, and two drawn here: "plus", "bowtie").
MARKERS: dict[str, str] = {
    "sgd": "o", "momentum": "s", "nesterov": "t1", "rmsprop": "d", "adagrad": "t",
    "adadelta": "t2", "adam": "star", "amsgrad": "p", "adamw": "h", "adamax": "t3",
    "nadam": "plus", "lion": "bowtie",
}
#: Marker names as words, for legends and tooltips.
MARKER_NAMES: dict[str, str] = {
    "o": "circle", "s": "square", "t1": "triangle up", "d": "diamond", "t": "triangle down",
    "t2": "triangle right", "star": "star", "p": "pentagon", "h": "hexagon",
    "t3": "triangle left", "plus": "plus", "bowtie": "bow tie",
}
#: Line dashes in the order racers get them (Qt.PenStyle values: solid, dash, dot, dash-dot,
#: dash-dot-dot), as plain ints so this module needs no Qt.
DASHES: tuple[int, ...] = (1, 2, 3, 4, 5)
DASH_NAMES = ("solid", "dashed", "dotted", "dash-dot", "dash-dot-dot")

#: Which known minimum a map cell reached: six colours (the most minima a catalog surface has)
#: far from every racer colour and from one another, also under colour-vision deficiencies.
MINIMUM_COLORS: tuple[str, ...] = (
    "#BFDF80", "#6080FF", "#BF9F9F", "#60DFFF", "#008040", "#DF009F",
)
#: A map cell's outcome when its colour does not show a number or a minimum.
CELL_COLORS: dict[str, str] = {
    "not_converged": "#D9D9D9",  # light grey: still on its way at the end of the budget
    "converged": "#7F7F7F",      # grey: arrived, but at no known minimum (a stationary point)
    "diverged": "#202020",       # near black, hatched: blew up
    "escaped": "#FFFFFF",        # white, hatched: left the map downhill
    "undefined": "#A0A0A0",      # grey, hatched: f is not defined there
}

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
class RacerStyle:
    """How one racer looks everywhere: colour (hex), marker (symbol name), dash (Qt style)."""

    color: str
    marker: str
    dash: int = 1

    def describe(self) -> str:
        """``"blue star, solid line"``-like words for tooltips."""
        dash = DASH_NAMES[DASHES.index(self.dash)] if self.dash in DASHES else "solid"
        return f"{MARKER_NAMES.get(self.marker, self.marker)}, {dash} line"


def marker_for(optimizer_id: str) -> str:
    """The marker of ``optimizer_id`` (a circle for an unknown id)."""
    return MARKERS.get(optimizer_id, "o")


def color_for(optimizer_id: str) -> str:
    """The preferred colour of ``optimizer_id`` (its colour when it races alone)."""
    return RACER_COLORS[PREFERRED_COLOR.get(optimizer_id, 0)]


def style_for(optimizer_id: str, taken: Iterable[RacerStyle] = ()) -> RacerStyle:
    """The style of a racer joining others that have the styles ``taken``.

    Its optimizer's preferred colour when no racer has it, else the first colour of
    :data:`RACER_COLORS` no racer has (once all eight are taken, any free at its dash). Its
    dash is the first of :data:`DASHES` fewest racers of the same optimizer have: racers of one
    optimizer share a marker, and three SGD circles on one map were told apart by colour
    alone. No two racers share colour and dash. Racers that stay keep their styles (nothing
    is reassigned when one leaves).
    """
    taken = list(taken)
    marker = marker_for(optimizer_id)
    used = {(s.color, s.dash) for s in taken}
    colours_used = {s.color for s in taken}
    dashes_used = [s.dash for s in taken if s.marker == marker]
    preferred = PREFERRED_COLOR.get(optimizer_id, 0)
    order = [RACER_COLORS[preferred],
             *(c for i, c in enumerate(RACER_COLORS) if i != preferred)]
    colours = sorted(order, key=lambda c: c in colours_used)  # stable: free ones first
    for dash in sorted(DASHES, key=dashes_used.count):  # the least used first
        for colour in colours:
            if (colour, dash) not in used:
                return RacerStyle(colour, marker, dash)
    return RacerStyle(RACER_COLORS[preferred], marker, DASHES[0])


def styles_for(optimizer_ids: Iterable[str]) -> list[RacerStyle]:
    """Styles for racers joining one after another in this order."""
    styles: list[RacerStyle] = []
    for optimizer_id in optimizer_ids:
        styles.append(style_for(optimizer_id, styles))
    return styles


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
