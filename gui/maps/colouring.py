"""What a map's colours say: an RGBA image and the legend that names every colour in it.

A map cell shows a number only where the number means what it says: steps to converge only
where the path converged, the final loss only where it stayed on the map, which minimum only
where it arrived at a known one. Every other cell shows its outcome in a colour of its own
(:data:`gui.palette.CELL_COLORS`, none of them a racer's), named in the legend with its
count, so "blank" never hides two different stories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from engine.landscape import maps, simulate, status
from gui.palette import CELL_COLORS, MINIMUM_COLORS

#: What a map can be coloured by, per kind of map (only what the map can show is offered).
COLOURINGS = {
    "starts": (("steps to converge", "steps"), ("minimum reached", "minimum"),
               ("final loss", "loss")),
    "hyper": (("steps to converge", "steps"), ("final loss", "loss")),
}
HATCHED = ("diverged", "escaped", "undefined")  #: categories drawn striped as well


@dataclass(frozen=True)
class LegendEntry:
    """One colour of the map: its hex colour, whether it is hatched, its words, its count."""

    color: str
    hatched: bool
    text: str
    count: int


@dataclass(frozen=True)
class Colouring:
    """The map as an RGBA image (rows = y) with its legend and, for numbers, a colour bar."""

    rgba: np.ndarray  # (ny, nx, 4) ubyte
    hatch: np.ndarray  # (ny, nx) bool: cells drawn striped
    legend: tuple[LegendEntry, ...]
    scale: tuple[float, float] | None  # colour-bar levels (log10) for numeric colourings
    scale_label: str


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.ubyte)


def _viridis(values: np.ndarray, low: float, high: float) -> np.ndarray:
    lut = pg.colormap.get("viridis").getLookupTable(nPts=256, alpha=False)
    span = high - low if high > low else 1.0
    index = np.clip(((values - low) / span * 255).round(), 0, 255).astype(np.int64)
    return lut[index]


def colour(result: maps.StartMap | maps.HyperMap, by: str, minima: tuple = (),
           floor: float | None = None) -> Colouring:
    """Colour ``result`` by ``"steps"``, ``"minimum"`` or ``"loss"``.

    Parameters
    ----------
    result
        A start map or a hyperparameter map.
    by
        One of the values of :data:`COLOURINGS` for its kind.
    minima
        The surface's known minima (for ``"minimum"``).
    floor
        f* (the lowest known minimum) for ``"loss"``: the colours show log10(loss − f*).
    """
    codes = np.asarray(result.status)
    ny, nx = codes.shape
    rgba = np.zeros((ny, nx, 4), dtype=np.ubyte)
    rgba[..., 3] = 255
    entries: list[LegendEntry] = []
    numeric = np.zeros(codes.shape, dtype=bool)
    scale, label = None, ""
    converged = codes == simulate.CONVERGED
    if by == "steps":
        numeric = converged
        steps = np.log10(np.maximum(result.steps_to_converge, 1).astype(float))
        scale, label = _levels(steps[numeric]), "steps to converge"
        rgba[numeric, :3] = _viridis(steps[numeric], *scale)
        categories = ["not_converged", "diverged", "escaped", "undefined"]
    elif by == "minimum":
        index = np.asarray(result.minimum_index)
        for i, minimum in enumerate(minima):
            cells = converged & (index == i)
            rgba[cells, :3] = _rgb(MINIMUM_COLORS[i % len(MINIMUM_COLORS)])
            x, y = minimum.point
            entries.append(LegendEntry(MINIMUM_COLORS[i % len(MINIMUM_COLORS)], False,
                                       f"{i + 1}: minimum at ({x:.3g}, {y:.3g})",
                                       int(cells.sum())))
        elsewhere = converged & (index < 0)
        rgba[elsewhere, :3] = _rgb(CELL_COLORS["converged"])
        if elsewhere.any():
            entries.append(LegendEntry(CELL_COLORS["converged"], False,
                                       "converged, at no known minimum", int(elsewhere.sum())))
        categories = ["not_converged", "diverged", "escaped", "undefined"]
    elif by == "loss":
        loss = np.asarray(result.final_loss, dtype=np.float64)
        numeric = (codes == simulate.CONVERGED) | (codes == simulate.NOT_CONVERGED)
        base = floor if floor is not None else float(loss[numeric].min()) if numeric.any() else 0
        shown = np.log10(np.maximum(loss - base, 1e-300) + 1e-12 * max(1.0, abs(base)))
        scale = _levels(shown[numeric])
        label = "final loss − f*" if floor is not None else "final loss − lowest"
        rgba[numeric, :3] = _viridis(shown[numeric], *scale)
        categories = ["diverged", "escaped", "undefined"]
    else:
        raise ValueError(f"colour by: expected steps, minimum or loss, got {by!r}")
    hatch = np.zeros(codes.shape, dtype=bool)
    for name in categories:
        cells = codes == status.code(name)
        rgba[cells, :3] = _rgb(CELL_COLORS[name])
        if name in HATCHED:
            hatch |= cells
        if cells.any() or name == "not_converged":
            words = status.WORDS[name]
            if name == "not_converged":
                words = f"not converged in {result.steps} steps"
            entries.append(LegendEntry(CELL_COLORS[name], name in HATCHED, words,
                                       int(cells.sum())))
    return Colouring(rgba, hatch, tuple(entries), scale, label)


def _levels(values: np.ndarray) -> tuple[float, float]:
    if values.size == 0:
        return (0.0, 1.0)
    low, high = float(values.min()), float(values.max())
    return (low, high) if high > low else (low, low + 1.0)


def hatch_overlay(hatch: np.ndarray, cell_pixels: int = 6) -> np.ndarray:
    """RGBA stripes over the hatched cells, ``cell_pixels`` per cell (at most 1024 per side),
    transparent elsewhere; rows = y."""
    ny, nx = hatch.shape
    factor = max(1, min(cell_pixels, 1024 // max(ny, nx)))
    big = np.repeat(np.repeat(hatch, factor, axis=0), factor, axis=1)
    i, j = np.meshgrid(np.arange(big.shape[0]), np.arange(big.shape[1]), indexing="ij")
    stripe = ((i + j) // 2) % 4 == 0
    rgba = np.zeros((*big.shape, 4), dtype=np.ubyte)
    rgba[..., :3] = 128
    rgba[..., 3] = np.where(big & stripe, 200, 0)
    return rgba
