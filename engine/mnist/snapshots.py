"""Weight snapshots along a training run: where the network's 101,770 weights went.

Training records every optimizer's weights at the same batches (the initial weights first,
then every ``every`` batches, and the final weights), flattened to one float32 vector per
snapshot. Memory is bounded: all optimizers' snapshots together take at most
:data:`SNAPSHOT_BUDGET_BYTES` (and each optimizer at most :data:`MAX_SNAPSHOTS`), and the
whole array is allocated when the run starts, so the bound holds from the first batch.
NumPy only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: All optimizers' snapshots of one session together take at most this many bytes.
SNAPSHOT_BUDGET_BYTES = 64 * 2**20
#: Snapshots per optimizer at most, the initial and the final weights included.
MAX_SNAPSHOTS = 101
#: The lesson's MLP: Dense(784 -> 128) kernel and bias, Dense(128 -> 10) kernel and bias,
#: in Keras's ``get_weights()`` order (a Dense kernel is (inputs, units)).
LAYER_SHAPES: tuple[tuple[int, ...], ...] = ((784, 128), (128,), (128, 10), (10,))
N_PARAMS = sum(math.prod(shape) for shape in LAYER_SHAPES)  # 101,770


@dataclass(frozen=True)
class SnapshotPlan:
    """When snapshots are taken: after ``0, every, 2·every, …`` batches and after the last
    batch (``total_batches``), ``count`` in all per optimizer."""

    every: int
    total_batches: int
    count: int
    n_optimizers: int
    n_params: int = N_PARAMS

    @property
    def bytes_per_optimizer(self) -> int:
        """float32 weights of ``count`` snapshots."""
        return self.count * self.n_params * 4

    @property
    def total_bytes(self) -> int:
        """All optimizers' snapshots together (at most :data:`SNAPSHOT_BUDGET_BYTES`)."""
        return self.n_optimizers * self.bytes_per_optimizer

    def batches(self) -> np.ndarray:
        """The batch counts (batches done since the start) at which snapshots are taken."""
        regular = np.arange(0, self.total_batches + 1, self.every)
        if regular[-1] != self.total_batches:
            regular = np.append(regular, self.total_batches)
        return regular

    def describe(self) -> str:
        """One line for the user, e.g. ``"51 snapshots per optimizer (every 10 batches),
        62 MB in all"``."""
        return (f"{self.count} snapshots per optimizer (every {self.every} batch"
                f"{'es' if self.every != 1 else ''}), {self.total_bytes / 1e6:.0f} MB in all")


def plan(total_batches: int, n_optimizers: int, n_params: int = N_PARAMS,
         budget_bytes: int = SNAPSHOT_BUDGET_BYTES,
         max_snapshots: int = MAX_SNAPSHOTS) -> SnapshotPlan:
    """The snapshot schedule of a session within the memory budget.

    Parameters
    ----------
    total_batches
        Batches each optimizer trains (epochs × batches per epoch), at least 1.
    n_optimizers
        Optimizers of the session (they share the budget).
    n_params, budget_bytes, max_snapshots
        Weights per snapshot (float32), the budget for all optimizers together, and the
        most snapshots per optimizer. At least 2 per optimizer (the initial and the final
        weights) are always taken.
    """
    if total_batches < 1 or n_optimizers < 1:
        raise ValueError("a session trains at least one batch with at least one optimizer")
    fits = budget_bytes // (n_optimizers * n_params * 4)
    most = max(2, min(max_snapshots, int(fits)))
    if most == 2:
        every = total_batches
    else:
        every = max(1, math.ceil(total_batches / (most - 2)))
    count = total_batches // every + 1 + (total_batches % every != 0)
    return SnapshotPlan(every, total_batches, count, n_optimizers, n_params)


def flatten(weights: Sequence[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
    """Keras's ``get_weights()`` list as one float32 vector (each array row-major, in order)."""
    size = sum(int(np.size(w)) for w in weights)
    vector = np.empty(size, dtype=np.float32) if out is None else out
    offset = 0
    for array in weights:
        flat = np.asarray(array, dtype=np.float32).ravel()
        vector[offset:offset + flat.size] = flat
        offset += flat.size
    return vector


def unflatten(vector: np.ndarray,
              shapes: Sequence[tuple[int, ...]] = LAYER_SHAPES) -> list[np.ndarray]:
    """The inverse of :func:`flatten`: views of ``vector`` shaped as ``shapes``."""
    expected = sum(math.prod(shape) for shape in shapes)
    if vector.shape[-1] != expected:
        raise ValueError(f"expected {expected} weights, got {vector.shape[-1]}")
    arrays, offset = [], 0
    for shape in shapes:
        size = math.prod(shape)
        arrays.append(vector[offset:offset + size].reshape(shape))
        offset += size
    return arrays


class Trajectory:
    """One optimizer's snapshots: ``weights`` (S, P) float32 and ``batches`` (S,) — the
    batch count at which each was taken. Only finite weights are kept (a diverging run's
    trajectory ends at its last finite snapshot)."""

    def __init__(self, snapshot_plan: SnapshotPlan) -> None:
        self.plan = snapshot_plan
        self._weights = np.empty((snapshot_plan.count, snapshot_plan.n_params), np.float32)
        self._batches = np.empty(snapshot_plan.count, dtype=np.int64)
        self.count = 0

    @property
    def weights(self) -> np.ndarray:
        """The snapshots recorded so far, (S, P) float32 (a view, not a copy)."""
        return self._weights[:self.count]

    @property
    def batches(self) -> np.ndarray:
        """Batch count of each snapshot (0 = the initial weights)."""
        return self._batches[:self.count]

    def due(self, batches_done: int) -> bool:
        """Whether the plan takes a snapshot after ``batches_done`` batches."""
        return batches_done % self.plan.every == 0 or batches_done == self.plan.total_batches

    def record(self, batches_done: int, weights: Sequence[np.ndarray]) -> bool:
        """Keep ``weights`` (Keras's list) as the snapshot after ``batches_done`` batches
        (once per batch count; non-finite weights are refused). True if kept."""
        if self.count and self._batches[self.count - 1] >= batches_done:
            return False
        if self.count == self.plan.count:
            return False
        row = self._weights[self.count]
        flatten(weights, out=row)
        if not np.isfinite(row).all():
            return False
        self._batches[self.count] = batches_done
        self.count += 1
        return True
