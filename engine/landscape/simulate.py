"""The simulation runner: one optimizer from N starts for T steps, vectorized over starts.

``run(surface, optimizer, starts, steps)`` advances all N starts in one NumPy pass per step
and gives each path one outcome (:mod:`engine.landscape.status`):

* ``converged`` at step k: from step k to the end of the run, every point is within ``x_tol``
  of a known minimum, or has a gradient norm below ``grad_tol`` after a step shorter than
  ``x_tol`` (:data:`engine.landscape.status.CONVERGENCE_RULE`). A path that passes through
  that tolerance and leaves it again is not converged there: every path runs to its budget,
  and k is the first step of its last unbroken stretch inside the tolerance.
* ``diverged`` at step k: the step produced a non-finite point, gradient or loss, or left the
  surface's box (:meth:`Tolerances.box_for`) going uphill; the path stops at its last point
  in the box (step k − 1).
* ``escaped`` at step k: the step left the box going downhill (a finite loss below the
  start's), as on a surface unbounded below; it stops the same way.
* ``undefined``: f or its gradient is not finite at the start; nothing runs.
* ``not_converged``: none of these within the step budget.

These are the only early stops. NumPy's floating-point warnings are silenced inside the
runner (divergence is a result, not an error) and no NaN or infinity ever leaves it. With
:class:`GradientNoise` the optimizer sees a noisy gradient; everything recorded and every
criterion above use the true gradient.

Distances and gradient norms are compared with their tolerances as the C library's
``hypot`` decides (NumPy's fast complex ``abs`` settles every case but those within a hair
of the tolerance, where ``hypot`` itself decides). The steps run in a compiled kernel when
numba is available (:mod:`engine.landscape.kernels`), which makes the same decisions with
the same arithmetic: both paths give equal results, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

from engine.landscape import kernels, libm, limits
from engine.landscape import status as _status
from engine.landscape.surfaces import Surface
from engine.optimizers import Optimizer
from engine.params import ParamError, describe_value

NOT_CONVERGED, CONVERGED, DIVERGED, ESCAPED, UNDEFINED = (
    _status.NOT_CONVERGED, _status.CONVERGED, _status.DIVERGED, _status.ESCAPED,
    _status.UNDEFINED)
STATUS_NAMES = _status.IDS  #: outcome ids indexed by status code


def _mix64(z: np.ndarray) -> np.ndarray:  # SplitMix64's output function; uint64 arrays wrap
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass(frozen=True)
class GradientNoise:
    """Gaussian noise ``scale · N(0, 1)`` added to each gradient coordinate the optimizer sees.

    Keyed by the start: at 0-based step k a start gets two Box-Muller normals from draw k+1 of
    a SplitMix64 stream seeded by ``seed`` and its coordinates, never depending on the other
    starts or when they stopped (a map cell repeats the single run); equal starts, equal noise.
    """

    scale: float
    seed: int = 0

    def __post_init__(self) -> None:
        """Check both against :data:`engine.landscape.limits.NOISE_SCALE`/``NOISE_SEED``
        (:class:`engine.params.ParamError`, a ValueError, naming the field)."""
        limits.NOISE_SCALE.check_json(self.scale, "noise scale")
        if isinstance(self.seed, bool) or not isinstance(self.seed, Integral):
            raise ParamError("noise seed",
                             f"must be a whole number, got {describe_value(self.seed)}")
        limits.NOISE_SEED.check_json(self.seed, "noise seed")

    def keys(self, starts: Any) -> np.ndarray:
        """Each start's stream key ``(N,)`` uint64 (the seed mixed with its coordinates)."""
        bits = (np.array(starts, dtype=np.float64).reshape(-1, 2) + 0.0).view(np.uint64)  # -0 = 0
        return _mix64(_mix64(_mix64(np.array([self.seed], np.uint64)) ^ bits[:, 0]) ^ bits[:, 1])

    def draw(self, starts: Any, step: int) -> np.ndarray:
        """The noise ``(N, 2)`` that runs from ``starts`` ``(N, 2)`` add at 0-based ``step``
        (``log`` is the C library's, as in the compiled kernels)."""
        key = self.keys(starts)
        draw = _mix64(key + np.uint64((step + 1) * 0x9E3779B97F4A7C15 % 2**64))  # 32 + 32 bits
        radius = np.sqrt(-2.0 * libm.log(((draw >> np.uint64(32)) + 1.0) * 2.0**-32))  # u in (0, 1]
        angle = (draw & np.uint64(0xFFFFFFFF)) * (2 * np.pi * 2.0**-32)
        return self.scale * np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


