"""Log axes that read 10ⁿ: tick labels that keep apart on short plots, shared by every plot."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

LOG_FLOOR = 1e-16  #: smallest value drawn on a log axis (zero and below are clipped to it)
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def log_tick_label(exponent_value: float) -> str:
    """Label of the log-axis tick at 10**``exponent_value``.

    ``0.01`` … ``100`` are written out, ``10⁻⁶`` or ``5·10³`` beyond; minor ticks other than
    2·10ⁿ and 5·10ⁿ get "", so labels on a short plot keep apart.
    """
    exponent = int(np.floor(exponent_value + 1e-9))
    mantissa = round(10 ** (exponent_value - exponent))
    if mantissa == 10:
        exponent, mantissa = exponent + 1, 1
    if mantissa not in (1, 2, 5):
        return ""
    if -2 <= exponent <= 2:
        return f"{mantissa * 10.0 ** exponent:g}"
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa}·{power}"


class DecadeAxis(pg.AxisItem):
    """Log-axis labels by :func:`log_tick_label` (pyqtgraph's overlap on short plots)."""

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        return [log_tick_label(v) for v in np.asarray(values, dtype=float)]
