"""The session model: what the two tabs show, held in plain Python (no Qt).

napari's pattern: models (``napari.components``) hold the state and announce each change
through events; Qt widgets (``napari._qt``) are views that read the model, call its methods
and redraw on its events, and no view keeps a copy. Here

* :class:`LandscapeModel` holds the race (surface, start, step budget, racers), each racer's
  key and look (:class:`gui.palette.RacerStyle`), the shown step and the open scenario's
  live measure;
* :class:`TrainingModel` holds the MNIST tab's optimizers with their keys and looks.

The Landscape tab with its panels, and the MNIST tab, are views of them. Tests drive the
models without a window (tests/test_session.py), and this module imports no Qt
(an import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from engine.landscape import domain
from engine.landscape.race import Race, Racer
from engine.landscape.surfaces import Surface
from gui.palette import RacerStyle, style_for


class Event:
    """A change the model announces: views ``connect`` a callable, the model ``emit``\\ s.

    Callbacks run at once, in the order connected, with the arguments of :meth:`emit`.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []
        self._blocked = 0

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback`` on every emit (returned, so this works as a decorator)."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` (no error if it was not connected)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Call every connected callback with ``args`` (nothing while :meth:`blocked`)."""
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(*args)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Emit nothing inside the ``with`` block."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def __repr__(self) -> str:
        return f"<Event {self.name}: {len(self._callbacks)} connected>"


class StartRefused(ValueError):
    """A start where the race can't begin; the message says why (for the start box)."""


class NothingToRace(ValueError):
    """A surface defined nowhere on its map; the message says so (for the formula box)."""