@dataclass(frozen=True)
class Tolerances:
    """When a path counts as converged, diverged or escaped.

    Parameters
    ----------
    x_tol
        Distance to a known minimum that counts as arrived; also the largest step length
        that counts as "stopped moving" for the gradient criterion.
    grad_tol
        Gradient norm below which a point that has stopped moving counts as stationary.
    bound
        Half-width of the square box ``|x|, |y| <= bound`` a path must stay in. ``None``:
        :meth:`box_for` decides from the surface.
    """

    x_tol: float = 1e-3
    grad_tol: float = 1e-5
    bound: float | None = None

    def box_for(self, surface: Surface) -> tuple[float, float, float, float]:
        """``(x_min, x_max, y_min, y_max)`` a path must stay in, else it stops.

        With ``bound`` set, the square of that half-width. On a surface known to be unbounded
        below (``surface.bounded_below is False``: the saddles), the map itself: a path that
        leaves it has escaped (downhill) or diverged (uphill). Otherwise the square 1000 times
        the largest coordinate of the map (a custom formula, whose shape is unknown, too).
        """
        if self.bound is not None:
            b = float(self.bound)
            return (-b, b, -b, b)
        if surface.bounded_below is False:
            return tuple(float(v) for v in surface.domain)  # type: ignore[return-value]
        b = 1e3 * max(1.0, *(abs(v) for v in surface.domain))
        return (-b, b, -b, b)

    def bound_for(self, surface: Surface) -> float:
        """The largest coordinate a point of :meth:`box_for` can have."""
        return max(abs(v) for v in self.box_for(surface))


@dataclass(frozen=True)
class RunResult:
    """What ``run`` returns; arrays are indexed by start (and by step for paths).

    ``paths`` (T+1, N, 2), ``losses`` (T+1, N) and ``grad_norms`` (T+1, N) are present only
    with ``keep_path=True``; after a path stops (diverged, escaped), its rows repeat its last
    point.
    """

    steps: int
    status: np.ndarray  # (N,) int8: a code of engine.landscape.status
    #: (N,) int: converged: first step of the final stretch inside the tolerance; diverged,
    #: escaped: the step that left; undefined: 0; not converged: -1.
    stop_step: np.ndarray
    final_point: np.ndarray  # (N, 2), always finite
    final_loss: np.ndarray  # (N,), always finite
    minimum_index: np.ndarray  # (N,) index into surface.minima of the nearest one within x_tol, or -1
    paths: np.ndarray | None = None
    losses: np.ndarray | None = None
    grad_norms: np.ndarray | None = None

    def status_name(self, i: int = 0) -> str:
        """The outcome id of start ``i`` (:data:`engine.landscape.status.IDS`)."""
        return STATUS_NAMES[int(self.status[i])]

    def path(self, i: int = 0) -> np.ndarray:
        """The trajectory of start ``i`` up to where it stopped: (k+1, 2)."""
        if self.paths is None:
            raise ValueError("run(..., keep_path=False) keeps no paths")
        return self.paths[: self.last_index(i) + 1, i]

    def path_losses(self, i: int = 0) -> np.ndarray:
        """Losses along :meth:`path`."""
        if self.losses is None:
            raise ValueError("run(..., keep_path=False) keeps no losses")
        return self.losses[: self.last_index(i) + 1, i]

    def last_index(self, i: int = 0) -> int:
        """Index of the last meaningful row of the path of start ``i``."""
        return _last_row(int(self.status[i]), int(self.stop_step[i]), self.steps)


def _last_row(code: int, stop: int, steps: int) -> int:
    """The last row of a path: where a stopped one was last in the box, else its last step."""
    if code in (DIVERGED, ESCAPED):
        return stop - 1  # -1 (an empty path) for a start outside the box
    if code == UNDEFINED:
        return -1
    return steps


