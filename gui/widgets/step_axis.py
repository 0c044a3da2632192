"""A step axis whose long numbers stay short: 20k, 40k, ... 100k.

The side plots' column is narrow (a third of a 1280-px projector): with a 100,000-step
budget pyqtgraph put "20000 40000 60000 80000" under it, and at presentation mode's 13 pt
the labels ran into one another ("2000040000600008000"). On an axis that reaches 10,000,
every tick reads in thousands ("20k", "12.5k"); shorter runs keep their digits.
"""

from __future__ import annotations

import pyqtgraph as pg

COMPACT_FROM = 10_000  #: the largest tick from which whole thousands read "20k"


def step_label(value: float, compact: bool) -> str:
    """The label of one tick at ``value`` (``compact``: the axis reaches :data:`COMPACT_FROM`)."""
    if compact and value != 0:
        return f"{value / 1000:g}k"
    return f"{value:g}" if value != int(value) else str(int(value))


class StepAxis(pg.AxisItem):
    """A bottom axis of step numbers with compact labels for long runs."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph override
        compact = max((abs(v * scale) for v in values), default=0) >= COMPACT_FROM
        return [step_label(v * scale, compact) for v in values]
