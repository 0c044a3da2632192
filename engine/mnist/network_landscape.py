"""The network's own landscape: every optimizer's real training path on one plane, and the
MLP's loss surface on that plane.

:func:`compute` takes a :class:`Session` (each run's weight snapshots and the training
images) and returns a :class:`NetworkLandscape`: the plane (``pca``, ``endpoints`` or
``random``), the loss on a grid covering every projected snapshot, and, honestly, for every
snapshot its true loss, the surface's loss at its projected point and its distance from the
plane (the plane shows two of 101,770 directions; what lies off it is not drawn). Also the
1-D loss along the straight lines from the initial weights to each final point and between
two final points (Goodfellow et al., 2015), and a random-walk control: a walk with the same
step lengths, projected by PCA too, which looks just as smooth (Antognini &
Sohl-Dickstein, 2018). NumPy only; cancellable, with progress.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.mnist import loss_plane, settings
from engine.mnist.config import fit_samples
from engine.mnist.datasets import Dataset
from engine.mnist.loss_plane import Cancelled, Plane, PlaneError, SliceLoss
from engine.params import Param

__all__ = ["DEFAULT_GRID", "DEFAULT_SAMPLES", "GRID", "MAX_GRID", "MIN_GRID", "MIN_SAMPLES",
           "PLANES", "SAMPLES",
           "Cancelled", "NetworkLandscape", "PlaneError", "Run", "Session", "WalkControl",
           "compute", "session_from"]

PLANES = ("pca", "endpoints", "random")
PLANE_TITLES = {"pca": "PCA plane of all paths", "endpoints": "Plane through start and 2 ends",
                "random": "Random plane (filter-normalized)"}
#: Described once, for the engine, ``main.py landscape`` and the network view.
GRID = Param("grid", "int", 41, 11, 201, doc="Grid points per axis of the plane.")
SAMPLES = Param("samples", "int", 4000, settings.MIN_SAMPLES, settings.MAX_SAMPLES,
                doc="Training images the loss is measured on: the first N of the training "
                    "split.")
DEFAULT_GRID, MIN_GRID, MAX_GRID = GRID.default, GRID.low, GRID.high
DEFAULT_SAMPLES, MIN_SAMPLES = SAMPLES.default, SAMPLES.low
MARGIN = 0.2  #: the grid reaches this fraction of the paths' span beyond them
LINE_T = np.linspace(-0.25, 1.25, 61)  #: 0 and 1 are the line's two ends
#: Shares of the progress bar: plane, true losses, grid, surface at the paths, lines.
_STAGES = (0.05, 0.25, 0.55, 0.05, 0.10)


@dataclass(frozen=True)
class Run:
    """One optimizer's path: snapshots ``weights`` (S, P) taken after ``batches`` (S,);
    ``index`` is its place among the session's optimizers."""

    optimizer_id: str
    label: str
    weights: np.ndarray
    batches: np.ndarray
    status: str = "completed"
    index: int = 0