class LandscapeModel:
    """The Landscape tab's state: one :class:`engine.landscape.race.Race`, each racer's
    style, the shown step and the open scenario's measure.

    Events (each emitted after the change):

    ``surface()``
        The surface changed (the start, every path and the step with it).
    ``start()``
        The shared start moved (every path restarts).
    ``racers(select)``
        A racer joined, left or changed; ``select`` is the key a view should select (or None).
    ``budget()``
        The step budget changed (the step may have moved into it).
    ``step()``
        The shown step changed.
    ``scenario()``
        A whole set-up was put in at once (:meth:`replace`): every other view refreshes.
    """

    def __init__(self, surface: Surface, budget: int, optimizer_ids: Iterable[str] = ()) -> None:
        self.race = Race(surface, surface.start, budget)
        #: Each racer's colour, marker and dash (kept while it races; see gui.palette).
        self.styles: dict[str, RacerStyle] = {}
        self.step = 0
        #: The open scenario's live measure (engine.landscape.measures spec).
        self.measure: dict | None = None
        self.events = _Events("surface", "start", "racers", "budget", "step", "scenario")
        self._labels: dict[bool, dict[str, str]] = {}  # cached until the racers change
        for optimizer_id in optimizer_ids:
            self._add(Racer(self.race.new_key(optimizer_id), optimizer_id))

    # --- reading -------------------------------------------------------------------------
    @property
    def surface(self) -> Surface:
        return self.race.surface

    @property
    def start(self) -> tuple[float, float]:
        return self.race.start

    @property
    def budget(self) -> int:
        return self.race.budget

    def keys(self) -> list[str]:
        """The racers' keys, in racing order."""
        return list(self.race.tracks)

    def racer(self, key: str) -> Racer:
        """The racer with ``key`` (``KeyError`` if none)."""
        return self.race.tracks[key].racer

    def racers(self) -> list[Racer]:
        return self.race.racers()

    def labels(self, minimal: bool = False) -> dict[str, str]:
        """Each racer's short, unique label (:meth:`engine.landscape.race.Race.labels`)."""
        if minimal not in self._labels:
            self._labels[minimal] = self.race.labels(minimal)
        return dict(self._labels[minimal])

    def first_key(self, optimizer_id: str) -> str | None:
        """The first racer of ``optimizer_id``, or None."""
        return next((k for k, t in self.race.tracks.items()
                     if t.racer.optimizer_id == optimizer_id), None)

    def distances(self, points: np.ndarray) -> np.ndarray | None:
        """Each point's distance to the nearest known minimum (None: no minima known)."""
        minima = self.surface.minima
        if not minima:
            return None
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        centres = np.array([m.point for m in minima])
        d = np.hypot(points[:, None, 0] - centres[None, :, 0],
                     points[:, None, 1] - centres[None, :, 1])
        return d.min(axis=1)

    def minimum_at(self, point) -> str | None:
        """``"global (1, 1)"`` (``"#2 local (3, 4)"`` on a surface with several, numbered as
        the map numbers them) when ``point`` lies within the convergence distance of a known
        minimum, else None."""
        distances = self.distances(np.asarray(point, dtype=float)[None, :])
        if distances is None or distances[0] > self.race.tolerances.x_tol:
            return None
        minima = self.surface.minima
        index = int(np.argmin([math.hypot(m.point[0] - point[0], m.point[1] - point[1])
                               for m in minima]))
        m = minima[index]
        number = f"#{index + 1} " if len(minima) > 1 else ""  # as the map and headlines say
        return f"{number}{m.kind} ({m.point[0]:.4g}, {m.point[1]:.4g})"

    # --- the surface and the start ---------------------------------------------------------
    def set_surface(self, surface: Surface, keep_start: bool = False) -> str | None:
        """Race on ``surface`` from its own start (``keep_start``: from the current one).

        A start where f is not defined moves to the nearest point where it is; the returned
        note says so (None when the start was fine). ``NothingToRace`` (and nothing changes)
        when f is defined nowhere on the surface's map.
        """
        start = self.race.start if keep_start else surface.start
        note = None
        if not domain.defined(surface, *start):
            moved = domain.nearest_defined(surface, *start)
            if moved is None:
                raise NothingToRace(f"f is not defined anywhere on the map {surface.domain}: "
                                    "nothing to race on")
            note = (f"{domain.why_undefined(surface, *start)}; the race starts at "
                    f"({moved[0]:.3g}, {moved[1]:.3g}) instead.")
            start = moved
        self.race.set_surface(surface, start)
        self._set_step(0)
        self.events.surface.emit()
        return note

    def set_start(self, x: float, y: float) -> None:
        """Move the shared start to ``(x, y)``; every path restarts from it.

        ``StartRefused`` (and the start stays) for a non-finite point or one where f is not
        defined.
        """
        if not (math.isfinite(x) and math.isfinite(y)):
            raise StartRefused("Not started there: the start must be a finite point.")
        why = domain.why_undefined(self.surface, x, y)
        if why is not None:
            raise StartRefused(f"Not started there: {why}.")
        self.race.set_start((x, y))
        self.events.start.emit()

    # --- racers ------------------------------------------------------------------------------
    def add_racer(self, optimizer_id: str) -> str:
        """A new racer of ``optimizer_id`` with Keras's defaults; its key."""
        key = self.race.new_key(optimizer_id)
        self._add(Racer(key, optimizer_id))
        self._racers_changed(key)
        return key

    def set_racer(self, racer: Racer) -> None:
        """Add or replace ``racer`` (by its key); its path restarts.

        ``HyperParamError`` (and nothing changes) for settings the optimizer refuses.
        """
        if racer.key in self.race.tracks:
            self.race.set_racer(racer)
        else:
            self._add(racer)
        self._racers_changed(racer.key)

    def set_racers(self, racers: Iterable[Racer], select: str | None = None) -> None:
        """Replace several racers at once: every one is checked first, so a refusal
        (``HyperParamError``) changes none of them; one ``racers`` event after."""
        racers = list(racers)
        for racer in racers:
            racer.optimizer()  # raises before anything changes
        for racer in racers:
            if racer.key in self.race.tracks:
                self.race.set_racer(racer)
            else:
                self._add(racer)
        if racers:
            self._racers_changed(select or racers[-1].key)

    def remove_racer(self, key: str) -> None:
        """Take racer ``key`` out of the race (its style is free again)."""
        if key not in self.race.tracks:
            return
        self.race.remove(key)
        self.styles.pop(key, None)
        self._racers_changed(None)

    def _add(self, racer: Racer) -> None:
        style = style_for(racer.optimizer_id, self.styles.values())
        self.race.set_racer(racer)  # validates before the style is taken
        self.styles[racer.key] = style
        self._labels.clear()

    def _racers_changed(self, select: str | None) -> None:
        self._labels.clear()
        self.events.racers.emit(select)

    # --- steps ------------------------------------------------------------------------------
    def set_budget(self, budget: int) -> None:
        """Race ``budget`` steps (every path restarts; the step stays within it)."""
        self.race.set_budget(int(budget))
        self.step = min(self.step, self.race.budget)
        self.events.budget.emit()

    def seek(self, step: int) -> None:
        """Show ``step`` (clamped to ``[0, budget]``). Nothing is computed here: the views
        compute the paths to it in bounded slices (``Race.ensure_within``)."""
        self._set_step(step)
        self.events.step.emit()

    def _set_step(self, step: int) -> None:
        self.step = max(0, min(int(step), self.race.budget))

    def over_at(self) -> int:
        """The step where the race is over: every racer stopped, or the budget."""
        if self.race.complete:
            return min(self.race.finished_step(), self.race.budget)
        return self.race.budget

    # --- whole set-ups -----------------------------------------------------------------------
    def replace(self, surface: Surface, start: tuple[float, float], steps: int,
                racers: Iterable[Racer], measure: Mapping[str, Any] | None = None) -> None:
        """Put in a whole set-up (a scenario's) at once, at step 0.

        The new race is built and checked before the old one is let go, so a set-up the
        engine refuses (``HyperParamError``, ``ValueError``) changes nothing. Racers get new
        keys and styles in the order given. One ``scenario`` event after.
        """
        race = Race(surface, tuple(map(float, start)), int(steps))
        styles: dict[str, RacerStyle] = {}
        for racer in racers:
            key = race.new_key(racer.optimizer_id)
            race.set_racer(Racer(key, racer.optimizer_id, dict(racer.settings), racer.start,
                                 racer.schedule, racer.noise))
            styles[key] = style_for(racer.optimizer_id, styles.values())
        self.race, self.styles, self.step = race, styles, 0
        self._labels.clear()
        self.measure = dict(measure) if measure else None
        self.events.scenario.emit()

    def capture(self) -> dict[str, Any]:
        """The set-up as keyword arguments of :class:`engine.files.scenario.Scenario`
        (all but the view, which the tab adds)."""
        return {
            "surface_id": self.surface.id, "surface_params": dict(self.surface.params),
            "start": tuple(self.start), "steps": self.budget,
            "racers": tuple(self.racers()), "measure": self.measure,
        }