def _as_starts(starts: Any) -> np.ndarray:
    array = np.array(starts, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"starts: expected shape (N, 2), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("starts: every coordinate must be a finite number")
    return array


def _nearest_minimum(surface: Surface, points: np.ndarray, x_tol: float) -> np.ndarray:
    """Index of the known minimum within ``x_tol`` of each point, or -1."""
    index = np.full(points.shape[0], -1, dtype=np.int64)
    if not surface.minima:
        return index
    centres = np.array([m.point for m in surface.minima], dtype=np.float64)
    # hypot(dx, dy) >= max(|dx|, |dy|) (it is exact for one zero argument and faithfully
    # rounded otherwise), so only points within x_tol in both coordinates are measured.
    x, y = points[:, 0], points[:, 1]
    mask = np.zeros(points.shape[0], dtype=bool)
    for cx, cy in centres:
        mask |= (np.abs(x - cx) <= x_tol) & (np.abs(y - cy) <= x_tol)
    near = np.flatnonzero(mask)
    best = np.full(near.size, np.inf)
    chosen = np.full(near.size, -1, dtype=np.int64)
    for j, centre in enumerate(centres):
        distance = np.hypot(points[near, 0] - centre[0], points[near, 1] - centre[1])
        closer = (distance <= x_tol) & (distance < best)
        chosen[closer] = j
        best = np.where(closer, distance, best)
    index[near] = chosen
    return index


def _as_complex(points: np.ndarray) -> np.ndarray:
    """(N, 2) float64 viewed as N complex numbers x + iy, without copying when contiguous.

    ``np.abs`` of that view is the row norm in one contiguous pass (hypot, overflow-safe):
    about ten times faster than column arithmetic or broadcasting a (2,) operand.
    """
    return np.ascontiguousarray(points, dtype=np.float64).view(np.complex128)[:, 0]


def _at_most(z: np.ndarray, tol: float, norm: np.ndarray | None = None) -> np.ndarray:
    """``hypot(z.real, z.imag) <= tol`` as the C library's ``hypot`` decides it.

    NumPy's complex ``abs`` (a SIMD loop, within a few units in the last place of ``hypot``)
    rules out every row above ``tol·(1 + 1e-12)``; ``np.hypot`` (the C function) decides the
    rest, as a compiled kernel does (:mod:`engine.landscape.kernels`). ``norm``: ``np.abs(z)``
    when the caller has it.
    """
    near = (np.abs(z) if norm is None else norm) <= tol * (1 + 1e-12) + 1e-300
    if near.any():
        rows = np.flatnonzero(near)
        close = z[rows]
        near[rows] = np.hypot(close.real, close.imag) <= tol
    return near


def _finite_norm(z: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """``hypot(z.real, z.imag) < inf`` (``norm`` is ``np.abs(z)``; only huge rows recheck)."""
    result = norm < 1e300
    if not result.all():
        rest = z[~result]
        result[~result] = np.hypot(rest.real, rest.imag) < np.inf
    return result


def _near_any_minimum(centres: np.ndarray, z: np.ndarray, x_tol: float) -> np.ndarray:
    """Which points (as :func:`_as_complex` numbers) lie within ``x_tol`` of a centre."""
    near = np.zeros(z.shape[0], dtype=bool)
    for cx, cy in centres:
        near |= _at_most(z - complex(cx, cy), x_tol)
    return near


def _take(state: Any, keep: np.ndarray) -> Any:
    """The optimizer state restricted to the starts in ``keep`` (arrays with a leading N)."""
    return type(state)(
        *(f[keep] if isinstance(f, np.ndarray) and f.ndim == 2 else f for f in state)
    )


class Stepper:
    """A resumable run: N starts advanced in chunks, so a GUI can compute ahead of playback.

    ``advance(k)`` takes up to ``k`` more steps (never past ``budget``) and writes the rows
    it computes into preallocated arrays when ``keep_path`` is set; ``result()`` returns
    what has been computed so far as a :class:`RunResult`. ``run`` is one ``advance`` call.

    Until the budget is spent a path's convergence is not known (it may still leave the
    tolerance): ``status`` holds only the early stops (diverged, escaped, undefined) and
    ``within_since`` the first step of each path's current stretch inside the tolerance
    (-1 outside). When ``complete``, ``status`` and ``stop_step`` are final.

    With ``keep_vectors`` the stepper also records, per step, the gradient at each point and
    the optimizer's velocity (its ``momentum`` state slot, for optimizers that have one), for
    drawing the internals of an update (true gradients: ``noise`` reaches the optimizer only).

    ``compiled``: None runs the steps in a compiled kernel when one can
    (:mod:`engine.landscape.kernels`; with paths, only once numba is loaded and the kernel
    compiled, so a race never waits for a compiler), False always uses NumPy, True requires
    the kernel (``RuntimeError`` where none can run). Results are equal either way, paths,
    losses, gradient norms, gradients and velocities included.
    """

    def __init__(
        self,
        surface: Surface,
        optimizer: Optimizer,
        starts: Any,
        budget: int,
        keep_path: bool = True,
        tolerances: Tolerances | None = None,
        keep_vectors: bool = False,
        noise: GradientNoise | None = None,
        compiled: bool | None = None,
    ) -> None:
        if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 0:
            raise ValueError(f"steps: must be a whole number >= 0, got {budget!r}")
        self.surface, self.optimizer = surface, optimizer
        self.budget = int(budget)
        self.keep_path = keep_path or keep_vectors
        self.keep_vectors = keep_vectors
        tol = self.tolerances = tolerances or Tolerances()
        x0, x1, y0, y1 = self.box = tol.box_for(surface)
        self._low, self._high = np.array([x0, y0]), np.array([x1, y1])
        #: Half-width of the largest square around 0 inside the box (a one-pass test).
        self._inner = max(0.0, min(-x0, x1, -y0, y1))
        self._centres = np.array([m.point for m in surface.minima], dtype=np.float64).reshape(-1, 2)

        points = _as_starts(starts)
        n = points.shape[0]
        self.step = 0
        self.complete = False
        self.status = np.full(n, NOT_CONVERGED, dtype=np.int8)
        self.stop_step = np.full(n, -1, dtype=np.int64)
        self.within_since = np.full(n, -1, dtype=np.int64)
        self.final = points.copy()
        with np.errstate(all="ignore"):
            grads = surface.grad(points)
            start_loss = surface.value(points)
            defined = np.isfinite(_as_complex(grads)) & np.isfinite(start_loss)  # both coords
            inside = self._inside(points)
            self.status[~defined] = UNDEFINED
            self.status[defined & ~inside] = DIVERGED
            self.stop_step[~(defined & inside)] = 0
            start_ok = defined & inside
            at_min = _near_any_minimum(self._centres, _as_complex(points), tol.x_tol) & start_ok
            self.within_since[at_min] = 0
        if self.keep_path:
            rows = self.budget + 1
            self.paths = np.empty((rows, n, 2))
            self.paths[0] = points
            self.losses = np.empty((rows, n))
            self.grad_norms = np.empty((rows, n))
            # A start where the surface is undefined has an empty path: these placeholder
            # zeros are never shown, and they keep NaN out of every array.
            self.losses[0] = np.where(start_ok, start_loss, 0.0)
            self.grad_norms[0] = np.where(start_ok, np.hypot(grads[:, 0], grads[:, 1]), 0.0)
        if keep_vectors:
            # Each row is written when its step is taken (as every row of the paths): zeroing
            # them took 25-50 ms of a surface change with 20 racers at 100,000 steps.
            self.grads = np.empty((rows, n, 2))
            self.grads[0] = np.where(start_ok[:, None], grads, 0.0)
            self.velocities = np.empty((rows, n, 2))
            self.velocities[0] = 0.0
        self._start_loss = start_loss
        self._active = np.flatnonzero(start_ok)
        every = self._active.size == n  # the usual case: no copies needed
        self._x = points if every else points[self._active]
        self._g = grads if every else grads[self._active]
        # The optimizer's state is made when first asked for (the NumPy path's first step, a
        # kernel whose rule does not start at zeros): a kernel keeps its own.
        self._full_state: Any = None
        self._noise, self._starts = (noise if noise and noise.scale > 0 else None), points
        self._required = compiled is True
        self._backend = None if compiled is False else kernels.backend(self, self._required)
        if self.budget == 0:
            self._finish()

    @property
    def _state(self) -> Any:
        """The optimizer state of the starts still going (the NumPy path's)."""
        if self._full_state is None:
            self._full_state = self.optimizer.init(self._x)
        return self._full_state

    @_state.setter
    def _state(self, state: Any) -> None:
        self._full_state = state

    @property
    def has_velocity(self) -> bool:
        """True when the optimizer has a velocity (``momentum`` state slot) to record."""
        return hasattr(self._state, "momentum")

    @property
    def compiled(self) -> bool:
        """True when a compiled kernel takes this stepper's steps."""
        return self._backend is not None

    def _inside(self, points: np.ndarray) -> np.ndarray:
        """Which rows of ``points`` lie in the box (one pass when all are well inside)."""
        if np.abs(points).max(initial=0.0) <= self._inner:
            return np.ones(points.shape[0], dtype=bool)
        return np.all((points >= self._low) & (points <= self._high), axis=1)

    @property
    def done(self) -> bool:
        """True when the budget is spent or every path has stopped."""
        return self.step >= self.budget or self._active.size == 0

    def advance(self, max_steps: int | None = None) -> int:
        """Take up to ``max_steps`` more steps (all that are left by default); return how many."""
        target = self.budget if max_steps is None else min(self.budget, self.step + max_steps)
        first = self.step
        if self._backend is not None:
            try:
                if target > self.step:
                    self._backend.advance(self, target)
            except kernels.CompileFailed:
                if self._required:
                    raise
                self._backend = None  # nothing changed: NumPy takes the steps instead
            else:
                if self.step >= self.budget:
                    self._finish()
                return self.step - first
        with np.errstate(all="ignore"):
            while self.step < target:
                if self._active.size == 0:
                    self._fill_rest(target)
                    break
                self._one_step()
        if self.step >= self.budget:
            self._finish()
        return self.step - first

    def _finish(self) -> None:
        """The budget is spent: a path inside the tolerance since step k converged at k."""
        if self.complete:
            return
        self.complete = True
        active = self._active
        converged = active[self.within_since[active] >= 0]
        self.status[converged] = CONVERGED
        self.stop_step[converged] = self.within_since[converged]

    def _fill_rest(self, target: int) -> None:
        k = self.step
        if self.keep_path:
            self.paths[k + 1 : target + 1] = self.paths[k]
            self.losses[k + 1 : target + 1] = self.losses[k]
            self.grad_norms[k + 1 : target + 1] = self.grad_norms[k]
        if self.keep_vectors:
            self.grads[k + 1 : target + 1] = self.grads[k]
            self.velocities[k + 1 : target + 1] = self.velocities[k]
        self.step = target

    def _one_step(self) -> None:
        surface, active, x = self.surface, self._active, self._x
        k = self.step + 1
        noise = self._noise and self._noise.draw(self._starts[active], self.step)
        x_new, state = self.optimizer.update(self._g if noise is None else self._g + noise,
                                             self._state, x)
        g_new = surface.grad(x_new)
        z_new = _as_complex(x_new)
        z_grad = _as_complex(g_new)
        grad_norm = np.abs(z_grad)
        # NaN or an infinite gradient fails "< inf"; the box test runs per row only when
        # some coordinate is near its edge (rare), keeping the common step cheap.
        ok = _finite_norm(z_grad, grad_norm)
        left = ~self._inside(x_new)
        if self.keep_path:
            loss = surface.value(x_new)
            ok &= np.isfinite(loss)
        escaped = np.zeros_like(left)
        if left.any():  # downhill (a finite loss below the start's) or uphill
            out_loss = surface.value(x_new[left])
            escaped[left] = ok[left] & (out_loss < self._start_loss[active[left]])
        diverged = ~ok | (left & ~escaped)
        within = _near_any_minimum(self._centres, z_new, self.tolerances.x_tol)
        stationary = _at_most(z_grad, self.tolerances.grad_tol, grad_norm)
        if stationary.any():
            within |= stationary & _at_most(z_new - _as_complex(x), self.tolerances.x_tol)
        since = self.within_since[active]
        self.within_since[active] = np.where(within, np.where(since < 0, k, since), -1)
        stopped = diverged | escaped
        if self.keep_path:
            self.paths[k] = self.paths[k - 1]
            self.losses[k] = self.losses[k - 1]
            self.grad_norms[k] = self.grad_norms[k - 1]
            self.paths[k, active] = np.where(stopped[:, None], x, x_new)
            self.losses[k, active] = np.where(stopped, self.losses[k - 1, active], loss)
            self.grad_norms[k, active] = np.where(stopped, self.grad_norms[k - 1, active],
                                                  grad_norm)
        if self.keep_vectors:
            self.grads[k] = self.grads[k - 1]
            self.velocities[k] = self.velocities[k - 1]
            self.grads[k, active] = np.where(stopped[:, None], self._g, g_new)
            velocity = getattr(state, "momentum", None)
            if velocity is not None:
                self.velocities[k, active] = np.where(stopped[:, None], 0.0, velocity)
        if stopped.any():
            for code, rows in ((DIVERGED, diverged), (ESCAPED, escaped)):
                here = active[rows]
                self.status[here] = code
                self.stop_step[here] = k
                self.within_since[here] = -1
                self.final[here] = x[rows]
            keep = ~stopped
            self._active = active[keep]
            self._x, self._g = x_new[keep], g_new[keep]
            self._state = _take(state, keep)
        else:
            self._x, self._g, self._state = x_new, g_new, state
        self.step = k

    def last_index(self, i: int = 0) -> int:
        """The last row of path ``i`` computed so far that it reached (see :class:`RunResult`)."""
        code = int(self.status[i])
        if code in (DIVERGED, ESCAPED, UNDEFINED):
            return _last_row(code, int(self.stop_step[i]), self.step)
        return self.step

    def result(self) -> RunResult:
        """Everything computed so far (paths cut to the steps taken). Statuses are final only
        when :attr:`complete`; before, a path that has not stopped reads ``not_converged``."""
        final = self.final.copy()
        final[self._active] = self._x
        with np.errstate(all="ignore"):
            final_loss = self.surface.value(final)
        final_loss = np.where(np.isfinite(final_loss), final_loss, np.finfo(np.float64).max)
        rows = self.step + 1
        return RunResult(
            steps=self.step,
            status=self.status.copy(),
            stop_step=self.stop_step.copy(),
            final_point=final,
            final_loss=final_loss,
            minimum_index=_nearest_minimum(self.surface, final, self.tolerances.x_tol),
            paths=self.paths[:rows] if self.keep_path else None,
            losses=self.losses[:rows] if self.keep_path else None,
            grad_norms=self.grad_norms[:rows] if self.keep_path else None,
        )


def run(
    surface: Surface,
    optimizer: Optimizer,
    starts: Any,
    steps: int,
    keep_path: bool = True,
    tolerances: Tolerances | None = None,
    noise: GradientNoise | None = None,
    compiled: bool | None = None,
) -> RunResult:
    """Run ``optimizer`` on ``surface`` from every start for ``steps`` steps.

    Parameters
    ----------
    surface
        From :func:`engine.landscape.surfaces.get`.
    optimizer
        From :func:`engine.optimizers.get`.
    starts
        Shape ``(N, 2)`` or one point ``(2,)``; finite coordinates.
    steps
        Step budget T >= 0.
    keep_path
        Keep whole paths ``(T+1, N, 2)`` with losses and gradient norms. With ``False``
        only per-start summaries are kept, so memory is O(N), not O(T·N); the outcomes
        are the same.
    tolerances
        Convergence and divergence criteria (:class:`Tolerances`).
    noise
        :class:`GradientNoise` added to the gradient the optimizer sees; ``None``: exact.
    compiled
        ``None``: a compiled kernel takes the steps when numba is available (see
        :class:`Stepper`); ``False``: always NumPy (the reference); ``True``: the kernel or
        ``RuntimeError``. The results are the same, bit for bit.

    Returns
    -------
    RunResult
    """
    stepper = Stepper(surface, optimizer, starts, steps, keep_path, tolerances, noise=noise,
                      compiled=compiled)
    stepper.advance()
    return stepper.result()
