"""What of a long path is worth drawing: a bounded number of points, the same picture.

A racer's trail of 100,000 steps has far more points than the view has pixels; painting them
all (antialiased, outlined) took the GUI thread hundreds of milliseconds per frame and grew
with the step budget. :func:`drawn` keeps the points that move the trail by more than a
2048th of the view (runs of points inside one such cell collapse to their first point; the
first point always stays), and at most :data:`MOST` of them: past that, an even stride. The
last :data:`TAIL` points, around the marker, are always drawn exactly.
"""

from __future__ import annotations

import math

import numpy as np

CELLS = 2048  #: cells per side of the view a point must leave to be drawn
MOST = 8192  #: the most points drawn per trail
TAIL = 1024  #: the last points, always drawn exactly


def drawn_index(points: np.ndarray, domain: tuple[float, float, float, float]) -> np.ndarray:
    """Which of ``points`` (k, 2) to draw over the view ``domain``, as their step numbers
    (indices into ``points``); all of them if short."""
    n = len(points)
    if n <= MOST:
        return np.arange(n)
    x0, x1, y0, y1 = domain
    cell = max(x1 - x0, y1 - y0) / CELLS
    with np.errstate(all="ignore"):
        grid = np.floor(points[:n - TAIL] / cell)
    keep = np.empty(n - TAIL, dtype=bool)
    keep[0] = True
    keep[1:] = np.any(grid[1:] != grid[:-1], axis=1)
    kept = np.flatnonzero(keep)
    room = MOST - TAIL
    if len(kept) > room:
        kept = kept[:: math.ceil(len(kept) / room)]
    return np.concatenate([kept, np.arange(n - TAIL, n)])


def drawn(points: np.ndarray, domain: tuple[float, float, float, float]) -> np.ndarray:
    """The points of ``points`` (k, 2) to draw over the view ``domain``; unchanged if short."""
    return points if len(points) <= MOST else points[drawn_index(points, domain)]
