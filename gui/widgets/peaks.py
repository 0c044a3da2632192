"""A long curve as the extremes of each stretch of it: what a plot can show, at a fraction of
the work.

A side plot is a few hundred pixels wide; at step 100,000 each of its 60 curves handed
pyqtgraph 100,000 points, which it took the log of, checked and downsampled on every new
value: seeking 20 racers to step 100,000 spent 70 ms of the GUI thread there. :func:`peaks`
keeps, of each of at most :data:`BINS` equal stretches, its least and greatest value (as
pyqtgraph's own "peak" downsampling does per pixel, so the picture is the same) and the last
point exactly, for the curve's end.
"""

from __future__ import annotations

import math

import numpy as np

BINS = 4096  #: stretches a long curve is cut into: finer than a 3000-px export's pixels
FROM = 2 * BINS + 1  #: curves with more points than this are reduced


def peaks(x: np.ndarray, y: np.ndarray, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` reduced to each stretch's first ``x`` twice, with its least then greatest
    ``y``, and the last point; unchanged when at most :data:`FROM` points long. ``y`` is
    finite (a diverged curve has no points after its last finite value)."""
    n = len(y)
    if n <= max(FROM, 2 * bins + 1):
        return x, y
    size = math.ceil(n / bins)
    full = (n // size) * size
    stretches = y[:full].reshape(-1, size)
    low, high = stretches.min(axis=1), stretches.max(axis=1)
    starts = x[:full:size]
    if full < n:  # the shorter last stretch
        low = np.append(low, y[full:].min())
        high = np.append(high, y[full:].max())
        starts = np.append(starts, x[full])
    xs = np.empty(2 * len(starts) + 1, dtype=np.result_type(x, float))
    ys = np.empty(2 * len(starts) + 1, dtype=np.result_type(y, float))
    xs[:-1:2], xs[1:-1:2], xs[-1] = starts, starts, x[-1]
    ys[:-1:2], ys[1:-1:2], ys[-1] = low, high, y[-1]
    return xs, ys
