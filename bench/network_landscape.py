"""Network landscape benchmark: the fast loss grid, a whole landscape, and the lockstep race.

1. ``grid``: the loss on a 41 × 41 grid of a plane through the MLP's weights, on 4,000
   bundled training images (``SliceLoss`` precomputation + ``grid``), BLAS limited to one
   thread (as the app runs it) and with every core. Target: <= 10 s.
2. ``landscape``: ``network_landscape.compute`` (PCA plane, true loss of every snapshot,
   grid, surface under the paths, 1-D lines, random-walk control) for a real session:
   SGD, RMSProp and Adam trained 5 epochs in lockstep on the bundled subset (3,200
   training images, 51 snapshots each).
3. ``race``: the cost per epoch of training SGD, RMSProp and Adam in lockstep against the
   sum of training them one after another (``keras.Model.fit`` each), run alternately.
   Lockstep: the wall time between the ends of consecutive epochs (all three optimizers,
   validation included); one after another: each run's own epoch times (validation
   included), summed over the optimizers. The first epoch (tracing) is left out.
   Target: lockstep <= 1.1 × the sum.

Run: ``.venv/bin/python bench/network_landscape.py [--repeats 3] [--only grid,landscape,race]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from engine.mnist import datasets, loss_plane, snapshots, training  # noqa: E402
from engine.mnist import network_landscape as nl  # noqa: E402
from engine.mnist.config import TrainConfig, TrainEntry  # noqa: E402

TRIO = ("sgd", "rmsprop", "adam")


def bench_grid(repeats: int) -> None:
    data = datasets.bundled()
    inputs = loss_plane.images_as_inputs(data.x_train[:4000])
    labels = data.y_train[:4000].astype(np.int64)
    center = snapshots.flatten(training.build_model(0).get_weights())
    plane = loss_plane.random_plane(center, seed=0)
    axis = np.linspace(-1, 1, 41)
    for threads in sorted({nl.BLAS_THREADS, os.cpu_count() or 1}):
        times = []
        for _ in range(repeats):
            with threadpool_limits(limits=threads, user_api="blas"):
                started = time.perf_counter()
                surface = loss_plane.SliceLoss(inputs, labels, plane.origin, plane.directions)
                surface.grid(axis, axis)
                times.append(time.perf_counter() - started)
        print(f"grid 41×41 on {len(labels):,} images, {threads} BLAS thread(s): best "
              f"{min(times):.2f} s, median {statistics.median(times):.2f} s "
              f"({1e3 * min(times) / 41**2:.2f} ms a point; target <= 10 s)")


def _trio_config(lockstep: bool, epochs: int) -> TrainConfig:
    return TrainConfig(optimizers=tuple(TrainEntry(i) for i in TRIO), epochs=epochs,
                       dataset="bundled", lockstep=lockstep)


def bench_landscape(repeats: int) -> None:
    data = datasets.bundled()
    results = training.train(_trio_config(True, 5), dataset=data, record_snapshots=True)
    session = nl.session_from(results, data, 0.2, batches_per_epoch=100)
    snaps = sum(len(r.weights) for r in session.runs)
    stages: dict[str, list[float]] = {}
    for _ in range(repeats):
        marks = [(0.0, time.perf_counter())]

        def progress(fraction, marks=marks):
            marks.append((fraction, time.perf_counter()))

        started = time.perf_counter()
        nl.compute(session, "pca", progress=progress)
        stages.setdefault("whole", []).append(time.perf_counter() - started)
        bounds = np.cumsum([0.0, *nl._STAGES])
        names = ("plane", "true losses", "grid", "surface at paths", "lines + walk")
        for name, low, high in zip(names, bounds[:-1], bounds[1:], strict=True):
            inside = [t for f, t in marks if low - 1e-9 <= f <= high + 1e-9]
            stages.setdefault(name, []).append(max(inside) - min(inside) if inside else 0.0)
    parts = ", ".join(f"{name} {statistics.median(v):.2f} s" for name, v in stages.items()
                      if name != "whole")
    print(f"landscape (PCA, 41×41, {session.n_images:,} images, {snaps} snapshots, "
          f"{nl.BLAS_THREADS} BLAS thread): median {statistics.median(stages['whole']):.2f}"
          f" s, best {min(stages['whole']):.2f} s ({parts})")
    print(f"snapshot memory: {snapshots.plan(500, 3).describe()} "
          f"(budget {snapshots.SNAPSHOT_BUDGET_BYTES / 2**20:.0f} MiB)")


class _EpochEnds(training.NullReporter):
    def __init__(self):
        self.ends: dict[int, float] = {}
        self.seconds: dict[int, list[float]] = {}

    def epoch_finished(self, index, log):
        self.ends[log.epoch] = time.perf_counter()  # the last optimizer's end wins
        self.seconds.setdefault(index, []).append(log.seconds)


def bench_race(repeats: int, epochs: int) -> None:
    data = datasets.bundled()
    training.train(_trio_config(True, 1), dataset=data)  # warm-up for both
    together, apart = [], []
    for repeat in range(repeats):
        reporter = _EpochEnds()
        training.train(_trio_config(True, epochs), reporter=reporter, dataset=data)
        ends = [reporter.ends[e] for e in range(epochs)]
        together.append(statistics.mean(np.diff(ends)))
        reporter = _EpochEnds()
        training.train(_trio_config(False, epochs), reporter=reporter, dataset=data)
        apart.append(sum(statistics.mean(s[1:]) for s in reporter.seconds.values()))
        print(f"repeat {repeat + 1}: lockstep {together[-1]:.3f} s/epoch, one after another "
              f"{apart[-1]:.3f} s/epoch summed")
    ratio = statistics.median(together) / statistics.median(apart)
    print(f"race ({', '.join(TRIO)}, batch 32, 3,200 + 800 images, epochs 2..{epochs}, median of "
          f"{repeats}): lockstep {statistics.median(together):.3f} s/epoch, one after another "
          f"{statistics.median(apart):.3f} s/epoch summed: {ratio:.2f}x (target <= 1.1)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5, help="race epochs (first dropped)")
    parser.add_argument("--only", default="grid,landscape,race")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    training.configure_threads(cores_for_gui=1)  # as the app does
    if "grid" in wanted:
        bench_grid(args.repeats)
    if "landscape" in wanted:
        bench_landscape(args.repeats)
    if "race" in wanted:
        bench_race(args.repeats, args.epochs)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
