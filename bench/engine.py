"""Engine benchmark: Adam on Rosenbrock, 256×256 starts × 500 steps, measured side by side.

Prints, from one run on this machine:

1. the vectorized engine with ``keep_path=False`` (best of 3 runs), and its cost per
   point-step;
2. a memory-bandwidth floor for the same work (the least data Adam must stream per step,
   at the copy bandwidth measured here), to say how far the engine is from it;
3. Keras's Adam stepping a ``tf.Variable`` eagerly, per point-step: one start per variable
   (a per-point loop in Keras) and all starts in one (N, 2) variable;
4. a per-point pure-Python loop of the same rule.

Run: ``make bench`` or ``.venv/bin/python bench/engine.py [--grid 256 --steps 500]``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import optimizers  # noqa: E402
from engine.landscape import simulate, surfaces  # noqa: E402


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def grid_starts(surface: surfaces.Surface, n: int) -> np.ndarray:
    x0, x1, y0, y1 = surface.domain
    xs, ys = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.column_stack([xs.ravel(), ys.ravel()])


def copy_bandwidth() -> float:
    """Bytes per second moved by a large float64 copy (read + write)."""
    src = np.ones(32 * 1024 * 1024 // 8 * 8)  # 256 MB
    dst = np.empty_like(src)
    seconds = best_of(5, lambda: np.copyto(dst, src))
    return 2 * src.nbytes / seconds


def python_loop(start: tuple[float, float], steps: int) -> tuple[float, float]:
    """Keras's Adam on Rosenbrock for one point, in plain Python floats."""
    lr, b1, b2, eps = 0.001, 0.9, 0.999, 1e-7
    x, y = start
    mx = my = vx = vy = 0.0
    for t in range(1, steps + 1):
        gx = -2 * (1 - x) - 400 * x * (y - x * x)
        gy = 200 * (y - x * x)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        mx += (gx - mx) * (1 - b1)
        my += (gy - my) * (1 - b1)
        vx += (gx * gx - vx) * (1 - b2)
        vy += (gy * gy - vy) * (1 - b2)
        x -= mx * alpha / (math.sqrt(vx) + eps)
        y -= my * alpha / (math.sqrt(vy) + eps)
    return x, y


def keras_per_point_step(surface, starts: np.ndarray, steps: int) -> float:
    """Seconds per point-step for Keras Adam applied eagerly to a variable of ``starts``."""
    import keras

    variable = keras.Variable(starts.astype(np.float32))
    opt = keras.optimizers.Adam()
    opt.apply([surface.grad(starts).astype(np.float32)], [variable])  # build outside the clock
    t0 = time.perf_counter()
    for _ in range(steps):
        grads = surface.grad(variable.numpy().astype(np.float64)).astype(np.float32)
        opt.apply([grads], [variable])
    return (time.perf_counter() - t0) / (steps * len(starts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=256)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()

    surface = surfaces.get("rosenbrock")
    adam = optimizers.get("adam")
    starts = grid_starts(surface, args.grid)
    n, steps = len(starts), args.steps
    point_steps = n * steps
    print(f"Adam on Rosenbrock, {args.grid}x{args.grid} = {n} starts x {steps} steps "
          f"({point_steps / 1e6:.1f} M point-steps); {os.cpu_count()} cores, "
          f"NumPy {np.__version__}")

    simulate.run(surface, adam, starts[:1000], 20, keep_path=False)  # warm-up
    engine_s = best_of(3, lambda: simulate.run(surface, adam, starts, steps, keep_path=False))
    engine_ns = engine_s / point_steps * 1e9
    result = simulate.run(surface, adam, starts, steps, keep_path=False)
    counts = np.bincount(result.status, minlength=3)
    print(f"engine (keep_path=False):   {engine_s:8.3f} s   {engine_ns:8.1f} ns/point-step   "
          f"(target <= 1.0 s; running/converged/diverged = {counts.tolist()})")

    bandwidth = copy_bandwidth()
    # Least traffic per point-step: read x, m, v and write them back (6 x 2 float64).
    floor_s = point_steps * 6 * 2 * 8 / bandwidth
    print(f"bandwidth floor:            {floor_s:8.3f} s   (copy bandwidth {bandwidth / 1e9:.1f} "
          f"GB/s; engine is {engine_s / floor_s:.1f}x the floor)")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras_steps = 50
    one = keras_per_point_step(surface, starts[:1], keras_steps)
    batch = keras_per_point_step(surface, starts, 10)
    print(f"Keras eager, 1 start/var:   {one * 1e9:11.0f} ns/point-step   "
          f"({one / (engine_s / point_steps):,.0f}x the engine)")
    print(f"Keras eager, (N,2) var:     {batch * 1e9:11.1f} ns/point-step   "
          f"({batch / (engine_s / point_steps):,.1f}x the engine)")

    loop_points, loop_steps = 20, steps
    t0 = time.perf_counter()
    for start in starts[:: max(1, n // loop_points)][:loop_points]:
        python_loop(tuple(start), loop_steps)
    loop = (time.perf_counter() - t0) / (loop_points * loop_steps)
    print(f"per-point Python loop:      {loop * 1e9:11.0f} ns/point-step   "
          f"({loop / (engine_s / point_steps):,.0f}x the engine)")


if __name__ == "__main__":
    main()
