"""The compiled path of a :class:`engine.landscape.simulate.Stepper` (``keep_path=False``).

A :class:`Backend` takes over a stepper's steps after the stepper has set everything up the
NumPy way (starting points, gradients, undefined and outside starts, the optimizer's first
state): it copies that state into the kernel's (N,) arrays, runs the kernel for the steps
asked, and writes back what the stepper records (statuses, steps, final points, the points
still going), deciding "escaped" or "diverged" for a point that left the box by its loss,
as the NumPy path does. No numba at import; the compiled pieces are fetched from
:mod:`engine.landscape.kernels.registry` on first use.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from engine.landscape import status as _status
from engine.landscape.kernels import codes as c
from engine.landscape.kernels import registry
from engine.landscape.kernels.plan import (
    SLOT_FIELDS,
    Unsupported,
    optimizer_plan,
    slot_count,
    surface_plan,
    velocity_row,
)

MAX_MINIMA = 8  #: known minima a kernel checks (as _parts.MAX_MINIMA)
BLOCK = 256  #: starts per block on catalog surfaces (a block's state stays in the L1 cache)
#: Runs of at least this many starts get a kernel fused with their surface (compiled per
#: rule, options and surface; 10-20 % faster). Fewer starts (races, sweeps) do not gain
#: what the compilations cost: their kernel, per rule and options, serves every surface.
FUSED_STARTS = 1024
EXACT = "exact_checks"  #: the registry name of the exact checks every kernel calls


def _aligned(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on a 64-byte cache line."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(size + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + size].view(dtype).reshape(shape)


class CompileFailed(RuntimeError):
    """A kernel could not be compiled; the stepper has not changed and NumPy can go on."""


class Backend:
    """Advances one stepper's starts with a compiled kernel (see the module docstring)."""

    def __init__(self, stepper: Any, numba: Any) -> None:
        surface = surface_plan(stepper.surface)
        if len(stepper._centres) > MAX_MINIMA:
            raise Unsupported(f"more than {MAX_MINIMA} known minima")
        n = len(stepper.status)
        plan = optimizer_plan(stepper.optimizer, stepper.budget, n)
        noise = stepper._noise
        flags = plan.flags | (c.NOISE if noise is not None else 0)
        flags |= c.RECORD if stepper.keep_path else 0
        self.key = (plan.family, flags)
        #: The surface's kernel code and number of known minima (0 for a custom formula).
        self.surface_key = (surface.code, len(stepper._centres) if surface.program is None else 0)
        # Final states of many starts (maps) get the fused kernel of this surface; races,
        # sweeps and custom formulas a kernel per rule that calls the surface's pass.
        self.fused = surface.program is None and not stepper.keep_path and n >= FUSED_STARTS
        active = stepper._active
        # Every rule's state starts at zeros but Adagrad's accumulator (rules.py): only then
        # is the stepper's state made and read.
        state = stepper._state if plan.family == c.ADAGRAD else None
        rows = slice(None) if active.size == n else active
        fields = SLOT_FIELDS[plan.family][: slot_count(plan.family, flags)]
        self.slots = np.zeros((2 * len(fields), n))
        if active.size == n:
            self.positions = np.array(stepper._x.T, order="C")  # copies: the kernel writes it
            self.gradients = np.array(stepper._g.T, order="C")
        else:
            self.positions, self.gradients = np.zeros((2, n)), np.zeros((2, n))
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
        # a custom formula's registers fit in 256 KB; a multiple of 8 keeps rows on cache lines
        block = BLOCK if program is None else int(np.clip(32768 // program.registers, 16, BLOCK))
        block = block // 8 * 8
        tol = stepper.tolerances
        x_tol, grad_tol = float(tol.x_tol), float(tol.grad_tol)
        centres = np.ascontiguousarray(stepper._centres)
        # _surfaces.PARAMS values: surface constants, tolerances (and the halves under which
        # hypot is certainly within them), the box, the known minima.
        params = np.zeros(11 + 2 * MAX_MINIMA)
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
        if stepper.keep_path:  # the rows the kernel writes (grads, velocities: the race's)
            shape = stepper.paths.shape
            vectors = stepper.keep_vectors
            # Every row is written before it is read (np.empty: zeroing budget-long arrays
            # was most of a 20-racer rebuild); a rule without a velocity has its velocity
            # rows zeroed as they are completed.
            self._data += [stepper.paths, stepper.grads if vectors else np.empty(shape),
                           stepper.velocities if vectors else np.empty(shape)]
        self._zero_velocities = velocity_row(plan.family, flags) < 0
        if not stepper.keep_path:
            self._data += [np.zeros((1, 1, 2))] * 3
        self.block = block
        self.registers = program.registers if program else 1
        self._numba = numba

    def _scratch(self) -> list[np.ndarray]:
        """One thread's work arrays: points/gradients, state slots, ints, flags, registers;
        each row starts on a cache line (block sizes are multiples of 8), so no vector load
        or store in the kernel's loop straddles two lines (2-3 % faster than NumPy's 16-byte
        alignment)."""
        b = self.block
        return [_aligned((6, b), np.float64), _aligned((6, b), np.float64),
                _aligned((2, b), np.int64), _aligned((b,), np.uint8),
                _aligned((self.registers, b), np.float64)]

    @property
    def names(self) -> tuple[str, ...]:
        """The registry names of the compiled pieces this backend runs: its kernel (with its
        surface when fused), the exact checks, and the surface pass it calls if not fused."""
        family, flags = self.key
        code, minima = self.surface_key
        if self.fused:
            return (f"advance[family={family}, flags={flags}, surface={code}, minima={minima}]",
                    EXACT)
        return (f"advance[family={family}, flags={flags}]", EXACT,
                f"surface_pass[surface={code}, minima={minima}]")

    def ready(self) -> bool:
        """True when every piece is here or in the disk cache (no compiling)."""
        return all(registry.known(name) for name in self.names)

    def loaded(self) -> bool:
        """True when every piece is in this process already (not even a disk load)."""
        return all(registry.loaded(name) for name in self.names)

    def kernel_key(self) -> tuple[int, int, int, int]:
        """The kernel's key (:func:`engine.landscape.kernels._kernel.kernel`)."""
        surface = self.surface_key if self.fused else (0, 0)
        return (*self.key, *surface)

    def signature(self) -> tuple:
        """The numba types of a run's arguments (a compiled surface pass's type without
        compiling one: its signature is fixed)."""
        from engine.landscape.kernels import _exact, _surfaces

        state, scratch, tail = self._arguments(np.zeros(1, dtype=np.int64), 0, 0, 1)
        types = [self._numba.typeof(a) for a in (*state, 0, 1, *scratch[0], *tail)]
        head = self._numba.typeof(0) if self.fused else _surfaces.FUNCTION_TYPE
        return (head, _exact.FUNCTION_TYPE, *types)

    def _entry(self) -> Any:
        """The compiled kernel (compiled, or loaded, once per process)."""
        from engine.landscape.kernels import _kernel

        def build() -> tuple[Any, bool]:  # only the first time in a process
            dispatcher = _kernel.kernel(*self.kernel_key())
            return registry.dispatcher_build(dispatcher, self.signature())()
        return registry.compiled(self.names[0], build)

    def _exact(self) -> Any:
        """The compiled exact checks (one for every kernel)."""
        from engine.landscape.kernels import _exact

        def build() -> tuple[Any, bool]:
            piece = _exact.exact_checks()
            return piece, bool(piece.cache_hits)
        return registry.compiled(EXACT, build)

    def _pass(self) -> Any:
        """The compiled surface pass, or 0 for a fused kernel (which never calls one: its
        branch is not even compiled, so the argument's type does not matter)."""
        from engine.landscape.kernels import _surfaces

        if self.fused:
            return 0

        def build() -> tuple[Any, bool]:
            piece = _surfaces.surface_pass(*self.surface_key)
            return piece, bool(piece.cache_hits)
        return registry.compiled(self.names[2], build)

    def _arguments(self, active: np.ndarray, k0: int, target: int, threads: int) -> tuple:
        state = [self.positions, self.gradients, self.slots, self.status, self.stop,
                 self.since, self.out, active]
        scratch = [self._scratch() for _ in range(threads)]
        return state, scratch, [*self._data, k0, target]

    def prepare(self) -> None:
        """Compile (or load) every piece without running anything."""
        self._pieces()

    def _pieces(self) -> tuple[Any, Any, Any]:
        """The surface pass, the exact checks and the kernel, compiled or loaded. One of the
        first two, when this machine has never compiled it, compiles in a child process
        (:mod:`.worker`) while the rest compiles here: a first run waits for the longer,
        not the sum."""
        from engine.landscape.kernels import worker

        # The child takes the surface pass if it must be compiled (the longest piece: a
        # custom formula's interpreter), else the exact checks; the rest compiles here.
        if not self.fused and not registry.known(self.names[2]):
            requests = [("pass", tuple(self.surface_key))]
        else:
            requests = [] if registry.known(EXACT) else [("exact", ())]
        apart = None
        if requests:
            apart = threading.Thread(target=worker.compiler().compile, args=(requests,),
                                     name="kernel-pieces", daemon=True)
            apart.start()
        try:
            entry = self._entry()
            if requests and requests[0][0] == "pass":
                self._exact()
        finally:
            if apart is not None:
                apart.join()
        # Disk loads when the child compiled them; compiled here if it could not.
        return self._pass(), self._exact(), entry

    def advance(self, stepper: Any, target: int) -> None:
        """Take ``stepper`` from its step to ``target`` and update its records."""
        active = np.ascontiguousarray(stepper._active, dtype=np.int64)
        k0 = stepper.step
        if active.size and target > k0:
            blocks = -(-active.size // self.block)
            work = active.size * (target - k0)  # point-steps: small runs stay on one thread
            threads = min(registry.threads(), blocks, max(1, work // 200_000))
            state, scratch, tail = self._arguments(active, k0, target, threads)
            try:  # compiled (or loaded) before anything changes
                surface_pass, exact, entry = self._pieces()
            except Exception as error:  # numba refused: the NumPy path takes over, unchanged
                raise CompileFailed(f"{type(error).__name__}: {error}") from error
            registry.run_threads(entry, [surface_pass, exact, *state], scratch, tail)
        if stepper.keep_path:
            self._complete_rows(stepper, active, k0, target)
        self._collect(stepper, active, target)

    def _complete_rows(self, stepper: Any, active: np.ndarray, k0: int, target: int) -> None:
        """Rows k0+1..target as the NumPy path records them: losses and gradient norms of
        the points the kernel wrote; a point whose loss is not finite diverged there (the
        NumPy path's rule with paths); after a point stopped, its rows repeat its last point
        (gradient too, velocity 0)."""
        if target <= k0:
            return
        paths, grads, velocities = self._data[-3:]
        rows = slice(k0 + 1, target + 1)
        if self._zero_velocities:  # the kernel writes none: rows of zeros, as NumPy's
            velocities[rows] = 0.0
        steps = np.arange(k0 + 1, target + 1)[:, None]
        stopped = self.status[active] != c.RUNNING
        last = np.where(stopped, self.stop[active] - 1, target)  # last row written
        with np.errstate(all="ignore"):
            loss = stepper.surface.value(paths[rows][:, active])
        written = steps <= last[None, :]
        bad = written & ~np.isfinite(loss)
        for column in np.flatnonzero(bad.any(axis=0)):  # the NumPy path's loss rule
            j, step = active[column], k0 + 1 + int(np.argmax(bad[:, column]))
            self.status[j], self.stop[j] = c.DIVERGED, step
            last[column] = step - 1
            self.positions[:, j] = paths[step - 1, j]
        written = steps <= last[None, :]
        norms = np.abs(np.ascontiguousarray(grads[rows][:, active]).view(np.complex128)[..., 0])
        stepper.losses[rows, active] = np.where(written, loss, 0.0)
        stepper.grad_norms[rows, active] = np.where(written, norms, 0.0)
        for column in np.flatnonzero(last < target):  # stopped in these steps
            j, end = active[column], last[column]
            for array in (paths, grads, stepper.losses, stepper.grad_norms):
                array[end + 1 : target + 1, j] = array[end, j]
            velocities[end + 1 : target + 1, j] = 0.0
        others = np.setdiff1d(np.arange(len(self.status)), active, assume_unique=True)
        if others.size:  # stopped before: their rows repeat
            for array in (paths, grads, velocities, stepper.losses, stepper.grad_norms):
                array[rows, others] = array[k0, others]

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
                if stepper.keep_path:  # there the loss must be finite too
                    escaped &= np.isfinite(out_loss)
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
        # Views: this backend's arrays change only in its next advance, which sets these again.
        stepper._x = self.positions[:, rows].T
        stepper._g = self.gradients[:, rows].T
        stepper.step = target
