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


def moves(points: np.ndarray, domain: tuple[float, float, float, float],
          start: int = 0) -> np.ndarray:
    """The indices ``i >= start`` of ``points`` (k, 2) that lie in another cell than the point
    before (and 0, the first point, when ``start`` is 0): the points :func:`drawn_index`
    keeps before its stride. Each depends on two points only, so a path that grew is worked
    out for its new points alone."""
    x0, x1, y0, y1 = domain
    cell = max(x1 - x0, y1 - y0) / CELLS
    first = max(start - 1, 0)
    with np.errstate(all="ignore"):
        grid = np.floor(points[first:] / cell)
    moved = first + 1 + np.flatnonzero(np.any(grid[1:] != grid[:-1], axis=1))
    return np.concatenate([[0], moved]) if start == 0 else moved


def drawn_index(points: np.ndarray, domain: tuple[float, float, float, float],
                moved: np.ndarray | None = None) -> np.ndarray:
    """Which of ``points`` (k, 2) to draw over the view ``domain``, as their step numbers
    (indices into ``points``); all of them if short. ``moved``: :func:`moves` of these
    points (or of more of the same path), if known."""
    n = len(points)
    if n <= MOST:
        return np.arange(n)
    if moved is None:
        moved = moves(points[:n - TAIL], domain)
    kept = moved[:np.searchsorted(moved, n - TAIL)]
    room = MOST - TAIL
    if len(kept) > room:
        kept = kept[:: math.ceil(len(kept) / room)]
    return np.concatenate([kept, np.arange(n - TAIL, n)])


def drawn(points: np.ndarray, domain: tuple[float, float, float, float]) -> np.ndarray:
    """The points of ``points`` (k, 2) to draw over the view ``domain``; unchanged if short."""
    return points if len(points) <= MOST else points[drawn_index(points, domain)]
