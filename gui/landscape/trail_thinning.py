"""Which segments of a racer's trail are worth stroking, so drawing stays bounded.

Qt's antialiased stroker takes 0.3-0.7 µs per pixel of a 5-px line. A trail of 100,000 steps
is cheap when it converges (its steps pile up on one pixel), but SGD with noise jitters around
its minimum for ever, and a noisy trail that crosses the map each step is 3·10⁷ px long: it
held the GUI thread for minutes. Two rules bound the work:

1. **Covered ground is not drawn twice.** The screen is cut into cells of :data:`CELL_PX`. A
   short segment (under :data:`JUMP_PX`) is stroked when one of its ends is the first visit
   of its cell, or when a point between (at 1/4, 1/2, 3/4) lies in a cell not visited yet. A
   jitter inside ground already drawn adds nothing: what is skipped lies under the strokes
   already there. Long segments are always drawn.
2. **A budget for what is left.** All trails together are stroked over at most
   :data:`TRAILS_DRAW_PX` of screen. Trails under an equal share are drawn whole and give the
   rest to the longer ones; a trail still too long is drawn from the step where its latest
   stretch within its share begins (only chaotic trails get there), and the view says so.

Work per animation frame grows with the steps added since the last frame, not with the trail:
:class:`Thinned` remembers what it decided, until the view's scale or the trail changes.
"""

from __future__ import annotations

import itertools

import numpy as np

CELL_PX = 3.0  #: the cell a trail's first visit is drawn for, in screen pixels
JUMP_PX = 24.0  #: segments longer than this are always drawn
TRAILS_DRAW_PX = 60_000.0  #: all trails' stroked screen length together (about 80 map widths)
_GENERATIONS = itertools.count()
_CELL_LIMIT = 2**30  #: cell coordinates are clamped to ±this (keys stay unique in int64)


def _keys(device: np.ndarray) -> np.ndarray:
    """One int64 per screen cell of each point (device pixels, (k, 2))."""
    cells = np.clip(np.floor(device / CELL_PX), -_CELL_LIMIT, _CELL_LIMIT).astype(np.int64)
    return (cells[:, 0] << 32) + cells[:, 1]


