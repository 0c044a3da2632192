"""A step axis whose long numbers stay short: 20k, 40k, ... 100k; 10M, 20M, ... 48M.

The side plots' column is narrow (a third of a 1280-px projector): with a 100,000-step
budget pyqtgraph put "20000 40000 60000 80000" under it, and at presentation mode's 13 pt
the labels ran into one another ("2000040000600008000"). On an axis that reaches 10,000,
every tick reads in thousands ("20k", "12.5k"), and from a million on in millions ("48M":
MNIST's 1,000 epochs of batch 1 in a schedule's plot); shorter runs keep their digits.
"""

from __future__ import annotations

import pyqtgraph as pg

#: (the largest tick from which labels read in a unit, the unit, its suffix), largest first
UNITS = ((1_000_000, 1_000_000, "M"), (10_000, 1000, "k"))
COMPACT_FROM = UNITS[-1][0]  #: the largest tick from which whole thousands read "20k"


def step_label(value: float, largest: float) -> str:
    """The label of one tick at ``value`` on an axis whose largest tick is ``largest``."""
    for start, unit, suffix in UNITS:
        if largest >= start and value != 0:
            return f"{value / unit:g}{suffix}"
    return f"{value:g}" if value != int(value) else str(int(value))


class StepAxis(pg.AxisItem):
    """A bottom axis of step numbers with compact labels for long runs."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph override
        largest = max((abs(v * scale) for v in values), default=0)
        return [step_label(v * scale, largest) for v in values]
