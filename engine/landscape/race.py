"""The race model: several optimizers on one surface, computed ahead of playback in chunks.

A :class:`Race` owns one :class:`engine.landscape.simulate.Stepper` per racer (one start each, with
gradients and velocities recorded for the internals view). The GUI asks ``ensure(step)``
before showing a step; a changed setting rebuilds only the racer it touches, from the start,
so playback can go on while the path is recomputed. NumPy only: no Qt here.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from engine import optimizers
from engine.landscape import simulate, status
from engine.landscape.surfaces import Surface
from engine.optimizers import schedules
from engine.optimizers.schedules import Schedule
from engine.params import short_number

CHUNK = 256  #: steps computed per racer per ``ensure`` call, ahead of what is shown
#: Steps per call for a racer whose steps run in a compiled kernel, where a small chunk is
#: mostly the call's own cost: 8 µs a step in chunks of 16, 0.16-0.25 µs in chunks of
#: 1,024-2,048 (one call about 0.25 ms; NumPy's steps cost about 100 µs each).
COMPILED_CHUNK = 1024


def _chunk(stepper: simulate.Stepper, chunk: int) -> int:
    return max(chunk, COMPILED_CHUNK) if stepper.compiled else chunk
#: Short names of settings in racer labels ("Adam · lr 0.56 · β1 0.8").
SHORT_NAMES = {"learning_rate": "lr", "momentum": "μ", "beta_1": "β1", "beta_2": "β2",
               "rho": "ρ", "epsilon": "ε", "weight_decay": "wd", "clipnorm": "clip",
               "clipvalue": "clip value", "global_clipnorm": "global clip",
               "initial_accumulator_value": "acc₀", "nesterov": "nesterov",
               "centered": "centered", "amsgrad": "amsgrad"}



@dataclass(frozen=True)
class Racer:
    """One contestant: an optimizer id with Keras arguments, and an optional own start.

    ``schedule`` (a Keras-exact learning-rate schedule) replaces the constant
    ``learning_rate`` setting when given; ``noise`` adds reproducible Gaussian noise to the
    gradients the optimizer sees (the views still draw the true gradient).
    """

    key: str
    optimizer_id: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    start: tuple[float, float] | None = None
    schedule: Schedule | None = None
    noise: simulate.GradientNoise | None = None

    def optimizer(self) -> optimizers.Optimizer:
        """The validated optimizer (raises ``HyperParamError`` for bad settings)."""
        return optimizers.get(self.optimizer_id, learning_rate_schedule=self.schedule,
                              **self.settings)

    def learning_rates(self, steps: int) -> np.ndarray:
        """The effective learning rate at steps ``0 .. steps-1`` (the schedule's, or constant)."""
        if self.schedule is not None:
            return schedules.values(self.schedule, steps)
        rate = self.optimizer().config["learning_rate"]
        return np.full(steps, float(rate))

    def changes(self) -> list[tuple[str, str]]:
        """``(short name, value)`` of what differs from the registry defaults, in registry
        order, then the schedule and the noise."""
        spec = optimizers.spec(self.optimizer_id)
        defaults = spec.defaults()
        changed = []
        for hyperparam in spec.hyperparams:
            name = hyperparam.name
            if name not in self.settings or self.settings[name] == defaults.get(name):
                continue
            if name == "learning_rate" and self.schedule is not None:
                continue
            value = self.settings[name]
            text = short_number(value) if isinstance(value, float) else str(value).lower()
            changed.append((SHORT_NAMES.get(name, name), text))
        if self.schedule is not None:
            changed.append((self.schedule.id.replace("_", " "), ""))
        if self.noise is not None and self.noise.scale > 0:
            changed.append(("noise", short_number(self.noise.scale)))
        return changed

    def label(self, most: int = 2) -> str:
        """A short name: the optimizer and up to ``most`` changed settings, e.g.
        ``"Adam · lr 0.56"``; the rest show as "…" (:meth:`full_label` has them all)."""
        spec = optimizers.spec(self.optimizer_id)
        parts = [f"{name} {value}".strip() for name, value in self.changes()]
        if len(parts) > most:
            parts = [*parts[:most], "…"]
        return " · ".join([spec.name, *parts])

    def full_label(self) -> str:
        """The optimizer and every changed setting, for tooltips and tables."""
        spec = optimizers.spec(self.optimizer_id)
        parts = [f"{name} {value}".strip() for name, value in self.changes()]
        return " · ".join([spec.name, *parts])


@dataclass
class Track:
    """A racer's computed trajectory (what the views read)."""

    racer: Racer
    stepper: simulate.Stepper
    #: per arrow kind: (stepper, rows looked at, the longest found) (see :meth:`longest`)
    _longest: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def computed(self) -> int:
        """Last step index with data."""
        return self.stepper.step

    @property
    def complete(self) -> bool:
        """True when the whole budget is computed, so the outcome is known."""
        return self.stepper.complete

    def last_index(self) -> int:
        """Last meaningful row: the last point in the box of a stopped path, or the last
        computed step."""
        return self.stepper.last_index(0)

    def at(self, step: int) -> int:
        """Row index to show at playback ``step`` (clamped to where the path stopped)."""
        return max(0, min(step, self.last_index(), self.computed))

    def outcome(self) -> tuple[str, int | None]:
        """The run's outcome id and its step (:mod:`engine.landscape.status`), once
        :attr:`complete` or stopped early; ``("moving", None)`` before that."""
        s = self.stepper
        code, stop = int(s.status[0]), int(s.stop_step[0])
        if code in (simulate.DIVERGED, simulate.ESCAPED, simulate.UNDEFINED):
            return status.IDS[code], stop
        if not s.complete:
            return status.MOVING, None
        return status.IDS[code], (stop if code == simulate.CONVERGED else None)

    def status_at(self, step: int) -> tuple[str, int | None]:
        """(status id, its step) as a student may read it at playback ``step``.

        ``not_started`` at step 0 and ``moving`` after (``computing`` at a step not computed
        yet), until the outcome is reached and known: ``converged`` only from its step on
        and only once the whole run is computed (a path that leaves the tolerance later never
        shows it); ``not_converged`` at the end of the budget; ``diverged``, ``escaped`` from
        their step; ``undefined`` always.
        """
        outcome, stop = self.outcome()
        if outcome == status.UNDEFINED_ID:
            return outcome, stop
        if outcome in ("diverged", "escaped", "converged") and step >= stop:
            return outcome, stop
        if outcome == "not_converged" and step >= self.stepper.budget:
            return outcome, None
        if step > self.computed and not self.complete:
            # A seek ahead of the computation: "moving" would describe a point not shown
            # (SGD had converged at step 29 in the side plots while the table said moving).
            return status.COMPUTING, None
        return (status.NOT_STARTED if step <= 0 else status.MOVING), None

    def points(self, step: int) -> np.ndarray:
        """Path up to ``step`` (k+1, 2)."""
        return self.stepper.paths[: self.at(step) + 1, 0]

    def losses(self, step: int) -> np.ndarray:
        return self.stepper.losses[: self.at(step) + 1, 0]

    def grad_norms(self, step: int) -> np.ndarray:
        return self.stepper.grad_norms[: self.at(step) + 1, 0]

    def gradient(self, step: int) -> np.ndarray:
        """Gradient at the point shown at ``step``."""
        return self.stepper.grads[self.at(step), 0]

    def velocity(self, step: int) -> np.ndarray | None:
        """Optimizer velocity (momentum slot) after ``step``, or None if it has none."""
        if not self.stepper.has_velocity:
            return None
        return self.stepper.velocities[self.at(step), 0]

    def update(self, step: int) -> np.ndarray:
        """The step taken from the point at ``step`` to the next one (zero once stopped)."""
        i = self.at(step)
        if i + 1 > self.at(step + 1):
            return np.zeros(2)
        return self.stepper.paths[i + 1, 0] - self.stepper.paths[i, 0]

    def longest(self, kind: str) -> float:
        """The length of the longest ``kind`` of vector ("descent": the gradient, "update",
        "velocity") at any step computed so far (0.0 for a velocity the optimizer has not),
        so that arrows can share one scale over the whole race. Rows already looked at are
        not read again."""
        rows = max(min(self.computed, self.last_index()), 0) + 1
        s = self.stepper
        kept = self._longest.get(kind)
        start, longest = (kept[1], kept[2]) if kept and kept[0] is s and kept[1] <= rows \
            else (0, 0.0)
        if rows > start:
            if kind == "descent":
                block = s.grads[start:rows, 0]
            elif kind == "velocity":
                block = s.velocities[start:rows, 0] if s.has_velocity else np.zeros((0, 2))
            else:  # the update from row k to row k + 1, for the rows k + 1 not looked at yet
                block = np.diff(s.paths[max(start - 1, 0):rows, 0], axis=0)
            with np.errstate(all="ignore"):
                lengths = np.hypot(block[:, 0], block[:, 1])
            lengths = lengths[np.isfinite(lengths)]
            if lengths.size:
                longest = max(longest, float(lengths.max()))
        self._longest[kind] = (s, rows, longest)
        return longest


class Race:
    """Several racers on one surface from a shared start, each computed in chunks.

    Parameters
    ----------
    surface
        The surface they race on.
    start
        The shared start point (racers may override it).
    budget
        Most steps any racer takes.
    """

    def __init__(self, surface: Surface, start: tuple[float, float], budget: int = 1000,
                 tolerances: simulate.Tolerances | None = None) -> None:
        self.surface = surface
        self.start = (float(start[0]), float(start[1]))
        self.budget = int(budget)
        self.tolerances = tolerances or simulate.Tolerances()
        self.tracks: dict[str, Track] = {}
        self._keys = itertools.count(1)

    def new_key(self, optimizer_id: str) -> str:
        """A key not used by any racer yet."""
        while True:
            key = f"{optimizer_id}-{next(self._keys)}"
            if key not in self.tracks:
                return key

    def _build(self, racer: Racer) -> Track:
        stepper = simulate.Stepper(
            self.surface, racer.optimizer(), np.array([racer.start or self.start]),
            self.budget, tolerances=self.tolerances, keep_vectors=True, noise=racer.noise,
        )
        return Track(racer, stepper)

    def set_racer(self, racer: Racer) -> None:
        """Add or replace a racer; its path is recomputed from its start."""
        track = self._build(racer)  # validate before touching the race
        self.tracks[racer.key] = track

    def remove(self, key: str) -> None:
        self.tracks.pop(key, None)

    def racers(self) -> list[Racer]:
        return [t.racer for t in self.tracks.values()]

    def _rebuild_all(self) -> None:
        self.tracks = {k: self._build(t.racer) for k, t in self.tracks.items()}

    def set_surface(self, surface: Surface, start: tuple[float, float] | None = None) -> None:
        """Race on another surface (from ``start``, default its own start)."""
        self.surface = surface
        self.start = tuple(map(float, start or surface.start))  # type: ignore[assignment]
        self._rebuild_all()

    def set_start(self, start: tuple[float, float]) -> None:
        """Move the shared start; every racer without its own start restarts from it."""
        self.start = (float(start[0]), float(start[1]))
        self._rebuild_all()

    def set_budget(self, budget: int) -> None:
        self.budget = int(budget)
        self._rebuild_all()

    def ensure(self, step: int, chunk: int = CHUNK) -> None:
        """Compute every racer to at least ``step`` (rounded up to whole chunks)."""
        for track in self.tracks.values():
            stepper = track.stepper
            while stepper.step < min(step, self.budget) and not stepper.done:
                stepper.advance(chunk)

    def ensure_within(self, step: int, seconds: float, chunk: int = 16,
                      clock: Callable[[], float] = time.monotonic) -> bool:
        """Compute towards :meth:`ensure` ``(step)`` for at most about ``seconds``; True once
        every racer has reached ``step`` (or stopped). A GUI calls it once per event-loop turn,
        so its work per turn stays bounded however far ``step`` is."""
        deadline = clock() + seconds
        while True:
            behind = [t.stepper for t in self.tracks.values()
                      if t.stepper.step < min(step, self.budget) and not t.stepper.done]
            if not behind:
                return True
            for stepper in behind:
                if clock() >= deadline:
                    return False
                stepper.advance(_chunk(stepper, chunk))

    def compute_within(self, seconds: float, chunk: int = 16,
                       clock: Callable[[], float] = time.monotonic) -> bool:
        """Advance the racer furthest behind, a chunk at a time, for about ``seconds`` (at least
        one chunk); True when every racer is complete. The GUI's idle slices call it, so a
        slice costs the same with one racer or twenty."""
        deadline = clock() + seconds
        while True:
            left = [t.stepper for t in self.tracks.values() if not t.stepper.done]
            if not left:
                return True
            behind = min(left, key=lambda stepper: stepper.step)
            behind.advance(_chunk(behind, chunk))
            if clock() >= deadline:
                return self.complete

    def upgrade(self, seconds: float, clock: Callable[[], float] = time.monotonic
                ) -> tuple[list[str], bool]:
        """Move racers still taking NumPy's steps onto their kernel, where it has loaded
        since they were built (a GUI builds a racer at once and loads its kernel in the
        background; until rebuilt, it stayed on NumPy's steps, 400 times slower in long
        chunks). Each is rebuilt and advanced to the step it had reached: the same rows, bit
        for bit. Returns the keys moved, and True when every such racer was looked at
        within about ``seconds`` (False: call again)."""
        deadline = clock() + seconds
        moved = []
        for key, track in list(self.tracks.items()):
            old = track.stepper
            if old.compiled or old.done:
                continue
            if clock() >= deadline:
                return moved, False
            new = self._build(track.racer)
            if not new.stepper.compiled:
                continue  # its kernel is not loaded yet (or cannot run it)
            if old.step:
                new.stepper.advance(old.step)
            self.tracks[key] = new
            moved.append(key)
        return moved, True

    def computed_to(self) -> int:
        """The step every racer has been computed to (the budget for one that stopped)."""
        return min((self.budget if t.stepper.done else t.stepper.step
                    for t in self.tracks.values()), default=self.budget)

    @property
    def complete(self) -> bool:
        """True when every racer's whole budget is computed (every outcome known)."""
        return all(t.complete or t.stepper.done for t in self.tracks.values())

    def compute_ahead(self, steps: int = CHUNK) -> bool:
        """Advance every racer that is not complete by up to ``steps``; True when all are.

        The GUI calls this while idle, so outcomes are known long before playback gets there.
        """
        for track in self.tracks.values():
            if not track.stepper.done:
                track.stepper.advance(steps)
        return self.complete

    def finished_step(self) -> int:
        """The step from which nothing a student reads changes any more: every racer has
        converged (and stays), stopped, or spent its budget. The budget until outcomes are
        known."""
        last = 0
        for track in self.tracks.values():
            outcome, stop = track.outcome()
            if outcome in ("moving", "not_converged"):
                return self.budget
            last = max(last, stop or 0)
        return last

    def labels(self, minimal: bool = False) -> dict[str, str]:
        """Each racer's short label, made unique with "#2", "#3" where two would read the
        same. ``minimal``: the optimizer's name alone where no other racer has it (for
        headlines)."""
        labels = {key: track.racer.label() for key, track in self.tracks.items()}
        if minimal:
            names = [track.racer.optimizer_id for track in self.tracks.values()]
            for key, track in self.tracks.items():
                if names.count(track.racer.optimizer_id) == 1:
                    labels[key] = optimizers.spec(track.racer.optimizer_id).name
        seen: dict[str, int] = {}
        for key, label in labels.items():
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                labels[key] = f"{label} #{seen[label]}"
        return labels

    def settings_view(self) -> Mapping[str, Mapping[str, Any]]:
        return MappingProxyType({k: t.racer.settings for k, t in self.tracks.items()})
