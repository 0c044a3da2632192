"""Predict, then reveal: a class's predictions about a race, judged against the race, and a tally.

A :class:`ClassSession` is the class mode's state, without Qt: the race waits at its start
while the presenter records the class's prediction, either *which racer converges first*
(one of the racers, or "none of them") or *where each racer will end* (a point per racer);
:meth:`ClassSession.reveal` lets the race play, and :meth:`ClassSession.judge` compares the
prediction with the finished race, in the app's status words, and adds a :class:`Round` to
the session's tally. Keys map onto :meth:`next_option`, :meth:`previous_option` and
:meth:`advance` (see ``gui/landscape/class_mode.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.landscape import status
from engine.landscape.race import Race

FIRST, WHERE = "first", "where"
QUESTIONS = {FIRST: "Which optimizer converges first?",
             WHERE: "Where will each optimizer end? Click a point for each."}
NOBODY = "none"  #: the prediction "none of them converges"
OFF, PREDICT, RACING, REVEALED = "off", "predict", "racing", "revealed"
#: A "where" prediction is right within this fraction of the map's larger side.
WHERE_RADIUS = 0.08


@dataclass(frozen=True)
class Round:
    """One judged prediction: what was asked, predicted and seen, and how many were right."""

    title: str
    question: str
    predicted: str
    result: str
    right: int
    asked: int
    lines: tuple[str, ...] = ()  # one line per racer for "where" rounds
    misses: tuple[tuple[str, float, bool], ...] = ()  # (label, distance, right) per racer


@dataclass
class ClassSession:
    """The class mode's state: stage, question, the prediction being recorded, the tally."""

    stage: str = OFF
    kind: str = FIRST
    racers: list[tuple[str, str]] = field(default_factory=list)  # (key, short label)
    choice: int = 0  #: FIRST: index into options(); WHERE: the racer the next click places
    ends: dict[str, tuple[float, float]] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    title: str = ""

    # --- the round -----------------------------------------------------------------------
    def start(self, racers: Sequence[tuple[str, str]], title: str = "") -> None:
        """A new prediction round for ``racers`` ``(key, label)``: the race waits at its start."""
        self.racers = list(racers)
        self.title = title
        self.stage = PREDICT
        self.choice = 0
        self.ends = {}

    def stop(self) -> None:
        """Leave class mode; the tally stays for the session."""
        self.stage = OFF

    def set_kind(self, kind: str) -> None:
        if kind not in QUESTIONS:
            raise ValueError(f"question: must be one of {', '.join(QUESTIONS)}, got {kind!r}")
        self.kind, self.choice, self.ends = kind, 0, {}

    def options(self) -> list[tuple[str, str]]:
        """What can be chosen: the racers, plus "none of them" for the FIRST question."""
        extra = [(NOBODY, "none of them")] if self.kind == FIRST else []
        return self.racers + extra

    def next_option(self, delta: int = 1) -> None:
        """Move the highlighted choice (FIRST) or the racer to place next (WHERE)."""
        if self.stage == PREDICT and self.options():
            count = len(self.options()) if self.kind == FIRST else len(self.racers)
            self.choice = (self.choice + delta) % max(count, 1)

    def previous_option(self) -> None:
        self.next_option(-1)

    def chosen(self) -> str | None:
        """The racer key (or :data:`NOBODY`) the FIRST prediction names, or the racer whose
        end the next click places (WHERE)."""
        options = self.options()
        if not options or self.stage == OFF:
            return None
        return options[min(self.choice, len(options) - 1)][0]

    def place(self, point: tuple[float, float]) -> None:
        """Record a click as where the chosen racer will end, then move on to the next one."""
        if self.stage != PREDICT or self.kind != WHERE or not self.racers:
            return
        x, y = (float(v) for v in point)
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        self.ends[self.racers[self.choice % len(self.racers)][0]] = (x, y)
        self.choice = (self.choice + 1) % len(self.racers)

    def can_reveal(self) -> bool:
        """FIRST: always (a choice is always highlighted); WHERE: once a point is placed."""
        return self.stage == PREDICT and (self.kind == FIRST or bool(self.ends))

    def reveal(self) -> bool:
        """Lock the prediction in and let the race play; False if there is nothing to reveal."""
        if not self.can_reveal():
            return False
        self.stage = RACING
        return True

    def prediction_text(self) -> str:
        labels = dict(self.racers) | {NOBODY: "none of them"}
        if self.kind == FIRST:
            return f"{labels.get(self.chosen() or '', '?')} converges first"
        placed = [labels[k] for k, _ in self.racers if k in self.ends]
        return ("ends placed for " + ", ".join(placed)) if placed else "no end placed yet"

    # --- judging --------------------------------------------------------------------------
    def judge(self, race: Race) -> Round:
        """Compare the prediction with the whole race (computed to its budget here) and add
        the round to the tally."""
        race.ensure(race.budget)
        labels = dict(self.racers)
        if self.kind == FIRST:
            judged = self._judge_first(race, labels)
        else:
            judged = self._judge_where(race, labels)
        self.rounds.append(judged)
        self.stage = REVEALED
        return judged

    def _judge_first(self, race: Race, labels: dict[str, str]) -> Round:
        converged = {}
        for key, _label in self.racers:
            track = race.tracks.get(key)
            if track is not None and track.outcome()[0] == "converged":
                converged[key] = track.outcome()[1]
        chosen = self.chosen() or NOBODY
        if converged:
            first = min(converged.values())
            winners = [k for k, s in converged.items() if s == first]
            names = " and ".join(labels[k] for k in winners)
            result = status.phrase("converged", first, race.budget)
            result = f"{names} {'each ' if len(winners) > 1 else ''}{result}, first"
            right = chosen in winners
        else:
            result = f"none of them converged in {race.budget} steps"
            right = chosen == NOBODY
        predicted = f"{dict(self.racers).get(chosen, 'none of them')} first"
        return Round(self.title, QUESTIONS[FIRST], predicted, result, int(right), 1)

    def _judge_where(self, race: Race, labels: dict[str, str]) -> Round:
        x0, x1, y0, y1 = race.surface.domain
        radius = WHERE_RADIUS * max(x1 - x0, y1 - y0)
        lines, misses, right = [], [], 0
        for key, point in self.ends.items():
            track = race.tracks.get(key)
            if track is None:
                continue
            end = track.points(race.budget)[-1]
            miss = math.hypot(point[0] - end[0], point[1] - end[1])
            outcome, step = track.outcome()
            hit = miss <= radius
            right += hit
            misses.append((labels[key], miss, hit))
            lines.append(f"{labels[key]}: {'✓' if hit else '✗'} {miss:.2g} from its end "
                         f"({status.phrase(outcome, step, race.budget)})")
        result = f"{right} of {len(lines)} within {radius:.2g} of where they ended"
        predicted = f"where {len(lines)} racer{'s' if len(lines) != 1 else ''} end"
        return Round(self.title, QUESTIONS[WHERE], predicted, result, right, len(lines),
                     tuple(lines), tuple(misses))

    def end_round(self) -> None:
        """After the reveal: the next round predicts again on the same racers."""
        self.start(self.racers, self.title)

    # --- the tally -------------------------------------------------------------------------
    def tally(self) -> tuple[int, int]:
        """(predictions right, predictions made) over the session."""
        return sum(r.right for r in self.rounds), sum(r.asked for r in self.rounds)

    def tally_text(self) -> str:
        right, asked = self.tally()
        if not asked:
            return "No predictions yet this session."
        rounds = len(self.rounds)
        return (f"Session: {right} of {asked} predictions right "
                f"over {rounds} round{'s' if rounds != 1 else ''}")
