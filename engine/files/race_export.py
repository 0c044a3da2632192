"""The race's trajectories as CSV or JSON: one row per racer and step, finite numbers only.

Rows stop where each path stopped (converged, diverged, or the step asked for). A path's
rows are finite by construction (the stepper never records a non-finite point), and JSON is
written with ``allow_nan=False`` so nothing else could slip through.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from engine.landscape.race import Race

CSV_HEADER = ("racer", "optimizer", "step", "x", "y", "loss", "grad_norm", "status")


def _rows(race: Race, step: int):
    for key, track in race.tracks.items():
        status, stop = track.status_at(step)
        points, losses, norms = track.points(step), track.losses(step), track.grad_norms(step)
        for k in range(len(points)):
            yield key, track, k, points[k], losses[k], norms[k], status, stop


def to_csv(race: Race, step: int) -> str:
    """Every racer's path up to playback ``step`` as CSV (header :data:`CSV_HEADER`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for key, track, k, point, loss, norm, status, _stop in _rows(race, step):
        writer.writerow((key, track.racer.optimizer_id, k, repr(float(point[0])),
                         repr(float(point[1])), repr(float(loss)), repr(float(norm)), status))
    return out.getvalue()


def to_json(race: Race, step: int) -> str:
    """The race as JSON: surface, start, and per racer its settings, status and path."""
    racers: list[dict[str, Any]] = []
    for key, track in race.tracks.items():
        status, stop = track.status_at(step)
        racer = track.racer
        racers.append({
            "key": key, "optimizer": racer.optimizer_id, "label": racer.label(),
            "settings": dict(racer.optimizer().config),
            "schedule": None if racer.schedule is None else {
                "id": racer.schedule.id,
                "params": {k: list(v) if isinstance(v, tuple) else v
                           for k, v in racer.schedule.config().items()}},
            "noise": None if racer.noise is None else {"scale": racer.noise.scale,
                                                       "seed": racer.noise.seed},
            "status": status, "stop_step": stop,
            "path": track.points(step).tolist(),
            "loss": track.losses(step).tolist(),
            "grad_norm": track.grad_norms(step).tolist(),
        })
    document = {"surface": race.surface.id, "start": list(race.start), "step": int(step),
                "racers": racers}
    return json.dumps(document, indent=1, allow_nan=False) + "\n"
