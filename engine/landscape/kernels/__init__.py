"""Compiled, fused simulation kernels (numba), bit for bit equal to the NumPy rules.

A :class:`engine.landscape.simulate.Stepper` with ``keep_path=False`` (maps, sweeps, summary
runs) hands its steps to :class:`Backend`, which runs blocks of starts through all their
steps inside one compiled call instead of a dozen NumPy passes per step; the starting state,
the outcome rules and the result stay the stepper's own. Each kernel is compiled for one
optimizer family, one set of options and one surface (custom formulas share one that
interprets their gradient program), the first time it is needed, and cached on disk
(:mod:`engine.landscape.kernels.cache`); nothing compiles, and numba is not even imported,
before that. :func:`warm_up` compiles the common ones ahead, e.g. in a background thread.

Without numba (or with ``compiled=False``) the NumPy path runs; :func:`reason` says why.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from engine.landscape import status as _status
from engine.landscape.kernels import cache
from engine.landscape.kernels import codes as c
from engine.landscape.kernels.plan import (
    SLOT_FIELDS,
    Unsupported,
    optimizer_plan,
    surface_plan,
)

__all__ = ["Backend", "Unsupported", "available", "backend", "compile_log", "libm_loop",
           "reason", "set_threads", "warm_up"]

_MAX_MINIMA = 8  #: known minima a kernel checks (_parts.MAX_MINIMA)
BLOCK = 256  #: starts per block on catalog surfaces (a block's state stays in the L1 cache)
_lock = threading.Lock()
_entries: dict[tuple, Any] = {}
_log: list[dict[str, Any]] = []
_settings = {"threads": max(1, os.cpu_count() or 1)}
_pool: list[ThreadPoolExecutor] = []


def available() -> bool:
    """True when numba loads (imports it on the first call, about 0.3 s)."""
    return cache.load() is not None


def reason() -> str:
    """Why kernels are not used ("" when they are available)."""
    return cache.reason()


def set_threads(count: int) -> None:
    """How many threads a kernel call may use (default: every core)."""
    _settings["threads"] = max(1, int(count))


def compile_log() -> list[dict[str, Any]]:
    """One entry per kernel compiled or loaded from the disk cache in this process:
    ``name``, ``seconds`` and ``cached`` (loaded, not compiled)."""
    return list(_log)


def _compiled(name: str, dispatcher: Any, signature: tuple) -> Any:
    key = (name, signature)
    with _lock:
        if key not in _entries:
            hits = sum(dispatcher.stats.cache_hits.values())
            t0 = time.perf_counter()
            entry = dispatcher.compile(signature)
            seconds = time.perf_counter() - t0
            cached = sum(dispatcher.stats.cache_hits.values()) > hits
            _log.append({"name": name, "seconds": seconds, "cached": cached})
            _entries[key] = entry
        return _entries[key]


def libm_loop() -> Any:
    """The compiled loop behind :mod:`engine.landscape.libm`, or None without numba."""
    numba = cache.load()
    if numba is None:
        return None
    from engine.landscape.kernels import _libm

    array = numba.types.float64[::1]
    return _compiled("libm", _libm.apply, (numba.types.int64, array, array, array))


def _slot_count(family: int, flags: int) -> int:
    """The state slots a rule uses (as _parts.slot_count)."""
    if family == c.SGD:
        return 1 if flags & c.MOMENTUM else 0
    if family in (c.RMSPROP, c.ADAM):
        return 3 if flags & (c.CENTERED | c.AMSGRAD) else 2
    return 1 if family in (c.ADAGRAD, c.LION) else 2


def _run_blocks(entry: Any, head: list, scratch: list[list], tail: list) -> None:
    """Call ``entry(*head, first, stride, *scratch[first], *tail)`` on ``len(scratch)``
    threads, each taking every ``stride``-th block from ``first``."""
    threads = len(scratch)
    if threads <= 1:
        entry(*head, 0, 1, *scratch[0], *tail)
        return
    with _lock:
        if not _pool or _pool[0]._max_workers < threads:
            _pool[:] = [ThreadPoolExecutor(threads, thread_name_prefix="kernel")]
    jobs = [_pool[0].submit(entry, *head, t, threads, *scratch[t], *tail)
            for t in range(threads)]
    for job in jobs:
        job.result()


class Backend:
    """Advances one stepper's starts with a compiled kernel (see the module docstring)."""

    def __init__(self, stepper: Any, numba: Any) -> None:
        surface = surface_plan(stepper.surface)
        if len(stepper._centres) > _MAX_MINIMA:
            raise Unsupported(f"more than {_MAX_MINIMA} known minima")
        n = len(stepper.status)
        plan = optimizer_plan(stepper.optimizer, stepper.budget, n)
        noise = stepper._noise
        flags = plan.flags | (c.NOISE if noise is not None else 0)
        self.key = (plan.family, flags)
        self.surface_key = (surface.code, len(stepper._centres))
        active, state = stepper._active, stepper._state
        rows = slice(None) if active.size == n else active
        self.positions = np.zeros((2, n))
        self.gradients = np.zeros((2, n))
        fields = SLOT_FIELDS[plan.family][: _slot_count(plan.family, flags)]
        self.slots = np.zeros((2 * len(fields), n))
        self.positions[:, rows] = stepper._x.T
        self.gradients[:, rows] = stepper._g.T
        for s, name in enumerate(fields):
            values = getattr(state, name, None)  # zeros but Adagrad's accumulator
            if isinstance(values, np.ndarray) and values.shape == (len(active), 2) and values.any():
                self.slots[2 * s : 2 * s + 2, rows] = values.T
        self.status = np.zeros(n, dtype=np.int8)
        self.stop = np.zeros(n, dtype=np.int64)
        self.since = stepper.within_since.astype(np.int64)
        self.out = np.zeros((2, n))
        program = surface.program
        block = BLOCK if program is None else int(np.clip(32768 // program.registers, 16, BLOCK))
        tol = stepper.tolerances
        x_tol, grad_tol = float(tol.x_tol), float(tol.grad_tol)
        centres = np.ascontiguousarray(stepper._centres)
        # _surfaces.PARAMS values: surface constants, tolerances (and the halves under which
        # hypot is certainly within them), the box, the known minima.
        params = np.zeros(11 + 2 * _MAX_MINIMA)
        params[:3] = surface.constants
        params[3:7] = (x_tol * 0.5 if x_tol >= 1e-300 else -1.0, x_tol,
                       grad_tol * 0.5 if grad_tol >= 1e-300 else -1.0, grad_tol)
        params[7:11] = stepper.box
        params[11 : 11 + centres.size] = centres.reshape(-1)
        self._data = [
            plan.hp, plan.levels, plan.table, plan.rates,
            noise.keys(stepper._starts) if noise is not None else np.zeros(1, dtype=np.uint64),
            float(noise.scale) if noise is not None else 0.0, params,
            program.code if program else np.zeros((0, 4), dtype=np.int64),
            program.constant_registers if program else np.zeros(0, dtype=np.int64),
            program.constants if program else np.zeros(0),
            program.outputs if program else np.zeros(2, dtype=np.int64),
            centres, np.array(stepper.box, dtype=np.float64)]
        self.block = block
        self.registers = program.registers if program else 1
        self._numba = numba

    def _scratch(self) -> list[np.ndarray]:
        """One thread's work arrays: points/gradients, state slots, ints, flags, registers."""
        b = self.block
        return [np.empty((6, b)), np.empty((6, b)), np.empty((2, b), dtype=np.int64),
                np.empty(b, dtype=np.uint8), np.empty((self.registers, b))]

    def _entry(self, args: list) -> Any:
        """The compiled kernel for this rule and options (compiled, or loaded, once)."""
        from engine.landscape.kernels import _kernel, _surfaces

        numba = self._numba
        signature = (*(numba.types.literal(v) for v in self.key), _surfaces.FUNCTION_TYPE,
                     *(numba.typeof(a) for a in args))
        family, flags = self.key
        return _compiled(f"advance[family={family}, flags={flags}]", _kernel.advance, signature)

    def _pass(self) -> Any:
        """The compiled surface pass (see engine.landscape.kernels._surfaces)."""
        from engine.landscape.kernels import _surfaces

        code, minima = self.surface_key
        key = ("surface", self.surface_key)
        with _lock:
            if key not in _entries:
                t0 = time.perf_counter()
                compiled = _surfaces.surface_pass(code, minima)
                cached = bool(compiled.cache_hits)
                _log.append({"name": f"surface_pass[surface={code}, minima={minima}]",
                             "seconds": time.perf_counter() - t0, "cached": cached})
                _entries[key] = compiled
            return _entries[key]

    def advance(self, stepper: Any, target: int) -> None:
        """Take ``stepper`` from its step to ``target`` and update its records."""
        active = np.ascontiguousarray(stepper._active, dtype=np.int64)
        k0 = stepper.step
        if active.size and target > k0:
            state = [self.positions, self.gradients, self.slots, self.status, self.stop,
                     self.since, self.out, active]
            tail = [*self._data, k0, target]
            blocks = -(-active.size // self.block)
            work = active.size * (target - k0)  # point-steps: small runs stay on one thread
            threads = min(_settings["threads"], blocks, max(1, work // 200_000))
            scratch = [self._scratch() for _ in range(threads)]
            surface_pass = self._pass()
            entry = self._entry([*state, 0, 1, *scratch[0], *tail])
            _run_blocks(entry, [*self.key, surface_pass, *state], scratch, tail)
        self._collect(stepper, active, target)

    def _collect(self, stepper: Any, active: np.ndarray, target: int) -> None:
        codes_now = self.status[active]
        running = codes_now == c.RUNNING
        stopped = active[~running]
        going = active if not stopped.size else active[running]
        if stopped.size:
            left = stopped[self.status[stopped] == c.LEFT]
            outcome = np.full(stopped.size, _status.DIVERGED, dtype=np.int8)
            if left.size:  # left the box with a finite gradient: escaped if downhill
                with np.errstate(all="ignore"):
                    out_loss = stepper.surface.value(self.out[:, left].T)
                escaped = out_loss < stepper._start_loss[left]
                outcome[self.status[stopped] == c.LEFT] = np.where(
                    escaped, _status.ESCAPED, _status.DIVERGED)
            stepper.status[stopped] = outcome
            stepper.stop_step[stopped] = self.stop[stopped]
            stepper.within_since[stopped] = -1
            stepper.final[stopped] = self.positions[:, stopped].T
        every = going.size == self.since.size
        rows = slice(None) if every else going
        stepper.within_since[rows] = self.since[rows]
        stepper._active = going
        stepper._x = self.positions[:, rows].T.copy()
        stepper._g = self.gradients[:, rows].T.copy()
        stepper.step = target


def backend(stepper: Any, required: bool = False) -> Backend | None:
    """A :class:`Backend` for ``stepper``, or None where no kernel can run it.

    With ``required`` a missing numba or an unsupported surface or optimizer raises
    ``RuntimeError`` instead (``compiled=True``).
    """
    try:
        if stepper.keep_path:
            raise Unsupported("paths are recorded by the NumPy path")
        numba = cache.load()
        if numba is None:
            raise Unsupported(reason())
        return Backend(stepper, numba)
    except Unsupported as error:
        if required:
            raise RuntimeError(f"compiled kernels cannot run this: {error}") from None
        return None


def warm_up(surfaces: tuple[str, ...] = ("rosenbrock",),
            optimizers: tuple[str, ...] = ("adam",)) -> list[dict[str, Any]]:
    """Compile (or load from the disk cache) the kernels for these surfaces × optimizers
    and the gradient interpreter, by running each once on a few starts; returns
    :func:`compile_log`. Safe to call from a background thread; does nothing without numba.
    """
    if not available():
        return []
    from engine import optimizers as registry
    from engine.landscape import simulate
    from engine.landscape import surfaces as catalog

    libm_loop()
    starts = np.array([[0.5, 0.5], [-0.5, 0.25]])
    for surface_id in (*surfaces, "expr:x**2 + y**2"):
        surface = catalog.get(surface_id)
        for optimizer_id in optimizers:
            simulate.run(surface, registry.get(optimizer_id), starts, 2, keep_path=False,
                         compiled=True)
    return compile_log()