class TrainingModel:
    """The MNIST tab's optimizers: each with a unique key and its look, in order.

    Events: ``racers(select)`` after a racer joined, left or changed (``select``: the key a
    view should select, or None).
    """

    def __init__(self, optimizer_ids: Iterable[str] = ()) -> None:
        self._racers: dict[str, Racer] = {}
        self.styles: dict[str, RacerStyle] = {}
        self._numbers = itertools.count(1)
        #: The open scenario's training measure (engine.landscape.measures spec).
        self.measure: dict | None = None
        self.events = _Events("racers")
        for optimizer_id in optimizer_ids:
            self._add(optimizer_id, None)

    def keys(self) -> list[str]:
        return list(self._racers)

    def racers(self) -> list[Racer]:
        return list(self._racers.values())

    def racer(self, key: str) -> Racer:
        return self._racers[key]

    def labels(self) -> dict[str, str]:
        return {key: racer.label() for key, racer in self._racers.items()}

    def __len__(self) -> int:
        return len(self._racers)

    def _new_key(self, optimizer_id: str) -> str:
        while True:
            key = f"{optimizer_id}-{next(self._numbers)}"
            if key not in self._racers:
                return key

    def _add(self, optimizer_id: str, racer: Racer | None) -> str:
        key = self._new_key(optimizer_id)
        if racer is None:
            racer = Racer(key, optimizer_id)
        else:
            racer = Racer(key, racer.optimizer_id, dict(racer.settings), racer.start,
                          racer.schedule, racer.noise)
        racer.optimizer()  # refuses settings Keras would refuse, before anything changes
        self.styles[key] = style_for(optimizer_id, self.styles.values())
        self._racers[key] = racer
        return key

    def add_racer(self, optimizer_id: str) -> str:
        """A new optimizer with Keras's defaults; its key."""
        key = self._add(optimizer_id, None)
        self.events.racers.emit(key)
        return key

    def set_racer(self, racer: Racer) -> None:
        """Replace the racer with ``racer``'s key (``KeyError`` for an unknown key)."""
        if racer.key not in self._racers:
            raise KeyError(racer.key)
        self._racers[racer.key] = racer
        self.events.racers.emit(racer.key)

    def remove_racer(self, key: str) -> None:
        """Take optimizer ``key`` out (its style is free again)."""
        if self._racers.pop(key, None) is not None:
            self.styles.pop(key, None)
            self.events.racers.emit(None)

    def replace(self, racers: Iterable[Racer], measure: Mapping[str, Any] | None = None) -> None:
        """Put in a scenario's optimizers at once (new keys and styles, in order); settings
        an optimizer refuses change nothing."""
        racers = list(racers)
        for racer in racers:
            racer.optimizer()
        self._racers.clear()
        self.styles.clear()
        for racer in racers:
            self._add(racer.optimizer_id, racer)
        self.measure = dict(measure) if measure else None
        self.events.racers.emit(next(iter(self._racers), None))


class _Events:
    """The events of one model, as attributes."""

    def __init__(self, *names: str) -> None:
        for name in names:
            setattr(self, name, Event(name))