class Thinned:
    """The segments worth drawing of one trail that grows a few steps at a time."""

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, view) -> None:
        self.generation = next(_GENERATIONS)  #: new at each start, unique among trails
        self._view = view
        self._count = 0
        self._first: np.ndarray | None = None
        self._last: np.ndarray | None = None
        self._last_new = False
        self._visited = np.empty(0, dtype=np.int64)
        self.drawn = np.empty(0, dtype=bool)  #: per segment k (point k to k + 1)
        self.lengths = np.empty(0)  #: per segment, on screen (pixels)

    def update(self, points: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> None:
        """Bring :attr:`drawn` and :attr:`lengths` up to ``points`` (data coordinates; pixels
        are ``points * scale + offset``). Starts over when the scale or the trail changed."""
        view = (float(scale[0]), float(scale[1]), float(offset[0]), float(offset[1]))
        n = len(points)
        same = (view == self._view and 0 < self._count <= n
                and np.array_equal(points[0], self._first)
                and np.array_equal(points[self._count - 1], self._last))
        if not same:
            self._reset(view)
        if n <= self._count:
            return
        start = max(self._count - 1, 0)
        device = points[start:] * scale + offset
        keys = _keys(device)
        unique, first_at = np.unique(keys, return_index=True)
        fresh = ~np.isin(unique, self._visited, assume_unique=True)
        new = np.zeros(len(device), dtype=bool)
        new[first_at[fresh]] = True
        if self._count > 0:
            new[0] = self._last_new  # decided with the chunk before
        lengths = np.hypot(*np.diff(device, axis=0).T)
        # A short segment between covered cells is skipped only when the ground between is
        # covered too by then: its points at 1/4, 1/2 and 3/4 lie in cells visited already.
        known = np.concatenate([self._visited, unique[fresh]])
        since = np.concatenate([np.full(len(self._visited), -1), first_at[fresh]])
        order = np.argsort(known)
        known, since = known[order], since[order]
        between_covered = np.ones(len(lengths), dtype=bool)
        for t in (0.25, 0.5, 0.75):
            inner = device[:-1] + t * (device[1:] - device[:-1])
            inner_keys = _keys(inner)
            at = np.minimum(np.searchsorted(known, inner_keys), len(known) - 1)
            seen = (known[at] == inner_keys) & (since[at] <= np.arange(1, len(device)))
            between_covered &= seen
        self._visited = known
        drawn = (lengths > JUMP_PX) | new[1:] | new[:-1] | ~between_covered
        self.drawn = np.concatenate([self.drawn, drawn])
        self.lengths = np.concatenate([self.lengths, lengths])
        self._count, self._last_new = n, bool(new[-1])
        self._first, self._last = points[0].copy(), points[-1].copy()

    def drawn_length(self) -> float:
        return float(self.lengths[self.drawn].sum())


def share(lengths: list[float], total: float = TRAILS_DRAW_PX) -> float:
    """The most screen length any one trail is drawn over, so that the trails drawn together
    stay within ``total``: trails shorter than an equal share give theirs to the longer ones."""
    ordered = sorted(lengths)
    left = total
    for n, length in enumerate(ordered):
        equal = left / (len(ordered) - n)
        if length > equal:
            return equal
        left -= length
    return float("inf")


def to_draw(drawn: np.ndarray, lengths: np.ndarray, most: float = float("inf")
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """The points to put in the trail's path and which of them join the next: ``(index,
    connect, first)``. The last segment is always drawn (it reaches the racer's marker).
    Segments are dropped from the start while the drawn length is over ``most``; ``first``
    is the first step drawn then (0 when the trail is drawn whole)."""
    drawn = drawn.copy()
    if len(drawn):
        drawn[-1] = True
    cut = float(lengths[drawn].sum()) > most
    if cut:
        from_end = np.cumsum(np.where(drawn, lengths, 0.0)[::-1])
        fits = max(int(np.searchsorted(from_end, most, side="right")), 1)
        drawn[:len(drawn) - fits] = False
    ends = np.zeros(len(drawn) + 1, dtype=bool)
    ends[:-1] |= drawn
    ends[1:] |= drawn
    index = np.flatnonzero(ends)
    connect = np.zeros(len(index), dtype=bool)
    if len(index) > 1:
        connect[:-1] = (np.diff(index) == 1) & drawn[index[:-1]]
    return index, connect, int(index[0]) if cut and len(index) else 0


CHUNK_STEPS = 64  #: a stroked run ends after 64 of the points drawn…
CHUNK_PX = 150.0  #: …and every 150 px of screen length


def runs(index: np.ndarray, connect: np.ndarray, lengths: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the points to draw (:func:`to_draw`) into runs stroked one by one: ``(first,
    last, along)``, positions in ``index`` (inclusive) and the screen length drawn before each
    run (for the dash pattern to go on where the run before stopped).

    Qt fills a stroked path as one polygon, and its cost grows faster than the path: 170
    crossing segments took 247 ms as one path and 18 ms one by one; an 8,000-step walk 51 ms
    and 13 ms in runs of 64. A run may hold breaks (skipped segments). Run boundaries depend
    only on what came before, so as a trail grows its earlier runs stay the same and can be
    kept.
    """
    count = len(index)
    if count < 2:
        empty = np.empty(0, dtype=int)
        return empty, empty, np.empty(0)
    segment = np.where(connect[:-1], lengths[np.minimum(index[:-1], len(lengths) - 1)], 0.0)
    along = np.concatenate([[0.0], np.cumsum(segment)])
    start = np.zeros(count, dtype=bool)
    start[0] = True
    start[1:] |= np.floor(along[1:] / CHUNK_PX) != np.floor(along[:-1] / CHUNK_PX)
    start[CHUNK_STEPS::CHUNK_STEPS] = True
    first = np.flatnonzero(start)
    nxt = np.append(first[1:], count)
    # A run goes on to the next run's first point when the two are joined.
    last = np.where((nxt < count) & connect[np.minimum(nxt, count) - 1], nxt, nxt - 1)
    keep = last > first
    return first[keep], last[keep], along[first[keep]]
