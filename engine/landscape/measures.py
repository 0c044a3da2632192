"""The number a scenario shows live: one value and one line of text per racer, plus a headline.

A measure spec is a small dict, ``{"kind": ..., **parameters}`` (the ``measure`` section of a
scenario file, :mod:`engine.files.scenario`). :func:`measure` reads a :class:`engine.landscape.race.Race` as
it stands at a playback step, so the numbers grow with the animation; :func:`measure_training`
reads finished MNIST runs. :data:`PARAMETERS` describes each kind's parameters (the scenario
loader checks them). NumPy only: no Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import optimizers
from engine.landscape import status
from engine.landscape.race import Race, Racer, Track
from engine.params import REQUIRED, Param, short_number

__all__ = ["KINDS", "LANDSCAPE_KINDS", "PARAMETERS", "REQUIRED", "TRAINING_KINDS",
           "MeasureRow", "Measurement", "measure", "measure_training", "with_defaults"]

LANDSCAPE_KINDS = ("steps_to_converge", "last_steps_spread", "steps_near_point",
                   "minimum_reached", "final_loss")
TRAINING_KINDS = ("val_accuracy", "distance_from_start")
KINDS = LANDSCAPE_KINDS + TRAINING_KINDS

PARAMETERS: Mapping[str, tuple[Param, ...]] = {
    "steps_to_converge": (
        Param("baseline", "int", 0, 0, None,
              doc="Index of the racer the headline compares the fastest one with."),
        Param("radius", "float", None, 0.0, None, low_open=True, optional=True,
              doc="Count 'arrived' at the first step within this distance of `point` "
                  "(none: the simulator's convergence test)."),
        Param("point", "point", None, optional=True,
              doc="Target of `radius` (none: the surface's first known minimum)."),
    ),
    "last_steps_spread": (
        Param("window", "int", 50, 2, 10_000, doc="How many of the last steps."),
    ),
    "steps_near_point": (
        Param("point", "point", doc="The point, e.g. a saddle."),
        Param("radius", "float", 0.5, 0.0, None, low_open=True,
              doc="Distance that counts as near."),
        Param("label", "text", "", high=100, doc="What the point is, e.g. 'the saddle point'."),
    ),
    "minimum_reached": (
        Param("radius", "float", 0.1, 0.0, None, low_open=True,
              doc="Distance to a known minimum that counts as reached."),
    ),
    "final_loss": (
        Param("window", "int", 1, 1, 10_000,
              doc="Steps to look back (1: the loss at the step shown; more: the range "
                  "of the loss over the last steps, which shows an oscillation)."),
    ),
    "val_accuracy": (),
    "distance_from_start": (),
}


def with_defaults(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` with every parameter of its kind present (defaults filled in)."""
    kind = spec["kind"]
    filled: dict[str, Any] = {"kind": kind}
    for param in PARAMETERS[kind]:
        if param.name in spec:
            filled[param.name] = spec[param.name]
        elif param.default is not REQUIRED:
            filled[param.name] = param.default
        else:
            raise ValueError(f"{param.name}: {kind} needs it")
    return filled


@dataclass(frozen=True)
class MeasureRow:
    """One racer's (or one training run's) number: ``value`` is None when there is none yet."""

    key: str
    label: str
    value: float | None
    text: str


@dataclass(frozen=True)
class Measurement:
    """Every row, in racer order, and one line comparing them."""

    rows: tuple[MeasureRow, ...]
    headline: str


# ------------------------------------------------------------------------------ formatting


fmt = short_number  #: a short number (engine.params.short_number)


def _times(ratio: float) -> str:
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:.0f}×"


def _point_text(point: Sequence[float]) -> str:
    return f"({fmt(float(point[0]))}, {fmt(float(point[1]))})"


# ------------------------------------------------------------------------- landscape kinds


def _shown_rows(track: Track, step: int, first: int = 0) -> np.ndarray:
    """Row indices shown at playback steps ``first .. step`` (a converged racer stays put;
    a diverged one has no rows after its last finite point)."""
    stop_row = min(track.last_index(), track.computed)
    outcome, stop = track.status_at(step)
    last = min(step, stop - 1) if outcome in ("diverged", "escaped") else step
    if last < first:
        return np.zeros(0, dtype=np.int64)
    return np.minimum(np.arange(first, last + 1), max(stop_row, 0))


def _finished(race: Race, track: Track, step: int) -> bool:
    """True when nothing will change for this racer after ``step``."""
    return step >= race.budget or track.status_at(step)[0] not in (
        status.NOT_STARTED, status.MOVING, status.COMPUTING)


