"""The landscape side's settings and limits, each described once (:class:`engine.params.Param`).

The race tab's step budget, the racer count, the steps of a headless run or a map, a map's
grid, gradient noise and a sweep's rate count: the engine checks them here, the command line
takes its defaults and limits from here, the scenario loader checks files against them and
the GUI's editors get their ranges from them. One cap per fact: what a file may hold, the
app can show, and what the app can show, Save can write.
"""

from __future__ import annotations

from engine.params import Param

MAX_STEPS = 100_000  #: the most steps any path runs (race budget, trajectory, map, sweep)
MAX_RACERS = 20  #: the most optimizers racing at once (and trained in one MNIST session)
MAX_GRID = 1024  #: the most cells per side of a map, and rates in a sweep

STEPS = Param("steps", "int", 2000, 1, MAX_STEPS, scale="log",
              doc="Step budget: the most steps each optimizer takes.")
RUN_STEPS = Param("steps", "int", 500, 1, MAX_STEPS, scale="log",
                  doc="Steps of a headless run, a map or a sweep.")
RACERS = Param("racers", "int", 4, 1, MAX_RACERS, doc="Optimizers racing at once.")
GRID = Param("grid", "int", 128, 2, MAX_GRID, doc="Cells per side of a map.")
SWEEP_RATES = Param("count", "int", 41, 2, MAX_GRID, doc="Learning rates in a sweep.")
NOISE_SCALE = Param("scale", "float", 0.0, 0.0, 100.0, none_text="off",
                    doc="Standard deviation of Gaussian noise added to each gradient coordinate "
                        "(like a minibatch's); 0 = exact gradients.")
NOISE_SEED = Param("seed", "int", 0, 0, 2**64 - 1,
                   doc="The same seed gives the same noise, run after run.")
COORDINATE = Param("x", "float", 0.0, -1e300, 1e300,
                   doc="A start coordinate (a scenario's start must lie in the box paths run in).")
