"""Engine benchmark: the compiled kernels and the NumPy reference side by side, in one run.

Prints, from one run on this machine:

1. Adam on Rosenbrock, 256×256 starts × 500 steps, final states (``keep_path=False``): the
   NumPy path and the compiled kernel (best of several runs), per point-step, and a
   memory-bandwidth floor for what the NumPy path streams per step;
2. the same on the Rosenbrock formula typed as a custom formula (the kernel interprets its
   gradient program);
3. Keras's Adam stepping one (N, 2) ``tf.Variable`` eagerly, per point-step, against both;
4. live-map sized work: 128×128 starts × 300 steps (``start_map``) for a few optimizers and
   surfaces, and a 128×128 hyperparameter map (target: ≤ 66 ms, i.e. 15 updates a second);
5. a race of 4 racers × 2000 steps with paths, gradients and velocities, both ways, and one
   racer recomputed after a settings change as ``race.Race`` does it;
6. compilation: in fresh processes with an empty kernel cache, the first map including
   numba's import and every compilation, each kernel's compile time, and the same first
   map once the cache is warm.

Run: ``make bench`` or ``.venv/bin/python bench/engine.py [--grid 256 --steps 500]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import allocator, optimizers  # noqa: E402
from engine.landscape import kernels, maps, race, simulate, surfaces  # noqa: E402
from engine.landscape.kernels.runner import FUSED_STARTS  # noqa: E402

FORMULA = "expr:(1 - x)**2 + 100*(y - x**2)**2"


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


def side_by_side(label: str, surface, optimizer, starts, steps: int) -> tuple[float, float]:
    run = simulate.run
    # compile first (a map's kernel, fused with its surface, as the timed runs use)
    run(surface, optimizer, starts[:FUSED_STARTS], 5, keep_path=False, compiled=True)
    numpy_s = best_of(2, lambda: run(surface, optimizer, starts, steps, keep_path=False,
                                     compiled=False))
    kernel_s = best_of(5, lambda: run(surface, optimizer, starts, steps, keep_path=False,
                                      compiled=True))
    work = len(starts) * steps
    print(f"{label:44s} NumPy {numpy_s:7.3f} s ({numpy_s / work * 1e9:5.1f} ns/pt-step)   "
          f"kernel {kernel_s:7.4f} s ({kernel_s / work * 1e9:5.2f} ns/pt-step)   "
          f"{numpy_s / kernel_s:5.1f}x")
    return numpy_s, kernel_s


_COLD = """
import json, sys, time
t0 = time.perf_counter()
from engine import allocator, optimizers
from engine.landscape import kernels, maps, surfaces
allocator.keep_freed_memory()  # as main.main does
surface = surfaces.get(sys.argv[1])
optimizer = optimizers.get(sys.argv[2])
t1 = time.perf_counter()
maps.start_map(surface, optimizer, grid=128, steps=300)
t2 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "first_map": t2 - t1, "log": kernels.compile_log()}))
"""


def cold_start(folder: str, surface_id: str, optimizer_id: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=folder)
    out = subprocess.run([sys.executable, "-c", _COLD, surface_id, optimizer_id], env=env,
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=256)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras comparison")
    args = parser.parse_args()
    allocator.keep_freed_memory()  # as the app's entry point does (engine/allocator.py)
    if not kernels.available():
        sys.exit(f"no compiled kernels: {kernels.reason()}")

    rosenbrock, adam = surfaces.get("rosenbrock"), optimizers.get("adam")
    starts = grid_starts(rosenbrock, args.grid)
    n, steps = len(starts), args.steps
    print(f"{args.grid}x{args.grid} = {n} starts x {steps} steps ({n * steps / 1e6:.1f} M "
          f"point-steps); {os.cpu_count()} cores, NumPy {np.__version__}, kernel threads: "
          f"{os.cpu_count()}")
    numpy_s, kernel_s = side_by_side("Adam on Rosenbrock (target kernel <= 0.05 s)",
                                     rosenbrock, adam, starts, steps)
    side_by_side("Adam on the same, as a custom formula (<= 0.25)", surfaces.get(FORMULA), adam,
                 starts, steps)
    floor = n * steps * 6 * 2 * 8 / copy_bandwidth()
    print(f"{'memory-bandwidth floor of the NumPy path':44s} {floor:7.3f} s (read + write x, m, "
          f"v at the copy bandwidth; the kernel keeps a block's state in cache instead)")

    if not args.no_keras:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        keras_ns = keras_per_point_step(rosenbrock, starts, 10) * 1e9
        numpy_ns, kernel_ns = numpy_s / (n * steps) * 1e9, kernel_s / (n * steps) * 1e9
        print(f"{'Keras Adam eagerly on one (N, 2) variable':44s} {keras_ns:7.1f} ns/pt-step: "
              f"{keras_ns / numpy_ns:.1f}x the NumPy path, {keras_ns / kernel_ns:.0f}x the kernel "
              f"(target >= 20x)")

    print("\nlive-map size, 128x128 x 300 steps (target <= 66 ms: 15 maps a second)")
    cases = [("rosenbrock", "adam", {}), ("rosenbrock", "momentum", {"learning_rate": 1e-3}),
             ("himmelblau", "rmsprop", {"learning_rate": 0.01}), ("ackley", "adam", {}),
             (FORMULA, "sgd", {"learning_rate": 1e-3})]
    for surface_id, optimizer_id, settings in cases:
        surface, optimizer = surfaces.get(surface_id), optimizers.get(optimizer_id, **settings)
        maps.start_map(surface, optimizer, grid=32, steps=5)  # compile first (32² >= 1024)
        numpy_s = best_of(2, lambda s=surface, o=optimizer: maps.start_map(
            s, o, grid=128, steps=300, compiled=False))
        kernel_s = best_of(5, lambda s=surface, o=optimizer: maps.start_map(
            s, o, grid=128, steps=300))
        name = "custom Rosenbrock" if surface_id == FORMULA else surface_id
        print(f"  start map {optimizer_id:8s} on {name:17s} NumPy {numpy_s * 1e3:7.1f} ms   "
              f"kernel {kernel_s * 1e3:6.1f} ms ({1 / kernel_s:5.1f} maps/s)")
    x = maps.Axis("learning_rate", 1e-4, 1.0, 128, log=True)
    y = maps.Axis("momentum", 0.0, 0.99, 128)
    maps.hyper_map(rosenbrock, "momentum", x, y, rosenbrock.start, steps=5)  # compiles
    numpy_s = best_of(2, lambda: maps.hyper_map(rosenbrock, "momentum", x, y, rosenbrock.start,
                                                steps=300, compiled=False))
    kernel_s = best_of(5, lambda: maps.hyper_map(rosenbrock, "momentum", x, y, rosenbrock.start,
                                                 steps=300))
    print(f"  hyper map learning_rate x momentum (Rosenbrock) NumPy {numpy_s * 1e3:7.1f} ms   "
          f"kernel {kernel_s * 1e3:6.1f} ms ({1 / kernel_s:5.1f} maps/s)")

    print("\nrace: 4 racers x 2000 steps with paths, gradients and velocities")
    racers = [optimizers.get(o, learning_rate=1e-3) for o in ("sgd", "momentum", "rmsprop", "adam")]
    start = np.array([rosenbrock.start])

    def whole_race(compiled: bool) -> None:
        for optimizer in racers:
            simulate.Stepper(rosenbrock, optimizer, start, 2000, keep_vectors=True,
                             compiled=compiled).advance()

    whole_race(True)  # compile the recording kernels
    numpy_s, kernel_s = best_of(2, lambda: whole_race(False)), best_of(5, lambda: whole_race(True))
    print(f"  whole race: NumPy {numpy_s:.3f} s, kernel {kernel_s * 1e3:.1f} ms "
          f"({numpy_s / kernel_s:.0f}x)")
    contest = race.Race(rosenbrock, rosenbrock.start, budget=2000)
    for optimizer in racers:
        contest.set_racer(race.Racer(contest.new_key(optimizer.id), optimizer.id,
                                     {"learning_rate": 1e-3}))
    one = best_of(5, lambda: (contest.set_racer(race.Racer("adam-4", "adam",
                                                           {"learning_rate": 0.01})),
                              contest.ensure(2000)))
    print(f"  race.Race: one racer recomputed after a settings change, all 2000 steps: "
          f"{one * 1e3:.1f} ms (kernels: {contest.tracks['adam-4'].stepper.compiled})")

    print("\ncompilation (fresh processes, empty kernel cache, then warm)")
    with tempfile.TemporaryDirectory() as folder:
        cold = cold_start(folder, "rosenbrock", "adam")
        print(f"  first 128x128 x 300 map, cold: {cold['first_map']:.2f} s (+ {cold['imports']:.2f}"
              f" s imports)")
        for entry in cold["log"]:
            print(f"    {entry['name']:50s} {entry['seconds']:6.2f} s")
        cold = cold_start(folder, "himmelblau", "sgd")
        print(f"  then another optimizer and surface: {cold['first_map']:.2f} s")
        for entry in cold["log"]:
            state = "loaded" if entry["cached"] else "compiled"
            print(f"    {entry['name']:50s} {entry['seconds']:6.2f} s {state}")
        cold = cold_start(folder, FORMULA, "adam")
        print(f"  then a custom formula: {cold['first_map']:.2f} s")
        for entry in cold["log"]:
            state = "loaded" if entry["cached"] else "compiled"
            print(f"    {entry['name']:50s} {entry['seconds']:6.2f} s {state}")
        warm = cold_start(folder, "rosenbrock", "adam")
        print(f"  first map with a warm cache: {warm['first_map']:.3f} s (+ {warm['imports']:.2f}"
              f" s imports)")


if __name__ == "__main__":
    main()
