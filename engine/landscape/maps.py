"""Maps: an optimizer over a grid of starts (:func:`start_map`) or of two hyperparameters
(:func:`hyper_map`), and learning-rate sweeps with a fair tuned rate (:func:`lr_sweep`).

A chunk of rows is one :func:`engine.landscape.simulate.run` with ``keep_path=False`` (memory
O(cells), never O(steps × cells)), in a compiled kernel when numba is available
(:mod:`engine.landscape.kernels`; ``compiled=False`` forces the NumPy reference, with the same
results). Per-cell hyperparameters are ``(N, 1)`` arrays in the update rules
(:func:`batched_optimizer`), so N settings also cost one NumPy pass (one kernel call), and
every cell reproduces its scalar run bit for bit. Progress and cancel happen between chunks.
"""

from __future__ import annotations

import collections
import functools
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from engine import optimizers
from engine.landscape import limits, simulate
from engine.landscape.surfaces import Surface
from engine.optimizers import rules as update_rules
from engine.params import HyperParamError

MAX_GRID = limits.MAX_GRID
CHUNK_CELLS = 8192  #: cells per simulate.run when ``chunk_rows`` is not given
#: Point-steps between two looks at a map's cancel flag (about 40 ms in a kernel, under a
#: second in NumPy); a 128² × 300 live map is one piece.
CANCEL_POINT_STEPS = 16_000_000
CLIPS = optimizers.CLIPS
CRITERION = ("among the learning rates that did not diverge, the lowest final loss after the "
             "same step budget; rates within 1e-12 (relative) of it tie, and when it converged "
             "every converged rate ties; ties go to the fewest steps to converge, then to the "
             "larger learning rate; none if every rate diverged")

Progress = Callable[[float], None] | None


class MapCancelled(Exception):
    """The ``cancel`` event was set while a map or sweep was being computed."""


@dataclass(frozen=True)
class StartMap:
    """Steps to converge from every start of a grid; arrays are ``(ny, nx)``, row = y."""

    surface_id: str
    optimizer_id: str
    config: dict
    steps: int
    xs: np.ndarray  # (nx,) start x of each column
    ys: np.ndarray  # (ny,) start y of each row
    status: np.ndarray  # int8: a code of engine.landscape.status
    steps_to_converge: np.ndarray  # int64, -1 where not converged
    final_loss: np.ndarray  # float64, finite
    minimum_index: np.ndarray  # int64 index into surface.minima, -1 if none reached


@dataclass(frozen=True)
class Axis:
    """One hyperparameter axis: ``count`` values from ``low`` to ``high`` (both included)."""

    name: str
    low: float
    high: float
    count: int
    log: bool = False

    def __post_init__(self) -> None:
        _whole(f"axis {self.name}: count", self.count, 1, MAX_GRID)
        low, high = float(self.low), float(self.high)
        ok = math.isfinite(low) and math.isfinite(high) and low <= high
        if not ok or (self.log and low <= 0):
            raise ValueError(f"axis {self.name}: need finite low <= high (low > 0 on a log axis), "
                             f"got {self.low!r}, {self.high!r}")

    def values(self) -> np.ndarray:
        """The ``count`` values, evenly spaced (geometrically when ``log``); exact ends."""
        spaced = np.geomspace if self.log else np.linspace
        values = spaced(float(self.low), float(self.high), self.count)
        values[0] = self.low
        values[-1] = self.high if self.count > 1 else self.low
        return values


@dataclass(frozen=True)
class HyperMap:
    """Steps to converge over two hyperparameters from one start; ``(ny, nx)``, row = y."""

    surface_id: str
    optimizer_id: str
    base_config: dict  # the settings every cell shares (the axes' names hold base values)
    start: tuple[float, float]
    steps: int
    x: Axis
    y: Axis
    xs: np.ndarray  # (nx,) = x.values()
    ys: np.ndarray  # (ny,) = y.values()
    status: np.ndarray
    steps_to_converge: np.ndarray
    final_loss: np.ndarray
    minimum_index: np.ndarray
    schedule: Any = None  #: the learning-rate schedule every cell used, or None