@dataclass(frozen=True)
class Session:
    """What a landscape is computed from: the runs (all from the same initial weights) and
    the training images the loss is measured on (float32 (N, 784) in [0, 1], and digits)."""

    runs: tuple[Run, ...]
    inputs: np.ndarray
    labels: np.ndarray
    batches_per_epoch: int

    @property
    def n_images(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class WalkControl:
    """A random walk with the step lengths of ``source``'s path, projected on its own PCA
    plane: ``path`` (S, 2) and the two explained-variance ratios."""

    source: str
    path: np.ndarray
    explained_variance: tuple[float, float]


@dataclass(frozen=True)
class NetworkLandscape:
    """The plane, the loss on it and every path on it (per-run tuples, in run order).

    ``loss[i, j]`` is the loss at ``(alpha[i], beta[j])``. For each run: ``paths`` (S, 2)
    plane coordinates of its snapshots, ``batches`` (S,), ``path_loss`` (true loss),
    ``surface_loss`` (the surface's loss at the projected point), ``off_plane`` (distance
    from the plane in weight space) and ``from_start`` (distance from the initial weights).
    ``start_to_final`` (K, len(line_t)): the loss on the line from the initial weights
    (t = 0) to each run's last snapshot (t = 1); ``between_finals`` the same from run
    ``between[0]``'s last snapshot to run ``between[1]``'s (None with one run).
    """

    plane: Plane
    run_indices: tuple[int, ...]
    optimizer_ids: tuple[str, ...]
    labels: tuple[str, ...]
    statuses: tuple[str, ...]
    alpha: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    paths: tuple[np.ndarray, ...]
    batches: tuple[np.ndarray, ...]
    path_loss: tuple[np.ndarray, ...]
    surface_loss: tuple[np.ndarray, ...]
    off_plane: tuple[np.ndarray, ...]
    from_start: tuple[np.ndarray, ...]
    n_images: int
    batches_per_epoch: int
    line_t: np.ndarray
    start_to_final: np.ndarray
    between_finals: np.ndarray | None
    between: tuple[int, int] | None
    walk: WalkControl | None

    def padded(self, values: tuple[np.ndarray, ...]) -> np.ndarray:
        """Per-run arrays as one (K, S, ...) array; a shorter run (stopped or diverged)
        repeats its last value (``counts()`` says how many are its own)."""
        longest = max(len(v) for v in values)
        return np.stack([np.concatenate([v, np.repeat(v[-1:], longest - len(v), axis=0)])
                         for v in values])

    def counts(self) -> np.ndarray:
        """Snapshots per run."""
        return np.array([len(p) for p in self.paths])


def session_from(results: Sequence, data: Dataset, validation_split: float,
                 batches_per_epoch: int, samples: int = DEFAULT_SAMPLES,
                 labels: Sequence[str] | None = None) -> Session:
    """A :class:`Session` from :func:`engine.mnist.training.train`'s results (trained with
    snapshots) on ``data`` (after its ``limit``): the first ``samples`` images of the
    training split (``fit`` holds out the last ``validation_split``). Runs without
    snapshots are left out."""
    split_at = fit_samples(len(data.x_train), validation_split)
    count = max(1, min(int(samples), split_at))
    runs = []
    for index, result in enumerate(results):
        trajectory = getattr(result, "trajectory", None)
        if trajectory is None or trajectory.count == 0:
            continue
        runs.append(Run(result.optimizer_id,
                        labels[index] if labels is not None else result.optimizer_id,
                        trajectory.weights, trajectory.batches, result.status, index))
    return Session(tuple(runs), loss_plane.images_as_inputs(data.x_train[:count]),
                   np.asarray(data.y_train[:count], dtype=np.int64), batches_per_epoch)


def build_plane(session: Session, kind: str, seed: int = 0) -> Plane:
    """The plane of ``kind`` for the session's runs (:class:`PlaneError` if impossible)."""
    runs = session.runs
    if not runs:
        raise PlaneError("no run recorded any weights")
    start = runs[0].weights[0]
    if kind == "pca":
        return loss_plane.pca_plane(np.concatenate([r.weights for r in runs]), start)
    if kind == "endpoints":
        if len(runs) < 2:
            raise PlaneError("the endpoints plane needs two optimizers")
        return loss_plane.endpoints_plane(start, runs[0].weights[-1], runs[1].weights[-1],
                                          (runs[0].label, runs[1].label))
    if kind == "random":
        return loss_plane.random_plane(runs[0].weights[-1], seed,
                                       f"{runs[0].label}'s final point")
    raise ValueError(f"unknown plane {kind!r} (valid: {', '.join(PLANES)})")


#: BLAS threads while a landscape is computed: its per-point products, (1000 × 128) ·
#: (128 × 10), are too small for threads (on this 2-core machine, busy, two threads made the
#: grid 5-10x slower than one), and one thread leaves the GUI its core.
BLAS_THREADS = 1


def compute(session: Session, plane: str = "pca", grid: int = DEFAULT_GRID, seed: int = 0,
            walk: bool = True, cancel: threading.Event | None = None,
            progress: Callable[[float], None] | None = None,
            threads: int = BLAS_THREADS) -> NetworkLandscape:
    """The landscape of ``session`` on a ``plane`` of ``grid`` × ``grid`` points, with
    NumPy's BLAS limited to ``threads`` meanwhile (see :func:`compute_unlimited` for the
    parameters)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        return compute_unlimited(session, plane, grid, seed, walk, cancel, progress)


def compute_unlimited(session: Session, plane: str = "pca", grid: int = DEFAULT_GRID,
                      seed: int = 0, walk: bool = True, cancel: threading.Event | None = None,
                      progress: Callable[[float], None] | None = None) -> NetworkLandscape:
    """The landscape of ``session`` on a ``plane`` of ``grid`` × ``grid`` points.

    Parameters
    ----------
    session
        Runs and images (:func:`session_from`).
    plane
        ``"pca"``, ``"endpoints"`` (the first two runs) or ``"random"`` (around the first
        run's final point, seeded by ``seed``).
    grid
        Points per axis, :data:`MIN_GRID` to :data:`MAX_GRID`.
    walk
        Also compute the random-walk control (seeded by ``seed``).
    cancel, progress
        A set event raises :class:`Cancelled`; ``progress(fraction)`` as it goes.

    Raises
    ------
    PlaneError
        When the plane cannot be built from these paths.
    """
    grid = GRID.validate(grid)
    report = _Progress(progress)
    runs = session.runs
    chosen = build_plane(session, plane, seed)
    _check(cancel)
    report.done(0)
    every = np.concatenate([r.weights for r in runs])
    true_loss = loss_plane.direct_losses(session.inputs, session.labels, every, cancel,
                                         report.within(1))
    projected, off = chosen.project(every)
    start = runs[0].weights[0].astype(np.float64)
    from_start = np.array([np.linalg.norm(w.astype(np.float64) - start) for w in every])
    alpha, beta = loss_plane.grid_axes(projected, grid, MARGIN,
                                       at_least=1.0 if plane == "random" else None)
    surface = SliceLoss(session.inputs, session.labels, chosen.origin, chosen.directions)
    loss = surface.grid(alpha, beta, cancel, report.within(2))
    at_paths = surface.losses(projected, cancel, report.within(3))
    lines, between, pair = _lines(session, cancel, report.within(4))
    control = _walk_control(runs[0], seed) if walk else None
    report.done(4)
    split = np.cumsum([len(r.weights) for r in runs])[:-1]
    return NetworkLandscape(
        plane=chosen, run_indices=tuple(r.index for r in runs),
        optimizer_ids=tuple(r.optimizer_id for r in runs),
        labels=tuple(r.label for r in runs), statuses=tuple(r.status for r in runs),
        alpha=alpha, beta=beta, loss=loss,
        paths=tuple(np.split(projected, split)), batches=tuple(r.batches for r in runs),
        path_loss=tuple(np.split(true_loss, split)),
        surface_loss=tuple(np.split(at_paths, split)), off_plane=tuple(np.split(off, split)),
        from_start=tuple(np.split(from_start, split)), n_images=session.n_images,
        batches_per_epoch=session.batches_per_epoch, line_t=LINE_T.copy(),
        start_to_final=lines, between_finals=between, between=pair, walk=control)


def _lines(session: Session, cancel: threading.Event | None,
           progress: Callable[[float], None]) -> tuple[np.ndarray, np.ndarray | None,
                                                       tuple[int, int] | None]:
    runs = session.runs
    start = runs[0].weights[0]
    jobs = [(start, r.weights[-1]) for r in runs]
    pair = (0, 1) if len(runs) > 1 else None
    if pair is not None:
        jobs.append((runs[0].weights[-1], runs[1].weights[-1]))
    values = []
    for index, (origin, end) in enumerate(jobs):
        direction = end.astype(np.float64) - origin
        line = SliceLoss(session.inputs, session.labels, origin, direction[None, :])
        values.append(line.losses(LINE_T[:, None], cancel))
        progress((index + 1) / len(jobs))
    between = values.pop() if pair is not None else None
    return np.array(values), between, pair


def _walk_control(run: Run, seed: int) -> WalkControl | None:
    lengths = loss_plane.step_lengths(run.weights)
    if len(lengths) < 2:
        return None
    walk = loss_plane.random_walk(run.weights[0], lengths, seed)
    try:
        plane = loss_plane.pca_plane(walk, walk[0])
    except PlaneError:
        return None
    coords, _ = plane.project(walk)
    return WalkControl(run.label, coords, plane.explained_variance)  # type: ignore[arg-type]


class _Progress:
    """Maps each stage's own 0..1 onto its share of the whole."""

    def __init__(self, callback: Callable[[float], None] | None) -> None:
        self.callback = callback
        self.starts = np.concatenate([[0.0], np.cumsum(_STAGES)])

    def done(self, stage: int) -> None:
        if self.callback is not None:
            self.callback(float(self.starts[stage + 1]))

    def within(self, stage: int) -> Callable[[float], None]:
        def report(fraction: float) -> None:
            if self.callback is not None:
                self.callback(float(self.starts[stage] + _STAGES[stage] * fraction))
        return report


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled
