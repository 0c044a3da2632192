"""What a kernel needs to know, computed in Python exactly as the NumPy rules compute it.

:func:`optimizer_plan` reads a registry optimizer's config (scalars, or per-start arrays from
:func:`engine.landscape.maps.batched_optimizer`) and returns the family, the option flags,
the hyperparameter table and the per-step tables, each value derived with the same Python or
NumPy operation :mod:`engine.optimizers.rules` uses (``1 - beta_1``, float32 rounding through
``rules._cast``, C ``pow`` for ``β^t``, Nadam's running product), so the kernel only repeats
the arithmetic of one step. :func:`surface_plan` says how a kernel computes a surface's
gradient. No numba here.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.landscape import libm
from engine.landscape.gradients import FUNCTIONS, PointGradient
from engine.landscape.kernels import codes as c
from engine.landscape.kernels.program import CompiledGradient, compile_gradient
from engine.optimizers import rules
from engine.optimizers import schedules as schedule_module

_FAMILIES = {rules.sgd: c.SGD, rules.rmsprop: c.RMSPROP, rules.adagrad: c.ADAGRAD,
             rules.adadelta: c.ADADELTA, rules.adam: c.ADAM, rules.adamax: c.ADAMAX,
             rules.nadam: c.NADAM, rules.lion: c.LION}
#: The optimizer state fields each family keeps, in slot order (two coordinates each).
SLOT_FIELDS = {c.SGD: ("momentum",), c.RMSPROP: ("velocity", "momentum", "average_gradient"),
               c.ADAGRAD: ("accumulator",),
               c.ADADELTA: ("accumulated_grad", "accumulated_delta_var"),
               c.ADAM: ("momentum", "velocity", "velocity_hat"), c.ADAMAX: ("momentum", "norm"),
               c.NADAM: ("momentum", "velocity"), c.LION: ("momentum",)}


def slot_count(family: int, flags: int) -> int:
    """How many state slots (two coordinates each, :data:`SLOT_FIELDS` order) a rule uses."""
    if family == c.SGD:
        return 1 if flags & c.MOMENTUM else 0
    if family in (c.RMSPROP, c.ADAM):
        return 3 if flags & (c.CENTERED | c.AMSGRAD) else 2
    return 1 if family in (c.ADAGRAD, c.LION) else 2


def velocity_row(family: int, flags: int) -> int:
    """The row of a kernel's slot array that holds the state slot Keras calls ``momentum``
    (the velocity drawn in a race), or -1 for a rule without one."""
    if family in (c.SGD, c.RMSPROP):
        if not flags & c.MOMENTUM:
            return -1
        return 0 if family == c.SGD else 2
    return -1 if family in (c.ADAGRAD, c.ADADELTA) else 0


class Unsupported(ValueError):
    """A surface or optimizer no kernel can run (the NumPy path still can)."""


@dataclass(frozen=True)
class OptimizerPlan:
    family: int
    flags: int
    hp: np.ndarray  # (HP_ROWS, N) per start, or (HP_ROWS, 1)
    levels: np.ndarray  # (2, N) int64 rows of ``table`` per start, or (2, 1) zeros
    table: np.ndarray  # (4, L, T) per-step values by level
    rates: np.ndarray  # (T,) learning rate per step (when not per start)


@dataclass(frozen=True)
class SurfacePlan:
    code: int
    constants: np.ndarray  # (3,) float64
    program: CompiledGradient | None = None


def surface_plan(surface: Any) -> SurfacePlan:
    """How a kernel computes ``surface.grad``; :class:`Unsupported` when it cannot."""
    grad = surface.grad
    if isinstance(grad, PointGradient) and grad.function in FUNCTIONS:
        constants = np.zeros(3)
        constants[: len(grad.constants)] = grad.constants
        return SurfacePlan(FUNCTIONS.index(grad.function) + 1, constants)
    owner = getattr(grad, "__self__", None)
    program = getattr(owner, "gradient_program", None)
    if program is not None and getattr(grad, "__name__", "") == "grad":
        return SurfacePlan(c.PROGRAM, np.zeros(3), _compiled(owner))
    raise Unsupported(f"surface {surface.id!r}: its gradient is not one a kernel can compute")


@functools.lru_cache(maxsize=64)
def _compiled(expression: Any) -> CompiledGradient:
    return compile_gradient(expression.gradient_program)


def _powers(levels: np.ndarray, steps: int) -> np.ndarray:
    """``level ** t`` for t = 1..steps, as ``rules._powers`` computes them (Python's C
    ``pow``; the compiled C ``pow`` loop for big tables). Kept for the next stepper with the
    same levels and budget (read-only): a race of 20 Adam racers at 100,000 steps built
    these tables again for every racer on every surface change (about 15 ms a racer, in
    the GUI thread)."""
    return _kept(_powers_of, levels, steps)


def _kept(build: Any, levels: Any, steps: int) -> np.ndarray:
    """``build(levels, steps)``, made once per function, levels and budget (read-only)."""
    return _kept_table(build, tuple(float(v) for v in np.asarray(levels).reshape(-1)),
                       int(steps))


@functools.lru_cache(maxsize=48)
def _kept_table(build: Any, levels: tuple[float, ...], steps: int) -> np.ndarray:
    table = build(np.array(levels, dtype=np.float64), steps)
    table.flags.writeable = False
    return table


def _powers_of(levels: np.ndarray, steps: int) -> np.ndarray:
    if len(levels) * steps <= 50_000:
        return np.array([[float(v) ** k for k in range(1, steps + 1)] for v in levels],
                        dtype=np.float64).reshape(len(levels), steps)
    exponents = np.arange(1, steps + 1, dtype=np.float64)
    return libm.power(levels[:, None], exponents[None, :]).reshape(len(levels), steps)


def _levels(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and each start's index into them (one level for a scalar)."""
    if isinstance(value, np.ndarray):
        levels, index = np.unique(value, return_inverse=True)
        return levels, index.astype(np.int64)
    return np.array([float(value)]), np.zeros(1, dtype=np.int64)


def optimizer_plan(optimizer: Any, steps: int, n: int) -> OptimizerPlan:
    """The kernel's view of ``optimizer`` for runs of ``n`` starts and ``steps`` steps."""
    family = _FAMILIES.get(optimizer.spec.rule)
    if family is None:
        raise Unsupported(f"optimizer {optimizer.id!r}: no kernel for its rule")
    config = dict(optimizer.config)
    per_start = any(isinstance(v, np.ndarray) for v in config.values())
    width = n if per_start else 1
    hp = np.zeros((c.HP_ROWS, width))
    flags = c.PER_START if per_start else 0

    def put(row: int, value: Any) -> None:
        hp[row] = np.broadcast_to(np.asarray(value, dtype=np.float64).reshape(-1), (width,))

    schedule = getattr(optimizer, "learning_rate_schedule", None)
    learning_rate = config["learning_rate"]
    if schedule is not None and per_start:
        raise Unsupported("a schedule with per-start settings")
    if schedule is None:
        put(c.LR, learning_rate)
        rates = _constant_rates(0.0 if per_start else float(learning_rate), steps)
    elif isinstance(schedule, schedule_module.Schedule):
        rates = schedule_module.values(schedule, steps)
    else:
        rates = np.array([float(schedule(k)) for k in range(steps)], dtype=np.float64)
    clips = {name: config.get(name) for name in ("clipnorm", "global_clipnorm", "clipvalue")}
    clips = {k: v for k, v in clips.items() if isinstance(v, np.ndarray) or v}
    if "clipnorm" in clips:
        flags |= c.CLIPNORM
        put(c.CLIP, clips["clipnorm"])
    elif "global_clipnorm" in clips:
        flags |= c.GLOBAL_CLIPNORM
        put(c.CLIP, clips["global_clipnorm"])
        put(c.CLIP_INV, 1.0 / clips["global_clipnorm"])
    elif "clipvalue" in clips:
        flags |= c.CLIPVALUE
        put(c.CLIP, clips["clipvalue"])
    if config.get("weight_decay") is not None:
        flags |= c.WEIGHT_DECAY
        put(c.WD, rules._cast(config["weight_decay"]))
    if "epsilon" in config:
        put(c.EPS, config["epsilon"])
    levels = np.zeros((2, width), dtype=np.int64)
    tables: dict[int, np.ndarray] = {}  # table row -> (L, T)
    made_of: list[tuple] = []  # what the tables are made of: the key of their stack

    def level_table(level_row: int, value: Any, rows: dict[int, Any]) -> None:
        found, index = _levels(value)
        if per_start:
            levels[level_row] = np.broadcast_to(index, (width,))
        made_of.append((level_row, tuple(found.tolist()), tuple(rows)))
        for row, values in rows.items():
            tables[row] = values(found)

    if family == c.SGD:
        momentum = config["momentum"]
        if isinstance(momentum, np.ndarray) or momentum != 0:
            flags |= c.MOMENTUM | (c.NESTEROV if config["nesterov"] else 0)
        put(c.P1, rules._cast(momentum))
    elif family in (c.RMSPROP, c.ADADELTA):
        rho = config["rho"]
        put(c.P1, rho)
        put(c.P2, 1 - rho)
        if family == c.RMSPROP:
            momentum = config["momentum"]
            if isinstance(momentum, np.ndarray) or momentum > 0:
                flags |= c.MOMENTUM
            flags |= c.CENTERED if config["centered"] else 0
            put(c.P3, momentum)
    elif family in (c.ADAM, c.ADAMAX):
        beta_1, beta_2 = config["beta_1"], config["beta_2"]
        put(c.P1, 1 - beta_1)
        put(c.P2, 1 - beta_2 if family == c.ADAM else beta_2)
        level_table(0, rules._cast(beta_1), {0: lambda v: _powers(v, steps)})
        if family == c.ADAM:
            flags |= c.AMSGRAD if config["amsgrad"] else 0
            level_table(1, rules._cast(beta_2), {3: lambda v: _powers(v, steps)})
    elif family == c.NADAM:
        beta_1 = config["beta_1"]
        b1, b2 = rules._cast(beta_1), rules._cast(config["beta_2"])
        put(c.P1, 1 - b1)
        put(c.P2, 1 - b2)
        level_table(0, beta_1, {row: (lambda v, r=row: _nadam_products(v, steps)[r])
                                for row in range(3)})
        level_table(1, b2, {3: lambda v: _powers(v, steps)})
    elif family == c.LION:
        b1, b2 = rules._cast(config["beta_1"]), rules._cast(config["beta_2"])
        put(c.P1, b1)
        put(c.P2, 1.0 - b1)
        put(c.P3, b2)
        put(c.P4, 1.0 - b2)
    table = _stacked((family, steps, tuple(made_of)), tables, steps)
    return OptimizerPlan(family, flags, hp, levels, table, rates)


_STACKS_KEPT = 24
_stacks: dict[tuple, np.ndarray] = {}  # oldest first
_stacks_lock = threading.Lock()


def _stacked(key: tuple, tables: dict[int, np.ndarray], steps: int) -> np.ndarray:
    """:func:`_stack` of ``tables``, kept per ``key`` (the family, the budget and the levels
    the tables are made of), shared by every plan with the same key: nothing writes it. A
    race rebuilt 20 racers' (4, L, T) stacks on every surface change, 64 MB of zeros at
    100,000 steps (7 ms of the GUI thread)."""
    with _stacks_lock:  # a map's worker thread makes plans too
        table = _stacks.pop(key, None)
        if table is None:
            table = _stack(tables, steps)
        _stacks[key] = table  # the newest last
        while len(_stacks) > _STACKS_KEPT:
            del _stacks[next(iter(_stacks))]
    return table


@functools.lru_cache(maxsize=16)
def _constant_rates(rate: float, steps: int) -> np.ndarray:
    """A constant learning rate's per-step table, shared (nothing writes it)."""
    return np.full(steps, rate)


def _nadam_products(beta_1: np.ndarray, steps: int) -> np.ndarray:
    """Nadam's running product, u_t and u_(t+1) per level, as (3, L, T); kept for the next
    stepper with the same levels and budget, as :func:`_powers` is."""
    return _kept(_nadam_of, beta_1, steps)


def _nadam_of(beta_1: np.ndarray, steps: int) -> np.ndarray:
    """The tables as rules.nadam computes them step by step: the running product in Python
    floats (the same C doubles and the same order, a hundred times faster than NumPy scalars
    and arrays per step), u_t and u_(t+1) from the C ``pow`` as Python's ``**`` takes it."""
    b1, decay = rules._cast(beta_1), rules._cast(0.96)
    out = np.empty((3, len(beta_1), steps))
    for level, beta in enumerate(beta_1.tolist()):
        u_product, row = 1.0, out[0, level]
        for k in range(1, steps + 1):
            u_product = u_product * beta * (1.0 - 0.5 * 0.96**k)
            row[k - 1] = u_product
    if steps:
        k = np.arange(1, steps + 2, dtype=np.float64)
        powers = libm.power(decay, k)  # decay ** 1 .. decay ** (steps + 1)
        out[1] = b1[:, None] * (1.0 - 0.5 * powers[None, :steps])
        out[2] = b1[:, None] * (1.0 - 0.5 * powers[None, 1:])
    return out


def _stack(tables: dict[int, np.ndarray], steps: int) -> np.ndarray:
    """The tables as one (4, L, T) array. Rows 0–2 go by the start's first level (β1):
    Adam's and Adamax's β1^t in row 0, Nadam's running product, u_t and u_(t+1) in rows
    0–2; row 3 by its second level (β2): β2^t."""
    width = max((values.shape[0] for values in tables.values()), default=1)
    table = np.zeros((4, width, max(steps, 1)))
    for row, values in tables.items():
        table[row, : values.shape[0], :steps] = values
    return table