@dataclass(frozen=True)
class Sweep:
    """One optimizer over a range of learning rates from one start (see :data:`CRITERION`)."""

    optimizer_id: str
    learning_rates: np.ndarray  # (count,)
    final_loss: np.ndarray  # (count,) finite
    steps_to_converge: np.ndarray  # (count,) -1 where not converged
    status: np.ndarray  # (count,) int8
    tuned_learning_rate: float | None
    criterion: str = CRITERION


@functools.cache
def _with_columns(inner: type) -> type:
    """A state type: ``inner``'s fields plus ``per_start``, the ``(N, H)`` settings."""
    kind = collections.namedtuple(f"PerStart{inner.__name__}", (*inner._fields, "per_start"))
    kind._inner = inner
    return kind


def _per_start_rule(factory: Callable[..., update_rules.UpdateRule], scalars: dict[str, Any],
                    names: tuple[str, ...], columns: np.ndarray) -> update_rules.UpdateRule:
    """``factory``'s rule with ``names`` taking per-start values from ``columns`` (N, H).

    The columns ride in the state, so :func:`engine.landscape.simulate` drops them with the rows of
    stopped trajectories; the inner rule is rebuilt for the remaining rows when that happens.
    """
    built: list[Any] = [None, None]  # the columns array the rule was built for, the rule

    def rule_for(cols: np.ndarray) -> update_rules.UpdateRule:
        if built[0] is not cols:
            arrays = {name: cols[:, j : j + 1] for j, name in enumerate(names)}
            built[:] = [cols, factory(**scalars, **arrays)]
        return built[1]

    def init(params: np.ndarray) -> Any:
        if params.shape[0] not in (0, len(columns)):  # run() leaves out starts that stopped
            raise ValueError(f"per-start settings for {len(columns)} starts, got {len(params)}")
        inner = rule_for(columns[: len(params)]).init(params)
        return _with_columns(type(inner))(*inner, columns[: len(params)])

    def update(grads: np.ndarray, state: Any, params: np.ndarray) -> tuple[np.ndarray, Any]:
        cols = state.per_start
        new_params, inner = rule_for(cols).update(grads, type(state)._inner(*state[:-1]), params)
        return new_params, type(state)(*inner, cols)

    return update_rules.UpdateRule(init, update)


def batched_optimizer(optimizer_id: str, per_start: Mapping[str, Any],
                      learning_rate_schedule: Any = None, **settings: Any) -> optimizers.Optimizer:
    """An optimizer whose hyperparameters in ``per_start`` take one value per start.

    Parameters
    ----------
    optimizer_id, **settings
        Registry id and the Keras arguments every start shares (as for ``optimizers.get``).
    per_start
        Numeric hyperparameter name -> N values, each checked against the registry range
        (:class:`HyperParamError` naming the field otherwise).
    learning_rate_schedule
        A schedule every start shares, as for ``optimizers.get`` (then ``learning_rate``
        cannot vary per start).

    Returns
    -------
    Optimizer
        For runs of exactly N starts: start ``i`` follows the trajectory of
        ``optimizers.get(optimizer_id, **settings, name=values[i], ...)`` bit for bit.
        Its ``config`` holds the arrays: it has no single Keras equivalent.
    """
    spec = optimizers.spec(optimizer_id)
    names = tuple(per_start)
    if not names:
        raise ValueError("per_start: name at least one hyperparameter")
    for name in names:
        if name in settings:
            raise HyperParamError(name, "is given both per start and as a setting")
    config, values = spec.validate(**settings), []
    for name in names:
        if spec.param(name).kind == "bool":
            raise HyperParamError(name, "is true or false, not a number: it cannot vary by cell")
        values.append(np.asarray(per_start[name], dtype=np.float64).reshape(-1))
        for value in np.unique(values[-1]):  # every element, once per distinct value
            spec.param(name).validate(float(value))
    if len({len(v) for v in values}) > 1:
        raise ValueError("per_start: every hyperparameter needs the same number of values")
    if learning_rate_schedule is not None and "learning_rate" in names:
        raise HyperParamError("learning_rate", "is set by the schedule: it cannot vary by cell")
    columns = np.column_stack(values)
    scalars = {k: v for k, v in config.items() if k not in names}
    if learning_rate_schedule is not None:
        scalars["learning_rate"] = learning_rate_schedule
    config.update({name: column.copy() for name, column in zip(names, values, strict=True)})
    optimizers.one_clip(config)  # a per-start column counts as set
    rule = _per_start_rule(spec.rule, scalars, names, columns)
    # The schedule travels with the optimizer: a kernel reads it there (without it, a
    # compiled map ran the constant rate and ignored the schedule).
    return optimizers.Optimizer(spec, MappingProxyType(config), rule, learning_rate_schedule)