def _stopped_text(track: Track, step: int) -> str | None:
    """The status words of a racer that left the surface by ``step`` (else None)."""
    outcome, stop = track.status_at(step)
    if outcome in ("diverged", "escaped", status.UNDEFINED_ID):
        return status.phrase(outcome, stop)
    return None


def _arrived(track: Track, step: int, point: Sequence[float], radius: float) -> int | None:
    """The step from which the racer stays within ``radius`` of ``point`` to the end of its
    run, if it does and playback ``step`` has got there (the convergence rule, with this
    radius): a racer that passes through and leaves again has not arrived."""
    if not track.complete or track.outcome()[0] in ("diverged", "escaped", status.UNDEFINED_ID):
        return None
    points = track.stepper.paths[: track.last_index() + 1, 0]
    outside = np.flatnonzero(np.hypot(points[:, 0] - point[0], points[:, 1] - point[1])
                             > radius)
    first = 0 if outside.size == 0 else int(outside[-1]) + 1
    return first if first < len(points) and first <= step else None


def _steps_to_converge(spec, race, step, tracks):
    radius, point = spec["radius"], spec["point"]
    if radius is not None and point is None:
        if not race.surface.minima:
            raise ValueError(f"point: needed with radius ({race.surface.name} has no known "
                             f"minimum)")
        point = race.surface.minima[0].point
    where = f"within {fmt(radius)} of {_point_text(point)}" if radius is not None else ""
    rows = []
    for track in tracks:
        value, text = None, _stopped_text(track, step)
        if radius is None:
            outcome, stop = track.status_at(step)
            if outcome == "converged":
                value, text = stop, status.phrase(outcome, stop)
        elif text is None:
            arrived = _arrived(track, step, point, radius)
            if arrived is not None:
                value, text = arrived, f"{where} from step {arrived} on"
        if text is None:
            goal = where or "converged"
            text = (f"not {goal} in {race.budget} steps" if _finished(race, track, step)
                    else f"not {goal} yet")
        rows.append((track, value, text))
    verb = f"got {where}" if radius is not None else "converged"
    return rows, lambda built: _converge_headline(built, spec["baseline"], verb)


def _converge_headline(rows: Sequence[MeasureRow], baseline: int, verb: str) -> str:
    if not rows:
        return ""
    base = rows[min(baseline, len(rows) - 1)]
    arrived = [r for r in rows if r.value is not None]
    if not arrived:
        return f"No optimizer has {verb} yet"
    best = min(arrived, key=lambda r: r.value)
    if best is base or (base.value is not None and best.value >= base.value):
        return f"{base.label} {verb} first, at step {int(base.value)}"
    if base.value is None:
        return f"{best.label}: {verb} at step {int(best.value)}; {base.label}: {base.text}"
    ratio = base.value / best.value if best.value > 0 else math.inf
    # Named by what was measured: "got within 0.1 of (1, 1)" is not the table's "converged".
    return f"{best.label} {verb} in {_times(ratio)} fewer steps than {base.label}"


#: Spreads below this are "at rest": printing 2.5e-44 would suggest a meaning it has not.
SPREAD_RESOLUTION = 1e-9


def _spread_text(value: float) -> str:
    return f"< {fmt(SPREAD_RESOLUTION)} (at rest)" if value < SPREAD_RESOLUTION else fmt(value)


def _spread(spec, race, step, tracks):
    window = spec["window"]
    rows = []
    for track in tracks:
        text = _stopped_text(track, step)
        value = None
        if text is None:
            points = track.stepper.paths[_shown_rows(track, step, max(0, step - window + 1)), 0]
            shifted = points - points[-1]  # exact zeros for a racer at rest
            centred = shifted - shifted.mean(axis=0)
            value = float(np.sqrt(np.mean(np.sum(centred * centred, axis=1))))
            text = f"spread of last {len(points)} steps: {_spread_text(value)}"
        rows.append((track, value, text))

    def headline(built: Sequence[MeasureRow]) -> str:
        valued = [r for r in built if r.value is not None]
        if len(valued) < 2:
            return valued[0].text if valued else "No optimizer is still on the surface"
        most = max(valued, key=lambda r: r.value)
        least = min(valued, key=lambda r: r.value)
        text = (f"{most.label}: spread {_spread_text(most.value)} over the last {window} "
                f"steps, vs {_spread_text(least.value)} for {least.label}")
        if least.value >= SPREAD_RESOLUTION:
            text += f" ({_times(most.value / least.value)} larger)"
        return text

    return rows, headline


