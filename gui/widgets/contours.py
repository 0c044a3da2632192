"""Contour lines of a sampled field, traced in compiled code.

contourpy (matplotlib's tracer) draws every line of a 160 x 160 surface in a few milliseconds;
pyqtgraph's ``isocurve`` traces in Python and held the GUI thread 0.15-0.6 s per surface
(``bench/gui_limits.py``). NaN and infinite samples are left out (no line crosses them).
"""

from __future__ import annotations

import numpy as np
from contourpy import LineType, contour_generator


def contour_lines(values: np.ndarray, levels) -> list[np.ndarray]:
    """Every contour line of ``values[i, j]`` (sample ``i`` along x, ``j`` along y) at each
    of ``levels``, as an ``(n, 2)`` array of fractional sample indices ``(i, j)``, n ≥ 2."""
    z = np.ma.masked_invalid(np.asarray(values, dtype=float).T)
    tracer = contour_generator(z=z, line_type=LineType.Separate)
    return [line for level in levels for line in tracer.lines(float(level)) if len(line) > 1]