def _whole(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``; ``ValueError`` naming ``name`` otherwise."""
    whole = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    if not whole or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: must be a whole number {bounds}, got {value!r}")
    return int(value)


def _chunk_rows(nx: int, chunk_rows: int | None) -> int:
    return max(1, CHUNK_CELLS // nx) if chunk_rows is None else _whole("chunk_rows", chunk_rows, 1)


def _run(cancel: threading.Event | None, surface: Surface, optimizer: Any, starts: np.ndarray,
         steps: int, **options: Any) -> simulate.RunResult:
    """``simulate.run(..., keep_path=False)``, in pieces of at most :data:`CANCEL_POINT_STEPS`
    point-steps with ``cancel`` checked between them: a cancelled map of 8,192 cells ×
    100,000 steps ran on for minutes, taking a core and the GIL from the GUI. The results
    are the same as one run's (a stepper's chunks equal its whole run, bit for bit)."""
    stepper = simulate.Stepper(surface, optimizer, starts, steps, keep_path=False, **options)
    per_call = max(1, CANCEL_POINT_STEPS // max(1, len(stepper.status)))
    while stepper.step < stepper.budget:
        if cancel is not None and cancel.is_set():
            raise MapCancelled("cancelled")
        stepper.advance(per_call)
    return stepper.result()


def _run_rows(ny: int, nx: int, rows_per_chunk: int,
              run_chunk: Callable[[int, int], simulate.RunResult],
              cancel: threading.Event | None, progress: Progress) -> dict[str, np.ndarray]:
    """Call ``run_chunk(row0, row1)`` per chunk of rows; gather ``(ny, nx)`` summaries."""
    kinds = {"status": np.int8, "steps_to_converge": np.int64, "final_loss": np.float64,
             "minimum_index": np.int64}
    out = {name: np.empty((ny, nx), dtype=kind) for name, kind in kinds.items()}
    for row0 in range(0, ny, rows_per_chunk):
        if cancel is not None and cancel.is_set():
            raise MapCancelled("cancelled")
        row1 = min(ny, row0 + rows_per_chunk)
        result = run_chunk(row0, row1)
        shape = (row1 - row0, nx)
        converged = result.status == simulate.CONVERGED
        out["status"][row0:row1] = result.status.reshape(shape)
        out["steps_to_converge"][row0:row1] = np.where(converged, result.stop_step,
                                                       -1).reshape(shape)
        out["final_loss"][row0:row1] = result.final_loss.reshape(shape)
        out["minimum_index"][row0:row1] = result.minimum_index.reshape(shape)
        if progress is not None:
            progress(row1 / ny)
    return out


def _check_start(start: Any) -> tuple[float, float]:
    point = np.asarray(start, dtype=np.float64)
    if point.shape != (2,) or not np.all(np.isfinite(point)):
        raise ValueError(f"start: expected two finite coordinates (x, y), got {start!r}")
    return float(point[0]), float(point[1])


def start_map(surface: Surface, optimizer: optimizers.Optimizer, grid: int = 128,
              steps: int = 500, domain: Sequence[float] | None = None,
              tolerances: simulate.Tolerances | None = None,
              cancel: threading.Event | None = None, progress: Progress = None,
              chunk_rows: int | None = None,
              noise: simulate.GradientNoise | None = None,
              compiled: bool | None = None) -> StartMap:
    """Run ``optimizer`` for ``steps`` steps from every start of a ``grid`` × ``grid`` lattice.

    Parameters
    ----------
    surface, optimizer
        From :func:`engine.landscape.surfaces.get` and :func:`engine.optimizers.get`.
    grid, domain
        Points per axis (2 to 1024) over ``(x_min, x_max, y_min, y_max)``, edges included;
        the surface's default view if ``domain`` is None.
    tolerances
        Convergence and divergence criteria (:class:`engine.landscape.simulate.Tolerances`).
    cancel, progress
        ``cancel`` is checked before each chunk of rows (set: :class:`MapCancelled`);
        ``progress(fraction)`` is called after each chunk, the last time with 1.0.
    chunk_rows
        Rows per :func:`engine.landscape.simulate.run` call (default: about 8192 starts).
    noise
        Gradient noise keyed by the start, as a racer's (each cell repeats its single run).
    compiled
        As for :func:`engine.landscape.simulate.run`: None uses the compiled kernels when
        numba is available, False the NumPy reference; the map is the same either way.

    Returns
    -------
    StartMap
    """
    grid = _whole("grid", grid, 2, MAX_GRID)
    steps = _whole("steps", steps, 0)
    x0, x1, y0, y1 = (float(v) for v in (surface.domain if domain is None else domain))
    if not all(map(math.isfinite, (x0, x1, y0, y1))) or x0 >= x1 or y0 >= y1:
        raise ValueError(f"domain: need finite x_min < x_max, y_min < y_max, got {domain!r}")
    xs, ys = np.linspace(x0, x1, grid), np.linspace(y0, y1, grid)

    def run_chunk(row0: int, row1: int) -> simulate.RunResult:
        gx, gy = np.meshgrid(xs, ys[row0:row1])
        starts = np.column_stack([gx.ravel(), gy.ravel()])
        return _run(cancel, surface, optimizer, starts, steps, tolerances=tolerances,
                    noise=noise, compiled=compiled)

    out = _run_rows(grid, grid, _chunk_rows(grid, chunk_rows), run_chunk, cancel, progress)
    return StartMap(surface.id, optimizer.id, dict(optimizer.config), steps, xs, ys, **out)


def hyper_map(surface: Surface, optimizer_id: str, x: Axis, y: Axis, start: Sequence[float],
              steps: int = 500, base_settings: Mapping[str, Any] | None = None,
              tolerances: simulate.Tolerances | None = None,
              cancel: threading.Event | None = None, progress: Progress = None,
              chunk_rows: int | None = None, learning_rate_schedule: Any = None,
              compiled: bool | None = None) -> HyperMap:
    """Run ``optimizer_id`` from ``start`` for every pair of values on two axes.

    Parameters
    ----------
    surface, optimizer_id, start, steps
        The surface, a registry id, the start point and step budget of every cell.
    x, y
        Two different numeric hyperparameters of that optimizer; every value must lie in
        the registry's range (else :class:`HyperParamError` naming the field).
    base_settings
        Keras arguments every cell shares; the axes override their own names.
    tolerances, cancel, progress, chunk_rows, compiled
        As for :func:`start_map`.
    learning_rate_schedule
        A learning-rate schedule every cell uses (neither axis may then be ``learning_rate``).

    Returns
    -------
    HyperMap
        Cell ``[row, col]`` is the scalar run with ``y.name = ys[row]``, ``x.name = xs[col]``.
    """
    if x.name == y.name:
        raise HyperParamError(y.name, "the two axes need different hyperparameters")
    steps, point = _whole("steps", steps, 0), _check_start(start)
    base = {k: v for k, v in (base_settings or {}).items() if k not in (x.name, y.name)}
    xs, ys = x.values(), y.values()
    n = max(xs.size, ys.size)  # check every value and setting before any work:
    schedule = learning_rate_schedule
    batched_optimizer(optimizer_id, {x.name: np.resize(xs, n), y.name: np.resize(ys, n)},
                      schedule, **base)
    base_config = dict(optimizers.get(optimizer_id, **base).config)

    def run_chunk(row0: int, row1: int) -> simulate.RunResult:
        gx, gy = np.meshgrid(xs, ys[row0:row1])
        optimizer = batched_optimizer(optimizer_id, {x.name: gx.ravel(), y.name: gy.ravel()},
                                      schedule, **base)
        starts = np.broadcast_to(np.array(point), (gx.size, 2))
        return _run(cancel, surface, optimizer, starts, steps, tolerances=tolerances,
                    compiled=compiled)

    rows = _chunk_rows(len(xs), chunk_rows)
    out = _run_rows(len(ys), len(xs), rows, run_chunk, cancel, progress)
    return HyperMap(surface.id, optimizer_id, base_config, point, steps, x, y, xs, ys, **out,
                    schedule=schedule)


def tuned_rate(learning_rates: np.ndarray, status: np.ndarray, final_loss: np.ndarray,
               steps_to_converge: np.ndarray) -> float | None:
    """The tuned learning rate by :data:`CRITERION`; None if every rate diverged."""
    candidates = np.flatnonzero(np.asarray(status) != simulate.DIVERGED)
    if candidates.size == 0:
        return None
    loss = np.asarray(final_loss, dtype=np.float64)[candidates]
    best = int(np.argmin(loss))
    tied = np.abs(loss - loss[best]) <= 1e-12 * np.maximum(np.abs(loss), abs(loss[best]))
    converged = np.asarray(status)[candidates] == simulate.CONVERGED
    if converged[best]:
        tied |= converged
    steps = np.where(converged, np.asarray(steps_to_converge)[candidates], np.iinfo(np.int64).max)
    rates = np.asarray(learning_rates, dtype=np.float64)[candidates]
    # Sort key: fewest steps first, then the largest rate (lexsort: last key is primary).
    order = np.lexsort((-rates[tied], steps[tied]))
    return float(rates[tied][order[0]])


def lr_sweep(surface: Surface, optimizer_ids: Sequence[str], start: Sequence[float],
             steps: int = 500, low: float = 1e-4, high: float = 10.0, count: int = 41,
             base_settings: Mapping[str, Mapping[str, Any]] | None = None,
             tolerances: simulate.Tolerances | None = None,
             cancel: threading.Event | None = None, progress: Progress = None,
             compiled: bool | None = None) -> list[Sweep]:
    """Each optimizer over ``count`` log-spaced learning rates from ``low`` to ``high``.

    All rates of one optimizer run in one NumPy pass. The tuned rate follows one fair rule
    (:data:`CRITERION`): among rates that did not diverge, the lowest final loss after the
    same step budget; ties go to the fewest steps to converge, then to the larger rate.

    Parameters
    ----------
    surface, optimizer_ids, start, steps
        The surface, registry ids (swept in order), the start point and step budget.
    low, high, count
        The learning rates: ``Axis("learning_rate", low, high, count, log=True).values()``.
    base_settings
        Per optimizer id, the other Keras arguments (not ``learning_rate``).
    tolerances, cancel, progress, compiled
        As for :func:`start_map`, with one optimizer per chunk.

    Returns
    -------
    list of Sweep
        One per optimizer id, in order; final losses always finite.
    """
    steps, point = _whole("steps", steps, 0), _check_start(start)
    rates = Axis("learning_rate", low, high, count, log=True).values()
    settings = {k: dict(v) for k, v in (base_settings or {}).items()}
    if set(settings) - set(optimizer_ids):
        raise ValueError(f"base_settings: {sorted(set(settings) - set(optimizer_ids))} are not "
                         "in optimizer_ids")
    batched = [batched_optimizer(i, {"learning_rate": rates}, **settings.get(i, {}))
               for i in optimizer_ids]
    starts = np.broadcast_to(np.array(point), (rates.size, 2))
    sweeps = []
    for done, (optimizer_id, optimizer) in enumerate(zip(optimizer_ids, batched, strict=True)):
        if cancel is not None and cancel.is_set():
            raise MapCancelled("cancelled")
        result = _run(cancel, surface, optimizer, starts, steps, tolerances=tolerances,
                      compiled=compiled)
        to_converge = np.where(result.status == simulate.CONVERGED, result.stop_step, -1)
        tuned = tuned_rate(rates, result.status, result.final_loss, to_converge)
        sweeps.append(Sweep(optimizer_id, rates.copy(), result.final_loss, to_converge,
                            result.status, tuned))
        if progress is not None:
            progress((done + 1) / len(optimizer_ids))
    return sweeps