def _near_point(spec, race, step, tracks):
    point, radius = spec["point"], spec["radius"]
    name = spec["label"] or _point_text(point)
    rows = []
    for track in tracks:
        points = track.stepper.paths[_shown_rows(track, step), 0]
        count = int(np.count_nonzero(
            np.hypot(points[:, 0] - point[0], points[:, 1] - point[1]) <= radius))
        rows.append((track, count, f"{count} steps within {fmt(radius)} of {name}"))

    def headline(built: Sequence[MeasureRow]) -> str:
        if len(built) < 2:
            return built[0].text if built else ""
        most = max(built, key=lambda r: r.value)
        least = min(built, key=lambda r: r.value)
        return (f"{most.label} spent {int(most.value)} steps within {fmt(radius)} of {name}; "
                f"{least.label} {int(least.value)}")

    return rows, headline


def _minimum_reached(spec, race, step, tracks):
    radius = spec["radius"]
    minima = race.surface.minima
    centres = np.array([m.point for m in minima], dtype=np.float64).reshape(-1, 2)
    rows = []
    for track in tracks:
        value, text = None, _stopped_text(track, step)
        if text is None:
            x, y = track.stepper.paths[track.at(step), 0]
            distance = np.hypot(centres[:, 0] - x, centres[:, 1] - y)
            nearest = int(np.argmin(distance)) if len(centres) else -1
            finished = _finished(race, track, step)
            converged = track.status_at(step)[0] == "converged"
            if nearest >= 0 and distance[nearest] <= radius and (converged or not finished):
                value = nearest + 1
                verb = "reached" if finished else "near"
                text = f"{verb} minimum #{value} {_point_text(minima[nearest].point)}"
            elif nearest >= 0 and distance[nearest] <= radius:
                # Within the radius at the end but never settled: the table says "not
                # converged", and so does this line (it counts for no minimum).
                text = (f"ended near minimum #{nearest + 1} "
                        f"{_point_text(minima[nearest].point)}, not converged")
            elif finished:
                text = "ended away from every known minimum"
            else:
                text = "on its way"
        rows.append((track, value, text))

    def headline(built: Sequence[MeasureRow]) -> str:
        reached = [r for r in built if r.value is not None]
        if not reached:
            return "No optimizer has reached a known minimum yet"
        found = sorted({int(r.value) for r in reached})
        if len(found) == 1 and len(reached) == len(built):
            return f"All at minimum #{found[0]} {_point_text(minima[found[0] - 1].point)}"
        listing = ", ".join(f"{r.label} → #{int(r.value)}" for r in reached)
        if len(found) == 1:
            return listing
        return f"{len(found)} different minima from one start: {listing}"

    return rows, headline


def _final_loss(spec, race, step, tracks):
    window = spec["window"]
    rows = []
    for track in tracks:
        text = _stopped_text(track, step)
        value = None
        if text is None:
            losses = track.stepper.losses[_shown_rows(track, step, max(0, step - window + 1)), 0]
            value = float(losses.max())
            if window == 1:
                final = "final loss" if _finished(race, track, step) else "loss"
                text = f"{final} {fmt(value)}"
            else:
                text = (f"loss over the last {len(losses)} steps: {fmt(float(losses.min()))} "
                        f"to {fmt(value)}")
        rows.append((track, value, text))

    def headline(built: Sequence[MeasureRow]) -> str:
        valued = [r for r in built if r.value is not None]
        gone = [r for r in built if r.value is None]
        if len(valued) < 2:
            parts = [f"{r.label}: {r.text}" for r in built]
            return "; ".join(parts)
        best = min(valued, key=lambda r: r.value)
        worst = max(valued, key=lambda r: r.value)
        if window == 1:
            text = f"{best.label}: loss {fmt(best.value)}"
            if best.value > 0 and worst.value > best.value:
                text += f", {_times(worst.value / best.value)} lower than {worst.label}"
        else:
            text = (f"{worst.label}: loss still reaches {fmt(worst.value)} in the last "
                    f"{window} steps; {best.label} stays at or below {fmt(best.value)}")
        return "; ".join([text, *(f"{r.label} {r.text}" for r in gone)])

    return rows, headline


_LANDSCAPE = {
    "steps_to_converge": _steps_to_converge,
    "last_steps_spread": _spread,
    "steps_near_point": _near_point,
    "minimum_reached": _minimum_reached,
    "final_loss": _final_loss,
}


