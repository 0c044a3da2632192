"""The anatomy of a racer's step at any point of the timeline.

A :class:`TrackAnatomy` replays one racer of a :class:`engine.landscape.race.Race` exactly as its
:class:`engine.landscape.simulate.Stepper` ran it (the same gradients, noise draws and optimizer
state, from the same arrays), keeping a checkpoint every :data:`CHECKPOINT_EVERY` steps so that
scrubbing the timeline costs at most that many steps, and decomposes the update taken from
the point shown at a step with :func:`engine.optimizers.anatomy.decompose`. NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.landscape.race import Track
from engine.optimizers.anatomy import StepAnatomy, decompose

CHECKPOINT_EVERY = 64  #: steps between saved states of the replay


class TrackAnatomy:
    """Step anatomies of one racer's run (``track``), step by step.

    Parameters
    ----------
    track
        The racer's computed run; its racer's schedule and noise are replayed too.
    """

    def __init__(self, track: Track) -> None:
        stepper = track.stepper
        self.track = track
        self.surface, self.optimizer = stepper.surface, stepper.optimizer
        self.schedule = track.racer.schedule
        noise = track.racer.noise
        self.noise = noise if noise is not None and noise.scale > 0 else None
        self.start = np.array(stepper.paths[0, :1], dtype=np.float64)  # (1, 2), as the stepper
        with np.errstate(all="ignore"):
            gradient = self.surface.grad(self.start)
        #: step -> (weights, true gradient, optimizer state) at that step
        self._saved: dict[int, tuple[np.ndarray, np.ndarray, Any]] = {
            0: (self.start, gradient, self.optimizer.init(self.start))}

    def last_step(self) -> int:
        """The last step whose update can be shown: the last point the path reached."""
        return max(self.track.last_index(), -1)

    def _state_at(self, step: int) -> tuple[np.ndarray, np.ndarray, Any]:
        known = max(k for k in self._saved if k <= step)
        x, gradient, state = self._saved[known]
        with np.errstate(all="ignore"):
            for k in range(known, step):
                x, state = self.optimizer.update(self._seen(gradient, k), state, x)
                gradient = self.surface.grad(x)
                if (k + 1) % CHECKPOINT_EVERY == 0:
                    self._saved[k + 1] = (x, gradient, state)
        return x, gradient, state

    def _seen(self, gradient: np.ndarray, step: int) -> np.ndarray:
        """The gradient the optimizer sees at ``step``: the true one plus the racer's noise."""
        return gradient if self.noise is None else gradient + self.noise.draw(self.start, step)

    def at(self, step: int) -> StepAnatomy | None:
        """The terms of the update from the point at ``step`` to the next one.

        None before the start, past the last point the path reached, or where the surface
        has no finite gradient. At the end of the budget it is the step the racer would take
        next; on a path that left the map, its last point's update is the step that left.
        """
        step = int(step)
        if step < 0 or step > self.last_step():
            return None
        x, gradient, state = self._state_at(step)
        if not np.all(np.isfinite(gradient)):
            return None
        with np.errstate(all="ignore"):
            return decompose(self.optimizer, self._seen(gradient, step), state, x, self.schedule,
                             true_gradient=gradient if self.noise is not None else None)