def measure(spec: Mapping[str, Any], race: Race, step: int) -> Measurement:
    """The measure ``spec`` for every racer of ``race`` as seen at playback ``step``.

    Parameters
    ----------
    spec
        ``{"kind": one of LANDSCAPE_KINDS, **parameters}``; missing parameters take their
        defaults (:data:`PARAMETERS`).
    race
        The race; it is computed up to ``step`` first if it is not yet.
    step
        The playback step (clamped to ``0 .. race.budget``).

    Returns
    -------
    Measurement
        One row per racer, in racer order, and a headline comparing them.
    """
    spec = with_defaults(spec)
    kind = spec["kind"]
    if kind not in _LANDSCAPE:
        raise ValueError(f"kind: {kind!r} is not a landscape measure "
                         f"(valid: {', '.join(LANDSCAPE_KINDS)})")
    step = max(0, min(int(step), race.budget))
    race.ensure(step)
    tracks = list(race.tracks.values())
    raw, headline = _LANDSCAPE[kind](spec, race, step, tracks)
    labels = race.labels(minimal=True)
    rows = tuple(MeasureRow(t.racer.key, labels[t.racer.key], None if v is None else float(v),
                            text) for t, v, text in raw)
    return Measurement(rows, headline(rows))


# -------------------------------------------------------------------------- training kinds


def _distance_from_start(results: Sequence[Any]) -> Measurement:
    rows = []
    for index, result in enumerate(results):
        trajectory = getattr(result, "trajectory", None)
        label = _run_label(result)
        if trajectory is None or trajectory.count < 2:
            rows.append(MeasureRow(str(index), label, None, "no weights recorded"))
            continue
        weights = trajectory.weights
        moved = float(np.linalg.norm(weights[-1].astype(np.float64) - weights[0]))
        text = f"moved {moved:.2f} from the initial weights"
        if result.status != "completed":
            text += f" ({result.status})"
        rows.append(MeasureRow(str(index), label, moved, text))
    valued = [r for r in rows if r.value is not None]
    if len(valued) < 2:
        headline = (f"{valued[0].label}: {valued[0].text}" if valued
                    else "The paths are drawn when training ends")
    else:
        far = max(valued, key=lambda r: r.value)
        near = min(valued, key=lambda r: r.value)
        ratio = f" ({far.value / near.value:.1f}× farther)" if near.value > 0 else ""
        headline = (f"{far.label}'s weights moved farthest: {far.value:.2f} from the start, "
                    f"vs {near.value:.2f} for {near.label}{ratio}")
    return Measurement(tuple(rows), headline)


def _run_label(result: Any) -> str:
    """A training run's short label, as a racer with its settings would have."""
    defaults = optimizers.spec(result.optimizer_id).defaults()
    changed = {k: v for k, v in result.params.items() if k in defaults and defaults[k] != v}
    return Racer(result.optimizer_id, result.optimizer_id, changed).label()


def measure_training(spec: Mapping[str, Any], results: Sequence[Any]) -> Measurement:
    """A training measure of finished (or running) MNIST runs.

    ``results`` are :class:`engine.mnist.training.RunResult` objects, in run order. For
    ``val_accuracy`` the value is the last epoch's validation accuracy (training accuracy
    without a validation split); for ``distance_from_start`` the distance in weight space
    (all 101,770 weights) from the initial weights to the last snapshot of the run.
    """
    kind = with_defaults(spec)["kind"]
    if kind == "distance_from_start":
        return _distance_from_start(results)
    if kind != "val_accuracy":
        raise ValueError(f"kind: {spec['kind']!r} is not a training measure "
                         f"(valid: {', '.join(TRAINING_KINDS)})")
    rows = []
    for index, result in enumerate(results):
        history = result.history
        series = history.get("val_accuracy") or history.get("accuracy") or []
        name = "val accuracy" if history.get("val_accuracy") else "accuracy"
        label = _run_label(result)
        if not series:
            rows.append(MeasureRow(str(index), label, None,
                                   result.status if result.status != "completed" else "no epoch"))
            continue
        value = float(series[-1])
        epochs = len(series)
        text = f"{name} {value:.1%} after {epochs} epoch{'s' if epochs != 1 else ''}"
        if result.status in ("diverged", "failed", "stopped"):
            text += f" ({result.status})"
        rows.append(MeasureRow(str(index), label, value, text))
    valued = [r for r in rows if r.value is not None]
    if len(valued) < 2:
        headline = valued[0].text if valued else "No epoch finished yet"
    else:
        best = max(valued, key=lambda r: r.value)
        worst = min(valued, key=lambda r: r.value)
        headline = f"{best.label}: {best.text}, vs {worst.value:.1%} for {worst.label}"
    return Measurement(tuple(rows), headline)

